/* mkdir and rmdir: EEXIST for any existing name (a file, a dangling
 * symlink, "." and ".."), ENOENT for a missing parent, ENOTDIR for a file
 * as parent, trailing slashes, the mode with the umask applied and the
 * sticky bit kept; rmdir's ENOTEMPTY, EINVAL for ".", ENOTEMPTY for "..",
 * ENOTDIR for a file or a symlink to a directory, ENOENT, and EBUSY for
 * "/"; mkdirat and unlinkat(AT_REMOVEDIR). Works in a fresh
 * /tmp/lstar-abi-mkdir. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-mkdir"

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

static void mode(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		printf("%s: %s\n", path, ename(errno));
	else
		printf("%s: %s %04o\n", path, S_ISDIR(st.st_mode) ? "dir" : "not a dir", (unsigned)st.st_mode & 07777);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int d;

	rm_tree();
	umask(022);
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));

	/* Modes. */
	T(mkdir("a", 0777));
	mode("a");
	T(mkdir("b", 01777));
	mode("b");
	T(umask(077));
	T(mkdir("c", 0777));
	mode("c");
	T(umask(0));
	T(mkdir("e", 07777));
	mode("e");
	T(umask(022));
	T(mkdir("g//", 0700));
	mode("g");

	/* Names that exist, or whose parent does not. */
	T(mkdir("a", 0755));
	T(mkdir("a/", 0755));
	T(close(open("file", O_CREAT | O_WRONLY, 0644)));
	T(mkdir("file", 0755));
	T(mkdir("file/x", 0755));
	T(symlink("nowhere", "dangling"));
	T(mkdir("dangling", 0755));
	T(access("nowhere", F_OK));
	T(mkdir(".", 0755));
	T(mkdir("..", 0755));
	T(mkdir("a/.", 0755));
	T(mkdir("missing/x", 0755));
	T(mkdir("", 0755));
	T(mkdir((char *)8, 0755));

	/* rmdir. */
	T(mkdir("a/inner", 0755));
	T(rmdir("a"));
	T(rmdir("a/inner/."));
	T(rmdir("a/inner/.."));
	T(rmdir("."));
	T(rmdir(".."));
	T(rmdir("file"));
	T(rmdir("file/"));
	T(symlink("a", "alink"));
	T(rmdir("alink"));
	T(rmdir("missing"));
	T(rmdir(""));
	T(rmdir("/"));
	T(rmdir("a/inner/"));
	T(rmdir("a"));
	mode("a");

	/* The *at forms. */
	T(d = open("b", O_RDONLY | O_DIRECTORY));
	T(mkdirat(d, "x", 0755));
	T(mkdirat(d, "x", 0755));
	T(unlinkat(d, "x", 0));
	T(unlinkat(d, "x", AT_REMOVEDIR));
	T(unlinkat(d, "x", AT_REMOVEDIR));
	T(unlinkat(AT_FDCWD, "file", AT_REMOVEDIR));
	T(unlinkat(AT_FDCWD, "b", AT_REMOVEDIR));
	T(close(d));
	T(unlinkat(AT_FDCWD, "c", AT_REMOVEDIR | AT_SYMLINK_NOFOLLOW));

	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
