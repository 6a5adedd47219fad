/* Real-time signals: SIGRTMIN..SIGRTMAX handled like others; while
 * blocked, each sent instance of a real-time signal is queued (three
 * sends, three deliveries) whereas a standard signal is merged; several
 * real-time signals are delivered lowest number first, with the queued
 * copies of one signal before the next; si_code is SI_USER for kill and
 * SI_TKILL for tgkill; SIGRTMAX + 1 is EINVAL. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "abi.h"

static char seen[64];
static volatile sig_atomic_t n;
static volatile int last_code;

static void on_rt(int s, siginfo_t *si, void *uc)
{
	(void)uc;
	if (n < 63)
		seen[n++] = s == SIGUSR1 ? 'u' : 'a' + (s - SIGRTMIN);
	last_code = si->si_code;
}

static void flush(const char *what)
{
	sigset_t none;
	sigemptyset(&none);
	n = 0;
	memset(seen, 0, sizeof seen);
	sigprocmask(SIG_SETMASK, &none, NULL);
	printf("%s: \"%s\"\n", what, seen);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("SIGRTMIN..SIGRTMAX: %d..%d\n", SIGRTMIN, SIGRTMAX);
	struct sigaction sa = { .sa_sigaction = on_rt, .sa_flags = SA_SIGINFO };
	sigfillset(&sa.sa_mask);
	int failed = 0;
	for (int s = SIGRTMIN; s <= SIGRTMAX; s++)
		failed += sigaction(s, &sa, NULL) != 0;
	printf("handlers for each: %d failed\n", failed);
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t all;
	sigfillset(&all);
	pid_t me = getpid();

	/* Unblocked: delivered at once. */
	T(kill(me, SIGRTMIN));
	printf("at once: \"%s\", code SI_USER %d\n", seen, last_code == SI_USER);
	n = 0;
	T(syscall(SYS_tgkill, me, syscall(SYS_gettid), SIGRTMIN + 1));
	printf("tgkill: \"%s\", code SI_TKILL %d\n", seen, last_code == SI_TKILL);

	/* Queued, or merged. */
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (int i = 0; i < 3; i++) {
		kill(me, SIGRTMIN + 2);
		kill(me, SIGUSR1);
	}
	flush("three of RTMIN+2 and of USR1");

	/* Order: by number, each one's copies together. */
	sigprocmask(SIG_SETMASK, &all, NULL);
	kill(me, SIGRTMIN + 5);
	kill(me, SIGRTMIN + 1);
	kill(me, SIGRTMIN + 5);
	kill(me, SIGRTMIN);
	kill(me, SIGRTMIN + 1);
	kill(me, SIGRTMAX);
	flush("5 1 5 0 1 max");

	/* Many queued copies. */
	sigprocmask(SIG_SETMASK, &all, NULL);
	int sent = 0;
	for (int i = 0; i < 40; i++)
		sent += kill(me, SIGRTMIN + 3) == 0;
	sigset_t p;
	sigpending(&p);
	printf("sent %d, pending %d\n", sent, sigismember(&p, SIGRTMIN + 3));
	flush("forty of RTMIN+3");

	T(kill(me, SIGRTMAX + 1));
	T(sigaction(SIGRTMAX + 1, &sa, NULL));
	return 0;
}
