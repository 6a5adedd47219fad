//! poll(2), ppoll(2), select(2) and pselect6: waiting for descriptors to
//! become ready.
//!
//! What "ready" means per file is [`FileServer::readiness`]: a pipe's read
//! end has data (or no writer left: POLLHUP), its write end a free slot
//! (or no reader left: POLLERR); regular files, directories and /dev/null,
//! zero and urandom are always ready, as in Linux (files without a poll
//! method); the console asks [`FileServer::console_ready`].
//!
//! A call with nothing ready and time left is held (`sys::held`) and
//! scanned again after every message, so a write or a close that makes a
//! descriptor ready ends it; its timeout is the server's kernel timer.
//!
//! The signal mask of ppoll and pselect6 is the process server's business:
//! both calls pass through it first, and it installs the mask for the
//! wait and gives the caller's own back afterwards (docs/architecture.md,
//! "Signals"). Here the mask is only checked again (size, readable), for
//! a call that reaches this server some other way.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use lstar_abi::errno::Errno;
use lstar_abi::ThreadId;

use super::held::Waiting;
use crate::files::{FileServer, Pid};
use crate::host::{HeldEnv, Host};
use crate::pipe::PAGE;
use crate::tmpfs::{Device, Node};
use crate::user::{self, Env};

/// The notification bit the console server raises on this server when
/// input arrives that a poll asked about (console_server::proto::POLL);
/// sys::held::TIMER_BIT is the other one in use.
pub const CONSOLE_BIT: u64 = 1 << 1;

/// poll(2) event bits.
pub mod ev {
    pub const POLLIN: u16 = 0x1;
    pub const POLLPRI: u16 = 0x2;
    pub const POLLOUT: u16 = 0x4;
    pub const POLLERR: u16 = 0x8;
    pub const POLLHUP: u16 = 0x10;
    pub const POLLNVAL: u16 = 0x20;
    pub const POLLRDNORM: u16 = 0x40;
    pub const POLLRDBAND: u16 = 0x80;
    pub const POLLWRNORM: u16 = 0x100;
    pub const POLLWRBAND: u16 = 0x200;

    /// A file with no poll method of its own: always readable and
    /// writable (Linux's DEFAULT_POLLMASK).
    pub const ALWAYS: u16 = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
    /// What makes select(2) report a descriptor readable, writable or
    /// exceptional.
    pub const IN_SET: u16 = POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR;
    pub const OUT_SET: u16 = POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR;
    pub const EX_SET: u16 = POLLPRI;
}

/// `struct pollfd`: int fd, short events, short revents.
const POLLFD: usize = 8;
/// A signal set as the kernel takes it (64 signals).
const SIGSET_SIZE: u64 = 8;
const NS_PER_SEC: u64 = 1_000_000_000;

/// How a call takes and gives back its timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TimeLayout {
    /// select: `struct timeval`, written back with the time left.
    Timeval,
    /// ppoll, pselect6: `struct timespec`, written back likewise.
    Timespec,
}

/// The descriptors a call watches, in its own layout.
enum Form {
    /// poll and ppoll: the pollfd array, with revents filled in place.
    Poll { ufds: u64, raw: Vec<u8> },
    /// select and pselect6: the first `n` bits of each of the three sets
    /// (a null set is `addr` 0), as read and as they will be written.
    Select { n: usize, addrs: [u64; 3], wanted: [Vec<u64>; 3], ready: [Vec<u64>; 3] },
}

/// A poll or select, kept while it waits.
pub(crate) struct PollWait {
    form: Form,
    /// Monotonic ns; `None` waits for ever.
    deadline: Option<u64>,
    /// Where the time left is written back when the call ends.
    time_back: Option<(u64, TimeLayout)>,
}

impl PollWait {
    pub(crate) fn deadline(&self) -> Option<u64> {
        self.deadline
    }

    /// Writes the results and the time left: the call's end.
    fn finish(&self, env: &mut dyn Env, count: u64, now: u64) -> Result<u64, Errno> {
        let r = match &self.form {
            Form::Poll { ufds, raw } => user::write_exact(env, *ufds, raw).map(|()| count),
            Form::Select { addrs, ready, .. } => {
                let mut r = Ok(count);
                for (&addr, bits) in addrs.iter().zip(ready) {
                    if addr != 0 && user::write_exact(env, addr, &words_to_bytes(bits)).is_err() {
                        r = Err(Errno::EFAULT);
                    }
                }
                r
            }
        };
        self.write_time_left(env, now);
        r
    }

