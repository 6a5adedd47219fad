/* Name and path lengths: a 255-byte name works for creat, stat, mkdir,
 * rename, link, symlink and unlink; 256 bytes give ENAMETOOLONG from
 * each (ENAMETOOLONG beats ENOENT); a path of 4095 bytes is looked up
 * (ENOENT), one of 4096 is too long; a symlink target of 4095 bytes is
 * stored and read back whole, one of 4096 is too long; a long path built
 * from 99-byte names is fine while it stays under 4096. Works in a fresh
 * /tmp/lstar-abi-nametoolong. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-nametoolong"

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

static char n255[256], n256[257], p4095[4096], p4096[4097], target[4097], back[4200];

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct stat st;
	int fd;

	rm_tree();
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	memset(n255, 'a', 255);
	memset(n256, 'b', 256);

	/* 255 bytes: the longest name. */
	T(fd = creat(n255, 0644));
	T(close(fd));
	T(stat(n255, &st));
	T(link(n255, "short"));
	T(unlink(n255));
	T(rename("short", n255));
	T(unlink(n255));
	T(mkdir(n255, 0755));
	T(rmdir(n255));
	T(symlink("x", n255));
	T(unlink(n255));

	/* 256 bytes. */
	T(creat(n256, 0644));
	T(open(n256, O_RDONLY));
	T(stat(n256, &st));
	T(mkdir(n256, 0755));
	T(rmdir(n256));
	T(unlink(n256));
	T(close(creat("short", 0644)));
	T(rename("short", n256));
	T(link("short", n256));
	T(symlink("short", n256));
	T(symlink(n256, "ok"));
	T(stat("ok", &st));
	T(unlink("ok"));
	T(access(n256, F_OK));
	T(chdir(n256));

	/* Whole paths: 4095 bytes are looked up, 4096 are too long. */
	for (int i = 0; i < 4095; i++)
		p4095[i] = i % 2 ? '/' : 'x';
	memset(p4096, '/', 4096);
	p4096[4095] = 'x';
	T(stat(p4095, &st));
	T(stat(p4096, &st));
	T(open(p4096, O_RDONLY));
	T(mkdir(p4096, 0755));
	p4096[4095] = '/';
	T(stat(p4096, &st));

	/* Symlink targets. */
	memset(target, 't', 4095);
	T(symlink(target, "long"));
	T(readlink("long", back, sizeof back));
	printf("read back whole: %d\n", memcmp(back, target, 4095) == 0);
	T(lstat("long", &st));
	printf("size %ld\n", (long)st.st_size);
	target[4095] = 't';
	T(symlink(target, "toolong"));

	/* Many components of 99 bytes, up to about 3000 bytes in all. */
	char deep[4096] = "", part[100];
	memset(part, 'd', 99);
	part[99] = 0;
	int made = 0;
	while (strlen(deep) + 100 < 3000) {
		if (*deep)
			strcat(deep, "/");
		strcat(deep, part);
		if (mkdir(deep, 0755) == 0)
			made++;
	}
	printf("made %d nested directories, path %zu bytes\n", made, strlen(deep));
	T(chdir(deep));
	T(close(creat("deep-file", 0644)));
	T(chdir(DIR_NAME));
	strcat(deep, "/deep-file");
	T(stat(deep, &st));

	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
