/* statx(2) beside fstat: the basic fields agree with stat's (mode, size,
 * links, inode, owner, times, device numbers split into major and minor),
 * the basic-stats bits are in stx_mask whatever was asked, symbolic links
 * are followed unless AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH stats the
 * descriptor, and the errors come as Linux gives them: EINVAL for unknown
 * flags, both sync types at once or the reserved mask bit, ENOENT,
 * ENOTDIR, EBADF, EFAULT. Prints only what any file system agrees on.
 * Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "abi_statx.dir"

/* Linux's struct statx and its constants, written out: this musl's
 * headers predate it. */
struct sx_time {
	long long tv_sec;
	unsigned tv_nsec;
	int reserved;
};
struct statx {
	unsigned stx_mask, stx_blksize;
	unsigned long long stx_attributes;
	unsigned stx_nlink, stx_uid, stx_gid;
	unsigned short stx_mode, spare0;
	unsigned long long stx_ino, stx_size, stx_blocks, stx_attributes_mask;
	struct sx_time stx_atime, stx_btime, stx_ctime, stx_mtime;
	unsigned stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
	unsigned long long spare[14];
};
#define STATX_BASIC_STATS 0x7ffu
#define STATX_ALL 0xfffu
#define AT_STATX_FORCE_SYNC 0x2000
#define AT_STATX_DONT_SYNC 0x4000

static long sx(int dirfd, const char *path, int flags, unsigned mask, struct statx *buf)
{
	return syscall(SYS_statx, dirfd, path, flags, mask, buf);
}

/* Whether statx and stat describe the same file the same way. */
static void compare(const char *what, const struct statx *x, const struct stat *st)
{
	int same = (x->stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS &&
		   x->stx_mode == (st->st_mode & 0xffff) && x->stx_size == (unsigned long long)st->st_size &&
		   x->stx_nlink == st->st_nlink && x->stx_ino == st->st_ino && x->stx_uid == st->st_uid &&
		   x->stx_gid == st->st_gid && x->stx_blocks == (unsigned long long)st->st_blocks &&
		   x->stx_mtime.tv_sec == st->st_mtim.tv_sec && x->stx_mtime.tv_nsec == st->st_mtim.tv_nsec &&
		   x->stx_ctime.tv_sec == st->st_ctim.tv_sec && x->stx_atime.tv_sec == st->st_atim.tv_sec &&
		   x->stx_dev_major == major(st->st_dev) && x->stx_dev_minor == minor(st->st_dev) &&
		   x->stx_rdev_major == major(st->st_rdev) && x->stx_rdev_minor == minor(st->st_rdev);
	printf("%s: statx agrees with stat: %d (mode %o, size %lld, nlink %u)\n", what, same, x->stx_mode,
	       (long long)x->stx_size, x->stx_nlink);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct statx x;
	struct stat st;
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	int fd = open("f", O_CREAT | O_RDWR, 0640);
	T(write(fd, "twelve bytes", 12));
	T(symlink("f", "link"));

	memset(&x, 0xff, sizeof x);
	T(sx(AT_FDCWD, "f", 0, STATX_BASIC_STATS, &x));
	T(stat("f", &st));
	compare("file", &x, &st);
	/* Asked for nothing, Linux still fills the basic fields; since 6.13 it
	 * leaves out the times not asked for, so only the rest is compared. */
	memset(&x, 0xff, sizeof x);
	T(sx(AT_FDCWD, "f", 0, 0, &x));
	printf("mask 0: type, mode, size, links, inode: %d %d %d %d %d\n", (x.stx_mask & 3) == 3,
	       x.stx_mode == (st.st_mode & 0xffff), x.stx_size == (unsigned long long)st.st_size,
	       x.stx_nlink == st.st_nlink, x.stx_ino == st.st_ino);
	T(sx(AT_FDCWD, "link", 0, STATX_ALL, &x));
	compare("through the link", &x, &st);
	T(sx(AT_FDCWD, "link", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &x));
	T(lstat("link", &st));
	compare("the link itself", &x, &st);
	printf("is a link: %d\n", S_ISLNK(x.stx_mode));
	T(sx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &x));
	T(fstat(fd, &st));
	compare("the descriptor", &x, &st);
	T(sx(AT_FDCWD, ".", 0, STATX_BASIC_STATS, &x));
	printf("a directory: %d\n", S_ISDIR(x.stx_mode));
	T(sx(AT_FDCWD, "/dev/null", 0, STATX_BASIC_STATS, &x));
	T(stat("/dev/null", &st));
	compare("/dev/null", &x, &st);
	printf("/dev/null is %u:%u\n", x.stx_rdev_major, x.stx_rdev_minor);
	T(sx(AT_FDCWD, "f", AT_STATX_FORCE_SYNC, STATX_BASIC_STATS, &x));
	T(sx(AT_FDCWD, "f", AT_STATX_DONT_SYNC, STATX_BASIC_STATS, &x));

	T(sx(AT_FDCWD, "f", AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC, STATX_BASIC_STATS, &x));
	T(sx(AT_FDCWD, "f", 0x80000, STATX_BASIC_STATS, &x));
	T(sx(AT_FDCWD, "f", 0, 0x80000000u, &x));
	T(sx(AT_FDCWD, "missing", 0, STATX_BASIC_STATS, &x));
	T(sx(AT_FDCWD, "f/x", 0, STATX_BASIC_STATS, &x));
	T(sx(AT_FDCWD, "", 0, STATX_BASIC_STATS, &x));
	T(sx(-1, "f", 0, STATX_BASIC_STATS, &x));
	T(sx(fd, "f", 0, STATX_BASIC_STATS, &x));
	T(sx(-1, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &x));
	T(sx(AT_FDCWD, "f", 0, STATX_BASIC_STATS, (struct statx *)8));
	T(sx(AT_FDCWD, (const char *)8, 0, STATX_BASIC_STATS, &x));

	T(close(fd));
	T(unlink("link"));
	T(unlink("f"));
	T(chdir(".."));
	T(rmdir(DIR_NAME));
	return 0;
}
