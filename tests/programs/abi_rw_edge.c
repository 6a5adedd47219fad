/* read and write at the edges: a count of 0 (still checked for the fd's
 * mode and for a directory, never for the buffer), short reads at end of
 * file and 0 after it, reads that see a write through another descriptor,
 * O_APPEND writes going to the end whatever the offset, O_RDONLY and
 * O_WRONLY refusing the other direction (EBADF), EISDIR on a directory,
 * and EFAULT. Works in a fresh /tmp/lstar-abi-rw-edge. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-rw-edge"

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
	char buf[32];
	int fd, ro, wo, ap, dir;

	rm_tree();
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	T(fd = open("f", O_CREAT | O_RDWR, 0644));

	/* Count 0: nothing moves, bad buffers are not looked at. */
	T(write(fd, "", 0));
	T(write(fd, NULL, 0));
	T(write(fd, (void *)8, 0));
	T(read(fd, NULL, 0));
	T(read(fd, (void *)8, 0));
	T(lseek(fd, 0, SEEK_CUR));
	T(write(-1, "", 0));
	T(read(-1, buf, 0));

	/* Short reads at the end of the file, then 0. */
	T(write(fd, "0123456789", 10));
	T(lseek(fd, 3, SEEK_SET));
	T(read(fd, buf, 4));
	T(read(fd, buf, 4));
	printf("tail: %.3s\n", buf);
	T(read(fd, buf, 4));
	T(read(fd, buf, 4));
	T(lseek(fd, 0, SEEK_CUR));

	/* A write through a second description shows up at once. */
	T(wo = open("f", O_WRONLY));
	T(write(wo, "abc", 3));
	T(lseek(fd, 0, SEEK_SET));
	T(read(fd, buf, sizeof buf));
	printf("now: %.10s\n", buf);
	T(write(wo, "XYZ", 3));
	T(lseek(wo, 0, SEEK_CUR));
	T(read(wo, buf, 0));
	T(read(wo, buf, 1));

	/* O_RDONLY refuses writes, even of nothing. */
	T(ro = open("f", O_RDONLY));
	T(write(ro, "x", 1));
	T(write(ro, "", 0));
	T(read(ro, buf, 3));
	printf("ro: %.3s\n", buf);

	/* O_APPEND: each write lands at the end, wherever the offset was. */
	T(ap = open("f", O_WRONLY | O_APPEND));
	T(lseek(ap, 0, SEEK_CUR));
	T(write(ap, "+", 1));
	T(lseek(ap, 0, SEEK_CUR));
	T(lseek(ap, 2, SEEK_SET));
	T(write(ap, "-", 1));
	T(lseek(ap, 0, SEEK_CUR));
	T(write(fd, "!", 1));
	T(write(ap, "=", 1));
	T(pread(ro, buf, sizeof buf, 0));
	printf("file: %.13s\n", buf);

	/* A directory: EISDIR for reads of any size, EBADF for writes. */
	T(mkdir("d", 0755));
	T(dir = open("d", O_RDONLY));
	T(read(dir, buf, sizeof buf));
	T(read(dir, buf, 0));
	T(write(dir, "x", 1));

	/* Bad buffers. */
	T(lseek(fd, 0, SEEK_SET));
	T(read(fd, (void *)8, 4));
	T(write(fd, (void *)8, 4));
	T(read(fd, buf, 2));
	printf("offset kept: %.2s\n", buf);

	T(close(dir));
	T(close(ap));
	T(close(ro));
	T(close(wo));
	T(close(fd));
	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
