/* The files of /proc that describe the machine, and how /proc's files
 * read, written so that the output is the same on Linux and on Lstar (a
 * differential test): each line is a verdict on a format proc(5) gives
 * (meminfo, uptime, loadavg, stat, version, cpuinfo, mounts, filesystems)
 * or on reading at offsets (lseek, pread, small reads), never a value.
 * Also the modes and st_dev stat(2) shows in /proc. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void say(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "ok" : "WRONG");
}

static int slurp(const char *path, char *buf, int size, int chunk)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	int n = 0, r;
	while (n < size - 1 && (r = read(fd, buf + n, chunk < size - 1 - n ? chunk : size - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	return n;
}

/* The value of "Name:   123 kB" in meminfo, or -1. */
static long mem_kb(const char *all, const char *name)
{
	char key[64];
	snprintf(key, sizeof key, "\n%s:", name);
	const char *at = strncmp(all, key + 1, strlen(key + 1)) == 0 ? all - 1 : strstr(all, key);
	if (!at)
		return -1;
	long v;
	char unit[8];
	if (sscanf(at + strlen(key), " %ld %7s", &v, unit) != 2 || strcmp(unit, "kB"))
		return -1;
	return v;
}

/* Every line "Key:<spaces>number[ kB]". */
static int meminfo_lines(const char *all)
{
	for (const char *line = all; *line; line = strchr(line, '\n') + 1) {
		const char *colon = strchr(line, ':'), *end = strchr(line, '\n');
		if (!end || !colon || colon > end)
			return 0;
		const char *p = colon + 1;
		while (*p == ' ')
			p++;
		if (p == colon + 1 || *p < '0' || *p > '9')
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p != end && strncmp(p, " kB\n", 4))
			return 0;
	}
	return 1;
}

