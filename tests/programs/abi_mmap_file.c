/* Shared file mappings in depth: write(2) seen through a mapping, a store
 * through one seen by pread(2), by a second mapping and by a forked child
 * (and the child's stores by the parent); the rest of the file's last page
 * reading as zero and cleared by ftruncate; SIGBUS (BUS_ADRERR) on a page
 * wholly past the end of the file, shared or private; msync and its
 * errors; mprotect adding PROT_WRITE to a shared mapping of an O_RDONLY
 * file (EACCES) but not to a private one; shared /dev/zero across fork.
 * Works in a fresh /tmp/lstar-abi-mmap-file. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-mmap-file"

static sigjmp_buf back;
static volatile int got_sig, got_code;

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	got_sig = sig;
	got_code = si->si_code;
	siglongjmp(back, 1);
}

/* Reads one byte at `p`, reporting the signal it raises, if any. */
static void touch(const char *what, volatile char *p)
{
	got_sig = 0;
	if (sigsetjmp(back, 1) == 0) {
		char c = *p;
		printf("%s: read %d\n", what, c);
	} else {
		printf("%s: %s code %d\n", what, got_sig == SIGBUS ? "SIGBUS" : got_sig == SIGSEGV ? "SIGSEGV" : "other", got_code);
	}
}

/* The file's first n bytes, as read(2) sees them. */
static void show_file(int fd, int n)
{
	char buf[32] = { 0 };
	int got = pread(fd, buf, n, 0);
	printf("  file (%d): \"", got);
	for (int i = 0; i < got; i++)
		putchar(buf[i] ? buf[i] : '.');
	printf("\"\n");
}

static void show_map(const char *what, const char *p, int n)
{
	printf("  %s: \"", what);
	for (int i = 0; i < n; i++)
		putchar(p[i] ? p[i] : '.');
	printf("\"\n");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	const long pg = 4096;
	struct sigaction sa = { 0 };
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);

	mkdir(DIR_NAME, 0755);
	T(chdir(DIR_NAME));
	unlink("f");
	int fd = open("f", O_CREAT | O_RDWR | O_TRUNC, 0644);
	T(write(fd, "file contents", 13));

	/* Two shared mappings and the file, all one. */
	char *a = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *b = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0);
	printf("mapped %d %d\n", a != MAP_FAILED, b != MAP_FAILED);
	if (a == MAP_FAILED || b == MAP_FAILED)
		return 1;
	T(pwrite(fd, "WRITE", 5, 0));
	show_map("a", a, 13);
	show_map("b", b, 13);
	memcpy(a + 5, "STORE", 5);
	show_file(fd, 13);
	show_map("b", b, 13);

	/* Across fork, both ways. */
	pid_t c = fork();
	if (c == 0) {
		show_map("child sees a", a, 13);
		memcpy(a, "CHILD", 5);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	show_file(fd, 13);
	show_map("b after the child", b, 13);

	/* The rest of the last page, and past it. */
	printf("tail zero %d\n", a[13] == 0 && a[pg - 1] == 0);
	a[100] = 'x';
	struct stat st;
	fstat(fd, &st);
	printf("size still %ld\n", (long)st.st_size);
	touch("page past the end, shared", a + pg);
	char *priv = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	touch("page past the end, private", priv + pg);
	T(ftruncate(fd, 5));
	show_map("a after ftruncate 5", a, 13);
	printf("  a[100] %d\n", a[100]);
	T(ftruncate(fd, 13));
	show_file(fd, 13);

	/* A mapped file that outgrows the memory it started in. */
	static char big[256 * 1024];
	memset(big, 'b', sizeof big);
	int g = open("g", O_CREAT | O_RDWR | O_TRUNC, 0644);
	T(ftruncate(g, 3 * pg));
	char *m = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, g, 0);
	T(pwrite(g, big, sizeof big, 3 * pg));
	m[2 * pg] = 'M';
	char one = 0;
	T(pread(g, &one, 1, 2 * pg));
	printf("  store after growth: %c\n", one);
	T(pwrite(g, "W", 1, pg));
	printf("  write after growth: %c\n", m[pg]);
	T(ftruncate(g, 2 * pg + 1));
	printf("  cut: %c %d\n", m[2 * pg], m[2 * pg + 1]);
	close(g);
	printf("  after close: %c\n", m[pg]);
	unlink("g");
	printf("  after unlink: %c\n", m[2 * pg]);

	/* msync. */
	T(msync(a, pg, MS_SYNC));
	T(msync(a, 2 * pg, MS_ASYNC));
	T(msync(a, pg, MS_INVALIDATE));
	T(msync(a, 0, MS_SYNC));
	T(msync(a + 1, pg, MS_SYNC));
	T(msync(a, pg, MS_SYNC | MS_ASYNC));
	T(msync(a, pg, 8));
	char *hole = mmap(NULL, 3 * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(hole + pg, pg);
	T(msync(hole, 3 * pg, MS_SYNC));

	/* mprotect and the descriptor's access mode. */
	int ro = open("f", O_RDONLY);
	char *r = mmap(NULL, pg, PROT_READ, MAP_SHARED, ro, 0);
	char *rp = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, ro, 0);
	T(mprotect(r, pg, PROT_READ | PROT_WRITE));
	T(mprotect(r, pg, PROT_READ | PROT_EXEC));
	T(mprotect(rp, pg, PROT_READ | PROT_WRITE));
	show_map("read-only shared", r, 13);

	/* Shared /dev/zero. */
	int zfd = open("/dev/zero", O_RDWR);
	char *z = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, zfd, 0);
	char *zp = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, zfd, 0);
	c = fork();
	if (c == 0) {
		strcpy(z, "shared zero");
		strcpy(zp, "private zero");
		_exit(0);
	}
	waitpid(c, NULL, 0);
	printf("/dev/zero: shared \"%s\", private \"%s\"\n", z, zp);
	int zro = open("/dev/zero", O_RDONLY);
	char *zw = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, zro, 0);
	printf("/dev/zero O_RDONLY shared writable: %s\n", zw == MAP_FAILED ? ename(errno) : "ok");

	unlink("f");
	chdir("/tmp");
	T(rmdir(DIR_NAME));
	return 0;
}
