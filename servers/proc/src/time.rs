//! Time: clock_gettime, gettimeofday, time, nanosleep, clock_nanosleep.
//! Sleepers wait on this server; one kernel timer on its endpoint is kept
//! at the earliest deadline (theirs, rt_sigtimedwait's, the interval
//! timers') and wakes them through a Notify message.

use super::*;

const CLOCK_REALTIME: u64 = 0;
const CLOCK_MONOTONIC: u64 = 1;
const CLOCK_PROCESS_CPUTIME_ID: u64 = 2;
const CLOCK_THREAD_CPUTIME_ID: u64 = 3;
const CLOCK_MONOTONIC_RAW: u64 = 4;
const CLOCK_REALTIME_COARSE: u64 = 5;
const CLOCK_MONOTONIC_COARSE: u64 = 6;
const CLOCK_BOOTTIME: u64 = 7;
const TIMER_ABSTIME: u64 = 1;
/// The notification bit of the sleep timer.
pub(crate) const TIMER_BIT: u64 = 1;

/// A thread in nanosleep, or in a futex wait with a timeout: woken at
/// `deadline` (monotonic ns).
pub(crate) struct Sleeper {
    pub deadline: u64,
    pub thread: ThreadId,
    pub pid: u32,
    /// A futex wait's timeout (ETIMEDOUT) rather than a sleep (0).
    pub futex: bool,
    /// A relative sleep's `rem` pointer (0 for none): where a signal that
    /// ends the sleep early leaves the time still to sleep.
    pub rem: u64,
}

fn now(clock: u64) -> Result<u64, Errno> {
    match clock {
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE => mem::clock(lstar_abi::native::clock::REALTIME),
        CLOCK_MONOTONIC | CLOCK_MONOTONIC_RAW | CLOCK_MONOTONIC_COARSE | CLOCK_BOOTTIME => mem::clock(lstar_abi::native::clock::MONOTONIC),
        // clock_gettime reads the CPU clocks from the kernel's run times;
        // a sleep on the process's CPU clock waits as long in real time.
        CLOCK_PROCESS_CPUTIME_ID | CLOCK_THREAD_CPUTIME_ID => mem::clock(lstar_abi::native::clock::MONOTONIC),
        _ => Err(Errno::EINVAL),
    }
}

fn timespec(ns: u64) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&(ns / 1_000_000_000).to_le_bytes());
    b[8..].copy_from_slice(&(ns % 1_000_000_000).to_le_bytes());
    b
}

pub(crate) fn read_timespec(client: Client, addr: u64) -> Result<u64, Errno> {
    let mut b = [0u8; 16];
    client.read(addr, &mut b)?;
    let sec = i64::from_le_bytes(b[..8].try_into().expect("8"));
    let nsec = i64::from_le_bytes(b[8..].try_into().expect("8"));
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(Errno::EINVAL);
    }
    Ok((sec as u64).saturating_mul(1_000_000_000).saturating_add(nsec as u64))
}

/// Whose run time a CPU-time clock reads.
enum CpuClock {
    Process(u32),
    Thread(ThreadId),
}

impl Procs {
    /// The CPU-time clock `clock` names for `thread`, or None for another
    /// kind of clock: CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, or
    /// a negative id from clock_getcpuclockid or pthread_getcpuclockid (the
    /// pid or tid, complemented, above three bits; bit 2 for a thread; the
    /// low two bits a kind below 3, all three the same time here). A
    /// process that does not exist, or a thread of another process, is
    /// EINVAL, as on Linux.
    fn cpu_clock(&self, thread: ThreadId, clock: u64) -> Option<Result<CpuClock, Errno>> {
        const PER_THREAD: i32 = 4;
        let pid = *self.by_thread.get(&thread)?;
        let id = clock as u32 as i32; // a clockid_t is an int
        let named = match id {
            2 => return Some(Ok(CpuClock::Process(pid))),
            3 => return Some(Ok(CpuClock::Thread(thread))),
            id if id >= 0 => return None,
            id if id & 3 == 3 => return Some(Err(Errno::EINVAL)),
            id => (!(id >> 3)) as u32,
        };
        Some(if id & PER_THREAD != 0 {
            let p = &self.procs[&pid];
            let t = if named == 0 { Some(thread) } else { p.threads.iter().find(|(_, t)| t.tid == named).map(|(&id, _)| id) };
            t.map(CpuClock::Thread).ok_or(Errno::EINVAL)
        } else if named == 0 {
            Ok(CpuClock::Process(pid))
        } else if self.procs.contains_key(&named) {
            Ok(CpuClock::Process(named))
        } else {
            Err(Errno::EINVAL)
        })
    }

    pub(crate) fn clock_gettime(&self, client: Client, clock: u64, ts: u64) -> Result<u64, Errno> {
        let t = match self.cpu_clock(client.0, clock) {
            Some(Ok(CpuClock::Process(pid))) => self.cpu_ns(pid),
            Some(Ok(CpuClock::Thread(t))) => mem::thread_time(t)?,
            Some(Err(e)) => return Err(e),
            None => now(clock)?,
        };
        client.write(ts, &timespec(t))?;
        Ok(0)
    }

