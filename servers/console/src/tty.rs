//! The terminal as programs reach it: the forwarded read, write, readv,
//! writev and ioctl calls, the readers waiting for input, the foreground
//! process group, and the file server's poll requests.
//!
//! A read that cannot finish is not answered: the reader is kept, and
//! answered later ([`Port::reply`]) when input, a VTIME timeout, a
//! cancellation (a signal for the reader) or a hangup ends it. Everything
//! outside this logic — the UART, the kernel's copy and reply calls, the
//! process server — is behind [`Port`], so all of it runs in host tests.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use libsys::nr;
use lstar_abi::errno::Errno;

use crate::ldisc::{Ldisc, SIGWINCH};
use crate::proto;
use crate::termios::{cc::*, lflag::*, Termios, Winsize};

/// The world the terminal reaches.
pub trait Port {
    /// Copies from the memory of `client`, a caller this server has not
    /// answered yet.
    fn copy_from(&mut self, client: u64, addr: u64, buf: &mut [u8]) -> Result<(), Errno>;
    /// Copies to the memory of `client`.
    fn copy_to(&mut self, client: u64, addr: u64, data: &[u8]) -> Result<(), Errno>;
    /// Ends the held call of `client` with `value` (a result or `-errno`).
    fn reply(&mut self, client: u64, value: u64);
    /// Sends bytes down the line.
    fn transmit(&mut self, bytes: &[u8]);
    /// Sends `signal` to process group `pgrp`.
    fn kill_pgrp(&mut self, pgrp: u32, signal: u8);
    /// Raises notification `bits` on the file server.
    fn notify_fs(&mut self, bits: u64);
    /// Monotonic time in ns.
    fn now(&mut self) -> u64;
    /// Asks for [`Console::timer`] at `deadline` (ns), or never.
    fn set_timer(&mut self, deadline: Option<u64>);
}

/// Requests of tty_ioctl(4) (asm-generic/ioctls.h).
pub mod ioctl {
    pub const TCGETS: u32 = 0x5401;
    pub const TCSETS: u32 = 0x5402;
    pub const TCSETSW: u32 = 0x5403;
    pub const TCSETSF: u32 = 0x5404;
    pub const TCSBRK: u32 = 0x5409;
    pub const TCXONC: u32 = 0x540a;
    pub const TCFLSH: u32 = 0x540b;
    pub const TIOCEXCL: u32 = 0x540c;
    pub const TIOCNXCL: u32 = 0x540d;
    pub const TIOCSCTTY: u32 = 0x540e;
    pub const TIOCGPGRP: u32 = 0x540f;
    pub const TIOCSPGRP: u32 = 0x5410;
    pub const TIOCOUTQ: u32 = 0x5411;
    pub const TIOCSTI: u32 = 0x5412;
    pub const TIOCGWINSZ: u32 = 0x5413;
    pub const TIOCSWINSZ: u32 = 0x5414;
    /// Also TIOCINQ.
    pub const FIONREAD: u32 = 0x541b;
    pub const TIOCNOTTY: u32 = 0x5422;
    pub const TIOCSETD: u32 = 0x5423;
    pub const TIOCGETD: u32 = 0x5424;
    pub const TCSBRKP: u32 = 0x5425;
    pub const TIOCSBRK: u32 = 0x5427;
    pub const TIOCCBRK: u32 = 0x5428;
    pub const TIOCGSID: u32 = 0x5429;
    pub const TCGETS2: u32 = 0x802c_542a;
    pub const TCSETS2: u32 = 0x402c_542b;
    pub const TCSETSW2: u32 = 0x402c_542c;
    pub const TCSETSF2: u32 = 0x402c_542d;
    pub const TIOCVHANGUP: u32 = 0x5437;
    pub const TIOCGEXCL: u32 = 0x8004_5440;
}

/// O_NONBLOCK, in the status flags the file server forwards.
pub const O_NONBLOCK: u64 = 0o4000;
/// The most one read or write moves (Linux's MAX_RW_COUNT).
const MAX_RW_COUNT: usize = 0x7fff_f000;
/// readv/writev's limit on iovec entries (UIO_MAXIOV).
const IOV_MAX: u64 = 1024;
/// VTIME counts tenths of a second.
const DECISECOND: u64 = 100_000_000;
/// The session every process belongs to until sessions reach the terminal.
const SESSION: i32 = 1;

