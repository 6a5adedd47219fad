/* Directories through the file server: mkdir, mkdirat, rmdir, unlink,
 * unlinkat (AT_REMOVEDIR), rename, renameat, renameat2 (RENAME_NOREPLACE),
 * chdir, fchdir, getcwd (length, ERANGE, a removed working directory),
 * getdents64 through readdir (names and d_type, sorted; entries removed
 * while reading), directory link counts, and their errors: EEXIST,
 * ENOENT, ENOTDIR, EISDIR, ENOTEMPTY, EINVAL, EBUSY, EBADF. Works in a
 * fresh /tmp/lstar-fs-test-dirs and removes it. Differential test. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DIR_NAME "/tmp/lstar-fs-test-dirs"

static const char *ename(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EBADF: return "EBADF";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case ERANGE: return "ERANGE";
	case ENOTEMPTY: return "ENOTEMPTY";
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

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *type_name(unsigned char t)
{
	switch (t) {
	case DT_DIR: return "dir";
	case DT_REG: return "file";
	case DT_LNK: return "link";
	case DT_CHR: return "chr";
	default: return "?";
	}
}

/* Lists a directory sorted by name (file systems order entries
 * differently), with each entry's type. */
static void list(const char *path)
{
	DIR *d = opendir(path);
	if (!d) {
		printf("opendir %s: %s\n", path, ename(errno));
		return;
	}
	char *names[64];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 64) {
		char *s = malloc(strlen(e->d_name) + 8);
		sprintf(s, "%s(%s)", e->d_name, type_name(e->d_type));
		names[n++] = s;
	}
	closedir(d);
	qsort(names, n, sizeof names[0], by_name);
	printf("%s:", path);
	for (int i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
}

static void nlink(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		printf("stat %s: %s\n", path, ename(errno));
	else
		printf("%s: nlink %ld, %s\n", path, (long)st.st_nlink, S_ISDIR(st.st_mode) ? "directory" : "not a directory");
}

static void cwd(void)
{
	char buf[256];
	long r = syscall(SYS_getcwd, buf, sizeof buf);
	if (r < 0)
		printf("getcwd: %s\n", ename(errno));
	else
		printf("getcwd: %ld \"%s\"\n", r, buf);
}

static void touch(const char *path)
{
	close(open(path, O_CREAT | O_WRONLY, 0644));
}

