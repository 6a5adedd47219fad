/* The research benchmark (`cargo xtask bench`, docs/benchmarking.md).
 *
 * For each operation: a warm-up, then `iters` timed runs, each between an
 * lfence-fenced rdtsc and an rdtscp; the minimum and median of those cycle
 * counts, the wall time per run (CLOCK_MONOTONIC around the whole batch),
 * and, on Lstar, the change of each kernel event counter over the batch
 * divided by `iters`. One line per operation on stdout:
 *
 *   bench op=getpid iters=2000 min_cycles=… median_cycles=… ns=… entries=…
 *   bench op=pipe_pingpong unsupported reason=ENOSYS
 *
 * The same static binary runs on Lstar (as /bin/bench) and as /init of an
 * initramfs on Linux, where it sets up /dev and /tmp first and powers the
 * machine off when done (an init that exits panics the kernel).
 *
 * Arguments (words of argv, or the environment variables BENCH_ONLY and
 * BENCH_ITERS, which is how Linux hands unknown kernel parameters to
 * /init):
 *   exit           exit 0 at once (what the execve operation runs)
 *   only=a,b,c     run only these operations
 *   iters=N        run every operation N times (warm-up N/10)
 *
 * Syscalls under test are made with inline SYSCALL instructions, not
 * through libc, so that both systems run exactly the same user code. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define AT_LSTAR_COUNTERS 0x4c535452
#define X32_SYSCALL_BIT 0x40000000L
#define MAX_ITERS 4096

/* lstar_abi::counters::Counters, in its order. */
struct counters {
	uint64_t entries, syscalls, cr3_writes, tlb_flushes, ipc_messages, switches;
};
#define NCOUNTERS 6
static const char *const counter_names[NCOUNTERS] = {
	"entries", "syscalls", "cr3_writes", "tlb_flushes", "ipc_messages", "switches",
};

static volatile struct counters *lstar_counters;

/* lstar_abi::counters::ProbeLog, at PROBES_OFFSET in the same page: phase
 * stamps from a kernel built with the `probes` feature. */
#define PROBES_OFFSET 512
#define PROBE_SLOTS 64
#define MAX_PHASE_EVENTS 15
struct probe_log {
	uint64_t enabled, next;
	struct { uint64_t point, tsc; } events[PROBE_SLOTS];
};
static const char *const probe_names[] = { "?", "entry", "dispatch", "switch", "exit", "reply" };
static volatile struct probe_log *probes;
static int have_rdtscp;
static const char *self_path;
static char **self_envp;

/* ---- raw syscalls ---- */

static inline long sc0(long n)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n) : "rcx", "r11", "memory");
	return r;
}

static inline long sc1(long n, long a)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a) : "rcx", "r11", "memory");
	return r;
}

static inline long sc2(long n, long a, long b)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return r;
}

static inline long sc3(long n, long a, long b, long c)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}

static inline long sc4(long n, long a, long b, long c, long d)
{
	long r;
	register long r10 __asm__("r10") = d;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
	return r;
}

static inline long sc6(long n, long a, long b, long c, long d, long e, long f)
{
	long r;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return r;
}

/* ---- the clock ---- */

/* The start stamp: the lfences keep earlier instructions from finishing
 * after it and later ones from starting before it. */
static inline uint64_t stamp_start(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) : : "memory");
	return (uint64_t)hi << 32 | lo;
}

/* The end stamp: rdtscp waits for everything before it; the lfence keeps
 * what follows from starting early. Without rdtscp, a fenced rdtsc. */
static inline uint64_t stamp_end(void)
{
	uint32_t lo, hi, aux;
	if (have_rdtscp)
		__asm__ volatile("rdtscp; lfence" : "=a"(lo), "=d"(hi), "=c"(aux) : : "memory");
	else
		__asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) : : "memory");
	return (uint64_t)hi << 32 | lo;
}

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the operations ---- */

/* What operations share: open descriptors and the pipe partner. */
static struct {
	int zero, null;
	int to_child, from_child;
	pid_t partner;
	char byte;
} st = { -1, -1, -1, -1, -1, 0 };

static const char tmp_file[] = "/tmp/bench.file";

/* Each returns 0, or a positive errno for "this system cannot do it". */
static int op_timer(void) { return 0; }

static int op_getpid(void)
{
	long r = sc0(SYS_getpid);
	return r < 0 ? (int)-r : 0;
}

static int op_getpid_x32(void)
{
	long r = sc0(X32_SYSCALL_BIT + SYS_getpid);
	return r < 0 ? (int)-r : 0;
}

static int op_enosys(void)
{
	long r = sc0(1000);
	return r == -ENOSYS ? 0 : EINVAL;
}

static int op_sched_yield(void)
{
	long r = sc0(SYS_sched_yield);
	return r < 0 ? (int)-r : 0;
}

