/* getrusage, times and wait4's rusage: RUSAGE_SELF user time grows with
 * a busy loop, RUSAGE_CHILDREN stays zero until a child is waited for
 * and then holds its CPU time, wait4's rusage describes just that child,
 * RUSAGE_THREAD works, ru_maxrss is positive, a bad who is EINVAL and a
 * bad pointer EFAULT; times() counts up and its children's fields follow
 * RUSAGE_CHILDREN. Only relations are printed. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abi.h"

static long usec(struct timeval t) { return t.tv_sec * 1000000L + t.tv_usec; }

static void burn(void)
{
	for (volatile long i = 0; i < 100000000; i++)
		;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct rusage a, b, ch, w;
	struct tms t0, t1;

	T(getrusage(RUSAGE_SELF, &a));
	clock_t c0 = times(&t0);
	burn();
	T(getrusage(RUSAGE_SELF, &b));
	printf("self user time grew: %d, maxrss positive: %d\n", usec(b.ru_utime) > usec(a.ru_utime), b.ru_maxrss > 0);
	T(getrusage(RUSAGE_THREAD, &a));
	printf("thread user time positive: %d\n", usec(a.ru_utime) > 0);

	T(getrusage(RUSAGE_CHILDREN, &ch));
	printf("children before any: %ld %ld\n", usec(ch.ru_utime), usec(ch.ru_stime));

	pid_t c = fork();
	if (c == 0) {
		burn();
		_exit(0);
	}
	T(getrusage(RUSAGE_CHILDREN, &ch));
	int status;
	T(wait4(c, &status, 0, &w) == c);
	printf("child's own rusage: user time positive %d\n", usec(w.ru_utime) > 0);
	T(getrusage(RUSAGE_CHILDREN, &ch));
	printf("children after the wait: user time positive %d, at least the child's %d\n", usec(ch.ru_utime) > 0,
	       usec(ch.ru_utime) >= usec(w.ru_utime));

	clock_t c1 = times(&t1);
	printf("times: elapsed grew %d, user grew %d, children's user positive %d\n", c1 > c0, t1.tms_utime > t0.tms_utime,
	       t1.tms_cutime > 0);

	T(getrusage(5, &a));
	T(getrusage(-3, &a));
	T(syscall(SYS_getrusage, RUSAGE_SELF, 8));
	return 0;
}
