/* Non-blocking pipes: EAGAIN for a read of an empty pipe and for a write
 * to a full one; how much fills a pipe with writes of 4096, 1000 and 3000
 * bytes; a large write taking what room there is; writes of at most
 * PIPE_BUF bytes all or nothing; O_NONBLOCK turned on and off with
 * F_SETFL and FIONBIO and shared by dup; end of file still 0.
 * Differential test. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const char *ename(int e)
{
	return e == EAGAIN ? "EAGAIN" : e == EPIPE ? "EPIPE" : e == EBADF ? "EBADF" : e ? "E?" : "";
}

#define T(expr) do { errno = 0; long r_ = (long)(expr); printf("%s = %ld %s\n", #expr, r_, r_ < 0 ? ename(errno) : ""); } while (0)

static char buf[200000];

/* Writes `size` bytes at a time until one fails; reports how many went. */
static void fill(int fd, long size)
{
	long writes = 0, bytes = 0, n;
	while ((n = write(fd, buf, size)) > 0) {
		writes++;
		bytes += n;
		if (n < size)
			break;
	}
	printf("fill by %ld: %ld writes, %ld bytes, then %s\n", size, writes, bytes, n < 0 ? ename(errno) : "short");
}

static void drain(int fd)
{
	while (read(fd, buf, sizeof buf) > 0)
		;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int p[2];
	T(pipe2(p, O_NONBLOCK));
	T(read(p[0], buf, 10));
	fill(p[1], 4096);
	T(write(p[1], buf, 1));
	int avail;
	ioctl(p[0], FIONREAD, &avail);
	printf("FIONREAD when full: %d\n", avail);
	drain(p[0]);
	fill(p[1], 1000);
	T(write(p[1], buf, 1));
	T(write(p[1], buf, 200));
	drain(p[0]);
	/* 3000-byte writes never share a slot. */
	fill(p[1], 3000);
	drain(p[0]);

	/* A large write takes what fits. */
	T(write(p[1], buf, 100000));
	T(write(p[1], buf, 100000));
	/* A partly read slot is not free: PIPE_BUF-sized writes wait. */
	T(read(p[0], buf, 100));
	T(write(p[1], buf, 100));
	T(write(p[1], buf, 5000));
	T(read(p[0], buf, 4096 - 100));
	T(write(p[1], buf, 4096));
	T(write(p[1], buf, 1));
	drain(p[0]);

	/* Small writes merge into the last slot while they fit. */
	T(write(p[1], buf, 10));
	T(write(p[1], buf, 4086));
	T(write(p[1], buf, 1));
	ioctl(p[0], FIONREAD, &avail);
	printf("FIONREAD: %d\n", avail);
	drain(p[0]);
	T(close(p[0]));
	T(close(p[1]));

	/* O_NONBLOCK comes and goes with F_SETFL and FIONBIO; a dup shares
	 * it (it belongs to the open file description). */
	T(pipe(p));
	int d = dup(p[0]);
	T(fcntl(p[0], F_SETFL, O_NONBLOCK));
	T(fcntl(d, F_GETFL) & O_NONBLOCK);
	T(read(d, buf, 1));
	T(fcntl(p[0], F_SETFL, 0));
	T(fcntl(d, F_GETFL) & O_NONBLOCK);
	int on = 1;
	T(ioctl(p[1], FIONBIO, &on));
	T(fcntl(p[1], F_GETFL));
	fill(p[1], 65536);
	on = 0;
	T(ioctl(p[1], FIONBIO, &on));
	T(fcntl(p[1], F_GETFL));
	T(read(d, buf, 5));
	T(close(p[1]));
	/* With no writer, a non-blocking read of an empty pipe is end of file. */
	T(fcntl(d, F_SETFL, O_NONBLOCK));
	drain(d);
	T(read(d, buf, 1));
	return 0;
}
