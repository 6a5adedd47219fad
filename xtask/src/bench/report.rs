//! The bench's reports: a Markdown table for the terminal (and
//! `bench.md`), CSV and JSON for other tools, the targets of the research
//! benchmark checked against the figures, and the derived breakdown of a
//! forwarded call. All read the same [`Results`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde_json::{json, Value};

use super::{
    accel_meaning, accel_name, chart, OpResult, Results, Run, RunState, System, COUNTERS, OPS,
};

/// Writes bench.md, bench.csv, bench.json and bench.svg into `dir` and a
/// copy of each into `dir/<accel>/`, so that the last icount and kvm runs
/// stay side by side. Returns the paths written in `dir`.
pub fn write_all(dir: &Path, results: &Results) -> Result<Vec<PathBuf>> {
    let files = [
        ("bench.md", markdown(results)),
        ("bench.csv", csv(results)),
        (
            "bench.json",
            serde_json::to_string_pretty(&to_json(results))? + "\n",
        ),
        ("bench.svg", chart::svg(results)?),
    ];
    let keep = dir.join(accel_name(results.accel));
    std::fs::create_dir_all(&keep).with_context(|| format!("create {}", keep.display()))?;
    let mut written = Vec::new();
    for (name, text) in files {
        for d in [dir, keep.as_path()] {
            let path = d.join(name);
            std::fs::write(&path, &text).with_context(|| format!("write {}", path.display()))?;
        }
        written.push(dir.join(name));
    }
    Ok(written)
}

/// A number the way the tables show it: integers bare, others with at most
/// two decimals.
fn num(x: f64) -> String {
    if (x - x.round()).abs() < 0.005 {
        format!("{}", x.round() as i64)
    } else {
        format!("{x:.2}")
    }
}

/// The cycles cell: the minimum, and the median after it when it differs.
fn cycles_cell(run: Option<&Run>, op: &str) -> String {
    let Some(run) = run else { return "—".into() };
    match &run.state {
        RunState::Unsupported(_) => return "n/a".into(),
        RunState::Failed(_) => return "failed".into(),
        RunState::Done => {}
    }
    match run.op(op) {
        Some(OpResult::Measured(m)) if m.median_cycles == m.min_cycles => m.min_cycles.to_string(),
        Some(OpResult::Measured(m)) => format!("{} ({})", m.min_cycles, m.median_cycles),
        Some(OpResult::Unsupported(_)) => "unsupported".into(),
        None => "—".into(),
    }
}

/// The structural counts cell: entries · CR3 writes · TLB flushes · IPC
/// messages · switches, per run.
fn counts_cell(run: &Run, op: &str) -> String {
    match run.measured(op).and_then(|m| m.counts) {
        Some(c) => [c[0], c[2], c[3], c[4], c[5]]
            .iter()
            .map(|&x| num(x))
            .collect::<Vec<_>>()
            .join(" · "),
        None => match run.op(op) {
            Some(OpResult::Unsupported(_)) => "unsupported".into(),
            _ => "—".into(),
        },
    }
}

pub(super) fn row(cells: &[String]) -> String {
    format!("| {} |\n", cells.join(" | "))
}

pub(super) fn header(cells: &[&str]) -> String {
    let mut s = row(&cells.iter().map(|c| c.to_string()).collect::<Vec<_>>());
    s.push_str(&row(&cells
        .iter()
        .map(|_| "---".to_string())
        .collect::<Vec<_>>()));
    s
}

/// The operations any run printed, in bench.c's order.
fn ops_seen(results: &Results) -> Vec<&'static str> {
    OPS.iter()
        .map(|(name, _)| *name)
        .filter(|name| {
            results
                .runs
                .iter()
                .any(|r| r.ops.iter().any(|(n, _)| n == name))
        })
        .collect()
}

