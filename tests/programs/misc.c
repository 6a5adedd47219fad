/* The small process calls: getrlimit/setrlimit/prlimit64 (lowering a soft
 * limit reads back; EINVAL for a bad resource or soft > hard), getrandom
 * (bytes vary, flags checked), sched_yield, getrusage (EINVAL for a bad
 * who), times, sysinfo, uname. Only relations are printed, so the host's
 * own limits and times do not matter. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(void)
{
    struct rlimit rl;
    int r = getrlimit(RLIMIT_NOFILE, &rl);
    printf("getrlimit: %d soft<=hard=%d\n", r, rl.rlim_cur <= rl.rlim_max);
    struct rlimit lower = { 64, rl.rlim_max };
    r = setrlimit(RLIMIT_NOFILE, &lower);
    getrlimit(RLIMIT_NOFILE, &rl);
    printf("setrlimit: %d now=%ld\n", r, (long)rl.rlim_cur);
    struct rlimit bad = { 100, 50 };
    errno = 0;
    r = setrlimit(RLIMIT_NOFILE, &bad);
    printf("soft > hard: %d %s\n", r, errno == EINVAL ? "EINVAL" : "other");
    errno = 0;
    r = getrlimit(99, &rl);
    printf("bad resource: %d %s\n", r, errno == EINVAL ? "EINVAL" : "other");

    unsigned char a[32], b[32];
    ssize_t n1 = getrandom(a, sizeof a, 0), n2 = getrandom(b, sizeof b, 0);
    printf("getrandom: %zd %zd differ=%d\n", n1, n2, memcmp(a, b, sizeof a) != 0);
    errno = 0;
    ssize_t n3 = getrandom(a, 8, 0x100);
    printf("getrandom bad flags: %zd %s\n", n3, errno == EINVAL ? "EINVAL" : "other");

    printf("sched_yield: %d\n", sched_yield());
    struct rusage ru;
    printf("getrusage self: %d\n", getrusage(RUSAGE_SELF, &ru));
    errno = 0;
    r = getrusage(5, &ru);
    printf("getrusage bad who: %d %s\n", r, errno == EINVAL ? "EINVAL" : "other");
    struct tms t;
    printf("times positive: %d\n", times(&t) > 0);
    struct sysinfo si;
    r = sysinfo(&si);
    printf("sysinfo: %d procs>=1=%d ram>0=%d\n", r, si.procs >= 1, si.totalram > 0);
    struct utsname u;
    uname(&u);
    printf("uname: sysname=%s machine=%s\n", u.sysname, u.machine);
    return 0;
}
