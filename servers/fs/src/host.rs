//! What a call that may wait needs beyond its caller's memory ([`Env`]):
//! the memory of the other callers the server holds, the time, and a way
//! to act after the message is handled ([`Effect`]).
//!
//! A blocked call (a read of an empty pipe, a poll with nothing ready) is
//! held: the server does not reply, and answers it later from another
//! message's handling (a write to the pipe, a timer, a Cancel). Until that
//! answer the held caller waits on this server, so the kernel still lets
//! the server copy to and from its memory.

use lstar_abi::errno::Errno;
use lstar_abi::ThreadId;

use crate::files::Pid;
use crate::user::Env;

/// The world of one message, for handlers that may hold calls.
pub trait Host: Env {
    /// The thread that sent the message being handled.
    fn caller(&self) -> ThreadId;
    /// Copies from the memory of `thread`, a caller this server holds.
    fn read_held(&mut self, thread: ThreadId, addr: u64, buf: &mut [u8]) -> Result<(), Errno>;
    /// Copies to the memory of `thread`, a caller this server holds.
    fn write_held(&mut self, thread: ThreadId, addr: u64, data: &[u8]) -> Result<(), Errno>;
    /// The monotonic clock, in ns.
    fn now(&mut self) -> u64;
}

/// Something the server's loop does once the message is handled, in
/// order. A [`Effect::Signal`] (SIGPIPE) goes with its call's answer, the
/// current message's or a held call's [`Effect::Reply`]: the loop forwards
/// that call to the process server, which raises the signal and answers
/// (lstar_abi::proc's module doc), so this server never waits for that
/// one, which may be waiting for this one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Raise `signo` (SIGPIPE) for thread `thread` of process `pid`, with
    /// the answer to its call.
    Signal { pid: Pid, thread: ThreadId, signo: u8 },
    /// Answer held caller `thread` with `value` (a result or `-errno`).
    Reply { thread: ThreadId, value: u64 },
    /// Arm this server's timer for monotonic time `deadline` (0 disarms).
    Timer { deadline: u64 },
}

/// SIGPIPE, which a write to a pipe with no reader sends its writer.
pub const SIGPIPE: u8 = 13;

/// A held caller's memory as an [`Env`], so that the copy helpers of
/// [`crate::user`] work on it.
pub struct HeldEnv<'a> {
    pub host: &'a mut dyn Host,
    pub thread: ThreadId,
}

impl Env for HeldEnv<'_> {
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        self.host.read_held(self.thread, addr, buf)
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        self.host.write_held(self.thread, addr, data)
    }

    fn console_write(&mut self, bytes: &[u8]) -> Result<(), Errno> {
        self.host.console_write(bytes)
    }

    fn random(&mut self, buf: &mut [u8]) {
        self.host.random(buf)
    }

    // forward_console keeps its default: only the message being handled
    // can be handed on, never a held call.

    fn console_poll(&mut self, events: u16, notify_bit: u64) -> Option<u16> {
        self.host.console_poll(events, notify_bit)
    }
}

/// A [`Host`] for tests: every caller shares one fake memory, the clock
/// is a number the test moves.
#[cfg(test)]
pub mod fake {
    use super::*;
    use crate::user::fake::FakeEnv;

    pub struct FakeHost {
        pub env: FakeEnv,
        pub caller: ThreadId,
        pub now: u64,
    }

    impl FakeHost {
        pub fn new(base: u64, size: usize) -> FakeHost {
            FakeHost { env: FakeEnv::new(base, size), caller: 100, now: 1_000_000_000 }
        }
    }

    impl Env for FakeHost {
        fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
            self.env.read(addr, buf)
        }

        fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), Errno> {
            self.env.write(addr, data)
        }

        fn console_write(&mut self, bytes: &[u8]) -> Result<(), Errno> {
            self.env.console_write(bytes)
        }

        fn random(&mut self, buf: &mut [u8]) {
            self.env.random(buf)
        }

        fn forward_console(&mut self, status_flags: u32) -> bool {
            self.env.forward_console(status_flags)
        }

        fn console_poll(&mut self, events: u16, notify_bit: u64) -> Option<u16> {
            self.env.console_poll(events, notify_bit)
        }

        fn clock(&mut self, id: u64) -> u64 {
            self.env.clock(id)
        }

        fn mem_info(&mut self) -> Option<(u64, u64)> {
            self.env.mem_info()
        }
    }

    impl Host for FakeHost {
        fn caller(&self) -> ThreadId {
            self.caller
        }

        fn read_held(&mut self, _thread: ThreadId, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
            self.env.read(addr, buf)
        }

        fn write_held(&mut self, _thread: ThreadId, addr: u64, data: &[u8]) -> Result<(), Errno> {
            self.env.write(addr, data)
        }

        fn now(&mut self) -> u64 {
            self.now
        }
    }
}
