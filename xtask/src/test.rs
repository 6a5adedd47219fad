//! `cargo xtask test`: host unit tests, then one QEMU boot per test case.
//! The cases are a table; adding a test is adding one entry to CASES (and,
//! usually, a C program to tests/programs/).
//!
//! The serial console is a terminal whose line discipline writes each "\n"
//! as "\r\n" (ONLCR); every check sees the serial output with "\r\n"
//! turned back into "\n" ([`qemu::crlf_to_lf`]) and is byte-exact
//! otherwise.

use std::io::{Read as _, Write as _};
use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use anyhow::{Context as _, Result};

use crate::build::Built;
use crate::initrd::Payload;
use crate::qemu::{self, Echo, Outcome, Serial};
use crate::{build, deps, initrd, kpti_audit, Ctx};

/// One QEMU test: boot `program` with `args` and check the result.
struct Case {
    name: &'static str,
    /// The stem of a tests/programs/*.c file; argv[0] is `/bin/<program>`.
    program: &'static str,
    args: &'static [&'static str],
    /// Added to the default environment, as with `--env`.
    env: &'static [(&'static str, &'static str)],
    /// Kernel command-line words besides `kpti=on`.
    cmdline: &'static [&'static str],
    /// A typed session: (text to wait for, text to type) steps. Empty for
    /// a program that gets no input.
    session: &'static [(&'static str, &'static str)],
    /// The boot carries busybox and its applet links, as `cargo xtask run`
    /// does. With program [`BUSYBOX`], busybox itself runs and `args` is its
    /// whole argv (`["sh", "-c", "…"]`).
    busybox: bool,
    /// A directory of the repository whose files, and the program itself,
    /// the program finds in the directory it starts in: a fresh copy of
    /// them (`target/lstar/tests/<case>/host/`) is where the host run
    /// starts, and is copied over Lstar's root (a tmpfs, where the program
    /// starts) as an `--overlay` is.
    workdir: Option<&'static str>,
    check: Check,
}

/// The `program` of a case that runs busybox (see [`Case::busybox`]).
const BUSYBOX: &str = "busybox";

/// The `program` of a case that runs Debian's sqlite3 shell (see
/// [`Case::sqlite`]).
const SQLITE3: &str = "sqlite3";

enum Check {
    /// Run the program on the host too, with the same argv and environment:
    /// the serial output, with the terminal's "\r\n" read as "\n", must
    /// equal the host's merged stdout and stderr byte for byte, and the exit
    /// statuses must match.
    Differential,
    /// A predicate on what the boot left behind.
    Expect(fn(&Seen) -> Result<(), String>),
}

impl Case {
    const fn new(name: &'static str, program: &'static str, check: Check) -> Self {
        Case {
            name,
            program,
            args: &[],
            env: &[],
            cmdline: &[],
            session: &[],
            busybox: false,
            workdir: None,
            check,
        }
    }

    /// Runs busybox: `argv` is its whole argument vector.
    const fn busybox(name: &'static str, argv: &'static [&'static str], check: Check) -> Self {
        let mut case = Case::new(name, BUSYBOX, check);
        case.args = argv;
        case.busybox = true;
        case
    }

    /// Runs the sqlite3 shell (`crate::sqlite`) as `/bin/sqlite3 args…`
    /// in a copy of tests/sqlite/, with busybox for the `/bin/sh` that its
    /// `.system` command starts `./sqlite3` with.
    const fn sqlite(name: &'static str, args: &'static [&'static str], check: Check) -> Self {
        let mut case = Case::new(name, SQLITE3, check);
        case.args = args;
        case.workdir = Some("tests/sqlite");
        case.busybox = true;
        case
    }

    /// Packs busybox and its applets next to a test program.
    #[allow(dead_code)] // for cases that exec busybox applets from C
    const fn with_busybox(mut self) -> Self {
        self.busybox = true;
        self
    }

    /// Types into the console as the program runs: each step waits (up to
    /// qemu::STEP_TIMEOUT) for its text to appear in the output after the
    /// previous step's, then types its input. Not for differential cases:
    /// the host run has no terminal.
    const fn session(mut self, steps: &'static [(&'static str, &'static str)]) -> Self {
        self.session = steps;
        self
    }

    const fn args(mut self, args: &'static [&'static str]) -> Self {
        self.args = args;
        self
    }

    const fn env(mut self, env: &'static [(&'static str, &'static str)]) -> Self {
        self.env = env;
        self
    }

    const fn cmdline(mut self, words: &'static [&'static str]) -> Self {
        self.cmdline = words;
        self
    }
}

