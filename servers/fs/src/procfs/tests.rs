//! /proc through whole calls: the process server's requests, then the
//! syscalls a program would make, and what Linux would answer.

use crate::tmpfs::Data;
use alloc::string::String;
use alloc::vec::Vec;
use libsys::nr;
use lstar_abi::errno::Errno;
use lstar_abi::fs as proto;

use super::text;
use crate::files::FileServer;
use crate::linux::{mode::*, o, AT_FDCWD, AT_SYMLINK_NOFOLLOW, SEEK_CUR, SEEK_END, SEEK_SET};
use crate::tmpfs::{Node, Tmpfs, PROC_DEV};
use crate::host::fake::FakeHost;
use lstar_abi::{Message, MessageKind};

const BASE: u64 = 0x10_0000;
const AT_FDCWD_REG: u64 = AT_FDCWD as i64 as u64;

struct P {
    s: FileServer,
    h: FakeHost,
    next: u64,
    pid: u64,
}

impl P {
    /// /bin/prog, /bin/script (a `#!` script) and /bin/sh -> prog, with
    /// /proc mounted and process 1 started as /bin/prog.
    fn new() -> P {
        let mut fs = Tmpfs::new();
        fs.add_standard();
        let mut s = FileServer::new(fs);
        s.mount_proc().unwrap();
        let bin = s.fs.mknod(crate::tmpfs::ROOT, b"bin", S_IFDIR | 0o755, Node::dir()).unwrap();
        s.fs.mknod(bin, b"prog", S_IFREG | 0o755, Node::File(Data::Borrowed(b"\x7fELF"))).unwrap();
        s.fs.mknod(bin, b"script", S_IFREG | 0o755, Node::File(Data::Borrowed(b"#!/bin/sh\n"))).unwrap();
        s.fs.mknod(bin, b"sh", S_IFLNK | 0o777, Node::Symlink(b"prog".to_vec())).unwrap();
        let mut h = FakeHost::new(BASE, 1 << 20);
        h.env.clock_ns = 12_345_000_000;
        h.env.pages = Some((1000, 4096));
        let mut p = P { s, h, next: BASE, pid: 1 };
        p.call(proto::SPAWN, [1, 0, 0]);
        p.exec(1, "/bin/prog", &["prog", "-x", "arg two"]);
        p
    }

    fn alloc(&mut self, n: usize) -> u64 {
        let at = self.next;
        self.next += (n as u64).next_multiple_of(16).max(16);
        at
    }

    fn cstr(&mut self, s: &str) -> u64 {
        let at = self.alloc(s.len() + 1);
        self.h.env.put(at, s.as_bytes());
        self.h.env.put(at + s.len() as u64, &[0]);
        at
    }

    fn call(&mut self, nr: u64, a: [u64; 3]) {
        let m = Message { kind: MessageKind::Call, client: 1, nr, args: [a[0], a[1], a[2], 0, 0, 0], tag: 0 };
        assert_eq!(self.s.handle(&mut self.h, &m), Some(0));
    }

    /// EXEC as the process server sends it.
    fn exec(&mut self, pid: u64, path: &str, argv: &[&str]) {
        let mut info = path.as_bytes().to_vec();
        info.push(0);
        for a in argv {
            info.extend_from_slice(a.as_bytes());
            info.push(0);
        }
        let at = self.alloc(info.len());
        self.h.env.put(at, &info);
        self.call(proto::EXEC, [pid, at, info.len() as u64]);
    }

    fn sys(&mut self, nr: u64, args: &[u64]) -> Result<u64, Errno> {
        let mut a = [0u64; 6];
        a[..args.len()].copy_from_slice(args);
        let m = Message { kind: MessageKind::Syscall, client: 100 + self.pid, nr, args: a, tag: self.pid };
        let r = self.s.handle(&mut self.h, &m).expect("not held");
        match Errno::from_ret(r) {
            Some(e) => Err(e),
            None => Ok(r),
        }
    }

    fn open(&mut self, path: &str, flags: u32) -> Result<u64, Errno> {
        let p = self.cstr(path);
        self.sys(nr::OPEN, &[p, flags.into(), 0o644])
    }

