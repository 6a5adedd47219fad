/* link, linkat, symlink and readlink: hard links and their counts, link
 * to a directory (EPERM), to an existing name (EEXIST), from a missing
 * file (ENOENT); linkat with and without AT_SYMLINK_FOLLOW (a link to
 * the symlink itself, or to its target), bad flags (EINVAL); symlink
 * targets kept as given (relative, absolute, with "..", dangling) and an
 * empty target (ENOENT); readlink with no NUL added, truncation to the
 * buffer, a size of 0 (EINVAL), a file or directory (EINVAL), a missing
 * name (ENOENT); readlinkat with a dirfd. Works in a fresh
 * /tmp/lstar-abi-links. Differential test. */
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

#define DIR_NAME "/tmp/lstar-abi-links"

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

static void rl(const char *path, size_t size)
{
	char buf[64];
	memset(buf, '*', sizeof buf);
	/* The call itself: musl's readlink turns a size of 0 into 1. */
	long n = syscall(SYS_readlink, path, buf, size);
	if (n < 0)
		printf("readlink %s [%zu]: %s\n", path, size, ename(errno));
	else
		printf("readlink %s [%zu]: %ld \"%.*s\" next '%c'\n", path, size, n, (int)n, buf, buf[n]);
}

static void info(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		printf("%s: %s\n", path, ename(errno));
	else
		printf("%s: %s nlink %ld size %ld\n", path, S_ISLNK(st.st_mode) ? "link" : S_ISREG(st.st_mode) ? "file" : "dir",
		       (long)st.st_nlink, S_ISDIR(st.st_mode) ? 0L : (long)st.st_size);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	char buf[64];
	int d;

	rm_tree();
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	T(mkdir("dir", 0755));
	T(close(open("f", O_CREAT | O_WRONLY, 0644)));

	/* Hard links. */
	T(link("f", "h1"));
	T(link("h1", "dir/h2"));
	info("f");
	T(link("dir", "dirlink"));
	T(link("f", "h1"));
	T(link("f", "dir"));
	T(link("missing", "x"));
	T(link("f", "missing/x"));
	T(link("f/", "x"));
	T(link("f", ""));
	T(unlink("h1"));
	info("dir/h2");

	/* Symlink targets are stored as given. */
	T(symlink("f", "s_rel"));
	T(symlink(DIR_NAME "/f", "s_abs"));
	T(symlink("../f", "dir/s_up"));
	T(symlink("no/such/thing", "s_dangling"));
	T(symlink("", "s_empty"));
	T(symlink("f", "s_rel"));
	T(symlink("f", "dir"));
	T(symlink("f", "missing/s"));
	info("s_rel");
	info("s_abs");
	info("dir/s_up");

	/* linkat: the symlink itself, or with AT_SYMLINK_FOLLOW its target. */
	T(linkat(AT_FDCWD, "s_rel", AT_FDCWD, "hl_nofollow", 0));
	T(linkat(AT_FDCWD, "s_rel", AT_FDCWD, "hl_follow", AT_SYMLINK_FOLLOW));
	info("hl_nofollow");
	info("hl_follow");
	info("s_rel");
	T(linkat(AT_FDCWD, "s_dangling", AT_FDCWD, "hl_dangling", AT_SYMLINK_FOLLOW));
	T(linkat(AT_FDCWD, "s_dangling", AT_FDCWD, "hl_dangling", 0));
	T(linkat(AT_FDCWD, "f", AT_FDCWD, "x", 0x1));

	/* readlink. */
	rl("s_rel", sizeof buf);
	rl("s_abs", sizeof buf);
	rl("s_abs", 4);
	rl("s_abs", 1);
	rl("dir/s_up", sizeof buf);
	rl("s_dangling", sizeof buf);
	rl("hl_nofollow", sizeof buf);
	rl("s_rel", 0);
	rl("f", sizeof buf);
	rl("dir", sizeof buf);
	rl("missing", sizeof buf);
	rl("s_rel/", sizeof buf);
	rl("", sizeof buf);
	T(readlink("s_rel", (char *)8, sizeof buf));
	T(d = open("dir", O_RDONLY | O_DIRECTORY));
	T(readlinkat(d, "s_up", buf, sizeof buf));
	T(readlinkat(d, "../s_rel", buf, sizeof buf));
	T(readlinkat(d, "missing", buf, sizeof buf));
	T(close(d));

	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
