//! Whole syscalls through a fake caller: the registers a program would
//! pass, the memory it would have, and Linux's answers.

use alloc::vec::Vec;
use libsys::nr;
use lstar_abi::errno::Errno;
use lstar_abi::fs::{self as proto, ExecRead};

use crate::files::FileServer;
use crate::linux::{dt, mode::*, o, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_NOFOLLOW, Stat, Timespec};
use crate::tmpfs::Tmpfs;
use crate::host::fake::FakeHost;
use crate::user::fake::FakeEnv;

const BASE: u64 = 0x10_0000;
const AT_FDCWD_REG: u64 = AT_FDCWD as i64 as u64;

struct T {
    s: FileServer,
    env: FakeEnv,
    next: u64,
    pid: u64,
}

impl T {
    fn new() -> T {
        let mut fs = Tmpfs::new();
        fs.add_standard();
        T { s: FileServer::new(fs), env: FakeEnv::new(BASE, 1 << 20), next: BASE, pid: 1 }
    }

    /// Room for `n` bytes in the caller's memory.
    fn alloc(&mut self, n: usize) -> u64 {
        let at = self.next;
        self.next += (n as u64).next_multiple_of(16).max(16);
        at
    }

    fn cstr(&mut self, s: &str) -> u64 {
        let at = self.alloc(s.len() + 1);
        self.env.put(at, s.as_bytes());
        self.env.put(at + s.len() as u64, &[0]);
        at
    }

    fn bytes(&mut self, b: &[u8]) -> u64 {
        let at = self.alloc(b.len());
        self.env.put(at, b);
        at
    }

    fn sys(&mut self, nr: u64, args: &[u64]) -> Result<u64, Errno> {
        let mut a = [0u64; 6];
        a[..args.len()].copy_from_slice(args);
        if matches!(nr, nr::OPEN | nr::OPENAT | nr::CREAT) {
            // Calls that may be held take a Host: one around the memory.
            let env = core::mem::replace(&mut self.env, FakeEnv::new(0, 0));
            let mut host = FakeHost { env, caller: 100, now: 0 };
            let r = self.s.syscall_or_hold(&mut host, self.pid, nr, a).expect("not held");
            self.env = host.env;
            return Errno::from_ret(r).map_or(Ok(r), Err);
        }
        self.s.syscall(&mut self.env, self.pid, nr, a)
    }

    fn open(&mut self, path: &str, flags: u32, mode: u32) -> Result<u64, Errno> {
        let p = self.cstr(path);
        self.sys(nr::OPEN, &[p, flags.into(), mode.into()])
    }

    fn write_str(&mut self, fd: u64, s: &str) -> Result<u64, Errno> {
        let b = self.bytes(s.as_bytes());
        self.sys(nr::WRITE, &[fd, b, s.len() as u64])
    }

    fn read_vec(&mut self, fd: u64, n: usize) -> Result<Vec<u8>, Errno> {
        let b = self.alloc(n);
        let got = self.sys(nr::READ, &[fd, b, n as u64])? as usize;
        Ok(self.env.get(b, got).to_vec())
    }

    fn path_call(&mut self, nr: u64, path: &str) -> Result<u64, Errno> {
        let p = self.cstr(path);
        self.sys(nr, &[p, 0o755])
    }

    fn stat(&mut self, path: &str, nr: u64) -> Result<Stat, Errno> {
        let p = self.cstr(path);
        let b = self.alloc(Stat::SIZE);
        self.sys(nr, &[p, b])?;
        let raw = self.env.get(b, Stat::SIZE);
        let u64_at = |o: usize| u64::from_le_bytes(raw[o..o + 8].try_into().unwrap());
        let u32_at = |o: usize| u32::from_le_bytes(raw[o..o + 4].try_into().unwrap());
        Ok(Stat {
            dev: u64_at(0),
            ino: u64_at(8),
            nlink: u64_at(16),
            mode: u32_at(24),
            uid: u32_at(28),
            gid: u32_at(32),
            rdev: u64_at(40),
            size: u64_at(48) as i64,
            blksize: u64_at(56) as i64,
            blocks: u64_at(64) as i64,
            atime: Timespec { sec: u64_at(72) as i64, nsec: u64_at(80) as u32 },
            mtime: Timespec { sec: u64_at(88) as i64, nsec: u64_at(96) as u32 },
            ctime: Timespec { sec: u64_at(104) as i64, nsec: u64_at(112) as u32 },
        })
    }

    /// Two `struct timespec`s, as utimensat takes them.
    fn times(&mut self, t: &[(i64, i64); 2]) -> u64 {
        let mut raw = Vec::new();
        for (sec, nsec) in t {
            raw.extend_from_slice(&sec.to_le_bytes());
            raw.extend_from_slice(&nsec.to_le_bytes());
        }
        self.bytes(&raw)
    }

    fn names(&mut self, path: &str) -> Vec<(Vec<u8>, u8)> {
        let fd = self.open(path, o::RDONLY | o::DIRECTORY, 0).unwrap();
        let b = self.alloc(4096);
        let mut out = Vec::new();
        loop {
            let n = self.sys(nr::GETDENTS64, &[fd, b, 4096]).unwrap() as usize;
            if n == 0 {
                break;
            }
            let raw = self.env.get(b, n).to_vec();
            let mut at = 0;
            while at < n {
                let reclen = u16::from_le_bytes([raw[at + 16], raw[at + 17]]) as usize;
                let name: Vec<u8> = raw[at + 19..at + reclen].iter().copied().take_while(|&c| c != 0).collect();
                out.push((name, raw[at + 18]));
                at += reclen;
            }
        }
        self.sys(nr::CLOSE, &[fd]).unwrap();
        out
    }
}

#[test]
fn console_output_and_eof() {
    let mut t = T::new();
    assert_eq!(t.write_str(1, "hello\n"), Ok(6));
    assert_eq!(t.env.console, b"hello\n");
    assert_eq!(t.read_vec(0, 10), Ok(Vec::new()), "no console input: end of file");
    assert_eq!(t.sys(nr::WRITE, &[1, 8, 5]), Err(Errno::EFAULT));
    assert_eq!(t.sys(nr::WRITE, &[1, 0xffff_ffff_8000_0000, 5]), Err(Errno::EFAULT));
    assert_eq!(t.sys(nr::WRITE, &[9, BASE, 1]), Err(Errno::EBADF));
    assert_eq!(t.sys(nr::LSEEK, &[1, 0, 1]), Err(Errno::ESPIPE));
    assert_eq!(t.sys(nr::PREAD64, &[0, BASE, 1, 0]), Err(Errno::ESPIPE));
    assert_eq!(t.sys(nr::FSYNC, &[1]), Err(Errno::EINVAL));
    // writev gathers.
    let a = t.bytes(b"ab");
    let c = t.bytes(b"cde");
    let mut iov = Vec::new();
    for (base, len) in [(a, 2u64), (c, 3)] {
        iov.extend_from_slice(&base.to_le_bytes());
        iov.extend_from_slice(&len.to_le_bytes());
    }
    let iov = t.bytes(&iov);
    assert_eq!(t.sys(nr::WRITEV, &[2, iov, 2]), Ok(5));
    assert_eq!(&t.env.console[6..], b"abcde");
    assert_eq!(t.sys(nr::WRITEV, &[2, iov, 1025]), Err(Errno::EINVAL));
    assert_eq!(t.sys(nr::WRITEV, &[2, iov, u64::MAX]), Err(Errno::EINVAL));
}

