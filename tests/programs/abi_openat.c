/* The *at calls against directory descriptors: openat, mkdirat,
 * newfstatat, unlinkat, renameat, linkat, symlinkat, readlinkat and
 * faccessat relative to a dirfd or AT_FDCWD; absolute paths ignore the
 * dirfd (even a bad one); a relative path with a closed dirfd (EBADF) or
 * a file as dirfd (ENOTDIR); a dirfd keeps naming its directory after a
 * rename and after chdir elsewhere; O_PATH directory handles. Works in a
 * fresh /tmp/lstar-abi-openat. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-openat"

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

static void cat(int dirfd, const char *path)
{
	char buf[32];
	int fd = openat(dirfd, path, O_RDONLY);
	if (fd < 0) {
		printf("cat %s: %s\n", path, ename(errno));
		return;
	}
	long n = read(fd, buf, sizeof buf);
	close(fd);
	printf("cat %s: \"%.*s\"\n", path, (int)n, buf);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct stat st;
	char buf[32];
	int d, fd, pathfd;

	rm_tree();
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	T(mkdir("a", 0755));
	T(d = open("a", O_RDONLY | O_DIRECTORY));

	/* Making and finding things relative to the dirfd. */
	T(fd = openat(d, "f", O_CREAT | O_WRONLY, 0644));
	T(write(fd, "in a", 4));
	T(close(fd));
	T(mkdirat(d, "sub", 0755));
	T(symlinkat("f", d, "link"));
	T(linkat(d, "f", d, "sub/hard", 0));
	T(readlinkat(d, "link", buf, sizeof buf));
	printf("link -> %.1s\n", buf);
	T(fstatat(d, "sub/hard", &st, 0));
	printf("hard: nlink %ld size %ld\n", (long)st.st_nlink, (long)st.st_size);
	T(fstatat(d, "link", &st, AT_SYMLINK_NOFOLLOW));
	printf("link is a symlink: %d\n", S_ISLNK(st.st_mode));
	T(faccessat(d, "sub", X_OK, 0));
	T(renameat(d, "sub/hard", AT_FDCWD, "moved"));
	cat(AT_FDCWD, "moved");
	cat(d, "link");
	T(openat(d, "f", O_CREAT | O_EXCL | O_WRONLY, 0644));
	T(access("f", F_OK));

	/* Absolute paths ignore the dirfd, whatever it is. */
	T(fd = openat(-1, DIR_NAME "/moved", O_RDONLY));
	T(close(fd));
	T(fstatat(999, "/tmp", &st, 0));
	T(mkdirat(-5, DIR_NAME "/abs", 0755));
	T(unlinkat(-5, DIR_NAME "/abs", AT_REMOVEDIR));

	/* Bad dirfds for relative paths. */
	T(fd = open("moved", O_RDONLY));
	T(openat(fd, "x", O_RDONLY));
	T(openat(fd, "", O_RDONLY));
	T(mkdirat(fd, "x", 0755));
	T(fstatat(fd, "x", &st, 0));
	T(unlinkat(fd, "x", 0));
	T(close(fd));
	T(openat(fd, "x", O_RDONLY));
	T(mkdirat(fd, "x", 0755));
	T(symlinkat("x", fd, "y"));
	T(readlinkat(fd, "y", buf, sizeof buf));
	T(faccessat(-1, "moved", F_OK, 0));
	T(faccessat(AT_FDCWD, "moved", F_OK, 0));

	/* A dirfd follows its directory through a rename and a chdir. */
	T(rename("a", "b"));
	cat(d, "f");
	T(chdir("/"));
	cat(d, "f");
	cat(d, "../moved");
	T(fd = openat(d, "..", O_RDONLY | O_DIRECTORY));
	cat(fd, "b/f");
	T(close(fd));
	T(chdir(DIR_NAME));

	/* An O_PATH handle to a directory works as a dirfd. */
	T(pathfd = open("b", O_PATH | O_DIRECTORY));
	cat(pathfd, "f");
	T(read(pathfd, buf, 1));
	T(mkdirat(pathfd, "viapath", 0755));
	T(unlinkat(pathfd, "viapath", AT_REMOVEDIR));
	T(unlinkat(pathfd, "sub", AT_REMOVEDIR));
	T(unlinkat(d, "link", 0));
	T(unlinkat(d, "f", 0));
	T(unlinkat(d, "f", 0));

	T(close(pathfd));
	T(close(d));
	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
