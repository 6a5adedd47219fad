//! `--trace`: one strace-like line per Linux syscall on the debug console,
//! `trace: [tid] name(args) = result <handler>`.

use crate::task;
use lstar_abi::errno::Errno;

/// Set at boot from the `trace` option: read on every syscall, so kept
/// out of the kernel lock.
pub static ON: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Whether `--trace` is on.
#[inline(always)]
pub fn on() -> bool {
    ON.load(core::sync::atomic::Ordering::Relaxed)
}

#[inline(always)]
pub fn line(nr: u64, name: &str, args: &[u64; 6], ret: u64, handler: &str) {
    if on() {
        print_line(nr, name, args, ret, handler);
    }
}

#[cold]
fn print_line(nr: u64, name: &str, args: &[u64; 6], ret: u64, handler: &str) {
    let tid = task::lock().current().id;
    let result = ResultFmt(ret);
    if name.is_empty() {
        crate::protocol!("trace: [{tid}] syscall_{nr:#x}({:#x}, {:#x}, {:#x}, {:#x}, {:#x}, {:#x}) = {result} <{handler}>", args[0], args[1], args[2], args[3], args[4], args[5]);
    } else {
        crate::protocol!("trace: [{tid}] {name}({:#x}, {:#x}, {:#x}, {:#x}, {:#x}, {:#x}) = {result} <{handler}>", args[0], args[1], args[2], args[3], args[4], args[5]);
    }
}

/// A forwarded call, traced when `handler` (its server) answers it with
/// `ret`: written under the kernel lock, by the reply.
#[cold]
pub fn reply(tid: u64, nr: u64, args: &[u64; 6], ret: u64, handler: &str) {
    let name = super::name_of(nr);
    let result = ResultFmt(ret);
    crate::protocol!("trace: [{tid}] {name}({:#x}, {:#x}, {:#x}, {:#x}, {:#x}, {:#x}) = {result} <{handler}>", args[0], args[1], args[2], args[3], args[4], args[5]);
}

/// A call that never returns (exit_group), traced when its server ends it.
pub fn no_return(tid: u64, nr: u64, args: &[u64; 6], handler: &str) {
    let name = super::name_of(nr);
    crate::protocol!("trace: [{tid}] {name}({:#x}, {:#x}, {:#x}, {:#x}, {:#x}, {:#x}) = ? <{handler}>", args[0], args[1], args[2], args[3], args[4], args[5]);
}

struct ResultFmt(u64);

impl core::fmt::Display for ResultFmt {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        match Errno::from_ret(self.0) {
            Some(e) => write!(f, "-1 {} ({})", e.name(), e.text()),
            None if self.0 > 0xffff => write!(f, "{:#x}", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}
