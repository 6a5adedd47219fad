//! The file server's logic, kept apart from its main loop so that all of
//! it runs in host unit tests: the tmpfs ([`tmpfs`]), path resolution
//! ([`path`]), open file descriptions and per-process descriptor tables
//! ([`files`]), record locks ([`locks`]), pipes ([`pipe`]), the Linux structures the calls fill in
//! ([`linux`]), one handler per file syscall ([`sys`]), /proc ([`procfs`]),
//! plus the process server's protocol (`lstar_abi::fs`).
//!
//! The handlers reach the world outside the server only through [`Env`]:
//! the caller's memory, the console and randomness; calls that may wait
//! (pipes, poll) through [`Host`], which adds the memory of the callers
//! the server holds and the clock, and leave what the loop must do after
//! the message as [`Effect`]s. The server binary implements both with
//! kernel calls; the tests with fakes.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod files;
pub mod host;
pub mod linux;
pub mod locks;
pub mod path;
pub mod pipe;
pub mod procfs;
pub mod slab;
pub mod sys;
pub mod tmpfs;
pub mod user;

pub use files::{FileServer, Pid};
pub use host::{Effect, Host};
pub use user::Env;
