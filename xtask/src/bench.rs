//! `cargo xtask bench`: what forwarding a syscall to a server costs, next to
//! handling it in the kernel and next to Linux on the same emulator.
//!
//! One static benchmark program (`tests/bench/bench.c`) is booted once per
//! *variant*: a set of kernel command-line words (KPTI, the IPC fast path,
//! PCID, where `getpid` is routed), never a rebuild. The same binary is
//! booted as `/init` on Debian's Linux kernel for the baseline. Each boot
//! prints one `bench op=…` line per operation on the serial console; this
//! module collects them and `report` turns them into a Markdown table,
//! CSV, JSON and an SVG chart under `target/bench/`. The method is in
//! docs/benchmarking.md.

mod chart;
mod report;
mod phases;

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};

use crate::build::{self, Built};
use crate::initrd::{self, Cpio, Payload};
use crate::qemu::{self, Accel, Echo, Outcome, Serial};
use crate::{deps, Ctx};

/// `cargo xtask bench`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    /// How QEMU executes the guest. `icount`: cycles are guest
    /// instructions, identical from run to run (the figure for comparing
    /// code paths); `tcg`: host time, noisy; `kvm`: hardware, the realistic
    /// figure, after a probe (falls back to TCG if it fails).
    #[arg(long, value_enum, default_value_t = Accel::Icount)]
    pub accel: Accel,
    /// Boot only the variants whose names contain one of these words
    /// (e.g. `fast linux`); all by default. `--list` shows them.
    pub variants: Vec<String>,
    /// List the variants and operations, and exit.
    #[arg(long)]
    pub list: bool,
    /// Skip the Linux baseline.
    #[arg(long)]
    pub no_linux: bool,
    /// Run only these operations (comma-separated, e.g. `getpid,enosys`).
    #[arg(long, value_name = "OPS")]
    pub only: Option<String>,
    /// Time every operation this many times instead of its own count
    /// (at most 4096; the warm-up is a tenth of it).
    #[arg(long, value_name = "N")]
    pub iters: Option<u32>,
    /// Boots run at once. Only `icount` results are independent of the
    /// host's load, so the default is 2 for it and 1 otherwise.
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Kill each boot after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 180)]
    pub timeout: u64,
    /// Measure the forwarded null syscall as the regression test does and
    /// record it in xtask/bench-baseline.txt (then exit).
    #[arg(long, conflicts_with = "check")]
    pub record_baseline: bool,
    /// Run only the regression test: the forwarded null syscall under
    /// icount against xtask/bench-baseline.txt, failing above +10%.
    #[arg(long)]
    pub check: bool,
}

/// Which kernel a variant boots.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum System {
    Lstar,
    Linux,
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            System::Lstar => "lstar",
            System::Linux => "linux",
        })
    }
}

/// One boot configuration: a kernel and the words of its command line.
#[derive(Debug)]
pub struct Variant {
    /// The column name in every report.
    pub name: &'static str,
    /// One line for the reader.
    pub about: &'static str,
    pub system: System,
    /// Kernel command-line words (for Linux, after the console words).
    pub words: &'static [&'static str],
    /// The operations this variant runs; `None` for all. A variant that
    /// changes only where the null call goes need not repeat the rest.
    pub ops: Option<&'static [&'static str]>,
    /// Boots the kernel built with the `probes` feature, whose phase
    /// stamps the program reports as `bench phases` lines.
    pub probes: bool,
}

/// The operations whose cost does not depend on anything but the null
/// call's route.
const NULL_OPS: &[&str] = &["timer", "getpid", "getpid_x32", "enosys"];

/// What the probe variants take apart: calls with one short, fixed path.
const PROBE_OPS: &[&str] = &["getpid", "enosys", "write_null", "read_zero", "clock_gettime"];

/// Every variant, in report order. The names are what the chart and the
/// targets look for: `kernel`, `fast`, `slow`, `linux-pti`.
pub const VARIANTS: &[Variant] = &[
    Variant {
        name: "kernel",
        about: "getpid handled in the kernel (route=getpid:kernel), KPTI on",
        system: System::Lstar,
        words: &["kpti=on", "route=getpid:kernel"],
        ops: Some(NULL_OPS),
        probes: false,
    },
    Variant {
        name: "fast",
        about: "forwarded to the servers, IPC fast path (direct switch), KPTI on",
        system: System::Lstar,
        words: &["kpti=on", "fastpath=on"],
        ops: None,
        probes: false,
    },
    Variant {
        name: "slow",
        about: "forwarded through the scheduler (fastpath=off), KPTI on",
        system: System::Lstar,
        words: &["kpti=on", "fastpath=off"],
        ops: None,
        probes: false,
    },
    Variant {
        name: "kernel-nokpti",
        about: "getpid handled in the kernel, KPTI off",
        system: System::Lstar,
        words: &["kpti=off", "route=getpid:kernel"],
        ops: Some(NULL_OPS),
        probes: false,
    },
    Variant {
        name: "fast-nokpti",
        about: "forwarded, fast path, KPTI off",
        system: System::Lstar,
        words: &["kpti=off", "fastpath=on"],
        ops: None,
        probes: false,
    },
    Variant {
        name: "fast-pcid",
        about: "forwarded, fast path, KPTI on, PCID on (needs a CPU model with PCID)",
        system: System::Lstar,
        words: &["kpti=on", "fastpath=on", "pcid=on"],
        ops: None,
        probes: false,
    },
    Variant {
        name: "fast-nopcid",
        about: "forwarded, fast path, KPTI on, PCID off",
        system: System::Lstar,
        words: &["kpti=on", "fastpath=on", "pcid=off"],
        ops: None,
        probes: false,
    },
    Variant {
        name: "kernel-probes",
        about: "as `kernel`, with the kernel's phase probes (costs a little itself)",
        system: System::Lstar,
        words: &["kpti=on", "route=getpid:kernel"],
        ops: Some(&["getpid", "enosys"]),
        probes: true,
    },
    Variant {
        name: "fast-probes",
        about: "as `fast`, with the kernel's phase probes (costs a little itself)",
        system: System::Lstar,
        words: &["kpti=on", "fastpath=on"],
        ops: Some(PROBE_OPS),
        probes: true,
    },
    Variant {
        name: "linux-pti",
        about: "Debian's Linux, page-table isolation on",
        system: System::Linux,
        words: &["pti=on"],
        ops: None,
        probes: false,
    },
    Variant {
        name: "linux-nopti",
        about: "Debian's Linux, page-table isolation off",
        system: System::Linux,
        words: &["pti=off"],
        ops: None,
        probes: false,
    },
];

