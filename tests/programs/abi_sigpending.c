/* Finer points of pending signals: rt_sigpending accepts a sigsetsize
 * smaller than the kernel's (4: it copies that much), but not a larger
 * one; two signals unblocked by one call both run, the higher-numbered
 * handler first (Linux pushes a frame for each, lowest number first,
 * before returning to user mode, so the last pushed runs first), and
 * three at once run highest first; a pending blocked SIGCHLD or SIGURG
 * is discarded by SIG_DFL (their default is to ignore), a pending
 * SIGUSR1 is not. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "abi.h"

static char order[16];
static volatile sig_atomic_t n;
static void on_sig(int s) { if (n < 15) order[n++] = s == SIGUSR1 ? '1' : s == SIGUSR2 ? '2' : s == SIGTERM ? 'T' : '?'; }

static void pending(const char *what)
{
	sigset_t p;
	sigpending(&p);
	printf("%s: pending USR1 %d CHLD %d URG %d; handlers ran \"%s\"\n", what, sigismember(&p, SIGUSR1), sigismember(&p, SIGCHLD),
	       sigismember(&p, SIGURG), order);
	n = 0;
	memset(order, 0, sizeof order);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	sigset_t all, none, set;
	struct sigaction sa = { .sa_handler = on_sig };
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigfillset(&all);
	sigemptyset(&none);
	T(sigprocmask(SIG_SETMASK, &all, NULL));

	/* Sizes. */
	raise(SIGUSR1);
	memset(&set, 0, sizeof set);
	T(syscall(SYS_rt_sigpending, &set, 4));
	printf("first word has USR1: %d\n", (int)(((unsigned char *)&set)[1] >> 1 & 1));
	T(syscall(SYS_rt_sigpending, &set, 8));
	T(syscall(SYS_rt_sigpending, &set, 9));
	T(syscall(SYS_rt_sigpending, &set, 128));
	T(sigprocmask(SIG_SETMASK, &none, NULL));
	pending("unblocked USR1");

	/* Several unblocked at once. */
	T(sigprocmask(SIG_SETMASK, &all, NULL));
	raise(SIGTERM);
	raise(SIGUSR1);
	T(sigprocmask(SIG_SETMASK, &none, NULL));
	pending("USR1 and TERM together");
	T(sigprocmask(SIG_SETMASK, &all, NULL));
	raise(SIGUSR2);
	raise(SIGTERM);
	raise(SIGUSR1);
	T(sigprocmask(SIG_SETMASK, &none, NULL));
	pending("USR1, USR2 and TERM together");

	/* SIG_DFL discards what it would ignore. */
	T(sigprocmask(SIG_SETMASK, &all, NULL));
	raise(SIGCHLD);
	raise(SIGURG);
	raise(SIGUSR1);
	pending("blocked");
	signal(SIGCHLD, SIG_DFL);
	signal(SIGURG, SIG_DFL);
	pending("after SIG_DFL for CHLD and URG");
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR1, on_sig);
	pending("after SIG_DFL and back for USR1");
	T(sigprocmask(SIG_SETMASK, &none, NULL));
	pending("unblocked");
	return 0;
}
