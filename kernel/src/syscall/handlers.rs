//! Linux syscalls handled in the kernel itself. A row of routes.tbl that
//! says `kernel` names one of these by its entry-point symbol; each is here
//! for a reason recorded next to it.

use crate::task;
use lstar_abi::errno::Errno;

/// sched_yield: only the scheduler can make the caller give up the CPU; a
/// server answering the call would just hand it straight back.
pub fn sys_sched_yield(_: &[u64; 6]) -> Result<u64, Errno> {
    task::request_yield();
    Ok(0)
}
