/* Each thread keeps its own x87/SSE state across switches: the rounding
 * mode (MXCSR and the x87 control word) and the XMM registers of two
 * processes and a thread that take turns through pipes, a thread that
 * spins through syscalls, and a signal handler that changes the mode and
 * returns. Lstar moves this state lazily (D27), so it must be saved and
 * restored exactly when another thread needs the registers. */
#include <fenv.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* A sum whose last digits depend on the rounding mode. */
static double sum(int n)
{
	volatile double s = 0.0;
	for (int i = 1; i <= n; i++)
		s += 1.0 / i;
	return s;
}

static const char *mode_name(int m)
{
	switch (m) {
	case FE_TONEAREST: return "nearest";
	case FE_UPWARD: return "upward";
	case FE_DOWNWARD: return "downward";
	case FE_TOWARDZERO: return "towardzero";
	}
	return "?";
}

/* Takes `rounds` turns: reads a byte, checks its mode and sum, writes.
 * Returns how many rounds found them wrong. */
static int take_turns(int mode, int in, int out, int rounds, int first)
{
	char c = 'x';
	double want = sum(200);
	int bad = 0;
	for (int i = 0; i < rounds; i++) {
		if (!(first && i == 0) && read(in, &c, 1) != 1)
			return 1;
		syscall(SYS_getpid);
		if (fegetround() != mode || sum(200) != want)
			bad++;
		if (write(out, &c, 1) != 1)
			return 1;
	}
	return bad;
}

static void *spinner(void *arg)
{
	(void)arg;
	fesetround(FE_TOWARDZERO);
	double want = sum(300);
	int bad = 0;
	for (int i = 0; i < 2000; i++) {
		syscall(SYS_getpid);
		if (i % 100 == 0)
			sched_yield();
		if (fegetround() != FE_TOWARDZERO || sum(300) != want)
			bad++;
	}
	printf("thread: mode %s, %d bad rounds\n", mode_name(fegetround()), bad);
	return (void *)(long)bad;
}

static volatile sig_atomic_t handled, entry_mode = -1;

static void handler(int sig)
{
	(void)sig;
	entry_mode = fegetround();
	fesetround(FE_UPWARD);
	volatile double x = sum(50);
	(void)x;
	handled = fegetround() == FE_UPWARD;
}

int main(void)
{
	int to_child[2], to_parent[2];
	if (pipe(to_child) || pipe(to_parent))
		return 1;
	setvbuf(stdout, NULL, _IONBF, 0);

	pid_t pid = fork();
	if (pid == 0) {
		fesetround(FE_UPWARD);
		int bad = take_turns(FE_UPWARD, to_child[0], to_parent[1], 300, 0);
		printf("child: mode %s, %d bad rounds\n", mode_name(fegetround()), bad);
		_exit(bad != 0);
	}
	fesetround(FE_DOWNWARD);
	int bad = take_turns(FE_DOWNWARD, to_parent[0], to_child[1], 300, 1);
	int status;
	waitpid(pid, &status, 0);
	printf("parent: mode %s, %d bad rounds; child exit %d\n", mode_name(fegetround()), bad,
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1);

	pthread_t t;
	void *thread_bad;
	pthread_create(&t, NULL, spinner, NULL);
	double want = sum(100);
	int main_bad = 0;
	for (int i = 0; i < 2000; i++) {
		syscall(SYS_getpid);
		if (fegetround() != FE_DOWNWARD || sum(100) != want)
			main_bad++;
	}
	pthread_join(t, &thread_bad);
	printf("main: mode %s, %d bad rounds\n", mode_name(fegetround()), main_bad);

	/* A handler's mode is its own: the interrupted code gets its back,
	 * including a mode set just before (no other thread has run since,
	 * so it is only in the registers). */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigaction(SIGUSR1, &sa, NULL);
	fesetround(FE_TOWARDZERO);
	kill(getpid(), SIGUSR1);
	printf("handler ran with upward: %d; after it: %s\n", handled, mode_name(fegetround()));
	/* A handler starts from the initial x87/SSE state, not the
	 * interrupted code's. */
	printf("handler started in mode %s\n", mode_name(entry_mode));

	return bad || main_bad || thread_bad || fegetround() != FE_TOWARDZERO;
}
