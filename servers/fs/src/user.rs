//! Reaching the caller: the [`Env`] the handlers are given, and copies to
//! and from the caller's memory with Linux's rules. A pointer from a
//! program is an allegation: a copy that fails is `EFAULT`, and a read or
//! write that faults part way reports the bytes moved before the fault.

use alloc::vec::Vec;
use lstar_abi::errno::Errno;

use crate::linux::PATH_MAX;

/// What a handler may touch outside the server, for one message.
pub trait Env {
    /// Copies `buf.len()` bytes from the caller's `addr`; fails if any of
    /// them is not readable.
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Errno>;
    /// Copies `data` to the caller's `addr`; fails if any of it is not
    /// writable.
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), Errno>;
    /// Writes program output to the console.
    fn console_write(&mut self, bytes: &[u8]) -> Result<(), Errno>;
    /// Fills `buf` with random bytes (/dev/urandom).
    fn random(&mut self, buf: &mut [u8]);
    /// Hands the syscall being handled (a terminal's read, write, readv,
    /// writev or ioctl) to the console server with the open file
    /// description's status flags; the console server then answers the
    /// caller, and this server must not. False when there is no console
    /// server: the call is served here.
    fn forward_console(&mut self, _status_flags: u32) -> bool {
        false
    }
    /// Asks the console server which poll `events` hold now, arming its
    /// one-shot notification `notify_bit` for when input arrives
    /// (lstar_abi::console::POLL). `None` without a console server.
    fn console_poll(&mut self, _events: u16, _notify_bit: u64) -> Option<u16> {
        None
    }
    /// Clock `id` (lstar_abi::native::clock) in ns, for /proc; 0 without one.
    fn clock(&mut self, _id: u64) -> u64 {
        0
    }
    /// Physical memory in pages, (free, total), for /proc/meminfo.
    fn mem_info(&mut self) -> Option<(u64, u64)> {
        None
    }
    /// Grants `len` bytes of `mem`'s pages from `offset` to address space
    /// `space` (one the calling server created) at `addr` with `prot`
    /// (lstar_abi::fs::MAP_SHARED). `ENODEV` where pages cannot be shared.
    fn grant(&mut self, _mem: &libsys::shared::SharedMem, _space: u64, _addr: u64, _offset: usize, _len: usize, _prot: u64) -> Result<(), Errno> {
        Err(Errno::ENODEV)
    }
}

const PAGE: u64 = 4096;

/// The end of the user half of an address space (Linux's TASK_SIZE_MAX
/// with 4-level paging): no user range reaches past it.
pub const USER_END: u64 = (1 << 47) - PAGE;

/// Linux's access_ok: whether `[addr, addr + len)` lies in the user half,
/// whatever is mapped there. read(2) and its kin check the whole count
/// this way before they move a byte (`EFAULT` if not), then cap it, so a
/// count far beyond the data is fine only while the range stays in user
/// memory.
pub fn access_ok(addr: u64, len: u64) -> Result<(), Errno> {
    match addr.checked_add(len) {
        Some(end) if end <= USER_END => Ok(()),
        _ => Err(Errno::EFAULT),
    }
}

/// `[addr, addr + len)` cut at page boundaries: the pieces that are each
/// wholly mapped or wholly not.
pub fn pieces(addr: u64, len: u64) -> impl Iterator<Item = (u64, usize)> {
    let end = addr.saturating_add(len);
    let mut at = addr;
    core::iter::from_fn(move || {
        if at >= end {
            return None;
        }
        let n = (PAGE - at % PAGE).min(end - at);
        let piece = (at, n as usize);
        at += n;
        Some(piece)
    })
}

/// Reads a NUL-terminated path (getname): `EFAULT` if it is not readable,
/// `ENAMETOOLONG` if no NUL comes within [`PATH_MAX`] bytes.
pub fn read_path(env: &mut dyn Env, addr: u64) -> Result<Vec<u8>, Errno> {
    // Most paths are short: the first read takes a few bytes, not the
    // rest of the page, and the later ones the rest of a page each. No
    // read crosses a page, which is mapped as a whole or not at all.
    const FIRST: usize = 128;
    let mut path = Vec::new();
    let mut at = addr;
    let end = addr.saturating_add(PATH_MAX as u64);
    while at < end {
        let limit = if path.is_empty() { FIRST } else { PAGE as usize };
        let n = (PAGE - at % PAGE).min(end - at) as usize;
        let n = n.min(limit);
        let start = path.len();
        path.resize(start + n, 0);
        env.read(at, &mut path[start..]).map_err(|_| Errno::EFAULT)?;
        if let Some(nul) = path[start..].iter().position(|&b| b == 0) {
            path.truncate(start + nul);
            return Ok(path);
        }
        at += n as u64;
    }
    Err(Errno::ENAMETOOLONG)
}

