/* Time: CLOCK_MONOTONIC advances and nanosleep waits at least as long as
 * asked; CLOCK_REALTIME, gettimeofday and time agree with each other and
 * with a plausible date; bad clocks and bad timespecs give EINVAL; a
 * signal ends a long sleep early with EINTR. Only relations are printed,
 * never the times themselves, so host and Lstar print the same. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }
static void on_usr1(int s) { (void)s; }

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct timespec a, b, d = { 0, 50 * 1000 * 1000 };
    clock_gettime(CLOCK_MONOTONIC, &a);
    int r = nanosleep(&d, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("nanosleep 50ms: ret=%d waited_enough=%d not_absurd=%d\n", r, ns(b) - ns(a) >= 50000000, ns(b) - ns(a) < 5000000000LL);

    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    time_t t = time(NULL);
    printf("realtime after 2020: %d\n", rt.tv_sec > 1577836800);
    printf("gettimeofday agrees: %d time agrees: %d\n", tv.tv_sec - rt.tv_sec <= 1, t - rt.tv_sec <= 1);

    errno = 0;
    r = clock_gettime(12345, &rt);
    printf("bad clock: %d %s\n", r, errno == EINVAL ? "EINVAL" : "other");
    struct timespec bad = { 0, 1000000000 };
    errno = 0;
    r = nanosleep(&bad, NULL);
    printf("bad timespec: %d %s\n", r, errno == EINVAL ? "EINVAL" : "other");

    struct timespec abs_ts;
    clock_gettime(CLOCK_MONOTONIC, &abs_ts);
    abs_ts.tv_nsec += 20 * 1000 * 1000;
    if (abs_ts.tv_nsec >= 1000000000) { abs_ts.tv_sec++; abs_ts.tv_nsec -= 1000000000; }
    r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs_ts, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("absolute sleep: ret=%d reached=%d\n", r, ns(b) >= ns(abs_ts));

    signal(SIGUSR1, on_usr1);
    pid_t parent = getpid();
    pid_t c = fork();
    if (c == 0) {
        struct timespec w = { 0, 30 * 1000 * 1000 };
        nanosleep(&w, NULL);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    struct timespec long_sleep = { 5, 0 };
    clock_gettime(CLOCK_MONOTONIC, &a);
    errno = 0;
    r = nanosleep(&long_sleep, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("interrupted sleep: ret=%d %s early=%d\n", r, errno == EINTR ? "EINTR" : "other", ns(b) - ns(a) < 4000000000LL);
    waitpid(c, NULL, 0);
    return 0;
}