/// The operations of bench.c, in its order, with what each measures.
pub const OPS: &[(&str, &str)] = &[
    ("timer", "nothing: the cost of the measurement itself"),
    ("getpid", "the null syscall (routed by the variant)"),
    (
        "getpid_x32",
        "the same through the x32 table (0x40000000 + 39)",
    ),
    ("enosys", "syscall 1000: the -ENOSYS path"),
    (
        "sched_yield",
        "sched_yield, alone on the CPU (in the kernel on Lstar)",
    ),
    (
        "clock_gettime",
        "clock_gettime(CLOCK_MONOTONIC) as a syscall",
    ),
    (
        "clock_gettime_libc",
        "the same through libc (the vDSO on both systems, no syscall)",
    ),
    ("read_zero", "read 1 byte from /dev/zero"),
    ("write_null", "write 1 byte to /dev/null"),
    (
        "pipe_pingpong",
        "one byte to another process and back over two pipes",
    ),
    ("fork_exit_wait", "fork, the child _exits, wait4"),
    (
        "fork_execve_wait",
        "fork, the child execs this program (which exits), wait4",
    ),
    ("mmap_munmap", "mmap 4 KiB anonymous, touch it, munmap"),
    ("open_close", "open and close a file in /tmp"),
];

/// The kernel's event counters, as bench.c names them (lstar_abi::counters).
pub const COUNTERS: [&str; 6] = [
    "entries",
    "syscalls",
    "cr3_writes",
    "tlb_flushes",
    "ipc_messages",
    "switches",
];

/// One operation's figures from one boot.
#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    pub iters: u64,
    pub min_cycles: u64,
    pub median_cycles: u64,
    /// Wall time per run.
    pub ns: f64,
    /// Per run, in COUNTERS order; Lstar only.
    pub counts: Option<[f64; 6]>,
}

/// One operation taken apart by the kernel's probes: the probe points
/// crossed, in order, and the median length of each segment between the
/// program's start stamp, those points, and its end stamp (so one more
/// segment than points).
#[derive(Clone, Debug, PartialEq)]
pub struct Phases {
    /// How many timed runs took this path, of how many.
    pub runs: (u64, u64),
    pub points: Vec<String>,
    pub segments: Vec<u64>,
}

/// What one boot said about one operation.
#[derive(Clone, Debug, PartialEq)]
pub enum OpResult {
    Measured(Measured),
    /// The system answered with an error (bench.c's `reason=`).
    Unsupported(String),
}

/// How a variant's boot went.
#[derive(Clone, Debug, PartialEq)]
pub enum RunState {
    /// It ran and printed `bench done`.
    Done,
    /// The kernel does not know one of the variant's words, or the CPU
    /// model lacks what it asks for: its numbers would be another
    /// variant's.
    Unsupported(String),
    /// It did not finish (timeout, panic, no kernel…); any lines printed
    /// before are kept.
    Failed(String),
}

/// One variant's boot.
pub struct Run {
    pub variant: &'static Variant,
    pub state: RunState,
    /// (operation, result) in the program's order.
    pub ops: Vec<(String, OpResult)>,
    /// (operation, phase stamps) from a kernel with probes.
    pub phases: Vec<(String, Phases)>,
    /// The program's `bench start` line: the CPU features it saw.
    pub start: String,
    pub seconds: f64,
}

impl Run {
    pub fn op(&self, name: &str) -> Option<&OpResult> {
        if self.state != RunState::Done {
            return None;
        }
        self.ops.iter().find(|(n, _)| n == name).map(|(_, r)| r)
    }

    pub fn measured(&self, name: &str) -> Option<&Measured> {
        match self.op(name)? {
            OpResult::Measured(m) => Some(m),
            OpResult::Unsupported(_) => None,
        }
    }
}

/// Everything a report is made of.
pub struct Results {
    /// The accelerator that produced the numbers (after any KVM fallback).
    pub accel: Accel,
    /// What was asked for, when it differs (KVM fell back).
    pub requested: Accel,
    pub runs: Vec<Run>,
    pub qemu_version: String,
    /// The Linux kernel booted for the baseline, or why there is none.
    pub linux: std::result::Result<PathBuf, String>,
    pub seconds: f64,
}