static int op_clock_gettime(void)
{
	struct timespec ts;
	long r = sc2(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&ts);
	return r < 0 ? (int)-r : 0;
}

/* Through libc: the vDSO on Linux, a syscall where there is none. */
static int op_clock_gettime_libc(void)
{
	struct timespec ts;
	return clock_gettime(CLOCK_MONOTONIC, &ts) ? errno : 0;
}

static int op_read_zero(void)
{
	long r = sc3(SYS_read, st.zero, (long)&st.byte, 1);
	return r < 0 ? (int)-r : r == 1 ? 0 : EIO;
}

static int op_write_null(void)
{
	long r = sc3(SYS_write, st.null, (long)&st.byte, 1);
	return r < 0 ? (int)-r : r == 1 ? 0 : EIO;
}

/* One round trip: a byte to the partner process and back. */
static int op_pipe_pingpong(void)
{
	long r = sc3(SYS_write, st.to_child, (long)&st.byte, 1);
	if (r != 1)
		return r < 0 ? (int)-r : EIO;
	r = sc3(SYS_read, st.from_child, (long)&st.byte, 1);
	return r < 0 ? (int)-r : r == 1 ? 0 : EIO;
}

static int wait_child(pid_t pid)
{
	int status;
	long r = sc4(SYS_wait4, pid, (long)&status, 0, 0);
	if (r < 0)
		return (int)-r;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : ECHILD;
}

static int op_fork_exit_wait(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0)
		_exit(0);
	return wait_child(pid);
}

/* fork, then the child execs this program with `exit`: the cost of execve
 * is this minus fork_exit_wait. A failed execve's errno comes back as the
 * child's exit status. */
static int op_fork_execve_wait(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0) {
		char *argv[] = { (char *)self_path, "exit", 0 };
		execve(self_path, argv, self_envp);
		/* Tell the parent why, through the exit status. */
		_exit(errno > 0 && errno < 126 ? errno : 126);
	}
	int status;
	long r = sc4(SYS_wait4, pid, (long)&status, 0, 0);
	if (r < 0)
		return (int)-r;
	if (!WIFEXITED(status))
		return ECHILD;
	return WEXITSTATUS(status);
}

static int op_mmap_munmap(void)
{
	long p = sc6(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p < 0 && p > -4096)
		return (int)-p;
	*(volatile char *)p = 1;
	long r = sc2(SYS_munmap, p, 4096);
	return r < 0 ? (int)-r : 0;
}

static int op_open_close(void)
{
	long fd = sc4(SYS_openat, AT_FDCWD, (long)tmp_file, O_RDONLY, 0);
	if (fd < 0)
		return (int)-fd;
	long r = sc1(SYS_close, fd);
	return r < 0 ? (int)-r : 0;
}

/* ---- set-up for operations that need it ---- */

static int open_devices(void)
{
	st.zero = open("/dev/zero", O_RDONLY);
	if (st.zero < 0)
		return errno;
	st.null = open("/dev/null", O_WRONLY);
	return st.null < 0 ? errno : 0;
}

/* The partner: echoes every byte back until end of file. */
static int start_partner(void)
{
	int down[2], up[2];
	if (pipe(down) || pipe(up))
		return errno;
	pid_t pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0) {
		close(down[1]);
		close(up[0]);
		char c;
		while (read(down[0], &c, 1) == 1)
			if (write(up[1], &c, 1) != 1)
				break;
		_exit(0);
	}
	close(down[0]);
	close(up[1]);
	st.to_child = down[1];
	st.from_child = up[0];
	st.partner = pid;
	return 0;
}

static void stop_partner(void)
{
	if (st.partner <= 0)
		return;
	close(st.to_child);
	close(st.from_child);
	waitpid(st.partner, 0, 0);
	st.partner = -1;
}

