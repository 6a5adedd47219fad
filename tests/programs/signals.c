/* Signals: handlers run on a frame that returns through sa_restorer
 * (raise, kill to self), SA_SIGINFO fields, masks with sigprocmask (a
 * blocked signal waits, then arrives on unblock), SIG_IGN, SA_RESETHAND,
 * a SIGSEGV handler leaving by siglongjmp, killing a busy child with
 * SIGTERM and SIGKILL (delivered while it runs in user mode), a child
 * catching a signal from its parent, SIGCHLD, a breakpoint (int3) ending a
 * child with SIGTRAP, and the errors EINVAL and ESRCH. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t hits, last_sig, chld;
static volatile int info_code, info_pid_ok;
static sigjmp_buf jump;

static void on_sig(int s) { hits++; last_sig = s; }
static void on_info(int s, siginfo_t *si, void *uc)
{
    (void)uc;
    last_sig = s;
    info_code = si->si_code;
    info_pid_ok = si->si_pid == getpid();
}
static void on_segv(int s) { (void)s; siglongjmp(jump, 1); }
static void on_chld(int s) { (void)s; chld++; }

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sigaction(SIGUSR1, &sa, NULL);

    raise(SIGUSR1);
    printf("raise: hits=%d sig=%d\n", hits, last_sig);
    kill(getpid(), SIGUSR1);
    printf("kill self: hits=%d\n", hits);

    double x = 1.5;
    raise(SIGUSR1);
    x *= 2;
    printf("fpu survives a handler: %.1f\n", x);

    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    raise(SIGUSR1);
    printf("blocked: hits=%d\n", hits);
    sigset_t pend;
    sigpending(&pend);
    printf("pending: %d\n", sigismember(&pend, SIGUSR1));
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("unblocked: hits=%d\n", hits);

    struct sigaction si;
    memset(&si, 0, sizeof si);
    si.sa_sigaction = on_info;
    si.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR2, &si, NULL);
    kill(getpid(), SIGUSR2);
    printf("siginfo: sig=%d code_is_user=%d pid_ok=%d\n", last_sig, info_code == SI_USER, info_pid_ok);

    signal(SIGUSR1, SIG_IGN);
    raise(SIGUSR1);
    printf("ignored: hits=%d\n", hits);

    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    struct sigaction now;
    sigaction(SIGUSR1, NULL, &now);
    printf("resethand: hits=%d now_default=%d\n", hits, now.sa_handler == SIG_DFL);

    signal(SIGSEGV, on_segv);
    if (sigsetjmp(jump, 1) == 0) {
        int *volatile bad = (int *)8;
        *bad = 1;
        printf("not reached\n");
    } else {
        printf("segv handled, back by siglongjmp\n");
    }

    int status;
    pid_t c = fork();
    if (c == 0) {
        for (;;)
            ;
    }
    kill(c, SIGTERM);
    waitpid(c, &status, 0);
    printf("busy child: signaled=%d sig=%d\n", WIFSIGNALED(status), WTERMSIG(status));

    c = fork();
    if (c == 0) {
        signal(SIGTERM, SIG_IGN);
        for (;;)
            ;
    }
    for (volatile int i = 0; i < 300000; i++)
        ;
    kill(c, SIGKILL);
    waitpid(c, &status, 0);
    printf("sigkill: sig=%d\n", WTERMSIG(status));

    c = fork();
    if (c == 0) {
        __asm__ volatile("int3");
        _exit(0);
    }
    waitpid(c, &status, 0);
    printf("int3: signaled=%d sig=%d\n", WIFSIGNALED(status), WTERMSIG(status));

    signal(SIGCHLD, on_chld);
    c = fork();
    if (c == 0)
        _exit(0);
    waitpid(c, &status, 0);
    printf("sigchld: %d\n", chld);

    /* sigsuspend: wait with SIGUSR1 unblocked for a child's kill; the
     * handler runs, sigsuspend returns EINTR, the old mask is back. */
    signal(SIGUSR1, on_sig);
    sigset_t block, wait_mask, now_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, NULL);
    int before = hits;
    pid_t parent = getpid();
    c = fork();
    if (c == 0) {
        kill(parent, SIGUSR1);
        _exit(0);
    }
    sigemptyset(&wait_mask);
    errno = 0;
    int sr = sigsuspend(&wait_mask);
    sigprocmask(SIG_SETMASK, NULL, &now_mask);
    printf("sigsuspend: %d %s handled=%d mask_back=%d\n", sr, errno == EINTR ? "EINTR" : "other", hits > before, sigismember(&now_mask, SIGUSR1));
    waitpid(c, &status, 0);
    sigprocmask(SIG_UNBLOCK, &block, NULL);

    errno = 0;
    int r = kill(getpid(), 99);
    printf("bad signal: %d %s\n", r, errno == EINVAL ? "EINVAL" : "other");
    errno = 0;
    r = kill(999999, SIGUSR1);
    printf("no such pid: %d %s\n", r, errno == ESRCH ? "ESRCH" : "other");
    r = sigaction(SIGKILL, &sa, NULL);
    printf("catch SIGKILL: %d %s\n", r, errno == EINVAL ? "EINVAL" : "other");
    return 0;
}
