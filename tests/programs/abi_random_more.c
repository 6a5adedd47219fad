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

#include "abi.h"

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
