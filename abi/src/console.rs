//! The console server's protocol for other servers
//! ([`crate::MessageKind::Call`] requests).
//!
//! The console calls no other server: the file server and the process
//! server call it, and a server waiting in a call for one that waits for
//! it would never be answered. It tells them about things with
//! notifications instead, which never block: new input to the file server
//! (the bit it passed to [`POLL`]), a signal for a process group to the
//! process server ([`crate::proc::TERMINAL_BIT`], then [`TAKE_SIGNAL`]).

/// (events, notify_bit): poll(2) on the console. Returns the events of
/// `events` (POLL* bits) that hold now, never blocking: POLLIN and
/// POLLRDNORM when a read would not block (a complete line in
/// canonical mode; VMIN bytes, or one when VTIME is set, otherwise),
/// POLLOUT and POLLWRNORM always. With `notify_bit` not 0, asking for
/// POLLIN or POLLRDNORM while neither holds arms a one-shot
/// notification: the console raises `notify_bit` on the file server's
/// endpoint (`NativeCall::NotifySend`) as soon as input becomes
/// readable; the file server then polls again. A notification may come
/// when nobody waits any more; it means only "poll again".
pub const POLL: u64 = 1;

/// (): the oldest signal the terminal raised for a process group (Ctrl-C,
/// Ctrl-Z, Ctrl-\, a window size change) that the process server has not
/// taken yet, as `pgrp << 8 | signal`; 0 when there is none. The console
/// raises [`crate::proc::TERMINAL_BIT`] on the process server's endpoint
/// for each one; the process server then takes them until 0.
pub const TAKE_SIGNAL: u64 = 2;

/// The notification bit the file server is expected to pass to
/// [`POLL`] (its own choice; any bit it does not use otherwise).
pub const READY_BIT: u64 = 1 << 1;

/// poll(2) event bits (asm-generic/poll.h).
pub const POLLIN: u64 = 0x001;
pub const POLLPRI: u64 = 0x002;
pub const POLLOUT: u64 = 0x004;
pub const POLLERR: u64 = 0x008;
pub const POLLHUP: u64 = 0x010;
pub const POLLNVAL: u64 = 0x020;
pub const POLLRDNORM: u64 = 0x040;
pub const POLLRDBAND: u64 = 0x080;
pub const POLLWRNORM: u64 = 0x100;
pub const POLLWRBAND: u64 = 0x200;
