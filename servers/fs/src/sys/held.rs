//! Calls that wait: the server's one entry point for a message
//! ([`FileServer::handle`]), and the calls it holds unanswered until they
//! can finish (a read of an empty pipe, a write to a full one, a poll with
//! nothing ready).
//!
//! Nothing here blocks the server. A call that must wait is recorded with
//! its caller's thread and the server goes on to the next message; after
//! every message each held call it may have let go on is tried again (see
//! `due`), and the ones that can now finish are answered (an
//! [`Effect::Reply`]). A held call also ends when its timeout passes (the
//! server's kernel timer, shared by every held poll, is kept at the
//! earliest deadline), when the kernel sends a Cancel because a signal
//! waits for the caller (`-EINTR`), or silently when the process server
//! reports the caller's process gone. (docs/decisions.md, D21.)

use alloc::boxed::Box;
use alloc::vec::Vec;
use lstar_abi::errno::Errno;
use lstar_abi::{Message, MessageKind, ThreadId};
use libsys::nr;

use super::fd::{FlockWait, LockWait, Locked};
use super::pipe::{FifoOpen, Opened, PipeIo};
use super::poll::PollWait;
use super::{fd_ret, int, uint};
use crate::linux::{o, AT_FDCWD, F_SETLKW};
use crate::files::{FileServer, Pid};
use crate::host::{Effect, HeldEnv, Host};

/// The notification bit of the server's timer (held polls' timeouts).
/// Other notification bits are free for other uses (the console's input).
pub const TIMER_BIT: u64 = 1 << 0;

/// A call the server has not answered yet.
pub(crate) struct Held {
    pub thread: ThreadId,
    pub pid: Pid,
    pub call: Waiting,
}

/// What a held call waits for.
pub(crate) enum Waiting {
    /// read or readv of an empty pipe: data, or its last writer gone.
    PipeRead(PipeIo),
    /// write or writev to a full pipe: room, or its last reader gone.
    PipeWrite(PipeIo),
    /// poll, ppoll, select or pselect6: a descriptor ready, or the time up.
    /// (Boxed: the largest by far, it would make every held call as big.)
    Poll(Box<PollWait>),
    /// open of a FIFO's end: the other end opened.
    FifoOpen(FifoOpen),
    /// fcntl F_SETLKW: the range free of other processes' record locks.
    RecordLock(LockWait),
    /// flock without LOCK_NB: the file free of other descriptions' locks.
    Flock(FlockWait),
}

/// The held calls, and what the server's loop has to do after the
/// message being handled.
#[derive(Default)]
pub struct Waits {
    held: Vec<Held>,
    effects: Vec<Effect>,
    /// The deadline the kernel timer is armed for; 0 when it is not.
    timer: u64,
}

/// What trying a held call again did.
enum Step {
    /// It finished with this answer.
    Done(u64),
    /// It moved bytes but must go on waiting (a large write).
    Progress,
    /// Nothing changed.
    Wait,
}

/// A result as the value a caller sees in RAX.
pub(crate) fn ret(r: Result<u64, Errno>) -> u64 {
    match r {
        Ok(v) => v,
        Err(e) => e.to_ret(),
    }
}

impl FileServer {
    /// Handles one message. Returns the answer for its sender, or `None`
    /// when there is none now: the call is held, or the message is not one
    /// that is answered (Notify, Cancel). Call [`FileServer::settle`]
    /// next, then carry out [`FileServer::take_effects`].
    pub fn handle(&mut self, host: &mut dyn Host, msg: &Message) -> Option<u64> {
        match msg.kind {
            MessageKind::Syscall => self.syscall_or_hold(host, pid_of(msg.tag), msg.syscall_nr(), msg.args),
            MessageKind::Call => Some(ret(self.call(host, msg.nr, msg.args))),
            MessageKind::Cancel => {
                self.cancel(host, msg.client);
                None
            }
            MessageKind::Notify => {
                if msg.args[0] & TIMER_BIT != 0 {
                    // The kernel timer is one-shot: it is disarmed now.
                    self.waits.timer = 0;
                }
                None
            }
            // Faults and interruptions come only from threads a server
            // created; this one creates none.
            MessageKind::Fault | MessageKind::Interrupted => None,
        }
    }

    /// After each message: the held calls it lets finish are answered
    /// (effects), and the timer follows the earliest deadline left. Apart
    /// from [`FileServer::handle`] so that a server that sent a request
    /// (the process server's EXIT, which may close a pipe's last end) can
    /// have its answer first: finishing held calls may call other servers.
    pub fn settle(&mut self, host: &mut dyn Host) {
        self.retry_held(host);
        self.arm_timer();
        self.stamp_times(host);
    }

