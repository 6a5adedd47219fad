/* EPIPE and SIGPIPE: a write to a pipe with no reader fails with EPIPE
 * and raises SIGPIPE, which a handler sees, SIG_IGN discards, and the
 * default action turns into death by signal 13, both for a write that
 * finds no reader and for a writer waiting on a full pipe whose reader
 * closes it. An empty write succeeds even with no reader. Differential
 * test. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t hits;
static void on_pipe(int s) { (void)s; hits++; }

static void nap_ms(int ms)
{
	struct timespec t = { 0, ms * 1000000L };
	nanosleep(&t, NULL);
}

static void show_status(const char *what, int status)
{
	if (WIFSIGNALED(status))
		printf("%s: killed by signal %d\n", what, WTERMSIG(status));
	else
		printf("%s: exited %d\n", what, WEXITSTATUS(status));
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int p[2], status;
	static char big[100000];

	/* SIG_IGN: just EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	pipe(p);
	close(p[0]);
	errno = 0;
	long n = write(p[1], "x", 1);
	printf("ignored: %ld %s\n", n, errno == EPIPE ? "EPIPE" : strerror(errno));
	n = write(p[1], "", 0);
	printf("empty write with no reader: %ld\n", n);
	close(p[1]);

	/* A handler runs, and the write still fails with EPIPE. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_pipe;
	sigaction(SIGPIPE, &sa, NULL);
	pipe(p);
	close(p[0]);
	errno = 0;
	n = write(p[1], "xy", 2);
	printf("handled: %ld %s hits=%d\n", n, errno == EPIPE ? "EPIPE" : strerror(errno), hits);
	n = write(p[1], big, sizeof big);
	printf("again: %ld hits=%d\n", n, hits);
	close(p[1]);

	/* The default action: the writer dies. */
	signal(SIGPIPE, SIG_DFL);
	pid_t c = fork();
	if (c == 0) {
		pipe(p);
		close(p[0]);
		write(p[1], "x", 1);
		printf("child: still alive after the write\n");
		_exit(0);
	}
	waitpid(c, &status, 0);
	show_status("writer with no reader", status);

	/* A writer waiting on a full pipe dies when the reader closes it. */
	pipe(p);
	c = fork();
	if (c == 0) {
		close(p[0]);
		write(p[1], big, sizeof big);
		printf("child: still alive after the big write\n");
		_exit(0);
	}
	close(p[1]);
	nap_ms(30);
	close(p[0]);
	waitpid(c, &status, 0);
	show_status("waiting writer", status);

	/* A waiting writer with SIGPIPE ignored gets what it wrote. */
	pipe(p);
	c = fork();
	if (c == 0) {
		signal(SIGPIPE, SIG_IGN);
		close(p[0]);
		n = write(p[1], big, sizeof big);
		printf("child: the big write returned %ld\n", n);
		_exit(0);
	}
	close(p[1]);
	nap_ms(30);
	close(p[0]);
	waitpid(c, &status, 0);
	show_status("ignoring writer", status);
	return 0;
}
