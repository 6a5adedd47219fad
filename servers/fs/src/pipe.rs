//! Pipes: the buffer between a pipe's write end and its read end, and the
//! count of open descriptions of each end. Pure data; the syscalls that
//! move bytes through a pipe, and wait on one, are in `sys::pipe`.
//!
//! The buffer is kept the way pipe(7) lets a program observe it on Linux:
//! a ring of [`SLOTS`] page-sized slots (64 KiB). A write fills fresh
//! slots, except that a write's last partial page may first be appended
//! to the newest slot when it fits there; a slot is freed only once it has
//! been read to the end. So a write of at most [`PIPE_BUF`] bytes lands in
//! one slot or not at all (it is atomic), a pipe is writable (POLLOUT)
//! while a slot is free, and filling a pipe with writes of any one size
//! stops where Linux stops.
//!
//! Each slot is a page of the file server's heap. The syscalls take it
//! from the budget that file contents share (`Tmpfs::reserve`), so that
//! many full pipes make writers wait instead of exhausting the heap. A
//! pipe keeps the last page it emptied for its next slot (as Linux keeps
//! one spare page per pipe), so that bytes going back and forth through
//! an empty pipe cost no allocation.
//!
//! The syscalls copy between the caller's memory and the slots directly:
//! [`PipeBuf::unread`] shows the bytes in place, and a write fills a slot
//! through a closure ([`PipeBuf::push_with`], [`PipeBuf::merge_with`]).

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::slab::Slab;

/// A slot's size: a page.
pub const PAGE: usize = 4096;
/// Writes of at most this many bytes are atomic (pipe(7)).
pub const PIPE_BUF: usize = 4096;
/// Slots of a new pipe: 64 KiB, Linux's default capacity.
pub const SLOTS: usize = 16;
/// The most F_SETPIPE_SZ may ask for (Linux's /proc/sys/fs/pipe-max-size
/// default, which root may exceed; Lstar keeps it as a bound on the heap).
pub const MAX_SLOTS: usize = 256;

/// One page of a pipe's buffer.
#[derive(Debug)]
struct Slot {
    bytes: Vec<u8>,
    /// Bytes of `bytes` already read.
    read: usize,
}

/// A pipe's bytes in flight.
#[derive(Debug)]
pub struct PipeBuf {
    slots: VecDeque<Slot>,
    max_slots: usize,
    /// An emptied page kept for the next slot (not counted as used).
    spare: Option<Vec<u8>>,
}

impl Default for PipeBuf {
    fn default() -> Self {
        PipeBuf::new()
    }
}

impl PipeBuf {
    pub fn new() -> PipeBuf {
        PipeBuf { slots: VecDeque::new(), max_slots: SLOTS, spare: None }
    }

