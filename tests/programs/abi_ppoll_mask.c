/* The signal masks of ppoll and pselect6, and SIGPIPE's thread: a signal
 * the process blocks but the call's mask lets through ends the wait with
 * EINTR and runs its handler (with the call's mask in force), and the
 * process's own mask is back afterwards; a signal the call's mask blocks
 * stays pending and the call times out; a call with something ready
 * answers at once and leaves a pending signal alone; a null mask is poll;
 * SIGPIPE from a write in a second thread runs its handler in that
 * thread. Signals come from raise() before the call or from a child
 * after a pipe handshake, so nothing depends on timing. Differential. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"

static volatile sig_atomic_t hits;
/* Whether SIGUSR1 and SIGUSR2 were blocked while the handler ran. */
static volatile sig_atomic_t in_handler_usr1, in_handler_usr2;

static void on_sig(int s)
{
	sigset_t now;
	(void)s;
	hits++;
	sigprocmask(SIG_SETMASK, NULL, &now);
	in_handler_usr1 = sigismember(&now, SIGUSR1);
	in_handler_usr2 = sigismember(&now, SIGUSR2);
}

static sigset_t only(int sig)
{
	sigset_t s;
	sigemptyset(&s);
	if (sig)
		sigaddset(&s, sig);
	return s;
}

static void show_mask(const char *when)
{
	sigset_t now;
	sigprocmask(SIG_SETMASK, NULL, &now);
	printf("%s: USR1 blocked %d, USR2 blocked %d\n", when, sigismember(&now, SIGUSR1), sigismember(&now, SIGUSR2));
}

static void show_pending(const char *when)
{
	sigset_t p;
	sigpending(&p);
	printf("%s: USR1 pending %d, USR2 pending %d\n", when, sigismember(&p, SIGUSR1), sigismember(&p, SIGUSR2));
}

/* A child that sends `sig` to this process once it reads a byte from
 * the returned descriptor; the parent writes it just before it waits. */
static int sender(int sig, pid_t *child)
{
	int go[2];
	pid_t parent = getpid();
	pipe(go);
	*child = fork();
	if (*child == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) == 1)
			kill(parent, sig);
		_exit(0);
	}
	close(go[0]);
	return go[1];
}

/* The signal is already pending when the call starts. */
static void ppoll_pending_before(int idle)
{
	struct pollfd pfd = { idle, POLLIN, 0 };
	sigset_t inside = only(SIGUSR2);
	hits = 0;
	raise(SIGUSR1);
	T(ppoll(&pfd, 1, NULL, &inside));
	printf("handler ran %d, in handler USR1 %d USR2 %d\n", (int)hits, (int)in_handler_usr1, (int)in_handler_usr2);
	show_mask("after ppoll");
}

/* The signal comes from another process, before or during the wait. */
static void ppoll_from_child(int idle)
{
	struct pollfd pfd = { idle, POLLIN, 0 };
	sigset_t inside = only(0);
	pid_t c;
	int go = sender(SIGUSR1, &c);
	hits = 0;
	write(go, "x", 1);
	T(ppoll(&pfd, 1, NULL, &inside));
	printf("handler ran %d, revents %d\n", (int)hits, pfd.revents);
	show_mask("after ppoll");
	close(go);
	waitpid(c, NULL, 0);
}

static void pselect_cases(int idle)
{
	sigset_t inside = only(SIGUSR2);
	fd_set r;
	pid_t c;
	int go;

	hits = 0;
	raise(SIGUSR1);
	FD_ZERO(&r);
	FD_SET(idle, &r);
	T(pselect(idle + 1, &r, NULL, NULL, NULL, &inside));
	printf("handler ran %d, in handler USR1 %d USR2 %d\n", (int)hits, (int)in_handler_usr1, (int)in_handler_usr2);
	show_mask("after pselect");

	go = sender(SIGUSR1, &c);
	hits = 0;
	FD_ZERO(&r);
	FD_SET(idle, &r);
	write(go, "x", 1);
	T(pselect(idle + 1, &r, NULL, NULL, NULL, &inside));
	printf("handler ran %d\n", (int)hits);
	show_mask("after pselect");
	close(go);
	waitpid(c, NULL, 0);
}

