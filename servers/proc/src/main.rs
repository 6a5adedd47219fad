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
use proc_server::{elf, shebang, signal, stack, wait_selects, Termination};

mod futex;
mod itimer;
mod memory;
mod misc;
mod signals;
mod time;
mod vfork;

libsys::server_main!(main);

const STACK_TOP: u64 = 0x7fff_ffff_f000;
const STACK_SIZE: u64 = 1 << 20;
/// Anonymous mmap regions are handed out downwards from here.
const MMAP_TOP: u64 = 0x7f00_0000_0000;
/// Where every process sees the kernel's counters page (read-only).
const COUNTERS_ADDR: u64 = 0x7fff_f000_0000;
/// Where every process sees the vDSO: right after the counters page, from
/// which it reads the clock at a fixed distance from its own code (D26).
const VDSO_ADDR: u64 = COUNTERS_ADDR + 4096;
/// writev's and ioctl's x32 rows (`compat_sys_*` numbers), which
/// syscall_nr leaves as they are: another server may forward them here
/// (lstar_abi::proc).
const X32_WRITEV: u64 = 516;
const X32_IOCTL: u64 = 514;
const ARCH_SET_FS: u64 = 0x1002;
const ARCH_GET_FS: u64 = 0x1003;

/// A thread of a process, as Linux sees it.
#[derive(Clone, Debug)]
struct Thread {
    /// Its Linux thread id (the pid for the first thread).
    tid: u32,
    fs_base: u64,
    /// set_tid_address / CLONE_CHILD_CLEARTID: zeroed and futex-woken when
    /// the thread ends.
    clear_child_tid: u64,
    /// Its signal mask, the signals sent to it alone, its sigaltstack.
    sig: signals::ThreadSig,
}

/// A Linux process: an address space and its threads.
struct Process {
    pid: u32,
    ppid: u32,
    space: Space,
    threads: BTreeMap<ThreadId, Thread>,
    /// The first thread: the one a signal for the process goes to first.
    main: ThreadId,
    name: String,
    brk_start: u64,
    brk: u64,
    /// What is mapped where (the kernel holds the page tables).
    map: proc_server::vm::Map,
    /// Set once the process has ended and waits to be reaped.
    ended: Option<Termination>,
    pgid: u32,
    sid: u32,
    /// Dispositions and the signals sent to the process as a whole.
    sig: signals::SigState,
    limits: [(u64, u64); 16],
    /// Stopped by SIGSTOP/SIGTSTP/SIGTTIN/SIGTTOU: its threads that reach
    /// this server wait here, with the reply each will get on SIGCONT.
    stopped: signals::Stop,
    /// (thread, its reply, whether its call may restart under SA_RESTART:
    /// finish_with's arguments).
    held: Vec<(ThreadId, Option<u64>, bool)>,
    /// The threads a stop still waits for (on their way to be held)
    /// before the parent hears of it, as Linux reports a group stop once
    /// every thread has stopped.
    stopping: Vec<ThreadId>,
    /// A stop or continue the parent's wait4 (WUNTRACED/WCONTINUED) has not
    /// reported yet.
    unreported: Option<JobEvent>,
    /// CPU time and sizes for getrusage, times and wait4.
    usage: misc::Usage,
    /// Set while a vfork parent waits for this process to exec or end.
    vfork: Option<vfork::Vfork>,
    /// ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF (itimer.rs).
    itimers: [itimer::Itimer; 3],
}

/// A job-control change wait4 reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JobEvent {
    Stopped(u8),
    Continued,
}

/// A wait4 that found no ended child yet: answered when one ends.
struct Waiter {
    thread: ThreadId,
    pid_arg: i32,
    status_ptr: u64,
    rusage_ptr: u64,
    options: u64,
    /// waitid: where its siginfo goes (and it returns 0, not the pid).
    siginfo_ptr: Option<u64>,
}

impl Waiter {
    /// Whether ended children are reported (always for wait4; WEXITED for
    /// waitid).
    fn wants_exits(&self) -> bool {
        const WEXITED: u64 = 4;
        self.siginfo_ptr.is_none() || self.options & WEXITED != 0
    }

    /// Whether this wait4 reports `event` (WUNTRACED, WCONTINUED).
    fn wants(&self, event: Option<JobEvent>) -> bool {
        const WUNTRACED: u64 = 2;
        const WCONTINUED: u64 = 8;
        match event {
            Some(JobEvent::Stopped(_)) => self.options & WUNTRACED != 0,
            Some(JobEvent::Continued) => self.options & WCONTINUED != 0,
            None => false,
        }
    }
}

struct Procs {
    procs: BTreeMap<u32, Process>,
    by_thread: BTreeMap<ThreadId, u32>,
    waiters: BTreeMap<u32, Waiter>,
    sleepers: Vec<time::Sleeper>,
    futexes: Vec<futex::Waiter>,
    /// Threads in rt_sigsuspend or pause: (pid, thread).
    suspended: Vec<(u32, ThreadId)>,
    /// Threads in rt_sigtimedwait.
    sigwaiters: Vec<signals::SigWaiter>,
    next_pid: u32,
    /// The file server, told about forks, execs, exits and RLIMIT_NOFILE.
    fs: Option<u64>,
    /// The console server, asked for the signals its terminal raised.
    console: Option<u64>,
    initrd: &'static [u8],
    /// The vDSO image (`lstar/vdso` in the initrd; empty if none), copied
    /// into every program's address space.
    vdso: &'static [u8],
}

/// Sends a held thread its reply, unless it ended meanwhile.
fn reply_to(thread: ThreadId, outcome: Outcome) {
    if let Outcome::Reply(v) = outcome {
        let _ = libsys::reply(thread, v);
    }
}

/// What to do with the message just handled.
enum Outcome {
    Reply(u64),
    /// No reply now: the caller is gone (exit, fatal fault), or waits
    /// (wait4) and is answered later with `libsys::reply`.
    NoReply,
}

