//! Booting Lstar in QEMU: the one place that knows the QEMU command line and
//! the kernel's debug-console protocol, shared by `run`, `test` and the KVM
//! probe.
//!
//! The protocol: the kernel writes its log to port 0xe9 (the debug console,
//! saved to a file). Lines starting with `trace: ` are syscall trace lines.
//! `lstar: exit status <N>` is written when the last program exits, after
//! which the kernel writes to port 0xf4 (isa-debug-exit) and QEMU exits.
//! `lstar: PANIC: <message>` reports a kernel panic.

use std::fmt;
use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use clap::ValueEnum;

use crate::build::Built;
use crate::{initrd, Ctx};

/// The machine model. microvm boots in well under 0.1 s under TCG; change
/// this to "pc" for the PC model (~0.2 s) if microvm gets in the way.
pub const MACHINE: &str = "microvm,acpi=on,pit=on,pic=on,rtc=on";

/// How long the KVM probe may take before it counts as failed.
const KVM_PROBE_TIMEOUT: Duration = Duration::from_secs(15);

/// How QEMU executes the guest.
#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
pub enum Accel {
    /// QEMU's translator (TCG): works on every host; the default.
    Tcg,
    /// Hardware virtualization, used only if a probe boot shows that guest
    /// user-mode SYSCALL works under this host's /dev/kvm; else TCG.
    Kvm,
    /// TCG with `-icount shift=0`: the TSC counts guest instructions, so
    /// cycle measurements repeat exactly from run to run.
    Icount,
}

impl Accel {
    fn args(self) -> &'static [&'static str] {
        match self {
            Accel::Tcg => &["-accel", "tcg"],
            Accel::Kvm => &["-accel", "kvm"],
            Accel::Icount => &["-accel", "tcg", "-icount", "shift=0"],
        }
    }
}

/// Where the guest's serial console (its fds 1 and 2) goes.
pub enum Serial {
    /// Our terminal, for `run`: stdin, stdout and stderr are inherited.
    Stdio,
    /// A file, for tests: stdin is null and QEMU's own stderr is captured.
    File(PathBuf),
}

/// Which kernel log lines to copy to stderr while QEMU runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Echo {
    Nothing,
    Trace,
    All,
}

/// One boot.
pub struct Boot {
    pub kernel: PathBuf,
    pub initrd: PathBuf,
    /// Words of the kernel command line.
    pub cmdline: Vec<String>,
    pub accel: Accel,
    pub serial: Serial,
    pub debug_log: PathBuf,
    pub timeout: Duration,
    pub echo: Echo,
}

/// How a boot ended, read from the debug log.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Outcome {
    /// `lstar: exit status N`.
    Exited(u8),
    /// The `lstar: PANIC: ` line.
    Panic(String),
    /// Killed by us after the timeout.
    TimedOut,
    /// QEMU exited by itself without saying how the program ended.
    NoStatus(String),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Exited(n) => write!(f, "exit status {n}"),
            Outcome::Panic(line) => write!(f, "kernel panic: {line}"),
            Outcome::TimedOut => write!(f, "timed out"),
            Outcome::NoStatus(how) => write!(f, "QEMU exited ({how}) without an exit status line"),
        }
    }
}

/// What a finished boot left behind.
pub struct Finished {
    pub outcome: Outcome,
    /// The whole debug log.
    pub log: String,
    /// The serial output, with Serial::File.
    pub serial: Vec<u8>,
    /// QEMU's own stderr, with Serial::File.
    pub qemu_stderr: String,
}

/// The QEMU command for `boot`.
pub fn command(boot: &Boot) -> Command {
    let mut cmd = Command::new("qemu-system-x86_64");
    cmd.args(["-M", MACHINE, "-cpu", "max", "-m", "512M", "-smp", "1"])
        .args(["-no-reboot", "-nodefaults", "-display", "none"])
        .arg("-kernel")
        .arg(&boot.kernel)
        .arg("-initrd")
        .arg(&boot.initrd)
        .arg("-append")
        .arg(boot.cmdline.join(" "))
        .arg("-serial")
        .arg(match &boot.serial {
            Serial::Stdio => "stdio".into(),
            Serial::File(path) => file_chardev(path),
        })
        .arg("-debugcon")
        .arg(file_chardev(&boot.debug_log))
        .args(["-global", "isa-debugcon.iobase=0xe9"])
        .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
        .args(boot.accel.args());
    if let Serial::File(_) = boot.serial {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
    }
    cmd
}

