//! Booting Lstar in QEMU: the one place that knows the QEMU command line and
//! the kernel's debug-console protocol, shared by `run`, `test` and the KVM
//! probe.
//!
//! The protocol: the kernel writes its log to port 0xe9 (the debug console,
//! saved to a file). Lines starting with `trace: ` are syscall trace lines.
//! `lstar: exit status <N>` is written when the last program exits, after
//! which the kernel writes to port 0xf4 (isa-debug-exit) and QEMU exits.
//! `lstar: PANIC: <message>` reports a kernel panic.
//!
//! The serial console is a terminal: the console server's line discipline
//! turns each "\n" a program writes into "\r\n" (ONLCR), as a Linux tty
//! does. [`crlf_to_lf`] undoes exactly that for comparisons with output
//! that never went through a terminal.

use std::fmt;
use std::fs::File;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
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
            // sleep=off: virtual time does not follow the host clock while
            // the guest idles, so figures repeat exactly.
            Accel::Icount => &["-accel", "tcg", "-icount", "shift=0,sleep=off"],
        }
    }
}

/// Where the guest's serial console (its fds 1 and 2) goes.
pub enum Serial {
    /// Our terminal, for `run`: stdin, stdout and stderr are inherited.
    Stdio,
    /// A file, for tests: stdin is null and QEMU's own stderr is captured.
    File(PathBuf),
    /// A typed session, for tests: QEMU's stdin and stdout are pipes; the
    /// script types each step's input once the output shows what the step
    /// waits for. The output is saved to the file as well.
    Scripted { file: PathBuf, script: Vec<Step> },
}

/// One step of a [`Serial::Scripted`] session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Text the serial output must show first (searched after the previous
    /// step's match, in the output with "\r\n" read as "\n"); "" is there
    /// at once.
    pub wait_for: String,
    /// Then these bytes are typed.
    pub send: Vec<u8>,
}

/// How long a step may wait for its text before the session fails.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// The pause between a step's text appearing and its typing. A program
/// prints a prompt and then blocks in read; typing after it blocks is the
/// case a session means to test (the output cannot show when that is).
pub const SETTLE: Duration = Duration::from_millis(100);

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
    /// The serial output, with Serial::File and Serial::Scripted, as it
    /// left the UART.
    pub serial: Vec<u8>,
    /// QEMU's own stderr, with Serial::File and Serial::Scripted.
    pub qemu_stderr: String,
    /// Why a scripted session stopped early (a step whose text never came).
    pub session_error: Option<String>,
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
        .args(match &boot.serial {
            // signal=off: Ctrl-C reaches the guest's terminal (SIGINT to the
            // foreground job) instead of stopping QEMU.
            Serial::Stdio => vec!["-chardev", "stdio,id=console,signal=off"],
            _ => vec![],
        })
        .arg("-serial")
        .arg(match &boot.serial {
            Serial::Stdio => "chardev:console".into(),
            Serial::File(path) => file_chardev(path),
            Serial::Scripted { .. } => "stdio".into(),
        })
        .arg("-debugcon")
        .arg(file_chardev(&boot.debug_log))
        .args(["-global", "isa-debugcon.iobase=0xe9"])
        .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
        .args(boot.accel.args());
    match boot.serial {
        Serial::Stdio => {}
        Serial::File(_) => {
            cmd.stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
        }
        Serial::Scripted { .. } => {
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
        }
    }
    cmd
}

/// `bytes` with every "\r\n" turned into "\n": a program's output as it
/// wrote it, from what left a terminal with ONLCR on (which adds a "\r"
/// before each "\n"). Everything else is left as it is.
pub fn crlf_to_lf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for (i, &b) in bytes.iter().enumerate() {
        if !(b == b'\r' && bytes.get(i + 1) == Some(&b'\n')) {
            out.push(b);
        }
    }
    out
}

/// Where `needle` ends in `haystack` when it starts at or after `from`.
fn find_from(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let rest = haystack.get(from..)?;
    if needle.is_empty() {
        return Some(from);
    }
    rest.windows(needle.len())
        .position(|w| w == needle)
        .map(|at| from + at + needle.len())
}

/// What a scripted session's threads share: the output so far, whether it
/// ended, and whether QEMU is gone.
#[derive(Default)]
struct Transcript {
    output: Vec<u8>,
    closed: bool,
    stop: bool,
}

/// Copies QEMU's stdout (the serial port) into the transcript and `file`.
fn record(mut stdout: ChildStdout, file: &Path, shared: &(Mutex<Transcript>, Condvar)) {
    let mut saved = File::create(file).ok();
    let mut buf = [0u8; 4096];
    loop {
        let n = stdout.read(&mut buf).unwrap_or(0);
        let (lock, cv) = shared;
        let mut t = lock.lock().expect("transcript lock");
        if n == 0 {
            t.closed = true;
            cv.notify_all();
            return;
        }
        t.output.extend_from_slice(&buf[..n]);
        if let Some(f) = &mut saved {
            let _ = f.write_all(&buf[..n]);
        }
        cv.notify_all();
    }
}

