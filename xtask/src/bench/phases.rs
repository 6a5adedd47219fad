//! The probe breakdown: what the `bench phases` lines of a kernel built
//! with probes say, as a table per operation, and the six phases of a
//! forwarded call the research benchmark asks for.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::{Phases, Results, Run, RunState};

/// The points a forwarded call on the fast path crosses, in order.
const FORWARDED: [&str; 8] = ["entry", "dispatch", "switch", "exit", "entry", "reply", "switch", "exit"];

/// The phases of a forwarded call, as segment ranges of the
/// [`FORWARDED`] pattern (segment `k` ends at point `k`; the last ends at
/// the program's end stamp).
const FORWARDED_PHASES: [(&str, std::ops::Range<usize>); 6] = [
    ("entry: SYSCALL, CR3 switch, registers saved", 0..1),
    ("dispatch: the route looked up", 1..2),
    ("IPC to the server: message delivered, direct switch, the server's exit path", 2..4),
    ("server: its user-mode work, from SYSCALL return to its ReplyRecv", 4..5),
    ("reply: stored in the caller, direct switch back", 5..8),
    ("exit: registers restored, CR3 switch, SYSRET", 8..9),
];

/// What happens between two probe points (`None`: the program's stamps).
fn segment_about(from: Option<&str>, to: Option<&str>) -> &'static str {
    match (from, to) {
        (None, Some("entry")) => "SYSCALL to registers saved (CR3 switch included)",
        (None, _) => "program start stamp to the first probe",
        (Some("entry"), Some("dispatch")) => "Linux dispatcher: decode and route",
        (Some("entry"), Some("reply")) => "native dispatcher: the reply stored",
        (Some("entry"), Some("exit")) => "a native call handled in the kernel",
        (Some("dispatch"), Some("switch")) => "message delivered, a switch chosen",
        (Some("dispatch"), Some("exit")) => "handler and exit work",
        (Some("reply"), Some("switch")) => "receive half: the switch back chosen",
        (Some("switch"), Some("exit")) => "context switch, FPU and stacks",
        (Some("exit"), Some("entry")) => "user mode: SYSRET, the server's code, SYSCALL",
        (Some("exit"), None) => "registers restored, CR3 switch, SYSRET",
        _ => "",
    }
}

fn cell(p: Option<&str>) -> &str {
    p.unwrap_or("(program)")
}

/// The six phases of a forwarded call, if `p` took exactly that path.
pub fn forwarded_phases(p: &Phases) -> Option<Vec<(&'static str, u64)>> {
    if p.points != FORWARDED {
        return None;
    }
    Some(FORWARDED_PHASES.iter().map(|(name, r)| (*name, p.segments[r.clone()].iter().sum())).collect())
}

fn probe_runs(results: &Results) -> impl Iterator<Item = &Run> {
    results.runs.iter().filter(|r| r.variant.probes && r.state == RunState::Done)
}

/// The Markdown section, empty when no probe variant ran.
pub fn markdown(results: &Results, unit: &str) -> String {
    let mut s = String::new();
    let runs: Vec<&Run> = probe_runs(results).collect();
    if runs.is_empty() {
        return s;
    }
    let _ = writeln!(
        s,
        "\n## Where the cycles go, from the kernel's probes\n\n\
         A kernel built with the `probes` feature stamps `rdtsc` at each point below \
         (docs/benchmarking.md); the program adds its own start and end stamps. Each \
         segment is the median over the runs that took the most common path. The probes \
         cost a little themselves (the totals are higher than in the variant without \
         them); a kernel built without them has none of this code.\n"
    );
    for run in runs {
        for (op, p) in &run.phases {
            let plain = run.variant.name.strip_suffix("-probes").and_then(|v| results.measured(v, op));
            let total: u64 = p.segments.iter().sum();
            let _ = writeln!(
                s,
                "### {} · {op}\n\n{} of {} runs took this path; {total} {unit} in all with probes{}.\n",
                run.variant.name,
                p.runs.0,
                p.runs.1,
                plain.map(|m| format!(", {} without (median)", m.median_cycles)).unwrap_or_default()
            );
            s.push_str(&super::report::header(&["segment", unit, "what happens"]));
            for (k, seg) in p.segments.iter().enumerate() {
                let from = k.checked_sub(1).map(|i| p.points[i].as_str());
                let to = p.points.get(k).map(String::as_str);
                s.push_str(&super::report::row(&[
                    format!("{} → {}", cell(from), cell(to)),
                    seg.to_string(),
                    segment_about(from, to).to_string(),
                ]));
            }
            if let Some(phases) = forwarded_phases(p) {
                s.push_str("\nThe forwarded call's phases:\n\n");
                s.push_str(&super::report::header(&["phase", unit]));
                for (name, n) in phases {
                    s.push_str(&super::report::row(&[name.to_string(), n.to_string()]));
                }
            }
            s.push('\n');
        }
    }
    s
}

/// The JSON form: per probe variant, per operation.
pub fn to_json(results: &Results) -> Value {
    probe_runs(results)
        .map(|run| {
            let ops: serde_json::Map<String, Value> = run
                .phases
                .iter()
                .map(|(op, p)| {
                    let mut v = json!({
                        "runs": p.runs.0,
                        "of": p.runs.1,
                        "points": p.points,
                        "segments": p.segments,
                    });
                    if let Some(phases) = forwarded_phases(p) {
                        v["phases"] = phases.into_iter().map(|(n, c)| json!({"phase": n, "cycles": c})).collect();
                    }
                    (op.clone(), v)
                })
                .collect();
            (run.variant.name.to_string(), Value::Object(ops))
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_call_in_six_phases() {
        let p = Phases {
            runs: (9, 10),
            points: FORWARDED.iter().map(|s| s.to_string()).collect(),
            segments: vec![1, 2, 3, 4, 5, 6, 7, 8, 9],
        };
        let phases = forwarded_phases(&p).unwrap();
        let cycles: Vec<u64> = phases.iter().map(|(_, c)| *c).collect();
        assert_eq!(cycles, [1, 2, 3 + 4, 5, 6 + 7 + 8, 9]);
        assert_eq!(cycles.iter().sum::<u64>(), p.segments.iter().sum::<u64>());
        let other = Phases { runs: (1, 1), points: vec!["entry".into()], segments: vec![1, 2] };
        assert!(forwarded_phases(&other).is_none());
    }

    #[test]
    fn segments_are_described() {
        for w in FORWARDED.windows(2) {
            assert!(!segment_about(Some(w[0]), Some(w[1])).is_empty(), "{w:?}");
        }
        assert!(!segment_about(None, Some("entry")).is_empty());
        assert!(!segment_about(Some("exit"), None).is_empty());
    }
}