fn file_chardev(path: &Path) -> String {
    format!("file:{}", path.display())
}

/// Boots, waits for QEMU to exit (or kills it after the timeout), and reads
/// the outcome from the debug log.
pub fn boot(ctx: &Ctx, boot: &Boot) -> Result<Finished> {
    // Files left by an earlier boot must not be read as this one's, even if
    // QEMU fails to start.
    let serial_file = match &boot.serial {
        Serial::File(path) => Some(path),
        Serial::Stdio => None,
    };
    for path in [Some(&boot.debug_log), serial_file].into_iter().flatten() {
        let _ = std::fs::remove_file(path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
        }
    }
    let mut cmd = command(boot);
    ctx.show(&cmd);
    let mut child = cmd.spawn().context("cannot start qemu-system-x86_64")?;
    let stop = AtomicBool::new(false);
    let (waited, qemu_stderr) = thread::scope(|scope| {
        let stderr = child.stderr.take().map(|mut pipe| {
            scope.spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        });
        if boot.echo != Echo::Nothing {
            scope.spawn(|| tail(&boot.debug_log, boot.echo, &stop));
        }
        let waited = wait(&mut child, boot.timeout);
        stop.store(true, Ordering::Release);
        (
            waited,
            stderr.and_then(|t| t.join().ok()).unwrap_or_default(),
        )
    });
    let (status, timed_out) = waited?;
    let log =
        String::from_utf8_lossy(&std::fs::read(&boot.debug_log).unwrap_or_default()).into_owned();
    let how = status.map_or_else(|| "no exit status".to_string(), |s| s.to_string());
    Ok(Finished {
        outcome: outcome(&log, timed_out, how),
        log,
        serial: serial_file
            .and_then(|path| std::fs::read(path).ok())
            .unwrap_or_default(),
        qemu_stderr,
    })
}

/// Waits for `child` until `timeout`; then asks it to stop (SIGTERM lets QEMU
/// restore the terminal) and kills it if it does not. Returns the exit status
/// and whether the timeout struck.
pub fn wait(child: &mut Child, timeout: Duration) -> Result<(Option<ExitStatus>, bool)> {
    if let Some(status) = wait_until(child, Instant::now() + timeout)? {
        return Ok((Some(status), false));
    }
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill has no memory-safety preconditions; `pid` is our child,
        // not yet reaped, so the pid cannot have been reused.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    if let Some(status) = wait_until(child, Instant::now() + Duration::from_secs(2))? {
        return Ok((Some(status), true));
    }
    let _ = child.kill();
    Ok((child.wait().ok(), true))
}

fn wait_until(child: &mut Child, deadline: Instant) -> Result<Option<ExitStatus>> {
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        thread::sleep(Duration::from_millis(10));
    }
    Ok(None)
}

