//! The vDSO: a tiny shared object the process server maps into every Linux
//! process (AT_SYSINFO_EHDR), so that libc reads the clocks with a few
//! loads and an RDTSC instead of a syscall forwarded to the process server.
//!
//! It exports, at version LINUX_2.6 as on Linux, `__vdso_clock_gettime`,
//! `__vdso_gettimeofday`, `__vdso_time`, `__vdso_clock_getres` and
//! `__vdso_getcpu`. The time comes from the kernel's counters page, which
//! the process server maps in the page right before this image: the clock
//! data there ([`ClockData`]) is what the kernel computes its own clocks
//! from, with the same code (docs/decisions.md D26). A clock it does not
//! know (the CPU-time clocks, a bad id) goes to the real syscall, whose
//! result it returns as Linux's vDSO does: 0 or a negative errno.
//!
//! It is linked as a shared object by the flags xtask gives it
//! (xtask/src/build.rs, `vdso.ld`, `vdso.map`): position-independent,
//! nothing writable, no relocation, since no loader ever processes it.
#![no_std]
#![no_main]
#![forbid(unsafe_op_in_unsafe_fn)]

use core::arch::asm;
use lstar_abi::counters::{ClockData, CLOCK_OFFSET};

#[allow(dead_code)] // the whole table; two are used
mod nr {
    include!(concat!(env!("OUT_DIR"), "/numbers.rs"));
}

const CLOCK_REALTIME: i32 = 0;
const CLOCK_MONOTONIC: i32 = 1;
const CLOCK_MONOTONIC_RAW: i32 = 4;
const CLOCK_REALTIME_COARSE: i32 = 5;
const CLOCK_MONOTONIC_COARSE: i32 = 6;
const CLOCK_BOOTTIME: i32 = 7;
const NS_PER_SEC: u64 = 1_000_000_000;

/// `struct timespec` and `struct timeval`: seconds and a fraction.
#[repr(C)]
pub struct Time {
    sec: i64,
    frac: i64,
}

/// The clocks the vDSO reads itself. The process server's clock_gettime
/// maps the same ids to the same two kernel clocks.
#[derive(Clone, Copy)]
enum Clock {
    Realtime,
    Monotonic,
}

impl Clock {
    fn from_id(id: i32) -> Option<Clock> {
        match id {
            CLOCK_REALTIME | CLOCK_REALTIME_COARSE => Some(Clock::Realtime),
            CLOCK_MONOTONIC | CLOCK_MONOTONIC_RAW | CLOCK_MONOTONIC_COARSE | CLOCK_BOOTTIME => Some(Clock::Monotonic),
            _ => None,
        }
    }
}

/// The clock data in the counters page, mapped one page below this image.
fn clock_data() -> *const ClockData {
    let image: usize;
    // SAFETY: only computes an address. `__ehdr_start` is the linker's
    // name for this image's first byte; LEA makes the reference
    // RIP-relative, so it needs no relocation.
    unsafe { asm!("lea {}, [rip + __ehdr_start]", out(reg) image, options(pure, nomem, nostack)) };
    (image - 4096 + CLOCK_OFFSET) as *const ClockData
}

/// A consistent copy of the clock data, under its sequence count.
fn snapshot() -> ClockData {
    let data = clock_data();
    ClockData::consistent(
        // SAFETY: the process server maps the counters page, readable,
        // right below the image in every process that has this image.
        || unsafe { core::ptr::addr_of!((*data).seq).read_volatile() },
        // SAFETY: as above.
        || unsafe { data.read_volatile() },
    )
}

