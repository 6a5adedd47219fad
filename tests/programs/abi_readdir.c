/* getdents64 (through readdir) and getdents: every name exactly once
 * with "." and ".." (sorted before printing: file systems order entries
 * differently), d_type for each kind, 100 entries read in small batches,
 * rewinddir, entries added while reading, a buffer too small for one
 * entry (EINVAL), a file (ENOTDIR), a closed descriptor (EBADF), a bad
 * buffer (EFAULT), and end of directory (0). Works in a fresh
 * /tmp/lstar-abi-readdir. Differential test. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-readdir"

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

static int cmp(const void *a, const void *b) { return strcmp(*(char **)a, *(char **)b); }

static const char *type(unsigned char t)
{
	return t == DT_REG ? "reg" : t == DT_DIR ? "dir" : t == DT_LNK ? "lnk" : t == DT_FIFO ? "fifo" : "?";
}

/* Counts the names a raw getdents64 walk returns with a buffer of `size`. */
static int walk64(const char *path, size_t size)
{
	char buf[4096];
	int fd = open(path, O_RDONLY | O_DIRECTORY), n = 0;
	long r;
	while ((r = syscall(SYS_getdents64, fd, buf, size)) > 0)
		for (long off = 0; off < r; off += ((struct dirent *)(buf + off))->d_reclen)
			n++;
	printf("getdents64 %s with %zu bytes: %d names, last %ld\n", path, size, n, r);
	close(fd);
	return n;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	char buf[512], *names[16];
	int fd, n = 0;

	rm_tree();
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	T(mkdir("d", 0755));
	T(close(open("d/file", O_CREAT | O_WRONLY, 0644)));
	T(mkdir("d/sub", 0755));
	T(symlink("file", "d/link"));

	/* Names and types, sorted. */
	DIR *dir = opendir("d");
	struct dirent *e;
	while ((e = readdir(dir)) && n < 16) {
		names[n] = malloc(300);
		snprintf(names[n++], 300, "%s:%s", e->d_name, type(e->d_type));
	}
	qsort(names, n, sizeof *names, cmp);
	for (int i = 0; i < n; i++)
		printf("%s%s", i ? " " : "", names[i]);
	printf("\n");

	/* rewinddir sees an entry added since. */
	T(close(open("d/later", O_CREAT | O_WRONLY, 0644)));
	rewinddir(dir);
	n = 0;
	while ((e = readdir(dir)))
		n++;
	printf("after rewind: %d\n", n);
	closedir(dir);

	/* 100 entries, in batches of every size. */
	T(mkdir("many", 0755));
	for (int i = 0; i < 100; i++) {
		snprintf(buf, sizeof buf, "many/name-%03d-%.*s", i, i % 40, "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz");
		close(open(buf, O_CREAT | O_WRONLY, 0644));
	}
	walk64("many", 4096);
	walk64("many", 512);
	walk64("many", 100);
	walk64(".", 64);

	/* The old getdents: the same names, d_type in the record's last byte. */
	T(fd = open("d", O_RDONLY | O_DIRECTORY));
	long r = syscall(SYS_getdents, fd, buf, sizeof buf);
	int count = 0, dirs = 0;
	for (long off = 0; off < r;) {
		unsigned short reclen = *(unsigned short *)(buf + off + 16);
		count++;
		dirs += buf[off + reclen - 1] == DT_DIR;
		off += reclen;
	}
	printf("getdents: %d names, %d directories\n", count, dirs);
	T(syscall(SYS_getdents, fd, buf, sizeof buf));
	T(close(fd));

	/* Errors. */
	T(fd = open("d", O_RDONLY | O_DIRECTORY));
	T(syscall(SYS_getdents64, fd, buf, 8));
	T(syscall(SYS_getdents64, fd, buf, 0));
	T(syscall(SYS_getdents64, fd, (void *)8, sizeof buf));
	T(syscall(SYS_getdents, fd, buf, 8));
	T(close(fd));
	T(syscall(SYS_getdents64, fd, buf, sizeof buf));
	T(fd = open("d/file", O_RDONLY));
	T(syscall(SYS_getdents64, fd, buf, sizeof buf));
	T(syscall(SYS_getdents, fd, buf, sizeof buf));
	T(close(fd));
	T(fd = open("d", O_PATH));
	T(syscall(SYS_getdents64, fd, buf, sizeof buf));
	T(close(fd));

	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
