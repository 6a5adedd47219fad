/* Process groups and sessions, all inside children whose state is known
 * (the first process's own group and session differ between the host
 * and Lstar): a child starts in its parent's group and session; setpgid
 * to itself, to its parent's group and back; getpgid and getsid of 0, of
 * itself and of another process; setsid making a new session and group
 * led by the caller, then failing (EPERM) for a group leader; setpgid
 * across sessions (EPERM), of a session leader (EPERM), of a process that
 * is not a child (ESRCH), a negative pgid (EINVAL), a group that does not
 * exist (EPERM); getpgid and getsid of a missing pid (ESRCH; abi_pid_errors has more). Only
 * relations between ids are printed. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abi.h"

#define YES(cond) printf("%s: %s\n", #cond, (cond) ? "yes" : "no")

static pid_t sleeper(void)
{
	pid_t c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	return c;
}

static void finish(pid_t c)
{
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int status;
	pid_t c = fork();
	if (c == 0) {
		pid_t me = getpid(), pp = getppid(), parent_group = getpgid(pp), sid = getsid(0);
		YES(getpgrp() == parent_group);
		YES(getpgid(0) == getpgrp());
		YES(sid == getsid(pp));
		YES(getsid(me) == sid);

		/* Own group and back. */
		T(setpgid(0, 0));
		YES(getpgrp() == me);
		T(setpgid(me, parent_group));
		YES(getpgrp() == parent_group);
		T(setpgid(0, me));
		YES(getpgrp() == me);
		T(setpgid(0, -1));
		T(setpgid(0, 999999));

		/* A child of ours, then a new session. */
		pid_t g = sleeper();
		YES(getpgid(g) == me);
		T(setpgid(g, g));
		YES(getpgid(g) == g);
		T(setpgid(g, me));
		T(setpgid(pp, pp));
		T(setpgid(999999, 0));
		T(setsid());
		finish(g);

		pid_t n = fork();
		if (n == 0) {
			pid_t s = setsid();
			YES(s == getpid());
			YES(getsid(0) == getpid());
			YES(getpgrp() == getpid());
			T(setsid());
			T(setpgid(0, getppid()));
			_exit(0);
		}
		waitpid(n, NULL, 0);

		/* A child that has a session of its own is out of reach. */
		int go[2];
		pipe(go);
		n = fork();
		if (n == 0) {
			setsid();
			write(go[1], "s", 1);
			pause();
			_exit(0);
		}
		char b;
		read(go[0], &b, 1);
		T(setpgid(n, n));
		T(setpgid(n, me));
		YES(getsid(n) == n);
		YES(getpgid(n) == n);
		finish(n);

		T(getpgid(999999));
		T(getsid(999999));
		_exit(0);
	}
	waitpid(c, &status, 0);
	printf("child exited %d\n", WEXITSTATUS(status));
	return 0;
}