/// The whole report in Markdown.
pub fn markdown(results: &Results) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Lstar bench: {}\n", accel_name(results.accel));
    let _ = writeln!(
        s,
        "Accelerator: **{}** ({}).",
        accel_name(results.accel),
        accel_meaning(results.accel)
    );
    if results.requested != results.accel {
        let _ = writeln!(
            s,
            "Asked for {}, which the KVM probe turned down: these are {} figures.",
            accel_name(results.requested),
            accel_name(results.accel)
        );
    }
    let _ = writeln!(
        s,
        "{}; `-M microvm -cpu max -smp 1 -m 512M`.",
        results.qemu_version
    );
    match &results.linux {
        Ok(path) => {
            let _ = writeln!(s, "Linux baseline: {}.", path.display());
        }
        Err(why) => {
            let _ = writeln!(s, "Linux baseline: none ({why}).");
        }
    }
    let _ = writeln!(s, "All boots took {:.0} s.\n", results.seconds);

    s.push_str("## Variants\n\n");
    s.push_str(&header(&[
        "variant",
        "system",
        "kernel command line",
        "boot",
        "s",
    ]));
    for run in &results.runs {
        let state = match &run.state {
            RunState::Done => "ok".to_string(),
            RunState::Unsupported(why) => format!("unsupported: {why}"),
            RunState::Failed(why) => format!("FAILED: {why}"),
        };
        s.push_str(&row(&[
            run.variant.name.into(),
            run.variant.system.to_string(),
            format!("`{}`", run.variant.words.join(" ")),
            state,
            format!("{:.1}", run.seconds),
        ]));
    }

    let ops = ops_seen(results);
    let names: Vec<&str> = results.runs.iter().map(|r| r.variant.name).collect();
    let unit = if results.accel == super::Accel::Icount {
        "guest instructions"
    } else {
        "cycles"
    };
    let _ = writeln!(
        s,
        "\n## Cost per operation\n\nMinimum {unit} per operation; the median follows in \
         parentheses when it differs. `timer` is the measurement's own cost, included \
         in every other figure.\n"
    );
    let mut cols = vec!["operation"];
    cols.extend(&names);
    let ratio = results.run("fast").is_some() && results.run("linux-pti").is_some();
    if ratio {
        cols.push("fast ÷ linux-pti");
    }
    s.push_str(&header(&cols));
    for op in &ops {
        let mut cells = vec![op.to_string()];
        cells.extend(results.runs.iter().map(|r| cycles_cell(Some(r), op)));
        if ratio {
            cells.push(
                match (
                    results.measured("fast", op),
                    results.measured("linux-pti", op),
                ) {
                    (Some(a), Some(b)) if b.min_cycles > 0 => {
                        format!("{:.2}", a.min_cycles as f64 / b.min_cycles as f64)
                    }
                    _ => "—".into(),
                },
            );
        }
        s.push_str(&row(&cells));
    }

    let lstar: Vec<&Run> = results
        .runs
        .iter()
        .filter(|r| r.variant.system == System::Lstar && r.state == RunState::Done)
        .collect();
    if !lstar.is_empty() {
        s.push_str(
            "\n## Structural counts\n\nCounted by Lstar's kernel per operation: kernel entries · \
             CR3 writes · TLB flushes · IPC messages · context switches. Timer interrupts \
             during a batch add fractions. Linux has no such counters.\n\n",
        );
        let mut cols = vec!["operation"];
        cols.extend(lstar.iter().map(|r| r.variant.name));
        s.push_str(&header(&cols));
        for op in &ops {
            let mut cells = vec![op.to_string()];
            cells.extend(lstar.iter().map(|r| counts_cell(r, op)));
            s.push_str(&row(&cells));
        }
    }

    let parts = breakdown(results);
    if !parts.is_empty() {
        s.push_str(
            "\n## Where a null call's cycles go\n\nDerived by subtracting one measured \
             figure from another (minimum cycles); the probe section below measures them directly.\n\n",
        );
        s.push_str(&header(&["part", unit, "derived as"]));
        for p in &parts {
            s.push_str(&row(&[
                p.part.to_string(),
                p.cycles.to_string(),
                format!("`{}`", p.how),
            ]));
        }
    }

    s.push_str(&super::phases::markdown(results, unit));

    s.push_str("\n## Targets\n\n");
    s.push_str(&header(&["target", "figures", "verdict"]));
    for t in targets(results) {
        s.push_str(&row(&[
            t.what.to_string(),
            t.figures,
            t.verdict.to_string(),
        ]));
    }

    let unsupported = unsupported(results);
    if !unsupported.is_empty() {
        s.push_str("\n## Not measured\n\n");
        for line in unsupported {
            let _ = writeln!(s, "- {line}");
        }
    }
    s
}