impl Results {
    pub fn run(&self, variant: &str) -> Option<&Run> {
        self.runs.iter().find(|r| r.variant.name == variant)
    }

    pub fn measured(&self, variant: &str, op: &str) -> Option<&Measured> {
        self.run(variant)?.measured(op)
    }
}

/// Where every bench output goes.
fn out_dir(ctx: &Ctx) -> PathBuf {
    ctx.root.join("target/bench")
}

/// `cargo xtask bench`.
pub fn command(ctx: &Ctx, args: &Args) -> Result<u8> {
    if args.list {
        list();
        return Ok(0);
    }
    let started = Instant::now();
    deps::ensure(
        ctx,
        &[deps::Need::RustTargets, deps::Need::Musl, deps::Need::Qemu],
    )?;
    if args.check {
        return match regression_check(ctx) {
            Ok(line) => {
                println!("bench regression: ok: {line}");
                Ok(0)
            }
            Err(e) => {
                println!("bench regression: FAILED: {e:#}");
                Ok(1)
            }
        };
    }
    let built = build::all(ctx)?;
    let program = build_program(ctx)?;
    if args.record_baseline {
        let figure = regression_figure(ctx, &built, &program)?;
        write_baseline(ctx, figure)?;
        println!(
            "recorded {figure} guest instructions per forwarded getpid in {}",
            baseline_path(ctx).display()
        );
        return Ok(0);
    }

    let variants: Vec<&'static Variant> = VARIANTS
        .iter()
        .filter(|v| {
            args.variants.is_empty() || args.variants.iter().any(|w| v.name.contains(w.as_str()))
        })
        .filter(|v| !(args.no_linux && v.system == System::Linux))
        .collect();
    if variants.is_empty() {
        bail!("no variant matches {:?} (see --list)", args.variants);
    }
    let accel = match args.accel {
        Accel::Kvm => qemu::probe_kvm(ctx, &built)?,
        other => other,
    };
    let linux = if variants.iter().any(|v| v.system == System::Linux) {
        linux_kernel(ctx)
    } else {
        Err("not asked for".to_string())
    };
    if let Err(why) = &linux {
        if variants.iter().any(|v| v.system == System::Linux) {
            eprintln!("Linux baseline skipped: {why}");
        }
    }
    let jobs = args
        .jobs
        .unwrap_or(if accel == Accel::Icount { 2 } else { 1 })
        .max(1);
    let probes_kernel = if variants.iter().any(|v| v.probes) {
        Some(build::kernel_with_probes(ctx)?)
    } else {
        None
    };
    let plan = Plan {
        built: &built,
        probes_kernel,
        program: &program,
        linux: linux.as_ref().ok().map(PathBuf::as_path),
        accel,
        only: args.only.as_deref(),
        iters: args.iters,
        timeout: Duration::from_secs(args.timeout),
        dir: out_dir(ctx).join("boots").join(accel_name(accel)),
    };
    eprintln!(
        "bench: {} boots under {}, {jobs} at a time",
        variants.len(),
        accel_name(accel)
    );
    let runs = run_all(ctx, &plan, &variants, jobs);
    let results = Results {
        accel,
        requested: args.accel,
        runs,
        qemu_version: qemu_version(),
        linux,
        seconds: started.elapsed().as_secs_f64(),
    };
    let written = report::write_all(&out_dir(ctx), &results)?;
    print!("{}", report::markdown(&results));
    eprintln!(
        "wrote {}",
        written
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let failed = results
        .runs
        .iter()
        .any(|r| matches!(r.state, RunState::Failed(_)));
    Ok(if failed { 1 } else { 0 })
}

fn list() {
    println!("Variants (kernel command-line words):");
    for v in VARIANTS {
        println!(
            "  {:<14} {:<5} {:<36} {}",
            v.name,
            v.system.to_string(),
            v.words.join(" "),
            v.about
        );
    }
    println!("\nOperations:");
    for (name, about) in OPS {
        println!("  {name:<20} {about}");
    }
}

/// How to boot every variant of one bench run.
struct Plan<'a> {
    built: &'a Built,
    /// The kernel built with probes, when a chosen variant needs it.
    probes_kernel: Option<PathBuf>,
    program: &'a Path,
    linux: Option<&'a Path>,
    accel: Accel,
    only: Option<&'a str>,
    iters: Option<u32>,
    timeout: Duration,
    dir: PathBuf,
}

/// Boots every variant, `jobs` at a time, and returns the runs in
/// `variants` order.
fn run_all(ctx: &Ctx, plan: &Plan, variants: &[&'static Variant], jobs: usize) -> Vec<Run> {
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, Run)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(variants.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(variant) = variants.get(i) else {
                    break;
                };
                let run = run_variant(ctx, plan, variant);
                eprintln!(
                    "bench: {:<14} {:>6.1} s  {}",
                    variant.name,
                    run.seconds,
                    state_text(&run.state)
                );
                done.lock().expect("bench results").push((i, run));
            });
        }
    });
    let mut runs = done.into_inner().expect("bench results");
    runs.sort_by_key(|(i, _)| *i);
    runs.into_iter().map(|(_, run)| run).collect()
}

fn state_text(state: &RunState) -> String {
    match state {
        RunState::Done => "ok".into(),
        RunState::Unsupported(why) => format!("unsupported: {why}"),
        RunState::Failed(why) => format!("FAILED: {why}"),
    }
}

