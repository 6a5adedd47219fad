//! The contract between the Lstar kernel, its servers and host tools.
//!
//! Everything here is plain data: `#[repr(C)]` layouts and numbers that both
//! sides of a boundary must agree on. It is `no_std` and free of `unsafe` so
//! that the kernel, `libsys`, every server and `xtask` can share one copy.
//! Conversions from raw register values are checked with `TryFrom`.
#![no_std]
#![forbid(unsafe_code)]

pub mod console;
pub mod counters;
pub mod dispatch;
pub mod errno;
pub mod fs;
pub mod native;
pub mod proc;
pub mod regs;

pub use native::{Message, MessageKind, NativeCall, ThreadId};
pub use regs::PtRegs;

/// `__X32_SYSCALL_BIT`: set in the syscall number to select the x32 table.
pub const X32_SYSCALL_BIT: u64 = 0x4000_0000;

/// Page size of every mapping Lstar makes.
pub const PAGE_SIZE: u64 = 4096;
