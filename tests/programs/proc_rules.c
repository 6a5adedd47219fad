/* /proc as Lstar makes it, where a Linux host differs: Lstar runs every
 * program as root yet keeps /proc read-only (a Linux root may open some
 * of its files for writing), its first process is this program run as
 * /bin/proc_rules on the console, and its mounts are its own. Prints one
 * line per check and "all ok" when all pass; exits 0 only then. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

static int link_is(const char *path, const char *want)
{
	char buf[4096];
	ssize_t n = readlink(path, buf, sizeof buf - 1);
	if (n < 0)
		return 0;
	buf[n] = 0;
	return strcmp(buf, want) == 0;
}

static int slurp(const char *path, char *buf, int size)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	int n = 0, r;
	while (n < size - 1 && (r = read(fd, buf + n, size - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	return n;
}

static int listed(const char *name)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;
	while (d && (e = readdir(d)))
		found |= !strcmp(e->d_name, name);
	closedir(d);
	return found;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	char buf[4096];

	check(fails_with(open("/proc/meminfo", O_WRONLY), EACCES), "open a file for writing: EACCES");
	check(fails_with(open("/proc/self/stat", O_RDWR), EACCES), "open read-write: EACCES");
	check(fails_with(open("/proc/self/comm", O_RDONLY | O_TRUNC), EACCES), "O_TRUNC: EACCES");
	check(fails_with(open("/proc/new", O_CREAT | O_WRONLY, 0644), EACCES), "create a file: EACCES");
	check(fails_with(open("/proc/meminfo", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST), "O_EXCL on a name there: EEXIST");
	check(fails_with(mkdir("/proc/x", 0755), EPERM), "mkdir: EPERM");
	check(fails_with(mkdir("/proc/self", 0755), EEXIST), "mkdir of a name there: EEXIST");
	check(fails_with(unlink("/proc/meminfo"), EPERM), "unlink: EPERM");
	check(fails_with(rmdir("/proc/1"), EPERM), "rmdir: EPERM");
	check(fails_with(rmdir("/proc"), EBUSY), "rmdir /proc: EBUSY");
	check(fails_with(rename("/proc/meminfo", "/tmp/meminfo"), EXDEV), "rename out of /proc: EXDEV");
	check(fails_with(link("/proc/meminfo", "/tmp/meminfo"), EXDEV), "link out of /proc: EXDEV");
	check(fails_with(symlink("/tmp", "/proc/tmp"), EPERM), "symlink: EPERM");
	check(fails_with(chmod("/proc/meminfo", 0666), EPERM), "chmod: EPERM");

	check(getpid() == 1, "this is process 1");
	check(link_is("/proc/self", "1"), "/proc/self -> 1");
	check(link_is("/proc/thread-self", "1/task/1"), "/proc/thread-self -> 1/task/1");
	check(link_is("/proc/self/exe", "/bin/proc_rules"), "exe is /bin/proc_rules");
	check(link_is("/proc/1/fd/0", "/dev/console") && link_is("/proc/1/fd/2", "/dev/console"), "fds 0-2 are the console");
	slurp("/proc/self/stat", buf, sizeof buf);
	check(strncmp(buf, "1 (proc_rules) R 0 1 1 1281 -1 ", 31) == 0, "stat: pid 1, no parent, the console");
	slurp("/proc/mounts", buf, sizeof buf);
	check(!strcmp(buf, "rootfs / tmpfs rw 0 0\nproc /proc proc rw 0 0\n"), "mounts");

	/* A child comes and goes. */
	int go[2];
	pipe(go);
	pid_t child = fork();
	if (child == 0) {
		char c;
		read(go[0], &c, 1);
		_exit(0);
	}
	char name[16], path[64];
	snprintf(name, sizeof name, "%d", child);
	check(listed(name), "a child is listed");
	snprintf(path, sizeof path, "/proc/%d/status", child);
	slurp(path, buf, sizeof buf);
	check(strstr(buf, "State:\tS (sleeping)\n") && strstr(buf, "\nPPid:\t1\n"), "its status: sleeping, parent 1");
	snprintf(path, sizeof path, "/proc/%d/fd/%d", child, go[0]);
	check(readlink(path, buf, sizeof buf) > 6 && !strncmp(buf, "pipe:[", 6), "its pipe");
	snprintf(path, sizeof path, "/proc/%d/stat", child);
	int stat_fd = open(path, O_RDONLY);
	write(go[1], "g", 1);
	int st;
	waitpid(child, &st, 0);
	check(!listed(name), "gone once it ended");
	check(fails_with(read(stat_fd, buf, sizeof buf), ESRCH), "its stat, still open: ESRCH");
	close(stat_fd);

	if (failures == 0)
		printf("all ok\n");
	return failures != 0;
}
