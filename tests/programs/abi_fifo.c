/* Named pipes and device nodes made with mknod(2) and mkfifo(3): a FIFO
 * shows in stat and getdents; with O_NONBLOCK a reader opens at once
 * (and reads the end of file while there is no writer) and a writer with
 * no reader is ENXIO; without it each end waits for the other (a child
 * opens the other end); O_RDWR never waits; bytes left when the last end
 * closes are gone (poll tells a reader of a hang-up only once a writer
 * came); lseek is ESPIPE. mknod's own rules: a directory type
 * is EPERM, an unknown type EINVAL (before the path is looked at), an
 * existing name EEXIST, a trailing slash ENOENT; the umask applies. A
 * character node for /dev/null's number works as /dev/null; nodes for
 * devices that do not exist, and a socket's, show their type and number
 * but opening them is ENXIO. Works in a fresh /tmp/lstar-abi-fifo.
 * Differential test. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-fifo"

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

static void show(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		printf("%s: %s\n", path, ename(errno));
		return;
	}
	printf("%s: type %o perms %04o rdev %u:%u size %ld\n", path, (unsigned)(st.st_mode & S_IFMT), (unsigned)(st.st_mode & 07777),
	       major(st.st_rdev), minor(st.st_rdev), (long)st.st_size);
}

/* Opens `path` with `flags` in a child after a pause, writes or reads a
 * little, and exits: the other end for a parent whose open waits. */
static pid_t partner(const char *path, int flags)
{
	pid_t pid = fork();
	if (pid == 0) {
		usleep(50000);
		int fd = open(path, flags);
		if (fd < 0)
			_exit(1);
		if ((flags & O_ACCMODE) == O_WRONLY)
			write(fd, "from the child", 14);
		else {
			char b[32];
			ssize_t n = read(fd, b, sizeof b);
			_exit(n == 6 && memcmp(b, "parent", 6) == 0 ? 0 : 2);
		}
		_exit(0);
	}
	return pid;
}

static int wait_status(pid_t pid)
{
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	char buf[64];
	int r, w;

	rm_tree();
	umask(022);
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));

	/* mknod's checks. */
	T(mknod("d", S_IFDIR | 0755, 0));
	T(mknod("/nonexistent/x", 0170000 | 0644, 0));
	T(mknod("/nonexistent/x", S_IFIFO | 0644, 0));
	T(mkfifo("f", 0666));
	T(mkfifo("f", 0666));
	T(mknod("g/", S_IFIFO | 0644, 0));
	T(mknod("f/", S_IFIFO | 0644, 0));
	T(mknod("reg", 0644, 0));
	T(mknod("reg2", S_IFREG | 04755, makedev(1, 3)));
	show("f");
	show("reg");
	show("reg2");

	/* Non-blocking opens. */
	T(open("f", O_WRONLY | O_NONBLOCK));
	T(r = open("f", O_RDONLY | O_NONBLOCK));
	T(read(r, buf, sizeof buf));
	T(w = open("f", O_WRONLY | O_NONBLOCK));
	T(write(w, "abc", 3));
	T(lseek(r, 0, SEEK_SET));
	T(read(r, buf, sizeof buf));
	T(write(w, "left", 4));
	T(close(w));
	struct pollfd pfd = { .fd = r, .events = POLLIN };
	T(poll(&pfd, 1, 0));
	printf("revents %#x\n", pfd.revents);
	T(close(r));
	/* A reader opened with no writer hears of no hang-up. */
	T(r = open("f", O_RDONLY | O_NONBLOCK));
	pfd.fd = r;
	T(poll(&pfd, 1, 0));
	printf("revents %#x\n", pfd.revents);
	T(close(r));
	T(r = open("f", O_RDONLY | O_NONBLOCK));
	T(read(r, buf, sizeof buf));
	T(close(r));

	/* Blocking opens wait for the other end. */
	pid_t child = partner("f", O_WRONLY);
	T(r = open("f", O_RDONLY));
	memset(buf, 0, sizeof buf);
	T(read(r, buf, sizeof buf));
	printf("read \"%s\"\n", buf);
	T(read(r, buf, sizeof buf));
	printf("child %d\n", wait_status(child));
	T(close(r));
	child = partner("f", O_RDONLY);
	T(w = open("f", O_WRONLY));
	T(write(w, "parent", 6));
	T(close(w));
	printf("child %d\n", wait_status(child));
	T(w = open("f", O_RDWR));
	T(write(w, "x", 1));
	T(read(w, buf, 1));
	T(close(w));

	/* Device nodes and a socket's. */
	T(mknod("null", S_IFCHR | 0666, makedev(1, 3)));
	T(mknod("chr", S_IFCHR | 0600, makedev(240, 7)));
	T(mknod("blk", S_IFBLK | 0600, makedev(240, 300)));
	T(mknod("sock", S_IFSOCK | 0600, makedev(1, 1)));
	show("null");
	show("chr");
	show("blk");
	show("sock");
	T(w = open("null", O_WRONLY));
	T(write(w, "gone", 4));
	T(close(w));
	T(open("chr", O_RDONLY));
	T(open("blk", O_RDONLY));
	T(open("sock", O_RDONLY));

	/* The directory lists each with its type. */
	DIR *d = opendir(".");
	struct dirent *e;
	const char *names[] = { "f", "reg", "null", "chr", "blk", "sock" };
	int types[6] = { 0 };
	while ((e = readdir(d)))
		for (int i = 0; i < 6; i++)
			if (strcmp(e->d_name, names[i]) == 0)
				types[i] = e->d_type;
	closedir(d);
	for (int i = 0; i < 6; i++)
		printf("%s: d_type %d\n", names[i], types[i]);

	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