/// Copies the log's lines to stderr as they appear, until `stop` is set
/// (after QEMU exited) and the rest has been read.
fn tail(path: &Path, echo: Echo, stop: &AtomicBool) {
    let mut file = None;
    let mut pending = Vec::new();
    loop {
        let last = stop.load(Ordering::Acquire);
        if file.is_none() {
            file = File::open(path).ok();
        }
        if let Some(file) = &mut file {
            let _ = file.read_to_end(&mut pending);
        }
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            echo_line(&line, echo);
        }
        if last {
            if !pending.is_empty() {
                echo_line(&pending, echo);
            }
            return;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

fn echo_line(line: &[u8], echo: Echo) {
    let line = String::from_utf8_lossy(line);
    let line = line.trim_end();
    if echo == Echo::All || (echo == Echo::Trace && line.starts_with("trace: ")) {
        eprintln!("{line}");
    }
}

/// The outcome that `log` reports; `timed_out` and `how` (QEMU's exit) count
/// only when the log says nothing.
pub fn outcome(log: &str, timed_out: bool, how: String) -> Outcome {
    let status = log.lines().rev().find_map(|line| {
        line.trim_end()
            .strip_prefix("lstar: exit status ")?
            .parse()
            .ok()
    });
    if let Some(status) = status {
        return Outcome::Exited(status);
    }
    if let Some(line) = log.lines().find(|line| line.starts_with("lstar: PANIC: ")) {
        return Outcome::Panic(line.trim_end().to_string());
    }
    if timed_out {
        return Outcome::TimedOut;
    }
    Outcome::NoStatus(how)
}

/// The last `n` lines of `log`, each ending in a newline.
pub fn log_tail(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|line| format!("{line}\n"))
        .collect()
}

/// Checks whether KVM can run Lstar on this host by booting the default
/// program under it: some hosts' /dev/kvm (nested PVM) never deliver a
/// guest's user-mode SYSCALL to ring 0. Returns the accelerator to use.
pub fn probe_kvm(ctx: &Ctx, built: &Built) -> Result<Accel> {
    if !Path::new("/dev/kvm").exists() {
        eprintln!("/dev/kvm is missing; using TCG");
        return Ok(Accel::Tcg);
    }
    let dir = ctx.out().join("kvm-probe");
    let probe = Boot {
        kernel: built.kernel.clone(),
        initrd: dir.join("initrd.cpio"),
        cmdline: vec!["kpti=on".into()],
        accel: Accel::Kvm,
        serial: Serial::File(dir.join("serial.out")),
        debug_log: dir.join("debug.log"),
        timeout: KVM_PROBE_TIMEOUT,
        echo: Echo::Nothing,
    };
    initrd::write(
        &probe.initrd,
        &built.servers,
        &initrd::Payload::default_program(built, &[])?,
    )?;
    let done = boot(ctx, &probe)?;
    if done.outcome == Outcome::Exited(0) {
        return Ok(Accel::Kvm);
    }
    let mut why = match done.outcome {
        Outcome::TimedOut => format!(
            "the probe boot timed out after {} s",
            KVM_PROBE_TIMEOUT.as_secs()
        ),
        other => format!("the probe boot ended with {other}"),
    };
    if let Some(line) = done.qemu_stderr.lines().find(|l| !l.trim().is_empty()) {
        why.push_str(&format!("; QEMU said: {}", line.trim()));
    }
    eprintln!("KVM probe failed: this host's /dev/kvm does not run guest user-mode SYSCALL ({why}); falling back to TCG");
    Ok(Accel::Tcg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_from_log() {
        let log = "boot\ntrace: write(1, ..) = 5 [proc]\nlstar: exit status 42\n";
        assert_eq!(outcome(log, false, String::new()), Outcome::Exited(42));
        assert_eq!(
            outcome("lstar: exit status 139\r\n", true, String::new()),
            Outcome::Exited(139)
        );
        let panic = "x\nlstar: PANIC: page fault at 0x0\nmore\n";
        assert_eq!(
            outcome(panic, false, String::new()),
            Outcome::Panic("lstar: PANIC: page fault at 0x0".into())
        );
        assert_eq!(
            outcome("lstar: exit status 300\n", true, String::new()),
            Outcome::TimedOut
        );
        assert_eq!(
            outcome("", false, "exit status: 1".into()),
            Outcome::NoStatus("exit status: 1".into())
        );
    }

    #[test]
    fn tail_of_log() {
        assert_eq!(log_tail("a\nb\nc\n", 2), "b\nc\n");
        assert_eq!(log_tail("a", 5), "a\n");
        assert_eq!(log_tail("", 5), "");
    }

    #[test]
    fn command_line() {
        let boot = Boot {
            kernel: "/k".into(),
            initrd: "/i".into(),
            cmdline: vec!["kpti=off".into(), "trace".into()],
            accel: Accel::Icount,
            serial: Serial::File("/s".into()),
            debug_log: "/d".into(),
            timeout: Duration::from_secs(1),
            echo: Echo::Nothing,
        };
        let cmd = command(&boot);
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let args = args.join(" ");
        assert!(args.starts_with(&format!(
            "-M {MACHINE} -cpu max -m 512M -smp 1 -no-reboot -nodefaults"
        )));
        assert!(args.contains(
            "-kernel /k -initrd /i -append kpti=off trace -serial file:/s -debugcon file:/d"
        ));
        assert!(args.ends_with("-accel tcg -icount shift=0"));
    }
}