    /// A signal ended the wait: poll's revents (all clear) and the time
    /// left go back, select's sets do not (Linux leaves them as passed).
    pub(crate) fn interrupted(&self, env: &mut dyn Env, now: u64) {
        if let Form::Poll { ufds, raw } = &self.form {
            let _ = env.write(*ufds, raw);
        }
        self.write_time_left(env, now);
    }

    /// As Linux, the time left goes back only for a non-zero timeout, and
    /// a fault writing it is ignored.
    fn write_time_left(&self, env: &mut dyn Env, now: u64) {
        let (Some((addr, layout)), Some(deadline)) = (self.time_back, self.deadline) else { return };
        let left = deadline.saturating_sub(now);
        let sub = match layout {
            TimeLayout::Timeval => (left % NS_PER_SEC) / 1000,
            TimeLayout::Timespec => left % NS_PER_SEC,
        };
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&(left / NS_PER_SEC).to_le_bytes());
        b[8..].copy_from_slice(&sub.to_le_bytes());
        let _ = env.write(addr, &b);
    }
}

impl FileServer {
    /// poll(2): `timeout` in ms, negative for none.
    pub(super) fn poll(&mut self, host: &mut dyn Host, pid: Pid, ufds: u64, nfds: u64, timeout: i32) -> Result<Option<u64>, Errno> {
        let wait = match u64::try_from(timeout) {
            Ok(ms) => Some(ms * 1_000_000),
            Err(_) => None,
        };
        let form = self.read_pollfds(host, pid, ufds, nfds)?;
        self.start_wait(host, pid, form, wait, None)
    }

    /// ppoll(2): a timespec timeout (null for none) and a signal mask.
    #[allow(clippy::too_many_arguments)] // ppoll's own five, plus the caller
    pub(super) fn ppoll(&mut self, host: &mut dyn Host, pid: Pid, ufds: u64, nfds: u64, ts: u64, mask: u64, mask_size: u64) -> Result<Option<u64>, Errno> {
        let wait = read_timeout(host, ts, TimeLayout::Timespec)?;
        check_sigmask(host, mask, mask_size)?;
        let form = self.read_pollfds(host, pid, ufds, nfds)?;
        self.start_wait(host, pid, form, wait, Some((ts, TimeLayout::Timespec)))
    }

    /// select(2): up to `n` descriptors in three sets, a timeval timeout.
    pub(super) fn select(&mut self, host: &mut dyn Host, pid: Pid, n: i32, sets: [u64; 3], tv: u64) -> Result<Option<u64>, Errno> {
        let wait = read_timeout(host, tv, TimeLayout::Timeval)?;
        let form = self.read_fd_sets(host, pid, n, sets)?;
        self.start_wait(host, pid, form, wait, Some((tv, TimeLayout::Timeval)))
    }

    /// pselect6: select with a timespec timeout and, in its sixth
    /// argument, a pointer to { const sigset_t *ss; size_t ss_len; }.
    pub(super) fn pselect6(&mut self, host: &mut dyn Host, pid: Pid, n: i32, sets: [u64; 3], ts: u64, sig: u64) -> Result<Option<u64>, Errno> {
        let (mut mask, mut mask_size) = (0, 0);
        if sig != 0 {
            let mut pack = [0u8; 16];
            user::read_exact(host, sig, &mut pack)?;
            mask = u64::from_le_bytes(pack[..8].try_into().expect("8 bytes"));
            mask_size = u64::from_le_bytes(pack[8..].try_into().expect("8 bytes"));
        }
        let wait = read_timeout(host, ts, TimeLayout::Timespec)?;
        check_sigmask(host, mask, mask_size)?;
        let form = self.read_fd_sets(host, pid, n, sets)?;
        self.start_wait(host, pid, form, wait, Some((ts, TimeLayout::Timespec)))
    }

    fn read_pollfds(&mut self, env: &mut dyn Env, pid: Pid, ufds: u64, nfds: u64) -> Result<Form, Errno> {
        // RLIMIT_NOFILE bounds the array.
        if nfds > u64::from(self.proc(pid).nofile) {
            return Err(Errno::EINVAL);
        }
        let mut raw = vec![0u8; nfds as usize * POLLFD];
        user::read_exact(env, ufds, &mut raw)?;
        Ok(Form::Poll { ufds, raw })
    }

