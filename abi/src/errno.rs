//! Linux errno values (asm-generic/errno-base.h and errno.h), as a Linux
//! program observes them: a syscall returns `-errno` in RAX.

macro_rules! errnos {
    ($($name:ident = $value:expr, $text:expr;)*) => {
        /// A Linux error number.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(i32)]
        pub enum Errno { $($name = $value,)* }

        impl Errno {
            /// The symbolic name, as strace prints it.
            pub const fn name(self) -> &'static str {
                match self { $(Errno::$name => stringify!($name),)* }
            }

            /// The strerror(3) text.
            pub const fn text(self) -> &'static str {
                match self { $(Errno::$name => $text,)* }
            }

            /// The value placed in RAX: `-errno`.
            pub const fn to_ret(self) -> u64 {
                (-(self as i64)) as u64
            }

            /// Decodes a syscall return value that carries an error
            /// (`-4095..=-1`), or `None` for a success value.
            pub fn from_ret(ret: u64) -> Option<Errno> {
                let v = ret as i64;
                if !(-4095..0).contains(&v) {
                    return None;
                }
                match -v as i32 { $($value => Some(Errno::$name),)* _ => None }
            }
        }
    };
}

errnos! {
    EPERM = 1, "Operation not permitted";
    ENOENT = 2, "No such file or directory";
    ESRCH = 3, "No such process";
    EINTR = 4, "Interrupted system call";
    EIO = 5, "Input/output error";
    ENXIO = 6, "No such device or address";
    E2BIG = 7, "Argument list too long";
    ENOEXEC = 8, "Exec format error";
    EBADF = 9, "Bad file descriptor";
    ECHILD = 10, "No child processes";
    EAGAIN = 11, "Resource temporarily unavailable";
    ENOMEM = 12, "Cannot allocate memory";
    EACCES = 13, "Permission denied";
    EFAULT = 14, "Bad address";
    EBUSY = 16, "Device or resource busy";
    EEXIST = 17, "File exists";
    EXDEV = 18, "Invalid cross-device link";
    ENODEV = 19, "No such device";
    ENOTDIR = 20, "Not a directory";
    EISDIR = 21, "Is a directory";
    EINVAL = 22, "Invalid argument";
    ENFILE = 23, "Too many open files in system";
    EMFILE = 24, "Too many open files";
    ENOTTY = 25, "Inappropriate ioctl for device";
    ETXTBSY = 26, "Text file busy";
    EFBIG = 27, "File too large";
    ENOSPC = 28, "No space left on device";
    ESPIPE = 29, "Illegal seek";
    EROFS = 30, "Read-only file system";
    EMLINK = 31, "Too many links";
    EPIPE = 32, "Broken pipe";
    ERANGE = 34, "Numerical result out of range";
    EDEADLK = 35, "Resource deadlock avoided";
    ENAMETOOLONG = 36, "File name too long";
    ENOSYS = 38, "Function not implemented";
    ENOTEMPTY = 39, "Directory not empty";
    ELOOP = 40, "Too many levels of symbolic links";
    EOVERFLOW = 75, "Value too large for defined data type";
    ENOTSOCK = 88, "Socket operation on non-socket";
    EOPNOTSUPP = 95, "Operation not supported";
    ETIMEDOUT = 110, "Connection timed out";
}

/// What a server replies to a call it held when a `Cancel` ends it early
/// (Linux's kernel-internal ERESTARTSYS, 512): the process server turns it
/// into a restart of the call (no handler ran, or the handler has
/// SA_RESTART) or into `-EINTR`, so a program never sees it.
pub const RESTARTSYS_RET: u64 = (-512i64) as u64;

/// Like [`RESTARTSYS_RET`] but never restarted after a handler ran, whatever
/// SA_RESTART says (Linux's ERESTARTNOHAND, 514: poll, select, pause).
pub const RESTARTNOHAND_RET: u64 = (-514i64) as u64;

#[cfg(test)]
mod tests {
    use super::Errno;

    #[test]
    fn ret_round_trip() {
        assert_eq!(Errno::ENOSYS.to_ret(), (-38i64) as u64);
        assert_eq!(Errno::from_ret((-14i64) as u64), Some(Errno::EFAULT));
        assert_eq!(Errno::from_ret(0), None);
        assert_eq!(Errno::from_ret((-4096i64) as u64), None);
    }
}