#[test]
fn tty_ioctls() {
    let mut t = T::new();
    let ws = t.alloc(8);
    assert_eq!(t.sys(nr::IOCTL, &[1, 0x5413, ws]), Ok(0));
    assert_eq!(t.env.get(ws, 8), [24, 0, 80, 0, 0, 0, 0, 0]);
    let tio = t.alloc(60);
    assert_eq!(t.sys(nr::IOCTL, &[0, 0x5401, tio]), Ok(0));
    assert_eq!(t.env.get(tio, 4), 0o2400u32.to_le_bytes());
    assert_eq!(t.sys(nr::IOCTL, &[0, 0x54ff, tio]), Err(Errno::ENOTTY));
    assert_eq!(t.sys(nr::IOCTL, &[0, 0x5401, 8]), Err(Errno::EFAULT));
    let fd = t.open("/tmp/f", o::CREAT | o::RDWR, 0o644).unwrap();
    assert_eq!(t.sys(nr::IOCTL, &[fd, 0x5401, tio]), Err(Errno::ENOTTY));
    let null = t.open("/dev/null", o::RDWR, 0).unwrap();
    assert_eq!(t.sys(nr::IOCTL, &[null, 0x5413, ws]), Err(Errno::ENOTTY));
    assert_eq!(t.sys(nr::IOCTL, &[fd, 0x5451, 0]), Ok(0), "FIOCLEX");
    assert_eq!(t.sys(nr::FCNTL, &[fd, 1]), Ok(1));
}

#[test]
fn files_read_write_seek() {
    let mut t = T::new();
    let fd = t.open("/tmp/f", o::CREAT | o::RDWR | o::EXCL, 0o666).unwrap();
    assert_eq!(fd, 3);
    assert_eq!(t.stat("/tmp/f", nr::STAT).unwrap().mode, S_IFREG | 0o644, "umask 022");
    assert_eq!(t.write_str(fd, "hello world"), Ok(11));
    assert_eq!(t.sys(nr::LSEEK, &[fd, 6, 0]), Ok(6));
    assert_eq!(t.read_vec(fd, 100).unwrap(), b"world");
    assert_eq!(t.read_vec(fd, 100).unwrap(), b"");
    assert_eq!(t.sys(nr::LSEEK, &[fd, (-5i64) as u64, 2]), Ok(6));
    assert_eq!(t.sys(nr::LSEEK, &[fd, (-7i64) as u64, 1]), Err(Errno::EINVAL));
    assert_eq!(t.sys(nr::LSEEK, &[fd, 0, 5]), Err(Errno::EINVAL));
    assert_eq!(t.sys(nr::LSEEK, &[fd, 20, 3]), Err(Errno::ENXIO));
    assert_eq!(t.sys(nr::LSEEK, &[fd, 2, 4]), Ok(11));
    // Writing past the end leaves a zero-filled gap.
    assert_eq!(t.sys(nr::LSEEK, &[fd, 13, 0]), Ok(13));
    assert_eq!(t.write_str(fd, "!"), Ok(1));
    let b = t.alloc(16);
    assert_eq!(t.sys(nr::PREAD64, &[fd, b, 16, 9]), Ok(5));
    assert_eq!(t.env.get(b, 5), b"ld\0\0!");
    assert_eq!(t.sys(nr::PREAD64, &[fd, b, 16, u64::MAX]), Err(Errno::EINVAL));
    // A write from memory that ends part way writes what was readable.
    let end = BASE + (1 << 20);
    t.env.put(end - 3, b"xyz");
    assert_eq!(t.sys(nr::PWRITE64, &[fd, end - 3, 100, 0]), Ok(3));
    assert_eq!(t.stat("/tmp/f", nr::STAT).unwrap().size, 14, "not grown past what was written");
    assert_eq!(t.sys(nr::PWRITE64, &[fd, end, 100, 50]), Err(Errno::EFAULT));
    assert_eq!(t.stat("/tmp/f", nr::STAT).unwrap().size, 50, "extended to the position, as Linux does");
    assert_eq!(t.sys(nr::FTRUNCATE, &[fd, 14]), Ok(0));
    // O_APPEND.
    let app = t.open("/tmp/f", o::WRONLY | o::APPEND, 0).unwrap();
    assert_eq!(t.write_str(app, "+"), Ok(1));
    assert_eq!(t.sys(nr::LSEEK, &[app, 0, 1]), Ok(15));
    assert_eq!(t.read_vec(app, 1), Err(Errno::EBADF));
    // O_TRUNC, ftruncate, truncate.
    let tr = t.open("/tmp/f", o::RDONLY | o::TRUNC, 0).unwrap();
    assert_eq!(t.stat("/tmp/f", nr::STAT).unwrap().size, 0);
    assert_eq!(t.sys(nr::FTRUNCATE, &[tr, 10]), Err(Errno::EINVAL), "not open for writing");
    assert_eq!(t.sys(nr::FTRUNCATE, &[fd, 10]), Ok(0));
    assert_eq!(t.stat("/tmp/f", nr::STAT).unwrap().size, 10);
    let p = t.cstr("/tmp/f");
    assert_eq!(t.sys(nr::TRUNCATE, &[p, 3]), Ok(0));
    assert_eq!(t.sys(nr::TRUNCATE, &[p, u64::MAX]), Err(Errno::EINVAL));
    let d = t.cstr("/tmp");
    assert_eq!(t.sys(nr::TRUNCATE, &[d, 0]), Err(Errno::EISDIR));
    // EEXIST, EISDIR, ENOTDIR, ENOENT.
    assert_eq!(t.open("/tmp/f", o::CREAT | o::EXCL | o::WRONLY, 0), Err(Errno::EEXIST));
    assert_eq!(t.open("/tmp", o::WRONLY, 0), Err(Errno::EISDIR));
    assert_eq!(t.open("/tmp", o::CREAT | o::RDONLY, 0), Err(Errno::EISDIR));
    assert_eq!(t.open("/tmp/new/", o::CREAT | o::RDONLY, 0), Err(Errno::EISDIR));
    assert_eq!(t.open("/tmp/f", o::RDONLY | o::DIRECTORY, 0), Err(Errno::ENOTDIR));
    assert_eq!(t.open("/tmp/f/", o::RDONLY, 0), Err(Errno::ENOTDIR));
    assert_eq!(t.open("/tmp/nope", o::RDONLY, 0), Err(Errno::ENOENT));
    assert_eq!(t.open("", o::RDONLY, 0), Err(Errno::ENOENT));
    assert_eq!(t.open("/tmp/x", o::CREAT | o::DIRECTORY, 0), Err(Errno::EINVAL));
    let dirfd = t.open("/tmp", o::RDONLY, 0).unwrap();
    assert_eq!(t.read_vec(dirfd, 1), Err(Errno::EISDIR));
    assert_eq!(t.sys(nr::OPEN, &[8, 0, 0]), Err(Errno::EFAULT));
}

