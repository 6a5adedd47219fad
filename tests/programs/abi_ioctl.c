/* ioctl on descriptors that are not terminals: FIONREAD on a pipe (bytes
 * waiting) and on a regular file (bytes from the offset to the end;
 * abi_fionread has more);
 * FIONBIO turning O_NONBLOCK on and off; FIOCLEX and FIONCLEX setting and
 * clearing close-on-exec; terminal requests (TCGETS, TIOCGWINSZ,
 * TIOCGPGRP) on a file, a pipe and /dev/null (ENOTTY), tcgetattr and
 * isatty through them; an unknown request (ENOTTY); a bad descriptor
 * (EBADF); FIONREAD into a bad pointer (EFAULT). Works in a fresh
 * /tmp/lstar-abi-ioctl. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-ioctl"

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

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int fd, p[2], null, n = -1, on = 1, off = 0;
	struct termios tio;
	struct winsize ws;
	pid_t pgrp;

	rm_tree();
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	T(fd = open("f", O_CREAT | O_RDWR, 0644));
	T(write(fd, "0123456789", 10));
	T(pipe(p));
	T(null = open("/dev/null", O_RDWR));

	/* FIONREAD. */
	T(ioctl(p[0], FIONREAD, &n));
	printf("  pipe, empty: %d\n", n);
	T(write(p[1], "abcdef", 6));
	T(ioctl(p[0], FIONREAD, &n));
	printf("  pipe, 6 written: %d\n", n);
	T(lseek(fd, 3, SEEK_SET));
	T(ioctl(fd, FIONREAD, &n));
	printf("  file at 3 of 10: %d\n", n);
	T(ioctl(p[0], FIONREAD, (int *)8));

	/* FIONBIO, FIOCLEX, FIONCLEX. */
	T(ioctl(p[0], FIONBIO, &on));
	T(fcntl(p[0], F_GETFL) & O_NONBLOCK);
	char buf[16];
	T(read(p[0], buf, sizeof buf));
	T(read(p[0], buf, sizeof buf));
	T(ioctl(p[0], FIONBIO, &off));
	T(fcntl(p[0], F_GETFL) & O_NONBLOCK);
	T(ioctl(fd, FIOCLEX));
	T(fcntl(fd, F_GETFD));
	T(ioctl(fd, FIONCLEX));
	T(fcntl(fd, F_GETFD));

	/* Terminal requests on things that are not terminals. */
	int fds[] = { fd, p[0], null };
	const char *names[] = { "file", "pipe", "/dev/null" };
	for (int i = 0; i < 3; i++) {
		printf("%s:\n", names[i]);
		T(ioctl(fds[i], TCGETS, &tio));
		T(ioctl(fds[i], TIOCGWINSZ, &ws));
		T(ioctl(fds[i], TIOCGPGRP, &pgrp));
		T(ioctl(fds[i], TIOCSPGRP, &pgrp));
		T(tcgetattr(fds[i], &tio));
		errno = 0;
		int tty = isatty(fds[i]);
		printf("  isatty %d %s\n", tty, ename(errno));
		T(ioctl(fds[i], 0x7fff));
	}
	T(ioctl(99, FIONREAD, &n));
	T(ioctl(-1, TCGETS, &tio));

	T(close(null));
	T(close(p[0]));
	T(close(p[1]));
	T(close(fd));
	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
