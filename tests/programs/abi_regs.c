/* Every general register a program can see survives what the kernel does
 * around it: a SYSCALL keeps all but RAX, RCX and R11 (RCX gets the return
 * address), and code that is preempted, forked or interrupted by a signal
 * handler finds every register, RCX and R11 included, as it left it.
 *
 * The checks are in assembly, so no compiler choice hides a clobbered
 * register: each loads known patterns, does the call or spins, and
 * compares. A C handler counts signals and clobbers what it may. */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* long checked_syscall(const long call[7], unsigned long *bad): does
 * syscall call[0] with arguments call[1..6], with RBX, RBP and R12-R15
 * holding patterns, and sets *bad to a mask of the registers found
 * changed after it (bits 0-5: RBX RBP R12 R13 R14 R15; 6-11: RDI RSI RDX
 * R10 R8 R9; 12: RCX not the return address). Returns RAX. */
__asm__(
	".intel_syntax noprefix\n"
	".text\n"
	".globl checked_syscall\n"
	"checked_syscall:\n"
	"	push rbx\n	push rbp\n	push r12\n	push r13\n	push r14\n	push r15\n"
	"	push rsi\n"
	"	push rdi\n"
	"	mov rax, [rdi]\n"
	"	mov rsi, [rdi + 16]\n	mov rdx, [rdi + 24]\n	mov r10, [rdi + 32]\n"
	"	mov r8, [rdi + 40]\n	mov r9, [rdi + 48]\n	mov rdi, [rdi + 8]\n"
	"	movabs rbx, 0x1b1b1b1b1b1b1b1b\n"
	"	movabs rbp, 0x2b2b2b2b2b2b2b2b\n"
	"	movabs r12, 0x3c3c3c3c3c3c3c3c\n"
	"	movabs r13, 0x4d4d4d4d4d4d4d4d\n"
	"	movabs r14, 0x5e5e5e5e5e5e5e5e\n"
	"	movabs r15, 0x6f6f6f6f6f6f6f6f\n"
	"	syscall\n"
	"1:	push rax\n"
	"	lea r11, [rip + 1b]\n"
	"	xor eax, eax\n"
	"	cmp rcx, r11\n	je 2f\n	or eax, 0x1000\n2:\n"
	"	movabs r11, 0x1b1b1b1b1b1b1b1b\n	cmp rbx, r11\n	je 2f\n	or eax, 0x1\n2:\n"
	"	movabs r11, 0x2b2b2b2b2b2b2b2b\n	cmp rbp, r11\n	je 2f\n	or eax, 0x2\n2:\n"
	"	movabs r11, 0x3c3c3c3c3c3c3c3c\n	cmp r12, r11\n	je 2f\n	or eax, 0x4\n2:\n"
	"	movabs r11, 0x4d4d4d4d4d4d4d4d\n	cmp r13, r11\n	je 2f\n	or eax, 0x8\n2:\n"
	"	movabs r11, 0x5e5e5e5e5e5e5e5e\n	cmp r14, r11\n	je 2f\n	or eax, 0x10\n2:\n"
	"	movabs r11, 0x6f6f6f6f6f6f6f6f\n	cmp r15, r11\n	je 2f\n	or eax, 0x20\n2:\n"
	"	mov r11, [rsp + 8]\n"
	"	cmp rdi, [r11 + 8]\n	je 2f\n	or eax, 0x40\n2:\n"
	"	cmp rsi, [r11 + 16]\n	je 2f\n	or eax, 0x80\n2:\n"
	"	cmp rdx, [r11 + 24]\n	je 2f\n	or eax, 0x100\n2:\n"
	"	cmp r10, [r11 + 32]\n	je 2f\n	or eax, 0x200\n2:\n"
	"	cmp r8, [r11 + 40]\n	je 2f\n	or eax, 0x400\n2:\n"
	"	cmp r9, [r11 + 48]\n	je 2f\n	or eax, 0x800\n2:\n"
	"	mov r11, [rsp + 16]\n"
	"	mov [r11], rax\n"
	"	pop rax\n"
	"	add rsp, 16\n"
	"	pop r15\n	pop r14\n	pop r13\n	pop r12\n	pop rbp\n	pop rbx\n"
	"	ret\n"

/* unsigned long spin_check(long rounds): loads all fifteen registers but
 * RSP with patterns and checks them all `rounds` times; returns a mask of
 * those found changed (bit i: pattern i, in the order RAX RBX RCX RDX RSI
 * RDI RBP R8-R15), or 0. */
	".globl spin_check\n"
	"spin_check:\n"
	"	push rbx\n	push rbp\n	push r12\n	push r13\n	push r14\n	push r15\n"
	"	push rdi\n"
	"	mov rax, [rip + patterns]\n	mov rbx, [rip + patterns + 8]\n"
	"	mov rcx, [rip + patterns + 16]\n	mov rdx, [rip + patterns + 24]\n"
	"	mov rsi, [rip + patterns + 32]\n	mov rdi, [rip + patterns + 40]\n"
	"	mov rbp, [rip + patterns + 48]\n	mov r8, [rip + patterns + 56]\n"
	"	mov r9, [rip + patterns + 64]\n	mov r10, [rip + patterns + 72]\n"
	"	mov r11, [rip + patterns + 80]\n	mov r12, [rip + patterns + 88]\n"
	"	mov r13, [rip + patterns + 96]\n	mov r14, [rip + patterns + 104]\n"
	"	mov r15, [rip + patterns + 112]\n"
	"3:	cmp rax, [rip + patterns]\n	jne 4f\n"
	"	cmp rbx, [rip + patterns + 8]\n	jne 4f\n"
	"	cmp rcx, [rip + patterns + 16]\n	jne 4f\n"
	"	cmp rdx, [rip + patterns + 24]\n	jne 4f\n"
	"	cmp rsi, [rip + patterns + 32]\n	jne 4f\n"
	"	cmp rdi, [rip + patterns + 40]\n	jne 4f\n"
	"	cmp rbp, [rip + patterns + 48]\n	jne 4f\n"
	"	cmp r8, [rip + patterns + 56]\n	jne 4f\n"
	"	cmp r9, [rip + patterns + 64]\n	jne 4f\n"
	"	cmp r10, [rip + patterns + 72]\n	jne 4f\n"
	"	cmp r11, [rip + patterns + 80]\n	jne 4f\n"
	"	cmp r12, [rip + patterns + 88]\n	jne 4f\n"
	"	cmp r13, [rip + patterns + 96]\n	jne 4f\n"
	"	cmp r14, [rip + patterns + 104]\n	jne 4f\n"
	"	cmp r15, [rip + patterns + 112]\n	jne 4f\n"
	"	dec qword ptr [rsp]\n"
	"	jnz 3b\n"
	"	xor eax, eax\n"
	"	jmp 5f\n"
	/* Which ones: RAX goes to the stack so that it can hold the mask. */
	"4:	push rax\n"
	"	xor eax, eax\n"
	"	mov r11, [rsp]\n	cmp r11, [rip + patterns]\n	je 2f\n	or eax, 0x1\n2:\n"
	"	cmp rbx, [rip + patterns + 8]\n	je 2f\n	or eax, 0x2\n2:\n"
	"	cmp rcx, [rip + patterns + 16]\n	je 2f\n	or eax, 0x4\n2:\n"
	"	cmp rdx, [rip + patterns + 24]\n	je 2f\n	or eax, 0x8\n2:\n"
	"	cmp rsi, [rip + patterns + 32]\n	je 2f\n	or eax, 0x10\n2:\n"
	"	cmp rdi, [rip + patterns + 40]\n	je 2f\n	or eax, 0x20\n2:\n"
	"	cmp rbp, [rip + patterns + 48]\n	je 2f\n	or eax, 0x40\n2:\n"
	"	cmp r8, [rip + patterns + 56]\n	je 2f\n	or eax, 0x80\n2:\n"
	"	cmp r9, [rip + patterns + 64]\n	je 2f\n	or eax, 0x100\n2:\n"
	"	cmp r10, [rip + patterns + 72]\n	je 2f\n	or eax, 0x200\n2:\n"
	"	cmp r12, [rip + patterns + 88]\n	je 2f\n	or eax, 0x800\n2:\n"
	"	cmp r13, [rip + patterns + 96]\n	je 2f\n	or eax, 0x1000\n2:\n"
	"	cmp r14, [rip + patterns + 104]\n	je 2f\n	or eax, 0x2000\n2:\n"
	"	cmp r15, [rip + patterns + 112]\n	je 2f\n	or eax, 0x4000\n2:\n"
	/* R11 was the scratch register above: it is checked before it. */
	"	or eax, 0x8000\n"
	"	add rsp, 8\n"
	"5:	add rsp, 8\n"
	"	pop r15\n	pop r14\n	pop r13\n	pop r12\n	pop rbp\n	pop rbx\n"
	"	ret\n"
	".section .rodata\n"
	".balign 8\n"
	"patterns:\n"
	"	.quad 0x0a0a0a0a0a0a0a01, 0x1b1b1b1b1b1b1b02, 0x2c2c2c2c2c2c2c03\n"
	"	.quad 0x3d3d3d3d3d3d3d04, 0x4e4e4e4e4e4e4e05, 0x5f5f5f5f5f5f5f06\n"
	"	.quad 0x6060606060606007, 0x7171717171717108, 0x8282828282828209\n"
	"	.quad 0x939393939393930a, 0xa4a4a4a4a4a4a40b, 0xb5b5b5b5b5b5b50c\n"
	"	.quad 0xc6c6c6c6c6c6c60d, 0xd7d7d7d7d7d7d70e, 0xe8e8e8e8e8e8e80f\n"
	".text\n"
	".att_syntax prefix\n");

