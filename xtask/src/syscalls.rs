//! `cargo xtask syscalls`: the coverage report. For every syscall of the
//! x86_64 table: where it is handled (routes.tbl: the kernel, a server, or
//! nobody) and which QEMU tests exercised it, read from the `trace:` lines
//! the last `cargo xtask test` left in each test's debug log.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context as _, Result};
use lstar_syscall_table::{parse_routes, parse_table, x64_view, Handler, Scope};

use crate::Ctx;

pub fn command(ctx: &Ctx) -> Result<u8> {
    let read = |rel: &str| std::fs::read_to_string(ctx.root.join(rel)).with_context(|| format!("read {rel}"));
    let table = parse_table(&read("syscall-table/syscall_64.tbl")?, "syscall-table/syscall_64.tbl").map_err(|e| anyhow::anyhow!("{e}"))?;
    let routes = parse_routes(&read("syscall-table/routes.tbl")?, "syscall-table/routes.tbl", &table).map_err(|e| anyhow::anyhow!("{e}"))?;
    let handler: BTreeMap<&str, String> = routes
        .iter()
        .filter(|r| r.scope == Scope::Native)
        .map(|r| {
            let h = match &r.handler {
                Handler::Kernel => "kernel".to_string(),
                Handler::Server(s) => s.clone(),
            };
            (r.name.as_str(), h)
        })
        .collect();
    let exercised = exercised(ctx)?;
    if exercised.is_empty() {
        eprintln!("note: no test logs under target/lstar/tests; run `cargo xtask test` first to fill the tests column");
    }
    let (mut routed, mut tested) = (0, 0);
    println!("{:>4}  {:<24} {:<8} tests", "nr", "name", "handler");
    for row in x64_view(&table) {
        let h = handler.get(row.name.as_str()).map(String::as_str).unwrap_or("-");
        let tests = exercised.get(&row.name).map(|t| t.iter().cloned().collect::<Vec<_>>().join(" ")).unwrap_or_default();
        routed += (h != "-") as usize;
        tested += (!tests.is_empty()) as usize;
        println!("{:>4}  {:<24} {:<8} {}", row.number, row.name, h, tests);
    }
    println!("{} syscalls: {routed} routed, {tested} exercised by tests", x64_view(&table).count());
    Ok(0)
}

/// syscall name -> tests whose debug log traced it.
fn exercised(ctx: &Ctx) -> Result<BTreeMap<String, BTreeSet<String>>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let dir = ctx.out().join("tests");
    let Ok(entries) = std::fs::read_dir(&dir) else { return Ok(out) };
    for entry in entries {
        let entry = entry?;
        let test = entry.file_name().to_string_lossy().into_owned();
        let Ok(log) = std::fs::read_to_string(entry.path().join("debug.log")) else { continue };
        for name in log.lines().filter_map(traced_name) {
            out.entry(name.to_string()).or_default().insert(test.clone());
        }
    }
    Ok(out)
}

/// The syscall name of a `trace: [tid] name(args) = …` line.
fn traced_name(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("trace: [")?;
    let rest = &rest[rest.find("] ")? + 2..];
    Some(&rest[..rest.find('(')?])
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_from_trace_lines() {
        assert_eq!(super::traced_name("trace: [5] writev(0x1, 0x2) = 13 <fs>"), Some("writev"));
        assert_eq!(super::traced_name("[INFO ] boot"), None);
    }
}
