/* open's flags: O_CREAT with and without O_EXCL (EEXIST, also for a
 * dangling symlink), O_EXCL alone, O_TRUNC (even with O_RDONLY), O_APPEND,
 * O_DIRECTORY on a file (ENOTDIR), O_CREAT or a write mode on a directory
 * (EISDIR), O_DIRECTORY with O_CREAT (EINVAL), a missing parent (ENOENT),
 * a file used as a directory (ENOTDIR), the empty path (ENOENT), a bad
 * pointer (EFAULT), the access mode the descriptor reports, and creat
 * (the call itself: O_CREAT|O_WRONLY|O_TRUNC; EISDIR for a directory). Works in
 * a fresh /tmp/lstar-abi-open-flags. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-open-flags"

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

static long size(const char *path)
{
	struct stat st;
	return stat(path, &st) < 0 ? -1 : (long)st.st_size;
}

static void mode(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	printf("fd %d: %s%s\n", fd, (fl & O_ACCMODE) == O_RDONLY ? "O_RDONLY" : (fl & O_ACCMODE) == O_WRONLY ? "O_WRONLY" : "O_RDWR",
	       fl & O_APPEND ? "|O_APPEND" : "");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int fd;

	rm_tree();
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));

	/* Creating. */
	T(open("f", O_RDONLY));
	T(fd = open("f", O_CREAT | O_EXCL | O_WRONLY, 0644));
	mode(fd);
	T(write(fd, "contents", 8));
	T(close(fd));
	T(open("f", O_CREAT | O_EXCL | O_RDWR, 0644));
	T(fd = open("f", O_CREAT | O_RDWR, 0644));
	mode(fd);
	T(close(fd));
	T(fd = open("f", O_EXCL | O_RDONLY));
	T(close(fd));
	printf("size %ld\n", size("f"));

	/* O_TRUNC empties the file, whatever the access mode. */
	T(fd = open("f", O_RDONLY | O_TRUNC));
	mode(fd);
	T(close(fd));
	printf("size %ld\n", size("f"));
	T(fd = open("f", O_WRONLY | O_APPEND));
	mode(fd);
	T(write(fd, "abc", 3));
	T(close(fd));
	T(fd = open("f", O_RDWR | O_TRUNC | O_APPEND));
	mode(fd);
	T(write(fd, "xy", 2));
	T(close(fd));
	printf("size %ld\n", size("f"));

	/* Directories. */
	T(mkdir("d", 0755));
	T(open("f", O_RDONLY | O_DIRECTORY));
	T(fd = syscall(SYS_creat, "c", 0600));
	mode(fd);
	T(write(fd, "x", 1));
	T(close(fd));
	T(fd = syscall(SYS_creat, "c", 0600));
	T(close(fd));
	printf("creat truncates: size %ld\n", size("c"));
	T(syscall(SYS_creat, "d", 0600));
	T(fd = open("d", O_RDONLY | O_DIRECTORY));
	T(close(fd));
	T(open("d", O_WRONLY));
	T(open("d", O_RDWR));
	T(open("d", O_RDONLY | O_TRUNC));
	T(open("d", O_CREAT | O_RDONLY, 0644));
	T(open("d", O_CREAT | O_EXCL | O_RDONLY, 0644));
	T(open("g", O_CREAT | O_DIRECTORY | O_RDONLY, 0644));
	T(access("g", F_OK));
	T(open("d/", O_CREAT | O_RDONLY, 0644));
	T(open("g/", O_CREAT | O_RDONLY, 0644));

	/* A symlink, dangling or not. */
	T(symlink("target", "link"));
	T(open("link", O_CREAT | O_EXCL | O_WRONLY, 0644));
	T(access("target", F_OK));
	T(symlink("f", "flink"));
	T(open("flink", O_CREAT | O_EXCL | O_WRONLY, 0644));

	/* Paths that do not lead anywhere. */
	T(open("nope/f", O_CREAT | O_WRONLY, 0644));
	T(open("f/g", O_CREAT | O_WRONLY, 0644));
	T(open("f/", O_RDONLY));
	T(open("", O_RDONLY));
	T(open("", O_CREAT | O_WRONLY, 0644));
	T(open((char *)8, O_RDONLY));
	T(open((char *)8, O_CREAT | O_WRONLY, 0644));

	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