/// A read waiting for input.
#[derive(Debug)]
struct Reader {
    client: u64,
    /// Where the bytes go: (address, length) pieces, in order.
    iov: Vec<(u64, u64)>,
    /// Bytes wanted in all.
    count: usize,
    /// Bytes already copied to the reader (non-canonical reads fill up).
    copied: usize,
    /// When a VTIME timer ends the read.
    deadline: Option<u64>,
}

/// How a read stands after taking what input there is.
enum Step {
    Done(u64),
    Wait,
}

/// The console terminal.
#[derive(Debug)]
pub struct Console {
    pub ldisc: Ldisc,
    pub winsize: Winsize,
    /// The foreground process group: the signal characters' target.
    pub fg_pgrp: u32,
    /// TIOCEXCL: kept and reported; opens are the file server's.
    exclusive: bool,
    readers: VecDeque<Reader>,
    /// Notification bits the file server asked for, raised once input
    /// becomes readable.
    poll_bits: u64,
    /// The deadline last given to [`Port::set_timer`].
    timer: Option<u64>,
}

impl Default for Console {
    fn default() -> Self {
        Console::new()
    }
}

impl Console {
    pub fn new() -> Console {
        Console {
            ldisc: Ldisc::default(),
            winsize: Winsize::DEFAULT,
            fg_pgrp: 1,
            exclusive: false,
            readers: VecDeque::new(),
            poll_bits: 0,
            timer: None,
        }
    }

    /// A syscall the file server forwarded for `client`: `args[5]` holds
    /// the open file description's status flags. `None` keeps the call
    /// waiting; it is answered later through [`Port::reply`].
    pub fn syscall(&mut self, port: &mut dyn Port, client: u64, nr: u64, args: [u64; 6]) -> Option<u64> {
        let nonblock = args[5] & O_NONBLOCK != 0;
        let result = match nr {
            nr::READ => return self.read(port, client, alloc::vec![(args[1], args[2])], nonblock),
            nr::READV => match iovecs(port, client, args[1], args[2]) {
                Ok(iov) => return self.read(port, client, iov, nonblock),
                Err(e) => Err(e),
            },
            nr::WRITE => self.write(port, client, &[(args[1], args[2])]),
            nr::WRITEV => iovecs(port, client, args[1], args[2]).and_then(|iov| self.write(port, client, &iov)),
            // Only `int` bits of the request are meaningful, as in Linux.
            nr::IOCTL => self.ioctl(port, client, args[1] as u32, args[2]),
            nr::PREAD64 | nr::PWRITE64 => Err(Errno::ESPIPE),
            nr::VHANGUP => {
                self.hangup(port);
                Ok(0)
            }
            _ => Err(Errno::ENOSYS),
        };
        Some(result.unwrap_or_else(Errno::to_ret))
    }

    /// A request from another server (the file server's poll).
    pub fn call(&mut self, nr: u64, args: [u64; 6]) -> u64 {
        match nr {
            proto::POLL => self.poll(args[0], args[1]),
            _ => Errno::ENOSYS.to_ret(),
        }
    }

    /// Bytes from the line.
    pub fn receive(&mut self, port: &mut dyn Port, bytes: &[u8]) {
        let mut echo = Vec::new();
        let mut signals = Vec::new();
        for &b in bytes {
            if let Some(s) = self.ldisc.receive(b, &mut echo) {
                signals.push(s);
            }
        }
        if !echo.is_empty() {
            port.transmit(&echo);
        }
        for s in signals {
            port.kill_pgrp(self.fg_pgrp, s);
        }
        self.service(port);
    }

    /// The timer asked for with [`Port::set_timer`] fired.
    pub fn timer(&mut self, port: &mut dyn Port) {
        self.timer = None;
        self.service(port);
    }

