/* The vDSO: AT_SYSINFO_EHDR points at a shared object's ELF header that
 * exports the time functions at version LINUX_2.6; libc's clock_gettime
 * (which goes through it) and the raw syscall agree and never step
 * backwards when interleaved; gettimeofday and time agree with
 * CLOCK_REALTIME; the vDSO's own functions return 0 or a negative errno,
 * falling back to the kernel for the clocks they do not read themselves
 * (CPU time, bad ids); a forked child and an exec'd program have it too.
 * Only relations are printed, never the times themselves. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 5000

static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

static long long raw_ns(clockid_t c)
{
	struct timespec t;
	syscall(SYS_clock_gettime, c, &t);
	return ns(t);
}

static long long libc_ns(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return ns(t);
}

/* The vDSO's dynamic symbol table, found as a libc would find it. */
struct image {
	const unsigned char *base; /* where address 0 of the image is */
	const Elf64_Sym *syms;
	const char *strings;
	const Elf64_Half *versym;
	const Elf64_Verdef *verdef;
	size_t nsyms;
	const char *soname;
};

static int parse(const Elf64_Ehdr *eh, struct image *im)
{
	const unsigned char *at = (const unsigned char *)eh;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(at + eh->e_phoff);
	const Elf64_Dyn *dyn = NULL;
	memset(im, 0, sizeof *im);
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && !im->base)
			im->base = at + ph[i].p_offset - ph[i].p_vaddr;
		if (ph[i].p_type == PT_DYNAMIC)
			dyn = (const Elf64_Dyn *)(at + ph[i].p_offset);
	}
	if (!im->base || !dyn)
		return -1;
	size_t soname = 0;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		const void *p = im->base + dyn->d_un.d_ptr;
		switch (dyn->d_tag) {
		case DT_SYMTAB: im->syms = p; break;
		case DT_STRTAB: im->strings = p; break;
		case DT_VERSYM: im->versym = p; break;
		case DT_VERDEF: im->verdef = p; break;
		case DT_HASH: im->nsyms = ((const Elf32_Word *)p)[1]; break;
		case DT_SONAME: soname = dyn->d_un.d_val; break;
		}
	}
	if (!im->syms || !im->strings || !im->nsyms)
		return -1;
	im->soname = soname ? im->strings + soname : "";
	return 0;
}

/* The name of version index `ndx`, or "" for none. */
static const char *version(const struct image *im, int ndx)
{
	const Elf64_Verdef *d = im->verdef;
	while (d) {
		if ((d->vd_ndx & 0x7fff) == (ndx & 0x7fff) && !(d->vd_flags & VER_FLG_BASE)) {
			const Elf64_Verdaux *a = (const Elf64_Verdaux *)((const char *)d + d->vd_aux);
			return im->strings + a->vda_name;
		}
		d = d->vd_next ? (const Elf64_Verdef *)((const char *)d + d->vd_next) : NULL;
	}
	return "";
}

/* A defined function `name` at version LINUX_2.6, or NULL. */
static void *lookup(const struct image *im, const char *name)
{
	for (size_t i = 1; i < im->nsyms; i++) {
		const Elf64_Sym *s = &im->syms[i];
		if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF)
			continue;
		if (strcmp(im->strings + s->st_name, name) != 0)
			continue;
		if (im->versym && strcmp(version(im, im->versym[i]), "LINUX_2.6") != 0)
			continue;
		return (void *)(im->base + s->st_value);
	}
	return NULL;
}

