//! futex(2), enough for musl's threads: WAIT, WAKE, the BITSET forms,
//! REQUEUE and CMP_REQUEUE. Futexes are private to a process (keyed by pid
//! and address); waiters wait on this server and are answered by a wake,
//! a timeout (through the sleep timer) or a signal.

use super::*;

const FUTEX_WAIT: u64 = 0;
const FUTEX_WAKE: u64 = 1;
const FUTEX_REQUEUE: u64 = 3;
const FUTEX_CMP_REQUEUE: u64 = 4;
const FUTEX_WAIT_BITSET: u64 = 9;
const FUTEX_WAKE_BITSET: u64 = 10;
const FUTEX_PRIVATE_FLAG: u64 = 128;
const FUTEX_CLOCK_REALTIME: u64 = 256;

/// A thread in FUTEX_WAIT.
pub(crate) struct Waiter {
    pub pid: u32,
    pub thread: ThreadId,
    pub addr: u64,
    pub bitset: u32,
}

impl Procs {
    pub(crate) fn futex(&mut self, thread: ThreadId, pid: u32, a: [u64; 6]) -> Outcome {
        let (addr, op, val) = (a[0], a[1], a[2] as u32);
        let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
        if addr % 4 != 0 {
            return Outcome::Reply(Errno::EINVAL.to_ret());
        }
        let r = match cmd {
            FUTEX_WAIT | FUTEX_WAIT_BITSET => {
                let bitset = if cmd == FUTEX_WAIT { u32::MAX } else { a[5] as u32 };
                return self.futex_wait(thread, pid, addr, val, a[3], bitset, cmd == FUTEX_WAIT_BITSET, op & FUTEX_CLOCK_REALTIME != 0);
            }
            FUTEX_WAKE => Ok(self.futex_wake(pid, addr, val, u32::MAX)),
            FUTEX_WAKE_BITSET if a[5] as u32 == 0 => Err(Errno::EINVAL),
            FUTEX_WAKE_BITSET => Ok(self.futex_wake(pid, addr, val, a[5] as u32)),
            FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => self.futex_requeue(thread, pid, addr, val, a[3] as u32, a[4], (cmd == FUTEX_CMP_REQUEUE).then_some(a[5] as u32)),
            _ => Err(Errno::ENOSYS),
        };
        ret(r)
    }

    #[allow(clippy::too_many_arguments)] // futex's own argument list
    fn futex_wait(&mut self, thread: ThreadId, pid: u32, addr: u64, val: u32, timeout: u64, bitset: u32, absolute: bool, realtime: bool) -> Outcome {
        let r = (|| -> Result<Option<u64>, Errno> {
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            let mut word = [0u8; 4];
            Client(thread).read(addr, &mut word)?;
            if u32::from_le_bytes(word) != val {
                return Err(Errno::EAGAIN);
            }
            if timeout == 0 {
                return Ok(None);
            }
            let mut ts = [0u8; 16];
            Client(thread).read(timeout, &mut ts)?;
            let sec = i64::from_le_bytes(ts[..8].try_into().expect("8"));
            let nsec = i64::from_le_bytes(ts[8..].try_into().expect("8"));
            if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
                return Err(Errno::EINVAL);
            }
            let t = (sec as u64).saturating_mul(1_000_000_000).saturating_add(nsec as u64);
            let mono = mem::clock(lstar_abi::native::clock::MONOTONIC)?;
            let deadline = if absolute {
                let clock = if realtime { lstar_abi::native::clock::REALTIME } else { lstar_abi::native::clock::MONOTONIC };
                let now = mem::clock(clock)?;
                mono + t.saturating_sub(now)
            } else {
                mono + t
            };
            Ok(Some(deadline))
        })();
        match r {
            Err(e) => Outcome::Reply(e.to_ret()),
            Ok(deadline) => {
                self.futexes.push(Waiter { pid, thread, addr, bitset });
                if let Some(deadline) = deadline {
                    self.add_sleeper(time::Sleeper { deadline, thread, pid, futex: true, rem: 0 });
                }
                Outcome::NoReply
            }
        }
    }

    /// Wakes up to `n` waiters on `addr` in `pid` whose bitset meets
    /// `bitset`; returns how many.
    pub(crate) fn futex_wake(&mut self, pid: u32, addr: u64, n: u32, bitset: u32) -> u64 {
        let mut woken = 0u64;
        while woken < n as u64 {
            let Some(i) = self.futexes.iter().position(|w| w.pid == pid && w.addr == addr && w.bitset & bitset != 0) else { break };
            let w = self.futexes.remove(i);
            self.remove_sleeper(w.thread);
            let out = self.finish(pid, w.thread, Some(0));
            reply_to(w.thread, out);
            woken += 1;
        }
        woken
    }

    #[allow(clippy::too_many_arguments)] // futex's own argument list
    fn futex_requeue(&mut self, thread: ThreadId, pid: u32, addr: u64, n_wake: u32, n_move: u32, addr2: u64, expect: Option<u32>) -> Result<u64, Errno> {
        // The counts are C ints: negative ones are refused.
        if addr2 % 4 != 0 || (n_wake as i32) < 0 || (n_move as i32) < 0 {
            return Err(Errno::EINVAL);
        }
        if let Some(v) = expect {
            let mut word = [0u8; 4];
            Client(thread).read(addr, &mut word)?;
            if u32::from_le_bytes(word) != v {
                return Err(Errno::EAGAIN);
            }
        }
        let woken = self.futex_wake(pid, addr, n_wake, u32::MAX);
        let mut moved = 0u64;
        for w in self.futexes.iter_mut().filter(|w| w.pid == pid && w.addr == addr) {
            if moved >= n_move as u64 {
                break;
            }
            w.addr = addr2;
            moved += 1;
        }
        // Both forms count the waiters woken and the waiters moved.
        Ok(woken + moved)
    }

    /// Ends `thread`'s futex wait for a signal; whether it had a timeout
    /// (Linux restarts an untimed wait under SA_RESTART, not a timed one).
    pub(crate) fn interrupt_futex(&mut self, thread: ThreadId) -> Option<bool> {
        let i = self.futexes.iter().position(|w| w.thread == thread)?;
        self.futexes.remove(i);
        let timed = self.sleepers.iter().any(|s| s.thread == thread);
        self.remove_sleeper(thread);
        Some(timed)
    }

    /// A futex wait timed out.
    pub(crate) fn futex_timeout(&mut self, thread: ThreadId) -> Option<(u32, ThreadId)> {
        let i = self.futexes.iter().position(|w| w.thread == thread)?;
        let w = self.futexes.remove(i);
        Some((w.pid, w.thread))
    }
}
