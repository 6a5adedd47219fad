/* chmod, fchmod, fchmodat and umask: all twelve permission bits taken,
 * type bits in the argument ignored, chmod through a symlink changing the
 * target, fchmod on an O_RDONLY descriptor, errors (ENOENT, ENOTDIR,
 * EBADF, EFAULT); umask returning the old mask, keeping only 0777,
 * applying to open, creat, mkdir and the *at forms but not to symlinks
 * or chmod, and inherited by a child whose changes stay its own. Works in
 * a fresh /tmp/lstar-abi-chmod. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-chmod"

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
		printf("%s: %06o\n", path, (unsigned)st.st_mode);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int fd, status;

	rm_tree();
	umask(022);
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	T(fd = open("f", O_CREAT | O_RDONLY, 0666));
	mode("f");

	/* chmod takes the permission bits and ignores the type. */
	T(chmod("f", 07777));
	mode("f");
	T(chmod("f", 0));
	mode("f");
	T(chmod("f", S_IFDIR | 0640));
	mode("f");
	T(fchmod(fd, 04711));
	mode("f");
	T(fchmodat(AT_FDCWD, "f", 0600, 0));
	mode("f");
	T(symlink("f", "link"));
	T(chmod("link", 0444));
	mode("f");
	mode("link");
	T(mkdir("d", 0755));
	T(chmod("d", 01700));
	mode("d");

	/* Errors. */
	T(chmod("missing", 0644));
	T(chmod("f/x", 0644));
	T(chmod("", 0644));
	T(chmod((char *)8, 0644));
	T(fchmod(99, 0644));
	T(fchmod(-1, 0644));

	/* umask: returns the old mask, keeps 0777. */
	T(umask(0));
	T(umask(0777));
	T(umask(07777));
	T(umask(0177777));
	T(umask(027));

	/* Applied to what is made. */
	T(close(open("o", O_CREAT | O_WRONLY, 0777)));
	mode("o");
	T(close(creat("c", 0666)));
	mode("c");
	T(mkdir("m", 0777));
	mode("m");
	T(close(openat(AT_FDCWD, "oa", O_CREAT | O_WRONLY, 0770)));
	mode("oa");
	T(mkdirat(AT_FDCWD, "ma", 01777));
	mode("ma");
	T(symlink("o", "s"));
	mode("s");
	T(chmod("o", 0777));
	mode("o");
	T(close(open("o", O_CREAT | O_WRONLY, 0600)));
	mode("o");

	/* A child inherits the mask and changes only its own. */
	pid_t c = fork();
	if (c == 0) {
		T(umask(0));
		T(close(open("child", O_CREAT | O_WRONLY, 0666)));
		mode("child");
		_exit(0);
	}
	T(waitpid(c, &status, 0) == c);
	T(umask(022));

	T(close(fd));
	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
