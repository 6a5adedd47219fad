/* Memory: brk growth, anonymous mmap (placement, MAP_FIXED replacing,
 * MAP_FIXED_NOREPLACE), munmap of a middle page (the rest survives, the
 * hole faults), mprotect (read-only and PROT_NONE fault; back to writable
 * works), mremap (shrink, grow in place or by moving, with contents kept),
 * madvise(MADV_DONTNEED) zeroing, big malloc, and the errors EINVAL,
 * ENOMEM and EFAULT. Faults happen in children, reported by signal. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static int faults(void (*fn)(void *), void *arg)
{
    pid_t c = fork();
    if (c == 0) {
        fn(arg);
        _exit(0);
    }
    int status;
    waitpid(c, &status, 0);
    return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}
static void write_byte(void *p) { *(volatile char *)p = 1; }
static void read_byte(void *p) { (void)*(volatile char *)p; }

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    long pg = sysconf(_SC_PAGESIZE);
    printf("page size %ld\n", pg);

    /* musl's sbrk only reports the break: move it with the raw call. */
    char *b0 = (char *)syscall(SYS_brk, 0);
    char *b1 = (char *)syscall(SYS_brk, b0 + 3 * pg);
    memset(b0, 7, 3 * pg);
    char *shrunk = (char *)syscall(SYS_brk, b0 + pg);
    printf("brk grew: %d shrank: %d\n", b1 == b0 + 3 * pg, shrunk == b0 + pg);

    char *m = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap ok: %d zeroed: %d\n", m != MAP_FAILED, m[0] == 0 && m[4 * pg - 1] == 0);
    memset(m, 'a', 4 * pg);
    munmap(m + pg, pg);
    printf("after munmap middle: first=%c third=%c hole_faults=%d\n", m[0], m[2 * pg], faults(read_byte, m + pg));

    int e;
    char *f = mmap(m + pg, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("MAP_FIXED into the hole: %d zero=%d\n", f == m + pg, f[0] == 0);
    char *nr = mmap(m, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    e = errno;
    printf("FIXED_NOREPLACE over a mapping: %s\n", nr == MAP_FAILED && e == EEXIST ? "EEXIST" : "other");

    mprotect(m, pg, PROT_READ);
    printf("read-only: reads=%c write_faults=%d\n", m[0], faults(write_byte, m));
    mprotect(m, pg, PROT_NONE);
    printf("PROT_NONE: read_faults=%d\n", faults(read_byte, m));
    mprotect(m, pg, PROT_READ | PROT_WRITE);
    m[0] = 'z';
    printf("writable again: %c\n", m[0]);

    char *r = mremap(m, 4 * pg, 2 * pg, 0);
    printf("mremap shrink: same=%d tail_faults=%d\n", r == m, faults(read_byte, m + 3 * pg));
    char *g = mremap(r, 2 * pg, 64 * pg, MREMAP_MAYMOVE);
    printf("mremap grow: ok=%d kept=%c%c new_zero=%d\n", g != MAP_FAILED, g[0], g[2 * pg - 1] == 0 ? '0' : g[2 * pg - 1], g[63 * pg] == 0);
    memset(g, 'q', 64 * pg);
    madvise(g, 64 * pg, MADV_DONTNEED);
    printf("madvise DONTNEED zeroes: %d\n", g[0] == 0 && g[64 * pg - 1] == 0);

    char *big = malloc(8 << 20);
    memset(big, 1, 8 << 20);
    printf("8 MiB malloc: %d\n", big != NULL && big[(8 << 20) - 1] == 1);
    free(big);

    errno = 0;
    void *z = mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    e = errno;
    printf("mmap len 0: %s\n", z == MAP_FAILED && e == EINVAL ? "EINVAL" : "other");
    errno = 0;
    int rc = mprotect(g + 1, pg, PROT_READ);
    printf("mprotect unaligned: %s\n", rc == -1 && errno == EINVAL ? "EINVAL" : "other");
    char *hole = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(hole, pg);
    errno = 0;
    rc = mprotect(hole, pg, PROT_READ);
    printf("mprotect unmapped: %s\n", rc == -1 && errno == ENOMEM ? "ENOMEM" : "other");
    errno = 0;
    void *mr = mremap(hole, pg, 2 * pg, MREMAP_MAYMOVE);
    printf("mremap unmapped: %s\n", mr == MAP_FAILED && errno == EFAULT ? "EFAULT" : "other");
    errno = 0;
    rc = munmap(g, 0);
    printf("munmap len 0: %s\n", rc == -1 && errno == EINVAL ? "EINVAL" : "other");
    return 0;
}