/// Every QEMU test, run in this order.
const CASES: &[Case] = &[
    Case::new("hello", "hello", Check::Differential),
    Case::new("argv", "argv", Check::Differential)
        .args(&["a", "b", "c"])
        .env(&[("FOO", "bar")]),
    Case::new("exit42", "exit42", Check::Expect(|seen| seen.status_is(42))),
    // Not differential: the host kernel may have x32 syscalls disabled.
    Case::new("syscall_abi", "syscall_abi", Check::Expect(syscall_abi)),
    Case::new("kernel_read", "kernel_read", Check::Expect(kernel_read)).cmdline(&["kpti_audit"]),
    Case::new("trace", "hello", Check::Expect(trace)).cmdline(&["trace"]),
    Case::new("hello_pie", "hello_pie", Check::Differential),
    // The same ABI checks with KPTI off: one CR3 per address space.
    Case::new("syscall_abi_nokpti", "syscall_abi", Check::Expect(syscall_abi)).cmdline(&["kpti=off"]),
    // Hostile arguments to every call a child may make; afterwards the
    // system must still work (no panic, no server lost).
    Case::new("fuzz_syscalls", "fuzz_syscalls", Check::Expect(fuzz_syscalls)),
    Case::new("fork_wait", "fork_wait", Check::Differential),
    Case::new("signals", "signals", Check::Differential),
    Case::new("time_sleep", "time_sleep", Check::Differential),
    Case::new("memory", "memory", Check::Differential),
    Case::new("threads", "threads", Check::Differential),
    Case::new("misc", "misc", Check::Differential),
    // An interactive busybox shell on the console, typed at as a person
    // would: a pipeline, a here-document, a background job and wait,
    // Ctrl-C ending a foreground sleep with the shell surviving, and vi
    // opening a file and quitting.
    Case::busybox("shell_session", &["sh"], Check::Expect(shell_session)).session(&[
        ("# ", "echo pipe:$(echo abc | tr a-z A-Z) | cat\n"),
        ("pipe:ABC", "cat <<EOF | tr a-z A-Z\nhere line\nEOF\n"),
        ("HERE LINE", "sleep 1 & wait; echo waited=$?\n"),
        // Ctrl-C ends the job and, as in any Linux shell, the rest of the
        // command line: the status is asked for on the next line.
        ("waited=0", "sh -c 'echo sleep''ing; exec sleep 100'\n"),
        ("sleeping", "\x03"),
        ("# ", "echo status=$?\n"),
        ("status=130", "printf 'x\\171z\\n' > /tmp/f; vi /tmp/f\n"),
        // vi starts in command mode; ESC right before ':' would read as an
        // escape sequence, as on any terminal typed that fast.
        ("xyz", ":q!\r"),
        ("# ", "echo vi-done; exit 3\n"),
    ]),
    Case::new("jobctl", "jobctl", Check::Differential),
    Case::new("mmap_file", "mmap_file", Check::Differential),
    Case::new("waitid", "waitid", Check::Differential),
    // The structural counts the bench reports: two SYSCALLs (the caller's
    // and the server's ReplyRecv), two IPC messages and, with KPTI, four
    // CR3 writes per forwarded call.
    Case::new("counters", "counters", Check::Expect(|seen| counters(seen, 4))),
    Case::new("counters_nokpti", "counters", Check::Expect(|seen| counters(seen, 2))).cmdline(&["kpti=off"]),
    Case::new("argv_slowpath", "argv", Check::Differential)
        .args(&["through", "the", "scheduler"])
        .cmdline(&["fastpath=off"]),
    // The file server. Each program works in its own /tmp directory.
    Case::new("fs_io", "fs_io", Check::Differential),
    Case::new("fs_dirs", "fs_dirs", Check::Differential),
    Case::new("fs_links", "fs_links", Check::Differential),
    Case::new("fs_fds", "fs_fds", Check::Differential),
    Case::new("fs_meta", "fs_meta", Check::Differential),
    // Lstar's console and initial tree, which the host's differ from; the
    // same verdict as syscall_abi: every line ok, then "all ok".
    Case::new("fs_console", "fs_console", Check::Expect(syscall_abi)),
    // The console server's terminal, typed at: each step waits for text
    // in the output, then types; the whole transcript (echo included) is
    // checked.
    Case::new("tty_echo", "tty_echo", Check::Expect(tty_echo)).session(&[
        ("> ", "hello\n"),
        ("> ", "ab\x7fc\n"),
        ("> ", "xyz\x15ok\r"),
        ("> ", "one two\x17three\n"),
        ("> ", "\x04"),
    ]),
    Case::new("tty_sigint", "tty_sigint", Check::Expect(tty_sigint)).session(&[
        ("reading\n", "abc\x03"),
        ("again\n", "after\n"),
        ("child reading\n", "\x03"),
        ("child reading\n", "\x1c"),
    ]),
    Case::new("tty_raw", "tty_raw", Check::Expect(tty_raw)).session(&[
        ("raw: icanon 0 echo 0 isig 1\n", "a\x7f\x15\r"),
        ("vmin 3\n", "xyz"),
        ("cooked\n", "hi\r"),
    ]),
    Case::new("tty_job", "tty_job", Check::Expect(tty_job))
        .session(&[("child in the foreground\n", "\x03")]),
    Case::new("tty_poll", "tty_poll", Check::Expect(tty_poll)).session(&[
        ("waiting\n", "hello\n"),
        ("partial\n", "par"),
        ("finish\n", "t\n"),
        ("select waiting\n", "sel\n"),
        ("raw\n", "k"),
    ]),
    // Pipes and waiting on descriptors, in the file server.
    Case::new("pipe_basic", "pipe_basic", Check::Differential),
    Case::new("pipe_block", "pipe_block", Check::Differential),
    // Held calls answered through the scheduler rather than the fast path.
    Case::new("pipe_block_slowpath", "pipe_block", Check::Differential)
        .cmdline(&["fastpath=off"]),
    Case::new("pipe_nonblock", "pipe_nonblock", Check::Differential),
    Case::new("pipe_sigpipe", "pipe_sigpipe", Check::Differential),
    Case::new("pipe_eintr", "pipe_eintr", Check::Differential),
    Case::new("pipe_pipeline", "pipe_pipeline", Check::Differential),
    Case::new("poll_basic", "poll_basic", Check::Differential),
    Case::new("poll_select", "poll_select", Check::Differential),
    // /proc in the file server: what a process sees of itself and of the
    // machine (the same on the host), then Lstar's own rules and busybox's
    // ps and friends reading it.
    Case::new("proc_self", "proc_self", Check::Differential).args(&["one", "two words"]),
    Case::new("proc_files", "proc_files", Check::Differential),
    Case::new("proc_rules", "proc_rules", Check::Expect(syscall_abi)),
    Case::busybox("proc_busybox", &["sh", "-c", PROC_BUSYBOX], Check::Expect(proc_busybox)),
    // A second real program: sqlite3 runs tests/sqlite/script.sql on a
    // database file (rollback journal, WAL, an attached second file,
    // VACUUM, mmap reads, reopening), on the host and in Lstar.
    Case::sqlite("sqlite", &["-batch", "-bail", "test.db", ".read script.sql"], Check::Differential),
    // Small differential programs, one group of calls and its errors each
    // (tests/programs/abi_*.c). Those where Lstar still differs from Linux
    // would wait outside this table until fixed; none does today.
    Case::new("abi_rw_edge", "abi_rw_edge", Check::Differential),
    Case::new("abi_lseek", "abi_lseek", Check::Differential),
    Case::new("abi_pread", "abi_pread", Check::Differential),
    Case::new("abi_iovec", "abi_iovec", Check::Differential),
    Case::new("abi_open_flags", "abi_open_flags", Check::Differential),
    Case::new("abi_openat", "abi_openat", Check::Differential),
    Case::new("abi_dup", "abi_dup", Check::Differential),
    Case::new("abi_fcntl", "abi_fcntl", Check::Differential),
    // Record locks between processes, which sqlite builds on.
    Case::new("abi_record_locks", "abi_record_locks", Check::Differential),
    Case::new("abi_close", "abi_close", Check::Differential),
    Case::new("abi_stat", "abi_stat", Check::Differential),
    Case::new("abi_statx", "abi_statx", Check::Differential),
    Case::new("abi_readdir", "abi_readdir", Check::Differential),
    Case::new("abi_mkdir_rmdir", "abi_mkdir_rmdir", Check::Differential),
    Case::new("abi_unlink", "abi_unlink", Check::Differential),
    Case::new("abi_rename", "abi_rename", Check::Differential),
    Case::new("abi_links", "abi_links", Check::Differential),
    Case::new("abi_eloop", "abi_eloop", Check::Differential),
    Case::new("abi_nametoolong", "abi_nametoolong", Check::Differential),
    Case::new("abi_cwd", "abi_cwd", Check::Differential),
    Case::new("abi_access", "abi_access", Check::Differential),
    Case::new("abi_chmod_umask", "abi_chmod_umask", Check::Differential),
    Case::new("abi_chown", "abi_chown", Check::Differential),
    Case::new("abi_truncate", "abi_truncate", Check::Differential),
    Case::new("abi_pipe_eof", "abi_pipe_eof", Check::Differential),
    Case::new("abi_pipeline2", "abi_pipeline2", Check::Differential),
    Case::new("abi_poll_edge", "abi_poll_edge", Check::Differential),
    Case::new("abi_wait", "abi_wait", Check::Differential),
    Case::new("abi_exit_codes", "abi_exit_codes", Check::Differential),
    Case::new("abi_wait_pgrp", "abi_wait_pgrp", Check::Differential),
    Case::new("abi_kill", "abi_kill", Check::Differential),
    Case::new("abi_pgrp_session", "abi_pgrp_session", Check::Differential),
    Case::new("abi_sigmask", "abi_sigmask", Check::Differential),
    Case::new("abi_sig_inherit", "abi_sig_inherit", Check::Differential),
    Case::new("abi_sa_restart", "abi_sa_restart", Check::Differential),
    Case::new("abi_sigaction", "abi_sigaction", Check::Differential),
    Case::new("abi_clock", "abi_clock", Check::Differential),
    Case::new("abi_vdso", "abi_vdso", Check::Differential),
    Case::new("abi_mmap", "abi_mmap", Check::Differential),
    Case::new("abi_mmap_shared", "abi_mmap_shared", Check::Differential),
    Case::new("abi_mmap_file", "abi_mmap_file", Check::Differential),
    Case::new("abi_demand_zero", "abi_demand_zero", Check::Differential),
    Case::new("abi_brk", "abi_brk", Check::Differential),
    Case::new("abi_ids", "abi_ids", Check::Differential),
    Case::new("abi_rlimit", "abi_rlimit", Check::Differential),
    Case::new("abi_random", "abi_random", Check::Differential),
    Case::new("abi_threads", "abi_threads", Check::Differential),
    Case::new("abi_execve", "abi_execve", Check::Differential),
    Case::new("abi_env", "abi_env", Check::Differential)
        .args(&["first", "with space", "last"])
        .env(&[("ABI_SET", "one"), ("ABI_EMPTY", "")]),
    Case::new("abi_badfd", "abi_badfd", Check::Differential),
    Case::new("abi_devices", "abi_devices", Check::Differential),
    Case::new("abi_random_more", "abi_random_more", Check::Differential),
    Case::new("abi_fionread", "abi_fionread", Check::Differential),
    Case::new("abi_fsync", "abi_fsync", Check::Differential),
    Case::new("abi_ioctl", "abi_ioctl", Check::Differential),
    Case::new("abi_futex", "abi_futex", Check::Differential),
    Case::new("abi_futex_requeue", "abi_futex_requeue", Check::Differential),
    Case::new("abi_thread_signals", "abi_thread_signals", Check::Differential),
    Case::new("abi_mremap", "abi_mremap", Check::Differential),
    Case::new("abi_sigsuspend", "abi_sigsuspend", Check::Differential),
    Case::new("abi_nofile_limit", "abi_nofile_limit", Check::Differential),
    Case::new("abi_chown_setid", "abi_chown_setid", Check::Differential),
    Case::new("abi_iovec_limits", "abi_iovec_limits", Check::Differential),
    Case::new("abi_file_times", "abi_file_times", Check::Differential),
    Case::new("abi_fifo", "abi_fifo", Check::Differential),
    Case::new("abi_chroot", "abi_chroot", Check::Differential),
    Case::new("abi_pid_errors", "abi_pid_errors", Check::Differential),
    Case::new("abi_sigpending", "abi_sigpending", Check::Differential),
    Case::new("abi_siginfo", "abi_siginfo", Check::Differential),
    Case::new("abi_sigchld", "abi_sigchld", Check::Differential),
    Case::new("abi_rtsig", "abi_rtsig", Check::Differential),
    Case::new("abi_sigaltstack", "abi_sigaltstack", Check::Differential),
    Case::new("abi_sigtimedwait", "abi_sigtimedwait", Check::Differential),
    Case::new("abi_sigqueue", "abi_sigqueue", Check::Differential),
    Case::new("abi_nanosleep", "abi_nanosleep", Check::Differential),
    Case::new("abi_rusage", "abi_rusage", Check::Differential),
    Case::new("abi_vfork", "abi_vfork", Check::Differential),
    Case::new("abi_cow", "abi_cow", Check::Differential),
    Case::new("abi_affinity", "abi_affinity", Check::Differential),
    Case::new("abi_cpuclock", "abi_cpuclock", Check::Differential),
    // ppoll's and pselect6's signal masks, and SIGPIPE to the writing thread.
    Case::new("abi_ppoll_mask", "abi_ppoll_mask", Check::Differential),
    // x87/SSE state per thread, moved lazily between Linux threads (D27).
    Case::new("abi_fpu", "abi_fpu", Check::Differential),
    // Every general register across syscalls, preemption, signals and fork.
    Case::new("abi_regs", "abi_regs", Check::Differential),
    // Threads and waits of a stopped process, across SIGSTOP and SIGCONT.
    Case::new("abi_stop_cont", "abi_stop_cont", Check::Differential),
    // alarm, setitimer, getitimer: real and CPU-time interval timers.
    Case::new("abi_itimer", "abi_itimer", Check::Differential),
    // flock: whole-file locks held by open file descriptions.
    Case::new("abi_flock", "abi_flock", Check::Differential),
    // The same programs with the tick at 2000 Hz: preemption lands in
    // twenty times as many places, between the IPC fast path's parked
    // threads and the scheduler's (D27), in signal delivery and in waits.
    Case::new("abi_fpu_fasttick", "abi_fpu", Check::Differential).cmdline(&["tick=2000"]),
    Case::new("pipe_pipeline_fasttick", "pipe_pipeline", Check::Differential).cmdline(&["tick=2000"]),
    Case::new("abi_threads_fasttick", "abi_threads", Check::Differential).cmdline(&["tick=2000"]),
    Case::new("abi_thread_signals_fasttick", "abi_thread_signals", Check::Differential).cmdline(&["tick=2000"]),
    Case::new("abi_sa_restart_fasttick", "abi_sa_restart", Check::Differential).cmdline(&["tick=2000"]),
    Case::new("fuzz_syscalls_fasttick", "fuzz_syscalls", Check::Expect(fuzz_syscalls)).cmdline(&["tick=2000"]),
    Case::new("abi_ppoll_mask_fasttick", "abi_ppoll_mask", Check::Differential).cmdline(&["tick=2000"]),
    Case::new("abi_regs_fasttick", "abi_regs", Check::Differential).cmdline(&["tick=2000"]),
];