/// Copies a whole structure from the caller, or `EFAULT`.
pub fn read_exact(env: &mut dyn Env, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
    env.read(addr, buf).map_err(|_| Errno::EFAULT)
}

/// Copies a whole structure to the caller, or `EFAULT`.
pub fn write_exact(env: &mut dyn Env, addr: u64, data: &[u8]) -> Result<(), Errno> {
    env.write(addr, data).map_err(|_| Errno::EFAULT)
}

/// Copies `data` to the caller as read(2) does: the bytes before the
/// first unwritable page, or `EFAULT` if that is none.
pub fn copy_out(env: &mut dyn Env, addr: u64, data: &[u8]) -> Result<u64, Errno> {
    if data.is_empty() || env.write(addr, data).is_ok() {
        return Ok(data.len() as u64);
    }
    let mut done = 0;
    for (at, n) in pieces(addr, data.len() as u64) {
        if env.write(at, &data[done..done + n]).is_err() {
            break;
        }
        done += n;
    }
    partial(done)
}

/// Fills `buf` from the caller as write(2) does: the bytes before the
/// first unreadable page, or `EFAULT` if that is none. Bytes of `buf` past
/// the count returned are left as they were.
pub fn copy_in(env: &mut dyn Env, addr: u64, buf: &mut [u8]) -> Result<u64, Errno> {
    // One copy when it all reads (the usual case); a failed one has filled
    // at most the readable prefix, which the pieces then find.
    if buf.is_empty() || env.read(addr, buf).is_ok() {
        return Ok(buf.len() as u64);
    }
    let mut done = 0;
    for (at, n) in pieces(addr, buf.len() as u64) {
        if env.read(at, &mut buf[done..done + n]).is_err() {
            break;
        }
        done += n;
    }
    partial(done)
}

/// A page of zeros, for /dev/zero.
static ZEROS: [u8; PAGE as usize] = [0; PAGE as usize];

/// Sends `len` zero bytes to the caller, a page at a time (/dev/zero's
/// reads, with nothing to fill).
pub fn zero_out(env: &mut dyn Env, addr: u64, len: u64) -> Result<u64, Errno> {
    let mut done = 0;
    for (at, n) in pieces(addr, len) {
        if env.write(at, &ZEROS[..n]).is_err() {
            break;
        }
        done += n;
    }
    partial(done)
}

/// Sends `len` bytes made by `fill` to the caller, a page at a time (for
/// devices that make their bytes: /dev/zero, /dev/urandom).
pub fn fill_out(env: &mut dyn Env, addr: u64, len: u64, mut fill: impl FnMut(&mut dyn Env, &mut [u8])) -> Result<u64, Errno> {
    let mut chunk = [0u8; PAGE as usize];
    let mut done = 0;
    for (at, n) in pieces(addr, len) {
        fill(env, &mut chunk[..n]);
        if env.write(at, &chunk[..n]).is_err() {
            break;
        }
        done += n;
    }
    partial(done)
}

/// Takes `len` bytes from the caller a page at a time and hands each
/// piece to `sink` (the console).
pub fn drain_in(env: &mut dyn Env, addr: u64, len: u64, mut sink: impl FnMut(&mut dyn Env, &[u8]) -> Result<(), Errno>) -> Result<u64, Errno> {
    let mut chunk = [0u8; PAGE as usize];
    let mut done = 0;
    for (at, n) in pieces(addr, len) {
        if env.read(at, &mut chunk[..n]).is_err() {
            break;
        }
        sink(env, &chunk[..n])?;
        done += n;
    }
    partial(done)
}

fn partial(done: usize) -> Result<u64, Errno> {
    if done == 0 {
        Err(Errno::EFAULT)
    } else {
        Ok(done as u64)
    }
}

/// A caller's memory for tests: one mapped range; everything else faults.
#[cfg(test)]
pub mod fake {
    use super::*;

    pub struct FakeEnv {
        pub base: u64,
        pub mem: Vec<u8>,
        pub console: Vec<u8>,
        /// Whether a console server takes terminal calls.
        pub console_server: bool,
        /// The status flags of each call handed to it.
        pub forwarded: Vec<u32>,
        /// What every clock reads, in ns.
        pub clock_ns: u64,
        /// Physical memory in pages, (free, total).
        pub pages: Option<(u64, u64)>,
    }

    impl FakeEnv {
        pub fn new(base: u64, size: usize) -> FakeEnv {
            FakeEnv { base, mem: alloc::vec![0; size], console: Vec::new(), console_server: false, forwarded: Vec::new(), clock_ns: 0, pages: None }
        }

