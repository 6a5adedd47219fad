/* flock(2): whole-file locks that belong to the open file description,
 * not the process: shared and exclusive, LOCK_NB, conversion, unlock,
 * descriptors that share a description (dup, fork) share its lock, a
 * second open of the file does not; the lock goes with the description's
 * last descriptor; a blocked LOCK_EX waits for the holder and a signal
 * ends that wait with EINTR; flock and fcntl record locks ignore each
 * other; bad arguments fail as on Linux. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "abi.h"

#define PATH "/tmp/abi_flock.file"

static void on_usr1(int s) { (void)s; }

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* In a child: tries `op` on a fresh open of the file; exit 0 if granted,
 * 1 if EWOULDBLOCK, 2 otherwise. */
static int try_in_child(int op)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(PATH, O_RDWR);
		if (flock(fd, op | LOCK_NB) == 0)
			_exit(0);
		_exit(errno == EWOULDBLOCK ? 1 : 2);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 3;
}

static const char *verdict(int r)
{
	return r == 0 ? "granted" : r == 1 ? "EWOULDBLOCK" : "other";
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	unlink(PATH);
	int a = open(PATH, O_RDWR | O_CREAT, 0600);
	int b = open(PATH, O_RDWR);

	T(flock(a, LOCK_SH));
	T(flock(b, LOCK_SH | LOCK_NB));
	printf("another open, shared: %s\n", verdict(try_in_child(LOCK_SH)));
	printf("another open, exclusive: %s\n", verdict(try_in_child(LOCK_EX)));
	T(flock(b, LOCK_EX | LOCK_NB));
	T(flock(b, LOCK_UN));
	T(flock(a, LOCK_EX | LOCK_NB));
	printf("another open, shared, under LOCK_EX: %s\n", verdict(try_in_child(LOCK_SH)));
	T(flock(b, LOCK_SH | LOCK_NB));
	T(flock(a, LOCK_SH));
	T(flock(b, LOCK_SH | LOCK_NB));
	T(flock(b, LOCK_UN));
	T(flock(a, LOCK_UN));
	T(flock(a, LOCK_UN));

	/* dup shares the description and so the lock. */
	T(flock(a, LOCK_EX));
	int d = dup(a);
	T(flock(d, LOCK_EX | LOCK_NB));
	T(flock(b, LOCK_EX | LOCK_NB));
	close(a);
	printf("another open, with the dup still open: %s\n", verdict(try_in_child(LOCK_EX)));
	close(d);
	printf("another open, all its descriptors closed: %s\n", verdict(try_in_child(LOCK_EX)));

	/* fcntl record locks do not see flock locks. */
	a = open(PATH, O_RDWR);
	T(flock(a, LOCK_EX));
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	T(fcntl(b, F_SETLK, &fl));
	fl.l_type = F_UNLCK;
	T(fcntl(b, F_SETLK, &fl));

	/* A blocked LOCK_EX waits for the holder to unlock. */
	int ready[2];
	pipe(ready);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(PATH, O_RDWR);
		close(ready[0]);
		write(ready[1], "r", 1);
		int r = flock(fd, LOCK_EX);
		printf("child: blocked flock = %d after the parent let go\n", r);
		_exit(0);
	}
	char c;
	close(ready[1]);
	read(ready[0], &c, 1);
	pause_ms(200);
	T(flock(a, LOCK_UN));
	int st;
	waitpid(pid, &st, 0);

	/* A signal with a handler ends the wait with EINTR. */
	T(flock(a, LOCK_EX));
	pipe(ready);
	pid = fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_usr1 };
		sigaction(SIGUSR1, &sa, NULL);
		int fd = open(PATH, O_RDWR);
		close(ready[0]);
		write(ready[1], "r", 1);
		int r = flock(fd, LOCK_EX);
		printf("child: flock = %d %s\n", r, r ? ename(errno) : "");
		_exit(0);
	}
	close(ready[1]);
	read(ready[0], &c, 1);
	pause_ms(200);
	kill(pid, SIGUSR1);
	waitpid(pid, &st, 0);

	/* fork shares the description: the child holds the same lock. */
	pid = fork();
	if (pid == 0) {
		printf("child: LOCK_EX on the inherited descriptor: %s\n", flock(a, LOCK_EX | LOCK_NB) == 0 ? "granted" : ename(errno));
		_exit(0);
	}
	waitpid(pid, &st, 0);

	/* Bad arguments. */
	T(flock(-1, LOCK_SH));
	T(flock(99, LOCK_SH));
	T(flock(a, 0));
	T(flock(a, LOCK_SH | LOCK_EX));
	T(flock(a, LOCK_NB));
	T(flock(a, 64));
	int p[2];
	pipe(p);
	T(flock(p[0], LOCK_EX | LOCK_NB));
	int o = open(PATH, O_PATH);
	T(flock(o, LOCK_SH));
	unlink(PATH);
	return 0;
}
