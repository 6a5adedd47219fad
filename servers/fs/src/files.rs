//! Open file descriptions and the per-process state that refers to them:
//! descriptor tables, working directories and umasks, keyed by pid.
//!
//! As in Linux, a descriptor is a per-process number naming an open file
//! description, and descriptions are shared: by dup(2) within a process
//! and by fork(2) across processes. A description holds the offset and
//! the status flags; the close-on-exec flag belongs to the descriptor.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use lstar_abi::errno::Errno;

use crate::linux::{o, Termios, Winsize, NOFILE};
use crate::slab::Slab;
use crate::tmpfs::{Ino, Tmpfs, ROOT};

/// A process, named by the tag the process server gives its threads.
pub type Pid = u64;

/// An open file description's key in the server's table of them
/// (internal, never shown to programs).
pub type OfdId = crate::slab::Key;

/// An open file description.
#[derive(Debug)]
pub struct Ofd {
    pub ino: Ino,
    pub offset: u64,
    /// The access mode and status flags, as F_GETFL shows them.
    pub flags: u32,
    /// Of a FIFO's read end opened while it had no writer: how many times
    /// the write end had been opened then (else 0). poll reports the
    /// hang-up of a FIFO with no writer only once a writer came after
    /// that, as Linux does, so that a reader opened before any writer is
    /// not told "hung up" at once.
    pub writers_seen: u64,
    /// Descriptors naming it, in every process.
    refs: u32,
}

impl Ofd {
    /// Opened with O_PATH: a handle for *at() calls and fstat only.
    pub fn is_path(&self) -> bool {
        self.flags & o::PATH != 0
    }

    pub fn readable(&self) -> bool {
        !self.is_path() && matches!(self.flags & o::ACCMODE, o::RDONLY | o::RDWR)
    }

    pub fn writable(&self) -> bool {
        !self.is_path() && matches!(self.flags & o::ACCMODE, o::WRONLY | o::RDWR)
    }
}

/// One descriptor of a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fd {
    pub ofd: OfdId,
    pub cloexec: bool,
}

/// A process's descriptors, indexed by number as Linux's descriptor
/// table is: finding one, which every file call does, is an index. It is
/// as long as the highest descriptor open (so a program that dup2s to a
/// high number pays for a long table, as on Linux).
#[derive(Clone, Debug, Default)]
pub struct FdTable {
    /// Its last entry, if any, is `Some`.
    slots: Vec<Option<Fd>>,
}

impl FdTable {
    pub fn get(&self, fd: i32) -> Option<&Fd> {
        self.slots.get(usize::try_from(fd).ok()?)?.as_ref()
    }

    pub fn get_mut(&mut self, fd: i32) -> Option<&mut Fd> {
        self.slots.get_mut(usize::try_from(fd).ok()?)?.as_mut()
    }

    /// Makes `fd` (not negative) name `entry`; returns what it named.
    pub fn insert(&mut self, fd: i32, entry: Fd) -> Option<Fd> {
        let i = usize::try_from(fd).expect("descriptors are not negative");
        if i >= self.slots.len() {
            self.slots.resize(i + 1, None);
        }
        self.slots[i].replace(entry)
    }

    pub fn remove(&mut self, fd: i32) -> Option<Fd> {
        let old = self.slots.get_mut(usize::try_from(fd).ok()?)?.take();
        while self.slots.last().is_some_and(Option::is_none) {
            self.slots.pop();
        }
        old
    }

    /// The open descriptors, lowest first.
    pub fn iter(&self) -> impl Iterator<Item = (i32, &Fd)> + '_ {
        self.slots.iter().enumerate().filter_map(|(i, e)| Some((i32::try_from(i).expect("descriptors fit an i32"), e.as_ref()?)))
    }

    /// The highest open descriptor.
    pub fn highest(&self) -> Option<i32> {
        self.slots.len().checked_sub(1).map(|i| i32::try_from(i).expect("descriptors fit an i32"))
    }

    /// The lowest descriptor at or above `min` (not negative) that is free.
    fn first_free(&self, min: i32) -> i32 {
        let start = usize::try_from(min).expect("not negative");
        match self.slots.iter().skip(start).position(Option::is_none) {
            Some(i) => min + i32::try_from(i).expect("descriptors fit an i32"),
            None => min.max(i32::try_from(self.slots.len()).expect("descriptors fit an i32")),
        }
    }
}

