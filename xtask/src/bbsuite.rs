//! busybox's own test suite (`testsuite/runtest` of the same Debian source
//! package) run inside Lstar, next to the same suite, with the same binary,
//! on the host. `cargo xtask busybox-suite [applets…]` prints both results
//! per test; `cargo xtask test` runs a quick subset and fails on any test
//! that passes on the host but not in Lstar unless it is listed, with its
//! reason, in xtask/busybox-known-failures.txt.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};

use crate::{build, busybox, initrd, qemu, Ctx};

/// Applets whose tests run quickly under TCG: the subset `cargo xtask test`
/// runs. (bc, for one, computes for minutes under emulation.)
pub const QUICK: &[&str] = &[
    "awk", "basename", "bunzip2", "busybox", "cat", "cmp", "comm", "cp", "cut", "diff", "dirname", "echo", "expand", "expr", "find", "fold", "grep",
    "gunzip", "head", "ln", "ls", "mdev", "mkdir", "mv", "nl", "od", "paste", "patch", "printf", "readlink", "realpath", "rev", "sed", "seq", "sort",
    "sum", "tac", "tail", "tar", "tee", "test", "touch", "tr", "uniq", "unexpand", "uuencode", "wc", "xargs",
];

/// One test's verdict as runtest prints it: PASS, FAIL, SKIPPED, UNTESTED.
pub type Verdicts = BTreeMap<String, String>;

/// Parses runtest's output: lines `PASS: name`, `FAIL: name`, … (and the
/// old-style `PASS: applet/test`).
pub fn parse(output: &str) -> Verdicts {
    let mut v = Verdicts::new();
    for line in output.lines() {
        for verdict in ["PASS", "FAIL", "SKIPPED", "UNTESTED"] {
            if let Some(name) = line.strip_prefix(verdict).and_then(|r| r.strip_prefix(": ")) {
                v.insert(canonical_name(name), verdict.to_string());
            }
        }
    }
    v
}

/// A test's name as both runs can agree on it. testing.sh prints names with
/// the shell's `echo`: the host's dash turns a name's `\t`, `\n` or `\r`
/// into the control character (a `\n` even ends the line), busybox's ash
/// in Lstar prints them as written. The name up to its first backslash or
/// control character is the same on both sides.
pub fn canonical_name(name: &str) -> String {
    let end = name.find(|c: char| c == '\\' || c.is_control()).unwrap_or(name.len());
    name[..end].trim().to_string()
}

/// A fresh copy of the suite, the binary and its .config under `root`.
fn stage(src: &Path, binary: &Path, root: &Path) -> Result<PathBuf> {
    let _ = std::fs::remove_dir_all(root);
    let dir = root.join("bbtest");
    copy_tree(&src.join("testsuite"), &dir.join("testsuite"))?;
    std::fs::copy(binary, dir.join("busybox")).context("copy busybox")?;
    std::fs::copy(src.join(".config"), dir.join(".config")).context("copy .config")?;
    // Where /bin/sh's echo lacks -n and -e (dash), testing.sh builds its
    // own from ../scripts/echo.c with gcc.
    std::fs::create_dir_all(dir.join("scripts"))?;
    std::fs::copy(src.join("scripts/echo.c"), dir.join("scripts/echo.c")).context("copy scripts/echo.c")?;
    Ok(dir)
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("create {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("read {}", from.display()))? {
        let entry = entry?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_tree(&src, &dst)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
        } else {
            std::fs::copy(&src, &dst).with_context(|| format!("copy {}", src.display()))?;
        }
    }
    Ok(())
}

fn runtest_command(dir: &str, applets: &[String]) -> String {
    format!("cd {dir}/testsuite && bindir={dir} ./runtest {}; echo RUNTEST-DONE", applets.join(" "))
}

/// The suite's results on the host and in Lstar.
pub struct Report {
    pub host: Verdicts,
    pub lstar: Verdicts,
    /// Whether the Lstar run reached its end (no hang, no crash).
    pub finished: bool,
}

/// Runs the suite for `applets` (all when empty), staging under `work`.
pub fn run(ctx: &Ctx, applets: &[String], timeout: Duration, work: &Path) -> Result<Report> {
    let binary = busybox::build(ctx)?;
    let src = std::fs::read_dir(ctx.out().join("busybox"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("src-")) && p.join("testsuite/runtest").exists())
        .context("busybox's source tree has no testsuite/runtest")?;

    // The host, with the same binary and a plain environment.
    let host_dir = stage(&src, &binary, &work.join("host"))?;
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(runtest_command(&host_dir.to_string_lossy(), applets)).env_clear().env("PATH", "/usr/bin:/bin").env("HOME", "/");
    ctx.show(&cmd);
    let out = cmd.output().context("running the suite on the host")?;
    let host_text = String::from_utf8_lossy(&out.stdout);
    let host = parse(&host_text);
    if host.is_empty() {
        bail!("the suite reported nothing on the host:\n{}{}", host_text, String::from_utf8_lossy(&out.stderr));
    }

    // Lstar: the staged tree copied over the root.
    let guest_root = work.join("guest");
    stage(&src, &binary, &guest_root)?;
    let built = build::all(ctx)?;
    let applet_paths = busybox::applet_paths(ctx, &binary)?;
    let argv = ["sh".to_string(), "-c".to_string(), runtest_command("/bbtest", applets)];
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let payload = initrd::Payload::busybox(&binary, &argv, &[]);
    let initrd_path = work.join("initrd.cpio");
    let extras = initrd::Extras { busybox: Some((binary.clone(), applet_paths)), overlays: vec![guest_root] };
    initrd::write_with(&initrd_path, &built, &payload, &extras)?;
    let boot = qemu::Boot {
        kernel: built.kernel.clone(),
        initrd: initrd_path,
        cmdline: vec!["kpti=on".into()],
        accel: qemu::Accel::Tcg,
        serial: qemu::Serial::File(work.join("serial.out")),
        debug_log: work.join("debug.log"),
        timeout,
        echo: qemu::Echo::Nothing,
    };
    let done = qemu::boot(ctx, &boot)?;
    let serial = String::from_utf8_lossy(&qemu::crlf_to_lf(&done.serial)).into_owned();
    Ok(Report { host, lstar: parse(&serial), finished: serial.contains("RUNTEST-DONE") })
}

