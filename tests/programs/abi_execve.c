/* execve's failures and what a success passes on: a missing file
 * (ENOENT), a directory (EACCES), a file without execute permission
 * (EACCES, even for root), an empty executable file (ENOEXEC), a file as
 * a directory (ENOTDIR), a "#!" script whose interpreter is missing
 * (ENOENT), a bad path, argv or envp pointer (EFAULT); after a failure
 * the caller goes on unchanged. A "#!" script naming this program with
 * an argument runs it with argv = interpreter, the argument, the script,
 * then the script's own arguments; argv strings with spaces and empty
 * ones arrive intact, with envp. Works in a fresh /tmp/lstar-abi-execve.
 * Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-execve"

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

/* Removes the test's directory, with whatever a failed run left in it. */
static void rm_tree(void)
{
	chdir("/tmp");
	nftw(DIR_NAME, rm_one, 64, FTW_DEPTH | FTW_PHYS);
}

static char *const no_env[] = { NULL };

static void put(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
	write(fd, text, strlen(text));
	close(fd);
	chmod(path, mode);
}

/* Runs an execve in a child: its errno, or what the new program said. */
static void try(const char *what, const char *path, char *const argv[], char *const envp[])
{
	printf("%s:", what);
	pid_t c = fork();
	if (c == 0) {
		execve(path, argv, envp);
		printf(" %s\n", ename(errno));
		_exit(0);
	}
	int status;
	waitpid(c, &status, 0);
	if (WEXITSTATUS(status) != 0)
		printf("  exited %d\n", WEXITSTATUS(status));
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "show") == 0) {
		printf(" ran with argc %d:", argc);
		for (int i = 1; i < argc; i++)
			printf(" [%s]", argv[i]);
		for (char **e = environ; *e; e++)
			printf(" env[%s]", *e);
		printf("\n");
		return 3;
	}
	setvbuf(stdout, NULL, _IONBF, 0);

	/* This program's own file: /proc/self/exe on the host, argv[0] in Lstar. */
	char self[4096];
	long n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0)
		self[n] = 0;
	else
		strcpy(self, argv[0]);

	rm_tree();
	T(mkdir(DIR_NAME, 0755));
	T(chdir(DIR_NAME));
	put("noexec", "#!/bin/sh\n", 0644);
	put("empty", "", 0755);
	put("badinterp", "#!/no/such/interpreter\n", 0755);
	char script[4200];
	snprintf(script, sizeof script, "#!%s show\n", self);
	put("script", script, 0755);
	T(mkdir("dir", 0755));

	char *args[] = { "prog", NULL };
	try("missing", DIR_NAME "/missing", args, no_env);
	try("directory", DIR_NAME "/dir", args, no_env);
	try("no execute bit", DIR_NAME "/noexec", args, no_env);
	try("empty file", DIR_NAME "/empty", args, no_env);
	try("file as directory", DIR_NAME "/empty/x", args, no_env);
	try("missing interpreter", DIR_NAME "/badinterp", args, no_env);
	try("bad path pointer", (char *)8, args, no_env);
	char **volatile bad = (char **)8;
	try("bad argv", self, bad, no_env);
	try("bad envp", self, args, bad);
	char *bad_arg[] = { "prog", (char *)8, NULL };
	try("bad argv string", self, bad_arg, no_env);
	T(access("noexec", F_OK));

	/* Successes. */
	char *show[] = { "prog", "show", "two words", "", "last", NULL };
	char *env[] = { "A=1", "EMPTY=", "SPACED=x y", NULL };
	try("direct", self, show, env);
	char *script_args[] = { "ignored", "arg1", "", NULL };
	try("script", DIR_NAME "/script", script_args, no_env);

	rm_tree();
	T(access(DIR_NAME, F_OK));
	return 0;
}