/// What the file server knows of a process.
#[derive(Debug)]
pub struct Proc {
    pub fds: FdTable,
    /// Held in the tmpfs, like an open file.
    pub cwd: Ino,
    /// The directory absolute paths start from (chroot(2)); held too.
    pub root: Ino,
    pub umask: u32,
    /// RLIMIT_NOFILE's soft limit: descriptors are below it. The process
    /// server owns the limit and tells this server when it changes.
    pub nofile: u32,
}

impl Proc {
    /// Whether `fd` may be a descriptor under the limit (dup2's target).
    pub fn fd_allowed(&self, fd: i32) -> bool {
        u32::try_from(fd).is_ok_and(|fd| fd < self.nofile)
    }

    /// The lowest free descriptor not below `min`; `EMFILE` when all up
    /// to the limit are taken.
    pub fn free_fd(&self, min: i32) -> Result<i32, Errno> {
        let want = self.fds.first_free(min);
        if !self.fd_allowed(want) {
            return Err(Errno::EMFILE);
        }
        Ok(want)
    }
}

/// The console's terminal settings, shared by every open of it.
#[derive(Debug)]
pub struct Console {
    pub termios: Termios,
    pub winsize: Winsize,
}

/// Everything the file server holds.
pub struct FileServer {
    pub fs: Tmpfs,
    pub(crate) ofds: Slab<Ofd>,
    pub(crate) procs: BTreeMap<Pid, Proc>,
    pub(crate) console: Console,
    pub(crate) pipes: crate::pipe::Pipes,
    /// Calls held until they can finish (crate::sys::held).
    pub(crate) waits: crate::sys::Waits,
    /// What /proc knows beyond the tables here (crate::procfs).
    pub(crate) procfs: crate::procfs::ProcFs,
    /// The clock as the call being handled first read it (sys::now).
    pub(crate) call_time: Option<crate::linux::Timespec>,
    /// fcntl's record locks (crate::locks).
    pub(crate) locks: crate::locks::RecordLocks,
    /// flock's locks (crate::locks).
    pub(crate) flocks: crate::locks::Flocks,
}

impl FileServer {
    pub fn new(fs: Tmpfs) -> FileServer {
        FileServer {
            fs,
            ofds: Slab::new(),
            procs: BTreeMap::new(),
            console: Console { termios: Termios::console(), winsize: Winsize([24, 80, 0, 0]) },
            pipes: Default::default(),
            waits: Default::default(),
            procfs: Default::default(),
            call_time: None,
            locks: Default::default(),
            flocks: Default::default(),
        }
    }

    /// The process `pid`. One seen for the first time starts at the root
    /// with umask 022 and descriptors 0, 1 and 2 on one open description
    /// of /dev/console, read-write.
    pub fn proc(&mut self, pid: Pid) -> &mut Proc {
        if !self.procs.contains_key(&pid) {
            self.fs.hold(ROOT);
            self.fs.hold(ROOT);
            let mut fds = FdTable::default();
            if let Some(console) = self.fs.walk_plain("dev/console") {
                let ofd = self.open_ofd(console, o::RDWR | o::LARGEFILE);
                for fd in 0..3 {
                    fds.insert(fd, Fd { ofd, cloexec: false });
                }
                self.ofd_mut(ofd).refs = 3;
            }
            self.procs.insert(pid, Proc { fds, cwd: ROOT, root: ROOT, umask: 0o022, nofile: NOFILE });
        }
        self.procs.get_mut(&pid).expect("inserted above")
    }

    /// Whether the file server has state for `pid`.
    pub fn knows(&self, pid: Pid) -> bool {
        self.procs.contains_key(&pid)
    }

    /// A new open file description of `ino`, named by no descriptor yet.
    pub(crate) fn open_ofd(&mut self, ino: Ino, flags: u32) -> OfdId {
        self.fs.hold(ino);
        self.ofds.insert(Ofd { ino, offset: 0, flags, writers_seen: 0, refs: 0 })
    }

    pub(crate) fn ofd(&self, id: OfdId) -> &Ofd {
        self.ofds.get(id).expect("a descriptor names a live description")
    }

    pub(crate) fn ofd_mut(&mut self, id: OfdId) -> &mut Ofd {
        self.ofds.get_mut(id).expect("a descriptor names a live description")
    }

    /// The descriptor `fd` of `pid`, or `EBADF`.
    pub(crate) fn fd(&mut self, pid: Pid, fd: i32) -> Result<Fd, Errno> {
        self.proc(pid).fds.get(fd).copied().ok_or(Errno::EBADF)
    }

