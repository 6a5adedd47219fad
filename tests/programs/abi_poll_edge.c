/* poll and select edge cases, all with a zero timeout: no descriptors at
 * all (0), negative descriptors skipped with revents 0, a closed
 * descriptor (POLLNVAL, counted), events 0 still reporting POLLHUP and
 * POLLERR, the same descriptor twice, revents cleared from a previous
 * call, a bad array (EFAULT); select with nfds 0, a negative nfds
 * (EINVAL), a closed descriptor in a set (EBADF), bits past nfds
 * ignored, a regular file and /dev/null always ready, and sets rewritten
 * to hold only what is ready. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include "abi.h"

static void show(struct pollfd *f, int n)
{
	for (int i = 0; i < n; i++)
		printf("  [%d] revents %#x\n", i, f[i].revents);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int p[2], q[2], null;
	struct timeval tv = { 0, 0 };
	fd_set r, w;

	for (int fd = 3; fd < 64; fd++)
		close(fd);
	T(pipe(p));
	T(pipe(q));
	T(null = open("/dev/null", O_RDWR));
	T(write(p[1], "x", 1));
	T(close(q[0]));

	/* poll. */
	T(poll(NULL, 0, 0));
	struct pollfd f[6] = {
		{ .fd = p[0], .events = POLLIN },
		{ .fd = -1, .events = POLLIN, .revents = 0x7 },
		{ .fd = 40, .events = POLLIN },
		{ .fd = q[1], .events = 0 },
		{ .fd = p[0], .events = POLLOUT },
		{ .fd = null, .events = POLLIN | POLLOUT },
	};
	T(poll(f, 6, 0));
	show(f, 6);
	T(read(p[0], (char[1]){ 0 }, 1));
	T(poll(f, 1, 0));
	show(f, 1);
	T(poll((struct pollfd *)8, 1, 0));
	T(poll(f, 0, 0));
	T(write(p[1], "z", 1));
	T(poll(f, 1, -5));
	T(read(p[0], (char[1]){ 0 }, 1));

	/* select. */
	T(select(0, NULL, NULL, NULL, &tv));
	T(select(-1, NULL, NULL, NULL, &tv));
	FD_ZERO(&r);
	FD_SET(40, &r);
	T(select(41, &r, NULL, NULL, &tv));
	T(select(40, &r, NULL, NULL, &tv));
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(p[0], &r);
	FD_SET(p[1], &w);
	FD_SET(null, &r);
	FD_SET(q[1], &w);
	T(select(64, &r, &w, NULL, &tv));
	printf("  read set: pipe %d null %d; write set: pipe %d no-reader pipe %d\n", FD_ISSET(p[0], &r), FD_ISSET(null, &r),
	       FD_ISSET(p[1], &w), FD_ISSET(q[1], &w));
	T(write(p[1], "y", 1));
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	T(select(p[0], &r, NULL, NULL, &tv));
	printf("  cleared: %d\n", FD_ISSET(p[0], &r));
	FD_SET(p[0], &r);
	T(select(p[0] + 1, &r, NULL, NULL, &tv));
	printf("  set: %d\n", FD_ISSET(p[0], &r));
	struct timeval bad = { 0, -1 };
	T(select(1, NULL, NULL, NULL, &bad));
	T(select(1, (fd_set *)8, NULL, NULL, &tv));

	T(close(null));
	T(close(q[1]));
	T(close(p[0]));
	T(close(p[1]));
	return 0;
}
