//! The process server: Linux processes, their memory maps and their ends.
//!
//! It starts the program named in the initrd (`lstar/exec`, with
//! `lstar/argv` and `lstar/envp`), then serves the syscalls routes.tbl
//! sends it and the faults of the threads it owns. When the last process
//! exits it powers the machine off with that process's status.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use libsys::mem::{self, Space};
use libsys::{nr, println, Boot, Client, Errno, Message, MessageKind, ThreadId};
use lstar_abi::native::{prot, Personality};
use proc_server::{elf, signal, stack};

libsys::server_main!(main);

const STACK_TOP: u64 = 0x7fff_ffff_f000;
const STACK_SIZE: u64 = 1 << 20;
/// Anonymous mmap regions are handed out downwards from here.
const MMAP_TOP: u64 = 0x7f00_0000_0000;
const MAP_SHARED: u64 = 0x01;
const MAP_PRIVATE: u64 = 0x02;
const MAP_FIXED: u64 = 0x10;
const MAP_ANONYMOUS: u64 = 0x20;
const ARCH_SET_FS: u64 = 0x1002;
const ARCH_GET_FS: u64 = 0x1003;
const TIOCGWINSZ: u64 = 0x5413;
const IOV_MAX: u64 = 1024;

struct Process {
    pid: u32,
    space: Space,
    thread: ThreadId,
    name: String,
    brk_start: u64,
    brk: u64,
    mmap_next: u64,
    fs_base: u64,
    clear_child_tid: u64,
}

struct Procs {
    by_thread: BTreeMap<ThreadId, Process>,
    next_pid: u32,
}

/// What to do with the message just handled.
enum Outcome {
    Reply(u64),
    /// The caller is gone (exit, fatal fault): nothing to reply to.
    NoReply,
}

fn main(boot: Boot) -> ! {
    let mut procs = Procs { by_thread: BTreeMap::new(), next_pid: 1 };
    if let Err((why, status)) = procs.start_init(boot.initrd) {
        println!("proc: cannot start the program: {why}");
        lstar_console_line(&why);
        mem::poweroff(status);
    }
    let ep = boot.endpoint;
    let mut msg = libsys::recv(ep);
    loop {
        let outcome = match msg.kind {
            MessageKind::Syscall => procs.syscall(&msg),
            MessageKind::Fault => procs.fault(&msg),
            MessageKind::Call => Outcome::Reply(Errno::ENOSYS.to_ret()),
        };
        msg = match outcome {
            Outcome::Reply(v) => libsys::reply_recv(ep, msg.client, v),
            Outcome::NoReply => libsys::recv(ep),
        };
    }
}

/// Tells the person at the console why nothing ran.
fn lstar_console_line(why: &str) {
    let _ = mem::console_write(alloc::format!("lstar: {why}\n").as_bytes());
}

fn file<'a>(initrd: &'a [u8], name: &str) -> Option<&'a [u8]> {
    cpio_reader::iter_files(initrd).find(|e| e.name() == name).map(|e| e.file())
}

fn split_nul(bytes: &[u8]) -> Vec<&[u8]> {
    bytes.split(|&b| b == 0).filter(|s| !s.is_empty()).collect()
}

fn ret(r: Result<u64, Errno>) -> Outcome {
    Outcome::Reply(match r {
        Ok(v) => v,
        Err(e) => e.to_ret(),
    })
}

