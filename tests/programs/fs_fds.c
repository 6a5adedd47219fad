/* Descriptors through the file server: dup, dup2, dup3 and fcntl
 * (F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL) with their
 * errors; open file descriptions shared by dup and by fork (one offset,
 * one O_APPEND); close-on-exec across execve (the program runs itself
 * again); EMFILE at 1024 descriptors, with the lowest free one taken
 * first. Works in a fresh /tmp/lstar-fs-test-fds and removes it.
 * Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DIR_NAME "/tmp/lstar-fs-test-fds"
#define FILE_NAME DIR_NAME "/f"

static const char *ename(int e)
{
	switch (e) {
	case ENOENT: return "ENOENT";
	case EBADF: return "EBADF";
	case EFAULT: return "EFAULT";
	case EEXIST: return "EEXIST";
	case EINVAL: return "EINVAL";
	case EMFILE: return "EMFILE";
	default: return "E?";
	}
}

static void report(const char *what, long r)
{
	int e = errno;
	if (r < 0)
		printf("%s = -1 %s\n", what, ename(e));
	else
		printf("%s = %ld\n", what, r);
}

#define T(expr) report(#expr, (long)(expr))

/* The status flags this test sets, as F_GETFL shows them. */
static void flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0) {
		printf("F_GETFL %d: %s\n", fd, ename(errno));
		return;
	}
	const char *mode = (fl & O_ACCMODE) == O_RDONLY ? "O_RDONLY" : (fl & O_ACCMODE) == O_WRONLY ? "O_WRONLY" : "O_RDWR";
	printf("F_GETFL %d: %s%s%s\n", fd, mode, fl & O_APPEND ? "|O_APPEND" : "", fl & O_NONBLOCK ? "|O_NONBLOCK" : "");
}

static void show_file(void)
{
	char buf[128];
	int fd = open(FILE_NAME, O_RDONLY);
	long n = read(fd, buf, sizeof buf);
	close(fd);
	printf("file: \"%.*s\"\n", (int)n, buf);
}

/* After execve: which of the descriptors named on the command line
 * survived. */
static int after_exec(int argc, char **argv)
{
	for (int i = 2; i < argc; i++) {
		int fd = atoi(argv[i]);
		int r = fcntl(fd, F_GETFD);
		if (r < 0)
			printf("after exec: fd %d closed (%s)\n", fd, ename(errno));
		else
			printf("after exec: fd %d open, F_GETFD %d, offset %ld\n", fd, r, (long)lseek(fd, 0, SEEK_CUR));
	}
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1 && strcmp(argv[1], "exec") == 0)
		return after_exec(argc, argv);

	/* The host's limit may be higher; Lstar's is 1024 (and setrlimit is
	 * not implemented there yet). */
	struct rlimit lim = { 1024, 1024 };
	setrlimit(RLIMIT_NOFILE, &lim);

	int fd, fd2, status;
	unlink(FILE_NAME);
	rmdir(DIR_NAME);
	T(mkdir(DIR_NAME, 0755));
	T(fd = open(FILE_NAME, O_CREAT | O_RDWR, 0644));

	/* dup and friends: one description, one offset. */
	T(dup(fd));
	T(write(4, "abc", 3));
	T(lseek(fd, 0, SEEK_CUR));
	T(dup2(fd, 10));
	T(dup2(fd, fd));
	T(dup2(99, 11));
	T(dup2(fd, -1));
	T(dup2(fd, 5000));
	T(dup3(fd, fd, 0));
	T(dup3(fd, 11, 1));
	T(dup3(fd, 11, O_CLOEXEC));
	T(dup(99));
	T(dup(-1));
	T(fcntl(11, F_GETFD));
	T(fcntl(10, F_GETFD));
	T(fcntl(fd, F_DUPFD, 7));
	T(fcntl(fd, F_DUPFD_CLOEXEC, 7));
	T(fcntl(8, F_GETFD));
	T(fcntl(fd, F_DUPFD, 1024));
	T(fcntl(fd, F_DUPFD, -1));
	T(fcntl(8, F_SETFD, 0));
	T(fcntl(8, F_GETFD));
	T(fcntl(8, F_SETFD, FD_CLOEXEC));
	T(fcntl(8, F_GETFD));
	T(fcntl(99, F_GETFD));
	T(fcntl(fd, 9999));
	T(close(7));
	T(dup(fd));

	/* Status flags belong to the description: dup shares them. */
	flags(fd);
	T(fcntl(10, F_SETFL, O_APPEND | O_NONBLOCK));
	flags(fd);
	T(lseek(fd, 0, SEEK_SET));
	T(write(fd, "d", 1));
	T(lseek(fd, 0, SEEK_CUR));
	T(fcntl(10, F_SETFL, 0));
	flags(fd);
	T(fd2 = open(FILE_NAME, O_WRONLY | O_APPEND));
	flags(fd2);
	T(fd2 = open(FILE_NAME, O_RDONLY | O_CREAT | O_EXCL | O_TRUNC, 0644));
	show_file();

	/* fork: the child shares the description and its offset. */
	T(lseek(fd, 1, SEEK_SET));
	pid_t child = fork();
	if (child == 0) {
		write(fd, "XY", 2);
		close(fd);
		_exit(0);
	}
	T(waitpid(child, &status, 0) == child);
	T(lseek(fd, 0, SEEK_CUR));
	show_file();
	T(write(fd, "z", 1));
	show_file();

	/* execve: close-on-exec descriptors go, the others stay. */
	T(dup2(fd, 20));
	T(dup3(fd, 21, O_CLOEXEC));
	T(fcntl(fd, F_DUPFD_CLOEXEC, 22));
	child = fork();
	if (child == 0) {
		char *args[] = { argv[0], "exec", "20", "21", "22", NULL };
		char *env[] = { NULL };
		/* The host has /proc; Lstar runs the program as /bin/fs_fds. */
		execve("/proc/self/exe", args, env);
		execve(argv[0], args, env);
		printf("execve: %s\n", ename(errno));
		_exit(1);
	}
	T(waitpid(child, &status, 0) == child);
	printf("exec child: exited %d status %d\n", WIFEXITED(status), WEXITSTATUS(status));
	T(close(20));
	T(close(21));
	T(close(22));

	/* Every descriptor up to the limit: EMFILE, and the lowest free
	 * descriptor is always the one taken. Start from 0-2 alone: the host
	 * run may inherit others (cargo's jobserver pipe). */
	for (int d = 3; d < 1024; d++)
		close(d);
	int got = 0, last = -1;
	for (;;) {
		int d = dup(0);
		if (d < 0) {
			printf("dup: %s after %d more\n", ename(errno), got);
			break;
		}
		got++;
		last = d;
	}
	printf("highest descriptor: %d\n", last);
	T(open(FILE_NAME, O_RDONLY));
	T(fcntl(0, F_DUPFD, 0));
	T(close(500));
	T(close(300));
	T(dup(0));
	T(dup(0));
	T(dup(0));
	for (int d = 3; d < 1024; d++)
		close(d);
	T(dup(0));
	T(close(3));

	T(unlink(FILE_NAME));
	T(rmdir(DIR_NAME));
	return 0;
}
