//! Page tables: the kernel's own mapping and user address spaces with
//! their KPTI pair.
//!
//! Every address space owns two PML4s in one 8 KiB-aligned pair:
//!
//! * the **kernel** PML4 (even page): the user half plus the whole kernel
//!   half (direct map, kernel image), used while in the kernel, and as the
//!   only table when KPTI is off;
//! * the **user** PML4 (odd page, `kernel + 4096`): the same user half, and
//!   in the kernel half nothing but the entry/exit trampoline
//!   (`.entry.text`) and the per-CPU entry data (`.entry.data`), mapped at
//!   their kernel addresses so the entry code runs unchanged under either.
//!
//! The user halves are kept identical by writing every user PML4 slot into
//! both tables; lower levels are shared. Entry and exit switch between the
//! two by flipping CR3 bit 12 (docs/syscall-path.md).

use super::{frame, PhysAddr, DIRECT_MAP_MIN, PHYS_OFFSET};
use lstar_abi::PAGE_SIZE;
use spin::Once;
pub use x86_64::structures::paging::PageTableFlags as Flags;
use x86_64::structures::paging::PageTable;

/// First address above the user half.
pub const USER_END: u64 = 0x0000_8000_0000_0000;
const KERNEL_HALF: usize = 256;

/// The kernel's master PML4: the kernel half every address space copies.
static MASTER: Once<PhysAddr> = Once::new();
/// PML4 slot 511 of every user table: the entry sections alone.
static SHADOW_511: Once<u64> = Once::new();

fn table(phys: PhysAddr) -> &'static mut PageTable {
    // SAFETY: `phys` is a page-table frame owned by a page-table tree we
    // are editing; the kernel runs on one CPU with interrupts off, so no
    // other reference to it is live while this one is used.
    unsafe { &mut *(phys.virt() as *mut PageTable) }
}

fn index(va: u64, level: u32) -> usize {
    ((va >> (12 + 9 * (level - 1))) & 511) as usize
}

/// Walks from `root` to the level-1 entry for `va`, creating tables with
/// `table_flags` on the way when `create` is set. Returns the entry's
/// table and index.
fn walk(root: PhysAddr, va: u64, create: bool, table_flags: Flags, mut on_new_pml4e: impl FnMut(usize, u64)) -> Option<(&'static mut PageTable, usize)> {
    let mut t = table(root);
    for level in (2..=4).rev() {
        let i = index(va, level);
        let e = &mut t[i];
        if e.is_unused() {
            if !create {
                return None;
            }
            let new = frame::alloc_zeroed()?;
            e.set_addr(x86_64::PhysAddr::new(new.0), table_flags);
            if level == 4 {
                on_new_pml4e(i, e.addr().as_u64() | e.flags().bits());
            }
        } else if e.flags().contains(Flags::HUGE_PAGE) {
            return None;
        }
        t = table(PhysAddr(e.addr().as_u64()));
    }
    Some((t, index(va, 1)))
}

extern "C" {
    static __entry_text_start: u8;
    static __entry_text_end: u8;
    static __text_start: u8;
    static __text_end: u8;
    static __rodata_start: u8;
    static __rodata_end: u8;
    static __entry_data_start: u8;
    static __entry_data_end: u8;
    static __data_start: u8;
    static __kernel_end: u8;
}

const KERNEL_VMA: u64 = 0xffff_ffff_8000_0000;

fn sym(s: &u8) -> u64 {
    s as *const u8 as u64
}

/// The `[start, end)` ranges of `.entry.text` and `.entry.data`.
pub fn entry_sections() -> [(u64, u64); 2] {
    // SAFETY: linker-script symbols; only their addresses are taken.
    unsafe {
        [
            (sym(&__entry_text_start), sym(&__entry_text_end)),
            (sym(&__entry_data_start), sym(&__entry_data_end)),
        ]
    }
}

fn map_range(root: PhysAddr, start: u64, end: u64, flags: Flags) {
    let mut va = start;
    while va < end {
        let (t, i) = walk(root, va, true, Flags::PRESENT | Flags::WRITABLE, |_, _| {}).expect("out of memory building kernel tables");
        t[i].set_addr(x86_64::PhysAddr::new(va - KERNEL_VMA), flags | Flags::PRESENT);
        va += PAGE_SIZE;
    }
}

