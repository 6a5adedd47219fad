//! The terminal against a fake port: one client memory, the line, the
//! replies, signals and timers it produced.

use super::*;
use crate::termios::{iflag, lflag};
use alloc::vec;

const BASE: u64 = 0x10000;
const SIZE: usize = 0x4000;
const A: u64 = 1; // a client
const B: u64 = 2; // another

struct Fake {
    mem: Vec<u8>,
    line: Vec<u8>,
    replies: Vec<(u64, u64)>,
    signals: Vec<(u32, u8)>,
    notified: u64,
    now: u64,
    timer: Option<u64>,
}

impl Fake {
    fn new() -> Fake {
        Fake { mem: vec![0; SIZE], line: Vec::new(), replies: Vec::new(), signals: Vec::new(), notified: 0, now: 0, timer: None }
    }

    fn range(&self, addr: u64, len: usize) -> Result<core::ops::Range<usize>, Errno> {
        let start = addr.checked_sub(BASE).ok_or(Errno::EFAULT)? as usize;
        if start + len > SIZE {
            return Err(Errno::EFAULT);
        }
        Ok(start..start + len)
    }

    fn put(&mut self, addr: u64, data: &[u8]) {
        let r = self.range(addr, data.len()).unwrap();
        self.mem[r].copy_from_slice(data);
    }

    fn get(&self, addr: u64, len: usize) -> &[u8] {
        &self.mem[self.range(addr, len).unwrap()]
    }

    fn line_text(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.line)
    }
}

impl Port for Fake {
    fn copy_from(&mut self, _client: u64, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        let r = self.range(addr, buf.len())?;
        buf.copy_from_slice(&self.mem[r]);
        Ok(())
    }

    fn copy_to(&mut self, _client: u64, addr: u64, data: &[u8]) -> Result<(), Errno> {
        let r = self.range(addr, data.len())?;
        self.mem[r].copy_from_slice(data);
        Ok(())
    }

    fn reply(&mut self, client: u64, value: u64) {
        self.replies.push((client, value));
    }

    fn transmit(&mut self, bytes: &[u8]) {
        self.line.extend_from_slice(bytes);
    }

    fn kill_pgrp(&mut self, pgrp: u32, signal: u8) {
        self.signals.push((pgrp, signal));
    }

    fn notify_fs(&mut self, bits: u64) {
        self.notified |= bits;
    }

    fn now(&mut self) -> u64 {
        self.now
    }

    fn set_timer(&mut self, deadline: Option<u64>) {
        self.timer = deadline;
    }
}

fn read(c: &mut Console, p: &mut Fake, client: u64, count: u64, flags: u64) -> Option<u64> {
    c.syscall(p, client, nr::READ, [0, BASE, count, 0, 0, flags])
}

fn ioctl(c: &mut Console, p: &mut Fake, request: u32, arg: u64) -> u64 {
    c.syscall(p, A, nr::IOCTL, [0, u64::from(request), arg, 0, 0, 0]).expect("ioctls answer at once")
}

/// The port's one-shot timer goes off.
fn fire(c: &mut Console, p: &mut Fake) {
    p.timer = None;
    c.timer(p);
}

fn err(e: Errno) -> u64 {
    e.to_ret()
}

fn set(c: &mut Console, p: &mut Fake, t: Termios) {
    p.put(BASE + 0x1000, &t.to_bytes());
    assert_eq!(ioctl(c, p, ioctl::TCSETS, BASE + 0x1000), 0);
}

fn raw(min: u8, time: u8) -> Termios {
    let mut t = Termios::console();
    t.lflag &= !(lflag::ICANON | lflag::ECHO);
    t.cc[VMIN] = min;
    t.cc[VTIME] = time;
    t
}

#[test]
fn a_canonical_read_waits_for_a_line() {
    let (mut c, mut p) = (Console::new(), Fake::new());
    assert_eq!(read(&mut c, &mut p, A, 100, 0), None, "no input: the read waits");
    assert!(c.is_waiting(A));
    c.receive(&mut p, b"hel");
    assert!(p.replies.is_empty());
    c.receive(&mut p, b"lo\r");
    assert_eq!(p.replies, [(A, 6)]);
    assert_eq!(p.get(BASE, 6), b"hello\n");
    assert_eq!(p.line_text(), b"hello\r\n", "echoed as typed");
    assert!(!c.is_waiting(A));
}

