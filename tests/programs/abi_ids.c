/* Identity calls: getuid, geteuid, getgid and getegid (0 here, as root),
 * gettid equal to getpid in a single-threaded process and in a forked
 * child, getppid in a child equal to the parent's pid, set_tid_address
 * returning the caller's tid, getpgrp agreeing with getpgid(0),
 * set_robust_list (EINVAL for a wrong size), sched_yield returning 0 however often it is
 * called, uname's fixed fields (sysname "Linux", machine "x86_64", each
 * field NUL-terminated within 65 bytes) and EFAULT. Only relations
 * between pids are printed. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abi.h"

static int terminated(const char *field) { return memchr(field, 0, 65) != NULL; }

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	T(getuid());
	T(geteuid());
	T(getgid());
	T(getegid());
	pid_t me = getpid();
	long tid = syscall(SYS_gettid);
	printf("gettid == getpid: %d\n", tid == me);
	int word;
	printf("set_tid_address returns the tid: %d\n", syscall(SYS_set_tid_address, &word) == tid);
	printf("getppid differs from getpid: %d\n", getppid() != me);
	printf("getpgrp is getpgid(0): %d\n", syscall(SYS_getpgrp) == getpgid(0));
	struct { void *next; long offset; void *pending; } robust = { &robust, 0, NULL };
	T(syscall(SYS_set_robust_list, &robust, sizeof robust));
	T(syscall(SYS_set_robust_list, &robust, 8));

	pid_t c = fork();
	if (c == 0) {
		printf("child: getppid is the parent %d, gettid == getpid %d, differs from the parent %d\n", getppid() == me,
		       syscall(SYS_gettid) == getpid(), getpid() != me);
		_exit(0);
	}
	waitpid(c, NULL, 0);

	int ok = 0;
	for (int i = 0; i < 100; i++)
		ok += sched_yield() == 0;
	printf("sched_yield: %d of 100 returned 0\n", ok);

	struct utsname u;
	memset(&u, 0xff, sizeof u);
	T(uname(&u));
	printf("sysname %s, machine %s\n", u.sysname, u.machine);
	printf("terminated: %d %d %d %d %d %d\n", terminated(u.sysname), terminated(u.nodename), terminated(u.release),
	       terminated(u.version), terminated(u.machine), terminated(u.domainname));
	printf("release starts with a digit: %d\n", u.release[0] >= '0' && u.release[0] <= '9');
	T(uname((struct utsname *)8));
	return 0;
}
