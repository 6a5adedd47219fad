/* RLIMIT_NOFILE bounds descriptor numbers: with the soft limit lowered
 * to 16, open, dup, pipe and F_DUPFD stop at EMFILE with 16 in use,
 * dup2 and dup3 refuse a target of 16 or more (EBADF), F_DUPFD's
 * argument must be below the limit (EINVAL), poll refuses more entries
 * than the limit (EINVAL); descriptors already above it stay usable; and
 * raising the soft limit again lets the numbers grow. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "abi.h"

static struct pollfd fds[32];

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct rlimit lim = { 1024, 1024 };
	int p[2];

	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	T(setrlimit(RLIMIT_NOFILE, &lim));
	T(dup2(0, 40));

	lim.rlim_cur = 16;
	T(setrlimit(RLIMIT_NOFILE, &lim));
	T(getrlimit(RLIMIT_NOFILE, &lim));
	printf("soft %ld hard %ld\n", (long)lim.rlim_cur, (long)lim.rlim_max);

	/* Fill 3..15. */
	int last = -1, got = 0;
	for (;;) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd < 0) {
			printf("open: %s after %d\n", ename(errno), got);
			break;
		}
		last = fd;
		got++;
	}
	printf("last %d\n", last);
	T(dup(0));
	T(pipe(p));
	T(fcntl(0, F_DUPFD, 0));
	T(close(15));
	T(pipe(p));
	T(fcntl(0, F_DUPFD, 15));
	T(close(15));

	/* Targets at or above the limit. */
	T(dup2(0, 15));
	T(dup2(0, 16));
	T(syscall(SYS_dup3, 0, 16, 0));
	T(fcntl(0, F_DUPFD, 16));
	T(fcntl(0, F_DUPFD_CLOEXEC, 100));

	/* A descriptor above the limit from before still works. */
	T(fcntl(40, F_GETFD));
	T(dup2(40, 41));
	T(close(40));

	/* poll: no more entries than the limit. */
	for (int i = 0; i < 32; i++)
		fds[i] = (struct pollfd){ .fd = -1 };
	T(poll(fds, 16, 0));
	T(poll(fds, 17, 0));

	/* Raised again. */
	lim.rlim_cur = 32;
	T(setrlimit(RLIMIT_NOFILE, &lim));
	T(dup(0));
	T(dup2(0, 31));
	T(dup2(0, 32));
	T(poll(fds, 32, 0));

	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	return 0;
}