/// Every operation a finished run could not do, grouped by reason.
fn unsupported(results: &Results) -> Vec<String> {
    let mut lines: Vec<(String, String, Vec<&str>)> = Vec::new();
    for run in &results.runs {
        for (op, r) in &run.ops {
            if let OpResult::Unsupported(reason) = r {
                match lines
                    .iter_mut()
                    .find(|(o, why, _)| o == op && why == reason)
                {
                    Some(entry) => entry.2.push(run.variant.name),
                    None => lines.push((op.clone(), reason.clone(), vec![run.variant.name])),
                }
            }
        }
    }
    let mut out: Vec<String> = lines
        .into_iter()
        .map(|(op, why, vs)| format!("`{op}` on {}: {why}", vs.join(", ")))
        .collect();
    for run in &results.runs {
        match &run.state {
            RunState::Unsupported(why) => {
                out.push(format!("variant `{}`: {why}", run.variant.name))
            }
            RunState::Failed(why) => {
                out.push(format!("variant `{}` failed: {why}", run.variant.name))
            }
            RunState::Done => {}
        }
    }
    out
}

/// One line of the derived breakdown.
pub struct Part {
    pub part: &'static str,
    pub cycles: i64,
    pub how: String,
}

/// The null call taken apart by differences between measured figures.
pub fn breakdown(results: &Results) -> Vec<Part> {
    let min = |at: &str| {
        let (v, op) = at.split_once(':').expect("variant:operation");
        results.measured(v, op).map(|m| m.min_cycles as i64)
    };
    // (what, the figure, and the figure subtracted from it if any)
    let rows: [(&'static str, &'static str, Option<&'static str>); 9] = [
        ("the measurement (rdtsc … rdtscp)", "fast:timer", None),
        ("Lstar: SYSCALL entry and exit with KPTI (to -ENOSYS)", "fast:enosys", Some("fast:timer")),
        ("Lstar: dispatch to a kernel handler, and getpid", "kernel:getpid", Some("kernel:enosys")),
        ("Lstar: forwarding (message, server, reply, its entry and exit)", "fast:getpid", Some("kernel:getpid")),
        ("Lstar: KPTI's share of a forwarded call", "fast:getpid", Some("fast-nokpti:getpid")),
        ("Lstar: KPTI's share of an in-kernel call", "kernel:getpid", Some("kernel-nokpti:getpid")),
        ("Lstar: the scheduler instead of the direct switch", "slow:getpid", Some("fast:getpid")),
        ("Linux: SYSCALL entry and exit with PTI (to -ENOSYS)", "linux-pti:enosys", Some("linux-pti:timer")),
        ("Linux: dispatch and getpid", "linux-pti:getpid", Some("linux-pti:enosys")),
    ];
    rows.into_iter()
        .filter_map(|(part, of, minus)| {
            let cycles = match minus {
                None => min(of)?,
                Some(m) => min(of)? - min(m)?,
            };
            let how = match minus {
                None => of.to_string(),
                Some(m) => format!("{of} − {m}"),
            };
            Some(Part { part, cycles, how })
        })
        .collect()
}

pub enum Verdict {
    Met,
    NotMet,
    NotAvailable(String),
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Met => f.write_str("met"),
            Verdict::NotMet => f.write_str("**not met**"),
            Verdict::NotAvailable(why) => write!(f, "n/a ({why})"),
        }
    }
}

pub struct Target {
    pub what: String,
    pub figures: String,
    pub verdict: Verdict,
}

