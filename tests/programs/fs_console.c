/* What Lstar's file server starts with, which a host differs in: fds 0-2
 * on one open description of /dev/console (a terminal: isatty, TCGETS,
 * TCSETS, TIOCGWINSZ 24x80, unknown requests ENOTTY, no seeking, no input
 * typed: a nonblocking read says EAGAIN, fsync EINVAL), /dev/tty, the tree made from the initrd (this
 * program as /bin/fs_console with mode 0755, lstar/exec, the servers),
 * /tmp with mode 1777, /dev with its five devices, /proc, and the working
 * directory /. Prints one line per check and "all ok" when all pass;
 * exits 0 only then. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what)
{
	printf("%s: %s\n", ok ? "ok" : "FAIL", what);
	if (!ok)
		failures++;
}

static int fails_with(long r, int e)
{
	return r == -1 && errno == e;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory, sorted, space-separated, without . and .. */
static const char *names(const char *path)
{
	static char out[512];
	char *list[64];
	int n = 0;
	DIR *d = opendir(path);
	if (!d)
		return "(cannot open)";
	struct dirent *e;
	while ((e = readdir(d)) && n < 64)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			list[n++] = strdup(e->d_name);
	closedir(d);
	qsort(list, n, sizeof list[0], by_name);
	out[0] = 0;
	for (int i = 0; i < n; i++) {
		if (i)
			strcat(out, " ");
		strcat(out, list[i]);
		free(list[i]);
	}
	return out;
}

int main(void)
{
	struct stat st, st2;
	char buf[256];

	/* The console. */
	check(isatty(0) && isatty(1) && isatty(2), "fds 0, 1 and 2 are terminals");
	struct winsize ws;
	check(ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_row == 24 && ws.ws_col == 80, "TIOCGWINSZ is 24x80");
	struct termios t;
	check(tcgetattr(0, &t) == 0, "tcgetattr");
	check((t.c_lflag & (ICANON | ECHO | ISIG)) == (ICANON | ECHO | ISIG), "canonical mode, echo, signals");
	check((t.c_oflag & (OPOST | ONLCR)) == (OPOST | ONLCR), "output: OPOST ONLCR");
	check(t.c_cc[VINTR] == 3 && t.c_cc[VEOF] == 4 && t.c_cc[VMIN] == 1, "^C interrupts, ^D ends input, VMIN 1");
	t.c_lflag &= ~ECHO;
	check(tcsetattr(0, TCSANOW, &t) == 0, "tcsetattr");
	struct termios t2;
	check(tcgetattr(1, &t2) == 0 && !(t2.c_lflag & ECHO), "the setting is the console's, seen through fd 1");
	t.c_lflag |= ECHO;
	tcsetattr(0, TCSANOW, &t);
	check(fails_with(ioctl(1, 0x54ff, buf), ENOTTY), "an unknown request is ENOTTY");
	check(fails_with(ioctl(1, TCGETS, (void *)8), EFAULT), "TCGETS to a bad pointer is EFAULT");
	check(fails_with(lseek(1, 0, SEEK_CUR), ESPIPE), "no seeking on the console");
	int fl = fcntl(0, F_GETFL);
	fcntl(0, F_SETFL, fl | O_NONBLOCK);
	check(fails_with(read(0, buf, sizeof buf), EAGAIN), "nothing typed: a nonblocking read is EAGAIN");
	fcntl(0, F_SETFL, fl);
	check(fails_with(fsync(1), EINVAL), "fsync on the console is EINVAL");
	check((fcntl(0, F_GETFL) & O_ACCMODE) == O_RDWR && (fcntl(2, F_GETFL) & O_ACCMODE) == O_RDWR, "opened read-write");
	check(fstat(1, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 5 && minor(st.st_rdev) == 1,
	      "fd 1 is /dev/console, 5:1");
	check(fcntl(1, F_SETFL, O_APPEND) == 0 && (fcntl(0, F_GETFL) & O_APPEND), "one description behind 0, 1 and 2");
	fcntl(1, F_SETFL, 0);
	int tty = open("/dev/tty", O_RDWR);
	check(tty >= 0 && isatty(tty), "/dev/tty is a terminal");
	check(write(tty, "", 0) == 0 && write(tty, "via /dev/tty\n", 13) == 13, "writing to /dev/tty");
	close(tty);
	int f = open("/tmp/console-test", O_CREAT | O_RDWR, 0644);
	check(fails_with(ioctl(f, TCGETS, &t), ENOTTY) && !isatty(f), "a regular file is not a terminal");
	int n = 0;
	check(ioctl(f, FIONREAD, &n) == 0 && n == 0, "FIONREAD on an empty file");
	close(f);
	unlink("/tmp/console-test");

	/* The tree. */
	check(getcwd(buf, sizeof buf) && strcmp(buf, "/") == 0, "the working directory is /");
	check(stat("/bin/fs_console", &st) == 0 && st.st_mode == (S_IFREG | 0755), "/bin/fs_console: a file, 0755");
	check(st.st_size > 4096, "with its size");
	int fd = open("/lstar/exec", O_RDONLY);
	long len = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[len > 0 ? len : 0] = 0;
	check(strcmp(buf, "bin/fs_console") == 0, "/lstar/exec names this program");
	check(strstr(names("/servers"), "fs") && strstr(names("/servers"), "proc"), "/servers holds fs and proc");
	printf("/: %s\n", names("/"));
	printf("/dev: %s\n", names("/dev"));
	check(strcmp(names("/dev"), "console full null random tty urandom zero") == 0, "/dev has its seven devices");
	check(stat("/tmp", &st) == 0 && st.st_mode == (S_IFDIR | 01777), "/tmp: a directory, 1777");
	check(stat("/dev/console", &st) == 0 && st.st_mode == (S_IFCHR | 0600), "/dev/console: 0600");
	check(stat("/dev/tty", &st) == 0 && major(st.st_rdev) == 5 && minor(st.st_rdev) == 0, "/dev/tty: 5:0");
	check(stat("/", &st) == 0 && stat("/..", &st2) == 0 && st.st_ino == st2.st_ino, "/.. is /");
	check(access("/bin/fs_console", R_OK | W_OK | X_OK) == 0, "root may read, write and execute it");
	check(access("/lstar/exec", X_OK) == -1 && errno == EACCES, "a 0644 file cannot be executed");
	check(access("/proc/self/stat", R_OK) == 0, "/proc is there");

	if (failures == 0)
		printf("all ok\n");
	return failures == 0 ? 0 : 1;
}
