//! Everything x86_64-specific: boot stub, entry/exit assembly, descriptor
//! tables, MSRs, the local APIC. With `mm`, the only home of `unsafe`.

pub mod acpi;
pub mod apic;
pub mod cpu;
pub mod ioapic;
pub mod rtc;
pub mod port;
pub mod pvh;

use core::arch::{asm, global_asm};
use core::mem::offset_of;
use lstar_abi::PtRegs;

pub use cpu::PerCpu;

global_asm!(include_str!("boot.S"));
global_asm!(
    include_str!("entry.S"),
    PERCPU_USER_RSP = const offset_of!(PerCpu, user_rsp),
    PERCPU_KERNEL_STACK_TOP = const offset_of!(PerCpu, kernel_stack_top),
    PERCPU_USER_CR3 = const offset_of!(PerCpu, user_cr3),
    PERCPU_KPTI = const offset_of!(PerCpu, kpti),
    PERCPU_KERNEL_CR3 = const offset_of!(PerCpu, kernel_cr3),
    PERCPU_ENTRY_STACK_TOP = const offset_of!(PerCpu, entry_stack_top),
    COUNTERS = sym cpu::COUNTERS,
    C_ENTRIES = const lstar_abi::counters::Counters::OFFSET_ENTRIES,
    C_SYSCALLS = const lstar_abi::counters::Counters::OFFSET_SYSCALLS,
    C_CR3_WRITES = const lstar_abi::counters::Counters::OFFSET_CR3_WRITES,
    C_TLB_FLUSHES = const lstar_abi::counters::Counters::OFFSET_TLB_FLUSHES,
    PERCPU_ENTRY_CR3 = const offset_of!(PerCpu, entry_cr3),
    PTREGS_RCX = const PtRegs::OFFSET_RCX,
    PTREGS_RIP = const PtRegs::OFFSET_RIP,
    PTREGS_CS = const PtRegs::OFFSET_CS,
    PTREGS_R11 = const offset_of!(PtRegs, r11),
    PTREGS_RFLAGS = const PtRegs::OFFSET_RFLAGS,
    PTREGS_RSP = const PtRegs::OFFSET_RSP,
    PTREGS_SS = const PtRegs::OFFSET_SS,
    PTREGS_RDI = const offset_of!(PtRegs, rdi),
    USER_CS = const cpu::USER_CS as u64,
    USER_DS = const cpu::USER_DS as u64,
    ENOSYS_RET = const -38i64,
    PROBES = const cfg!(feature = "probes") as u8,
);

/// Called by the PVH stub (boot.S) with the physical address of
/// hvm_start_info, on the boot stack, in long mode.
#[no_mangle]
extern "C" fn kernel_main(start_info: u64) -> ! {
    crate::console::init();
    crate::boot::start(start_info)
}

extern "C" {
    fn switch_stacks(prev: *mut u64, next: u64);
    fn thread_first_return();
}

/// Saves the current kernel context (its stack pointer goes to `*prev`)
/// and resumes the one saved at `next`.
///
/// # Safety
/// `next` must be a stack pointer saved by this function or prepared by
/// [`KernelStack::prepare_user`], on a stack that stays allocated while in use,
/// and `prev` must stay valid until this context is resumed.
pub unsafe fn switch_context(prev: *mut u64, next: u64) {
    // SAFETY: forwarded to the caller's contract.
    unsafe { switch_stacks(prev, next) }
}

/// A thread's kernel stack: 16 KiB from the frame allocator, reached
/// through the direct map. Its top holds the thread's PtRegs while the
/// thread is in the kernel or switched out.
pub struct KernelStack {
    frames: crate::mm::PhysAddr,
    /// Where the PtRegs frame ends (PerCpu.kernel_stack_top). 8 below the
    /// end, so the frame leaves the stack 16-byte aligned for the calls
    /// from the entry assembly.
    top: u64,
}

impl KernelStack {
    const FRAMES: usize = 4;

