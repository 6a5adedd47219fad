/* rt_sigprocmask and rt_sigpending: SIG_BLOCK, SIG_UNBLOCK and
 * SIG_SETMASK with the old mask returned, a bad how (EINVAL, mask
 * unchanged), a NULL set (only reads), SIGKILL and SIGSTOP silently left
 * out, a bad sigsetsize (EINVAL), EFAULT; a blocked signal stays pending
 * and is delivered once on unblock however many times it was sent;
 * setting SIG_IGN on a pending blocked signal discards it
 * (abi_sigpending has the finer points). Differential test. */
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

static void mask(const char *what)
{
	sigset_t cur;
	sigprocmask(SIG_SETMASK, NULL, &cur);
	printf("%s: USR1 %d USR2 %d TERM %d KILL %d STOP %d\n", what, sigismember(&cur, SIGUSR1), sigismember(&cur, SIGUSR2),
	       sigismember(&cur, SIGTERM), sigismember(&cur, SIGKILL), sigismember(&cur, SIGSTOP));
}

static void pending(const char *what)
{
	sigset_t p;
	sigpending(&p);
	printf("%s pending: USR1 %d USR2 %d TERM %d CHLD %d; delivered \"%s\"\n", what, sigismember(&p, SIGUSR1),
	       sigismember(&p, SIGUSR2), sigismember(&p, SIGTERM), sigismember(&p, SIGCHLD), order);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	sigset_t set, old, all;
	struct sigaction sa = { .sa_handler = on_sig };
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);

	/* The three hows. */
	sigaddset(&set, SIGUSR1);
	T(sigprocmask(SIG_BLOCK, &set, &old));
	printf("old had USR1: %d\n", sigismember(&old, SIGUSR1));
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	T(sigprocmask(SIG_BLOCK, &set, &old));
	printf("old had USR1: %d\n", sigismember(&old, SIGUSR1));
	mask("after two blocks");
	sigaddset(&set, SIGTERM);
	T(sigprocmask(SIG_UNBLOCK, &set, NULL));
	mask("after unblock");
	sigfillset(&all);
	T(sigprocmask(SIG_SETMASK, &all, &old));
	mask("after setmask all");
	T(sigprocmask(99, &set, NULL));
	T(sigprocmask(99, NULL, NULL));
	mask("after bad how");
	T(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 4));
	T(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 16));
	T(syscall(SYS_rt_sigprocmask, SIG_BLOCK, (void *)8, NULL, 8));
	T(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, (void *)8, 8));
	T(syscall(SYS_rt_sigpending, (void *)8, 8));

	/* Pending while blocked; one delivery however often it was sent. */
	raise(SIGUSR1);
	raise(SIGUSR1);
	raise(SIGUSR1);
	raise(SIGTERM);
	raise(SIGUSR2);
	pending("three USR1, one TERM, one USR2");
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	T(sigprocmask(SIG_UNBLOCK, &set, NULL));
	pending("after unblocking USR2");
	sigaddset(&set, SIGUSR1);
	T(sigprocmask(SIG_UNBLOCK, &set, NULL));
	pending("after unblocking USR1");
	sigaddset(&set, SIGTERM);
	T(sigprocmask(SIG_UNBLOCK, &set, NULL));
	pending("after unblocking TERM");

	/* Ignoring a pending signal discards it. */
	n = 0;
	memset(order, 0, sizeof order);
	T(sigprocmask(SIG_BLOCK, &all, NULL));
	raise(SIGUSR1);
	raise(SIGUSR2);
	pending("USR1 and USR2 blocked");
	signal(SIGUSR1, SIG_IGN);
	pending("after SIG_IGN for USR1");
	signal(SIGUSR1, on_sig);
	T(sigprocmask(SIG_SETMASK, &old, NULL));
	pending("unblocked");
	mask("restored");
	return 0;
}
