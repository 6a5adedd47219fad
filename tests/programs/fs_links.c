/* Links through the file server: link and linkat (link counts, EPERM for a
 * directory, EEXIST), symlink, symlinkat, readlink and readlinkat (no NUL
 * added, truncation, EINVAL), stat against lstat and fstatat with
 * AT_SYMLINK_NOFOLLOW, relative and absolute targets, `..` through a link,
 * a trailing slash that follows a link, O_NOFOLLOW (ELOOP), O_PATH handles,
 * a dangling link that O_CREAT fills, ELOOP for a loop and after 40 links
 * (40 are followed), and an unlinked file that lives on while open. Works in
 * a fresh /tmp/lstar-fs-test-links and removes it. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_NAME "/tmp/lstar-fs-test-links"

static const char *ename(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EBADF: return "EBADF";
	case EFAULT: return "EFAULT";
	case EEXIST: return "EEXIST";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case ELOOP: return "ELOOP";
	case ENAMETOOLONG: return "ENAMETOOLONG";
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
	if (S_ISREG(m))
		return "file";
	if (S_ISDIR(m))
		return "dir";
	if (S_ISLNK(m))
		return "link";
	return "other";
}

/* What stat and lstat say: type, permissions, size (not of directories:
 * file systems size them differently) and link count. */
static void show(const char *path)
{
	struct stat st, lst;
	int r = stat(path, &st), e = errno;
	int lr = lstat(path, &lst), le = errno;
	printf("%s: stat ", path);
	if (r < 0)
		printf("%s", ename(e));
	else
		printf("%s %04o size %ld nlink %ld", kind(st.st_mode), (unsigned)st.st_mode & 07777,
		       S_ISDIR(st.st_mode) ? 0L : (long)st.st_size, S_ISDIR(st.st_mode) ? 0L : (long)st.st_nlink);
	printf("; lstat ");
	if (lr < 0)
		printf("%s", ename(le));
	else
		printf("%s %04o size %ld", kind(lst.st_mode), (unsigned)lst.st_mode & 07777,
		       S_ISDIR(lst.st_mode) ? 0L : (long)lst.st_size);
	printf("\n");
}

static void readlink_show(const char *path, size_t size)
{
	char buf[64];
	memset(buf, '#', sizeof buf);
	long n = readlink(path, buf, size);
	if (n < 0)
		printf("readlink %s: %s\n", path, ename(errno));
	else
		printf("readlink %s (%zu): %ld \"%.*s\" then '%c'\n", path, size, n, (int)n, buf, buf[n]);
}

static void put(const char *path, const char *text)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	write(fd, text, strlen(text));
	close(fd);
}

static void cat(const char *path)
{
	char buf[64];
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("cat %s: %s\n", path, ename(errno));
		return;
	}
	long n = read(fd, buf, sizeof buf);
	close(fd);
	printf("cat %s: \"%.*s\"\n", path, (int)n, buf);
}

