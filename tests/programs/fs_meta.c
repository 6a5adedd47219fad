/* File attributes through the file server: stat, fstat, lstat and
 * newfstatat (type, permission bits, size, link count, owner, block size,
 * device numbers; AT_EMPTY_PATH, bad flags), umask applied to open, creat
 * and mkdir, chmod, fchmod and fchmodat (setuid, setgid and sticky bits
 * kept), chown and fchown as root, utimensat's checks, access and
 * faccessat (root: X_OK needs an execute bit except on directories,
 * EACCES), and /dev/null, /dev/zero and /dev/urandom. Works in a fresh
 * /tmp/lstar-fs-test-meta and removes it. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define DIR_NAME "/tmp/lstar-fs-test-meta"

static const char *ename(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EBADF: return "EBADF";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EEXIST: return "EEXIST";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	default: return "E?";
	}
}

static void report(const char *what, long r)
{
	int e = errno;
	if (r < 0)
		printf("%s = -1 %s\n", what, ename(e));
	else
		printf("%s = %ld\n", what, r);
}

#define T(expr) report(#expr, (long)(expr))

static const char *kind(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "file";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "link";
	case S_IFCHR: return "chr";
	default: return "other";
	}
}

/* The parts of struct stat that agree across file systems: not inode
 * numbers, times, block counts, or a directory's size. */
static void show(const char *label, const struct stat *st)
{
	printf("%s: %s %04o nlink %ld uid %d gid %d", label, kind(st->st_mode), (unsigned)st->st_mode & 07777,
	       (long)st->st_nlink, (int)st->st_uid, (int)st->st_gid);
	if (S_ISREG(st->st_mode) || S_ISLNK(st->st_mode))
		printf(" size %ld blksize %ld", (long)st->st_size, (long)st->st_blksize);
	if (S_ISCHR(st->st_mode))
		printf(" rdev %u:%u", major(st->st_rdev), minor(st->st_rdev));
	printf("\n");
}

static void stat_show(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		printf("%s: %s\n", path, ename(errno));
	else
		show(path, &st);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct stat st;
	char buf[64];
	int fd;

	unlink(DIR_NAME "/f");
	unlink(DIR_NAME "/g");
	unlink(DIR_NAME "/c");
	unlink(DIR_NAME "/l");
	rmdir(DIR_NAME "/d");
	rmdir(DIR_NAME "/e");
	rmdir(DIR_NAME);
	umask(022); /* the host run inherits the caller's */
	T(mkdir(DIR_NAME, 0777));
	T(chdir(DIR_NAME));
	stat_show(".");

	/* umask shapes what is made. */
	T(fd = open("f", O_CREAT | O_RDWR, 0777));
	T(write(fd, "0123456789", 10));
	T(fstat(fd, &st));
	show("f", &st);
	T(umask(077));
	T(umask(0));
	T(mkdir("d", 01777));
	stat_show("d");
	T(umask(027));
	T(mkdir("e", 0777));
	stat_show("e");
	T(close(creat("c", 0666)));
	stat_show("c");
	T(umask(022));
	T(symlink("f", "l"));
	T(lstat("l", &st));
	show("l (lstat)", &st);
	T(stat("l", &st));
	show("l (stat)", &st);

	/* chmod keeps the type and takes all twelve permission bits. */
	T(chmod("f", 04755));
	stat_show("f");
	T(fchmod(fd, 02711));
	stat_show("f");
	T(fchmodat(AT_FDCWD, "l", 0600, 0));
	stat_show("f");
	T(chmod("d", 0700));
	stat_show("d");
	T(chmod("nope", 0700));
	T(fchmod(99, 0700));

	/* chown as root. */
	T(chown("f", 0, 0));
	T(fchown(fd, -1, -1));
	T(lchown("l", 0, 0));
	stat_show("f");

	/* Times: checked, though Lstar keeps none yet. */
	struct timespec ts[2] = { { 1, 0 }, { 2, 1000000000 } };
	T(utimensat(AT_FDCWD, "f", NULL, 0));
	T(futimens(fd, NULL));
	T(utimensat(AT_FDCWD, "nope", NULL, 0));
	T(utimensat(AT_FDCWD, "f", ts, 0));
	T(utimensat(AT_FDCWD, "l", NULL, AT_SYMLINK_NOFOLLOW));
	T(utimensat(AT_FDCWD, "f", NULL, 0x4));

	/* access as root: reading and writing always; executing needs an
	 * execute bit somewhere, except for a directory. */
	T(access("f", R_OK | W_OK));
	T(access("f", X_OK));
	T(chmod("f", 0001));
	T(access("f", X_OK));
	T(access("f", R_OK | W_OK | X_OK));
	T(chmod("f", 0644));
	T(access("d", X_OK));
	T(chmod("d", 0));
	T(access("d", R_OK | W_OK | X_OK));
	T(access("nope", F_OK));
	T(access("f/", F_OK));
	T(access("f", 8));
	T(faccessat(AT_FDCWD, "f", X_OK, 0));
	T(faccessat(AT_FDCWD, "l", R_OK, AT_SYMLINK_NOFOLLOW));
	T(syscall(SYS_faccessat2, AT_FDCWD, "f", R_OK, 0x4));
	T(chmod("d", 0755));

	/* fstatat's flags. */
	T(fstatat(fd, "", &st, AT_EMPTY_PATH));
	show("AT_EMPTY_PATH", &st);
	T(fstatat(AT_FDCWD, "", &st, 0));
	T(fstatat(AT_FDCWD, "f", &st, 0x4));
	T(fstatat(fd, "f", &st, 0));
	T(fstatat(fd, DIR_NAME "/f", &st, 0));
	T(fstatat(99, "f", &st, 0));
	T(fstat(99, &st));
	T(syscall(SYS_fstat, fd, 8));

	/* Devices. */
	stat_show("/dev/null");
	stat_show("/dev/zero");
	stat_show("/dev/urandom");
	T(fd = open("/dev/null", O_RDWR));
	T(write(fd, "gone", 4));
	T(read(fd, buf, sizeof buf));
	T(lseek(fd, 100, SEEK_SET));
	T(close(fd));
	T(fd = open("/dev/zero", O_RDONLY));
	memset(buf, 'x', sizeof buf);
	T(read(fd, buf, 16));
	printf("zero: %d %d\n", buf[0], buf[15]);
	T(close(fd));
	T(fd = open("/dev/urandom", O_RDONLY));
	T(read(fd, buf, 32));
	T(read(fd, (void *)8, 32));
	T(close(fd));

	T(unlink("f"));
	T(unlink("c"));
	T(unlink("l"));
	T(rmdir("d"));
	T(rmdir("e"));
	T(chdir("/"));
	T(rmdir(DIR_NAME));
	return 0;
}
