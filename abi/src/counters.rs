//! The kernel's event counters, for researchers measuring what a syscall
//! costs in structure rather than time (what instruction counts cannot
//! see: a CR3 write's real cost is mostly TLB refill).
//!
//! The kernel keeps them in one page and the process server maps that page
//! read-only into every Linux process; the auxiliary vector entry
//! [`AT_LSTAR_COUNTERS`] gives its address, so a program reads the counters
//! with plain loads, without a syscall to perturb what it measures. One CPU,
//! so one set of counters.
//!
//! The same page carries the clock ([`ClockData`] at [`CLOCK_OFFSET`]): the
//! vDSO (`vdso/`), mapped right after the page, reads the time from it the
//! way the kernel does (docs/decisions.md D26).

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

/// Where the clock data sits in the counters page.
pub const CLOCK_OFFSET: usize = 256;

/// What user code needs to read the kernel's clocks without a syscall.
///
/// The kernel's monotonic clock is the time stamp counter since boot
/// scaled to nanoseconds, and CLOCK_REALTIME is the RTC's reading at boot
/// plus the monotonic clock. Both the kernel and the vDSO compute them with
/// the methods below from this one published copy, so a program mixing
/// the vDSO and the syscall never sees time step backwards: the same
/// formula over a TSC that only grows.
///
/// The kernel writes the fields only inside an odd `seq` (a sequence
/// lock): a reader takes `seq`, the fields, `seq` again, and retries while
/// `seq` is odd or has changed. Today the fields are written once at boot
/// (Lstar has no clock_settime), but a reader that follows the protocol
/// keeps working when the realtime offset starts to move.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockData {
    /// The sequence count: odd while the kernel is updating the fields.
    pub seq: u64,
    /// The TSC at the monotonic clock's zero (boot).
    pub tsc_base: u64,
    /// TSC ticks to nanoseconds: `ns = ticks * mult >> shift`, the product
    /// taken in 128 bits.
    pub mult: u64,
    pub shift: u64,
    /// CLOCK_REALTIME at the monotonic clock's zero, in ns since the epoch.
    pub realtime_base: u64,
}

impl ClockData {
    pub const OFFSET_SEQ: usize = 0;
    pub const OFFSET_TSC_BASE: usize = 8;
    pub const OFFSET_MULT: usize = 16;
    pub const OFFSET_SHIFT: usize = 24;
    pub const OFFSET_REALTIME_BASE: usize = 32;

    /// The shift the kernel publishes: 32 bits of fraction keep the
    /// conversion's error under a nanosecond per second for any TSC up to
    /// 4 GHz, and `mult` within 64 bits for any TSC above 0.25 Hz.
    pub const SHIFT: u64 = 32;

    /// Before calibration: one tick a nanosecond, from TSC zero.
    pub const UNCALIBRATED: ClockData = ClockData { seq: 0, tsc_base: 0, mult: 1 << Self::SHIFT, shift: Self::SHIFT, realtime_base: 0 };

    /// The conversion for a TSC of `tsc_hz` ticks per second (0 is taken
    /// as 1 GHz: the kernel's guess when calibration fails).
    pub const fn calibrated(tsc_hz: u64, tsc_base: u64, realtime_base: u64) -> ClockData {
        let hz = if tsc_hz == 0 { 1_000_000_000 } else { tsc_hz };
        let mult = ((1_000_000_000u128 << Self::SHIFT) / hz as u128) as u64;
        ClockData { seq: 0, tsc_base, mult, shift: Self::SHIFT, realtime_base }
    }

    /// A span of `ticks` TSC ticks in nanoseconds.
    #[inline(always)]
    pub const fn ticks_to_ns(&self, ticks: u64) -> u64 {
        ((ticks as u128 * self.mult as u128) >> (self.shift & 127)) as u64
    }

    /// CLOCK_MONOTONIC (and BOOTTIME: Lstar never suspends) at TSC `tsc`.
    #[inline(always)]
    pub const fn monotonic_ns(&self, tsc: u64) -> u64 {
        self.ticks_to_ns(tsc.saturating_sub(self.tsc_base))
    }

    /// CLOCK_REALTIME at TSC `tsc`.
    #[inline(always)]
    pub const fn realtime_ns(&self, tsc: u64) -> u64 {
        self.realtime_base.wrapping_add(self.monotonic_ns(tsc))
    }

    /// A consistent copy of clock data the kernel may be rewriting, under
    /// its sequence count: `seq` reads the published count and `data` the
    /// whole (volatile reads of the shared page, each reader's own
    /// `unsafe`). Retries while an update is under way.
    #[inline(always)]
    pub fn consistent(seq: impl Fn() -> u64, data: impl Fn() -> ClockData) -> ClockData {
        use core::sync::atomic::{compiler_fence, Ordering::Acquire};
        loop {
            let before = seq();
            compiler_fence(Acquire);
            let copy = data();
            compiler_fence(Acquire);
            if before & 1 == 0 && before == seq() {
                return copy;
            }
            core::hint::spin_loop();
        }
    }
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
    use super::{ClockData, Counters, ProbeLog, ProbePoint, CLOCK_OFFSET, PROBE_SLOTS};
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
        // The vDSO reads the clock with these offsets.
        assert_eq!(offset_of!(ClockData, seq), ClockData::OFFSET_SEQ);
        assert_eq!(offset_of!(ClockData, tsc_base), ClockData::OFFSET_TSC_BASE);
        assert_eq!(offset_of!(ClockData, mult), ClockData::OFFSET_MULT);
        assert_eq!(offset_of!(ClockData, shift), ClockData::OFFSET_SHIFT);
        assert_eq!(offset_of!(ClockData, realtime_base), ClockData::OFFSET_REALTIME_BASE);
        assert!(core::mem::size_of::<Counters>() <= CLOCK_OFFSET);
        assert!(CLOCK_OFFSET + core::mem::size_of::<ClockData>() <= super::PROBES_OFFSET);
    }

    #[test]
    fn clock_scales_the_tsc() {
        // 3 GHz: 3e9 ticks are one second, to within a nanosecond.
        let c = ClockData::calibrated(3_000_000_000, 1000, 5_000_000_000);
        assert!(c.monotonic_ns(1000 + 3_000_000_000).abs_diff(1_000_000_000) <= 1);
        assert_eq!(c.monotonic_ns(999), 0, "before the base is zero, not a wrap");
        assert_eq!(c.realtime_ns(1000), 5_000_000_000);
        // An hour of uptime stays within a microsecond of exact.
        let hour = 3600 * 3_000_000_000u64;
        assert!(c.ticks_to_ns(hour).abs_diff(3600 * 1_000_000_000) < 1000);
        // Uncalibrated and failed calibration both mean 1 GHz.
        assert_eq!(ClockData::UNCALIBRATED.ticks_to_ns(12345), 12345);
        assert_eq!(ClockData::calibrated(0, 0, 0).ticks_to_ns(12345), 12345);
    }

    #[test]
    fn clock_never_steps_back() {
        let c = ClockData::calibrated(2_345_678_901, 77, 0);
        let mut last = 0;
        for tsc in (0..10_000_000u64).step_by(997) {
            let ns = c.monotonic_ns(tsc);
            assert!(ns >= last);
            last = ns;
        }
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
