//! The console server's logic, kept apart from its main loop so that all of
//! it runs in host unit tests: the terminal settings ([`termios`]), the
//! line discipline ([`ldisc`]), and the terminal that programs read, write
//! and configure through the file server ([`tty`]), plus the protocol the
//! file server uses ([`proto`]).
//!
//! How the pieces meet. The file server owns every descriptor; a read,
//! write, readv, writev or ioctl on /dev/console or /dev/tty is forwarded
//! here (`NativeCall::Forward`) with the open file description's status
//! flags in `args[5]`, and this server answers the program directly. Input
//! arrives from the UART's receive interrupt; a read with nothing to take
//! is held and answered when input comes, so the file server is never
//! blocked by the terminal.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod ldisc;
pub mod termios;
pub mod tty;

pub use tty::{Console, Port};

/// The console server's protocol for the file server
/// ([`lstar_abi::MessageKind::Call`] requests). To move into `lstar_abi`
/// (as `abi/src/console.rs`) beside the file and process servers'.
///
/// The console never calls the file server (the file server calls it, and
/// two servers calling each other can deadlock); it tells the file server
/// about new input with a notification instead, which never blocks.
pub mod proto {
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
}
