/* Private file mappings: the bytes of the file at the mapped offset, zeros
 * past its end in the last page, writes to the mapping not reaching the
 * file, an offset of one page, and the errors EACCES (file open for
 * writing only), ENODEV (a pipe), EBADF (a closed descriptor) and EINVAL
 * (an unaligned offset). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void)
{
    chdir("/tmp");
    const char *path = "/tmp/lstar-mmap-file";
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
    char page[4096];
    memset(page, 'a', sizeof page);
    write(fd, page, sizeof page);
    write(fd, "second page!", 12);
    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    printf("mapped: %d first=%c at4096=%.12s past_end_zero=%d\n", m != MAP_FAILED, m[0], m + 4096, m[4096 + 12] == 0 && m[8191] == 0);
    m[0] = 'Z';
    char back;
    pread(fd, &back, 1, 0);
    printf("private write stays private: mapping=%c file=%c\n", m[0], back);
    munmap(m, 8192);
    char *o = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 4096);
    printf("offset one page: %.12s\n", o);
    munmap(o, 4096);
    errno = 0;
    void *u = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 100);
    int e = errno;
    printf("unaligned offset: %s\n", u == MAP_FAILED && e == EINVAL ? "EINVAL" : "other");
    close(fd);
    errno = 0;
    u = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    e = errno;
    printf("closed fd: %s\n", u == MAP_FAILED && e == EBADF ? "EBADF" : "other");
    int wfd = open(path, O_WRONLY);
    errno = 0;
    u = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, wfd, 0);
    e = errno;
    printf("write-only fd: %s\n", u == MAP_FAILED && e == EACCES ? "EACCES" : "other");
    close(wfd);
    int p[2];
    pipe(p);
    errno = 0;
    u = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, p[0], 0);
    e = errno;
    printf("pipe: %s\n", u == MAP_FAILED && e == ENODEV ? "ENODEV" : "other");
    unlink(path);
    return 0;
}
