/* readv and writev: gathering and scattering across entries (empty ones
 * too), iovcnt 0 (0), negative or above IOV_MAX (EINVAL; 1024 entries are
 * fine), an iov array at a bad address (EFAULT), an entry with a bad base
 * (EFAULT, or 0 bytes when its length is 0), a length negative as an
 * ssize_t (EINVAL), a short readv at end of file, and readv/writev on a pipe.
 * Works in a fresh /tmp/lstar-abi-iovec. Differential test. */
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

#define DIR_NAME "/tmp/lstar-abi-iovec"

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

static struct iovec many[1025];

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	char a[4], b[8], c[16];
	int fd, p[2];

	rm_tree();
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	T(fd = open("f", O_CREAT | O_RDWR, 0644));

	/* Gather three pieces, one of them empty. */
	struct iovec out[3] = { { "one,", 4 }, { (void *)8, 0 }, { "two,three", 9 } };
	T(writev(fd, out, 3));
	T(writev(fd, out, 0));
	T(lseek(fd, 0, SEEK_CUR));

	/* Scatter: each entry filled in turn, short at the end of the file. */
	struct iovec in[3] = { { a, sizeof a }, { b, sizeof b }, { c, sizeof c } };
	T(lseek(fd, 0, SEEK_SET));
	memset(c, 0, sizeof c);
	T(readv(fd, in, 3));
	printf("a=%.4s b=%.8s c=%s\n", a, b, c);
	T(readv(fd, in, 3));
	T(readv(fd, in, 0));

	/* Counts: 0, negative, IOV_MAX and one more. */
	for (int i = 0; i < 1025; i++)
		many[i] = (struct iovec){ "x", 1 };
	T(ftruncate(fd, 0));
	T(lseek(fd, 0, SEEK_SET));
	T(writev(fd, many, -1));
	T(writev(fd, many, IOV_MAX + 1));
	T(writev(fd, many, IOV_MAX));
	T(readv(fd, many, IOV_MAX + 1));
	T(lseek(fd, 0, SEEK_END));

	/* Bad addresses. */
	T(writev(fd, (struct iovec *)8, 1));
	T(readv(fd, (struct iovec *)8, 1));
	T(writev(fd, (struct iovec *)8, 0));
	struct iovec bad[2] = { { (void *)8, 4 }, { "ok", 2 } };
	T(writev(fd, bad, 2));
	T(lseek(fd, 0, SEEK_SET));
	T(readv(fd, bad, 1));

	/* A negative length (abi_iovec_limits has more). */
	struct iovec neg[1] = { { a, (size_t)-1 } };
	T(writev(fd, neg, 1));

	/* A pipe: the pieces come out in order. */
	T(pipe(p));
	struct iovec pieces[3] = { { "ab", 2 }, { "", 0 }, { "cdefg", 5 } };
	T(writev(p[1], pieces, 3));
	struct iovec back[2] = { { a, 3 }, { b, 8 } };
	T(readv(p[0], back, 2));
	printf("pipe: %.3s|%.4s\n", a, b);
	T(readv(p[0], back, 0));
	T(writev(-1, pieces, 1));

	T(close(p[0]));
	T(close(p[1]));
	T(close(fd));
	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
