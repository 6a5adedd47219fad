/* /proc as a process sees itself in it, written so that the output is the
 * same on Linux and on Lstar (a differential test): every check compares
 * /proc with what the process knows some other way (getpid, getppid,
 * argv, AT_EXECFN, getcwd, its descriptors) and prints a verdict, never a
 * value that differs between machines. Covers /proc/self, exe, cmdline,
 * comm, stat, cwd, root, fd/ (files, dup, pipes, directories, deleted
 * files), task/, a forked child seen from both sides, and exec through
 * /proc/self/exe. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "ok" : "WRONG");
}

/* The whole of a file, NUL-terminated after its length. */
static int slurp(const char *path, char *buf, int size)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	int n = 0, r;
	while (n < size - 1 && (r = read(fd, buf + n, 3)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	return n;
}

static int link_is(const char *path, const char *want)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof buf - 1);
	if (n < 0)
		return 0;
	buf[n] = 0;
	return strcmp(buf, want) == 0;
}

static int by_number(const void *a, const void *b)
{
	return atoi(*(char *const *)a) - atoi(*(char *const *)b);
}

/* The names in /proc/self/fd, in order, without . and .. */
static void list_fds(const char *what)
{
	char *names[64];
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	while (d && (e = readdir(d)) && n < 64)
		if (e->d_name[0] != '.')
			names[n++] = strdup(e->d_name);
	/* The listing's own descriptor, named while it is open. */
	char self[64], mine[PATH_MAX];
	snprintf(self, sizeof self, "/proc/self/fd/%d", dirfd(d));
	snprintf(mine, sizeof mine, "/proc/%d/fd", getpid());
	int own = link_is(self, mine);
	closedir(d);
	qsort(names, n, sizeof names[0], by_number);
	printf("%s:", what);
	for (int i = 0; i < n; i++)
		printf(" %s", names[i]);
	printf(" (own descriptor %s)\n", own ? "ok" : "WRONG");
}

/* Fields 1 to 4 of /proc/<pid>/stat, and how many there are. */
static int read_stat(const char *path, int *pid, char *comm, char *state, int *ppid)
{
	char buf[1024];
	if (slurp(path, buf, sizeof buf) <= 0)
		return -1;
	char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	if (!open || !close)
		return -1;
	*pid = atoi(buf);
	memcpy(comm, open + 1, close - open - 1);
	comm[close - open - 1] = 0;
	*state = close[2];
	*ppid = atoi(close + 4);
	int fields = 2;
	for (char *p = close + 1; *p; p++)
		if (*p == ' ')
			fields++;
	return fields;
}

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* /proc/self/cmdline equals argv. */
static int cmdline_is(const char *path, int argc, char **argv)
{
	char buf[4096], want[4096];
	int n = slurp(path, buf, sizeof buf), w = 0;
	for (int i = 0; i < argc; i++) {
		strcpy(want + w, argv[i]);
		w += strlen(argv[i]) + 1;
	}
	return n == w && memcmp(buf, want, w) == 0;
}

