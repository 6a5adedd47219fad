/* futex, called directly: FUTEX_WAIT returning EAGAIN when the word has
 * changed, ETIMEDOUT after a relative timeout, EINVAL for a bad timeout
 * or an unaligned address, EFAULT for an unmapped one; FUTEX_WAKE
 * returning how many it woke (0 with no waiters, 1 of 3, then the other
 * 2); FUTEX_WAIT_BITSET and FUTEX_WAKE_BITSET choosing waiters by bits
 * (a bitset of 0: EINVAL), with an absolute timeout; an unknown
 * operation (ENOSYS). The waiters are threads (abi_futex_requeue has
 * requeueing and signals). Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"

static int word;
static volatile int woken;

static long futex(int *uaddr, int op, int val, const struct timespec *t, int *uaddr2, int val3)
{
	return syscall(SYS_futex, uaddr, op, val, t, uaddr2, val3);
}

static void *waiter(void *arg)
{
	unsigned bits = (unsigned)(uintptr_t)arg;
	long r = bits ? futex(&word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, bits)
		      : futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	if (r == 0)
		__atomic_fetch_add(&woken, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Time for the waiters to reach their wait. */
static void nap(void)
{
	struct timespec t = { 0, 100000000 };
	nanosleep(&t, NULL);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct timespec short_wait = { 0, 20000000 }, bad = { 0, -1 };
	pthread_t t[3];

	/* Waits that end at once. */
	word = 1;
	T(futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
	word = 0;
	T(futex(&word, FUTEX_WAIT_PRIVATE, 0, &short_wait, NULL, 0));
	T(futex(&word, FUTEX_WAIT_PRIVATE, 0, &bad, NULL, 0));
	T(futex((int *)((char *)&word + 1), FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
	T(futex((int *)8, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
	T(futex(&word, 99, 0, NULL, NULL, 0));
	T(futex(&word, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0));

	/* Wake one of three, then the rest. */
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, waiter, NULL);
	nap();
	T(futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
	nap();
	printf("woken %d\n", woken);
	T(futex(&word, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0));
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	printf("woken %d\n", woken);

	/* Bitsets. */
	woken = 0;
	pthread_create(&t[0], NULL, waiter, (void *)1);
	pthread_create(&t[1], NULL, waiter, (void *)2);
	nap();
	T(futex(&word, FUTEX_WAKE_BITSET_PRIVATE, 10, NULL, NULL, 2));
	pthread_join(t[1], NULL);
	T(futex(&word, FUTEX_WAKE_BITSET_PRIVATE, 10, NULL, NULL, 4));
	T(futex(&word, FUTEX_WAKE_BITSET_PRIVATE, 10, NULL, NULL, 0));
	T(futex(&word, FUTEX_WAKE_BITSET_PRIVATE, 10, NULL, NULL, -1));
	pthread_join(t[0], NULL);
	struct timespec abs;
	clock_gettime(CLOCK_MONOTONIC, &abs);
	abs.tv_nsec += 20000000;
	if (abs.tv_nsec >= 1000000000) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000;
	}
	T(futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, &abs, NULL, -1));
	T(futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, &abs, NULL, 0));

	return 0;
}
