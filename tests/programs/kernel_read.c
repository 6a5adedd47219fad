/* A user-mode read of a kernel address must kill the program with SIGSEGV
 * (exit status 139), not the kernel. It first spins for a while so that
 * timer interrupts arrive from user mode (the KPTI entry path). The xtask
 * test also boots with `kpti_audit` and checks that the user page table maps
 * nothing of the kernel but its entry sections. Expected output: "before". */
#include <stdint.h>
#include <stdio.h>
#include <x86intrin.h>

/* About 200 ms at a 2-3 GHz TSC (QEMU's TCG TSC follows the host's). */
#define SPIN_TSC_TICKS 500000000ULL

int main(void)
{
	printf("before\n");
	fflush(stdout);

	uint64_t start = __rdtsc();
	while (__rdtsc() - start < SPIN_TSC_TICKS)
		;

	volatile uint8_t *kernel = (volatile uint8_t *)0xffffffff80100000UL;
	uint8_t byte = *kernel;
	printf("after: read %u\n", byte);
	return 0;
}
