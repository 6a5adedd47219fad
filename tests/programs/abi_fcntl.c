/* fcntl: F_DUPFD and F_DUPFD_CLOEXEC (the lowest free descriptor at or
 * above the argument, EINVAL past the limit or below 0), F_GETFD and
 * F_SETFD (only FD_CLOEXEC is kept), F_GETFL and F_SETFL (O_APPEND and
 * O_NONBLOCK change; the access mode and creation flags do not; the raw
 * value as Linux reports it, O_LARGEFILE included for files), an unknown
 * command (EINVAL) and a closed descriptor (EBADF). Works in a fresh
 * /tmp/lstar-abi-fcntl. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-fcntl"

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

static void getfl(const char *what, int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		printf("F_GETFL %s: %s\n", what, ename(errno));
	else
		printf("F_GETFL %s: %#o\n", what, fl);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int fd, p[2];

	for (int i = 3; i < 64; i++)
		close(i);
	struct rlimit lim = { 1024, 1024 };
	T(setrlimit(RLIMIT_NOFILE, &lim));
	rm_tree();
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	T(fd = open("f", O_CREAT | O_EXCL | O_RDWR | O_TRUNC, 0644));

	/* F_DUPFD: the lowest free descriptor at or above the argument. */
	T(fcntl(fd, F_DUPFD, 0));
	T(fcntl(fd, F_DUPFD, 10));
	T(fcntl(fd, F_DUPFD, 10));
	T(fcntl(fd, F_DUPFD_CLOEXEC, 10));
	T(close(11));
	T(fcntl(fd, F_DUPFD, 5));
	T(fcntl(fd, F_DUPFD, 1023));
	T(fcntl(fd, F_DUPFD, 1023));
	T(fcntl(fd, F_DUPFD, 1024));
	T(fcntl(fd, F_DUPFD, -1));
	T(fcntl(99, F_DUPFD, 0));

	/* F_GETFD and F_SETFD: FD_CLOEXEC only. */
	T(fcntl(fd, F_GETFD));
	T(fcntl(12, F_GETFD));
	T(fcntl(fd, F_SETFD, FD_CLOEXEC));
	T(fcntl(fd, F_GETFD));
	T(fcntl(4, F_GETFD));
	T(fcntl(fd, F_SETFD, 0xfe));
	T(fcntl(fd, F_GETFD));
	T(fcntl(fd, F_SETFD, 0xff));
	T(fcntl(fd, F_GETFD));
	T(fcntl(fd, F_SETFD, 0));

	/* F_GETFL and F_SETFL. */
	getfl("rdwr file", fd);
	T(fcntl(fd, F_SETFL, O_APPEND));
	getfl("after O_APPEND", fd);
	getfl("its dup", 4);
	T(fcntl(fd, F_SETFL, O_WRONLY | O_CREAT | O_EXCL | O_TRUNC | O_NONBLOCK));
	getfl("after O_WRONLY|O_CREAT|O_EXCL|O_TRUNC|O_NONBLOCK", fd);
	T(write(fd, "still readable and writable", 8));
	T(lseek(fd, 0, SEEK_SET));
	char buf[8];
	T(read(fd, buf, sizeof buf));
	T(fcntl(fd, F_SETFL, 0));
	getfl("after 0", fd);
	T(close(fd));
	T(fd = open("f", O_WRONLY | O_APPEND | O_CLOEXEC));
	getfl("wronly append", fd);
	T(fcntl(fd, F_GETFD));
	T(close(fd));
	T(fd = open(".", O_RDONLY | O_DIRECTORY));
	getfl("directory", fd);
	T(close(fd));
	T(fd = open("/dev/null", O_WRONLY | O_NONBLOCK));
	getfl("/dev/null", fd);
	T(close(fd));
	T(pipe2(p, O_NONBLOCK));
	getfl("pipe read end", p[0]);
	getfl("pipe write end", p[1]);

	/* Errors. */
	T(fcntl(p[0], 12345));
	T(fcntl(p[0], -1));
	T(fcntl(99, F_GETFD));
	T(fcntl(99, F_SETFD, 0));
	T(fcntl(99, F_GETFL));
	T(fcntl(99, F_SETFL, 0));
	T(fcntl(-1, F_GETFD));

	for (int i = 3; i < 1024; i++)
		close(i);
	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