/// The bench program's options: `only=` (the variant's operations, cut
/// down by --only) and `iters=`.
fn program_args(variant: &Variant, only: Option<&str>, iters: Option<u32>) -> Vec<String> {
    let mut words = Vec::new();
    let asked: Option<Vec<&str>> = only.map(|o| o.split(',').filter(|s| !s.is_empty()).collect());
    let ops: Option<Vec<&str>> = match (variant.ops, asked) {
        (None, None) => None,
        (Some(v), None) => Some(v.to_vec()),
        (None, Some(a)) => Some(a),
        (Some(v), Some(a)) => Some(v.iter().copied().filter(|o| a.contains(o)).collect()),
    };
    if let Some(ops) = ops {
        words.push(format!("only={}", ops.join(",")));
    }
    if let Some(n) = iters {
        words.push(format!("iters={n}"));
    }
    words
}

fn run_variant(ctx: &Ctx, plan: &Plan, variant: &'static Variant) -> Run {
    let started = Instant::now();
    let dir = plan.dir.join(variant.name);
    let args = program_args(variant, plan.only, plan.iters);
    let booted = match variant.system {
        System::Lstar => boot_lstar(ctx, plan, variant, &dir, &args),
        System::Linux => match plan.linux {
            Some(kernel) => boot_linux(ctx, plan, kernel, variant, &dir, &args),
            None => Err(anyhow::anyhow!("no Linux kernel to boot")),
        },
    };
    let mut run = match booted {
        Ok(run) => run,
        Err(e) => Run {
            variant,
            state: RunState::Failed(format!("{e:#}")),
            ops: Vec::new(),
            phases: Vec::new(),
            start: String::new(),
            seconds: 0.0,
        },
    };
    run.seconds = started.elapsed().as_secs_f64();
    run
}

/// Boots Lstar with the variant's words and the bench as the first program.
fn boot_lstar(
    ctx: &Ctx,
    plan: &Plan,
    variant: &'static Variant,
    dir: &Path,
    args: &[String],
) -> Result<Run> {
    let mut argv = vec![std::ffi::OsString::from("/bin/bench")];
    argv.extend(args.iter().map(std::ffi::OsString::from));
    let payload = Payload {
        host_path: plan.program.to_path_buf(),
        name: "bench".into(),
        argv,
        env: initrd::environment(&[]),
    };
    let boot = qemu::Boot {
        kernel: match (&plan.probes_kernel, variant.probes) {
            (Some(k), true) => k.clone(),
            _ => plan.built.kernel.clone(),
        },
        initrd: dir.join("initrd.cpio"),
        cmdline: variant.words.iter().map(|w| w.to_string()).collect(),
        accel: plan.accel,
        serial: Serial::File(dir.join("serial.out")),
        debug_log: dir.join("debug.log"),
        timeout: plan.timeout,
        echo: if ctx.verbose {
            Echo::All
        } else {
            Echo::Nothing
        },
    };
    initrd::write(&boot.initrd, plan.built, &payload)?;
    let done = qemu::boot(ctx, &boot)?;
    let serial = String::from_utf8_lossy(&done.serial).into_owned();
    let Output { start, ops, phases, done: finished } = parse_output(&serial);
    let state = if let Some(why) = rejected_word(&done.log, variant.words) {
        RunState::Unsupported(why)
    } else if let Some(why) = missing_cpu_feature(variant.words, &start) {
        RunState::Unsupported(why)
    } else if variant.probes && phases.is_empty() {
        RunState::Failed("a kernel with probes, but no `bench phases` line".into())
    } else {
        match (&done.outcome, finished) {
            (Outcome::Exited(0), true) if !done.log.contains("lstar: PANIC: ") => RunState::Done,
            (Outcome::Exited(0), true) => RunState::Failed("the kernel panicked".into()),
            (outcome, _) => {
                RunState::Failed(format!("{outcome}; see {}", boot.debug_log.display()))
            }
        }
    };
    Ok(Run {
        variant,
        state,
        ops,
        phases,
        start,
        seconds: 0.0,
    })
}

/// The first kernel warning that rejects one of `words`: the kernel logs
/// `unknown kernel option "WORD"` for a word it does not know, `bad kernel
/// option "WORD": …` for a malformed one, and `WORD: …` when it cannot do
/// what the word asks (`pcid=on: this CPU has no PCID; staying off`,
/// `route=getpid:kernel: the kernel has no handler for getpid`).
pub fn rejected_word(log: &str, words: &[&str]) -> Option<String> {
    log.lines()
        .filter_map(|line| line.trim_end().strip_prefix("[WARN ] "))
        .find(|warning| {
            words.iter().any(|w| {
                warning.contains(&format!("{w:?}")) || warning.starts_with(&format!("{w}:"))
            })
        })
        .map(|warning| format!("the kernel said: {warning}"))
}

/// Why the CPU model cannot run a variant, from the `bench start` line
/// (`pcid=0`): a `pcid=on` boot on a CPU without PCID measures the same
/// thing as `pcid=off`.
fn missing_cpu_feature(words: &[&str], start: &str) -> Option<String> {
    if words.contains(&"pcid=on") && start.split_whitespace().any(|w| w == "pcid=0") {
        return Some("QEMU's CPU model offers no PCID here (TCG does not emulate it)".into());
    }
    None
}

/// What the bench program printed.
#[derive(Debug, Default)]
pub struct Output {
    /// The `bench start` line's words: the CPU features it saw.
    pub start: String,
    pub ops: Vec<(String, OpResult)>,
    pub phases: Vec<(String, Phases)>,
    /// `bench done` came.
    pub done: bool,
}