impl Procs {
    /// Starts the program the initrd names. On failure, the reason and the
    /// status a shell would report: 127 for a missing file, 126 for one
    /// that cannot be executed.
    fn start_init(&mut self, initrd: &[u8]) -> Result<(), (String, u8)> {
        const NOT_FOUND: u8 = 127;
        const CANNOT_EXECUTE: u8 = 126;
        let exec = file(initrd, "lstar/exec").ok_or((String::from("the initrd has no lstar/exec"), NOT_FOUND))?;
        let path = core::str::from_utf8(exec).map_err(|_| (String::from("lstar/exec is not UTF-8"), NOT_FOUND))?;
        let image = file(initrd, path).ok_or_else(|| (alloc::format!("{path}: not in the initrd"), NOT_FOUND))?;
        let words = libsys::aligned_copy(image);
        let image = libsys::aligned_bytes(&words, image.len());
        let argv = split_nul(file(initrd, "lstar/argv").unwrap_or(b""));
        let envp = split_nul(file(initrd, "lstar/envp").unwrap_or(b""));
        let execfn = argv.first().copied().unwrap_or(path.as_bytes());
        self.spawn(path, image, &argv, &envp, execfn).map_err(|e| (alloc::format!("{path}: {e}"), CANNOT_EXECUTE))
    }

    /// Loads `image` into a new address space and starts it as a process.
    fn spawn(&mut self, name: &str, image: &[u8], argv: &[&[u8]], envp: &[&[u8]], execfn: &[u8]) -> Result<(), String> {
        let plan = elf::plan(image).map_err(|e| alloc::format!("cannot execute: {}", e.0))?;
        let space = Space::create().map_err(|e| String::from(e.text()))?;
        let fail = |e: Errno| alloc::format!("loading: {}", e.text());
        for seg in &plan.segments {
            let start = seg.vaddr & !0xfff;
            let end = (seg.vaddr + seg.memsz).next_multiple_of(4096);
            // Segments may share a page; map what is not mapped yet.
            for page in (start..end).step_by(4096) {
                match space.map(page, 4096, seg.prot) {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(e) => return Err(fail(e)),
                }
            }
            let bytes = &image[seg.offset as usize..(seg.offset + seg.filesz) as usize];
            space.write(seg.vaddr, bytes).map_err(fail)?;
        }
        space.map(STACK_TOP - STACK_SIZE, STACK_SIZE, prot::READ | prot::WRITE).map_err(fail)?;
        let info = stack::ProgramInfo { phdr: plan.phdr, phent: plan.phent, phnum: plan.phnum, entry: plan.entry, hwcap: hwcap() };
        let st = stack::build(STACK_TOP, argv, envp, execfn, libsys::random::bytes(), &info, (STACK_SIZE / 4) as usize)
            .map_err(|_| String::from("argument list too long"))?;
        space.write(st.base, &st.bytes).map_err(fail)?;
        let thread = space.spawn(plan.entry, st.rsp, Personality::Linux).map_err(fail)?;
        let pid = self.next_pid;
        self.next_pid += 1;
        self.by_thread.insert(
            thread,
            Process { pid, space, thread, name: String::from(name), brk_start: plan.brk, brk: plan.brk, mmap_next: MMAP_TOP, fs_base: 0, clear_child_tid: 0 },
        );
        Ok(())
    }

    fn syscall(&mut self, msg: &Message) -> Outcome {
        let client = Client(msg.client);
        let Some(p) = self.by_thread.get_mut(&msg.client) else {
            return Outcome::Reply(Errno::ESRCH.to_ret());
        };
        let a = msg.args;
        // Common rows mean the same in the x32 table; the x32-only rows
        // are not routed here.
        match msg.syscall_nr() {
            nr::READ => ret(read(a[0])),
            nr::WRITE => ret(write(client, a[0], a[1], a[2])),
            nr::WRITEV => ret(writev(client, a[0], a[1], a[2])),
            nr::IOCTL => ret(ioctl(client, a[0], a[1], a[2])),
            nr::BRK => Outcome::Reply(p.set_brk(a[0])),
            nr::MMAP => ret(p.mmap(a[0], a[1], a[2], a[3], a[4] as i32)),
            nr::MUNMAP => ret(p.munmap(a[0], a[1])),
            nr::ARCH_PRCTL => ret(p.arch_prctl(client, a[0], a[1])),
            nr::SET_TID_ADDRESS => {
                p.clear_child_tid = a[0];
                Outcome::Reply(p.pid as u64)
            }
            nr::GETPID | nr::GETTID => Outcome::Reply(p.pid as u64),
            nr::GETPPID => Outcome::Reply(0),
            nr::GETUID | nr::GETEUID | nr::GETGID | nr::GETEGID => Outcome::Reply(0),
            nr::UNAME => ret(uname(client, a[0])),
            nr::EXIT | nr::EXIT_GROUP => {
                let status = (a[0] & 0xff) as u8;
                self.exit(msg.client, status);
                Outcome::NoReply
            }
            other => {
                println!("proc: syscall {other} is routed here but not handled");
                Outcome::Reply(Errno::ENOSYS.to_ret())
            }
        }
    }

