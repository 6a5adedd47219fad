//! The bytes of /proc's files, in the formats proc(5) gives, made from
//! plain values so that each has a test.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use crate::files::Pid;

/// /proc/version. The release and version are those the process server's
/// uname(2) gives (servers/proc: `uname`); keep them in step.
pub const VERSION: &[u8] = b"Linux version 6.1.0-lstar (root@lstar) (rustc) #1 Lstar\n";

/// /proc/<pid>/mounts (and /proc/mounts): the one tmpfs at the root, and
/// /proc.
pub const MOUNTS: &[u8] = b"rootfs / tmpfs rw 0 0\nproc /proc proc rw 0 0\n";

/// /proc/filesystems: the file systems there are, neither on a device.
pub const FILESYSTEMS: &[u8] = b"nodev\ttmpfs\nnodev\tproc\n";

/// Clock ticks per second in /proc's times (USER_HZ).
const HZ: u64 = 100;

/// The `comm` of a program run as `path`: its last component, at most
/// 15 bytes.
pub fn comm_of(path: &[u8]) -> Vec<u8> {
    let base = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    base[..base.len().min(super::COMM_MAX)].to_vec()
}

/// Seconds with two decimals, from ns.
fn centis(ns: u64) -> String {
    let cs = ns / 10_000_000;
    format!("{}.{:02}", cs / 100, cs % 100)
}

/// /proc/uptime: the seconds since boot, then the idle seconds. The file
/// server does not know CPU time, so it counts all of it as idle.
pub fn uptime(now_ns: u64) -> Vec<u8> {
    let t = centis(now_ns);
    format!("{t} {t}\n").into_bytes()
}

/// /proc/meminfo from the kernel's page counts (4 KiB pages), in kB.
/// What lives in the tmpfs is shared memory, as Linux counts a tmpfs; the
/// rest (buffers, swap) Lstar has not.
pub fn meminfo(free_pages: u64, total_pages: u64, tmpfs_bytes: u64) -> Vec<u8> {
    let kb = |pages: u64| pages * 4;
    let shmem = tmpfs_bytes / 1024;
    let rows: [(&str, u64); 11] = [
        ("MemTotal", kb(total_pages)),
        ("MemFree", kb(free_pages)),
        ("MemAvailable", kb(free_pages)),
        ("Buffers", 0),
        ("Cached", shmem),
        ("SwapCached", 0),
        ("SwapTotal", 0),
        ("SwapFree", 0),
        ("Shmem", shmem),
        ("Mapped", 0),
        ("Slab", 0),
    ];
    let mut out = String::new();
    for (name, value) in rows {
        // "Name:" in a 16-column field, the value in 8, as Linux writes it.
        let _ = writeln!(out, "{:<16}{value:>8} kB", format!("{name}:"));
    }
    out.into_bytes()
}

/// /proc/loadavg: no load is measured; `procs` processes, one running
/// (the reader), and the last pid made.
pub fn loadavg(procs: usize, last_pid: Pid) -> Vec<u8> {
    format!("0.00 0.00 0.00 1/{procs} {last_pid}\n").into_bytes()
}

/// /proc/stat: one CPU whose time is all idle (as in [`uptime`]), the
/// boot time in seconds since the epoch, and the process counts.
pub fn stat(now_ns: u64, boot_time: u64, forks: u64) -> Vec<u8> {
    let idle = now_ns / (1_000_000_000 / HZ);
    let mut out = String::new();
    let _ = writeln!(out, "cpu  0 0 0 {idle} 0 0 0 0 0 0");
    let _ = writeln!(out, "cpu0 0 0 0 {idle} 0 0 0 0 0 0");
    let _ = writeln!(out, "intr 0\nctxt 0\nbtime {boot_time}\nprocesses {forks}");
    let _ = writeln!(out, "procs_running 1\nprocs_blocked 0");
    out.into_bytes()
}

/// The values of a /proc/<pid>/stat line that are known.
pub struct StatLine<'a> {
    pub pid: Pid,
    pub comm: &'a [u8],
    pub state: u8,
    pub ppid: Pid,
    /// tty_nr: the controlling terminal's device number, or 0.
    pub tty: u64,
    /// When the process started, in clock ticks after boot.
    pub start_ticks: u64,
}

