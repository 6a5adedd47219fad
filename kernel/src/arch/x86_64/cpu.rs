//! Per-CPU state and descriptor tables, all in `.entry.data`: the user page
//! tables map this section (the CPU needs the GDT, IDT and TSS, and the
//! entry code its scratch slots, before CR3 is switched), so nothing else
//! may live here.
//!
//! One CPU for now; the layout is per-CPU so a second is a second copy.

use core::arch::asm;
use core::mem::size_of;
use core::ptr::{addr_of, addr_of_mut};
use lstar_abi::counters::{ClockData, Counters, ProbeLog, ProbePoint, CLOCK_OFFSET, PROBES_OFFSET};
use x86_64::registers::model_specific::Msr;

pub const KERNEL_CS: u16 = 0x10;
pub const KERNEL_DS: u16 = 0x18;
/// User selectors as Linux numbers them (programs can observe CS and SS).
pub const USER_DS: u16 = 0x2b;
pub const USER_CS: u16 = 0x33;
const TSS_SEL: u16 = 0x40;

/// What the entry assembly reaches through GS (offsets are interpolated).
#[repr(C)]
pub struct PerCpu {
    /// Scratch slot for the user RSP on SYSCALL entry.
    pub user_rsp: u64,
    /// Top of the current thread's kernel stack: where its PtRegs end.
    pub kernel_stack_top: u64,
    /// CR3 to load on the way back to user mode.
    pub user_cr3: u64,
    /// 1 when KPTI is on: entry and exit switch CR3.
    pub kpti: u64,
    /// The kernel half of `user_cr3`'s pair: what entry loads (KPTI).
    pub kernel_cr3: u64,
    /// How `kernel_cr3` is made from `user_cr3`: AND with this (clears the
    /// user table bit 12 and, with PCID, the user PCID bit 11), then OR
    /// with `kernel_cr3_or` (bit 63, keep the TLB entries, with PCID).
    pub kernel_cr3_and: u64,
    pub kernel_cr3_or: u64,
    /// Top of the entry stack (TSS.RSP0), the stack the exit path copies
    /// the last user registers to before switching CR3.
    pub entry_stack_top: u64,
    /// CR3 at the last interrupt from user mode, before the switch.
    pub entry_cr3: u64,
}

#[repr(C, align(4096))]
struct EntryData {
    idt: [[u64; 2]; 256],
    percpu: PerCpu,
    gdt: [u64; 10],
    tss: Tss,
    /// The TSS I/O permission bitmap (a clear bit allows a port), with the
    /// terminating 0xff byte the CPU reads past the last port.
    io_bitmap: [u8; IO_BITMAP_BYTES + 1],
    entry_stack: [u8; 4096],
    double_fault_stack: [u8; 4096],
}

const IO_BITMAP_BYTES: usize = 65536 / 8;
/// An I/O map base past the TSS limit: no port is allowed in user mode.
const NO_IO_BITMAP: u16 = 0xffff;
const TSS_SIZE: u16 = 104;

#[repr(C, packed(4))]
struct Tss {
    reserved0: u32,
    rsp: [u64; 3],
    reserved1: u64,
    ist: [u64; 7],
    reserved2: u64,
    reserved3: u16,
    iomap_base: u16,
}

/// The event counters (lstar_abi::counters), one page of their own in
/// `.entry.data`: the exit path counts its CR3 write on the user CR3, and
/// the process server maps the page read-only into Linux processes. The
/// clock data in it is what the vDSO reads the time from (D26).
#[repr(C, align(4096))]
pub struct CountersPage {
    pub counters: Counters,
    _pad0: [u8; CLOCK_OFFSET - size_of::<Counters>()],
    pub clock: ClockData,
    _pad: [u8; PROBES_OFFSET - CLOCK_OFFSET - size_of::<ClockData>()],
    /// Phase stamps, written only by a kernel built with `probes`.
    pub probes: ProbeLog,
    _pad2: [u8; 4096 - PROBES_OFFSET - size_of::<ProbeLog>()],
}

#[link_section = ".entry.data"]
#[no_mangle]
pub static mut COUNTERS: CountersPage = CountersPage {
    counters: Counters { entries: 0, syscalls: 0, cr3_writes: 0, tlb_flushes: 0, ipc_messages: 0, switches: 0 },
    _pad0: [0; CLOCK_OFFSET - size_of::<Counters>()],
    clock: ClockData::UNCALIBRATED,
    _pad: [0; PROBES_OFFSET - CLOCK_OFFSET - size_of::<ClockData>()],
    probes: ProbeLog::new(cfg!(feature = "probes")),
    _pad2: [0; 4096 - PROBES_OFFSET - size_of::<ProbeLog>()],
};

