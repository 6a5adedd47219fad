/* The kernel's counters page (lstar_abi::counters), found through the
 * auxiliary vector: 1000 forwarded getpid calls must count 2000 SYSCALL
 * entries (the program's and the process server's ReplyRecv), 2000 IPC
 * messages (request and reply) and, per call, the CR3
 * writes the boot's KPTI setting implies (4 with KPTI, 2 without: this
 * prints the rounded-down ratio, since timer interrupts add a few). The page
 * is read-only: writing it kills a child with SIGSEGV. Lstar only. */
#include <stdint.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define AT_LSTAR_COUNTERS 0x4c535452
struct counters { uint64_t entries, syscalls, cr3_writes, tlb_flushes, ipc_messages, switches; };

int main(void)
{
    volatile struct counters *c = (void *)getauxval(AT_LSTAR_COUNTERS);
    if (!c) {
        printf("no counters page\n");
        return 1;
    }
    struct counters a = *c;
    for (int i = 0; i < 1000; i++)
        syscall(SYS_getpid);
    struct counters b = *c;
    printf("syscalls per getpid: %llu\n", (unsigned long long)(b.syscalls - a.syscalls) / 1000);
    printf("exact syscalls: %llu\n", (unsigned long long)(b.syscalls - a.syscalls));
    printf("ipc per getpid: %llu\n", (unsigned long long)(b.ipc_messages - a.ipc_messages) / 1000);
    printf("cr3 writes per getpid: %llu\n", (unsigned long long)(b.cr3_writes - a.cr3_writes) / 1000);
    printf("tlb flushes per getpid: %llu\n", (unsigned long long)(b.tlb_flushes - a.tlb_flushes) / 1000);
    pid_t p = fork();
    if (p == 0) {
        ((struct counters *)c)->entries = 0;
        _exit(0);
    }
    int status;
    waitpid(p, &status, 0);
    printf("write to the page: signal %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return 0;
}