#[test]
fn typed_ahead_lines_are_read_one_at_a_time() {
    let (mut c, mut p) = (Console::new(), Fake::new());
    c.receive(&mut p, b"one\ntwo\n");
    assert_eq!(read(&mut c, &mut p, A, 100, 0), Some(4));
    assert_eq!(p.get(BASE, 4), b"one\n");
    assert_eq!(read(&mut c, &mut p, A, 2, 0), Some(2));
    assert_eq!(read(&mut c, &mut p, A, 100, 0), Some(2));
    assert_eq!(p.get(BASE, 2), b"o\n");
}

#[test]
fn eof_reads_zero_and_ends_a_partial_line() {
    let (mut c, mut p) = (Console::new(), Fake::new());
    assert_eq!(read(&mut c, &mut p, A, 100, 0), None);
    c.receive(&mut p, b"ab\x04");
    assert_eq!(p.replies, [(A, 2)]);
    c.receive(&mut p, b"\x04");
    assert_eq!(read(&mut c, &mut p, A, 100, 0), Some(0));
}

#[test]
fn nonblocking_reads_say_eagain() {
    let (mut c, mut p) = (Console::new(), Fake::new());
    assert_eq!(read(&mut c, &mut p, A, 100, O_NONBLOCK), Some(err(Errno::EAGAIN)));
    c.receive(&mut p, b"partial");
    assert_eq!(read(&mut c, &mut p, A, 100, O_NONBLOCK), Some(err(Errno::EAGAIN)), "no complete line");
    set(&mut c, &mut p, raw(1, 0));
    assert_eq!(read(&mut c, &mut p, A, 100, O_NONBLOCK), Some(7));
    assert_eq!(read(&mut c, &mut p, A, 100, O_NONBLOCK), Some(err(Errno::EAGAIN)));
    set(&mut c, &mut p, raw(0, 0));
    assert_eq!(read(&mut c, &mut p, A, 100, O_NONBLOCK), Some(0), "VMIN 0 VTIME 0 polls, even nonblocking");
}

#[test]
fn zero_byte_reads_return_at_once() {
    let (mut c, mut p) = (Console::new(), Fake::new());
    assert_eq!(read(&mut c, &mut p, A, 0, 0), Some(0));
}

#[test]
fn a_cancelled_read_restarts_or_is_eintr() {
    let (mut c, mut p) = (Console::new(), Fake::new());
    assert_eq!(read(&mut c, &mut p, A, 100, 0), None);
    c.cancel(&mut p, B);
    assert!(p.replies.is_empty(), "only the reader's own cancellation counts");
    c.cancel(&mut p, A);
    // The process server makes it a restart (SA_RESTART, or no handler)
    // or EINTR.
    assert_eq!(p.replies, [(A, lstar_abi::errno::RESTARTSYS_RET)]);
    c.cancel(&mut p, A);
    assert_eq!(p.replies.len(), 1);
}

#[test]
fn interrupt_character_signals_the_foreground_group() {
    let (mut c, mut p) = (Console::new(), Fake::new());
    assert_eq!(read(&mut c, &mut p, A, 100, 0), None);
    c.receive(&mut p, b"abc\x03");
    assert_eq!(p.signals, [(1, crate::ldisc::SIGINT)]);
    assert!(p.replies.is_empty(), "the reader waits for the kernel's cancellation");
    assert_eq!(p.line_text(), b"abc^C");
    c.receive(&mut p, b"\n");
    assert_eq!(p.replies, [(A, 1)], "the flushed text is gone");
    p.put(BASE + 0x100, &7i32.to_le_bytes());
    assert_eq!(ioctl(&mut c, &mut p, ioctl::TIOCSPGRP, BASE + 0x100), 0);
    c.receive(&mut p, b"\x1c\x1a");
    assert_eq!(p.signals[1..], [(7, crate::ldisc::SIGQUIT), (7, crate::ldisc::SIGTSTP)]);
}

#[test]
fn raw_vmin_1_returns_what_has_come() {
    let (mut c, mut p) = (Console::new(), Fake::new());
    set(&mut c, &mut p, raw(1, 0));
    assert_eq!(read(&mut c, &mut p, A, 100, 0), None);
    c.receive(&mut p, b"x");
    assert_eq!(p.replies, [(A, 1)]);
    assert_eq!(p.get(BASE, 1), b"x");
    assert!(p.line_text().is_empty(), "no echo");
    c.receive(&mut p, b"yz");
    assert_eq!(read(&mut c, &mut p, A, 1, 0), Some(1));
    assert_eq!(read(&mut c, &mut p, A, 100, 0), Some(1));
    assert_eq!(p.get(BASE, 1), b"z");
}

