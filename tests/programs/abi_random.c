/* Random bytes: getrandom with flags 0, GRND_NONBLOCK, GRND_RANDOM and
 * GRND_INSECURE (all the count asked for, 256 bytes here; successive
 * calls differ), a count of 0 (0), unknown flags (EINVAL), EFAULT;
 * getentropy's limit of 256 bytes (EIO past it); /dev/urandom reads of
 * 0, 1 and 4096 bytes that differ, and writes accepted (abi_random_more
 * has /dev/random and the flags that exclude each other). Only relations
 * are printed. Differential test. */
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
	int flags[] = { 0, GRND_NONBLOCK, GRND_RANDOM, GRND_INSECURE, GRND_RANDOM | GRND_NONBLOCK };
	const char *names[] = { "0", "GRND_NONBLOCK", "GRND_RANDOM", "GRND_INSECURE", "GRND_RANDOM|GRND_NONBLOCK" };
	for (int i = 0; i < 5; i++) {
		long n1 = syscall(SYS_getrandom, a, 256, flags[i]);
		long n2 = syscall(SYS_getrandom, b, 256, flags[i]);
		printf("%s: %ld %ld, differ %d, varied %d\n", names[i], n1, n2, memcmp(a, b, 256) != 0, varied(a, 256));
	}
	T(syscall(SYS_getrandom, a, 0, 0));
	T(syscall(SYS_getrandom, NULL, 0, 0));
	T(syscall(SYS_getrandom, a, 16, 0x80));
	T(syscall(SYS_getrandom, (void *)8, 16, 0));
	T(getentropy(a, 256));
	T(getentropy(a, 257));

	const char *devs[] = { "/dev/urandom" };
	for (int i = 0; i < 1; i++) {
		int fd;
		T(fd = open(devs[i], O_RDWR));
		T(read(fd, a, 0));
		T(read(fd, a, 1));
		T(read(fd, a, sizeof a));
		T(read(fd, b, sizeof b));
		printf("  differ %d, varied %d\n", memcmp(a, b, sizeof a) != 0, varied(a, sizeof a));
		T(write(fd, "seed", 4));
		T(lseek(fd, 0, SEEK_SET));
		T(close(fd));
	}
	return 0;
}
