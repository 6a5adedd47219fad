/* unlink and unlinkat: a directory (EISDIR; with AT_REMOVEDIR it is
 * rmdir), a file with AT_REMOVEDIR (ENOTDIR), bad flags (EINVAL), a
 * trailing slash on a file (ENOTDIR), a symlink (the link goes, its
 * target stays; a dangling one too), a missing name (ENOENT), a file
 * used as a directory (ENOTDIR), "." (EISDIR), and an open file whose
 * data lives on until its last descriptor closes. Works in a fresh
 * /tmp/lstar-abi-unlink. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-unlink"

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
	char buf[16];
	int fd, fd2;

	rm_tree();
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	T(mkdir("d", 0755));
	T(fd = open("f", O_CREAT | O_RDWR, 0644));
	T(write(fd, "data", 4));

	/* Directories and files, each the wrong way. */
	T(unlink("d"));
	T(unlink("d/"));
	T(unlink("."));
	T(unlink(".."));
	T(unlinkat(AT_FDCWD, "f", AT_REMOVEDIR));
	T(unlinkat(AT_FDCWD, "f", 0x1));
	T(unlinkat(AT_FDCWD, "d", ~AT_REMOVEDIR));
	T(unlink("f/"));
	T(unlink("f/x"));
	T(unlink("nope"));
	T(unlink("nope/x"));
	T(unlink(""));
	T(unlink((char *)8));
	T(unlinkat(AT_FDCWD, "d", AT_REMOVEDIR));
	T(access("d", F_OK));

	/* Symlinks: the link goes, not what it names. */
	T(symlink("f", "link"));
	T(symlink("nowhere", "dangling"));
	T(mkdir("d2", 0755));
	T(symlink("d2", "dirlink"));
	T(unlink("link"));
	T(access("f", F_OK));
	T(access("link", F_OK));
	T(unlink("dangling"));
	T(unlink("dirlink/"));
	T(unlink("dirlink"));
	T(access("d2", F_OK));
	T(rmdir("d2"));

	/* An open file outlives its last name. */
	T(link("f", "g"));
	T(unlink("f"));
	T(fd2 = open("g", O_RDONLY));
	T(unlink("g"));
	T(access("g", F_OK));
	T(read(fd2, buf, sizeof buf));
	printf("read: %.4s\n", buf);
	T(write(fd, "more", 4));
	T(read(fd2, buf, sizeof buf));
	T(close(fd));
	T(pread(fd2, buf, sizeof buf, 0));
	printf("still: %.8s\n", buf);
	T(close(fd2));

	/* The name is free again. */
	T(fd = open("f", O_CREAT | O_EXCL | O_RDWR, 0644));
	T(read(fd, buf, sizeof buf));
	T(close(fd));
	T(unlinkat(AT_FDCWD, "f", 0));

	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
