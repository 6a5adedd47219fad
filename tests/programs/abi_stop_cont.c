/* SIGSTOP and SIGCONT as a program sees them: a stopped process runs no
 * thread until continued, and a call waiting in the kernel (nanosleep,
 * waitpid, a futex wait, sigsuspend, sigtimedwait) goes on waiting across
 * the stop, as on Linux, instead of failing with EINTR. Only relations are
 * printed, never times. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Stops `pid` after `before` ms, keeps it stopped `during` ms, continues
 * it, and says whether waitpid saw the stop and the continue. */
static void stop_and_continue(pid_t pid, long before, long during)
{
	int status;
	pause_ms(before);
	kill(pid, SIGSTOP);
	int stopped = waitpid(pid, &status, WUNTRACED) == pid && WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP;
	pause_ms(during);
	kill(pid, SIGCONT);
	int continued = waitpid(pid, &status, WCONTINUED) == pid && WIFCONTINUED(status);
	printf("  stopped seen: %s, continued seen: %s\n", stopped ? "yes" : "no", continued ? "yes" : "no");
}

static int finish(pid_t pid)
{
	int status;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static volatile unsigned long *counters;

static void *spin(void *arg)
{
	volatile unsigned long *c = arg;
	for (;;)
		(*c)++;
	return NULL;
}

static int futex_word;

/* Waits until the word is set; says whether a wait ever failed with
 * EINTR (a slow start only makes a wait fail with EAGAIN, or not wait). */
static void *futex_waiter(void *arg)
{
	(void)arg;
	int eintr = 0;
	while (__atomic_load_n(&futex_word, __ATOMIC_SEQ_CST) == 0)
		if (syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0) != 0 && errno == EINTR)
			eintr = 1;
	printf("  futex wait ended by EINTR: %s\n", eintr ? "yes" : "no");
	return NULL;
}

/* The parent's side of a child's "ready" byte on `p`. */
static void await_ready(int p[2])
{
	char c;
	close(p[1]);
	read(p[0], &c, 1);
	close(p[0]);
}

