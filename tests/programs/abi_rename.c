/* rename and renameat2: a file over a file (the old one's inode goes), a
 * directory over an empty directory, over a non-empty one (ENOTEMPTY), a
 * file over a directory (EISDIR) and the reverse (ENOTDIR), a directory
 * into its own subdirectory (EINVAL), a name onto itself and onto another
 * hard link of the same file (both succeed and change nothing), a
 * missing source (ENOENT), a missing target directory (ENOENT), "." as
 * either end (EBUSY), a symlink renamed (not its target), an open file
 * renamed, RENAME_NOREPLACE (EEXIST) and bad flags (EINVAL). Works in a
 * fresh /tmp/lstar-abi-rename. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-rename"

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

static void put(const char *path, const char *text)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	write(fd, text, strlen(text));
	close(fd);
}

static void cat(const char *path)
{
	char buf[32];
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("%s: %s\n", path, ename(errno));
		return;
	}
	long n = read(fd, buf, sizeof buf);
	close(fd);
	printf("%s: \"%.*s\"\n", path, (int)n, buf);
}

#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#define rename2(a, b, f) syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, f)

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct stat st;
	int fd;

	rm_tree();
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));

	/* Files over files. */
	put("a", "alpha");
	put("b", "beta");
	T(fd = open("b", O_RDONLY));
	T(rename("a", "b"));
	cat("a");
	cat("b");
	T(fstat(fd, &st));
	printf("replaced file: nlink %ld\n", (long)st.st_nlink);
	T(close(fd));

	/* A name onto itself, and onto another link to the same file. */
	T(rename("b", "b"));
	T(link("b", "c"));
	T(rename("b", "c"));
	cat("b");
	cat("c");
	T(stat("c", &st));
	printf("nlink %ld\n", (long)st.st_nlink);

	/* Directories. */
	T(mkdir("d1", 0755));
	T(mkdir("d2", 0755));
	T(mkdir("full", 0755));
	put("full/x", "x");
	T(rename("d1", "d2"));
	T(access("d1", F_OK));
	T(rename("d2", "full"));
	T(rename("c", "full"));
	T(rename("full", "c"));
	T(rename("full", "full/sub"));
	T(rename("full", "full/x/y"));
	T(rename(".", "dot"));
	T(rename("d2", "."));
	T(rename("d2", "d2/."));
	T(rename("nope", "x"));
	T(rename("c", "nope/x"));
	T(rename("c/", "x"));
	T(rename("d2/", "d3/"));
	T(access("d3", F_OK));

	/* A symlink moves, not what it names; an open file keeps working. */
	T(symlink("c", "link"));
	T(rename("link", "link2"));
	cat("link2");
	T(lstat("c", &st));
	printf("c is a file: %d\n", S_ISREG(st.st_mode));
	T(fd = open("c", O_RDWR | O_APPEND));
	T(rename("c", "full/moved"));
	T(write(fd, "!", 1));
	T(close(fd));
	cat("full/moved");
	cat("link2");

	/* renameat2's flags. */
	put("p", "p");
	put("q", "q");
	T(rename2("p", "q", RENAME_NOREPLACE));
	T(rename2("p", "r", RENAME_NOREPLACE));
	T(rename2("r", "q", 0x80));
	T(rename2("r", "q", RENAME_NOREPLACE | RENAME_EXCHANGE));
	cat("p");
	cat("r");
	cat("q");

	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