#[test]
fn raw_vmin_collects_across_arrivals() {
    let (mut c, mut p) = (Console::new(), Fake::new());
    set(&mut c, &mut p, raw(4, 0));
    assert_eq!(read(&mut c, &mut p, A, 100, 0), None);
    c.receive(&mut p, b"ab");
    assert!(p.replies.is_empty());
    c.receive(&mut p, b"cdef");
    assert_eq!(p.replies, [(A, 6)]);
    assert_eq!(p.get(BASE, 6), b"abcdef");
    // A count below VMIN is enough.
    c.receive(&mut p, b"gh");
    assert_eq!(read(&mut c, &mut p, A, 2, 0), Some(2));
}

#[test]
fn raw_vmin_0_vtime_0_never_waits() {
    let (mut c, mut p) = (Console::new(), Fake::new());
    set(&mut c, &mut p, raw(0, 0));
    assert_eq!(read(&mut c, &mut p, A, 100, 0), Some(0));
    c.receive(&mut p, b"ab");
    assert_eq!(read(&mut c, &mut p, A, 100, 0), Some(2));
}

#[test]
fn raw_vtime_alone_is_a_timeout_from_the_call() {
    let (mut c, mut p) = (Console::new(), Fake::new());
    set(&mut c, &mut p, raw(0, 5));
    p.now = 1_000;
    assert_eq!(read(&mut c, &mut p, A, 100, 0), None);
    assert_eq!(p.timer, Some(1_000 + 500_000_000));
    p.now += 500_000_000;
    fire(&mut c, &mut p);
    assert_eq!(p.replies, [(A, 0)]);
    assert_eq!(p.timer, None);
    assert_eq!(read(&mut c, &mut p, A, 100, 0), None);
    c.receive(&mut p, b"q");
    assert_eq!(p.replies[1], (A, 1), "the first byte ends it early");
    assert_eq!(p.timer, None);
}

#[test]
fn raw_vmin_with_vtime_times_between_bytes() {
    let (mut c, mut p) = (Console::new(), Fake::new());
    set(&mut c, &mut p, raw(3, 1));
    assert_eq!(read(&mut c, &mut p, A, 100, 0), None);
    assert_eq!(p.timer, None, "no timer before the first byte");
    c.receive(&mut p, b"a");
    assert_eq!(p.timer, Some(100_000_000));
    p.now = 50_000_000;
    c.receive(&mut p, b"b");
    assert_eq!(p.timer, Some(150_000_000), "each byte restarts it");
    p.now = 150_000_000;
    fire(&mut c, &mut p);
    assert_eq!(p.replies, [(A, 2)]);
    assert_eq!(p.get(BASE, 2), b"ab");
}

#[test]
fn readers_are_served_in_order() {
    let (mut c, mut p) = (Console::new(), Fake::new());
    assert_eq!(read(&mut c, &mut p, A, 100, 0), None);
    assert_eq!(read(&mut c, &mut p, B, 100, 0), None);
    c.receive(&mut p, b"1\n2\n");
    assert_eq!(p.replies, [(A, 2), (B, 2)]);
}

#[test]
fn a_bad_buffer_is_efault() {
    let (mut c, mut p) = (Console::new(), Fake::new());
    c.receive(&mut p, b"x\n");
    assert_eq!(c.syscall(&mut p, A, nr::READ, [0, 8, 10, 0, 0, 0]), Some(err(Errno::EFAULT)));
    assert_eq!(c.syscall(&mut p, A, nr::WRITE, [1, 8, 10, 0, 0, 0]), Some(err(Errno::EFAULT)));
    assert_eq!(ioctl(&mut c, &mut p, ioctl::TCGETS, 8), err(Errno::EFAULT));
}

#[test]
fn writes_go_through_output_processing() {
    let (mut c, mut p) = (Console::new(), Fake::new());
    p.put(BASE, b"one\ntwo\n");
    assert_eq!(c.syscall(&mut p, A, nr::WRITE, [1, BASE, 8, 0, 0, 0]), Some(8));
    assert_eq!(p.line_text(), b"one\r\ntwo\r\n");
    // A write running into unmapped memory stops there.
    let end = BASE + SIZE as u64 - 3;
    p.put(end, b"abc");
    assert_eq!(c.syscall(&mut p, A, nr::WRITE, [1, end, 10, 0, 0, 0]), Some(3));
    assert_eq!(p.line_text(), b"abc");
}

