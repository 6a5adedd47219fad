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

/// Where the probe log sits in the counters page.
pub const PROBES_OFFSET: usize = 512;

/// How many probe events the log keeps (a ring).
pub const PROBE_SLOTS: usize = 64;

/// The phase boundaries a kernel built with the `probes` feature stamps
/// (`rdtsc`) as a syscall crosses them. A forwarded call on the fast path
/// logs, in order: Entry, Dispatch, Switch, Exit (now in the server),
/// Entry, Reply, Switch, Exit (back in the caller).
#[repr(u64)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbePoint {
    /// SYSCALL entry: CR3 switched, registers saved.
    Entry = 1,
    /// A Linux syscall's route looked up, about to run or forward it.
    Dispatch = 2,
    /// A context switch decided, about to change stacks.
    Switch = 3,
    /// About to restore user registers and leave the kernel.
    Exit = 4,
    /// A server's reply stored in its client's registers.
    Reply = 5,
}

impl ProbePoint {
    pub const ALL: [ProbePoint; 5] = [Self::Entry, Self::Dispatch, Self::Switch, Self::Exit, Self::Reply];

    pub fn name(self) -> &'static str {
        match self {
            Self::Entry => "entry",
            Self::Dispatch => "dispatch",
            Self::Switch => "switch",
            Self::Exit => "exit",
            Self::Reply => "reply",
        }
    }
}

/// One stamp: which point, and the time stamp counter there.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProbeEvent {
    pub point: u64,
    pub tsc: u64,
}

/// The probe log at [`PROBES_OFFSET`]: `enabled` is 1 in a kernel built
/// with probes; event number `n` (counting from 0 at boot) is at
/// `events[n % PROBE_SLOTS]`, and `next` is the number the next one gets.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ProbeLog {
    pub enabled: u64,
    pub next: u64,
    pub events: [ProbeEvent; PROBE_SLOTS],
}

impl ProbeLog {
    pub const fn new(enabled: bool) -> Self {
        ProbeLog { enabled: enabled as u64, next: 0, events: [ProbeEvent { point: 0, tsc: 0 }; PROBE_SLOTS] }
    }

    /// Appends an event.
    pub fn push(&mut self, point: ProbePoint, tsc: u64) {
        self.events[self.next as usize % PROBE_SLOTS] = ProbeEvent { point: point as u64, tsc };
        self.next += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::{Counters, ProbeLog, ProbePoint, PROBE_SLOTS};
    use core::mem::offset_of;

    #[test]
    fn layout() {
        assert_eq!(offset_of!(Counters, entries), Counters::OFFSET_ENTRIES);
        assert_eq!(offset_of!(Counters, syscalls), Counters::OFFSET_SYSCALLS);
        assert_eq!(offset_of!(Counters, cr3_writes), Counters::OFFSET_CR3_WRITES);
        assert_eq!(offset_of!(Counters, tlb_flushes), Counters::OFFSET_TLB_FLUSHES);
        assert_eq!(offset_of!(Counters, ipc_messages), Counters::OFFSET_IPC_MESSAGES);
        assert_eq!(offset_of!(Counters, switches), Counters::OFFSET_SWITCHES);
        // bench.c reads the log with these offsets.
        assert_eq!(offset_of!(ProbeLog, next), 8);
        assert_eq!(offset_of!(ProbeLog, events), 16);
        assert!(super::PROBES_OFFSET + core::mem::size_of::<ProbeLog>() <= 4096);
    }

    #[test]
    fn probe_log_is_a_ring() {
        let mut log = ProbeLog::new(true);
        for i in 0..PROBE_SLOTS as u64 + 3 {
            log.push(ProbePoint::Exit, i);
        }
        assert_eq!(log.next, PROBE_SLOTS as u64 + 3);
        assert_eq!(log.events[2].tsc, PROBE_SLOTS as u64 + 2);
        assert_eq!(log.events[3].tsc, 3);
        assert_eq!(log.events[0].point, ProbePoint::Exit as u64);
    }
}