/// Parses the program's output: the `bench start` line, the operations,
/// their phases, and whether `bench done` came.
pub fn parse_output(serial: &str) -> Output {
    let mut out = Output::default();
    for line in serial.lines() {
        // Linux's console may put its own messages before ours on a line.
        let Some(at) = line.find("bench ") else {
            continue;
        };
        let line = line[at..].trim_end();
        if let Some(rest) = line.strip_prefix("bench start") {
            out.start = rest.trim().to_string();
        } else if line == "bench done" {
            out.done = true;
        } else if let Some(rest) = line.strip_prefix("bench phases ") {
            out.phases.extend(parse_phases(rest));
        } else if let Some(parsed) = parse_op_line(line) {
            out.ops.push(parsed);
        }
    }
    out
}

/// The words after `bench phases `: `op=getpid runs=1999/2000
/// events=entry,dispatch,exit median_segments=120,40,90,110` (`none` for
/// no runs, or no events).
pub fn parse_phases(words: &str) -> Option<(String, Phases)> {
    let fields: std::collections::BTreeMap<&str, &str> =
        words.split_whitespace().filter_map(|w| w.split_once('=')).collect();
    let op = fields.get("op")?.to_string();
    let (a, b) = fields.get("runs")?.split_once('/')?;
    let points: Vec<String> = match *fields.get("events")? {
        "none" => Vec::new(),
        list => list.split(',').map(str::to_string).collect(),
    };
    let segments = fields
        .get("median_segments")?
        .split(',')
        .map(|x| x.parse().ok())
        .collect::<Option<Vec<u64>>>()?;
    if segments.len() != points.len() + 1 {
        return None;
    }
    let runs = (a.parse().ok()?, b.parse().ok()?);
    Some((op, Phases { runs, points, segments }))
}

/// One `bench op=…` line.
pub fn parse_op_line(line: &str) -> Option<(String, OpResult)> {
    let rest = line.strip_prefix("bench ")?;
    let mut fields = std::collections::BTreeMap::new();
    let mut unsupported = false;
    for word in rest.split_whitespace() {
        match word.split_once('=') {
            Some((k, v)) => {
                fields.insert(k, v);
            }
            None if word == "unsupported" => unsupported = true,
            None => {}
        }
    }
    let op = fields.get("op")?.to_string();
    if unsupported {
        let reason = fields
            .get("reason")
            .copied()
            .unwrap_or("unknown")
            .to_string();
        return Some((op, OpResult::Unsupported(reason)));
    }
    let int = |k: &str| fields.get(k)?.parse::<u64>().ok();
    let float = |k: &str| fields.get(k)?.parse::<f64>().ok();
    let counts = COUNTERS
        .iter()
        .map(|k| float(k))
        .collect::<Option<Vec<f64>>>();
    Some((
        op,
        OpResult::Measured(Measured {
            iters: int("iters")?,
            min_cycles: int("min_cycles")?,
            median_cycles: int("median_cycles")?,
            ns: float("ns")?,
            counts: counts.and_then(|c| c.try_into().ok()),
        }),
    ))
}

// ---- Linux ----

/// The words every Linux boot gets: the serial console, no boot chatter,
/// reboot (which QEMU's -no-reboot turns into an exit) rather than hang on
/// a panic, and the x32 ABI turned on (Debian builds it in, off by
/// default), so that getpid_x32 is measured on both.
const LINUX_WORDS: &[&str] = &["console=ttyS0", "quiet", "panic=-1", "syscall.x32=y"];

/// The newest `/boot/vmlinuz-*`, installing Debian's `linux-image-amd64`
/// when there is none and we are root.
fn linux_kernel(ctx: &Ctx) -> std::result::Result<PathBuf, String> {
    if find_vmlinuz().is_none() {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let root = unsafe { libc::geteuid() } == 0;
        if !root {
            return Err("no /boot/vmlinuz-*: install Debian's kernel with \
                        `sudo apt-get install linux-image-amd64`"
                .into());
        }
        eprintln!("bench: installing linux-image-amd64 for the Linux baseline");
        let install = || -> Result<()> {
            ctx.run(Command::new("apt-get").arg("update"))?;
            ctx.run(
                Command::new("apt-get")
                    .args([
                        "install",
                        "-y",
                        "--no-install-recommends",
                        "linux-image-amd64",
                    ])
                    .env("DEBIAN_FRONTEND", "noninteractive"),
            )
        };
        install().map_err(|e| format!("apt-get install linux-image-amd64 failed: {e:#}"))?;
    }
    let path =
        find_vmlinuz().ok_or("no /boot/vmlinuz-* even after installing linux-image-amd64")?;
    if let Err(e) = std::fs::File::open(&path) {
        return Err(format!(
            "cannot read {} ({e}); Debian installs it readable by root only: \
             `sudo chmod a+r {}`",
            path.display(),
            path.display()
        ));
    }
    Ok(path)
}

fn find_vmlinuz() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/boot")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("vmlinuz-"))
        })
        .collect();
    found.sort_by(|a, b| version_order(a, b));
    found.pop()
}

/// Orders kernel file names by their version numbers (6.1.0-9 before
/// 6.1.0-10).
fn version_order(a: &Path, b: &Path) -> std::cmp::Ordering {
    let key = |p: &Path| -> Vec<u64> {
        p.to_string_lossy()
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|s| s.parse().ok())
            .collect()
    };
    key(a).cmp(&key(b))
}

