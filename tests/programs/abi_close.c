/* close: twice (EBADF), -1 and out-of-range descriptors (EBADF), a
 * closed descriptor number reused by the next open, closing one copy of
 * a dup leaving the other working, closing a pipe's read end (the writer
 * then gets EPIPE, SIGPIPE ignored) or its write end (the reader gets end
 * of file), and a child's close not touching the parent's descriptor.
 * Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abi.h"

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	char buf[8];
	int fd, fd2, p[2], status;

	for (int i = 3; i < 64; i++)
		close(i);
	signal(SIGPIPE, SIG_IGN);

	/* Twice, and descriptors that never were. */
	T(fd = open("/dev/null", O_RDONLY));
	T(close(fd));
	T(close(fd));
	T(close(-1));
	T(close(1 << 20));
	T(close(1023));
	T(read(fd, buf, 1));

	/* Numbers are reused, lowest first. */
	T(fd = open("/dev/zero", O_RDONLY));
	T(fd2 = open("/dev/null", O_RDONLY));
	T(close(fd));
	T(open("/dev/zero", O_RDONLY));
	T(close(fd));
	T(close(fd2));

	/* A dup outlives the original. */
	T(fd = open("/dev/zero", O_RDONLY));
	T(fd2 = dup(fd));
	T(close(fd));
	T(read(fd2, buf, 4));
	T(read(fd, buf, 4));
	T(close(fd2));

	/* A pipe: closing the read end, then the write end. */
	T(pipe(p));
	T(close(p[0]));
	T(write(p[1], "x", 1));
	T(close(p[1]));
	T(pipe(p));
	T(write(p[1], "abc", 3));
	T(close(p[1]));
	T(read(p[0], buf, sizeof buf));
	T(read(p[0], buf, sizeof buf));
	T(close(p[0]));

	/* A child's close is its own. */
	T(pipe(p));
	pid_t c = fork();
	if (c == 0) {
		T(close(p[0]));
		T(close(p[1]));
		T(close(p[1]));
		_exit(0);
	}
	T(waitpid(c, &status, 0) == c);
	T(write(p[1], "ok", 2));
	T(read(p[0], buf, sizeof buf));
	T(close(p[1]));
	T(close(p[0]));

	/* Closing stdin: the next open takes 0. */
	T(close(0));
	T(fcntl(0, F_GETFD));
	T(open("/dev/null", O_RDONLY));
	T(close(0));
	return 0;
}