/// Builds the kernel's own tables (direct map of `0..max(mem_top, 4 GiB)`,
/// the kernel image with per-section rights) and the shadow slot for user
/// tables, then switches to them.
pub fn init(mem_top: u64) {
    let root = frame::alloc_zeroed().expect("no memory for the kernel PML4");
    // Direct map, 2 MiB pages; the top 32 MiB below 4 GiB (LAPIC, I/O
    // APIC) uncached.
    let top = mem_top.max(DIRECT_MAP_MIN).next_multiple_of(1 << 30);
    let mut pa = 0;
    while pa < top {
        let va = PHYS_OFFSET + pa;
        let pdpt = {
            let e = &mut table(root)[index(va, 4)];
            if e.is_unused() {
                let f = frame::alloc_zeroed().expect("no memory for the direct map");
                e.set_addr(x86_64::PhysAddr::new(f.0), Flags::PRESENT | Flags::WRITABLE);
            }
            PhysAddr(e.addr().as_u64())
        };
        let pd = {
            let e = &mut table(pdpt)[index(va, 3)];
            if e.is_unused() {
                let f = frame::alloc_zeroed().expect("no memory for the direct map");
                e.set_addr(x86_64::PhysAddr::new(f.0), Flags::PRESENT | Flags::WRITABLE);
            }
            PhysAddr(e.addr().as_u64())
        };
        let mut flags = Flags::PRESENT | Flags::WRITABLE | Flags::HUGE_PAGE | Flags::NO_EXECUTE;
        if (0xfe00_0000..0x1_0000_0000).contains(&pa) {
            flags |= Flags::NO_CACHE | Flags::WRITE_THROUGH;
        }
        table(pd)[index(va, 2)].set_addr(x86_64::PhysAddr::new(pa), flags);
        pa += 2 << 20;
    }

    // SAFETY: linker-script symbols; only their addresses are taken.
    let (et, t, ro, ed, data, end) = unsafe {
        (
            (sym(&__entry_text_start), sym(&__entry_text_end)),
            (sym(&__text_start), sym(&__text_end)),
            (sym(&__rodata_start), sym(&__rodata_end)),
            (sym(&__entry_data_start), sym(&__entry_data_end)),
            sym(&__data_start),
            sym(&__kernel_end),
        )
    };
    map_range(root, et.0, et.1, Flags::empty());
    map_range(root, t.0, t.1, Flags::empty());
    map_range(root, ro.0, ro.1, Flags::NO_EXECUTE);
    map_range(root, ed.0, ed.1, Flags::WRITABLE | Flags::NO_EXECUTE);
    map_range(root, data, end, Flags::WRITABLE | Flags::NO_EXECUTE);

    // The user tables' slot 511: a separate tree with the entry sections.
    let shadow = frame::alloc_zeroed().expect("no memory for the shadow table");
    map_range(shadow, et.0, et.1, Flags::empty());
    map_range(shadow, ed.0, ed.1, Flags::WRITABLE | Flags::NO_EXECUTE);
    let e = &table(shadow)[511];
    SHADOW_511.call_once(|| e.addr().as_u64() | e.flags().bits());
    frame::free(shadow, 1);

    MASTER.call_once(|| root);
    crate::arch::x86_64::write_cr3(root.0);
}

/// Physical end of the kernel image, for the frame allocator.
pub fn kernel_image_end() -> u64 {
    // SAFETY: a linker-script symbol; only its address is taken.
    unsafe { sym(&__kernel_end) - KERNEL_VMA }
}

/// The master kernel PML4 (physical address), for kernel threads.
pub fn kernel_root() -> u64 {
    MASTER.get().expect("paging not initialised").0
}

/// Software marks in user leaf entries (bits the CPU ignores). A leaf
/// with none of [`UNOWNED`], [`SHARED`] and [`COW`] owns its frame alone:
/// the frame is freed when the entry goes.
///
/// A frame no space owns, such as a server's initrd or the counters page:
/// never freed through a page table.
const UNOWNED: Flags = Flags::BIT_9;
/// A frame shared between spaces by count (MAP_SHARED memory): mapped by
/// [`AddressSpace::map_zeroed_shared`], mapped again, not copied, by
/// [`AddressSpace::clone_user`], and freed when its last mapping goes
/// (the counts are [`frame::share`]'s).
const SHARED: Flags = Flags::BIT_10;
/// A private frame that clones of a space share until one of them writes
/// to it (copy-on-write, D24). Counted like a [`SHARED`] frame; the entry
/// is never writable while it has this mark, and a write copies the
/// frame first ([`AddressSpace::unshare_page`]).
const COW: Flags = Flags::BIT_11;
/// With [`COW`]: the mapping itself is writable (its PROT_WRITE), so a
/// write fault copies the frame and proceeds instead of being the
/// program's fault. A copy-on-write page of a read-only mapping lacks it
/// and keeps faulting as before.
const COW_WRITE: Flags = Flags::BIT_52;