    fn read_fd(&mut self, fd: u64, n: usize) -> Vec<u8> {
        let b = self.alloc(n);
        let got = self.sys(nr::READ, &[fd, b, n as u64]).unwrap() as usize;
        self.h.env.get(b, got).to_vec()
    }

    /// The whole file, read 7 bytes at a time (offsets must carry on).
    fn cat(&mut self, path: &str) -> Result<String, Errno> {
        let fd = self.open(path, o::RDONLY)?;
        let mut all = Vec::new();
        loop {
            let chunk = self.read_fd(fd, 7);
            if chunk.is_empty() {
                break;
            }
            all.extend_from_slice(&chunk);
        }
        self.sys(nr::CLOSE, &[fd]).unwrap();
        Ok(String::from_utf8(all).unwrap())
    }

    fn readlink(&mut self, path: &str) -> Result<String, Errno> {
        let p = self.cstr(path);
        let b = self.alloc(256);
        let n = self.sys(nr::READLINK, &[p, b, 256])? as usize;
        Ok(String::from_utf8(self.h.env.get(b, n).to_vec()).unwrap())
    }

    /// (mode, ino, dev, size) of `path`, not following a last link.
    fn lstat(&mut self, path: &str) -> Result<(u32, u64, u64, i64), Errno> {
        let p = self.cstr(path);
        let b = self.alloc(144);
        self.sys(nr::NEWFSTATAT, &[AT_FDCWD_REG, p, b, AT_SYMLINK_NOFOLLOW.into()])?;
        let raw = self.h.env.get(b, 144);
        let u64_at = |o: usize| u64::from_le_bytes(raw[o..o + 8].try_into().unwrap());
        Ok((u32::from_le_bytes(raw[24..28].try_into().unwrap()), u64_at(8), u64_at(0), u64_at(48) as i64))
    }

    fn ls(&mut self, path: &str) -> Vec<String> {
        let fd = self.open(path, o::RDONLY | o::DIRECTORY).unwrap();
        let b = self.alloc(4096);
        let mut out = Vec::new();
        loop {
            let n = self.sys(nr::GETDENTS64, &[fd, b, 4096]).unwrap() as usize;
            if n == 0 {
                break;
            }
            let raw = self.h.env.get(b, n).to_vec();
            let mut at = 0;
            while at < n {
                let reclen = u16::from_le_bytes([raw[at + 16], raw[at + 17]]) as usize;
                let name: Vec<u8> = raw[at + 19..at + reclen].iter().copied().take_while(|&c| c != 0).collect();
                out.push(String::from_utf8(name).unwrap());
                at += reclen;
            }
        }
        self.sys(nr::CLOSE, &[fd]).unwrap();
        out
    }
}

#[test]
fn self_and_exe() {
    let mut p = P::new();
    assert_eq!(p.readlink("/proc/self").unwrap(), "1");
    assert_eq!(p.readlink("/proc/self/exe").unwrap(), "/bin/prog");
    assert_eq!(p.readlink("/proc/1/root").unwrap(), "/");
    assert_eq!(p.cat("/proc/self/cmdline").unwrap(), "prog\0-x\0arg two\0");
    assert_eq!(p.cat("/proc/self/comm").unwrap(), "prog\n");
    // Another process sees itself in /proc/self.
    p.call(proto::FORK, [1, 7, 0]);
    p.pid = 7;
    assert_eq!(p.readlink("/proc/self").unwrap(), "7");
    assert_eq!(p.cat("/proc/self/cmdline").unwrap(), "prog\0-x\0arg two\0", "a child runs its parent's program");
    // Through a link, relative to the working directory, a script.
    p.exec(7, "sh", &["sh"]);
    assert_eq!(p.readlink("/proc/7/exe").unwrap(), "sh", "not found from /: kept as given");
    let bin = p.cstr("/bin");
    p.sys(nr::CHDIR, &[bin]).unwrap();
    p.exec(7, "sh", &["sh", "-c", "x"]);
    assert_eq!(p.readlink("/proc/7/exe").unwrap(), "/bin/prog", "symbolic links resolved");
    assert_eq!(p.cat("/proc/7/comm").unwrap(), "sh\n");
    p.exec(7, "/bin/script", &["/bin/sh", "/bin/script"]);
    assert_eq!(p.readlink("/proc/7/exe").unwrap(), "/bin/prog", "a script's exe is its interpreter");
    assert_eq!(p.cat("/proc/7/comm").unwrap(), "script\n");
    assert_eq!(p.readlink("/proc/7/cwd").unwrap(), "/bin");
    // Exec through /proc/self/exe itself.
    p.exec(7, "/proc/self/exe", &["again"]);
    assert_eq!(p.readlink("/proc/7/exe").unwrap(), "/bin/prog");
}

