//! Interrupts and exceptions: the timer tick (preemption), and faults,
//! which a user thread's owner hears about as a message, like a syscall.

use crate::arch::x86_64::ioapic::IRQ_BASE;
use crate::arch::x86_64::{apic, TrapFrame};
use crate::mm::paging::DemandFault;
use crate::task::{self, Outgoing};
use lstar_abi::native::Personality;
use lstar_abi::MessageKind;

const PAGE_FAULT: u8 = 14;
/// Page-fault error bits: the page was present (P) and the access a
/// write (W).
const PF_PRESENT: u64 = 0b01;
const PF_PRESENT_WRITE: u64 = 0b11;

pub fn handle(f: TrapFrame) {
    handle_one(f);
    if f.from_user {
        task::exit_work();
    }
}

fn handle_one(f: TrapFrame) {
    match f.vector {
        apic::TIMER_VECTOR => timer(f),
        apic::SPURIOUS_VECTOR => {}
        v if (IRQ_BASE..IRQ_BASE + 16).contains(&v) => irq(f, v - IRQ_BASE),
        0..=31 if f.from_user => user_fault(f),
        0..=31 => panic!(
            "kernel exception {} (error {:#x}) at rip {:#x}, rsp {:#x}, cr2 {:#x}",
            f.vector,
            f.error,
            f.rip,
            f.rsp,
            crate::arch::x86_64::read_cr2()
        ),
        v => {
            log::warn!("unexpected interrupt vector {v}");
            apic::eoi();
        }
    }
}

/// A device interrupt: its server hears about it as a notification.
fn irq(f: TrapFrame, irq: u8) {
    apic::eoi();
    let binding = crate::syscall::native::IRQ_BINDINGS.lock()[irq as usize];
    let mut k = task::lock();
    if let Some((ep, bit)) = binding {
        k.notify(ep, bit);
    }
    // Let the device's server run soon: a user thread yields to it.
    if f.from_user {
        match k.preempt() {
            Some(sw) => sw.run(k),
            None => drop(k),
        }
    }
}

fn timer(f: TrapFrame) {
    apic::eoi();
    let mut k = task::lock();
    k.ticks += 1;
    k.expire_timers(apic::monotonic_ns());
    if !f.from_user {
        return; // idle: its loop picks the next thread
    }
    if k.options.kpti_audit {
        crate::audit::kpti(&mut k);
    }
    match k.preempt() {
        Some(sw) => sw.run(k),
        None => drop(k),
    }
}

/// A user-mode exception: the thread stops and its owner gets a Fault
/// message; a thread without an owner (a server) takes the system down with
/// a readable report, since nothing can restart it yet.
fn user_fault(f: TrapFrame) {
    let cr2 = if f.vector == PAGE_FAULT { crate::arch::x86_64::read_cr2() } else { 0 };
    let mut k = task::lock();
    let mut error = f.error;
    let resolved = match f.vector {
        PAGE_FAULT if f.error & PF_PRESENT_WRITE == PF_PRESENT_WRITE => copy_on_write(&mut k, cr2),
        PAGE_FAULT if f.error & PF_PRESENT == 0 => demand_zero(&mut k, cr2, f.error),
        _ => DemandFault::NotReserved,
    };
    match resolved {
        // The access runs again, on a zeroed page or the thread's own copy.
        DemandFault::Resolved => return,
        // What the program sees is the protection fault a mapped page
        // would give (PROT_NONE: SIGSEGV, SEGV_ACCERR).
        DemandFault::Denied => error |= PF_PRESENT,
        DemandFault::NoMemory => error |= lstar_abi::native::FAULT_NO_MEMORY,
        DemandFault::NotReserved => {}
    }
    let (id, personality, owner) = {
        let t = k.current();
        (t.id, t.personality, t.owner)
    };
    match owner {
        Some(ep) if personality == Personality::Linux => {
            let out = Outgoing { kind: MessageKind::Fault, nr: f.vector as u64, args: [error, cr2, f.rip, f.rsp, 0, 0] };
            match k.send_current(ep, out) {
                Some(sw) => sw.run(k),
                None => drop(k),
            }
        }
        _ => {
            let name = k.current().space.and_then(|s| k.endpoint_of_space(s)).map(|e| k.endpoints[e].name).unwrap_or("?");
            log::error!(
                "server {name} (thread {id}) crashed: exception {} error {:#x} at rip {:#x} (address {cr2:#x})",
                f.vector,
                error,
                f.rip
            );
            crate::protocol!("lstar: server {name} crashed (exception {} at {:#x})", f.vector, f.rip);
            drop(k);
            crate::boot::poweroff(255);
        }
    }
}

/// A write to a present page: if it is copy-on-write in a writable
/// mapping, the kernel copies it here (D24), with no message to the
/// thread's owner, whose record of the mapping the page's rights already
/// carry. Any other write fault is the owner's to answer, as is a copy
/// with no frame left for it (reported as out of memory).
fn copy_on_write(k: &mut task::Kernel, addr: u64) -> DemandFault {
    let t = k.current();
    let (Some(space), program) = (t.space, t.owner.is_some()) else { return DemandFault::NotReserved };
    k.spaces.get(&space).map_or(DemandFault::NotReserved, |s| s.tables.write_fault(addr, program))
}

/// A fault on a page that is not present: if the current space reserved
/// it as demand zero (D25) and its rights allow the access, the kernel
/// maps a zeroed frame here, with no message to the thread's owner. A
/// program's fault leaves the last frames to the kernel and the servers
/// ([`crate::mm::frame::USER_RESERVE`]); a server's may take them.
fn demand_zero(k: &mut task::Kernel, addr: u64, error: u64) -> DemandFault {
    let t = k.current();
    let (Some(space), program) = (t.space, t.owner.is_some()) else { return DemandFault::NotReserved };
    k.spaces.get(&space).map_or(DemandFault::NotReserved, |s| s.tables.demand_fault(addr, error, program))
}