    /// The kernel asks to end `client`'s call early (a signal for it): a
    /// waiting read returns what it has, or `EINTR`.
    pub fn cancel(&mut self, port: &mut dyn Port, client: u64) {
        if let Some(i) = self.readers.iter().position(|r| r.client == client) {
            let r = self.readers.remove(i).expect("found");
            let value = if r.copied > 0 { r.copied as u64 } else { lstar_abi::errno::RESTARTSYS_RET };
            port.reply(client, value);
            self.rearm(port);
        }
    }

    /// poll(2) for the file server: the events of `events` that hold now
    /// (POLLERR and POLLHUP would be reported whatever was asked; the
    /// console has neither). With `bit` set and no input ready, the file
    /// server's notification `bit` is raised once input becomes readable.
    pub fn poll(&mut self, events: u64, bit: u64) -> u64 {
        let mut ready = proto::POLLOUT | proto::POLLWRNORM;
        if self.ldisc.poll_readable() {
            ready |= proto::POLLIN | proto::POLLRDNORM;
        }
        let wants_input = events & (proto::POLLIN | proto::POLLRDNORM) != 0;
        if bit != 0 && wants_input && ready & proto::POLLIN == 0 {
            self.poll_bits |= bit;
        }
        ready & (events | proto::POLLERR | proto::POLLHUP)
    }

    /// Whether `client` has a read waiting here.
    pub fn is_waiting(&self, client: u64) -> bool {
        self.readers.iter().any(|r| r.client == client)
    }

    fn read(&mut self, port: &mut dyn Port, client: u64, iov: Vec<(u64, u64)>, nonblock: bool) -> Option<u64> {
        let total = iov.iter().map(|&(_, len)| len).fold(0u64, u64::saturating_add);
        let count = usize::try_from(total).unwrap_or(MAX_RW_COUNT).min(MAX_RW_COUNT);
        if count == 0 {
            return Some(0);
        }
        let now = port.now();
        let t = *self.ldisc.termios();
        let mut r = Reader { client, iov, count, copied: 0, deadline: None };
        if !t.l(ICANON) && t.cc[VMIN] == 0 && t.cc[VTIME] > 0 {
            // VMIN 0, VTIME > 0: the timer runs from the call.
            r.deadline = Some(now + u64::from(t.cc[VTIME]) * DECISECOND);
        }
        match self.step(port, &mut r, now) {
            Step::Done(v) => Some(v),
            Step::Wait if nonblock => Some(if r.copied > 0 { r.copied as u64 } else { Errno::EAGAIN.to_ret() }),
            Step::Wait => {
                self.readers.push_back(r);
                self.rearm(port);
                None
            }
        }
    }

    /// Gives reader `r` what input there is; says whether its read is over.
    ///
    /// Canonical mode: one line, or what fits of it. Otherwise termios(3)'s
    /// four cases: VMIN > 0 waits for min(VMIN, count) bytes (with VTIME,
    /// a timer between bytes, started by the first); VMIN 0 with VTIME
    /// returns at the first byte or when the timer ends; both 0 returns at
    /// once.
    fn step(&mut self, port: &mut dyn Port, r: &mut Reader, now: u64) -> Step {
        let t = *self.ldisc.termios();
        if t.l(ICANON) {
            if r.copied > 0 {
                // Filled in non-canonical mode before a switch.
                return Step::Done(r.copied as u64);
            }
            return match self.ldisc.read_line(r.count) {
                Some(line) => Step::Done(match deliver(port, r, &line) {
                    Ok(()) => line.len() as u64,
                    Err(e) => e.to_ret(),
                }),
                None => Step::Wait,
            };
        }
        let (min, time) = (t.cc[VMIN] as usize, u64::from(t.cc[VTIME]));
        let data = self.ldisc.take(r.count - r.copied);
        if !data.is_empty() {
            if let Err(e) = deliver(port, r, &data) {
                return Step::Done(if r.copied > 0 { r.copied as u64 } else { e.to_ret() });
            }
            r.copied += data.len();
            if min > 0 && time > 0 {
                r.deadline = Some(now + time * DECISECOND);
            }
        }
        let needed = if min == 0 { 1 } else { min.min(r.count) };
        let timed_out = r.deadline.is_some_and(|d| now >= d);
        if r.copied >= needed || (min == 0 && time == 0) || timed_out {
            Step::Done(r.copied as u64)
        } else {
            Step::Wait
        }
    }

