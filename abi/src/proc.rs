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
