//! What Lstar servers are written with: the native calls, IPC, memory and
//! logging, and the start-up glue. Servers are `#![forbid(unsafe_code)]`;
//! the `unsafe` they need lives here.
//!
//! A server is a tiny program:
//!
//! ```ignore
//! libsys::server_main!(main);
//! fn main(boot: libsys::Boot) -> ! {
//!     let mut msg = libsys::recv(boot.endpoint);
//!     loop {
//!         let value = handle(&msg);
//!         msg = libsys::reply_recv(boot.endpoint, msg.client, value);
//!     }
//! }
//! ```
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod ipc;

/// Linux x86_64 syscall numbers by name, from syscall_64.tbl.
pub mod nr {
    include!(concat!(env!("OUT_DIR"), "/numbers.rs"));
}
#[cfg(target_os = "none")]
mod clock;
pub mod log;
pub mod mem;
pub mod port;
pub mod random;
pub mod raw;
pub mod shared;
#[cfg(target_os = "none")]
mod rt;

pub use ipc::{call, forward, lookup, notify, recv, reply, reply_recv, Client};
pub use lstar_abi::{errno::Errno, Message, MessageKind, ThreadId};

/// What the kernel tells a server at start.
#[derive(Clone, Copy, Debug)]
pub struct Boot {
    /// The endpoint this server receives on.
    pub endpoint: u64,
    /// The initrd, mapped read-only.
    pub initrd: &'static [u8],
    /// lstar_abi::native::boot_flags.
    pub flags: u64,
}

/// Declares the server's entry function: `fn(Boot) -> !`.
#[macro_export]
macro_rules! server_main {
    ($main:path) => {
        #[doc(hidden)]
        #[export_name = "lstar_server_main"]
        pub fn __lstar_server_main(boot: $crate::Boot) -> ! {
            $main(boot)
        }
    };
}

/// A copy of `bytes` at 8-byte alignment: ELF parsing (`xmas-elf`) needs
/// aligned headers, and files in a cpio archive are only 4-byte aligned.
pub fn aligned_copy(bytes: &[u8]) -> alloc::vec::Vec<u64> {
    let mut words = alloc::vec![0u64; bytes.len().div_ceil(8)];
    bytemuck::cast_slice_mut::<u64, u8>(&mut words)[..bytes.len()].copy_from_slice(bytes);
    words
}

/// The bytes of an [`aligned_copy`], `len` long.
pub fn aligned_bytes(words: &[u64], len: usize) -> &[u8] {
    &bytemuck::cast_slice::<u64, u8>(words)[..len]
}
