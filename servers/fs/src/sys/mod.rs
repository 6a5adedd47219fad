//! The file syscalls, one handler each, and the process server's protocol
//! (`lstar_abi::fs`). [`FileServer::syscall`] decodes a forwarded call's
//! registers into typed arguments and picks the handler.

mod dir;
mod fd;
mod held;
mod io;
mod meta;
mod name;
mod pipe;
mod poll;
mod proto;

pub use held::{Waits, TIMER_BIT};

use lstar_abi::errno::Errno;
use libsys::nr;

use crate::files::{FileServer, Pid};
use crate::linux::{Timespec, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_NOFOLLOW};
use lstar_abi::native::clock;
use crate::user::Env;

/// An `int` argument. Linux reads only the low 32 bits of the register
/// for an `int` (or `unsigned int`, `umode_t`…) parameter, so the
/// truncation here is the ABI, not a loss.
fn int(reg: u64) -> i32 {
    reg as u32 as i32
}

/// An `unsigned int` (or `umode_t`, or flags) argument: the low 32 bits.
fn uint(reg: u64) -> u32 {
    reg as u32
}

/// A `loff_t` or `off_t` argument.
fn off(reg: u64) -> i64 {
    reg.cast_signed()
}

/// A descriptor as a return value.
fn fd_ret(fd: i32) -> u64 {
    u64::try_from(fd).expect("descriptors are not negative")
}

impl FileServer {
    /// Handles syscall `nr` (x64 numbering) for process `pid`.
    pub fn syscall(&mut self, env: &mut dyn Env, pid: Pid, nr: u64, a: [u64; 6]) -> Result<u64, Errno> {
        let r = self.dispatch(env, pid, nr, a);
        self.stamp_times(env);
        r
    }

    /// The time of the call being handled, for file times: the clock is
    /// read once per call, so every time one call sets is the same.
    pub(crate) fn now(&mut self, env: &mut dyn Env) -> Timespec {
        *self.call_time.get_or_insert_with(|| Timespec::from_ns(env.clock(clock::REALTIME)))
    }

    /// Sets the times the call changed (`Tmpfs::touch`) to its time; a
    /// call that changed none reads no clock.
    pub(crate) fn stamp_times(&mut self, env: &mut dyn Env) {
        if self.fs.has_touched() {
            let now = self.now(env);
            self.fs.stamp(now);
        }
        self.call_time = None;
    }

