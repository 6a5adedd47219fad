//! The dispatcher (steps 4-6 of the SYSCALL path): a thread's personality
//! picks the API; a Linux number picks a row of the generated tables; the
//! row says who handles it: a kernel function, a server, or nobody.

pub mod handlers;
pub mod native;
pub mod trace;

use crate::task::{self, Outgoing};
use lstar_abi::dispatch::{decode, Abi};
use lstar_abi::errno::Errno;
use lstar_abi::native::{NativeCall, Personality};
use lstar_abi::{MessageKind, PtRegs};

/// A kernel handler: the calling thread in (its registers hold the
/// arguments), a value or an errno out. It runs under the kernel lock.
pub type Handler = fn(&mut task::Thread) -> Result<u64, Errno>;

/// What a table row says.
#[derive(Clone, Copy)]
pub enum Route {
    /// Not implemented: `-ENOSYS`.
    None,
    Kernel(Handler),
    Server(ServerId),
}

#[allow(dead_code)] // the tables are generated whole; not every name is used yet
mod table {
    use super::{handlers, Route};
    include!(concat!(env!("OUT_DIR"), "/syscall_table.rs"));
}

pub use table::ServerId;

/// The routing in force: the generated tables, with the boot command
/// line's `route=NAME:HANDLER` words applied (so one kernel binary can
/// answer "in the kernel or forwarded?" for the bench).
struct Routes {
    x64: [Route; table::X64_NR],
    x32: [Route; table::X32_NR],
}

static ROUTES: spin::Once<alloc::boxed::Box<Routes>> = spin::Once::new();

/// Builds the routing from the generated tables and `overrides` (pairs of
/// syscall name and handler: `kernel` or a server name). Returns a message
/// for each override that cannot be applied.
pub fn init_routes(overrides: &[(&str, &str)]) -> alloc::vec::Vec<alloc::string::String> {
    let mut r = alloc::boxed::Box::new(Routes { x64: table::X64_ROUTES, x32: table::X32_ROUTES });
    let mut problems = alloc::vec::Vec::new();
    for &(name, handler) in overrides {
        let Some(nr) = table::X64_NAMES.iter().position(|&n| n == name) else {
            problems.push(alloc::format!("route={name}:{handler}: no such syscall"));
            continue;
        };
        let route = match handler {
            "kernel" => match handlers::by_name(name) {
                Some(h) => Route::Kernel(h),
                None => {
                    problems.push(alloc::format!("route={name}:kernel: the kernel has no handler for {name}"));
                    continue;
                }
            },
            server => match ServerId::ALL.iter().find(|s| s.name() == server) {
                Some(&s) => Route::Server(s),
                None => {
                    problems.push(alloc::format!("route={name}:{server}: no such server"));
                    continue;
                }
            },
        };
        r.x64[nr] = route;
        // A common row is the same call in the x32 table.
        if table::X32_NAMES.get(nr) == Some(&name) {
            r.x32[nr] = route;
        }
    }
    ROUTES.call_once(|| r);
    problems
}

/// Step 4: look the number up, speculation-safely. Also returns the
/// number a server is sent: the table index, with X32_SYSCALL_BIT kept for
/// the x32 table (the upper half of RAX, which Linux ignores, dropped).
#[inline(always)]
fn route(rax: u64) -> (Route, u64) {
    let routes = ROUTES.get().expect("routes set at boot");
    match decode(rax, table::X64_NR, table::X32_NR) {
        Some((Abi::X64, i)) => {
            let i = crate::arch::x86_64::index_nospec(i, table::X64_NR);
            (routes.x64[i], i as u64)
        }
        Some((Abi::X32, i)) => {
            let i = crate::arch::x86_64::index_nospec(i, table::X32_NR);
            (routes.x32[i], i as u64 | lstar_abi::X32_SYSCALL_BIT)
        }
        None => (Route::None, rax),
    }
}

/// The name of a Linux syscall number ("" for none).
fn name(rax: u64) -> &'static str {
    match decode(rax, table::X64_NR, table::X32_NR) {
        Some((Abi::X64, i)) => table::X64_NAMES[i],
        Some((Abi::X32, i)) => table::X32_NAMES[i],
        None => "",
    }
}

