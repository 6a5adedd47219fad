//! The file server: Linux file syscalls over a tmpfs filled from the
//! initrd, with /dev and a descriptor table per process.
//!
//! It builds the file system, then serves the syscalls routes.tbl sends it
//! (for the process the caller's tag names) and the process server's
//! requests (lstar_abi::fs). The logic is in the library (fs_server); this
//! is the loop and the kernel calls behind [`Env`].
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use fs_server::tmpfs::Tmpfs;
use fs_server::{Env, FileServer, Pid};
use libsys::{mem, println, Boot, Client, Errno, MessageKind};

libsys::server_main!(main);

/// The heap file contents may take. libsys gives a server a 4 MiB heap;
/// the rest is kept for inodes, names and descriptor tables, so that a full
/// tmpfs fails writes with ENOSPC instead of failing an allocation (which
/// would stop the server).
const DATA_LIMIT: usize = 3 << 20;

fn main(boot: Boot) -> ! {
    let (mut fs, loaded) = Tmpfs::boot(boot.initrd);
    fs.set_data_limit(DATA_LIMIT);
    println!(
        "fs: ready: {} files, {} directories, {} symbolic links from the initrd ({} entries skipped)",
        loaded.files, loaded.dirs, loaded.symlinks, loaded.skipped
    );
    let mut server = FileServer::new(fs);
    let ep = boot.endpoint;
    let mut msg = libsys::recv(ep);
    loop {
        let mut env = Kernel { client: Client(msg.client) };
        let result = match msg.kind {
            MessageKind::Syscall => {
                let nr = msg.syscall_nr();
                let r = server.syscall(&mut env, pid(msg.tag), nr, msg.args);
                if r == Err(Errno::ENOSYS) {
                    println!("fs: syscall {nr} is routed here but not handled");
                }
                r
            }
            MessageKind::Call => server.call(&mut env, msg.nr, msg.args),
            // Faults and interruptions come only from threads a server
            // created, notifications only when it asked for them, and a
            // request to end a blocked call early only when it holds one:
            // this server does none of that, so nothing is replied.
            _ => {
                msg = libsys::recv(ep);
                continue;
            }
        };
        let value = match result {
            Ok(v) => v,
            Err(e) => e.to_ret(),
        };
        msg = libsys::reply_recv(ep, msg.client, value);
    }
}

/// The process a forwarded syscall comes from. Until the process server
/// tags its threads, every caller is untagged (0): that is process 1.
fn pid(tag: u64) -> Pid {
    if tag == 0 {
        1
    } else {
        tag
    }
}

/// [`Env`] through the kernel: the caller being served, the console, RDRAND.
struct Kernel {
    client: Client,
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
}
