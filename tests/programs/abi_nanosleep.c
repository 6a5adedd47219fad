/* nanosleep and clock_nanosleep: a sleep of 0; EINVAL for a negative
 * tv_sec or tv_nsec and for tv_nsec of a whole second; EFAULT; a sleep
 * ended by a signal (EINTR) with the time left written back; and
 * clock_nanosleep's own error numbers (returned, not in errno): a bad
 * clock, the thread's CPU clock, a bad time; unknown flags ignored; an
 * absolute time in the past returning at once. Only relations are
 * printed. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"

static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }
static void on_usr1(int s) { (void)s; }

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct timespec a, b, c, nap = { 0, 30000000 };

	/* nanosleep. */
	struct timespec zero = { 0, 0 }, neg = { -1, 0 }, big = { 0, 1000000000 }, negns = { 0, -1 };
	T(nanosleep(&zero, NULL));
	T(nanosleep(&neg, NULL));
	T(nanosleep(&big, NULL));
	T(nanosleep(&negns, NULL));
	T(nanosleep((struct timespec *)8, NULL));
	signal(SIGUSR1, on_usr1);
	pid_t parent = getpid(), child = fork();
	if (child == 0) {
		nanosleep(&nap, NULL);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	struct timespec longer = { 3, 0 }, rem = { -1, -1 };
	T(nanosleep(&longer, &rem));
	printf("remaining: %s\n", rem.tv_sec == -1 && rem.tv_nsec == -1 ? "not written"
				  : rem.tv_sec >= 1 && ns(rem) < 3000000000LL ? "between 1 and 3 s" : "out of range");
	waitpid(child, NULL, 0);

	/* clock_nanosleep returns its error. */
	printf("bad clock: %s\n", ename(clock_nanosleep(12345, 0, &nap, NULL)));
	printf("thread CPU clock: %s\n", ename(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &nap, NULL)));
	printf("bad time: %s\n", ename(clock_nanosleep(CLOCK_MONOTONIC, 0, &big, NULL)));
	printf("bad flags: %d\n", clock_nanosleep(CLOCK_MONOTONIC, 0x100, &zero, NULL));
	clock_gettime(CLOCK_REALTIME, &a);
	a.tv_sec -= 10;
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("absolute past: %d\n", clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &a, NULL));
	clock_gettime(CLOCK_MONOTONIC, &c);
	printf("returned at once: %d\n", ns(c) - ns(b) < 1000000000);
	return 0;
}