/// Counts events the Rust side sees (IPC messages, switches).
pub fn count(f: impl FnOnce(&mut Counters)) {
    // SAFETY: one CPU, interrupts off: only this code and the entry
    // assembly's increments touch the page, never at the same time.
    f(unsafe { &mut (*addr_of_mut!(COUNTERS)).counters });
}

/// The published clock: the one copy the kernel's own clocks and the
/// vDSO's compute from.
#[inline(always)]
pub fn clock() -> ClockData {
    // SAFETY: one CPU, interrupts off in the kernel: `set_clock` cannot
    // run in the middle of this read.
    unsafe { (*addr_of!(COUNTERS)).clock }
}

/// Publishes a new clock under the sequence count (ClockData's protocol):
/// a user thread preempted in the middle of reading it retries.
pub fn set_clock(update: impl FnOnce(&mut ClockData)) {
    use core::sync::atomic::{compiler_fence, Ordering::SeqCst};
    // SAFETY: as in `count`; user code only reads the page.
    let clock = unsafe { &mut (*addr_of_mut!(COUNTERS)).clock };
    let odd = clock.seq | 1;
    clock.seq = odd;
    // x86 keeps stores in order; the fences keep the compiler from moving
    // the fields' stores outside the odd stretch.
    compiler_fence(SeqCst);
    update(clock);
    compiler_fence(SeqCst);
    clock.seq = odd + 1;
}

/// Stamps a phase boundary into the probe log (docs/benchmarking.md);
/// compiled to nothing without the `probes` feature.
#[inline(always)]
pub fn probe(point: ProbePoint) {
    #[cfg(feature = "probes")]
    {
        let tsc = super::rdtsc();
        // SAFETY: as in `count`: one CPU, interrupts off.
        unsafe { (*addr_of_mut!(COUNTERS)).probes.push(point, tsc) }
    }
    #[cfg(not(feature = "probes"))]
    let _ = point;
}

/// The entry assembly's probes (called only when built with `probes`).
#[cfg(feature = "probes")]
#[no_mangle]
extern "C" fn probe_syscall_entry() {
    probe(ProbePoint::Entry);
}

#[cfg(feature = "probes")]
#[no_mangle]
extern "C" fn probe_exit() {
    probe(ProbePoint::Exit);
}

/// Physical address of the counters page, for mapping it to user space.
pub fn counters_frame() -> u64 {
    addr_of_mut!(COUNTERS) as u64 - 0xffff_ffff_8000_0000
}

#[link_section = ".entry.data"]
static mut ENTRY: EntryData = EntryData {
    idt: [[0; 2]; 256],
    percpu: PerCpu { user_rsp: 0, kernel_stack_top: 0, user_cr3: 0, kernel_cr3: 0, kpti: 0, kernel_cr3_and: !0x1000, kernel_cr3_or: 0, entry_stack_top: 0, entry_cr3: 0 },
    gdt: [
        0,
        0,
        0x00af_9b00_0000_ffff, // 0x10 kernel code, 64-bit
        0x00cf_9300_0000_ffff, // 0x18 kernel data
        0x00cf_fb00_0000_ffff, // 0x23 user code, 32-bit (SYSRET's base)
        0x00cf_f300_0000_ffff, // 0x2b user data
        0x00af_fb00_0000_ffff, // 0x33 user code, 64-bit
        0,
        0, // 0x40 TSS, two slots
        0,
    ],
    tss: Tss { reserved0: 0, rsp: [0; 3], reserved1: 0, ist: [0; 7], reserved2: 0, reserved3: 0, iomap_base: NO_IO_BITMAP },
    io_bitmap: [0xff; IO_BITMAP_BYTES + 1],
    entry_stack: [0; 4096],
    double_fault_stack: [0; 4096],
};

extern "C" {
    fn syscall_entry();
    static isr_stubs: u8;
}

/// Access to the per-CPU block.
pub fn percpu() -> &'static mut PerCpu {
    // SAFETY: one CPU, interrupts off in the kernel: the only concurrent
    // user is the entry assembly of this same CPU, which does not run
    // while Rust code does.
    unsafe { &mut *addr_of_mut!(ENTRY.percpu) }
}