#[test]
fn readv_and_writev() {
    let (mut c, mut p) = (Console::new(), Fake::new());
    let iov = BASE + 0x2000;
    let mut v = Vec::new();
    for (base, len) in [(BASE, 2u64), (BASE + 0x100, 10)] {
        v.extend_from_slice(&base.to_le_bytes());
        v.extend_from_slice(&len.to_le_bytes());
    }
    p.put(iov, &v);
    c.receive(&mut p, b"hello\n");
    assert_eq!(c.syscall(&mut p, A, nr::READV, [0, iov, 2, 0, 0, 0]), Some(6));
    assert_eq!(p.get(BASE, 2), b"he");
    assert_eq!(p.get(BASE + 0x100, 4), b"llo\n");
    p.line_text();
    assert_eq!(c.syscall(&mut p, A, nr::WRITEV, [1, iov, 2, 0, 0, 0]), Some(12));
    assert_eq!(&p.line_text()[..8], b"hello\r\n\0");
    assert_eq!(c.syscall(&mut p, A, nr::READV, [0, iov, 5000, 0, 0, 0]), Some(err(Errno::EINVAL)));
    assert_eq!(c.syscall(&mut p, A, nr::WRITEV, [0, iov, u64::MAX, 0, 0, 0]), Some(err(Errno::EINVAL)));
}

#[test]
fn readv_waits_and_scatters() {
    let (mut c, mut p) = (Console::new(), Fake::new());
    set(&mut c, &mut p, raw(3, 0));
    let iov = BASE + 0x2000;
    let mut v = Vec::new();
    for (base, len) in [(BASE, 1u64), (BASE + 0x100, 10)] {
        v.extend_from_slice(&base.to_le_bytes());
        v.extend_from_slice(&len.to_le_bytes());
    }
    p.put(iov, &v);
    assert_eq!(c.syscall(&mut p, A, nr::READV, [0, iov, 2, 0, 0, 0]), None);
    c.receive(&mut p, b"a");
    c.receive(&mut p, b"bc");
    assert_eq!(p.replies, [(A, 3)]);
    assert_eq!(p.get(BASE, 1), b"a");
    assert_eq!(p.get(BASE + 0x100, 2), b"bc");
}

#[test]
fn termios_round_trip_and_flush() {
    let (mut c, mut p) = (Console::new(), Fake::new());
    let at = BASE + 0x200;
    assert_eq!(ioctl(&mut c, &mut p, ioctl::TCGETS, at), 0);
    assert_eq!(Termios::from_bytes(p.get(at, Termios::SIZE)), Termios::console());
    let mut t = Termios::console();
    t.lflag &= !lflag::ECHO;
    t.iflag |= iflag::IUTF8;
    c.receive(&mut p, b"typed ahead\n");
    p.put(at, &t.to_bytes());
    assert_eq!(ioctl(&mut c, &mut p, ioctl::TCSETSF, at), 0);
    assert_eq!(*c.ldisc.termios(), t);
    assert_eq!(read(&mut c, &mut p, A, 100, O_NONBLOCK), Some(err(Errno::EAGAIN)), "TCSETSF flushed the input");
    p.line_text();
    c.receive(&mut p, b"quiet\n");
    assert!(p.line_text().is_empty(), "echo is off");
    assert_eq!(ioctl(&mut c, &mut p, ioctl::TCGETS2, at), 0);
    assert_eq!(u32::from_le_bytes(p.get(at + 36, 4).try_into().unwrap()), 38400);
    p.put(at, &Termios::console().to_bytes2());
    assert_eq!(ioctl(&mut c, &mut p, ioctl::TCSETSW2, at), 0);
    assert_eq!(*c.ldisc.termios(), Termios::console());
}

#[test]
fn switching_to_raw_wakes_a_reader_with_the_partial_line() {
    let (mut c, mut p) = (Console::new(), Fake::new());
    assert_eq!(read(&mut c, &mut p, A, 100, 0), None);
    c.receive(&mut p, b"abc");
    set(&mut c, &mut p, raw(1, 0));
    assert_eq!(p.replies, [(A, 3)]);
}

#[test]
fn window_size_and_sigwinch() {
    let (mut c, mut p) = (Console::new(), Fake::new());
    let at = BASE + 0x300;
    assert_eq!(ioctl(&mut c, &mut p, ioctl::TIOCGWINSZ, at), 0);
    assert_eq!(p.get(at, 4), &[24, 0, 80, 0]);
    p.put(at, &Winsize([50, 132, 0, 0]).to_bytes());
    assert_eq!(ioctl(&mut c, &mut p, ioctl::TIOCSWINSZ, at), 0);
    assert_eq!(p.signals, [(1, SIGWINCH)]);
    assert_eq!(ioctl(&mut c, &mut p, ioctl::TIOCSWINSZ, at), 0);
    assert_eq!(p.signals.len(), 1, "no change, no signal");
}

