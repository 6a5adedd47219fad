/* Anonymous private memory given on demand (demand zero in Lstar, D25):
 * a large anonymous mapping reads as zeroes anywhere and keeps what is
 * written; sparse touches of a 1 GiB MAP_NORESERVE mapping work;
 * MADV_DONTNEED gives zeroes back; a fork child sees the parent's written
 * pages and zeroes for the untouched ones, and its writes stay its own;
 * read() into and write() from untouched pages work; PROT_NONE and
 * PROT_READ on untouched pages fault (SEGV_ACCERR) where Linux faults;
 * mremap keeps written and untouched pages as they were; the bss, the
 * stack and brk growth read as zeroes; and an untouched mapping does not
 * cost MemFree its size. Differential test. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abi.h"

#define PAGE 4096L
#define MIB (1L << 20)

static char big_bss[4 * MIB];

static sigjmp_buf back;
static volatile int fault_sig, fault_code;

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	fault_sig = sig;
	fault_code = si->si_code;
	siglongjmp(back, 1);
}

static const char *code_name(int code)
{
	return code == SEGV_ACCERR ? "SEGV_ACCERR" : code == SEGV_MAPERR ? "SEGV_MAPERR" : "other";
}

/* Tries a one-byte access at `p` and says how it went. */
static void probe(const char *what, volatile char *p, int write)
{
	fault_sig = 0;
	if (sigsetjmp(back, 1) == 0) {
		if (write)
			*p = 1;
		else
			(void)*p;
		printf("%s: ok\n", what);
	} else {
		printf("%s: %s %s\n", what, fault_sig == SIGSEGV ? "SIGSEGV" : fault_sig == SIGBUS ? "SIGBUS" : "signal", code_name(fault_code));
	}
}

static void *anon(size_t len, int prot, int extra)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | extra, -1, 0);
	if (p == MAP_FAILED) {
		printf("mmap of %zu bytes failed\n", len);
		exit(1);
	}
	return p;
}

/* Whether `len` bytes at `p` are all zero. */
static int all_zero(const char *p, size_t len)
{
	const long *w = (const long *)p;
	for (size_t i = 0; i < len / sizeof *w; i++)
		if (w[i])
			return 0;
	return 1;
}

static void large_mapping(void)
{
	size_t len = 16 * MIB;
	char *m = anon(len, PROT_READ | PROT_WRITE, 0);
	printf("16 MiB: first, middle, last byte zero: %d %d %d\n", m[0] == 0, m[len / 2 + 123] == 0, m[len - 1] == 0);
	/* Every 7th page gets its number; the rest must stay zero. */
	for (size_t pg = 0; pg < len / PAGE; pg += 7)
		memset(m + pg * PAGE, (int)(pg % 251) + 1, PAGE);
	int good = 1, zero = 1;
	for (size_t pg = 0; pg < len / PAGE; pg++) {
		if (pg % 7 == 0)
			good &= m[pg * PAGE] == (char)(pg % 251 + 1) && m[pg * PAGE + PAGE - 1] == (char)(pg % 251 + 1);
		else
			zero &= all_zero(m + pg * PAGE, PAGE);
	}
	printf("16 MiB: written pages kept: %d, others zero: %d\n", good, zero);
	T(munmap(m, len));
}

static void sparse_gib(void)
{
	size_t len = 1L << 30;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		printf("1 GiB MAP_NORESERVE mmap failed\n");
		return;
	}
	/* One touch every 16 MiB, 64 in all. */
	for (size_t off = 0; off < len; off += 16 * MIB)
		*(long *)(m + off + 8) = (long)(off >> 20) + 1;
	int good = 1;
	for (size_t off = 0; off < len; off += 16 * MIB)
		good &= *(long *)(m + off + 8) == (long)(off >> 20) + 1 && *(long *)(m + off + 8 * MIB) == 0;
	printf("1 GiB sparse: 64 touches kept, gaps zero: %d\n", good);
	printf("1 GiB sparse: last byte zero: %d\n", m[len - 1] == 0);
	T(munmap(m, len));
}

