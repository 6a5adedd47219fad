/* Pipe ends and their lifetimes: a read returns what is there rather
 * than waiting to fill its buffer; data written before the last writer
 * closed is still read, then end of file (0, again and again); a write
 * with no reader left is EPIPE (SIGPIPE ignored), also through a dup'd
 * end; a forked child's copy of the write end keeps the pipe open until
 * the child exits; poll shows POLLIN and POLLHUP together while data
 * remains, and POLLERR on a write end without readers. Differential
 * test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abi.h"

static void revents(const char *what, int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r = poll(&p, 1, 0);
	printf("poll %s: %d%s%s%s%s\n", what, r, p.revents & POLLIN ? " IN" : "", p.revents & POLLOUT ? " OUT" : "",
	       p.revents & POLLHUP ? " HUP" : "", p.revents & POLLERR ? " ERR" : "");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGPIPE, SIG_IGN);
	char buf[64];
	int p[2], status;

	/* A read takes what is there. */
	T(pipe(p));
	T(write(p[1], "abc", 3));
	T(write(p[1], "de", 2));
	T(read(p[0], buf, sizeof buf));
	T(write(p[1], "fgh", 3));
	T(read(p[0], buf, 2));
	T(read(p[0], buf, 2));

	/* Data outlives the writer; then end of file, every time. */
	T(write(p[1], "tail", 4));
	revents("read end, writer open", p[0], POLLIN);
	T(close(p[1]));
	revents("read end, writer gone, data left", p[0], POLLIN);
	T(read(p[0], buf, 3));
	T(read(p[0], buf, sizeof buf));
	revents("read end, drained", p[0], POLLIN);
	T(read(p[0], buf, sizeof buf));
	T(read(p[0], buf, sizeof buf));
	T(close(p[0]));

	/* No reader: EPIPE, whichever copy writes. */
	T(pipe(p));
	int w2 = dup(p[1]);
	revents("write end, reader open", p[1], POLLOUT);
	T(close(p[0]));
	revents("write end, reader gone", p[1], POLLOUT);
	T(write(p[1], "x", 1));
	T(write(w2, "x", 1));
	T(write(w2, "", 0));
	T(close(w2));
	T(close(p[1]));

	/* A child's copy of the write end holds the pipe open. */
	T(pipe(p));
	int go[2];
	T(pipe(go));
	pid_t c = fork();
	if (c == 0) {
		close(p[0]);
		close(go[1]);
		read(go[0], buf, 1);
		write(p[1], "from child", 10);
		_exit(0);
	}
	T(close(p[1]));
	T(close(go[0]));
	revents("read end, child holds writer", p[0], POLLIN);
	T(write(go[1], "g", 1));
	T(read(p[0], buf, sizeof buf));
	printf("got: %.10s\n", buf);
	T(waitpid(c, &status, 0) == c);
	T(read(p[0], buf, sizeof buf));
	T(close(p[0]));
	T(close(go[1]));
	return 0;
}
