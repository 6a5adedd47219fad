//! The file server: Linux file syscalls over a tmpfs filled from the
//! initrd, with /dev and a descriptor table per process.
//!
//! It builds the file system, then serves the syscalls routes.tbl sends it
//! (for the process the caller's tag names) and the process server's
//! requests (lstar_abi::fs). A call that must wait (a pipe, a poll) is
//! held and answered later, so one waiting client never stalls the others.
//! The logic is in the library (fs_server); this is the loop and the
//! kernel calls behind [`Env`] and [`Host`].
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec::Vec;

use fs_server::sys::TIMER_BIT;
use fs_server::linux::Timespec;
use fs_server::tmpfs::Tmpfs;
use fs_server::{Effect, Env, FileServer, Host};
use libsys::{mem, println, Boot, Client, Errno, MessageKind, ThreadId};

libsys::server_main!(main);

/// The memory file contents may take. libsys grows a server's heap as
/// needed; this bound keeps room for inodes, names and descriptor tables
/// (and for the other servers), so that a full tmpfs fails writes with
/// ENOSPC instead of failing an allocation (which would stop the server).
const DATA_LIMIT: usize = 128 << 20;

fn main(boot: Boot) -> ! {
    let (mut fs, loaded) = Tmpfs::boot(boot.initrd);
    fs.set_data_limit(DATA_LIMIT);
    // What the initrd made is as new as the boot.
    fs.stamp(Timespec::from_ns(mem::clock(lstar_abi::native::clock::REALTIME).unwrap_or(0)));
    println!(
        "fs: ready: {} files, {} directories, {} symbolic links from the initrd ({} entries skipped)",
        loaded.files, loaded.dirs, loaded.symlinks, loaded.skipped
    );
    let mut server = FileServer::new(fs);
    if let Err(e) = server.mount_proc() {
        println!("fs: no /proc: the initrd's /proc is not an empty directory ({})", e.text());
    }
    let ep = boot.endpoint;
    // The console server, which takes the terminal's reads, writes and
    // ioctls when it runs; without it the console is served here.
    let console = libsys::lookup("console").ok();
    let mut msg = libsys::recv(ep);
    let mut proc = None;
    loop {
        let mut host = Kernel { client: Client(msg.client), console, forwarded: false };
        let answer = server.handle(&mut host, &msg);
        // A call handed to the console server is answered there.
        let answer = if host.forwarded { None } else { answer };
        if msg.kind == MessageKind::Syscall && answer == Some(Errno::ENOSYS.to_ret()) {
            println!("fs: syscall {} is routed here but not handled", msg.syscall_nr());
        }
        server.settle(&mut host);
        // A writer that met a pipe with no reader is answered through the
        // process server, which raises its SIGPIPE first.
        let mut sigpipe: Vec<ThreadId> = Vec::new();
        for e in server.take_effects() {
            match e {
                Effect::Signal { thread, .. } => sigpipe.push(thread),
                Effect::Reply { thread, value } if sigpipe.contains(&thread) => {
                    sigpipe.retain(|&t| t != thread);
                    answer_with_sigpipe(thread, value, &mut proc);
                }
                e => run(e),
            }
        }
        // The signal always comes with its call's answer; say so if not.
        for &t in sigpipe.iter().filter(|&&t| t != msg.client || answer.is_none()) {
            println!("fs: SIGPIPE for thread {t} has no answer to go with; dropped");
        }
        msg = match answer {
            Some(v) if sigpipe.contains(&msg.client) => {
                answer_with_sigpipe(msg.client, v, &mut proc);
                libsys::recv(ep)
            }
            Some(v) => libsys::reply_recv(ep, msg.client, v),
            None => libsys::recv(ep),
        };
    }
}

