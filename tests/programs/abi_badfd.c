/* EBADF across the descriptor calls, table-driven: each call is tried
 * with -1, with a number never opened (900), with one just closed (60), and
 * with an O_PATH descriptor (which allows only a few calls: fstat,
 * fchdir for a directory, dup, fcntl, close, and use as a dirfd); plus
 * the access mode of an open descriptor (read on O_WRONLY, write on
 * O_RDONLY: EBADF). abi_mmap_shared has mmap's. Works in a fresh /tmp/lstar-abi-badfd. Differential
 * test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-badfd"

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

static char buf[512];
static struct stat st;
static struct iovec iov = { buf, 4 };

/* One call on descriptor fd: its result as -1 and errno's name, or 0 for
 * success (a new descriptor it made is closed). */
static const char *call(int which, int fd)
{
	long r;
	errno = 0;
	switch (which) {
	case 0: r = read(fd, buf, 4); break;
	case 1: r = write(fd, "x", 1); break;
	case 2: r = pread(fd, buf, 4, 0); break;
	case 3: r = pwrite(fd, "x", 1, 0); break;
	case 4: r = readv(fd, &iov, 1); break;
	case 5: r = writev(fd, &iov, 1); break;
	case 6: r = lseek(fd, 0, SEEK_CUR); break;
	case 7: r = fstat(fd, &st); break;
	case 8: r = fsync(fd); break;
	case 9: r = fdatasync(fd); break;
	case 10: r = ftruncate(fd, 0); break;
	case 11: r = fchmod(fd, 0755); break;
	case 12: r = fchown(fd, 0, 0); break;
	case 13: r = fchdir(fd); chdir(DIR_NAME); break;
	case 14: r = syscall(SYS_getdents64, fd, buf, sizeof buf); break;
	case 15: r = ioctl(fd, FIONREAD, &r); break;
	case 16: r = dup(fd); if (r >= 0) close(r); break;
	case 17: r = dup2(fd, 50); if (r >= 0) close(r); break;
	case 18: r = fcntl(fd, F_GETFL); break;
	case 19: r = openat(fd, "x", O_RDONLY); if (r >= 0) close(r); break;
	case 20: r = fstatat(fd, "x", &st, 0); break;
	case 21: r = mkdirat(fd, "newdir", 0755); if (r == 0) unlinkat(fd, "newdir", AT_REMOVEDIR); break;
	case 22: r = faccessat(fd, "x", F_OK, 0); break;
	case 23: r = syncfs(fd); break;
	case 24:
		/* Linux's select ignores descriptors past the table's size. */
		if (fd < 0 || fd >= 64)
			return "-";
		fd_set s;
		FD_ZERO(&s);
		FD_SET(fd, &s);
		struct timeval tv = { 0, 0 };
		r = select(fd + 1, &s, NULL, NULL, &tv);
		break;
	case 25: { struct pollfd p = { fd, POLLIN, 0 }; r = poll(&p, 1, 0); r = r < 0 ? r : p.revents & POLLNVAL ? -2 : 0; break; }
	case 26: r = close(dup(fd)); break;
	default: r = 0;
	}
	if (r == -2)
		return "POLLNVAL";
	return r == -1 ? ename(errno) : "ok";
}

static const char *names[] = { "read", "write", "pread", "pwrite", "readv", "writev", "lseek", "fstat", "fsync", "fdatasync",
			       "ftruncate", "fchmod", "fchown", "fchdir", "getdents64", "ioctl FIONREAD", "dup", "dup2", "fcntl F_GETFL",
			       "openat", "fstatat", "mkdirat", "faccessat", "syncfs", "select", "poll", "close(dup)" };

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	rm_tree();
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	T(close(open("x", O_CREAT | O_WRONLY, 0644)));
	int path_file = open("x", O_PATH), path_dir = open(".", O_PATH | O_DIRECTORY);
	int ro = open("x", O_RDONLY), wo = open("x", O_WRONLY);
	int closed = dup2(ro, 60);
	close(closed);

	printf("%-15s %-8s %-8s %-8s %-12s %-12s %-8s %-8s\n", "call", "-1", "900", "closed", "O_PATH file", "O_PATH dir", "O_RDONLY",
	       "O_WRONLY");
	for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++) {
		printf("%-15s %-8s", names[i], call(i, -1));
		printf(" %-8s", call(i, 900));
		printf(" %-8s", call(i, closed));
		printf(" %-12s", call(i, path_file));
		printf(" %-12s", call(i, path_dir));
		printf(" %-8s", call(i, ro));
		printf(" %-8s\n", call(i, wo));
	}

	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
