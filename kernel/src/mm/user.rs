//! Checked access to user memory.
//!
//! A user address is an allegation from a program (Hubris' words): it may
//! be unmapped, read-only, or point into the kernel. The kernel never
//! dereferences one. It walks the owning address space's page tables and
//! copies through the direct map, page by page, so a bad pointer becomes
//! [`BadUserAddress`] (the caller's `-EFAULT`), never a kernel page fault,
//! and the copy works the same whether or not that space is the one in CR3.

use super::paging::{AddressSpace, Flags};
use lstar_abi::PAGE_SIZE;

/// A user range that failed the check: unmapped, not user-accessible, not
/// writable for a write, or outside the user half (or no memory left to
/// copy a copy-on-write page or fill a demand-zero one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadUserAddress;

/// `len` bytes at `addr` in some address space, as a program claimed them.
#[derive(Clone, Copy, Debug)]
pub struct UserSlice {
    pub addr: u64,
    pub len: usize,
}

impl UserSlice {
    pub fn new(addr: u64, len: u64) -> Result<UserSlice, BadUserAddress> {
        let len = usize::try_from(len).map_err(|_| BadUserAddress)?;
        addr.checked_add(len as u64).filter(|&end| end <= super::paging::USER_END).ok_or(BadUserAddress)?;
        Ok(UserSlice { addr, len })
    }

    /// Copies the whole range from `space` into `out[..self.len]`.
    pub fn read(&self, space: &AddressSpace, out: &mut [u8]) -> Result<(), BadUserAddress> {
        chunks(space, self.addr, self.len, Access::Read, |pa, off, n| {
            // SAFETY: `pa` is the direct-map address of a present user page
            // of `space` with at least `n` bytes left in it; `out` has room.
            unsafe { core::ptr::copy_nonoverlapping(pa, out[off..off + n].as_mut_ptr(), n) }
        })
    }

    /// Copies `data` (at most `self.len` bytes) into the range in `space`.
    pub fn write(&self, space: &AddressSpace, data: &[u8]) -> Result<(), BadUserAddress> {
        self.write_as(space, data, Access::UserWrite)
    }

    fn write_as(&self, space: &AddressSpace, data: &[u8], access: Access) -> Result<(), BadUserAddress> {
        let len = data.len().min(self.len);
        chunks(space, self.addr, len, access, |pa, off, n| {
            // SAFETY: as in `read`, and the page is writable by the user.
            unsafe { core::ptr::copy_nonoverlapping(data[off..off + n].as_ptr(), pa, n) }
        })
    }
}

/// Copies `len` bytes from `src` in `from` to `dst` in `to` (another
/// space or the same), through the direct map with no buffer between.
/// Both ranges are checked whole first, so a bad one copies nothing;
/// `fill`: the destination is a space the caller created, being filled
/// (a program's read-only text): its pages need only be present.
pub fn copy(from: &AddressSpace, src: u64, to: &AddressSpace, dst: u64, len: usize, fill: bool) -> Result<(), BadUserAddress> {
    if len == 0 {
        // Nothing is touched, so nothing can fault (an empty Vec's
        // pointer is dangling).
        return Ok(());
    }
    let write = if fill { Access::Fill } else { Access::UserWrite };
    // Within one page on both sides (most syscalls' buffers): one walk
    // each when the pages are ready, which checks and translates at once.
    if one_page(src, len) && one_page(dst, len) {
        let sp = ready(from, src, Access::Read)?;
        let dp = ready(to, dst, write)?;
        // SAFETY: as below, for the one piece.
        unsafe { core::ptr::copy(sp.virt(), dp.virt(), len) };
        return Ok(());
    }
    check(from, src, len, Access::Read)?;
    check(to, dst, len, write)?;
    let mut off = 0;
    while off < len {
        let (s, d) = (src + off as u64, dst + off as u64);
        let n = (PAGE_SIZE - s % PAGE_SIZE).min(PAGE_SIZE - d % PAGE_SIZE).min((len - off) as u64) as usize;
        let (sp, _) = from.translate(s).ok_or(BadUserAddress)?;
        let (dp, _) = to.translate(d).ok_or(BadUserAddress)?;
        // SAFETY: both are direct-map addresses of present user pages with
        // at least `n` bytes left in them (checked above); `copy` allows
        // the two to overlap, as they may within one space.
        unsafe { core::ptr::copy(sp.virt(), dp.virt(), n) };
        off += n;
    }
    Ok(())
}

/// Checks every page of `[addr, addr+len)` first, then calls `f(direct-map
/// pointer, offset, n)` for each piece, so a failing range copies nothing.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    UserWrite,
    Fill,
}

fn chunks(space: &AddressSpace, addr: u64, len: usize, access: Access, mut f: impl FnMut(*mut u8, usize, usize)) -> Result<(), BadUserAddress> {
    if len != 0 && one_page(addr, len) {
        f(ready(space, addr, access)?.virt(), 0, len);
        return Ok(());
    }
    check(space, addr, len, access)?;
    let mut off = 0;
    while off < len {
        let va = addr + off as u64;
        let n = (PAGE_SIZE - va % PAGE_SIZE).min((len - off) as u64) as usize;
        let (pa, _) = space.translate(va).ok_or(BadUserAddress)?;
        f(pa.virt(), off, n);
        off += n;
    }
    Ok(())
}

/// Whether `[addr, addr+len)` (`len` > 0) lies within one page.
fn one_page(addr: u64, len: usize) -> bool {
    addr % PAGE_SIZE + len as u64 <= PAGE_SIZE
}

/// The direct-map address of `va` in `space`, its page checked and made
/// ready for `access` as `check` does: at once if it is ready already.
fn ready(space: &AddressSpace, va: u64, access: Access) -> Result<super::PhysAddr, BadUserAddress> {
    if access != Access::Fill {
        if let Some(pa) = space.ready_frame(va, access == Access::UserWrite) {
            return Ok(pa);
        }
    }
    check(space, va, 1, access)?;
    space.translate(va).map(|(pa, _)| pa).ok_or(BadUserAddress)
}

/// Whether every page of `[addr, addr+len)` allows `access`. A reserved
/// (demand-zero) page the access may reach gets its zeroed frame first,
/// and for a write each page is also readied for it (a copy-on-write page
/// gets its own frame), so a range that fails part way may have had some
/// pages filled in or copied: harmless, they hold the same bytes. Out of
/// memory for that: refused too. A copy into a space being built (`Fill`)
/// may use the frames a program's own faults leave free.
fn check(space: &AddressSpace, addr: u64, len: usize, access: Access) -> Result<(), BadUserAddress> {
    let mut page = addr & !(PAGE_SIZE - 1);
    let end = addr.checked_add(len as u64).ok_or(BadUserAddress)?;
    let needs = match access {
        Access::Read => Flags::USER_ACCESSIBLE,
        Access::UserWrite => Flags::USER_ACCESSIBLE | Flags::WRITABLE,
        Access::Fill => Flags::empty(),
    };
    while page < end {
        space.populate(page, needs, access != Access::Fill).map_err(|_| BadUserAddress)?;
        let ok = match access {
            Access::Read => space.translate(page).is_some_and(|(_, f)| f.contains(Flags::USER_ACCESSIBLE)),
            Access::UserWrite => space.prepare_write(page, true),
            Access::Fill => space.prepare_write(page, false),
        };
        if !ok {
            return Err(BadUserAddress);
        }
        page += PAGE_SIZE;
    }
    Ok(())
}