static int make_tmp_file(void)
{
	int fd = open(tmp_file, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* ---- the table of operations ---- */

struct op {
	const char *name;
	int (*run)(void);
	int iters;         /* timed runs */
	int (*setup)(void); /* 0 or a positive errno */
	void (*teardown)(void);
};

static const struct op ops[] = {
	{ "timer", op_timer, 2000, 0, 0 },
	{ "getpid", op_getpid, 2000, 0, 0 },
	{ "getpid_x32", op_getpid_x32, 2000, 0, 0 },
	{ "enosys", op_enosys, 2000, 0, 0 },
	{ "sched_yield", op_sched_yield, 2000, 0, 0 },
	{ "clock_gettime", op_clock_gettime, 1000, 0, 0 },
	{ "clock_gettime_libc", op_clock_gettime_libc, 1000, 0, 0 },
	{ "read_zero", op_read_zero, 1000, open_devices, 0 },
	{ "write_null", op_write_null, 1000, open_devices, 0 },
	{ "pipe_pingpong", op_pipe_pingpong, 500, start_partner, stop_partner },
	{ "fork_exit_wait", op_fork_exit_wait, 100, 0, 0 },
	{ "fork_execve_wait", op_fork_execve_wait, 40, 0, 0 },
	{ "mmap_munmap", op_mmap_munmap, 500, 0, 0 },
	{ "open_close", op_open_close, 500, make_tmp_file, 0 },
};
#define NOPS (int)(sizeof ops / sizeof ops[0])

/* ---- measuring ---- */

static uint64_t samples[MAX_ITERS];

/* ---- the phase breakdown (a kernel with probes) ---- */

static int cmp_u64(const void *a, const void *b);

/* One timed run's probe events between its start and end stamps: a
 * pattern (a point per 4 bits, first in the low bits) and the segment
 * lengths: start to the first event, event to event, last event to end. */
static struct {
	uint64_t pattern;
	int events;
	uint64_t seg[MAX_PHASE_EVENTS + 1];
} phase_runs[MAX_ITERS];

static void phase_record(int i, uint64_t first, uint64_t a, uint64_t b)
{
	uint64_t last = probes->next;
	int n = (int)(last - first);
	phase_runs[i].events = -1;
	if (n < 0 || n > MAX_PHASE_EVENTS)
		return;
	uint64_t pattern = 0, prev = a;
	for (int k = 0; k < n; k++) {
		uint64_t slot = (first + (uint64_t)k) % PROBE_SLOTS;
		uint64_t point = probes->events[slot].point, tsc = probes->events[slot].tsc;
		if (point == 0 || point >= sizeof probe_names / sizeof probe_names[0])
			return;
		pattern |= point << (4 * k);
		phase_runs[i].seg[k] = tsc - prev;
		prev = tsc;
	}
	phase_runs[i].seg[n] = b - prev;
	phase_runs[i].pattern = pattern;
	phase_runs[i].events = n;
}

/* Reports the runs with the most common pattern (others were interrupted
 * by a timer, say): the events in order and each segment's median. */
static void phase_report(const char *name, int iters)
{
	int best = -1, best_count = 0;
	for (int i = 0; i < iters; i++) {
		if (phase_runs[i].events < 0)
			continue;
		int count = 0;
		for (int j = 0; j < iters; j++)
			count += phase_runs[j].events == phase_runs[i].events &&
				 phase_runs[j].pattern == phase_runs[i].pattern;
		if (count > best_count)
			best = i, best_count = count;
		if (count * 2 > iters)
			break;
	}
	if (best < 0) {
		printf("bench phases op=%s none\n", name);
		return;
	}
	int n = phase_runs[best].events;
	uint64_t pattern = phase_runs[best].pattern;
	printf("bench phases op=%s runs=%d/%d events=", name, best_count, iters);
	for (int k = 0; k < n; k++)
		printf("%s%s", k ? "," : "", probe_names[(pattern >> (4 * k)) & 15]);
	if (n == 0)
		printf("none");
	printf(" median_segments=");
	for (int k = 0; k <= n; k++) {
		int m = 0;
		for (int i = 0; i < iters; i++)
			if (phase_runs[i].events == n && phase_runs[i].pattern == pattern)
				samples[m++] = phase_runs[i].seg[k];
		qsort(samples, (size_t)m, sizeof samples[0], cmp_u64);
		printf("%s%llu", k ? "," : "", (unsigned long long)samples[m / 2]);
	}
	printf("\n");
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static const char *errno_name(int e)
{
	switch (e) {
	case ENOSYS: return "ENOSYS";
	case ENOENT: return "ENOENT";
	case EINVAL: return "EINVAL";
	case ENOMEM: return "ENOMEM";
	case EAGAIN: return "EAGAIN";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENODEV: return "ENODEV";
	case ENOEXEC: return "ENOEXEC";
	case ECHILD: return "ECHILD";
	case EBADF: return "EBADF";
	case EFAULT: return "EFAULT";
	case EIO: return "EIO";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default: return "errno";
	}
}

static void unsupported(const char *name, const char *what, int err)
{
	printf("bench op=%s unsupported reason=%s:%s(%d)\n", name, what, errno_name(err), err);
	fflush(stdout);
}

static void measure(const struct op *op, int iters)
{
	int err;
	if (op->setup && (err = op->setup())) {
		unsupported(op->name, "setup", err);
		return;
	}
	/* The first call doubles as the check that the system has it. */
	if ((err = op->run())) {
		unsupported(op->name, "call", err);
		goto out;
	}
	int warm = iters / 10 + 1;
	for (int i = 0; i < warm; i++)
		if ((err = op->run())) {
			unsupported(op->name, "warm-up", err);
			goto out;
		}
	struct counters before = { 0 }, after = { 0 };
	if (lstar_counters)
		before = *lstar_counters;
	uint64_t t0 = now_ns();
	for (int i = 0; i < iters; i++) {
		uint64_t first = probes ? probes->next : 0;
		uint64_t a = stamp_start();
		err = op->run();
		uint64_t b = stamp_end();
		if (probes)
			phase_record(i, first, a, b);
		if (err) {
			unsupported(op->name, "timed run", err);
			goto out;
		}
		samples[i] = b - a;
	}
	uint64_t t1 = now_ns();
	if (lstar_counters)
		after = *lstar_counters;
	qsort(samples, (size_t)iters, sizeof samples[0], cmp_u64);
	uint64_t median = iters % 2 ? samples[iters / 2] : (samples[iters / 2 - 1] + samples[iters / 2]) / 2;
	printf("bench op=%s iters=%d min_cycles=%llu median_cycles=%llu ns=%.1f", op->name, iters,
	       (unsigned long long)samples[0], (unsigned long long)median, (double)(t1 - t0) / iters);
	if (lstar_counters) {
		const uint64_t *b = (const uint64_t *)&before, *a = (const uint64_t *)&after;
		for (int k = 0; k < NCOUNTERS; k++)
			printf(" %s=%.3f", counter_names[k], (double)(a[k] - b[k]) / iters);
	}
	printf("\n");
	if (probes)
		phase_report(op->name, iters);
	fflush(stdout);
out:
	if (op->teardown)
		op->teardown();
}

/* ---- Linux as /init ---- */

static void linux_init_setup(void)
{
	mkdir("/dev", 0755);
	if (mount("devtmpfs", "/dev", "devtmpfs", 0, 0) && errno != EBUSY) {
		mknod("/dev/null", S_IFCHR | 0666, makedev(1, 3));
		mknod("/dev/zero", S_IFCHR | 0666, makedev(1, 5));
	}
	mkdir("/tmp", 01777);
	mkdir("/proc", 0555);
	mount("proc", "/proc", "proc", 0, 0);
}

/* The output must reach the serial port before the machine stops. */
static void linux_init_poweroff(void)
{
	fflush(stdout);
	tcdrain(1);
	sync();
	reboot(RB_POWER_OFF);
	/* If power-off failed: QEMU's isa-debug-exit device. */
	if (ioperm(0xf4, 4, 1) == 0)
		outl(0, 0xf4);
	for (;;)
		pause();
}

int main(int argc, char **argv, char **envp)
{
	const char *only = getenv("BENCH_ONLY");
	const char *iters_text = getenv("BENCH_ITERS");
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "exit"))
			return 0;
		if (!strncmp(argv[i], "only=", 5))
			only = argv[i] + 5;
		else if (!strncmp(argv[i], "iters=", 6))
			iters_text = argv[i] + 6;
	}
	self_path = argv[0];
	self_envp = envp;
	lstar_counters = (volatile struct counters *)getauxval(AT_LSTAR_COUNTERS);
	if (lstar_counters) {
		volatile struct probe_log *log = (volatile struct probe_log *)((volatile char *)lstar_counters + PROBES_OFFSET);
		if (log->enabled)
			probes = log;
	}
	int linux_init = !lstar_counters && getpid() == 1;
	if (linux_init)
		linux_init_setup();

	uint32_t r[4];
	cpuid(0x80000000, 0, r);
	if (r[0] >= 0x80000001) {
		cpuid(0x80000001, 0, r);
		have_rdtscp = (r[3] >> 27) & 1;
	}
	cpuid(1, 0, r);
	int pcid = (r[2] >> 17) & 1;
	cpuid(7, 0, r);
	int invpcid = (r[1] >> 10) & 1;
	printf("bench start system=%s counters=%s rdtscp=%d pcid=%d invpcid=%d\n",
	       lstar_counters ? "lstar" : "other", lstar_counters ? "yes" : "no", have_rdtscp, pcid,
	       invpcid);
	fflush(stdout);

	int forced = iters_text ? atoi(iters_text) : 0;
	if (forced > MAX_ITERS)
		forced = MAX_ITERS;
	for (int i = 0; i < NOPS; i++) {
		if (only) {
			size_t n = strlen(ops[i].name);
			const char *p = only;
			int hit = 0;
			while (*p) {
				if (!strncmp(p, ops[i].name, n) && (p[n] == ',' || p[n] == 0))
					hit = 1;
				p = strchr(p, ',');
				if (!p)
					break;
				p++;
			}
			if (!hit)
				continue;
		}
		measure(&ops[i], forced > 0 ? forced : ops[i].iters);
	}
	printf("bench done\n");
	fflush(stdout);
	if (linux_init)
		linux_init_poweroff();
	return 0;
}
