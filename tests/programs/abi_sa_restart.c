/* SA_RESTART: a child sends SIGUSR1 30 ms into a read of an empty pipe,
 * then writes to the pipe 30 ms later. Without SA_RESTART the read fails
 * with EINTR; with it the read goes on and returns the data. The same for
 * wait4 (restarted: it returns the child) and for a write to a full pipe.
 * nanosleep, poll and select are never restarted (EINTR even with
 * SA_RESTART). The handler runs once each time. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"

static volatile sig_atomic_t hits;
static void on_usr1(int s) { (void)s; hits++; }

static void nap_ms(int ms)
{
	struct timespec t = { 0, ms * 1000000L };
	nanosleep(&t, NULL);
}

/* A child that signals the parent, then (if fd >= 0) writes or reads. */
static pid_t poke(int fd, int writes)
{
	pid_t parent = getpid(), c = fork();
	if (c == 0) {
		nap_ms(30);
		kill(parent, SIGUSR1);
		nap_ms(30);
		static char big[65536];
		if (fd >= 0 && writes)
			write(fd, "late", 4);
		else if (fd >= 0)
			read(fd, big, sizeof big);
		_exit(0);
	}
	return c;
}

static void handler(int flags)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = flags };
	sigaction(SIGUSR1, &sa, NULL);
	hits = 0;
	printf("%s:\n", flags ? "SA_RESTART" : "no SA_RESTART");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	char buf[16];
	static char fill[65536];
	int p[2];
	pid_t c;

	for (int restart = 0; restart <= SA_RESTART; restart += SA_RESTART) {
		handler(restart);
		pipe(p);
		c = poke(p[1], 1);
		T(read(p[0], buf, sizeof buf));
		printf("  handler ran %d\n", (int)hits);
		waitpid(c, NULL, 0);
		close(p[0]);
		close(p[1]);

		handler(restart);
		c = poke(-1, 0);
		pid_t w = waitpid(c, NULL, 0);
		if (w == c)
			printf("waitpid = the child\n");
		else
			report("waitpid", w);
		printf("  handler ran %d\n", (int)hits);
		waitpid(c, NULL, 0);

		handler(restart);
		pipe(p);
		fcntl(p[1], F_SETFL, O_NONBLOCK);
		while (write(p[1], fill, sizeof fill) > 0)
			;
		fcntl(p[1], F_SETFL, 0);
		c = poke(p[0], 0);
		T(write(p[1], fill, 100));
		printf("  handler ran %d\n", (int)hits);
		waitpid(c, NULL, 0);
		close(p[0]);
		close(p[1]);

		handler(restart);
		c = poke(-1, 0);
		struct timespec t = { 5, 0 };
		T(nanosleep(&t, NULL));
		waitpid(c, NULL, 0);
		c = poke(-1, 0);
		pipe(p);
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		T(poll(&pf, 1, 5000));
		waitpid(c, NULL, 0);
		c = poke(-1, 0);
		fd_set r;
		FD_ZERO(&r);
		FD_SET(p[0], &r);
		T(select(p[0] + 1, &r, NULL, NULL, NULL));
		waitpid(c, NULL, 0);
		printf("  handler ran %d\n", (int)hits);
		close(p[0]);
		close(p[1]);
	}
	return 0;
}
