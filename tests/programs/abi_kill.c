/* kill, tkill and tgkill: signal 0 as an existence check (a running
 * child, a zombie: 0; a reaped one: ESRCH), a bad signal number
 * (EINVAL), kill(0, sig) reaching every process of the caller's group
 * (the caller too) and no other, kill(-pgid, sig) a given group, a group
 * with no members (ESRCH), tgkill and tkill to this thread (the handler
 * runs), tgkill with a tid outside the thread group (ESRCH)
 * (abi_pid_errors has the errors for bad ids). Every group-wide kill is
 * done inside a child that has made its own group. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abi.h"

static volatile sig_atomic_t got;
static void on_usr1(int s) { (void)s; got++; }

static void status(const char *what, pid_t c)
{
	int st;
	waitpid(c, &st, 0);
	if (WIFEXITED(st))
		printf("%s: exited %d\n", what, WEXITSTATUS(st));
	else
		printf("%s: signal %d\n", what, WTERMSIG(st));
}

/* A child that waits for a signal, and dies of SIGUSR1 (the caller may
 * have it blocked, so that none comes before the default is back). */
static pid_t sleeper(void)
{
	pid_t c = fork();
	if (c == 0) {
		sigset_t none;
		sigemptyset(&none);
		signal(SIGUSR1, SIG_DFL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (;;)
			pause();
	}
	return c;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGUSR1, on_usr1);
	pid_t c;

	/* Existence checks. */
	c = sleeper();
	T(kill(c, 0));
	T(kill(c, SIGKILL));
	usleep(50000);
	T(kill(c, 0));
	status("killed sleeper", c);
	T(kill(c, 0));
	T(kill(getpid(), 65));
	T(kill(getpid(), -1));
	T(kill(getpid(), 0));

	/* Groups: a child leads a group of itself and two grandchildren. */
	c = fork();
	if (c == 0) {
		setpgid(0, 0);
		sigset_t usr1;
		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		sigprocmask(SIG_BLOCK, &usr1, NULL);
		pid_t g1 = sleeper(), g2 = sleeper();
		got = 0;
		T(kill(0, SIGUSR1));
		sigprocmask(SIG_UNBLOCK, &usr1, NULL);
		printf("leader's handler ran: %d\n", got);
		status("grandchild 1", g1);
		status("grandchild 2", g2);
		pid_t g3 = sleeper();
		setpgid(g3, g3);
		T(kill(-g3, SIGTERM));
		status("grandchild 3", g3);
		T(kill(-g3, 0));
		_exit(0);
	}
	status("group leader", c);
	T(kill(-c, 0));
	printf("parent's handler ran: %d\n", got);

	/* tgkill and tkill. */
	pid_t me = getpid(), tid = syscall(SYS_gettid);
	got = 0;
	T(syscall(SYS_tgkill, me, tid, SIGUSR1));
	printf("handler ran: %d\n", got);
	T(syscall(SYS_tkill, tid, SIGUSR1));
	printf("handler ran: %d\n", got);
	T(syscall(SYS_tgkill, me, tid, 0));
	T(syscall(SYS_tgkill, me, tid, 100));
	T(syscall(SYS_tgkill, me, c, 0));
	T(syscall(SYS_tkill, c, 0));
	return 0;
}