/// The guest TSC's frequency, for Linux's `tsc_early_khz=`: microvm has
/// neither HPET nor ACPI PM timer, so Linux calibrates the TSC against the
/// PIT, which under plain TCG can fail and leave the boot hanging. Under
/// icount the TSC counts one tick per guest instruction, and an
/// instruction is one nanosecond of virtual time: 1 GHz. Under plain TCG
/// the guest reads the host's TSC. KVM guests have kvmclock.
fn tsc_khz(accel: Accel) -> Option<u64> {
    match accel {
        Accel::Icount => Some(1_000_000),
        Accel::Tcg => host_cpu_khz(&std::fs::read_to_string("/proc/cpuinfo").ok()?),
        Accel::Kvm => None,
    }
}

/// The first `cpu MHz` of /proc/cpuinfo, in kHz.
fn host_cpu_khz(cpuinfo: &str) -> Option<u64> {
    let line = cpuinfo.lines().find(|l| l.starts_with("cpu MHz"))?;
    let mhz: f64 = line.split(':').nth(1)?.trim().parse().ok()?;
    Some((mhz * 1000.0).round() as u64)
}

/// The initramfs: the bench as `/init`. The kernel's built-in initramfs
/// already has `/dev/console`, which init's stdio needs; bench.c mounts
/// devtmpfs and /proc and makes /tmp itself.
fn linux_initramfs(program: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(program).with_context(|| format!("read {}", program.display()))?;
    let mut cpio = Cpio::default();
    for dir in ["dev", "proc", "tmp"] {
        cpio.dir(dir);
    }
    cpio.file("init", 0o755, &bytes);
    Ok(cpio.finish())
}

/// Boots Linux with the bench as /init, through the same QEMU command as
/// Lstar (the debug console and isa-debug-exit are there but unused; the
/// program powers off when done).
fn boot_linux(
    ctx: &Ctx,
    plan: &Plan,
    kernel: &Path,
    variant: &'static Variant,
    dir: &Path,
    args: &[String],
) -> Result<Run> {
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    let initrd = dir.join("initramfs.cpio");
    std::fs::write(&initrd, linux_initramfs(plan.program)?)
        .with_context(|| format!("write {}", initrd.display()))?;
    let mut cmdline: Vec<String> = LINUX_WORDS.iter().map(|w| w.to_string()).collect();
    cmdline.extend(tsc_khz(plan.accel).map(|khz| format!("tsc_early_khz={khz}")));
    cmdline.extend(variant.words.iter().map(|w| w.to_string()));
    // Linux hands unknown `K=V` parameters to /init as its environment.
    for arg in args {
        if let Some((k, v)) = arg.split_once('=') {
            cmdline.push(format!("BENCH_{}={v}", k.to_ascii_uppercase()));
        }
    }
    let boot = qemu::Boot {
        kernel: kernel.to_path_buf(),
        initrd,
        cmdline,
        accel: plan.accel,
        serial: Serial::File(dir.join("serial.out")),
        debug_log: dir.join("debug.log"),
        timeout: plan.timeout,
        echo: Echo::Nothing,
    };
    let done = qemu::boot(ctx, &boot)?;
    let serial = String::from_utf8_lossy(&done.serial).into_owned();
    let Output { start, ops, phases, done: finished } = parse_output(&serial);
    let state = if finished {
        RunState::Done
    } else if done.outcome == Outcome::TimedOut {
        RunState::Failed(format!(
            "timed out; see {}",
            dir.join("serial.out").display()
        ))
    } else {
        RunState::Failed(format!(
            "no `bench done` line ({}); see {}",
            done.outcome,
            dir.join("serial.out").display()
        ))
    };
    Ok(Run {
        variant,
        state,
        ops,
        phases,
        start,
        seconds: 0.0,
    })
}

// ---- helpers ----

pub fn accel_name(accel: Accel) -> &'static str {
    match accel {
        Accel::Tcg => "tcg",
        Accel::Kvm => "kvm",
        Accel::Icount => "icount",
    }
}

/// What a cycle means under `accel`.
pub fn accel_meaning(accel: Accel) -> &'static str {
    match accel {
        Accel::Icount => {
            "TCG with -icount shift=0: a cycle is one guest instruction, identical from run to run"
        }
        Accel::Tcg => "TCG: cycles are host TSC ticks while emulating, noisy and not a CPU's cost",
        Accel::Kvm => "KVM: cycles are the host CPU's TSC, the realistic figure",
    }
}

