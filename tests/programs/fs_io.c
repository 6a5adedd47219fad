/* Regular files through the file server: open, creat, read, write, lseek,
 * pread64, pwrite64, readv, writev, O_APPEND, O_TRUNC, O_EXCL, truncate and
 * ftruncate, with the errors Linux gives: EBADF, EISDIR, ENOENT, EEXIST,
 * ENOTDIR, ESPIPE, EINVAL, ENXIO, EFAULT (and a write that faults part way),
 * ENAMETOOLONG. Works in a fresh /tmp/lstar-fs-test-io and removes it.
 * Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define DIR_NAME "/tmp/lstar-fs-test-io"

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
	case EMFILE: return "EMFILE";
	case ESPIPE: return "ESPIPE";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case ENXIO: return "ENXIO";
	case EFBIG: return "EFBIG";
	default: return "E?";
	}
}

/* Prints what a call returned: the value, or the errno's name. */
static void report(const char *what, long r)
{
	int e = errno;
	if (r < 0)
		printf("%s = -1 %s\n", what, ename(e));
	else
		printf("%s = %ld\n", what, r);
}

#define T(expr) report(#expr, (long)(expr))

static void show_file(const char *path)
{
	char buf[256];
	int fd = open(path, O_RDONLY);
	long n = read(fd, buf, sizeof buf);
	printf("%s holds %ld bytes: \"", path, n);
	for (long i = 0; i < n; i++)
		putchar(buf[i] ? buf[i] : '0');
	printf("\"\n");
	close(fd);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	char buf[64];
	int fd, fd2;

	/* A fresh directory (a failed earlier host run may have left one). */
	unlink(DIR_NAME "/f");
	unlink(DIR_NAME "/g");
	unlink(DIR_NAME "/c");
	rmdir(DIR_NAME "/d");
	rmdir(DIR_NAME);
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));

	/* Create, write, read back. */
	T(fd = open("f", O_CREAT | O_EXCL | O_RDWR, 0644));
	T(write(fd, "hello, world", 12));
	T(lseek(fd, 0, SEEK_CUR));
	T(read(fd, buf, sizeof buf));
	T(lseek(fd, 7, SEEK_SET));
	T(read(fd, buf, 3));
	printf("read: %.3s\n", buf);
	T(lseek(fd, -2, SEEK_END));
	T(read(fd, buf, sizeof buf));
	printf("read: %.2s\n", buf);
	T(lseek(fd, -1, SEEK_SET));
	T(lseek(fd, -100, SEEK_CUR));
	T(lseek(fd, 0, 99));
	T(lseek(fd, 3, SEEK_DATA));
	T(lseek(fd, 3, SEEK_HOLE));
	T(lseek(fd, 12, SEEK_DATA));

	/* A write past the end leaves a gap of zeros. */
	T(lseek(fd, 14, SEEK_SET));
	T(write(fd, "!", 1));
	show_file("f");

	/* Positioned reads and writes leave the offset alone. */
	T(pwrite(fd, "HELLO", 5, 0));
	T(pread(fd, buf, 4, 7));
	printf("pread: %.4s\n", buf);
	T(lseek(fd, 0, SEEK_CUR));
	T(pread(fd, buf, 4, -1));
	T(pread(fd, buf, 4, 100));

	/* Vectors. */
	struct iovec iov[3] = {
		{ .iov_base = "ab", .iov_len = 2 },
		{ .iov_base = "", .iov_len = 0 },
		{ .iov_base = "cde", .iov_len = 3 },
	};
	T(lseek(fd, 0, SEEK_SET));
	T(writev(fd, iov, 3));
	char x[2], y[4];
	struct iovec in[2] = { { .iov_base = x, .iov_len = 2 }, { .iov_base = y, .iov_len = 4 } };
	T(lseek(fd, 0, SEEK_SET));
	T(readv(fd, in, 2));
	printf("readv: %.2s|%.4s\n", x, y);
	T(writev(fd, iov, -1));
	T(writev(fd, iov, 1025));
	show_file("f");

	/* O_APPEND: every write goes to the end, pwrite too (Linux). */
	T(fd2 = open("f", O_WRONLY | O_APPEND));
	T(write(fd2, "+", 1));
	T(lseek(fd2, 0, SEEK_CUR));
	T(pwrite(fd2, "#", 1, 0));
	T(read(fd2, buf, 1));
	show_file("f");
	T(close(fd2));

	/* Truncation. */
	T(ftruncate(fd, 4));
	show_file("f");
	T(ftruncate(fd, 6));
	show_file("f");
	T(truncate("f", 2));
	show_file("f");
	T(truncate("f", -1));
	T(truncate(".", 0));
	T(truncate("nope", 0));
	T(fd2 = open("f", O_RDONLY | O_TRUNC));
	show_file("f");
	T(ftruncate(fd2, 1));
	T(close(fd2));
	T(fd2 = creat("c", 0600));
	T(read(fd2, buf, 1));
	T(write(fd2, "creat", 5));
	T(close(fd2));
	T(fd2 = open("c", O_WRONLY | O_TRUNC));
	T(close(fd2));
	show_file("c");

	/* Errors. */
	T(open("f", O_CREAT | O_EXCL | O_WRONLY, 0644));
	T(open("nope", O_RDONLY));
	T(open("", O_RDONLY));
	T(open("f/", O_RDONLY));
	T(open("f/x", O_RDONLY));
	T(open("f", O_RDONLY | O_DIRECTORY));
	T(mkdir("d", 0755));
	T(open("d", O_WRONLY));
	T(open("d", O_RDWR));
	T(open("d", O_CREAT | O_RDONLY, 0644));
	T(open("new/", O_CREAT | O_RDONLY, 0644));
	T(fd2 = open("d", O_RDONLY));
	T(read(fd2, buf, 1));
	T(write(fd2, buf, 1));
	T(close(fd2));
	T(close(fd2));
	T(read(fd2, buf, 1));
	T(write(-1, buf, 1));
	T(fd2 = open("f", O_WRONLY));
	T(read(fd2, buf, 1));
	T(close(fd2));
	T(fd2 = open("f", O_RDONLY));
	T(write(fd2, "x", 1));
	T(close(fd2));
	T(lseek(1, 0, SEEK_CUR));
	T(pread(1, buf, 1, 0));
	T(pwrite(1, buf, 1, 0));

	/* Bad pointers: EFAULT, or as much as was readable. */
	T(write(fd, (void *)8, 5));
	T(read(fd, (void *)8, 5));
	T(lseek(fd, 0, SEEK_SET));
	T(read(fd, (void *)8, 5));
	T(open((char *)8, O_RDONLY));
	T(stat((char *)8, (struct stat *)buf));
	char *pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(pages + 4096, 4096);
	memcpy(pages + 4093, "xyz", 3);
	T(ftruncate(fd, 0));
	T(lseek(fd, 0, SEEK_SET));
	T(write(fd, pages + 4093, 100));
	show_file("f");
	T(pwrite(fd, pages + 4096, 10, 0));
	show_file("f");

	/* Names too long. */
	char longname[300];
	memset(longname, 'n', 256);
	longname[256] = 0;
	T(open(longname, O_RDONLY));
	T(open(longname, O_CREAT | O_WRONLY, 0644));
	static char longpath[5000];
	memset(longpath, 'p', sizeof longpath - 1);
	T(open(longpath, O_RDONLY));

	T(close(fd));
	T(unlink("f"));
	T(unlink("c"));
	T(rmdir("d"));
	T(chdir("/"));
	T(rmdir(DIR_NAME));
	return 0;
}
