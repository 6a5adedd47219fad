//! `cargo xtask`: the one build tool of Lstar, so that building, booting and
//! testing are a single Rust program rather than scripts around cargo.
//!
//! - `cargo xtask build` builds the kernel, the servers, the C test programs
//!   and an initrd for the default program.
//! - `cargo xtask run -- ./prog args` boots a static Linux binary in QEMU and
//!   exits with the program's exit status.
//! - `cargo xtask test` runs the host unit tests and then the QEMU tests.
//! - `cargo xtask busybox` builds busybox as a static musl binary.
//! - `cargo xtask sqlite` builds Debian's sqlite3 shell the same way.
//! - `cargo xtask bench` measures syscall costs on Lstar and Linux.

mod bench;
mod build;
mod bbsuite;
mod busybox;
mod debsrc;
mod sqlite;
mod syscalls;
mod deps;
mod initrd;
mod kpti_audit;
mod qemu;
mod test;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context as _, Result};
use clap::{Parser, Subcommand};

/// Build, boot and test Lstar.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version)]
struct Cli {
    /// Print every command before running it, and copy every kernel log line
    /// to stderr while QEMU runs.
    #[arg(long, short, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build the kernel, the servers, tests/programs/*.c and an initrd that
    /// runs /bin/hello (always the release profile).
    Build {
        /// Accepted for habit's sake: release is the only profile.
        #[arg(long)]
        release: bool,
    },
    /// Boot one static x86_64 Linux program in QEMU and exit with its status.
    #[command(after_help = initrd::ENV_HELP)]
    Run(RunArgs),
    /// Run the host unit tests, build everything, then boot every QEMU test.
    Test(TestArgs),
    /// Build busybox from Debian's source package as a static musl binary
    /// (cached) and print its path.
    /// Run busybox's own test suite in Lstar and on the host with the same
    /// binary, and print both verdicts per test (all applets, or those
    /// named). Fails on a new failure (one not in
    /// xtask/busybox-known-failures.txt).
    BusyboxSuite {
        applets: Vec<String>,
        #[arg(long, value_name = "SECS", default_value_t = 3600)]
        timeout: u64,
    },
    Busybox,
    /// Build the sqlite3 shell from Debian's source package as a static
    /// musl binary (cached) and print its path.
    Sqlite,
    /// Measure what syscalls cost on Lstar, in each variant (kernel
    /// command-line options), and on Linux in the same QEMU; write
    /// target/bench/bench.{md,csv,json,svg} (docs/benchmarking.md).
    Bench(bench::Args),
    /// Print every syscall of the x86_64 table: who handles it (routes.tbl)
    /// and which QEMU tests exercised it (from the last `cargo xtask test`).
    Syscalls,
}

#[derive(clap::Args)]
struct RunArgs {
    /// Write a `trace: ` line for every syscall and echo those lines to stderr.
    #[arg(long)]
    trace: bool,
    /// How QEMU executes the guest.
    #[arg(long, value_enum, default_value_t = qemu::Accel::Tcg)]
    accel: qemu::Accel,
    /// Kernel page-table isolation, on or off: separate user and kernel page
    /// tables.
    #[arg(long, default_value = "on", value_parser = ["on", "off"])]
    kpti: String,
    /// Add or override an environment variable (repeatable).
    #[arg(long = "env", value_name = "K=V", value_parser = initrd::parse_env)]
    env: Vec<(String, String)>,
    /// Kill QEMU after this many seconds (default: 60 for a program, none
    /// for the interactive shell).
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
    /// Add a word to the kernel command line (repeatable), e.g.
    /// `route=getpid:kernel`, `fastpath=off`, `pcid=off` (docs/boot.md).
    #[arg(long = "boot-option", value_name = "WORD")]
    boot_option: Vec<String>,
    /// Copy this host directory's tree (files, directories, symbolic links,
    /// modes) over the guest's root before the program starts (repeatable).
    #[arg(long, value_name = "DIR")]
    overlay: Vec<PathBuf>,
    /// The host path of a static binary and its arguments (default: an
    /// interactive busybox shell on the serial console; type `exit` to
    /// leave). busybox and its applet links are in /bin, /sbin, /usr/bin
    /// and /usr/sbin of every run.
    #[arg(last = true, value_name = "PROGRAM [ARGS]")]
    program: Vec<OsString>,
}

#[derive(clap::Args)]
struct TestArgs {
    /// Run only the QEMU tests whose name contains one of these words.
    filter: Vec<String>,
    /// Skip the host unit tests (`cargo test`).
    #[arg(long)]
    no_unit: bool,
    /// Kill each QEMU boot after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    timeout: u64,
}

/// Shared by every subcommand.
pub struct Ctx {
    /// The workspace root.
    pub root: PathBuf,
    pub verbose: bool,
}

