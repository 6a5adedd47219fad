/* The working directory: chdir (relative, absolute, "..", through a
 * symlink: getcwd names the real directory), fchdir, getcwd's return (the
 * length with its NUL), ERANGE for a buffer one byte short and for size
 * 0, EFAULT; chdir to a file (ENOTDIR), a missing name (ENOENT), the
 * empty path (ENOENT); fchdir to a file (ENOTDIR) or a closed descriptor
 * (EBADF); "/.." staying at "/"; and a forked child's chdir not moving
 * its parent. Works in a fresh /tmp/lstar-abi-cwd. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-cwd"

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

/* The raw call: musl's getcwd allocates for a NULL buffer. */
static void cwd(void)
{
	char buf[256];
	long r = syscall(SYS_getcwd, buf, sizeof buf);
	if (r < 0)
		printf("getcwd: %s\n", ename(errno));
	else
		printf("getcwd: %ld %s\n", r, buf);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	char buf[64];
	int d, f, status;

	rm_tree();
	T(chdir("/tmp"));
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	cwd();
	T(mkdir("a", 0755));
	T(mkdir("a/b", 0755));
	T(symlink("a/b", "lb"));
	T(close(open("file", O_CREAT | O_WRONLY, 0644)));

	/* Moving around. */
	T(chdir("a"));
	cwd();
	T(chdir("b/../b/."));
	cwd();
	T(chdir(".."));
	T(chdir("../lb"));
	cwd();
	T(chdir(".."));
	cwd();
	T(chdir("/"));
	cwd();
	T(chdir(".."));
	cwd();
	T(chdir("/../../tmp/.."));
	cwd();

	/* fchdir. */
	T(d = open(DIR_NAME "/a", O_RDONLY | O_DIRECTORY));
	T(fchdir(d));
	cwd();
	T(f = open(DIR_NAME "/file", O_RDONLY));
	T(fchdir(f));
	T(close(f));
	T(fchdir(f));
	T(fchdir(-1));
	cwd();

	/* getcwd's sizes: DIR_NAME "/a" is 21 bytes with its NUL. */
	T(syscall(SYS_getcwd, buf, 21));
	T(syscall(SYS_getcwd, buf, 20));
	T(syscall(SYS_getcwd, buf, 1));
	T(syscall(SYS_getcwd, buf, 0));
	T(syscall(SYS_getcwd, (char *)8, 64));
	T(getcwd(buf, 20) == NULL);
	printf("%s\n", getcwd(buf, 21));

	/* Places that are not directories. */
	T(chdir(DIR_NAME "/file"));
	T(chdir(DIR_NAME "/file/"));
	T(chdir(DIR_NAME "/missing"));
	T(chdir(""));
	T(chdir((char *)8));
	cwd();

	/* A child moves alone. */
	pid_t c = fork();
	if (c == 0) {
		T(chdir("b"));
		cwd();
		_exit(0);
	}
	T(waitpid(c, &status, 0) == c);
	cwd();

	T(close(d));
	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
