/* POSIX record locks (fcntl F_GETLK, F_SETLK, F_SETLKW) between two
 * processes, as sqlite relies on them: a child sees its parent's locks
 * (fork does not pass them on), read locks share and write locks
 * exclude, a process's own locks never conflict and merge when they touch,
 * unlocking a middle part splits one, ranges given from SEEK_CUR and
 * SEEK_END and with a negative length, F_SETLKW waiting until the holder
 * lets go, and a process losing all its locks on a file when it closes
 * any descriptor of it, and when it exits; a signal ends F_SETLKW's wait
 * with EINTR when its handler has no SA_RESTART. Works in a fresh
 * /tmp/lstar-abi-record-locks. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"

#define DIR_NAME "/tmp/lstar-abi-record-locks"

static int fd, to_child[2], to_parent[2];
static pid_t parent;

static const char *type_name(int type)
{
	return type == F_RDLCK ? "RDLCK" : type == F_WRLCK ? "WRLCK" : type == F_UNLCK ? "UNLCK" : "?";
}

static int lock(int cmd, int type, int whence, long start, long len)
{
	struct flock fl = { .l_type = type, .l_whence = whence, .l_start = start, .l_len = len };
	return fcntl(fd, cmd, &fl);
}

/* F_GETLK for a range, printed with the lock that is in the way. */
static void test(const char *who, int type, int whence, long start, long len)
{
	struct flock fl = { .l_type = type, .l_whence = whence, .l_start = start, .l_len = len };
	printf("%s: F_GETLK %s %d %ld %ld: ", who, type_name(type), whence, start, len);
	if (fcntl(fd, F_GETLK, &fl) < 0) {
		printf("-1 %s\n", ename(errno));
	} else if (fl.l_type == F_UNLCK) {
		printf("UNLCK\n");
	} else {
		printf("%s whence %d start %ld len %ld, held by %s\n", type_name(fl.l_type), fl.l_whence,
		       (long)fl.l_start, (long)fl.l_len, fl.l_pid == parent ? "the parent" : fl.l_pid == getpid() ? "me" : "another");
	}
}

static void signal_to(int p[2])
{
	char c = 'x';
	if (write(p[1], &c, 1) != 1)
		printf("sync write failed\n");
}

static void wait_on(int p[2])
{
	char c;
	if (read(p[0], &c, 1) != 1)
		printf("sync read failed\n");
}

static void on_signal(int sig)
{
	(void)sig;
}

static void child(void)
{
	/* The parent's locks: write 10-19, read 30-49 (two merged), write from 60 on. */
	test("child", F_WRLCK, SEEK_SET, 15, 1);
	test("child", F_RDLCK, SEEK_SET, 35, 1);
	test("child", F_WRLCK, SEEK_SET, 35, 1);
	test("child", F_RDLCK, SEEK_SET, 1000, 1);
	test("child", F_WRLCK, SEEK_SET, 20, 10);
	test("child", F_WRLCK, SEEK_SET, 50, 10);
	T(lock(F_SETLK, F_WRLCK, SEEK_SET, 15, 1));
	T(lock(F_SETLK, F_RDLCK, SEEK_SET, 15, 1));
	T(lock(F_SETLK, F_RDLCK, SEEK_SET, 30, 20));
	T(lock(F_SETLK, F_WRLCK, SEEK_SET, 20, 10));
	T(lseek(fd, 50, SEEK_SET));
	test("child", F_WRLCK, SEEK_CUR, -40, 5);
	test("child", F_WRLCK, SEEK_SET, 20, -5);
	test("child", F_WRLCK, SEEK_END, -85, 1);
	T(lock(F_SETLK, F_WRLCK, SEEK_SET, -1, 1));
	T(lock(F_SETLK, F_WRLCK, SEEK_CUR, -51, 1));
	T(lock(F_SETLK, F_WRLCK, SEEK_SET, 5, -6));
	signal_to(to_parent);

	/* The parent unlocked 12-13 of its 10-19 and tried our read lock. */
	wait_on(to_child);
	test("child", F_WRLCK, SEEK_SET, 12, 2);
	test("child", F_WRLCK, SEEK_SET, 10, 10);
	test("child", F_WRLCK, SEEK_SET, 13, 7);
	signal_to(to_parent);

	/* Waits until the parent closes another descriptor of the file. */
	T(lock(F_SETLKW, F_WRLCK, SEEK_SET, 60, 1));
	test("child", F_WRLCK, SEEK_SET, 0, 0);
	signal_to(to_parent);
	wait_on(to_child);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	parent = getpid();
	mkdir(DIR_NAME, 0755);
	T(chdir(DIR_NAME));
	unlink("f");
	T(fd = open("f", O_CREAT | O_RDWR, 0644));
	char buf[100];
	memset(buf, 'x', sizeof buf);
	T(write(fd, buf, sizeof buf));

	T(lock(F_SETLK, F_WRLCK, SEEK_SET, 10, 10));
	T(lock(F_SETLK, F_RDLCK, SEEK_SET, 30, 10));
	T(lock(F_SETLK, F_RDLCK, SEEK_SET, 40, 10));
	T(lock(F_SETLK, F_WRLCK, SEEK_SET, 60, 0));
	/* Our own locks are never in our way. */
	test("parent", F_WRLCK, SEEK_SET, 0, 0);
	T(lock(F_SETLK, F_UNLCK, SEEK_SET, 90, 100));
	T(lock(F_SETLK, 99, SEEK_SET, 0, 1));
	T(lock(F_SETLK, F_WRLCK, 7, 0, 1));
	test("parent", F_UNLCK, SEEK_SET, 0, 1);

	T(pipe(to_child));
	T(pipe(to_parent));
	pid_t pid = fork();
	if (pid == 0) {
		child();
		_exit(0);
	}
	wait_on(to_parent);
	T(lock(F_SETLK, F_UNLCK, SEEK_SET, 12, 2));
	/* The child shares 30-49 for reading. */
	T(lock(F_SETLK, F_WRLCK, SEEK_SET, 30, 20));
	T(lock(F_SETLK, F_WRLCK, SEEK_SET, 20, 1));
	signal_to(to_child);
	wait_on(to_parent);

	/* The child is waiting for 60 (or about to): closing any descriptor of
	 * the file drops every lock this process holds on it. */
	struct timespec pause = { 0, 100 * 1000 * 1000 };
	nanosleep(&pause, NULL);
	int other = open("f", O_RDONLY);
	int r = close(other);
	wait_on(to_parent);
	report("close(other)", r);
	test("parent", F_WRLCK, SEEK_SET, 0, 0);
	T(lock(F_SETLK, F_WRLCK, SEEK_SET, 0, 0));
	signal_to(to_child);
	int status;
	T(waitpid(pid, &status, 0) == pid);
	printf("child status %d\n", status);
	/* The child's locks went with it. */
	T(lock(F_SETLK, F_WRLCK, SEEK_SET, 0, 0));

	/* A second child waits for our lock until a signal comes (sent a
	 * while after it said it was about to wait). */
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGUSR1, &sa, NULL);
	pid = fork();
	if (pid == 0) {
		signal_to(to_parent);
		T(lock(F_SETLKW, F_WRLCK, SEEK_SET, 0, 1));
		_exit(0);
	}
	wait_on(to_parent);
	nanosleep(&pause, NULL);
	r = kill(pid, SIGUSR1);
	T(waitpid(pid, &status, 0) == pid);
	report("kill(pid, SIGUSR1)", r);
	printf("child status %d\n", status);
	T(close(fd));
	T(unlink("f"));
	T(rmdir(DIR_NAME));
	return 0;
}
