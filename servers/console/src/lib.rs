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

/// The console server's protocol for other servers, in `lstar_abi`.
pub use lstar_abi::console as proto;
