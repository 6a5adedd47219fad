//! The process server's protocol for other servers
//! ([`crate::MessageKind::Call`] requests).

/// (pgid, signal): send `signal` to every process in group `pgid`, as the
/// terminal does for Ctrl-C (SIGINT), Ctrl-Z (SIGTSTP) and Ctrl-\ (SIGQUIT).
/// Returns 0, or `-ESRCH` when the group is empty.
pub const KILL_PGRP: u64 = 1;
/// (pid, signal, thread): send `signal` to process `pid`, or, when
/// `thread` is not 0, to that thread of it alone (the file server's
/// SIGPIPE goes to the writing thread, as on Linux). A thread the process
/// no longer has gets nothing. Returns 0 or `-ESRCH`.
pub const KILL: u64 = 2;
/// (thread, mask): ppoll or pselect6 of `thread` is held with a signal
/// mask of its own: install `mask` as the thread's mask for the wait,
/// putting the thread's mask aside as rt_sigsuspend does. A signal the
/// new mask lets through interrupts the thread (the holding server gets
/// a Cancel). The mask put aside comes back with [`SIGMASK_RESTORE`] when
/// the call ends by itself, or, when a signal ended it, in the handler's
/// frame (or at once if no handler runs). Returns 0 or `-ESRCH`.
pub const SIGMASK_SET: u64 = 3;
/// (thread): the call that [`SIGMASK_SET`] was for ends (ready or timed
/// out): the mask put aside is the thread's again. Sent before the answer
/// to the call. Returns 0 or `-ESRCH`.
pub const SIGMASK_RESTORE: u64 = 4;
