/* Robustness: child processes make thousands of syscalls with hostile
 * arguments (unmapped, kernel-half and misaligned pointers, huge lengths,
 * bad descriptors, random flags); afterwards the system must still work.
 * The kernel must not panic and no server may die: a bad argument is an
 * errno, a child that wrecks itself (unmaps its own stack, installs a
 * handler at a garbage address) dies of a signal like on Linux, and a
 * child that blocks forever is killed after a deadline.
 *
 * The sequence is fixed (a seeded generator; argv[1] picks another seed),
 * so a failure reproduces.
 * This program runs only in Lstar (an Expect case): on a real Linux host
 * some of these calls are not harmless to the machine running them.
 *
 * Prints per-child outcomes in summary and `fuzz: system ok` when the
 * checks after the storm pass. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHILDREN 64
#define CALLS_PER_CHILD 500
#define CHILD_DEADLINE_MS 3000

static uint64_t rng_state = 0x4c53544152ULL; /* "LSTAR" */

static uint64_t rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

/* Calls a child must not make: they would reach outside the child (signals
 * to other processes), multiply the fuzzers (fork, clone), replace it
 * (execve), or would only ever wait (the deadline handles those anyway, but
 * each costs a whole deadline), or only end it early (exit, and
 * rt_sigreturn, which loads registers from whatever the stack holds). */
static int forbidden(long nr)
{
	switch (nr) {
	case SYS_kill: case SYS_tkill: case SYS_tgkill:
	case SYS_rt_sigqueueinfo: case SYS_rt_tgsigqueueinfo:
	case SYS_fork: case SYS_vfork: case SYS_clone: case SYS_clone3:
	case SYS_execve: case SYS_execveat:
	case SYS_pause: case SYS_rt_sigsuspend: case SYS_nanosleep: case SYS_clock_nanosleep:
	case SYS_reboot: case SYS_setsid: case SYS_setpgid: case SYS_ioctl:
	case SYS_exit: case SYS_exit_group: case SYS_rt_sigreturn:
		return 1;
	}
	return 0;
}

static char buffer[8192];

static long argument(void)
{
	switch (rng() % 16) {
	case 0: return 0;
	case 1: return -1;
	case 2: return (long)(rng() % 8);
	case 3: return (long)(rng() % 4096);
	case 4: return (long)rng();
	case 5: return 0x1000;                        /* unmapped, low */
	case 6: return (long)0xffffffff80100000ULL;   /* the kernel's half */
	case 7: return (long)0x00007ffffffff000ULL;   /* the top of user space */
	case 8: return (long)(buffer + rng() % 4096); /* valid, maybe misaligned */
	case 9: return (long)buffer;
	case 10: return (long)(buffer + sizeof buffer - 1); /* runs off the end */
	case 11: return 1L << (rng() % 63);
	case 12: return (long)(rng() & 0xffffffffu);
	case 13: return -(long)(rng() % 4096);          /* an errno-like value */
	case 14: return (long)0x8000000000000000ULL;
	default: return (long)(rng() % 64);
	}
}

static void fuzz(void)
{
	close(0); /* no read may wait on the console */
	for (int i = 0; i < CALLS_PER_CHILD; i++) {
		long nr;
		do
			nr = (long)(rng() % 460);
		while (forbidden(nr));
		if (rng() % 32 == 0)
			nr = (long)rng(); /* out of range, x32, upper bits set */
		for (size_t k = 0; k < 64; k++)
			buffer[rng() % sizeof buffer] = (char)rng();
		syscall(nr, argument(), argument(), argument(), argument(), argument(), argument());
	}
	_exit(0);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Waits for `pid` up to the deadline, then kills it. */
static void reap(pid_t pid, int counts[3])
{
	int status;
	for (long waited = 0; waited < CHILD_DEADLINE_MS; waited += 10) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid) {
			counts[WIFEXITED(status) ? 0 : 1]++;
			return;
		}
		if (r < 0) {
			printf("waitpid: %s\n", strerror(errno));
			exit(1);
		}
		sleep_ms(10);
	}
	kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid) {
		printf("a killed child was not reaped\n");
		exit(1);
	}
	counts[2]++;
}

static int check(int ok, const char *what)
{
	if (!ok)
		printf("FAIL after the storm: %s (%s)\n", what, strerror(errno));
	return ok;
}

int main(int argc, char **argv)
{
	if (argc > 1) /* another sequence, to hunt with */
		rng_state = strtoull(argv[1], 0, 0) | 1;
	int counts[3] = { 0, 0, 0 }; /* exited, killed by a signal, timed out */
	for (int c = 0; c < CHILDREN; c++) {
		uint64_t seed = rng(); /* each child its own sequence */
		pid_t pid = fork();
		if (pid < 0) {
			printf("fork: %s\n", strerror(errno));
			return 1;
		}
		if (pid == 0) {
			rng_state = seed | 1;
			fuzz();
		}
		reap(pid, counts);
	}
	printf("fuzz: %d children: %d exited, %d killed by a signal, %d timed out\n", CHILDREN, counts[0], counts[1],
	       counts[2]);

	/* The system still works: files, pipes, processes, memory. */
	int ok = 1;
	int fd = open("/tmp/fuzz.check", O_CREAT | O_RDWR | O_TRUNC, 0644);
	ok &= check(fd >= 0, "open");
	ok &= check(write(fd, "lstar", 5) == 5, "write");
	char back[8] = { 0 };
	ok &= check(pread(fd, back, 5, 0) == 5 && !memcmp(back, "lstar", 5), "pread");
	ok &= check(close(fd) == 0 && unlink("/tmp/fuzz.check") == 0, "close, unlink");
	int p[2];
	ok &= check(pipe(p) == 0, "pipe");
	pid_t child = fork();
	if (child == 0) {
		_exit(write(p[1], "x", 1) == 1 ? 7 : 1);
	}
	int status = 0;
	ok &= check(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 7,
		    "fork, exit, wait");
	ok &= check(read(p[0], back, 1) == 1 && back[0] == 'x', "pipe read");
	char *m = mmap(0, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ok &= check(m != MAP_FAILED, "mmap");
	if (m != MAP_FAILED) {
		memset(m, 1, 1 << 20);
		ok &= check(munmap(m, 1 << 20) == 0, "munmap");
	}
	printf(ok ? "fuzz: system ok\n" : "fuzz: system damaged\n");
	return ok ? 0 : 1;
}