/// Points the entry path at a thread: its kernel stack (`stack_top`) and
/// the address space it returns to user mode in (`user_cr3`), whose kernel
/// half entry switches to.
#[inline(always)]
pub fn enter_space(stack_top: u64, user_cr3: u64) {
    let pc = percpu();
    pc.kernel_stack_top = stack_top;
    pc.user_cr3 = user_cr3;
    pc.kernel_cr3 = (user_cr3 & pc.kernel_cr3_and) | pc.kernel_cr3_or;
}

/// Whether the CPU has process-context identifiers (CPUID.1:ECX[17]).
pub fn has_pcid() -> bool {
    core::arch::x86_64::__cpuid(1).ecx & (1 << 17) != 0
}

/// The PCID bit of the user half: user PCID = kernel PCID | this.
pub const USER_PCID_BIT: u64 = 1 << 11;
/// CR3 bit 63 on a write: keep the new PCID's TLB entries.
pub const CR3_NOFLUSH: u64 = 1 << 63;

/// Turns PCIDs on (CR4.PCIDE): CR3 writes then keep other PCIDs' TLB
/// entries, and entry keeps the kernel PCID's. Call with CR3's PCID 0.
pub fn enable_pcid() {
    // SAFETY: the CPU has PCID (checked by the caller) and CR3[11:0] is 0
    // (the boot tables), as setting CR4.PCIDE requires.
    unsafe {
        let mut cr4: u64;
        asm!("mov {}, cr4", out(reg) cr4);
        asm!("mov cr4, {}", in(reg) cr4 | (1 << 17));
        let pc = &mut (*addr_of_mut!(ENTRY)).percpu;
        pc.kernel_cr3_and = !(0x1000 | USER_PCID_BIT);
        pc.kernel_cr3_or = CR3_NOFLUSH;
    }
}

/// Loads the GDT, TSS and IDT, points GS at the per-CPU block and programs
/// the SYSCALL MSRs (step 1 of the SYSCALL path).
pub fn init(kpti: bool) {
    // SAFETY: runs once at boot before any user thread exists; the
    // addresses loaded stay valid for the kernel's lifetime.
    unsafe {
        let e = &mut *addr_of_mut!(ENTRY);
        e.percpu.entry_stack_top = e.entry_stack.as_ptr() as u64 + e.entry_stack.len() as u64;
        e.percpu.kpti = kpti as u64;
        e.tss.rsp[0] = e.percpu.entry_stack_top;
        e.tss.ist[0] = e.double_fault_stack.as_ptr() as u64 + e.double_fault_stack.len() as u64;

        let tss = core::ptr::addr_of!(e.tss) as u64;
        // The limit covers the I/O bitmap that follows the TSS.
        let limit = (core::mem::size_of::<Tss>() + IO_BITMAP_BYTES + 1 - 1) as u64;
        assert_eq!(core::ptr::addr_of!(e.io_bitmap) as u64, core::ptr::addr_of!(e.tss) as u64 + TSS_SIZE as u64, "bitmap follows the TSS");
        e.gdt[8] = limit | ((tss & 0xff_ffff) << 16) | (0x89 << 40) | (((tss >> 24) & 0xff) << 56);
        e.gdt[9] = tss >> 32;

        let stubs = &isr_stubs as *const u8 as u64;
        for (v, slot) in e.idt.iter_mut().enumerate() {
            let h = stubs + 16 * v as u64;
            // Present, 64-bit interrupt gate (IF cleared on entry), DPL 0 —
            // but INT3 and INTO may be raised by user code (DPL 3), as on
            // Linux, so a breakpoint is SIGTRAP rather than a #GP.
            let ist = if v == 8 { 1 } else { 0 };
            let attr: u64 = if v == 3 || v == 4 { 0xee } else { 0x8e };
            slot[0] = (h & 0xffff) | ((KERNEL_CS as u64) << 16) | (ist << 32) | (attr << 40) | (((h >> 16) & 0xffff) << 48);
            slot[1] = h >> 32;
        }

        let gdtr = DescriptorPointer { limit: (core::mem::size_of_val(&e.gdt) - 1) as u16, base: e.gdt.as_ptr() as u64 };
        let idtr = DescriptorPointer { limit: (core::mem::size_of_val(&e.idt) - 1) as u16, base: e.idt.as_ptr() as u64 };
        asm!(
            "lgdt [{gdtr}]",
            "lidt [{idtr}]",
            "push {cs}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "retfq",
            "2:",
            "mov ss, {ds:x}",
            "mov ds, {ds:x}",
            "mov es, {ds:x}",
            "ltr {tss:x}",
            gdtr = in(reg) &gdtr,
            idtr = in(reg) &idtr,
            cs = in(reg) KERNEL_CS as u64,
            ds = in(reg) KERNEL_DS as u64,
            tss = in(reg) TSS_SEL as u64,
            tmp = out(reg) _,
        );

        // GS base = per-CPU block while in the kernel; the user's GS base
        // waits in KERNEL_GS_BASE until SWAPGS.
        Msr::new(0xc000_0101).write(addr_of_mut!(e.percpu) as u64); // GS_BASE
        Msr::new(0xc000_0102).write(0); // KERNEL_GS_BASE

        // Step 1: EFER.SCE, STAR, LSTAR, FMASK.
        let mut efer = Msr::new(0xc000_0080);
        efer.write(efer.read() | 1); // SCE
        // SYSCALL loads CS = 0x10, SS = 0x18; SYSRET (64-bit) loads
        // CS = 0x23 + 16 = 0x33 and SS = 0x23 + 8 = 0x2b.
        Msr::new(0xc000_0081).write((0x23u64 << 48) | ((KERNEL_CS as u64) << 32));
        Msr::new(0xc000_0082).write(syscall_entry as *const () as u64);
        Msr::new(0xc000_0084).write(FMASK);

        // x87 and SSE for user programs: CR0.MP on, CR0.EM and TS off;
        // CR4.OSFXSR (FXSAVE, SSE) and OSXMMEXCPT (#XM for SIMD errors).
        // XSAVE (AVX) stays off, so CPUID.OSXSAVE tells programs not to
        // use AVX state the kernel does not switch.
        let mut cr0: u64;
        asm!("mov {}, cr0", out(reg) cr0);
        cr0 = (cr0 | (1 << 1)) & !((1 << 2) | (1 << 3));
        asm!("mov cr0, {}", in(reg) cr0);
        asm!("fninit");

        // NX is on since boot; SMEP/SMAP/UMIP where the CPU has them.
        let (smep, smap, umip) = features();
        let mut cr4: u64;
        asm!("mov {}, cr4", out(reg) cr4);
        cr4 |= (1 << 9) | (1 << 10);
        if smep {
            cr4 |= 1 << 20;
        }
        if smap {
            cr4 |= 1 << 21;
        }
        if umip {
            cr4 |= 1 << 11;
        }
        asm!("mov cr4, {}", in(reg) cr4);
    }
}