fn qemu_version() -> String {
    Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// Compiles tests/bench/bench.c into target/lstar/bench/bench (static
/// musl, as the test programs), when the source is newer.
pub fn build_program(ctx: &Ctx) -> Result<PathBuf> {
    let src = ctx.root.join("tests/bench/bench.c");
    let out_dir = ctx.out().join("bench");
    std::fs::create_dir_all(&out_dir).with_context(|| format!("create {}", out_dir.display()))?;
    let out = out_dir.join("bench");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let fresh = matches!((modified(&out), modified(&src)), (Some(o), Some(s)) if o > s);
    if !fresh {
        let include = deps::kernel_header_dir(ctx)?;
        ctx.run(
            Command::new("musl-gcc")
                .args(["-static", "-O2", "-Wall", "-isystem"])
                .arg(&include)
                .arg("-o")
                .arg(&out)
                .arg(&src),
        )
        .with_context(|| format!("compiling {}", src.display()))?;
    }
    Ok(out)
}

// ---- the regression test ----

/// The recorded figure: guest instructions per forwarded getpid.
fn baseline_path(ctx: &Ctx) -> PathBuf {
    ctx.root.join("xtask/bench-baseline.txt")
}

/// The key of the figure in the baseline file.
const BASELINE_KEY: &str = "forwarded_getpid_instructions";

/// How far above the recorded figure the regression test lets the
/// forwarded null syscall go.
const REGRESSION_TOLERANCE: f64 = 0.10;

/// Boots the `fast` variant under icount for getpid alone and returns its
/// minimum cycle count: guest instructions per forwarded null syscall.
fn regression_figure(ctx: &Ctx, built: &Built, program: &Path) -> Result<u64> {
    let variant = VARIANTS
        .iter()
        .find(|v| v.name == "fast")
        .expect("the fast variant");
    let plan = Plan {
        built,
        probes_kernel: None,
        program,
        linux: None,
        accel: Accel::Icount,
        only: Some("getpid"),
        iters: Some(1000),
        timeout: Duration::from_secs(120),
        dir: out_dir(ctx).join("regression"),
    };
    let run = run_variant(ctx, &plan, variant);
    if run.state != RunState::Done {
        bail!(
            "the regression boot did not finish: {}",
            state_text(&run.state)
        );
    }
    match run.op("getpid") {
        Some(OpResult::Measured(m)) => Ok(m.min_cycles),
        Some(OpResult::Unsupported(why)) => bail!("getpid unsupported: {why}"),
        None => bail!("the regression boot printed no getpid line"),
    }
}

fn write_baseline(ctx: &Ctx, figure: u64) -> Result<()> {
    let text = format!(
        "# Guest instructions per forwarded getpid (fast path, KPTI on), from\n\
         # `cargo xtask bench --record-baseline` (QEMU TCG with -icount shift=0).\n\
         # The regression test fails when the figure rises more than {}% above it.\n\
         # Record it again after a change that is meant to cost more, or after\n\
         # one that made it cheaper.\n\
         {BASELINE_KEY} {figure}\n",
        (REGRESSION_TOLERANCE * 100.0).round()
    );
    let path = baseline_path(ctx);
    std::fs::write(&path, text).with_context(|| format!("write {}", path.display()))
}

/// Reads the recorded figure.
pub fn parse_baseline(text: &str) -> Option<u64> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(BASELINE_KEY)?.trim().parse().ok())
}

/// Whether `figure` passes against `baseline`: Err says by how much it rose.
pub fn judge_regression(figure: u64, baseline: u64) -> std::result::Result<String, String> {
    let limit = baseline as f64 * (1.0 + REGRESSION_TOLERANCE);
    let change = (figure as f64 / baseline as f64 - 1.0) * 100.0;
    let text = format!(
        "forwarded getpid: {figure} guest instructions, recorded {baseline} ({change:+.1}%)"
    );
    if figure as f64 > limit {
        Err(format!(
            "{text}: more than {:.0}% above the recorded figure",
            REGRESSION_TOLERANCE * 100.0
        ))
    } else {
        Ok(text)
    }
}