/// /proc/<pid>/stat: the 52 fields of proc(5), one line. Process group
/// and session are the pid (the process server keeps them); the terminal's
/// foreground group is unknown (-1); CPU times, faults and memory are 0;
/// one thread; exit signal SIGCHLD; no limit on the resident size.
pub fn pid_stat(s: &StatLine) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(format!("{} (", s.pid).as_bytes());
    out.extend_from_slice(s.comm);
    out.extend_from_slice(b") ");
    let mut rest = String::new();
    let pid = s.pid;
    // state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
    let _ = write!(rest, "{} {} {pid} {pid} {} -1 0 0 0 0 0", s.state as char, s.ppid, s.tty);
    // utime stime cutime cstime priority nice num_threads itrealvalue starttime
    let _ = write!(rest, " 0 0 0 0 20 0 1 0 {}", s.start_ticks);
    // vsize rss rsslim
    let _ = write!(rest, " 0 0 {}", u64::MAX);
    // startcode endcode startstack kstkesp kstkeip signal blocked sigignore
    // sigcatch wchan nswap cnswap
    rest.push_str(" 0 0 0 0 0 0 0 0 0 0 0 0");
    // exit_signal processor rt_priority policy delayacct_blkio_ticks
    // guest_time cguest_time start_data end_data start_brk arg_start arg_end
    // env_start env_end exit_code
    rest.push_str(" 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
    out.extend_from_slice(rest.as_bytes());
    out
}

/// /proc/<pid>/status: the lines the file server can fill. `fds` is one
/// more than the highest open descriptor; FDSize is the table that holds
/// it, at least 64 as in Linux.
pub fn pid_status(pid: Pid, ppid: Pid, comm: &[u8], state: u8, umask: u32, fds: i32) -> Vec<u8> {
    let mut out = b"Name:\t".to_vec();
    out.extend_from_slice(comm);
    let state_name = if state == b'R' { "R (running)" } else { "S (sleeping)" };
    let fd_size = (fds.max(1) as u32).next_power_of_two().max(64);
    let mut rest = String::new();
    let _ = write!(
        rest,
        "\nUmask:\t{umask:04o}\nState:\t{state_name}\nTgid:\t{pid}\nNgid:\t0\nPid:\t{pid}\nPPid:\t{ppid}\nTracerPid:\t0\n\
         Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t{fd_size}\nGroups:\t\nNStgid:\t{pid}\nNSpid:\t{pid}\n\
         VmRSS:\t       0 kB\nThreads:\t1\n"
    );
    out.extend_from_slice(rest.as_bytes());
    out
}

/// /proc/cpuinfo for the one CPU Lstar runs on, from CPUID.
pub fn cpuinfo() -> Vec<u8> {
    let id = cpu::Id::read();
    let mut out = String::new();
    let _ = writeln!(out, "processor\t: 0");
    let _ = writeln!(out, "vendor_id\t: {}", id.vendor);
    let _ = writeln!(out, "cpu family\t: {}", id.family);
    let _ = writeln!(out, "model\t\t: {}", id.model);
    let _ = writeln!(out, "model name\t: {}", id.name);
    let _ = writeln!(out, "stepping\t: {}", id.stepping);
    let _ = writeln!(out, "physical id\t: 0\nsiblings\t: 1\ncore id\t\t: 0\ncpu cores\t: 1\napicid\t\t: 0");
    let _ = writeln!(out, "fpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: {}\nwp\t\t: yes", id.max_leaf);
    let _ = writeln!(out, "flags\t\t: {}", id.flags.join(" "));
    let _ = writeln!(out, "clflush size\t: {}", id.clflush);
    let _ = writeln!(out, "address sizes\t: {} bits physical, {} bits virtual", id.phys_bits, id.virt_bits);
    out.push('\n');
    out.into_bytes()
}

/// What CPUID says about the processor.
mod cpu {
    use alloc::string::String;
    use alloc::vec::Vec;

    pub struct Id {
        pub vendor: String,
        pub name: String,
        pub family: u32,
        pub model: u32,
        pub stepping: u32,
        pub max_leaf: u32,
        pub clflush: u32,
        pub phys_bits: u32,
        pub virt_bits: u32,
        pub flags: Vec<&'static str>,
    }

