//! Busybox from Debian's source package, built as a static musl binary: the
//! "real programs" load of DESIGN.md (Testing) and the applets that go into
//! the initrd. The configuration is upstream's `make defconfig`, not Debian's,
//! so that Lstar runs busybox as its authors ship it; the patches Debian
//! carries in the package are applied by dpkg-source and we add none.
//!
//! Everything lives in `target/lstar/busybox/`:
//! - `dl/`: the .dsc and tarballs that `apt-get source` fetched;
//! - `src-<version>/`: the unpacked tree, built in place, so that its
//!   `testsuite/runtest` finds `busybox` and `.config` one directory up;
//! - `include/`: kernel UAPI headers busybox needs beyond the shared ones;
//! - `build.log`: make's output;
//! - `busybox` and `stamp`, which says what that binary was built from.
//!   Nothing is rebuilt while the stamp matches, and apt is asked nothing once
//!   `dl/` holds a .dsc; delete the directory to fetch and build afresh.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{anyhow, bail, Context as _, Result};

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

/// The apt sources file that `enable_deb_src` writes.
const DEB_SRC_FILE: &str = "/etc/apt/sources.list.d/lstar-deb-src.sources";

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
    let dl = dir.join("dl");

    let dsc = match find_dsc(&dl)? {
        Some(dsc) => dsc,
        None => download(ctx, &dl)?,
    };
    let version = dsc_version(&dsc)?;
    let stamp = stamp(&version);
    if binary.is_file() && std::fs::read_to_string(&stamp_path).is_ok_and(|old| old == stamp) {
        return Ok(binary);
    }

    deps::ensure(ctx, &[deps::Need::Musl, deps::Need::DebSource])?;
    let src = unpack(ctx, &dir, &dsc, &version)?;
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
    check_static(&built)?;
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

/// The one `*.dsc` in `dl`, if apt has fetched it.
fn find_dsc(dl: &Path) -> Result<Option<PathBuf>> {
    let Ok(entries) = std::fs::read_dir(dl) else {
        return Ok(None);
    };
    let mut found = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "dsc") {
            found.push(path);
        }
    }
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => bail!(
            "{} holds several .dsc files; delete it to fetch the source afresh",
            dl.display()
        ),
    }
}

/// The Debian version of the package (`1:1.35.0-4+deb12u1`) from its .dsc.
fn dsc_version(dsc: &Path) -> Result<String> {
    let text = std::fs::read_to_string(dsc).with_context(|| format!("read {}", dsc.display()))?;
    text.lines()
        .find_map(|line| line.strip_prefix("Version:"))
        .map(|v| v.trim().to_owned())
        .ok_or_else(|| anyhow!("{}: no Version field", dsc.display()))
}

/// Fetches the source package into `dl` (emptied first) with `apt-get
/// source`, first adding deb-src entries to apt when it has none and we are
/// root. Returns the .dsc.
fn download(ctx: &Ctx, dl: &Path) -> Result<PathBuf> {
    if !apt_has_source(ctx) {
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            bail!(
                "busybox's source is not in {} and apt has no deb-src entries to fetch it.\n  \
                 Enable them once as root:\n    \
                 sudo sh -c \"sed 's/^Types:.*/Types: deb-src/' \
                 /etc/apt/sources.list.d/debian.sources > {DEB_SRC_FILE} && apt-get update\"\n  \
                 then run `cargo xtask busybox` again (or run it as root)",
                dl.display()
            );
        }
        enable_deb_src()?;
        ctx.run(Command::new("apt-get").arg("update"))?;
        if !apt_has_source(ctx) {
            bail!("apt knows no source package {PACKAGE} even after writing {DEB_SRC_FILE}");
        }
    }
    let _ = std::fs::remove_dir_all(dl);
    std::fs::create_dir_all(dl).with_context(|| format!("create {}", dl.display()))?;
    ctx.run(
        Command::new("apt-get")
            .args(["source", "--download-only", PACKAGE])
            .current_dir(dl),
    )
    .context("fetching busybox's source package")?;
    find_dsc(dl)?.ok_or_else(|| anyhow!("apt-get source left no .dsc in {}", dl.display()))
}

/// Whether apt's source lists know the package.
fn apt_has_source(ctx: &Ctx) -> bool {
    let mut cmd = Command::new("apt-cache");
    cmd.args(["showsrc", PACKAGE]).stderr(Stdio::null());
    ctx.show(&cmd);
    cmd.output().is_ok_and(|out| {
        out.status.success()
            && String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|line| line == format!("Package: {PACKAGE}"))
    })
}

