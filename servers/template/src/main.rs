//! A template for a new server: it answers every syscall routed to it with
//! `-ENOSYS`. Copy it, then fill in `handle`.
//!
//! The kernel starts a server only when routes.tbl names it, so this one
//! is built (to keep it compiling) but never started.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use libsys::{nr, println, Boot, Client, Errno, Message, MessageKind};

libsys::server_main!(main);

fn main(boot: Boot) -> ! {
    // Set up here: read configuration from boot.initrd, build tables.
    println!("template: ready on endpoint {}", boot.endpoint);
    let mut msg = libsys::recv(boot.endpoint);
    loop {
        let value = match msg.kind {
            MessageKind::Syscall => match handle(&msg) {
                Ok(v) => v,
                Err(e) => e.to_ret(),
            },
            // Requests from other servers, in a protocol this server defines.
            MessageKind::Call => Errno::ENOSYS.to_ret(),
            // Faults and stops come only from threads this server created
            // (it creates none); interrupts and timers it asked for; requests
            // to end a blocked call early. None is replied to.
            MessageKind::Fault | MessageKind::Interrupted | MessageKind::Notify | MessageKind::Cancel => {
                msg = libsys::recv(boot.endpoint);
                continue;
            }
        };
        msg = libsys::reply_recv(boot.endpoint, msg.client, value);
    }
}

/// One syscall. `Client(msg.client)` reads and writes the caller's memory
/// (only until the reply); numbers come from `libsys::nr`.
fn handle(msg: &Message) -> Result<u64, Errno> {
    let _client = Client(msg.client);
    match msg.syscall_nr() {
        nr::GETPID => Err(Errno::ENOSYS), // e.g. Ok(pid)
        _ => Err(Errno::ENOSYS),
    }
}
