/* FIONREAD everywhere: a pipe as it fills and drains and after the
 * writer closes; a regular file at its start, in the middle, at the end
 * and past it (Linux reports size minus offset, so a negative count),
 * after growing and after a truncation behind the offset; an O_APPEND
 * descriptor; a directory, /dev/null and /dev/zero (ENOTTY). Works in a
 * fresh /tmp/lstar-abi-fionread. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-fionread"

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

static void fionread(const char *what, int fd)
{
	int n = 12345;
	if (ioctl(fd, FIONREAD, &n) < 0)
		printf("%s: %s\n", what, ename(errno));
	else
		printf("%s: %d\n", what, n);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	char buf[64];
	int fd, ap, d, p[2];

	rm_tree();
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));

	T(pipe(p));
	fionread("empty pipe", p[0]);
	T(write(p[1], "0123456789", 10));
	fionread("10 in", p[0]);
	T(read(p[0], buf, 4));
	fionread("4 read", p[0]);
	fionread("the write end", p[1]);
	T(close(p[1]));
	fionread("writer closed", p[0]);
	T(read(p[0], buf, sizeof buf));
	fionread("drained", p[0]);
	T(close(p[0]));

	T(fd = open("f", O_CREAT | O_RDWR, 0644));
	fionread("empty file", fd);
	T(write(fd, "0123456789", 10));
	fionread("at the end", fd);
	T(lseek(fd, 0, SEEK_SET));
	fionread("at the start", fd);
	T(lseek(fd, 6, SEEK_SET));
	fionread("at 6", fd);
	T(lseek(fd, 15, SEEK_SET));
	fionread("past the end, at 15", fd);
	T(ftruncate(fd, 100));
	fionread("grown to 100", fd);
	T(ftruncate(fd, 3));
	fionread("truncated to 3", fd);
	T(ap = open("f", O_WRONLY | O_APPEND));
	fionread("O_APPEND, at 0", ap);

	T(d = open(".", O_RDONLY | O_DIRECTORY));
	fionread("directory", d);
	int null = open("/dev/null", O_RDONLY), zero = open("/dev/zero", O_RDONLY);
	fionread("/dev/null", null);
	fionread("/dev/zero", zero);

	T(close(null));
	T(close(zero));
	T(close(d));
	T(close(ap));
	T(close(fd));
	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