    fn read_fd_sets(&mut self, env: &mut dyn Env, pid: Pid, n: i32, addrs: [u64; 3]) -> Result<Form, Errno> {
        let n = usize::try_from(n).map_err(|_| Errno::EINVAL)?;
        // Linux looks no further than its descriptor table, which starts
        // with 64 entries and doubles as descriptors need.
        let highest = self.proc(pid).fds.highest().map_or(0, |fd| fd as usize + 1);
        let n = n.min(highest.next_power_of_two().max(64));
        let words = n.div_ceil(64);
        let mut wanted: [Vec<u64>; 3] = Default::default();
        for (set, &addr) in wanted.iter_mut().zip(&addrs) {
            *set = vec![0; words];
            if addr != 0 {
                let mut b = vec![0u8; words * 8];
                user::read_exact(env, addr, &mut b)?;
                for (w, chunk) in set.iter_mut().zip(b.chunks_exact(8)) {
                    *w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
                }
                // Bits past `n` in the last word are not looked at.
                if n % 64 != 0 {
                    set[words - 1] &= (1u64 << (n % 64)) - 1;
                }
            }
        }
        // Every descriptor asked about must be open (before any waiting).
        let procs = &self.procs;
        let open = |fd: usize| procs.get(&pid).and_then(|p| p.fds.get(fd as i32)).is_some();
        for fd in 0..n {
            let bit = 1u64 << (fd % 64);
            if wanted.iter().any(|s| s[fd / 64] & bit != 0) && !open(fd) {
                return Err(Errno::EBADF);
            }
        }
        let ready = [vec![0; words], vec![0; words], vec![0; words]];
        Ok(Form::Select { n, addrs, wanted, ready })
    }

    /// The first scan: answer now if anything is ready or there is no time
    /// to wait, else hold the call.
    fn start_wait(&mut self, host: &mut dyn Host, pid: Pid, form: Form, wait: Option<u64>, back: Option<(u64, TimeLayout)>) -> Result<Option<u64>, Errno> {
        // A process seen for the first time gets its table (and console
        // descriptors) now, as any other call would give it.
        self.proc(pid);
        let now = host.now();
        let deadline = wait.map(|ns| now.saturating_add(ns));
        // A zero timeout has no time to give back.
        let time_back = back.filter(|&(addr, _)| addr != 0 && wait != Some(0));
        let mut w = PollWait { form, deadline, time_back };
        let count = self.scan(host, pid, &mut w.form);
        if count > 0 || wait == Some(0) {
            // The time left is measured at the end, as Linux does.
            let end = host.now();
            return w.finish(host, count, end).map(Some);
        }
        self.hold(host, pid, Waiting::Poll(Box::new(w)));
        Ok(None)
    }

    /// A held poll tried again: `now` is the time when it has a deadline.
    pub(super) fn poll_step(&mut self, host: &mut dyn Host, thread: ThreadId, pid: Pid, w: &mut PollWait, now: Option<u64>) -> Result<Option<u64>, Errno> {
        let count = self.scan(host, pid, &mut w.form);
        let expired = matches!((w.deadline, now), (Some(d), Some(t)) if t >= d);
        if count == 0 && !expired {
            return Ok(None);
        }
        let now = match now {
            Some(t) => t,
            None => host.now(),
        };
        w.finish(&mut HeldEnv { host, thread }, count, now).map(Some)
    }

    /// Fills in the results of `form` from the descriptors' readiness now;
    /// returns how many descriptors (poll) or bits (select) are set.
    fn scan(&mut self, host: &mut dyn Host, pid: Pid, form: &mut Form) -> u64 {
        let mut count = 0;
        match form {
            Form::Poll { raw, .. } => {
                for entry in raw.chunks_exact_mut(POLLFD) {
                    let fd = i32::from_le_bytes(entry[0..4].try_into().expect("4 bytes"));
                    let events = u16::from_le_bytes([entry[4], entry[5]]);
                    // A negative descriptor is skipped (revents 0).
                    let revents = match fd {
                        fd if fd < 0 => 0,
                        fd => match self.readiness(host, pid, fd) {
                            Some(mask) => mask & (events | ev::POLLERR | ev::POLLHUP),
                            None => ev::POLLNVAL,
                        },
                    };
                    entry[6..8].copy_from_slice(&revents.to_le_bytes());
                    if revents != 0 {
                        count += 1;
                    }
                }
            }
            Form::Select { n, wanted, ready, .. } => {
                for fd in 0..*n {
                    let (word, bit) = (fd / 64, 1u64 << (fd % 64));
                    if wanted.iter().all(|s| s[word] & bit == 0) {
                        continue;
                    }
                    // Checked open when the call began; its table cannot
                    // change while it waits.
                    let mask = self.readiness(host, pid, fd as i32).unwrap_or(ev::POLLNVAL);
                    for (k, set) in [ev::IN_SET, ev::OUT_SET, ev::EX_SET].into_iter().enumerate() {
                        if wanted[k][word] & bit != 0 && mask & set != 0 {
                            ready[k][word] |= bit;
                            count += 1;
                        } else {
                            ready[k][word] &= !bit;
                        }
                    }
                }
            }
        }
        count
    }