    /// Lets the waiting readers take new input (in the order they came) and
    /// ends those whose time is up; then tells the file server if it is
    /// waiting for input.
    fn service(&mut self, port: &mut dyn Port) {
        if !self.readers.is_empty() {
            let now = port.now();
            let mut waiting = VecDeque::new();
            while let Some(mut r) = self.readers.pop_front() {
                match self.step(port, &mut r, now) {
                    Step::Done(v) => port.reply(r.client, v),
                    Step::Wait => waiting.push_back(r),
                }
            }
            self.readers = waiting;
        }
        self.rearm(port);
        if self.poll_bits != 0 && self.ldisc.poll_readable() {
            port.notify_fs(core::mem::take(&mut self.poll_bits));
        }
    }

    /// Keeps the port's timer on the earliest reader deadline.
    fn rearm(&mut self, port: &mut dyn Port) {
        let next = self.readers.iter().filter_map(|r| r.deadline).min();
        if next != self.timer {
            self.timer = next;
            port.set_timer(next);
        }
    }

    /// vhangup(2) and TIOCVHANGUP: input is discarded and waiting readers
    /// see end of file. (A real line hangup also sends SIGHUP to the
    /// session; there is no modem line here to lose.)
    fn hangup(&mut self, port: &mut dyn Port) {
        self.ldisc.flush_input();
        while let Some(r) = self.readers.pop_front() {
            port.reply(r.client, r.copied as u64);
        }
        self.rearm(port);
    }

    fn write(&mut self, port: &mut dyn Port, client: u64, iov: &[(u64, u64)]) -> Result<u64, Errno> {
        let mut done: u64 = 0;
        let mut out = Vec::new();
        let mut chunk = [0u8; 4096];
        for &(base, len) in iov {
            let len = len.min(MAX_RW_COUNT as u64 - done);
            let mut at = 0;
            while at < len {
                // Pieces end at page boundaries, so that a bad page stops
                // the write exactly where it starts.
                let addr = base.wrapping_add(at);
                let to_page = 4096 - (addr & 4095);
                let n = (len - at).min(to_page) as usize;
                if let Err(e) = port.copy_from(client, addr, &mut chunk[..n]) {
                    return if done > 0 { Ok(done) } else { Err(e) };
                }
                out.clear();
                self.ldisc.output(&chunk[..n], &mut out);
                port.transmit(&out);
                at += n as u64;
                done += n as u64;
            }
        }
        Ok(done)
    }

