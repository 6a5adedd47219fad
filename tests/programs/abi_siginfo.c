/* What SA_SIGINFO handlers are told: si_signo always; si_code SI_TKILL
 * for raise (tkill), SI_USER for kill, with si_pid and si_uid of the
 * sender; SIGCHLD with CLD_EXITED and the exit status, CLD_KILLED and the
 * signal, and the child's pid; SIGSEGV with SEGV_MAPERR for an unmapped
 * address and SEGV_ACCERR for a read-only page, and si_addr the faulting
 * address; SIGFPE with FPE_INTDIV and SIGILL with ILL_ILLOPN for ud2,
 * both with si_addr the instruction; SIGTRAP from int3 with SI_KERNEL
 * and no address. Faults happen in children. Only
 * relations between pids and addresses are printed. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int signo, code, status, pid_ok, uid, addr_ok;
static volatile pid_t pid;
static void *volatile expect;

static void on_info(int s, siginfo_t *si, void *uc)
{
	(void)s, (void)uc;
	signo = si->si_signo;
	code = si->si_code;
	pid = si->si_pid;
	uid = si->si_uid;
	status = si->si_status;
	addr_ok = si->si_addr == expect;
}

/* In a child: report the fault's siginfo and leave. */
static void on_fault(int s, siginfo_t *si, void *uc)
{
	(void)uc;
	printf("  signo %d code %d addr is the faulting one %d\n", s, si->si_code, si->si_addr == expect);
	_exit(0);
}

static void in_child(const char *what, void (*fn)(void))
{
	printf("%s:\n", what);
	pid_t c = fork();
	if (c == 0) {
		struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO };
		sigaction(SIGSEGV, &sa, NULL);
		sigaction(SIGFPE, &sa, NULL);
		sigaction(SIGILL, &sa, NULL);
		sigaction(SIGTRAP, &sa, NULL);
		fn();
		_exit(1);
	}
	int st;
	waitpid(c, &st, 0);
}

static void unmapped(void) { expect = (void *)16; *(volatile int *)expect = 1; }
static void readonly(void)
{
	char *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	expect = p + 8;
	*(volatile char *)expect = 1;
}
/* The faulting instructions, at known addresses. */
extern char div_insn[], ud2_insn[];
void fault_div(void), fault_ud2(void);
__asm__(".text\n"
	".globl fault_div, div_insn, fault_ud2, ud2_insn\n"
	"fault_div: xor %ecx, %ecx\n"
	"div_insn: div %ecx\n"
	"ret\n"
	"fault_ud2:\n"
	"ud2_insn: ud2\n"
	"ret\n");
static void divide(void) { expect = div_insn; fault_div(); }
static void ud2(void) { expect = ud2_insn; fault_ud2(); }
static void int3(void) { expect = NULL; __asm__ volatile("int3"); }

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct sigaction sa = { .sa_sigaction = on_info, .sa_flags = SA_SIGINFO };
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);

	raise(SIGUSR1);
	printf("raise: signo %d code %d (SI_TKILL %d) pid is mine %d uid %d\n", signo, code, SI_TKILL, pid == getpid(), uid);
	kill(getpid(), SIGUSR1);
	printf("kill: signo %d code %d (SI_USER %d) pid is mine %d uid %d\n", signo, code, SI_USER, pid == getpid(), uid);

	pid_t c = fork();
	if (c == 0)
		_exit(7);
	while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
		;
	printf("child exit: signo %d code %d (CLD_EXITED %d) status %d pid is the child %d\n", signo, code, CLD_EXITED, status,
	       pid == c);
	c = fork();
	if (c == 0) {
		for (;;)
			pause();
	}
	kill(c, SIGTERM);
	while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
		;
	printf("child killed: signo %d code %d (CLD_KILLED %d) status %d pid is the child %d\n", signo, code, CLD_KILLED, status,
	       pid == c);
	signal(SIGCHLD, SIG_DFL);

	printf("SEGV_MAPERR %d SEGV_ACCERR %d FPE_INTDIV %d ILL_ILLOPN %d SI_KERNEL %d\n", SEGV_MAPERR, SEGV_ACCERR, FPE_INTDIV,
	       ILL_ILLOPN, SI_KERNEL);
	in_child("unmapped write", unmapped);
	in_child("read-only write", readonly);
	in_child("divide by zero", divide);
	in_child("ud2", ud2);
	in_child("int3", int3);
	return 0;
}
