//! Descriptors themselves: dup, dup2, dup3 and fcntl (a pipe's size too).

use lstar_abi::errno::Errno;

use super::{fd_ret, uint};
use crate::files::{FileServer, OfdId, Pid};
use crate::linux::{o, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_GETLK, F_GETPIPE_SZ, F_SETPIPE_SZ, F_SETFD, F_SETFL, F_SETLK, F_SETLKW, F_UNLCK, FD_CLOEXEC, SEEK_CUR, SEEK_END, SEEK_SET};
use crate::locks::TO_EOF;
use crate::tmpfs::Ino;
use crate::user::{self, Env};

/// `struct flock` on x86_64: l_type i16, l_whence i16, pad, l_start i64,
/// l_len i64, l_pid i32, pad.
const FLOCK_SIZE: usize = 32;
const F_RDLCK: u16 = 0;
const F_WRLCK: u16 = 1;

/// What a record-lock command came to.
pub(super) enum Locked {
    /// Answered with this value.
    Done(u64),
    /// F_SETLKW found the range locked: the call waits.
    Wait(LockWait),
}

/// A held F_SETLKW: the lock it wants, and the generation of the lock
/// table (crate::locks) it last saw, so that it is tried again only
/// once some lock has gone or shrunk.
pub(crate) struct LockWait {
    /// Kept open while the call waits.
    pub(super) ofd: OfdId,
    /// The descriptor it came through: closed meanwhile, the call fails
    /// with EBADF instead of taking the lock (as on Linux).
    pub(super) fd: i32,
    ino: Ino,
    start: u64,
    end: u64,
    write: bool,
    pub(super) generation: u64,
}

/// The bytes `start..end` that a `struct flock` names, its start taken
/// from `base` (0, the offset, or the size for l_whence): a length of 0
/// runs to the end of the file ([`TO_EOF`]), a negative one ends just
/// before the start. `EINVAL` for a range starting before 0, `EOVERFLOW`
/// for one ending past the largest offset.
fn lock_range(base: i64, start: i64, len: i64) -> Result<(u64, u64), Errno> {
    let at = base.checked_add(start).ok_or(Errno::EOVERFLOW)?;
    let offset = |n: i64| u64::try_from(n).map_err(|_| Errno::EINVAL);
    match len {
        0 => Ok((offset(at)?, TO_EOF)),
        1.. => {
            let first = offset(at)?;
            // Its last byte must be an offset too; a range that ends at
            // the largest one runs to the end, as one of length 0 does
            // (F_GETLK shows it so).
            at.checked_add(len - 1).ok_or(Errno::EOVERFLOW)?;
            let end = first + offset(len)?;
            Ok((first, if end > i64::MAX as u64 { TO_EOF } else { end }))
        }
        _ => {
            let end = offset(at)?;
            Ok((offset(at + len)?, end))
        }
    }
}

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
            F_GETLK | F_SETLK => match self.record_lock(env, pid, entry.ofd, cmd, arg)? {
                Locked::Done(v) => Ok(v),
                Locked::Wait(_) => unreachable!("only F_SETLKW waits"),
            },
            // Through sys::held, which can hold the call.
            F_SETLKW => Err(Errno::EINVAL),
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

    /// F_GETLK, F_SETLK and F_SETLKW (crate::locks). F_SETLKW's wait is
    /// [`Locked::Wait`]: the caller holds the call (sys::held).
    /// Deadlocks between waiting processes are not detected (Linux's
    /// EDEADLK); each waits until a signal ends its wait.
    pub(super) fn record_lock(&mut self, env: &mut dyn Env, pid: Pid, id: OfdId, cmd: u32, arg: u64) -> Result<Locked, Errno> {
        let mut raw = [0u8; FLOCK_SIZE];
        user::read_exact(env, arg, &mut raw)?;
        let field = |at: usize| i64::from_le_bytes(raw[at..at + 8].try_into().expect("8 bytes"));
        let kind = u16::from_le_bytes([raw[0], raw[1]]);
        let whence = u32::from(u16::from_le_bytes([raw[2], raw[3]]));
        let ofd = self.ofd(id);
        let ino = ofd.ino;
        let base = match whence {
            SEEK_SET => 0,
            SEEK_CUR => i64::try_from(ofd.offset).map_err(|_| Errno::EOVERFLOW)?,
            SEEK_END => self.fs.stat(ino).size,
            _ => return Err(Errno::EINVAL),
        };
        // The kind is checked before the range, as Linux does.
        let write = match kind {
            F_RDLCK => Some(false),
            F_WRLCK => Some(true),
            F_UNLCK => None,
            _ => return Err(Errno::EINVAL),
        };
        let (start, end) = lock_range(base, field(8), field(16))?;
        if cmd == F_GETLK {
            let write = write.ok_or(Errno::EINVAL)?;
            match self.locks.conflict(ino, pid, start, end, write) {
                None => raw[0..2].copy_from_slice(&F_UNLCK.to_le_bytes()),
                Some(held) => {
                    let kind = if held.write { F_WRLCK } else { F_RDLCK };
                    let len = if held.end == TO_EOF { 0 } else { held.end - held.start };
                    raw[0..2].copy_from_slice(&kind.to_le_bytes());
                    raw[2..4].copy_from_slice(&0u16.to_le_bytes());
                    raw[8..16].copy_from_slice(&i64::try_from(held.start).map_err(|_| Errno::EOVERFLOW)?.to_le_bytes());
                    raw[16..24].copy_from_slice(&i64::try_from(len).map_err(|_| Errno::EOVERFLOW)?.to_le_bytes());
                    raw[24..28].copy_from_slice(&i32::try_from(held.pid).unwrap_or(i32::MAX).to_le_bytes());
                }
            }
            return user::write_exact(env, arg, &raw).map(|()| Locked::Done(0));
        }
        match write {
            Some(false) if !ofd.readable() => return Err(Errno::EBADF),
            Some(true) if !ofd.writable() => return Err(Errno::EBADF),
            _ => {}
        }
        let wait = LockWait { ofd: id, fd: -1, ino, start, end, write: write == Some(true), generation: self.locks.generation() };
        match write {
            Some(w) if self.locks.conflict(ino, pid, start, end, w).is_some() => {
                if cmd == F_SETLKW {
                    Ok(Locked::Wait(wait))
                } else {
                    Err(Errno::EAGAIN)
                }
            }
            _ => {
                self.locks.set(ino, pid, start, end, write);
                Ok(Locked::Done(0))
            }
        }
    }

    /// A held F_SETLKW tried again: `Some(0)` once it has its lock.
    pub(super) fn lock_step(&mut self, pid: Pid, w: &mut LockWait) -> Option<u64> {
        w.generation = self.locks.generation();
        if self.locks.conflict(w.ino, pid, w.start, w.end, w.write).is_some() {
            return None;
        }
        // Another thread closed the descriptor while this one waited: no
        // descriptor would ever let the lock go.
        if self.proc(pid).fds.get(w.fd).map(|f| f.ofd) != Some(w.ofd) {
            return Some(Errno::EBADF.to_ret());
        }
        self.locks.set(w.ino, pid, w.start, w.end, Some(w.write));
        Some(0)
    }
}

