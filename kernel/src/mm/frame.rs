//! The physical frame allocator: a bitmap over the boot memory map.
//!
//! A bitmap rather than a free list because the KPTI page-table pair needs
//! two contiguous frames aligned to 8 KiB (the user PML4 sits at the kernel
//! PML4's address + 4 KiB, so entry and exit flip one CR3 bit), and a
//! bitmap finds aligned runs simply.

use super::PhysAddr;
use lstar_abi::PAGE_SIZE;
use core::sync::atomic::{AtomicU32, Ordering};
use spin::Mutex;

/// Frames the bitmap can describe: 4 GiB of RAM.
const MAX_FRAMES: usize = 1 << 20;

struct Bitmap {
    /// Bit set = frame in use or not RAM.
    used: [u64; MAX_FRAMES / 64],
    /// Lowest word that may hold a free frame: every word below it is
    /// full.
    hint: usize,
    free: usize,
    /// Frames of RAM, in use or not.
    total: usize,
    /// One past the highest frame of RAM.
    top: usize,
}

static FRAMES: Mutex<Bitmap> = Mutex::new(Bitmap { used: [u64::MAX; MAX_FRAMES / 64], hint: 0, free: 0, total: 0, top: 0 });

impl Bitmap {
    fn set(&mut self, frame: usize, used: bool) {
        let (w, b) = (frame / 64, frame % 64);
        let was = self.used[w] & (1 << b) != 0;
        if used {
            self.used[w] |= 1 << b;
        } else {
            self.used[w] &= !(1 << b);
            self.hint = self.hint.min(w);
        }
        match (was, used) {
            (true, false) => self.free += 1,
            (false, true) => self.free -= 1,
            _ => {}
        }
    }

    fn is_used(&self, frame: usize) -> bool {
        self.used[frame / 64] & (1 << (frame % 64)) != 0
    }
}

/// Marks `[start, end)` as free RAM (whole frames inside it only).
pub fn add_ram(start: u64, end: u64) {
    let first = start.div_ceil(PAGE_SIZE) as usize;
    let last = ((end / PAGE_SIZE) as usize).min(MAX_FRAMES);
    let mut map = FRAMES.lock();
    for f in first..last {
        map.set(f, false);
    }
    map.total += last.saturating_sub(first);
    map.top = map.top.max(last);
}

/// Marks `[start, end)` as in use (boot data, the kernel image, modules).
pub fn reserve(start: u64, end: u64) {
    let first = (start / PAGE_SIZE) as usize;
    let last = (end.div_ceil(PAGE_SIZE) as usize).min(MAX_FRAMES);
    let mut map = FRAMES.lock();
    for f in first..last {
        map.set(f, true);
    }
}

/// Allocates `count` contiguous frames aligned to `align` frames. The
/// frames are not zeroed.
pub fn alloc_contiguous(count: usize, align: usize) -> Option<PhysAddr> {
    let mut map = FRAMES.lock();
    // Every word below the hint is full: move it past the full words at
    // its end, so no search walks the frames boot took for good.
    while map.hint < map.used.len() && map.used[map.hint] == u64::MAX {
        map.hint += 1;
    }
    if count == 1 && align == 1 {
        // The common case (page tables, user pages): the first free bit.
        let w = map.hint;
        let bit = (!*map.used.get(w)?).trailing_zeros() as usize;
        map.set(w * 64 + bit, true);
        return Some(PhysAddr((w * 64 + bit) as u64 * PAGE_SIZE));
    }
    let mut f = (map.hint * 64).next_multiple_of(align);
    while f + count <= MAX_FRAMES {
        if map.used[f / 64] == u64::MAX && f.is_multiple_of(64) {
            f += 64.max(align);
            continue;
        }
        match (f..f + count).find(|&g| map.is_used(g)) {
            None => {
                for g in f..f + count {
                    map.set(g, true);
                }
                return Some(PhysAddr(f as u64 * PAGE_SIZE));
            }
            Some(busy) => f = (busy + 1).next_multiple_of(align),
        }
    }
    None
}

