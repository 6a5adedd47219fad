//! The process server's protocol for other servers
//! ([`crate::MessageKind::Call`] requests).

/// (pgid, signal): send `signal` to every process in group `pgid`, as the
/// terminal does for Ctrl-C (SIGINT), Ctrl-Z (SIGTSTP) and Ctrl-\ (SIGQUIT).
/// Returns 0, or `-ESRCH` when the group is empty.
pub const KILL_PGRP: u64 = 1;
/// (pid, signal): send `signal` to process `pid` on behalf of the server's
/// current client (the file server's SIGPIPE). Returns 0 or `-ESRCH`.
pub const KILL: u64 = 2;