/// The busybox commands of the proc_busybox case; the output is checked
/// by [`proc_busybox`]. Pipes keep ps and ls from the terminal (no width
/// limit, no colours) and give ls a pipe to show.
const PROC_BUSYBOX: &str = "sleep 5 & ps | cat; readlink /proc/self/exe; head -3 /proc/meminfo; \
    cat /proc/uptime; ls -l /proc/self/fd | cat; cat /proc/mounts; echo x > /proc/meminfo; \
    ls /proc/$$/task | cat; kill $!; echo done";

fn proc_busybox(seen: &Seen) -> Result<(), String> {
    seen.status_is(0)?;
    let out = String::from_utf8_lossy(seen.serial);
    let lines: Vec<&str> = out.lines().collect();
    let has_line = |pred: &dyn Fn(&str) -> bool, what: &str| {
        if lines.iter().any(|l| pred(l)) {
            Ok(())
        } else {
            Err(format!("no line {what} in the output"))
        }
    };
    has_line(&|l| l == "PID   USER     TIME  COMMAND", "with ps's header")?;
    has_line(&|l| l.starts_with("    1 0 ") && l.contains(" 0:00 sh -c sleep 5 & ps | cat; readlink /proc/self/exe; "), "for process 1 with its arguments")?;
    // (cat may not have started yet: its line may show the shell it forks from.)
    for cmd in ["sleep 5", "ps"] {
        has_line(&|l| l.contains(" 0:00 ") && l.ends_with(&format!(" {cmd}")), &format!("for {cmd:?} in ps"))?;
    }
    has_line(&|l| l == "/bin/busybox", "/bin/busybox from readlink /proc/self/exe")?;
    for key in ["MemTotal:", "MemFree:", "MemAvailable:"] {
        has_line(&|l| l.starts_with(key) && l.ends_with(" kB"), key)?;
    }
    has_line(
        &|l| {
            let parts: Vec<&str> = l.split(' ').collect();
            parts.len() == 2 && parts.iter().all(|p| p.split_once('.').is_some_and(|(s, c)| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && c.len() == 2 && c.bytes().all(|b| b.is_ascii_digit())))
        },
        "like /proc/uptime's",
    )?;
    has_line(&|l| l.starts_with("lrwx------ ") && l.ends_with(" 0 -> /dev/console"), "for fd 0 in ls -l")?;
    has_line(&|l| l.starts_with("l-wx------ ") && l.contains(" 1 -> pipe:["), "for fd 1, a pipe, in ls -l")?;
    if !out.contains("rootfs / tmpfs rw 0 0\nproc /proc proc rw 0 0\n") {
        return Err("no /proc/mounts in the output".into());
    }
    has_line(&|l| l.ends_with("can't create /proc/meminfo: Permission denied"), "refusing to write /proc/meminfo")?;
    has_line(&|l| l == "1", "listing /proc/1/task")?;
    has_line(&|l| l == "done", "done")
}