/// Known Lstar failures: `name<TAB>reason` lines, `#` comments.
pub fn known_failures(ctx: &Ctx) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(ctx.root.join("xtask/busybox-known-failures.txt")).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t').map(|(n, r)| (canonical_name(n), r.trim().to_string())))
        .collect()
}

impl Report {
    fn count(v: &Verdicts, what: &str) -> usize {
        v.values().filter(|x| *x == what).count()
    }

    /// "host: N passed, N failed, N skipped; Lstar: …".
    pub fn summary(&self) -> String {
        let line = |v: &Verdicts| format!("{} passed, {} failed, {} skipped", Self::count(v, "PASS"), Self::count(v, "FAIL"), Self::count(v, "SKIPPED") + Self::count(v, "UNTESTED"));
        format!("host: {}; Lstar: {}{}", line(&self.host), line(&self.lstar), if self.finished { "" } else { " (the Lstar run did not finish)" })
    }

    /// Tests that pass on the host but not in Lstar: (name, Lstar verdict).
    pub fn regressions(&self) -> Vec<(String, String)> {
        self.host
            .iter()
            .filter(|(_, v)| *v == "PASS")
            .filter_map(|(name, _)| {
                let l = self.lstar.get(name).cloned().unwrap_or_else(|| "MISSING".into());
                (l != "PASS").then(|| (name.clone(), l))
            })
            .collect()
    }
}

/// `cargo xtask busybox-suite [applets…]`: every applet when none given.
pub fn command(ctx: &Ctx, applets: &[String], timeout: u64) -> Result<u8> {
    let report = run(ctx, applets, Duration::from_secs(timeout), &ctx.out().join("bbsuite"))?;
    let known = known_failures(ctx);
    println!("{:<60} {:<9} {}", "test", "host", "Lstar");
    for (name, h) in &report.host {
        let l = report.lstar.get(name).map(String::as_str).unwrap_or("MISSING");
        let note = if h == "PASS" && l != "PASS" { known.get(name).map_or(" <- new failure".to_string(), |r| format!(" (known: {r})")) } else { String::new() };
        println!("{name:<60} {h:<9} {l}{note}");
    }
    println!("{}", report.summary());
    let new: Vec<_> = report.regressions().into_iter().filter(|(n, _)| !known.contains_key(n)).collect();
    if !report.finished {
        bail!("the suite did not finish in Lstar within {timeout} s");
    }
    Ok(if new.is_empty() { 0 } else { 1 })
}

/// The `cargo xtask test` case: the QUICK subset, failing on a test that
/// passes on the host but not in Lstar and is not a known failure.
pub fn test_case(ctx: &Ctx) -> Result<String> {
    let applets: Vec<String> = QUICK.iter().map(|s| s.to_string()).collect();
    let report = run(ctx, &applets, Duration::from_secs(600), &ctx.out().join("tests").join("busybox_suite"))?;
    if !report.finished {
        bail!("the suite did not finish in Lstar; {}", report.summary());
    }
    let known = known_failures(ctx);
    let new: Vec<String> = report.regressions().into_iter().filter(|(n, _)| !known.contains_key(n)).map(|(n, v)| format!("{n}: {v}")).collect();
    if !new.is_empty() {
        bail!("{}\n  pass on the host, not in Lstar:\n    {}", report.summary(), new.join("\n    "));
    }
    Ok(report.summary())
}

#[cfg(test)]
mod tests {
    #[test]
    fn verdict_lines() {
        let v = super::parse("PASS: echo-prints-argument\r\nFAIL: sed NUL\nSKIPPED: grep -z\nnoise\nUNTESTED: gzip levels\n");
        assert_eq!(v["echo-prints-argument"], "PASS");
        assert_eq!(v["sed NUL"], "FAIL");
        assert_eq!(v["grep -z"], "SKIPPED");
        assert_eq!(v.len(), 4);
    }

    #[test]
    fn escapes_in_names() {
        // dash's echo on the host, busybox's ash in Lstar.
        let host = super::parse("PASS: sed s with \t (GNU ext)\nPASS: sed a cmd understands \n,\t,\r\nPASS: sed understands \r\n");
        let lstar = super::parse("PASS: sed s with \\t (GNU ext)\r\nPASS: sed a cmd understands \\n,\\t,\\r\r\nPASS: sed understands \\r\r\n");
        assert_eq!(host, lstar);
        assert!(host.contains_key("sed s with"));
        assert!(host.contains_key("sed a cmd understands"));
    }
}
