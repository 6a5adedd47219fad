//! POSIX record locks (fcntl F_GETLK, F_SETLK, F_SETLKW): for each file,
//! the byte ranges each process holds for reading or writing. As in Linux,
//! they belong to the process, not to a descriptor: a process's own locks
//! never stand in its way, a new one replaces whatever of its own it
//! overlaps and merges with those of the same kind it touches, fork passes
//! none on, and a process loses all its locks on a file when it closes any
//! descriptor of that file, or exits. Locks are advisory: only fcntl looks
//! at them. sqlite's locking (and so its safety with two processes on one
//! database) is built on exactly these rules.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::files::{OfdId, Pid};
use crate::tmpfs::Ino;

/// One process's lock on the bytes `start..end` of a file; `end` is
/// [`TO_EOF`] for a lock that runs to the end of the file however far it
/// grows (a length of 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lock {
    pub pid: Pid,
    pub start: u64,
    pub end: u64,
    pub write: bool,
}

/// The `end` of a lock with no end.
pub const TO_EOF: u64 = u64::MAX;

impl Lock {
    fn overlaps(&self, start: u64, end: u64) -> bool {
        self.start < end && start < self.end
    }
}

/// The locks of every file; a file's are ordered by start.
#[derive(Debug, Default)]
pub struct RecordLocks {
    files: BTreeMap<Ino, Vec<Lock>>,
    /// Bumped whenever a lock goes or shrinks, so that held F_SETLKW calls
    /// are tried again only then.
    released: u64,
}

impl RecordLocks {
    /// The first lock (by start) of another process that keeps `pid` from
    /// locking `start..end` of `ino` (for writing if `write`).
    pub fn conflict(&self, ino: Ino, pid: Pid, start: u64, end: u64, write: bool) -> Option<Lock> {
        self.files
            .get(&ino)?
            .iter()
            .find(|l| l.pid != pid && (write || l.write) && l.overlaps(start, end))
            .copied()
    }

    /// Sets `pid`'s lock on `start..end` of `ino` to `kind`: `Some(true)`
    /// write, `Some(false)` read, `None` unlocked. The caller has checked
    /// [`RecordLocks::conflict`].
    pub fn set(&mut self, ino: Ino, pid: Pid, start: u64, end: u64, kind: Option<bool>) {
        let locks = self.files.entry(ino).or_default();
        let mut kept = Vec::with_capacity(locks.len() + 2);
        let mut new = kind.map(|write| Lock { pid, start, end, write });
        let mut shrunk = false;
        for l in locks.drain(..) {
            if l.pid != pid {
                kept.push(l);
                continue;
            }
            match &mut new {
                // Of the same kind and touching: the two become one.
                Some(n) if n.write == l.write && l.start <= n.end && n.start <= l.end => {
                    n.start = n.start.min(l.start);
                    n.end = n.end.max(l.end);
                }
                _ if l.overlaps(start, end) => {
                    // What is left of it on either side.
                    if l.start < start {
                        kept.push(Lock { end: start, ..l });
                    }
                    if end < l.end {
                        kept.push(Lock { start: end, ..l });
                    }
                    shrunk = true;
                }
                _ => kept.push(l),
            }
        }
        kept.extend(new);
        kept.sort_by_key(|l| (l.start, l.pid));
        *locks = kept;
        if locks.is_empty() {
            self.files.remove(&ino);
        }
        if shrunk {
            self.released += 1;
        }
    }

    /// `pid` closed a descriptor of `ino`: all its locks on it go.
    pub fn release(&mut self, ino: Ino, pid: Pid) {
        if drop_locks(&mut self.files, ino, |l| l.pid == pid) {
            self.released += 1;
        }
    }

    /// Changes each time a lock goes or shrinks.
    pub fn generation(&self) -> u64 {
        self.released
    }

    /// The locks on `ino`, by start (for tests).
    pub fn on(&self, ino: Ino) -> &[Lock] {
        self.files.get(&ino).map_or(&[], Vec::as_slice)
    }
}

/// flock(2) locks: on a whole file, held by an open file description
/// (every descriptor dup or fork made of it shares the lock; another open
/// of the file does not), shared or exclusive, and gone when the last
/// descriptor of the description closes. They and the record locks above
/// ignore each other, as on Linux.
#[derive(Debug, Default)]
pub struct Flocks {
    /// Per file: (description, exclusive).
    files: BTreeMap<Ino, Vec<(OfdId, bool)>>,
    /// Bumped whenever a lock goes, so that held LOCK_EX/LOCK_SH calls
    /// are tried again only then.
    released: u64,
}

impl Flocks {
    /// Whether another description's lock on `ino` keeps `ofd` from
    /// taking one (`exclusive` or shared).
    pub fn conflict(&self, ino: Ino, ofd: OfdId, exclusive: bool) -> bool {
        self.files.get(&ino).is_some_and(|l| l.iter().any(|&(o, ex)| o != ofd && (ex || exclusive)))
    }

