//! A process's memory calls: brk, mmap, munmap, mprotect, mremap, madvise,
//! msync.
//! The [`Map`](proc_server::vm::Map) decides; the kernel's address-space
//! calls carry it out.

use super::*;

const MAP_SHARED: u64 = 0x01;
const MAP_SHARED_VALIDATE: u64 = 0x03;
const MAP_FIXED: u64 = 0x10;
const MAP_ANONYMOUS: u64 = 0x20;
const MAP_FIXED_NOREPLACE: u64 = 0x10_0000;
const MREMAP_MAYMOVE: u64 = 1;
const MREMAP_FIXED: u64 = 2;
const MADV_DONTNEED: u64 = 4;
const PAGE: u64 = 4096;
/// Room kept above the program break for it to grow into.
const BRK_ROOM: u64 = 1 << 30;
const RW: u64 = prot::READ | prot::WRITE;
const PROT_ALL: u64 = prot::READ | prot::WRITE | prot::EXEC;

fn pages(len: u64) -> Result<u64, Errno> {
    len.checked_next_multiple_of(PAGE).ok_or(Errno::ENOMEM)
}

impl Process {
    /// brk(2): returns the new break, or the old one when it cannot move.
    pub(crate) fn set_brk(&mut self, want: u64) -> u64 {
        if want < self.brk_start || want > self.brk_start + BRK_ROOM {
            return self.brk;
        }
        let old_top = self.brk.next_multiple_of(PAGE);
        let new_top = want.next_multiple_of(PAGE);
        if new_top > old_top {
            if !self.map.is_free(old_top, new_top) || self.space.map(old_top, new_top - old_top, RW).is_err() {
                let _ = self.space.unmap(old_top, new_top - old_top);
                return self.brk;
            }
            self.map.insert(old_top, new_top, RW);
        } else if new_top < old_top {
            self.map.remove(new_top, old_top);
            let _ = self.space.unmap(new_top, old_top - new_top);
        }
        self.brk = want;
        want
    }

    /// mmap(2): anonymous mappings, private or shared (shared ones keep
    /// their frames shared with the process's forks); private file
    /// mappings (a copy of the file's bytes, read through the file server;
    /// beyond the file's end the pages are zero); shared file mappings
    /// (the file server's own pages of the file, granted into the space:
    /// D23); and /dev/zero, which is anonymous memory either way. The
    /// errors come in Linux's order, and none unmaps anything.
    #[allow(clippy::too_many_arguments)] // mmap's own argument list, and where the file is
    pub(crate) fn mmap(&mut self, addr: u64, len: u64, prot_bits: u64, flags: u64, fd: i32, offset: u64, fs: Option<u64>) -> Result<u64, Errno> {
        if offset % PAGE != 0 {
            return Err(Errno::EINVAL);
        }
        let file = if flags & MAP_ANONYMOUS == 0 {
            let fs = fs.ok_or(Errno::EBADF)?;
            let fd = u32::try_from(fd).map_err(|_| Errno::EBADF)?;
            Some((fs, fd, map_info(fs, self.pid, fd)?))
        } else {
            None
        };
        let kind = flags & MAP_SHARED_VALIDATE;
        if len == 0 || prot_bits & !PROT_ALL != 0 {
            return Err(Errno::EINVAL);
        }
        let len = pages(len)?;
        let at = self.place(addr, len, flags)?;
        if kind == 0 {
            return Err(Errno::EINVAL);
        }
        let shared = kind & MAP_SHARED != 0;
        let backing = match file {
            None => Backing::Anon,
            Some((fs, fd, info)) => file_backing(info, shared, prot_bits, fs, fd)?,
        };
        if flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0 {
            for (s, e) in self.map.remove(at, at + len) {
                self.space.unmap(s, e - s)?;
            }
        }
        match backing {
            Backing::Anon => self.map_fresh(at, len, prot_bits, shared).map_err(no_room)?,
            Backing::Private(fs, fd) => {
                self.map_fresh(at, len, prot_bits, false).map_err(no_room)?;
                match self.copy_file(fs, fd, offset, at, len) {
                    // Pages wholly past the file's end stay recorded but
                    // empty: touching them is SIGBUS, as on Linux.
                    Ok(copied) => {
                        let file_end = copied.next_multiple_of(PAGE);
                        if file_end < len {
                            self.space.unmap(at + file_end, len - file_end)?;
                        }
                    }
                    Err(e) => {
                        self.unmap_new(at, len);
                        return Err(e);
                    }
                }
            }
            Backing::Shared { fs, fd, may_write } => {
                let req = lstar_abi::fs::FdMap { pid: self.pid.into(), fd: fd.into(), offset, space: self.space.0, addr: at, len, prot: prot_bits };
                let bytes = req.to_bytes();
                libsys::call(fs, lstar_abi::fs::MAP_SHARED, [bytes.as_ptr() as u64, 0, 0, 0]).map_err(no_room)?;
                // Past what the file server mapped (the file's last page)
                // the range stays empty, recorded as the mapping's.
                self.map.insert_vma(proc_server::vm::Vma { start: at, end: at + len, prot: prot_bits, shared: true, may_write });
            }
        }
        Ok(at)
    }

