//! Lstar: a Linux-ABI-compatible microkernel for x86_64.
//!
//! The kernel holds the SYSCALL entry/exit path with KPTI, the x32-aware
//! dispatcher generated from `syscall_64.tbl`, and the mechanisms servers
//! need: address spaces, threads, synchronous IPC, interrupts and
//! scheduling. Everything Linux-shaped beyond that lives in servers.
//!
//! Design principles, in order: the syscall path mirrors Linux's step by
//! step so each step can be measured; simple and clear over clever; a
//! user-supplied value is an allegation, checked before use; `unsafe` lives
//! in `arch` and `mm` only.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

#[allow(unsafe_code)] // CPU-specific code: the entry assembly, MSRs, descriptor tables
mod arch;
mod audit;
mod boot;
mod console;
mod loader;
#[allow(unsafe_code)] // frames, page tables and the checked user copy
mod mm;
mod slab;
mod syscall;
mod task;
mod trap;

use arch::x86_64 as cpu_arch;


#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    use core::fmt::Write as _;
    let mut line = console::LineBuf::new();
    let _ = writeln!(line, "lstar: PANIC: {}", info);
    console::debug_bytes_unlocked(line.as_bytes());
    cpu_arch::port::outl(0xf4, 0x7f);
    cpu_arch::halt_forever()
}