/// The TSC, read after every earlier instruction has finished (LFENCE), so
/// a time read after another never comes from an earlier counter value.
fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: LFENCE and RDTSC only read the counter (CR4.TSD is clear:
    // user mode may).
    unsafe { asm!("lfence", "rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags)) };
    (u64::from(hi) << 32) | u64::from(lo)
}

fn now_ns(clock: Clock) -> u64 {
    let data = snapshot();
    let tsc = rdtsc();
    match clock {
        Clock::Realtime => data.realtime_ns(tsc),
        Clock::Monotonic => data.monotonic_ns(tsc),
    }
}

/// A two-argument syscall, for the clocks the vDSO leaves to the kernel.
fn syscall2(nr: usize, a: usize, b: usize) -> isize {
    let ret: isize;
    // SAFETY: the syscalls made here (clock_gettime, clock_getres) only
    // write to the caller's own buffer, as the caller asked.
    unsafe {
        asm!("syscall", inlateout("rax") nr as isize => ret, in("rdi") a, in("rsi") b,
             lateout("rcx") _, lateout("r11") _, options(nostack))
    };
    ret
}

/// # Safety
/// `ts` is null or points to a writable `struct timespec`, as for the
/// syscall (a bad pointer faults here where the syscall gives EFAULT, as
/// with Linux's vDSO).
#[no_mangle]
pub unsafe extern "C" fn __vdso_clock_gettime(id: i32, ts: *mut Time) -> i32 {
    let Some(clock) = Clock::from_id(id) else {
        return syscall2(nr::CLOCK_GETTIME as usize, id as isize as usize, ts as usize) as i32;
    };
    let ns = now_ns(clock);
    // SAFETY: the caller's pointer, per the contract above.
    unsafe { ts.write(Time { sec: (ns / NS_PER_SEC) as i64, frac: (ns % NS_PER_SEC) as i64 }) };
    0
}

/// # Safety
/// `tv` and `tz` are null or writable, as for the syscall.
#[no_mangle]
pub unsafe extern "C" fn __vdso_gettimeofday(tv: *mut Time, tz: *mut [i32; 2]) -> i32 {
    if !tv.is_null() {
        let ns = now_ns(Clock::Realtime);
        // SAFETY: the caller's pointer.
        unsafe { tv.write(Time { sec: (ns / NS_PER_SEC) as i64, frac: (ns % NS_PER_SEC / 1000) as i64 }) };
    }
    if !tz.is_null() {
        // UTC without daylight saving, as the process server answers.
        // SAFETY: the caller's pointer.
        unsafe { tz.write([0, 0]) };
    }
    0
}

/// # Safety
/// `t` is null or writable, as for the syscall.
#[no_mangle]
pub unsafe extern "C" fn __vdso_time(t: *mut i64) -> i64 {
    let secs = (now_ns(Clock::Realtime) / NS_PER_SEC) as i64;
    if !t.is_null() {
        // SAFETY: the caller's pointer.
        unsafe { t.write(secs) };
    }
    secs
}

/// # Safety
/// `res` is null or writable, as for the syscall.
#[no_mangle]
pub unsafe extern "C" fn __vdso_clock_getres(id: i32, res: *mut Time) -> i32 {
    if Clock::from_id(id).is_none() {
        return syscall2(nr::CLOCK_GETRES as usize, id as isize as usize, res as usize) as i32;
    }
    if !res.is_null() {
        // The TSC's clocks count in nanoseconds, as the syscall says.
        // SAFETY: the caller's pointer.
        unsafe { res.write(Time { sec: 0, frac: 1 }) };
    }
    0
}

/// # Safety
/// `cpu` and `node` are null or writable; the third argument is unused,
/// as on Linux.
#[no_mangle]
pub unsafe extern "C" fn __vdso_getcpu(cpu: *mut u32, node: *mut u32, _cache: *mut u8) -> i32 {
    // One CPU, one NUMA node.
    for p in [cpu, node] {
        if !p.is_null() {
            // SAFETY: the caller's pointer.
            unsafe { p.write(0) };
        }
    }
    0
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // Nothing here can panic; should it, stop the thread the loudest way.
    loop {
        // SAFETY: UD2 raises #UD (SIGILL), nothing else.
        unsafe { asm!("ud2", options(nomem, nostack)) };
    }
}
