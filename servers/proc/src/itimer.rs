//! Interval timers: alarm, setitimer, getitimer. Each process has three.
//! ITIMER_REAL counts real time and sends SIGALRM; it expires through the
//! one kernel timer that also ends sleeps (time.rs). ITIMER_VIRTUAL and
//! ITIMER_PROF count the process's CPU time and send SIGVTALRM and
//! SIGPROF. The kernel charges a thread all its time as user time, so
//! the two count the same; while either is armed, the timer also fires
//! every [`CPU_POLL_NS`] to look at the process's CPU time, so they
//! expire up to that late (Linux looks at each tick). fork passes no timer
//! on; execve keeps them.

use super::*;

const ITIMER_REAL: u64 = 0;
const ITIMER_VIRTUAL: u64 = 1;
const ITIMER_PROF: u64 = 2;
const SIGVTALRM: u8 = 26;
const SIGPROF: u8 = 27;
/// How often an armed CPU-time timer is looked at.
const CPU_POLL_NS: u64 = 10_000_000;
const NS_PER_US: u64 = 1000;
const US_PER_S: u64 = 1_000_000;

/// One timer: when it expires, on its clock (monotonic ns for
/// ITIMER_REAL, the process's CPU ns for the others; None: disarmed), and
/// the interval it is then set again for (0: once). A disarmed CPU-time
/// timer keeps the interval it was given, as Linux's getitimer shows.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Itimer {
    deadline: Option<u64>,
    interval: u64,
}

/// `struct itimerval`: the interval, then the value, each a
/// `struct timeval` of two i64 (seconds, microseconds).
fn read_itimerval(client: Client, addr: u64) -> Result<(u64, u64), Errno> {
    let mut b = [0u8; 32];
    client.read(addr, &mut b)?;
    let word = |i: usize| i64::from_le_bytes(b[8 * i..8 * i + 8].try_into().expect("8 bytes"));
    let timeval = |sec: i64, usec: i64| -> Result<u64, Errno> {
        if sec < 0 || !(0..US_PER_S as i64).contains(&usec) {
            return Err(Errno::EINVAL);
        }
        Ok((sec as u64).saturating_mul(US_PER_S * NS_PER_US).saturating_add(usec as u64 * NS_PER_US))
    };
    Ok((timeval(word(0), word(1))?, timeval(word(2), word(3))?))
}

fn write_itimerval(client: Client, addr: u64, interval: u64, value: u64) -> Result<(), Errno> {
    let mut b = [0u8; 32];
    for (i, ns) in [interval, value].into_iter().enumerate() {
        let us = ns / NS_PER_US;
        b[16 * i..16 * i + 8].copy_from_slice(&(us / US_PER_S).to_le_bytes());
        b[16 * i + 8..16 * i + 16].copy_from_slice(&(us % US_PER_S).to_le_bytes());
    }
    client.write(addr, &b)
}

impl Procs {
    /// The time on timer `which`'s clock for `pid`.
    fn itimer_now(&self, pid: u32, which: u64) -> Result<u64, Errno> {
        if which == ITIMER_REAL {
            mem::clock(lstar_abi::native::clock::MONOTONIC)
        } else {
            Ok(self.cpu_ns(pid))
        }
    }

    /// Timer `which` of `pid` as (interval, time left) in ns; a timer
    /// that is due but has not fired yet has 1 µs left, as on Linux.
    fn itimer_get(&self, pid: u32, which: u64) -> Result<(u64, u64), Errno> {
        let slot = usize::try_from(which).ok().filter(|&w| w as u64 <= ITIMER_PROF).ok_or(Errno::EINVAL)?;
        let t = self.procs[&pid].itimers[slot];
        let Some(deadline) = t.deadline else { return Ok((t.interval, 0)) };
        let now = self.itimer_now(pid, which)?;
        Ok((t.interval, deadline.checked_sub(now).filter(|&left| left > 0).unwrap_or(NS_PER_US)))
    }