#[test]
fn listing_and_exit() {
    let mut p = P::new();
    p.call(proto::FORK, [1, 2, 0]);
    p.call(proto::FORK, [2, 3, 0]);
    let top = p.ls("/proc");
    for want in ["self", "meminfo", "uptime", "mounts", "1", "2", "3"] {
        assert!(top.contains(&want.into()), "{want} in {top:?}");
    }
    let pids: Vec<&String> = top.iter().filter(|n| n.bytes().all(|b| b.is_ascii_digit())).collect();
    assert_eq!(pids, ["1", "2", "3"], "in order");
    let mut entries = p.ls("/proc/2");
    entries.sort();
    assert_eq!(entries, [".", "..", "cmdline", "comm", "cwd", "exe", "fd", "mounts", "root", "stat", "status", "task"]);
    assert_eq!(p.ls("/proc/2/task"), [".", "..", "2"]);
    let mut thread = p.ls("/proc/2/task/2");
    thread.sort();
    assert_eq!(thread, [".", "..", "cmdline", "comm", "cwd", "exe", "fd", "mounts", "root", "stat", "status"]);
    assert_eq!(p.cat("/proc/2/task/2/comm").unwrap(), "prog\n");
    assert_eq!(p.readlink("/proc/thread-self").unwrap(), "1/task/1");
    assert_eq!(p.readlink("/proc/thread-self/fd/0").unwrap(), "/dev/console");
    // pid 3's parent goes; pid 3 passes to 1.
    p.call(proto::EXIT, [2, 0, 0]);
    assert!(!p.ls("/proc").contains(&"2".into()));
    assert_eq!(p.cat("/proc/2/stat"), Err(Errno::ENOENT));
    let stat = p.cat("/proc/3/stat").unwrap();
    assert_eq!(stat.split(' ').nth(3), Some("1"));
    // A file held open past its process's end reads ESRCH, as in Linux.
    let fd = p.open("/proc/3/status", o::RDONLY).unwrap();
    p.call(proto::EXIT, [3, 0, 0]);
    let b = p.alloc(64);
    assert_eq!(p.sys(nr::READ, &[fd, b, 64]), Err(Errno::ESRCH));
    assert_eq!(p.cat("/proc/nope"), Err(Errno::ENOENT));
    assert_eq!(p.cat("/proc/4/stat"), Err(Errno::ENOENT));
}

#[test]
fn stat_line_fields() {
    let mut p = P::new();
    p.call(proto::FORK, [1, 5, 0]);
    let line = p.cat("/proc/1/stat").unwrap();
    assert!(line.starts_with("1 (prog) R 0 1 1 1281 -1 "), "{line}");
    assert!(line.ends_with('\n'));
    assert_eq!(line.trim_end().split(' ').count(), 52);
    let other = p.cat("/proc/5/stat").unwrap();
    let f: Vec<&str> = other.split(' ').collect();
    assert_eq!((f[0], f[1], f[2], f[3]), ("5", "(prog)", "S", "1"), "another process sleeps");
    assert_eq!(f[21], "1234", "starttime in ticks");
    // comm with a space and a parenthesis, as parsers meet it.
    p.exec(5, "/bin/a b)c", &["x"]);
    let odd = p.cat("/proc/5/stat").unwrap();
    assert!(odd.starts_with("5 (a b)c) S 1 "), "{odd}");
    let status = p.cat("/proc/5/status").unwrap();
    for want in ["Name:\ta b)c\n", "State:\tS (sleeping)\n", "Pid:\t5\n", "PPid:\t1\n", "Uid:\t0\t0\t0\t0\n", "Umask:\t0022\n", "Threads:\t1\n", "FDSize:\t64\n"] {
        assert!(status.contains(want), "{want:?} in {status:?}");
    }
}