/// What one boot left behind, for Check::Expect.
struct Seen<'a> {
    serial: &'a [u8],
    status: u8,
    log: &'a str,
    /// The kernel ELF that was booted.
    kernel: &'a Path,
}

impl Seen<'_> {
    fn status_is(&self, expected: u8) -> Result<(), String> {
        match self.status {
            status if status == expected => Ok(()),
            status => Err(format!("exit status {status}, expected {expected}")),
        }
    }

    fn serial_is(&self, expected: &str) -> Result<(), String> {
        match self.serial {
            serial if serial == expected.as_bytes() => Ok(()),
            serial => Err(format!(
                "serial output {:?}, expected {expected:?}",
                String::from_utf8_lossy(serial)
            )),
        }
    }
}

fn counters(seen: &Seen, cr3_per_call: u32) -> Result<(), String> {
    seen.status_is(0)?;
    let out = String::from_utf8_lossy(seen.serial);
    for want in [
        // The caller's SYSCALL and the server's ReplyRecv.
        "exact syscalls: 2000\n".to_string(),
        "ipc per getpid: 2\n".to_string(),
        format!("cr3 writes per getpid: {cr3_per_call}\n"),
        format!("tlb flushes per getpid: {cr3_per_call}\n"),
        "write to the page: signal 11\n".to_string(),
    ] {
        if !out.contains(&want) {
            return Err(format!("expected {want:?} in the output"));
        }
    }
    Ok(())
}

