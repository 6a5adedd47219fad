/* Threads: pthread_create (clone with CLONE_VM|CLONE_THREAD|CLONE_SETTLS|
 * CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID), thread-local storage through
 * each thread's FS base, a mutex and a condition variable (futex wait,
 * wake, requeue), pthread_join (woken by the kernel-side CLEARTID wake),
 * return values, gettid distinct from getpid, and a futex wait timing out. */
#define _GNU_SOURCE
#include <errno.h>
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static __thread int tls_value;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int counter, ready, tid_differs;

static void *worker(void *arg)
{
    long id = (long)arg;
    tls_value = (int)id * 10;
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    if (syscall(SYS_gettid) != getpid())
        tid_differs++;
    while (!ready)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    return (void *)(long)(tls_value + 1);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    tls_value = 7;
    pthread_t t[4];
    for (long i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, worker, (void *)(i + 1));
    struct timespec d = { 0, 20 * 1000 * 1000 };
    nanosleep(&d, NULL);
    pthread_mutex_lock(&lock);
    ready = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    long sum = 0;
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        sum += (long)r;
    }
    printf("counter=%d joined sum=%ld main tls=%d tids differ=%d\n", counter, sum, tls_value, tid_differs);

    int word = 0;
    struct timespec to = { 0, 30 * 1000 * 1000 };
    long r = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &to, NULL, 0);
    printf("futex timeout: %ld %s\n", r, errno == ETIMEDOUT ? "ETIMEDOUT" : "other");
    errno = 0;
    r = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
    printf("futex value changed: %ld %s\n", r, errno == EAGAIN ? "EAGAIN" : "other");
    r = syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 5, NULL, NULL, 0);
    printf("futex wake nobody: %ld\n", r);
    return 0;
}
