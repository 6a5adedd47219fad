/* Clocks: clock_gettime for REALTIME, MONOTONIC, BOOTTIME, the COARSE
 * ones, MONOTONIC_RAW and the CPU-time clocks (each works and does not go
 * backwards; MONOTONIC and BOOTTIME advance together across a sleep; the
 * process CPU clock advances with a busy loop); clock_getres (a positive
 * resolution of at most 10 ms, NULL allowed); the raw calls' EINVAL for a
 * bad clock and EFAULT; gettimeofday and time (the raw calls) agreeing
 * with CLOCK_REALTIME. Only relations are printed. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"

static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct timespec a, b, c, d, res;
	const struct { clockid_t id; const char *name; } clocks[] = {
		{ CLOCK_REALTIME, "REALTIME" }, { CLOCK_MONOTONIC, "MONOTONIC" }, { CLOCK_BOOTTIME, "BOOTTIME" },
		{ CLOCK_REALTIME_COARSE, "REALTIME_COARSE" }, { CLOCK_MONOTONIC_COARSE, "MONOTONIC_COARSE" },
		{ CLOCK_MONOTONIC_RAW, "MONOTONIC_RAW" }, { CLOCK_PROCESS_CPUTIME_ID, "PROCESS_CPUTIME" },
		{ CLOCK_THREAD_CPUTIME_ID, "THREAD_CPUTIME" },
	};
	for (unsigned i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
		int r1 = clock_gettime(clocks[i].id, &a), r2 = clock_gettime(clocks[i].id, &b);
		int r3 = clock_getres(clocks[i].id, &res);
		printf("%s: %d %d, not backwards %d, nsec in range %d; getres %d, sane %d\n", clocks[i].name, r1, r2, ns(b) >= ns(a),
		       a.tv_nsec >= 0 && a.tv_nsec < 1000000000, r3, res.tv_sec == 0 && res.tv_nsec > 0 && res.tv_nsec <= 10000000);
	}
	T(clock_getres(CLOCK_MONOTONIC, NULL));

	/* gettimeofday and time, called directly, agree with REALTIME. */
	struct timeval tv;
	time_t t1 = 0;
	clock_gettime(CLOCK_REALTIME, &a);
	T(syscall(SYS_gettimeofday, &tv, NULL));
	long t0 = syscall(SYS_time, &t1);
	printf("gettimeofday within 1 s %d, usec in range %d; time within 1 s %d, stored too %d\n", tv.tv_sec - a.tv_sec <= 1,
	       tv.tv_usec >= 0 && tv.tv_usec < 1000000, t0 - a.tv_sec <= 1, t1 == t0);
	T(syscall(SYS_gettimeofday, NULL, NULL));
	T(syscall(SYS_gettimeofday, 8, NULL));

	/* MONOTONIC and BOOTTIME advance together; CPU time with work. */
	clock_gettime(CLOCK_MONOTONIC, &a);
	clock_gettime(CLOCK_BOOTTIME, &c);
	struct timespec nap = { 0, 30000000 };
	T(nanosleep(&nap, NULL));
	clock_gettime(CLOCK_MONOTONIC, &b);
	clock_gettime(CLOCK_BOOTTIME, &d);
	long long dm = ns(b) - ns(a), db = ns(d) - ns(c);
	printf("slept 30 ms: monotonic %d, boottime %d, agree within 10 ms %d\n", dm >= 30000000, db >= 30000000,
	       dm - db < 10000000 && db - dm < 10000000);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	for (volatile long i = 0; i < 30000000; i++)
		;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	printf("busy loop adds CPU time: %d\n", ns(b) > ns(a));

	/* The raw calls' errors. */
	T(syscall(SYS_clock_gettime, 12345, &a));
	T(syscall(SYS_clock_gettime, -100, &a));
	T(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, 8));
	T(syscall(SYS_clock_getres, 12345, &a));
	T(syscall(SYS_clock_getres, CLOCK_MONOTONIC, 8));

	return 0;
}