    /// Bytes waiting to be read (FIONREAD).
    pub fn len(&self) -> usize {
        self.slots.iter().map(|s| s.bytes.len() - s.read).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Every slot holds unread bytes: a write must wait.
    pub fn is_full(&self) -> bool {
        self.slots.len() >= self.max_slots
    }

    /// The capacity in bytes (F_GETPIPE_SZ).
    pub fn capacity(&self) -> usize {
        self.max_slots * PAGE
    }

    /// F_SETPIPE_SZ: `slots` slots from now on, unless more than that are
    /// in use (`false`, Linux's EBUSY).
    pub fn set_slots(&mut self, slots: usize) -> bool {
        if slots < self.slots.len() {
            return false;
        }
        self.max_slots = slots;
        true
    }

    /// Whether `n` bytes fit at the end of the newest slot: where a write
    /// puts its last partial page when the pipe is not empty.
    pub fn can_merge(&self, n: usize) -> bool {
        self.slots.back().is_some_and(|s| s.bytes.len() + n <= PAGE)
    }

    /// Appends `n` bytes to the newest slot, all or none: `fill` is given
    /// room for them and says how many it filled; unless that is all, the
    /// slot is left as it was and the answer is false. The caller checked
    /// [`PipeBuf::can_merge`].
    pub fn merge_with(&mut self, n: usize, fill: impl FnOnce(&mut [u8]) -> usize) -> bool {
        let slot = self.slots.back_mut().expect("checked by can_merge");
        let old = slot.bytes.len();
        debug_assert!(old + n <= PAGE);
        slot.bytes.resize(old + n, 0);
        let whole = fill(&mut slot.bytes[old..]) == n;
        if !whole {
            slot.bytes.truncate(old);
        }
        whole
    }

    /// Fills a fresh slot with up to `n` bytes (at most a page): `fill` is
    /// given room for them and says how many it filled, the first ones. A
    /// slot is a page of the heap, which the caller accounts for; none is
    /// taken if `fill` filled nothing. The caller checked that the pipe is
    /// not full. Returns the bytes filled.
    pub fn push_with(&mut self, n: usize, fill: impl FnOnce(&mut [u8]) -> usize) -> usize {
        debug_assert!(!self.is_full() && n <= PAGE);
        let mut bytes = self.spare.take().unwrap_or_else(|| Vec::with_capacity(PAGE));
        bytes.resize(n, 0);
        let got = fill(&mut bytes);
        bytes.truncate(got);
        if got == 0 {
            self.spare = Some(bytes);
        } else {
            self.slots.push_back(Slot { bytes, read: 0 });
        }
        got
    }

    /// Puts `data` (at most a page, not empty) in a fresh slot, as
    /// [`PipeBuf::push_with`] does.
    pub fn push(&mut self, data: &[u8]) {
        debug_assert!(!data.is_empty());
        self.push_with(data.len(), |page| {
            page.copy_from_slice(data);
            data.len()
        });
    }

    /// Slots holding bytes (each a page of the heap).
    pub fn slots_used(&self) -> usize {
        self.slots.len()
    }

    /// The unread bytes in place, oldest first, a slot's at a time.
    pub fn unread(&self) -> impl Iterator<Item = &[u8]> {
        self.slots.iter().map(|s| &s.bytes[s.read..])
    }

    /// A copy of the first `max` unread bytes (fewer if fewer wait).
    #[cfg(test)]
    pub fn peek(&self, max: usize) -> Vec<u8> {
        let mut out: Vec<u8> = self.unread().flatten().copied().collect();
        out.truncate(max);
        out
    }

    /// Drops the first `n` unread bytes, freeing the slots read to the
    /// end; returns how many were freed.
    pub fn consume(&mut self, mut n: usize) -> usize {
        let before = self.slots.len();
        while n > 0 {
            let s = self.slots.front_mut().expect("consuming bytes that were peeked");
            let take = n.min(s.bytes.len() - s.read);
            s.read += take;
            n -= take;
            if s.read == s.bytes.len() {
                let mut page = self.slots.pop_front().expect("the front slot").bytes;
                if self.spare.is_none() {
                    page.clear();
                    self.spare = Some(page);
                }
            }
        }
        before - self.slots.len()
    }
}

/// A pipe's key in the table of pipes (internal).
pub type PipeId = crate::slab::Key;

/// A pipe: its buffer and how many open file descriptions each end has.
/// A description shared by dup(2) or fork(2) counts once, as in Linux:
/// the end closes when the last descriptor naming it does.
#[derive(Debug)]
pub struct Pipe {
    pub buf: PipeBuf,
    pub readers: u32,
    pub writers: u32,
    /// Opens of each end so far, of a FIFO: an open that waits for the
    /// other end goes on once the other count moves, even if that end has
    /// closed again since (as Linux's r_counter and w_counter).
    pub reader_opens: u64,
    pub writer_opens: u64,
}

impl Pipe {
    /// An empty pipe with `ends` open descriptions of each end.
    fn new(ends: u32) -> Pipe {
        Pipe { buf: PipeBuf::new(), readers: ends, writers: ends, reader_opens: ends.into(), writer_opens: ends.into() }
    }
}

/// Every pipe alive: those of pipe(2), and those of the FIFOs open now (a
/// FIFO's inode names its pipe while it has one, `Node::Fifo`).
#[derive(Default)]
pub struct Pipes {
    pipes: Slab<Pipe>,
    /// Pipes that may have changed since [`Pipes::start_pass`]: every way
    /// to change one ([`Pipes::get_mut`], [`Pipes::open_end`],
    /// [`Pipes::close_end`]) marks it, so that the calls held on the
    /// others need not be tried again (sys::held).
    changed: Vec<PipeId>,
    /// Those marked before the pass over the held calls going on
    /// ([`Pipes::was_changed`]). Two lists that trade places, so that
    /// marking allocates nothing once they have grown.
    pass: Vec<PipeId>,
}

impl Pipes {
    /// A new pipe with one reader and one writer (pipe(2)).
    pub fn create(&mut self) -> PipeId {
        self.pipes.insert(Pipe::new(1))
    }