#[test]
fn creat_and_fstat() {
    let mut t = T::new();
    let p = t.cstr("/tmp/c");
    let fd = t.sys(nr::CREAT, &[p, 0o700]).unwrap();
    assert_eq!(t.read_vec(fd, 1), Err(Errno::EBADF), "creat opens write-only");
    let b = t.alloc(Stat::SIZE);
    assert_eq!(t.sys(nr::FSTAT, &[fd, b]), Ok(0));
    assert_eq!(u32::from_le_bytes(t.env.get(b + 24, 4).try_into().unwrap()), S_IFREG | 0o700);
    assert_eq!(t.sys(nr::FSTAT, &[fd, 8]), Err(Errno::EFAULT));
    assert_eq!(t.sys(nr::FCNTL, &[fd, 3]), Ok((o::WRONLY | o::LARGEFILE).into()));
    let st = t.stat("/dev/null", nr::STAT).unwrap();
    assert_eq!((st.mode, st.rdev), (S_IFCHR | 0o666, 0x103));
    let st = t.stat("/", nr::STAT).unwrap();
    assert_eq!(st.mode & S_IFMT, S_IFDIR);
    assert_eq!(st.nlink, 4, "/, /tmp and /dev");
}

#[test]
fn devices() {
    let mut t = T::new();
    let z = t.open("/dev/zero", o::RDWR, 0).unwrap();
    let b = t.bytes(&[9; 8]);
    assert_eq!(t.sys(nr::READ, &[z, b, 8]), Ok(8));
    assert_eq!(t.env.get(b, 8), [0; 8]);
    assert_eq!(t.sys(nr::WRITE, &[z, 8, 100]), Ok(100), "zero discards without reading");
    let n = t.open("/dev/null", o::RDWR, 0).unwrap();
    assert_eq!(t.sys(nr::READ, &[n, b, 8]), Ok(0));
    assert_eq!(t.sys(nr::WRITE, &[n, b, 8]), Ok(8));
    assert_eq!(t.sys(nr::LSEEK, &[n, 100, 0]), Ok(0));
    let r = t.open("/dev/urandom", o::RDONLY, 0).unwrap();
    assert_eq!(t.sys(nr::READ, &[r, b, 8]), Ok(8));
    assert_eq!(t.env.get(b, 8), [0x5a; 8]);
    let tty = t.open("/dev/tty", o::RDWR, 0).unwrap();
    assert_eq!(t.write_str(tty, "x"), Ok(1));
    assert_eq!(t.env.console, b"x");
}

#[test]
fn descriptors() {
    let mut t = T::new();
    let fd = t.open("/tmp/d", o::CREAT | o::RDWR, 0o644).unwrap();
    assert_eq!(t.sys(nr::DUP, &[fd]), Ok(4));
    assert_eq!(t.write_str(4, "abc"), Ok(3));
    assert_eq!(t.sys(nr::LSEEK, &[fd, 0, 1]), Ok(3), "dup shares the offset");
    assert_eq!(t.sys(nr::DUP2, &[fd, 10]), Ok(10));
    assert_eq!(t.sys(nr::DUP2, &[fd, fd]), Ok(fd));
    assert_eq!(t.sys(nr::DUP2, &[99, 5]), Err(Errno::EBADF));
    assert_eq!(t.sys(nr::DUP2, &[fd, 1024]), Err(Errno::EBADF));
    assert_eq!(t.sys(nr::DUP3, &[fd, fd, 0]), Err(Errno::EINVAL));
    assert_eq!(t.sys(nr::DUP3, &[fd, 11, 1]), Err(Errno::EINVAL));
    assert_eq!(t.sys(nr::DUP3, &[fd, 11, o::CLOEXEC.into()]), Ok(11));
    assert_eq!(t.sys(nr::FCNTL, &[11, 1]), Ok(1));
    assert_eq!(t.sys(nr::FCNTL, &[10, 1]), Ok(0));
    assert_eq!(t.sys(nr::FCNTL, &[fd, 0, 7]), Ok(7), "F_DUPFD: lowest at or above 7");
    assert_eq!(t.sys(nr::FCNTL, &[fd, 1030, 7]), Ok(8));
    assert_eq!(t.sys(nr::FCNTL, &[8, 1]), Ok(1));
    assert_eq!(t.sys(nr::FCNTL, &[fd, 0, 1024]), Err(Errno::EINVAL));
    assert_eq!(t.sys(nr::FCNTL, &[fd, 4, (o::APPEND | o::NONBLOCK | o::TRUNC).into()]), Ok(0));
    assert_eq!(t.sys(nr::FCNTL, &[10, 3]), Ok((o::RDWR | o::APPEND | o::NONBLOCK | o::LARGEFILE).into()));
    assert_eq!(t.sys(nr::FCNTL, &[fd, 999]), Err(Errno::EINVAL));
    assert_eq!(t.sys(nr::CLOSE, &[fd]), Ok(0));
    assert_eq!(t.sys(nr::CLOSE, &[fd]), Err(Errno::EBADF));
    // Fill the table: EMFILE, and no file made by the failed open.
    let mut n = 0;
    while t.sys(nr::DUP, &[0]).is_ok() {
        n += 1;
    }
    assert_eq!(t.sys(nr::DUP, &[0]), Err(Errno::EMFILE));
    assert_eq!(n + 8, 1024, "0-2, 4, 7, 8, 10 and 11 were taken");
    assert_eq!(t.open("/tmp/never", o::CREAT | o::RDWR, 0o644), Err(Errno::EMFILE));
    assert_eq!(t.stat("/tmp/never", nr::STAT).map(|_| ()), Err(Errno::ENOENT));
}

