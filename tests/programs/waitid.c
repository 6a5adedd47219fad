/* waitid: P_PID and P_ALL with WEXITED (si_code CLD_EXITED and
 * CLD_KILLED, si_status, si_pid), WNOWAIT leaving the child to be waited
 * for again, WNOHANG with nothing ready (0 and a zeroed si_pid), WSTOPPED
 * and WCONTINUED (CLD_STOPPED, CLD_CONTINUED), and EINVAL with no event
 * asked for, ECHILD without children. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    siginfo_t si;
    pid_t c = fork();
    if (c == 0)
        _exit(7);
    memset(&si, 0, sizeof si);
    int r = waitid(P_PID, c, &si, WEXITED | WNOWAIT);
    printf("nowait: %d code_exited=%d status=%d pid_ok=%d signo=%d\n", r, si.si_code == CLD_EXITED, si.si_status, si.si_pid == c, si.si_signo);
    memset(&si, 0, sizeof si);
    r = waitid(P_ALL, 0, &si, WEXITED);
    printf("then reaped: %d status=%d pid_ok=%d\n", r, si.si_status, si.si_pid == c);

    int go[2];
    pipe(go);
    c = fork();
    if (c == 0) {
        char b;
        read(go[0], &b, 1);
        _exit(0);
    }
    memset(&si, 0xff, sizeof si);
    r = waitid(P_PID, c, &si, WEXITED | WNOHANG);
    printf("wnohang: %d si_pid=%d\n", r, si.si_pid);
    kill(c, SIGSTOP);
    memset(&si, 0, sizeof si);
    r = waitid(P_PID, c, &si, WSTOPPED);
    printf("stopped: %d code=%d status=%d\n", r, si.si_code == CLD_STOPPED, si.si_status);
    kill(c, SIGCONT);
    memset(&si, 0, sizeof si);
    r = waitid(P_PID, c, &si, WCONTINUED);
    printf("continued: %d code=%d\n", r, si.si_code == CLD_CONTINUED);
    kill(c, SIGKILL);
    memset(&si, 0, sizeof si);
    r = waitid(P_PID, c, &si, WEXITED);
    printf("killed: %d code_killed=%d status=%d\n", r, si.si_code == CLD_KILLED, si.si_status);

    errno = 0;
    r = waitid(P_ALL, 0, &si, WNOHANG);
    int e = errno;
    printf("no event asked: %d %s\n", r, e == EINVAL ? "EINVAL" : "other");
    errno = 0;
    r = waitid(P_ALL, 0, &si, WEXITED);
    e = errno;
    printf("no children: %d %s\n", r, e == ECHILD ? "ECHILD" : "other");
    return 0;
}