/// Writes DEB_SRC_FILE: a `deb-src` copy of every enabled Debian archive
/// stanza of the deb822 `*.sources` files (Debian 12's format), leaving the
/// system's own files untouched.
fn enable_deb_src() -> Result<()> {
    let dir = Path::new("/etc/apt/sources.list.d");
    let mut out = String::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("read {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_none_or(|ext| ext != "sources") || path == Path::new(DEB_SRC_FILE) {
            continue;
        }
        let text =
            std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
        out.push_str(&deb_src_stanzas(&text));
    }
    if out.is_empty() {
        bail!(
            "no Debian `Types: deb` entries in {}/*.sources to copy as deb-src; \
             add deb-src entries for the Debian archive by hand and run `apt-get update`",
            dir.display()
        );
    }
    eprintln!("adding deb-src entries to apt in {DEB_SRC_FILE}");
    std::fs::write(DEB_SRC_FILE, out).with_context(|| format!("write {DEB_SRC_FILE}"))
}

/// The stanzas of a deb822 sources file that are enabled, of type `deb` and
/// on the Debian archive, with their type changed to `deb-src`. Other
/// repositories may publish no sources, which would make `apt-get update` fail.
fn deb_src_stanzas(text: &str) -> String {
    let mut out = String::new();
    for stanza in text.split("\n\n") {
        let field = |name: &str| {
            stanza
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
                .map(str::trim)
        };
        let binary = field("Types").is_some_and(|t| t.split_whitespace().any(|t| t == "deb"));
        let debian = field("URIs").is_some_and(|u| u.contains("debian.org"));
        let enabled = field("Enabled").is_none_or(|e| e != "no");
        if !(binary && debian && enabled) {
            continue;
        }
        for line in stanza.lines() {
            out.push_str(if line.starts_with("Types:") {
                "Types: deb-src"
            } else {
                line
            });
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

/// Unpacks the source package (applying Debian's patches) into
/// `src-<version>` unless it is there already. The version drops the epoch,
/// as Debian's file names do.
fn unpack(ctx: &Ctx, dir: &Path, dsc: &Path, version: &str) -> Result<PathBuf> {
    let name = version.split_once(':').map_or(version, |(_, v)| v);
    let src = dir.join(format!("src-{name}"));
    if src.is_dir() {
        return Ok(src);
    }
    // Unpacked under a temporary name and renamed, so that `src-<version>`
    // only ever names a complete tree.
    let tmp = dir.join("src.partial");
    let _ = std::fs::remove_dir_all(&tmp);
    ctx.run(
        Command::new("dpkg-source")
            .args(["-x", "--no-copy"])
            .arg(dsc)
            .arg(&tmp),
    )
    .context("unpacking busybox's source package")?;
    std::fs::rename(&tmp, &src)
        .with_context(|| format!("rename {} to {}", tmp.display(), src.display()))?;
    Ok(src)
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

/// Runs `make args` in `src` with its output appended to `log` (unless
/// --verbose), and empty lines on its stdin as `yes "" | make` gives, so that
/// kconfig takes the default for any question. On failure prints the log's
/// tail.
fn make(ctx: &Ctx, src: &Path, log: &Path, args: &[String]) -> Result<()> {
    let mut cmd = Command::new("make");
    cmd.args(args).current_dir(src).stdin(Stdio::piped());
    if !ctx.verbose {
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(log)
            .with_context(|| format!("open {}", log.display()))?;
        cmd.stderr(file.try_clone()?).stdout(file);
    }
    ctx.show(&cmd);
    let mut child = cmd.spawn().context("cannot start make")?;
    let mut stdin = child.stdin.take().context("make's stdin")?;
    // Ends when make and its children have exited and the pipe breaks.
    let feeder = std::thread::spawn(move || while stdin.write_all(&[b'\n'; 4096]).is_ok() {});
    let status = child.wait().context("waiting for make")?;
    let _ = feeder.join();
    if !status.success() {
        if !ctx.verbose {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            eprintln!("--- last 40 lines of {} ---", log.display());
            for line in &lines[lines.len().saturating_sub(40)..] {
                eprintln!("{line}");
            }
        }
        bail!(
            "make {} failed ({status}) in {}",
            args.join(" "),
            src.display()
        );
    }
    Ok(())
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

/// Fails unless `path` is an ELF file without a dynamic loader.
fn check_static(path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    let elf = xmas_elf::ElfFile::new(&bytes).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    if elf
        .program_iter()
        .any(|ph| matches!(ph.get_type(), Ok(xmas_elf::program::Type::Interp)))
    {
        bail!(
            "{} is dynamically linked despite CONFIG_STATIC",
            path.display()
        );
    }
    Ok(())
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

    #[test]
    fn deb_src_copies_only_debian_binary_stanzas() {
        let text = "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm\n\n\
                    Types: deb\nURIs: https://example.com/apt\nSuites: x\n\n\
                    Types: deb\nURIs: http://deb.debian.org/debian-security\nEnabled: no\n";
        assert_eq!(
            deb_src_stanzas(text),
            "Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\n\n"
        );
    }
}
