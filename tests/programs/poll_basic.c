/* poll and ppoll: a pipe's ends (empty, holding data, full, without a
 * writer: POLLHUP, without a reader: POLLERR), a regular file and
 * /dev/null, zero and urandom (always ready), stdout (writable), a
 * negative descriptor (skipped) and a closed one (POLLNVAL); timeouts of
 * 0 and 50 ms; a wait with no timeout ended by a child's write 30 ms
 * later; ppoll's timespec and signal mask (EINVAL for a bad size or
 * time). Only relations between times are printed. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FILE_NAME "/tmp/lstar-poll-test"

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
	return e == EINVAL ? "EINVAL" : e == EFAULT ? "EFAULT" : e == EINTR ? "EINTR" : "E?";
}

/* Polls one descriptor for `events` without waiting. */
static void show(const char *what, int fd, short events)
{
	struct pollfd p = { fd, events, 0x7fff };
	int r = poll(&p, 1, 0);
	printf("%-28s poll=%d revents=%#x\n", what, r, p.revents);
}

#define ALL (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM | POLLPRI)

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int p[2];
	pipe(p);
	show("empty read end", p[0], ALL);
	show("empty write end", p[1], ALL);
	write(p[1], "abc", 3);
	show("read end with data", p[0], ALL);
	show("read end, POLLIN only", p[0], POLLIN);
	show("read end, no events", p[0], 0);

	int f = open(FILE_NAME, O_RDWR | O_CREAT | O_TRUNC, 0600);
	show("regular file", f, ALL);
	show("regular file, read-only ask", f, POLLIN);
	const char *devs[] = { "/dev/null", "/dev/zero", "/dev/urandom" };
	for (int i = 0; i < 3; i++) {
		int d = open(devs[i], O_RDWR);
		show(devs[i], d, ALL);
		close(d);
	}
	show("stdout", 1, POLLOUT);
	show("a negative descriptor", -1, ALL);
	show("a closed descriptor", 50, ALL);

	/* Several at once: the count is of descriptors, not of bits. */
	struct pollfd many[4] = { { p[0], ALL, 0 }, { p[1], ALL, 0 }, { f, ALL, 0 }, { 60, POLLIN, 0 } };
	int r = poll(many, 4, 0);
	printf("four at once: %d (%#x %#x %#x %#x)\n", r, many[0].revents, many[1].revents, many[2].revents, many[3].revents);
	close(f);
	unlink(FILE_NAME);

	/* Hang-up and error. */
	close(p[1]);
	show("data, writer gone", p[0], POLLIN);
	char buf[8];
	read(p[0], buf, sizeof buf);
	show("empty, writer gone", p[0], POLLIN);
	close(p[0]);
	pipe(p);
	close(p[0]);
	show("write end, reader gone", p[1], POLLOUT);
	close(p[1]);

	/* A full pipe is not writable until a whole slot is read. */
	pipe2(p, O_NONBLOCK);
	static char page[4096];
	while (write(p[1], page, sizeof page) > 0)
		;
	show("full write end", p[1], POLLOUT);
	read(p[0], page, 100);
	show("full, 100 bytes read", p[1], POLLOUT);
	read(p[0], page, 4096 - 100);
	show("full, a slot read", p[1], POLLOUT);
	close(p[0]);
	close(p[1]);

	/* Timeouts. */
	pipe(p);
	struct pollfd in = { p[0], POLLIN, 0 };
	long long t0 = now_ns();
	r = poll(&in, 1, 50);
	long long dt = now_ns() - t0;
	printf("poll 50 ms: %d waited_enough=%d not_absurd=%d\n", r, dt >= 50000000LL, dt < 5000000000LL);
	struct timespec ts = { 0, 50000000 };
	t0 = now_ns();
	r = ppoll(&in, 1, &ts, NULL);
	dt = now_ns() - t0;
	printf("ppoll 50 ms: %d waited_enough=%d\n", r, dt >= 50000000LL);
	sigset_t none;
	sigemptyset(&none);
	ts.tv_nsec = 0;
	r = ppoll(&in, 1, &ts, &none);
	printf("ppoll 0 with a mask: %d\n", r);
	errno = 0;
	r = syscall(SYS_ppoll, &in, 1, &ts, &none, 4);
	printf("ppoll, mask size 4: %d %s\n", r, ename(errno));
	struct timespec bad = { 0, 1000000000 };
	errno = 0;
	r = ppoll(&in, 1, &bad, NULL);
	printf("ppoll, bad timespec: %d %s\n", r, ename(errno));
	errno = 0;
	r = poll((struct pollfd *)8, 1, 0);
	printf("poll, bad array: %d %s\n", r, ename(errno));

	/* No timeout: a child's write 30 ms later ends the wait. */
	pid_t c = fork();
	if (c == 0) {
		nap_ms(30);
		write(p[1], "x", 1);
		_exit(0);
	}
	struct pollfd two[2] = { { p[0], POLLIN, 0 }, { p[1], POLLIN, 0 } };
	t0 = now_ns();
	r = poll(two, 2, -1);
	dt = now_ns() - t0;
	printf("woken by a write: %d revents=%#x,%#x waited=%d\n", r, two[0].revents, two[1].revents, dt >= 20000000LL);
	waitpid(c, NULL, 0);
	/* And ppoll with no timeout, ended by the writer's exit. */
	read(p[0], buf, 1);
	c = fork();
	if (c == 0) {
		nap_ms(30);
		_exit(0);
	}
	close(p[1]);
	r = ppoll(&in, 1, NULL, NULL);
	printf("woken by the last writer's exit: %d revents=%#x\n", r, in.revents);
	waitpid(c, NULL, 0);
	return 0;
}