/// Types the script's steps into QEMU's stdin as the output calls for
/// them; then keeps stdin open until QEMU is gone. On a step that times
/// out, sets `abort` (the boot then stops QEMU) and says why.
fn drive(
    mut stdin: ChildStdin,
    script: &[Step],
    abort: &AtomicBool,
    shared: &(Mutex<Transcript>, Condvar),
) -> Option<String> {
    let (lock, cv) = shared;
    let mut cursor = 0;
    for (n, step) in script.iter().enumerate() {
        let deadline = Instant::now() + STEP_TIMEOUT;
        let mut t = lock.lock().expect("transcript lock");
        loop {
            let text = crlf_to_lf(&t.output);
            if let Some(end) = find_from(&text, cursor, step.wait_for.as_bytes()) {
                cursor = end;
                break;
            }
            let now = Instant::now();
            if t.stop || t.closed || now >= deadline {
                let why = if now >= deadline {
                    format!("waited {} s", STEP_TIMEOUT.as_secs())
                } else {
                    "QEMU exited".to_string()
                };
                drop(t);
                abort.store(true, Ordering::Release);
                return Some(format!(
                    "session step {}: {why} for {:?} (then to type {:?})",
                    n + 1,
                    step.wait_for,
                    String::from_utf8_lossy(&step.send)
                ));
            }
            t = cv.wait_timeout(t, deadline - now).expect("transcript lock").0;
        }
        drop(t);
        thread::sleep(SETTLE);
        if stdin.write_all(&step.send).and_then(|()| stdin.flush()).is_err() {
            return Some(format!("session step {}: QEMU's stdin closed", n + 1));
        }
    }
    let mut t = lock.lock().expect("transcript lock");
    while !t.stop {
        t = cv.wait(t).expect("transcript lock");
    }
    None
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
        Serial::File(path) | Serial::Scripted { file: path, .. } => Some(path),
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
    let abort = AtomicBool::new(false);
    let session = (Mutex::new(Transcript::default()), Condvar::new());
    let (waited, qemu_stderr, session_error) = thread::scope(|scope| {
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
        let mut driver = None;
        let mut recorder = None;
        if let Serial::Scripted { file, script } = &boot.serial {
            let (stdin, stdout) = (child.stdin.take(), child.stdout.take());
            let (stdin, stdout) = stdin.zip(stdout).expect("piped stdin and stdout");
            let (abort, session) = (&abort, &session);
            recorder = Some(scope.spawn(move || record(stdout, file, session)));
            driver = Some(scope.spawn(move || drive(stdin, script, abort, session)));
        }
        let waited = wait_unless(&mut child, boot.timeout, &abort);
        stop.store(true, Ordering::Release);
        {
            let (lock, cv) = &session;
            lock.lock().expect("transcript lock").stop = true;
            cv.notify_all();
        }
        if let Some(r) = recorder {
            let _ = r.join();
        }
        (
            waited,
            stderr.and_then(|t| t.join().ok()).unwrap_or_default(),
            driver.and_then(|d| d.join().ok()).flatten(),
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
        session_error,
    })
}

/// Waits for `child` until `timeout`; then asks it to stop (SIGTERM lets QEMU
/// restore the terminal) and kills it if it does not. Returns the exit status
/// and whether the timeout struck.
pub fn wait(child: &mut Child, timeout: Duration) -> Result<(Option<ExitStatus>, bool)> {
    wait_unless(child, timeout, &AtomicBool::new(false))
}

/// [`wait`], cut short (as by the timeout) once `abort` is set.
fn wait_unless(
    child: &mut Child,
    timeout: Duration,
    abort: &AtomicBool,
) -> Result<(Option<ExitStatus>, bool)> {
    if let Some(status) = wait_until(child, Instant::now() + timeout, abort)? {
        return Ok((Some(status), false));
    }
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill has no memory-safety preconditions; `pid` is our child,
        // not yet reaped, so the pid cannot have been reused.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    let grace = Instant::now() + Duration::from_secs(2);
    if let Some(status) = wait_until(child, grace, &AtomicBool::new(false))? {
        return Ok((Some(status), true));
    }
    let _ = child.kill();
    Ok((child.wait().ok(), true))
}

fn wait_until(
    child: &mut Child,
    deadline: Instant,
    abort: &AtomicBool,
) -> Result<Option<ExitStatus>> {
    while Instant::now() < deadline && !abort.load(Ordering::Acquire) {
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
        built,
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
    fn crlf_becomes_lf_and_nothing_else_changes() {
        assert_eq!(crlf_to_lf(b"a\r\nb\r\r\n\rc\n\r"), b"a\nb\r\n\rc\n\r");
        assert_eq!(crlf_to_lf(b""), b"");
    }

    #[test]
    fn steps_match_after_the_previous_one() {
        let out = b"> a\n> b\n";
        assert_eq!(find_from(out, 0, b"> "), Some(2));
        assert_eq!(find_from(out, 2, b"> "), Some(6));
        assert_eq!(find_from(out, 6, b"> "), None);
        assert_eq!(find_from(out, 6, b""), Some(6));
        assert_eq!(find_from(out, 99, b""), None);
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
        assert!(args.ends_with("-accel tcg -icount shift=0,sleep=off"));
    }
}
