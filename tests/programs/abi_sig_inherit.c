/* Signal state across fork and execve: a child inherits the mask and the
 * dispositions (handler, SIG_IGN) but not the parent's pending signals;
 * across execve the mask stays, SIG_IGN stays, a handler goes back to
 * SIG_DFL, and a signal raised while blocked just before stays pending; the alternate
 * signal stack and SA_ flags go too. The program runs itself again (by
 * /proc/self/exe on the host, by argv[0] where there is no /proc) to
 * look. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t hits;
static void on_sig(int s) { (void)s; hits++; }

static const char *disp(int sig)
{
	struct sigaction sa;
	sigaction(sig, NULL, &sa);
	return sa.sa_handler == SIG_DFL ? "default" : sa.sa_handler == SIG_IGN ? "ignored" : "handler";
}

static void state(const char *who)
{
	sigset_t mask, pend;
	sigprocmask(SIG_SETMASK, NULL, &mask);
	sigpending(&pend);
	stack_t ss;
	sigaltstack(NULL, &ss);
	printf("%s: blocked USR1 %d USR2 %d HUP %d; pending USR1 %d USR2 %d; USR1 %s, USR2 %s, HUP %s, TERM %s; altstack %s\n", who,
	       sigismember(&mask, SIGUSR1), sigismember(&mask, SIGUSR2), sigismember(&mask, SIGHUP), sigismember(&pend, SIGUSR1),
	       sigismember(&pend, SIGUSR2), disp(SIGUSR1), disp(SIGUSR2), disp(SIGHUP), disp(SIGTERM),
	       ss.ss_flags & SS_DISABLE ? "off" : "on");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1) {
		state("after execve");
		sigset_t none;
		sigemptyset(&none);
		signal(SIGUSR2, on_sig);
		sigprocmask(SIG_SETMASK, &none, NULL);
		printf("after unblocking: handler ran %d\n", (int)hits);
		return 0;
	}

	static char stack[SIGSTKSZ];
	stack_t ss = { .ss_sp = stack, .ss_size = sizeof stack };
	sigaltstack(&ss, NULL);
	struct sigaction sa = { .sa_handler = on_sig, .sa_flags = SA_ONSTACK | SA_RESTART };
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_SETMASK, &set, NULL);
	raise(SIGUSR2);
	state("parent");

	int status;
	pid_t c = fork();
	if (c == 0) {
		state("forked child");
		raise(SIGUSR1);
		state("forked child after raise");
		_exit(0);
	}
	waitpid(c, &status, 0);

	c = fork();
	if (c == 0) {
		raise(SIGUSR2);
		char *args[] = { argv[0], "exec", NULL };
		char *env[] = { NULL };
		execve("/proc/self/exe", args, env);
		execve(argv[0], args, env);
		_exit(127);
	}
	waitpid(c, &status, 0);
	printf("exec child exited %d\n", WEXITSTATUS(status));
	state("parent again");
	return 0;
}
