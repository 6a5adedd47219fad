/* More random bytes: getrandom's GRND_RANDOM and GRND_INSECURE exclude
 * each other (EINVAL, with or without GRND_NONBLOCK), GRND_INSECURE with
 * GRND_NONBLOCK is fine; /dev/random, which Linux has made behave like
 * /dev/urandom once seeded: reads of 0, 1 and 4096 bytes, also
 * non-blocking, and writes accepted. Only relations are printed.
 * Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#define E(x) case x: return #x;
static const char *ename(int e)
{
	switch (e) {
	E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC) E(EBADF) E(ECHILD)
	E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR)
	E(EISDIR) E(EINVAL) E(EMFILE) E(ENOTTY) E(EFBIG) E(ENOSPC) E(ESPIPE) E(EMLINK) E(EPIPE)
	E(ERANGE) E(EDEADLK) E(ENAMETOOLONG) E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(EOVERFLOW)
	E(EOPNOTSUPP) E(ETIMEDOUT)
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

#ifndef GRND_INSECURE
#define GRND_INSECURE 0x0004
#endif

static unsigned char a[4096], b[4096];

/* Whether a buffer looks random: not all one byte value. */
static int varied(const unsigned char *p, int n)
{
	for (int i = 1; i < n; i++)
		if (p[i] != p[0])
			return 1;
	return 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int fd;
	T(syscall(SYS_getrandom, a, 16, GRND_RANDOM | GRND_INSECURE));
	T(syscall(SYS_getrandom, a, 16, GRND_RANDOM | GRND_INSECURE | GRND_NONBLOCK));
	T(syscall(SYS_getrandom, a, 16, GRND_INSECURE | GRND_NONBLOCK));
	T(fd = open("/dev/random", O_RDWR));
	T(read(fd, a, 0));
	T(read(fd, a, 1));
	T(read(fd, a, sizeof a));
	memset(b, 0, sizeof b);
	T(read(fd, b, sizeof b));
	printf("  differ %d, varied %d\n", memcmp(a, b, sizeof a) != 0, varied(a, sizeof a));
	T(write(fd, "seed", 4));
	T(close(fd));
	T(fd = open("/dev/random", O_RDONLY | O_NONBLOCK));
	T(read(fd, a, 64));
	T(close(fd));
	return 0;
}