/// A reserved page (demand zero, D25): a leaf with PRESENT clear, no
/// frame, and the mapping's rights ([`RIGHTS`]) kept in the entry. The
/// first access to it maps a fresh zeroed frame with those rights
/// ([`AddressSpace::demand_fault`], [`AddressSpace::populate`]). The CPU
/// ignores every bit of a not-present entry, so the rights are stored as
/// they will be used.
const DEMAND_ZERO: Flags = Flags::BIT_53;
/// The rights a reserved page keeps for its frame.
const RIGHTS: Flags = Flags::WRITABLE.union(Flags::USER_ACCESSIBLE).union(Flags::NO_EXECUTE);

fn is_reserved(flags: Flags) -> bool {
    flags.contains(DEMAND_ZERO) && !flags.contains(Flags::PRESENT)
}

/// The marks [`AddressSpace::protect`] keeps: they say who owns the frame,
/// not what the program may do.
const OWNERSHIP: Flags = UNOWNED.union(SHARED).union(COW);

/// Frees the frame behind a user leaf entry that is going away, as its
/// marks say: owned (freed), counted (released), or neither.
fn release_leaf(pa: u64, flags: Flags) {
    if !flags.contains(Flags::PRESENT) {
        // A reservation: no frame behind it.
    } else if flags.intersects(SHARED | COW) {
        frame::unshare(PhysAddr(pa));
    } else if !flags.contains(UNOWNED) {
        frame::free(PhysAddr(pa), 1);
    }
}

/// The rights `flags` as a copy-on-write entry holds them: not writable
/// in the hardware's view, writable in the mapping's ([`COW_WRITE`]).
fn cow_rights(flags: Flags) -> Flags {
    if flags.contains(Flags::WRITABLE) { (flags - Flags::WRITABLE) | COW_WRITE } else { flags - COW_WRITE }
}

/// The rights of a copy-on-write entry once it owns its frame again.
fn owned_rights(flags: Flags) -> Flags {
    let writable = flags.contains(COW_WRITE);
    let mut flags = flags - COW - COW_WRITE;
    flags.set(Flags::WRITABLE, writable);
    flags
}

/// Why a mapping request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// Out of frames.
    NoMemory,
    /// The address is not a page-aligned user address.
    BadAddress,
    /// Something is already mapped there.
    Exists,
}

/// A user address space: the KPTI pair of PML4s (see the module doc).
pub struct AddressSpace {
    pair: PhysAddr,
    /// Its PCID (1..2048; the user half adds bit 11), used when PCIDs are on.
    pcid: u64,
    /// A mapping changed while the space was not loaded (or the PCID was
    /// reused): the next load must flush its TLB entries.
    stale: core::sync::atomic::AtomicBool,
}

static NEXT_PCID: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(1);

impl AddressSpace {
    pub fn new() -> Option<AddressSpace> {
        let pair = frame::alloc_contiguous(2, 2)?;
        frame::zero(pair, 2);
        let master = table(*MASTER.get().expect("paging not initialised"));
        let kernel = table(pair);
        for i in KERNEL_HALF..512 {
            kernel[i] = master[i].clone();
        }
        let user = table(PhysAddr(pair.0 + PAGE_SIZE));
        let shadow = *SHADOW_511.get().expect("paging not initialised");
        user[511].set_addr(x86_64::PhysAddr::new(shadow & 0x000f_ffff_ffff_f000), Flags::from_bits_truncate(shadow));
        // PCIDs 1..2047 in turn; a reused one starts stale.
        let pcid = NEXT_PCID.fetch_add(1, core::sync::atomic::Ordering::Relaxed) % 2047 + 1;
        Some(AddressSpace { pair, pcid, stale: core::sync::atomic::AtomicBool::new(true) })
    }