    fn dispatch(&mut self, env: &mut dyn Env, pid: Pid, nr: u64, a: [u64; 6]) -> Result<u64, Errno> {
        self.procfs.caller = pid;
        match nr {
            nr::READ => self.read(env, pid, int(a[0]), a[1], a[2]),
            nr::WRITE => self.write(env, pid, int(a[0]), a[1], a[2]),
            // iovcnt is an unsigned long in the kernel's prototype.
            nr::READV => self.readv(env, pid, int(a[0]), a[1], a[2]),
            nr::WRITEV => self.writev(env, pid, int(a[0]), a[1], a[2]),
            nr::PREAD64 => self.pread(env, pid, int(a[0]), a[1], a[2], off(a[3])),
            nr::PWRITE64 => self.pwrite(env, pid, int(a[0]), a[1], a[2], off(a[3])),
            nr::LSEEK => self.lseek(pid, int(a[0]), off(a[1]), uint(a[2])),
            nr::IOCTL => self.ioctl(env, pid, int(a[0]), uint(a[1]), a[2]),
            nr::FSYNC | nr::FDATASYNC => self.fsync(pid, int(a[0])),
            nr::SYNCFS => self.io_ofd(pid, int(a[0])).map(|_| 0),
            nr::SYNC => Ok(0),

            // open, openat and creat may wait (a FIFO): sys::held has them.
            nr::CLOSE => self.close_fd(pid, int(a[0])).map(|()| 0),
            nr::DUP => self.dup(pid, int(a[0])),
            nr::DUP2 => self.dup2(pid, int(a[0]), int(a[1])),
            nr::DUP3 => self.dup3(pid, int(a[0]), int(a[1]), uint(a[2])),
            nr::FCNTL => self.fcntl(env, pid, int(a[0]), uint(a[1]), a[2]),

            nr::FSTAT => self.fstat(env, pid, int(a[0]), a[1]),
            nr::STAT => self.fstatat(env, pid, AT_FDCWD, a[0], a[1], 0),
            nr::LSTAT => self.fstatat(env, pid, AT_FDCWD, a[0], a[1], AT_SYMLINK_NOFOLLOW),
            nr::NEWFSTATAT => self.fstatat(env, pid, int(a[0]), a[1], a[2], uint(a[3])),
            nr::STATX => self.statx(env, pid, int(a[0]), a[1], uint(a[2]), uint(a[3]), a[4]),
            nr::GETDENTS64 => self.getdents(env, pid, int(a[0]), a[1], uint(a[2]), true),
            nr::GETDENTS => self.getdents(env, pid, int(a[0]), a[1], uint(a[2]), false),

            nr::MKDIR => self.mkdirat(env, pid, AT_FDCWD, a[0], uint(a[1])),
            nr::MKDIRAT => self.mkdirat(env, pid, int(a[0]), a[1], uint(a[2])),
            nr::MKNOD => self.mknodat(env, pid, AT_FDCWD, a[0], uint(a[1]), uint(a[2])),
            nr::MKNODAT => self.mknodat(env, pid, int(a[0]), a[1], uint(a[2]), uint(a[3])),
            nr::RMDIR => self.unlinkat(env, pid, AT_FDCWD, a[0], AT_REMOVEDIR),
            nr::UNLINK => self.unlinkat(env, pid, AT_FDCWD, a[0], 0),
            nr::UNLINKAT => self.unlinkat(env, pid, int(a[0]), a[1], uint(a[2])),
            nr::RENAME => self.renameat2(env, pid, AT_FDCWD, a[0], AT_FDCWD, a[1], 0),
            nr::RENAMEAT => self.renameat2(env, pid, int(a[0]), a[1], int(a[2]), a[3], 0),
            nr::RENAMEAT2 => self.renameat2(env, pid, int(a[0]), a[1], int(a[2]), a[3], uint(a[4])),
            nr::LINK => self.linkat(env, pid, AT_FDCWD, a[0], AT_FDCWD, a[1], 0),
            nr::LINKAT => self.linkat(env, pid, int(a[0]), a[1], int(a[2]), a[3], uint(a[4])),
            nr::SYMLINK => self.symlinkat(env, pid, a[0], AT_FDCWD, a[1]),
            nr::SYMLINKAT => self.symlinkat(env, pid, a[0], int(a[1]), a[2]),
            nr::READLINK => self.readlinkat(env, pid, AT_FDCWD, a[0], a[1], int(a[2])),
            nr::READLINKAT => self.readlinkat(env, pid, int(a[0]), a[1], a[2], int(a[3])),
            nr::CHDIR => self.chdir(env, pid, a[0]),
            nr::FCHDIR => self.fchdir(pid, int(a[0])),
            nr::GETCWD => self.getcwd(env, pid, a[0], a[1]),
            nr::CHROOT => self.chroot(env, pid, a[0]),

            nr::ACCESS => self.faccessat(env, pid, AT_FDCWD, a[0], uint(a[1]), 0),
            // The faccessat syscall has no flags argument; faccessat2 does.
            nr::FACCESSAT => self.faccessat(env, pid, int(a[0]), a[1], uint(a[2]), 0),
            nr::FACCESSAT2 => self.faccessat(env, pid, int(a[0]), a[1], uint(a[2]), uint(a[3])),
            nr::CHMOD => self.fchmodat(env, pid, AT_FDCWD, a[0], uint(a[1])),
            nr::FCHMOD => self.fchmod(pid, int(a[0]), uint(a[1])),
            nr::FCHMODAT => self.fchmodat(env, pid, int(a[0]), a[1], uint(a[2])),
            nr::CHOWN => self.fchownat(env, pid, AT_FDCWD, a[0], uint(a[1]), uint(a[2]), 0),
            nr::LCHOWN => self.fchownat(env, pid, AT_FDCWD, a[0], uint(a[1]), uint(a[2]), AT_SYMLINK_NOFOLLOW),
            nr::FCHOWN => self.fchown(pid, int(a[0]), uint(a[1]), uint(a[2])),
            nr::FCHOWNAT => self.fchownat(env, pid, int(a[0]), a[1], uint(a[2]), uint(a[3]), uint(a[4])),
            nr::UTIMENSAT => self.utimensat(env, pid, int(a[0]), a[1], a[2], uint(a[3])),
            nr::UMASK => Ok(self.umask(pid, uint(a[0]))),
            nr::TRUNCATE => self.truncate(env, pid, a[0], off(a[1])),
            nr::FTRUNCATE => self.ftruncate(pid, int(a[0]), off(a[1])),
            _ => Err(Errno::ENOSYS),
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod wait_tests;
