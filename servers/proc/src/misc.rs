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

/// A process's resource usage beyond what the kernel counts for its live
/// threads.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Usage {
    /// CPU time (ns) of its threads that have ended; once the process has
    /// ended, of all of them.
    pub ended_ns: u64,
    /// CPU time of the children it waited for, with theirs (RUSAGE_CHILDREN).
    pub children_ns: u64,
    /// The largest resident size seen, KiB.
    pub maxrss: u64,
    /// The largest of its waited-for children's.
    pub children_maxrss: u64,
}

/// A struct rusage with `ns` of user time and `maxrss` KiB (the rest zero).
pub(crate) fn rusage(ns: u64, maxrss: u64) -> [u8; 144] {
    let mut b = [0u8; 144];
    b[0..8].copy_from_slice(&(ns / 1_000_000_000).to_le_bytes()); // ru_utime.tv_sec
    b[8..16].copy_from_slice(&((ns % 1_000_000_000) / 1000).to_le_bytes()); // ru_utime.tv_usec
    b[32..40].copy_from_slice(&maxrss.to_le_bytes()); // ru_maxrss
    b
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

    /// getrusage: CPU time (all of it counted as user time: the kernel
    /// keeps one run time per thread) and the largest resident size.
    pub(crate) fn getrusage(&mut self, client: Client, who: i64, usage: u64) -> Result<u64, Errno> {
        const RUSAGE_SELF: i64 = 0;
        const RUSAGE_CHILDREN: i64 = -1;
        const RUSAGE_THREAD: i64 = 1;
        let pid = *self.by_thread.get(&client.0).ok_or(Errno::ESRCH)?;
        let (ns, maxrss) = match who {
            RUSAGE_SELF => (self.cpu_ns(pid), self.note_rss(pid)),
            RUSAGE_CHILDREN => {
                let u = &self.procs[&pid].usage;
                (u.children_ns, u.children_maxrss)
            }
            RUSAGE_THREAD => (mem::thread_time(client.0)?, self.note_rss(pid)),
            _ => return Err(Errno::EINVAL),
        };
        client.write(usage, &rusage(ns, maxrss))?;
        Ok(0)
    }

    /// times: the caller's and its waited-for children's CPU time in clock
    /// ticks (100 Hz, all user time); returns the ticks since boot.
    pub(crate) fn times(&mut self, client: Client, buf: u64) -> Result<u64, Errno> {
        const NS_PER_TICK: u64 = 10_000_000;
        if buf != 0 {
            let pid = *self.by_thread.get(&client.0).ok_or(Errno::ESRCH)?;
            let mut b = [0u8; 32];
            b[0..8].copy_from_slice(&(self.cpu_ns(pid) / NS_PER_TICK).to_le_bytes()); // tms_utime
            b[16..24].copy_from_slice(&(self.procs[&pid].usage.children_ns / NS_PER_TICK).to_le_bytes()); // tms_cutime
            client.write(buf, &b)?;
        }
        Ok(mem::clock(lstar_abi::native::clock::MONOTONIC)? / NS_PER_TICK)
    }

    /// The CPU time of process `pid`: its ended threads' and its live ones'.
    pub(crate) fn cpu_ns(&self, pid: u32) -> u64 {
        let p = &self.procs[&pid];
        p.usage.ended_ns + p.threads.keys().map(|&t| mem::thread_time(t).unwrap_or(0)).sum::<u64>()
    }

    /// A thread of `pid` is about to end: its run time stays with the
    /// process.
    pub(crate) fn thread_ending(&mut self, pid: u32, thread: ThreadId) {
        let ns = mem::thread_time(thread).unwrap_or(0);
        if let Some(p) = self.procs.get_mut(&pid) {
            p.usage.ended_ns += ns;
        }
    }

    /// Records `pid`'s present size as a resident-size high-water mark
    /// (every mapped page is resident: mappings are filled when made);
    /// returns the mark, in KiB.
    pub(crate) fn note_rss(&mut self, pid: u32) -> u64 {
        let p = self.procs.get_mut(&pid).expect("a live process");
        let bytes: u64 = p.map.iter().map(|v| v.end - v.start).sum();
        p.usage.maxrss = p.usage.maxrss.max(bytes / 1024);
        p.usage.maxrss
    }

    /// An ended child is waited for: its usage, with its own children's,
    /// joins its parent's RUSAGE_CHILDREN. Returns what wait4 reports for
    /// it (CPU ns, largest resident size in KiB).
    pub(crate) fn collect_usage(&mut self, child: &Process) -> (u64, u64) {
        let u = child.usage;
        let (ns, maxrss) = (u.ended_ns + u.children_ns, u.maxrss.max(u.children_maxrss));
        if let Some(parent) = self.procs.get_mut(&child.ppid) {
            parent.usage.children_ns += ns;
            parent.usage.children_maxrss = parent.usage.children_maxrss.max(maxrss);
        }
        (ns, maxrss)
    }

    /// What wait4 reports for a child it leaves in place (a stop, a
    /// continue, WNOWAIT): its usage so far, with its children's.
    pub(crate) fn usage_of(&mut self, child: u32) -> (u64, u64) {
        let maxrss = self.note_rss(child);
        let u = self.procs[&child].usage;
        (self.cpu_ns(child) + u.children_ns, maxrss.max(u.children_maxrss))
    }

    /// sched_getaffinity: one CPU, so the mask is CPU 0 alone. Linux wants
    /// room for every possible CPU in whole longs, and returns the bytes
    /// it wrote (one long).
    pub(crate) fn sched_getaffinity(&self, client: Client, caller: u32, tid: i32, len: u64, mask: u64) -> Result<u64, Errno> {
        const MASK_BYTES: u64 = 8;
        if len < MASK_BYTES || len % MASK_BYTES != 0 {
            return Err(Errno::EINVAL);
        }
        self.affinity_target(caller, tid)?;
        client.write(mask, &1u64.to_le_bytes())?;
        Ok(MASK_BYTES)
    }

    /// sched_setaffinity: a mask must include CPU 0, the only one; bytes
    /// past the first long are ignored, missing ones read as zero.
    pub(crate) fn sched_setaffinity(&self, client: Client, caller: u32, tid: i32, len: u64, mask: u64) -> Result<u64, Errno> {
        let mut b = [0u8; 8];
        let n = len.min(8) as usize;
        if n > 0 {
            client.read(mask, &mut b[..n])?;
        }
        self.affinity_target(caller, tid)?;
        if b[0] & 1 == 0 {
            return Err(Errno::EINVAL);
        }
        Ok(0)
    }

    /// getcpu: one CPU and one NUMA node, both numbered 0; each pointer
    /// may be null (the third argument, a cache, is ignored since 2.6.24).
    pub(crate) fn getcpu(&self, client: Client, cpu: u64, node: u64) -> Result<u64, Errno> {
        for at in [cpu, node] {
            if at != 0 {
                client.write(at, &0u32.to_le_bytes())?;
            }
        }
        Ok(0)
    }

    /// The thread a scheduling call names: 0 for the caller, else a thread
    /// id of a live process.
    fn affinity_target(&self, caller: u32, tid: i32) -> Result<(), Errno> {
        if tid < 0 {
            return Err(Errno::ESRCH);
        }
        let tid = if tid == 0 { caller } else { tid as u32 };
        let live = self.procs.values().any(|p| p.ended.is_none() && p.threads.values().any(|t| t.tid == tid));
        if live { Ok(()) } else { Err(Errno::ESRCH) }
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