    /// The CR3 value user mode runs on: the user table with KPTI, else the
    /// kernel table; with PCIDs, tagged with the space's PCID (the user
    /// half's with bit 11) and told to keep its TLB entries unless the
    /// space went stale since it was last loaded.
    pub fn user_mode_cr3(&self, kpti: bool, pcid: bool) -> u64 {
        let table = if kpti { self.user_cr3() } else { self.kernel_cr3() };
        if !pcid {
            return table;
        }
        let tag = if kpti { self.pcid | crate::arch::x86_64::cpu::USER_PCID_BIT } else { self.pcid };
        let keep = if self.stale.swap(false, core::sync::atomic::Ordering::Relaxed) { 0 } else { crate::arch::x86_64::cpu::CR3_NOFLUSH };
        table | tag | keep
    }

    fn changed(&self) {
        self.stale.store(true, core::sync::atomic::Ordering::Relaxed);
    }

    /// CR3 for the kernel half of the pair (and for user mode without KPTI).
    pub fn kernel_cr3(&self) -> u64 {
        self.pair.0
    }

    /// CR3 for user mode with KPTI.
    pub fn user_cr3(&self) -> u64 {
        self.pair.0 + PAGE_SIZE
    }

    fn walk(&self, va: u64, create: bool) -> Option<(&'static mut PageTable, usize)> {
        let user = table(PhysAddr(self.pair.0 + PAGE_SIZE));
        walk(self.pair, va, create, Flags::PRESENT | Flags::WRITABLE | Flags::USER_ACCESSIBLE, |i, raw| {
            user[i].set_addr(x86_64::PhysAddr::new(raw & 0x000f_ffff_ffff_f000), Flags::from_bits_truncate(raw));
        })
    }

    /// Maps a fresh zeroed frame at the user page `va`.
    pub fn map_zeroed(&mut self, va: u64, flags: Flags) -> Result<(), MapError> {
        self.map_fresh(va, flags, |f| frame::zero(f, 1))
    }

    /// Maps a new frame at the user page `va`, filled by `fill` (it holds
    /// garbage before).
    fn map_fresh(&mut self, va: u64, flags: Flags, fill: impl FnOnce(PhysAddr)) -> Result<(), MapError> {
        if !va.is_multiple_of(PAGE_SIZE) || va >= USER_END {
            return Err(MapError::BadAddress);
        }
        let (t, i) = self.walk(va, true).ok_or(MapError::NoMemory)?;
        if !t[i].is_unused() {
            return Err(MapError::Exists);
        }
        let f = frame::alloc_contiguous(1, 1).ok_or(MapError::NoMemory)?;
        fill(f);
        t[i].set_addr(x86_64::PhysAddr::new(f.0), flags | Flags::PRESENT | Flags::USER_ACCESSIBLE);
        Ok(())
    }

    /// Reserves the free user page `va` as demand zero with the rights
    /// `flags` ([`DEMAND_ZERO`]): no frame until the page is first used.
    pub fn reserve_zeroed(&mut self, va: u64, flags: Flags) -> Result<(), MapError> {
        if !va.is_multiple_of(PAGE_SIZE) || va >= USER_END {
            return Err(MapError::BadAddress);
        }
        let (t, i) = self.walk(va, true).ok_or(MapError::NoMemory)?;
        if !t[i].is_unused() {
            return Err(MapError::Exists);
        }
        t[i].set_addr(x86_64::PhysAddr::new(0), (flags & RIGHTS) | DEMAND_ZERO);
        Ok(())
    }

    /// The rights of the reserved (demand-zero) page holding `va`, if it
    /// is one.
    fn reservation(&self, va: u64) -> Option<Flags> {
        if va >= USER_END {
            return None;
        }
        let (t, i) = self.walk(va, false)?;
        let f = t[i].flags();
        is_reserved(f).then_some(f & RIGHTS)
    }

    /// Whether nothing is mapped or reserved at the user page `va`.
    pub fn is_free(&self, va: u64) -> bool {
        va < USER_END && self.walk(va, false).is_none_or(|(t, i)| t[i].is_unused())
    }