        fn range(&self, addr: u64, len: usize) -> Result<core::ops::Range<usize>, Errno> {
            let start = addr.checked_sub(self.base).ok_or(Errno::EFAULT)? as usize;
            let end = start.checked_add(len).ok_or(Errno::EFAULT)?;
            if end > self.mem.len() {
                return Err(Errno::EFAULT);
            }
            Ok(start..end)
        }

        /// Places `data` at `addr` and returns `addr`.
        pub fn put(&mut self, addr: u64, data: &[u8]) -> u64 {
            let r = self.range(addr, data.len()).expect("inside the fake memory");
            self.mem[r].copy_from_slice(data);
            addr
        }

        pub fn get(&self, addr: u64, len: usize) -> &[u8] {
            &self.mem[self.range(addr, len).expect("inside the fake memory")]
        }
    }

    impl Env for FakeEnv {
        fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
            let r = self.range(addr, buf.len())?;
            buf.copy_from_slice(&self.mem[r]);
            Ok(())
        }

        fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), Errno> {
            let r = self.range(addr, data.len())?;
            self.mem[r].copy_from_slice(data);
            Ok(())
        }

        fn console_write(&mut self, bytes: &[u8]) -> Result<(), Errno> {
            self.console.extend_from_slice(bytes);
            Ok(())
        }

        fn random(&mut self, buf: &mut [u8]) {
            buf.fill(0x5a);
        }

        fn forward_console(&mut self, status_flags: u32) -> bool {
            if self.console_server {
                self.forwarded.push(status_flags);
            }
            self.console_server
        }

        fn clock(&mut self, _id: u64) -> u64 {
            self.clock_ns
        }

        fn mem_info(&mut self) -> Option<(u64, u64)> {
            self.pages
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::FakeEnv;
    use super::*;

    #[test]
    fn user_ranges() {
        assert_eq!(access_ok(0x1000, 1 << 40), Ok(()));
        assert_eq!(access_ok(USER_END - 1, 1), Ok(()));
        assert_eq!(access_ok(USER_END, 1), Err(Errno::EFAULT));
        assert_eq!(access_ok(0x1000, i64::MAX as u64), Err(Errno::EFAULT));
        assert_eq!(access_ok(u64::MAX, 2), Err(Errno::EFAULT), "wraps");
        assert_eq!(access_ok(USER_END, 0), Ok(()));
    }

    #[test]
    fn pieces_stop_at_pages() {
        let p: Vec<(u64, usize)> = pieces(0x1ff0, 0x2020).collect();
        assert_eq!(p, [(0x1ff0, 0x10), (0x2000, 0x1000), (0x3000, 0x1000), (0x4000, 0x10)]);
        assert_eq!(pieces(0x1000, 0).count(), 0);
    }

    #[test]
    fn paths() {
        let mut env = FakeEnv::new(0x1000, 0x3000);
        let p = env.put(0x1ffe, b"/tmp\0");
        assert_eq!(read_path(&mut env, p).unwrap(), b"/tmp");
        assert_eq!(read_path(&mut env, 8), Err(Errno::EFAULT));
        // A string that runs into unmapped memory before its NUL.
        let p = env.put(0x3ffe, b"ab");
        assert_eq!(read_path(&mut env, p), Err(Errno::EFAULT));
        // No NUL within PATH_MAX bytes.
        env.mem.fill(b'a');
        assert_eq!(read_path(&mut env, 0x1000), Err(Errno::ENAMETOOLONG));
        // 4095 bytes and the NUL fit.
        env.mem[4095] = 0;
        assert_eq!(read_path(&mut env, 0x1000).unwrap().len(), 4095);
    }

    #[test]
    fn partial_copies() {
        let mut env = FakeEnv::new(0x1000, 0x2000);
        // Two pages mapped: a copy starting 16 bytes before the end moves 16.
        assert_eq!(copy_out(&mut env, 0x2ff0, &[7; 100]), Ok(16));
        assert_eq!(copy_out(&mut env, 0x3000, &[7; 100]), Err(Errno::EFAULT));
        assert_eq!(copy_out(&mut env, 0x3000, &[]), Ok(0));
        let mut buf = [1u8; 100];
        assert_eq!(copy_in(&mut env, 0x2ff0, &mut buf), Ok(16));
        assert_eq!(&buf[..16], &[7; 16]);
        assert_eq!(buf[16], 1, "past the fault: untouched");
        let mut out = Vec::new();
        let n = drain_in(&mut env, 0x2ff8, 64, |_, b| {
            out.extend_from_slice(b);
            Ok(())
        });
        assert_eq!(n, Ok(8));
        assert_eq!(out, [7; 8]);
    }
}
