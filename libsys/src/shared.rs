//! Bytes a server keeps in shared pages of its own address space, so that
//! it can grant the same frames to other spaces (NativeCall::AsGrant): the
//! file server keeps a file that is mapped MAP_SHARED this way, and its
//! read and write then touch the very memory the mappings show.
//!
//! A [`SharedMem`] is contiguous in the server's space: it lives in a
//! window of address space reserved for it and moves (pages, not bytes,
//! NativeCall::AsMove) to a bigger window when it outgrows its own. Past
//! its length, up to the end of its last page, it always reads as zero,
//! as a file mapping shows past the file's end. On the host (unit tests)
//! it is a plain vector, and granting fails with `ENODEV`.

use lstar_abi::errno::Errno;
use lstar_abi::native::AsId;
use lstar_abi::{ThreadId, PAGE_SIZE};

/// Growing, page-backed bytes that can be granted to other spaces.
pub struct SharedMem {
    imp: imp::Pages,
}

impl Default for SharedMem {
    fn default() -> Self {
        SharedMem::new()
    }
}

impl SharedMem {
    /// No bytes, and no memory yet.
    pub fn new() -> SharedMem {
        SharedMem { imp: imp::Pages::new() }
    }

    pub fn len(&self) -> usize {
        self.imp.len
    }

    pub fn is_empty(&self) -> bool {
        self.imp.len == 0
    }

    /// Bytes of memory it holds: whole pages.
    pub fn capacity(&self) -> usize {
        self.imp.len.next_multiple_of(PAGE_SIZE as usize)
    }

    /// Makes it `len` bytes long. New pages are zero; cutting it zeroes
    /// the rest of its new last page, as Linux's truncate does to a file's
    /// page. Growing within the last page keeps what is there: zero,
    /// unless a mapping stored past the end (which Linux's tmpfs keeps
    /// too). `ENOMEM` when no frame or no address space is left (it keeps
    /// its old length then).
    pub fn resize(&mut self, len: usize) -> Result<(), Errno> {
        let old = self.imp.len;
        if len > old {
            self.imp.grow(len)?;
        } else if len < old {
            let page_end = len.next_multiple_of(PAGE_SIZE as usize).min(self.capacity());
            self.imp.bytes_mut()[len..page_end].fill(0);
            self.imp.shrink(len);
        }
        Ok(())
    }

    /// The bytes. Other spaces may map them: they can change between two
    /// looks, as a file's bytes do under a program that maps it.
    pub fn bytes(&self) -> &[u8] {
        &self.imp.bytes()[..self.imp.len]
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        let len = self.imp.len;
        &mut self.imp.bytes_mut()[..len]
    }

    /// Maps its pages from byte `offset` (page-aligned), `len` bytes (whole
    /// pages, all within [`SharedMem::capacity`]), into space `space` at
    /// `addr` with `prot`: `space` belongs to the server whose thread
    /// `client` awaits this server's reply (NativeCall::AsGrant).
    pub fn grant(&self, client: ThreadId, space: AsId, addr: u64, offset: usize, len: usize, prot: u64) -> Result<(), Errno> {
        if !offset.is_multiple_of(PAGE_SIZE as usize) || offset.checked_add(len).is_none_or(|end| end > self.capacity()) {
            return Err(Errno::EINVAL);
        }
        if len == 0 {
            return Ok(());
        }
        self.imp.grant(client, space, addr, offset, len, prot)
    }
}

#[cfg(target_os = "none")]
mod imp {
    use super::*;
    use crate::mem::Space;
    use alloc::collections::BTreeMap;
    use alloc::vec::Vec;
    use lstar_abi::native::{prot, NativeCall};
    use spin::Mutex;

    /// Where the windows are, in every server that uses them: far above
    /// the heap (crate::rt) and the initrd, far below the stack.
    const WINDOWS_BASE: u64 = 0x100_0000_0000;
    const WINDOWS_END: u64 = 0x400_0000_0000;
    /// The smallest window: 64 KiB. Sizes are powers of two.
    const MIN_WINDOW: u64 = 1 << 16;

    /// The next unused address, and windows given back, by size.
    static WINDOWS: Mutex<(u64, BTreeMap<u64, Vec<u64>>)> = Mutex::new((WINDOWS_BASE, BTreeMap::new()));

    fn take_window(size: u64) -> Result<u64, Errno> {
        let mut w = WINDOWS.lock();
        if let Some(base) = w.1.get_mut(&size).and_then(Vec::pop) {
            return Ok(base);
        }
        let base = w.0;
        if base.checked_add(size).is_none_or(|end| end > WINDOWS_END) {
            return Err(Errno::ENOMEM);
        }
        w.0 = base + size;
        Ok(base)
    }

    fn give_window(base: u64, size: u64) {
        WINDOWS.lock().1.entry(size).or_default().push(base);
    }

