//! Linux signals as the process server keeps them: dispositions, masks,
//! default actions, and the x86_64 signal frame (`struct rt_sigframe`) that
//! a handler runs on and `rt_sigreturn` unwinds.

use lstar_abi::errno::Errno;
use lstar_abi::native::UserContext;
use lstar_abi::PtRegs;

pub const SIGHUP: u8 = 1;
pub const SIGINT: u8 = 2;
pub const SIGQUIT: u8 = 3;
pub const SIGILL: u8 = 4;
pub const SIGTRAP: u8 = 5;
pub const SIGABRT: u8 = 6;
pub const SIGBUS: u8 = 7;
pub const SIGFPE: u8 = 8;
pub const SIGKILL: u8 = 9;
pub const SIGUSR1: u8 = 10;
pub const SIGSEGV: u8 = 11;
pub const SIGUSR2: u8 = 12;
pub const SIGPIPE: u8 = 13;
pub const SIGALRM: u8 = 14;
pub const SIGTERM: u8 = 15;
pub const SIGCHLD: u8 = 17;
pub const SIGCONT: u8 = 18;
pub const SIGSTOP: u8 = 19;
pub const SIGTSTP: u8 = 20;
pub const SIGTTIN: u8 = 21;
pub const SIGTTOU: u8 = 22;
pub const SIGURG: u8 = 23;
pub const SIGXCPU: u8 = 24;
pub const SIGXFSZ: u8 = 25;
pub const SIGWINCH: u8 = 28;
pub const SIGSYS: u8 = 31;
/// The first real-time signal as the kernel numbers them (musl keeps
/// 32..=34 for itself and calls 35 SIGRTMIN). From here on, each sent
/// instance is queued; below, a pending signal absorbs the next one.
pub const SIGRTMIN: u8 = 32;
/// Signals are 1..=64.
pub const NSIG: u8 = 64;

pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;
pub const SA_SIGINFO: u64 = 0x4;
pub const SA_RESTORER: u64 = 0x0400_0000;
pub const SA_ONSTACK: u64 = 0x0800_0000;
pub const SA_RESTART: u64 = 0x1000_0000;
pub const SA_NODEFER: u64 = 0x4000_0000;
pub const SA_RESETHAND: u64 = 0x8000_0000;

/// `si_code` values used here.
pub const SI_USER: i32 = 0;
/// sigqueue (rt_sigqueueinfo from musl).
pub const SI_QUEUE: i32 = -1;
pub const SI_TKILL: i32 = -6;
/// Sent by the kernel side (the terminal's Ctrl-C, int3, #GP).
pub const SI_KERNEL: i32 = 0x80;
pub const SEGV_MAPERR: i32 = 1;
pub const SEGV_ACCERR: i32 = 2;
pub const FPE_INTDIV: i32 = 1;
pub const ILL_ILLOPN: i32 = 2;
pub const BUS_ADRALN: i32 = 1;
pub const CLD_EXITED: i32 = 1;
pub const CLD_KILLED: i32 = 2;
pub const CLD_DUMPED: i32 = 3;
pub const CLD_STOPPED: i32 = 5;
pub const CLD_CONTINUED: i32 = 6;

/// The bit of `sig` in a 64-bit signal set.
pub const fn bit(sig: u8) -> u64 {
    1 << (sig - 1)
}

/// Signals that can be neither caught, blocked nor ignored.
pub const UNBLOCKABLE: u64 = bit(SIGKILL) | bit(SIGSTOP);

/// Signals a fault raises; delivered before any other pending signal.
pub const SYNCHRONOUS: u64 = bit(SIGSEGV) | bit(SIGBUS) | bit(SIGILL) | bit(SIGTRAP) | bit(SIGFPE) | bit(SIGSYS);

const VEC_DIVIDE: u64 = 0;
const VEC_INVALID_OPCODE: u64 = 6;
const VEC_PAGE_FAULT: u64 = 14;
const VEC_ALIGNMENT: u64 = 17;
/// Page-fault error code bit 0: the page was present (a protection fault).
const PF_PRESENT: u64 = 1;

/// The signal Linux sends for a CPU exception vector.
pub fn for_vector(vector: u64) -> u8 {
    match vector {
        0 | 16 | 19 => SIGFPE, // divide error, x87 and SIMD errors
        1 | 3 => SIGTRAP,
        6 => SIGILL,
        11 | 12 | 17 => SIGBUS, // segment not present, stack segment, alignment check
        _ => SIGSEGV,           // page fault, general protection and the rest
    }
}

