/* CPU-time clocks by id: clock_getcpuclockid for the caller and for a
 * child (whose clock shows the work it did), pthread_getcpuclockid for the
 * calling thread; the raw ids clock_gettime and clock_getres accept or
 * refuse with EINVAL (a process that does not exist, a kind of 3, another
 * process's thread), and clock_getcpuclockid's own result for a process
 * that does not exist. Only relations are printed. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"

static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

static void burn(void)
{
	for (volatile long i = 0; i < 30000000; i++)
		;
}

/* The id Linux gives the CPU clock of process `pid` (or thread, with
 * `thread`) of kind `which`. */
static clockid_t cpu_id(pid_t pid, int thread, int which)
{
	return (clockid_t)((-pid - 1) * 8U + (thread ? 4 : 0) + which);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct timespec a, b, res;
	clockid_t mine, theirs, tc;

	T(clock_getcpuclockid(0, &mine));
	T(clock_gettime(mine, &a));
	burn();
	T(clock_gettime(mine, &b));
	printf("own clock grew with work: %d\n", ns(b) > ns(a));
	T(clock_getcpuclockid(getpid(), &mine));
	T(clock_getres(mine, &res));
	printf("resolution positive: %d\n", ns(res) > 0);

	T(pthread_getcpuclockid(pthread_self(), &tc));
	T(clock_gettime(tc, &a));
	burn();
	T(clock_gettime(tc, &b));
	printf("thread clock grew with work: %d\n", ns(b) > ns(a));

	int ready[2], go[2];
	pipe(ready);
	pipe(go);
	pid_t c = fork();
	if (c == 0) {
		char x;
		burn();
		write(ready[1], "r", 1);
		read(go[0], &x, 1);
		_exit(0);
	}
	char x;
	read(ready[0], &x, 1);
	T(clock_getcpuclockid(c, &theirs));
	T(clock_gettime(theirs, &a));
	printf("child's clock shows its work: %d\n", ns(a) > 0);
	T(syscall(SYS_clock_gettime, cpu_id(c, 1, 2), &a));
	write(go[1], "g", 1);
	waitpid(c, NULL, 0);

	T(syscall(SYS_clock_gettime, cpu_id(0, 0, 2), &a));
	T(syscall(SYS_clock_gettime, cpu_id(0, 0, 0), &a));
	T(syscall(SYS_clock_gettime, cpu_id(0, 1, 1), &a));
	T(syscall(SYS_clock_gettime, cpu_id(0, 0, 3), &a));
	T(syscall(SYS_clock_gettime, cpu_id(0x3ffffff0, 0, 2), &a));
	T(syscall(SYS_clock_getres, cpu_id(0x3ffffff0, 0, 2), &a));
	T(syscall(SYS_clock_getres, cpu_id(0, 0, 2), NULL));
	T(clock_getcpuclockid(0x3ffffff0, &theirs));
	return 0;
}