    /// Where a new mapping of `len` bytes goes: at `addr` for MAP_FIXED
    /// (whatever is there goes when it is mapped) and MAP_FIXED_NOREPLACE
    /// (`EEXIST` if taken), else at the hint if it is free, else the
    /// highest free gap.
    fn place(&self, addr: u64, len: u64, flags: u64) -> Result<u64, Errno> {
        if flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0 {
            if addr % PAGE != 0 || addr.checked_add(len).is_none_or(|e| e > STACK_TOP) {
                return Err(Errno::EINVAL);
            }
            if flags & MAP_FIXED_NOREPLACE != 0 && !self.map.is_free(addr, addr + len) {
                return Err(Errno::EEXIST);
            }
            return Ok(addr);
        }
        if addr != 0 && addr % PAGE == 0 && addr >= self.brk_start + BRK_ROOM && addr.checked_add(len).is_some_and(|e| e <= MMAP_TOP) && self.map.is_free(addr, addr + len) {
            return Ok(addr); // the hint is free: take it
        }
        self.map.free_below(len, self.brk_start + BRK_ROOM, MMAP_TOP).ok_or(Errno::ENOMEM)
    }

    /// Fills the fresh private mapping at `[at, at+len)` with the file's
    /// bytes from `offset`; past the file's end it stays zero. Returns how
    /// many bytes the file had for it.
    fn copy_file(&mut self, fs: u64, fd: u32, offset: u64, at: u64, len: u64) -> Result<u64, Errno> {
        let mut buf = alloc::vec![0u8; 64 * 1024];
        let mut done = 0u64;
        while done < len {
            let want = (len - done).min(buf.len() as u64) as usize;
            let n = read_fd(fs, self.pid, fd, offset + done, &mut buf[..want])?;
            if n == 0 {
                break;
            }
            self.space.write(at + done, &buf[..n])?;
            done += n as u64;
        }
        Ok(done)
    }

    /// Takes back a mapping that failed half way.
    fn unmap_new(&mut self, at: u64, len: u64) {
        self.map.remove(at, at + len);
        let _ = self.space.unmap(at, len);
    }

    /// Maps zeroed pages at `[at, at+len)` and records them; `shared` for
    /// MAP_SHARED memory. Private pages are only reserved: the kernel gives
    /// each its frame on first touch (D25).
    fn map_fresh(&mut self, at: u64, len: u64, prot_bits: u64, shared: bool) -> Result<(), Errno> {
        if shared {
            self.space.map_shared(at, len, prot_bits)?;
        } else {
            self.space.map(at, len, prot_bits)?;
        }
        self.map.insert_vma(proc_server::vm::Vma { start: at, end: at + len, prot: prot_bits, shared, may_write: true });
        Ok(())
    }

    pub(crate) fn munmap(&mut self, addr: u64, len: u64) -> Result<u64, Errno> {
        if addr % PAGE != 0 || len == 0 {
            return Err(Errno::EINVAL);
        }
        let end = addr.checked_add(pages(len)?).ok_or(Errno::EINVAL)?;
        for (s, e) in self.map.remove(addr, end) {
            self.space.unmap(s, e - s)?;
        }
        Ok(0)
    }

    pub(crate) fn mprotect(&mut self, addr: u64, len: u64, prot_bits: u64) -> Result<u64, Errno> {
        const PROT_GROWSDOWN: u64 = 0x0100_0000;
        if addr % PAGE != 0 || prot_bits & !(PROT_ALL | PROT_GROWSDOWN) != 0 {
            return Err(Errno::EINVAL);
        }
        if len == 0 {
            return Ok(0);
        }
        let end = addr.checked_add(pages(len)?).ok_or(Errno::ENOMEM)?;
        let prot_bits = prot_bits & PROT_ALL;
        if !self.map.covers(addr, end) {
            return Err(Errno::ENOMEM);
        }
        if prot_bits & prot::WRITE != 0 && self.map.denies_write(addr, end) {
            return Err(Errno::EACCES);
        }
        self.map.protect(addr, end, prot_bits);
        self.space.protect(addr, end - addr, prot_bits)?;
        Ok(0)
    }

