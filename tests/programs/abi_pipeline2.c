/* A two-stage pipeline without exec: the first child puts the pipe's
 * write end on its stdout with dup2 and prints 200 numbered lines; the
 * second puts the read end on its stdin and counts lines and bytes from
 * stdin until end of file, which comes only because the parent and both
 * children closed every other copy of the write end; the parent waits
 * for both (the counter first: it prints) and reports their statuses. Then the same with the
 * reader exiting early: the writer dies of SIGPIPE. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t stage(int in, int out, int close1, int close2, int (*body)(void))
{
	pid_t c = fork();
	if (c == 0) {
		if (in >= 0)
			dup2(in, 0);
		if (out >= 0)
			dup2(out, 1);
		close(close1);
		close(close2);
		_exit(body());
	}
	return c;
}

static int produce(void)
{
	char line[32];
	for (int i = 1; i <= 200; i++) {
		int n = snprintf(line, sizeof line, "line %d\n", i);
		if (write(1, line, n) != n)
			return 1;
	}
	return 3;
}

static int count(void)
{
	char buf[100];
	long n, bytes = 0, lines = 0, sum = 0;
	while ((n = read(0, buf, sizeof buf)) > 0) {
		bytes += n;
		for (long i = 0; i < n; i++) {
			lines += buf[i] == '\n';
			sum += (unsigned char)buf[i];
		}
	}
	printf("counted %ld lines, %ld bytes, byte sum %ld, last read %ld\n", lines, bytes, sum, n);
	return 4;
}

static int produce_forever(void)
{
	while (write(1, "yes\n", 4) == 4)
		;
	return 1;
}

static int take_one(void)
{
	char buf[4];
	read(0, buf, sizeof buf);
	printf("took %.4s", buf);
	return 0;
}

static void reap(const char *name, pid_t pid)
{
	int status;
	if (waitpid(pid, &status, 0) != pid)
		printf("%s: waitpid failed\n", name);
	else if (WIFEXITED(status))
		printf("%s: exited %d\n", name, WEXITSTATUS(status));
	else
		printf("%s: killed by signal %d\n", name, WTERMSIG(status));
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGPIPE, SIG_DFL);
	int p[2];

	pipe(p);
	pid_t a = stage(-1, p[1], p[0], p[1], produce);
	pid_t b = stage(p[0], -1, p[0], p[1], count);
	close(p[0]);
	close(p[1]);
	reap("counter", b);
	reap("producer", a);

	pipe(p);
	b = stage(p[0], -1, p[0], p[1], take_one);
	a = stage(-1, p[1], p[0], p[1], produce_forever);
	close(p[0]);
	close(p[1]);
	reap("reader", b);
	reap("writer", a);
	return 0;
}