/// The siginfo Linux fills for a fault: vector, error code, CR2 (page
/// faults) and the faulting instruction's address.
pub fn fault_info(vector: u64, error: u64, cr2: u64, rip: u64) -> Info {
    let signo = for_vector(vector);
    let (code, addr) = match vector {
        VEC_PAGE_FAULT => (if error & PF_PRESENT != 0 { SEGV_ACCERR } else { SEGV_MAPERR }, cr2),
        VEC_DIVIDE => (FPE_INTDIV, rip),
        VEC_INVALID_OPCODE => (ILL_ILLOPN, rip),
        VEC_ALIGNMENT => (BUS_ADRALN, 0),
        // int3, #GP and the rest come from the kernel with no address.
        _ => (SI_KERNEL, 0),
    };
    Info { signo, code, pid_or_addr: addr, ..Info::default() }
}

/// The name `kill -l` gives.
pub fn name(sig: u8) -> &'static str {
    match sig {
        SIGHUP => "SIGHUP",
        SIGINT => "SIGINT",
        SIGQUIT => "SIGQUIT",
        SIGILL => "SIGILL",
        SIGTRAP => "SIGTRAP",
        SIGABRT => "SIGABRT",
        SIGBUS => "SIGBUS",
        SIGFPE => "SIGFPE",
        SIGKILL => "SIGKILL",
        SIGSEGV => "SIGSEGV",
        SIGPIPE => "SIGPIPE",
        SIGTERM => "SIGTERM",
        _ => "signal",
    }
}

/// What happens to a signal nobody handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Default {
    Terminate,
    /// Terminate; Linux would also dump core.
    Core,
    Ignore,
    Stop,
    Continue,
}

/// Whether a signal with this handler would be thrown away on arrival:
/// SIG_IGN, or SIG_DFL for a signal whose default is to do nothing (Linux
/// counts SIGCONT there: its continuing happens when it is sent).
pub fn ignored_by(handler: u64, sig: u8) -> bool {
    handler == SIG_IGN || (handler == SIG_DFL && sig != SIGKILL && matches!(default_action(sig), Default::Ignore | Default::Continue))
}

pub fn default_action(sig: u8) -> Default {
    match sig {
        SIGCHLD | SIGURG | SIGWINCH => Default::Ignore,
        SIGCONT => Default::Continue,
        SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU => Default::Stop,
        SIGQUIT | SIGILL | SIGTRAP | SIGABRT | SIGBUS | SIGFPE | SIGSEGV | SIGXCPU | SIGXFSZ | SIGSYS => Default::Core,
        _ => Default::Terminate,
    }
}

/// `struct k_sigaction` as rt_sigaction passes it on x86_64.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Action {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: u64,
}

impl Action {
    pub const SIZE: usize = 32;

    pub fn from_bytes(b: &[u8; 32]) -> Action {
        let w = |i: usize| u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().expect("8 bytes"));
        Action { handler: w(0), flags: w(1), restorer: w(2), mask: w(3) }
    }

    pub fn to_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, v) in [self.handler, self.flags, self.restorer, self.mask].iter().enumerate() {
            out[8 * i..8 * i + 8].copy_from_slice(&v.to_le_bytes());
        }
        out
    }
}

/// `siginfo_t` fields a frame carries (128 bytes in memory).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Info {
    pub signo: u8,
    pub code: i32,
    /// si_pid for kill, si_addr for faults.
    pub pid_or_addr: u64,
    pub uid: u32,
    /// si_status for SIGCHLD.
    pub status: i32,
    /// si_value for sigqueue.
    pub value: u64,
}

impl Info {
    /// kill, tkill and tgkill (`code` SI_USER or SI_TKILL) from `pid`.
    pub fn sent(signo: u8, code: i32, pid: u32) -> Info {
        Info { signo, code, pid_or_addr: pid as u64, ..Info::default() }
    }

    /// SIGCHLD about `child`: CLD_* with the exit code or signal.
    pub fn child(code: i32, child: u32, status: i32) -> Info {
        Info { signo: SIGCHLD, code, pid_or_addr: child as u64, status, ..Info::default() }
    }

    /// What rt_sigqueueinfo's caller supplied, as Linux keeps it: its
    /// si_code, si_pid, si_uid and si_value, for signal `signo`.
    pub fn from_user(signo: u8, b: &[u8; 128]) -> Info {
        let i32_at = |at: usize| i32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"));
        let pid = i32_at(16);
        Info {
            signo,
            code: i32_at(8),
            pid_or_addr: pid as u32 as u64,
            uid: i32_at(20) as u32,
            status: 0,
            value: u64::from_le_bytes(b[24..32].try_into().expect("8 bytes")),
        }
    }