static void cleanup(void)
{
	char name[64];
	const char *files[] = { "f", "hard", "hard2", "rel", "abs", "dirlink", "up", "dangling", "made", "loop",
				"a/b/f", "a/b/back", "a/b/uplink", "gone", "x" };
	for (unsigned i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(name, sizeof name, "%s/%s", DIR_NAME, files[i]);
		unlink(name);
	}
	for (int i = 0; i <= 41; i++) {
		snprintf(name, sizeof name, "%s/l%d", DIR_NAME, i);
		unlink(name);
	}
	rmdir(DIR_NAME "/a/b");
	rmdir(DIR_NAME "/a");
	rmdir(DIR_NAME);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	char name[32], target[32];
	int fd;

	cleanup();
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	T(mkdir("a", 0755));
	T(mkdir("a/b", 0755));
	put("f", "contents");

	/* Hard links. */
	T(link("f", "hard"));
	T(linkat(AT_FDCWD, "f", AT_FDCWD, "hard2", 0));
	show("f");
	T(link("f", "hard"));
	T(link("a", "alink"));
	T(link("nope", "x"));
	T(link("f", "x/"));
	T(link("f", "a/."));
	T(linkat(AT_FDCWD, "f", AT_FDCWD, "x", 0x1));
	struct stat s1, s2;
	stat("f", &s1);
	stat("hard", &s2);
	printf("same inode: %d\n", s1.st_ino == s2.st_ino && s1.st_dev == s2.st_dev);
	T(unlink("hard2"));
	T(unlink("f"));
	show("hard");
	cat("hard");
	T(link("hard", "f"));

	/* Symbolic links. */
	T(symlink("f", "rel"));
	T(symlink(DIR_NAME "/a/b", "abs"));
	T(symlink("a", "dirlink"));
	T(symlink("nowhere", "dangling"));
	T(symlink("f", "rel"));
	T(symlink("", "x"));
	T(symlink("f", "x/"));
	T(symlinkat("../../f", AT_FDCWD, "a/b/back"));
	T(symlinkat("..", AT_FDCWD, "a/b/uplink"));
	show("rel");
	show("abs");
	show("dirlink");
	show("dangling");
	show("a/b/back");
	show("abs/back");
	show("dirlink/b/uplink/b/back");
	show("dirlink/");
	show("rel/");
	readlink_show("rel", 64);
	readlink_show("abs", 64);
	readlink_show("abs", 5);
	readlink_show("f", 64);
	readlink_show("nope", 64);
	readlink_show("dirlink/", 64);
	T(readlink("rel", name, 0));
	T(readlinkat(AT_FDCWD, "a/b/back", target, sizeof target));
	cat("rel");
	cat("a/b/back");
	cat("dangling");

	/* Following, or not. */
	T(open("rel", O_RDONLY | O_NOFOLLOW));
	T(open("dirlink", O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
	T(fd = open("dirlink/", O_RDONLY | O_NOFOLLOW));
	T(close(fd));
	T(fd = open("rel", O_PATH | O_NOFOLLOW));
	T(readlinkat(fd, "", name, sizeof name));
	T(read(fd, name, 1));
	struct stat st;
	T(fstat(fd, &st));
	printf("O_PATH handle: %s\n", kind(st.st_mode));
	T(fstatat(fd, "", &st, AT_EMPTY_PATH));
	printf("fstatat AT_EMPTY_PATH: %s\n", kind(st.st_mode));
	T(close(fd));
	T(fstatat(AT_FDCWD, "rel", &st, AT_SYMLINK_NOFOLLOW));
	printf("fstatat AT_SYMLINK_NOFOLLOW: %s\n", kind(st.st_mode));
	T(fstatat(AT_FDCWD, "rel", &st, 0));
	printf("fstatat: %s\n", kind(st.st_mode));
	T(faccessat(AT_FDCWD, "dangling", F_OK, 0));
	T(faccessat(AT_FDCWD, "dangling", F_OK, AT_SYMLINK_NOFOLLOW));
	T(rmdir("dirlink"));
	T(rmdir("dirlink/"));
	T(unlink("dirlink/"));
	T(chdir("dirlink/b"));
	T(chdir(".."));
	T(chdir(".."));

	/* A dangling link: O_CREAT makes its target, O_EXCL refuses. */
	T(symlink("made", "l0"));
	T(open("l0", O_CREAT | O_EXCL | O_WRONLY, 0644));
	T(open("l0", O_CREAT | O_WRONLY | O_NOFOLLOW, 0644));
	T(fd = open("l0", O_CREAT | O_WRONLY, 0644));
	T(write(fd, "made", 4));
	T(close(fd));
	cat("made");
	T(unlink("l0"));

	/* Loops: a link to itself, and chains of 40 and 41. */
	T(symlink("loop", "loop"));
	T(open("loop", O_RDONLY));
	T(stat("loop", &st));
	T(lstat("loop", &st));
	T(open("loop/x", O_RDONLY));
	T(open("loop", O_CREAT | O_WRONLY, 0644));
	T(symlink("f", "l0"));
	for (int i = 1; i <= 41; i++) {
		snprintf(name, sizeof name, "l%d", i);
		snprintf(target, sizeof target, "l%d", i - 1);
		symlink(target, name);
	}
	T(stat("l39", &st));
	T(stat("l40", &st));
	T(stat("l41", &st));
	T(open("l41", O_RDONLY));
	T(lstat("l41", &st));

	/* An unlinked file lives on while it is open. */
	put("gone", "still here");
	T(fd = open("gone", O_RDWR));
	T(unlink("gone"));
	T(fstat(fd, &st));
	printf("unlinked: nlink %ld size %ld\n", (long)st.st_nlink, (long)st.st_size);
	T(lseek(fd, 0, SEEK_SET));
	T(read(fd, name, 10));
	printf("read \"%.10s\"\n", name);
	T(write(fd, "!", 1));
	T(close(fd));
	T(access("gone", F_OK));

	T(chdir("/"));
	cleanup();
	T(access(DIR_NAME, F_OK));
	return 0;
}
