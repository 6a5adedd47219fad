//! The kernel's published clock, read where it is: the counters page the
//! kernel maps read-only in every server (`SERVER_COUNTERS_ADDR`), as the
//! vDSO reads it in Linux processes (docs/decisions.md D26, D27). A
//! server's time costs a few dozen instructions instead of a kernel entry.

use lstar_abi::counters::{ClockData, CLOCK_OFFSET};
use lstar_abi::native::SERVER_COUNTERS_ADDR;

/// A consistent copy of the published clock.
pub fn published() -> ClockData {
    let data = (SERVER_COUNTERS_ADDR + CLOCK_OFFSET as u64) as *const ClockData;
    ClockData::consistent(
        // SAFETY: the kernel maps the counters page, readable, at
        // SERVER_COUNTERS_ADDR in every server before it starts, and
        // never unmaps it; ClockData is plain integers.
        || unsafe { core::ptr::addr_of!((*data).seq).read_volatile() },
        // SAFETY: as above.
        || unsafe { data.read_volatile() },
    )
}

/// The TSC, read after every earlier instruction has finished (LFENCE),
/// so a time read after another never comes from an earlier count.
pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: LFENCE and RDTSC only read the counter (CR4.TSD is clear:
    // user mode may).
    unsafe { core::arch::asm!("lfence", "rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags)) };
    (u64::from(hi) << 32) | u64::from(lo)
}
