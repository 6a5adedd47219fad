//! Linux syscalls handled in the kernel itself. A row of routes.tbl that
//! says `kernel` names one of these by its entry-point symbol; each is here
//! for a reason recorded next to it.

use crate::task;
use lstar_abi::errno::Errno;

/// sched_yield: only the scheduler can make the caller give up the CPU; a
/// server answering the call would just hand it straight back.
pub fn sys_sched_yield(_: &mut task::Thread) -> Result<u64, Errno> {
    task::request_yield();
    Ok(0)
}

/// getpid: the pid is the tag the process server put on the thread, so the
/// kernel can answer without a server. Routed here only for measurement
/// (`route=getpid:kernel`): the in-kernel null syscall of the bench.
pub fn sys_getpid(t: &mut task::Thread) -> Result<u64, Errno> {
    Ok(t.tag)
}

/// The handlers a `route=NAME:kernel` boot option may select.
pub fn by_name(name: &str) -> Option<super::Handler> {
    match name {
        "sched_yield" => Some(sys_sched_yield),
        "getpid" => Some(sys_getpid),
        _ => None,
    }
}
