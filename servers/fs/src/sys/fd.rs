//! Descriptors themselves: dup, dup2, dup3 and fcntl (a pipe's size too).

use lstar_abi::errno::Errno;

use super::{fd_ret, uint};
use crate::files::{FileServer, Pid};
use crate::linux::{o, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_GETLK, F_GETPIPE_SZ, F_SETPIPE_SZ, F_SETFD, F_SETFL, F_SETLK, F_SETLKW, F_UNLCK, FD_CLOEXEC};
use crate::user::{self, Env};

/// `struct flock` on x86_64: l_type i16, l_whence i16, pad, l_start i64,
/// l_len i64, l_pid i32, pad.
const FLOCK_SIZE: usize = 32;
const F_RDLCK: u16 = 0;
const F_WRLCK: u16 = 1;

impl FileServer {
    pub(super) fn dup(&mut self, pid: Pid, old: i32) -> Result<u64, Errno> {
        let ofd = self.any_ofd(pid, old)?;
        let new = self.proc(pid).free_fd(0)?;
        self.install(pid, new, ofd, false);
        Ok(fd_ret(new))
    }

    pub(super) fn dup2(&mut self, pid: Pid, old: i32, new: i32) -> Result<u64, Errno> {
        let ofd = self.any_ofd(pid, old)?;
        // The same descriptor is only checked, whatever the limit.
        if old == new {
            return Ok(fd_ret(new));
        }
        if !self.proc(pid).fd_allowed(new) {
            return Err(Errno::EBADF);
        }
        self.install(pid, new, ofd, false);
        Ok(fd_ret(new))
    }

    pub(super) fn dup3(&mut self, pid: Pid, old: i32, new: i32, flags: u32) -> Result<u64, Errno> {
        if flags & !o::CLOEXEC != 0 || old == new {
            return Err(Errno::EINVAL);
        }
        let ofd = self.any_ofd(pid, old)?;
        if !self.proc(pid).fd_allowed(new) {
            return Err(Errno::EBADF);
        }
        self.install(pid, new, ofd, flags & o::CLOEXEC != 0);
        Ok(fd_ret(new))
    }

    pub(super) fn fcntl(&mut self, env: &mut dyn Env, pid: Pid, fd: i32, cmd: u32, arg: u64) -> Result<u64, Errno> {
        let entry = self.fd(pid, fd)?;
        // An O_PATH handle allows only the commands on the descriptor.
        if self.ofd(entry.ofd).is_path() && !matches!(cmd, F_DUPFD | F_DUPFD_CLOEXEC | F_GETFD | F_SETFD | F_GETFL) {
            return Err(Errno::EBADF);
        }
        match cmd {
            F_DUPFD | F_DUPFD_CLOEXEC => {
                // The lowest descriptor allowed, as an unsigned int: one
                // the limit forbids is EINVAL, not EMFILE.
                let min = i32::try_from(uint(arg)).ok().filter(|&m| self.proc(pid).fd_allowed(m)).ok_or(Errno::EINVAL)?;
                let new = self.proc(pid).free_fd(min)?;
                self.install(pid, new, entry.ofd, cmd == F_DUPFD_CLOEXEC);
                Ok(fd_ret(new))
            }
            F_GETFD => Ok(if entry.cloexec { FD_CLOEXEC } else { 0 }),
            F_SETFD => {
                self.proc(pid).fds.get_mut(fd).expect("checked above").cloexec = arg & FD_CLOEXEC != 0;
                Ok(0)
            }
            F_GETFL => Ok(self.ofd(entry.ofd).flags.into()),
            F_SETFL => {
                let ofd = self.ofd_mut(entry.ofd);
                ofd.flags = (ofd.flags & !o::SETFL) | (uint(arg) & o::SETFL);
                Ok(0)
            }
            F_GETLK | F_SETLK | F_SETLKW => self.record_lock(env, entry.ofd, cmd, arg),
            F_GETPIPE_SZ | F_SETPIPE_SZ => {
                let pipe = self.ofd_pipe(self.ofd(entry.ofd)).ok_or(Errno::EBADF)?;
                if cmd == F_GETPIPE_SZ {
                    Ok(self.pipe_size(pipe))
                } else {
                    // The size is an unsigned int.
                    self.set_pipe_size(pipe, uint(arg).into())
                }
            }
            _ => Err(Errno::EINVAL),
        }
    }

    /// POSIX record locks, checked but not kept: no lock table exists yet,
    /// so every lock is granted and F_GETLK always finds the range free.
    fn record_lock(&mut self, env: &mut dyn Env, ofd: crate::files::OfdId, cmd: u32, arg: u64) -> Result<u64, Errno> {
        let mut lock = [0u8; FLOCK_SIZE];
        user::read_exact(env, arg, &mut lock)?;
        let kind = u16::from_le_bytes([lock[0], lock[1]]);
        let whence = u16::from_le_bytes([lock[2], lock[3]]);
        if whence > 2 {
            return Err(Errno::EINVAL);
        }
        let ofd = self.ofd(ofd);
        match kind {
            F_RDLCK if cmd != F_GETLK && !ofd.readable() => Err(Errno::EBADF),
            F_WRLCK if cmd != F_GETLK && !ofd.writable() => Err(Errno::EBADF),
            F_RDLCK | F_WRLCK if cmd == F_GETLK => {
                lock[0..2].copy_from_slice(&F_UNLCK.to_le_bytes());
                user::write_exact(env, arg, &lock).map(|()| 0)
            }
            F_RDLCK | F_WRLCK => Ok(0),
            F_UNLCK if cmd != F_GETLK => Ok(0),
            _ => Err(Errno::EINVAL),
        }
    }
}
