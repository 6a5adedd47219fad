/* lseek: SEEK_SET, SEEK_CUR and SEEK_END with positive and negative
 * offsets, a negative result (EINVAL, offset unchanged), a bad whence
 * (EINVAL), seeking past the end (no growth until a write, then a hole
 * that reads as zeros), one offset shared by dup'd descriptors but not by
 * two opens, ESPIPE on a pipe and EBADF on a closed descriptor. Works in
 * a fresh /tmp/lstar-abi-lseek. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-lseek"

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

static void size(int fd)
{
	struct stat st;
	fstat(fd, &st);
	printf("size %ld\n", (long)st.st_size);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	char buf[32];
	int fd, fd2, fd3, p[2];

	rm_tree();
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	T(fd = open("f", O_CREAT | O_RDWR | O_TRUNC, 0644));
	T(write(fd, "abcdefghij", 10));

	/* The three origins. */
	T(lseek(fd, 0, SEEK_SET));
	T(lseek(fd, 4, SEEK_SET));
	T(lseek(fd, 2, SEEK_CUR));
	T(lseek(fd, -3, SEEK_CUR));
	T(lseek(fd, 0, SEEK_END));
	T(lseek(fd, -10, SEEK_END));
	T(lseek(fd, -4, SEEK_END));
	T(read(fd, buf, 2));
	printf("read: %.2s\n", buf);

	/* Negative results and bad whence leave the offset alone. */
	T(lseek(fd, -1, SEEK_SET));
	T(lseek(fd, -100, SEEK_CUR));
	T(lseek(fd, -11, SEEK_END));
	T(lseek(fd, 0, 3 + 100));
	T(lseek(fd, 0, -1));
	T(lseek(fd, 0, SEEK_CUR));

	/* Past the end: no growth until a write, then zeros in the hole. */
	T(lseek(fd, 20, SEEK_SET));
	size(fd);
	T(read(fd, buf, 4));
	T(lseek(fd, 5, SEEK_END));
	T(write(fd, "Z", 1));
	size(fd);
	T(lseek(fd, 8, SEEK_SET));
	memset(buf, '#', sizeof buf);
	T(read(fd, buf, sizeof buf));
	for (int i = 0; i < 8; i++)
		printf("%c", buf[i] ? buf[i] : '0');
	printf("\n");

	/* dup shares the offset; a second open has its own. */
	T(fd2 = dup(fd));
	T(fd3 = open("f", O_RDONLY));
	T(lseek(fd, 3, SEEK_SET));
	T(lseek(fd2, 0, SEEK_CUR));
	T(lseek(fd3, 0, SEEK_CUR));
	T(lseek(fd2, 1, SEEK_CUR));
	T(lseek(fd, 0, SEEK_CUR));
	T(lseek(fd3, 0, SEEK_END));

	/* A file shrunk under an offset keeps the offset. */
	T(ftruncate(fd, 2));
	T(lseek(fd, 0, SEEK_CUR));
	T(read(fd, buf, 1));
	T(lseek(fd, 0, SEEK_END));

	/* Things that cannot seek. */
	T(pipe(p));
	T(lseek(p[0], 0, SEEK_CUR));
	T(lseek(p[1], 0, SEEK_SET));
	T(close(fd3));
	T(lseek(fd3, 0, SEEK_SET));
	T(lseek(-1, 0, SEEK_SET));

	T(close(p[0]));
	T(close(p[1]));
	T(close(fd2));
	T(close(fd));
	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
