/* pread64 and pwrite64: positioned I/O that never moves the offset, at
 * and past the end of the file (0; a pwrite past the end leaves a hole of
 * zeros), a negative offset (EINVAL), the descriptor's access mode (EBADF),
 * a directory (EISDIR), a pipe (ESPIPE), bad buffers (EFAULT), and a
 * count of 0. Works in a fresh /tmp/lstar-abi-pread. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-pread"

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
	int fd, ro, wo, dir, p[2];

	rm_tree();
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	T(fd = open("f", O_CREAT | O_RDWR, 0644));
	T(write(fd, "0123456789", 10));
	T(lseek(fd, 4, SEEK_SET));

	/* Reads at, across and past the end; the offset stays at 4. */
	T(pread(fd, buf, 3, 0));
	printf("got %.3s\n", buf);
	T(pread(fd, buf, 5, 8));
	printf("got %.2s\n", buf);
	T(pread(fd, buf, 5, 10));
	T(pread(fd, buf, 5, 1000));
	T(pread(fd, buf, 0, 3));
	T(lseek(fd, 0, SEEK_CUR));

	/* Writes: in place, then past the end. */
	T(pwrite(fd, "ab", 2, 1));
	T(pwrite(fd, "Z", 1, 14));
	T(lseek(fd, 0, SEEK_CUR));
	T(read(fd, buf, 3));
	printf("read at 4: %.3s\n", buf);
	memset(buf, '#', sizeof buf);
	T(pread(fd, buf, sizeof buf, 0));
	for (int i = 0; i < 15; i++)
		putchar(buf[i] ? buf[i] : '0');
	putchar('\n');

	/* Negative offsets. */
	T(pread(fd, buf, 1, -1));
	T(pwrite(fd, "x", 1, -1));

	/* Access modes. */
	T(ro = open("f", O_RDONLY));
	T(wo = open("f", O_WRONLY));
	T(pwrite(ro, "x", 1, 0));
	T(pread(wo, buf, 1, 0));
	T(pread(ro, buf, 2, 13));
	T(pwrite(wo, "yz", 2, 0));
	T(pread(ro, buf, 3, 0));
	printf("start: %.3s\n", buf);

	/* A directory and a pipe. */
	T(mkdir("d", 0755));
	T(dir = open("d", O_RDONLY | O_DIRECTORY));
	T(pread(dir, buf, 1, 0));
	T(pipe(p));
	T(write(p[1], "pipe", 4));
	T(pread(p[0], buf, 1, 0));
	T(pwrite(p[1], "x", 1, 0));
	T(read(p[0], buf, 4));

	/* Bad buffers. */
	T(pread(fd, (void *)8, 4, 0));
	T(pwrite(fd, (void *)8, 4, 0));
	T(pwrite(fd, (void *)8, 0, 0));
	T(pread(-1, buf, 1, 0));
	T(lseek(fd, 0, SEEK_CUR));

	T(close(p[0]));
	T(close(p[1]));
	T(close(dir));
	T(close(wo));
	T(close(ro));
	T(close(fd));
	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