#[test]
fn directories() {
    let mut t = T::new();
    assert_eq!(t.path_call(nr::MKDIR, "/tmp/d"), Ok(0));
    assert_eq!(t.path_call(nr::MKDIR, "/tmp/d"), Err(Errno::EEXIST));
    assert_eq!(t.path_call(nr::MKDIR, "/tmp/d/e/"), Ok(0));
    assert_eq!(t.path_call(nr::MKDIR, "/tmp/nope/e"), Err(Errno::ENOENT));
    assert_eq!(t.path_call(nr::MKDIR, "/tmp/."), Err(Errno::EEXIST));
    assert_eq!(t.stat("/tmp/d", nr::STAT).unwrap().nlink, 3);
    assert_eq!(t.stat("/tmp/d", nr::STAT).unwrap().mode, S_IFDIR | 0o755);
    let f = t.open("/tmp/d/f", o::CREAT | o::WRONLY, 0o600).unwrap();
    t.sys(nr::CLOSE, &[f]).unwrap();
    let mut names = t.names("/tmp/d");
    names.sort();
    assert_eq!(names, [(b".".to_vec(), dt::DIR), (b"..".to_vec(), dt::DIR), (b"e".to_vec(), dt::DIR), (b"f".to_vec(), dt::REG)]);
    assert_eq!(t.path_call(nr::RMDIR, "/tmp/d"), Err(Errno::ENOTEMPTY));
    assert_eq!(t.path_call(nr::RMDIR, "/tmp/d/f"), Err(Errno::ENOTDIR));
    assert_eq!(t.path_call(nr::RMDIR, "/tmp/d/."), Err(Errno::EINVAL));
    assert_eq!(t.path_call(nr::RMDIR, "/tmp/d/.."), Err(Errno::ENOTEMPTY));
    assert_eq!(t.path_call(nr::RMDIR, "/"), Err(Errno::EBUSY));
    assert_eq!(t.path_call(nr::UNLINK, "/tmp/d/e"), Err(Errno::EISDIR));
    assert_eq!(t.path_call(nr::UNLINK, "/tmp/d/f/"), Err(Errno::ENOTDIR));
    assert_eq!(t.path_call(nr::UNLINK, "/tmp/d/f"), Ok(0));
    assert_eq!(t.path_call(nr::UNLINK, "/tmp/d/f"), Err(Errno::ENOENT));
    let p = t.cstr("/tmp/d/e");
    assert_eq!(t.sys(nr::UNLINKAT, &[AT_FDCWD_REG, p, AT_REMOVEDIR.into()]), Ok(0));
    assert_eq!(t.sys(nr::UNLINKAT, &[AT_FDCWD_REG, p, 1]), Err(Errno::EINVAL));
    assert_eq!(t.path_call(nr::RMDIR, "/tmp/d/"), Ok(0));
}

#[test]
fn getdents_small_buffer_and_positions() {
    let mut t = T::new();
    t.path_call(nr::MKDIR, "/tmp/g").unwrap();
    for name in ["a", "b", "c"] {
        let fd = t.open(&alloc::format!("/tmp/g/{name}"), o::CREAT | o::WRONLY, 0o644).unwrap();
        t.sys(nr::CLOSE, &[fd]).unwrap();
    }
    let fd = t.open("/tmp/g", o::RDONLY | o::DIRECTORY, 0).unwrap();
    let b = t.alloc(128);
    assert_eq!(t.sys(nr::GETDENTS64, &[fd, b, 10]), Err(Errno::EINVAL));
    // Two 24-byte records fit in 50 bytes: "." and "..".
    assert_eq!(t.sys(nr::GETDENTS64, &[fd, b, 50]), Ok(48));
    // Remove everything while reading: nothing is skipped or repeated.
    assert_eq!(t.sys(nr::GETDENTS64, &[fd, b, 24]), Ok(24));
    assert_eq!(t.env.get(b + 19, 2), b"a\0");
    t.path_call(nr::UNLINK, "/tmp/g/a").unwrap();
    t.path_call(nr::UNLINK, "/tmp/g/b").unwrap();
    assert_eq!(t.sys(nr::GETDENTS64, &[fd, b, 64]), Ok(24));
    assert_eq!(t.env.get(b + 19, 2), b"c\0");
    assert_eq!(t.sys(nr::GETDENTS64, &[fd, b, 64]), Ok(0));
    // Rewind.
    assert_eq!(t.sys(nr::LSEEK, &[fd, 0, 0]), Ok(0));
    assert_eq!(t.sys(nr::GETDENTS64, &[fd, b, 128]), Ok(72));
    assert_eq!(t.sys(nr::GETDENTS64, &[0, b, 64]), Err(Errno::ENOTDIR));
    let f = t.open("/tmp/g/c", o::RDONLY, 0).unwrap();
    assert_eq!(t.sys(nr::GETDENTS64, &[f, b, 64]), Err(Errno::ENOTDIR));
    assert_eq!(t.sys(nr::GETDENTS64, &[fd, 8, 64]).map(|_| ()), Ok(()), "at the end: nothing to copy");
    assert_eq!(t.sys(nr::LSEEK, &[fd, 0, 0]), Ok(0));
    assert_eq!(t.sys(nr::GETDENTS64, &[fd, 8, 64]), Err(Errno::EFAULT));
    // The old getdents.
    assert_eq!(t.sys(nr::GETDENTS, &[fd, b, 128]), Ok(72));
}

#[test]
fn cwd() {
    let mut t = T::new();
    let b = t.alloc(64);
    assert_eq!(t.sys(nr::GETCWD, &[b, 64]), Ok(2));
    assert_eq!(t.env.get(b, 2), b"/\0");
    t.path_call(nr::MKDIR, "/tmp/w").unwrap();
    let p = t.cstr("tmp/w");
    assert_eq!(t.sys(nr::CHDIR, &[p]), Ok(0));
    assert_eq!(t.sys(nr::GETCWD, &[b, 64]), Ok(7));
    assert_eq!(t.env.get(b, 7), b"/tmp/w\0");
    assert_eq!(t.sys(nr::GETCWD, &[b, 6]), Err(Errno::ERANGE));
    assert_eq!(t.sys(nr::GETCWD, &[8, 64]), Err(Errno::EFAULT));
    let f = t.open("rel", o::CREAT | o::WRONLY, 0o644).unwrap();
    assert!(t.stat("/tmp/w/rel", nr::STAT).is_ok(), "relative to the working directory");
    assert_eq!(t.sys(nr::FCHDIR, &[f]), Err(Errno::ENOTDIR));
    let root = t.open("/", o::RDONLY, 0).unwrap();
    // The working directory removed: getcwd says so.
    assert_eq!(t.path_call(nr::UNLINK, "rel"), Ok(0));
    assert_eq!(t.path_call(nr::RMDIR, "/tmp/w"), Ok(0));
    assert_eq!(t.sys(nr::GETCWD, &[b, 64]), Err(Errno::ENOENT));
    assert_eq!(t.open("x", o::CREAT | o::WRONLY, 0o644), Err(Errno::ENOENT));
    assert_eq!(t.sys(nr::FCHDIR, &[root]), Ok(0));
    assert_eq!(t.sys(nr::GETCWD, &[b, 64]), Ok(2));
    // *at() with a directory descriptor.
    let tmp = t.open("/tmp", o::RDONLY | o::DIRECTORY, 0).unwrap();
    let p = t.cstr("at");
    assert_eq!(t.sys(nr::MKDIRAT, &[tmp, p, 0o700]), Ok(0));
    assert_eq!(t.stat("/tmp/at", nr::STAT).unwrap().mode, S_IFDIR | 0o700);
    assert_eq!(t.sys(nr::MKDIRAT, &[f, p, 0o700]), Err(Errno::ENOTDIR));
    assert_eq!(t.sys(nr::MKDIRAT, &[77, p, 0o700]), Err(Errno::EBADF));
}

