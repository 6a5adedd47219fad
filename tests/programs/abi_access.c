/* access and faccessat as root: F_OK; R_OK and W_OK granted whatever the
 * mode bits; X_OK granted for a file only when some execute bit is set,
 * always for a directory; a bad mode (EINVAL); a missing name (ENOENT); a
 * file used as a directory (ENOTDIR); a dangling symlink (ENOENT, but 0
 * with AT_SYMLINK_NOFOLLOW); AT_EACCESS; bad flags (EINVAL); faccessat2
 * with AT_EMPTY_PATH on a descriptor. Works in a fresh
 * /tmp/lstar-abi-access. Differential test. */
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

#define DIR_NAME "/tmp/lstar-abi-access"

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

/* Every mode for one permission setting. */
static void modes(const char *path, mode_t perm)
{
	chmod(path, perm);
	printf("%s %04o:", path, (unsigned)perm);
	int m[] = { F_OK, R_OK, W_OK, X_OK, R_OK | W_OK | X_OK };
	const char *n[] = { "F", "R", "W", "X", "RWX" };
	for (int i = 0; i < 5; i++)
		printf(" %s=%s", n[i], access(path, m[i]) == 0 ? "ok" : ename(errno));
	printf("\n");
}

#define faccessat2(d, p, m, f) syscall(SYS_faccessat2, d, p, m, f)

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int fd;

	rm_tree();
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	T(close(open("f", O_CREAT | O_WRONLY, 0644)));
	T(mkdir("d", 0755));

	/* Root passes R and W always, X only with an execute bit. */
	modes("f", 0000);
	modes("f", 0644);
	modes("f", 0100);
	modes("f", 0010);
	modes("f", 0001);
	modes("f", 04000);
	modes("d", 0000);
	modes("d", 0755);

	/* Errors. */
	T(access("f", 8));
	T(access("f", -1));
	T(access("missing", F_OK));
	T(access("f/", F_OK));
	T(access("f/x", R_OK));
	T(access("", F_OK));
	T(access((char *)8, F_OK));

	/* Symlinks. */
	T(symlink("nowhere", "dangling"));
	T(symlink("f", "fl"));
	T(access("dangling", F_OK));
	T(faccessat(AT_FDCWD, "dangling", F_OK, AT_SYMLINK_NOFOLLOW));
	T(chmod("f", 0600));
	T(faccessat(AT_FDCWD, "fl", X_OK, 0));
	T(faccessat(AT_FDCWD, "fl", X_OK, AT_SYMLINK_NOFOLLOW));

	/* faccessat's flags and dirfd. */
	T(faccessat(AT_FDCWD, "f", R_OK, AT_EACCESS));
	T(faccessat(AT_FDCWD, "f", R_OK, 0x1));
	T(faccessat2(AT_FDCWD, "f", R_OK, 0x1));
	T(fd = open("d", O_RDONLY | O_DIRECTORY));
	T(faccessat(fd, "../f", W_OK, 0));
	T(faccessat(fd, "f", F_OK, 0));
	T(faccessat2(fd, "", X_OK, AT_EMPTY_PATH));
	T(faccessat2(fd, "", X_OK, 0));
	T(close(fd));
	T(fd = open("f", O_RDONLY));
	T(faccessat2(fd, "", W_OK, AT_EMPTY_PATH));
	T(faccessat2(fd, "", X_OK, AT_EMPTY_PATH));
	T(faccessat(fd, "x", F_OK, 0));
	T(close(fd));
	T(faccessat(fd, "x", F_OK, 0));

	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
