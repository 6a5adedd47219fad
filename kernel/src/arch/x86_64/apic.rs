//! The local APIC timer: the tick that drives preemption.
//!
//! The legacy 8259 PICs are remapped out of the exception range and masked;
//! the LAPIC timer runs periodic on [`TIMER_VECTOR`], calibrated once
//! against the PIT.

use super::port::{inb, outb};
use crate::mm::PHYS_OFFSET;

pub const TIMER_VECTOR: u8 = 32;
pub const SPURIOUS_VECTOR: u8 = 0xff;
/// The preemption tick's default rate (the `tick=HZ` boot option changes
/// it: a fast tick makes preemption land in more places, for tests).
pub const TICK_HZ: u32 = 100;
/// The rates `tick=HZ` accepts.
pub const TICK_RANGE: core::ops::RangeInclusive<u32> = 10..=10_000;

const REG_EOI: u64 = 0xb0;
const REG_SVR: u64 = 0xf0;
const REG_LVT_TIMER: u64 = 0x320;
const REG_TIMER_INIT: u64 = 0x380;
const REG_TIMER_CURRENT: u64 = 0x390;
const REG_TIMER_DIVIDE: u64 = 0x3e0;

static mut BASE: u64 = 0;

fn reg(offset: u64) -> *mut u32 {
    // SAFETY: BASE is written once in init before any register access.
    (unsafe { BASE } + PHYS_OFFSET + offset) as *mut u32
}

fn write(offset: u64, value: u32) {
    // SAFETY: a LAPIC register, mapped uncached by the direct map.
    unsafe { reg(offset).write_volatile(value) };
}

fn read(offset: u64) -> u32 {
    // SAFETY: as for write.
    unsafe { reg(offset).read_volatile() }
}

/// Nanoseconds since boot, from the TSC, through the clock data the vDSO
/// reads too (lstar_abi::counters::ClockData): the same formula on both
/// sides, so the syscall and the vDSO agree to the nanosecond (D26).
pub fn monotonic_ns() -> u64 {
    super::cpu::clock().monotonic_ns(super::rdtsc())
}

/// A span of TSC ticks in nanoseconds (thread run times).
pub fn tsc_to_ns(ticks: u64) -> u64 {
    super::cpu::clock().ticks_to_ns(ticks)
}

/// Masks the legacy PICs, enables the LAPIC at physical `base` and starts
/// the periodic timer at `tick_hz`. Returns the calibrated LAPIC ticks per
/// second.
pub fn init(base: u64, tick_hz: u32) -> u64 {
    // Remap the PICs to 0x20..0x2f so a stray IRQ is not taken for an
    // exception, then mask every line.
    for (port, value) in [(0x20, 0x11), (0xa0, 0x11), (0x21, 0x20), (0xa1, 0x28), (0x21, 4), (0xa1, 2), (0x21, 1), (0xa1, 1), (0x21, 0xff), (0xa1, 0xff)] {
        outb(port, value);
    }
    // SAFETY: single-threaded boot; set before the first register access.
    unsafe { BASE = base };
    write(REG_SVR, 0x100 | SPURIOUS_VECTOR as u32);
    write(REG_TIMER_DIVIDE, 0x3); // divide by 16
    write(REG_LVT_TIMER, 1 << 16); // masked while calibrating

    let per_second = calibrate();
    write(REG_LVT_TIMER, TIMER_VECTOR as u32 | (1 << 17)); // periodic
    write(REG_TIMER_INIT, (per_second / tick_hz.max(1) as u64).max(1) as u32);
    per_second
}

/// Counts LAPIC ticks over 10 ms of the PIT. Channel 0 runs as a free
/// rate generator and is read back with the latch command, which needs
/// nothing beyond the PIT itself (microvm has no port 0x61 gate).
fn calibrate() -> u64 {
    const PIT_HZ: u64 = 1_193_182;
    const WINDOW: u64 = PIT_HZ / 100;
    outb(0x43, 0x34); // channel 0, lobyte/hibyte, mode 2, binary
    outb(0x40, 0xff);
    outb(0x40, 0xff);
    let read_pit = || {
        outb(0x43, 0x00); // latch channel 0
        let lo = inb(0x40) as u64;
        let hi = inb(0x40) as u64;
        (hi << 8) | lo
    };
    let mut last = read_pit();
    write(REG_TIMER_INIT, u32::MAX);
    let tsc0 = super::rdtsc();
    let mut elapsed = 0u64;
    let mut spins = 0u64;
    while elapsed < WINDOW {
        let now = read_pit();
        // The counter counts down and reloads at 0xffff.
        elapsed += if now <= last { last - now } else { last + 0x1_0000 - now };
        last = now;
        spins += 1;
        if spins > 10_000_000 {
            log::warn!("PIT calibration timed out; assuming QEMU's 1 GHz APIC bus");
            return 1_000_000_000 / 16;
        }
    }
    let ticks = u32::MAX - read(REG_TIMER_CURRENT);
    let tsc = super::rdtsc() - tsc0;
    write(REG_TIMER_INIT, 0);
    let tsc_hz = (tsc as u128 * PIT_HZ as u128 / elapsed as u128) as u64;
    super::cpu::set_clock(|c| *c = lstar_abi::counters::ClockData { seq: c.seq, ..lstar_abi::counters::ClockData::calibrated(tsc_hz, tsc0, c.realtime_base) });
    ticks as u64 * PIT_HZ / elapsed
}

pub fn eoi() {
    write(REG_EOI, 0);
}
