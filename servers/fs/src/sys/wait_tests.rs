//! Pipes, held calls and poll through whole messages: several callers
//! (threads of different pids) over one fake memory, and the effects the
//! server's loop would carry out.

use alloc::vec::Vec;
use libsys::nr;
use lstar_abi::errno::Errno;
use lstar_abi::{Message, MessageKind};

use super::poll::ev;
use super::TIMER_BIT;
use crate::files::FileServer;
use crate::host::fake::FakeHost;
use crate::host::{Effect, SIGPIPE};
use crate::linux::{mode::S_IFIFO, o};
use crate::tmpfs::Tmpfs;

const BASE: u64 = 0x10_0000;
/// What a cancelled pipe call replies: the process server makes it a
/// restart or EINTR.
const EINTR: u64 = lstar_abi::errno::RESTARTSYS_RET;
const EINTR_POLL: u64 = lstar_abi::errno::RESTARTNOHAND_RET;

struct W {
    s: FileServer,
    h: FakeHost,
    next: u64,
}

fn err(e: Errno) -> Option<u64> {
    Some(e.to_ret())
}

impl W {
    fn new() -> W {
        let mut fs = Tmpfs::new();
        fs.add_standard();
        W { s: FileServer::new(fs), h: FakeHost::new(BASE, 1 << 20), next: BASE }
    }

    fn alloc(&mut self, n: usize) -> u64 {
        let at = self.next;
        self.next += (n as u64).next_multiple_of(16).max(16);
        at
    }

    fn bytes(&mut self, b: &[u8]) -> u64 {
        let at = self.alloc(b.len());
        self.h.env.put(at, b);
        at
    }

    /// Syscall `nr` from thread `thread` of process `pid`.
    fn sys(&mut self, thread: u64, pid: u64, nr: u64, args: &[u64]) -> Option<u64> {
        let mut a = [0u64; 6];
        a[..args.len()].copy_from_slice(args);
        self.msg(Message { kind: MessageKind::Syscall, client: thread, nr, args: a, tag: pid })
    }

    fn msg(&mut self, m: Message) -> Option<u64> {
        self.h.caller = m.client;
        let answer = self.s.handle(&mut self.h, &m);
        self.s.settle(&mut self.h);
        answer
    }

    fn call(&mut self, nr: u64, args: [u64; 2]) -> Option<u64> {
        self.msg(Message { kind: MessageKind::Call, client: 1, nr, args: [args[0], args[1], 0, 0, 0, 0], tag: 0 })
    }

    fn cancel(&mut self, thread: u64) -> Option<u64> {
        self.msg(Message { kind: MessageKind::Cancel, client: thread, nr: 0, args: [0; 6], tag: 0 })
    }

    fn timer_fires(&mut self) -> Option<u64> {
        self.msg(Message { kind: MessageKind::Notify, client: 0, nr: 0, args: [TIMER_BIT, 0, 0, 0, 0, 0], tag: 0 })
    }

    fn effects(&mut self) -> Vec<Effect> {
        self.s.take_effects().collect()
    }

    /// A pipe for process `pid` (thread `pid`): (read fd, write fd).
    fn pipe(&mut self, pid: u64, flags: u32) -> (u64, u64) {
        let at = self.alloc(8);
        assert_eq!(self.sys(pid, pid, nr::PIPE2, &[at, flags.into()]), Some(0));
        let b = self.h.env.get(at, 8);
        (u32::from_le_bytes(b[..4].try_into().unwrap()).into(), u32::from_le_bytes(b[4..].try_into().unwrap()).into())
    }

    fn write(&mut self, pid: u64, fd: u64, data: &[u8]) -> Option<u64> {
        let b = self.bytes(data);
        self.sys(pid, pid, nr::WRITE, &[fd, b, data.len() as u64])
    }

    fn read(&mut self, pid: u64, fd: u64, n: usize) -> Result<Vec<u8>, u64> {
        let b = self.alloc(n);
        match self.sys(pid, pid, nr::READ, &[fd, b, n as u64]) {
            Some(v) if (v as i64) >= 0 => Ok(self.h.env.get(b, v as usize).to_vec()),
            Some(v) => Err(v),
            None => panic!("read held"),
        }
    }

    fn close(&mut self, pid: u64, fd: u64) {
        assert_eq!(self.sys(pid, pid, nr::CLOSE, &[fd]), Some(0));
    }