#[test]
fn fd_links() {
    let mut p = P::new();
    let tmp = p.cstr("/tmp/f");
    let f = p.sys(nr::OPEN, &[tmp, (o::CREAT | o::WRONLY).into(), 0o644]).unwrap();
    assert_eq!(f, 3);
    let pair = p.alloc(8);
    p.sys(nr::PIPE, &[pair]).unwrap();
    let bin = p.open("/bin", o::RDONLY | o::DIRECTORY).unwrap();
    let mut fds = p.ls("/proc/self/fd");
    fds.retain(|n| !n.starts_with('.'));
    // The listing's own descriptor (7) is there too.
    assert_eq!(fds, ["0", "1", "2", "3", "4", "5", "6", "7"]);
    let d = p.open("/proc/self/fd", o::RDONLY | o::DIRECTORY).unwrap();
    assert_eq!(p.readlink(&alloc::format!("/proc/self/fd/{d}")).unwrap(), "/proc/1/fd");
    p.sys(nr::CLOSE, &[d]).unwrap();
    assert_eq!(p.readlink("/proc/self/fd/0").unwrap(), "/dev/console");
    assert_eq!(p.readlink("/proc/self/fd/3").unwrap(), "/tmp/f");
    let pipe_ino = p.readlink("/proc/self/fd/4").unwrap();
    assert!(pipe_ino.starts_with("pipe:[") && pipe_ino.ends_with(']'), "{pipe_ino}");
    assert_eq!(p.readlink("/proc/self/fd/5").unwrap(), pipe_ino, "both ends of one pipe");
    assert_eq!(p.readlink(&alloc::format!("/proc/self/fd/{bin}")).unwrap(), "/bin");
    // Modes say how each was opened.
    assert_eq!(p.lstat("/proc/self/fd/3").unwrap().0, S_IFLNK | 0o300);
    assert_eq!(p.lstat("/proc/self/fd/0").unwrap().0, S_IFLNK | 0o700);
    assert_eq!(p.lstat("/proc/self/fd/4").unwrap().0, S_IFLNK | 0o500);
    // Following a link reaches the file.
    assert_eq!(p.lstat("/proc/self/fd/3/").err(), Some(Errno::ENOTDIR));
    let fd3 = p.cstr("/proc/self/fd/3");
    let b = p.alloc(144);
    p.sys(nr::STAT, &[fd3, b]).unwrap();
    assert_eq!(u32::from_le_bytes(p.h.env.get(b + 24, 4).try_into().unwrap()), S_IFREG | 0o644);
    // Renamed, then removed: the link follows.
    let to = p.cstr("/tmp/g");
    p.sys(nr::RENAME, &[tmp, to]).unwrap();
    assert_eq!(p.readlink("/proc/self/fd/3").unwrap(), "/tmp/g");
    p.sys(nr::UNLINK, &[to]).unwrap();
    assert_eq!(p.readlink("/proc/self/fd/3").unwrap(), "/tmp/g (deleted)");
    // Closed: gone. Inode numbers of what stays do not change.
    let before = p.lstat("/proc/self/fd/0").unwrap().1;
    p.sys(nr::CLOSE, &[3]).unwrap();
    assert_eq!(p.readlink("/proc/self/fd/3"), Err(Errno::ENOENT));
    assert_eq!(p.lstat("/proc/self/fd/0").unwrap().1, before);
    // fd/ is another process's too.
    p.call(proto::FORK, [1, 9, 0]);
    assert_eq!(p.readlink("/proc/9/fd/5").unwrap(), pipe_ino);
}