long checked_syscall(const long call[7], unsigned long *bad);
unsigned long spin_check(long rounds);

static volatile sig_atomic_t handled;

/* Clobbers what a handler may: every caller-saved register, through a
 * call whose result is used. */
static void handler(int sig)
{
	char buf[64];
	memset(buf, sig, sizeof buf);
	handled += buf[sig] == sig;
}

/* Sends `n` signals to `pid`, yielding between them. */
static void pester(pid_t pid, int sig, int n)
{
	for (int i = 0; i < n; i++) {
		if (kill(pid, sig) != 0)
			break;
		sched_yield();
	}
}

/* Runs `rounds` checked calls of one syscall; prints how many went wrong
 * and the union of what was found changed. */
static void calls(const char *what, long nr, long a1, long a2, long a3, int rounds)
{
	unsigned long all = 0;
	int wrong = 0;
	for (int i = 0; i < rounds; i++) {
		long call[7] = { nr, a1, a2, a3, 0x7070707070707070, 0x7171717171717171, 0x7272727272727272 };
		unsigned long bad = 0;
		checked_syscall(call, &bad);
		if (bad) {
			wrong++;
			all |= bad;
		}
	}
	printf("%s: %d of %d calls changed registers (mask %#lx)\n", what, wrong, rounds, all);
}

