/* A pipeline of three processes, as a shell builds one: each child gets
 * its neighbours' pipe ends as stdin and stdout with dup2, closes the
 * rest, and execs this program again in another role (by /proc/self/exe
 * on the host, by argv[0] where there is no /proc):
 *
 *     produce | upper | summarize
 *
 * The last stage writes to the real stdout. The parent waits for all
 * three. Differential test. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void produce(void)
{
	char line[64];
	for (int i = 1; i <= 500; i++) {
		int n = snprintf(line, sizeof line, "line %d of the producer\n", i);
		if (write(1, line, n) != n)
			exit(1);
	}
}

/* Upper-cases stdin to stdout, in whatever pieces read returns. */
static void upper(void)
{
	char buf[1000];
	long n;
	while ((n = read(0, buf, sizeof buf)) > 0) {
		for (long i = 0; i < n; i++)
			buf[i] = toupper((unsigned char)buf[i]);
		if (write(1, buf, n) != n)
			exit(1);
	}
}

static void summarize(void)
{
	char buf[4096], last[64] = "", cur[64];
	long bytes = 0, lines = 0, sum = 0, n, len = 0;
	while ((n = read(0, buf, sizeof buf)) > 0) {
		for (long i = 0; i < n; i++) {
			sum = (sum * 31 + (unsigned char)buf[i]) % 1000003;
			if (buf[i] == '\n') {
				cur[len] = 0;
				memcpy(last, cur, len + 1);
				len = 0;
				lines++;
			} else if (len < 63) {
				cur[len++] = buf[i];
			}
		}
		bytes += n;
	}
	printf("summary: %ld lines, %ld bytes, checksum %ld, last \"%s\"\n", lines, bytes, sum, last);
}

static pid_t stage(char *argv0, char *role, int in, int out, int *fds, int nfds)
{
	pid_t c = fork();
	if (c != 0)
		return c;
	if (in >= 0)
		dup2(in, 0);
	if (out >= 0)
		dup2(out, 1);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	char *args[] = { argv0, role, NULL };
	char *env[] = { NULL };
	execve("/proc/self/exe", args, env);
	execve(argv0, args, env);
	_exit(99);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		if (strcmp(argv[1], "produce") == 0)
			produce();
		else if (strcmp(argv[1], "upper") == 0)
			upper();
		else if (strcmp(argv[1], "summarize") == 0)
			summarize();
		return 0;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	int a[2], b[2];
	pipe(a);
	pipe(b);
	int fds[] = { a[0], a[1], b[0], b[1] };
	pid_t p1 = stage(argv[0], "produce", -1, a[1], fds, 4);
	pid_t p2 = stage(argv[0], "upper", a[0], b[1], fds, 4);
	pid_t p3 = stage(argv[0], "summarize", b[0], -1, fds, 4);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	pid_t order[] = { p1, p2, p3 };
	const char *names[] = { "produce", "upper", "summarize" };
	int status[3];
	for (int i = 0; i < 3; i++)
		waitpid(order[i], &status[i], 0);
	/* Printed after all three end, so after the summary. */
	for (int i = 0; i < 3; i++)
		printf("%s: exited=%d code=%d\n", names[i], WIFEXITED(status[i]), WEXITSTATUS(status[i]));
	return 0;
}
