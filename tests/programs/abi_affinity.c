/* sched_getaffinity and sched_setaffinity as the raw calls see them: a
 * size too small for the kernel's mask or not a whole number of longs is
 * EINVAL; the call returns the bytes it wrote (a whole number of longs)
 * with CPU 0 in the mask; an unknown or negative pid is ESRCH; a bad
 * pointer EFAULT; setting a mask with no CPU in it (or a zero size) is
 * EINVAL, a mask naming CPU 0 is fine, even in fewer bytes than a long.
 * getcpu, once pinned to CPU 0, says CPU 0 node 0; null pointers are
 * skipped, bad ones EFAULT. Prints nothing that depends on the number of
 * CPUs. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "abi.h"

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	unsigned long m[16];

	T(syscall(SYS_sched_getaffinity, 0, 4, m));
	T(syscall(SYS_sched_getaffinity, 0, 12, m));
	memset(m, 0, sizeof m);
	long r = syscall(SYS_sched_getaffinity, 0, sizeof m, m);
	printf("whole longs written: %d, CPU 0 in the mask: %d\n", r > 0 && r % sizeof(long) == 0, (int)(m[0] & 1));
	T(syscall(SYS_sched_getaffinity, getpid(), sizeof m, m) > 0);
	T(syscall(SYS_sched_getaffinity, -1, sizeof m, m));
	T(syscall(SYS_sched_getaffinity, 0x3fffffff, sizeof m, m));
	T(syscall(SYS_sched_getaffinity, 0, sizeof m, 8));
	cpu_set_t set;
	T(sched_getaffinity(0, sizeof set, &set));
	printf("CPU_ISSET(0): %d\n", (int)CPU_ISSET(0, &set));

	memset(m, 0, sizeof m);
	T(syscall(SYS_sched_setaffinity, 0, sizeof m, m));
	m[0] = 1;
	T(syscall(SYS_sched_setaffinity, 0, 0, m));
	T(syscall(SYS_sched_setaffinity, 0, 3, m));
	T(syscall(SYS_sched_setaffinity, 0, sizeof m, m));
	T(syscall(SYS_sched_setaffinity, 0, sizeof m, 8));
	T(syscall(SYS_sched_setaffinity, -1, sizeof m, m));
	T(syscall(SYS_sched_setaffinity, 0x3fffffff, sizeof m, m));
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	T(sched_setaffinity(0, sizeof set, &set));

	/* Pinned to CPU 0 now, so getcpu must say 0 on any machine. */
	unsigned cpu = 99, node = 99;
	T(syscall(SYS_getcpu, &cpu, &node, 0));
	printf("getcpu: cpu %u node %u\n", cpu, node);
	T(syscall(SYS_getcpu, 0, 0, 0));
	T(syscall(SYS_getcpu, 8, 0, 0));
	T(syscall(SYS_getcpu, 0, 8, 0));
	T(sched_getcpu());
	return 0;
}
