/* chown, fchown, lchown and fchownat as root: owner and group set
 * separately or together, -1 keeping either; chown follows a symlink,
 * lchown and AT_SYMLINK_NOFOLLOW change the link itself; bad flags
 * (EINVAL), ENOENT, ENOTDIR, EBADF. (abi_chown_setid has what a chown
 * does to the set-id bits.) Works in a fresh /tmp/lstar-abi-chown.
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

#define DIR_NAME "/tmp/lstar-abi-chown"

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

static void owner(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		printf("%s: %s\n", path, ename(errno));
	else
		printf("%s: uid %d gid %d mode %04o\n", path, (int)st.st_uid, (int)st.st_gid, (unsigned)st.st_mode & 07777);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int fd;

	rm_tree();
	umask(022);
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	T(fd = open("f", O_CREAT | O_RDWR, 0644));
	owner("f");

	/* Owner and group, one at a time. */
	T(chown("f", 100, -1));
	owner("f");
	T(chown("f", -1, 200));
	owner("f");
	T(fchown(fd, 300, 400));
	owner("f");
	T(fchown(fd, -1, -1));
	owner("f");

	/* Symlinks. */
	T(symlink("f", "link"));
	T(chown("link", 1, 2));
	owner("f");
	owner("link");
	T(lchown("link", 5, 6));
	owner("f");
	owner("link");
	T(fchownat(AT_FDCWD, "link", 7, 8, AT_SYMLINK_NOFOLLOW));
	owner("link");
	T(fchownat(AT_FDCWD, "link", 9, 9, 0));
	owner("f");
	T(fchownat(AT_FDCWD, "link", 0, 0, 0x1));

	/* Errors. */
	T(chown("missing", 0, 0));
	T(chown("f/x", 0, 0));
	T(lchown("", 0, 0));
	T(fchown(99, 0, 0));
	T(fchownat(99, "f", 0, 0, 0));

	T(close(fd));
	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
