/* vfork: the parent is suspended until the child exits or execs, the
 * child runs in the parent's memory (a store it makes is seen by the
 * parent), its exit status arrives through wait4, a failed execve in the
 * child followed by _exit(127) reports 127, a successful execve resumes
 * the parent while the child still runs, and the child's descriptors
 * (closed in it) stay open in the parent. Differential test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int shared;

int main(int argc, char **argv)
{
	if (argc > 1) {
		/* The exec'd child: tell the parent through the pipe on fd 10,
		 * then wait for its word on fd 11. */
		char c;
		write(10, "r", 1);
		read(11, &c, 1);
		printf("exec'd child done\n");
		return 6;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	int status;

	/* Memory is shared until the child leaves. */
	shared = 1;
	pid_t c = vfork();
	if (c == 0) {
		shared = 2;
		_exit(5);
	}
	printf("parent resumed: shared %d\n", shared);
	waitpid(c, &status, 0);
	printf("child exited %d\n", WEXITSTATUS(status));

	/* A failed exec, the usual way. */
	c = vfork();
	if (c == 0) {
		execl("/no/such/program", "x", (char *)NULL);
		_exit(127);
	}
	waitpid(c, &status, 0);
	printf("failed exec: exited %d\n", WEXITSTATUS(status));

	/* The child's close does not touch the parent's descriptor. */
	int fd = open("/dev/null", O_WRONLY);
	c = vfork();
	if (c == 0) {
		close(fd);
		_exit(0);
	}
	waitpid(c, &status, 0);
	printf("descriptor still open in the parent: %d\n", fcntl(fd, F_GETFD) >= 0);
	close(fd);

	/* A successful exec resumes the parent while the child runs on. */
	int ready[2], go[2];
	pipe(ready);
	pipe(go);
	dup2(ready[1], 10);
	dup2(go[0], 11);
	close(ready[1]);
	close(go[0]);
	c = vfork();
	if (c == 0) {
		char *args[] = { argv[0], "exec", NULL };
		char *env[] = { NULL };
		execve("/proc/self/exe", args, env);
		execve(argv[0], args, env);
		_exit(127);
	}
	char b;
	read(ready[0], &b, 1);
	printf("parent running while the exec'd child waits\n");
	write(go[1], "g", 1);
	waitpid(c, &status, 0);
	printf("exec'd child exited %d\n", WEXITSTATUS(status));
	return 0;
}
