//! Busybox from Debian's source package, built as a static musl binary: the
//! "real programs" load of DESIGN.md (Testing) and the applets that go into
//! the initrd. The configuration is upstream's `make defconfig`, not Debian's,
//! so that Lstar runs busybox as its authors ship it; the patches Debian
//! carries in the package are applied by dpkg-source and we add none.
//!
//! Everything lives in `target/lstar/busybox/`:
//! - `dl/`: the .dsc and tarballs that `apt-get source` fetched (see
//!   [`debsrc`], which fetches and unpacks them);
//! - `src-<version>/`: the unpacked tree, built in place, so that its
//!   `testsuite/runtest` finds `busybox` and `.config` one directory up;
//! - `include/`: kernel UAPI headers busybox needs beyond the shared ones;
//! - `build.log`: make's output;
//! - `busybox` and `stamp`, which says what that binary was built from.
//!   Nothing is rebuilt while the stamp matches, and apt is asked nothing once
//!   `dl/` holds a .dsc; delete the directory to fetch and build afresh.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _, Result};

use crate::debsrc::{self, Package};
use crate::{deps, Ctx};

/// The Debian source package.
const PACKAGE: &str = "busybox";

/// Changes to upstream's defconfig, as (symbol, value); "n" turns a symbol off.
///
/// Nothing is turned off: with Debian 12's musl-tools and linux-libc-dev every
/// defconfig applet compiles, tc and the RPC and networking bits included.
/// The one failure, nandwrite, nanddump and ubi* wanting `<mtd/*.h>`, is a
/// missing include directory (EXTRA_HEADERS), not a missing feature.
const CONFIG: &[(&str, &str)] = &[("CONFIG_STATIC", "y")];

/// Kernel UAPI header directories busybox includes besides the linux/, asm/
/// and asm-generic/ of `deps::kernel_header_dir`, and where Debian puts each.
const EXTRA_HEADERS: [(&str, &str); 1] = [("mtd", "/usr/include/mtd")];

/// `cargo xtask busybox`: builds busybox and prints its path.
pub fn command(ctx: &Ctx) -> Result<u8> {
    let binary = build(ctx)?;
    eprintln!("busybox has {} applets", applets(ctx)?.len());
    println!("{}", binary.display());
    Ok(0)
}

/// The applet names, from `busybox --list` (built first if need be).
pub fn applets(ctx: &Ctx) -> Result<Vec<String>> {
    let binary = build(ctx)?;
    let mut cmd = Command::new(&binary);
    cmd.arg("--list");
    ctx.show(&cmd);
    let out = cmd
        .output()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    if !out.status.success() {
        bail!("busybox --list failed ({})", out.status);
    }
    let mut names: Vec<String> = String::from_utf8(out.stdout)
        .context("busybox --list printed non-UTF-8")?
        .lines()
        .map(str::to_owned)
        .collect();
    names.sort();
    Ok(names)
}

/// Where each applet lives in a root file system, from `busybox
/// --list-full` (`bin/ls`, `usr/bin/awk`, `sbin/ifconfig`, …).
pub fn applet_paths(ctx: &Ctx, binary: &Path) -> Result<Vec<String>> {
    let mut cmd = Command::new(binary);
    cmd.arg("--list-full");
    ctx.show(&cmd);
    let out = cmd.output().with_context(|| format!("cannot start {}", binary.display()))?;
    if !out.status.success() {
        bail!("busybox --list-full failed ({})", out.status);
    }
    let mut paths: Vec<String> = String::from_utf8(out.stdout).context("busybox --list-full printed non-UTF-8")?.lines().map(str::to_owned).collect();
    paths.sort();
    Ok(paths)
}

