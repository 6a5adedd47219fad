//! The file server's logic, kept apart from its main loop so that all of
//! it runs in host unit tests: the tmpfs ([`tmpfs`]), path resolution
//! ([`path`]), open file descriptions and per-process descriptor tables
//! ([`files`]), the Linux structures the calls fill in ([`linux`]), and one
//! handler per file syscall ([`sys`]), plus the process server's protocol
//! (`lstar_abi::fs`).
//!
//! The handlers reach the world outside the server only through [`Env`]:
//! the caller's memory, the console and randomness. The server binary
//! implements it with kernel calls; the tests with a fake.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod files;
pub mod linux;
pub mod path;
pub mod sys;
pub mod tmpfs;
pub mod user;

pub use files::{FileServer, Pid};
pub use user::Env;