#[test]
fn links_and_renames() {
    let mut t = T::new();
    let fd = t.open("/tmp/a", o::CREAT | o::WRONLY, 0o644).unwrap();
    t.write_str(fd, "data").unwrap();
    let (a, b) = (t.cstr("/tmp/a"), t.cstr("/tmp/b"));
    assert_eq!(t.sys(nr::LINK, &[a, b]), Ok(0));
    assert_eq!(t.stat("/tmp/a", nr::STAT).unwrap().nlink, 2);
    assert_eq!(t.sys(nr::LINK, &[a, b]), Err(Errno::EEXIST));
    let tmp = t.cstr("/tmp");
    let c = t.cstr("/tmp/c");
    assert_eq!(t.sys(nr::LINK, &[tmp, c]), Err(Errno::EPERM));
    let target = t.cstr("a");
    let l = t.cstr("/tmp/l");
    assert_eq!(t.sys(nr::SYMLINK, &[target, l]), Ok(0));
    assert_eq!(t.sys(nr::SYMLINK, &[target, l]), Err(Errno::EEXIST));
    assert_eq!(t.stat("/tmp/l", nr::LSTAT).unwrap().mode, S_IFLNK | 0o777);
    assert_eq!(t.stat("/tmp/l", nr::LSTAT).unwrap().size, 1);
    assert_eq!(t.stat("/tmp/l", nr::STAT).unwrap().size, 4);
    let buf = t.alloc(16);
    assert_eq!(t.sys(nr::READLINK, &[l, buf, 16]), Ok(1));
    assert_eq!(t.env.get(buf, 1), b"a");
    assert_eq!(t.sys(nr::READLINK, &[a, buf, 16]), Err(Errno::EINVAL));
    assert_eq!(t.sys(nr::READLINK, &[l, buf, 0]), Err(Errno::EINVAL));
    assert_eq!(t.open("/tmp/l", o::RDONLY | o::NOFOLLOW, 0), Err(Errno::ELOOP));
    let path_fd = t.open("/tmp/l", o::PATH | o::NOFOLLOW, 0).unwrap();
    let empty = t.cstr("");
    assert_eq!(t.sys(nr::READLINKAT, &[path_fd, empty, buf, 16]), Ok(1));
    assert_eq!(t.read_vec(path_fd, 1), Err(Errno::EBADF));
    // A dangling symbolic link: O_CREAT makes its target.
    let (nt, dl) = (t.cstr("made"), t.cstr("/tmp/dl"));
    t.sys(nr::SYMLINK, &[nt, dl]).unwrap();
    assert_eq!(t.open("/tmp/dl", o::CREAT | o::EXCL | o::WRONLY, 0o644), Err(Errno::EEXIST));
    assert!(t.open("/tmp/dl", o::CREAT | o::WRONLY, 0o644).is_ok());
    assert!(t.stat("/tmp/made", nr::STAT).is_ok());
    // Renames.
    let d = t.cstr("/tmp/d");
    assert_eq!(t.sys(nr::RENAME, &[a, d]), Ok(0));
    assert_eq!(t.stat("/tmp/a", nr::STAT).map(|_| ()), Err(Errno::ENOENT));
    assert_eq!(t.sys(nr::RENAME, &[d, b]), Ok(0), "onto another link of itself: nothing happens");
    assert!(t.stat("/tmp/d", nr::STAT).is_ok());
    let dot = t.cstr("/tmp/.");
    assert_eq!(t.sys(nr::RENAME, &[dot, d]), Err(Errno::EBUSY));
    let (x, xs) = (t.cstr("/tmp/x"), t.cstr("/tmp/x/sub"));
    t.sys(nr::MKDIR, &[x, 0o755]).unwrap();
    assert_eq!(t.sys(nr::RENAME, &[x, xs]), Err(Errno::EINVAL));
    assert_eq!(t.sys(nr::RENAME, &[d, x]), Err(Errno::EISDIR));
    assert_eq!(t.sys(nr::RENAME, &[x, d]), Err(Errno::ENOTDIR));
    assert_eq!(t.sys(nr::RENAMEAT2, &[AT_FDCWD_REG, d, AT_FDCWD_REG, b, 1]), Err(Errno::EEXIST));
    assert_eq!(t.sys(nr::RENAMEAT2, &[AT_FDCWD_REG, d, AT_FDCWD_REG, b, 3]), Err(Errno::EINVAL));
    assert_eq!(t.sys(nr::RENAMEAT2, &[AT_FDCWD_REG, d, AT_FDCWD_REG, x, 2]), Ok(0));
    assert_eq!(t.stat("/tmp/d", nr::STAT).unwrap().mode & S_IFMT, S_IFDIR);
}