    pub struct Pages {
        pub len: usize,
        /// The window: `size` bytes at `base` (0 when it has none), of which
        /// the first `mapped` are mapped.
        base: u64,
        size: u64,
        mapped: u64,
    }

    impl Pages {
        pub fn new() -> Pages {
            Pages { len: 0, base: 0, size: 0, mapped: 0 }
        }

        pub fn bytes(&self) -> &[u8] {
            if self.mapped == 0 {
                return &[];
            }
            // SAFETY: `[base, base+mapped)` is mapped readable and writable
            // in this server's own space for as long as this value keeps it
            // (it unmaps only in `shrink`, `grow`'s move and `drop`, which
            // take `&mut self`), and no other value of this server refers
            // to it. Other spaces the pages were granted to may write them
            // meanwhile: the bytes are only ever copied in and out, never
            // trusted to stay as they were.
            unsafe { core::slice::from_raw_parts(self.base as *const u8, self.mapped as usize) }
        }

        pub fn bytes_mut(&mut self) -> &mut [u8] {
            if self.mapped == 0 {
                return &mut [];
            }
            // SAFETY: as in `bytes`; `&mut self` makes this the only
            // reference this server holds.
            unsafe { core::slice::from_raw_parts_mut(self.base as *mut u8, self.mapped as usize) }
        }

        pub fn grow(&mut self, len: usize) -> Result<(), Errno> {
            let want = (len as u64).next_multiple_of(PAGE_SIZE);
            let space = Space::current()?;
            if want > self.size {
                let size = want.next_power_of_two().max(MIN_WINDOW);
                let base = take_window(size)?;
                if self.mapped > 0 {
                    if let Err(e) = space.move_pages(self.base, base, self.mapped) {
                        give_window(base, size);
                        return Err(e);
                    }
                }
                if self.size > 0 {
                    give_window(self.base, self.size);
                }
                (self.base, self.size) = (base, size);
            }
            if want > self.mapped {
                space.map_shared(self.base + self.mapped, want - self.mapped, prot::READ | prot::WRITE)?;
                self.mapped = want;
            }
            self.len = len;
            Ok(())
        }

        pub fn shrink(&mut self, len: usize) {
            let keep = (len as u64).next_multiple_of(PAGE_SIZE);
            if keep < self.mapped {
                // Fails only for a space that is not ours, which this is.
                if let Ok(space) = Space::current() {
                    let _ = space.unmap(self.base + keep, self.mapped - keep);
                }
                self.mapped = keep;
            }
            self.len = len;
        }

        pub fn grant(&self, client: ThreadId, space: AsId, addr: u64, offset: usize, len: usize, prot: u64) -> Result<(), Errno> {
            let a = [client, space, addr, self.base + offset as u64, len as u64, prot];
            crate::raw::call0(NativeCall::AsGrant, a).map(drop)
        }
    }

    impl Drop for Pages {
        fn drop(&mut self) {
            self.shrink(0);
            if self.size > 0 {
                give_window(self.base, self.size);
            }
        }
    }
}

#[cfg(not(target_os = "none"))]
mod imp {
    use super::*;
    use alloc::vec::Vec;

    /// The host's stand-in: the bytes and the rest of the last page.
    pub struct Pages {
        pub len: usize,
        data: Vec<u8>,
    }

    impl Pages {
        pub fn new() -> Pages {
            Pages { len: 0, data: Vec::new() }
        }

        pub fn bytes(&self) -> &[u8] {
            &self.data
        }

        pub fn bytes_mut(&mut self) -> &mut [u8] {
            &mut self.data
        }

        pub fn grow(&mut self, len: usize) -> Result<(), Errno> {
            self.data.resize(len.next_multiple_of(PAGE_SIZE as usize), 0);
            self.len = len;
            Ok(())
        }

        pub fn shrink(&mut self, len: usize) {
            self.data.truncate(len.next_multiple_of(PAGE_SIZE as usize));
            self.len = len;
        }

        pub fn grant(&self, _: ThreadId, _: AsId, _: u64, _: usize, _: usize, _: u64) -> Result<(), Errno> {
            Err(Errno::ENODEV)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SharedMem;

    #[test]
    fn grows_and_shrinks_with_zeroes() {
        let mut m = SharedMem::new();
        m.resize(10).unwrap();
        m.bytes_mut().copy_from_slice(b"0123456789");
        m.resize(4).unwrap();
        assert_eq!(m.bytes(), b"0123");
        m.resize(8).unwrap();
        assert_eq!(m.bytes(), b"0123\0\0\0\0");
        // A cut clears the rest of its new last page.
        m.resize(5000).unwrap();
        m.bytes_mut()[100] = b'x';
        m.resize(4).unwrap();
        m.resize(200).unwrap();
        assert_eq!(m.bytes()[100], 0);
        assert_eq!(m.capacity(), 4096);
        m.resize(5000).unwrap();
        assert_eq!(m.capacity(), 8192);
        assert!(m.grant(1, 2, 0x1000, 4096, 8192, 3).is_err());
    }
}
