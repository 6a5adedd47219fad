//! Starting the servers: each `servers/<name>` in the initrd that the
//! routing table names is loaded into a fresh address space (ELF segments,
//! the initrd mapped read-only, a stack) and gets an endpoint and a thread.
//!
//! Linux programs are not loaded here: the process server does that.

use crate::mm::paging::Flags;
use crate::mm::PhysAddr;
use crate::syscall::ServerId;
use crate::task::{self, Endpoint};
use alloc::collections::VecDeque;
use lstar_abi::native::{self, Personality};
use lstar_abi::PAGE_SIZE;
use xmas_elf::program::{ProgramHeader, Type};
use xmas_elf::ElfFile;

/// Loads and starts every routed server. Errors are reported by name.
pub fn start_servers(initrd: &'static [u8], initrd_pa: u64, boot_flags: u64) -> Result<(), alloc::string::String> {
    for server in ServerId::ALL {
        let path = alloc::format!("servers/{}", server.name());
        let image = cpio_reader::iter_files(initrd)
            .find(|e| e.name() == path)
            .ok_or_else(|| alloc::format!("the initrd has no {path} (routes.tbl names server {:?})", server.name()))?;
        start(server, image.file(), initrd, initrd_pa, boot_flags).map_err(|e| alloc::format!("{path}: {e}"))?;
    }
    Ok(())
}

fn start(server: ServerId, image: &[u8], initrd: &[u8], initrd_pa: u64, boot_flags: u64) -> Result<(), &'static str> {
    // xmas-elf needs aligned headers; cpio aligns file data to 4 bytes only.
    let mut words = alloc::vec![0u64; image.len().div_ceil(8)];
    bytemuck::cast_slice_mut::<u64, u8>(&mut words)[..image.len()].copy_from_slice(image);
    let image = &bytemuck::cast_slice::<u64, u8>(&words)[..image.len()];
    let elf = ElfFile::new(image)?;
    let mut k = task::lock();
    let space = k.new_space(None).ok_or("out of memory")?;
    let tables = &mut k.spaces.get_mut(&space).unwrap().tables;
    for ph in elf.program_iter() {
        if ph.get_type() != Ok(Type::Load) {
            continue;
        }
        load_segment(tables, image, &ph)?;
    }
    // The initrd, read-only and shared by every server.
    if !initrd_pa.is_multiple_of(PAGE_SIZE) {
        return Err("initrd is not page-aligned");
    }
    let pages = (initrd.len() as u64).div_ceil(PAGE_SIZE);
    for i in 0..pages {
        tables
            .map_shared(native::SERVER_INITRD_BASE + i * PAGE_SIZE, PhysAddr(initrd_pa + i * PAGE_SIZE), Flags::NO_EXECUTE)
            .map_err(|_| "cannot map the initrd")?;
    }
    // The counters page, read-only: the clock libsys reads (D27).
    let counters = PhysAddr(crate::arch::x86_64::cpu::counters_frame());
    tables.map_shared(native::SERVER_COUNTERS_ADDR, counters, Flags::NO_EXECUTE).map_err(|_| "cannot map the counters page")?;
    let stack_bottom = native::SERVER_STACK_TOP - native::SERVER_STACK_SIZE;
    for va in (stack_bottom..native::SERVER_STACK_TOP).step_by(PAGE_SIZE as usize) {
        tables.map_zeroed(va, Flags::WRITABLE | Flags::NO_EXECUTE).map_err(|_| "out of memory for the stack")?;
    }
    let ep = server as usize;
    assert_eq!(k.endpoints.len(), ep, "servers start in ServerId order");
    k.endpoints.push(Endpoint { server_space: space, name: server.name(), receiver: None, senders: VecDeque::new(), notify: 0, timer: None, cancels: VecDeque::new() });
    let entry = elf.header.pt2.entry_point();
    let initrd_len = initrd.len() as u64;
    k.spawn_user(Personality::Native, space, None, entry, native::SERVER_STACK_TOP, |r| {
        r.rdi = ep as u64;
        r.rsi = native::SERVER_INITRD_BASE;
        r.rdx = initrd_len;
        r.r10 = boot_flags;
    })
    .ok_or("out of memory for the thread")?;
    log::info!("server {} started: entry {entry:#x}", server.name());
    Ok(())
}

fn load_segment(tables: &mut crate::mm::paging::AddressSpace, image: &[u8], ph: &ProgramHeader) -> Result<(), &'static str> {
    let (va, memsz, off, filesz) = (ph.virtual_addr(), ph.mem_size(), ph.offset(), ph.file_size());
    if filesz > memsz || off.checked_add(filesz).is_none_or(|end| end > image.len() as u64) {
        return Err("malformed ELF segment");
    }
    let flags = ph.flags();
    let mut f = Flags::empty();
    if flags.is_write() {
        f |= Flags::WRITABLE;
    }
    if !flags.is_execute() {
        f |= Flags::NO_EXECUTE;
    }
    let start = crate::mm::page_floor(va);
    let end = va.checked_add(memsz).and_then(crate::mm::page_ceil).ok_or("malformed ELF segment")?;
    for page in (start..end).step_by(PAGE_SIZE as usize) {
        match tables.map_zeroed(page, f) {
            Ok(()) | Err(crate::mm::paging::MapError::Exists) => {}
            Err(_) => return Err("cannot map an ELF segment"),
        }
    }
    // Copy the file bytes through the direct map (the pages are fresh and
    // the kernel may write them whatever their user rights).
    let bytes = &image[off as usize..(off + filesz) as usize];
    let mut done = 0usize;
    while done < bytes.len() {
        let addr = va + done as u64;
        let n = ((PAGE_SIZE - addr % PAGE_SIZE) as usize).min(bytes.len() - done);
        let (pa, _) = tables.translate(addr).ok_or("segment page vanished")?;
        crate::mm::write_phys(pa, &bytes[done..done + n]);
        done += n;
    }
    Ok(())
}
