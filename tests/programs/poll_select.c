/* select and pselect: the three sets filled in on return (a pipe's ends,
 * hang-up and error count as readable and writable, nothing is ever
 * exceptional), EBADF for a descriptor that is not open, EINVAL for a
 * negative count or time; timeouts of 0 and 50 ms; the timeval written
 * back with the time left (through the raw syscall: C libraries pass a
 * copy); select with no descriptors as a sleep; a wait with no timeout
 * ended by a child's write; pselect with a signal mask. Only relations
 * between times are printed. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void nap_ms(int ms)
{
	struct timespec t = { 0, ms * 1000000L };
	nanosleep(&t, NULL);
}

static const char *ename(int e)
{
	return e == EINVAL ? "EINVAL" : e == EBADF ? "EBADF" : e == EFAULT ? "EFAULT" : e ? "E?" : "-";
}

static void bits(const char *name, fd_set *s, int n)
{
	printf(" %s{", name);
	for (int fd = 0; fd < n; fd++)
		if (FD_ISSET(fd, s))
			printf(" %d", fd);
	printf(" }");
}

/* select on `fds` for reading, writing and exceptions, no waiting. */
static void show(const char *what, int *fds, int count)
{
	fd_set r, w, e;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_ZERO(&e);
	int n = 0;
	for (int i = 0; i < count; i++) {
		FD_SET(fds[i], &r);
		FD_SET(fds[i], &w);
		FD_SET(fds[i], &e);
		if (fds[i] >= n)
			n = fds[i] + 1;
	}
	struct timeval tv = { 0, 0 };
	errno = 0;
	int ret = select(n, &r, &w, &e, &tv);
	printf("%-24s select=%d %s", what, ret, ename(errno));
	bits("r", &r, n);
	bits("w", &w, n);
	bits("e", &e, n);
	printf("\n");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int p[2];
	pipe(p);
	show("empty pipe", p, 2);
	write(p[1], "x", 1);
	show("pipe with data", p, 2);
	int d = open("/dev/null", O_RDONLY);
	int both[] = { p[0], d };
	show("pipe and /dev/null", both, 2);
	close(d);
	int out[] = { 1 };
	fd_set w;
	FD_ZERO(&w);
	FD_SET(1, &w);
	struct timeval zero = { 0, 0 };
	printf("stdout writable: %d\n", select(2, NULL, &w, NULL, &zero));
	(void)out;

	/* Errors. */
	fd_set r;
	FD_ZERO(&r);
	FD_SET(40, &r);
	errno = 0;
	int ret = select(41, &r, NULL, NULL, &zero);
	printf("not open: %d %s, set kept=%d\n", ret, ename(errno), FD_ISSET(40, &r));
	errno = 0;
	ret = syscall(SYS_select, -1, NULL, NULL, NULL, &zero);
	printf("negative count: %d %s\n", ret, ename(errno));
	struct timeval neg = { 0, -1 };
	errno = 0;
	ret = syscall(SYS_select, 1, NULL, NULL, NULL, &neg);
	printf("negative usec: %d %s\n", ret, ename(errno));
	errno = 0;
	ret = syscall(SYS_select, 4, (fd_set *)8, NULL, NULL, &zero);
	printf("bad set: %d %s\n", ret, ename(errno));
	/* Microseconds past a second carry over. */
	struct timeval carry = { 0, 1000000 };
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	ret = syscall(SYS_select, p[0] + 1, &r, NULL, NULL, &carry);
	printf("usec 1000000: %d, left %ld s\n", ret, (long)carry.tv_sec);

	/* Hang-up and error. */
	close(p[1]);
	show("writer gone", p, 1);
	read(p[0], &ret, 1);
	show("writer gone, empty", p, 1);
	close(p[0]);
	pipe(p);
	close(p[0]);
	show("reader gone", p + 1, 1);
	close(p[1]);

	/* Timeouts, and the time left written back. */
	pipe(p);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	struct timeval tv = { 0, 50000 };
	long long t0 = now_ns();
	ret = syscall(SYS_select, p[0] + 1, &r, NULL, NULL, &tv);
	long long dt = now_ns() - t0;
	printf("select 50 ms: %d waited_enough=%d left=%ld.%06ld set=%d\n", ret, dt >= 50000000LL, (long)tv.tv_sec, (long)tv.tv_usec, FD_ISSET(p[0], &r));
	write(p[1], "y", 1);
	FD_SET(p[0], &r);
	tv.tv_sec = 5;
	tv.tv_usec = 0;
	ret = syscall(SYS_select, p[0] + 1, &r, NULL, NULL, &tv);
	printf("ready at once: %d left_most=%d\n", ret, tv.tv_sec >= 4 && tv.tv_sec <= 5);
	read(p[0], &ret, 1);
	struct timeval nap = { 0, 30000 };
	t0 = now_ns();
	ret = select(0, NULL, NULL, NULL, &nap);
	dt = now_ns() - t0;
	printf("select as a sleep: %d waited_enough=%d\n", ret, dt >= 30000000LL);
	struct timespec ts = { 0, 50000000 };
	sigset_t none;
	sigemptyset(&none);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	t0 = now_ns();
	ret = pselect(p[0] + 1, &r, NULL, NULL, &ts, &none);
	dt = now_ns() - t0;
	printf("pselect 50 ms: %d waited_enough=%d\n", ret, dt >= 50000000LL);
	struct timespec bad = { -1, 0 };
	errno = 0;
	ret = pselect(p[0] + 1, &r, NULL, NULL, &bad, NULL);
	printf("pselect, negative time: %d %s\n", ret, ename(errno));

	/* No timeout: a child's write 30 ms later ends the wait. */
	pid_t c = fork();
	if (c == 0) {
		nap_ms(30);
		write(p[1], "z", 1);
		_exit(0);
	}
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	t0 = now_ns();
	ret = select(p[0] + 1, &r, NULL, NULL, NULL);
	dt = now_ns() - t0;
	printf("woken by a write: %d set=%d waited=%d\n", ret, FD_ISSET(p[0], &r), dt >= 20000000LL);
	waitpid(c, NULL, 0);
	return 0;
}
