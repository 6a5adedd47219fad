/* truncate and ftruncate: growing (the new bytes read as zeros) and
 * shrinking (the offset stays where it was, reads there give 0), to 0
 * and to the same size; through a symlink; an O_APPEND descriptor; the
 * errors: a negative length (EINVAL), a descriptor not open for writing
 * (EINVAL), a directory (EISDIR by name, EINVAL by descriptor), a pipe
 * (EINVAL), a missing file (ENOENT), a file as a directory (ENOTDIR),
 * EBADF and EFAULT. Works in a fresh /tmp/lstar-abi-truncate.
 * Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-truncate"

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

static void show(void)
{
	char buf[64];
	int fd = open(DIR_NAME "/f", O_RDONLY);
	long n = read(fd, buf, sizeof buf);
	close(fd);
	printf("f: %ld \"", n);
	for (long i = 0; i < n; i++)
		putchar(buf[i] ? buf[i] : '0');
	printf("\"\n");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	char buf[8];
	int fd, ro, ap, d, p[2];

	rm_tree();
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	T(fd = open("f", O_CREAT | O_RDWR, 0644));
	T(write(fd, "abcdefgh", 8));

	/* Shrinking and growing. */
	T(ftruncate(fd, 3));
	show();
	T(lseek(fd, 0, SEEK_CUR));
	T(read(fd, buf, sizeof buf));
	T(ftruncate(fd, 6));
	show();
	T(write(fd, "XY", 2));
	show();
	T(truncate("f", 12));
	show();
	T(truncate("f", 12));
	T(truncate("f", 0));
	show();
	T(lseek(fd, 0, SEEK_CUR));
	T(write(fd, "Z", 1));
	show();

	/* Through a symlink, and with O_APPEND. */
	T(symlink("f", "link"));
	T(truncate("link", 4));
	show();
	T(ap = open("f", O_WRONLY | O_APPEND));
	T(ftruncate(ap, 2));
	T(write(ap, "!", 1));
	show();

	/* Errors. */
	T(truncate("f", -1));
	T(ftruncate(fd, -1));
	T(ro = open("f", O_RDONLY));
	T(ftruncate(ro, 0));
	T(mkdir("d", 0755));
	T(truncate("d", 0));
	T(d = open("d", O_RDONLY | O_DIRECTORY));
	T(ftruncate(d, 0));
	T(pipe(p));
	T(ftruncate(p[1], 0));
	T(ftruncate(p[0], 0));
	T(truncate("missing", 0));
	T(truncate("f/x", 0));
	T(truncate("", 0));
	T(truncate((char *)8, 0));
	T(ftruncate(99, 0));
	show();

	T(close(p[0]));
	T(close(p[1]));
	T(close(d));
	T(close(ro));
	T(close(ap));
	T(close(fd));
	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