static int child_after_exec(int argc, char **argv)
{
	say("exec'd child: cmdline", cmdline_is("/proc/self/cmdline", argc, argv));
	char comm[64];
	slurp("/proc/self/comm", comm, sizeof comm);
	say("exec'd child: comm is the last name of the path run", strcmp(comm, "exe\n") == 0);
	say("exec'd child: exe is the program", link_is("/proc/self/exe", argv[1]));
	struct stat a, b;
	say("exec'd child: exe is the same file", stat("/proc/self/exe", &a) == 0 && stat(argv[1], &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[2], "child"))
		return child_after_exec(argc, argv);
	setvbuf(stdout, NULL, _IONBF, 0);
	/* Only 0, 1 and 2, whatever the host's test runner left open. */
	for (int fd = 3; fd < 1024; fd++)
		close(fd);

	char self[32];
	snprintf(self, sizeof self, "%d", getpid());
	say("/proc/self is my pid", link_is("/proc/self", self));

	const char *execfn = (const char *)getauxval(AT_EXECFN);
	char real[PATH_MAX];
	say("exe is the program run", realpath(execfn, real) && link_is("/proc/self/exe", real));
	struct stat a, b;
	say("exe is the same file", stat("/proc/self/exe", &a) == 0 && stat(execfn, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	say("cmdline is argv", cmdline_is("/proc/self/cmdline", argc, argv));
	char comm[64], want[32];
	snprintf(want, sizeof want, "%.15s\n", base(real));
	say("comm is the program's name", slurp("/proc/self/comm", comm, sizeof comm) > 0 && !strcmp(comm, want));

	int pid, ppid;
	char scomm[64], state;
	int fields = read_stat("/proc/self/stat", &pid, scomm, &state, &ppid);
	say("stat has 52 fields", fields == 52);
	say("stat pid", pid == getpid());
	say("stat ppid", ppid == getppid());
	say("stat state R", state == 'R');
	want[strlen(want) - 1] = 0;
	say("stat comm", !strcmp(scomm, want));
	char status[2048], line[64];
	slurp("/proc/self/status", status, sizeof status);
	snprintf(line, sizeof line, "\nPid:\t%d\n", getpid());
	say("status Pid", strstr(status, line) != NULL);
	snprintf(line, sizeof line, "\nPPid:\t%d\n", getppid());
	say("status PPid", strstr(status, line) != NULL);
	snprintf(line, sizeof line, "Name:\t%s\n", want);
	say("status Name", strncmp(status, line, strlen(line)) == 0);

	char task[64];
	snprintf(task, sizeof task, "/proc/self/task/%d/stat", getpid());
	say("task/<pid>/stat", read_stat(task, &pid, scomm, &state, &ppid) == 52 && pid == getpid());
	say("root", link_is("/proc/self/root", "/"));

	/* The process in the listing of /proc. */
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0, self_link = 0;
	while (d && (e = readdir(d))) {
		found |= !strcmp(e->d_name, self) && e->d_type == DT_DIR;
		self_link |= !strcmp(e->d_name, "self") && e->d_type == DT_LNK;
	}
	closedir(d);
	say("my pid is listed in /proc", found);
	say("self is listed as a link", self_link);

	/* Descriptors. */
	mkdir("/tmp/proc_self_dir", 0755);
	chdir("/tmp/proc_self_dir");
	say("cwd", link_is("/proc/self/cwd", "/tmp/proc_self_dir"));
	int f = open("f", O_CREAT | O_RDWR | O_TRUNC, 0644);
	dup2(f, 10);
	int p[2];
	pipe(p);
	int dfd = open("/tmp", O_RDONLY | O_DIRECTORY);
	list_fds("descriptors");
	char path[64], target[PATH_MAX];
	snprintf(path, sizeof path, "/proc/self/fd/%d", f);
	say("file", link_is(path, "/tmp/proc_self_dir/f"));
	say("its dup", link_is("/proc/self/fd/10", "/tmp/proc_self_dir/f"));
	snprintf(path, sizeof path, "/proc/self/fd/%d", dfd);
	say("directory", link_is(path, "/tmp"));
	snprintf(path, sizeof path, "/proc/self/fd/%d", p[0]);
	ssize_t n = readlink(path, target, sizeof target - 1);
	target[n > 0 ? n : 0] = 0;
	snprintf(path, sizeof path, "/proc/self/fd/%d", p[1]);
	say("pipe", !strncmp(target, "pipe:[", 6) && link_is(path, target));
	struct stat ls;
	say("modes: read-write", lstat("/proc/self/fd/10", &ls) == 0 && (ls.st_mode & 0777) == 0700 && S_ISLNK(ls.st_mode));
	say("modes: write-only", lstat(path, &ls) == 0 && (ls.st_mode & 0777) == 0300);
	/* Reading through the link reaches the file. */
	write(f, "through", 7);
	char got[16] = "";
	int again = open("/proc/self/fd/10", O_RDONLY);
	read(again, got, sizeof got - 1);
	say("open through the link", !strcmp(got, "through"));
	close(again);
	unlink("f");
	say("deleted", link_is("/proc/self/fd/10", "/tmp/proc_self_dir/f (deleted)"));
	close(10);
	close(dfd);
	list_fds("after closing 10 and the directory");
	snprintf(path, sizeof path, "/proc/self/fd/%d", 10);
	say("closed: gone", readlink(path, target, sizeof target) == -1 && errno == ENOENT);

	/* A child, seen from both sides, then through exec. */
	int go[2], ready[2];
	pipe(go);
	pipe(ready);
	pid_t child = fork();
	if (child == 0) {
		char c;
		snprintf(self, sizeof self, "%d", getpid());
		say("child: /proc/self", link_is("/proc/self", self));
		say("child: stat", read_stat("/proc/self/stat", &pid, scomm, &state, &ppid) == 52 && pid == getpid() && ppid == getppid());
		say("child: same cmdline", cmdline_is("/proc/self/cmdline", argc, argv));
		write(ready[1], "r", 1);
		read(go[0], &c, 1);
		char *args[] = {argv[0], real, "child", "x y", NULL};
		execv("/proc/self/exe", args);
		say("exec", 0);
		_exit(1);
	}
	char cpath[64], c;
	read(ready[0], &c, 1);
	snprintf(cpath, sizeof cpath, "/proc/%d/stat", child);
	say("parent: child's stat", read_stat(cpath, &pid, scomm, &state, &ppid) == 52 && pid == child && ppid == getpid());
	snprintf(cpath, sizeof cpath, "/proc/%d/exe", child);
	say("parent: child's exe", link_is(cpath, real));
	write(go[1], "g", 1);
	int st;
	waitpid(child, &st, 0);
	say("child exited 0", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	snprintf(cpath, sizeof cpath, "/proc/%d", child);
	say("reaped child: gone", access(cpath, F_OK) == -1 && errno == ENOENT);
	return 0;
}