    /// Whether the union holds a fault address rather than a sender.
    fn is_fault(&self) -> bool {
        matches!(self.signo, SIGSEGV | SIGBUS | SIGILL | SIGFPE | SIGTRAP) && self.code > 0
    }

    /// The 128-byte `siginfo_t`.
    pub fn to_bytes(self) -> [u8; 128] {
        let mut b = [0u8; 128];
        b[0..4].copy_from_slice(&(self.signo as i32).to_le_bytes());
        b[8..12].copy_from_slice(&self.code.to_le_bytes());
        // The union starts at offset 16: si_addr (u64) for faults;
        // otherwise si_pid (i32) and si_uid (u32), then si_status (i32)
        // for SIGCHLD or si_value (u64) for the rest.
        if self.is_fault() {
            b[16..24].copy_from_slice(&self.pid_or_addr.to_le_bytes());
        } else {
            b[16..20].copy_from_slice(&(self.pid_or_addr as u32).to_le_bytes());
            b[20..24].copy_from_slice(&self.uid.to_le_bytes());
            if self.signo == SIGCHLD {
                b[24..28].copy_from_slice(&self.status.to_le_bytes());
            } else {
                b[24..32].copy_from_slice(&self.value.to_le_bytes());
            }
        }
        b
    }
}

pub const SS_ONSTACK: u32 = 1;
pub const SS_DISABLE: u32 = 2;
/// Disarm the stack while a handler runs on it (restored by rt_sigreturn).
pub const SS_AUTODISARM: u32 = 1 << 31;
/// The smallest alternate stack sigaltstack accepts.
pub const MINSIGSTKSZ: u64 = 2048;

/// An alternate signal stack (sigaltstack), as Linux keeps it: size 0
/// means none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AltStack {
    pub sp: u64,
    pub size: u64,
    /// The flags it was set with (only SS_AUTODISARM matters later).
    pub flags: u32,
}

impl core::default::Default for AltStack {
    fn default() -> Self {
        AltStack::NONE
    }
}

impl AltStack {
    /// No alternate stack: what a program starts with, and what an
    /// SS_AUTODISARM stack becomes while a handler runs on it.
    pub const NONE: AltStack = AltStack { sp: 0, size: 0, flags: SS_DISABLE };

    /// The `stack_t` a signal frame saves in `uc_stack`: the stack as it
    /// was set, flags included, for rt_sigreturn to set again.
    pub fn saved_bytes(&self) -> [u8; 24] {
        let mut b = [0u8; 24];
        b[0..8].copy_from_slice(&self.sp.to_le_bytes());
        b[8..12].copy_from_slice(&self.flags.to_le_bytes());
        b[16..24].copy_from_slice(&self.size.to_le_bytes());
        b
    }

    /// Whether `rsp` is on the stack (never while it is disarmed).
    pub fn contains(&self, rsp: u64) -> bool {
        self.flags & SS_AUTODISARM == 0 && rsp > self.sp && rsp - self.sp <= self.size
    }

    /// `ss_flags` as sigaltstack reports it to code running at `rsp`.
    pub fn flags_at(&self, rsp: u64) -> u32 {
        let mode = if self.size == 0 {
            SS_DISABLE
        } else if self.contains(rsp) {
            SS_ONSTACK
        } else {
            0
        };
        mode | (self.flags & SS_AUTODISARM)
    }

    /// The `stack_t` reported to code running at `rsp`.
    pub fn to_bytes(&self, rsp: u64) -> [u8; 24] {
        let mut b = [0u8; 24];
        b[0..8].copy_from_slice(&self.sp.to_le_bytes());
        b[8..12].copy_from_slice(&self.flags_at(rsp).to_le_bytes());
        b[16..24].copy_from_slice(&self.size.to_le_bytes());
        b
    }

    /// A `stack_t` as the program wrote it (sp, flags, size).
    pub fn parse(b: &[u8; 24]) -> (u64, u32, u64) {
        let sp = u64::from_le_bytes(b[0..8].try_into().expect("8 bytes"));
        let flags = u32::from_le_bytes(b[8..12].try_into().expect("4 bytes"));
        let size = u64::from_le_bytes(b[16..24].try_into().expect("8 bytes"));
        (sp, flags, size)
    }