/// The regression test for `cargo xtask test` (and `cargo xtask bench
/// --check`): boots the bench under icount for the forwarded null syscall
/// alone and fails if its instruction count rose more than 10% above the
/// figure in xtask/bench-baseline.txt. icount makes the figure
/// deterministic, so this is not a timed test. Returns the line to print on
/// success.
pub fn regression_check(ctx: &Ctx) -> Result<String> {
    let path = baseline_path(ctx);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "read {} (record it with `cargo xtask bench --record-baseline`)",
            path.display()
        )
    })?;
    let Some(baseline) = parse_baseline(&text) else {
        bail!("{} has no `{BASELINE_KEY} N` line", path.display());
    };
    let built = build::all(ctx)?;
    let program = build_program(ctx)?;
    let figure = regression_figure(ctx, &built, &program)?;
    judge_regression(figure, baseline).map_err(|e| anyhow::anyhow!(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_lines() {
        let (op, r) = parse_op_line(
            "bench op=getpid iters=2000 min_cycles=2293 median_cycles=2300 ns=2308.1 entries=2.004 \
             syscalls=2.004 cr3_writes=4.008 tlb_flushes=4.008 ipc_messages=2.002 switches=2.002",
        )
        .unwrap();
        assert_eq!(op, "getpid");
        let OpResult::Measured(m) = r else {
            panic!("not measured")
        };
        assert_eq!((m.iters, m.min_cycles, m.median_cycles), (2000, 2293, 2300));
        assert_eq!(m.counts, Some([2.004, 2.004, 4.008, 4.008, 2.002, 2.002]));

        let (_, r) =
            parse_op_line("bench op=enosys iters=10 min_cycles=237 median_cycles=240 ns=250.0")
                .unwrap();
        let OpResult::Measured(m) = r else {
            panic!("not measured")
        };
        assert_eq!(m.counts, None);

        assert_eq!(
            parse_op_line("bench op=pipe_pingpong unsupported reason=setup:ENOSYS(38)"),
            Some((
                "pipe_pingpong".into(),
                OpResult::Unsupported("setup:ENOSYS(38)".into())
            ))
        );
        assert_eq!(parse_op_line("bench op=x iters=1"), None);
        assert_eq!(parse_op_line("hello"), None);
    }

    #[test]
    fn output_with_console_noise() {
        let serial = "[    0.09] PCI: Fatal\r\nbench start system=other pcid=0\r\n\
                      [ 1.0] x bench op=timer iters=1 min_cycles=13 median_cycles=13 ns=35.6\r\nbench done\r\n";
        let out = parse_output(serial);
        assert_eq!(out.start, "system=other pcid=0");
        assert_eq!(out.ops.len(), 1);
        assert!(out.phases.is_empty());
        assert!(out.done);
        assert!(missing_cpu_feature(&["kpti=on", "pcid=on"], &out.start).is_some());
        assert_eq!(missing_cpu_feature(&["pcid=off"], &out.start), None);
    }

    #[test]
    fn phase_lines() {
        let serial = "bench op=getpid iters=10 min_cycles=900 median_cycles=900 ns=1.0\n\
                      bench phases op=getpid runs=9/10 events=entry,dispatch,exit median_segments=100,20,300,80\n\
                      bench phases op=timer runs=10/10 events=none median_segments=13\n\
                      bench phases op=bad runs=10/10 events=entry median_segments=1\n";
        let out = parse_output(serial);
        assert_eq!(out.phases.len(), 2);
        let (op, p) = &out.phases[0];
        assert_eq!(op, "getpid");
        assert_eq!(p.runs, (9, 10));
        assert_eq!(p.points, ["entry", "dispatch", "exit"]);
        assert_eq!(p.segments, [100, 20, 300, 80]);
        assert!(out.phases[1].1.points.is_empty());
    }

    #[test]
    fn rejected_kernel_words() {
        let words = ["kpti=on", "pcid=on", "route=getpid:kernel"];
        let said = |log: &str| rejected_word(log, &words);
        assert_eq!(
            said("[INFO ] boot\n[WARN ] unknown kernel option \"pcid=on\"\n").as_deref(),
            Some("the kernel said: unknown kernel option \"pcid=on\"")
        );
        assert!(said("[WARN ] pcid=on: this CPU has no PCID; staying off\n").is_some());
        assert!(
            said("[WARN ] route=getpid:kernel: the kernel has no handler for getpid\n").is_some()
        );
        assert!(said(
            "[WARN ] bad kernel option \"route=getpid:kernel\": expected route=NAME:HANDLER\n"
        )
        .is_some());
        assert_eq!(
            said("[WARN ] unknown kernel option \"trace2\"\n[INFO ] pcid=on\n"),
            None
        );
        assert_eq!(
            said("[WARN ] syscall foo (1000): not routed, -ENOSYS\n"),
            None
        );
    }

    #[test]
    fn program_arguments() {
        let fast = VARIANTS.iter().find(|v| v.name == "fast").unwrap();
        let kernel = VARIANTS.iter().find(|v| v.name == "kernel").unwrap();
        assert!(program_args(fast, None, None).is_empty());
        assert_eq!(
            program_args(fast, Some("getpid,enosys"), Some(10)),
            ["only=getpid,enosys", "iters=10"]
        );
        assert_eq!(
            program_args(kernel, None, None),
            ["only=timer,getpid,getpid_x32,enosys"]
        );
        assert_eq!(
            program_args(kernel, Some("getpid,open_close"), None),
            ["only=getpid"]
        );
    }

    #[test]
    fn variants_are_consistent() {
        let mut names: Vec<&str> = VARIANTS.iter().map(|v| v.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), VARIANTS.len());
        for v in VARIANTS {
            for op in v.ops.unwrap_or(&[]) {
                assert!(
                    OPS.iter().any(|(name, _)| name == op),
                    "{}: unknown op {op}",
                    v.name
                );
            }
        }
        // What the chart and the targets read.
        for name in ["kernel", "fast", "slow", "fast-nokpti", "linux-pti"] {
            assert!(VARIANTS.iter().any(|v| v.name == name), "{name}");
        }
    }

    #[test]
    fn ops_match_the_program() {
        let src = include_str!("../../tests/bench/bench.c");
        for (name, _) in OPS {
            assert!(
                src.contains(&format!("{{ \"{name}\", ")),
                "{name} is not in bench.c"
            );
        }
    }

    #[test]
    fn baseline_file() {
        assert_eq!(
            parse_baseline("# c\nforwarded_getpid_instructions 2293\n"),
            Some(2293)
        );
        assert_eq!(parse_baseline("# forwarded_getpid_instructions 1\n"), None);
        assert!(judge_regression(2300, 2293).is_ok());
        assert!(judge_regression(2522, 2293).is_ok());
        assert!(judge_regression(2523, 2293).is_err());
        assert!(judge_regression(1000, 2293).is_ok());
    }

    #[test]
    fn host_tsc_from_cpuinfo() {
        assert_eq!(
            host_cpu_khz("processor\t: 0\ncpu MHz\t\t: 2399.998\n"),
            Some(2_399_998)
        );
        assert_eq!(host_cpu_khz("processor\t: 0\n"), None);
    }

    #[test]
    fn kernel_versions_in_order() {
        let mut v = [
            PathBuf::from("/boot/vmlinuz-6.1.0-10-amd64"),
            PathBuf::from("/boot/vmlinuz-6.1.0-9-amd64"),
        ];
        v.sort_by(|a, b| version_order(a, b));
        assert_eq!(v[1], PathBuf::from("/boot/vmlinuz-6.1.0-10-amd64"));
    }
}
