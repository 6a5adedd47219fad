/* The argument and environment vectors: argc and argv as given (an
 * empty argument and one with spaces included; argv[argc] is NULL),
 * environ as given, in order (the harness sets the same variables on
 * both sides); getenv for set, empty and unset names; setenv (with and
 * without overwrite), unsetenv, putenv and clearenv changing environ;
 * and execve passing the changed environ on, or an empty one, or a NULL
 * envp (which Linux treats as empty). The program runs
 * itself again (by /proc/self/exe on the host, by argv[0] where there is
 * no /proc). Differential test. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *who, int argc, char **argv)
{
	printf("%s: argc %d, argv[argc] NULL %d\n", who, argc, argv[argc] == NULL);
	for (int i = 1; i < argc; i++)
		printf("  argv[%d] = \"%s\"\n", i, argv[i]);
	int n = 0;
	for (char **e = environ; *e; e++, n++)
		printf("  env \"%s\"\n", *e);
	printf("  %d variables\n", n);
}

static void run_self(char *argv0, char **args, char **envp)
{
	pid_t c = fork();
	if (c == 0) {
		execve("/proc/self/exe", args, envp);
		execve(argv0, args, envp);
		_exit(127);
	}
	int status;
	waitpid(c, &status, 0);
	printf("child exited %d\n", WEXITSTATUS(status));
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1 && strcmp(argv[1], "child") == 0) {
		show("child", argc, argv);
		return 0;
	}
	show("start", argc, argv);
	const char *names[] = { "ABI_SET", "ABI_EMPTY", "ABI_UNSET", "HOME", "" };
	for (int i = 0; i < 5; i++) {
		const char *v = getenv(names[i]);
		printf("getenv(\"%s\") = %s%s%s\n", names[i], v ? "\"" : "", v ? v : "NULL", v ? "\"" : "");
	}

	/* Changing the environment. */
	int r = setenv("ABI_NEW", "new value", 0);
	printf("setenv new: %d -> %s\n", r, getenv("ABI_NEW"));
	r = setenv("ABI_SET", "changed", 0);
	printf("setenv no overwrite: %d -> %s\n", r, getenv("ABI_SET"));
	r = setenv("ABI_SET", "changed", 1);
	printf("setenv overwrite: %d -> %s\n", r, getenv("ABI_SET"));
	r = unsetenv("ABI_EMPTY");
	printf("unsetenv: %d -> %s\n", r, getenv("ABI_EMPTY") ? "still set" : "gone");
	static char put[] = "ABI_PUT=by putenv";
	r = putenv(put);
	printf("putenv: %d -> %s\n", r, getenv("ABI_PUT"));
	r = setenv("A=B", "x", 1);
	printf("setenv bad name: %d\n", r);

	/* execve passes it on; or nothing. */
	char *args[] = { argv[0], "child", "", "x y", NULL };
	run_self(argv[0], args, environ);
	char *empty[] = { NULL };
	run_self(argv[0], args, empty);
	run_self(argv[0], args, NULL);
	clearenv();
	printf("after clearenv: HOME %s\n", getenv("HOME") ? "set" : "unset");
	return 0;
}
