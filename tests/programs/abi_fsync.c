/* fsync, fdatasync, sync and syncfs: fine on a regular file (read-only
 * or written), a directory and /dev/null's file system; EINVAL for a pipe
 * and for /dev/null and /dev/zero themselves (they have no fsync); EBADF
 * for a closed descriptor; sync() has no result. Works in a fresh
 * /tmp/lstar-abi-fsync. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-fsync"

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
	int fd, ro, dir, p[2], null, zero;

	rm_tree();
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	T(fd = open("f", O_CREAT | O_RDWR, 0644));
	T(write(fd, "data", 4));
	T(fsync(fd));
	T(fdatasync(fd));
	T(syncfs(fd));
	T(ro = open("f", O_RDONLY));
	T(fsync(ro));
	T(fdatasync(ro));
	T(dir = open(".", O_RDONLY | O_DIRECTORY));
	T(fsync(dir));
	T(fdatasync(dir));
	T(syncfs(dir));

	T(pipe(p));
	T(fsync(p[0]));
	T(fsync(p[1]));
	T(fdatasync(p[1]));
	T(null = open("/dev/null", O_WRONLY));
	T(zero = open("/dev/zero", O_RDONLY));
	T(fsync(null));
	T(fdatasync(zero));
	T(syncfs(null));

	sync();
	printf("sync returned\n");
	T(close(fd));
	T(fsync(fd));
	T(fdatasync(fd));
	T(syncfs(fd));
	T(fsync(-1));

	T(close(ro));
	T(close(dir));
	T(close(p[0]));
	T(close(p[1]));
	T(close(null));
	T(close(zero));
	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