/* 0 if the process has a usable vDSO header (for the forked and exec'd). */
static int vdso_present(void)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)getauxval(AT_SYSINFO_EHDR);
	if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
		return 1;
	struct timespec t;
	if (clock_gettime(CLOCK_MONOTONIC, &t) != 0 || libc_ns(CLOCK_MONOTONIC) > raw_ns(CLOCK_MONOTONIC))
		return 2;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "exec") == 0)
		return 40 + vdso_present();
	setvbuf(stdout, NULL, _IONBF, 0);

	/* The header. */
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)getauxval(AT_SYSINFO_EHDR);
	printf("AT_SYSINFO_EHDR set: %d\n", eh != NULL);
	if (!eh)
		return 1;
	printf("ELF magic: %d class64: %d ET_DYN: %d x86_64: %d page-aligned: %d\n",
	       memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0, eh->e_ident[EI_CLASS] == ELFCLASS64,
	       eh->e_type == ET_DYN, eh->e_machine == EM_X86_64, ((unsigned long)eh & 4095) == 0);
	struct image im;
	int ok = parse(eh, &im) == 0;
	printf("dynamic symbols: %d soname: %s\n", ok, ok ? im.soname : "?");
	if (!ok)
		return 1;

	/* The functions libc looks up, at LINUX_2.6. */
	int (*v_gettime)(clockid_t, struct timespec *) = (int (*)(clockid_t, struct timespec *))lookup(&im, "__vdso_clock_gettime");
	int (*v_getres)(clockid_t, struct timespec *) = (int (*)(clockid_t, struct timespec *))lookup(&im, "__vdso_clock_getres");
	int (*v_gettimeofday)(struct timeval *, struct timezone *) = (int (*)(struct timeval *, struct timezone *))lookup(&im, "__vdso_gettimeofday");
	time_t (*v_time)(time_t *) = (time_t (*)(time_t *))lookup(&im, "__vdso_time");
	int (*v_getcpu)(unsigned *, unsigned *, void *) = (int (*)(unsigned *, unsigned *, void *))lookup(&im, "__vdso_getcpu");
	printf("exports: clock_gettime %d clock_getres %d gettimeofday %d time %d getcpu %d\n",
	       v_gettime != NULL, v_getres != NULL, v_gettimeofday != NULL, v_time != NULL, v_getcpu != NULL);
	if (!v_gettime || !v_getres || !v_gettimeofday || !v_time || !v_getcpu)
		return 1;

	/* libc (the vDSO), the raw syscall and the vDSO called directly, in
	 * turn: each reading is at least the one before. */
	static const clockid_t clocks[] = { CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME };
	static const char *const names[] = { "CLOCK_MONOTONIC", "CLOCK_REALTIME", "CLOCK_BOOTTIME" };
	for (int c = 0; c < 3; c++) {
		long long last = 0;
		int back = 0, fails = 0;
		for (int i = 0; i < ROUNDS; i++) {
			struct timespec t;
			long long a = libc_ns(clocks[c]);
			long long b = raw_ns(clocks[c]);
			fails += v_gettime(clocks[c], &t) != 0;
			long long d = ns(t);
			back += a < last || b < a || d < b;
			last = d;
		}
		printf("%s interleaved %d times: backwards %d failures %d\n", names[c], ROUNDS, back, fails);
	}
	long long a = raw_ns(CLOCK_MONOTONIC);
	long long b = libc_ns(CLOCK_MONOTONIC);
	printf("libc within 1s of the syscall: %d\n", b - a < 1000000000LL);

	/* gettimeofday and time between two CLOCK_REALTIME readings. */
	int tv_ok = 1, t_ok = 1, vtv_ok = 1, vt_ok = 1;
	for (int i = 0; i < 1000; i++) {
		struct timespec r1, r2;
		struct timeval tv, vtv;
		clock_gettime(CLOCK_REALTIME, &r1);
		gettimeofday(&tv, NULL);
		time_t t = time(NULL);
		v_gettimeofday(&vtv, NULL);
		time_t vt_ret, vt = 0;
		vt_ret = v_time(&vt);
		clock_gettime(CLOCK_REALTIME, &r2);
		long long lo = ns(r1) / 1000, hi = ns(r2) / 1000;
		long long us = tv.tv_sec * 1000000LL + tv.tv_usec, vus = vtv.tv_sec * 1000000LL + vtv.tv_usec;
		tv_ok &= lo <= us && us <= hi && tv.tv_usec < 1000000;
		vtv_ok &= lo <= vus && vus <= hi && vtv.tv_usec < 1000000;
		t_ok &= r1.tv_sec <= t && t <= r2.tv_sec;
		/* Linux's __vdso_time reads a clock that may trail by a tick. */
		vt_ok &= vt == vt_ret && r1.tv_sec - 1 <= vt && vt <= r2.tv_sec;
	}
	printf("gettimeofday within CLOCK_REALTIME: libc %d vdso %d\n", tv_ok, vtv_ok);
	printf("time within CLOCK_REALTIME: libc %d vdso %d\n", t_ok, vt_ok);
	/* (The zone itself is the host's business: Lstar's is UTC.) */
	struct timezone tz;
	struct timeval tv;
	printf("vdso gettimeofday with a timezone: %d\n", v_gettimeofday(&tv, &tz));
	printf("vdso gettimeofday(NULL, NULL): %d time(NULL) positive: %d\n", v_gettimeofday(NULL, NULL), v_time(NULL) > 0);

	/* Resolutions of the fine clocks. */
	struct timespec res = { 9, 9 };
	int r = clock_getres(CLOCK_MONOTONIC, &res);
	printf("clock_getres(CLOCK_MONOTONIC): %d {%ld, %ld}\n", r, (long)res.tv_sec, res.tv_nsec);
	res = (struct timespec){ 9, 9 };
	r = v_getres(CLOCK_REALTIME, &res);
	printf("vdso clock_getres(CLOCK_REALTIME): %d {%ld, %ld}\n", r, (long)res.tv_sec, res.tv_nsec);
	printf("vdso clock_getres(CLOCK_MONOTONIC, NULL): %d\n", v_getres(CLOCK_MONOTONIC, NULL));

	/* CPU-time clocks: the vDSO leaves them to the kernel. */
	struct timespec c1, c2, t1, t2;
	int r1 = clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	int r2 = clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
	volatile unsigned long spin = 0;
	for (int i = 0; i < 2000000; i++)
		spin += i;
	int r3 = clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c2);
	int r4 = v_gettime(CLOCK_THREAD_CPUTIME_ID, &t2);
	printf("CPU clocks: %d %d %d %d advance: %d %d\n", r1, r2, r3, r4, ns(c2) > ns(c1), ns(t2) > ns(t1));
	clockid_t pc;
	r = clock_getcpuclockid(0, &pc);
	printf("clock_getcpuclockid clock: %d %d\n", r, r == 0 ? clock_gettime(pc, &c1) : -1);
	printf("vdso clock_getres(CLOCK_PROCESS_CPUTIME_ID): %d\n", v_getres(CLOCK_PROCESS_CPUTIME_ID, &res));

	/* Bad clock ids: EINVAL through libc, -EINVAL from the vDSO. */
	struct timespec t;
	errno = 0;
	r = clock_gettime(12345, &t);
	printf("libc clock_gettime(12345): %d %s\n", r, errno == EINVAL ? "EINVAL" : strerror(errno));
	errno = 0;
	r = clock_gettime(-1, &t);
	printf("libc clock_gettime(-1): %d %s\n", r, errno == EINVAL ? "EINVAL" : strerror(errno));
	errno = 0;
	r = clock_getres(12345, &res);
	printf("libc clock_getres(12345): %d %s\n", r, errno == EINVAL ? "EINVAL" : strerror(errno));
	printf("vdso clock_gettime(12345): %s\n", v_gettime(12345, &t) == -EINVAL ? "-EINVAL" : "other");
	printf("vdso clock_getres(12345): %s\n", v_getres(12345, &res) == -EINVAL ? "-EINVAL" : "other");

	/* getcpu: a valid CPU, through libc and directly. */
	unsigned cpu = 999, node = 999;
	r = v_getcpu(&cpu, &node, NULL);
	printf("vdso getcpu: %d cpu valid %d node valid %d\n", r, cpu < CPU_SETSIZE, node < 1024);
	printf("sched_getcpu valid: %d\n", sched_getcpu() >= 0);

	/* A forked child has it as its parent left it, an exec'd program anew. */
	pid_t child = fork();
	if (child == 0)
		_exit(30 + vdso_present());
	int status;
	waitpid(child, &status, 0);
	printf("forked child: exit %d\n", WEXITSTATUS(status));
	char self[4096];
	long n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0)
		self[n] = 0;
	else
		strcpy(self, argv[0]);
	child = fork();
	if (child == 0) {
		char *args[] = { self, "exec", NULL };
		execv(self, args);
		_exit(99);
	}
	waitpid(child, &status, 0);
	printf("exec'd program: exit %d\n", WEXITSTATUS(status));
	return 0;
}
