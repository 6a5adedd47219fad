/* Taking signals synchronously: sigtimedwait (rt_sigtimedwait) takes a
 * blocked pending signal without running its handler and returns its
 * number with si_code; it returns EAGAIN at once with a zero timeout and
 * after a short one when none comes, EINVAL for a bad timeout;
 * sigwaitinfo takes a signal sent later by a child, with si_pid and
 * SI_USER. Differential test. */
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

static pid_t later(int sig)
{
	pid_t parent = getpid(), c = fork();
	if (c == 0) {
		struct timespec t = { 0, 30000000 };
		nanosleep(&t, NULL);
		kill(parent, sig);
		_exit(0);
	}
	return c;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct sigaction sa = { .sa_handler = on_sig };
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);

	/* A pending one at once, then timeouts. */
	raise(SIGUSR1);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	struct timespec zero = { 0, 0 }, short_wait = { 0, 20000000 }, bad = { 0, -1 };
	T(sigtimedwait(&usr1, &si, &zero));
	printf("si_signo %d, si_code SI_TKILL %d, handler ran %d\n", si.si_signo, si.si_code == SI_TKILL, (int)hits);
	T(sigtimedwait(&usr1, &si, &zero));
	T(sigtimedwait(&usr1, &si, &short_wait));
	T(sigtimedwait(&usr1, &si, &bad));

	/* sigwaitinfo: one sent by a child. */
	memset(&si, 0, sizeof si);
	pid_t c = later(SIGUSR1);
	T(sigwaitinfo(&usr1, &si));
	printf("from the child %d, SI_USER %d, handler ran %d\n", si.si_pid == c, si.si_code == SI_USER, (int)hits);
	waitpid(c, NULL, 0);
	return 0;
}
