/* chroot(2): its errors (ENOENT, ENOTDIR, an empty path); after it,
 * absolute paths, `..` at the new root and absolute symbolic links stay
 * inside; the working directory stays where it was, outside, and getcwd
 * says "(unreachable)" for it; a descriptor opened before still reaches
 * outside (fchdir, openat); fork keeps the root and execve looks the
 * program up under it. Runs as root in a fresh /tmp/lstar-abi-chroot.
 * Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define DIR_NAME "/tmp/lstar-abi-chroot"

#define E(x) case x: return #x;
static const char *ename(int e)
{
	switch (e) {
	E(EPERM) E(ENOENT) E(EBADF) E(EACCES) E(EFAULT) E(EEXIST) E(ENOTDIR) E(EISDIR) E(EINVAL)
	E(ERANGE) E(ENAMETOOLONG) E(ENOSYS) E(ELOOP)
	}
	return "E?";
}

/* Prints a call and its result: the value, or -1 and errno's name. */
static void report(const char *what, long r)
{
	int e = errno;
	if (r < 0)
		printf("%s = -1 %s\n", what, ename(e));
	else
		printf("%s = %ld\n", what, r);
}
#define T(expr) report(#expr, (long)(expr))

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static void rm_tree(void)
{
	chdir("/tmp");
	nftw(DIR_NAME, rm_one, 64, FTW_DEPTH | FTW_PHYS);
}

/* getcwd as the syscall gives it (musl's wrapper refuses a path that does
 * not start with '/'). */
static void cwd(const char *when)
{
	char buf[256];
	long n = syscall(SYS_getcwd, buf, sizeof buf);
	if (n < 0)
		printf("getcwd %s: %s\n", when, ename(errno));
	else
		printf("getcwd %s: %ld \"%s\"\n", when, n, buf);
}

/* The first line of a file, or its errno. */
static void cat(int dirfd, const char *path)
{
	char buf[64];
	int fd = openat(dirfd, path, O_RDONLY);
	if (fd < 0) {
		printf("open %s: %s\n", path, ename(errno));
		return;
	}
	ssize_t n = read(fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	close(fd);
	printf("open %s: %s", path, buf);
}

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	write(fd, text, strlen(text));
	close(fd);
}

/* Copies this program to `to`, to run it again inside the new root. */
static int copy_self(const char *to)
{
	char buf[65536];
	int in = open("/proc/self/exe", O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (in < 0 || out < 0)
		return -1;
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, n) != n)
			return -1;
	close(in);
	close(out);
	return n < 0 ? -1 : 0;
}

static int wait_status(pid_t pid)
{
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The program run again by execve inside the new root. */
static int inside(void)
{
	printf("exec'd inside the root\n");
	cwd("after exec");
	cat(AT_FDCWD, "/d/f");
	cat(AT_FDCWD, "/../../../d/f");
	return 7;
}

/* The chrooted child. */
static int child(void)
{
	int outside = open("/tmp", O_RDONLY | O_DIRECTORY);
	T(chdir(DIR_NAME "/d"));
	T(chroot(DIR_NAME));
	cwd("after chroot (not moved)");
	cat(AT_FDCWD, "f");
	T(chdir("/"));
	cwd("after chdir /");
	cat(AT_FDCWD, "/d/f");
	cat(AT_FDCWD, "/../../d/f");
	cat(AT_FDCWD, "d/../../d/f");
	cat(AT_FDCWD, "abs");
	cat(AT_FDCWD, "up/d/f");
	struct stat root, dotdot;
	T(stat("/", &root));
	T(stat("/..", &dotdot));
	printf("/.. is /: %d\n", root.st_ino == dotdot.st_ino && root.st_dev == dotdot.st_dev);
	T(chdir(".."));
	cwd("after chdir ..");
	cat(AT_FDCWD, "/tmp/lstar-abi-chroot/d/f");
	T(access("/bin/prog", X_OK));
	T(mkdir("/made", 0755));

	/* A directory opened before chroot still leads outside. */
	cat(outside, "lstar-abi-chroot/d/f");
	T(fchdir(outside));
	cwd("after fchdir outside");
	cat(AT_FDCWD, "lstar-abi-chroot/d/f");
	T(chdir("/"));

	pid_t pid = fork();
	if (pid == 0) {
		cat(AT_FDCWD, "/d/f");
		_exit(3);
	}
	printf("forked child: %d\n", wait_status(pid));

	pid = fork();
	if (pid == 0) {
		char *argv[] = { "prog", "inside", NULL };
		execv("/bin/prog", argv);
		printf("execv: %s\n", ename(errno));
		_exit(1);
	}
	printf("exec'd child: %d\n", wait_status(pid));
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1 && strcmp(argv[1], "inside") == 0)
		return inside();

	rm_tree();
	umask(022);
	T(mkdir(DIR_NAME, 0755));
	T(mkdir(DIR_NAME "/d", 0755));
	T(mkdir(DIR_NAME "/bin", 0755));
	put(DIR_NAME "/d/f", "inside\n");
	put(DIR_NAME "/f", "top\n");
	T(symlink("/d/f", DIR_NAME "/abs"));
	T(symlink("..", DIR_NAME "/up"));
	T(copy_self(DIR_NAME "/bin/prog"));

	T(chroot("/nonexistent"));
	T(chroot(""));
	T(chroot(DIR_NAME "/f"));
	T(chroot(DIR_NAME "/f/"));
	T(chroot(DIR_NAME "/d/f/x"));

	pid_t pid = fork();
	if (pid == 0)
		_exit(child());
	printf("chrooted child: %d\n", wait_status(pid));

	/* The parent's root did not move. */
	cat(AT_FDCWD, DIR_NAME "/d/f");
	T(access(DIR_NAME "/made", F_OK));
	T(access("/made", F_OK));
	rm_tree();
	return 0;
}
