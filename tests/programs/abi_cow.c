/* Private memory across fork (copy-on-write in Lstar, D24): after fork,
 * writes by the parent and by the child to data, bss, heap, stack and
 * anonymous private pages are private to each, also while both are alive
 * and in a grandchild; MAP_SHARED memory stays shared; read() from a pipe,
 * pipe() and uname() write into the child's still-shared pages without
 * reaching the parent's; a write to a read-only mapping in a child is
 * still SIGSEGV, as is one after mprotect(PROT_READ) of a written page,
 * while mprotect back to read-write lets the child write its own copy;
 * and 200 fork/exit/wait rounds, children and parent writing, leave
 * /proc/meminfo's MemFree where it was (within a tolerance, since Linux
 * moves too). Differential test. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096

static int data_word = 1;
static int bss_word;
/* Two pages and a bit: a read() into it crosses a page boundary. */
static char buffer[3 * PAGE] = "initial";

/* Waits for the one child and prints how it ended. */
static void reap(const char *what)
{
	int status;
	if (wait(&status) < 0) {
		printf("%s: wait failed\n", what);
		return;
	}
	if (WIFEXITED(status))
		printf("%s: exit %d\n", what, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf("%s: killed by %s\n", what, WTERMSIG(status) == SIGSEGV ? "SIGSEGV" : "another signal");
}

/* The parent's and the child's writes after fork stay private to each,
 * in every kind of private memory; the shared page is shared. */
static void private_writes(void)
{
	int stack_word = 1;
	int *heap = malloc(64 * sizeof *heap);
	char *anon = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int *shared = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!heap || anon == MAP_FAILED || shared == MAP_FAILED) {
		printf("setup failed\n");
		exit(1);
	}
	heap[0] = 1;
	memset(anon, 'p', 4 * PAGE);
	*shared = 1;
	bss_word = 1;

	int to_child[2], to_parent[2];
	pipe(to_child);
	pipe(to_parent);
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		/* The parent writes first; the child still sees the old values. */
		read(to_child[0], &c, 1);
		printf("child sees: data %d bss %d stack %d heap %d anon %c%c shared %d\n", data_word, bss_word, stack_word, heap[0], anon[0], anon[3 * PAGE + 5], *shared);
		data_word = 20, bss_word = 20, stack_word = 20, heap[0] = 20;
		anon[0] = 'c', anon[3 * PAGE + 5] = 'c';
		*shared = 20;
		/* A grandchild shares the child's pages in turn. */
		if (fork() == 0) {
			printf("grandchild sees: data %d anon %c\n", data_word, anon[0]);
			data_word = 300, anon[0] = 'g';
			_exit(0);
		}
		reap("grandchild");
		printf("child after grandchild: data %d anon %c\n", data_word, anon[0]);
		write(to_parent[1], "k", 1);
		_exit(0);
	}
	data_word = 10, bss_word = 10, stack_word = 10, heap[0] = 10;
	anon[0] = 'P';
	*shared = 10;
	write(to_child[1], "g", 1);
	char c;
	read(to_parent[0], &c, 1);
	reap("child");
	printf("parent sees: data %d bss %d stack %d heap %d anon %c%c shared %d\n", data_word, bss_word, stack_word, heap[0], anon[0], anon[3 * PAGE + 5], *shared);
	/* The child is gone: the parent's pages are its own again. */
	anon[3 * PAGE + 5] = 'Q';
	printf("parent writes on: anon %c%c\n", anon[0], anon[3 * PAGE + 5]);
	close(to_child[0]), close(to_child[1]), close(to_parent[0]), close(to_parent[1]);
	munmap(anon, 4 * PAGE);
	munmap(shared, PAGE);
	free(heap);
}

/* The kernel and the servers write into a child's pages that it still
 * shares with its parent: the child gets the bytes, the parent keeps its
 * own. */
static void kernel_writes(void)
{
	static int fds[2] = { -1, -1 };
	static struct utsname uts;
	int p[2];
	pipe(p);
	write(p[1], "from the pipe", 13);
	if (fork() == 0) {
		/* From 4090: the bytes straddle the first page boundary. */
		ssize_t n = read(p[0], buffer + PAGE - 6, 13);
		printf("child read %zd: %.13s; start %s\n", n, buffer + PAGE - 6, buffer);
		printf("child pipe(): %d\n", pipe(fds) == 0 && fds[0] >= 0 && fds[1] > fds[0]);
		printf("child uname(): %d %s\n", uname(&uts), uts.sysname);
		_exit(0);
	}
	reap("reader");
	printf("parent buffer: %s, %d bytes at the boundary\n", buffer, (int)strnlen(buffer + PAGE - 6, 13));
	printf("parent fds %d %d, sysname \"%s\"\n", fds[0], fds[1], uts.sysname);
	close(p[0]), close(p[1]);
}

/* Read-only pages stay read-only in a child, whatever fork shares. */
static void read_only(void)
{
	char *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *rw = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	rw[0] = 'w';
	fflush(stdout);
	if (fork() == 0) {
		ro[0] = 1;
		_exit(0);
	}
	reap("write to a PROT_READ mapping");
	if (fork() == 0) {
		mprotect(rw, PAGE, PROT_READ);
		rw[0] = 'x';
		_exit(0);
	}
	reap("write after mprotect(PROT_READ)");
	if (fork() == 0) {
		mprotect(rw, PAGE, PROT_READ);
		mprotect(rw, PAGE, PROT_READ | PROT_WRITE);
		rw[0] = 'y';
		_exit(rw[0]);
	}
	reap("write after mprotect(PROT_READ|PROT_WRITE)");
	printf("parent rw page: %c\n", rw[0]);
	munmap(ro, PAGE);
	munmap(rw, PAGE);
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

/* 200 forks, each child writing 16 pages (its own copies) and forking a
 * grandchild that writes half of them again, all ended and waited for,
 * while the parent writes too: every frame a round copies or shares is
 * the round's to give back. */
static void fork_rounds(char *pages)
{
	for (int i = 0; i < 200; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			for (int j = 0; j < 16; j++)
				pages[j * PAGE] = (char)i;
			pid_t grandchild = fork();
			if (grandchild == 0) {
				for (int j = 0; j < 16; j += 2)
					pages[j * PAGE] = (char)j;
				_exit(0);
			}
			waitpid(grandchild, NULL, 0);
			_exit(0);
		}
		pages[(i % 16) * PAGE] = (char)i;
		waitpid(pid, NULL, 0);
	}
}

/* Frames are neither leaked nor kept: after a first batch (caches on
 * Linux fill up), a batch leaves MemFree within 2 MiB of where it was;
 * the host's own activity can move it, so up to five batches may try.
 * A space's tables kept per fork (6 frames at least) would be 4.8 MiB
 * over a batch, the children's copies kept 12.8 MiB; a single frame per
 * round (800 KiB) would go unseen. */
static void no_leak(void)
{
	char *pages = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(pages, 1, 16 * PAGE);
	fflush(stdout);
	fork_rounds(pages);
	int ok = 0;
	for (int tries = 0; tries < 5 && !ok; tries++) {
		long before = mem_free();
		fork_rounds(pages);
		long after = mem_free();
		ok = before > 0 && after > 0 && before - after < 2048;
	}
	printf("200 forks: %s\n", ok ? "no leak" : "leak");
	munmap(pages, 16 * PAGE);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	private_writes();
	kernel_writes();
	read_only();
	no_leak();
	return 0;
}
