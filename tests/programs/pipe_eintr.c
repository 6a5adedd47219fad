/* Signals against calls waiting on pipes: a child sends SIGUSR1 30 ms
 * later to its parent, which waits in a read of an empty pipe (EINTR),
 * in a write to a full pipe (the bytes written so far), and in poll and
 * select with no timeout (EINTR); the handler (no SA_RESTART) runs each
 * time. A child waiting in a pipe read is killed by SIGKILL, and the
 * pipe still works after. Differential test. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t hits;
static void on_usr1(int s) { (void)s; hits++; }

static void nap_ms(int ms)
{
	struct timespec t = { 0, ms * 1000000L };
	nanosleep(&t, NULL);
}

/* A child that signals this process after 30 ms. */
static pid_t poke_later(void)
{
	pid_t parent = getpid();
	pid_t c = fork();
	if (c == 0) {
		nap_ms(30);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	return c;
}

static void result(const char *what, long r)
{
	printf("%s: %ld %s hits=%d\n", what, r, r < 0 ? (errno == EINTR ? "EINTR" : strerror(errno)) : "", hits);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	int p[2];
	pipe(p);
	static char buf[100000];

	pid_t c = poke_later();
	errno = 0;
	long r = read(p[0], buf, 10);
	result("read", r);
	waitpid(c, NULL, 0);

	c = poke_later();
	errno = 0;
	r = write(p[1], buf, sizeof buf);
	result("write", r);
	waitpid(c, NULL, 0);
	r = read(p[0], buf, sizeof buf);
	printf("drained: %ld\n", r);

	c = poke_later();
	struct pollfd pfd = { p[0], POLLIN, 0 };
	errno = 0;
	r = poll(&pfd, 1, -1);
	result("poll", r);
	waitpid(c, NULL, 0);

	c = poke_later();
	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	errno = 0;
	r = select(p[0] + 1, &rs, NULL, NULL, NULL);
	result("select", r);
	printf("select left the set: %d\n", FD_ISSET(p[0], &rs));
	waitpid(c, NULL, 0);

	/* SIGKILL ends a child waiting in read. */
	c = fork();
	if (c == 0) {
		read(p[0], buf, 1);
		printf("child: read returned\n");
		_exit(0);
	}
	nap_ms(30);
	kill(c, SIGKILL);
	int status;
	waitpid(c, &status, 0);
	printf("reader killed: signaled=%d sig=%d\n", WIFSIGNALED(status), WTERMSIG(status));
	write(p[1], "ok", 2);
	r = read(p[0], buf, 10);
	printf("pipe after: %ld %.2s\n", r, buf);
	return 0;
}
