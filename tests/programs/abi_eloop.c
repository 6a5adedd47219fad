/* Symlink loops and following: a link to itself and a pair pointing at
 * each other give ELOOP wherever they are followed (open, stat, chdir,
 * access, mkdir through one, a link in the middle of a path), never for
 * lstat, readlink or unlink; O_NOFOLLOW on a final symlink (ELOOP, even
 * with O_CREAT) but not on one in the middle; a chain of links that is
 * long but not too long; a loop through a directory link ("d/up/d/up/..."
 * resolves). Works in a fresh /tmp/lstar-abi-eloop. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-eloop"

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
	struct stat st;
	char buf[64], name[16], target[16];
	int fd;

	rm_tree();
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	T(mkdir("d", 0755));
	T(close(open("d/f", O_CREAT | O_WRONLY, 0644)));

	/* A link to itself, and a pair. */
	T(symlink("self", "self"));
	T(symlink("b", "a"));
	T(symlink("a", "b"));
	T(open("self", O_RDONLY));
	T(open("a", O_RDONLY));
	T(open("a", O_CREAT | O_WRONLY, 0644));
	T(stat("b", &st));
	T(lstat("b", &st));
	printf("lstat b: symlink %d\n", S_ISLNK(st.st_mode));
	T(readlink("a", buf, sizeof buf));
	T(chdir("self"));
	T(access("self", F_OK));
	T(faccessat(AT_FDCWD, "self", F_OK, AT_SYMLINK_NOFOLLOW));
	T(mkdir("self/x", 0755));
	T(open("a/f", O_RDONLY));
	T(stat("self/", &st));
	T(truncate("a", 0));
	T(link("self", "hard"));
	T(linkat(AT_FDCWD, "self", AT_FDCWD, "hard2", AT_SYMLINK_FOLLOW));

	/* O_NOFOLLOW: only the last component. */
	T(symlink("d", "dl"));
	T(symlink("d/f", "fl"));
	T(open("fl", O_RDONLY | O_NOFOLLOW));
	T(open("fl", O_WRONLY | O_CREAT | O_NOFOLLOW, 0644));
	T(open("self", O_RDONLY | O_NOFOLLOW));
	T(fd = open("dl/f", O_RDONLY | O_NOFOLLOW));
	T(close(fd));
	T(fd = open("fl", O_PATH | O_NOFOLLOW));
	T(fstat(fd, &st));
	printf("O_PATH|O_NOFOLLOW: symlink %d\n", S_ISLNK(st.st_mode));
	T(close(fd));

	/* A chain of 30 links resolves. */
	T(symlink("d/f", "c0"));
	for (int i = 1; i < 30; i++) {
		snprintf(name, sizeof name, "c%d", i);
		snprintf(target, sizeof target, "c%d", i - 1);
		symlink(target, name);
	}
	T(stat("c29", &st));
	T(fd = open("c29", O_RDONLY));
	T(close(fd));

	/* A directory link that loops back is no loop for the resolver. */
	T(symlink("..", "d/up"));
	T(stat("d/up/d/up/d/up/d/f", &st));
	T(chdir("d/up/d/up/d"));
	T(access("f", F_OK));
	T(chdir(DIR_NAME));

	/* The loops themselves can be removed. */
	T(unlink("self"));
	T(unlink("a"));
	T(unlink("b"));
	T(lstat("a", &st));

	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