    /// What the loop must do now that the message is handled, in order
    /// (drained in place, so that the list's memory serves the next
    /// message).
    pub fn take_effects(&mut self) -> alloc::vec::Drain<'_, Effect> {
        self.waits.effects.drain(..)
    }

    /// Calls held (for tests and the log).
    pub fn held_calls(&self) -> usize {
        self.waits.held.len()
    }

    /// A syscall: the ones that may wait are handled here, the rest by
    /// [`FileServer::syscall`].
    pub(crate) fn syscall_or_hold(&mut self, host: &mut dyn Host, pid: Pid, nr: u64, a: [u64; 6]) -> Option<u64> {
        let r = match nr {
            nr::OPEN => self.open_or_hold(host, pid, AT_FDCWD, a[0], uint(a[1]), uint(a[2])),
            nr::OPENAT => self.open_or_hold(host, pid, int(a[0]), a[1], uint(a[2]), uint(a[3])),
            nr::CREAT => self.open_or_hold(host, pid, AT_FDCWD, a[0], o::CREAT | o::WRONLY | o::TRUNC, uint(a[1])),
            nr::PIPE => self.pipe2(host, pid, a[0], 0).map(Some),
            nr::PIPE2 => self.pipe2(host, pid, a[0], uint(a[1])).map(Some),
            nr::READ | nr::WRITE | nr::READV | nr::WRITEV => match self.pipe_of(pid, int(a[0])) {
                Some(end) => self.pipe_io(host, pid, end, nr, a),
                None => self.syscall(host, pid, nr, a).map(Some),
            },
            nr::FCNTL if uint(a[1]) == F_SETLKW => self.setlkw(host, pid, int(a[0]), a[2]),
            nr::FLOCK => match self.flock(pid, int(a[0]), uint(a[1])) {
                Ok(Err(w)) => {
                    self.ref_ofd(w.ofd);
                    self.hold(host, pid, Waiting::Flock(w));
                    Ok(None)
                }
                Ok(Ok(v)) => Ok(Some(v)),
                Err(e) => Err(e),
            },
            nr::POLL => self.poll(host, pid, a[0], a[1], int(a[2])),
            nr::PPOLL => self.ppoll(host, pid, a[0], a[1], a[2], a[3], a[4]),
            nr::SELECT => self.select(host, pid, int(a[0]), [a[1], a[2], a[3]], a[4]),
            nr::PSELECT6 => self.pselect6(host, pid, int(a[0]), [a[1], a[2], a[3]], a[4], a[5]),
            _ => self.syscall(host, pid, nr, a).map(Some),
        };
        self.stamp_times(host);
        match r {
            Ok(Some(v)) => Some(v),
            Ok(None) => None,
            Err(e) => Some(e.to_ret()),
        }
    }

    /// An open, held if it is of a FIFO's end that must wait for the
    /// other end.
    fn open_or_hold(&mut self, host: &mut dyn Host, pid: Pid, dirfd: i32, addr: u64, flags: u32, mode: u32) -> Result<Option<u64>, Errno> {
        match self.openat(host, pid, dirfd, addr, flags, mode)? {
            Opened::Fd(fd) => Ok(Some(fd_ret(fd))),
            Opened::Wait(w) => {
                self.ref_ofd(w.ofd);
                self.hold(host, pid, Waiting::FifoOpen(w));
                Ok(None)
            }
        }
    }

    /// fcntl F_SETLKW, held while another process's lock is in the way.
    fn setlkw(&mut self, host: &mut dyn Host, pid: Pid, fd: i32, arg: u64) -> Result<Option<u64>, Errno> {
        let id = self.fd(pid, fd)?.ofd;
        if self.ofd(id).is_path() {
            return Err(Errno::EBADF);
        }
        match self.record_lock(host, pid, id, F_SETLKW, arg)? {
            Locked::Done(v) => Ok(Some(v)),
            Locked::Wait(mut w) => {
                w.fd = fd;
                self.ref_ofd(w.ofd);
                self.hold(host, pid, Waiting::RecordLock(w));
                Ok(None)
            }
        }
    }

    /// Holds the call being handled until [`FileServer::retry_held`] can
    /// finish it.
    pub(super) fn hold(&mut self, host: &mut dyn Host, pid: Pid, call: Waiting) {
        self.waits.held.push(Held { thread: host.caller(), pid, call });
    }

    pub(super) fn effect(&mut self, e: Effect) {
        self.waits.effects.push(e);
    }

    /// Tries the held calls again, oldest first, until none moves: one
    /// that finishes may let another go on (a reader empties the pipe a
    /// writer waits on). Only those that the message, or the pass before,
    /// may have let go on are tried ([`FileServer::due`]).
    fn retry_held(&mut self, host: &mut dyn Host) {
        let mut now = None;
        loop {
            self.pipes.start_pass();
            if self.waits.held.is_empty() {
                return;
            }
            let mut moved = false;
            // Out of `self` while they are tried (trying one holds none).
            let mut held = core::mem::take(&mut self.waits.held);
            held.retain_mut(|h| {
                if !self.due(&h.call) {
                    return true;
                }
                match self.resume(host, h, &mut now) {
                    Step::Done(value) => {
                        self.effect(Effect::Reply { thread: h.thread, value });
                        self.release(&h.call);
                        moved = true;
                        false
                    }
                    Step::Progress => {
                        moved = true;
                        true
                    }
                    Step::Wait => true,
                }
            });
            debug_assert!(self.waits.held.is_empty());
            self.waits.held = held;
            if !moved {
                return;
            }
        }
    }

    /// Whether a held call may go on now. One on a pipe waits for that
    /// pipe to change, and every change to a pipe marks it (crate::pipe),
    /// except for a write that waits with room in the pipe: for the data
    /// budget, which any file may give back. A poll may wait for anything.
    fn due(&self, call: &Waiting) -> bool {
        match call {
            Waiting::PipeRead(io) => self.pipes.was_changed(io.pipe),
            Waiting::PipeWrite(io) => self.pipes.was_changed(io.pipe) || !self.pipes.get(io.pipe).buf.is_full(),
            Waiting::FifoOpen(w) => self.pipes.was_changed(w.pipe),
            Waiting::Poll(_) => true,
            Waiting::RecordLock(w) => self.locks.generation() != w.generation,
            Waiting::Flock(w) => self.flocks.generation() != w.generation,
        }
    }

    fn resume(&mut self, host: &mut dyn Host, h: &mut Held, now: &mut Option<u64>) -> Step {
        let thread = h.thread;
        let step = match &mut h.call {
            Waiting::PipeRead(io) => self.pipe_read_step(&mut HeldEnv { host: &mut *host, thread }, io, false),
            Waiting::PipeWrite(io) => {
                let before = io.done;
                match self.pipe_write_step(&mut HeldEnv { host: &mut *host, thread }, (h.pid, thread), io, false, false) {
                    Ok(None) if io.done > before => return Step::Progress,
                    r => r,
                }
            }
            Waiting::Poll(w) => {
                let t = w.deadline().map(|_| *now.get_or_insert_with(|| host.now()));
                self.poll_step(host, thread, h.pid, w, t)
            }
            Waiting::FifoOpen(w) => self.fifo_open_step(h.pid, w),
            Waiting::RecordLock(w) => Ok(self.lock_step(h.pid, w)),
            Waiting::Flock(w) => Ok(self.flock_step(w)),
        };
        match step {
            Ok(Some(v)) => Step::Done(v),
            Ok(None) => Step::Wait,
            Err(e) => Step::Done(e.to_ret()),
        }
    }

    /// A Cancel: a signal waits for `thread`. A held call ends with the
    /// bytes a write already moved (as Linux's pipe_write returns them), or
    /// else with Linux's internal restart codes, which the process server
    /// turns into a restart or `-EINTR` as the signal's handler says: a
    /// pipe read or write restarts under SA_RESTART (RESTARTSYS), a poll
    /// never does once a handler ran (RESTARTNOHAND). Anything else is not
    /// held here, and the Cancel is stale: nothing to do.
    fn cancel(&mut self, host: &mut dyn Host, thread: ThreadId) {
        let Some(i) = self.waits.held.iter().position(|h| h.thread == thread) else { return };
        let h = self.waits.held.remove(i);
        self.release(&h.call);
        let value = match h.call {
            Waiting::PipeWrite(io) if io.done > 0 => io.done,
            Waiting::Poll(w) => {
                let now = host.now();
                w.interrupted(&mut HeldEnv { host: &mut *host, thread }, now);
                lstar_abi::errno::RESTARTNOHAND_RET
            }
            _ => lstar_abi::errno::RESTARTSYS_RET,
        };
        self.effect(Effect::Reply { thread, value });
    }

    /// Process `pid` has ended, or execve ended all its threads but the
    /// one that called it (which waits on the process server, not here):
    /// its held calls are dropped unanswered (their threads are gone).
    pub(crate) fn forget_held(&mut self, pid: Pid) {
        let (gone, kept) = core::mem::take(&mut self.waits.held).into_iter().partition(|h| h.pid == pid);
        self.waits.held = kept;
        for h in gone {
            self.release(&h.call);
        }
    }

    /// A held call is over: the end it kept open is let go.
    fn release(&mut self, call: &Waiting) {
        match call {
            Waiting::PipeRead(io) | Waiting::PipeWrite(io) => self.put_ofd(io.ofd),
            Waiting::FifoOpen(w) => self.put_ofd(w.ofd),
            Waiting::RecordLock(w) => self.put_ofd(w.ofd),
            Waiting::Flock(w) => self.put_ofd(w.ofd),
            Waiting::Poll(_) => {}
        }
    }

    /// Keeps the kernel timer at the earliest deadline of a held call.
    fn arm_timer(&mut self) {
        let next = self
            .waits
            .held
            .iter()
            .filter_map(|h| match &h.call {
                Waiting::Poll(w) => w.deadline(),
                _ => None,
            })
            .min()
            .unwrap_or(0);
        if next != self.waits.timer {
            self.waits.timer = next;
            self.effect(Effect::Timer { deadline: next });
        }
    }
}

/// The process a message comes from: its sender's tag, which the process
/// server sets to the pid. An untagged sender (0) is process 1.
fn pid_of(tag: u64) -> Pid {
    if tag == 0 {
        1
    } else {
        tag
    }
}
