/* /dev/null, /dev/zero and /dev/full: reads (0 bytes from null, zeros of
 * any size from zero and full, whatever was in the buffer), writes (all
 * accepted by null and zero; ENOSPC from full, even of 0 bytes), seeks
 * (always 0), their stat (character devices 1:3, 1:5 and 1:7, mode 0666),
 * pread, pwrite and readv, O_TRUNC and O_APPEND accepted, fstat of a
 * descriptor matching stat of the name, isatty false with ENOTTY, and
 * poll always ready. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "abi.h"

static char buf[70000];

static int all_zero(long n)
{
	for (long i = 0; i < n; i++)
		if (buf[i])
			return 0;
	return 1;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	const char *devs[] = { "/dev/null", "/dev/zero", "/dev/full" };
	for (int i = 0; i < 3; i++) {
		struct stat st, fst;
		int fd;
		printf("%s:\n", devs[i]);
		if (stat(devs[i], &st) == 0)
			printf("  chr %d, %u:%u, mode %04o\n", S_ISCHR(st.st_mode), major(st.st_rdev), minor(st.st_rdev),
			       (unsigned)st.st_mode & 07777);
		T(fd = open(devs[i], O_RDWR | O_TRUNC | O_APPEND));
		if (fd < 0)
			continue;
		T(fstat(fd, &fst));
		printf("  same device %d\n", fst.st_rdev == st.st_rdev);
		memset(buf, 'x', sizeof buf);
		long n = read(fd, buf, sizeof buf);
		printf("  read %ld, zeros %d\n", n, all_zero(n));
		T(read(fd, buf, 0));
		T(pread(fd, buf, 10, 1000));
		struct iovec iov[2] = { { buf, 3 }, { buf + 3, 5 } };
		memset(buf, 'x', 8);
		n = readv(fd, iov, 2);
		printf("  readv %ld, zeros %d\n", n, all_zero(n));
		T(write(fd, buf, sizeof buf));
		T(write(fd, buf, 0));
		T(pwrite(fd, "x", 1, 5));
		T(writev(fd, iov, 2));
		T(lseek(fd, 12345, SEEK_SET));
		T(lseek(fd, 0, SEEK_CUR));
		T(lseek(fd, -5, SEEK_END));
		errno = 0;
		int tty = isatty(fd);
		printf("  isatty %d %s\n", tty, ename(errno));
		struct pollfd p = { fd, POLLIN | POLLOUT, 0 };
		T(poll(&p, 1, 0));
		printf("  revents %#x\n", p.revents);
		T(close(fd));
	}
	return 0;
}