#[test]
fn access_and_modes() {
    let mut t = T::new();
    let fd = t.open("/tmp/m", o::CREAT | o::WRONLY, 0o644).unwrap();
    let p = t.cstr("/tmp/m");
    assert_eq!(t.sys(nr::ACCESS, &[p, 4 | 2]), Ok(0));
    assert_eq!(t.sys(nr::ACCESS, &[p, 1]), Err(Errno::EACCES));
    assert_eq!(t.sys(nr::ACCESS, &[p, 8]), Err(Errno::EINVAL));
    assert_eq!(t.sys(nr::CHMOD, &[p, 0o4755]), Ok(0));
    assert_eq!(t.sys(nr::ACCESS, &[p, 1]), Ok(0));
    assert_eq!(t.stat("/tmp/m", nr::STAT).unwrap().mode, S_IFREG | 0o4755);
    assert_eq!(t.sys(nr::FCHMOD, &[fd, 0o600]), Ok(0));
    assert_eq!(t.stat("/tmp/m", nr::STAT).unwrap().mode, S_IFREG | 0o600);
    let tmp = t.cstr("/tmp");
    assert_eq!(t.sys(nr::ACCESS, &[tmp, 1]), Ok(0));
    let nope = t.cstr("/tmp/nope");
    assert_eq!(t.sys(nr::ACCESS, &[nope, 0]), Err(Errno::ENOENT));
    assert_eq!(t.sys(nr::UMASK, &[0o077]), Ok(0o022));
    assert_eq!(t.sys(nr::UMASK, &[0o022]), Ok(0o077));
    let q = t.cstr("/tmp/q");
    let np = t.cstr("q");
    let tmpfd = t.open("/tmp", o::RDONLY, 0).unwrap();
    let _ = q;
    assert_eq!(t.sys(nr::FACCESSAT2, &[tmpfd, np, 0, AT_SYMLINK_NOFOLLOW.into()]), Err(Errno::ENOENT));
    assert_eq!(t.sys(nr::CHOWN, &[p, 5, u32::MAX.into()]), Ok(0));
    assert_eq!(t.stat("/tmp/m", nr::STAT).unwrap().uid, 5);
}

#[test]
fn utimensat_checks() {
    let mut t = T::new();
    let p = t.cstr("/tmp");
    assert_eq!(t.sys(nr::UTIMENSAT, &[AT_FDCWD_REG, p, 0, 0]), Ok(0));
    let nope = t.cstr("/tmp/nope");
    assert_eq!(t.sys(nr::UTIMENSAT, &[AT_FDCWD_REG, nope, 0, 0]), Err(Errno::ENOENT));
    let bad = t.times(&[(1, 5), (2, 1_000_000_000)]);
    assert_eq!(t.sys(nr::UTIMENSAT, &[AT_FDCWD_REG, p, bad, 0]), Err(Errno::EINVAL));
    assert_eq!(t.sys(nr::UTIMENSAT, &[AT_FDCWD_REG, p, 8, 0]), Err(Errno::EFAULT));
    assert_eq!(t.sys(nr::UTIMENSAT, &[AT_FDCWD_REG, p, bad, 0x1234]), Err(Errno::EINVAL));
    assert_eq!(t.sys(nr::UTIMENSAT, &[1, 0, 0, 0]), Ok(0), "futimens");
    assert_eq!(t.sys(nr::UTIMENSAT, &[1, 0, 0, AT_SYMLINK_NOFOLLOW.into()]), Err(Errno::EINVAL), "futimens takes no flags");
    assert_eq!(t.sys(nr::UTIMENSAT, &[77, 0, 0, 0]), Err(Errno::EBADF));
    let path_fd = t.open("/tmp", o::PATH, 0).unwrap();
    assert_eq!(t.sys(nr::UTIMENSAT, &[path_fd, 0, 0, 0]), Err(Errno::EBADF), "not on an O_PATH handle");
}

#[test]
fn file_times() {
    let sec = |s: i64| Timespec { sec: s, nsec: 0 };
    let mut t = T::new();
    t.env.clock_ns = 5_000_000_000;
    let fd = t.open("/tmp/f", o::CREAT | o::RDWR, 0o644).unwrap();
    let st = t.stat("/tmp/f", nr::STAT).unwrap();
    assert_eq!((st.atime, st.mtime, st.ctime), (sec(5), sec(5), sec(5)));
    assert_eq!(t.stat("/tmp", nr::STAT).unwrap().mtime, sec(5), "the directory got an entry");
    t.env.clock_ns = 6_000_000_000;
    t.write_str(fd, "abc").unwrap();
    let st = t.stat("/tmp/f", nr::STAT).unwrap();
    assert_eq!((st.atime, st.mtime, st.ctime), (sec(5), sec(6), sec(6)));
    // relatime: a read moves atime while it is not after mtime, then not
    // again until a day has passed.
    t.env.clock_ns = 7_000_000_000;
    t.sys(nr::LSEEK, &[fd, 0, 0]).unwrap();
    t.read_vec(fd, 1).unwrap();
    assert_eq!(t.stat("/tmp/f", nr::STAT).unwrap().atime, sec(7));
    t.env.clock_ns = 8_000_000_000;
    t.read_vec(fd, 1).unwrap();
    assert_eq!(t.stat("/tmp/f", nr::STAT).unwrap().atime, sec(7));
    t.env.clock_ns = 7_000_000_000 + 86_400_000_000_000;
    t.read_vec(fd, 1).unwrap();
    assert_eq!(t.stat("/tmp/f", nr::STAT).unwrap().atime, sec(7 + 86_400));
    // Attributes move only ctime.
    t.env.clock_ns = 9_000_000_000;
    let f = t.cstr("/tmp/f");
    t.sys(nr::CHMOD, &[f, 0o600]).unwrap();
    let st = t.stat("/tmp/f", nr::STAT).unwrap();
    assert_eq!((st.mtime, st.ctime), (sec(6), sec(9)));
    // utimensat: exact times, UTIME_OMIT and UTIME_NOW.
    t.env.clock_ns = 10_500_000_000;
    let set = t.times(&[(1_000_000_000, 123_456_789), (-5, 987_654_321)]);
    assert_eq!(t.sys(nr::UTIMENSAT, &[AT_FDCWD_REG, f, set, 0]), Ok(0));
    let st = t.stat("/tmp/f", nr::STAT).unwrap();
    assert_eq!((st.atime, st.mtime, st.ctime), (Timespec { sec: 1_000_000_000, nsec: 123_456_789 }, Timespec { sec: -5, nsec: 987_654_321 }, Timespec { sec: 10, nsec: 500_000_000 }));
    t.env.clock_ns = 11_000_000_000;
    let omit_now = t.times(&[(0, (1 << 30) - 2), (0, (1 << 30) - 1)]);
    assert_eq!(t.sys(nr::UTIMENSAT, &[AT_FDCWD_REG, f, omit_now, 0]), Ok(0));
    let st = t.stat("/tmp/f", nr::STAT).unwrap();
    assert_eq!((st.atime.sec, st.mtime, st.ctime), (1_000_000_000, sec(11), sec(11)));
    t.env.clock_ns = 12_000_000_000;
    let omit = t.times(&[(0, (1 << 30) - 2), (0, (1 << 30) - 2)]);
    assert_eq!(t.sys(nr::UTIMENSAT, &[AT_FDCWD_REG, f, omit, 0]), Ok(0));
    assert_eq!(t.stat("/tmp/f", nr::STAT).unwrap().ctime, sec(11), "both omitted: nothing changes");
    assert_eq!(t.sys(nr::UTIMENSAT, &[fd, 0, 0, 0]), Ok(0));
    let st = t.stat("/tmp/f", nr::STAT).unwrap();
    assert_eq!((st.atime, st.mtime, st.ctime), (sec(12), sec(12), sec(12)));
    // truncate moves the times only with the size; ftruncate always.
    t.env.clock_ns = 13_000_000_000;
    t.sys(nr::TRUNCATE, &[f, 3]).unwrap();
    assert_eq!(t.stat("/tmp/f", nr::STAT).unwrap().mtime, sec(12));
    t.sys(nr::FTRUNCATE, &[fd, 3]).unwrap();
    assert_eq!(t.stat("/tmp/f", nr::STAT).unwrap().mtime, sec(13));
    // Names: the directory's mtime and ctime, the file's ctime.
    t.env.clock_ns = 14_000_000_000;
    let g = t.cstr("/tmp/g");
    t.sys(nr::RENAME, &[f, g]).unwrap();
    let (st, dir) = (t.stat("/tmp/g", nr::STAT).unwrap(), t.stat("/tmp", nr::STAT).unwrap());
    assert_eq!((st.mtime, st.ctime, dir.mtime, dir.ctime), (sec(13), sec(14), sec(14), sec(14)));
}

