//! Calls about a file's attributes: the stat family, access, chmod,
//! chown, umask and truncate.

use lstar_abi::errno::Errno;

use crate::files::{FileServer, Pid};
use crate::linux::mode::{EXEC_ANY, PERMS, S_ISGID, S_ISUID, S_IXGRP};
use crate::linux::{Timespec, AT_EACCESS, AT_EMPTY_PATH, AT_NO_AUTOMOUNT, AT_STATX_SYNC_TYPE, AT_SYMLINK_NOFOLLOW, MAX_OFFSET, R_OK, STATX_RESERVED, W_OK, X_OK};
use crate::tmpfs::{touch, Ino};
use crate::user::{self, Env};

impl FileServer {
    pub(super) fn fstat(&mut self, env: &mut dyn Env, pid: Pid, fd: i32, buf: u64) -> Result<u64, Errno> {
        let id = self.any_ofd(pid, fd)?;
        let st = self.fs.stat(self.ofd(id).ino);
        user::write_exact(env, buf, &st.to_bytes()).map(|()| 0)
    }

    pub(super) fn fstatat(&mut self, env: &mut dyn Env, pid: Pid, dirfd: i32, addr: u64, buf: u64, flags: u32) -> Result<u64, Errno> {
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT) != 0 {
            return Err(Errno::EINVAL);
        }
        let empty_ok = flags & AT_EMPTY_PATH != 0;
        // Since Linux 6.11 a NULL path with AT_EMPTY_PATH means "".
        let ino = if empty_ok && addr == 0 {
            self.empty_path(pid, dirfd)?
        } else {
            self.lookup_at(env, pid, dirfd, addr, flags & AT_SYMLINK_NOFOLLOW == 0, empty_ok)?
        };
        let st = self.fs.stat(ino);
        user::write_exact(env, buf, &st.to_bytes()).map(|()| 0)
    }

    /// statx(2): the stat family's lookup rules, the basic fields in
    /// `struct statx`. Every mask but the reserved bit is accepted (what
    /// was filled is in `stx_mask`, as on Linux).
    #[allow(clippy::too_many_arguments)] // statx's own five, plus the caller
    pub(super) fn statx(&mut self, env: &mut dyn Env, pid: Pid, dirfd: i32, addr: u64, flags: u32, mask: u32, buf: u64) -> Result<u64, Errno> {
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE) != 0
            || flags & AT_STATX_SYNC_TYPE == AT_STATX_SYNC_TYPE
            || mask & STATX_RESERVED != 0
        {
            return Err(Errno::EINVAL);
        }
        let empty_ok = flags & AT_EMPTY_PATH != 0;
        let ino = if empty_ok && addr == 0 {
            self.empty_path(pid, dirfd)?
        } else {
            self.lookup_at(env, pid, dirfd, addr, flags & AT_SYMLINK_NOFOLLOW == 0, empty_ok)?
        };
        let st = self.fs.stat(ino);
        user::write_exact(env, buf, &st.to_statx_bytes()).map(|()| 0)
    }

    /// access(2) and faccessat(2). Every process is root: reading and
    /// writing are always allowed, executing needs an execute bit on
    /// anything but a directory.
    pub(super) fn faccessat(&mut self, env: &mut dyn Env, pid: Pid, dirfd: i32, addr: u64, mode: u32, flags: u32) -> Result<u64, Errno> {
        if mode & !(R_OK | W_OK | X_OK) != 0 || flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(Errno::EINVAL);
        }
        let ino = self.lookup_at(env, pid, dirfd, addr, flags & AT_SYMLINK_NOFOLLOW == 0, flags & AT_EMPTY_PATH != 0)?;
        let inode = self.fs.inode(ino);
        if mode & X_OK != 0 && !inode.is_dir() && inode.mode & EXEC_ANY == 0 {
            return Err(Errno::EACCES);
        }
        Ok(0)
    }

    /// The fchmodat syscall has no flags argument (symbolic links are
    /// always followed).
    pub(super) fn fchmodat(&mut self, env: &mut dyn Env, pid: Pid, dirfd: i32, addr: u64, mode: u32) -> Result<u64, Errno> {
        let ino = self.lookup_at(env, pid, dirfd, addr, true, false)?;
        self.chmod(ino, mode)
    }

    pub(super) fn fchmod(&mut self, pid: Pid, fd: i32, mode: u32) -> Result<u64, Errno> {
        let id = self.io_ofd(pid, fd)?;
        self.chmod(self.ofd(id).ino, mode)
    }

    fn chmod(&mut self, ino: Ino, mode: u32) -> Result<u64, Errno> {
        let inode = self.fs.inode_mut(ino);
        if inode.proc {
            return Err(Errno::EPERM);
        }
        inode.mode = (inode.mode & !PERMS) | (mode & PERMS);
        self.fs.touch(ino, touch::CTIME);
        Ok(0)
    }

    #[allow(clippy::too_many_arguments)] // fchownat's own five, plus the caller
    pub(super) fn fchownat(&mut self, env: &mut dyn Env, pid: Pid, dirfd: i32, addr: u64, uid: u32, gid: u32, flags: u32) -> Result<u64, Errno> {
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(Errno::EINVAL);
        }
        let ino = self.lookup_at(env, pid, dirfd, addr, flags & AT_SYMLINK_NOFOLLOW == 0, flags & AT_EMPTY_PATH != 0)?;
        self.chown(ino, uid, gid)
    }

    pub(super) fn fchown(&mut self, pid: Pid, fd: i32, uid: u32, gid: u32) -> Result<u64, Errno> {
        let id = self.io_ofd(pid, fd)?;
        self.chown(self.ofd(id).ino, uid, gid)
    }

    /// chown(2) as root: -1 leaves an id as it is. Any chown of a
    /// non-directory, even one to (-1, -1) that changes no id, clears
    /// set-user-ID, and set-group-ID when group execute is set (without
    /// it the bit means mandatory locking and stays), as Linux does.
    fn chown(&mut self, ino: Ino, uid: u32, gid: u32) -> Result<u64, Errno> {
        const UNCHANGED: u32 = u32::MAX;
        let inode = self.fs.inode_mut(ino);
        if inode.proc {
            // /proc's files take no new owner; a chown that asks for
            // none changes nothing there.
            return if uid == UNCHANGED && gid == UNCHANGED { Ok(0) } else { Err(Errno::EPERM) };
        }
        if uid != UNCHANGED {
            inode.uid = uid;
        }
        if gid != UNCHANGED {
            inode.gid = gid;
        }
        if !inode.is_dir() && !inode.is_symlink() {
            inode.mode &= !S_ISUID;
            if inode.mode & S_IXGRP != 0 {
                inode.mode &= !S_ISGID;
            }
        }
        self.fs.touch(ino, touch::CTIME);
        Ok(0)
    }

    /// utimensat(2), and futimens as musl makes it (a NULL path): sets
    /// atime and mtime to the times given, or to now for `UTIME_NOW` or a
    /// NULL `times`, or leaves one as it is for `UTIME_OMIT`; ctime moves
    /// to now unless both are omitted, when nothing changes at all.
    pub(super) fn utimensat(&mut self, env: &mut dyn Env, pid: Pid, dirfd: i32, addr: u64, times: u64, flags: u32) -> Result<u64, Errno> {
        // Linux's order: the times are copied in and checked before the
        // flags, and the file is found last.
        let set = match times {
            0 => [TimeSet::Now, TimeSet::Now],
            _ => {
                let mut raw = [0u8; 32];
                user::read_exact(env, times, &mut raw)?;
                [TimeSet::parse(&raw[..16])?, TimeSet::parse(&raw[16..])?]
            }
        };
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(Errno::EINVAL);
        }
        let ino = if addr == 0 {
            // futimens(fd): the file dirfd names, which takes no flags.
            if dirfd == crate::linux::AT_FDCWD {
                return Err(Errno::EFAULT);
            }
            if flags != 0 {
                return Err(Errno::EINVAL);
            }
            let id = self.io_ofd(pid, dirfd)?;
            self.ofd(id).ino
        } else {
            self.lookup_at(env, pid, dirfd, addr, flags & AT_SYMLINK_NOFOLLOW == 0, flags & AT_EMPTY_PATH != 0)?
        };
        if set == [TimeSet::Omit, TimeSet::Omit] || self.fs.inode(ino).proc {
            return Ok(0);
        }
        let now = if set.contains(&TimeSet::Now) { Some(self.now(env)) } else { None };
        let pick = |s: TimeSet, old: Timespec| match s {
            TimeSet::To(t) => t,
            TimeSet::Now => now.expect("read above"),
            TimeSet::Omit => old,
        };
        let inode = self.fs.inode_mut(ino);
        inode.atime = pick(set[0], inode.atime);
        inode.mtime = pick(set[1], inode.mtime);
        self.fs.touch(ino, touch::CTIME);
        Ok(0)
    }

    /// umask(2): the old mask.
    pub(super) fn umask(&mut self, pid: Pid, mask: u32) -> u64 {
        let p = self.proc(pid);
        core::mem::replace(&mut p.umask, mask & 0o777).into()
    }

    pub(super) fn truncate(&mut self, env: &mut dyn Env, pid: Pid, addr: u64, len: i64) -> Result<u64, Errno> {
        let ino = self.lookup_at(env, pid, crate::linux::AT_FDCWD, addr, true, false)?;
        let len = u64::try_from(len).map_err(|_| Errno::EINVAL)?;
        let inode = self.fs.inode(ino);
        if inode.is_dir() {
            return Err(Errno::EISDIR);
        }
        if !inode.is_regular() {
            return Err(Errno::EINVAL);
        }
        // tmpfs moves the times only when the size changes.
        let old = self.fs.stat(ino).size;
        self.resize(ino, len)?;
        if old as u64 != len {
            self.fs.touch(ino, touch::MTIME | touch::CTIME);
        }
        Ok(0)
    }

    pub(super) fn ftruncate(&mut self, pid: Pid, fd: i32, len: i64) -> Result<u64, Errno> {
        let len = u64::try_from(len).map_err(|_| Errno::EINVAL)?;
        let id = self.io_ofd(pid, fd)?;
        let ofd = self.ofd(id);
        if !self.fs.inode(ofd.ino).is_regular() || !ofd.writable() {
            return Err(Errno::EINVAL);
        }
        // ftruncate moves them even to the same size.
        let ino = ofd.ino;
        self.resize(ino, len)?;
        self.fs.touch(ino, touch::MTIME | touch::CTIME);
        Ok(0)
    }

    fn resize(&mut self, ino: Ino, len: u64) -> Result<u64, Errno> {
        if len > MAX_OFFSET {
            return Err(Errno::EFBIG);
        }
        let len = usize::try_from(len).map_err(|_| Errno::EFBIG)?;
        self.fs.resize_file(ino, len)?;
        Ok(0)
    }
}

/// One of utimensat's two times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TimeSet {
    To(Timespec),
    /// UTIME_NOW.
    Now,
    /// UTIME_OMIT: left as it is.
    Omit,
}

impl TimeSet {
    /// A `struct timespec` (16 bytes): `EINVAL` for nanoseconds out of
    /// range that are neither special value (whose seconds are ignored).
    fn parse(ts: &[u8]) -> Result<TimeSet, Errno> {
        const UTIME_NOW: i64 = (1 << 30) - 1;
        const UTIME_OMIT: i64 = (1 << 30) - 2;
        let sec = i64::from_le_bytes(ts[..8].try_into().expect("8 bytes"));
        let nsec = i64::from_le_bytes(ts[8..16].try_into().expect("8 bytes"));
        match nsec {
            UTIME_NOW => Ok(TimeSet::Now),
            UTIME_OMIT => Ok(TimeSet::Omit),
            0..=999_999_999 => Ok(TimeSet::To(Timespec { sec, nsec: nsec as u32 })),
            _ => Err(Errno::EINVAL),
        }
    }
}