    /// The description behind `fd`, of any kind (O_PATH included).
    pub(crate) fn any_ofd(&mut self, pid: Pid, fd: i32) -> Result<OfdId, Errno> {
        Ok(self.fd(pid, fd)?.ofd)
    }

    /// The description behind `fd` for calls that use the file itself:
    /// not an O_PATH handle (`EBADF`, as Linux's fdget).
    pub(crate) fn io_ofd(&mut self, pid: Pid, fd: i32) -> Result<OfdId, Errno> {
        let id = self.any_ofd(pid, fd)?;
        if self.ofd(id).is_path() {
            return Err(Errno::EBADF);
        }
        Ok(id)
    }

    /// Makes `fd` of `pid` name description `ofd`, closing what it named.
    pub(crate) fn install(&mut self, pid: Pid, fd: i32, ofd: OfdId, cloexec: bool) {
        self.ofd_mut(ofd).refs += 1;
        if let Some(old) = self.proc(pid).fds.insert(fd, Fd { ofd, cloexec }) {
            self.fd_closed(pid, old.ofd);
        }
    }

    /// Installs a new description at the lowest free descriptor, or drops
    /// it and fails with `EMFILE`.
    pub(crate) fn install_lowest(&mut self, pid: Pid, ofd: OfdId, cloexec: bool) -> Result<i32, Errno> {
        match self.proc(pid).free_fd(0) {
            Ok(fd) => {
                self.install(pid, fd, ofd, cloexec);
                Ok(fd)
            }
            Err(e) => {
                self.drop_unused_ofd(ofd);
                Err(e)
            }
        }
    }

    /// Frees a description no descriptor names yet.
    fn drop_unused_ofd(&mut self, id: OfdId) {
        if self.ofd(id).refs == 0 {
            let ofd = self.ofds.remove(id).expect("live");
            // A FIFO's end counted as open when the description was made.
            self.ofd_closed(&ofd);
            self.fs.release(ofd.ino);
        }
    }

    /// One descriptor less names `id`; the last one frees it.
    pub(crate) fn put_ofd(&mut self, id: OfdId) {
        let ofd = self.ofd_mut(id);
        ofd.refs -= 1;
        if ofd.refs == 0 {
            let ofd = self.ofds.remove(id).expect("live");
            // Its last descriptor is gone, and with it its flock lock.
            self.flocks.unset(ofd.ino, id);
            self.ofd_closed(&ofd);
            self.fs.release(ofd.ino);
        }
    }

    /// A reference to `id` that is no descriptor: a call held on it keeps
    /// it open, as a Linux syscall holds its file, until put_ofd.
    pub(crate) fn ref_ofd(&mut self, id: OfdId) {
        self.ofd_mut(id).refs += 1;
    }

    /// close(2) of one descriptor.
    pub(crate) fn close_fd(&mut self, pid: Pid, fd: i32) -> Result<(), Errno> {
        let entry = self.proc(pid).fds.remove(fd).ok_or(Errno::EBADF)?;
        self.fd_closed(pid, entry.ofd);
        Ok(())
    }

    /// A descriptor of `pid` naming `id` is gone: the process loses its
    /// record locks on the file (as POSIX has it, whichever descriptor held
    /// them), and the description one reference.
    fn fd_closed(&mut self, pid: Pid, id: OfdId) {
        self.locks.release(self.ofd(id).ino, pid);
        self.put_ofd(id);
    }

    /// Changes the working directory of `pid`.
    pub(crate) fn set_cwd(&mut self, pid: Pid, dir: Ino) {
        self.fs.hold(dir);
        let old = core::mem::replace(&mut self.proc(pid).cwd, dir);
        self.fs.release(old);
    }

    /// Changes the root directory of `pid` (chroot(2)).
    pub(crate) fn set_root(&mut self, pid: Pid, dir: Ino) {
        self.fs.hold(dir);
        let old = core::mem::replace(&mut self.proc(pid).root, dir);
        self.fs.release(old);
    }

    /// fork(2): `child` gets `parent`'s descriptors (sharing their open
    /// descriptions), working and root directories, umask and descriptor
    /// limit.
    pub fn fork(&mut self, parent: Pid, child: Pid) {
        if self.procs.contains_key(&child) {
            self.exit(child);
        }
        let p = self.proc(parent);
        let (fds, cwd, root, umask, nofile) = (p.fds.clone(), p.cwd, p.root, p.umask, p.nofile);
        for (_, fd) in fds.iter() {
            self.ofd_mut(fd.ofd).refs += 1;
        }
        self.fs.hold(cwd);
        self.fs.hold(root);
        self.procs.insert(child, Proc { fds, cwd, root, umask, nofile });
    }