/// Entered from the assembly for the current thread; leaves the result
/// in its saved RAX (possibly after other threads ran). One lock for the
/// whole way, from reading the registers to choosing the next thread.
/// Some: the IPC fast path handed off to another thread, whose PtRegs
/// these are (task::fastpath).
///
/// Every Linux call is dispatched here, and a server's commonest calls:
/// the ReplyRecv the IPC fast path takes, and its copies to and from its
/// client. The rest of the native API goes the general way (`native`).
#[inline(always)]
pub fn dispatch() -> Option<*mut PtRegs> {
    let mut k = task::lock();
    let t = k.current();
    let personality = t.personality;
    let r = t.regs();
    let nr = r.orig_rax;
    if personality == Personality::Linux {
        let (route, number) = route(nr);
        crate::arch::x86_64::cpu::probe(lstar_abi::counters::ProbePoint::Dispatch);
        match route {
            Route::Kernel(handler) => {
                let ret = handler(t).unwrap_or_else(Errno::to_ret);
                let r = t.regs();
                r.rax = ret;
                let traced = trace::on().then(|| r.args());
                drop(k);
                if let Some(args) = traced {
                    trace::line(nr, name(nr), &args, ret, "kernel");
                }
                task::yield_if_requested();
            }
            Route::Server(server) => {
                // Step 5: forward, straight to a waiting server thread if
                // the fast path can (task::fastpath).
                if let Some(next) = k.call_fast(server as usize, number) {
                    return Some(next);
                }
                let args = k.current().regs().args();
                forward(k, server, number, args);
            }
            Route::None => {
                r.rax = Errno::ENOSYS.to_ret();
                let traced = trace::on().then(|| r.args());
                drop(k);
                warn_unrouted(nr, name(nr));
                if let Some(args) = traced {
                    trace::line(nr, name(nr), &args, Errno::ENOSYS.to_ret(), "-");
                }
            }
        }
    } else if nr == NativeCall::ReplyRecv as u64 {
        match k.reply_recv_fast() {
            Some(next) => return Some(next),
            None => native(k),
        }
    } else if nr == NativeCall::CopyToClient as u64 || nr == NativeCall::CopyFromClient as u64 {
        // A server reaching into its client's memory: most forwarded
        // calls that pass a buffer make one or two of these.
        let a = r.args();
        let ret = native::copy_client(&mut k, a[0], a[1], a[2], a[3], nr == NativeCall::CopyToClient as u64);
        k.current().regs().rax = ret.unwrap_or_else(Errno::to_ret);
        drop(k);
    } else {
        native(k);
    }
    task::exit_work();
    None
}

/// The rest of the native API.
#[inline(never)]
fn native(mut k: task::Guard) {
    let r = k.current().regs();
    let (nr, args) = (r.orig_rax, r.args());
    native::dispatch(k, nr, args);
}

/// Step 5: forward through the scheduler: queued for the server, or
/// handed to it with a switch of kernel stacks. The reply lands in this
/// thread's saved RAX while it is switched out (and writes the trace
/// line, native::reply).
#[inline(never)]
fn forward(mut k: task::Guard, server: ServerId, number: u64, args: [u64; 6]) {
    let out = Outgoing { kind: MessageKind::Syscall, nr: number, args };
    // Nothing of the call is left to do here once it is answered.
    k.current().parked = k.options.fastpath;
    match k.send_current(server as usize, out) {
        Some(sw) => sw.run(k),
        None => k.current().parked = false,
    }
}

/// Logs an unrouted syscall once per number. A bitmap answers "seen
/// already?" for the numbers of both tables without a lock; numbers past
/// them (any 64-bit value) are logged once, together.
fn warn_unrouted(nr: u64, name: &str) {
    use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    const WORDS: usize = 2048 / 64;
    static SEEN: [AtomicU64; WORDS] = [const { AtomicU64::new(0) }; WORDS];
    static SEEN_OTHER: AtomicBool = AtomicBool::new(false);
    let index = (nr as u32 & !(lstar_abi::X32_SYSCALL_BIT as u32)) as usize + if nr as u32 & lstar_abi::X32_SYSCALL_BIT as u32 != 0 { 512 } else { 0 };
    let first = if name.is_empty() || index >= WORDS * 64 {
        !SEEN_OTHER.swap(true, Ordering::Relaxed)
    } else {
        let bit = 1 << (index % 64);
        SEEN[index / 64].fetch_or(bit, Ordering::Relaxed) & bit == 0
    };
    if first {
        if name.is_empty() {
            log::warn!("syscall {nr:#x}: no such syscall, -ENOSYS (logged once for all such numbers)");
        } else {
            log::warn!("syscall {name} ({nr}): not routed, -ENOSYS");
        }
    }
}

/// The name of a Linux syscall number, for traces.
pub fn name_of(nr: u64) -> &'static str {
    match name(nr) {
        "" => "?",
        name => name,
    }
}

pub use trace::no_return as trace_no_return;
