/* The stat family: st_mode's type for a file, a directory, a symlink
 * (lstat; stat follows it), a pipe and /dev/null, its permission bits,
 * st_size as a file grows and shrinks and of a symlink (its target's
 * length), st_nlink through link and unlink and of a directory (2 + its
 * subdirectories), the same st_ino and st_dev for hard links, fstat on an
 * unlinked file, and the errors ENOENT, ENOTDIR, EFAULT and EBADF. Works
 * in a fresh /tmp/lstar-abi-stat. Differential test. */
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

#define DIR_NAME "/tmp/lstar-abi-stat"

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

static const char *kind(mode_t m)
{
	return S_ISREG(m) ? "file" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "link" : S_ISFIFO(m) ? "fifo" : S_ISCHR(m) ? "chr" : "other";
}

static void show(const char *label, int r, const struct stat *st)
{
	if (r < 0) {
		printf("%s: %s\n", label, ename(errno));
		return;
	}
	printf("%s: %s %04o nlink %ld", label, kind(st->st_mode), (unsigned)st->st_mode & 07777, (long)st->st_nlink);
	if (!S_ISDIR(st->st_mode))
		printf(" size %ld", (long)st->st_size);
	printf("\n");
}

#define STAT(p) do { struct stat st_; show("stat " p, stat(p, &st_), &st_); } while (0)
#define LSTAT(p) do { struct stat st_; show("lstat " p, lstat(p, &st_), &st_); } while (0)
#define FSTAT(fd) do { struct stat st_; show("fstat " #fd, fstat(fd, &st_), &st_); } while (0)

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct stat a, b;
	int fd, p[2];

	rm_tree();
	umask(022);
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));

	/* Types and sizes. */
	T(fd = open("f", O_CREAT | O_RDWR, 0640));
	FSTAT(fd);
	T(write(fd, "0123456789", 10));
	FSTAT(fd);
	T(ftruncate(fd, 3));
	STAT("f");
	T(mkdir("d", 0711));
	STAT("d");
	T(symlink("f", "lf"));
	T(symlink("d/../nowhere", "dangling"));
	STAT("lf");
	LSTAT("lf");
	STAT("dangling");
	LSTAT("dangling");
	T(pipe(p));
	FSTAT(p[0]);
	FSTAT(p[1]);
	STAT("/dev/null");

	/* Link counts. */
	T(link("f", "f2"));
	T(link("f", "d/f3"));
	STAT("f");
	T(stat("f", &a));
	T(stat("d/f3", &b));
	printf("same inode: %d, same device: %d\n", a.st_ino == b.st_ino, a.st_dev == b.st_dev);
	T(lstat("lf", &b));
	printf("symlink has its own inode: %d\n", a.st_ino != b.st_ino);
	T(unlink("f2"));
	STAT("d/f3");
	T(mkdir("d/s1", 0755));
	T(mkdir("d/s2", 0755));
	STAT("d");
	T(rmdir("d/s1"));
	STAT("d");
	STAT(".");

	/* An unlinked file keeps its inode while it is open. */
	T(unlink("f"));
	T(unlink("d/f3"));
	FSTAT(fd);
	T(close(fd));

	/* Errors. */
	STAT("nope");
	STAT("lf/x");
	STAT("d/s2/");
	LSTAT("lf/");
	STAT("");
	T(stat((char *)8, &a));
	T(syscall(SYS_stat, ".", 8));
	T(syscall(SYS_lstat, "lf", 8));
	T(syscall(SYS_fstat, p[0], 8));
	T(close(p[0]));
	T(fstat(p[0], &a));
	T(close(p[1]));

	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