static void dontneed(void)
{
	char *m = anon(4 * PAGE, PROT_READ | PROT_WRITE, 0);
	memset(m, 'x', 4 * PAGE);
	T(madvise(m + PAGE, 2 * PAGE, MADV_DONTNEED));
	printf("after MADV_DONTNEED: page 0 '%c', pages 1-2 zero %d, page 3 '%c'\n", m[0], all_zero(m + PAGE, 2 * PAGE), m[3 * PAGE]);
	m[PAGE] = 'y';
	printf("written again: '%c', page 2 still zero %d\n", m[PAGE], all_zero(m + 2 * PAGE, PAGE));
	/* Untouched pages, then DONTNEED: still zero, still usable. */
	char *u = anon(2 * PAGE, PROT_READ | PROT_WRITE, 0);
	T(madvise(u, 2 * PAGE, MADV_DONTNEED));
	u[PAGE + 5] = 'z';
	printf("untouched then DONTNEED: page 0 zero %d, write '%c'\n", all_zero(u, PAGE), u[PAGE + 5]);
	munmap(m, 4 * PAGE);
	munmap(u, 2 * PAGE);
}

static void fork_child_view(void)
{
	char *m = anon(8 * PAGE, PROT_READ | PROT_WRITE, 0);
	m[0] = 'a';
	m[2 * PAGE] = 'b';
	pid_t pid = fork();
	if (pid == 0) {
		int ok = m[0] == 'a' && m[2 * PAGE] == 'b' && all_zero(m + PAGE, PAGE) && all_zero(m + 3 * PAGE, 5 * PAGE);
		/* The child's own pages: an untouched one and a written one. */
		m[PAGE] = 'c';
		m[0] = 'd';
		_exit(ok && m[PAGE] == 'c' && m[0] == 'd' ? 0 : 1);
	}
	int status;
	waitpid(pid, &status, 0);
	printf("fork child: saw written pages and zeroes: %s\n", WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "yes" : "no");
	printf("parent after child: page 0 '%c', page 1 zero %d\n", m[0], all_zero(m + PAGE, PAGE));
	/* The parent touches a page the child never saw written. */
	m[4 * PAGE] = 'e';
	printf("parent writes an untouched page after fork: '%c'\n", m[4 * PAGE]);
	munmap(m, 8 * PAGE);
}

static void kernel_access(void)
{
	int fds[2];
	if (pipe(fds) < 0) {
		printf("pipe failed\n");
		return;
	}
	char *m = anon(4 * PAGE, PROT_READ | PROT_WRITE, 0);
	T(write(fds[1], "hello", 5));
	T(read(fds[0], m + PAGE - 2, 5));
	printf("read across untouched pages: %.5s\n", m + PAGE - 2);
	/* write() from an untouched page reads zeroes. */
	T(write(fds[1], m + 3 * PAGE, 16));
	char got[16];
	memset(got, 'q', sizeof got);
	T(read(fds[0], got, sizeof got));
	printf("bytes from an untouched page zero: %d\n", all_zero(got, sizeof got));
	close(fds[0]);
	close(fds[1]);
	munmap(m, 4 * PAGE);
}