    pub fn new() -> Option<KernelStack> {
        let frames = crate::mm::frame::alloc_contiguous(Self::FRAMES, 1)?;
        let top = frames.virt() as u64 + Self::FRAMES as u64 * lstar_abi::PAGE_SIZE - 8;
        Some(KernelStack { frames, top })
    }

    pub fn top(&self) -> u64 {
        self.top
    }

    /// The saved user registers of the thread that owns this stack.
    pub fn regs(&mut self) -> &mut PtRegs {
        // SAFETY: the frame lies inside this stack's own frames, and the
        // exclusive borrow of the stack is the only way to reach it.
        unsafe { &mut *((self.top - PtRegs::SIZE as u64) as *mut PtRegs) }
    }

    /// Lays out the stack so that the first switch to it returns to user
    /// mode with `regs`. Returns the stack pointer to switch to.
    pub fn prepare_user(&mut self, regs: &PtRegs) -> u64 {
        *self.regs() = *regs;
        self.prepare_return()
    }

    /// Lays out the stack so that the next switch to it returns to user
    /// mode with the PtRegs it holds. Returns the stack pointer to switch to.
    pub fn prepare_return(&mut self) -> u64 {
        let frame = self.top - PtRegs::SIZE as u64 - 7 * 8; // six callee-saved, return address
        self.write_frame(frame, thread_first_return as *const () as u64);
        frame
    }

    /// Lays out the stack so that the first switch to it calls `entry`
    /// (which never returns).
    pub fn prepare_kernel(&mut self, entry: extern "C" fn() -> !) -> u64 {
        let frame = self.top + 8 - 8 * 8;
        self.write_frame(frame, entry as *const () as u64);
        frame
    }

    fn write_frame(&mut self, frame: u64, ret: u64) {
        // SAFETY: `frame..frame+56` lies inside this stack, below the
        // PtRegs, and no context is running on the stack yet.
        unsafe {
            let words = frame as *mut u64;
            for i in 0..6 {
                words.add(i).write(0);
            }
            words.add(6).write(ret);
        }
    }

    pub fn free(self) {
        crate::mm::frame::free(self.frames, Self::FRAMES);
    }
}

pub fn write_cr3(value: u64) {
    // SAFETY: callers pass the root of a complete kernel mapping.
    unsafe { asm!("mov cr3, {}", in(reg) value, options(nostack)) };
}

pub fn read_cr3() -> u64 {
    let v: u64;
    // SAFETY: reading CR3 has no side effects.
    unsafe { asm!("mov {}, cr3", out(reg) v, options(nomem, nostack)) };
    v
}

pub fn read_cr2() -> u64 {
    let v: u64;
    // SAFETY: reading CR2 has no side effects.
    unsafe { asm!("mov {}, cr2", out(reg) v, options(nomem, nostack)) };
    v
}

pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC only reads the time-stamp counter.
    unsafe { core::arch::x86_64::_rdtsc() }
}

pub fn invlpg(va: u64) {
    // SAFETY: flushing a TLB entry cannot break memory safety.
    unsafe { asm!("invlpg [{}]", in(reg) va, options(nostack)) };
}

/// Waits for an interrupt with interrupts enabled, then disables them.
pub fn wait_for_interrupt() {
    // SAFETY: the kernel is in a consistent state (the idle loop); the
    // interrupt handler runs and returns here.
    unsafe { asm!("sti; hlt; cli", options(nomem, nostack)) };
}

pub fn halt_forever() -> ! {
    loop {
        // SAFETY: stopping the CPU is always safe.
        unsafe { asm!("cli; hlt", options(nomem, nostack)) };
    }
}

/// `array_index_nospec`: `index` if `index < len`, else 0, computed without
/// a branch the CPU could mispredict past (CMP + SBB make the mask).
pub fn index_nospec(index: usize, len: usize) -> usize {
    let mask: usize;
    // SAFETY: pure register arithmetic.
    unsafe {
        asm!("cmp {i}, {n}", "sbb {m}, {m}", i = in(reg) index, n = in(reg) len, m = inout(reg) 0usize => mask, options(pure, nomem, nostack));
    }
    index & mask
}

