/* Signal state per thread: a new thread starts with its creator's mask,
 * and pthread_sigmask in one thread leaves the others' alone; a signal
 * sent with pthread_kill is pending for that thread only and runs its
 * handler there; a signal sent to the process with kill() is pending for
 * every thread and is taken by one that does not block it; a fork from a
 * thread copies that thread's mask and alternate stack; sigaltstack is per
 * thread (a new thread has none); sigwait in a dedicated thread, the
 * signal blocked everywhere; and a futex wait interrupted by an
 * SA_RESTART handler, restarted without a timeout and ended with EINTR
 * with one. Every step is ordered by barriers, joins or sigsuspend, never
 * by timing. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_barrier_t bar;
static pthread_t main_thread;

/* What the last handler saw: its signal, its thread, a local's address. */
static volatile int last_sig, hits;
static pthread_t volatile who;
static uintptr_t volatile where;

static void on_sig(int s)
{
	char local;
	last_sig = s;
	who = pthread_self();
	where = (uintptr_t)&local;
	hits++;
}

static const char *thread_name(pthread_t t, pthread_t worker)
{
	if (pthread_equal(t, main_thread))
		return "main";
	if (pthread_equal(t, worker))
		return "worker";
	return "other";
}

static int blocked(int sig)
{
	sigset_t s;
	pthread_sigmask(SIG_BLOCK, NULL, &s);
	return sigismember(&s, sig);
}

static int pending(int sig)
{
	sigset_t s;
	sigpending(&s);
	return sigismember(&s, sig);
}

static void mask(int how, int sig)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	pthread_sigmask(how, &s, NULL);
}

/* Waits with nothing blocked until a handler has run. */
static void suspend_all_open(void)
{
	sigset_t none;
	sigemptyset(&none);
	sigsuspend(&none);
}

static void handle(int sig, int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sig;
	sa.sa_flags = flags;
	sigaction(sig, &sa, NULL);
}

/* 1. Masks: inherited at creation, then each thread's own. */
static void *mask_worker(void *arg)
{
	(void)arg;
	printf("worker: SIGUSR1 blocked at start %d\n", blocked(SIGUSR1));
	mask(SIG_UNBLOCK, SIGUSR1);
	mask(SIG_BLOCK, SIGUSR2);
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	printf("worker: SIGUSR1 blocked %d, SIGUSR2 blocked %d\n", blocked(SIGUSR1), blocked(SIGUSR2));
	return NULL;
}

static void test_masks(void)
{
	pthread_t t;
	mask(SIG_BLOCK, SIGUSR1);
	pthread_create(&t, NULL, mask_worker, NULL);
	pthread_barrier_wait(&bar);
	printf("main: SIGUSR1 blocked %d, SIGUSR2 blocked %d\n", blocked(SIGUSR1), blocked(SIGUSR2));
	pthread_barrier_wait(&bar);
	pthread_join(t, NULL);
	mask(SIG_UNBLOCK, SIGUSR1);
}

/* 2. pthread_kill: pending for the target only, run on the target. */
static void *kill_worker(void *arg)
{
	(void)arg;
	/* Blocked (inherited from main) until the barrier. */
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	printf("worker: SIGUSR1 pending here %d\n", pending(SIGUSR1));
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	suspend_all_open();
	return NULL;
}

static void test_pthread_kill(void)
{
	pthread_t t;
	handle(SIGUSR1, 0);
	mask(SIG_BLOCK, SIGUSR1);
	pthread_create(&t, NULL, kill_worker, NULL);
	pthread_barrier_wait(&bar);
	printf("pthread_kill = %d\n", pthread_kill(t, SIGUSR1));
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	printf("main: SIGUSR1 pending here %d\n", pending(SIGUSR1));
	/* Unblocked in main: still the worker's to take. */
	mask(SIG_UNBLOCK, SIGUSR1);
	printf("main: handler ran here %d\n", hits);
	pthread_barrier_wait(&bar);
	pthread_join(t, NULL);
	printf("handler: signal %d on %s\n", last_sig, thread_name(who, t));
	hits = 0;
}

/* 3. kill(): pending for every thread; taken by one that does not block
 * it while the main thread does. */
static void *process_worker(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&bar);
	printf("worker: SIGUSR2 pending %d\n", pending(SIGUSR2));
	pthread_barrier_wait(&bar);
	suspend_all_open();
	return NULL;
}

static void test_process_kill(void)
{
	pthread_t t;
	handle(SIGUSR2, 0);
	mask(SIG_BLOCK, SIGUSR2);
	pthread_create(&t, NULL, process_worker, NULL);
	printf("kill = %d\n", kill(getpid(), SIGUSR2));
	printf("main: SIGUSR2 pending %d\n", pending(SIGUSR2));
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	pthread_join(t, NULL);
	printf("handler: signal %d on %s, main: SIGUSR2 pending %d\n", last_sig, thread_name(who, t), pending(SIGUSR2));
	hits = 0;

	/* The same with the worker waiting (or about to), main blocking it. */
	pthread_create(&t, NULL, process_worker, NULL);
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	kill(getpid(), SIGUSR2);
	pthread_join(t, NULL);
	printf("handler: signal %d on %s\n", last_sig, thread_name(who, t));
	mask(SIG_UNBLOCK, SIGUSR2);
	hits = 0;
}

