/* getrlimit, setrlimit and prlimit64: every resource readable with soft
 * <= hard (values are the host's, so only that relation is printed); a
 * soft limit lowered and raised back under the hard one; soft above hard
 * (EINVAL); a resource number out of range (EINVAL); RLIM_INFINITY
 * stored and read back; prlimit64 reading and setting at once (the old
 * value returned), for pid 0 and for the caller's own pid, and ESRCH for
 * a missing pid; EFAULT; a forked child inheriting the limits and
 * changing only its own. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abi.h"

#define prlimit_(pid, r, new, old) syscall(SYS_prlimit64, pid, r, new, old)

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct rlimit rl, old;
	int bad = 0;
	for (int r = 0; r < RLIM_NLIMITS; r++)
		if (getrlimit(r, &rl) != 0 || rl.rlim_cur > rl.rlim_max)
			bad++;
	printf("resources 0..%d: %d bad\n", RLIM_NLIMITS - 1, bad);
	T(getrlimit(RLIM_NLIMITS, &rl));
	T(getrlimit(-1, &rl));
	T(syscall(SYS_getrlimit, RLIMIT_NOFILE, 8));

	/* Lower and raise a soft limit. */
	struct rlimit nofile = { 512, 1024 };
	T(setrlimit(RLIMIT_NOFILE, &nofile));
	T(getrlimit(RLIMIT_NOFILE, &rl));
	printf("nofile %ld/%ld\n", (long)rl.rlim_cur, (long)rl.rlim_max);
	nofile.rlim_cur = 1024;
	T(setrlimit(RLIMIT_NOFILE, &nofile));
	nofile.rlim_cur = 2048;
	T(setrlimit(RLIMIT_NOFILE, &nofile));
	T(getrlimit(RLIMIT_NOFILE, &rl));
	printf("nofile %ld/%ld\n", (long)rl.rlim_cur, (long)rl.rlim_max);
	T(setrlimit(RLIM_NLIMITS, &nofile));
	T(syscall(SYS_setrlimit, RLIMIT_NOFILE, 8));

	/* Infinity round-trips. */
	struct rlimit core = { 0, RLIM_INFINITY };
	T(setrlimit(RLIMIT_CORE, &core));
	T(getrlimit(RLIMIT_CORE, &rl));
	printf("core soft %ld, hard infinite %d\n", (long)rl.rlim_cur, rl.rlim_max == RLIM_INFINITY);

	/* prlimit64: read and set at once. */
	struct rlimit stack = { 4 << 20, RLIM_INFINITY };
	T(prlimit_(0, RLIMIT_STACK, &stack, &old));
	T(prlimit_(getpid(), RLIMIT_STACK, NULL, &rl));
	printf("stack soft %ld MiB\n", (long)rl.rlim_cur >> 20);
	T(prlimit_(0, RLIMIT_STACK, &old, &rl));
	T(prlimit_(0, RLIMIT_STACK, NULL, NULL));
	T(prlimit_(999999, RLIMIT_STACK, NULL, &rl));
	T(prlimit_(0, 99, NULL, &rl));
	T(prlimit_(0, RLIMIT_STACK, NULL, 8));
	struct rlimit inverted = { 10, 5 };
	T(prlimit_(0, RLIMIT_CORE, &inverted, NULL));

	/* A child inherits, and changes only its own. */
	nofile.rlim_cur = 300;
	setrlimit(RLIMIT_NOFILE, &nofile);
	pid_t c = fork();
	if (c == 0) {
		getrlimit(RLIMIT_NOFILE, &rl);
		printf("child inherited %ld\n", (long)rl.rlim_cur);
		nofile.rlim_cur = 100;
		setrlimit(RLIMIT_NOFILE, &nofile);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	getrlimit(RLIMIT_NOFILE, &rl);
	printf("parent still %ld\n", (long)rl.rlim_cur);
	return 0;
}