fn shell_session(seen: &Seen) -> Result<(), String> {
    seen.status_is(3)?;
    let out = String::from_utf8_lossy(seen.serial);
    for want in ["pipe:ABC", "HERE LINE", "waited=0", "status=130", "vi-done"] {
        if !out.contains(want) {
            return Err(format!("expected {want:?} in the session"));
        }
    }
    Ok(())
}

fn syscall_abi(seen: &Seen) -> Result<(), String> {
    seen.status_is(0)?;
    let out = String::from_utf8_lossy(seen.serial);
    if out.contains("FAIL") || !out.contains("all ok") {
        return Err("the program reported a failed check".into());
    }
    Ok(())
}

fn fuzz_syscalls(seen: &Seen) -> Result<(), String> {
    seen.status_is(0)?;
    let out = String::from_utf8_lossy(seen.serial);
    if !out.contains("fuzz: system ok") {
        return Err("the system did not pass its checks after the fuzzing".into());
    }
    Ok(())
}

/// A session's whole output (the echo of what was typed, then the
/// program's answers) and exit status 0.
fn transcript(seen: &Seen, expected: &str) -> Result<(), String> {
    seen.serial_is(expected)?;
    seen.status_is(0)
}

fn tty_echo(seen: &Seen) -> Result<(), String> {
    transcript(
        seen,
        "> hello\ngot 6: hello\n\
         > ab\x08 \x08c\ngot 3: ac\n\
         > xyz\x08 \x08\x08 \x08\x08 \x08ok\ngot 3: ok\n\
         > one two\x08 \x08\x08 \x08\x08 \x08three\ngot 10: one three\n\
         > eof\n",
    )
}