#[test]
fn process_groups_and_session() {
    let (mut c, mut p) = (Console::new(), Fake::new());
    let at = BASE + 0x300;
    assert_eq!(ioctl(&mut c, &mut p, ioctl::TIOCGPGRP, at), 0);
    assert_eq!(p.get(at, 4), &1i32.to_le_bytes());
    p.put(at, &42i32.to_le_bytes());
    assert_eq!(ioctl(&mut c, &mut p, ioctl::TIOCSPGRP, at), 0);
    assert_eq!(c.fg_pgrp, 42);
    p.put(at, &(-1i32).to_le_bytes());
    assert_eq!(ioctl(&mut c, &mut p, ioctl::TIOCSPGRP, at), err(Errno::EINVAL));
    assert_eq!(ioctl(&mut c, &mut p, ioctl::TIOCGSID, at), 0);
    assert_eq!(p.get(at, 4), &1i32.to_le_bytes());
    assert_eq!(ioctl(&mut c, &mut p, ioctl::TIOCSCTTY, 0), 0);
    assert_eq!(ioctl(&mut c, &mut p, ioctl::TIOCNOTTY, 0), 0);
    assert_eq!(ioctl(&mut c, &mut p, 0x54ff, at), err(Errno::ENOTTY));
}

#[test]
fn fionread_flush_and_tiocsti() {
    let (mut c, mut p) = (Console::new(), Fake::new());
    let at = BASE + 0x300;
    c.receive(&mut p, b"ab\ncd");
    assert_eq!(ioctl(&mut c, &mut p, ioctl::FIONREAD, at), 0);
    assert_eq!(p.get(at, 4), &3i32.to_le_bytes(), "complete lines only");
    assert_eq!(ioctl(&mut c, &mut p, ioctl::TCFLSH, 0), 0);
    assert_eq!(ioctl(&mut c, &mut p, ioctl::FIONREAD, at), 0);
    assert_eq!(p.get(at, 4), &0i32.to_le_bytes());
    assert_eq!(ioctl(&mut c, &mut p, ioctl::TCFLSH, 9), err(Errno::EINVAL));
    p.put(at, b"\n");
    assert_eq!(ioctl(&mut c, &mut p, ioctl::TIOCSTI, at), 0);
    assert_eq!(read(&mut c, &mut p, A, 10, 0), Some(1));
}

#[test]
fn poll_reports_and_arms_a_notification() {
    let (mut c, mut p) = (Console::new(), Fake::new());
    let (pin, pout) = (proto::POLLIN, proto::POLLOUT);
    assert_eq!(c.call(proto::POLL, [pin | pout, 0, 0, 0, 0, 0]), pout);
    assert_eq!(c.call(proto::POLL, [pin, proto::READY_BIT, 0, 0, 0, 0]), 0);
    c.receive(&mut p, b"abc");
    assert_eq!(p.notified, 0, "no line yet");
    c.receive(&mut p, b"\n");
    assert_eq!(p.notified, proto::READY_BIT);
    assert_eq!(c.call(proto::POLL, [pin | pout, 0, 0, 0, 0, 0]), pin | pout);
    // Asking for output only arms nothing.
    p.notified = 0;
    let (mut c, mut p2) = (Console::new(), Fake::new());
    c.call(proto::POLL, [pout, proto::READY_BIT, 0, 0, 0, 0]);
    c.receive(&mut p2, b"x\n");
    assert_eq!(p2.notified, 0);
    assert_eq!(c.call(99, [0; 6]), err(Errno::ENOSYS));
}

#[test]
fn hangup_ends_readers_with_eof() {
    let (mut c, mut p) = (Console::new(), Fake::new());
    assert_eq!(read(&mut c, &mut p, A, 100, 0), None);
    assert_eq!(c.syscall(&mut p, B, nr::VHANGUP, [0; 6]), Some(0));
    assert_eq!(p.replies, [(A, 0)]);
}

#[test]
fn positioned_io_is_espipe_and_unknown_calls_enosys() {
    let (mut c, mut p) = (Console::new(), Fake::new());
    assert_eq!(c.syscall(&mut p, A, nr::PREAD64, [0, BASE, 1, 0, 0, 0]), Some(err(Errno::ESPIPE)));
    assert_eq!(c.syscall(&mut p, A, nr::GETPID, [0; 6]), Some(err(Errno::ENOSYS)));
}