#[test]
fn newfstatat_flags() {
    let mut t = T::new();
    let b = t.alloc(Stat::SIZE);
    let empty = t.cstr("");
    assert_eq!(t.sys(nr::NEWFSTATAT, &[1, empty, b, 0]), Err(Errno::ENOENT));
    assert_eq!(t.sys(nr::NEWFSTATAT, &[1, empty, b, 0x1000]), Ok(0));
    assert_eq!(u32::from_le_bytes(t.env.get(b + 24, 4).try_into().unwrap()), S_IFCHR | 0o600);
    assert_eq!(t.sys(nr::NEWFSTATAT, &[1, 0, b, 0x1000]), Ok(0), "a NULL path with AT_EMPTY_PATH");
    assert_eq!(t.sys(nr::NEWFSTATAT, &[1, empty, b, 0x4]), Err(Errno::EINVAL));
    let rel = t.cstr("tmp");
    assert_eq!(t.sys(nr::NEWFSTATAT, &[1, rel, b, 0]), Err(Errno::ENOTDIR), "dirfd not a directory");
    let abs = t.cstr("/tmp");
    assert_eq!(t.sys(nr::NEWFSTATAT, &[1, abs, b, 0]), Ok(0), "an absolute path ignores dirfd");
}

#[test]
fn descriptor_limit() {
    let mut t = T::new();
    t.sys(nr::DUP2, &[0, 40]).unwrap();
    assert_eq!(t.s.call(&mut t.env, proto::NOFILE, [1, 8, 0, 0, 0, 0]), Ok(0));
    for fd in 3..8 {
        assert_eq!(t.sys(nr::DUP, &[0]), Ok(fd));
    }
    assert_eq!(t.sys(nr::DUP, &[0]), Err(Errno::EMFILE));
    assert_eq!(t.open("/dev/null", o::RDONLY, 0), Err(Errno::EMFILE));
    assert_eq!(t.sys(nr::FCNTL, &[0, 0, 8]), Err(Errno::EINVAL), "F_DUPFD at the limit");
    assert_eq!(t.sys(nr::DUP2, &[0, 8]), Err(Errno::EBADF));
    assert_eq!(t.sys(nr::DUP3, &[0, 8, 0]), Err(Errno::EBADF));
    assert_eq!(t.sys(nr::DUP2, &[40, 40]), Ok(40), "the same descriptor is only checked");
    assert_eq!(t.sys(nr::FCNTL, &[40, 1]), Ok(0), "one above the limit still works");
    // A child inherits the limit.
    t.s.call(&mut t.env, proto::FORK, [1, 2, 0, 0, 0, 0]).unwrap();
    t.pid = 2;
    assert_eq!(t.sys(nr::DUP2, &[0, 8]), Err(Errno::EBADF));
    assert_eq!(t.s.call(&mut t.env, proto::NOFILE, [2, 64, 0, 0, 0, 0]), Ok(0));
    assert_eq!(t.sys(nr::DUP2, &[0, 63]), Ok(63));
}

#[test]
fn process_protocol() {
    let mut t = T::new();
    let fd = t.open("/tmp/p", o::CREAT | o::RDWR, 0o644).unwrap();
    t.sys(nr::FCNTL, &[fd, 2, 1]).unwrap();
    t.path_call(nr::MKDIR, "/tmp/cwd").unwrap();
    let p = t.cstr("/tmp/cwd");
    t.sys(nr::CHDIR, &[p]).unwrap();
    assert_eq!(t.s.call(&mut t.env, proto::FORK, [1, 2, 0, 0, 0, 0]), Ok(0));
    t.pid = 2;
    assert_eq!(t.write_str(fd, "from the child"), Ok(14));
    let b = t.alloc(64);
    assert_eq!(t.sys(nr::GETCWD, &[b, 64]), Ok(9));
    assert_eq!(t.s.call(&mut t.env, proto::EXEC, [2, 0, 0, 0, 0, 0]), Ok(0));
    assert_eq!(t.write_str(fd, "x"), Err(Errno::EBADF), "close-on-exec");
    t.pid = 1;
    assert_eq!(t.sys(nr::LSEEK, &[fd, 0, 1]), Ok(14), "the offset is shared");
    assert_eq!(t.s.call(&mut t.env, proto::EXIT, [2, 0, 0, 0, 0, 0]), Ok(0));
    assert!(!t.s.knows(2));
    assert_eq!(t.s.call(&mut t.env, 99, [0; 6]), Err(Errno::ENOSYS));
}