/// RFLAGS bits SYSCALL clears on entry.
const FMASK: u64 = (1 << 9)   // IF: the kernel runs with interrupts off
    | (1 << 8)                // TF: no single-step trap inside the kernel
    | (1 << 10)               // DF: the ABI wants string ops going up
    | (1 << 18)               // AC: user must not switch SMAP off for us
    | (1 << 14)               // NT: a stale nested-task flag breaks IRET
    | (3 << 12); // IOPL: no inherited I/O privilege

#[repr(C, packed)]
struct DescriptorPointer {
    limit: u16,
    base: u64,
}

fn features() -> (bool, bool, bool) {
    let r = core::arch::x86_64::__cpuid_count(7, 0);
    (r.ebx & (1 << 7) != 0, r.ebx & (1 << 20) != 0, r.ecx & (1 << 2) != 0)
}

/// Sets the FS base of the user thread about to run.
pub fn set_fs_base(base: u64) {
    // SAFETY: FS_BASE only affects user-mode FS-relative accesses.
    unsafe { Msr::new(0xc000_0100).write(base) };
}

/// Allows user-mode access to ports `base..base+count` for threads that
/// have I/O access (see `set_io_access`).
pub fn allow_ports(base: u16, count: u16) {
    // SAFETY: one CPU, interrupts off; the bitmap is only read by the CPU
    // on user-mode port instructions.
    let e = unsafe { &mut *addr_of_mut!(ENTRY) };
    for port in base as usize..(base as usize + count as usize).min(65536) {
        e.io_bitmap[port / 8] &= !(1 << (port % 8));
    }
}

/// Whether the thread about to run may use the ports `allow_ports` opened.
pub fn set_io_access(on: bool) {
    // SAFETY: as in allow_ports.
    let e = unsafe { &mut *addr_of_mut!(ENTRY) };
    e.tss.iomap_base = if on { TSS_SIZE } else { NO_IO_BITMAP };
}
