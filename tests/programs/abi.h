/* What the differential abi_* programs share: errno's names and the line
 * that reports one call. Both runs (host and Lstar) use the same binary,
 * so the format only has to be stable, not Linux's. */
#ifndef LSTAR_TESTS_ABI_H
#define LSTAR_TESTS_ABI_H

#include <errno.h>
#include <stdio.h>

#define E(x) case x: return #x;
static const char *ename(int e)
{
	switch (e) {
	E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC) E(EBADF) E(ECHILD)
	E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR)
	E(EISDIR) E(EINVAL) E(EMFILE) E(ENOTTY) E(EFBIG) E(ENOSPC) E(ESPIPE) E(EMLINK) E(EPIPE)
	E(ERANGE) E(EDEADLK) E(ENAMETOOLONG) E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(EOVERFLOW)
	E(EOPNOTSUPP) E(ETIMEDOUT)
	}
	return "E?";
}
#undef E

/* Prints a call and its result: the value, or -1 and errno's name. */
static void report(const char *what, long r)
{
	int e = errno;
	if (r < 0)
		printf("%s = -1 %s\n", what, ename(e));
	else
		printf("%s = %ld\n", what, r);
}
#define T(expr) report(#expr, (long)(expr))

#endif