    /// A CPU fault in a program: Linux would send a signal; with no
    /// handlers yet, every such signal terminates the process.
    fn fault(&mut self, msg: &Message) -> Outcome {
        let sig = signal::for_vector(msg.nr);
        if let Some(p) = self.by_thread.get(&msg.client) {
            println!(
                "proc: pid {} ({}) killed by {}: exception {} error {:#x} at rip {:#x}, address {:#x}",
                p.pid,
                p.name,
                signal::name(sig),
                msg.nr,
                msg.args[0],
                msg.args[2],
                msg.args[1]
            );
        }
        // The shell's convention for "killed by signal N": status 128 + N.
        self.exit(msg.client, 128 + sig);
        Outcome::NoReply
    }

    fn exit(&mut self, thread: ThreadId, status: u8) {
        let Some(p) = self.by_thread.remove(&thread) else { return };
        if let Err(e) = mem::kill(p.thread) {
            println!("proc: cannot end thread {}: {}", p.thread, e.text());
        }
        if let Err(e) = p.space.destroy() {
            println!("proc: cannot free the address space of pid {}: {}", p.pid, e.text());
        }
        if self.by_thread.is_empty() {
            mem::poweroff(status);
        }
    }
}

impl Process {
    /// brk(2): returns the new break, or the old one when it cannot move.
    fn set_brk(&mut self, want: u64) -> u64 {
        if want < self.brk_start || want > self.brk_start + (1 << 30) {
            return self.brk;
        }
        let old_top = self.brk.next_multiple_of(4096);
        let new_top = want.next_multiple_of(4096);
        if new_top > old_top {
            if self.space.map(old_top, new_top - old_top, prot::READ | prot::WRITE).is_err() {
                let _ = self.space.unmap(old_top, new_top - old_top);
                return self.brk;
            }
        } else if new_top < old_top {
            let _ = self.space.unmap(new_top, old_top - new_top);
        }
        self.brk = want;
        want
    }

    /// mmap(2), anonymous private and shared-anonymous mappings.
    fn mmap(&mut self, addr: u64, len: u64, prot_bits: u64, flags: u64, fd: i32) -> Result<u64, Errno> {
        if len == 0 || flags & (MAP_SHARED | MAP_PRIVATE) == 0 {
            return Err(Errno::EINVAL);
        }
        if flags & MAP_ANONYMOUS == 0 {
            // File mappings need the file server (issue 3).
            return Err(if fd < 0 { Errno::EBADF } else { Errno::ENODEV });
        }
        let len = len.checked_next_multiple_of(4096).ok_or(Errno::ENOMEM)?;
        let at = if flags & MAP_FIXED != 0 {
            if addr % 4096 != 0 {
                return Err(Errno::EINVAL);
            }
            self.space.unmap(addr, len)?;
            addr
        } else {
            let at = self.mmap_next.checked_sub(len).ok_or(Errno::ENOMEM)?;
            if at < self.brk_start + (1 << 30) {
                return Err(Errno::ENOMEM);
            }
            self.mmap_next = at;
            at
        };
        let p = prot_bits & (prot::READ | prot::WRITE | prot::EXEC);
        self.space.map(at, len, p).map_err(|e| if e == Errno::EEXIST { Errno::ENOMEM } else { e })?;
        Ok(at)
    }

