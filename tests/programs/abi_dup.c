/* dup, dup2 and dup3: the lowest free descriptor, one open file
 * description (offset and status flags) behind every copy, dup2 onto
 * itself (a no-op that still checks the descriptor), dup2 closing its
 * target (a pipe's last write end: the reader sees end of file), dup3's
 * EINVAL (the raw call) for the same descriptor and for bad flags, O_CLOEXEC only on the
 * new descriptor, and EBADF for closed or out-of-range descriptors.
 * Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "abi.h"

/* The call itself: musl's dup3 checks some arguments and falls back to
 * dup2 when there is no O_CLOEXEC. */
#define sys_dup3(a, b, c) syscall(SYS_dup3, a, b, c)

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	char buf[8];
	int p[2], q[2];

	/* Start from 0-2 alone: the host run may inherit others. */
	for (int fd = 3; fd < 64; fd++)
		close(fd);
	struct rlimit lim = { 1024, 1024 };
	T(setrlimit(RLIMIT_NOFILE, &lim));

	/* The lowest free descriptor. */
	T(pipe(p));
	T(dup(p[1]));
	T(dup(p[1]));
	T(close(5));
	T(dup(p[0]));
	T(dup(p[0]));

	/* dup2 onto itself: a no-op, but only for an open descriptor. */
	T(dup2(p[0], p[0]));
	T(fcntl(p[0], F_GETFD));
	T(dup2(40, 40));
	T(dup2(-1, -1));

	/* Closing the last write end through dup2: the reader sees EOF. */
	T(pipe(q));
	T(write(q[1], "hi", 2));
	T(dup2(p[0], q[1]));
	T(read(q[0], buf, sizeof buf));
	T(read(q[0], buf, sizeof buf));
	T(close(q[0]));
	T(close(q[1]));
	T(close(5));
	T(close(6));
	T(close(7));

	/* One description: status flags seen from every copy. */
	T(dup2(p[1], 20));
	T(fcntl(20, F_SETFL, O_NONBLOCK));
	T(fcntl(p[1], F_GETFL) & O_NONBLOCK);
	T(sys_dup3(p[0], 21, 0));
	T(fcntl(p[0], F_SETFL, O_NONBLOCK));
	T(read(21, buf, 1));
	T(write(20, "x", 1));
	T(read(p[0], buf, 1));

	/* dup3: flags only for the new descriptor. */
	T(sys_dup3(p[0], p[0], 0));
	T(sys_dup3(p[0], p[0], O_CLOEXEC));
	T(sys_dup3(p[0], 22, O_NONBLOCK));
	T(sys_dup3(p[0], 22, ~O_CLOEXEC));
	T(sys_dup3(p[0], 22, O_CLOEXEC));
	T(fcntl(22, F_GETFD));
	T(fcntl(p[0], F_GETFD));
	T(dup2(p[1], 22));
	T(fcntl(22, F_GETFD));
	T(dup(22));
	T(fcntl(4, F_GETFD));

	/* Descriptors that are not open, or could not be. */
	T(dup(-1));
	T(dup(99));
	T(dup(100000));
	T(dup2(99, 30));
	T(fcntl(30, F_GETFD));
	T(dup2(p[0], -1));
	T(dup2(p[0], 1024));
	T(dup2(p[0], 1023));
	T(sys_dup3(99, 30, 0));
	T(sys_dup3(p[0], -2, 0));
	T(sys_dup3(p[0], 100000, 0));

	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	T(dup(0));
	return 0;
}