/// Builds busybox unless the stamp says the binary is up to date; returns its
/// path.
pub fn build(ctx: &Ctx) -> Result<PathBuf> {
    let dir = ctx.out().join("busybox");
    let binary = dir.join("busybox");
    let stamp_path = dir.join("stamp");
    let package = Package { name: PACKAGE, dir: dir.clone(), command: "busybox" };

    let fetched = package.fetch(ctx)?;
    let version = &fetched.version;
    let stamp = stamp(version);
    if debsrc::up_to_date(&binary, &stamp_path, &stamp) {
        return Ok(binary);
    }

    deps::ensure(ctx, &[deps::Need::Musl, deps::Need::DebSource])?;
    let src = package.unpack(ctx, &fetched)?;
    let log = dir.join("build.log");
    std::fs::write(&log, "").with_context(|| format!("write {}", log.display()))?;
    eprintln!(
        "building busybox {version} in {} (output in {})",
        src.display(),
        log.display()
    );
    let started = std::time::Instant::now();
    configure(ctx, &src, &log)?;
    let include = [deps::kernel_header_dir(ctx)?, extra_header_dir(&dir)?];
    let cflags: Vec<String> = include
        .iter()
        .map(|d| format!("-isystem {}", d.display()))
        .collect();
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    make(
        ctx,
        &src,
        &log,
        &[
            format!("-j{jobs}"),
            "CC=musl-gcc".into(),
            format!("EXTRA_CFLAGS={}", cflags.join(" ")),
        ],
    )?;

    let built = src.join("busybox");
    debsrc::check_static(&built)?;
    std::fs::copy(&built, &binary)
        .with_context(|| format!("copy {} to {}", built.display(), binary.display()))?;
    std::fs::write(&stamp_path, stamp)
        .with_context(|| format!("write {}", stamp_path.display()))?;
    eprintln!(
        "built busybox {version} in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(binary)
}

/// What the binary is built from; a different text means a rebuild.
fn stamp(version: &str) -> String {
    let mut text = format!("{PACKAGE} {version}\nmake defconfig, CC=musl-gcc\n");
    for option in CONFIG {
        text.push_str(&option_line(*option));
        text.push('\n');
    }
    for (name, target) in EXTRA_HEADERS {
        text.push_str(&format!("include {name} -> {target}\n"));
    }
    text
}

/// `make defconfig`, then CONFIG, then `make oldconfig` to settle the symbols
/// that depend on the ones changed; fails unless every change survived.
fn configure(ctx: &Ctx, src: &Path, log: &Path) -> Result<()> {
    make(ctx, src, log, &["defconfig".into()])?;
    let path = src.join(".config");
    let read =
        || std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()));
    std::fs::write(&path, set_options(&read()?, CONFIG))
        .with_context(|| format!("write {}", path.display()))?;
    make(ctx, src, log, &["oldconfig".into()])?;
    let config = read()?;
    for option in CONFIG {
        let want = option_line(*option);
        if !config.lines().any(|line| line == want) {
            bail!(
                "`{want}` did not survive make oldconfig; see {}",
                path.display()
            );
        }
    }
    Ok(())
}

/// `config` (a .config) with each of `options` set, replacing its line or
/// appending one.
fn set_options(config: &str, options: &[(&str, &str)]) -> String {
    let mut done = vec![false; options.len()];
    let mut out = String::new();
    for line in config.lines() {
        let symbol = match line.strip_prefix("# ") {
            Some(rest) => rest.strip_suffix(" is not set"),
            None => line.split_once('=').map(|(symbol, _)| symbol),
        };
        match options.iter().position(|(name, _)| Some(*name) == symbol) {
            Some(i) => {
                out.push_str(&option_line(options[i]));
                done[i] = true;
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    for (option, done) in options.iter().zip(done) {
        if !done {
            out.push_str(&option_line(*option));
            out.push('\n');
        }
    }
    out
}

/// A .config line: `NAME=value`, or kconfig's spelling of "n".
fn option_line((name, value): (&str, &str)) -> String {
    if value == "n" {
        format!("# {name} is not set")
    } else {
        format!("{name}={value}")
    }
}

/// Runs `make args` in `src` with its output appended to `log` (see
/// [`debsrc::run_logged`]: kconfig takes the default for any question).
fn make(ctx: &Ctx, src: &Path, log: &Path, args: &[String]) -> Result<()> {
    debsrc::run_logged(ctx, Command::new("make").args(args).current_dir(src), log)
}

/// A private include directory with EXTRA_HEADERS in it (all of /usr/include
/// would bring glibc's headers in).
fn extra_header_dir(dir: &Path) -> Result<PathBuf> {
    let include = dir.join("include");
    std::fs::create_dir_all(&include).with_context(|| format!("create {}", include.display()))?;
    for (name, target) in EXTRA_HEADERS {
        let link = include.join(name);
        if std::fs::read_link(&link).is_ok_and(|old| old == Path::new(target)) {
            continue;
        }
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(target, &link)
            .with_context(|| format!("symlink {} -> {target}", link.display()))?;
    }
    Ok(include)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_options_replaces_and_appends() {
        let config = "# CONFIG_STATIC is not set\nCONFIG_TC=y\nCONFIG_LS=y\n";
        let out = set_options(
            config,
            &[
                ("CONFIG_STATIC", "y"),
                ("CONFIG_TC", "n"),
                ("CONFIG_NEW", "y"),
            ],
        );
        assert_eq!(
            out,
            "CONFIG_STATIC=y\n# CONFIG_TC is not set\nCONFIG_LS=y\nCONFIG_NEW=y\n"
        );
    }
}
