//! vfork, and clone with CLONE_VFORK (posix_spawn): the calling thread
//! waits until the child execs or ends. With CLONE_VM too (vfork itself)
//! the child runs in the parent's address space, on the parent's stack or
//! the one clone names, so the parent sees what the child stored.
//!
//! While it borrows the space the child keeps its own record of the
//! mappings (a copy of the parent's); the parent takes that record back
//! when it goes on, so a mapping the child made or removed is seen by both,
//! as with Linux's one shared mm.

use super::*;
use proc_server::vm::Map;

/// A vfork child's tie to the thread that waits for it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Vfork {
    pub parent: u32,
    pub thread: ThreadId,
    /// The child runs in the parent's address space (CLONE_VM): it must
    /// not destroy it, and the parent takes back its mappings.
    pub borrowed: bool,
}

impl Procs {
    /// The reply to fork, vfork, clone or clone3: none yet for a vfork
    /// parent (its child answers it, see [`Procs::release_vfork`]).
    pub(crate) fn cloned(&self, r: Result<u64, Errno>) -> Outcome {
        match r {
            Ok(child) if u32::try_from(child).ok().and_then(|c| self.procs.get(&c)).is_some_and(|c| c.vfork.is_some()) => Outcome::NoReply,
            r => ret(r),
        }
    }

    /// Whether `pid` runs in an address space another process owns.
    pub(crate) fn borrows_space(&self, pid: u32) -> bool {
        self.procs.get(&pid).is_some_and(|p| p.vfork.is_some_and(|v| v.borrowed))
    }

    /// A vfork child execs or ends: the waiting parent thread goes on with
    /// the child's pid as its result. `memory` is the child's last record
    /// of the borrowed space (its map and program break), which the parent
    /// takes back.
    pub(crate) fn release_vfork(&mut self, child: u32, memory: Option<(Map, u64)>) {
        let Some(v) = self.procs.get_mut(&child).and_then(|c| c.vfork.take()) else { return };
        if let (true, Some((map, brk)), Some(p)) = (v.borrowed, memory, self.procs.get_mut(&v.parent)) {
            if p.ended.is_none() {
                p.map = map;
                p.brk = brk;
            }
        }
        let out = self.finish(v.parent, v.thread, Some(child as u64));
        reply_to(v.thread, out);
    }

    /// Process `pid`, which owns `space`, ends: a vfork child still
    /// running in that space becomes its owner (it frees it when it execs
    /// or ends). Returns whether it did, so the space is not destroyed now.
    pub(crate) fn hand_over_space(&mut self, pid: u32, space: Space) -> bool {
        let heir = self.procs.values_mut().find(|c| c.pid != pid && c.ended.is_none() && c.space == space && c.vfork.is_some_and(|v| v.borrowed));
        match heir {
            Some(c) => {
                if let Some(v) = c.vfork.as_mut() {
                    v.borrowed = false;
                }
                true
            }
            None => false,
        }
    }
}