    /// Feature bits by the names programs know them by: (leaf, register
    /// (0 EBX, 1 ECX, 2 EDX), bit, name).
    const FLAGS: &[(u32, u8, u32, &str)] = &[
        (1, 2, 0, "fpu"),
        (1, 2, 1, "vme"),
        (1, 2, 2, "de"),
        (1, 2, 3, "pse"),
        (1, 2, 4, "tsc"),
        (1, 2, 5, "msr"),
        (1, 2, 6, "pae"),
        (1, 2, 7, "mce"),
        (1, 2, 8, "cx8"),
        (1, 2, 9, "apic"),
        (1, 2, 11, "sep"),
        (1, 2, 12, "mtrr"),
        (1, 2, 13, "pge"),
        (1, 2, 14, "mca"),
        (1, 2, 15, "cmov"),
        (1, 2, 16, "pat"),
        (1, 2, 17, "pse36"),
        (1, 2, 19, "clflush"),
        (1, 2, 23, "mmx"),
        (1, 2, 24, "fxsr"),
        (1, 2, 25, "sse"),
        (1, 2, 26, "sse2"),
        (1, 2, 28, "ht"),
        (0x8000_0001, 2, 11, "syscall"),
        (0x8000_0001, 2, 20, "nx"),
        (0x8000_0001, 2, 26, "pdpe1gb"),
        (0x8000_0001, 2, 27, "rdtscp"),
        (0x8000_0001, 2, 29, "lm"),
        (1, 1, 0, "pni"),
        (1, 1, 1, "pclmulqdq"),
        (1, 1, 9, "ssse3"),
        (1, 1, 12, "fma"),
        (1, 1, 13, "cx16"),
        (1, 1, 17, "pcid"),
        (1, 1, 19, "sse4_1"),
        (1, 1, 20, "sse4_2"),
        (1, 1, 21, "x2apic"),
        (1, 1, 22, "movbe"),
        (1, 1, 23, "popcnt"),
        (1, 1, 25, "aes"),
        (1, 1, 26, "xsave"),
        (1, 1, 28, "avx"),
        (1, 1, 29, "f16c"),
        (1, 1, 30, "rdrand"),
        (1, 1, 31, "hypervisor"),
        (0x8000_0001, 1, 0, "lahf_lm"),
        (0x8000_0001, 1, 5, "abm"),
        (7, 0, 0, "fsgsbase"),
        (7, 0, 3, "bmi1"),
        (7, 0, 5, "avx2"),
        (7, 0, 7, "smep"),
        (7, 0, 8, "bmi2"),
        (7, 0, 9, "erms"),
        (7, 0, 10, "invpcid"),
        (7, 0, 18, "rdseed"),
        (7, 0, 19, "adx"),
        (7, 0, 20, "smap"),
        (7, 0, 29, "sha_ni"),
    ];

    #[cfg(target_arch = "x86_64")]
    fn cpuid(leaf: u32) -> [u32; 4] {
        let r = core::arch::x86_64::__cpuid_count(leaf, 0);
        [r.eax, r.ebx, r.ecx, r.edx]
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn cpuid(_leaf: u32) -> [u32; 4] {
        [0; 4]
    }

    /// Bytes of registers as text: trailing NULs and surrounding spaces dropped.
    fn text(words: &[u32]) -> String {
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).take_while(|&b| b != 0).collect();
        String::from_utf8_lossy(&bytes).trim().into()
    }

    impl Id {
        pub fn read() -> Id {
            let [max_leaf, b, c, d] = cpuid(0);
            let vendor = text(&[b, d, c]);
            let max_ext = cpuid(0x8000_0000)[0];
            let leaf = |l: u32| -> [u32; 4] {
                let supported = if l >= 0x8000_0000 { l <= max_ext } else { l <= max_leaf };
                if supported {
                    cpuid(l)
                } else {
                    [0; 4]
                }
            };
            let [sig, misc, ..] = leaf(1);
            let base_family = (sig >> 8) & 0xf;
            let family = if base_family == 0xf { base_family + ((sig >> 20) & 0xff) } else { base_family };
            let mut model = (sig >> 4) & 0xf;
            if base_family == 6 || base_family == 0xf {
                model |= ((sig >> 16) & 0xf) << 4;
            }
            let name = if max_ext >= 0x8000_0004 {
                let words: Vec<u32> = (0x8000_0002..=0x8000_0004).flat_map(cpuid).collect();
                text(&words)
            } else {
                String::from("unknown")
            };
            let flags = FLAGS
                .iter()
                .filter(|&&(l, reg, bit, _)| {
                    let r = leaf(l);
                    let word = [r[1], r[2], r[3]][reg as usize];
                    word & (1 << bit) != 0
                })
                .map(|&(_, _, _, name)| name)
                .collect();
            let sizes = leaf(0x8000_0008)[0];
            let (phys_bits, virt_bits) = if sizes == 0 { (36, 48) } else { (sizes & 0xff, (sizes >> 8) & 0xff) };
            Id { vendor, name, family, model, stepping: sig & 0xf, max_leaf, clflush: ((misc >> 8) & 0xff) * 8, phys_bits, virt_bits, flags }
        }
    }
}