/// Does what a message's handling left to do (SIGPIPE aside, which the
/// loop pairs with its call's answer).
fn run(effect: Effect) {
    match effect {
        Effect::Reply { thread, value } => {
            // Fails only if the thread is gone, which leaves nothing to do.
            let _ = libsys::reply(thread, value);
        }
        // Not reached: the loop pairs a SIGPIPE with its call's answer.
        Effect::Signal { pid, thread, signo } => {
            println!("fs: signal {signo} for thread {thread} of pid {pid} has no answer to go with; dropped");
        }
        Effect::Timer { deadline } => {
            if let Err(e) = mem::timer_set(deadline, TIMER_BIT) {
                println!("fs: cannot set the timer: {}", e.text());
            }
        }
    }
}

/// Answers `thread`'s write with `value` through the process server, which
/// raises SIGPIPE first (lstar_abi::proc's module doc): a forward, so this
/// server never waits for that one, which may be waiting for this one.
fn answer_with_sigpipe(thread: ThreadId, value: u64, proc: &mut Option<u64>) {
    if proc.is_none() {
        *proc = libsys::lookup("proc").ok();
    }
    let sent = proc.ok_or(Errno::ENOENT).and_then(|ep| libsys::forward(thread, ep, value));
    if let Err(e) = sent {
        println!("fs: cannot raise SIGPIPE for thread {thread}: {}", e.text());
        let _ = libsys::reply(thread, value);
    }
}

/// [`Env`] through the kernel: the caller being served, the console, RDRAND.
struct Kernel {
    client: Client,
    /// The console server's endpoint, if it runs.
    console: Option<u64>,
    /// The message's syscall went to the console server.
    forwarded: bool,
}

impl Env for Kernel {
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        self.client.read(addr, buf).map_err(|_| Errno::EFAULT)
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        self.client.write(addr, data).map_err(|_| Errno::EFAULT)
    }

    fn console_write(&mut self, mut bytes: &[u8]) -> Result<(), Errno> {
        // The kernel takes at most 64 KiB per call and says how much.
        while !bytes.is_empty() {
            let n = mem::console_write(bytes)?;
            let n = usize::try_from(n).unwrap_or(bytes.len()).min(bytes.len());
            bytes = &bytes[n..];
        }
        Ok(())
    }

    fn random(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(16) {
            let r = libsys::random::bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
    }

    fn forward_console(&mut self, status_flags: u32) -> bool {
        let Some(console) = self.console else { return false };
        self.forwarded = libsys::forward(self.client.0, console, u64::from(status_flags)).is_ok();
        self.forwarded
    }

    fn console_poll(&mut self, events: u16, notify_bit: u64) -> Option<u16> {
        let console = self.console?;
        let ready = libsys::call(console, lstar_abi::console::POLL, [u64::from(events), notify_bit, 0, 0]).ok()?;
        // The answer is a subset of `events`.
        Some(ready as u16)
    }

    fn clock(&mut self, id: u64) -> u64 {
        mem::clock(id).unwrap_or(0)
    }

    fn mem_info(&mut self) -> Option<(u64, u64)> {
        mem::mem_info().ok()
    }

    fn grant(&mut self, mem: &libsys::shared::SharedMem, space: u64, addr: u64, offset: usize, len: usize, prot: u64) -> Result<(), Errno> {
        mem.grant(self.client.0, space, addr, offset, len, prot)
    }
}

impl Host for Kernel {
    fn caller(&self) -> ThreadId {
        self.client.0
    }

    fn read_held(&mut self, thread: ThreadId, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        Client(thread).read(addr, buf).map_err(|_| Errno::EFAULT)
    }

    fn write_held(&mut self, thread: ThreadId, addr: u64, data: &[u8]) -> Result<(), Errno> {
        Client(thread).write(addr, data).map_err(|_| Errno::EFAULT)
    }

    fn now(&mut self) -> u64 {
        // The clock call has no way to fail for this clock.
        mem::clock(lstar_abi::native::clock::MONOTONIC).unwrap_or(0)
    }
}
