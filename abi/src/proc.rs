//! The process server's protocol for other servers
//! ([`crate::MessageKind::Call`] requests, one notification bit, and one
//! kind of forwarded call).
//!
//! The process server calls the file server and the console, so neither
//! calls it: a server waiting in a call for one that waits for it would
//! never be answered. They reach it in ways that never wait:
//! - a `write` or `writev` (x64 or x32) that met a pipe with no reader is
//!   forwarded here by the file server ([`crate::NativeCall::Forward`],
//!   its word, `args[5]`, = the call's answer): the caller gets SIGPIPE,
//!   then the answer, as Linux raises the signal inside the write;
//! - the console raises [`TERMINAL_BIT`] when it has a signal for a
//!   process group, which this server then takes
//!   ([`crate::console::TAKE_SIGNAL`]); when the signal comes from a call
//!   it answers (TIOCSWINSZ's SIGWINCH), it forwards that `ioctl` here
//!   instead, with the answer as the word, so that the signal is sent
//!   before the call returns.
//!
//! The requests below are for servers this one never calls.

/// (pgid, signal): send `signal` to every process in group `pgid`, as the
/// terminal does for Ctrl-C (SIGINT), Ctrl-Z (SIGTSTP) and Ctrl-\ (SIGQUIT).
/// Returns 0, or `-ESRCH` when the group is empty.
pub const KILL_PGRP: u64 = 1;
/// (pid, signal, thread): send `signal` to process `pid`, or, when
/// `thread` is not 0, to that thread of it alone. A thread the process no
/// longer has gets nothing. Returns 0 or `-ESRCH`.
pub const KILL: u64 = 2;

/// The notification bit on this server's endpoint that says the console
/// has signals to take ([`crate::console::TAKE_SIGNAL`]).
pub const TERMINAL_BIT: u64 = 1 << 1;
