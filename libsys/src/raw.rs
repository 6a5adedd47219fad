//! The SYSCALL instruction, native personality (lstar_abi::native): one
//! function for every call, returning all the registers a message uses.

use lstar_abi::native::NativeCall;

/// RAX, RDI, RSI, RDX, R10, R8, R9, R12, R13, R14, R15 after the call.
pub type Regs = [u64; 11];

/// Issues native call `call` with up to six arguments.
pub fn call(call: NativeCall, a: [u64; 6]) -> Regs {
    let (rax, rdi, rsi, rdx, r10, r8, r9, r12, r13, r14, r15): (u64, u64, u64, u64, u64, u64, u64, u64, u64, u64, u64);
    // SAFETY: SYSCALL enters the kernel, which preserves every register
    // except RCX and R11 (clobbered by SYSCALL itself) and the ones listed
    // as outputs; it touches this program's memory only where an argument
    // allows it, and only as the call documents.
    unsafe {
        core::arch::asm!(
            "push rbx",
            "syscall",
            "pop rbx",
            inlateout("rax") call as u64 => rax,
            inlateout("rdi") a[0] => rdi,
            inlateout("rsi") a[1] => rsi,
            inlateout("rdx") a[2] => rdx,
            inlateout("r10") a[3] => r10,
            inlateout("r8") a[4] => r8,
            inlateout("r9") a[5] => r9,
            lateout("r12") r12,
            lateout("r13") r13,
            lateout("r14") r14,
            lateout("r15") r15,
            out("rcx") _,
            out("r11") _,
        );
    }
    [rax, rdi, rsi, rdx, r10, r8, r9, r12, r13, r14, r15]
}

/// Whether a call's RAX is an error (`-4095..0`, as `check` decides),
/// without naming it.
#[inline(always)]
pub fn failed(rax: u64) -> bool {
    (rax as i64) < 0 && (rax as i64) >= -4095
}

/// A call's RAX as a Result.
#[inline(always)]
pub fn check(rax: u64) -> Result<u64, lstar_abi::errno::Errno> {
    if !failed(rax) {
        return Ok(rax);
    }
    match lstar_abi::errno::Errno::from_ret(rax) {
        Some(e) => Err(e),
        None => Ok(rax),
    }
}

/// A call that only returns RAX.
#[inline]
pub fn call0(c: NativeCall, a: [u64; 6]) -> Result<u64, lstar_abi::errno::Errno> {
    check(call(c, a)[0])
}
