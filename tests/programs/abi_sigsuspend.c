/* Waiting for a signal with sigsuspend (rt_sigsuspend): the mask is
 * replaced for the wait, the handler runs, the call returns EINTR and the
 * old mask is back; a signal already pending and blocked is taken at
 * once by a sigsuspend that unblocks it; pause() returns EINTR after a
 * handler; a signal that is ignored does not end either wait (the
 * second signal does). Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"

static volatile sig_atomic_t hits;
static void on_sig(int s) { (void)s; hits++; }

/* A child that sends sig, then sig2 (if any) 30 ms apart. */
static pid_t later(int sig, int sig2)
{
	pid_t parent = getpid(), c = fork();
	if (c == 0) {
		struct timespec t = { 0, 30000000 };
		nanosleep(&t, NULL);
		kill(parent, sig);
		if (sig2) {
			nanosleep(&t, NULL);
			kill(parent, sig2);
		}
		_exit(0);
	}
	return c;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct sigaction sa = { .sa_handler = on_sig };
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigset_t usr1, none, cur;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigemptyset(&none);

	/* A signal that comes later. */
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	pid_t c = later(SIGUSR1, 0);
	T(sigsuspend(&none));
	sigprocmask(SIG_SETMASK, NULL, &cur);
	printf("handler ran %d, USR1 blocked again %d\n", (int)hits, sigismember(&cur, SIGUSR1));
	waitpid(c, NULL, 0);

	/* One already pending. */
	hits = 0;
	raise(SIGUSR1);
	printf("pending, handler ran %d\n", (int)hits);
	T(sigsuspend(&none));
	printf("handler ran %d\n", (int)hits);

	/* pause. */
	hits = 0;
	c = later(SIGUSR2, 0);
	T(pause());
	printf("handler ran %d\n", (int)hits);
	waitpid(c, NULL, 0);

	/* An ignored signal does not end the wait. */
	hits = 0;
	signal(SIGHUP, SIG_IGN);
	c = later(SIGHUP, SIGUSR2);
	T(pause());
	printf("handler ran %d\n", (int)hits);
	waitpid(c, NULL, 0);
	c = later(SIGHUP, SIGUSR1);
	T(sigsuspend(&none));
	printf("handler ran %d\n", (int)hits);
	waitpid(c, NULL, 0);
	return 0;
}