/// Called by entry.S once the PtRegs frame is built. The frame is the
/// current thread's (`Thread::regs`), reached through the kernel's thread
/// table rather than this pointer: while the thread waits for a server,
/// the server's reply is written into it, so no reference may outlive a
/// switch. Returns the PtRegs entry.S returns to user mode from: `regs`,
/// or another thread's after an IPC fast-path hand-off.
#[no_mangle]
extern "C" fn syscall_dispatch(regs: *mut PtRegs) -> *mut PtRegs {
    crate::syscall::dispatch().unwrap_or(regs)
}

/// Called by entry.S before a thread resumes from a frame laid out by
/// [`KernelStack::prepare_return`]: the exit work of the syscall it was
/// parked in.
#[no_mangle]
extern "C" fn resume_exit_work() {
    crate::task::exit_work();
}

/// What a trap handler needs of the interrupted context.
#[derive(Clone, Copy, Debug)]
pub struct TrapFrame {
    pub vector: u8,
    pub error: u64,
    pub rip: u64,
    pub rsp: u64,
    pub from_user: bool,
}

/// Called by entry.S for every interrupt and exception. From user mode
/// the frame is the current thread's PtRegs (see `syscall_dispatch`);
/// from kernel mode it is on the interrupted kernel stack.
#[no_mangle]
extern "C" fn interrupt_dispatch(regs: *mut PtRegs, vector: u64) {
    // SAFETY: entry.S passes the frame it just built, which nothing else
    // uses until this returns; it is read and changed here, before
    // anything can switch away.
    let r = unsafe { &mut *regs };
    let frame = TrapFrame { vector: vector as u8, error: r.orig_rax, rip: r.rip, rsp: r.rsp, from_user: r.cs & 3 == 3 };
    // The error code has been read: orig_rax says "no syscall", as Linux's
    // does after an interrupt or exception, so that no server takes the
    // interrupted code's RAX for a syscall's restart code.
    r.orig_rax = u64::MAX;
    crate::trap::handle(frame);
}

/// Moves off the page tables rooted at `kernel_cr3` if they are loaded,
/// before they are freed.
pub fn leave_tables(kernel_cr3: u64) {
    if read_cr3() & 0x000f_ffff_ffff_e000 == kernel_cr3 {
        write_cr3(crate::mm::paging::kernel_root());
    }
}

/// A thread's x87/SSE register state, in the FXSAVE layout. The kernel is
/// built without SSE, so user state stays in the registers from entry to
/// exit and only a switch between threads saves and restores it.
#[repr(C, align(16))]
pub struct FpuState([u8; 512]);

impl FpuState {
    /// The state a new Linux thread starts with ([`lstar_abi::native::FPU_INIT`]).
    pub fn new() -> FpuState {
        FpuState(lstar_abi::native::FPU_INIT)
    }

    pub fn copy_from(&mut self, other: &FpuState) {
        self.0 = other.0;
    }

    pub fn bytes(&self) -> &[u8; 512] {
        &self.0
    }

    /// Loads a state a program supplied (sigreturn). MXCSR's reserved bits
    /// would make FXRSTOR fault, so they are cleared.
    pub fn set_bytes(&mut self, bytes: &[u8; 512]) {
        self.0 = *bytes;
        let mxcsr = u32::from_le_bytes(self.0[24..28].try_into().expect("4 bytes")) & 0xffff;
        self.0[24..28].copy_from_slice(&mxcsr.to_le_bytes());
    }

    pub fn save(&mut self) {
        // SAFETY: FXSAVE writes 512 bytes to a 16-byte aligned buffer of
        // that size; SSE is enabled (cpu::init).
        unsafe { asm!("fxsave64 [{}]", in(reg) self.0.as_mut_ptr(), options(nostack)) };
    }

    pub fn restore(&self) {
        // SAFETY: as for save; the buffer holds a state FXSAVE wrote or
        // `new` built with valid reserved bits.
        unsafe { asm!("fxrstor64 [{}]", in(reg) self.0.as_ptr(), options(nostack)) };
    }
}
