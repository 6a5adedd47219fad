/* Blocking pipes: a reader waits for a writer that comes 30 ms later, or
 * for end of file when the writer exits; a writer of 200000 bytes waits
 * while a slow reader drains the pipe, and every byte arrives in order;
 * writes of at most PIPE_BUF bytes from two processes never interleave;
 * a writer waiting on a full pipe gets the bytes it wrote (then EPIPE)
 * when the reader exits, with SIGPIPE ignored; a thread waits in a read
 * while another thread of the process writes, or closes both ends (the
 * waiting read keeps its end open and sees end of file). Differential
 * test. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void nap_ms(int ms)
{
	struct timespec t = { 0, ms * 1000000L };
	nanosleep(&t, NULL);
}

static unsigned char pattern(long i) { return (unsigned char)(i * 7 + i / 251); }

static int tp[2];
static char tbuf[16];

static void *thread_read(void *arg)
{
	(void)arg;
	return (void *)read(tp[0], tbuf, sizeof tbuf);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int p[2], status;
	char buf[8192];

	/* A reader woken by a later writer. */
	pipe(p);
	pid_t c = fork();
	if (c == 0) {
		close(p[0]);
		nap_ms(30);
		write(p[1], "wake", 4);
		_exit(0);
	}
	close(p[1]);
	long long t0 = now_ns();
	long n = read(p[0], buf, sizeof buf);
	long long waited = now_ns() - t0;
	printf("read after a wait: %ld \"%.*s\" waited=%d\n", n, (int)n, buf, waited >= 20000000LL);
	n = read(p[0], buf, sizeof buf);
	printf("then end of file: %ld\n", n);
	waitpid(c, &status, 0);
	close(p[0]);

	/* A reader woken by its writer's exit. */
	pipe(p);
	c = fork();
	if (c == 0) {
		nap_ms(30);
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], buf, sizeof buf);
	printf("read when the writer exits: %ld\n", n);
	waitpid(c, &status, 0);
	close(p[0]);

	/* A large write against a slow reader. */
	static unsigned char big[200000];
	for (long i = 0; i < (long)sizeof big; i++)
		big[i] = pattern(i);
	pipe(p);
	c = fork();
	if (c == 0) {
		close(p[1]);
		long total = 0, bad = 0;
		while ((n = read(p[0], buf, 3000)) > 0) {
			for (long i = 0; i < n; i++)
				bad += (unsigned char)buf[i] != pattern(total + i);
			total += n;
			if (total < 20000)
				nap_ms(2);
		}
		printf("reader: %ld bytes, %ld wrong\n", total, bad);
		_exit(0);
	}
	close(p[0]);
	n = write(p[1], big, sizeof big);
	printf("writer: write returned %ld\n", n);
	close(p[1]);
	waitpid(c, &status, 0);

	/* Two writers of 100-byte records: each record arrives whole. */
	pipe(p);
	pid_t w[2];
	for (int k = 0; k < 2; k++) {
		w[k] = fork();
		if (w[k] == 0) {
			char rec[100];
			memset(rec, k ? 'B' : 'A', sizeof rec);
			close(p[0]);
			for (int i = 0; i < 300; i++)
				write(p[1], rec, sizeof rec);
			_exit(0);
		}
	}
	close(p[1]);
	static char all[60000];
	long total = 0;
	while ((n = read(p[0], all + total, sizeof all - total)) > 0)
		total += n;
	int whole = 1, as = 0;
	for (long r = 0; r + 100 <= total; r += 100) {
		for (int i = 1; i < 100; i++)
			whole &= all[r + i] == all[r];
		as += all[r] == 'A';
	}
	printf("records: %ld bytes, whole=%d, A records=%d\n", total, whole, as);
	waitpid(w[0], &status, 0);
	waitpid(w[1], &status, 0);
	close(p[0]);

	/* A writer waiting on a full pipe when its reader goes away. */
	signal(SIGPIPE, SIG_IGN);
	pipe(p);
	c = fork();
	if (c == 0) {
		close(p[1]);
		read(p[0], buf, 10);
		nap_ms(30);
		_exit(0);
	}
	close(p[0]);
	errno = 0;
	n = write(p[1], big, 100000);
	printf("write with the reader gone: %ld\n", n);
	errno = 0;
	n = write(p[1], big, 10);
	printf("next write: %ld %s\n", n, errno == EPIPE ? "EPIPE" : "other");
	waitpid(c, &status, 0);
	close(p[1]);

	/* Threads: a read woken by another thread's write, then by the other
	 * thread closing both descriptors. */
	pthread_t t;
	void *got;
	pipe(tp);
	pthread_create(&t, NULL, thread_read, NULL);
	nap_ms(30);
	write(tp[1], "from main", 9);
	pthread_join(t, &got);
	printf("thread read: %ld \"%.9s\"\n", (long)got, tbuf);
	pthread_create(&t, NULL, thread_read, NULL);
	nap_ms(30);
	close(tp[0]);
	close(tp[1]);
	pthread_join(t, &got);
	printf("thread read after both ends closed: %ld\n", (long)got);
	return 0;
}