    /// poll on (fd, events) pairs; the revents, and the answer.
    fn poll(&mut self, thread: u64, pid: u64, fds: &[(i32, u16)], timeout: i32) -> (u64, Option<u64>) {
        let mut raw = Vec::new();
        for &(fd, events) in fds {
            raw.extend_from_slice(&fd.to_le_bytes());
            raw.extend_from_slice(&events.to_le_bytes());
            raw.extend_from_slice(&0u16.to_le_bytes());
        }
        let at = self.bytes(&raw);
        let r = self.sys(thread, pid, nr::POLL, &[at, fds.len() as u64, timeout as u32 as u64]);
        (at, r)
    }

    fn revents(&self, at: u64, i: usize) -> u16 {
        let b = self.h.env.get(at + 8 * i as u64 + 6, 2);
        u16::from_le_bytes([b[0], b[1]])
    }
}

#[test]
fn pipe_ends_and_bytes() {
    let mut w = W::new();
    let (r, wr) = w.pipe(1, 0);
    assert_eq!((r, wr), (3, 4));
    assert_eq!(w.write(1, wr, b"hello"), Some(5));
    let fionread = w.alloc(4);
    assert_eq!(w.sys(1, 1, nr::IOCTL, &[r, 0x541b, fionread]), Some(0));
    assert_eq!(w.h.env.get(fionread, 4), 5i32.to_le_bytes());
    assert_eq!(w.read(1, r, 3), Ok(b"hel".to_vec()));
    assert_eq!(w.read(1, r, 100), Ok(b"lo".to_vec()));
    // The wrong end, seeking, positioned I/O, fsync.
    assert_eq!(w.write(1, r, b"x"), err(Errno::EBADF));
    assert_eq!(w.read(1, wr, 1), Err(Errno::EBADF.to_ret()));
    assert_eq!(w.sys(1, 1, nr::LSEEK, &[r, 0, 1]), err(Errno::ESPIPE));
    assert_eq!(w.sys(1, 1, nr::PREAD64, &[r, BASE, 1, 0]), err(Errno::ESPIPE));
    assert_eq!(w.sys(1, 1, nr::PWRITE64, &[wr, BASE, 1, 0]), err(Errno::ESPIPE));
    assert_eq!(w.sys(1, 1, nr::FSYNC, &[wr]), err(Errno::EINVAL));
    // fstat: a FIFO with one link and nothing in its size.
    let st = w.alloc(144);
    assert_eq!(w.sys(1, 1, nr::FSTAT, &[r, st]), Some(0));
    let raw = w.h.env.get(st, 144).to_vec();
    assert_eq!(u32::from_le_bytes(raw[24..28].try_into().unwrap()), S_IFIFO | 0o600);
    assert_eq!(u64::from_le_bytes(raw[16..24].try_into().unwrap()), 1);
    // Status flags: the access mode, no O_LARGEFILE; F_SETFL takes O_NONBLOCK.
    assert_eq!(w.sys(1, 1, nr::FCNTL, &[r, 3]), Some(0));
    assert_eq!(w.sys(1, 1, nr::FCNTL, &[wr, 3]), Some(1));
    assert_eq!(w.sys(1, 1, nr::FCNTL, &[r, 4, o::NONBLOCK.into()]), Some(0));
    assert_eq!(w.sys(1, 1, nr::FCNTL, &[r, 3]), Some(o::NONBLOCK.into()));
    assert_eq!(w.read(1, r, 1), Err(Errno::EAGAIN.to_ret()));
    assert_eq!(w.sys(1, 1, nr::FCNTL, &[r, 1032]), Some(65536), "F_GETPIPE_SZ");
    assert_eq!(w.sys(1, 1, nr::FCNTL, &[0, 1032]), err(Errno::EBADF));
    // End of file once the writer is gone; the pipe goes with its last end.
    w.close(1, wr);
    assert_eq!(w.read(1, r, 10), Ok(Vec::new()));
    w.close(1, r);
    assert_eq!(w.s.pipes.count(), 0);
    assert_eq!(w.s.held_calls(), 0);
}