static void protections(void)
{
	char *m = anon(4 * PAGE, PROT_READ | PROT_WRITE, 0);
	T(mprotect(m + PAGE, PAGE, PROT_NONE));
	probe("read PROT_NONE untouched page", m + PAGE, 0);
	probe("write PROT_NONE untouched page", m + PAGE, 1);
	T(mprotect(m + PAGE, PAGE, PROT_READ | PROT_WRITE));
	probe("read it after mprotect RW", m + PAGE, 0);
	printf("  and it is zero: %d\n", all_zero(m + PAGE, PAGE));
	T(mprotect(m + 2 * PAGE, PAGE, PROT_READ));
	probe("read PROT_READ untouched page", m + 2 * PAGE, 0);
	probe("write PROT_READ untouched page", m + 2 * PAGE, 1);
	munmap(m, 4 * PAGE);

	char *none = anon(2 * PAGE, PROT_NONE, 0);
	probe("read mmap PROT_NONE page", none, 0);
	T(mprotect(none, 2 * PAGE, PROT_READ | PROT_WRITE));
	probe("write it after mprotect RW", none + PAGE, 1);
	printf("  other page zero: %d\n", all_zero(none, PAGE));
	munmap(none, 2 * PAGE);

	/* A read-only anonymous mapping reads zeroes; writing faults. */
	char *ro = anon(PAGE, PROT_READ, 0);
	printf("PROT_READ mapping zero: %d\n", all_zero(ro, PAGE));
	probe("write PROT_READ mapping", ro, 1);
	munmap(ro, PAGE);
}

static void remap(void)
{
	/* Five pages, the last made read-only: the first four are a mapping
	 * of their own that cannot grow in place, so growing moves it. */
	char *m = anon(5 * PAGE, PROT_READ | PROT_WRITE, 0);
	mprotect(m + 4 * PAGE, PAGE, PROT_READ);
	m[PAGE] = 'm';
	char *n = mremap(m, 4 * PAGE, 16 * PAGE, MREMAP_MAYMOVE);
	if (n == MAP_FAILED) {
		printf("mremap failed\n");
		return;
	}
	printf("mremap moved: %d, page 1 '%c', pages 0, 2-15 zero %d %d\n", n != m, n[PAGE], all_zero(n, PAGE), all_zero(n + 2 * PAGE, 14 * PAGE));
	n[15 * PAGE] = 'n';
	printf("grown part writable: '%c'\n", n[15 * PAGE]);
	munmap(n, 16 * PAGE);
	munmap(m + 4 * PAGE, PAGE);
}

/* Walks 512 KiB down the stack in 16 KiB frames; past the first 64 KiB
 * (which earlier calls and signal frames may have used) the pages are
 * fresh and read as zero. */
static int stack_zero(int depth)
{
	char frame[16 * 1024];
	volatile char *f = frame;
	int seen = 0;
	for (size_t i = 0; i < sizeof frame; i += 256)
		seen |= f[i];
	f[0] = 1;
	int mine = depth < 28 && seen != 0;
	return depth ? stack_zero(depth - 1) | mine : mine;
}

static void program_memory(void)
{
	printf("4 MiB bss zero: %d\n", all_zero(big_bss, sizeof big_bss));
	big_bss[sizeof big_bss - 1] = 1;
	printf("bss last byte written: %d\n", big_bss[sizeof big_bss - 1]);

	/* musl's sbrk only reports the break: brk(2) itself. */
	char *start = (char *)syscall(SYS_brk, 0);
	if ((char *)syscall(SYS_brk, start + MIB) != start + MIB) {
		printf("brk failed\n");
		return;
	}
	printf("brk growth zero: %d\n", all_zero(start, MIB));
	memset(start, 'b', MIB);
	syscall(SYS_brk, start);
	syscall(SYS_brk, start + MIB);
	printf("brk shrunk and grown again zero: %d\n", all_zero(start, MIB));
	syscall(SYS_brk, start);
}

/* MemFree from /proc/meminfo, in KiB; -1 if unreadable. */
static long mem_free(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	long kb = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "MemFree: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void accounting(void)
{
	long before = mem_free();
	char *m = anon(256 * MIB, PROT_READ | PROT_WRITE, 0);
	long after = mem_free();
	printf("256 MiB untouched costs MemFree under 64 MiB: %s\n", before > 0 && before - after < 64 * 1024 ? "yes" : "no");
	munmap(m, 256 * MIB);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);

	large_mapping();
	sparse_gib();
	dontneed();
	fork_child_view();
	kernel_access();
	protections();
	remap();
	program_memory();
	printf("fresh stack pages zero: %d\n", stack_zero(31) == 0);
	accounting();
	return 0;
}