static int mode_is(const char *path, mode_t want)
{
	struct stat st;
	return lstat(path, &st) == 0 && st.st_mode == want;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	static char buf[65536], again[65536];

	slurp("/proc/meminfo", buf, sizeof buf, 100);
	long total = mem_kb(buf, "MemTotal"), free_kb = mem_kb(buf, "MemFree"), avail = mem_kb(buf, "MemAvailable");
	say("meminfo: MemTotal first", strncmp(buf, "MemTotal:", 9) == 0 && total > 0);
	say("meminfo: MemFree, MemAvailable", free_kb >= 0 && free_kb <= total && avail >= 0 && avail <= total);
	say("meminfo: Buffers Cached SwapTotal SwapFree", mem_kb(buf, "Buffers") >= 0 && mem_kb(buf, "Cached") >= 0 && mem_kb(buf, "SwapTotal") >= 0 && mem_kb(buf, "SwapFree") >= 0);
	say("meminfo: every line a number", meminfo_lines(buf));

	unsigned long s1, c1, s2, c2;
	char tail;
	slurp("/proc/uptime", buf, sizeof buf, 4096);
	int n = sscanf(buf, "%lu.%2lu %lu.%2lu%c", &s1, &c1, &s2, &c2, &tail);
	say("uptime: secs.cc idle.cc", n == 5 && tail == '\n' && buf[strlen(buf) - 4] == '.');
	usleep(20000);
	slurp("/proc/uptime", again, sizeof again, 4096);
	unsigned long s3, c3;
	sscanf(again, "%lu.%2lu", &s3, &c3);
	say("uptime: goes on", s3 * 100 + c3 >= s1 * 100 + c1);

	double l1, l5, l15;
	int running, all, last;
	slurp("/proc/loadavg", buf, sizeof buf, 4096);
	say("loadavg", sscanf(buf, "%lf %lf %lf %d/%d %d%c", &l1, &l5, &l15, &running, &all, &last, &tail) == 7 && tail == '\n' && running >= 1 && all >= running && last > 0);

	slurp("/proc/stat", buf, sizeof buf, 4096);
	unsigned long long t[4];
	say("stat: cpu line", sscanf(buf, "cpu %llu %llu %llu %llu", &t[0], &t[1], &t[2], &t[3]) == 4);
	say("stat: btime, processes", strstr(buf, "\nbtime ") && strstr(buf, "\nprocesses "));

	slurp("/proc/version", buf, sizeof buf, 4096);
	say("version", strncmp(buf, "Linux version ", 14) == 0 && buf[strlen(buf) - 1] == '\n');

	slurp("/proc/cpuinfo", buf, sizeof buf, 4096);
	say("cpuinfo: processor 0", strncmp(buf, "processor\t: 0\n", 14) == 0);
	say("cpuinfo: vendor_id, model name, flags fpu", strstr(buf, "\nvendor_id\t: ") && strstr(buf, "\nmodel name\t: ") && strstr(buf, "\nflags\t\t: fpu "));

	char link[64];
	ssize_t ln = readlink("/proc/mounts", link, sizeof link - 1);
	link[ln > 0 ? ln : 0] = 0;
	say("mounts is self/mounts", !strcmp(link, "self/mounts"));
	slurp("/proc/mounts", buf, sizeof buf, 4096);
	slurp("/proc/self/mounts", again, sizeof again, 4096);
	say("mounts: same through self", !strcmp(buf, again));
	int root = 0, proc = 0;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char dev[256], dir[256], type[64], opts[512];
		int freq, pass;
		if (sscanf(line, "%255s %255s %63s %511s %d %d", dev, dir, type, opts, &freq, &pass) != 6)
			root = -1000;
		root += !strcmp(dir, "/");
		proc += !strcmp(dev, "proc") && !strcmp(dir, "/proc") && !strcmp(type, "proc");
	}
	say("mounts: the root and /proc, six fields each", root >= 1 && proc == 1);
	slurp("/proc/filesystems", buf, sizeof buf, 4096);
	say("filesystems: tmpfs and proc", strstr(buf, "nodev\ttmpfs\n") && strstr(buf, "nodev\tproc\n"));

	/* Reading at offsets: the arguments, which do not change. */
	int whole = slurp("/proc/self/cmdline", buf, sizeof buf, 4096);
	slurp("/proc/self/cmdline", again, sizeof again, 1);
	say("cmdline: a byte at a time", whole > 0 && memcmp(buf, again, whole + 1) == 0);
	int fd = open("/proc/self/cmdline", O_RDONLY);
	char piece[8] = "";
	say("lseek SEEK_SET", lseek(fd, 2, SEEK_SET) == 2 && read(fd, piece, 3) == 3 && memcmp(piece, buf + 2, 3) == 0);
	say("lseek SEEK_CUR", lseek(fd, 1, SEEK_CUR) == 6);
	say("pread", pread(fd, piece, 4, 1) == 4 && memcmp(piece, buf + 1, 4) == 0);
	say("past the end", lseek(fd, 100000, SEEK_SET) == 100000 && read(fd, piece, 4) == 0);
	close(fd);
	fd = open("/proc/meminfo", O_RDONLY);
	say("meminfo: no SEEK_END", lseek(fd, 0, SEEK_END) == -1 && errno == EINVAL);
	say("meminfo: not writable through a read-only descriptor", write(fd, "x", 1) == -1 && errno == EBADF);
	close(fd);
	say("open O_DIRECTORY of a file", open("/proc/meminfo", O_RDONLY | O_DIRECTORY) == -1 && errno == ENOTDIR);

	/* What stat shows. */
	struct stat st, rootst;
	say("a file: 0444, no size", stat("/proc/meminfo", &st) == 0 && st.st_mode == (S_IFREG | 0444) && st.st_size == 0);
	say("/proc: 0555", mode_is("/proc", S_IFDIR | 0555));
	say("/proc/self: a link 0777", mode_is("/proc/self", S_IFLNK | 0777));
	say("/proc/self/: a directory 0555", stat("/proc/self/", &st) == 0 && st.st_mode == (S_IFDIR | 0555));
	say("fd/: 0500", mode_is("/proc/self/fd", S_IFDIR | 0500));
	say("stat, status, cmdline, comm: 0444", mode_is("/proc/self/stat", S_IFREG | 0444) && mode_is("/proc/self/status", S_IFREG | 0444) && mode_is("/proc/self/cmdline", S_IFREG | 0444));
	say("exe, cwd, root: links 0777", mode_is("/proc/self/exe", S_IFLNK | 0777) && mode_is("/proc/self/cwd", S_IFLNK | 0777) && mode_is("/proc/self/root", S_IFLNK | 0777));
	say("its own device", stat("/proc", &st) == 0 && stat("/", &rootst) == 0 && st.st_dev != rootst.st_dev);
	say("readable", access("/proc/self/stat", R_OK) == 0);
	say("no such name", open("/proc/self/nope", O_RDONLY) == -1 && errno == ENOENT);
	say("no such process", open("/proc/999999999/stat", O_RDONLY) == -1 && errno == ENOENT);
	say("not a directory", open("/proc/meminfo/x", O_RDONLY) == -1 && errno == ENOTDIR);
	return 0;
}
