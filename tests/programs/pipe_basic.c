/* Pipes: pipe and pipe2 (O_CLOEXEC, O_NONBLOCK, a bad flag, a bad
 * pointer), the ends' status flags, fstat (a FIFO), lseek and pread
 * (ESPIPE), the wrong end (EBADF), FIONREAD, F_GETPIPE_SZ and
 * F_SETPIPE_SZ, a parent writing to a child across fork with end of file
 * once every write end is closed (a dup'd end included), and descriptors
 * reused by many pipes in turn. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *ename(int e)
{
	switch (e) {
	case EBADF: return "EBADF";
	case EFAULT: return "EFAULT";
	case EINVAL: return "EINVAL";
	case ESPIPE: return "ESPIPE";
	case EAGAIN: return "EAGAIN";
	case EBUSY: return "EBUSY";
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

#define T(expr) (errno = 0, report(#expr, (long)(expr)))

static void flags(const char *name, int fd)
{
	int fl = fcntl(fd, F_GETFL);
	int fd_fl = fcntl(fd, F_GETFD);
	printf("%s: F_GETFL=%#o F_GETFD=%d\n", name, fl, fd_fl);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int p[2];
	T(pipe(p));
	printf("ends: %d %d\n", p[0], p[1]);
	flags("read end", p[0]);
	flags("write end", p[1]);

	struct stat st, st2;
	T(fstat(p[0], &st));
	T(fstat(p[1], &st2));
	printf("fifo=%d perms=%o nlink=%ld size=%ld blksize=%ld same inode=%d\n", S_ISFIFO(st.st_mode), st.st_mode & 07777, (long)st.st_nlink,
	       (long)st.st_size, (long)st.st_blksize, st2.st_ino == st.st_ino);

	char buf[256];
	T(lseek(p[0], 0, SEEK_CUR));
	T(lseek(p[1], 0, SEEK_SET));
	T(pread(p[0], buf, 1, 0));
	T(pwrite(p[1], "x", 1, 0));
	T(write(p[1], "hello", 5));
	int avail = -1;
	T(ioctl(p[0], FIONREAD, &avail));
	printf("FIONREAD: %d\n", avail);
	T(write(p[0], "x", 1));
	T(read(p[1], buf, 1));
	T(read(p[0], buf, 3));
	printf("got: %.3s\n", buf);
	T(read(p[0], buf, sizeof buf));
	printf("got: %.2s\n", buf);
	T(write(p[1], "", 0));
	T(read(p[0], buf, 0));
	T(fsync(p[1]));
	T(fcntl(p[0], F_GETPIPE_SZ));
	T(fcntl(p[1], F_SETPIPE_SZ, 4096));
	T(fcntl(p[1], F_GETPIPE_SZ));
	T(fcntl(p[1], F_SETPIPE_SZ, 10000));
	T(fcntl(1 + p[1], F_GETPIPE_SZ));
	T(close(p[0]));
	T(close(p[1]));

	/* pipe2's flags. */
	T(pipe2(p, O_CLOEXEC | O_NONBLOCK));
	flags("cloexec|nonblock read end", p[0]);
	flags("cloexec|nonblock write end", p[1]);
	close(p[0]);
	close(p[1]);
	T(pipe2(p, O_APPEND));
	int *volatile bad = (int *)8;
	T(pipe(bad));
	T(pipe2(p, 0));
	printf("ends after the failures: %d %d\n", p[0], p[1]);
	close(p[0]);
	close(p[1]);

	/* A full pipe and F_SETPIPE_SZ: EBUSY below what it holds. */
	T(pipe2(p, O_NONBLOCK));
	static char page[4096];
	int pages = 0;
	while (write(p[1], page, sizeof page) == (long)sizeof page)
		pages++;
	printf("pages to fill: %d (%s)\n", pages, ename(errno));
	T(fcntl(p[1], F_SETPIPE_SZ, 8192));
	close(p[0]);
	close(p[1]);

	/* Parent to child across fork; the child sees end of file only when
	 * the last write end (the parent's dup included) is closed. */
	T(pipe(p));
	pid_t c = fork();
	if (c == 0) {
		close(p[1]);
		long total = 0, reads = 0, n;
		char text[64] = "";
		while ((n = read(p[0], buf, sizeof buf)) > 0) {
			if (total + n < (long)sizeof text)
				memcpy(text + total, buf, n);
			total += n;
			reads++;
		}
		printf("child: %ld bytes, then %ld: %s\n", total, n, text);
		_exit(0);
	}
	close(p[0]);
	int extra = dup(p[1]);
	/* Results are printed once the child is done, to keep the order. */
	long w1 = write(p[1], "one ", 4);
	long c1 = close(p[1]);
	long w2 = write(extra, "two ", 4);
	long w3 = write(extra, "three", 5);
	close(extra);
	int status;
	waitpid(c, &status, 0);
	printf("parent: wrote %ld, closed %ld, wrote %ld and %ld through the dup\n", w1, c1, w2, w3);
	printf("child exited %d\n", WEXITSTATUS(status));

	/* Many pipes in turn reuse the same descriptors. */
	int same = 1;
	for (int i = 0; i < 200; i++) {
		if (pipe(p) != 0 || p[0] != 3 || p[1] != 4)
			same = 0;
		write(p[1], "x", 1);
		close(p[0]);
		close(p[1]);
	}
	printf("200 pipes, same descriptors: %d\n", same);
	return 0;
}