    pub(crate) fn mremap(&mut self, old: u64, old_len: u64, new_len: u64, flags: u64, new_addr: u64) -> Result<u64, Errno> {
        if old % PAGE != 0 || new_len == 0 || flags & !(MREMAP_MAYMOVE | MREMAP_FIXED) != 0 || (flags & MREMAP_FIXED != 0 && flags & MREMAP_MAYMOVE == 0) {
            return Err(Errno::EINVAL);
        }
        let (old_len, new_len) = (pages(old_len)?, pages(new_len)?);
        let old_end = old.checked_add(old_len).ok_or(Errno::EINVAL)?;
        if !self.map.covers(old, old_end) {
            return Err(Errno::EFAULT);
        }
        let (prot_bits, shared, may_write) = self.map.find(old).map_or((RW, false, true), |v| (v.prot, v.shared, v.may_write));
        if flags & MREMAP_FIXED != 0 {
            if new_addr % PAGE != 0 || (new_addr < old_end && old < new_addr + new_len) {
                return Err(Errno::EINVAL);
            }
            return self.move_to(old, old_len, new_addr, new_len, prot_bits, shared, may_write);
        }
        if new_len <= old_len {
            self.munmap(old + new_len, old_len - new_len)?;
            return Ok(old);
        }
        let grow_end = old.checked_add(new_len).ok_or(Errno::ENOMEM)?;
        if grow_end <= MMAP_TOP && self.map.is_free(old_end, grow_end) {
            self.map_fresh(old_end, new_len - old_len, prot_bits, shared)?;
            return Ok(old);
        }
        if flags & MREMAP_MAYMOVE == 0 {
            return Err(Errno::ENOMEM);
        }
        let to = self.map.free_below(new_len, self.brk_start + BRK_ROOM, MMAP_TOP).ok_or(Errno::ENOMEM)?;
        self.move_to(old, old_len, to, new_len, prot_bits, shared, may_write)
    }

    /// Moves `[old, old+old_len)` to `to`, growing it to `new_len` with
    /// fresh pages (or cutting it short), replacing whatever was at `to`.
    #[allow(clippy::too_many_arguments)] // the range, where it goes, and the mapping's attributes
    fn move_to(&mut self, old: u64, old_len: u64, to: u64, new_len: u64, prot_bits: u64, shared: bool, may_write: bool) -> Result<u64, Errno> {
        for (s, e) in self.map.remove(to, to + new_len) {
            self.space.unmap(s, e - s)?;
        }
        let keep = old_len.min(new_len);
        self.space.move_pages(old, to, keep)?;
        if old_len > keep {
            self.space.unmap(old + keep, old_len - keep)?;
        }
        self.map.remove(old, old + old_len);
        self.map.insert_vma(proc_server::vm::Vma { start: to, end: to + keep, prot: prot_bits, shared, may_write });
        if new_len > keep {
            self.map_fresh(to + keep, new_len - keep, prot_bits, shared)?;
        }
        Ok(to)
    }

    /// msync(2): the checks only. A shared file mapping is the file
    /// server's own pages of the file (D23), so there is nothing to write
    /// back.
    pub(crate) fn msync(&self, addr: u64, len: u64, flags: u64) -> Result<u64, Errno> {
        const MS_ASYNC: u64 = 1;
        const MS_INVALIDATE: u64 = 2;
        const MS_SYNC: u64 = 4;
        if flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0 || addr % PAGE != 0 || (flags & MS_ASYNC != 0 && flags & MS_SYNC != 0) {
            return Err(Errno::EINVAL);
        }
        let end = pages(len).ok().and_then(|l| addr.checked_add(l)).ok_or(Errno::ENOMEM)?;
        if end > addr && !self.map.covers(addr, end) {
            return Err(Errno::ENOMEM);
        }
        Ok(0)
    }

