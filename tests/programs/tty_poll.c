/* poll and select on the console, typed by a session: with nothing typed
 * stdin is not readable and stdout is writable; a poll without a timeout
 * waits for a line and reports POLLIN; a partial line is not readable in
 * canonical mode (a poll with a timeout runs out while it is typed); select
 * waits for a line too; in raw mode with VMIN 1 one byte is readable. */
#include <poll.h>
#include <stdio.h>
#include <sys/select.h>
#include <termios.h>
#include <unistd.h>

static char line[64];

static void read_line(void)
{
	if (fgets(line, sizeof line, stdin))
		printf("line: %s", line);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct termios cooked, raw;
	tcgetattr(0, &cooked);
	struct pollfd p[2] = { { .fd = 0, .events = POLLIN }, { .fd = 1, .events = POLLOUT } };
	int n = poll(p, 2, 0);
	printf("poll now: %d, stdin 0x%x, stdout 0x%x\n", n, p[0].revents, p[1].revents);
	fd_set r;
	FD_ZERO(&r);
	FD_SET(0, &r);
	struct timeval tv = { 0, 0 };
	printf("select now: %d\n", select(1, &r, NULL, NULL, &tv));

	printf("waiting\n");
	n = poll(p, 1, -1);
	printf("poll: %d, stdin 0x%x\n", n, p[0].revents);
	read_line();

	printf("partial\n");
	n = poll(p, 1, 1000);
	printf("poll partial: %d\nfinish\n", n);
	read_line();

	printf("select waiting\n");
	FD_ZERO(&r);
	FD_SET(0, &r);
	n = select(1, &r, NULL, NULL, NULL);
	printf("select: %d, readable %d\n", n, FD_ISSET(0, &r) ? 1 : 0);
	read_line();

	raw = cooked;
	raw.c_lflag &= ~(ICANON | ECHO);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	tcsetattr(0, TCSANOW, &raw);
	printf("raw\n");
	n = poll(p, 1, -1);
	char c = 0;
	read(0, &c, 1);
	printf("raw poll: %d 0x%x, read %c\n", n, p[0].revents, c);
	tcsetattr(0, TCSANOW, &cooked);
	return 0;
}
