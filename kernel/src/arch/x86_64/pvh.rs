//! The PVH start-of-day structure (`struct hvm_start_info`, Xen's public
//! ABI) that QEMU hands the boot stub: memory map, command line, RSDP and
//! the `-initrd` module.

use crate::mm::PHYS_OFFSET;

const MAGIC: u32 = 0x336e_c578;

#[repr(C)]
#[derive(Clone, Copy)]
struct StartInfo {
    magic: u32,
    version: u32,
    flags: u32,
    nr_modules: u32,
    modlist_paddr: u64,
    cmdline_paddr: u64,
    rsdp_paddr: u64,
    memmap_paddr: u64,
    memmap_entries: u32,
    reserved: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct Module {
    paddr: u64,
    size: u64,
    cmdline_paddr: u64,
    reserved: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct MemoryRange {
    pub addr: u64,
    pub size: u64,
    pub kind: u32,
    reserved: u32,
}

/// `MemoryRange::kind` of usable RAM.
pub const RAM: u32 = 1;
const MAX_RANGES: usize = 64;

/// What the kernel keeps from the start info. Physical ranges listed in
/// `boot_data` must be reserved before the frame allocator hands out
/// memory: the loader reserves none of them in the memory map.
pub struct BootInfo {
    pub memory: [MemoryRange; MAX_RANGES],
    pub memory_len: usize,
    pub cmdline: &'static str,
    pub rsdp: u64,
    /// Physical address and length of module 0 (the initrd).
    pub initrd: Option<(u64, u64)>,
    pub boot_data: [(u64, u64); 4],
}

fn read<T: Copy>(pa: u64) -> T {
    // SAFETY: the boot mapping covers the first GiB at PHYS_OFFSET, where
    // QEMU places the start info and its tables; T is plain data.
    unsafe { ((pa + PHYS_OFFSET) as *const T).read_unaligned() }
}

/// Parses the start info at physical `pa`.
pub fn parse(pa: u64) -> BootInfo {
    let si: StartInfo = read(pa);
    assert!(si.magic == MAGIC, "not booted through PVH (start info magic {:#x})", si.magic);
    let mut memory = [MemoryRange::default(); MAX_RANGES];
    let memory_len = (si.memmap_entries as usize).min(MAX_RANGES);
    for (i, slot) in memory.iter_mut().enumerate().take(memory_len) {
        *slot = read(si.memmap_paddr + (i * core::mem::size_of::<MemoryRange>()) as u64);
    }
    let cmdline = if si.cmdline_paddr == 0 { "" } else { c_str(si.cmdline_paddr) };
    let initrd = (si.nr_modules > 0).then(|| {
        let m: Module = read(si.modlist_paddr);
        (m.paddr, m.size)
    });
    let page = |a: u64, len: u64| (a & !0xfff, (a + len).next_multiple_of(0x1000));
    BootInfo {
        memory,
        memory_len,
        cmdline,
        rsdp: si.rsdp_paddr,
        initrd,
        boot_data: [
            page(pa, core::mem::size_of::<StartInfo>() as u64),
            page(si.memmap_paddr, (memory_len * core::mem::size_of::<MemoryRange>()) as u64),
            page(si.cmdline_paddr, cmdline.len() as u64 + 1),
            page(si.modlist_paddr, core::mem::size_of::<Module>() as u64 * si.nr_modules as u64),
        ],
    }
}

fn c_str(pa: u64) -> &'static str {
    let start = (pa + PHYS_OFFSET) as *const u8;
    let mut len = 0;
    // SAFETY: QEMU NUL-terminates the command line; the page stays
    // reserved (boot_data) and mapped for the kernel's lifetime.
    unsafe {
        while *start.add(len) != 0 && len < 4096 {
            len += 1;
        }
        core::str::from_utf8(core::slice::from_raw_parts(start, len)).unwrap_or("")
    }
}

/// The initrd's bytes, once its frames are reserved.
pub fn initrd_bytes(pa: u64, len: u64) -> &'static [u8] {
    // SAFETY: the module's frames are reserved at boot, never freed, and
    // covered by the direct map; nothing writes them.
    unsafe { core::slice::from_raw_parts((pa + PHYS_OFFSET) as *const u8, len as usize) }
}