    pub(crate) fn clock_getres(&self, client: Client, clock: u64, ts: u64) -> Result<u64, Errno> {
        match self.cpu_clock(client.0, clock) {
            Some(Err(e)) => return Err(e),
            Some(Ok(_)) => {}
            None => {
                now(clock)?;
            }
        }
        if ts != 0 {
            client.write(ts, &timespec(1))?;
        }
        Ok(0)
    }

    pub(crate) fn gettimeofday(&self, client: Client, tv: u64, tz: u64) -> Result<u64, Errno> {
        let t = now(CLOCK_REALTIME)?;
        if tv != 0 {
            let mut b = [0u8; 16];
            b[..8].copy_from_slice(&(t / 1_000_000_000).to_le_bytes());
            b[8..].copy_from_slice(&((t % 1_000_000_000) / 1000).to_le_bytes());
            client.write(tv, &b)?;
        }
        if tz != 0 {
            client.write(tz, &[0u8; 8])?; // UTC, no DST
        }
        Ok(0)
    }

    pub(crate) fn time(&self, client: Client, at: u64) -> Result<u64, Errno> {
        let secs = now(CLOCK_REALTIME)? / 1_000_000_000;
        if at != 0 {
            client.write(at, &secs.to_le_bytes())?;
        }
        Ok(secs)
    }

    /// nanosleep and clock_nanosleep: the caller waits here until the
    /// deadline (or a signal ends the sleep with EINTR, leaving the time
    /// left at `rem` for a relative sleep).
    pub(crate) fn sleep(&mut self, thread: ThreadId, pid: u32, clock: u64, flags: u64, req: u64, rem: u64) -> Outcome {
        let r = (|| -> Result<Option<u64>, Errno> {
            let client = Client(thread);
            // Linux cannot sleep on a thread's CPU clock.
            if clock == CLOCK_THREAD_CPUTIME_ID {
                return Err(Errno::EINVAL);
            }
            let t = read_timespec(client, req)?;
            let start = now(clock)?;
            let wait = if flags & TIMER_ABSTIME != 0 { t.saturating_sub(start) } else { t };
            if wait == 0 {
                return Ok(None);
            }
            Ok(Some(mem::clock(lstar_abi::native::clock::MONOTONIC)? + wait))
        })();
        match r {
            Err(e) => Outcome::Reply(e.to_ret()),
            Ok(None) => Outcome::Reply(0),
            Ok(Some(deadline)) => {
                let rem = if flags & TIMER_ABSTIME != 0 { 0 } else { rem };
                self.add_sleeper(Sleeper { deadline, thread, pid, futex: false, rem });
                Outcome::NoReply
            }
        }
    }

    pub(crate) fn add_sleeper(&mut self, s: Sleeper) {
        self.sleepers.push(s);
        self.arm_timer();
    }

    pub(crate) fn remove_sleeper(&mut self, thread: ThreadId) {
        let before = self.sleepers.len();
        self.sleepers.retain(|s| s.thread != thread);
        if self.sleepers.len() != before {
            self.arm_timer();
        }
    }

    /// Sets the one timer to the earliest deadline: a sleeper's, an
    /// rt_sigtimedwait's or an interval timer's (itimer.rs).
    pub(crate) fn arm_timer(&self) {
        let next = self.sleepers.iter().map(|s| s.deadline).chain(self.next_sigwait_deadline()).chain(self.next_itimer_deadline()).min().unwrap_or(0);
        if let Err(e) = mem::timer_set(next, TIMER_BIT) {
            println!("proc: cannot set the sleep timer: {}", e.text());
        }
    }

    /// The timer fired: wake every sleeper whose deadline has passed.
    pub(crate) fn wake_sleepers(&mut self) {
        let Ok(t) = mem::clock(lstar_abi::native::clock::MONOTONIC) else { return };
        let (due, rest): (Vec<Sleeper>, Vec<Sleeper>) = core::mem::take(&mut self.sleepers).into_iter().partition(|s| s.deadline <= t);
        self.sleepers = rest;
        for s in due {
            let result = if s.futex {
                if self.futex_timeout(s.thread).is_none() {
                    continue; // woken meanwhile
                }
                Errno::ETIMEDOUT.to_ret()
            } else {
                0
            };
            let out = self.finish(s.pid, s.thread, Some(result));
            reply_to(s.thread, out);
        }
        self.arm_timer();
    }

    /// A signal for a sleeping thread ends its sleep early with EINTR
    /// (true); a relative sleep learns, at its `rem`, how much was left.
    pub(crate) fn interrupt_sleep(&mut self, thread: ThreadId) -> bool {
        let Some(i) = self.sleepers.iter().position(|s| s.thread == thread && !s.futex) else { return false };
        let s = self.sleepers.remove(i);
        self.arm_timer();
        if s.rem != 0 {
            let left = mem::clock(lstar_abi::native::clock::MONOTONIC).map_or(0, |now| s.deadline.saturating_sub(now));
            // A bad `rem` is the caller's loss: the sleep still ends.
            let _ = Client(s.thread).write(s.rem, &timespec(left));
        }
        true
    }
}