    /// The kind of lock `ofd` holds on `ino`: Some(exclusive), or None.
    pub fn held(&self, ino: Ino, ofd: OfdId) -> Option<bool> {
        self.files.get(&ino)?.iter().find(|&&(o, _)| o == ofd).map(|&(_, ex)| ex)
    }

    /// Gives `ofd` a lock on `ino` (the caller has checked
    /// [`Flocks::conflict`]), replacing the one it had.
    pub fn set(&mut self, ino: Ino, ofd: OfdId, exclusive: bool) {
        self.unset(ino, ofd);
        self.files.entry(ino).or_default().push((ofd, exclusive));
    }

    /// Takes away whatever lock `ofd` holds on `ino` (LOCK_UN, the last
    /// descriptor closed, or the first half of a conversion, which Linux
    /// does not make atomic either).
    pub fn unset(&mut self, ino: Ino, ofd: OfdId) {
        if drop_locks(&mut self.files, ino, |&(o, _)| o == ofd) {
            self.released += 1;
        }
    }

    /// Changes each time a lock goes.
    pub fn generation(&self) -> u64 {
        self.released
    }
}

/// Drops the locks on `ino` that `gone` picks, and the file's entry once
/// it holds none; whether any went.
fn drop_locks<T>(files: &mut BTreeMap<Ino, Vec<T>>, ino: Ino, gone: impl Fn(&T) -> bool) -> bool {
    let Some(locks) = files.get_mut(&ino) else { return false };
    let before = locks.len();
    locks.retain(|l| !gone(l));
    let dropped = locks.len() != before;
    if locks.is_empty() {
        files.remove(&ino);
    }
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: Ino = 7;

    #[test]
    fn flocks_belong_to_descriptions() {
        let (a, b): (OfdId, OfdId) = (1, 2);
        let mut t = Flocks::default();
        t.set(F, a, false);
        assert!(!t.conflict(F, b, false));
        assert!(t.conflict(F, b, true));
        // Its own lock is never in the way: converting is replacing.
        assert!(!t.conflict(F, a, true));
        t.set(F, a, true);
        assert_eq!(t.held(F, a), Some(true));
        assert!(t.conflict(F, b, false));
        let g = t.generation();
        t.unset(F, a);
        assert!(t.generation() > g);
        assert!(!t.conflict(F, b, true));
        assert_eq!(t.held(F, a), None);
    }

    fn lock(pid: Pid, start: u64, end: u64, write: bool) -> Lock {
        Lock { pid, start, end, write }
    }

    #[test]
    fn readers_share_writers_exclude() {
        let mut t = RecordLocks::default();
        t.set(F, 1, 10, 20, Some(false));
        assert_eq!(t.conflict(F, 2, 0, 100, false), None);
        assert_eq!(t.conflict(F, 2, 19, 20, true), Some(lock(1, 10, 20, false)));
        assert_eq!(t.conflict(F, 2, 20, 30, true), None);
        // Never in the way of its owner.
        assert_eq!(t.conflict(F, 1, 0, TO_EOF, true), None);
        t.set(F, 2, 30, TO_EOF, Some(true));
        assert_eq!(t.conflict(F, 1, 1 << 40, (1 << 40) + 1, false), Some(lock(2, 30, TO_EOF, true)));
    }

    #[test]
    fn touching_locks_of_a_kind_merge() {
        let mut t = RecordLocks::default();
        t.set(F, 1, 30, 40, Some(false));
        t.set(F, 1, 40, 50, Some(false));
        t.set(F, 1, 50, 60, Some(true));
        assert_eq!(t.on(F), [lock(1, 30, 50, false), lock(1, 50, 60, true)]);
    }

    #[test]
    fn unlocking_the_middle_splits() {
        let mut t = RecordLocks::default();
        t.set(F, 1, 10, 20, Some(true));
        let g = t.generation();
        t.set(F, 1, 12, 14, None);
        assert_eq!(t.on(F), [lock(1, 10, 12, true), lock(1, 14, 20, true)]);
        assert!(t.generation() > g);
    }

    #[test]
    fn a_new_kind_replaces_the_overlap() {
        let mut t = RecordLocks::default();
        t.set(F, 1, 0, 100, Some(false));
        t.set(F, 1, 40, 60, Some(true));
        assert_eq!(t.on(F), [lock(1, 0, 40, false), lock(1, 40, 60, true), lock(1, 60, 100, false)]);
        t.set(F, 1, 0, TO_EOF, Some(false));
        assert_eq!(t.on(F), [lock(1, 0, TO_EOF, false)]);
    }

    #[test]
    fn closing_drops_only_that_process_on_that_file() {
        let mut t = RecordLocks::default();
        t.set(F, 1, 0, 10, Some(true));
        t.set(F, 2, 10, 20, Some(true));
        t.set(F + 1, 1, 0, 10, Some(true));
        let g = t.generation();
        t.release(F, 1);
        assert_eq!(t.on(F), [lock(2, 10, 20, true)]);
        assert_eq!(t.on(F + 1), [lock(1, 0, 10, true)]);
        assert!(t.generation() > g);
        t.release(F, 2);
        assert!(t.files.get(&F).is_none());
    }
}