/* Removes a tree a failed earlier host run may have left. */
static void rm_rf(const char *path)
{
	DIR *d = opendir(path);
	if (!d) {
		unlink(path);
		return;
	}
	struct dirent *e;
	char sub[512];
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
		rm_rf(sub);
	}
	closedir(d);
	rmdir(path);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	char buf[256];
	int fd, dfd;

	rm_rf(DIR_NAME);
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	cwd();

	/* Making directories and files. */
	T(mkdir("a", 0755));
	T(mkdir("a", 0755));
	T(mkdir("a/b/", 0755));
	T(mkdir("a/b/c", 0700));
	T(mkdir("nope/x", 0755));
	T(mkdir(".", 0755));
	T(mkdir("..", 0755));
	T(mkdir("/", 0755));
	touch("a/f");
	T(mkdir("a/f", 0755));
	T(mkdir("a/f/x", 0755));
	list("a");
	list(".");
	nlink(".");
	nlink("a");
	nlink("a/b");
	nlink("a/b/c");
	nlink("a/f");

	/* *at() calls with a directory descriptor. */
	T(dfd = open("a", O_RDONLY | O_DIRECTORY));
	T(mkdirat(dfd, "m", 0755));
	T(fd = openat(dfd, "m/g", O_CREAT | O_WRONLY, 0644));
	T(close(fd));
	T(unlinkat(dfd, "m/g", 0));
	T(unlinkat(dfd, "m", AT_REMOVEDIR));
	T(unlinkat(dfd, "m", AT_REMOVEDIR));
	T(unlinkat(dfd, "f", 0x4));
	T(fd = open("a/f", O_RDONLY));
	T(mkdirat(fd, "x", 0755));
	T(openat(fd, "x", O_RDONLY));
	T(openat(99, "x", O_RDONLY));
	T(openat(99, "/tmp", O_RDONLY | O_DIRECTORY) >= 0);
	T(close(fd));

	/* The working directory. */
	T(chdir("a/b"));
	cwd();
	T(chdir("c"));
	cwd();
	T(chdir("../../f"));
	T(chdir("nope"));
	T(fchdir(dfd));
	cwd();
	T(syscall(SYS_getcwd, buf, 5));
	T(syscall(SYS_getcwd, buf, strlen(DIR_NAME) + 2));
	T(syscall(SYS_getcwd, buf, strlen(DIR_NAME) + 3));
	T(syscall(SYS_getcwd, (void *)8, 100));
	T(fd = open("f", O_RDONLY));
	T(fchdir(fd));
	T(close(fd));
	T(fchdir(fd));
	T(chdir(".."));
	cwd();

	/* Removing. */
	T(rmdir("a"));
	T(rmdir("a/f"));
	T(rmdir("a/b/c/."));
	T(rmdir("a/b/c/.."));
	T(rmdir("/"));
	T(rmdir("nope"));
	T(unlink("a/b"));
	T(unlink("a/b/"));
	T(unlink("a/f/"));
	T(unlink("."));
	T(unlink("nope"));
	T(unlink("a/f"));
	T(unlink("a/f"));
	nlink("a/b");
	T(rmdir("a/b/c/"));
	nlink("a/b");
	nlink("a");

	/* Renames. */
	touch("a/one");
	touch("a/two");
	T(mkdir("a/d1", 0755));
	T(mkdir("a/d2", 0755));
	touch("a/d2/inside");
	T(rename("a/one", "a/uno"));
	T(rename("a/one", "a/uno"));
	T(rename("a/uno", "a/two"));
	list("a");
	T(rename("a/two", "a/d1"));
	T(rename("a/d1", "a/two"));
	T(rename("a/d1", "a/d2"));
	T(rename("a/d2", "a/d1"));
	list("a");
	T(rename("a/d1", "a/d1/sub"));
	T(rename("a/d1", "a"));
	T(rename("a/d1/inside", "a/d1/.."));
	T(rename("a/two", "a/two/"));
	T(rename("a/.", "a/x"));
	T(rename("a/d1", "b"));
	nlink(".");
	nlink("a");
	list(".");
	T(rename("b", "a/d1"));
	T(renameat(dfd, "two", AT_FDCWD, "two"));
	T(syscall(SYS_renameat2, AT_FDCWD, "two", dfd, "d1", 1));
	T(syscall(SYS_renameat2, AT_FDCWD, "two", dfd, "new", 1));
	T(syscall(SYS_renameat2, AT_FDCWD, "two", dfd, "new", 3));
	list("a");
	list("a/d1");

	/* Remove entries while reading: none is skipped or seen twice. */
	T(mkdir("many", 0755));
	for (int i = 0; i < 40; i++) {
		snprintf(buf, sizeof buf, "many/entry-with-a-long-name-%02d", i);
		touch(buf);
	}
	DIR *d = opendir("many");
	struct dirent *e;
	int seen = 0, removed = 0;
	char entry[300];
	while ((e = readdir(d))) {
		seen++;
		snprintf(entry, sizeof entry, "many/%s", e->d_name);
		if (e->d_name[0] != '.' && unlink(entry) == 0)
			removed++;
	}
	rewinddir(d);
	int again = 0;
	while ((e = readdir(d)))
		again++;
	closedir(d);
	printf("many: seen %d, removed %d, then %d left\n", seen, removed, again);
	T(rmdir("many"));

	/* A removed working directory. */
	T(mkdir("gone", 0755));
	T(chdir("gone"));
	T(rmdir("../gone"));
	cwd();
	T(open("x", O_CREAT | O_WRONLY, 0644));
	T(mkdir("x", 0755));
	T(fd = open(".", O_RDONLY | O_DIRECTORY));
	T(syscall(SYS_getdents64, fd, buf, sizeof buf));
	T(close(fd));
	T(chdir(DIR_NAME));

	/* getdents64 itself. */
	T(fd = open("a", O_RDONLY | O_DIRECTORY));
	T(syscall(SYS_getdents64, fd, buf, 10));
	T(syscall(SYS_getdents64, fd, (void *)8, sizeof buf));
	T(close(fd));
	T(fd = open("a/d1/inside", O_RDONLY));
	T(syscall(SYS_getdents64, fd, buf, sizeof buf));
	T(close(fd));
	T(syscall(SYS_getdents64, 99, buf, sizeof buf));

	T(close(dfd));
	T(chdir("/"));
	rm_rf(DIR_NAME);
	T(access(DIR_NAME, F_OK));
	return 0;
}