    /// The signal for a page fault at `addr` that a mapping covers but
    /// the page tables do not: the pages of a file mapping past the end of
    /// the file, which Linux answers with SIGBUS (BUS_ADRERR). Every other
    /// recorded page is mapped or reserved (the kernel reports a reserved
    /// page's forbidden access as a protection fault), so `None` leaves
    /// the fault to the usual rule.
    ///
    /// A fault the kernel marks [`lstar_abi::native::FAULT_NO_MEMORY`] (a
    /// demand-zero page with no frame left for it, D25) is SIGKILL: Linux's
    /// OOM killer ends the program that touched more memory than there is
    /// the same way, with a signal it cannot catch.
    pub(crate) fn bus_error(&self, vector: u64, error: u64, addr: u64) -> Option<signal::Info> {
        const PAGE_FAULT: u64 = 14;
        const PF_PRESENT: u64 = 1;
        const BUS_ADRERR: i32 = 2;
        if vector == PAGE_FAULT && error & lstar_abi::native::FAULT_NO_MEMORY != 0 {
            return Some(signal::Info { signo: signal::SIGKILL, pid_or_addr: addr, ..signal::Info::default() });
        }
        if vector != PAGE_FAULT || error & PF_PRESENT != 0 || self.map.find(addr).is_none() {
            return None;
        }
        Some(signal::Info { signo: signal::SIGBUS, code: BUS_ADRERR, pid_or_addr: addr, ..signal::Info::default() })
    }

    pub(crate) fn madvise(&mut self, addr: u64, len: u64, advice: u64) -> Result<u64, Errno> {
        if addr % PAGE != 0 {
            return Err(Errno::EINVAL);
        }
        // Hints Linux accepts; only DONTNEED changes what a program sees.
        const KNOWN: [u64; 14] = [0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 16, 17];
        if !KNOWN.contains(&advice) {
            return Err(Errno::EINVAL);
        }
        let end = addr.checked_add(pages(len)?).ok_or(Errno::EINVAL)?;
        if !self.map.covers(addr, end) {
            return Err(Errno::ENOMEM);
        }
        if advice == MADV_DONTNEED {
            // Anonymous private memory reads back as zeroes afterwards
            // (the pages are reserved again, D25); shared memory keeps
            // what it holds.
            let pieces: Vec<(u64, u64, u64)> = self.map.iter().filter(|v| v.start < end && v.end > addr && !v.shared).map(|v| (v.start.max(addr), v.end.min(end), v.prot)).collect();
            for (s, e, p) in pieces {
                self.space.unmap(s, e - s)?;
                self.space.map(s, e - s, p)?;
            }
        }
        Ok(0)
    }
}

/// What a new mapping is made of.
enum Backing {
    /// Fresh zeroed pages (MAP_ANONYMOUS, /dev/zero).
    Anon,
    /// A copy of a file: the file server's endpoint, the descriptor.
    Private(u64, u32),
    /// The file's own pages, from the file server; `may_write` when the
    /// descriptor is open for writing.
    Shared { fs: u64, fd: u32, may_write: bool },
}

/// mmap's checks of the descriptor (`info` from MAP_INFO), in Linux's
/// order: a shared writable mapping needs it open for writing, every
/// mapping needs it open for reading (EACCES), and only some files can be
/// mapped at all (ENODEV).
fn file_backing(info: u64, shared: bool, prot_bits: u64, fs: u64, fd: u32) -> Result<Backing, Errno> {
    use lstar_abi::fs::map_info;
    let may_write = info & map_info::WRITE != 0;
    if shared && prot_bits & prot::WRITE != 0 && !may_write {
        return Err(Errno::EACCES);
    }
    if info & map_info::READ == 0 {
        return Err(Errno::EACCES);
    }
    match info & map_info::KIND_MASK {
        map_info::KIND_ZERO => Ok(Backing::Anon),
        map_info::KIND_FILE if shared => Ok(Backing::Shared { fs, fd, may_write }),
        map_info::KIND_FILE => Ok(Backing::Private(fs, fd)),
        _ => Err(Errno::ENODEV),
    }
}

/// A space with no room left at an address the map had free is out of
/// memory, as far as the program can tell.
fn no_room(e: Errno) -> Errno {
    if e == Errno::EEXIST { Errno::ENOMEM } else { e }
}

/// How `pid`'s descriptor `fd` can be mapped (MAP_INFO): a
/// lstar_abi::fs::map_info word.
fn map_info(fs: u64, pid: u32, fd: u32) -> Result<u64, Errno> {
    libsys::call(fs, lstar_abi::fs::MAP_INFO, [pid.into(), fd.into(), 0, 0])
}

/// Reads part of `pid`'s open file `fd` through the file server (READ_FD).
fn read_fd(fs: u64, pid: u32, fd: u32, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
    let req = lstar_abi::fs::FdRead { pid: pid as u64, fd: fd as u64, offset, buf: buf.as_mut_ptr() as u64, buf_len: buf.len() as u64 }.to_request();
    let bytes = req.to_bytes();
    libsys::call(fs, lstar_abi::fs::READ_FD, [bytes.as_ptr() as u64, 0, 0, 0]).map(|n| n as usize)
}
