/* The SYSCALL dispatcher's edges: the x64 and x32 tables, numbers out of
 * range (ENOSYS), and user pointers that are unmapped or point into the
 * kernel (EFAULT). Prints one line per check and "all ok" when all pass;
 * exits 0 only then. (On a host with x32 syscalls disabled the x32 check
 * fails, so this is not a differential test.) */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define X32_SYSCALL_BIT 0x40000000L

static int failures;

static void check(int ok, const char *what)
{
	printf("%s: %s\n", ok ? "ok" : "FAIL", what);
	if (!ok)
		failures++;
}

/* Whether a raw syscall() result is a failure with errno `err`. */
static int fails_with(long ret, int err)
{
	return ret == -1 && errno == err;
}

int main(void)
{
	long pid = getpid();

	check(syscall(SYS_getpid) == pid, "syscall(39) equals getpid()");
	check(syscall(X32_SYSCALL_BIT + SYS_getpid) == pid, "x32 getpid (0x40000000+39) equals getpid()");

	errno = 0;
	check(fails_with(syscall(1000), ENOSYS), "syscall 1000 is ENOSYS");
	errno = 0;
	check(fails_with(syscall(-1), ENOSYS), "syscall -1 is ENOSYS");
	errno = 0;
	check(fails_with(syscall(X32_SYSCALL_BIT + 1000), ENOSYS), "x32 syscall 1000 is ENOSYS");
	errno = 0;
	check(fails_with(syscall(0x7fffffffL), ENOSYS), "syscall 0x7fffffff is ENOSYS");

	errno = 0;
	check(fails_with(syscall(SYS_write, 1, (void *)8, 5), EFAULT), "write from an unmapped address is EFAULT");
	errno = 0;
	check(fails_with(syscall(SYS_write, 1, (void *)0xffffffff80000000UL, 5), EFAULT),
	      "write from a kernel address is EFAULT");

	if (failures == 0)
		printf("all ok\n");
	return failures == 0 ? 0 : 1;
}