/* 4. sigaltstack per thread, and a fork from a thread. */
static char main_alt[65536], worker_alt[65536];

static int in(const char *stack, size_t size, uintptr_t at)
{
	return at >= (uintptr_t)stack && at < (uintptr_t)stack + size;
}

static void *alt_worker(void *arg)
{
	(void)arg;
	stack_t old;
	sigaltstack(NULL, &old);
	printf("worker: altstack at start %s\n", old.ss_flags & SS_DISABLE ? "disabled" : "set");
	raise(SIGUSR1);
	printf("worker: handler on main's alt stack %d\n", in(main_alt, sizeof main_alt, where));
	stack_t ss = { .ss_sp = worker_alt, .ss_size = sizeof worker_alt };
	printf("worker: sigaltstack = %d\n", sigaltstack(&ss, NULL));
	raise(SIGUSR1);
	printf("worker: handler on its own alt stack %d\n", in(worker_alt, sizeof worker_alt, where));

	/* A fork copies this thread's mask and alternate stack. */
	mask(SIG_BLOCK, SIGUSR2);
	pid_t child = fork();
	if (child == 0) {
		sigaltstack(NULL, &old);
		printf("child: SIGUSR2 blocked %d, altstack is the worker's %d\n", blocked(SIGUSR2), old.ss_sp == (void *)worker_alt);
		fflush(stdout);
		_exit(0);
	}
	waitpid(child, NULL, 0);
	return NULL;
}

static void test_altstack(void)
{
	pthread_t t;
	handle(SIGUSR1, SA_ONSTACK);
	stack_t ss = { .ss_sp = main_alt, .ss_size = sizeof main_alt };
	printf("main: sigaltstack = %d\n", sigaltstack(&ss, NULL));
	pthread_create(&t, NULL, alt_worker, NULL);
	pthread_join(t, NULL);
	stack_t old;
	sigaltstack(NULL, &old);
	printf("main: altstack still its own %d\n", old.ss_sp == (void *)main_alt);
	raise(SIGUSR1);
	printf("main: handler on its alt stack %d, SIGUSR2 blocked %d\n", in(main_alt, sizeof main_alt, where), blocked(SIGUSR2));
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	hits = 0;
}

/* 5. sigwait in a dedicated thread; the signal blocked in all of them. */
static void *waiter(void *arg)
{
	sigset_t *set = arg;
	int sig = 0;
	int r = sigwait(set, &sig);
	printf("sigwait = %d, signal %d\n", r, sig);
	return NULL;
}

static void *bystander(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&bar);
	return NULL;
}

static void test_sigwait(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_t w, b;
	pthread_create(&b, NULL, bystander, NULL);
	pthread_create(&w, NULL, waiter, &set);
	kill(getpid(), SIGUSR2);
	pthread_join(w, NULL);
	pthread_create(&w, NULL, waiter, &set);
	kill(getpid(), SIGUSR1);
	pthread_join(w, NULL);
	pthread_barrier_wait(&bar);
	pthread_join(b, NULL);
	printf("handler ran %d, pending %d %d\n", hits, pending(SIGUSR1), pending(SIGUSR2));
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

/* 6. A futex wait and an SA_RESTART handler. */
static int word;
static volatile int futex_done;
static long futex_result;
static int futex_errno;

static void *futex_waiter(void *arg)
{
	struct timespec limit = { 60, 0 };
	long r = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, arg ? &limit : NULL, NULL, 0);
	futex_errno = errno;
	futex_result = r;
	futex_done = 1;
	return NULL;
}

static void nap(void)
{
	struct timespec t = { 0, 20000000 };
	nanosleep(&t, NULL);
}

static void report_futex(const char *what)
{
	if (futex_result < 0)
		printf("%s = -1 %s\n", what, futex_errno == EINTR ? "EINTR" : strerror(futex_errno));
	else
		printf("%s = %ld\n", what, futex_result);
}

static void test_futex_restart(void)
{
	pthread_t t;
	handle(SIGUSR1, SA_RESTART);

	/* Untimed: the handler runs, the wait goes on until woken. */
	futex_done = 0;
	pthread_create(&t, NULL, futex_waiter, NULL);
	while (!hits) {
		pthread_kill(t, SIGUSR1);
		nap();
	}
	while (!futex_done) {
		syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
		nap();
	}
	pthread_join(t, NULL);
	report_futex("untimed FUTEX_WAIT");

	/* Timed: EINTR, whatever SA_RESTART says. */
	futex_done = 0;
	pthread_create(&t, NULL, futex_waiter, (void *)1);
	while (!futex_done) {
		pthread_kill(t, SIGUSR1);
		nap();
	}
	pthread_join(t, NULL);
	report_futex("timed FUTEX_WAIT");
	hits = 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	main_thread = pthread_self();
	pthread_barrier_init(&bar, NULL, 2);
	test_masks();
	test_pthread_kill();
	test_process_kill();
	test_altstack();
	test_sigwait();
	test_futex_restart();
	return 0;
}