#[test]
fn read_only() {
    let mut p = P::new();
    assert_eq!(p.open("/proc/meminfo", o::WRONLY), Err(Errno::EACCES));
    assert_eq!(p.open("/proc/self/stat", o::RDWR), Err(Errno::EACCES));
    assert_eq!(p.open("/proc/self/comm", o::RDONLY | o::TRUNC), Err(Errno::EACCES));
    assert_eq!(p.open("/proc/new", o::CREAT | o::WRONLY), Err(Errno::EACCES));
    assert_eq!(p.open("/proc/meminfo", o::CREAT | o::EXCL | o::WRONLY), Err(Errno::EEXIST));
    let path = |p: &mut P, s: &str| p.cstr(s);
    let (dir, new, meminfo, proc_, tmp_x) = (path(&mut p, "/proc/1"), path(&mut p, "/proc/x"), path(&mut p, "/proc/meminfo"), path(&mut p, "/proc"), path(&mut p, "/tmp/x"));
    assert_eq!(p.sys(nr::MKDIR, &[new, 0o755]), Err(Errno::EPERM));
    assert_eq!(p.sys(nr::MKDIR, &[dir, 0o755]), Err(Errno::EEXIST));
    assert_eq!(p.sys(nr::UNLINK, &[meminfo]), Err(Errno::EPERM));
    assert_eq!(p.sys(nr::RMDIR, &[dir]), Err(Errno::EPERM));
    assert_eq!(p.sys(nr::RMDIR, &[proc_]), Err(Errno::EBUSY));
    assert_eq!(p.sys(nr::RENAME, &[meminfo, tmp_x]), Err(Errno::EXDEV));
    assert_eq!(p.sys(nr::RENAME, &[meminfo, new]), Err(Errno::EPERM));
    assert_eq!(p.sys(nr::SYMLINK, &[tmp_x, new]), Err(Errno::EPERM));
    assert_eq!(p.sys(nr::LINK, &[meminfo, tmp_x]), Err(Errno::EXDEV));
    assert_eq!(p.sys(nr::CHMOD, &[meminfo, 0o666]), Err(Errno::EPERM));
    assert_eq!(p.cat("/proc/1/nope"), Err(Errno::ENOENT));
    // Linux's modes and /proc's own device; files show no size.
    let (mode, _, dev, size) = p.lstat("/proc").unwrap();
    assert_eq!((mode, dev), (S_IFDIR | 0o555, PROC_DEV));
    assert_eq!(p.lstat("/proc/meminfo").unwrap().0, S_IFREG | 0o444);
    assert_eq!(p.lstat("/proc/meminfo").unwrap().3, 0);
    assert_eq!(p.lstat("/proc/self").unwrap().0, S_IFLNK | 0o777);
    assert_eq!(p.lstat("/proc/self/fd").unwrap().0, S_IFDIR | 0o500);
    let _ = size;
}

#[test]
fn offsets() {
    let mut p = P::new();
    let whole = p.cat("/proc/self/cmdline").unwrap();
    let fd = p.open("/proc/self/cmdline", o::RDONLY).unwrap();
    assert_eq!(p.sys(nr::LSEEK, &[fd, 3, SEEK_SET.into()]), Ok(3));
    assert_eq!(p.read_fd(fd, 4), whole.as_bytes()[3..7]);
    assert_eq!(p.sys(nr::LSEEK, &[fd, 1, SEEK_CUR.into()]), Ok(8));
    assert_eq!(p.sys(nr::LSEEK, &[fd, 0, SEEK_END.into()]), Err(Errno::EINVAL));
    let b = p.alloc(16);
    assert_eq!(p.sys(nr::PREAD64, &[fd, b, 4, 5]), Ok(4));
    assert_eq!(p.h.env.get(b, 4), &whole.as_bytes()[5..9]);
    assert_eq!(p.sys(nr::LSEEK, &[fd, 1000, SEEK_SET.into()]), Ok(1000));
    assert_eq!(p.read_fd(fd, 16), b"");
    let w = p.alloc(4);
    assert_eq!(p.sys(nr::WRITE, &[fd, w, 4]), Err(Errno::EBADF));
}

