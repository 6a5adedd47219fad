/* Non-canonical input, typed by a session: with ICANON and ECHO off,
 * VMIN 1 VTIME 0 reads bytes as they come, unechoed and unedited (DEL and
 * ^U are data, CR still becomes NL through ICRNL); VMIN 0 VTIME 0 returns
 * at once with nothing; VMIN 0 VTIME 2 returns nothing after about 0.2 s;
 * VMIN 3 waits for three bytes. Then canonical mode comes back (TCSAFLUSH)
 * and a line is read with its echo. */
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void set_mode(struct termios *t, int min, int time)
{
	t->c_cc[VMIN] = min;
	t->c_cc[VTIME] = time;
	tcsetattr(0, TCSANOW, t);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct termios cooked, raw;
	tcgetattr(0, &cooked);
	raw = cooked;
	raw.c_lflag &= ~(ICANON | ECHO);
	set_mode(&raw, 1, 0);
	struct termios check;
	tcgetattr(0, &check);
	printf("raw: icanon %d echo %d isig %d\n", !!(check.c_lflag & ICANON), !!(check.c_lflag & ECHO),
	       !!(check.c_lflag & ISIG));

	unsigned char c;
	for (int i = 0; i < 4; i++) {
		long n = read(0, &c, 1);
		printf("read %ld: 0x%02x\n", n, c);
	}

	set_mode(&raw, 0, 0);
	char buf[16];
	printf("vmin 0 vtime 0: %ld\n", (long)read(0, buf, sizeof buf));

	set_mode(&raw, 0, 2);
	double t0 = now();
	long n = read(0, buf, sizeof buf);
	double waited = now() - t0;
	printf("vmin 0 vtime 2: %ld, waited %s\n", n, waited >= 0.15 && waited < 5 ? "about 0.2 s" : "wrong");

	set_mode(&raw, 3, 0);
	printf("vmin 3\n");
	n = read(0, buf, sizeof buf);
	printf("vmin 3: %ld: %.*s\n", n, (int)n, buf);

	tcsetattr(0, TCSAFLUSH, &cooked);
	printf("cooked\n");
	if (fgets(buf, sizeof buf, stdin))
		printf("line: %s", buf);
	return 0;
}
