/* ^C and ^\ at the console, typed by a session. A SIGINT handler
 * (installed without SA_RESTART) ends a blocked read with EINTR, and the
 * input typed before ^C is discarded; then a child reading with the
 * default actions is killed by ^C (SIGINT) and by ^\ (SIGQUIT), sent to the
 * foreground process group, while the parent ignores both. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t hits;

static void on_int(int s)
{
	(void)s;
	hits++;
}

static void child_reads(void)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		char buf[64];
		printf("child reading\n");
		fflush(stdout);
		long n = read(0, buf, sizeof buf);
		printf("child read returned %ld\n", n);
		_exit(0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status))
		printf("child killed by signal %d\n", WTERMSIG(status));
	else
		printf("child exited with %d\n", WEXITSTATUS(status));
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_int;
	sigaction(SIGINT, &sa, NULL);

	char buf[64];
	printf("reading\n");
	fflush(stdout);
	long n = read(0, buf, sizeof buf);
	printf("read returned %ld (%s), handler ran %d time(s)\n", n, n < 0 ? strerror(errno) : "-", (int)hits);

	printf("again\n");
	fflush(stdout);
	n = read(0, buf, sizeof buf);
	printf("read returned %ld: %.*s", n, n > 0 ? (int)n : 0, buf);

	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	child_reads();
	child_reads();
	printf("done\n");
	return 0;
}
