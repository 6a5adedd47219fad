//! The small process calls: resource limits, getrandom, getrusage, times,
//! sysinfo, waitid.

use super::*;

const RLIMIT_NLIMITS: u64 = 16;
const RLIM_INFINITY: u64 = u64::MAX;
const RLIMIT_STACK: usize = 3;
const RLIMIT_NOFILE: usize = 7;
/// The most RLIMIT_NOFILE may be raised to (fs.nr_open's default).
const NR_OPEN: u64 = 1 << 20;

/// A process's limits: (soft, hard) per resource. The file server enforces
/// RLIMIT_NOFILE (1024 descriptors; told of changes with
/// lstar_abi::fs::NOFILE), the stack is 1 MiB; the rest are unlimited.
pub(crate) fn default_limits() -> [(u64, u64); RLIMIT_NLIMITS as usize] {
    let mut l = [(RLIM_INFINITY, RLIM_INFINITY); RLIMIT_NLIMITS as usize];
    l[RLIMIT_STACK] = (STACK_SIZE, RLIM_INFINITY);
    l[RLIMIT_NOFILE] = (1024, 1024);
    l
}

impl Procs {
    /// prlimit64(pid, resource, new, old); getrlimit and setrlimit are the
    /// same call on the caller.
    pub(crate) fn prlimit(&mut self, caller: u32, pid: i32, resource: u64, new: u64, old: u64, client: Client) -> Result<u64, Errno> {
        if resource >= RLIMIT_NLIMITS {
            return Err(Errno::EINVAL);
        }
        let target = if pid == 0 { caller } else { u32::try_from(pid).map_err(|_| Errno::EINVAL)? };
        let p = self.procs.get(&target).filter(|p| p.ended.is_none()).ok_or(Errno::ESRCH)?;
        let cur = p.limits[resource as usize];
        let set = if new != 0 {
            let mut b = [0u8; 16];
            client.read(new, &mut b)?;
            let soft = u64::from_le_bytes(b[..8].try_into().expect("8"));
            let hard = u64::from_le_bytes(b[8..].try_into().expect("8"));
            if soft > hard {
                return Err(Errno::EINVAL);
            }
            if resource as usize == RLIMIT_NOFILE && hard > NR_OPEN {
                return Err(Errno::EPERM);
            }
            Some((soft, hard))
        } else {
            None
        };
        if old != 0 {
            let mut b = [0u8; 16];
            b[..8].copy_from_slice(&cur.0.to_le_bytes());
            b[8..].copy_from_slice(&cur.1.to_le_bytes());
            client.write(old, &b)?;
        }
        if let Some(l) = set {
            self.procs.get_mut(&target).expect("checked").limits[resource as usize] = l;
            // The file server enforces this one.
            if let (RLIMIT_NOFILE, Some(fs)) = (resource as usize, self.fs) {
                let _ = libsys::call(fs, lstar_abi::fs::NOFILE, [target.into(), l.0, 0, 0]);
            }
        }
        Ok(0)
    }

    pub(crate) fn getrandom(&self, client: Client, buf: u64, len: u64, flags: u64) -> Result<u64, Errno> {
        const GRND_NONBLOCK: u64 = 1;
        const GRND_RANDOM: u64 = 2;
        const GRND_INSECURE: u64 = 4;
        // GRND_INSECURE and GRND_RANDOM ask for opposite things: Linux
        // refuses the pair.
        if flags & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0 || flags & (GRND_RANDOM | GRND_INSECURE) == GRND_RANDOM | GRND_INSECURE {
            return Err(Errno::EINVAL);
        }
        // Linux caps one call at 32 MiB - 1; callers loop.
        let len = len.min(256 * 1024);
        let mut done = 0;
        while done < len {
            let chunk = libsys::random::bytes();
            let n = (len - done).min(16) as usize;
            client.write(buf + done, &chunk[..n])?;
            done += n as u64;
        }
        Ok(len)
    }

    /// getrusage: no CPU accounting yet, so all zero (a valid answer).
    pub(crate) fn getrusage(&self, client: Client, who: i64, usage: u64) -> Result<u64, Errno> {
        const RUSAGE_SELF: i64 = 0;
        const RUSAGE_CHILDREN: i64 = -1;
        const RUSAGE_THREAD: i64 = 1;
        if ![RUSAGE_SELF, RUSAGE_CHILDREN, RUSAGE_THREAD].contains(&who) {
            return Err(Errno::EINVAL);
        }
        client.write(usage, &[0u8; 144])?;
        Ok(0)
    }

    /// times: zero CPU times; the return value is clock ticks (100 Hz)
    /// since boot.
    pub(crate) fn times(&self, client: Client, buf: u64) -> Result<u64, Errno> {
        if buf != 0 {
            client.write(buf, &[0u8; 32])?;
        }
        Ok(mem::clock(lstar_abi::native::clock::MONOTONIC)? / 10_000_000)
    }

    /// sysinfo: uptime, process count and memory as far as known.
    pub(crate) fn sysinfo(&self, client: Client, info: u64) -> Result<u64, Errno> {
        let mut b = [0u8; 112];
        let uptime = mem::clock(lstar_abi::native::clock::MONOTONIC)? / 1_000_000_000;
        b[0..8].copy_from_slice(&uptime.to_le_bytes());
        let total: u64 = 512 << 20;
        b[32..40].copy_from_slice(&total.to_le_bytes()); // totalram
        b[40..48].copy_from_slice(&(total / 2).to_le_bytes()); // freeram
        b[80..82].copy_from_slice(&(self.procs.len() as u16).to_le_bytes()); // procs
        b[104..108].copy_from_slice(&1u32.to_le_bytes()); // mem_unit
        client.write(info, &b)?;
        Ok(0)
    }
}
