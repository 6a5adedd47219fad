//! Bring-up, in order: boot info, physical memory, kernel page tables,
//! heap, CPU tables and SYSCALL MSRs, ACPI, the LAPIC timer, the servers;
//! and the way down (`poweroff`).

use crate::arch::x86_64::{self as arch, pvh};
use crate::mm::{frame, heap, paging};
use crate::task;

pub fn start(start_info: u64) -> ! {
    let info = pvh::parse(start_info);
    log::info!("Lstar booting; command line {:?}", info.cmdline);

    let mut mem_top = 0;
    for r in &info.memory[..info.memory_len] {
        if r.kind == pvh::RAM {
            frame::add_ram(r.addr, r.addr + r.size);
            mem_top = mem_top.max(r.addr + r.size);
        }
    }
    frame::reserve(0, 0x10_0000); // real-mode leftovers, BIOS data
    frame::reserve(0x10_0000, paging::kernel_image_end());
    for (a, b) in info.boot_data {
        frame::reserve(a, b);
    }
    if let Some((pa, len)) = info.initrd {
        frame::reserve(pa, pa + len);
    }
    paging::init(mem_top);
    heap::init();
    log::info!("memory: {} MiB free, top {:#x}", frame::free_count() * 4 / 1024, mem_top);

    let options = parse_options(info.cmdline);
    arch::cpu::init(options.kpti);
    if options.pcid {
        arch::cpu::enable_pcid();
    }
    log::info!("{options:?}");

    let platform = match arch::acpi::platform(info.rsdp) {
        Ok(p) => p,
        Err(e) => fail(format_args!("ACPI: cannot read the MADT ({e:?})")),
    };
    log::info!("ACPI: {} CPU(s), local APIC at {:#x}, {} I/O APIC(s)", platform.cpus, platform.local_apic, platform.io_apics);
    arch::ioapic::init(&platform);
    let hz = arch::apic::init(platform.local_apic, options.tick_hz);
    let epoch = arch::rtc::epoch_seconds();
    arch::cpu::set_clock(|c| c.realtime_base = epoch * 1_000_000_000);
    log::info!("RTC: {epoch} s since the epoch");
    log::info!("LAPIC timer: {} ticks/s, preemption at {} Hz", hz, options.tick_hz);

    crate::syscall::trace::ON.store(options.trace, core::sync::atomic::Ordering::Relaxed);
    task::init(options);
    let Some((initrd_pa, initrd_len)) = info.initrd else { fail(format_args!("no initrd: boot with -initrd")) };
    let initrd = pvh::initrd_bytes(initrd_pa, initrd_len);
    let flags = if options.trace { lstar_abi::native::boot_flags::TRACE } else { 0 };
    if let Err(e) = crate::loader::start_servers(initrd, initrd_pa, flags) {
        fail(format_args!("{e}"));
    }
    task::start()
}

fn parse_options(cmdline: &str) -> task::Options {
    let mut o = task::Options { kpti: true, trace: false, fastpath: true, kpti_audit: false, pcid: arch::cpu::has_pcid(), tick_hz: arch::apic::TICK_HZ };
    let mut routes = alloc::vec::Vec::new();
    for word in cmdline.split_whitespace() {
        if let Some(route) = word.strip_prefix("route=") {
            match route.split_once(':') {
                Some((name, handler)) => routes.push((name, handler)),
                None => log::warn!("bad kernel option {word:?}: expected route=NAME:HANDLER"),
            }
            continue;
        }
        if let Some(hz) = word.strip_prefix("tick=") {
            match hz.parse::<u32>() {
                Ok(hz) if arch::apic::TICK_RANGE.contains(&hz) => o.tick_hz = hz,
                _ => log::warn!("bad kernel option {word:?}: expected tick=HZ, {} to {}", arch::apic::TICK_RANGE.start(), arch::apic::TICK_RANGE.end()),
            }
            continue;
        }
        match word {
            "kpti=on" => o.kpti = true,
            "kpti=off" => o.kpti = false,
            "pcid=on" if arch::cpu::has_pcid() => o.pcid = true,
            "pcid=on" => log::warn!("pcid=on: this CPU has no PCID; staying off"),
            "pcid=off" => o.pcid = false,
            "fastpath=on" => o.fastpath = true,
            "fastpath=off" => o.fastpath = false,
            "trace" => o.trace = true,
            "kpti_audit" => o.kpti_audit = true,
            other => log::warn!("unknown kernel option {other:?}"),
        }
    }
    for problem in crate::syscall::init_routes(&routes) {
        log::warn!("{problem}");
    }
    for (name, handler) in &routes {
        log::info!("route override: {name} -> {handler}");
    }
    o
}

/// A boot failure the user can act on: say what, and stop.
fn fail(what: core::fmt::Arguments) -> ! {
    crate::protocol!("lstar: boot failed: {what}");
    poweroff(255)
}

/// Reports `status` to the host (xtask reads the line) and stops QEMU
/// through isa-debug-exit.
pub fn poweroff(status: u8) -> ! {
    crate::protocol!("lstar: exit status {status}");
    arch::port::outl(0xf4, 0x10);
    arch::halt_forever()
}

/// CLOCK_REALTIME: the RTC at boot plus the monotonic clock since, as the
/// vDSO computes it from the same clock data.
pub fn realtime_ns() -> u64 {
    arch::cpu::clock().realtime_ns(arch::rdtsc())
}