    /// Sets timer `which` of `pid` to expire after `value` ns (0: disarm),
    /// then every `interval` ns; returns what it was.
    fn itimer_set(&mut self, pid: u32, which: u64, interval: u64, value: u64) -> Result<(u64, u64), Errno> {
        let old = self.itimer_get(pid, which)?;
        let now = self.itimer_now(pid, which)?;
        let deadline = (value != 0).then(|| now.saturating_add(value));
        // ITIMER_REAL forgets its interval when disarmed; the others keep it.
        let interval = if which == ITIMER_REAL && deadline.is_none() { 0 } else { interval };
        self.procs.get_mut(&pid).expect("caller exists").itimers[which as usize] = Itimer { deadline, interval };
        self.arm_timer();
        Ok(old)
    }

    /// getitimer(2).
    pub(crate) fn getitimer(&self, client: Client, pid: u32, which: u64, cur: u64) -> Result<u64, Errno> {
        let (interval, value) = self.itimer_get(pid, which)?;
        write_itimerval(client, cur, interval, value)?;
        Ok(0)
    }

    /// setitimer(2). A null `new` disarms, as Linux still allows.
    pub(crate) fn setitimer(&mut self, client: Client, pid: u32, which: u64, new: u64, old: u64) -> Result<u64, Errno> {
        let (interval, value) = if new == 0 { (0, 0) } else { read_itimerval(client, new)? };
        let (was_interval, was_value) = self.itimer_set(pid, which, interval, value)?;
        if old != 0 {
            write_itimerval(client, old, was_interval, was_value)?;
        }
        Ok(0)
    }

    /// alarm(2): ITIMER_REAL set to `seconds`, once; returns the seconds
    /// the previous one had left, rounded to the nearest (at least 1 if
    /// any time was left).
    pub(crate) fn alarm(&mut self, pid: u32, seconds: u64) -> Result<u64, Errno> {
        let seconds = seconds & u64::from(u32::MAX);
        let (_, left) = self.itimer_set(pid, ITIMER_REAL, 0, seconds * US_PER_S * NS_PER_US)?;
        let (secs, usec) = (left / (US_PER_S * NS_PER_US), left / NS_PER_US % US_PER_S);
        Ok(if (secs == 0 && usec != 0) || usec >= US_PER_S / 2 { secs + 1 } else { secs })
    }

    /// The earliest moment the kernel timer must fire for the interval
    /// timers: the first ITIMER_REAL deadline, or the next look at the
    /// CPU-time ones.
    pub(crate) fn next_itimer_deadline(&self) -> Option<u64> {
        let live = || self.procs.values().filter(|p| p.ended.is_none());
        let real = live().filter_map(|p| p.itimers[ITIMER_REAL as usize].deadline).min();
        let cpu = live().any(|p| p.itimers[1..].iter().any(|t| t.deadline.is_some()));
        // On a fixed 10 ms grid, so that re-arming the timer often (each
        // sleep does) never puts the look off.
        let poll = cpu.then(|| mem::clock(lstar_abi::native::clock::MONOTONIC).ok()).flatten().map(|now| (now / CPU_POLL_NS + 1) * CPU_POLL_NS);
        real.into_iter().chain(poll).min()
    }

    /// The timer fired: every interval timer that is due sends its signal
    /// and is set again for its interval, or disarmed.
    pub(crate) fn expire_itimers(&mut self) {
        let armed: Vec<(u32, usize)> =
            self.procs.iter().filter(|(_, p)| p.ended.is_none()).flat_map(|(&pid, p)| (0..3).filter(move |&w| p.itimers[w].deadline.is_some()).map(move |w| (pid, w))).collect();
        for (pid, which) in armed {
            // An earlier signal of this loop may have ended the process
            // (and a parent that ignores SIGCHLD reaped it at once).
            if !self.procs.get(&pid).is_some_and(|p| p.ended.is_none()) {
                continue;
            }
            let Ok(now) = self.itimer_now(pid, which as u64) else { continue };
            let p = self.procs.get_mut(&pid).expect("looked up above");
            let t = p.itimers[which];
            let Some(deadline) = t.deadline.filter(|&d| d <= now) else { continue };
            // Set again past now: expiries missed meanwhile send one signal.
            let next = (t.interval != 0).then(|| now + t.interval - (now - deadline) % t.interval);
            p.itimers[which].deadline = next;
            let signo = match which as u64 {
                ITIMER_REAL => signal::SIGALRM,
                ITIMER_VIRTUAL => SIGVTALRM,
                _ => SIGPROF,
            };
            self.send(pid, signal::Info::sent(signo, signal::SI_KERNEL, 0), None);
        }
        self.arm_timer();
    }
}