    fn ioctl(&mut self, port: &mut dyn Port, client: u64, request: u32, arg: u64) -> Result<u64, Errno> {
        use ioctl::*;
        let put_int = |port: &mut dyn Port, v: i32| port.copy_to(client, arg, &v.to_le_bytes()).map(|()| 0);
        let get_int = |port: &mut dyn Port| {
            let mut b = [0u8; 4];
            port.copy_from(client, arg, &mut b).map(|()| i32::from_le_bytes(b))
        };
        match request {
            TCGETS => port.copy_to(client, arg, &self.ldisc.termios().to_bytes()).map(|()| 0),
            TCGETS2 => port.copy_to(client, arg, &self.ldisc.termios().to_bytes2()).map(|()| 0),
            TCSETS | TCSETSW | TCSETSF | TCSETS2 | TCSETSW2 | TCSETSF2 => {
                let size = if matches!(request, TCSETS | TCSETSW | TCSETSF) { Termios::SIZE } else { Termios::SIZE2 };
                let mut b = [0u8; Termios::SIZE2];
                port.copy_from(client, arg, &mut b[..size])?;
                // Output is written before the call returns, so the
                // "W" forms have nothing to wait for; the "F" forms
                // discard unread input first.
                if matches!(request, TCSETSF | TCSETSF2) {
                    self.ldisc.flush_input();
                }
                self.ldisc.set_termios(Termios::from_bytes(&b));
                self.service(port);
                Ok(0)
            }
            TIOCGWINSZ => port.copy_to(client, arg, &self.winsize.to_bytes()).map(|()| 0),
            TIOCSWINSZ => {
                let mut b = [0u8; Winsize::SIZE];
                port.copy_from(client, arg, &mut b)?;
                let new = Winsize::from_bytes(&b);
                if new != self.winsize {
                    self.winsize = new;
                    port.kill_pgrp(self.fg_pgrp, SIGWINCH);
                }
                Ok(0)
            }
            FIONREAD => put_int(port, i32::try_from(self.ldisc.available()).unwrap_or(i32::MAX)),
            // Output leaves as it is written: nothing is ever queued.
            TIOCOUTQ => put_int(port, 0),
            TCFLSH => match arg {
                0 | 2 => {
                    self.ldisc.flush_input();
                    Ok(0)
                }
                1 => Ok(0),
                _ => Err(Errno::EINVAL),
            },
            TCXONC => match arg {
                0 => {
                    self.ldisc.stopped = true;
                    Ok(0)
                }
                1 => {
                    self.ldisc.stopped = false;
                    Ok(0)
                }
                // TCIOFF and TCION would send STOP and START to the far
                // end, which has no flow control to obey.
                2 | 3 => Ok(0),
                _ => Err(Errno::EINVAL),
            },
            TCSBRK | TCSBRKP | TIOCSBRK | TIOCCBRK => Ok(0),
            TIOCGPGRP => put_int(port, i32::try_from(self.fg_pgrp).unwrap_or(i32::MAX)),
            TIOCSPGRP => {
                let pgrp = get_int(port)?;
                self.fg_pgrp = match u32::try_from(pgrp) {
                    Ok(0) => return Err(Errno::ESRCH),
                    Ok(p) => p,
                    Err(_) => return Err(Errno::EINVAL),
                };
                Ok(0)
            }
            TIOCGSID => put_int(port, SESSION),
            // Every process has the console as its controlling terminal.
            TIOCSCTTY | TIOCNOTTY => Ok(0),
            TIOCGETD => put_int(port, 0),
            TIOCSETD => match get_int(port)? {
                0 => Ok(0),
                _ => Err(Errno::EINVAL),
            },
            TIOCEXCL | TIOCNXCL => {
                self.exclusive = request == TIOCEXCL;
                Ok(0)
            }
            TIOCGEXCL => put_int(port, i32::from(self.exclusive)),
            TIOCSTI => {
                let mut c = [0u8; 1];
                port.copy_from(client, arg, &mut c)?;
                self.receive(port, &c);
                Ok(0)
            }
            TIOCVHANGUP => {
                self.hangup(port);
                Ok(0)
            }
            _ => Err(Errno::ENOTTY),
        }
    }
}

/// The iovec array of readv/writev: (base, len) pairs.
fn iovecs(port: &mut dyn Port, client: u64, iov: u64, count: u64) -> Result<Vec<(u64, u64)>, Errno> {
    // An `int`: a negative count is EINVAL like one too large.
    let count = u64::from(count as u32);
    if count > IOV_MAX {
        return Err(Errno::EINVAL);
    }
    let mut raw = alloc::vec![0u8; (count * 16) as usize];
    port.copy_from(client, iov, &mut raw)?;
    let mut total: u64 = 0;
    let mut out = Vec::with_capacity(count as usize);
    for v in raw.chunks_exact(16) {
        let base = u64::from_le_bytes(v[..8].try_into().expect("8 bytes"));
        let len = u64::from_le_bytes(v[8..].try_into().expect("8 bytes"));
        total = total.checked_add(len).filter(|&t| t <= i64::MAX as u64).ok_or(Errno::EINVAL)?;
        out.push((base, len));
    }
    Ok(out)
}

/// Copies `data` into reader `r`'s buffers after the `r.copied` bytes it
/// already has.
fn deliver(port: &mut dyn Port, r: &Reader, data: &[u8]) -> Result<(), Errno> {
    let mut skip = r.copied as u64;
    let mut data = data;
    for &(base, len) in &r.iov {
        if data.is_empty() {
            break;
        }
        if skip >= len {
            skip -= len;
            continue;
        }
        let room = (len - skip).min(data.len() as u64) as usize;
        port.copy_to(r.client, base + skip, &data[..room])?;
        data = &data[room..];
        skip = 0;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