    /// What descriptor `fd` of `pid` is ready for now, as poll(2) event
    /// bits; `None` if it is not open.
    pub(crate) fn readiness(&mut self, host: &mut dyn Host, pid: Pid, fd: i32) -> Option<u16> {
        let entry = *self.procs.get(&pid)?.fds.get(fd)?;
        let ofd = self.ofd(entry.ofd);
        // An O_PATH handle has no file operations: poll sees no file.
        if ofd.is_path() {
            return None;
        }
        let node = &self.fs.inode(ofd.ino).node;
        Some(match node {
            Node::Pipe(_) | Node::Fifo(_) => {
                let p = node.pipe().expect("an open end of a FIFO has a pipe");
                let (pipe, mut mask) = (self.pipes.get(p), 0);
                if ofd.readable() {
                    if !pipe.buf.is_empty() {
                        mask |= ev::POLLIN | ev::POLLRDNORM;
                    }
                    // An anonymous pipe's reader saw its writer open
                    // (writers_seen is 0 and the count 1); a FIFO's, only
                    // if a writer opened after it.
                    if pipe.writers == 0 && pipe.writer_opens != ofd.writers_seen {
                        mask |= ev::POLLHUP;
                    }
                }
                if ofd.writable() {
                    if !pipe.buf.is_full() && self.fs.has_room(PAGE) {
                        mask |= ev::POLLOUT | ev::POLLWRNORM;
                    }
                    if pipe.readers == 0 {
                        mask |= ev::POLLERR;
                    }
                }
                mask
            }
            &Node::Device(dev) if dev.is_terminal() => self.console_ready(host, dev),
            _ => ev::ALWAYS,
        })
    }

    /// The console's readiness for poll and select (either of its
    /// devices, /dev/console and /dev/tty), as the console server answers
    /// it: output is always accepted, input when a read would not block.
    /// Asking arms the console's notification [`CONSOLE_BIT`] for when
    /// input arrives; a held poll is scanned again after every message the
    /// file server receives, that notification included, which wakes it.
    /// Without a console server there is never input.
    pub(crate) fn console_ready(&mut self, host: &mut dyn Host, dev: Device) -> u16 {
        let _ = dev;
        let all = ev::POLLIN | ev::POLLRDNORM | ev::POLLOUT | ev::POLLWRNORM;
        host.console_poll(all, CONSOLE_BIT).unwrap_or(ev::POLLOUT | ev::POLLWRNORM)
    }
}

/// A timeout argument as ns to wait: `None` (a null pointer) for ever.
/// EINVAL for a negative time or, in a timespec, nanoseconds out of range;
/// a timeval's excess microseconds carry into seconds, as in Linux.
fn read_timeout(env: &mut dyn Env, addr: u64, layout: TimeLayout) -> Result<Option<u64>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    let mut b = [0u8; 16];
    user::read_exact(env, addr, &mut b)?;
    let sec = i64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
    let sub = i64::from_le_bytes(b[8..].try_into().expect("8 bytes"));
    let (sec, nsec) = match layout {
        TimeLayout::Timeval if sec >= 0 && sub >= 0 => (sec.saturating_add(sub / 1_000_000), (sub % 1_000_000) * 1000),
        TimeLayout::Timespec if sec >= 0 && (0..NS_PER_SEC as i64).contains(&sub) => (sec, sub),
        _ => return Err(Errno::EINVAL),
    };
    Ok(Some((sec as u64).saturating_mul(NS_PER_SEC).saturating_add(nsec as u64)))
}

/// ppoll's and pselect6's signal mask: the size must be the kernel's
/// sigset_t and the mask readable. The process server applies it (see the
/// module doc).
fn check_sigmask(env: &mut dyn Env, mask: u64, size: u64) -> Result<(), Errno> {
    if mask == 0 {
        return Ok(());
    }
    if size != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let mut set = [0u8; SIGSET_SIZE as usize];
    user::read_exact(env, mask, &mut set)
}

fn words_to_bytes(words: &[u64]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}
