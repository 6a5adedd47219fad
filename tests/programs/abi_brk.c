/* brk, through the raw call (musl's sbrk only reads it): brk(0) reports
 * the current break, page aligned or not; a request returns exactly the
 * address asked for, not rounded; the memory up to it is zeroed and
 * writable, the page past the rounded-up break faults; shrinking and
 * growing again gives zeroed memory; a break below the start or far too
 * high is refused by returning the old break unchanged; the break is
 * inherited by a forked child and moved there independently. Only
 * relations to the initial break are printed. Differential test. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char *brk_(void *p) { return (char *)syscall(SYS_brk, p); }

static int faults(volatile char *p)
{
	pid_t c = fork();
	if (c == 0) {
		*p = 1;
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
	char *b0 = brk_(0);
	printf("brk(0) twice agrees: %d\n", brk_(0) == b0);

	/* Exactly what was asked, zeroed, usable to the end of its page. */
	char *b1 = brk_(b0 + 10000);
	printf("grow by 10000: at b0+%ld\n", (long)(b1 - b0));
	printf("brk(0) now: b0+%ld\n", (long)(brk_(0) - b0));
	int zero = 1;
	for (long i = 0; i < 10000; i++)
		zero &= b0[i] == 0;
	printf("zeroed %d\n", zero);
	memset(b0, 'x', 10000);
	char *end_page = (char *)(((uintptr_t)b1 + pg - 1) & -pg);
	printf("last byte of the last page writable %d, next page faults %d\n", faults(end_page - 1) == 0, faults(end_page + 16));

	/* Shrink, grow again: zeros. */
	printf("shrink to b0+100: at b0+%ld\n", (long)(brk_(b0 + 100) - b0));
	printf("grow to b0+3*pg: at b0+%ld\n", (long)(brk_(b0 + 3 * pg) - b0));
	char *page_after = (char *)(((uintptr_t)b0 + 100 + pg - 1) & -pg);
	printf("beyond the old page zeroed again %d\n", page_after[0] == 0 && page_after[pg] == 0);

	/* Refusals return the old break. */
	char *cur = brk_(0);
	printf("below the start: at b0+%ld\n", (long)(brk_(b0 - 100 * pg) - b0));
	printf("far too high: at b0+%ld\n", (long)(brk_((void *)0x7ffffffff000) - b0));
	printf("unchanged: %d\n", brk_(0) == cur);
	printf("back to b0: at b0+%ld\n", (long)(brk_(b0) - b0));

	/* A child has its own break. */
	brk_(b0 + pg);
	pid_t c = fork();
	if (c == 0) {
		printf("child: inherited at b0+%ld\n", (long)(brk_(0) - b0));
		printf("child: grown to b0+%ld\n", (long)(brk_(b0 + 5 * pg) - b0));
		b0[4 * pg] = 1;
		_exit(0);
	}
	waitpid(c, NULL, 0);
	printf("parent: still at b0+%ld\n", (long)(brk_(0) - b0));
	return 0;
}
