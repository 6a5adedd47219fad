/* Job control at the console, typed by a session: the first process's
 * group is in the foreground and its session is 1 (TIOCGSID); a child in a
 * group of its own, made the foreground group with tcsetpgrp, alone gets
 * ^C; the parent takes the terminal back; a new window size
 * (TIOCSWINSZ) sends SIGWINCH to the foreground group. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static volatile sig_atomic_t ints, winches;

static void on_int(int s) { (void)s; ints++; }
static void on_winch(int s) { (void)s; winches++; }

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	pid_t sid = -1;
	ioctl(0, TIOCGSID, &sid);
	printf("foreground is my group: %s, session %d\n", tcgetpgrp(0) == getpgrp() ? "yes" : "no", (int)sid);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_int;
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_winch;
	sigaction(SIGWINCH, &sa, NULL);
	/* As a shell does: a background group may then set the foreground. */
	signal(SIGTTOU, SIG_IGN);

	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		setpgid(0, 0);
		while (tcgetpgrp(0) != getpid())
			usleep(1000);
		printf("child in the foreground\n");
		char buf[16];
		read(0, buf, sizeof buf);
		_exit(0);
	}
	setpgid(pid, pid);
	if (tcsetpgrp(0, pid) != 0)
		perror("tcsetpgrp");
	int status = 0;
	waitpid(pid, &status, 0);
	printf("child killed by signal %d; the parent's handler ran %d time(s)\n",
	       WIFSIGNALED(status) ? WTERMSIG(status) : 0, (int)ints);
	tcsetpgrp(0, getpgrp());
	printf("foreground is my group again: %s\n", tcgetpgrp(0) == getpgrp() ? "yes" : "no");

	struct winsize ws = { .ws_row = 30, .ws_col = 100 };
	ioctl(0, TIOCSWINSZ, &ws);
	struct winsize got;
	ioctl(0, TIOCGWINSZ, &got);
	printf("window %dx%d, SIGWINCH %d time(s)\n", got.ws_row, got.ws_col, (int)winches);
	return 0;
}
