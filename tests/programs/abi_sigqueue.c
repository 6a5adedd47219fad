/* sigqueue and the calls around it: a handler sees SI_QUEUE, the sender's
 * pid and si_value; queued instances of a blocked real-time signal come
 * back from sigtimedwait in order with their values; rt_sigqueueinfo may
 * claim SI_USER only towards the caller itself (EPERM otherwise), and
 * gives ESRCH and EINVAL like kill; rt_tgsigqueueinfo checks the thread
 * group; rt_sigtimedwait ends with EINTR when a handler runs for a
 * signal outside its set (musl's sigtimedwait would wait again); an SS_AUTODISARM alternate stack reads as disabled
 * while a handler runs on it and comes back afterwards. Differential
 * test. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

static volatile int got_code, got_value, got_pid, hits;
static void on_info(int s, siginfo_t *si, void *uc)
{
	(void)s, (void)uc;
	got_code = si->si_code;
	got_value = si->si_value.sival_int;
	got_pid = si->si_pid;
	hits++;
}

static char alt[65536];
static volatile int alt_flags, on_alt;
static void on_alt_sig(int s)
{
	(void)s;
	char local;
	stack_t cur;
	sigaltstack(NULL, &cur);
	alt_flags = cur.ss_flags;
	on_alt = (uintptr_t)&local >= (uintptr_t)alt && (uintptr_t)&local < (uintptr_t)alt + sizeof alt;
}

/* A siginfo as rt_sigqueueinfo takes it. */
static siginfo_t made(int code, int value)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_code = code;
	si.si_pid = getpid();
	si.si_value.sival_int = value;
	return si;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	pid_t me = getpid(), tid = syscall(SYS_gettid);
	struct sigaction sa = { .sa_sigaction = on_info, .sa_flags = SA_SIGINFO };
	sigaction(SIGRTMIN, &sa, NULL);
	sigaction(SIGRTMIN + 1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);

	/* To a handler. */
	T(sigqueue(me, SIGRTMIN, (union sigval){ .sival_int = 42 }));
	printf("handler: SI_QUEUE %d value %d pid is mine %d\n", got_code == SI_QUEUE, got_value, got_pid == me);

	/* Queued while blocked, taken in order by sigtimedwait. */
	sigset_t rt1;
	sigemptyset(&rt1);
	sigaddset(&rt1, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &rt1, NULL);
	for (int v = 1; v <= 3; v++)
		sigqueue(me, SIGRTMIN + 1, (union sigval){ .sival_int = v * 10 });
	struct timespec zero = { 0, 0 };
	for (int i = 0; i < 4; i++) {
		siginfo_t si;
		memset(&si, 0, sizeof si);
		int r = sigtimedwait(&rt1, &si, &zero);
		if (r < 0)
			printf("take %d: -1 %s\n", i, ename(errno));
		else
			printf("take %d: signal is RTMIN+1 %d, SI_QUEUE %d, value %d\n", i, r == SIGRTMIN + 1, si.si_code == SI_QUEUE,
			       si.si_value.sival_int);
	}
	sigprocmask(SIG_UNBLOCK, &rt1, NULL);

	/* Who may claim what. */
	siginfo_t user = made(SI_USER, 1), queued = made(SI_QUEUE, 2);
	hits = 0;
	T(syscall(SYS_rt_sigqueueinfo, me, SIGUSR2, &user));
	printf("SI_USER to myself: handler ran %d, code SI_USER %d\n", hits, got_code == SI_USER);
	pid_t c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	T(syscall(SYS_rt_sigqueueinfo, c, SIGUSR2, &user));
	T(syscall(SYS_rt_sigqueueinfo, 999999, SIGUSR2, &queued));
	T(syscall(SYS_rt_sigqueueinfo, me, 99, &queued));
	T(syscall(SYS_rt_sigqueueinfo, me, SIGUSR2, 8));
	T(syscall(SYS_rt_tgsigqueueinfo, me, tid, SIGUSR2, &queued));
	T(syscall(SYS_rt_tgsigqueueinfo, c, tid, SIGUSR2, &queued));
	T(syscall(SYS_rt_tgsigqueueinfo, me, 0, SIGUSR2, &queued));
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);

	/* A handled signal outside the set ends the wait. */
	hits = 0;
	c = fork();
	if (c == 0) {
		struct timespec t = { 0, 30000000 };
		nanosleep(&t, NULL);
		kill(getppid(), SIGUSR2);
		_exit(0);
	}
	sigprocmask(SIG_BLOCK, &rt1, NULL);
	/* musl's sigtimedwait retries after EINTR: the call itself shows it. */
	struct timespec long_wait = { 5, 0 };
	T(syscall(SYS_rt_sigtimedwait, &rt1, NULL, &long_wait, _NSIG / 8));
	printf("handler ran %d\n", hits);
	waitpid(c, NULL, 0);

	/* SS_AUTODISARM. */
	stack_t ss = { .ss_sp = alt, .ss_size = sizeof alt, .ss_flags = SS_AUTODISARM };
	T(sigaltstack(&ss, NULL));
	struct sigaction on = { .sa_handler = on_alt_sig, .sa_flags = SA_ONSTACK };
	sigaction(SIGUSR1, &on, NULL);
	raise(SIGUSR1);
	printf("in the handler: on alt %d, disabled %d, onstack %d\n", on_alt, !!(alt_flags & SS_DISABLE), !!(alt_flags & SS_ONSTACK));
	stack_t after;
	sigaltstack(NULL, &after);
	printf("after: disabled %d autodisarm %d sp is ours %d\n", !!(after.ss_flags & SS_DISABLE), !!(after.ss_flags & SS_AUTODISARM),
	       after.ss_sp == alt);
	return 0;
}
