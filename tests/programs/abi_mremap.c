/* mremap and madvise: shrinking in place (the tail then faults), growing
 * in place when the next pages are free, growing with MREMAP_MAYMOVE
 * when they are not (contents kept, the old range gone), MREMAP_FIXED to
 * a chosen address (replacing what was there), and the errors: an
 * unaligned address, new length 0, unknown flags, MREMAP_FIXED without
 * MREMAP_MAYMOVE (EINVAL), growing in place with no room (ENOMEM), an
 * unmapped range (EFAULT); madvise MADV_DONTNEED zeroing private
 * anonymous pages, MADV_NORMAL and MADV_WILLNEED accepted, an unknown
 * advice or unaligned address (EINVAL), an unmapped range (ENOMEM).
 * Faults happen in children. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abi.h"

#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static int faults(volatile char *p)
{
	pid_t c = fork();
	if (c == 0) {
		(void)*p;
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

static void mr(const char *what, void *r, void *expect)
{
	if (r == MAP_FAILED)
		printf("%s: MAP_FAILED %s\n", what, ename(errno));
	else
		printf("%s: ok, %s\n", what, r == expect ? "where expected" : "elsewhere");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	const long pg = 4096;

	/* Reserve 16 pages, then use the first 4: the rest is room to grow. */
	char *base = mmap(NULL, 16 * pg, PROT_NONE, ANON, -1, 0);
	munmap(base + 4 * pg, 12 * pg);
	char *p = mmap(base, 4 * pg, PROT_READ | PROT_WRITE, ANON | MAP_FIXED, -1, 0);
	memset(p, 'a', 4 * pg);
	mr("shrink to 2 pages", mremap(p, 4 * pg, 2 * pg, 0), p);
	printf("  kept %c, tail faults %d\n", p[pg], faults(p + 3 * pg));
	mr("grow in place to 8", mremap(p, 2 * pg, 8 * pg, 0), p);
	printf("  kept %c, new pages zero %d\n", p[pg], p[2 * pg] == 0 && p[8 * pg - 1] == 0);

	/* Block the next page: growing in place fails, MAYMOVE moves. */
	mmap(p + 8 * pg, pg, PROT_READ, ANON | MAP_FIXED, -1, 0);
	mr("grow in place, no room", mremap(p, 8 * pg, 16 * pg, 0), p);
	char *q = mremap(p, 8 * pg, 16 * pg, MREMAP_MAYMOVE);
	mr("grow, may move", q, p);
	printf("  moved %d, kept %c, old range faults %d\n", q != p, q[pg], faults(p));

	/* MREMAP_FIXED onto a chosen place. */
	char *target = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, ANON, -1, 0);
	memset(target, 'z', 4 * pg);
	mr("fixed", mremap(q, 2 * pg, 2 * pg, MREMAP_MAYMOVE | MREMAP_FIXED, target), target);
	printf("  target now %c%c, rest of the target %c\n", target[0], target[pg], target[2 * pg]);

	/* Errors. */
	mr("unaligned", mremap(target + 1, pg, 2 * pg, MREMAP_MAYMOVE), target);
	mr("new length 0", mremap(target, pg, 0, MREMAP_MAYMOVE), target);
	mr("unknown flags", mremap(target, pg, 2 * pg, 0x80), target);
	mr("FIXED without MAYMOVE", mremap(target, pg, pg, MREMAP_FIXED, base), target);
	mr("unmapped", mremap(p, pg, 2 * pg, MREMAP_MAYMOVE), p);

	/* madvise. */
	T(madvise(target, 4 * pg, MADV_DONTNEED));
	printf("  zeroed %d\n", target[0] == 0 && target[4 * pg - 1] == 0);
	T(madvise(target, 4 * pg, MADV_NORMAL));
	T(madvise(target, 4 * pg, MADV_WILLNEED));
	T(madvise(target, 4 * pg, 12345));
	T(madvise(target + 1, pg, MADV_NORMAL));
	T(madvise(p, pg, MADV_NORMAL));
	T(madvise(target, 0, MADV_DONTNEED));
	return 0;
}