#[test]
fn pipe2_flags_and_faults() {
    let mut w = W::new();
    let at = w.alloc(8);
    assert_eq!(w.sys(1, 1, nr::PIPE2, &[at, o::DIRECT.into()]), err(Errno::EINVAL));
    assert_eq!(w.sys(1, 1, nr::PIPE2, &[8, 0]), err(Errno::EFAULT));
    assert_eq!(w.s.pipes.count(), 0, "nothing made for a bad pointer");
    assert_eq!(w.sys(1, 1, nr::PIPE, &[at]), Some(0));
    let (r, wr) = w.pipe(1, o::CLOEXEC | o::NONBLOCK);
    assert_eq!((r, wr), (5, 6));
    assert_eq!(w.sys(1, 1, nr::FCNTL, &[r, 1]), Some(1), "FD_CLOEXEC");
    assert_eq!(w.sys(1, 1, nr::FCNTL, &[wr, 3]), Some((o::WRONLY | o::NONBLOCK).into()));
    // A closed descriptor below is taken first.
    w.close(1, 4);
    assert_eq!(w.pipe(1, 0), (4, 7));
}

#[test]
fn nonblocking_fill_and_atomic_writes() {
    let mut w = W::new();
    let (r, wr) = w.pipe(1, o::NONBLOCK);
    let chunk = alloc::vec![7u8; 1000];
    let mut n = 0;
    while w.write(1, wr, &chunk) == Some(1000) {
        n += 1;
    }
    assert_eq!(n, 64, "four 1000-byte writes to a slot, as Linux");
    assert_eq!(w.write(1, wr, &chunk), err(Errno::EAGAIN));
    assert_eq!(w.write(1, wr, b"x"), Some(1), "a byte still fits the last slot");
    // A write larger than PIPE_BUF takes what room there is.
    assert_eq!(w.read(1, r, 4000).map(|v| v.len()), Ok(4000));
    let big = alloc::vec![1u8; 10000];
    assert_eq!(w.write(1, wr, &big), Some(4096));
    assert_eq!(w.write(1, wr, &big), err(Errno::EAGAIN));
    assert_eq!(w.s.held_calls(), 0);
}

#[test]
fn pipes_share_the_data_budget() {
    let mut w = W::new();
    let base = w.s.fs.data_bytes();
    w.s.fs.set_data_limit(base + 3 * 4096);
    let (r, wr) = w.pipe(1, o::NONBLOCK);
    let page = alloc::vec![1u8; 4096];
    for _ in 0..3 {
        assert_eq!(w.write(1, wr, &page), Some(4096));
    }
    assert_eq!(w.write(1, wr, &page), err(Errno::EAGAIN), "the budget is spent");
    let (at, _) = w.poll(1, 1, &[(wr as i32, ev::POLLOUT)], 0);
    assert_eq!(w.revents(at, 0), 0, "not writable either");
    assert_eq!(w.read(1, r, 4096).map(|v| v.len()), Ok(4096));
    assert_eq!(w.write(1, wr, &page), Some(4096), "a slot read, a page back");
    // Closing both ends gives back what the pipe held.
    w.close(1, r);
    w.close(1, wr);
    assert_eq!(w.s.fs.data_bytes(), base);
}

#[test]
fn writer_waiting_for_the_budget_goes_on_when_another_pipe_frees_it() {
    let mut w = W::new();
    let base = w.s.fs.data_bytes();
    w.s.fs.set_data_limit(base + 2 * 4096);
    let (ra, wa) = w.pipe(1, o::NONBLOCK);
    let page = alloc::vec![1u8; 4096];
    assert_eq!(w.write(1, wa, &page), Some(4096));
    assert_eq!(w.write(1, wa, &page), Some(4096));
    // A blocking writer to another, empty pipe waits: no page to be had.
    let (rb, wb) = w.pipe(1, 0);
    let data = w.bytes(b"x");
    assert_eq!(w.sys(30, 1, nr::WRITE, &[wb, data, 1]), None, "held");
    // Reading pipe A gives a page back: the writer to B goes on, though
    // B itself did not change.
    assert_eq!(w.read(1, ra, 4096).map(|v| v.len()), Ok(4096));
    assert_eq!(w.effects(), [Effect::Reply { thread: 30, value: 1 }]);
    assert_eq!(w.read(1, rb, 16), Ok(b"x".to_vec()));
}

#[test]
fn blocked_reader_woken_by_writer() {
    let mut w = W::new();
    let (r, wr) = w.pipe(1, 0);
    w.s.fork(1, 2);
    let buf = w.alloc(16);
    assert_eq!(w.sys(20, 2, nr::READ, &[r, buf, 16]), None, "held");
    assert_eq!(w.s.held_calls(), 1);
    assert!(w.effects().is_empty());
    // Another caller is served meanwhile.
    assert_eq!(w.write(1, wr, b"ping"), Some(4));
    assert_eq!(w.effects(), [Effect::Reply { thread: 20, value: 4 }]);
    assert_eq!(w.h.env.get(buf, 4), b"ping");
    assert_eq!(w.s.held_calls(), 0);
    // A reader woken by the last writer closing gets end of file; a
    // description shared by fork closes only with its last descriptor.
    assert_eq!(w.sys(20, 2, nr::READ, &[r, buf, 16]), None);
    w.close(2, wr);
    assert!(w.effects().is_empty(), "the parent still has the write end");
    w.close(1, wr);
    assert_eq!(w.effects(), [Effect::Reply { thread: 20, value: 0 }]);
}