    /// Gives the page holding `va` its frame if it is reserved and its
    /// rights include `needs` (the kernel is about to reach it through
    /// the direct map; a page whose rights forbid the access is left for
    /// the caller's check to refuse). A fresh frame is zeroed, which is
    /// what the page held. `reserve`: leave [`frame::USER_RESERVE`] frames
    /// free, as a program's own fault must. Takes `&self` for the reason
    /// [`AddressSpace::unshare_page`] does.
    pub fn populate(&self, va: u64, needs: Flags, reserve: bool) -> Result<(), MapError> {
        match self.reservation(va) {
            Some(rights) if rights.contains(needs) => {
                let f = if reserve { frame::alloc_user() } else { frame::alloc_contiguous(1, 1) }.ok_or(MapError::NoMemory)?;
                frame::zero(f, 1);
                let (t, i) = self.walk(va, false).expect("reserved above");
                // Not present before, so no TLB holds the entry.
                t[i].set_addr(x86_64::PhysAddr::new(f.0), rights | Flags::PRESENT);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// A user access faulted on the not-present page holding `va`, with
    /// the CPU's error code `error`: if the page is reserved and its
    /// rights allow the access, it gets its frame here. `reserve` as for
    /// [`AddressSpace::populate`].
    pub fn demand_fault(&self, va: u64, error: u64, reserve: bool) -> DemandFault {
        const WRITE: u64 = 1 << 1;
        const FETCH: u64 = 1 << 4;
        let Some(rights) = self.reservation(va) else { return DemandFault::NotReserved };
        let allowed = rights.contains(Flags::USER_ACCESSIBLE)
            && (error & WRITE == 0 || rights.contains(Flags::WRITABLE))
            && (error & FETCH == 0 || !rights.contains(Flags::NO_EXECUTE));
        if !allowed {
            return DemandFault::Denied;
        }
        match self.populate(va & !(PAGE_SIZE - 1), Flags::empty(), reserve) {
            Ok(()) => DemandFault::Resolved,
            Err(_) => DemandFault::NoMemory,
        }
    }

    /// Maps a fresh zeroed frame at the user page `va` as a [`SHARED`]
    /// frame: copies of this space map the same frame.
    pub fn map_zeroed_shared(&mut self, va: u64, flags: Flags) -> Result<(), MapError> {
        self.map_zeroed(va, flags | SHARED)?;
        let (pa, _) = self.translate(va).expect("just mapped");
        frame::share(pa);
        Ok(())
    }

    /// The [`SHARED`] frame mapped at the user page `va`, if it is one.
    pub fn shared_frame(&self, va: u64) -> Option<PhysAddr> {
        let (pa, flags) = self.translate(va)?;
        flags.contains(SHARED).then_some(PhysAddr(pa.0 - va % PAGE_SIZE))
    }

    /// Maps the [`SHARED`] frame `pa` (found with
    /// [`AddressSpace::shared_frame`] in another space) at the free user
    /// page `va` with the rights `flags`, one more counted mapping of it.
    pub fn map_shared_frame(&mut self, va: u64, pa: PhysAddr, flags: Flags) -> Result<(), MapError> {
        self.map_frame(va, pa, flags | SHARED)?;
        frame::share(pa);
        Ok(())
    }

    /// Maps an existing frame (not owned by this space: it is not freed on
    /// unmap) at the user page `va`.
    pub fn map_shared(&mut self, va: u64, pa: PhysAddr, flags: Flags) -> Result<(), MapError> {
        self.map_frame(va, pa, flags | Flags::USER_ACCESSIBLE | UNOWNED)
    }

    /// Maps frame `pa` at the free user page `va` with exactly `flags`
    /// (and PRESENT); the caller accounts for the frame.
    fn map_frame(&mut self, va: u64, pa: PhysAddr, flags: Flags) -> Result<(), MapError> {
        if !va.is_multiple_of(PAGE_SIZE) || va >= USER_END {
            return Err(MapError::BadAddress);
        }
        let (t, i) = self.walk(va, true).ok_or(MapError::NoMemory)?;
        if !t[i].is_unused() {
            return Err(MapError::Exists);
        }
        t[i].set_addr(x86_64::PhysAddr::new(pa.0), flags | Flags::PRESENT);
        Ok(())
    }

    /// Sets the rights of the mapped user page `va` to exactly `flags`
    /// (plus PRESENT and the ownership mark it had). False if unmapped. A
    /// copy-on-write page made writable stays write-protected until a
    /// write copies it; a reserved page stays reserved, with the new
    /// rights for its frame.
    pub fn protect(&mut self, va: u64, flags: Flags) -> bool {
        if va >= USER_END {
            return false;
        }
        match self.walk(va, false) {
            Some((t, i)) if is_reserved(t[i].flags()) => {
                t[i].set_addr(x86_64::PhysAddr::new(0), (flags & RIGHTS) | DEMAND_ZERO);
                true
            }
            Some((t, i)) if !t[i].is_unused() => {
                let keep = t[i].flags() & OWNERSHIP;
                let mut flags = flags | keep | Flags::PRESENT;
                if keep.contains(COW) {
                    flags = cow_rights(flags);
                }
                let pa = t[i].addr();
                t[i].set_addr(pa, flags);
                crate::arch::x86_64::invlpg(va);
                self.changed();
                true
            }
            _ => false,
        }
    }

    /// Moves the page at `from` (if mapped) to the free page `to`, keeping
    /// its frame and rights.
    pub fn move_page(&mut self, from: u64, to: u64) -> Result<(), MapError> {
        if from >= USER_END || to >= USER_END {
            return Err(MapError::BadAddress);
        }
        let Some((t, i)) = self.walk(from, false) else { return Ok(()) };
        if t[i].is_unused() {
            return Ok(());
        }
        let (pa, flags) = (t[i].addr(), t[i].flags());
        let (dt, di) = self.walk(to, true).ok_or(MapError::NoMemory)?;
        if !dt[di].is_unused() {
            return Err(MapError::Exists);
        }
        dt[di].set_addr(pa, flags);
        let (t, i) = self.walk(from, false).expect("walked above");
        t[i].set_unused();
        crate::arch::x86_64::invlpg(from);
        self.changed();
        Ok(())
    }

    /// Unmaps the user page `va`, freeing its frame if the space owns it
    /// (a reservation just goes).
    pub fn unmap(&mut self, va: u64) {
        if va >= USER_END {
            return;
        }
        if let Some((t, i)) = self.walk(va, false) {
            if is_reserved(t[i].flags()) {
                t[i].set_unused(); // no frame, and no TLB entry for it
            } else if !t[i].is_unused() {
                release_leaf(t[i].addr().as_u64(), t[i].flags());
                t[i].set_unused();
                crate::arch::x86_64::invlpg(va);
                self.changed();
            }
        }
    }

    /// A new space with the user pages of this one, for fork (D24): the
    /// page tables are copied, the frames are not. Private frames become
    /// copy-on-write in both spaces ([`COW`], counted, write-protected),
    /// [`SHARED`] frames gain a mapping, [`UNOWNED`] ones (a server's
    /// initrd) are mapped again. The kernel half is the master's, linked
    /// by [`AddressSpace::new`], not copied.
    pub fn clone_user(&self) -> Option<AddressSpace> {
        let copy = AddressSpace::new()?;
        let (src, dst) = (table(self.pair), table(copy.pair));
        // This space's entries are write-protected below while it is not
        // loaded (AsClone never clones the caller's own space): its next
        // load flushes what its TLB still holds writable.
        self.changed();
        for i in 0..KERNEL_HALF {
            if src[i].is_unused() {
                continue;
            }
            // On failure, the copy so far is a consistent space whose drop
            // releases what it took.
            let t = frame::alloc_zeroed()?;
            dst[i].set_addr(x86_64::PhysAddr::new(t.0), src[i].flags());
            table(PhysAddr(copy.pair.0 + PAGE_SIZE))[i] = dst[i].clone();
            clone_level(PhysAddr(src[i].addr().as_u64()), t, 3)?;
        }
        Some(copy)
    }

    /// Gives the page at `va` its own frame if it is copy-on-write: the
    /// frame itself when no other entry maps it any more, else a copy. Its
    /// rights become the mapping's own (writable if [`COW_WRITE`]). Takes
    /// `&self` like the user copies that call it, which hold two spaces
    /// (maybe the same one) at once: the tables are edited through the
    /// direct map under the kernel lock, as every edit is. `reserve` as
    /// for [`AddressSpace::populate`].
    pub fn unshare_page(&self, va: u64, reserve: bool) -> Result<(), MapError> {
        let Some((t, i)) = self.walk(va, false) else { return Ok(()) };
        let (pa, flags) = (PhysAddr(t[i].addr().as_u64()), t[i].flags());
        if !flags.contains(COW) || !flags.contains(Flags::PRESENT) {
            return Ok(());
        }
        let mine = if frame::take_sole(pa) {
            pa
        } else {
            let new = if reserve { frame::alloc_user() } else { frame::alloc_contiguous(1, 1) }.ok_or(MapError::NoMemory)?;
            // SAFETY: both are whole frames reached through the direct map;
            // `new` was just allocated and nothing else refers to it.
            unsafe { core::ptr::copy_nonoverlapping(pa.virt(), new.virt(), PAGE_SIZE as usize) };
            frame::unshare(pa);
            new
        };
        t[i].set_addr(x86_64::PhysAddr::new(mine.0), owned_rights(flags));
        // The old entry may be cached: for the current PCID invlpg drops
        // it, for the others the next load of this space flushes. (A write
        // fault has already dropped the faulting address's entry from the
        // PCID it ran on: the CPU does that on every page fault.)
        crate::arch::x86_64::invlpg(va);
        self.changed();
        Ok(())
    }

    /// Readies the page holding `va` for the kernel to write into it
    /// through the direct map: false unless it is present and, when the
    /// write is on the program's behalf (`as_user`), user-accessible and
    /// writable by it. A copy-on-write page gets its own frame first, or
    /// the write would reach every space sharing it; out of memory for
    /// that, false too.
    pub fn prepare_write(&self, va: u64, as_user: bool) -> bool {
        let Some((_, f)) = self.translate(va) else { return false };
        if as_user && !(f.contains(Flags::USER_ACCESSIBLE) && f.intersects(Flags::WRITABLE | COW_WRITE)) {
            return false;
        }
        !f.contains(COW) || self.unshare_page(va & !(PAGE_SIZE - 1), false).is_ok()
    }

    /// A user write faulted on the present page holding `va`: resolves it
    /// if the page is copy-on-write in a writable mapping. Anything else
    /// (a read-only mapping's SIGSEGV) is the thread owner's
    /// ([`DemandFault::NotReserved`]), as is a copy with no frame left for
    /// it ([`DemandFault::NoMemory`]). `reserve` as for
    /// [`AddressSpace::populate`].
    pub fn write_fault(&self, va: u64, reserve: bool) -> DemandFault {
        match self.translate(va) {
            Some((_, f)) if f.contains(COW | COW_WRITE | Flags::USER_ACCESSIBLE) => match self.unshare_page(va & !(PAGE_SIZE - 1), reserve) {
                Ok(()) => DemandFault::Resolved,
                Err(_) => DemandFault::NoMemory,
            },
            _ => DemandFault::NotReserved,
        }
    }

    /// The frame behind the user page holding `va` if the kernel may reach
    /// it through the direct map as it is: present and user-accessible,
    /// and for a write (`write`) writable and not copy-on-write. None: it
    /// needs work first, or is refused (`mm::user` decides which). One
    /// page-table walk.
    pub fn ready_frame(&self, va: u64, write: bool) -> Option<PhysAddr> {
        let (pa, f) = self.translate(va)?;
        let ok = f.contains(Flags::USER_ACCESSIBLE) && (!write || (f.contains(Flags::WRITABLE) && !f.contains(COW)));
        ok.then_some(pa)
    }

    /// The frame and rights behind the user page holding `va`.
    pub fn translate(&self, va: u64) -> Option<(PhysAddr, Flags)> {
        if va >= USER_END {
            return None;
        }
        let (t, i) = self.walk(va, false)?;
        let e = &t[i];
        if !e.flags().contains(Flags::PRESENT) {
            return None;
        }
        Some((PhysAddr(e.addr().as_u64() + (va % PAGE_SIZE)), e.flags()))
    }
}

/// Fills the fresh table `dst` (at `level`, 3 = PDPT) with copies of
/// `src`'s entries: new tables below, and at level 1 the same frames,
/// private ones turned copy-on-write in both entries.
fn clone_level(src: PhysAddr, dst: PhysAddr, level: u32) -> Option<()> {
    let (s, d) = (table(src), table(dst));
    for i in 0..512 {
        if s[i].is_unused() {
            continue;
        }
        let (pa, flags) = (PhysAddr(s[i].addr().as_u64()), s[i].flags());
        if level == 1 && !flags.contains(Flags::PRESENT) {
            // A reservation: the copy reserves the same page, and each
            // space zeroes its own when it is first used.
            d[i] = s[i].clone();
            continue;
        }
        if level > 1 {
            // User halves hold 4 KiB pages only (every map is a page).
            debug_assert!(!flags.contains(Flags::HUGE_PAGE));
            let t = frame::alloc_zeroed()?;
            d[i].set_addr(x86_64::PhysAddr::new(t.0), flags);
            clone_level(pa, t, level - 1)?;
            continue;
        }
        if flags.intersects(SHARED | COW) {
            frame::share(pa); // the copy's mapping
        } else if !flags.contains(UNOWNED) {
            // A private frame, copy-on-write from now on: this entry and
            // the copy's both count.
            s[i].set_flags(COW | cow_rights(flags));
            frame::share(pa);
            frame::share(pa);
        }
        d[i] = s[i].clone();
    }
    Some(())
}

/// What [`AddressSpace::demand_fault`] (or [`AddressSpace::write_fault`])
/// made of a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemandFault {
    /// Not a reserved (or copy-on-write) page: the fault is the thread
    /// owner's.
    NotReserved,
    /// The page has its frame; the access runs again.
    Resolved,
    /// Reserved, but its rights forbid the access (PROT_NONE, a write to
    /// a read-only page, a fetch from a no-exec page).
    Denied,
    /// Reserved (or copy-on-write), but no frame was left for it.
    NoMemory,
}

/// Walks a tree and lists its present leaves in `slots` of the PML4.
pub fn leaf_runs(root: PhysAddr, slots: core::ops::Range<usize>) -> alloc::vec::Vec<(u64, u64, Flags)> {
    let mut runs: alloc::vec::Vec<(u64, u64, Flags)> = alloc::vec::Vec::new();
    let mut push = |va: u64, size: u64, flags: Flags| {
        let flags = flags & (Flags::WRITABLE | Flags::USER_ACCESSIBLE | Flags::NO_EXECUTE | Flags::GLOBAL | OWNERSHIP | COW_WRITE);
        match runs.last_mut() {
            Some(last) if last.1 == va && last.2 == flags => last.1 += size,
            _ => runs.push((va, va + size, flags)),
        }
    };
    fn canon(va: u64) -> u64 {
        ((va << 16) as i64 >> 16) as u64
    }
    for i4 in slots {
        let e4 = &table(root)[i4];
        if e4.is_unused() {
            continue;
        }
        for i3 in 0..512 {
            let e3 = &table(PhysAddr(e4.addr().as_u64()))[i3];
            if !e3.flags().contains(Flags::PRESENT) {
                continue;
            }
            let va3 = canon(((i4 as u64) << 39) | ((i3 as u64) << 30));
            if e3.flags().contains(Flags::HUGE_PAGE) {
                push(va3, 1 << 30, e3.flags());
                continue;
            }
            for i2 in 0..512 {
                let e2 = &table(PhysAddr(e3.addr().as_u64()))[i2];
                if !e2.flags().contains(Flags::PRESENT) {
                    continue;
                }
                let va2 = va3 | ((i2 as u64) << 21);
                if e2.flags().contains(Flags::HUGE_PAGE) {
                    push(va2, 2 << 20, e2.flags());
                    continue;
                }
                for i1 in 0..512 {
                    let e1 = &table(PhysAddr(e2.addr().as_u64()))[i1];
                    if e1.flags().contains(Flags::PRESENT) {
                        push(va2 | ((i1 as u64) << 12), PAGE_SIZE, e1.flags());
                    }
                }
            }
        }
    }
    runs
}

impl Drop for AddressSpace {
    fn drop(&mut self) {
        fn free_level(t: PhysAddr, level: u32) {
            for i in 0..512 {
                let e = &table(t)[i];
                if e.is_unused() {
                    continue;
                }
                let pa = PhysAddr(e.addr().as_u64());
                if level > 1 {
                    free_level(pa, level - 1);
                    frame::free(pa, 1);
                } else {
                    release_leaf(pa.0, e.flags());
                }
            }
        }
        let kernel = table(self.pair);
        for i in 0..KERNEL_HALF {
            if !kernel[i].is_unused() {
                let pa = PhysAddr(kernel[i].addr().as_u64());
                free_level(pa, 3);
                frame::free(pa, 1);
            }
        }
        frame::free(self.pair, 2);
    }
}