fn tty_sigint(seen: &Seen) -> Result<(), String> {
    transcript(
        seen,
        "reading\nabc^Cread returned -1 (Interrupted system call), handler ran 1 time(s)\n\
         again\nafter\nread returned 6: after\n\
         child reading\n^Cchild killed by signal 2\n\
         child reading\n^\\child killed by signal 3\n\
         done\n",
    )
}

fn tty_raw(seen: &Seen) -> Result<(), String> {
    transcript(
        seen,
        "raw: icanon 0 echo 0 isig 1\n\
         read 1: 0x61\nread 1: 0x7f\nread 1: 0x15\nread 1: 0x0a\n\
         vmin 0 vtime 0: 0\n\
         vmin 0 vtime 2: 0, waited about 0.2 s\n\
         vmin 3\nvmin 3: 3: xyz\n\
         cooked\nhi\nline: hi\n",
    )
}

fn tty_job(seen: &Seen) -> Result<(), String> {
    transcript(
        seen,
        "foreground is my group: yes, session 1\n\
         child in the foreground\n\
         ^Cchild killed by signal 2; the parent's handler ran 0 time(s)\n\
         foreground is my group again: yes\n\
         window 30x100, SIGWINCH 1 time(s)\n",
    )
}

fn tty_poll(seen: &Seen) -> Result<(), String> {
    transcript(
        seen,
        "poll now: 1, stdin 0x0, stdout 0x4\nselect now: 0\n\
         waiting\nhello\npoll: 1, stdin 0x1\nline: hello\n\
         partial\nparpoll partial: 0\nfinish\nt\nline: part\n\
         select waiting\nsel\nselect: 1, readable 1\nline: sel\n\
         raw\nraw poll: 1 0x1, read k\n",
    )
}

/// A user read of a kernel address must fault the program, not the kernel,
/// and the user page table must map nothing of the kernel but its entry code.
fn kernel_read(seen: &Seen) -> Result<(), String> {
    seen.serial_is("before\n")?;
    seen.status_is(139)?;
    kpti_audit::check(seen.log, seen.kernel)
}

fn trace(seen: &Seen) -> Result<(), String> {
    seen.status_is(0)?;
    seen.serial_is("hello, world\n")?;
    let lines: Vec<Vec<&str>> = seen
        .log
        .lines()
        .filter(|line| line.starts_with("trace: "))
        .map(|line| {
            line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| !w.is_empty())
                .collect()
        })
        .collect();
    if !lines
        .iter()
        .any(|words| words.iter().any(|w| *w == "write" || *w == "writev"))
    {
        return Err("no `trace: ` line names write or writev".into());
    }
    if !lines
        .iter()
        .any(|words| words.contains(&"exit_group") && words.contains(&"proc"))
    {
        return Err("no `trace: ` line names exit_group with server proc".into());
    }
    Ok(())
}