    /// The end of a process: every descriptor closed, the process
    /// forgotten.
    pub fn exit(&mut self, pid: Pid) {
        let Some(p) = self.procs.remove(&pid) else { return };
        for (_, fd) in p.fds.iter() {
            self.fd_closed(pid, fd.ofd);
        }
        self.fs.release(p.cwd);
        self.fs.release(p.root);
    }

    /// execve(2): descriptors marked close-on-exec are closed.
    pub fn exec(&mut self, pid: Pid) {
        let doomed: Vec<i32> = self.proc(pid).fds.iter().filter(|(_, f)| f.cloexec).map(|(fd, _)| fd).collect();
        for fd in doomed {
            let _ = self.close_fd(pid, fd);
        }
    }

    /// Open file descriptions alive (for tests).
    pub fn open_descriptions(&self) -> usize {
        self.ofds.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> FileServer {
        let mut fs = Tmpfs::new();
        fs.add_standard();
        FileServer::new(fs)
    }

    #[test]
    fn new_process_has_console_fds() {
        let mut s = server();
        let p = s.proc(7);
        assert_eq!(p.fds.iter().map(|(fd, _)| fd).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!((p.cwd, p.umask), (ROOT, 0o022));
        let ofd = p.fds.get(0).unwrap().ofd;
        assert_eq!(p.fds.get(1).unwrap().ofd, ofd, "one shared description");
        assert_eq!(s.ofd(ofd).flags & o::ACCMODE, o::RDWR);
        assert_eq!(s.ofd(ofd).refs, 3);
    }

    #[test]
    fn lowest_free_fd() {
        let mut s = server();
        let p = s.proc(1);
        assert_eq!(p.free_fd(0), Ok(3));
        assert_eq!(p.free_fd(1), Ok(3));
        assert_eq!(p.free_fd(10), Ok(10));
        assert_eq!(p.free_fd(NOFILE as i32), Err(Errno::EMFILE));
        p.nofile = 4;
        assert_eq!(p.free_fd(0), Ok(3));
        assert_eq!(p.free_fd(4), Err(Errno::EMFILE));
        assert!(p.fd_allowed(3) && !p.fd_allowed(4) && !p.fd_allowed(-1));
        p.nofile = NOFILE;
        s.close_fd(1, 1).unwrap();
        assert_eq!(s.proc(1).free_fd(0), Ok(1));
        assert_eq!(s.close_fd(1, 1), Err(Errno::EBADF));
    }

    #[test]
    fn fd_table_by_number() {
        let mut t = FdTable::default();
        let e = |ofd| Fd { ofd, cloexec: false };
        assert_eq!((t.highest(), t.first_free(0)), (None, 0));
        assert_eq!(t.insert(5, e(1)), None);
        assert_eq!(t.insert(5, e(2)), Some(e(1)));
        t.insert(0, e(3));
        assert_eq!(t.iter().map(|(fd, f)| (fd, f.ofd)).collect::<Vec<_>>(), [(0, 3), (5, 2)]);
        assert_eq!((t.highest(), t.first_free(0), t.first_free(5), t.first_free(9)), (Some(5), 1, 6, 9));
        assert_eq!((t.get(-1), t.get(4), t.get(6)), (None, None, None));
        assert_eq!(t.remove(5), Some(e(2)));
        assert_eq!(t.highest(), Some(0), "the table shrinks to its highest descriptor");
        assert_eq!(t.remove(5), None);
        assert_eq!(t.remove(-3), None);
    }

    #[test]
    fn fork_shares_and_exit_frees() {
        let mut s = server();
        s.proc(1);
        s.fork(1, 2);
        let ofd = s.proc(2).fds.get(0).unwrap().ofd;
        assert_eq!(s.ofd(ofd).refs, 6);
        s.exit(1);
        assert_eq!(s.ofd(ofd).refs, 3);
        s.exit(2);
        assert_eq!(s.open_descriptions(), 0);
        assert!(!s.knows(2));
    }

    #[test]
    fn exec_closes_cloexec() {
        let mut s = server();
        let ofd = s.any_ofd(1, 1).unwrap();
        s.install(1, 5, ofd, true);
        s.install(1, 6, ofd, false);
        s.exec(1);
        let fds: Vec<i32> = s.proc(1).fds.iter().map(|(fd, _)| fd).collect();
        assert_eq!(fds, [0, 1, 2, 6]);
    }
}
