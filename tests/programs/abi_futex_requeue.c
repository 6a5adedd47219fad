/* futex requeueing and interruption: FUTEX_REQUEUE waking some
 * waiters and moving others to a second word, returning the sum of both;
 * FUTEX_CMP_REQUEUE refusing (EAGAIN) unless the word holds the expected
 * value, and moving at most the given number; the moved waiters woken on
 * the second word only; and a FUTEX_WAIT with no timeout ended by a
 * signal from another process (EINTR, no SA_RESTART). The waiters are
 * threads. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"

static int word, other;
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

static void on_usr1(int s) { (void)s; }

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	pthread_t t[3];

	/* Requeue: wake one, move one to `other`; the count is both. */
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, waiter, NULL);
	nap();
	T(futex(&word, FUTEX_REQUEUE_PRIVATE, 1, (struct timespec *)1, &other, 0));
	nap();
	printf("woken %d\n", woken);
	T(futex(&word, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0));
	T(futex(&other, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0));
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("woken %d\n", woken);

	/* CMP_REQUEUE: only while the word holds the expected value; at most
	 * the given number moved. */
	woken = 0;
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, waiter, NULL);
	nap();
	T(futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 0, (struct timespec *)1, &other, 5));
	T(futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 0, (struct timespec *)1, &other, 0));
	T(futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (struct timespec *)0, &other, 0));
	nap();
	printf("woken %d\n", woken);
	T(futex(&other, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0));
	T(futex(&word, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0));
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	printf("woken %d\n", woken);

	/* A signal ends a wait. */
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigaction(SIGUSR1, &sa, NULL);
	pid_t me = getpid();
	if (fork() == 0) {
		nap();
		kill(me, SIGUSR1);
		_exit(0);
	}
	T(futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
	return 0;
}
