//! Debian source packages, fetched with `apt-get source` and unpacked with
//! dpkg-source (Debian's patches applied, none of ours), for the real
//! programs xtask builds from them: busybox and sqlite3.
//!
//! A package lives in one directory of `target/lstar/`:
//! - `dl/`: the .dsc and tarballs that `apt-get source` fetched; apt is
//!   asked nothing once it holds a .dsc;
//! - `src-<version>/`: the unpacked tree;
//! - the built binary and a `stamp` saying what it was built from, written
//!   by the package's module; delete the directory to fetch and build
//!   afresh.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{anyhow, bail, Context as _, Result};

use crate::Ctx;

/// The apt sources file that `enable_deb_src` writes.
const DEB_SRC_FILE: &str = "/etc/apt/sources.list.d/lstar-deb-src.sources";

/// One Debian source package and the directory it is kept in.
pub struct Package<'a> {
    /// The source package's name (`busybox`, `sqlite3`).
    pub name: &'a str,
    /// Where it is kept (`target/lstar/busybox`).
    pub dir: PathBuf,
    /// The xtask subcommand that builds it, for messages (`busybox`).
    pub command: &'a str,
}

/// The fetched source: its .dsc and Debian version (`1:1.35.0-4+deb12u1`).
pub struct Fetched {
    pub dsc: PathBuf,
    pub version: String,
}

impl Package<'_> {
    /// The .dsc in `dl/`, fetched first unless it is there.
    pub fn fetch(&self, ctx: &Ctx) -> Result<Fetched> {
        let dl = self.dir.join("dl");
        let dsc = match find_dsc(&dl)? {
            Some(dsc) => dsc,
            None => self.download(ctx, &dl)?,
        };
        let version = dsc_version(&dsc)?;
        Ok(Fetched { dsc, version })
    }

    /// Unpacks the source package (applying Debian's patches) into
    /// `src-<version>` unless it is there already; returns that directory.
    /// The version drops the epoch, as Debian's file names do.
    pub fn unpack(&self, ctx: &Ctx, fetched: &Fetched) -> Result<PathBuf> {
        let version = &fetched.version;
        let name = version.split_once(':').map_or(version.as_str(), |(_, v)| v);
        let src = self.dir.join(format!("src-{name}"));
        if src.is_dir() {
            return Ok(src);
        }
        // Unpacked under a temporary name and renamed, so that
        // `src-<version>` only ever names a complete tree.
        let tmp = self.dir.join("src.partial");
        let _ = std::fs::remove_dir_all(&tmp);
        ctx.run(
            Command::new("dpkg-source")
                .args(["-x", "--no-copy"])
                .arg(&fetched.dsc)
                .arg(&tmp),
        )
        .with_context(|| format!("unpacking {}'s source package", self.name))?;
        std::fs::rename(&tmp, &src)
            .with_context(|| format!("rename {} to {}", tmp.display(), src.display()))?;
        Ok(src)
    }

    /// Fetches the source package into `dl` (emptied first) with `apt-get
    /// source`, first adding deb-src entries to apt when it has none and we
    /// are root. Returns the .dsc.
    fn download(&self, ctx: &Ctx, dl: &Path) -> Result<PathBuf> {
        let package = self.name;
        if !apt_has_source(ctx, package) {
            // SAFETY: geteuid has no preconditions and cannot fail.
            if unsafe { libc::geteuid() } != 0 {
                bail!(
                    "{package}'s source is not in {} and apt has no deb-src entries to fetch it.\n  \
                     Enable them once as root:\n    \
                     sudo sh -c \"sed 's/^Types:.*/Types: deb-src/' \
                     /etc/apt/sources.list.d/debian.sources > {DEB_SRC_FILE} && apt-get update\"\n  \
                     then run `cargo xtask {}` again (or run it as root)",
                    dl.display(),
                    self.command
                );
            }
            enable_deb_src()?;
            ctx.run(Command::new("apt-get").arg("update"))?;
            if !apt_has_source(ctx, package) {
                bail!("apt knows no source package {package} even after writing {DEB_SRC_FILE}");
            }
        }
        let _ = std::fs::remove_dir_all(dl);
        std::fs::create_dir_all(dl).with_context(|| format!("create {}", dl.display()))?;
        ctx.run(
            Command::new("apt-get")
                .args(["source", "--download-only", package])
                .current_dir(dl),
        )
        .with_context(|| format!("fetching {package}'s source package"))?;
        find_dsc(dl)?.ok_or_else(|| anyhow!("apt-get source left no .dsc in {}", dl.display()))
    }
}

/// Whether `binary` exists and `stamp_path` holds exactly `stamp`.
pub fn up_to_date(binary: &Path, stamp_path: &Path, stamp: &str) -> bool {
    binary.is_file() && std::fs::read_to_string(stamp_path).is_ok_and(|old| old == stamp)
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

/// The Debian version of the package from its .dsc.
fn dsc_version(dsc: &Path) -> Result<String> {
    let text = std::fs::read_to_string(dsc).with_context(|| format!("read {}", dsc.display()))?;
    text.lines()
        .find_map(|line| line.strip_prefix("Version:"))
        .map(|v| v.trim().to_owned())
        .ok_or_else(|| anyhow!("{}: no Version field", dsc.display()))
}

/// Whether apt's source lists know the package.
fn apt_has_source(ctx: &Ctx, package: &str) -> bool {
    let mut cmd = Command::new("apt-cache");
    cmd.args(["showsrc", package]).stderr(Stdio::null());
    ctx.show(&cmd);
    cmd.output().is_ok_and(|out| {
        out.status.success()
            && String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|line| line == format!("Package: {package}"))
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

/// Runs `cmd` with its output appended to `log` (unless --verbose), and
/// empty lines on its stdin as `yes "" | cmd` gives, so that kconfig takes
/// the default for any question. On failure prints the log's tail.
pub fn run_logged(ctx: &Ctx, cmd: &mut Command, log: &Path) -> Result<()> {
    cmd.stdin(Stdio::piped());
    if !ctx.verbose {
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(log)
            .with_context(|| format!("open {}", log.display()))?;
        cmd.stderr(file.try_clone()?).stdout(file);
    }
    ctx.show(cmd);
    let name = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd.spawn().with_context(|| format!("cannot start {name}"))?;
    let mut stdin = child.stdin.take().context("the child's stdin")?;
    // Ends when the command and its children have exited and the pipe breaks.
    let feeder = std::thread::spawn(move || while stdin.write_all(&[b'\n'; 4096]).is_ok() {});
    let status = child.wait().with_context(|| format!("waiting for {name}"))?;
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
        let args: Vec<String> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
        let dir = cmd.get_current_dir().map_or_else(|| ".".into(), |d| d.display().to_string());
        bail!("{name} {} failed ({status}) in {dir}", args.join(" "));
    }
    Ok(())
}

/// Fails unless `path` is an ELF file without a dynamic loader.
pub fn check_static(path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    let elf = xmas_elf::ElfFile::new(&bytes).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    if elf
        .program_iter()
        .any(|ph| matches!(ph.get_type(), Ok(xmas_elf::program::Type::Interp)))
    {
        bail!("{} is dynamically linked, though built to be static", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