#[test]
fn blocked_writer_goes_on_as_room_frees() {
    let mut w = W::new();
    let (r, wr) = w.pipe(1, 0);
    w.s.fork(1, 2);
    let data: Vec<u8> = (0..70000u32).map(|i| (i % 251) as u8).collect();
    let src = w.bytes(&data);
    assert_eq!(w.sys(20, 2, nr::WRITE, &[wr, src, 70000]), None, "64 KiB in, then held");
    let mut got = Vec::new();
    let dst = w.alloc(100_000);
    // Each read of 5000 frees at least one slot, and the writer fills it.
    let mut done_at = None;
    while got.len() < 70000 {
        let n = w.sys(10, 1, nr::READ, &[r, dst, 5000]).unwrap() as usize;
        got.extend_from_slice(w.h.env.get(dst, n));
        let effects = w.effects();
        if !effects.is_empty() {
            assert_eq!(effects, [Effect::Reply { thread: 20, value: 70000 }]);
            done_at = Some(got.len());
        }
    }
    assert_eq!(got, data);
    assert_eq!(done_at, Some(10000), "two slots read, the last 4464 bytes in");
    assert_eq!(w.s.held_calls(), 0);
}

#[test]
fn epipe_and_sigpipe() {
    let mut w = W::new();
    let (r, wr) = w.pipe(1, 0);
    w.close(1, r);
    assert_eq!(w.write(1, wr, b""), Some(0), "an empty write succeeds");
    assert_eq!(w.write(1, wr, b"x"), err(Errno::EPIPE));
    assert_eq!(w.effects(), [Effect::Signal { pid: 1, thread: 1, signo: SIGPIPE }]);
    // A writer held on a full pipe when the reader's process exits: the
    // signal, then the bytes it had written.
    let (r, wr) = w.pipe(1, 0);
    w.s.fork(1, 2);
    w.close(1, r);
    let big = alloc::vec![0u8; 70000];
    let src = w.bytes(&big);
    assert_eq!(w.sys(10, 1, nr::WRITE, &[wr, src, 70000]), None);
    assert_eq!(w.call(lstar_abi::fs::EXIT, [2, 0]), Some(0));
    assert_eq!(w.effects(), [Effect::Signal { pid: 1, thread: 10, signo: SIGPIPE }, Effect::Reply { thread: 10, value: 65536 }]);
}

#[test]
fn cancel_ends_held_calls() {
    let mut w = W::new();
    let (r, wr) = w.pipe(1, 0);
    let buf = w.alloc(8);
    assert_eq!(w.sys(10, 1, nr::READ, &[r, buf, 8]), None);
    assert_eq!(w.cancel(10), None);
    assert_eq!(w.effects(), [Effect::Reply { thread: 10, value: EINTR }]);
    assert_eq!(w.cancel(10), None, "a stale Cancel");
    assert!(w.effects().is_empty());
    // A writer that moved bytes reports them.
    let big = alloc::vec![0u8; 70000];
    let src = w.bytes(&big);
    assert_eq!(w.sys(10, 1, nr::WRITE, &[wr, src, 70000]), None);
    w.cancel(10);
    assert_eq!(w.effects(), [Effect::Reply { thread: 10, value: 65536 }]);
    // A full pipe, a small blocking write: nothing moved, EINTR.
    assert_eq!(w.sys(10, 1, nr::WRITE, &[wr, src, 10]), None);
    w.cancel(10);
    assert_eq!(w.effects(), [Effect::Reply { thread: 10, value: EINTR }]);
}

#[test]
fn held_read_keeps_its_end_open() {
    // Two threads of one process: one waits in read, the other closes
    // both descriptors. The read end stays open for the read, which sees
    // end of file; the pipe goes when the read is over.
    let mut w = W::new();
    let (r, wr) = w.pipe(1, 0);
    let buf = w.alloc(8);
    assert_eq!(w.sys(10, 1, nr::READ, &[r, buf, 8]), None);
    w.close(1, r);
    assert!(w.effects().is_empty());
    w.close(1, wr);
    assert_eq!(w.effects(), [Effect::Reply { thread: 10, value: 0 }]);
    assert_eq!(w.s.pipes.count(), 0);
    assert_eq!(w.s.open_descriptions(), 1, "the console's only");
}