fn main(boot: Boot) -> ! {
    let fs = libsys::lookup("fs").ok();
    let mut procs = Procs { procs: BTreeMap::new(), by_thread: BTreeMap::new(), waiters: BTreeMap::new(), sleepers: Vec::new(), futexes: Vec::new(), suspended: Vec::new(), sigwaiters: Vec::new(), next_pid: 1, fs, console: None, initrd: boot.initrd, vdso: file(boot.initrd, "lstar/vdso").unwrap_or(&[]) };
    if let Err((why, status)) = procs.start_init() {
        println!("proc: cannot start the program: {why}");
        lstar_console_line(&why);
        mem::poweroff(status);
    }
    let ep = boot.endpoint;
    let mut msg = libsys::recv(ep);
    loop {
        // getpid, the null call, in a few instructions: the message's tag
        // is the caller's pid (set_tag), and while no signal is pending
        // and no process stopped, nothing else is due at its reply.
        if msg.kind == MessageKind::Syscall && msg.syscall_nr() == nr::GETPID && signals::quiet() {
            msg = libsys::reply_recv(ep, msg.client, msg.tag);
            continue;
        }
        let outcome = match msg.kind {
            MessageKind::Syscall => procs.syscall(&msg),
            MessageKind::Fault => procs.fault(&msg),
            MessageKind::Call => ret(procs.call(&msg)),
            // Proc never holds another server's client: nothing to cancel.
            MessageKind::Cancel => Outcome::NoReply,
            MessageKind::Notify => {
                if msg.args[0] & time::TIMER_BIT != 0 {
                    procs.wake_sleepers();
                    procs.expire_sigwaiters();
                    procs.expire_itimers();
                }
                if msg.args[0] & lstar_abi::proc::TERMINAL_BIT != 0 {
                    procs.terminal_signals();
                }
                Outcome::NoReply
            }
            MessageKind::Interrupted => match procs.by_thread.get(&msg.client) {
                Some(&pid) => {
                    procs.poll_mask_ends(pid, msg.client);
                    let out = procs.finish(pid, msg.client, None);
                    // (No reply: the process ended, or it is stopped and
                    // resume does this at SIGCONT.)
                    if let Outcome::Reply(_) = out {
                        procs.settle_restart(msg.client);
                        // A ppoll's mask that no handler's frame took back.
                        procs.poll_mask_left(pid, msg.client);
                    }
                    out
                }
                None => Outcome::Reply(0),
            },
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

/// A program loaded into a fresh address space, ready to start.
struct Loaded {
    space: Space,
    entry: u64,
    rsp: u64,
    brk: u64,
    map: proc_server::vm::Map,
}

/// Loads `image` (an ELF file) into a new address space with its initial
/// stack. Errors are Linux's execve errors.
fn load(image: &[u8], vdso: &[u8], argv: &[&[u8]], envp: &[&[u8]], execfn: &[u8]) -> Result<Loaded, Errno> {
    let plan = elf::plan(image).map_err(|e| {
        println!("proc: cannot execute: {}", e.0);
        Errno::ENOEXEC
    })?;
    let space = Space::create()?;
    let mut map = proc_server::vm::Map::default();
    let mut fill = || -> Result<u64, Errno> {
        for seg in &plan.segments {
            let start = seg.vaddr & !0xfff;
            let end = (seg.vaddr + seg.memsz).next_multiple_of(4096);
            // Segments may share a page with one loaded before: those get
            // the rights of both, the rest is mapped in one call (its bss
            // as demand-zero pages, D25) with the segment's own.
            let shared: Vec<u64> = (start..end).step_by(4096).filter(|&p| map.find(p).is_some()).collect();
            let mut page = start;
            while page < end {
                let run = (page..end).step_by(4096).find(|p| shared.contains(p)).unwrap_or(end);
                if run > page {
                    space.map(page, run - page, seg.prot)?;
                    map.insert(page, run, seg.prot);
                }
                page = run + 4096;
            }
            space.write(seg.vaddr, &image[seg.offset as usize..(seg.offset + seg.filesz) as usize])?;
            for &page in &shared {
                let prot = map.find(page).map_or(0, |v| v.prot) | seg.prot;
                map.insert(page, page + 4096, prot);
                space.protect(page, 4096, prot)?;
            }
        }
        space.map(STACK_TOP - STACK_SIZE, STACK_SIZE, prot::READ | prot::WRITE)?;
        map.insert(STACK_TOP - STACK_SIZE, STACK_TOP, prot::READ | prot::WRITE);
        space.map_counters(COUNTERS_ADDR)?;
        map.insert(COUNTERS_ADDR, COUNTERS_ADDR + 4096, prot::READ);
        let vdso_at = map_vdso(&space, &mut map, vdso)?;
        let info = stack::ProgramInfo { phdr: plan.phdr, phent: plan.phent, phnum: plan.phnum, entry: plan.entry, hwcap: hwcap(), counters: COUNTERS_ADDR, vdso: vdso_at };
        let st = stack::build(STACK_TOP, argv, envp, execfn, libsys::random::bytes(), &info, (STACK_SIZE / 4) as usize).map_err(|_| Errno::E2BIG)?;
        space.write(st.base, &st.bytes)?;
        Ok(st.rsp)
    };
    match fill() {
        Ok(rsp) => Ok(Loaded { space, entry: plan.entry, rsp, brk: plan.brk, map }),
        Err(e) => {
            let _ = space.destroy();
            Err(e)
        }
    }
}

/// Copies the vDSO image into `space` at VDSO_ADDR, readable and
/// executable, as the file is: its one segment starts at offset and address
/// 0 (xtask checks). Returns where it is, or 0 without a vDSO.
fn map_vdso(space: &Space, map: &mut proc_server::vm::Map, vdso: &[u8]) -> Result<u64, Errno> {
    if vdso.is_empty() {
        return Ok(0);
    }
    let len = (vdso.len() as u64).next_multiple_of(4096);
    space.map(VDSO_ADDR, len, prot::READ | prot::WRITE)?;
    space.write(VDSO_ADDR, vdso)?;
    space.protect(VDSO_ADDR, len, prot::READ | prot::EXEC)?;
    map.insert(VDSO_ADDR, VDSO_ADDR + len, prot::READ | prot::EXEC);
    Ok(VDSO_ADDR)
}

impl Procs {
    /// Starts the program the initrd names. On failure, the reason and the
    /// status a shell would report: 127 for a missing file, 126 for one
    /// that cannot be executed.
    fn start_init(&mut self) -> Result<(), (String, u8)> {
        const NOT_FOUND: u8 = 127;
        const CANNOT_EXECUTE: u8 = 126;
        let initrd = self.initrd;
        let exec = file(initrd, "lstar/exec").ok_or((String::from("the initrd has no lstar/exec"), NOT_FOUND))?;
        let path = core::str::from_utf8(exec).map_err(|_| (String::from("lstar/exec is not UTF-8"), NOT_FOUND))?;
        let argv = split_nul(file(initrd, "lstar/argv").unwrap_or(b""));
        let envp = split_nul(file(initrd, "lstar/envp").unwrap_or(b""));
        let image = file(initrd, path).ok_or_else(|| (alloc::format!("{path}: not in the initrd"), NOT_FOUND))?;
        let words = libsys::aligned_copy(image);
        let image = libsys::aligned_bytes(&words, image.len());
        let execfn = argv.first().copied().unwrap_or(path.as_bytes());
        let loaded = load(image, self.vdso, &argv, &envp, execfn).map_err(|e| {
            let why = if e == Errno::ENOEXEC { "cannot execute (see the log)" } else { e.text() };
            (alloc::format!("{path}: {why}"), CANNOT_EXECUTE)
        })?;
        let pid = self.next_pid;
        let thread = loaded.space.spawn(loaded.entry, loaded.rsp, Personality::Linux).map_err(|e| (String::from(e.text()), CANNOT_EXECUTE))?;
        self.add(pid, 0, thread, loaded, path);
        if let Some(fs) = self.fs {
            let _ = libsys::call(fs, lstar_abi::fs::SPAWN, [pid as u64, 0, 0, 0]);
        }
        let argv: Vec<Vec<u8>> = argv.iter().map(|a| a.to_vec()).collect();
        self.tell_fs_exec(pid, execfn, &argv);
        Ok(())
    }

    fn add(&mut self, pid: u32, ppid: u32, thread: ThreadId, loaded: Loaded, name: &str) {
        self.next_pid = self.next_pid.max(pid + 1);
        if let Err(e) = mem::set_tag(thread, pid as u64) {
            println!("proc: cannot tag thread {thread}: {}", e.text());
        }
        self.by_thread.insert(thread, pid);
        let mut threads = BTreeMap::new();
        threads.insert(thread, Thread { tid: pid, fs_base: 0, clear_child_tid: 0, sig: signals::ThreadSig::default() });
        self.procs.insert(
            pid,
            Process {
                pid,
                ppid,
                space: loaded.space,
                threads,
                main: thread,
                name: String::from(name),
                brk_start: loaded.brk,
                brk: loaded.brk,
                map: loaded.map,
                ended: None,
                pgid: pid,
                sid: pid,
                sig: signals::SigState::default(),
                limits: misc::default_limits(),
                stopped: signals::Stop::default(),
                held: Vec::new(),
                stopping: Vec::new(),
                unreported: None,
                usage: misc::Usage::default(),
                vfork: None,
                itimers: Default::default(),
            },
        );
    }

    fn syscall(&mut self, msg: &Message) -> Outcome {
        let Some(&pid) = self.by_thread.get(&msg.client) else {
            return Outcome::Reply(Errno::ESRCH.to_ret());
        };
        match self.handle(msg, pid) {
            // Signals pending for the caller are taken on the way out (and
            // a stopped process's threads wait until SIGCONT).
            Outcome::Reply(v) => self.finish(pid, msg.client, Some(v)),
            Outcome::NoReply => Outcome::NoReply,
        }
    }

    fn handle(&mut self, msg: &Message, pid: u32) -> Outcome {
        let client = Client(msg.client);
        let a = msg.args;
        // Common rows mean the same in the x32 table; the x32-only rows
        // are not routed here.
        let nr = msg.syscall_nr();
        match nr {
            nr::FORK => return ret(self.fork(pid, msg.client, 0, None, 0, 0, None)),
            nr::VFORK => {
                let r = self.fork(pid, msg.client, 0, None, 0, 0, Some(true));
                return self.cloned(r);
            }
            nr::CLONE => {
                let r = self.clone(msg.client, pid, a);
                return self.cloned(r);
            }
            nr::CLONE3 => {
                let r = self.clone3(msg.client, pid, a[0], a[1]);
                return self.cloned(r);
            }
            nr::FUTEX => return self.futex(msg.client, pid, a),
            nr::SET_ROBUST_LIST => return Outcome::Reply(if a[1] == 24 { 0 } else { Errno::EINVAL.to_ret() }),
            nr::WAIT4 => return self.wait4(msg.client, pid, a[0] as i32, a[1], a[2], a[3]),
            nr::WAITID => return self.waitid(msg.client, pid, a),
            nr::EXECVE => return self.execve(client, pid, a[0], a[1], a[2]),
            nr::EXIT => {
                self.exit_thread(pid, msg.client, (a[0] & 0xff) as u8);
                return Outcome::NoReply;
            }
            nr::EXIT_GROUP => {
                self.end(pid, Termination::Exited((a[0] & 0xff) as u8));
                return Outcome::NoReply;
            }
            nr::RT_SIGACTION => return ret(self.rt_sigaction(client, pid, a)),
            nr::RT_SIGPROCMASK => return ret(self.rt_sigprocmask(client, pid, a)),
            nr::RT_SIGPENDING => return ret(self.rt_sigpending(client, pid, a[0], a[1])),
            nr::RT_SIGRETURN => {
                // Delivers what the restored mask lets through itself.
                return match self.rt_sigreturn(client, pid) {
                    Outcome::Reply(v) => Outcome::Reply(v),
                    Outcome::NoReply => Outcome::NoReply,
                };
            }
            nr::SIGALTSTACK => return ret(self.sigaltstack(client, pid, a[0], a[1])),
            nr::RT_SIGTIMEDWAIT => return self.sigtimedwait(msg.client, pid, a),
            nr::RT_SIGQUEUEINFO => return ret(self.sigqueueinfo(client, pid, a[0] as i32, None, a[1], a[2])),
            nr::RT_TGSIGQUEUEINFO => return ret(self.sigqueueinfo(client, pid, a[0] as i32, Some(a[1] as i32), a[2], a[3])),
            nr::RT_SIGSUSPEND => return self.suspend(msg.client, pid, Some((a[0], a[1]))),
            nr::PPOLL | nr::PSELECT6 => return self.masked_poll(msg.client, pid, nr, a),
            // Routed to the file server, which forwards a write that met a
            // pipe with no reader here for its SIGPIPE (lstar_abi::proc).
            nr::WRITE | nr::WRITEV | X32_WRITEV => return self.sigpipe(pid, msg.client, a[5]),
            // Routed to the file server and on to the console, which
            // forwards a terminal ioctl that raised a signal (SIGWINCH)
            // here, so that it is sent before the call returns, as on
            // Linux (lstar_abi::proc).
            nr::IOCTL | X32_IOCTL => {
                self.terminal_signals();
                return Outcome::Reply(a[5]);
            }
            nr::PAUSE => return self.suspend(msg.client, pid, None),
            nr::CLOCK_GETTIME => return ret(self.clock_gettime(client, a[0], a[1])),
            nr::CLOCK_GETRES => return ret(self.clock_getres(client, a[0], a[1])),
            nr::GETTIMEOFDAY => return ret(self.gettimeofday(client, a[0], a[1])),
            nr::TIME => return ret(self.time(client, a[0])),
            nr::NANOSLEEP => return self.sleep(msg.client, pid, 1, 0, a[0], a[1]),
            nr::ALARM => return ret(self.alarm(pid, a[0])),
            // `which` is an int.
            nr::GETITIMER => return ret(self.getitimer(client, pid, u64::from(a[0] as u32), a[1])),
            nr::SETITIMER => return ret(self.setitimer(client, pid, u64::from(a[0] as u32), a[1], a[2])),
            nr::CLOCK_NANOSLEEP => return self.sleep(msg.client, pid, a[0], a[1], a[2], a[3]),
            nr::KILL => return ret(self.kill(msg.client, pid, a[0] as i32, a[1])),
            nr::TKILL => return ret(self.tgkill(msg.client, pid, None, a[0] as i32, a[1])),
            nr::TGKILL => return ret(self.tgkill(msg.client, pid, Some(a[0] as i32), a[1] as i32, a[2])),
            nr::SETPGID => return ret(self.setpgid(pid, a[0] as i32, a[1] as i32)),
            nr::GETPGID => return ret(self.getpgid(pid, a[0] as i32)),
            nr::GETPGRP => return ret(self.getpgid(pid, 0)),
            nr::SETSID => return ret(self.setsid(pid)),
            nr::GETSID => return ret(self.getsid(pid, a[0] as i32)),
            nr::PRLIMIT64 => return ret(self.prlimit(pid, a[0] as i32, a[1], a[2], a[3], client)),
            nr::GETRLIMIT => return ret(self.prlimit(pid, 0, a[0], 0, a[1], client)),
            nr::SETRLIMIT => return ret(self.prlimit(pid, 0, a[0], a[1], 0, client)),
            nr::GETRANDOM => return ret(self.getrandom(client, a[0], a[1], a[2])),
            nr::GETRUSAGE => return ret(self.getrusage(client, a[0] as i64, a[1])),
            nr::TIMES => return ret(self.times(client, a[0])),
            nr::SYSINFO => return ret(self.sysinfo(client, a[0])),
            nr::SCHED_GETAFFINITY => return ret(self.sched_getaffinity(client, pid, a[0] as i32, a[1], a[2])),
            nr::GETCPU => return ret(self.getcpu(client, a[0], a[1])),
            nr::SCHED_SETAFFINITY => return ret(self.sched_setaffinity(client, pid, a[0] as i32, a[1], a[2])),
            _ => {}
        }
        let fs = self.fs;
        let p = self.procs.get_mut(&pid).expect("a thread's process exists");
        match nr {
            nr::BRK => Outcome::Reply(p.set_brk(a[0])),
            nr::MMAP => ret(p.mmap(a[0], a[1], a[2], a[3], a[4] as i32, a[5], fs)),
            nr::MUNMAP => ret(p.munmap(a[0], a[1])),
            nr::MPROTECT => ret(p.mprotect(a[0], a[1], a[2])),
            nr::MREMAP => ret(p.mremap(a[0], a[1], a[2], a[3], a[4])),
            nr::MADVISE => ret(p.madvise(a[0], a[1], a[2])),
            nr::MSYNC => ret(p.msync(a[0], a[1], a[2])),
            nr::ARCH_PRCTL => ret(p.arch_prctl(msg.client, a[0], a[1])),
            nr::SET_TID_ADDRESS => {
                let t = p.threads.get_mut(&msg.client).expect("caller's thread");
                t.clear_child_tid = a[0];
                Outcome::Reply(t.tid as u64)
            }
            nr::GETPID => Outcome::Reply(p.pid as u64),
            nr::GETTID => Outcome::Reply(p.threads[&msg.client].tid as u64),
            nr::GETPPID => Outcome::Reply(p.ppid as u64),
            nr::GETUID | nr::GETEUID | nr::GETGID | nr::GETEGID => Outcome::Reply(0),
            nr::UNAME => ret(uname(client, a[0])),
            other => {
                println!("proc: syscall {other} is routed here but not handled");
                Outcome::Reply(Errno::ENOSYS.to_ret())
            }
        }
    }

    /// The live processes of group `pgid`.
    fn members(&self, pgid: u32) -> impl Iterator<Item = &Process> {
        self.procs.values().filter(move |p| p.pgid == pgid && p.ended.is_none())
    }

    /// Whether process group `pgid` is orphaned (POSIX): no live member
    /// has a live parent in another group of the same session, so no job
    /// control shell can continue it. Unlike Linux, which does not count
    /// a parent that is the system's init, a parent that is pid 1 counts:
    /// here pid 1 is the program Lstar runs, often a shell whose jobs
    /// must stop at ^Z.
    pub(crate) fn orphaned(&self, pgid: u32) -> bool {
        !self.members(pgid).any(|p| self.procs.get(&p.ppid).is_some_and(|q| q.ended.is_none() && q.pgid != pgid && q.sid == p.sid))
    }

    /// A process ended: if that left process group `pgid` orphaned (no
    /// live member has a parent in another group of its session) with a
    /// stopped member, every member gets SIGHUP, then SIGCONT, as POSIX
    /// says, so that a stopped job nobody can continue does not stay
    /// stopped.
    fn hang_up_if_orphaned(&mut self, pgid: u32) {
        let members: Vec<&Process> = self.members(pgid).collect();
        if !members.iter().any(|p| p.stopped.get().is_some()) || !self.orphaned(pgid) {
            return;
        }
        let pids: Vec<u32> = members.iter().map(|p| p.pid).collect();
        // Every member's SIGHUP first, then every SIGCONT, as Linux sends
        // a signal to a group.
        for signo in [signal::SIGHUP, signal::SIGCONT] {
            for &pid in &pids {
                self.send(pid, signal::Info::sent(signo, signal::SI_KERNEL, 0), None);
            }
        }
    }

    /// Sends `signo` to every live process in group `pgid`, as the
    /// terminal does (KILL_PGRP). ESRCH for an empty group.
    fn kill_pgrp(&mut self, pgid: u32, signo: u64) -> Result<u64, Errno> {
        if signo == 0 || signo > signal::NSIG as u64 {
            return Err(Errno::EINVAL);
        }
        let members: Vec<u32> = self.procs.values().filter(|p| p.pgid == pgid && p.ended.is_none()).map(|p| p.pid).collect();
        if members.is_empty() {
            return Err(Errno::ESRCH);
        }
        for pid in members {
            self.send(pid, signal::Info::sent(signo as u8, signal::SI_KERNEL, 0), None);
        }
        Ok(0)
    }

    /// Takes the signals the console raised for process groups
    /// (lstar_abi::proc::TERMINAL_BIT) and sends them, oldest first.
    fn terminal_signals(&mut self) {
        if self.console.is_none() {
            self.console = libsys::lookup("console").ok();
        }
        let Some(console) = self.console else { return };
        while let Ok(taken) = libsys::call(console, lstar_abi::console::TAKE_SIGNAL, [0; 4]) {
            if taken == 0 {
                break;
            }
            // An empty group (ESRCH) is nobody's problem: the terminal's
            // foreground group may have no process left.
            let _ = self.kill_pgrp((taken >> 8) as u32, taken & 0xff);
        }
    }

    /// Requests from other servers (lstar_abi::proc).
    fn call(&mut self, msg: &Message) -> Result<u64, Errno> {
        match msg.nr {
            lstar_abi::proc::KILL_PGRP => self.kill_pgrp(u32::try_from(msg.args[0]).map_err(|_| Errno::EINVAL)?, msg.args[1]),
            lstar_abi::proc::KILL => {
                let (pid, signo, thread) = (u32::try_from(msg.args[0]).map_err(|_| Errno::EINVAL)?, msg.args[1], msg.args[2]);
                if signo == 0 || signo > signal::NSIG as u64 {
                    return Err(Errno::EINVAL);
                }
                let Some(p) = self.procs.get(&pid).filter(|p| p.ended.is_none()) else { return Err(Errno::ESRCH) };
                let info = signal::Info::sent(signo as u8, signal::SI_KERNEL, 0);
                match thread {
                    0 => self.send(pid, info, None),
                    t if p.threads.contains_key(&t) => self.send_thread(pid, t, info, None),
                    // The thread ended meanwhile: its signal goes with it.
                    _ => {}
                }
                Ok(0)
            }
            _ => Err(Errno::ENOSYS),
        }
    }

    /// The live process `pid` names (0: the caller); a negative pid names
    /// none (ESRCH, as on Linux).
    fn target(&self, caller: u32, pid: i32) -> Result<u32, Errno> {
        let pid = if pid == 0 { caller } else { u32::try_from(pid).map_err(|_| Errno::ESRCH)? };
        match self.procs.get(&pid) {
            Some(p) if p.ended.is_none() => Ok(pid),
            _ => Err(Errno::ESRCH),
        }
    }

    fn setpgid(&mut self, caller: u32, pid: i32, pgid: i32) -> Result<u64, Errno> {
        // Linux checks the group id before it looks for the process.
        let pgid = if pgid == 0 { if pid == 0 { caller as i32 } else { pid } } else { pgid };
        let pgid = u32::try_from(pgid).map_err(|_| Errno::EINVAL)?;
        let pid = self.target(caller, pid)?;
        let (sid, ppid) = (self.procs[&pid].sid, self.procs[&pid].ppid);
        if pid != caller && ppid != caller {
            return Err(Errno::ESRCH);
        }
        if self.procs[&pid].sid == pid {
            return Err(Errno::EPERM); // a session leader keeps its group
        }
        if pgid != pid && !self.procs.values().any(|p| p.pgid == pgid && p.sid == sid) {
            return Err(Errno::EPERM);
        }
        self.procs.get_mut(&pid).expect("checked").pgid = pgid;
        Ok(0)
    }

    fn getpgid(&self, caller: u32, pid: i32) -> Result<u64, Errno> {
        Ok(self.procs[&self.target(caller, pid)?].pgid as u64)
    }

    fn getsid(&self, caller: u32, pid: i32) -> Result<u64, Errno> {
        Ok(self.procs[&self.target(caller, pid)?].sid as u64)
    }

    fn setsid(&mut self, caller: u32) -> Result<u64, Errno> {
        if self.procs.values().any(|p| p.pgid == caller) {
            return Err(Errno::EPERM); // already a group leader
        }
        let p = self.procs.get_mut(&caller).expect("caller exists");
        p.pgid = caller;
        p.sid = caller;
        Ok(caller as u64)
    }

    /// fork(2), and clone(2) without CLONE_VM: the child gets a copy of
    /// the address space and of the caller's registers, RAX = 0. With
    /// `vfork` (Some(borrow)), the caller waits for the child to exec or
    /// end, and with `borrow` the child runs in the caller's space itself.
    #[allow(clippy::too_many_arguments)] // clone's own arguments, and vfork's
    fn fork(&mut self, pid: u32, caller: ThreadId, stack: u64, tls: Option<u64>, parent_tid_ptr: u64, child_tid_ptr: u64, vfork: Option<bool>) -> Result<u64, Errno> {
        let parent = &self.procs[&pid];
        let borrow = vfork == Some(true);
        let space = if borrow { parent.space } else { parent.space.clone_space()? };
        let fs_base = tls.unwrap_or(parent.threads[&caller].fs_base);
        let child = self.next_pid;
        let (name, brk_start, brk) = (parent.name.clone(), parent.brk_start, parent.brk);
        let (pgid, sid, sigstate, limits) = (parent.pgid, parent.sid, parent.sig.forked(), parent.limits);
        let thread_sig = parent.threads[&caller].sig.forked();
        // The file server learns of the child before the child can run: its
        // first call there must find its descriptors.
        if let Some(fs) = self.fs {
            if let Err(e) = libsys::call(fs, lstar_abi::fs::FORK, [pid as u64, child as u64, 0, 0]) {
                println!("proc: the file server refused fork {pid} -> {child}: {}", e.text());
            }
        }
        let thread = match mem::clone_thread(caller, space, stack, fs_base, child as u64) {
            Ok(t) => t,
            Err(e) => {
                if !borrow {
                    let _ = space.destroy();
                }
                if let Some(fs) = self.fs {
                    let _ = libsys::call(fs, lstar_abi::fs::EXIT, [child as u64, 0, 0, 0]);
                }
                return Err(e);
            }
        };
        let map = self.procs[&pid].map.clone();
        self.add(child, pid, thread, Loaded { space, entry: 0, rsp: 0, brk: brk_start, map }, &name);
        let c = self.procs.get_mut(&child).expect("just added");
        c.brk = brk;
        let t = c.threads.get_mut(&thread).expect("just added");
        t.fs_base = fs_base;
        t.sig = thread_sig;
        c.pgid = pgid;
        c.sid = sid;
        c.sig = sigstate;
        c.limits = limits;
        c.vfork = vfork.map(|borrowed| vfork::Vfork { parent: pid, thread: caller, borrowed });
        if child_tid_ptr != 0 {
            t.clear_child_tid = child_tid_ptr;
        }
        if parent_tid_ptr != 0 {
            let _ = Client(caller).write(parent_tid_ptr, &(child as i32).to_le_bytes());
        }
        Ok(child as u64)
    }

    /// clone(2): a thread (CLONE_VM with CLONE_THREAD), a process (no
    /// CLONE_VM), or a vfork (CLONE_VFORK, with CLONE_VM as posix_spawn
    /// uses it: the child runs in the caller's memory on the given stack).
    fn clone(&mut self, caller: ThreadId, pid: u32, a: [u64; 6]) -> Result<u64, Errno> {
        // x86_64 argument order: flags, stack, parent_tid, child_tid, tls.
        self.clone_with(caller, pid, a[0], a[1], a[2], a[3], a[4])
    }

    /// clone3(2): the same, from a struct clone_args.
    fn clone3(&mut self, caller: ThreadId, pid: u32, args: u64, size: u64) -> Result<u64, Errno> {
        if !(64..=4096).contains(&size) {
            return Err(Errno::EINVAL);
        }
        let mut b = [0u8; 64];
        Client(caller).read(args, &mut b)?;
        let w = |i: usize| u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().expect("8"));
        // flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls
        let (flags, child_tid, parent_tid, exit_signal, stack, stack_size, tls) = (w(0), w(2), w(3), w(4), w(5), w(6), w(7));
        if flags & 0xff != 0 || exit_signal > 64 {
            return Err(Errno::EINVAL);
        }
        let top = if stack != 0 { stack.checked_add(stack_size).ok_or(Errno::EINVAL)? } else { 0 };
        self.clone_with(caller, pid, flags | exit_signal, top, parent_tid, child_tid, tls)
    }

    #[allow(clippy::too_many_arguments)] // clone's own argument list
    fn clone_with(&mut self, caller: ThreadId, pid: u32, flags: u64, stack: u64, parent_tid: u64, child_tid: u64, tls: u64) -> Result<u64, Errno> {
        const CLONE_VM: u64 = 0x100;
        const CLONE_SIGHAND: u64 = 0x800;
        const CLONE_VFORK: u64 = 0x4000;
        const CLONE_THREAD: u64 = 0x10000;
        const CLONE_SETTLS: u64 = 0x80000;
        const CLONE_PARENT_SETTID: u64 = 0x100000;
        const CLONE_CHILD_CLEARTID: u64 = 0x200000;
        const CLONE_CHILD_SETTID: u64 = 0x1000000;
        let tls = (flags & CLONE_SETTLS != 0).then_some(tls);
        let parent_ptr = if flags & CLONE_PARENT_SETTID != 0 { parent_tid } else { 0 };
        let clear = if flags & CLONE_CHILD_CLEARTID != 0 { child_tid } else { 0 };
        if flags & CLONE_THREAD != 0 {
            // Linux's rules: a thread shares the signal handlers, which
            // share the memory.
            if flags & CLONE_SIGHAND == 0 || flags & CLONE_VM == 0 {
                return Err(Errno::EINVAL);
            }
            let tid = self.new_thread(pid, caller, stack, tls, clear)?;
            if parent_ptr != 0 {
                let _ = Client(caller).write(parent_ptr, &(tid as i32).to_le_bytes());
            }
            if flags & CLONE_CHILD_SETTID != 0 {
                let _ = self.procs[&pid].space.write(child_tid, &(tid as i32).to_le_bytes());
            }
            return Ok(tid as u64);
        }
        if flags & CLONE_VM != 0 && flags & CLONE_VFORK == 0 {
            println!("proc: clone with CLONE_VM but not CLONE_THREAD (shared memory between processes) is not supported");
            return Err(Errno::EINVAL);
        }
        let vfork = (flags & CLONE_VFORK != 0).then_some(flags & CLONE_VM != 0);
        let child = self.fork(pid, caller, stack, tls, parent_ptr, clear, vfork)?;
        if flags & CLONE_CHILD_SETTID != 0 {
            let space = self.procs[&(child as u32)].space;
            let _ = space.write(child_tid, &(child as i32).to_le_bytes());
        }
        Ok(child)
    }

    /// A new thread in process `pid`, a copy of the waiting `caller` with
    /// RAX = 0 on `stack`.
    fn new_thread(&mut self, pid: u32, caller: ThreadId, stack: u64, tls: Option<u64>, clear: u64) -> Result<u32, Errno> {
        let p = &self.procs[&pid];
        let fs_base = tls.unwrap_or(p.threads[&caller].fs_base);
        let sig = p.threads[&caller].sig.cloned();
        let thread = mem::clone_thread(caller, p.space, stack, fs_base, pid as u64)?;
        let tid = self.next_pid;
        self.next_pid += 1;
        if let Err(e) = mem::set_tag(thread, pid as u64) {
            println!("proc: cannot tag thread {thread}: {}", e.text());
        }
        self.by_thread.insert(thread, pid);
        let p = self.procs.get_mut(&pid).expect("caller's process");
        p.threads.insert(thread, Thread { tid, fs_base, clear_child_tid: clear, sig });
        Ok(tid)
    }

    /// exit(2): one thread ends; the last one ends the process.
    fn exit_thread(&mut self, pid: u32, thread: ThreadId, code: u8) {
        let Some(p) = self.procs.get_mut(&pid) else { return };
        if p.threads.len() <= 1 {
            self.end(pid, Termination::Exited(code));
            return;
        }
        self.thread_ending(pid, thread);
        self.stop_arrived(pid, thread);
        let p = self.procs.get_mut(&pid).expect("checked above");
        let t = p.threads.remove(&thread).expect("caller's thread");
        if p.main == thread {
            p.main = *p.threads.keys().next().expect("another thread lives");
        }
        self.by_thread.remove(&thread);
        self.forget_waits(thread);
        // What was sent to the process and left for this thread goes to
        // another; what was sent to this thread alone is lost with it.
        let shared = self.procs[&pid].sig.shared.bits();
        self.retarget(pid, shared, thread);
        self.cleared_tid(pid, t.clear_child_tid);
        if let Err(e) = mem::kill(thread) {
            println!("proc: cannot end thread {thread}: {}", e.text());
        }
    }

    /// CLONE_CHILD_CLEARTID: a thread's end writes 0 at the address and
    /// wakes one futex waiter there (how pthread_join learns of it).
    fn cleared_tid(&mut self, pid: u32, addr: u64) {
        if addr == 0 {
            return;
        }
        let space = self.procs[&pid].space;
        if space.write(addr, &0u32.to_le_bytes()).is_ok() {
            self.futex_wake(pid, addr, 1, u32::MAX);
        }
    }

    fn wait4(&mut self, thread: ThreadId, pid: u32, pid_arg: i32, status_ptr: u64, options: u64, rusage_ptr: u64) -> Outcome {
        const WNOHANG: u64 = 1;
        if options & !(WNOHANG | 2 | 8 | 0x4000_0000 | 0x8000_0000 | 0x2000_0000) != 0 {
            return Outcome::Reply(Errno::EINVAL.to_ret());
        }
        if pid_arg == i32::MIN {
            return Outcome::Reply(Errno::ESRCH.to_ret()); // -INT_MIN names no group
        }
        let waiter = Waiter { thread, pid_arg, status_ptr, rusage_ptr, options, siginfo_ptr: None };
        self.wait_common(pid, waiter)
    }

    /// waitid(2): the same waits, reported as a siginfo; WEXITED, WSTOPPED
    /// and WCONTINUED choose what is reported, WNOWAIT leaves it to report
    /// again.
    fn waitid(&mut self, thread: ThreadId, pid: u32, a: [u64; 6]) -> Outcome {
        const WNOHANG: u64 = 1;
        const WSTOPPED: u64 = 2;
        const WEXITED: u64 = 4;
        const WCONTINUED: u64 = 8;
        const WNOWAIT: u64 = 0x0100_0000;
        let (idtype, id, infop, options, rusage) = (a[0], a[1], a[2], a[3], a[4]);
        if options & !(WNOHANG | WSTOPPED | WEXITED | WCONTINUED | WNOWAIT | 0x4000_0000 | 0x8000_0000 | 0x2000_0000) != 0 || options & (WSTOPPED | WEXITED | WCONTINUED) == 0 {
            return Outcome::Reply(Errno::EINVAL.to_ret());
        }
        let pid_arg = match idtype {
            0 => -1,
            1 if id > 0 && id <= i32::MAX as u64 => id as i32,
            2 if id <= i32::MAX as u64 => -(id as i32),
            _ => return Outcome::Reply(Errno::EINVAL.to_ret()),
        };
        let waiter = Waiter { thread, pid_arg, status_ptr: 0, rusage_ptr: rusage, options, siginfo_ptr: Some(infop) };
        self.wait_common(pid, waiter)
    }

    fn wait_common(&mut self, pid: u32, waiter: Waiter) -> Outcome {
        const WNOHANG: u64 = 1;
        let options = waiter.options;
        let pid_arg = waiter.pid_arg;
        let my_pgid = self.procs[&pid].pgid;
        let mut children = self.procs.values().filter(|c| c.ppid == pid && wait_selects(pid_arg, c.pid, c.pgid, my_pgid)).peekable();
        if children.peek().is_none() {
            return Outcome::Reply(Errno::ECHILD.to_ret());
        }
        if let Some(done) = children.find(|c| (c.ended.is_some() && waiter.wants_exits()) || waiter.wants(c.unreported)).map(|c| c.pid) {
            return Outcome::Reply(self.reap(done, &waiter));
        }
        if options & WNOHANG != 0 {
            // waitid with nothing to report zeroes the siginfo (si_pid 0).
            if let Some(infop) = waiter.siginfo_ptr.filter(|&p| p != 0) {
                if let Err(e) = Client(waiter.thread).write(infop, &[0u8; 128]) {
                    return Outcome::Reply(e.to_ret());
                }
            }
            return Outcome::Reply(0);
        }
        self.waiters.insert(pid, waiter);
        Outcome::NoReply
    }

    /// Whether parent `ppid`'s pending wait4 `w` selects `child`.
    fn selects(&self, w: &Waiter, ppid: u32, child: u32) -> bool {
        let caller_pgid = self.procs.get(&ppid).map_or(0, |p| p.pgid);
        let child_pgid = self.procs.get(&child).map_or(0, |c| c.pgid);
        wait_selects(w.pid_arg, child, child_pgid, caller_pgid)
    }

    /// A stop or continue of `child` for a parent waiting with WUNTRACED
    /// or WCONTINUED.
    fn job_event(&mut self, child: u32, event: JobEvent) {
        let Some(c) = self.procs.get_mut(&child) else { return };
        c.unreported = Some(event);
        let ppid = c.ppid;
        self.answer_parent(ppid, child, |w| w.wants(Some(event)));
    }

    /// Parent `ppid` waiting in wait4/waitid: if its wait selects `child`
    /// and `wants` what happened, it gets the report now.
    fn answer_parent(&mut self, ppid: u32, child: u32, wants: impl Fn(&Waiter) -> bool) {
        let Some(w) = self.waiters.remove(&ppid) else { return };
        if self.selects(&w, ppid, child) && wants(&w) {
            let value = self.reap(child, &w);
            // Signals pending for the waiter are taken on the way out.
            let out = self.finish(ppid, w.thread, Some(value));
            reply_to(w.thread, out);
        } else {
            self.waiters.insert(ppid, w);
        }
    }

    /// Hands a child's status to a waiter: an ended child is forgotten; a
    /// stop or continue is reported once.
    fn reap(&mut self, child: u32, w: &Waiter) -> u64 {
        if let Some(infop) = w.siginfo_ptr {
            return self.reap_siginfo(child, w, infop);
        }
        let c = self.procs.get_mut(&child).expect("reaping a known child");
        let (status, (ns, maxrss)) = match (c.ended, c.unreported.take()) {
            (Some(t), _) => {
                let gone = self.procs.remove(&child).expect("reaping a known child");
                (t.wait_status(), self.collect_usage(&gone))
            }
            // WIFSTOPPED: 0x7f with the signal above it; WIFCONTINUED: 0xffff.
            (None, Some(JobEvent::Stopped(sig))) => (((sig as u32) << 8) | 0x7f, self.usage_of(child)),
            (None, Some(JobEvent::Continued)) => (0xffff, self.usage_of(child)),
            (None, None) => unreachable!("reaping a child with nothing to report"),
        };
        let client = Client(w.thread);
        if w.status_ptr != 0 && client.write(w.status_ptr, &status.to_le_bytes()).is_err() {
            return Errno::EFAULT.to_ret();
        }
        if w.rusage_ptr != 0 && client.write(w.rusage_ptr, &misc::rusage(ns, maxrss)).is_err() {
            return Errno::EFAULT.to_ret();
        }
        child as u64
    }

    /// waitid's report: a siginfo (si_signo SIGCHLD, si_code CLD_*, si_pid,
    /// si_uid, si_status), and 0 as the result.
    fn reap_siginfo(&mut self, child: u32, w: &Waiter, infop: u64) -> u64 {
        const WNOWAIT: u64 = 0x0100_0000;
        let keep = w.options & WNOWAIT != 0;
        let c = self.procs.get_mut(&child).expect("reaping a known child");
        let (code, status) = match (c.ended, c.unreported) {
            (Some(Termination::Exited(x)), _) => (1, x as i32),
            (Some(Termination::Signaled(s)), _) => (2, s as i32),
            (None, Some(JobEvent::Stopped(s))) => (5, s as i32),
            (None, Some(JobEvent::Continued)) => (6, signal::SIGCONT as i32),
            (None, None) => unreachable!("reaping a child with nothing to report"),
        };
        let ended = c.ended.is_some();
        if !keep && !ended {
            c.unreported = None;
        }
        let (ns, maxrss) = if ended && !keep {
            let gone = self.procs.remove(&child).expect("reaping a known child");
            self.collect_usage(&gone)
        } else {
            self.usage_of(child)
        };
        let mut b = [0u8; 128];
        b[0..4].copy_from_slice(&(signal::SIGCHLD as i32).to_le_bytes());
        b[8..12].copy_from_slice(&(code as i32).to_le_bytes());
        b[16..20].copy_from_slice(&(child as i32).to_le_bytes());
        b[24..28].copy_from_slice(&status.to_le_bytes());
        let client = Client(w.thread);
        if infop != 0 && client.write(infop, &b).is_err() {
            return Errno::EFAULT.to_ret();
        }
        if w.rusage_ptr != 0 && client.write(w.rusage_ptr, &misc::rusage(ns, maxrss)).is_err() {
            return Errno::EFAULT.to_ret();
        }
        0
    }

    fn execve(&mut self, client: Client, pid: u32, path_ptr: u64, argv_ptr: u64, envp_ptr: u64) -> Outcome {
        let r = (|| -> Result<(), Errno> {
            let path = read_c_string(client, path_ptr, 4096)?;
            let mut argv = read_string_array(client, argv_ptr)?;
            let envp = read_string_array(client, envp_ptr)?;
            let mut image = self.read_exec(pid, &path)?;
            // `#!` scripts: run the interpreter with the script's path.
            for _ in 0..4 {
                let Some((interp, arg)) = shebang(libsys::aligned_bytes(&image.0, image.1)) else { break };
                let (interp, arg) = (interp.to_vec(), arg.map(|a| a.to_vec()));
                let mut new_argv = alloc::vec![interp.clone()];
                new_argv.extend(arg);
                new_argv.push(path.clone());
                new_argv.extend(argv.iter().skip(1).cloned());
                argv = new_argv;
                image = self.read_exec(pid, &interp)?;
            }
            let bytes = libsys::aligned_bytes(&image.0, image.1);
            let argv_refs: Vec<&[u8]> = argv.iter().map(|v| v.as_slice()).collect();
            let envp_refs: Vec<&[u8]> = envp.iter().map(|v| v.as_slice()).collect();
            let loaded = load(bytes, self.vdso, &argv_refs, &envp_refs, &path)?;
            let caller = client.0;
            let others: Vec<ThreadId> = self.procs[&pid].threads.keys().copied().filter(|&t| t != caller).collect();
            mem::set_space(caller, loaded.space)?;
            mem::set_regs(caller, loaded.entry, loaded.rsp, 0)?;
            mem::set_fs_base(caller, 0)?;
            // The other threads end; the caller carries on as the process.
            for &t in &others {
                self.thread_ending(pid, t);
                let _ = mem::kill(t);
            }
            let p = self.procs.get_mut(&pid).expect("caller's process exists");
            for t in &others {
                p.threads.remove(t);
            }
            let main = p.threads.get_mut(&caller).expect("caller's thread");
            main.fs_base = 0;
            main.clear_child_tid = 0;
            main.sig.altstack = signal::AltStack::NONE;
            p.main = caller;
            for &t in &others {
                self.by_thread.remove(&t);
                self.forget_waits(t);
            }
            let borrowed = self.borrows_space(pid);
            let p = self.procs.get_mut(&pid).expect("caller's process exists");
            let old = core::mem::replace(&mut p.space, loaded.space);
            if !borrowed {
                let _ = old.destroy();
            }
            let old_map = core::mem::replace(&mut p.map, loaded.map);
            let old_brk = core::mem::replace(&mut p.brk, loaded.brk);
            p.brk_start = loaded.brk;
            p.sig.exec();
            p.name = String::from_utf8_lossy(&path).into_owned();
            self.tell_fs_exec(pid, &path, &argv);
            self.release_vfork(pid, Some((old_map, old_brk)));
            Ok(())
        })();
        match r {
            // The registers were replaced; the reply sets RAX = 0 again.
            Ok(()) => Outcome::Reply(0),
            Err(e) => Outcome::Reply(e.to_ret()),
        }
    }

    /// Tells the file server that `pid` runs a new program (close-on-exec
    /// descriptors close; /proc learns its path and arguments).
    fn tell_fs_exec(&self, pid: u32, path: &[u8], argv: &[Vec<u8>]) {
        let Some(fs) = self.fs else { return };
        let mut info = path.to_vec();
        info.push(0);
        for a in argv {
            info.extend_from_slice(a);
            info.push(0);
        }
        if let Err(e) = libsys::call(fs, lstar_abi::fs::EXEC, [pid as u64, info.as_ptr() as u64, info.len() as u64, 0]) {
            println!("proc: the file server refused exec of pid {pid}: {}", e.text());
        }
    }

    /// The bytes of a file to execute, 8-byte aligned for the ELF parser:
    /// from the file server, or from the initrd when there is none.
    fn read_exec(&self, pid: u32, path: &[u8]) -> Result<(Vec<u64>, usize), Errno> {
        let Some(fs) = self.fs else {
            let name = core::str::from_utf8(path).map_err(|_| Errno::ENOENT)?;
            let image = file(self.initrd, name.trim_start_matches('/')).ok_or(Errno::ENOENT)?;
            return Ok((libsys::aligned_copy(image), image.len()));
        };
        let mut buf: Vec<u64> = Vec::new();
        loop {
            let req = lstar_abi::fs::ExecRead { pid: pid as u64, path: path.as_ptr() as u64, path_len: path.len() as u64, buf: buf.as_mut_ptr() as u64, buf_len: (buf.len() * 8) as u64 };
            let bytes = req.to_bytes();
            let size = libsys::call(fs, lstar_abi::fs::READ_EXEC, [bytes.as_ptr() as u64, 0, 0, 0])? as usize;
            if size <= buf.len() * 8 {
                return Ok((buf, size));
            }
            buf = alloc::vec![0u64; size.div_ceil(8)];
        }
    }

    /// A CPU fault in a program becomes its signal: delivered to a handler
    /// if the program has one and does not block it, else fatal.
    fn fault(&mut self, msg: &Message) -> Outcome {
        let Some(&pid) = self.by_thread.get(&msg.client) else { return Outcome::NoReply };
        let p = self.procs.get_mut(&pid).expect("a thread's process exists");
        let info = p.bus_error(msg.nr, msg.args[0], msg.args[1]).unwrap_or_else(|| signal::fault_info(msg.nr, msg.args[0], msg.args[1], msg.args[2]));
        let signo = info.signo;
        let a = p.sig.actions[signo as usize - 1];
        let Some(t) = p.threads.get_mut(&msg.client) else { return Outcome::NoReply };
        let caught = a.handler != signal::SIG_DFL && a.handler != signal::SIG_IGN && t.sig.blocked & signal::bit(signo) == 0;
        if caught {
            // A fault's signal is the faulting thread's, and never merged
            // into one already pending.
            t.sig.pending.discard(signal::bit(signo));
            t.sig.pending.post(info);
            return self.finish(pid, msg.client, None);
        }
        println!(
            "proc: pid {} ({}) killed by {}: exception {} error {:#x} at rip {:#x}, address {:#x}",
            p.pid,
            p.name,
            signal::name(signo),
            msg.nr,
            msg.args[0],
            msg.args[2],
            msg.args[1]
        );
        self.end(pid, Termination::Signaled(signo));
        Outcome::NoReply
    }

    /// A process ends: its thread and memory go, its children pass to
    /// pid 1, and it waits as a zombie for its parent's wait4. When the
    /// first process (the one xtask started) ends, the machine stops with
    /// its status, as a shell would report it.
    fn end(&mut self, pid: u32, how: Termination) {
        let Some(p) = self.procs.get_mut(&pid) else { return };
        if p.ended.is_some() {
            return;
        }
        p.ended = Some(how);
        // A stopped process that ends holds nobody any more, and its
        // interval timers end with it.
        p.stopped.set(None);
        p.held.clear();
        p.itimers = Default::default();
        let (space, ppid) = (p.space, p.ppid);
        self.note_rss(pid);
        let threads: Vec<ThreadId> = self.procs[&pid].threads.keys().copied().collect();
        for &thread in &threads {
            self.thread_ending(pid, thread);
        }
        self.procs.get_mut(&pid).expect("checked above").threads.clear();
        for thread in threads {
            self.by_thread.remove(&thread);
            if let Err(e) = mem::kill(thread) {
                println!("proc: cannot end thread {thread}: {}", e.text());
            }
        }
        self.futexes.retain(|w| w.pid != pid);
        self.sleepers.retain(|w| w.pid != pid);
        self.suspended.retain(|&(p, _)| p != pid);
        self.sigwaiters.retain(|w| w.pid != pid);
        // A vfork child leaves the space to its parent; a vfork parent
        // leaves it to the child still running in it.
        let borrowed = self.borrows_space(pid);
        if !borrowed && !self.hand_over_space(pid, space) {
            if let Err(e) = space.destroy() {
                println!("proc: cannot free the address space of pid {pid}: {}", e.text());
            }
        }
        let memory = self.procs.get(&pid).map(|p| (p.map.clone(), p.brk));
        self.release_vfork(pid, memory);
        if let Some(fs) = self.fs {
            let _ = libsys::call(fs, lstar_abi::fs::EXIT, [pid as u64, 0, 0, 0]);
        }
        if pid == 1 {
            mem::poweroff(how.shell_status());
        }
        // The groups this exit may orphan, as Linux finds them: its own, if
        // its parent linked it (another group, same session), and each
        // child's that it linked the same way.
        let me = &self.procs[&pid];
        let (my_pgid, my_sid) = (me.pgid, me.sid);
        let mut groups = Vec::new();
        if self.procs.get(&ppid).is_some_and(|q| q.ended.is_none() && q.pgid != my_pgid && q.sid == my_sid) {
            groups.push(my_pgid);
        }
        for c in self.procs.values_mut().filter(|c| c.ppid == pid) {
            c.ppid = 1;
            if c.ended.is_none() && c.pgid != my_pgid && c.sid == my_sid {
                groups.push(c.pgid);
            }
        }
        groups.sort_unstable();
        groups.dedup();
        for pgid in groups {
            self.hang_up_if_orphaned(pgid);
        }
        let (code, status) = match how {
            Termination::Exited(c) => (signal::CLD_EXITED, c as i32),
            Termination::Signaled(s) => (signal::CLD_KILLED, s as i32),
        };
        let info = signal::Info::child(code, pid, status);
        // A parent that ignores SIGCHLD, or set SA_NOCLDWAIT, leaves its
        // children to be reaped at once (so does a missing parent). Its
        // wait4 then ends only when no child it waits for is left.
        const SA_NOCLDWAIT: u64 = 2;
        let chld = self.procs.get(&ppid).map(|p| p.sig.actions[signal::SIGCHLD as usize - 1]);
        if chld.is_none_or(|a| a.handler == signal::SIG_IGN || a.flags & SA_NOCLDWAIT != 0) {
            self.procs.remove(&pid);
            if chld.is_some_and(|a| a.handler != signal::SIG_IGN) {
                self.send(ppid, info, None);
            }
            self.answer_childless(ppid);
            return;
        }
        // A waiting parent gets the status now, with SIGCHLD: the signal
        // is made pending first and the answer takes it, so the handler
        // runs before wait4 returns, as on Linux (which sends SIGCHLD,
        // then wakes the waiter). Pending after the answer, it would run
        // whenever the parent next entered the kernel.
        let answered = self.waiters.get(&ppid).filter(|w| self.selects(w, ppid, pid) && Waiter::wants_exits(w)).map(|w| w.thread);
        self.send(ppid, info, answered);
        self.answer_parent(ppid, pid, Waiter::wants_exits);
    }

    /// Parent `ppid` waiting in wait4/waitid when none of the children it
    /// waits for is left: ECHILD.
    fn answer_childless(&mut self, ppid: u32) {
        let Some(w) = self.waiters.remove(&ppid) else { return };
        let my_pgid = self.procs.get(&ppid).map_or(0, |p| p.pgid);
        if self.procs.values().any(|c| c.ppid == ppid && wait_selects(w.pid_arg, c.pid, c.pgid, my_pgid)) {
            self.waiters.insert(ppid, w);
            return;
        }
        let out = self.finish(ppid, w.thread, Some(Errno::ECHILD.to_ret()));
        reply_to(w.thread, out);
    }
}

/// A NUL-terminated string from the client, read a page piece at a time so
/// a string ending just before an unmapped page is still read.
fn read_c_string(client: Client, addr: u64, max: usize) -> Result<Vec<u8>, Errno> {
    let mut out = Vec::new();
    let mut at = addr;
    while out.len() < max {
        let n = (4096 - (at % 4096) as usize).min(max - out.len()).min(256);
        let mut chunk = [0u8; 256];
        client.read(at, &mut chunk[..n])?;
        if let Some(end) = chunk[..n].iter().position(|&b| b == 0) {
            out.extend_from_slice(&chunk[..end]);
            return Ok(out);
        }
        out.extend_from_slice(&chunk[..n]);
        at += n as u64;
    }
    Err(Errno::ENAMETOOLONG)
}

/// A NULL-terminated array of string pointers (argv, envp); NULL = empty.
fn read_string_array(client: Client, addr: u64) -> Result<Vec<Vec<u8>>, Errno> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    let mut total = 0;
    for i in 0..(1u64 << 16) {
        let mut ptr = [0u8; 8];
        client.read(addr + 8 * i, &mut ptr)?;
        let p = u64::from_le_bytes(ptr);
        if p == 0 {
            return Ok(out);
        }
        let s = read_c_string(client, p, 128 * 1024)?;
        total += s.len() + 9;
        if total > 2 << 20 {
            return Err(Errno::E2BIG);
        }
        out.push(s);
    }
    Err(Errno::E2BIG)
}

impl Process {
    fn arch_prctl(&mut self, thread: ThreadId, code: u64, addr: u64) -> Result<u64, Errno> {
        let t = self.threads.get_mut(&thread).expect("caller's thread");
        match code {
            ARCH_SET_FS => {
                if addr >= 0x0000_8000_0000_0000 {
                    return Err(Errno::EPERM);
                }
                mem::set_fs_base(thread, addr)?;
                t.fs_base = addr;
                Ok(0)
            }
            ARCH_GET_FS => Client(thread).write(addr, &t.fs_base.to_le_bytes()).map(|_| 0),
            _ => Err(Errno::EINVAL),
        }
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
