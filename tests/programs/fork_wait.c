/* Processes: fork, exit statuses through wait4 (WIFEXITED, WEXITSTATUS,
 * WIFSIGNALED), WNOHANG, ECHILD, getppid in the child, vfork, a child
 * killed by SIGSEGV, and execve of this same program (by /proc/self/exe on
 * the host, by argv[0] where there is no /proc) with new argv and envp. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void exec_self(char *argv0, char *mode)
{
    char *args[] = { argv0, mode, "x y", NULL };
    char *env[] = { "FROM=exec", NULL };
    execve("/proc/self/exe", args, env);
    execve(argv0, args, env);
    printf("execve failed: %s\n", strerror(errno));
    _exit(99);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "exec-child") == 0) {
        printf("exec child: argc=%d argv[1]=%s argv[2]=%s FROM=%s\n", argc, argv[1], argv[2], getenv("FROM"));
        return 7;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t me = getpid();
    int status;

    errno = 0;
    int none = waitpid(-1, &status, 0);
    printf("wait without children: %d errno=%s\n", none, errno == ECHILD ? "ECHILD" : "other");

    pid_t c = fork();
    if (c == 0) {
        printf("child: parent matches=%d\n", getppid() == me);
        _exit(3);
    }
    pid_t w = waitpid(c, &status, 0);
    printf("waited same pid=%d exited=%d code=%d\n", w == c, WIFEXITED(status), WEXITSTATUS(status));

    c = fork();
    if (c == 0) {
        int *volatile bad = (int *)16;
        *bad = 1;
        _exit(0);
    }
    waitpid(c, &status, 0);
    printf("segv child: signaled=%d sig=%d\n", WIFSIGNALED(status), WTERMSIG(status));

    /* The child waits on a pipe until the parent has asked, so WNOHANG
     * meets a child that is certainly still running on every system. */
    int gate[2];
    if (pipe(gate))
        return 1;
    c = fork();
    if (c == 0) {
        char b;
        close(gate[1]);
        _exit(read(gate[0], &b, 1) == 0 ? 0 : 1);
    }
    close(gate[0]);
    w = waitpid(c, &status, WNOHANG);
    printf("wnohang: %s\n", w == 0 ? "0 (still running)" : w == c ? "already done" : "error");
    close(gate[1]);
    waitpid(c, &status, 0);
    printf("then reaped: exited=%d\n", WIFEXITED(status));

    for (int i = 0; i < 5; i++) {
        if (fork() == 0)
            _exit(10 + i);
    }
    int sum = 0;
    for (int i = 0; i < 5; i++) {
        wait(&status);
        sum += WEXITSTATUS(status);
    }
    printf("five children, codes sum=%d\n", sum);

    c = vfork();
    if (c == 0)
        _exit(4);
    waitpid(c, &status, 0);
    printf("vfork child code=%d\n", WEXITSTATUS(status));

    c = fork();
    if (c == 0)
        exec_self(argv[0], "exec-child");
    waitpid(c, &status, 0);
    printf("exec child code=%d\n", WEXITSTATUS(status));
    return 0;
}
