//! Linux signals as the process server keeps them: dispositions, masks,
//! default actions, and the x86_64 signal frame (`struct rt_sigframe`) that
//! a handler runs on and `rt_sigreturn` unwinds.

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
pub const SI_TKILL: i32 = -6;
/// Sent by the kernel side (the terminal's Ctrl-C).
pub const SI_KERNEL: i32 = 0x80;
pub const SEGV_MAPERR: i32 = 1;
pub const CLD_EXITED: i32 = 1;
pub const CLD_STOPPED: i32 = 5;
pub const CLD_CONTINUED: i32 = 6;

/// The bit of `sig` in a 64-bit signal set.
pub const fn bit(sig: u8) -> u64 {
    1 << (sig - 1)
}

/// Signals that can be neither caught, blocked nor ignored.
pub const UNBLOCKABLE: u64 = bit(SIGKILL) | bit(SIGSTOP);

/// The signal Linux sends for a CPU exception vector.
pub fn for_vector(vector: u64) -> u8 {
    match vector {
        0 | 16 | 19 => SIGFPE, // divide error, x87 and SIMD errors
        1 | 3 => SIGTRAP,
        6 => SIGILL,
        17 => SIGBUS, // alignment check
        _ => SIGSEGV, // page fault, general protection and the rest
    }
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
}

impl Info {
    fn to_bytes(self) -> [u8; 128] {
        let mut b = [0u8; 128];
        b[0..4].copy_from_slice(&(self.signo as i32).to_le_bytes());
        b[8..12].copy_from_slice(&self.code.to_le_bytes());
        // The union starts at offset 16: si_pid (i32), si_uid (u32) for
        // kill; si_addr (u64) for faults; si_pid, si_uid, si_status for
        // SIGCHLD.
        if matches!(self.signo, SIGSEGV | SIGBUS | SIGILL | SIGFPE | SIGTRAP) && self.code > 0 {
            b[16..24].copy_from_slice(&self.pid_or_addr.to_le_bytes());
        } else {
            b[16..20].copy_from_slice(&(self.pid_or_addr as i32).to_le_bytes());
            b[20..24].copy_from_slice(&self.uid.to_le_bytes());
            b[24..28].copy_from_slice(&self.status.to_le_bytes());
        }
        b
    }
}

// struct rt_sigframe { pretcode; struct ucontext uc; siginfo_t info; }
// with the FXSAVE area above it, 64-byte aligned.
const UC: usize = 8;
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
/// alternate stack when SA_ONSTACK applies, else None.
pub fn build_frame(ctx: &UserContext, action: &Action, info: Info, old_mask: u64, stack_top: Option<u64>) -> Frame {
    let top = stack_top.unwrap_or(ctx.regs.rsp.wrapping_sub(RED_ZONE));
    let fp = (top - FPSTATE as u64) & !63;
    // At handler entry RSP + 8 is 16-byte aligned, as after a CALL.
    let addr = ((fp - FRAME as u64) & !15) - 8;
    let mut bytes = alloc::vec![0u8; (fp + FPSTATE as u64 - addr) as usize];
    let put = |b: &mut [u8], at: usize, v: u64| b[at..at + 8].copy_from_slice(&v.to_le_bytes());
    put(&mut bytes, 0, action.restorer);
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
    set_gregs(&mut ctx.regs, &g);
    ctx.regs.rcx = ctx.regs.rip;
    ctx.regs.r11 = ctx.regs.rflags;
    word(296)
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
        let f = build_frame(&ctx, &action, Info { signo: SIGUSR1, code: SI_USER, pid_or_addr: 3, uid: 0, status: 0 }, 0x5, None);
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