static volatile sig_atomic_t usr1;
static void on_usr1(int s) { (void)s; usr1++; }

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	counters = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	/* Two threads spin; while the process is stopped neither moves. */
	printf("threads while stopped:\n");
	pid_t pid = fork();
	if (pid == 0) {
		pthread_t t;
		pthread_create(&t, NULL, spin, (void *)&counters[1]);
		spin((void *)&counters[0]);
	}
	while (counters[0] == 0 || counters[1] == 0)
		sched_yield();
	kill(pid, SIGSTOP);
	int status;
	/* Reported once every thread has stopped. */
	waitpid(pid, &status, WUNTRACED);
	unsigned long a = counters[0], b = counters[1];
	pause_ms(200);
	printf("  main thread frozen: %s, other thread frozen: %s\n", counters[0] == a ? "yes" : "no",
	       counters[1] == b ? "yes" : "no");
	kill(pid, SIGCONT);
	pause_ms(200);
	printf("  both run again: %s\n", counters[0] != a && counters[1] != b ? "yes" : "no");
	kill(pid, SIGKILL);
	printf("  end: %d\n", finish(pid));

	/* nanosleep goes on to its end: the stop neither ends it nor adds to it. */
	printf("nanosleep across a stop:\n");
	pid = fork();
	if (pid == 0) {
		struct timespec t0, req = { 0, 600 * 1000000 };
		clock_gettime(CLOCK_MONOTONIC, &t0);
		int r = nanosleep(&req, NULL);
		long ms = ms_since(&t0);
		printf("  nanosleep = %d, slept at least 600 ms: %s\n", r, ms >= 600 ? "yes" : "no");
		_exit(0);
	}
	stop_and_continue(pid, 100, 200);
	printf("  end: %d\n", finish(pid));

	/* waitpid goes on waiting for the child. */
	printf("waitpid across a stop:\n");
	pid = fork();
	if (pid == 0) {
		pid_t g = fork();
		if (g == 0) {
			pause_ms(500);
			_exit(7);
		}
		int st;
		pid_t r = waitpid(g, &st, 0);
		printf("  waitpid = %s, status %d\n", r == g ? "the child" : (errno == EINTR ? "EINTR" : "other"),
		       r == g && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		_exit(0);
	}
	stop_and_continue(pid, 100, 200);
	printf("  end: %d\n", finish(pid));

	/* A futex wait goes on until woken. */
	printf("futex wait across a stop:\n");
	pid = fork();
	if (pid == 0) {
		pthread_t t;
		pthread_create(&t, NULL, futex_waiter, NULL);
		pause_ms(600);
		__atomic_store_n(&futex_word, 1, __ATOMIC_SEQ_CST);
		syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
		pthread_join(t, NULL);
		_exit(0);
	}
	stop_and_continue(pid, 150, 200);
	printf("  end: %d\n", finish(pid));

	/* sigsuspend goes on until a signal with a handler comes. */
	printf("sigsuspend across a stop:\n");
	int ready[2];
	pipe(ready);
	pid = fork();
	if (pid == 0) {
		/* SIGUSR1 waits blocked until sigsuspend, however late that is. */
		struct sigaction sa = { .sa_handler = on_usr1 };
		sigaction(SIGUSR1, &sa, NULL);
		sigset_t usr, empty;
		sigemptyset(&usr);
		sigaddset(&usr, SIGUSR1);
		sigprocmask(SIG_BLOCK, &usr, NULL);
		sigemptyset(&empty);
		write(ready[1], "r", 1);
		int r = sigsuspend(&empty);
		printf("  sigsuspend = %d %s, handler ran %d time(s)\n", r, errno == EINTR ? "EINTR" : "other", (int)usr1);
		_exit(0);
	}
	await_ready(ready);
	stop_and_continue(pid, 100, 200);
	pause_ms(100);
	kill(pid, SIGUSR1);
	printf("  end: %d\n", finish(pid));

	/* A stop already pending when sigsuspend unblocks it: the process
	 * stops, and sigsuspend goes on waiting after SIGCONT, then returns
	 * to the caller's own mask. */
	printf("sigsuspend with a stop pending:\n");
	pipe(ready);
	pid = fork();
	if (pid == 0) {
		/* A group of its own with its parent in another group of the
		 * session: not orphaned, so SIGTSTP stops it (Linux drops it in
		 * an orphaned group, which a test harness's may be). */
		setpgid(0, 0);
		struct sigaction sa = { .sa_handler = on_usr1 };
		sigaction(SIGUSR1, &sa, NULL);
		sigset_t all, empty, now;
		sigfillset(&all);
		sigemptyset(&empty);
		sigprocmask(SIG_BLOCK, &all, NULL);
		write(ready[1], "r", 1);
		pause_ms(200);
		int r = sigsuspend(&empty);
		sigprocmask(SIG_BLOCK, NULL, &now);
		printf("  sigsuspend = %d %s, handler ran %d time(s), mask back: %s\n", r,
		       errno == EINTR ? "EINTR" : "other", (int)usr1,
		       sigismember(&now, SIGTSTP) && sigismember(&now, SIGUSR1) ? "yes" : "no");
		_exit(0);
	}
	setpgid(pid, pid);
	await_ready(ready);
	kill(pid, SIGTSTP);
	int stopped = waitpid(pid, &status, WUNTRACED) == pid && WIFSTOPPED(status) && WSTOPSIG(status) == SIGTSTP;
	kill(pid, SIGCONT);
	int continued = waitpid(pid, &status, WCONTINUED) == pid && WIFCONTINUED(status);
	printf("  stopped seen: %s, continued seen: %s\n", stopped ? "yes" : "no", continued ? "yes" : "no");
	pause_ms(100);
	kill(pid, SIGUSR1);
	printf("  end: %d\n", finish(pid));

	/* A process group that its last parent in the session leaves, with a
	 * stopped member, is orphaned: each member gets SIGHUP, then SIGCONT
	 * (POSIX), so a stopped job does not stay stopped forever. */
	printf("orphaned stopped group:\n");
	int hup[2];
	pipe(hup);
	pid = fork();
	if (pid == 0) {
		setsid();
		pid_t c = fork();
		if (c == 0) {
			setpgid(0, 0);
			close(hup[0]);
			struct sigaction sa = { .sa_handler = on_usr1 };
			sigaction(SIGHUP, &sa, NULL);
			pid_t me = getpid();
			write(hup[1], &me, sizeof me);
			raise(SIGSTOP);
			write(hup[1], usr1 ? "H" : "-", 1);
			_exit(0);
		}
		int st;
		int stopped = waitpid(c, &st, WUNTRACED) == c && WIFSTOPPED(st);
		printf("  member stopped: %s\n", stopped ? "yes" : "no");
		_exit(0);
	}
	close(hup[1]);
	finish(pid);
	pid_t member = 0;
	read(hup[0], &member, sizeof member);
	/* Without the SIGCONT it would never write: wait 3 s at most. */
	struct pollfd pfd = { .fd = hup[0], .events = POLLIN };
	char got = 0;
	int n = poll(&pfd, 1, 3000) == 1 ? read(hup[0], &got, 1) : 0;
	if (n != 1 && member > 0)
		kill(member, SIGKILL);
	printf("  the member went on after its group was orphaned: %s, with SIGHUP handled: %s\n",
	       n == 1 ? "yes" : "no", got == 'H' ? "yes" : "no");
	close(hup[0]);

	/* Only an exit that breaks a group's last link to its session sends
	 * SIGHUP: a stopped child in its parent's own group is left alone
	 * when a sibling exits, and so is a stopped new session's leader
	 * when its parent (in another session) exits. */
	printf("exits that orphan nothing:\n");
	pid = fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_usr1 };
		sigaction(SIGHUP, &sa, NULL);
		raise(SIGSTOP);
		printf("  sibling: SIGHUP %s\n", usr1 ? "came" : "did not come");
		_exit(0);
	}
	waitpid(pid, &status, WUNTRACED);
	pid_t sibling = fork();
	if (sibling == 0)
		_exit(0);
	waitpid(sibling, &status, 0);
	pause_ms(100);
	kill(pid, SIGCONT);
	finish(pid);
	pipe(hup);
	pid = fork();
	if (pid == 0) {
		pid_t c = fork();
		if (c == 0) {
			setsid();
			close(hup[0]);
			pid_t me = getpid();
			write(hup[1], &me, sizeof me);
			raise(SIGSTOP);
			write(hup[1], "x", 1);
			_exit(0);
		}
		int st2;
		waitpid(c, &st2, WUNTRACED);
		_exit(0);
	}
	close(hup[1]);
	finish(pid);
	member = 0;
	read(hup[0], &member, sizeof member);
	pfd.fd = hup[0];
	printf("  new session's leader stayed stopped: %s\n", poll(&pfd, 1, 500) == 0 ? "yes" : "no");
	if (member > 0)
		kill(member, SIGKILL);
	close(hup[0]);

	/* In an orphaned group (here a new session's leader), SIGTSTP at its
	 * default is dropped: nobody could continue the process. */
	printf("SIGTSTP in an orphaned group:\n");
	pid = fork();
	if (pid == 0) {
		setsid();
		raise(SIGTSTP);
		printf("  went on\n");
		_exit(0);
	}
	int st;
	pid_t r = waitpid(pid, &st, WUNTRACED);
	printf("  %s\n", r == pid && WIFEXITED(st) ? "exited, never stopped" : "stopped");
	if (r == pid && WIFSTOPPED(st))
		kill(pid, SIGKILL), finish(pid);

	/* sigtimedwait runs to its timeout (signal(7) lists it among calls
	 * that fail with EINTR after a stop; Linux 6 no longer does). */
	printf("sigtimedwait across a stop:\n");
	pid = fork();
	if (pid == 0) {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGUSR2);
		sigprocmask(SIG_BLOCK, &set, NULL);
		struct timespec to = { 1, 0 };
		int r = sigtimedwait(&set, NULL, &to);
		printf("  sigtimedwait = %d %s\n", r, r < 0 ? strerror(errno) : "");
		_exit(0);
	}
	stop_and_continue(pid, 100, 200);
	printf("  end: %d\n", finish(pid));
	return 0;
}
