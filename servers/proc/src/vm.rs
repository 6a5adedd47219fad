//! A process's memory map as the process server keeps it: which ranges are
//! mapped, with what rights. The kernel holds the page tables; this is the
//! record that mmap, munmap, mprotect, mremap and madvise reason about
//! (placement, splitting, what "not mapped" means for ENOMEM).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

pub const PAGE: u64 = 4096;

/// One mapped range `[start, end)`, page-aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vma {
    pub start: u64,
    pub end: u64,
    /// Linux PROT_* bits.
    pub prot: u64,
    /// MAP_SHARED memory (anonymous, /dev/zero or a file's pages): its
    /// frames stay shared with the process's forks.
    pub shared: bool,
    /// Whether mprotect may add PROT_WRITE: not for a shared mapping of a
    /// file not open for writing (Linux's VM_MAYWRITE).
    pub may_write: bool,
}

/// The ranges of one address space, without overlaps.
#[derive(Clone, Debug, Default)]
pub struct Map {
    vmas: BTreeMap<u64, Vma>,
}

impl Map {
    pub fn iter(&self) -> impl Iterator<Item = &Vma> {
        self.vmas.values()
    }

    /// Records private `[start, end)` with `prot`, replacing whatever was
    /// there.
    pub fn insert(&mut self, start: u64, end: u64, prot: u64) {
        self.insert_vma(Vma { start, end, prot, shared: false, may_write: true });
    }

    /// Records `v`, replacing whatever was in its range.
    pub fn insert_vma(&mut self, v: Vma) {
        self.remove(v.start, v.end);
        self.vmas.insert(v.start, v);
    }

    /// Forgets `[start, end)`, splitting ranges that straddle it. Returns
    /// the pieces that were mapped (what the page tables must drop).
    pub fn remove(&mut self, start: u64, end: u64) -> Vec<(u64, u64)> {
        let hit: Vec<Vma> = self.vmas.values().filter(|v| v.start < end && v.end > start).copied().collect();
        let mut removed = Vec::new();
        for v in hit {
            self.vmas.remove(&v.start);
            if v.start < start {
                self.vmas.insert(v.start, Vma { end: start, ..v });
            }
            if v.end > end {
                self.vmas.insert(end, Vma { start: end, ..v });
            }
            removed.push((v.start.max(start), v.end.min(end)));
        }
        removed
    }

    /// Whether every page of `[start, end)` is mapped.
    pub fn covers(&self, start: u64, end: u64) -> bool {
        let mut at = start;
        for v in self.vmas.values().filter(|v| v.end > start && v.start < end) {
            if v.start > at {
                return false;
            }
            at = at.max(v.end);
        }
        at >= end
    }

    /// Changes the rights of `[start, end)`, which must be wholly mapped
    /// (each piece keeps its other attributes).
    pub fn protect(&mut self, start: u64, end: u64, prot: u64) -> bool {
        if !self.covers(start, end) {
            return false;
        }
        let pieces: Vec<Vma> = self.vmas.values().filter(|v| v.start < end && v.end > start).copied().collect();
        self.remove(start, end);
        for v in pieces {
            let (s, e) = (v.start.max(start), v.end.min(end));
            self.vmas.insert(s, Vma { start: s, end: e, prot, ..v });
        }
        true
    }

    /// Whether some page of `[start, end)` may not be made writable.
    pub fn denies_write(&self, start: u64, end: u64) -> bool {
        self.vmas.values().any(|v| v.start < end && v.end > start && !v.may_write)
    }

    /// The range holding `addr`.
    pub fn find(&self, addr: u64) -> Option<&Vma> {
        self.vmas.range(..=addr).next_back().map(|(_, v)| v).filter(|v| addr < v.end)
    }

    /// The highest free gap of `len` bytes within `[low, high)`.
    pub fn free_below(&self, len: u64, low: u64, high: u64) -> Option<u64> {
        let mut top = high;
        for v in self.vmas.values().rev() {
            if v.start >= top {
                continue;
            }
            if v.end <= top && top - v.end.max(low) >= len && top >= low + len {
                return Some(top - len);
            }
            top = top.min(v.start);
            if top < low + len {
                return None;
            }
        }
        (top >= low + len).then_some(top - len)
    }

    /// Whether `[start, end)` is wholly free.
    pub fn is_free(&self, start: u64, end: u64) -> bool {
        !self.vmas.values().any(|v| v.start < end && v.end > start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_splits() {
        let mut m = Map::default();
        m.insert(0x1000, 0x5000, 3);
        assert_eq!(m.remove(0x2000, 0x3000), [(0x2000, 0x3000)]);
        let v: Vec<_> = m.iter().copied().collect();
        assert_eq!(v, [Vma { start: 0x1000, end: 0x2000, prot: 3, shared: false, may_write: true }, Vma { start: 0x3000, end: 0x5000, prot: 3, shared: false, may_write: true }]);
        assert!(!m.covers(0x1000, 0x5000));
        assert!(m.covers(0x3000, 0x5000));
    }

    #[test]
    fn protect_needs_full_cover() {
        let mut m = Map::default();
        m.insert(0x1000, 0x3000, 3);
        assert!(!m.protect(0x1000, 0x4000, 1));
        assert!(m.protect(0x2000, 0x3000, 1));
        assert_eq!(m.find(0x2000).unwrap().prot, 1);
        assert_eq!(m.find(0x1000).unwrap().prot, 3);
        assert!(m.find(0x3000).is_none());
    }

    #[test]
    fn protect_keeps_sharing() {
        let mut m = Map::default();
        m.insert(0x1000, 0x2000, 3);
        m.insert_vma(Vma { start: 0x2000, end: 0x4000, prot: 3, shared: true, may_write: true });
        assert!(m.protect(0x1000, 0x3000, 1));
        let v: Vec<_> = m.iter().copied().collect();
        assert_eq!(
            v,
            [
                Vma { start: 0x1000, end: 0x2000, prot: 1, shared: false, may_write: true },
                Vma { start: 0x2000, end: 0x3000, prot: 1, shared: true, may_write: true },
                Vma { start: 0x3000, end: 0x4000, prot: 3, shared: true, may_write: true },
            ]
        );
    }

    #[test]
    fn free_gaps_top_down() {
        let mut m = Map::default();
        m.insert(0x9000, 0x10000, 3);
        assert_eq!(m.free_below(0x1000, 0x1000, 0x10000), Some(0x8000));
        m.insert(0x5000, 0x9000, 3);
        assert_eq!(m.free_below(0x2000, 0x1000, 0x10000), Some(0x3000));
        assert_eq!(m.free_below(0x5000, 0x1000, 0x10000), None);
        assert!(m.is_free(0x1000, 0x5000));
        assert!(!m.is_free(0x4000, 0x6000));
    }
}
