//! Physical memory, page tables, the kernel heap and checked access to
//! user memory. With `arch/x86_64`, this is where the kernel's `unsafe`
//! lives.

pub mod frame;
pub mod heap;
pub mod paging;
pub mod user;

/// All physical memory is mapped at this offset in the kernel half
/// (PML4 slot 256), so the kernel reaches any frame without remapping.
pub const PHYS_OFFSET: u64 = 0xffff_8000_0000_0000;

/// How much physical address space the direct map covers at least (the
/// LAPIC and I/O APIC live just below 4 GiB).
pub const DIRECT_MAP_MIN: u64 = 4 << 30;

/// A physical address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PhysAddr(pub u64);

impl PhysAddr {
    /// The direct-map virtual address of this physical address.
    pub fn virt(self) -> *mut u8 {
        (self.0 + PHYS_OFFSET) as *mut u8
    }
}

pub fn page_floor(addr: u64) -> u64 {
    addr & !(lstar_abi::PAGE_SIZE - 1)
}

pub fn page_ceil(addr: u64) -> Option<u64> {
    addr.checked_add(lstar_abi::PAGE_SIZE - 1).map(page_floor)
}

/// Writes `bytes` at physical `pa` through the direct map. For frames the
/// kernel owns and is filling (a page it just mapped for a server image).
pub fn write_phys(pa: PhysAddr, bytes: &[u8]) {
    assert!(pa.0 % lstar_abi::PAGE_SIZE + bytes.len() as u64 <= lstar_abi::PAGE_SIZE, "write_phys crosses a page");
    // SAFETY: within one frame, which the direct map covers; callers own it.
    unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), pa.virt(), bytes.len()) };
}
