/* rt_sigaction: the old action read back (handler, flags, mask), the
 * mask in force inside a handler (the caller's, plus sa_mask, plus the
 * signal itself unless SA_NODEFER) and restored after, a signal raised
 * inside its own handler waiting until the handler returns (or nesting
 * with SA_NODEFER), SA_RESETHAND (once, then SIG_DFL; the signal is still
 * blocked inside); EINVAL for SIGKILL, SIGSTOP, 0 and 65, and for a bad
 * sigsetsize; EFAULT; reading SIGKILL's action is allowed (abi_siginfo
 * has SA_SIGINFO). Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "abi.h"

static volatile sig_atomic_t depth, max_depth, usr2_blocked, self_blocked, term_blocked, count;

static void on_usr1(int s)
{
	sigset_t cur;
	sigprocmask(SIG_SETMASK, NULL, &cur);
	usr2_blocked = sigismember(&cur, SIGUSR2);
	self_blocked = sigismember(&cur, s);
	term_blocked = sigismember(&cur, SIGTERM);
	count++;
	if (++depth > max_depth)
		max_depth = depth;
	if (count < 3)
		raise(SIGUSR1);
	depth--;
}

static void run(const char *what, int flags, int with_usr2_in_mask)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = flags };
	if (with_usr2_in_mask)
		sigaddset(&sa.sa_mask, SIGUSR2);
	sigaction(SIGUSR1, &sa, NULL);
	count = max_depth = 0;
	raise(SIGUSR1);
	sigset_t cur;
	sigprocmask(SIG_SETMASK, NULL, &cur);
	printf("%s: ran %d, deepest %d, inside: USR1 %d USR2 %d TERM %d; after: USR1 %d USR2 %d TERM %d\n", what, (int)count,
	       (int)max_depth, (int)self_blocked, (int)usr2_blocked, (int)term_blocked, sigismember(&cur, SIGUSR1),
	       sigismember(&cur, SIGUSR2), sigismember(&cur, SIGTERM));
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct sigaction sa, old;
	sigset_t term;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_SETMASK, &term, NULL);

	run("plain", 0, 0);
	run("sa_mask USR2", 0, 1);
	run("SA_NODEFER", SA_NODEFER, 0);

	/* The old action comes back as it was set. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART | SA_NODEFER;
	sigaddset(&sa.sa_mask, SIGHUP);
	T(sigaction(SIGUSR1, &sa, NULL));
	T(sigaction(SIGUSR1, NULL, &old));
	printf("old: handler %d, RESTART %d, NODEFER %d, SIGINFO %d, mask HUP %d INT %d\n", old.sa_handler == on_usr1,
	       !!(old.sa_flags & SA_RESTART), !!(old.sa_flags & SA_NODEFER), !!(old.sa_flags & SA_SIGINFO),
	       sigismember(&old.sa_mask, SIGHUP), sigismember(&old.sa_mask, SIGINT));

	/* SA_RESETHAND: once, then the default (the signal is still blocked
	 * inside). The handler does not raise again once count reaches 3. */
	sa.sa_flags = SA_RESETHAND;
	count = 2;
	T(sigaction(SIGUSR1, &sa, NULL));
	raise(SIGUSR1);
	T(sigaction(SIGUSR1, NULL, &old));
	printf("after one: ran %d, USR1 blocked inside %d, now default %d\n", (int)count - 2, (int)self_blocked,
	       old.sa_handler == SIG_DFL);

	/* Errors. */
	T(sigaction(SIGKILL, &sa, NULL));
	T(sigaction(SIGSTOP, &sa, NULL));
	T(sigaction(0, &sa, NULL));
	T(sigaction(65, &sa, NULL));
	T(sigaction(SIGKILL, NULL, &old));
	printf("SIGKILL: default %d\n", old.sa_handler == SIG_DFL);
	T(sigaction(SIGSTOP, NULL, NULL));
	sa.sa_handler = on_usr1;
	T(syscall(SYS_rt_sigaction, SIGUSR2, NULL, &old, 4));
	T(syscall(SYS_rt_sigaction, SIGUSR2, NULL, &old, 16));
	T(syscall(SYS_rt_sigaction, SIGUSR2, (void *)8, NULL, 8));
	T(syscall(SYS_rt_sigaction, SIGUSR2, NULL, (void *)8, 8));
	return 0;
}