/// flock(2)'s operations (sys/file.h).
const LOCK_SH: u32 = 1;
const LOCK_EX: u32 = 2;
const LOCK_NB: u32 = 4;
const LOCK_UN: u32 = 8;

/// A held flock: the lock it wants, and the generation of the flock
/// table it last saw.
pub(crate) struct FlockWait {
    /// Kept open while the call waits.
    pub(super) ofd: OfdId,
    ino: Ino,
    exclusive: bool,
    pub(super) generation: u64,
}

impl FileServer {
    /// flock(2) (crate::locks::Flocks). A lock that must wait comes back
    /// as Err(wait), for sys::held to hold; LOCK_NB makes it EWOULDBLOCK.
    pub(super) fn flock(&mut self, pid: Pid, fd: i32, op: u32) -> Result<Result<u64, FlockWait>, Errno> {
        let id = self.fd(pid, fd)?.ofd;
        let ofd = self.ofd(id);
        if ofd.is_path() {
            return Err(Errno::EBADF);
        }
        let ino = ofd.ino;
        let exclusive = match op & !LOCK_NB {
            LOCK_SH => false,
            LOCK_EX => true,
            LOCK_UN => {
                self.flocks.unset(ino, id);
                return Ok(Ok(0));
            }
            _ => return Err(Errno::EINVAL),
        };
        if self.flocks.held(ino, id) == Some(exclusive) {
            return Ok(Ok(0));
        }
        // A conversion gives the old lock up first, as Linux's does.
        self.flocks.unset(ino, id);
        if !self.flocks.conflict(ino, id, exclusive) {
            self.flocks.set(ino, id, exclusive);
            return Ok(Ok(0));
        }
        if op & LOCK_NB != 0 {
            return Err(Errno::EAGAIN);
        }
        Ok(Err(FlockWait { ofd: id, ino, exclusive, generation: self.flocks.generation() }))
    }

    /// A held flock tried again: `Some(0)` once it has its lock.
    pub(super) fn flock_step(&mut self, w: &mut FlockWait) -> Option<u64> {
        w.generation = self.flocks.generation();
        if self.flocks.conflict(w.ino, w.ofd, w.exclusive) {
            return None;
        }
        self.flocks.set(w.ino, w.ofd, w.exclusive);
        Some(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_ranges() {
        assert_eq!(lock_range(0, 10, 5), Ok((10, 15)));
        assert_eq!(lock_range(0, 10, 0), Ok((10, TO_EOF)));
        assert_eq!(lock_range(100, -10, -5), Ok((85, 90)));
        assert_eq!(lock_range(0, 3, -5), Err(Errno::EINVAL));
        assert_eq!(lock_range(0, -1, 5), Err(Errno::EINVAL));
        // Ending at the largest offset is "to the end", as length 0 is.
        assert_eq!(lock_range(0, 1, i64::MAX), Ok((1, TO_EOF)));
        assert_eq!(lock_range(0, 2, i64::MAX), Err(Errno::EOVERFLOW));
        assert_eq!(lock_range(i64::MAX, 1, 1), Err(Errno::EOVERFLOW));
    }
}
