//! The kernel's event counters, for researchers measuring what a syscall
//! costs in structure rather than time (what instruction counts cannot
//! see: a CR3 write's real cost is mostly TLB refill).
//!
//! The kernel keeps them in one page and the process server maps that page
//! read-only into every Linux process; the auxiliary vector entry
//! [`AT_LSTAR_COUNTERS`] gives its address, so a program reads the counters
//! with plain loads, without a syscall to perturb what it measures. One CPU,
//! so one set of counters.

/// The auxv type whose value is the counters page's address (a private
/// number far above Linux's AT_* values, which programs ignore).
pub const AT_LSTAR_COUNTERS: u64 = 0x4c53_5452;

/// The counters, in this order, each a little-endian u64 at `8 * index`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Kernel entries from user mode: SYSCALLs, interrupts and exceptions.
    pub entries: u64,
    /// SYSCALL entries alone.
    pub syscalls: u64,
    /// CR3 writes (address-space switches; KPTI adds two per entry).
    pub cr3_writes: u64,
    /// Full TLB flushes: every CR3 write while PCID is not in use.
    pub tlb_flushes: u64,
    /// IPC messages delivered: requests (forwarded syscalls, calls, faults)
    /// and replies.
    pub ipc_messages: u64,
    /// Context switches between threads.
    pub switches: u64,
}

impl Counters {
    pub const OFFSET_ENTRIES: usize = 0;
    pub const OFFSET_SYSCALLS: usize = 8;
    pub const OFFSET_CR3_WRITES: usize = 16;
    pub const OFFSET_TLB_FLUSHES: usize = 24;
    pub const OFFSET_IPC_MESSAGES: usize = 32;
    pub const OFFSET_SWITCHES: usize = 40;
}

#[cfg(test)]
mod tests {
    use super::Counters;
    use core::mem::offset_of;

    #[test]
    fn layout() {
        assert_eq!(offset_of!(Counters, entries), Counters::OFFSET_ENTRIES);
        assert_eq!(offset_of!(Counters, syscalls), Counters::OFFSET_SYSCALLS);
        assert_eq!(offset_of!(Counters, cr3_writes), Counters::OFFSET_CR3_WRITES);
        assert_eq!(offset_of!(Counters, tlb_flushes), Counters::OFFSET_TLB_FLUSHES);
        assert_eq!(offset_of!(Counters, ipc_messages), Counters::OFFSET_IPC_MESSAGES);
        assert_eq!(offset_of!(Counters, switches), Counters::OFFSET_SWITCHES);
    }
}