/// The targets, each checked against the figures at hand (minimum
/// cycles; structural counts with a margin for timer interrupts).
pub fn targets(results: &Results) -> Vec<Target> {
    let min = |v: &str, op: &str| results.measured(v, op).map(|m| m.min_cycles);
    let mut out = Vec::new();
    // a ≤ factor × b
    let mut compare = |what: String, a: (&str, &str), b: (&str, &str), factor: f64| {
        let (x, y) = (min(a.0, a.1), min(b.0, b.1));
        let (figures, verdict) = match (x, y) {
            (Some(x), Some(y)) => (
                format!(
                    "{}:{} = {x}, {}:{} = {y}, ratio {:.2}",
                    a.0,
                    a.1,
                    b.0,
                    b.1,
                    x as f64 / y as f64
                ),
                if x as f64 <= factor * y as f64 {
                    Verdict::Met
                } else {
                    Verdict::NotMet
                },
            ),
            _ => {
                let missing = if x.is_none() { a } else { b };
                (
                    String::new(),
                    Verdict::NotAvailable(format!("no {}:{}", missing.0, missing.1)),
                )
            }
        };
        out.push(Target {
            what,
            figures,
            verdict,
        });
    };
    compare(
        "forwarded null call ≤ Linux getpid (KPTI/PTI on)".into(),
        ("fast", "getpid"),
        ("linux-pti", "getpid"),
        1.0,
    );
    compare(
        "in-kernel null call ≤ ½ Linux getpid (KPTI/PTI on)".into(),
        ("kernel", "getpid"),
        ("linux-pti", "getpid"),
        0.5,
    );
    compare(
        "forwarded ≤ 2 × in-kernel (KPTI on)".into(),
        ("fast", "getpid"),
        ("kernel", "getpid"),
        2.0,
    );
    for op in [
        "pipe_pingpong",
        "fork_exit_wait",
        "mmap_munmap",
        "open_close",
    ] {
        compare(
            format!("{op} ≤ 1.5 × Linux (PTI on)"),
            ("fast", op),
            ("linux-pti", op),
            1.5,
        );
    }
    let count = |v: &str, k: usize| {
        results
            .measured(v, "getpid")
            .and_then(|m| m.counts)
            .map(|c| c[k])
    };
    let cr3 = COUNTERS
        .iter()
        .position(|c| *c == "cr3_writes")
        .expect("cr3_writes");
    let tlb = COUNTERS
        .iter()
        .position(|c| *c == "tlb_flushes")
        .expect("tlb_flushes");
    // Timer interrupts during a batch add a few hundredths.
    let margin = 0.05;
    for (what, variant, k, limit) in [
        (
            "forwarded null call: ≤ 2 CR3 writes, KPTI off",
            "fast-nokpti",
            cr3,
            2.0,
        ),
        (
            "forwarded null call: ≤ 4 CR3 writes, KPTI on",
            "fast",
            cr3,
            4.0,
        ),
        (
            "forwarded null call: no TLB flush with PCID",
            "fast-pcid",
            tlb,
            0.0,
        ),
    ] {
        let (figures, verdict) = match count(variant, k) {
            Some(x) => (
                format!("{variant}:getpid {} = {}", COUNTERS[k], num(x)),
                if x <= limit + margin {
                    Verdict::Met
                } else {
                    Verdict::NotMet
                },
            ),
            None => {
                let why = match results.run(variant).map(|r| &r.state) {
                    Some(RunState::Unsupported(why)) => why.clone(),
                    Some(RunState::Failed(_)) => format!("{variant} failed"),
                    _ => format!("no {variant}:getpid counts"),
                };
                (String::new(), Verdict::NotAvailable(why))
            }
        };
        out.push(Target {
            what: what.into(),
            figures,
            verdict,
        });
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One row per (variant, operation) the variant ran, and one per variant
/// that did not finish.
pub fn csv(results: &Results) -> String {
    let mut s =
        String::from("accel,variant,system,cmdline,op,state,iters,min_cycles,median_cycles,ns,");
    s.push_str(&COUNTERS.join(","));
    s.push_str(",note\n");
    let accel = accel_name(results.accel);
    for run in &results.runs {
        let v = run.variant;
        let lead = [
            accel.to_string(),
            v.name.into(),
            v.system.to_string(),
            v.words.join(" "),
        ];
        let mut line = |op: &str, state: &str, nums: Vec<String>, note: &str| {
            let mut cells: Vec<String> = lead.iter().map(|c| csv_field(c)).collect();
            cells.push(op.into());
            cells.push(state.into());
            cells.extend(nums);
            cells.push(csv_field(note));
            s.push_str(&cells.join(","));
            s.push('\n');
        };
        let blank = || vec![String::new(); 4 + COUNTERS.len()];
        match &run.state {
            RunState::Unsupported(why) => line("", "variant-unsupported", blank(), why),
            RunState::Failed(why) => line("", "variant-failed", blank(), why),
            RunState::Done => {
                for (op, r) in &run.ops {
                    match r {
                        OpResult::Measured(m) => {
                            let mut nums = vec![
                                m.iters.to_string(),
                                m.min_cycles.to_string(),
                                m.median_cycles.to_string(),
                                format!("{:.1}", m.ns),
                            ];
                            match m.counts {
                                Some(c) => nums.extend(c.iter().map(|x| format!("{x:.3}"))),
                                None => nums.extend(COUNTERS.iter().map(|_| String::new())),
                            }
                            line(op, "measured", nums, "");
                        }
                        OpResult::Unsupported(why) => line(op, "unsupported", blank(), why),
                    }
                }
            }
        }
    }
    s
}

pub fn to_json(results: &Results) -> Value {
    let variants: Vec<Value> = results
        .runs
        .iter()
        .map(|run| {
            let (state, reason) = match &run.state {
                RunState::Done => ("done", None),
                RunState::Unsupported(why) => ("unsupported", Some(why.clone())),
                RunState::Failed(why) => ("failed", Some(why.clone())),
            };
            let ops: serde_json::Map<String, Value> = run
                .ops
                .iter()
                .map(|(op, r)| {
                    let v = match r {
                        OpResult::Measured(m) => {
                            let mut o = json!({
                                "iters": m.iters,
                                "min_cycles": m.min_cycles,
                                "median_cycles": m.median_cycles,
                                "ns": m.ns,
                            });
                            if let Some(c) = m.counts {
                                o["counts"] = COUNTERS
                                    .iter()
                                    .zip(c)
                                    .map(|(k, x)| (k.to_string(), json!(x)))
                                    .collect::<serde_json::Map<_, _>>()
                                    .into();
                            }
                            o
                        }
                        OpResult::Unsupported(why) => json!({ "unsupported": why }),
                    };
                    (op.clone(), v)
                })
                .collect();
            json!({
                "name": run.variant.name,
                "about": run.variant.about,
                "system": run.variant.system.to_string(),
                "cmdline": run.variant.words,
                "state": state,
                "reason": reason,
                "seconds": run.seconds,
                "cpu": run.start,
                "ops": ops,
            })
        })
        .collect();
    json!({
        "accel": accel_name(results.accel),
        "requested_accel": accel_name(results.requested),
        "accel_meaning": accel_meaning(results.accel),
        "qemu": results.qemu_version,
        "linux_kernel": results.linux.as_ref().map(|p| p.display().to_string()).ok(),
        "seconds": results.seconds,
        "variants": variants,
        "phases": super::phases::to_json(results),
        "breakdown": breakdown(results).iter().map(|p| json!({"part": p.part, "cycles": p.cycles, "how": p.how})).collect::<Vec<_>>(),
        "targets": targets(results).iter().map(|t| json!({
            "target": t.what,
            "figures": t.figures,
            "verdict": match &t.verdict { Verdict::Met => "met".to_string(), Verdict::NotMet => "not met".to_string(), Verdict::NotAvailable(w) => format!("n/a: {w}") },
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::{Accel, Measured, VARIANTS};
    use super::*;

    fn measured(min: u64, counts: Option<[f64; 6]>) -> OpResult {
        OpResult::Measured(Measured {
            iters: 10,
            min_cycles: min,
            median_cycles: min + 1,
            ns: 1.5,
            counts,
        })
    }

    fn run(name: &str, state: RunState, ops: Vec<(&str, OpResult)>) -> Run {
        Run {
            variant: VARIANTS.iter().find(|v| v.name == name).expect(name),
            state,
            ops: ops.into_iter().map(|(n, r)| (n.to_string(), r)).collect(),
            phases: Vec::new(),
            start: String::new(),
            seconds: 1.0,
        }
    }

    fn results() -> Results {
        let c = |cr3: f64| Some([2.0, 2.0, cr3, cr3, 2.0, 2.0]);
        Results {
            accel: Accel::Icount,
            requested: Accel::Icount,
            runs: vec![
                run(
                    "kernel",
                    RunState::Done,
                    vec![
                        ("getpid", measured(150, c(2.0))),
                        ("enosys", measured(100, c(2.0))),
                    ],
                ),
                run(
                    "fast",
                    RunState::Done,
                    vec![
                        ("timer", measured(13, c(0.0))),
                        ("getpid", measured(300, c(4.004))),
                        ("enosys", measured(100, c(2.0))),
                        (
                            "pipe_pingpong",
                            OpResult::Unsupported("setup:ENOSYS(38)".into()),
                        ),
                    ],
                ),
                run(
                    "fast-nokpti",
                    RunState::Done,
                    vec![("getpid", measured(280, c(2.5)))],
                ),
                run("fast-pcid", RunState::Unsupported("no PCID".into()), vec![]),
                run(
                    "linux-pti",
                    RunState::Done,
                    vec![
                        ("getpid", measured(330, None)),
                        ("pipe_pingpong", measured(10000, None)),
                    ],
                ),
            ],
            qemu_version: "QEMU 7.2".into(),
            linux: Ok("/boot/vmlinuz-6.1".into()),
            seconds: 3.0,
        }
    }

    #[test]
    fn targets_are_judged() {
        let t = targets(&results());
        let verdict = |what: &str| {
            t.iter()
                .find(|t| t.what.starts_with(what))
                .map(|t| t.verdict.to_string())
                .expect(what)
        };
        assert_eq!(verdict("forwarded null call ≤ Linux"), "met");
        assert_eq!(verdict("in-kernel null call ≤ ½"), "met");
        assert_eq!(verdict("forwarded ≤ 2 ×"), "met");
        assert_eq!(verdict("pipe_pingpong"), "n/a (no fast:pipe_pingpong)");
        assert_eq!(
            verdict("forwarded null call: ≤ 2 CR3 writes, KPTI off"),
            "**not met**"
        );
        assert_eq!(
            verdict("forwarded null call: ≤ 4 CR3 writes, KPTI on"),
            "met"
        );
        assert_eq!(
            verdict("forwarded null call: no TLB flush"),
            "n/a (no PCID)"
        );
    }

    #[test]
    fn tables_and_files() {
        let r = results();
        let md = markdown(&r);
        assert!(
            md.contains("| getpid | 150 (151) | 300 (301) | 280 (281) | n/a | 330 (331) | 0.91 |"),
            "{md}"
        );
        assert!(
            md.contains(
                "| getpid | 2 · 2 · 2 · 2 · 2 | 2 · 4 · 4 · 2 · 2 | 2 · 2.50 · 2.50 · 2 · 2 |"
            ),
            "{md}"
        );
        assert!(md.contains("`pipe_pingpong` on fast: setup:ENOSYS(38)"));
        assert!(md.contains("variant `fast-pcid`: no PCID"));
        let csv = csv(&r);
        assert!(csv.starts_with(
            "accel,variant,system,cmdline,op,state,iters,min_cycles,median_cycles,ns,entries,"
        ));
        assert!(csv.contains("icount,fast,lstar,kpti=on fastpath=on,getpid,measured,10,300,301,1.5,2.000,2.000,4.004,"));
        assert!(csv
            .contains("icount,fast-pcid,lstar,kpti=on fastpath=on pcid=on,,variant-unsupported,"));
        let json = to_json(&r);
        assert_eq!(
            json["variants"][1]["ops"]["getpid"]["counts"]["cr3_writes"],
            4.004
        );
        let parts = breakdown(&r);
        assert_eq!(
            parts
                .iter()
                .find(|p| p.how == "fast:getpid − kernel:getpid")
                .map(|p| p.cycles),
            Some(150)
        );
        let svg = chart::svg(&r).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("getpid"));
    }
}
