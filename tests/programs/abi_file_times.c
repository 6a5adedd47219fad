/* File times in struct stat: a new file's atime, mtime and ctime are
 * equal and recent; a write moves mtime and ctime forward; a read (the
 * file system may be mounted noatime or relatime, so atime is left out);
 * chmod, chown, link and rename move only ctime; utimensat with explicit
 * times sets atime and mtime exactly (nanoseconds included) and moves
 * ctime to now; UTIME_OMIT and UTIME_NOW; futimens; a directory's mtime
 * moves when an entry is added or removed. Only relations and the times
 * set explicitly are printed. Works in a fresh /tmp/lstar-abi-file-times.
 * Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-file-times"

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

static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

static struct stat st(const char *path)
{
	struct stat s;
	memset(&s, 0, sizeof s);
	stat(path, &s);
	return s;
}

/* Sleeps long enough for a coarse file system clock to tick. */
static void tick(void)
{
	struct timespec t = { 0, 20000000 };
	nanosleep(&t, NULL);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct timespec now;
	struct stat a, b;
	int fd;

	rm_tree();
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	clock_gettime(CLOCK_REALTIME, &now);
	T(fd = open("f", O_CREAT | O_RDWR, 0644));
	a = st("f");
	printf("new: a == m == c %d, within 5 s of now %d\n", ns(a.st_atim) == ns(a.st_mtim) && ns(a.st_mtim) == ns(a.st_ctim),
	       ns(a.st_mtim) - ns(now) < 5000000000LL && ns(now) - ns(a.st_mtim) < 5000000000LL);

	tick();
	T(write(fd, "data", 4));
	b = st("f");
	printf("write: mtime later %d, ctime later %d\n", ns(b.st_mtim) > ns(a.st_mtim), ns(b.st_ctim) > ns(a.st_ctim));

	const char *what[] = { "chmod", "chown", "link", "rename" };
	for (int i = 0; i < 4; i++) {
		a = st("f");
		tick();
		if (i == 0)
			chmod("f", 0600);
		else if (i == 1)
			chown("f", 0, 0);
		else if (i == 2)
			link("f", "g");
		else
			rename("g", "h");
		b = st(i == 3 ? "h" : "f");
		printf("%s: mtime same %d, ctime later %d\n", what[i], ns(b.st_mtim) == ns(a.st_mtim), ns(b.st_ctim) > ns(a.st_ctim));
	}

	/* Explicit times. */
	struct timespec set[2] = { { 1000000000, 123456789 }, { 1200000000, 987654321 } };
	a = st("f");
	tick();
	T(utimensat(AT_FDCWD, "f", set, 0));
	b = st("f");
	printf("set: atime %lld.%09ld mtime %lld.%09ld, ctime later %d\n", (long long)b.st_atim.tv_sec, b.st_atim.tv_nsec,
	       (long long)b.st_mtim.tv_sec, b.st_mtim.tv_nsec, ns(b.st_ctim) > ns(a.st_ctim));
	struct timespec omit_now[2] = { { 0, UTIME_OMIT }, { 0, UTIME_NOW } };
	T(utimensat(AT_FDCWD, "f", omit_now, 0));
	b = st("f");
	printf("omit/now: atime kept %d, mtime recent %d\n", b.st_atim.tv_sec == 1000000000, b.st_mtim.tv_sec > 1200000000);
	T(futimens(fd, set));
	b = st("f");
	printf("futimens: mtime %lld\n", (long long)b.st_mtim.tv_sec);

	/* A directory's mtime follows its entries. */
	a = st(".");
	tick();
	T(close(creat("new", 0644)));
	b = st(".");
	printf("entry added: dir mtime later %d\n", ns(b.st_mtim) > ns(a.st_mtim));
	a = b;
	tick();
	T(unlink("new"));
	b = st(".");
	printf("entry removed: dir mtime later %d\n", ns(b.st_mtim) > ns(a.st_mtim));

	T(close(fd));
	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