/* SIGUSR2 is blocked by the process and by the call: it stays pending,
 * the call times out (or answers what is ready) and the mask is back. */
static void blocked_in_call(int idle, int ready)
{
	struct pollfd pfd = { idle, POLLIN, 0 };
	struct timespec ts = { 0, 20000000 };
	sigset_t inside = only(SIGUSR2), set;
	fd_set r;

	sigprocmask(SIG_BLOCK, &inside, NULL);
	hits = 0;
	raise(SIGUSR2);
	T(ppoll(&pfd, 1, &ts, &inside));
	FD_ZERO(&r);
	FD_SET(idle, &r);
	T(pselect(idle + 1, &r, NULL, NULL, &(struct timespec){ 0, 20000000 }, &inside));
	printf("handler ran %d\n", (int)hits);
	show_pending("after timeouts");
	show_mask("after timeouts");

	/* Something ready: the answer comes at once, even with SIGUSR1
	 * pending and let through by the call's mask; it stays pending. */
	pfd.fd = ready;
	raise(SIGUSR1);
	set = only(0);
	T(ppoll(&pfd, 1, NULL, &set));
	FD_ZERO(&r);
	FD_SET(ready, &r);
	T(pselect(ready + 1, &r, NULL, NULL, NULL, &set));
	printf("handler ran %d\n", (int)hits);
	show_pending("after ready calls");

	/* Both go when unblocked. */
	set = only(SIGUSR2);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	printf("handler ran %d\n", (int)hits);
	show_pending("after unblocking");
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigprocmask(SIG_UNBLOCK, &inside, NULL);
}

static void null_mask(int idle, int ready)
{
	struct pollfd pfd = { idle, POLLIN, 0 };
	struct timespec ts = { 0, 10000000 };
	T(ppoll(&pfd, 1, &ts, NULL));
	pfd.fd = ready;
	T(ppoll(&pfd, 1, &ts, NULL));
	printf("revents %d\n", pfd.revents);
	show_mask("after null-mask ppoll");
}

static pthread_t pipe_handler_thread;
static volatile sig_atomic_t pipe_hits;

static void on_pipe(int s)
{
	(void)s;
	pipe_hits++;
	pipe_handler_thread = pthread_self();
}

static void *writer(void *arg)
{
	int fd = *(int *)arg;
	long r = write(fd, "x", 1);
	int e = errno;
	printf("writer: write = %ld %s, handler ran %d, in this thread %d\n", r, r < 0 ? ename(e) : "", (int)pipe_hits,
	       pipe_hits && pthread_equal(pipe_handler_thread, pthread_self()));
	return NULL;
}

static void sigpipe_thread(void)
{
	int p[2];
	pthread_t t;
	signal(SIGPIPE, on_pipe);
	pipe(p);
	close(p[0]);
	pthread_create(&t, NULL, writer, &p[1]);
	pthread_join(t, NULL);
	printf("main: handler ran in main %d\n", pipe_hits && pthread_equal(pipe_handler_thread, pthread_self()));
	close(p[1]);
}

int main(void)
{
	struct sigaction sa;
	int idle[2], ready[2];
	sigset_t usr1 = only(SIGUSR1);

	setvbuf(stdout, NULL, _IONBF, 0);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sig;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	pipe(idle);
	pipe(ready);
	write(ready[1], "r", 1);

	sigprocmask(SIG_BLOCK, &usr1, NULL);
	show_mask("start");
	ppoll_pending_before(idle[0]);
	ppoll_from_child(idle[0]);
	pselect_cases(idle[0]);
	blocked_in_call(idle[0], ready[0]);
	null_mask(idle[0], ready[0]);
	sigpipe_thread();
	return 0;
}
