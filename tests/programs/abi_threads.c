/* Threads through pthreads: a producer and a consumer handing 1000 items
 * through a bounded buffer with a mutex and two condition variables;
 * pthread_join returning each thread's value, pthread_exit's value, a
 * detached thread; thread-local storage with an initial value, separate
 * per thread; errno per thread; pthread_mutex_trylock (EBUSY), an
 * error-checking mutex (EDEADLK, EPERM); pthread_once running once; all
 * threads sharing getpid but not gettid; a thread's exit_group ending
 * the whole process (in a child). Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static __thread int tls = 42;
static __thread char tls_name[16] = "main";
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER, not_empty = PTHREAD_COND_INITIALIZER;
static int buf[8], head, count, once_runs;
static long consumed_sum;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_once(void) { once_runs++; }

static void *producer(void *arg)
{
	(void)arg;
	for (int i = 1; i <= 1000; i++) {
		pthread_mutex_lock(&lock);
		while (count == 8)
			pthread_cond_wait(&not_full, &lock);
		buf[(head + count++) % 8] = i;
		pthread_cond_signal(&not_empty);
		pthread_mutex_unlock(&lock);
	}
	pthread_once(&once, init_once);
	return (void *)1000L;
}

static void *consumer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_lock(&lock);
		while (count == 0)
			pthread_cond_wait(&not_empty, &lock);
		consumed_sum += buf[head];
		head = (head + 1) % 8;
		count--;
		pthread_cond_signal(&not_full);
		pthread_mutex_unlock(&lock);
	}
	pthread_once(&once, init_once);
	pthread_exit((void *)2000L);
}

static void *locals(void *arg)
{
	long id = (long)arg;
	int first = tls;
	tls = (int)id;
	snprintf(tls_name, sizeof tls_name, "thread %ld", id);
	errno = (int)id;
	sched_yield();
	int ok = tls == id && errno == id && strncmp(tls_name, "thread", 6) == 0;
	int pid_same = getpid() == (pid_t)(long)syscall(SYS_getpid);
	int tid_differs = syscall(SYS_gettid) != getpid();
	return (void *)(long)(first == 42 && ok && pid_same && tid_differs);
}

static void *quitter(void *arg)
{
	(void)arg;
	exit(9);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	pthread_t p, c, t[4];
	void *rp, *rc;

	pthread_create(&p, NULL, producer, NULL);
	pthread_create(&c, NULL, consumer, NULL);
	pthread_join(p, &rp);
	pthread_join(c, &rc);
	printf("producer returned %ld, consumer %ld, sum %ld, once ran %d\n", (long)rp, (long)rc, consumed_sum, once_runs);

	errno = 0;
	for (long i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, locals, (void *)(i + 1));
	int good = 0;
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(t[i], &r);
		good += (long)r;
	}
	printf("threads with their own tls and errno: %d of 4; main's tls %d \"%s\", errno %d\n", good, tls, tls_name, errno);

	pthread_t d;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	printf("detached create: %d\n", pthread_create(&d, &attr, locals, (void *)7));

	printf("trylock: %d\n", pthread_mutex_trylock(&lock));
	printf("trylock again: %s\n", pthread_mutex_trylock(&lock) == EBUSY ? "EBUSY" : "other");
	pthread_mutex_unlock(&lock);
	pthread_mutexattr_t ma;
	pthread_mutex_t em;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&em, &ma);
	printf("errorcheck unlock unlocked: %s\n", pthread_mutex_unlock(&em) == EPERM ? "EPERM" : "other");
	pthread_mutex_lock(&em);
	printf("errorcheck relock: %s\n", pthread_mutex_lock(&em) == EDEADLK ? "EDEADLK" : "other");

	pid_t child = fork();
	if (child == 0) {
		pthread_t q;
		pthread_create(&q, NULL, quitter, NULL);
		for (;;)
			pause();
	}
	int status;
	waitpid(child, &status, 0);
	printf("a thread's exit ends the process: exited %d code %d\n", WIFEXITED(status), WEXITSTATUS(status));
	return 0;
}