    /// A FIFO's pipe, made by its first open, which [`Pipes::open_end`]
    /// then counts.
    pub fn create_fifo(&mut self) -> PipeId {
        self.pipes.insert(Pipe::new(0))
    }

    /// An open of a FIFO's read end, write end or both.
    pub fn open_end(&mut self, id: PipeId, reader: bool, writer: bool) -> &Pipe {
        let p = self.get_mut(id);
        if reader {
            p.readers += 1;
            p.reader_opens += 1;
        }
        if writer {
            p.writers += 1;
            p.writer_opens += 1;
        }
        p
    }

    pub fn get(&self, id: PipeId) -> &Pipe {
        self.pipes.get(id).expect("an open end names a live pipe")
    }

    /// Pipe `id`, to change it (which marks it changed).
    pub fn get_mut(&mut self, id: PipeId) -> &mut Pipe {
        self.mark(id);
        self.pipes.get_mut(id).expect("an open end names a live pipe")
    }

    fn mark(&mut self, id: PipeId) {
        // Few pipes change per message: a list beats a set.
        if !self.changed.contains(&id) {
            self.changed.push(id);
        }
    }

    /// A pass over the held calls begins: the pipes marked so far are
    /// the ones [`Pipes::was_changed`] names from now on, and marking
    /// starts afresh for the next pass.
    pub fn start_pass(&mut self) {
        core::mem::swap(&mut self.changed, &mut self.pass);
        self.changed.clear();
    }

    /// Whether pipe `id` was marked changed before the pass going on.
    pub fn was_changed(&self, id: PipeId) -> bool {
        self.pass.contains(&id)
    }

    /// One open description of an end is gone; the pipe goes with its
    /// last one. Returns, if it went, the slots it held.
    pub fn close_end(&mut self, id: PipeId, reader: bool, writer: bool) -> Option<usize> {
        let p = self.get_mut(id);
        if reader {
            p.readers -= 1;
        }
        if writer {
            p.writers -= 1;
        }
        if p.readers == 0 && p.writers == 0 {
            return self.pipes.remove(id).map(|p| p.buf.slots_used());
        }
        None
    }