#[test]
fn read_exec() {
    let mut t = T::new();
    let fd = t.open("/tmp/prog", o::CREAT | o::WRONLY, 0o755).unwrap();
    t.write_str(fd, "\x7fELF....").unwrap();
    let path = b"prog";
    let path_at = t.bytes(path);
    let buf = t.alloc(4);
    let p = t.cstr("/tmp");
    t.sys(nr::CHDIR, &[p]).unwrap();
    let req = |pid, path: u64, len: usize, buf: u64, buf_len| ExecRead { pid, path, path_len: len as u64, buf, buf_len }.to_bytes();
    let r = req(1, path_at, path.len(), buf, 4);
    let r = t.bytes(&r);
    assert_eq!(t.s.call(&mut t.env, proto::READ_EXEC, [r, 0, 0, 0, 0, 0]), Ok(8));
    assert_eq!(t.env.get(buf, 4), b"\x7fELF");
    // Not executable, a directory, missing, a bad request.
    t.sys(nr::FCHMOD, &[fd, 0o644]).unwrap();
    assert_eq!(t.s.call(&mut t.env, proto::READ_EXEC, [r, 0, 0, 0, 0, 0]), Err(Errno::EACCES));
    let dir = t.bytes(b"/tmp");
    let r = req(1, dir, 4, buf, 4);
    let r = t.bytes(&r);
    assert_eq!(t.s.call(&mut t.env, proto::READ_EXEC, [r, 0, 0, 0, 0, 0]), Err(Errno::EACCES));
    let nope = t.bytes(b"/nope");
    let r = req(1, nope, 5, buf, 4);
    let r = t.bytes(&r);
    assert_eq!(t.s.call(&mut t.env, proto::READ_EXEC, [r, 0, 0, 0, 0, 0]), Err(Errno::ENOENT));
    assert_eq!(t.s.call(&mut t.env, proto::READ_EXEC, [8, 0, 0, 0, 0, 0]), Err(Errno::EFAULT));
}

#[test]
fn map_info_and_shared_files() {
    use lstar_abi::fs::map_info as mi;
    let mut t = T::new();
    let rw = t.open("/tmp/f", o::CREAT | o::RDWR, 0o644).unwrap();
    t.write_str(rw, "file contents").unwrap();
    let ro = t.open("/tmp/f", o::RDONLY, 0).unwrap();
    let wo = t.open("/tmp/f", o::WRONLY, 0).unwrap();
    let path = t.open("/tmp/f", o::PATH, 0).unwrap();
    let dir = t.open("/tmp", o::RDONLY, 0).unwrap();
    let zero = t.open("/dev/zero", o::RDONLY, 0).unwrap();
    let null = t.open("/dev/null", o::RDWR, 0).unwrap();
    let info = |t: &mut T, fd: u64| t.s.call(&mut t.env, proto::MAP_INFO, [1, fd, 0, 0, 0, 0]);
    assert_eq!(info(&mut t, rw), Ok(mi::KIND_FILE | mi::READ | mi::WRITE));
    assert_eq!(info(&mut t, ro), Ok(mi::KIND_FILE | mi::READ));
    assert_eq!(info(&mut t, wo), Ok(mi::KIND_FILE | mi::WRITE));
    assert_eq!(info(&mut t, dir), Ok(mi::KIND_NONE | mi::READ));
    assert_eq!(info(&mut t, zero), Ok(mi::KIND_ZERO | mi::READ));
    assert_eq!(info(&mut t, null), Ok(mi::KIND_NONE | mi::READ | mi::WRITE));
    assert_eq!(info(&mut t, path), Err(Errno::EBADF));
    assert_eq!(info(&mut t, 99), Err(Errno::EBADF));

    // MAP_SHARED checks the descriptor, then moves the file to shared
    // pages (granting needs the kernel, which the fake has not).
    let req = |fd: u64, prot: u64| proto::FdMap { pid: 1, fd, offset: 0, space: 5, addr: 0x1000_0000, len: 0x2000, prot }.to_bytes();
    let r = t.bytes(&req(ro, 3));
    assert_eq!(t.s.call(&mut t.env, proto::MAP_SHARED, [r, 0, 0, 0, 0, 0]), Err(Errno::EACCES));
    let r = t.bytes(&req(wo, 2));
    assert_eq!(t.s.call(&mut t.env, proto::MAP_SHARED, [r, 0, 0, 0, 0, 0]), Err(Errno::EACCES));
    let r = t.bytes(&req(dir, 1));
    assert_eq!(t.s.call(&mut t.env, proto::MAP_SHARED, [r, 0, 0, 0, 0, 0]), Err(Errno::ENODEV));
    let r = t.bytes(&req(rw, 3));
    assert_eq!(t.s.call(&mut t.env, proto::MAP_SHARED, [r, 0, 0, 0, 0, 0]), Err(Errno::ENODEV));

    // The file in shared pages reads, writes, grows and shrinks as before.
    t.sys(nr::LSEEK, &[rw, 0, 2]).unwrap();
    t.write_str(rw, ", more").unwrap();
    assert_eq!(t.read_vec(ro, 64).unwrap(), b"file contents, more");
    t.sys(nr::FTRUNCATE, &[rw, 4]).unwrap();
    t.sys(nr::FTRUNCATE, &[rw, 6]).unwrap();
    t.sys(nr::LSEEK, &[ro, 0, 0]).unwrap();
    assert_eq!(t.read_vec(ro, 64).unwrap(), b"file\0\0");
}

#[test]
fn unknown_syscall() {
    let mut t = T::new();
    assert_eq!(t.sys(nr::GETPID, &[]), Err(Errno::ENOSYS));
}

#[test]
fn console_calls_go_to_the_console_server() {
    let mut t = T::new();
    t.env.console_server = true;
    let buf = t.alloc(16);
    let iov = t.bytes(&[0; 16]);
    for (nr, args) in [
        (nr::READ, [0, buf, 16]),
        (nr::WRITE, [1, buf, 16]),
        (nr::READV, [0, iov, 1]),
        (nr::WRITEV, [2, iov, 1]),
        (nr::IOCTL, [0, 0x5401, buf]),
    ] {
        assert_eq!(t.sys(nr, &args), Ok(0), "syscall {nr}: not answered here");
    }
    let rdwr = o::RDWR | o::LARGEFILE;
    assert_eq!(t.env.forwarded, [rdwr; 5], "each with its description's status flags");
    // What the file server keeps: descriptor flags, the access mode, seeking.
    let on = t.bytes(&1i32.to_le_bytes());
    assert_eq!(t.sys(nr::IOCTL, &[0, 0x5421, on]), Ok(0), "FIONBIO");
    assert_eq!(t.sys(nr::READ, &[0, buf, 16]), Ok(0));
    assert_eq!(t.env.forwarded[5], rdwr | o::NONBLOCK);
    assert_eq!(t.sys(nr::PREAD64, &[0, buf, 1, 0]), Err(Errno::ESPIPE));
    let wronly = t.open("/dev/tty", o::WRONLY, 0).unwrap();
    assert_eq!(t.sys(nr::READ, &[wronly, buf, 1]), Err(Errno::EBADF));
    assert_eq!(t.sys(nr::WRITE, &[wronly, buf, 1]), Ok(0));
    assert_eq!(t.env.forwarded.len(), 7);
    // Other files stay here.
    let null = t.open("/dev/null", o::RDWR, 0).unwrap();
    assert_eq!(t.write_str(null, "x"), Ok(1));
    assert_eq!(t.env.forwarded.len(), 7);
    assert!(t.env.console.is_empty());
}