#[test]
fn system_files() {
    let mut p = P::new();
    let mem = p.cat("/proc/meminfo").unwrap();
    assert!(mem.starts_with("MemTotal:          16384 kB\nMemFree:            4000 kB\nMemAvailable:       4000 kB\n"), "{mem}");
    assert!(mem.contains("SwapTotal:             0 kB\n"));
    assert_eq!(p.cat("/proc/uptime").unwrap(), "12.34 12.34\n");
    assert_eq!(p.cat("/proc/loadavg").unwrap(), "0.00 0.00 0.00 1/1 1\n");
    assert_eq!(p.readlink("/proc/mounts").unwrap(), "self/mounts");
    assert_eq!(p.cat("/proc/mounts").unwrap(), "rootfs / tmpfs rw 0 0\nproc /proc proc rw 0 0\n");
    assert!(p.cat("/proc/version").unwrap().starts_with("Linux version 6.1.0-lstar "));
    let cpu = p.cat("/proc/cpuinfo").unwrap();
    assert!(cpu.starts_with("processor\t: 0\nvendor_id\t: "), "{cpu}");
    assert!(cpu.contains("\nflags\t\t: fpu "), "{cpu}");
    let stat = p.cat("/proc/stat").unwrap();
    assert!(stat.starts_with("cpu  0 0 0 1234 0 0 0 0 0 0\n"), "{stat}");
    assert!(stat.contains("\nprocesses 1\n"));
}

#[test]
fn proc_in_the_initrd() {
    // An empty /proc in the initrd gives way; a file there keeps /proc out.
    let mut fs = Tmpfs::new();
    fs.mknod(crate::tmpfs::ROOT, b"proc", S_IFDIR | 0o755, Node::dir()).unwrap();
    let mut s = FileServer::new(fs);
    assert_eq!(s.mount_proc(), Ok(()));
    let mut fs = Tmpfs::new();
    fs.mknod(crate::tmpfs::ROOT, b"proc", S_IFREG | 0o644, Node::File(Data::Borrowed(b""))).unwrap();
    assert_eq!(FileServer::new(fs).mount_proc(), Err(Errno::EEXIST));
}

#[test]
fn texts() {
    assert_eq!(text::comm_of(b"/usr/bin/a-very-long-program-name"), b"a-very-long-pro");
    assert_eq!(text::comm_of(b"sh"), b"sh");
    assert_eq!(text::uptime(5_009_999_999), b"5.00 5.00\n");
    let line = text::pid_stat(&text::StatLine { pid: 4, comm: b"x", state: b'S', ppid: 2, tty: 0, start_ticks: 9 });
    let fields: Vec<&[u8]> = line.trim_ascii_end().split(|&b| b == b' ').collect();
    assert_eq!(fields.len(), 52);
    assert_eq!(fields[21], b"9");
    assert_eq!(fields[37], b"17", "exit_signal");
}

#[test]
fn first_program_from_the_initrd() {
    // The process server names the first program by argv[0] ("sh", as
    // busybox's shell runs); lstar/exec says what it loaded.
    let mut p = P::new();
    let lstar = p.s.fs.mknod(crate::tmpfs::ROOT, b"lstar", S_IFDIR | 0o755, Node::dir()).unwrap();
    p.s.fs.mknod(lstar, b"exec", S_IFREG | 0o644, Node::File(Data::Borrowed(b"bin/sh"))).unwrap();
    p.call(proto::SPAWN, [3, 0, 0]);
    p.exec(3, "sh", &["sh"]);
    assert_eq!(p.readlink("/proc/3/exe").unwrap(), "/bin/prog");
    p.exec(3, "first", &["first"]);
    p.call(proto::SPAWN, [4, 0, 0]);
    p.exec(4, "first", &["first"]);
    assert_eq!(p.readlink("/proc/4/exe").unwrap(), "/bin/prog");
    assert_eq!(p.cat("/proc/4/comm").unwrap(), "first\n", "named as run");
    // Only the first program.
    assert_eq!(p.readlink("/proc/3/exe").unwrap(), "first");
}
