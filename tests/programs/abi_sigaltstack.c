/* sigaltstack: none at first (SS_DISABLE); one set and read back; a
 * handler with SA_ONSTACK runs on it (its locals lie inside, and
 * sigaltstack there reports SS_ONSTACK) while one without SA_ONSTACK does
 * not; changing the stack while on it (EPERM); a size below MINSIGSTKSZ
 * (ENOMEM); bad flags (EINVAL); SS_DISABLE turning it off; and a stack
 * overflow (a SIGSEGV that only an alternate stack can handle) caught in
 * a child. Only relations between addresses are printed. Differential
 * test. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abi.h"

static char alt[65536];
static volatile int on_alt, onstack_flag, change_err;

static void on_sig(int s)
{
	(void)s;
	char local;
	on_alt = (uintptr_t)&local >= (uintptr_t)alt && (uintptr_t)&local < (uintptr_t)alt + sizeof alt;
	stack_t cur;
	sigaltstack(NULL, &cur);
	onstack_flag = !!(cur.ss_flags & SS_ONSTACK);
	stack_t other = { .ss_sp = alt, .ss_size = sizeof alt };
	change_err = sigaltstack(&other, NULL) < 0 ? errno : 0;
}

static void on_segv(int s)
{
	(void)s;
	char local;
	printf("overflow caught on the alternate stack: %d\n",
	       (uintptr_t)&local >= (uintptr_t)alt && (uintptr_t)&local < (uintptr_t)alt + sizeof alt);
	_exit(0);
}

static volatile int forever = 1;

static int recurse(volatile char *p)
{
	volatile char buf[1024];
	buf[0] = *p;
	return forever ? recurse(buf) + buf[1] : 0;
}

static void show(const char *what)
{
	stack_t ss;
	sigaltstack(NULL, &ss);
	printf("%s: disabled %d onstack %d", what, !!(ss.ss_flags & SS_DISABLE), !!(ss.ss_flags & SS_ONSTACK));
	if (!(ss.ss_flags & SS_DISABLE))
		printf(" sp is ours %d size %zu", ss.ss_sp == alt, ss.ss_size);
	printf("\n");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	show("at start");
	stack_t ss = { .ss_sp = alt, .ss_size = sizeof alt };
	T(sigaltstack(&ss, NULL));
	show("after setting");

	struct sigaction sa = { .sa_handler = on_sig, .sa_flags = SA_ONSTACK };
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	printf("SA_ONSTACK: on alt %d, SS_ONSTACK %d, change while on it %s\n", on_alt, onstack_flag,
	       change_err ? ename(change_err) : "ok");
	sa.sa_flags = 0;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	printf("no SA_ONSTACK: on alt %d, SS_ONSTACK %d, change %s\n", on_alt, onstack_flag, change_err ? ename(change_err) : "ok");
	show("after the handlers");

	/* Errors, from the call itself (musl checks some first). */
	stack_t small = { .ss_sp = alt, .ss_size = MINSIGSTKSZ - 1 };
	T(syscall(SYS_sigaltstack, &small, NULL));
	stack_t bad = { .ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0x1234 };
	T(syscall(SYS_sigaltstack, &bad, NULL));
	T(syscall(SYS_sigaltstack, 8, NULL));
	T(syscall(SYS_sigaltstack, NULL, 8));
	stack_t off = { .ss_flags = SS_DISABLE };
	T(syscall(SYS_sigaltstack, &off, NULL));
	show("after SS_DISABLE");

	/* Stack overflow, in a child. */
	pid_t c = fork();
	if (c == 0) {
		T(sigaltstack(&ss, NULL));
		struct sigaction sv = { .sa_handler = on_segv, .sa_flags = SA_ONSTACK };
		sigaction(SIGSEGV, &sv, NULL);
		char start = 0;
		recurse(&start);
		_exit(1);
	}
	int status;
	waitpid(c, &status, 0);
	printf("child: exited %d code %d\n", WIFEXITED(status), WEXITSTATUS(status));
	return 0;
}
