/* Which error each process call gives for an id that is bad in each way:
 * a pid that never existed, one that was reaped, 0, -1 and other
 * negatives, INT_MIN; for kill, tkill, tgkill (a tid outside the given
 * thread group too), getpgid, getsid, setpgid and wait4, with a valid
 * signal and with a bad one, since Linux looks the process up before it
 * checks the signal for kill but checks ids before anything for tkill
 * and tgkill. No call here can reach another process: every pid tried is
 * missing, or a reaped child of ours, or 0 with signal 0 (a SIGUSR1
 * that reaches this process anyway is counted). Differential
 * test. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abi.h"

static volatile sig_atomic_t stray;
static void on_usr1(int s) { (void)s; stray++; }

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGUSR1, on_usr1);
	pid_t me = getpid(), tid = syscall(SYS_gettid);
	pid_t gone = fork();
	if (gone == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	const pid_t missing = 999999;

	/* kill: the process first, then the signal. */
	T(kill(missing, SIGUSR1));
	T(kill(gone, SIGUSR1));
	T(kill(missing, 99));
	T(kill(gone, -1));
	T(kill(me, 99));
	T(kill(0, 99));
	T(kill(0, 0));
	T(kill(-missing, 0));
	T(kill(-missing, 99));
	T(kill(INT_MIN, 0));

	/* tkill: ids checked first. */
	T(syscall(SYS_tkill, 0, SIGUSR1));
	T(syscall(SYS_tkill, -5, SIGUSR1));
	T(syscall(SYS_tkill, -5, 99));
	T(syscall(SYS_tkill, missing, SIGUSR1));
	T(syscall(SYS_tkill, missing, 99));
	T(syscall(SYS_tkill, tid, 99));
	T(syscall(SYS_tkill, gone, 0));

	/* tgkill: the thread must be in the given thread group. */
	T(syscall(SYS_tgkill, 0, tid, 0));
	T(syscall(SYS_tgkill, -1, tid, 0));
	T(syscall(SYS_tgkill, me, 0, 0));
	T(syscall(SYS_tgkill, me, -1, 0));
	T(syscall(SYS_tgkill, me, tid, 99));
	T(syscall(SYS_tgkill, gone, tid, 0));
	T(syscall(SYS_tgkill, missing, tid, 0));
	T(syscall(SYS_tgkill, me, missing, 0));
	T(syscall(SYS_tgkill, me, gone, 0));
	T(syscall(SYS_tgkill, missing, missing, 99));

	/* Groups and sessions. */
	T(getpgid(missing));
	T(getpgid(gone));
	T(getpgid(-1));
	T(getpgid(INT_MIN));
	T(getsid(missing));
	T(getsid(-1));
	T(setpgid(missing, 0));
	T(setpgid(gone, 0));
	T(setpgid(-1, 0));
	T(setpgid(0, -1));

	/* wait4. */
	T(waitpid(missing, NULL, 0));
	T(waitpid(gone, NULL, 0));
	T(waitpid(-missing, NULL, 0));
	T(waitpid(INT_MIN, NULL, 0));
	printf("signals that reached this process: %d\n", (int)stray);
	return 0;
}
