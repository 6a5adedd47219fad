/* Exit statuses: every code 0..255 from _exit seen exactly by the
 * parent, codes taken modulo 256 (256, 257, -1), exit() and a return from
 * main (the program runs itself again with an argument saying which) and
 * atexit handlers run by exit() but not by _exit(); finally this program
 * exits with 213, which the harness compares too. Differential test. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void handler(void) { printf("atexit handler ran\n"); }

static int status_of(pid_t c)
{
	int status;
	waitpid(c, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
}

/* Runs this program again with one argument. */
static int again(const char *self, char *arg)
{
	pid_t c = fork();
	if (c == 0) {
		char *argv[] = { (char *)self, arg, NULL };
		char *envp[] = { NULL };
		execve("/proc/self/exe", argv, envp);
		execve(self, argv, envp);
		_exit(127);
	}
	return status_of(c);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		atexit(handler);
		if (strcmp(argv[1], "return") == 0)
			return 42;
		if (strcmp(argv[1], "exit") == 0)
			exit(43);
		if (strcmp(argv[1], "_exit") == 0)
			_exit(44);
		return 0;
	}
	setvbuf(stdout, NULL, _IONBF, 0);

	int wrong = 0;
	for (int code = 0; code < 256; code++) {
		pid_t c = fork();
		if (c == 0)
			_exit(code);
		int got = status_of(c);
		if (got != code) {
			printf("code %d came back as %d\n", code, got);
			wrong++;
		}
	}
	printf("codes 0..255: %d wrong\n", wrong);

	int odd[] = { 256, 257, 511, -1, -255, 1 << 20 };
	for (int i = 0; i < 6; i++) {
		pid_t c = fork();
		if (c == 0)
			_exit(odd[i]);
		printf("_exit(%d): %d\n", odd[i], status_of(c));
	}

	printf("return from main: %d\n", again(argv[0], "return"));
	printf("exit: %d\n", again(argv[0], "exit"));
	printf("_exit: %d\n", again(argv[0], "_exit"));
	return 213;
}