/// Frames a program's demand-zero fault leaves free: the kernel (page
/// tables, its heap) and the servers must still be able to work when a
/// program has touched more memory than there is, so the program is
/// stopped (the process server kills it, like Linux's OOM killer) while
/// some remain. 1 MiB.
pub const USER_RESERVE: usize = 256;

/// Allocates one frame (not zeroed) for a program's page, unless fewer
/// than [`USER_RESERVE`] are free.
pub fn alloc_user() -> Option<PhysAddr> {
    if free_count() <= USER_RESERVE {
        return None;
    }
    alloc_contiguous(1, 1)
}

/// Allocates one zeroed frame.
pub fn alloc_zeroed() -> Option<PhysAddr> {
    let frame = alloc_contiguous(1, 1)?;
    zero(frame, 1);
    Some(frame)
}

/// Fills `count` frames at `frame` with zeroes.
pub fn zero(frame: PhysAddr, count: usize) {
    // SAFETY: the frames were just handed out by this allocator, are
    // mapped by the direct map and nothing else refers to them yet.
    unsafe { core::ptr::write_bytes(frame.virt(), 0, count * PAGE_SIZE as usize) };
}

/// Returns frames to the allocator.
pub fn free(frame: PhysAddr, count: usize) {
    let first = (frame.0 / PAGE_SIZE) as usize;
    let mut map = FRAMES.lock();
    for f in first..first + count {
        // A kernel bug, kept from doing harm: freeing it again would hand
        // one frame to two owners. It stays used (leaked) instead.
        if !map.is_used(f) {
            log::error!("frame: double free of frame {:#x}; left in use", f as u64 * PAGE_SIZE);
            continue;
        }
        map.set(f, false);
    }
}

/// Number of free frames.
pub fn free_count() -> usize {
    FRAMES.lock().free
}

/// Number of frames of RAM the boot memory map gave.
pub fn total_count() -> usize {
    FRAMES.lock().total
}

/// How many page-table entries map each frame that more than one entry
/// may map: a `MAP_SHARED` frame, or a private frame that forked spaces
/// share until one writes to it (copy-on-write, D24). 0 for every other
/// frame, which has at most one owner and is freed with it. Counts change
/// only under the kernel lock; atomics give the table interior
/// mutability without a second lock.
static COUNTS: spin::Once<alloc::boxed::Box<[AtomicU32]>> = spin::Once::new();

/// The count of the frame at `pa`. The table is made on first use, once
/// the heap exists, with one slot per frame of RAM.
fn count(pa: PhysAddr) -> &'static AtomicU32 {
    let counts = COUNTS.call_once(|| (0..FRAMES.lock().top).map(|_| AtomicU32::new(0)).collect());
    &counts[(pa.0 / PAGE_SIZE) as usize]
}

/// One more page-table entry maps the frame at `pa` as a counted frame.
/// (The count cannot overflow: there are fewer than 2^32 page-table
/// entries in 4 GiB.)
pub fn share(pa: PhysAddr) {
    count(pa).fetch_add(1, Ordering::Relaxed);
}

/// One entry fewer maps the counted frame at `pa`; the last one frees it.
pub fn unshare(pa: PhysAddr) {
    let c = count(pa);
    let before = c.fetch_sub(1, Ordering::Relaxed);
    if before == 0 {
        // A kernel bug: an uncounted frame (one owner) would be freed
        // under its owner. Leave it alone.
        c.store(0, Ordering::Relaxed);
        log::error!("frame: unshare of the uncounted frame {:#x}; ignored", pa.0);
        return;
    }
    if before == 1 {
        free(pa, 1);
    }
}

/// If exactly one entry still maps the counted frame at `pa`, it becomes
/// that entry's own frame (count 0) and this returns true.
pub fn take_sole(pa: PhysAddr) -> bool {
    count(pa).compare_exchange(1, 0, Ordering::Relaxed, Ordering::Relaxed).is_ok()
}