    /// Pipes alive (for tests).
    pub fn count(&self) -> usize {
        self.pipes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes as a write(2) of `data` would when nothing waits: the tail
    /// merged if it fits, then whole slots; returns the bytes taken.
    fn write(b: &mut PipeBuf, data: &[u8]) -> usize {
        let tail = data.len() % PAGE;
        if tail != 0 && !b.is_empty() && b.can_merge(tail) {
            assert!(b.merge_with(tail, |room| {
                room.copy_from_slice(&data[..tail]);
                tail
            }));
            if data.len() == tail {
                return tail;
            }
            let rest = write_slots(b, &data[tail..]);
            return tail + rest;
        }
        write_slots(b, data)
    }

    fn write_slots(b: &mut PipeBuf, data: &[u8]) -> usize {
        let mut done = 0;
        while done < data.len() && !b.is_full() {
            let n = (data.len() - done).min(PAGE);
            b.push(&data[done..done + n]);
            done += n;
        }
        done
    }

    #[test]
    fn bytes_come_out_in_order() {
        let mut b = PipeBuf::new();
        assert!(b.is_empty());
        assert_eq!(write(&mut b, b"hello "), 6);
        assert_eq!(write(&mut b, b"world"), 5);
        assert_eq!(b.len(), 11);
        assert_eq!(b.slots.len(), 1, "the second write merged");
        assert_eq!(b.peek(8), b"hello wo");
        b.consume(8);
        assert_eq!(b.peek(100), b"rld");
        b.consume(3);
        assert!(b.is_empty());
    }

    #[test]
    fn capacity_in_slots() {
        // Whole pages fill 64 KiB.
        let mut b = PipeBuf::new();
        let page = [7u8; PAGE];
        for _ in 0..SLOTS {
            assert_eq!(write(&mut b, &page), PAGE);
        }
        assert!(b.is_full());
        assert_eq!(b.len(), 65536);
        assert_eq!(b.capacity(), 65536);
        // 1000-byte writes: four share a page, the fifth needs a new one,
        // so 64 of them fill the pipe (64000 bytes, as on Linux).
        let mut b = PipeBuf::new();
        let mut writes = 0;
        while !b.is_full() || b.can_merge(1000) {
            assert_eq!(write(&mut b, &[1; 1000]), 1000);
            writes += 1;
        }
        assert_eq!((writes, b.len()), (64, 64000));
        // Single bytes fill every byte.
        let mut b = PipeBuf::new();
        let mut n = 0;
        while !b.is_full() || b.can_merge(1) {
            write(&mut b, b"x");
            n += 1;
        }
        assert_eq!(n, 65536);
        assert_eq!(b.slots_used(), SLOTS);
    }

    #[test]
    fn slots_free_when_read_to_the_end() {
        let mut b = PipeBuf::new();
        for _ in 0..SLOTS {
            write(&mut b, &[1; PAGE]);
        }
        assert_eq!(b.consume(100), 0);
        assert!(b.is_full(), "a partly read slot is still taken");
        assert!(!b.can_merge(1));
        assert_eq!(b.consume(PAGE - 100), 1);
        assert!(!b.is_full());
        assert_eq!(b.len(), 15 * PAGE);
    }

    #[test]
    fn large_write_tail_first() {
        // 5000 bytes into a pipe holding 10: the 904-byte tail merges
        // into the first slot, the page after it takes a new one.
        let mut b = PipeBuf::new();
        write(&mut b, &[0; 10]);
        let data: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
        assert_eq!(write(&mut b, &data), 5000);
        assert_eq!(b.slots.len(), 2);
        assert_eq!(b.slots[0].bytes.len(), 914);
        assert_eq!(b.len(), 5010);
    }

    #[test]
    fn resize() {
        let mut b = PipeBuf::new();
        for _ in 0..3 {
            write(&mut b, &[1; PAGE]);
        }
        assert!(!b.set_slots(2), "EBUSY: three slots in use");
        assert!(b.set_slots(4));
        write(&mut b, &[1; PAGE]);
        assert!(b.is_full());
        assert_eq!(b.capacity(), 4 * PAGE);
    }

    #[test]
    fn ends_and_lifetime() {
        let mut p = Pipes::default();
        let a = p.create();
        assert_eq!((p.get(a).readers, p.get(a).writers), (1, 1));
        p.get_mut(a).buf.push(b"left over");
        assert_eq!(p.close_end(a, false, true), None);
        assert_eq!(p.get(a).writers, 0);
        assert_eq!(p.count(), 1);
        assert_eq!(p.close_end(a, true, false), Some(1), "its slot goes with it");
        assert_eq!(p.count(), 0);
    }
}