/// Runs the host unit tests, builds, and runs the QEMU tests whose names
/// contain one of `filter` (all when empty). Returns the exit code.
pub fn run(ctx: &Ctx, filter: &[String], unit: bool, timeout: u64) -> Result<u8> {
    deps::ensure(
        ctx,
        &[deps::Need::RustTargets, deps::Need::Musl, deps::Need::Qemu],
    )?;
    if unit {
        // The workspace's default members are the host crates.
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        ctx.run(Command::new(&cargo).arg("test").current_dir(&ctx.root))
            .context("host unit tests")?;
        // Servers keep their pure logic in a library so it runs on the host
        // too; their binaries only build for the kernel's target.
        let mut servers = Command::new(&cargo);
        servers.args(["test", "--lib"]).current_dir(&ctx.root);
        for name in build::server_names(&ctx.root)? {
            if ctx.root.join("servers").join(&name).join("src/lib.rs").exists() {
                servers.arg("-p").arg(format!("{name}-server"));
            }
        }
        ctx.run(&mut servers).context("server unit tests")?;
    }
    let built = build::all(ctx)?;
    initrd::write(
        &ctx.initrd(),
        &built,
        &Payload::default_program(&built, &[])?,
    )?;
    let cases: Vec<&Case> = CASES
        .iter()
        .filter(|case| filter.is_empty() || filter.iter().any(|f| case.name.contains(f.as_str())))
        .collect();
    let busybox = if cases.iter().any(|c| c.busybox) {
        let path = crate::busybox::build(ctx)?;
        let applets = crate::busybox::applet_paths(ctx, &path)?;
        Some((path, applets))
    } else {
        None
    };
    let programs = Programs {
        busybox: busybox.as_ref(),
        sqlite: if cases.iter().any(|c| c.program == SQLITE3) { Some(crate::sqlite::build(ctx)?) } else { None },
    };
    let bench_selected = filter.is_empty() || filter.iter().any(|f| "bench_regression".contains(f.as_str()));
    let suite_selected = filter.iter().any(|f| "busybox_suite".contains(f.as_str()));
    anyhow::ensure!(!cases.is_empty() || bench_selected || suite_selected, "no QEMU test matches {filter:?}");
    let (mut passed, mut failed) = (0, 0);
    for case in cases {
        print!("test {} ... ", case.name);
        let _ = std::io::stdout().flush();
        match run_case(ctx, &built, &programs, case, Duration::from_secs(timeout)) {
            Ok(()) => {
                println!("ok");
                passed += 1;
            }
            Err(report) => {
                println!("FAILED\n{}", report.trim_end());
                failed += 1;
            }
        }
    }
    // Tests that are not one boot of one program: busybox's own test suite
    // (the quick subset, next to the host's run), and the bench's
    // regression test (the forwarded null syscall's instruction count under
    // icount may not rise 10% above the recorded one).
    let others: [(&str, bool, fn(&Ctx) -> Result<String>); 2] = [
        ("busybox_suite", filter.is_empty() || suite_selected, crate::bbsuite::test_case),
        ("bench_regression", bench_selected, crate::bench::regression_check),
    ];
    for (name, selected, run) in others {
        if !selected {
            continue;
        }
        print!("test {name} ... ");
        let _ = std::io::stdout().flush();
        match run(ctx) {
            Ok(line) => {
                println!("ok ({line})");
                passed += 1;
            }
            Err(e) => {
                println!("FAILED\n  {e:#}");
                failed += 1;
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 { 0 } else { 1 })
}

/// The real programs xtask built for the selected cases.
struct Programs<'a> {
    /// busybox and its applets' paths.
    busybox: Option<&'a (PathBuf, Vec<String>)>,
    sqlite: Option<PathBuf>,
}

/// Boots one case; on failure returns the reason with the evidence.
fn run_case(ctx: &Ctx, built: &Built, programs: &Programs, case: &Case, timeout: Duration) -> Result<(), String> {
    let env: Vec<(String, String)> = case
        .env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let payload = match case.program {
        BUSYBOX => {
            let (path, _) = programs.busybox.ok_or("busybox was not built")?;
            Payload::busybox(path, case.args, &env)
        }
        SQLITE3 => {
            let path = programs.sqlite.as_ref().ok_or("sqlite3 was not built")?;
            Payload::built_program(path, case.args, &env)
        }
        stem => Payload::test_program(built, stem, case.args, &env).map_err(|e| format!("{e:#}"))?,
    };
    let dir = ctx.out().join("tests").join(case.name);
    let workdir = match case.workdir {
        Some(from) => Some(fresh_workdir(&ctx.root.join(from), &payload, &dir.join("host")).map_err(|e| format!("{e:#}"))?),
        None => None,
    };
    let extras = initrd::Extras {
        busybox: if case.busybox { programs.busybox.cloned() } else { None },
        overlays: workdir.iter().cloned().collect(),
    };
    // Before the host run, which writes into the working directory.
    let initrd_path = dir.join("initrd.cpio");
    initrd::write_with(&initrd_path, built, &payload, &extras).map_err(|e| format!("{e:#}"))?;
    let host = match case.check {
        Check::Differential => {
            Some(host_run(&payload, workdir.as_deref(), timeout).map_err(|e| format!("host run: {e:#}"))?)
        }
        Check::Expect(_) => None,
    };

    let serial = if case.session.is_empty() {
        Serial::File(dir.join("serial.out"))
    } else {
        let script = case
            .session
            .iter()
            .map(|(wait_for, send)| qemu::Step {
                wait_for: wait_for.to_string(),
                send: send.as_bytes().to_vec(),
            })
            .collect();
        Serial::Scripted {
            file: dir.join("serial.out"),
            script,
        }
    };
    // Every test boots with `trace` so that `cargo xtask syscalls` can say
    // which tests exercise which syscall.
    let mut cmdline = vec!["kpti=on".to_string(), "trace".to_string()];
    cmdline.extend(case.cmdline.iter().map(|w| w.to_string()));
    let boot = qemu::Boot {
        kernel: built.kernel.clone(),
        initrd: initrd_path,
        cmdline,
        accel: qemu::Accel::Tcg,
        serial,
        debug_log: dir.join("debug.log"),
        timeout,
        echo: if ctx.verbose {
            Echo::All
        } else {
            Echo::Nothing
        },
    };
    let done = qemu::boot(ctx, &boot).map_err(|e| format!("{e:#}"))?;
    let serial = qemu::crlf_to_lf(&done.serial);

    let verdict = match (&done.outcome, &case.check) {
        _ if done.session_error.is_some() => Err(done.session_error.clone().unwrap_or_default()),
        (Outcome::Exited(_), _) if done.log.contains("lstar: PANIC: ") => {
            Err("the kernel panicked after the program exited".to_string())
        }
        (Outcome::Exited(status), Check::Differential) => {
            let (out, host_status) = host.as_ref().expect("host run of a differential test");
            if serial != *out {
                Err(format!(
                    "serial output differs from the host's, which was:\n{}",
                    String::from_utf8_lossy(out)
                ))
            } else if *status != *host_status {
                Err(format!(
                    "exit status {status}, but {host_status} on the host"
                ))
            } else {
                Ok(())
            }
        }
        (Outcome::Exited(status), Check::Expect(check)) => check(&Seen {
            serial: &serial,
            status: *status,
            log: &done.log,
            kernel: &built.kernel,
        }),
        (Outcome::TimedOut, _) => Err(format!("timed out after {} s", timeout.as_secs())),
        (other, _) => Err(other.to_string()),
    };
    verdict.map_err(|reason| {
        let mut report = format!(
            "  reason: {reason}\n--- serial output ({}) ---\n",
            dir.join("serial.out").display()
        );
        report.push_str(&String::from_utf8_lossy(&done.serial));
        report.push_str(&format!(
            "\n--- last 30 lines of {} ---\n",
            boot.debug_log.display()
        ));
        report.push_str(&qemu::log_tail(&done.log, 30));
        if !done.qemu_stderr.trim().is_empty() {
            report.push_str(&format!("--- QEMU stderr ---\n{}", done.qemu_stderr));
        }
        report
    })
}

/// A case's working directory (see [`Case::workdir`]): `to` emptied, then
/// holding a copy of the files in `from` (not of its subdirectories) and
/// of the program, so that it can start itself again as `./<name>`.
/// Returns `to`.
fn fresh_workdir(from: &Path, payload: &Payload, to: &Path) -> Result<PathBuf> {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).with_context(|| format!("create {}", to.display()))?;
    let mut files = vec![(payload.host_path.clone(), to.join(&payload.name))];
    for entry in std::fs::read_dir(from).with_context(|| format!("read {}", from.display()))? {
        let path = entry?.path();
        if path.is_file() {
            files.push((path.clone(), to.join(path.file_name().context("a file name")?)));
        }
    }
    for (path, copy) in files {
        std::fs::copy(&path, &copy).with_context(|| format!("copy {} to {}", path.display(), copy.display()))?;
    }
    Ok(to.to_path_buf())
}