impl Ctx {
    /// Everything xtask writes besides cargo's own target directories.
    pub fn out(&self) -> PathBuf {
        self.root.join("target/lstar")
    }

    /// The initrd that `build` and `run` write.
    pub fn initrd(&self) -> PathBuf {
        self.out().join("initrd.cpio")
    }

    /// Runs `cmd` to completion with inherited stdio; fails unless it exits 0.
    pub fn run(&self, cmd: &mut Command) -> Result<()> {
        self.show(cmd);
        let name = Path::new(cmd.get_program())
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let status = cmd
            .status()
            .with_context(|| format!("cannot start {name}"))?;
        if !status.success() {
            bail!("{name} failed ({status})");
        }
        Ok(())
    }

    /// Prints `cmd` (with the environment it changes) when --verbose is on.
    pub fn show(&self, cmd: &Command) {
        if self.verbose {
            eprintln!("+ {cmd:?}");
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // xtask/ sits directly in the workspace root.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ctx = Ctx {
        root: manifest.parent().unwrap_or(manifest).to_path_buf(),
        verbose: cli.verbose,
    };
    let result = match cli.command {
        Cmd::Build { release: _ } => build_command(&ctx),
        Cmd::Run(args) => run_command(&ctx, args),
        Cmd::Test(args) => test::run(&ctx, &args.filter, !args.no_unit, args.timeout),
        Cmd::Busybox => busybox::command(&ctx),
        Cmd::Sqlite => sqlite::command(&ctx),
        Cmd::BusyboxSuite { applets, timeout } => bbsuite::command(&ctx, &applets, timeout),
        Cmd::Syscalls => syscalls::command(&ctx),
        Cmd::Bench(args) => bench::command(&ctx, &args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn build_command(ctx: &Ctx) -> Result<u8> {
    deps::ensure(ctx, &[deps::Need::RustTargets, deps::Need::Musl])?;
    let built = build::all(ctx)?;
    let payload = initrd::Payload::default_program(&built, &[])?;
    initrd::write(&ctx.initrd(), &built, &payload)?;
    eprintln!(
        "built {} and {}",
        built.kernel.display(),
        ctx.initrd().display()
    );
    Ok(0)
}

fn run_command(ctx: &Ctx, args: RunArgs) -> Result<u8> {
    deps::ensure(
        ctx,
        &[deps::Need::RustTargets, deps::Need::Musl, deps::Need::Qemu],
    )?;
    let built = build::all(ctx)?;
    let busybox = busybox::build(ctx)?;
    let interactive = args.program.is_empty();
    let payload = match args.program.split_first() {
        None => initrd::Payload::shell(&busybox, &args.env),
        Some((prog, rest)) => initrd::Payload::host_program(prog, rest, &args.env)?,
    };
    let applets = busybox::applet_paths(ctx, &busybox)?;
    let extras = initrd::Extras { busybox: Some((busybox, applets)), overlays: args.overlay.clone() };
    initrd::write_with(&ctx.initrd(), &built, &payload, &extras)?;

    let accel = match args.accel {
        qemu::Accel::Kvm => qemu::probe_kvm(ctx, &built)?,
        other => other,
    };
    let mut cmdline = vec![format!("kpti={}", args.kpti)];
    cmdline.extend(args.boot_option.iter().cloned());
    if args.trace {
        cmdline.push("trace".into());
    }
    let echo = if ctx.verbose {
        qemu::Echo::All
    } else if args.trace {
        qemu::Echo::Trace
    } else {
        qemu::Echo::Nothing
    };
    let boot = qemu::Boot {
        kernel: built.kernel.clone(),
        initrd: ctx.initrd(),
        cmdline,
        accel,
        serial: qemu::Serial::Stdio,
        debug_log: ctx.out().join("debug.log"),
        timeout: match (args.timeout, interactive) {
            (Some(secs), _) => std::time::Duration::from_secs(secs),
            // A person at the shell: no time limit (ten years).
            (None, true) => std::time::Duration::from_secs(10 * 365 * 86_400),
            (None, false) => std::time::Duration::from_secs(60),
        },
        echo,
    };
    let done = qemu::boot(ctx, &boot)?;
    Ok(match done.outcome {
        qemu::Outcome::Exited(status) => status,
        qemu::Outcome::Panic(line) => {
            eprintln!(
                "{line}\n--- last 30 lines of {} ---",
                boot.debug_log.display()
            );
            eprint!("{}", qemu::log_tail(&done.log, 30));
            101
        }
        qemu::Outcome::TimedOut => {
            eprintln!(
                "QEMU timed out after {} s and was killed (raise it with --timeout)",
                boot.timeout.as_secs()
            );
            124
        }
        qemu::Outcome::NoStatus(status) => {
            eprintln!("QEMU exited ({status}) without an exit status line; last 30 log lines:");
            eprint!("{}", qemu::log_tail(&done.log, 30));
            1
        }
    })
}
