/* SIGCHLD and the reaping of children: with the default action a child
 * becomes a zombie until waited for (kill(pid, 0) still succeeds); with
 * SIGCHLD set to SIG_IGN, or with SA_NOCLDWAIT, children are reaped at
 * once and a wait for them blocks until they are all gone and then says
 * ECHILD; a handler with SA_NOCLDWAIT still runs; one SIGCHLD per child
 * with a handler when each is waited for before the next; setting
 * SIG_DFL again brings zombies back. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"

static volatile sig_atomic_t chld;
static void on_chld(int s) { (void)s; chld++; }

static void nap_ms(int ms)
{
	struct timespec t = { 0, ms * 1000000L };
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

static pid_t quick(int code)
{
	pid_t c = fork();
	if (c == 0)
		_exit(code);
	return c;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int status;
	pid_t c;

	/* Default: a zombie until waited for. */
	signal(SIGCHLD, SIG_DFL);
	c = quick(1);
	nap_ms(50);
	T(kill(c, 0));
	T(waitpid(c, &status, 0) == c);
	T(kill(c, 0));

	/* SIG_IGN: no zombies; wait blocks until they are gone, then ECHILD. */
	signal(SIGCHLD, SIG_IGN);
	c = quick(2);
	T(waitpid(c, &status, 0));
	nap_ms(20);
	T(kill(c, 0));
	c = fork();
	if (c == 0) {
		nap_ms(50);
		_exit(3);
	}
	T(waitpid(-1, &status, 0));
	T(kill(c, 0));
	T(waitpid(-1, &status, WNOHANG));

	/* SA_NOCLDWAIT with a handler: reaped at once, and the handler runs. */
	struct sigaction sa = { .sa_handler = on_chld, .sa_flags = SA_NOCLDWAIT | SA_RESTART };
	sigaction(SIGCHLD, &sa, NULL);
	chld = 0;
	c = quick(4);
	T(waitpid(c, &status, 0));
	nap_ms(20);
	printf("handler ran %d\n", (int)chld);
	T(kill(c, 0));

	/* A plain handler: one SIGCHLD per child, and zombies again. */
	sa.sa_flags = 0;
	sigaction(SIGCHLD, &sa, NULL);
	chld = 0;
	for (int i = 0; i < 3; i++) {
		c = quick(10 + i);
		while (waitpid(c, &status, 0) < 0 && errno == EINTR)
			;
		printf("child %d: exited %d, handler count %d\n", i, WEXITSTATUS(status), (int)chld);
	}
	signal(SIGCHLD, SIG_DFL);
	c = quick(5);
	nap_ms(50);
	T(kill(c, 0));
	T(waitpid(c, &status, WNOHANG) == c);
	printf("exited %d\n", WEXITSTATUS(status));
	return 0;
}
