/* What happens to the set-user-ID and set-group-ID bits, as root: any
 * chown of a regular file clears setuid, and setgid when the file is
 * group-executable (setgid without group execute is kept), even a chown
 * to -1, -1 that changes nothing, through chown, fchown, lchown's target
 * and fchownat alike; a directory keeps both; a write, a truncate and a
 * chmod by root clear nothing. Works in a fresh
 * /tmp/lstar-abi-chown-setid. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-chown-setid"

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
	if (stat(path, &st) < 0)
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

	/* Writes, truncation and chmod by root keep the bits. */
	T(chmod("f", 06755));
	T(write(fd, "x", 1));
	mode("f");
	T(ftruncate(fd, 0));
	T(truncate("f", 5));
	mode("f");
	T(fchmod(fd, 06777));
	mode("f");

	/* A real change of owner or group. */
	T(chown("f", 10, 10));
	mode("f");
	T(chmod("f", 06755));
	T(chown("f", -1, 11));
	mode("f");

	/* Setgid without group execute is kept; setuid is not. */
	T(chmod("f", 06745));
	T(chown("f", 12, -1));
	mode("f");

	/* A chown that changes nothing still clears them. */
	T(chmod("f", 06755));
	T(chown("f", -1, -1));
	mode("f");
	T(chmod("f", 04700));
	T(fchown(fd, -1, -1));
	mode("f");
	T(chmod("f", 02711));
	T(fchownat(AT_FDCWD, "f", 12, 11, 0));
	mode("f");
	T(symlink("f", "link"));
	T(chmod("f", 06755));
	T(lchown("link", 0, 0));
	mode("f");
	T(chown("link", 0, 0));
	mode("f");

	/* Directories keep them. */
	T(mkdir("d", 0755));
	T(chmod("d", 06755));
	T(chown("d", 13, 13));
	mode("d");
	T(chown("d", -1, -1));
	mode("d");

	T(close(fd));
	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