/// Runs `payload` on the host with the same argv (argv[0] included) and only
/// its environment, in `cwd` if given (else in xtask's); returns stdout and
/// stderr merged, and the exit status as a shell reports it (128 + signal
/// for a killed program).
fn host_run(payload: &Payload, cwd: Option<&Path>, timeout: Duration) -> Result<(Vec<u8>, u8)> {
    let (mut reader, writer) = std::io::pipe()?;
    let mut cmd = Command::new(&payload.host_path);
    if let Some(cwd) = cwd {
        cmd.current_dir(cwd);
    }
    let (argv0, args) = payload.argv.split_first().context("empty argv")?;
    cmd.arg0(argv0)
        .args(args)
        .env_clear()
        .envs(payload.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(writer.try_clone()?)
        .stderr(writer);
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start {}", payload.host_path.display()))?;
    // Drop our copies of the pipe's write end so that reading ends with the child.
    drop(cmd);
    let output = std::thread::spawn(move || {
        let mut out = Vec::new();
        reader.read_to_end(&mut out).map(|_| out)
    });
    let (status, timed_out) = qemu::wait(&mut child, timeout)?;
    anyhow::ensure!(!timed_out, "timed out after {} s", timeout.as_secs());
    let out = output
        .join()
        .map_err(|_| anyhow::anyhow!("reader thread panicked"))??;
    Ok((out, shell_status(status.context("no exit status")?)?))
}

fn shell_status(status: ExitStatus) -> Result<u8> {
    let code = match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        _ => anyhow::bail!("unexpected status {status}"),
    };
    u8::try_from(code).with_context(|| format!("exit status {code} out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_names_are_unique() {
        let mut names: Vec<&str> = CASES.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CASES.len());
    }

    #[test]
    fn sessions_are_not_differential() {
        for case in CASES.iter().filter(|c| !c.session.is_empty()) {
            assert!(
                matches!(case.check, Check::Expect(_)),
                "{}: the host run has no terminal to type into",
                case.name
            );
        }
    }

    #[test]
    fn statuses_as_a_shell_reports_them() {
        assert_eq!(shell_status(ExitStatus::from_raw(42 << 8)).unwrap(), 42);
        assert_eq!(shell_status(ExitStatus::from_raw(11)).unwrap(), 139);
    }

    #[test]
    fn trace_check() {
        let check = |log| {
            trace(&Seen {
                serial: b"hello, world\n",
                status: 0,
                log,
                kernel: Path::new("/"),
            })
        };
        assert!(check("trace: writev(1, ..) = 13 [file]\ntrace: exit_group(0) [proc]\n").is_ok());
        assert!(
            check("trace: writev(1, ..) = 13 [file]\ntrace: exit_group(0) [kernel]\n").is_err()
        );
        assert!(check("trace: exit_group(0) -> proc\n").is_err());
    }
}