    /// sigaltstack's change to the stack, for code running at `rsp`:
    /// EPERM while on the current one, EINVAL for unknown flags, ENOMEM
    /// for a stack too small; SS_DISABLE forgets it.
    pub fn change(&self, rsp: u64, sp: u64, flags: u32, size: u64) -> Result<AltStack, Errno> {
        if self.contains(rsp) {
            return Err(Errno::EPERM);
        }
        let mode = flags & !SS_AUTODISARM;
        if !matches!(mode, 0 | SS_ONSTACK | SS_DISABLE) {
            return Err(Errno::EINVAL);
        }
        if mode == SS_DISABLE {
            return Ok(AltStack { flags, ..AltStack::NONE });
        }
        if size < MINSIGSTKSZ {
            return Err(Errno::ENOMEM);
        }
        Ok(AltStack { sp, size, flags })
    }
}

// struct rt_sigframe { pretcode; struct ucontext uc; siginfo_t info; }
// with the FXSAVE area above it, 64-byte aligned.
const UC: usize = 8;
const UC_STACK: usize = UC + 16;
const UC_MCONTEXT: usize = UC + 40;
const UC_SIGMASK: usize = UC + 296;
const INFO: usize = UC + 304;
const FRAME: usize = INFO + 128;
const FPSTATE: usize = 512;
/// Bytes below the interrupted RSP that the ABI lets leaf code use.
const RED_ZONE: u64 = 128;

/// sigcontext's register order (r8 … rip, eflags), as PtRegs fields.
fn gregs(r: &PtRegs) -> [u64; 18] {
    [r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rdi, r.rsi, r.rbp, r.rbx, r.rdx, r.rax, r.rcx, r.rsp, r.rip, r.rflags]
}

fn set_gregs(r: &mut PtRegs, g: &[u64; 18]) {
    [r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rdi, r.rsi, r.rbp, r.rbx, r.rdx, r.rax, r.rcx, r.rsp, r.rip, r.rflags] = *g;
}

/// A frame to write at `addr`, and the context the handler starts with.
#[derive(Debug)]
pub struct Frame {
    pub addr: u64,
    pub bytes: alloc::vec::Vec<u8>,
    pub handler: UserContext,
}

/// Builds the frame for delivering `info` with `action`, interrupting
/// `ctx` (whose RAX already holds the interrupted syscall's result), with
/// `old_mask` as the mask to restore on return. `stack_top`: the top of an
/// alternate stack when SA_ONSTACK applies, else None. `uc_stack`: the
/// alternate stack as the interrupted code saw it, for rt_sigreturn to
/// put back.
pub fn build_frame(ctx: &UserContext, action: &Action, info: Info, old_mask: u64, stack_top: Option<u64>, uc_stack: [u8; 24]) -> Frame {
    let top = stack_top.unwrap_or(ctx.regs.rsp.wrapping_sub(RED_ZONE));
    let fp = (top - FPSTATE as u64) & !63;
    // At handler entry RSP + 8 is 16-byte aligned, as after a CALL.
    let addr = ((fp - FRAME as u64) & !15) - 8;
    let mut bytes = alloc::vec![0u8; (fp + FPSTATE as u64 - addr) as usize];
    let put = |b: &mut [u8], at: usize, v: u64| b[at..at + 8].copy_from_slice(&v.to_le_bytes());
    put(&mut bytes, 0, action.restorer);
    bytes[UC_STACK..UC_STACK + 24].copy_from_slice(&uc_stack);
    for (i, v) in gregs(&ctx.regs).iter().enumerate() {
        put(&mut bytes, UC_MCONTEXT + 8 * i, *v);
    }
    // cs, gs, fs, ss as four u16 in one word.
    put(&mut bytes, UC_MCONTEXT + 8 * 18, ctx.regs.cs | (ctx.regs.ss << 48));
    put(&mut bytes, UC_MCONTEXT + 8 * 19, 0); // err
    put(&mut bytes, UC_MCONTEXT + 8 * 20, 0); // trapno
    put(&mut bytes, UC_MCONTEXT + 8 * 21, old_mask); // oldmask
    put(&mut bytes, UC_MCONTEXT + 8 * 22, if info.code > 0 { info.pid_or_addr } else { 0 }); // cr2
    put(&mut bytes, UC_MCONTEXT + 8 * 23, fp); // fpstate
    put(&mut bytes, UC_SIGMASK, old_mask);
    bytes[INFO..INFO + 128].copy_from_slice(&info.to_bytes());
    let fp_off = (fp - addr) as usize;
    bytes[fp_off..fp_off + FPSTATE].copy_from_slice(&ctx.fpu);

    let mut handler = *ctx;
    handler.regs.rip = action.handler;
    handler.regs.rcx = action.handler;
    handler.regs.rsp = addr;
    handler.regs.rdi = info.signo as u64;
    handler.regs.rsi = addr + INFO as u64;
    handler.regs.rdx = addr + UC as u64;
    handler.regs.rax = 0;
    // The handler starts with DF and TF clear, like any function call.
    handler.regs.rflags &= !((1 << 10) | (1 << 8));
    handler.regs.r11 = handler.regs.rflags;
    // And with the initial x87/SSE state, as on Linux: the interrupted
    // code's is in the frame, for rt_sigreturn.
    handler.fpu = lstar_abi::native::FPU_INIT;
    Frame { addr, bytes, handler }
}

