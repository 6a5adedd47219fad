/* Job control in the process server: a child stopping itself (SIGSTOP),
 * a busy child stopped by SIGTSTP from its parent, wait4 with WUNTRACED
 * (WIFSTOPPED, WSTOPSIG) and WCONTINUED (WIFCONTINUED), SIGCONT resuming
 * both, SIGKILL ending a stopped child, and the parent's SIGCHLD for stops
 * (and none with SA_NOCLDSTOP). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t chld;
static void on_chld(int s) { (void)s; chld++; }

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    int status, go[2];
    pipe(go);
    pid_t c = fork();
    if (c == 0) {
        raise(SIGSTOP);
        /* Exit only once the parent has seen the continue: otherwise
         * WCONTINUED could find the exit first. */
        char b;
        read(go[0], &b, 1);
        _exit(5);
    }
    waitpid(c, &status, WUNTRACED);
    printf("self-stop: stopped=%d sig=%d\n", WIFSTOPPED(status), WSTOPSIG(status));
    kill(c, SIGCONT);
    waitpid(c, &status, WCONTINUED);
    printf("continued=%d\n", WIFCONTINUED(status));
    write(go[1], "x", 1);
    waitpid(c, &status, 0);
    printf("then exited=%d code=%d\n", WIFEXITED(status), WEXITSTATUS(status));

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_chld;
    sigaction(SIGCHLD, &sa, NULL);
    c = fork();
    if (c == 0) {
        for (;;)
            ;
    }
    /* The child gets a group of its own, whose parent (this process) is in
     * another group of the same session: not orphaned, so SIGTSTP stops it
     * (Linux drops SIGTSTP sent to an orphaned group, as a test harness
     * may make ours). */
    setpgid(c, c);
    kill(c, SIGTSTP);
    waitpid(c, &status, WUNTRACED);
    printf("busy child: stopped=%d sig=%d\n", WIFSTOPPED(status), WSTOPSIG(status));
    kill(c, SIGKILL);
    waitpid(c, &status, 0);
    printf("killed while stopped: sig=%d sigchld_seen=%d\n", WTERMSIG(status), chld > 0);

    sa.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    chld = 0;
    c = fork();
    if (c == 0) {
        raise(SIGSTOP);
        _exit(0);
    }
    waitpid(c, &status, WUNTRACED);
    int after_stop = chld;
    kill(c, SIGCONT);
    waitpid(c, &status, 0);
    printf("SA_NOCLDSTOP: sigchld on stop=%d exited=%d\n", after_stop, WIFEXITED(status));
    return 0;
}