#[test]
fn exit_drops_held_calls() {
    let mut w = W::new();
    let (r, _wr) = w.pipe(1, 0);
    w.s.fork(1, 2);
    let buf = w.alloc(8);
    assert_eq!(w.sys(20, 2, nr::READ, &[r, buf, 8]), None);
    assert_eq!(w.call(lstar_abi::fs::EXIT, [2, 0]), Some(0));
    assert_eq!(w.s.held_calls(), 0);
    assert!(w.effects().is_empty(), "no answer to a gone thread");
    w.call(lstar_abi::fs::EXIT, [1, 0]);
    assert_eq!((w.s.pipes.count(), w.s.open_descriptions()), (0, 0));
}

#[test]
fn poll_readiness() {
    let mut w = W::new();
    let (r, wr) = w.pipe(1, 0);
    let null = {
        let p = w.bytes(b"/dev/null\0");
        w.sys(1, 1, nr::OPEN, &[p, o::RDWR.into()]).unwrap()
    };
    let all = ev::POLLIN | ev::POLLOUT;
    let (at, n) = w.poll(1, 1, &[(r as i32, all), (wr as i32, all), (null as i32, all), (-1, all), (99, all), (1, all)], 0);
    assert_eq!(n, Some(4));
    assert_eq!(w.revents(at, 0), 0, "empty");
    assert_eq!(w.revents(at, 1), ev::POLLOUT);
    assert_eq!(w.revents(at, 2), all, "always ready");
    assert_eq!(w.revents(at, 3), 0, "negative: skipped");
    assert_eq!(w.revents(at, 4), ev::POLLNVAL);
    assert_eq!(w.revents(at, 5), ev::POLLOUT, "the console: output only");
    w.write(1, wr, b"x");
    let (at, n) = w.poll(1, 1, &[(r as i32, ev::POLLIN | ev::POLLRDNORM)], 0);
    assert_eq!((n, w.revents(at, 0)), (Some(1), ev::POLLIN | ev::POLLRDNORM));
    // Hang-up and error are reported even when not asked for.
    w.close(1, wr);
    let (at, _) = w.poll(1, 1, &[(r as i32, 0)], 0);
    assert_eq!(w.revents(at, 0), ev::POLLHUP);
    let (r2, wr2) = w.pipe(1, 0);
    w.close(1, r2);
    let (at, _) = w.poll(1, 1, &[(wr2 as i32, ev::POLLOUT)], 0);
    assert_eq!(w.revents(at, 0), ev::POLLOUT | ev::POLLERR);
    let (_, n) = w.poll(1, 1, &[], 0);
    assert_eq!(n, Some(0));
    // A process whose first call is a poll has its console descriptors.
    let (at, n) = w.poll(7, 7, &[(1, ev::POLLOUT)], 0);
    assert_eq!((n, w.revents(at, 0)), (Some(1), ev::POLLOUT));
    assert_eq!(w.sys(1, 1, nr::POLL, &[BASE, 1025, 0]), err(Errno::EINVAL));
    assert_eq!(w.sys(1, 1, nr::POLL, &[8, 1, 0]), err(Errno::EFAULT));
}

#[test]
fn poll_waits_for_a_writer_or_the_time() {
    let mut w = W::new();
    let (r, wr) = w.pipe(1, 0);
    w.s.fork(1, 2);
    // Woken by a write from another process.
    let (at, n) = w.poll(20, 2, &[(r as i32, ev::POLLIN)], -1);
    assert_eq!(n, None);
    assert!(w.effects().is_empty(), "no timeout, no timer");
    w.write(1, wr, b"x");
    assert_eq!(w.effects(), [Effect::Reply { thread: 20, value: 1 }]);
    assert_eq!(w.revents(at, 0), ev::POLLIN);
    w.read(1, r, 1).unwrap();
    // A 50 ms timeout arms the timer; its notification ends the call.
    let start = w.h.now;
    let (at, n) = w.poll(20, 2, &[(r as i32, ev::POLLIN)], 50);
    assert_eq!(n, None);
    assert_eq!(w.effects(), [Effect::Timer { deadline: start + 50_000_000 }]);
    w.h.now += 50_000_000;
    assert_eq!(w.timer_fires(), None);
    assert_eq!(w.effects(), [Effect::Reply { thread: 20, value: 0 }]);
    assert_eq!(w.revents(at, 0), 0);
    // Two waiters share the timer: it follows the earliest deadline.
    let now = w.h.now;
    w.poll(20, 2, &[(r as i32, ev::POLLIN)], 100);
    w.poll(10, 1, &[(r as i32, ev::POLLIN)], 30);
    assert_eq!(w.effects(), [Effect::Timer { deadline: now + 100_000_000 }, Effect::Timer { deadline: now + 30_000_000 }]);
    w.h.now += 30_000_000;
    w.timer_fires();
    assert_eq!(w.effects(), [Effect::Reply { thread: 10, value: 0 }, Effect::Timer { deadline: now + 100_000_000 }]);
    // A signal: EINTR, and the timer is no longer needed.
    w.cancel(20);
    assert_eq!(w.effects(), [Effect::Reply { thread: 20, value: EINTR_POLL }, Effect::Timer { deadline: 0 }]);
}