    fn munmap(&mut self, addr: u64, len: u64) -> Result<u64, Errno> {
        if addr % 4096 != 0 || len == 0 {
            return Err(Errno::EINVAL);
        }
        self.space.unmap(addr, len.next_multiple_of(4096))?;
        Ok(0)
    }

    fn arch_prctl(&mut self, client: Client, code: u64, addr: u64) -> Result<u64, Errno> {
        match code {
            ARCH_SET_FS => {
                if addr >= 0x0000_8000_0000_0000 {
                    return Err(Errno::EPERM);
                }
                mem::set_fs_base(self.thread, addr)?;
                self.fs_base = addr;
                Ok(0)
            }
            ARCH_GET_FS => client.write(addr, &self.fs_base.to_le_bytes()).map(|_| 0),
            _ => Err(Errno::EINVAL),
        }
    }
}

/// The console has no input until the console server exists: end of file.
fn read(fd: u64) -> Result<u64, Errno> {
    match fd {
        0 => Ok(0),
        1 | 2 => Err(Errno::EBADF),
        _ => Err(Errno::EBADF),
    }
}

fn write(client: Client, fd: u64, buf: u64, len: u64) -> Result<u64, Errno> {
    if fd != 1 && fd != 2 {
        return Err(Errno::EBADF);
    }
    let mut chunk = [0u8; 4096];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(chunk.len() as u64) as usize;
        if let Err(e) = client.read(buf + done, &mut chunk[..n]) {
            // Linux reports a partial write, or EFAULT if nothing was written.
            return if done > 0 { Ok(done) } else { Err(e) };
        }
        mem::console_write(&chunk[..n])?;
        done += n as u64;
    }
    Ok(done)
}

fn writev(client: Client, fd: u64, iov: u64, count: u64) -> Result<u64, Errno> {
    if count > IOV_MAX {
        return Err(Errno::EINVAL);
    }
    if fd != 1 && fd != 2 {
        return Err(Errno::EBADF);
    }
    let mut vecs = alloc::vec![0u8; (count * 16) as usize];
    client.read(iov, &mut vecs)?;
    let mut total = 0u64;
    for v in vecs.chunks_exact(16) {
        let base = u64::from_le_bytes(v[..8].try_into().unwrap());
        let len = u64::from_le_bytes(v[8..].try_into().unwrap());
        if len == 0 {
            continue;
        }
        match write(client, fd, base, len) {
            Ok(n) => {
                total += n;
                if n < len {
                    break;
                }
            }
            Err(e) => return if total > 0 { Ok(total) } else { Err(e) },
        }
    }
    Ok(total)
}

fn ioctl(client: Client, fd: u64, request: u64, arg: u64) -> Result<u64, Errno> {
    if fd > 2 {
        return Err(Errno::EBADF);
    }
    match request {
        TIOCGWINSZ => {
            // struct winsize { rows, cols, xpixel, ypixel }: a 24x80 console.
            let ws: [u16; 4] = [24, 80, 0, 0];
            let mut bytes = [0u8; 8];
            for (i, v) in ws.iter().enumerate() {
                bytes[2 * i..2 * i + 2].copy_from_slice(&v.to_le_bytes());
            }
            client.write(arg, &bytes).map(|_| 0)
        }
        _ => Err(Errno::ENOTTY),
    }
}

/// uname(2): struct utsname, six 65-byte fields.
fn uname(client: Client, addr: u64) -> Result<u64, Errno> {
    let fields: [&str; 6] = ["Linux", "lstar", "6.1.0-lstar", "#1 Lstar", "x86_64", "(none)"];
    let mut buf = [0u8; 65 * 6];
    for (i, f) in fields.iter().enumerate() {
        buf[65 * i..65 * i + f.len()].copy_from_slice(f.as_bytes());
    }
    client.write(addr, &buf).map(|_| 0)
}

/// AT_HWCAP: CPUID.1:EDX, as Linux reports it on x86_64.
fn hwcap() -> u64 {
    core::arch::x86_64::__cpuid(1).edx as u64
}
