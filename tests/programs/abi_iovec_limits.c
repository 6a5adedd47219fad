/* Lengths at the limits for read, write, readv and writev: a count far
 * larger than the buffer is fine when the data fits (Linux caps a count
 * at MAX_RW_COUNT and checks only that the range is user memory), a
 * range that runs past user memory is EFAULT, an iovec length that is
 * negative as an ssize_t is EINVAL, and iovec lengths whose sum would
 * overflow are EFAULT (each range is checked first), not EINVAL. Works in
 * a fresh /tmp/lstar-abi-iovec-limits. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-iovec-limits"

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

/* Removes the test's directory, with whatever a failed run left in it. */
static void rm_tree(void)
{
	chdir("/tmp");
	nftw(DIR_NAME, rm_one, 64, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	static char a[64], b[64];
	int fd, p[2];

	rm_tree();
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	T(fd = open("f", O_CREAT | O_RDWR, 0644));
	T(write(fd, "0123456789", 10));

	/* Huge counts with little to read. */
	T(pread(fd, a, 1L << 40, 0));
	T(pread(fd, a, (size_t)LONG_MAX, 0));
	T(pread(fd, a, (size_t)-1, 0));
	T(lseek(fd, 0, SEEK_SET));
	T(read(fd, a, 1L << 40));
	struct iovec big[2] = { { a, 4 }, { b, 1L << 40 } };
	T(lseek(fd, 0, SEEK_SET));
	T(readv(fd, big, 2));
	printf("%.4s|%.6s\n", a, b);

	/* Ranges that leave user memory, and negative lengths. */
	T(lseek(fd, 0, SEEK_SET));
	struct iovec two[2] = { { a, 1L << 62 }, { b, 1L << 62 } };
	T(readv(fd, two, 2));
	struct iovec sum[2] = { { a, (size_t)LONG_MAX }, { b, (size_t)LONG_MAX } };
	T(readv(fd, sum, 2));
	T(writev(fd, sum, 2));
	struct iovec neg[2] = { { a, 1 }, { b, (size_t)-1 } };
	T(readv(fd, neg, 2));
	T(writev(fd, neg, 2));
	T(lseek(fd, 0, SEEK_CUR));

	/* A pipe: a huge count takes what is there. */
	T(pipe(p));
	T(write(p[1], "pipe", 4));
	T(read(p[0], a, 1L << 40));
	T(write(p[1], "more", 4));
	T(readv(p[0], big, 2));
	T(close(p[0]));
	T(close(p[1]));

	T(close(fd));
	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
