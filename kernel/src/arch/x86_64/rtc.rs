//! The CMOS real-time clock, read once at boot for CLOCK_REALTIME.

use super::port::{inb, outb};

fn reg(r: u8) -> u8 {
    outb(0x70, r);
    inb(0x71)
}

/// Seconds since the Unix epoch, from the RTC (UTC, as QEMU keeps it).
pub fn epoch_seconds() -> u64 {
    // Wait out an update in progress, then read until two reads agree.
    let read = || {
        let mut spins = 0;
        while reg(0x0a) & 0x80 != 0 && spins < 1_000_000 {
            spins += 1;
        }
        [reg(0x00), reg(0x02), reg(0x04), reg(0x07), reg(0x08), reg(0x09), reg(0x32)]
    };
    let mut t = read();
    for _ in 0..5 {
        let again = read();
        if again == t {
            break;
        }
        t = again;
    }
    let status_b = reg(0x0b);
    let bcd = |v: u8| if status_b & 0x04 == 0 { (v & 0x0f) + (v >> 4) * 10 } else { v };
    let (sec, min) = (bcd(t[0]) as u64, bcd(t[1]) as u64);
    let hour = if status_b & 0x02 == 0 && t[2] & 0x80 != 0 { (bcd(t[2] & 0x7f) as u64 % 12) + 12 } else { bcd(t[2]) as u64 };
    let (day, month) = (bcd(t[3]) as u64, bcd(t[4]) as u64);
    let century = match bcd(t[6]) { c @ 19..=21 => c as u64, _ => 20 };
    let year = century * 100 + bcd(t[5]) as u64;
    days_from_civil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec
}

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}
