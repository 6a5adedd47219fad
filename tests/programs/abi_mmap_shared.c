/* Shared and file-backed mappings: MAP_SHARED|MAP_ANONYMOUS memory seen
 * by parent and child in both directions after fork, and surviving the
 * child's munmap; MAP_PRIVATE and MAP_SHARED mappings of a regular file
 * (its contents, zeros past the end of the file in the last page, a
 * shared write reaching the file, a private one not), of /dev/zero
 * (zeros); and the errors: a closed or O_PATH descriptor (EBADF), a pipe or a
 * directory (ENODEV), MAP_SHARED with PROT_WRITE on an O_RDONLY file
 * (EACCES), an O_WRONLY file (EACCES). Works in a fresh
 * /tmp/lstar-abi-mmap-shared. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-mmap-shared"

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

static void mm(const char *what, void *p)
{
	if (p == MAP_FAILED)
		printf("%s: MAP_FAILED %s\n", what, ename(errno));
	else
		printf("%s: ok\n", what);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	const long pg = 4096;
	char buf[16];
	int go[2], back[2], fd, p[2];

	/* Shared anonymous memory, both ways. */
	char *shared = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	strcpy(shared, "parent");
	pipe(go);
	pipe(back);
	pid_t c = fork();
	if (c == 0) {
		printf("child sees \"%s\"\n", shared);
		strcpy(shared, "child");
		write(back[1], "w", 1);
		read(go[0], buf, 1);
		printf("child sees \"%s\"\n", shared);
		munmap(shared, pg);
		_exit(0);
	}
	read(back[0], buf, 1);
	printf("parent sees \"%s\"\n", shared);
	strcpy(shared, "parent again");
	write(go[1], "g", 1);
	waitpid(c, NULL, 0);
	printf("after the child's munmap: \"%s\"\n", shared);

	/* Files. */
	rm_tree();
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	T(fd = open("f", O_CREAT | O_RDWR, 0644));
	T(write(fd, "file contents", 13));
	char *priv = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	mm("private file mapping", priv);
	if (priv != MAP_FAILED) {
		printf("  \"%.13s\", then zero %d\n", priv, priv[13] == 0 && priv[pg - 1] == 0);
		memcpy(priv, "PRIVATE", 7);
	}
	char *sh = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	mm("shared file mapping", sh);
	if (sh != MAP_FAILED)
		memcpy(sh, "SHARED", 6);
	T(pread(fd, buf, 13, 0));
	printf("  file now \"%.13s\"\n", buf);
	char *z = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, open("/dev/zero", O_RDONLY), 0);
	mm("/dev/zero", z);
	if (z != MAP_FAILED)
		printf("  zeros %d\n", z[0] == 0 && z[pg - 1] == 0);

	/* Errors. */
	mm("closed descriptor", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, 77, 0));
	mm("O_PATH descriptor", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, open("f", O_PATH), 0));
	pipe(p);
	mm("pipe", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, p[0], 0));
	mm("directory", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, open(".", O_RDONLY), 0));
	int ro = open("f", O_RDONLY), wo = open("f", O_WRONLY);
	mm("shared writable, O_RDONLY", mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0));
	mm("private writable, O_RDONLY", mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0));
	mm("read-only, O_WRONLY", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, wo, 0));

	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
