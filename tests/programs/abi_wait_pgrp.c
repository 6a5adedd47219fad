/* wait4's process-group selectors: 0 (the caller's group) and -pgid (a
 * given group) pick only children in that group, whichever order they
 * end in; a child moved to its own group by its parent or by itself
 * (setpgid) is no longer found by 0; with WNOHANG a selector that matches
 * no child at all is ECHILD even while other children run, and 0 only
 * while a matching child runs; -pgid of a group with no children is
 * ECHILD; and -1 finds every child again. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
	pid_t a, b, c;
	int go[2];

	/* One child in its own group (moved by the parent), one in ours. */
	a = child(7);
	T(setpgid(a, a));
	b = child(0);
	show("0 finds b", 0, 0, b);
	show("0 again, WNOHANG", 0, WNOHANG, b);
	show("0 again, blocking", 0, 0, b);
	show("-a, WNOHANG, a running", -a, WNOHANG, a);
	kill(a, SIGKILL);
	show("-a", -a, 0, a);
	show("-a again", -a, 0, a);

	/* A child that moves itself; wait until it has. */
	pipe(go);
	c = fork();
	if (c == 0) {
		setpgid(0, 0);
		write(go[1], "m", 1);
		pause();
		_exit(0);
	}
	char m;
	read(go[0], &m, 1);
	b = child(1);
	show("0 finds b, not c", 0, 0, b);
	show("0 with only c left, WNOHANG", 0, WNOHANG, c);
	show("-c, WNOHANG", -c, WNOHANG, c);
	kill(c, SIGTERM);
	show("-1 finds c", -1, 0, c);
	show("-1 with none left", -1, WNOHANG, c);

	/* Several in one group end in any order; -pgid takes each. */
	a = child(7);
	T(setpgid(a, a));
	b = fork();
	if (b == 0) {
		read(go[0], &m, 1);
		_exit(5);
	}
	T(setpgid(b, a));
	write(go[1], "g", 1);
	show("-a finds b", -a, 0, b);
	kill(a, SIGTERM);
	show("-a finds a", -a, 0, a);
	show("-a none left", -a, WNOHANG, a);
	return 0;
}
