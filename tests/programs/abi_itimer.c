/* alarm, setitimer and getitimer: ITIMER_REAL counts real time and sends
 * SIGALRM, ITIMER_VIRTUAL and ITIMER_PROF count the process's CPU time and
 * send SIGVTALRM and SIGPROF; an interval reloads the timer; fork does not
 * pass timers on; bad arguments fail as on Linux. Only relations are
 * printed, never times. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "abi.h"

static volatile sig_atomic_t alrm, vtalrm, prof;

static void on_signal(int s)
{
	if (s == SIGALRM)
		alrm++;
	else if (s == SIGVTALRM)
		vtalrm++;
	else if (s == SIGPROF)
		prof++;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Spins in user mode until `*flag` is set or `ms` of real time pass. */
static int spin_until(volatile sig_atomic_t *flag, long ms)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	volatile unsigned long n = 0;
	while (!*flag && ms_since(&t0) < ms)
		for (int i = 0; i < 100000; i++)
			n++;
	return *flag != 0;
}

static const char *usec_range(long usec, long hi)
{
	return usec > 0 && usec <= hi ? "in range" : "out of range";
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGVTALRM, &sa, NULL);
	sigaction(SIGPROF, &sa, NULL);

	/* alarm: the seconds left of the previous one, rounded. */
	printf("alarm(0) = %u\n", alarm(0));
	alarm(10);
	printf("alarm(3) after alarm(10) = %u\n", alarm(3));
	printf("alarm(0) after alarm(3) = %u\n", alarm(0));

	struct itimerval it, old;
	memset(&it, 0, sizeof it);
	T(getitimer(ITIMER_REAL, &old));
	printf("unarmed: value %ld.%06ld interval %ld.%06ld\n", (long)old.it_value.tv_sec, (long)old.it_value.tv_usec,
	       (long)old.it_interval.tv_sec, (long)old.it_interval.tv_usec);

	/* A periodic real-time timer: three SIGALRMs, pause after pause. */
	it.it_value.tv_usec = 200000;
	it.it_interval.tv_usec = 100000;
	T(setitimer(ITIMER_REAL, &it, NULL));
	for (int i = 0; i < 3; i++)
		pause();
	T(getitimer(ITIMER_REAL, &old));
	printf("periodic: %d SIGALRM, interval %ld.%06ld, value %s\n", (int)alrm, (long)old.it_interval.tv_sec,
	       (long)old.it_interval.tv_usec, usec_range(old.it_value.tv_usec, 100000));
	memset(&it, 0, sizeof it);
	T(setitimer(ITIMER_REAL, &it, &old));
	printf("disarmed; it had interval %ld.%06ld\n", (long)old.it_interval.tv_sec, (long)old.it_interval.tv_usec);
	T(getitimer(ITIMER_REAL, &old));
	printf("now: value %ld.%06ld\n", (long)old.it_value.tv_sec, (long)old.it_value.tv_usec);

	/* CPU-time timers fire while the process spins, not while it sleeps. */
	it.it_value.tv_usec = 50000;
	T(setitimer(ITIMER_VIRTUAL, &it, NULL));
	struct timespec nap = { 0, 200 * 1000000 };
	nanosleep(&nap, NULL);
	printf("SIGVTALRM while asleep: %s\n", vtalrm ? "yes" : "no");
	printf("SIGVTALRM while spinning: %s\n", spin_until(&vtalrm, 10000) ? "yes" : "no");
	T(setitimer(ITIMER_PROF, &it, NULL));
	printf("SIGPROF while spinning: %s\n", spin_until(&prof, 10000) ? "yes" : "no");
	T(getitimer(ITIMER_PROF, &old));
	printf("one-shot PROF after firing: value %ld.%06ld\n", (long)old.it_value.tv_sec, (long)old.it_value.tv_usec);

	/* fork passes no timer on; SIGALRM's default ends the process. */
	it.it_value.tv_sec = 5;
	setitimer(ITIMER_REAL, &it, NULL);
	pid_t pid = fork();
	if (pid == 0) {
		struct itimerval c;
		getitimer(ITIMER_REAL, &c);
		printf("child's timer: value %ld.%06ld\n", (long)c.it_value.tv_sec, (long)c.it_value.tv_usec);
		signal(SIGALRM, SIG_DFL);
		alarm(1);
		pause();
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	printf("child: %s %d\n", WIFSIGNALED(status) ? "killed by signal" : "exited", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	printf("parent's timer still set: %s\n", getitimer(ITIMER_REAL, &old) == 0 && old.it_value.tv_sec >= 3 ? "yes" : "no");
	alarm(0);

	/* Bad arguments. */
	T(setitimer(3, &it, NULL));
	T(getitimer(-1, &old));
	it.it_value.tv_usec = 1000000;
	T(setitimer(ITIMER_REAL, &it, NULL));
	it.it_value.tv_usec = -1;
	T(setitimer(ITIMER_REAL, &it, NULL));
	T(setitimer(ITIMER_REAL, (struct itimerval *)8, NULL));
	T(getitimer(ITIMER_REAL, (struct itimerval *)8));
	printf("SIGALRM count unchanged: %s\n", alrm == 3 ? "yes" : "no");
	return 0;
}
