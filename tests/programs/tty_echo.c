/* The console's canonical mode, typed at by a session: each line comes
 * back from fgets once it ends, with the terminal's editing applied: erase
 * (DEL, echoed as backspace-space-backspace), kill (^U), word erase (^W),
 * CR read as NL (ICRNL), and ^D at the start of a line as end of file. The
 * session checks the echo and the answers together. */
#include <stdio.h>
#include <string.h>

int main(void)
{
	char line[256];
	for (;;) {
		fputs("> ", stdout);
		fflush(stdout);
		if (!fgets(line, sizeof line, stdin))
			break;
		printf("got %zu: %s", strlen(line), line);
	}
	printf("eof\n");
	return 0;
}