/// What rt_sigreturn restores from the frame whose ucontext starts at
/// `uc_addr` (`uc` holds its 304 bytes): the registers (into `ctx`), and
/// the signal mask. The FXSAVE area is read separately from `fpstate()`.
pub fn restore(ctx: &mut UserContext, uc: &[u8; 304]) -> u64 {
    let word = |at: usize| u64::from_le_bytes(uc[at..at + 8].try_into().expect("8 bytes"));
    let mut g = [0u64; 18];
    for (i, v) in g.iter_mut().enumerate() {
        *v = word(40 + 8 * i);
    }
    // Every register comes back as saved, RCX and R11 too: the handler
    // may have interrupted code between any two instructions, which
    // needs them (a `rep stos` counts in RCX). The exit takes IRET when
    // they do not suit SYSRET.
    set_gregs(&mut ctx.regs, &g);
    // No syscall to restart here: RAX is the interrupted code's.
    ctx.regs.orig_rax = u64::MAX;
    word(296)
}

/// The `uc_stack` of a saved ucontext.
pub fn uc_stack(uc: &[u8; 304]) -> [u8; 24] {
    uc[16..40].try_into().expect("24 bytes")
}

/// The fpstate pointer of a saved ucontext (0 if none).
pub fn fpstate(uc: &[u8; 304]) -> u64 {
    u64::from_le_bytes(uc[40 + 8 * 23..40 + 8 * 24].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_round_trips_through_sigreturn() {
        let mut ctx = UserContext::default();
        ctx.regs.rsp = 0x7fff_0000_1238;
        ctx.regs.rip = 0x401000;
        ctx.regs.rax = 42;
        ctx.regs.rbx = 7;
        ctx.regs.rflags = 0x246;
        ctx.fpu[0] = 0x7f;
        let action = Action { handler: 0x402000, flags: SA_SIGINFO | SA_RESTORER, restorer: 0x403000, mask: 0 };
        let stack = AltStack { sp: 0x1000, size: 0x4000, flags: SS_AUTODISARM };
        let f = build_frame(&ctx, &action, Info::sent(SIGUSR1, SI_USER, 3), 0x5, None, stack.saved_bytes());
        assert_eq!((f.addr + 8) % 16, 0, "handler entry alignment");
        assert!(f.addr + f.bytes.len() as u64 <= ctx.regs.rsp - RED_ZONE);
        assert_eq!(f.handler.regs.rip, 0x402000);
        assert_eq!(f.handler.regs.rdi, SIGUSR1 as u64);
        assert_eq!(u64::from_le_bytes(f.bytes[0..8].try_into().unwrap()), 0x403000, "return address = restorer");
        let info_signo = i32::from_le_bytes(f.bytes[INFO..INFO + 4].try_into().unwrap());
        assert_eq!(info_signo, SIGUSR1 as i32);
        // The handler returns into the restorer, which pops pretcode: the
        // ucontext is at RSP when rt_sigreturn is called.
        let uc: [u8; 304] = f.bytes[UC..UC + 304].try_into().unwrap();
        let mut back = UserContext::default();
        let mask = restore(&mut back, &uc);
        assert_eq!(mask, 0x5);
        assert_eq!(back.regs.rip, 0x401000);
        assert_eq!(back.regs.rsp, 0x7fff_0000_1238);
        assert_eq!(back.regs.rax, 42);
        assert_eq!(back.regs.rbx, 7);
        let fp = fpstate(&uc);
        assert_eq!(fp % 64, 0);
        assert_eq!(f.bytes[(fp - f.addr) as usize], 0x7f);
        assert_eq!(AltStack::parse(&uc_stack(&uc)), (0x1000, SS_AUTODISARM, 0x4000), "uc_stack as set");
    }

    #[test]
    fn siginfo_layouts() {
        let b = Info::sent(SIGUSR1, SI_TKILL, 7).to_bytes();
        assert_eq!(i32::from_le_bytes(b[8..12].try_into().unwrap()), SI_TKILL);
        assert_eq!(i32::from_le_bytes(b[16..20].try_into().unwrap()), 7, "si_pid");
        let b = Info::child(CLD_KILLED, 9, SIGTERM as i32).to_bytes();
        assert_eq!(i32::from_le_bytes(b[24..28].try_into().unwrap()), SIGTERM as i32, "si_status");
        let mut user = [0u8; 128];
        user[8..12].copy_from_slice(&SI_QUEUE.to_le_bytes());
        user[16..20].copy_from_slice(&5i32.to_le_bytes());
        user[24..32].copy_from_slice(&0x1234_5678_9abcu64.to_le_bytes());
        let q = Info::from_user(40, &user);
        assert_eq!((q.signo, q.code, q.pid_or_addr, q.value), (40, SI_QUEUE, 5, 0x1234_5678_9abc));
        assert_eq!(q.to_bytes()[8..32], user[8..32], "sigqueue's fields come back");
    }

    #[test]
    fn fault_siginfo() {
        let mapped = fault_info(14, 0x6, 0x10, 0x401000);
        assert_eq!((mapped.signo, mapped.code, mapped.pid_or_addr), (SIGSEGV, SEGV_MAPERR, 0x10));
        assert_eq!(fault_info(14, 0x7, 0x5000, 0x401000).code, SEGV_ACCERR);
        let div = fault_info(0, 0, 0, 0x401234);
        assert_eq!((div.signo, div.code, div.pid_or_addr), (SIGFPE, FPE_INTDIV, 0x401234));
        let ud2 = fault_info(6, 0, 0, 0x401238);
        assert_eq!((ud2.signo, ud2.code, ud2.pid_or_addr), (SIGILL, ILL_ILLOPN, 0x401238));
        let int3 = fault_info(3, 0, 0, 0x401239);
        assert_eq!((int3.signo, int3.code, int3.pid_or_addr), (SIGTRAP, SI_KERNEL, 0));
        assert_eq!(fault_info(13, 0, 0, 0x401000).code, SI_KERNEL);
    }

    #[test]
    fn alternate_stacks() {
        let none = AltStack::default();
        assert_eq!(none.flags_at(0x5000), SS_DISABLE);
        let on = none.change(0x9000, 0x1000, 0, 0x2000).unwrap();
        assert!(!on.contains(0x1000), "the lowest byte is past the stack's end");
        assert!(on.contains(0x3000) && on.contains(0x1001));
        assert_eq!(on.flags_at(0x2000), SS_ONSTACK);
        assert_eq!(on.flags_at(0x9000), 0);
        assert_eq!(on.change(0x2000, 0x8000, 0, 0x4000), Err(Errno::EPERM));
        assert_eq!(on.change(0x9000, 0x8000, 0x1234, 0x4000), Err(Errno::EINVAL));
        assert_eq!(on.change(0x9000, 0x8000, 0, MINSIGSTKSZ - 1), Err(Errno::ENOMEM));
        assert_eq!(on.change(0x9000, 0x8000, SS_ONSTACK, MINSIGSTKSZ).map(|s| s.size), Ok(MINSIGSTKSZ));
        let off = on.change(0x9000, 0x8000, SS_DISABLE, 0).unwrap();
        assert_eq!((off.sp, off.size, off.flags_at(0x9000)), (0, 0, SS_DISABLE));
        let disarming = none.change(0x9000, 0x1000, SS_AUTODISARM, 0x2000).unwrap();
        assert!(!disarming.contains(0x2000), "never 'on' an SS_AUTODISARM stack");
        assert_eq!(disarming.flags_at(0x2000), SS_AUTODISARM);
    }

    #[test]
    fn actions_round_trip() {
        let a = Action { handler: 1, flags: 2, restorer: 3, mask: 4 };
        assert_eq!(Action::from_bytes(&a.to_bytes()), a);
    }

    #[test]
    fn defaults() {
        assert_eq!(default_action(SIGCHLD), Default::Ignore);
        assert_eq!(default_action(SIGSEGV), Default::Core);
        assert_eq!(default_action(SIGTERM), Default::Terminate);
        assert_eq!(default_action(SIGTSTP), Default::Stop);
    }
}