int main(void)
{
	struct sigaction sa = { .sa_handler = handler, .sa_flags = SA_RESTART };
	sigaction(SIGUSR1, &sa, 0);
	sigaction(SIGCHLD, &sa, 0);
	setvbuf(stdout, 0, _IONBF, 0);

	/* Plain calls: handled by the kernel, forwarded, failed. */
	calls("sched_yield", SYS_sched_yield, 0, 0, 0, 200);
	calls("getpid", SYS_getpid, 0, 0, 0, 200);
	calls("getppid", SYS_getppid, 0, 0, 0, 200);
	calls("bad number", 5000, 0, 0, 0, 200);
	calls("close(-1)", SYS_close, -1, 0, 0, 200);
	calls("write(-1)", SYS_write, -1, 0, 1, 200);

	/* Spinning while a child sends signals and the tick preempts. */
	pid_t parent = getpid();
	pid_t child = fork();
	if (child == 0) {
		pester(parent, SIGUSR1, 300);
		_exit(0);
	}
	unsigned long spun = 0;
	for (int i = 0; i < 40; i++)
		spun |= spin_check(200000);
	waitpid(child, 0, 0);
	printf("spin under signals: changed mask %#lx\n", spun);

	/* Calls while a child sends signals: a handler runs at many returns. */
	child = fork();
	if (child == 0) {
		pester(parent, SIGUSR1, 300);
		_exit(0);
	}
	calls("getpid under signals", SYS_getpid, 0, 0, 0, 3000);
	calls("sched_yield under signals", SYS_sched_yield, 0, 0, 0, 1000);
	waitpid(child, 0, 0);

	/* Blocking reads interrupted by signals (SA_RESTART restarts them). */
	int p[2];
	pipe(p);
	child = fork();
	if (child == 0) {
		for (int i = 0; i < 100; i++) {
			pester(parent, SIGUSR1, 3);
			write(p[1], "x", 1);
		}
		_exit(0);
	}
	close(p[1]);
	char c;
	calls("read from a pipe under signals", SYS_read, p[0], (long)&c, 1, 100);
	calls("read at end of file", SYS_read, p[0], (long)&c, 1, 5);
	close(p[0]);
	waitpid(child, 0, 0);

	/* fork: both sides check, the child reports through its status. */
	int wrong = 0;
	unsigned long all = 0;
	for (int i = 0; i < 40; i++) {
		long call[7] = { SYS_fork, 0x1010, 0x2020, 0x3030, 0x4040, 0x5050, 0x6060 };
		unsigned long bad = 0;
		long pid = checked_syscall(call, &bad);
		if (pid == 0)
			_exit(bad ? 1 : (int)(spin_check(20000) ? 2 : 0));
		int status = 0;
		waitpid(pid, &status, 0);
		if (bad || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			wrong++;
		all |= bad;
	}
	printf("fork: %d of 40 went wrong (parent mask %#lx)\n", wrong, all);

	/* SIGPIPE with a handler: the write fails with EPIPE after it. */
	pipe(p);
	close(p[0]);
	sigaction(SIGPIPE, &sa, 0);
	calls("write to a closed pipe, SIGPIPE handled", SYS_write, p[1], (long)"y", 1, 50);
	signal(SIGPIPE, SIG_IGN);
	calls("write to a closed pipe, SIGPIPE ignored", SYS_write, p[1], (long)"y", 1, 50);
	close(p[1]);

	printf("handler ran: %s\n", handled > 0 ? "yes" : "no");
	return 0;
}
