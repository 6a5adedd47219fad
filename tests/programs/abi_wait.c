/* wait4 and waitpid: statuses for exits and for deaths by SIGTERM,
 * SIGKILL, SIGABRT (abort), SIGUSR1 and SIGSEGV (never the core flag,
 * which depends on the host's settings); waiting for one pid among
 * several and for any child (abi_wait_pgrp has the group selectors);
 * WNOHANG with a running child (0) and with no
 * children (ECHILD); a pid that is not a child, or a grandchild (ECHILD);
 * bad options (EINVAL); a child made by clone3 as a fork (and clone3's
 * EINVAL for a short struct, or CLONE_THREAD without CLONE_SIGHAND);
 * wait4's rusage; a status pointer of NULL; and a
 * reaped child gone for good. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abi.h"

/* Waits for `pid` and says what came back, compared with `want`. */
static void show(const char *what, pid_t pid, int options, pid_t want)
{
	int status;
	pid_t r = waitpid(pid, &status, options);
	if (r < 0) {
		printf("%s: %s\n", what, ename(errno));
		return;
	}
	printf("%s: %s", what, r == want ? "that child" : r == 0 ? "none yet" : "another");
	if (r > 0 && WIFEXITED(status))
		printf(", exited %d\n", WEXITSTATUS(status));
	else if (r > 0 && WIFSIGNALED(status))
		printf(", signal %d\n", WTERMSIG(status));
	else
		printf("\n");
}

static pid_t child(int how)
{
	pid_t c = fork();
	if (c)
		return c;
	signal(SIGABRT, SIG_DFL);
	switch (how) {
	case 0: _exit(0);
	case 1: _exit(77);
	case 2: kill(getpid(), SIGTERM); break;
	case 3: kill(getpid(), SIGKILL); break;
	case 4: abort();
	case 5: raise(SIGUSR1); break;
	case 6: *(volatile int *)0 = 1; break;
	case 7: pause(); break;
	}
	_exit(99);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int status;
	pid_t c, g;

	T(waitpid(-1, &status, WNOHANG));
	T(waitpid(-1, &status, 0));

	/* Each kind of ending. */
	const char *names[] = { "exit 0", "exit 77", "SIGTERM", "SIGKILL", "abort", "SIGUSR1", "SIGSEGV" };
	for (int i = 0; i < 7; i++) {
		c = child(i);
		show(names[i], c, 0, c);
	}

	/* Choosing among children. */
	pid_t a = child(1), b = child(7);
	show("WNOHANG, b running", b, WNOHANG, b);
	show("a by pid", a, 0, a);
	show("a again", a, 0, a);
	kill(b, SIGTERM);
	show("b by any", -1, 0, b);

	/* Not children. */
	T(waitpid(getpid(), &status, 0));
	T(waitpid(1, &status, WNOHANG));
	c = fork();
	if (c == 0) {
		g = child(0);
		printf("grandchild reaped by its parent: %d\n", waitpid(g, NULL, 0) == g);
		_exit(0);
	}
	T(waitpid(c, NULL, 0) == c);
	T(waitpid(-1, NULL, WNOHANG));

	/* A child made by clone3 with just an exit signal: a fork. */
	struct { unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls; } args = {
		.exit_signal = SIGCHLD
	};
	c = syscall(SYS_clone3, &args, sizeof args);
	if (c == 0)
		_exit(33);
	show("clone3 child", c, 0, c);
	T(syscall(SYS_clone3, &args, 8));
	args.flags = CLONE_THREAD;
	T(syscall(SYS_clone3, &args, sizeof args));

	/* Options and wait4's extras. */
	c = child(1);
	T(waitpid(c, &status, WEXITED));
	T(waitpid(c, &status, 0x1000));
	T(waitpid(c, &status, ~0));
	struct rusage ru;
	memset(&ru, 0xff, sizeof ru);
	T(wait4(c, &status, 0, &ru) == c);
	printf("rusage filled: %d\n", ru.ru_utime.tv_usec >= 0 && ru.ru_utime.tv_usec < 1000000);
	c = child(0);
	T(wait4(c, NULL, 0, NULL) == c);
	T(wait4(-1, NULL, 0, NULL));
	return 0;
}