fn fd_set(fds: &[u64]) -> [u8; 128] {
    let mut b = [0u8; 128];
    for &fd in fds {
        b[fd as usize / 8] |= 1 << (fd % 8);
    }
    b
}

#[test]
fn select_sets_and_time_left() {
    let mut w = W::new();
    let (r, wr) = w.pipe(1, 0);
    w.write(1, wr, b"x");
    let (r2, _wr2) = w.pipe(1, 0);
    let rs = w.bytes(&fd_set(&[r, r2]));
    let ws = w.bytes(&fd_set(&[wr]));
    let es = w.bytes(&fd_set(&[r]));
    let mut tv = [0u8; 16];
    tv[..8].copy_from_slice(&2i64.to_le_bytes());
    let tv = w.bytes(&tv);
    assert_eq!(w.sys(1, 1, nr::SELECT, &[8, rs, ws, es, tv]), Some(2));
    assert_eq!(w.h.env.get(rs, 8), &fd_set(&[r])[..8]);
    assert_eq!(w.h.env.get(ws, 8), &fd_set(&[wr])[..8]);
    assert_eq!(w.h.env.get(es, 8), [0; 8]);
    assert_eq!(w.h.env.get(tv, 16), [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "no time passed");
    // A descriptor that is not open.
    let bad = w.bytes(&fd_set(&[40]));
    assert_eq!(w.sys(1, 1, nr::SELECT, &[41, bad, 0, 0, 0]), err(Errno::EBADF));
    assert_eq!(w.sys(1, 1, nr::SELECT, &[(-1i64) as u64, 0, 0, 0, 0]), err(Errno::EINVAL));
    // Held, then timed out: sets cleared, no time left.
    let rs = w.bytes(&fd_set(&[r2]));
    let mut t = [0u8; 16];
    t[8..].copy_from_slice(&20_000i64.to_le_bytes());
    let tv = w.bytes(&t);
    assert_eq!(w.sys(1, 1, nr::SELECT, &[8, rs, 0, 0, tv]), None);
    w.effects();
    w.h.now += 20_000_000;
    w.timer_fires();
    assert_eq!(w.effects(), [Effect::Reply { thread: 1, value: 0 }], "the timer disarmed itself");
    assert_eq!(w.h.env.get(rs, 8), [0; 8]);
    assert_eq!(w.h.env.get(tv, 16), [0; 16]);
    // pselect6: a timespec, and a signal mask of the wrong size.
    let mut ts = [0u8; 16];
    ts[8..].copy_from_slice(&1_000_000_000i64.to_le_bytes());
    let ts = w.bytes(&ts);
    assert_eq!(w.sys(1, 1, nr::PSELECT6, &[8, rs, 0, 0, ts, 0]), err(Errno::EINVAL));
    let mask = w.bytes(&[0; 8]);
    let mut pack = [0u8; 16];
    pack[..8].copy_from_slice(&mask.to_le_bytes());
    pack[8..].copy_from_slice(&4u64.to_le_bytes());
    let pack = w.bytes(&pack);
    assert_eq!(w.sys(1, 1, nr::PSELECT6, &[8, rs, 0, 0, 0, pack]), err(Errno::EINVAL));
}

impl W {
    fn cstr(&mut self, s: &str) -> u64 {
        let mut b = s.as_bytes().to_vec();
        b.push(0);
        self.bytes(&b)
    }

    fn open(&mut self, thread: u64, pid: u64, path: &str, flags: u32) -> Option<u64> {
        let p = self.cstr(path);
        self.sys(thread, pid, nr::OPEN, &[p, flags.into(), 0])
    }

    fn mknod(&mut self, path: &str, mode: u32, dev: u32) -> Option<u64> {
        let p = self.cstr(path);
        self.sys(1, 1, nr::MKNOD, &[p, mode.into(), dev.into()])
    }
}

#[test]
fn fifo_opens_wait_for_the_other_end() {
    let mut w = W::new();
    assert_eq!(w.mknod("/tmp/f", S_IFIFO | 0o644, 0), Some(0));
    assert_eq!(w.mknod("/tmp/f", S_IFIFO | 0o644, 0), err(Errno::EEXIST));
    // O_NONBLOCK: a writer with no reader is ENXIO; a reader opens and
    // reads the end of file while there is no writer.
    assert_eq!(w.open(1, 1, "/tmp/f", o::WRONLY | o::NONBLOCK), err(Errno::ENXIO));
    let r = w.open(1, 1, "/tmp/f", o::RDONLY | o::NONBLOCK).unwrap();
    assert_eq!(w.read(1, r, 4), Ok(Vec::new()));
    let (at, _) = w.poll(1, 1, &[(r as i32, ev::POLLIN)], 0);
    assert_eq!(w.revents(at, 0), 0, "no hang-up before a writer came");
    let wr = w.open(1, 1, "/tmp/f", o::WRONLY | o::NONBLOCK).unwrap();
    assert_eq!(w.write(1, wr, b"hi"), Some(2));
    assert_eq!(w.read(1, r, 4), Ok(b"hi".to_vec()));
    assert_eq!(w.write(1, wr, b"lost"), Some(4));
    w.close(1, wr);
    let (at, _) = w.poll(1, 1, &[(r as i32, ev::POLLIN)], 0);
    assert_eq!(w.revents(at, 0), ev::POLLIN | ev::POLLHUP, "the writer came and went");
    w.close(1, r);
    assert_eq!(w.s.pipes.count(), 0, "the buffer goes with the last end");
    // A blocking reader waits for a writer, which itself opens at once.
    assert_eq!(w.open(10, 1, "/tmp/f", o::RDONLY), None);
    assert_eq!(w.s.held_calls(), 1);
    w.effects();
    let wr = w.open(20, 2, "/tmp/f", o::WRONLY).unwrap();
    assert_eq!(w.effects(), [Effect::Reply { thread: 10, value: 3 }]);
    assert_eq!(w.write(2, wr, b"new"), Some(3));
    assert_eq!(w.read(1, 3, 10), Ok(b"new".to_vec()), "the earlier bytes were dropped");
    // O_RDWR never waits; a blocking writer goes on once a reader comes.
    w.close(1, 3);
    assert_eq!(w.open(20, 2, "/tmp/f", o::WRONLY), None);
    let rw = w.open(1, 1, "/tmp/f", o::RDWR).unwrap();
    assert_eq!(w.effects(), [Effect::Reply { thread: 20, value: 4 }]);
    w.close(1, rw);
    // A signal ends a waiting open, which then counts as no reader.
    w.close(2, wr);
    w.close(2, 4);
    assert_eq!(w.open(10, 1, "/tmp/f", o::RDONLY), None);
    assert_eq!(w.cancel(10), None);
    assert_eq!(w.effects(), [Effect::Reply { thread: 10, value: EINTR }]);
    assert_eq!(w.open(1, 1, "/tmp/f", o::WRONLY | o::NONBLOCK), err(Errno::ENXIO));
    assert_eq!(w.s.pipes.count(), 0);
    assert_eq!(w.s.open_descriptions(), 2, "only the console's, one per process");
}

#[test]
fn device_nodes() {
    let mut w = W::new();
    const S_IFCHR: u32 = 0o020000;
    const S_IFBLK: u32 = 0o060000;
    assert_eq!(w.mknod("/tmp/null", S_IFCHR | 0o666, 0x103), Some(0));
    assert_eq!(w.mknod("/tmp/c", S_IFCHR | 0o600, 0xf007), Some(0));
    assert_eq!(w.mknod("/tmp/b", S_IFBLK | 0o600, 0xf007), Some(0));
    assert_eq!(w.mknod("/tmp/s", 0o140000 | 0o600, 5), Some(0));
    assert_eq!(w.mknod("/tmp/r", 0o600, 5), Some(0));
    assert_eq!(w.mknod("/tmp/d", 0o040000 | 0o600, 0), err(Errno::EPERM));
    assert_eq!(w.mknod("/nope/d", 0o170000 | 0o600, 0), err(Errno::EINVAL), "the type is checked first");
    assert_eq!(w.mknod("/tmp/x/", S_IFIFO | 0o600, 0), err(Errno::ENOENT));
    // A device Lstar has opens as that device.
    let null = w.open(1, 1, "/tmp/null", o::RDWR).unwrap();
    assert_eq!(w.write(1, null, b"gone"), Some(4));
    for path in ["/tmp/c", "/tmp/b", "/tmp/s"] {
        assert_eq!(w.open(1, 1, path, o::RDONLY), err(Errno::ENXIO), "{path}");
    }
    assert!(w.open(1, 1, "/tmp/c", o::PATH).is_some_and(|fd| (fd as i64) >= 0), "O_PATH opens anything");
    let st = w.alloc(144);
    for (path, mode, rdev) in [("/tmp/null", S_IFCHR | 0o644, 0x103), ("/tmp/c", S_IFCHR | 0o600, 0xf007), ("/tmp/b", S_IFBLK | 0o600, 0xf007), ("/tmp/s", 0o140600, 0), ("/tmp/r", 0o100600, 0)] {
        let p = w.cstr(path);
        assert_eq!(w.sys(1, 1, nr::STAT, &[p, st]), Some(0));
        let raw = w.h.env.get(st, 144).to_vec();
        assert_eq!(u32::from_le_bytes(raw[24..28].try_into().unwrap()), mode, "{path}: umask 022 applies");
        assert_eq!(u64::from_le_bytes(raw[40..48].try_into().unwrap()), rdev, "{path}");
    }
}

/// A `struct flock` in the caller's memory: type, SEEK_SET, start, len.
fn flock(w: &mut W, kind: u16, start: i64, len: i64) -> u64 {
    let mut raw = [0u8; 32];
    raw[0..2].copy_from_slice(&kind.to_le_bytes());
    raw[8..16].copy_from_slice(&start.to_le_bytes());
    raw[16..24].copy_from_slice(&len.to_le_bytes());
    w.bytes(&raw)
}

#[test]
fn setlkw_waits_for_the_holder_to_close() {
    const F_GETLK: u64 = 5;
    const F_SETLK: u64 = 6;
    const F_SETLKW: u64 = 7;
    const WRLCK: u16 = 1;
    let mut w = W::new();
    let path = w.bytes(b"/tmp/locked\0");
    let fd = w.sys(1, 1, nr::OPEN, &[path, (o::CREAT | o::RDWR).into(), 0o644]).unwrap();
    let other = w.sys(1, 1, nr::OPEN, &[path, o::RDONLY.into(), 0]).unwrap();
    let all = flock(&mut w, WRLCK, 0, 0);
    assert_eq!(w.sys(1, 1, nr::FCNTL, &[fd, F_SETLK, all]), Some(0));
    w.s.fork(1, 2);
    // The child sees the parent's lock, with its pid, and cannot take it.
    let probe = flock(&mut w, WRLCK, 5, 1);
    assert_eq!(w.sys(2, 2, nr::FCNTL, &[fd, F_GETLK, probe]), Some(0));
    assert_eq!(w.h.env.get(probe, 2), WRLCK.to_le_bytes());
    assert_eq!(w.h.env.get(probe + 24, 4), 1i32.to_le_bytes());
    let want = flock(&mut w, WRLCK, 5, 1);
    assert_eq!(w.sys(2, 2, nr::FCNTL, &[fd, F_SETLK, want]), err(Errno::EAGAIN));
    assert_eq!(w.sys(2, 2, nr::FCNTL, &[fd, F_SETLKW, want]), None);
    // Unrelated calls leave it waiting; the parent closing any descriptor
    // of the file lets it go.
    assert_eq!(w.sys(1, 1, nr::FCNTL, &[fd, F_GETLK, probe]), Some(0));
    assert!(w.effects().is_empty());
    w.close(1, other);
    assert_eq!(w.effects(), [Effect::Reply { thread: 2, value: 0 }]);
    assert_eq!(w.sys(1, 1, nr::FCNTL, &[fd, F_SETLK, all]), err(Errno::EAGAIN));
    // And its exit frees the range for the parent.
    assert_eq!(w.call(lstar_abi::fs::EXIT, [2, 0]), Some(0));
    assert_eq!(w.sys(1, 1, nr::FCNTL, &[fd, F_SETLK, all]), Some(0));
}
