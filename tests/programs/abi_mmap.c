/* mmap, munmap and mprotect at their edges: a length that is not a page
 * multiple (rounded up), zero (EINVAL), or huge (ENOMEM); an unaligned
 * offset (EINVAL) or MAP_FIXED address (EINVAL); neither MAP_PRIVATE nor
 * MAP_SHARED (EINVAL); no descriptor without MAP_ANONYMOUS (EBADF); a free
 * hint address honoured; munmap of an unaligned address (EINVAL), of
 * nothing (0), and of part of a mapping; mprotect (the raw call: musl
 * rounds) with unknown bits (EINVAL), of an unaligned address (EINVAL),
 * a partial page (rounded up), an unmapped range (ENOMEM); MAP_PRIVATE
 * copy-on-write across fork (abi_mmap_shared has shared and file
 * mappings). Faults happen in children. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abi.h"

#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static void mm(const char *what, void *p)
{
	if (p == MAP_FAILED)
		printf("%s: MAP_FAILED %s\n", what, ename(errno));
	else
		printf("%s: ok, page aligned %d\n", what, ((uintptr_t)p & 4095) == 0);
}

/* Touches p in a child: 0, or the signal that ended it. */
static int touch(volatile char *p, int write)
{
	pid_t c = fork();
	if (c == 0) {
		if (write)
			*p = 1;
		else
			(void)*p;
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	const long pg = 4096;
	char *p;

	p = mmap(NULL, 100, PROT_READ | PROT_WRITE, ANON, -1, 0);
	mm("100 bytes", p);
	printf("  rest of the page usable %d\n", touch(p + 4000, 1) == 0);
	munmap(p, pg);
	mm("length 0", mmap(NULL, 0, PROT_READ, ANON, -1, 0));
	mm("length 2^62", mmap(NULL, 1UL << 62, PROT_READ, ANON, -1, 0));
	mm("length -4096", mmap(NULL, (size_t)-4096, PROT_READ, ANON, -1, 0));
	mm("offset 100", mmap(NULL, pg, PROT_READ, ANON, -1, 100));
	mm("fixed at 0x10000100", mmap((void *)0x10000100, pg, PROT_READ, ANON | MAP_FIXED, -1, 0));
	mm("neither private nor shared", mmap(NULL, pg, PROT_READ, MAP_ANONYMOUS, -1, 0));
	mm("file without a descriptor", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, -1, 0));

	/* A free hint is honoured. */
	void *hint = (void *)0x200000000;
	p = mmap(hint, 2 * pg, PROT_READ | PROT_WRITE, ANON, -1, 0);
	printf("hint honoured: %d\n", p == hint);

	/* munmap. */
	T(munmap(p + 1, pg));
	T(munmap(p, 0));
	T(munmap((void *)0x300000000, pg));
	T(munmap(p + pg, pg));
	printf("  first page kept %d, second faults %d\n", touch(p, 1) == 0, touch(p + pg, 0));
	T(munmap(p, 2 * pg));
	T(munmap(p, 2 * pg));

	/* mprotect. */
	p = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, ANON, -1, 0);
	T(mprotect(p, pg, 0x100));
	T(syscall(SYS_mprotect, p + 1, pg, PROT_READ));
	T(syscall(SYS_mprotect, p, 100, PROT_READ));
	printf("  first page read-only: write faults %d\n", touch(p + 50, 1));
	T(mprotect(p + pg, pg, PROT_NONE));
	printf("  middle page: read faults %d, third page writable %d\n", touch(p + pg, 0), touch(p + 2 * pg, 1) == 0);
	T(munmap(p + 2 * pg, pg));
	T(syscall(SYS_mprotect, p, 3 * pg, PROT_READ));
	T(mprotect(p, 2 * pg, PROT_READ | PROT_WRITE | PROT_EXEC));
	T(munmap(p, 3 * pg));

	/* Across fork: private pages are copied. */
	char *priv = mmap(NULL, pg, PROT_READ | PROT_WRITE, ANON, -1, 0);
	strcpy(priv, "parent");
	pid_t c = fork();
	if (c == 0) {
		strcpy(priv, "child");
		_exit(0);
	}
	waitpid(c, NULL, 0);
	printf("after the child wrote: \"%s\"\n", priv);
	return 0;
}
