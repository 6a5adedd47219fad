//! Host tools that xtask needs, installed on demand, so that a fresh machine
//! goes from `git clone` to `cargo xtask test` with no manual set-up.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _, Result};

use crate::Ctx;

/// The Rust targets: the kernel and servers, and static musl host programs.
const RUST_TARGETS: [&str; 2] = ["x86_64-unknown-none", "x86_64-unknown-linux-musl"];

/// Kernel UAPI headers (Debian's linux-libc-dev) that musl-gcc does not see by
/// itself: the include directory names and where Debian puts each.
const KERNEL_HEADERS: [(&str, &str); 3] = [
    ("linux", "/usr/include/linux"),
    ("asm", "/usr/include/x86_64-linux-gnu/asm"),
    ("asm-generic", "/usr/include/asm-generic"),
];

/// Something a subcommand needs from the host.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Need {
    /// `rustup` targets for the kernel, the servers and musl programs.
    RustTargets,
    /// `musl-gcc` and the kernel headers, for the C test programs.
    Musl,
    /// `qemu-system-x86_64`.
    Qemu,
    /// `dpkg-source`, `make` and a host `gcc`: to unpack and build a Debian
    /// source package (busybox, sqlite3).
    DebSource,
    /// `tclsh`, which sqlite's build runs to make its amalgamation.
    Tcl,
}

/// Makes sure everything in `needs` is present, installing what is missing.
pub fn ensure(ctx: &Ctx, needs: &[Need]) -> Result<()> {
    if needs.contains(&Need::RustTargets) {
        ensure_rust_targets(ctx)?;
    }
    let mut packages = Vec::new();
    if needs.contains(&Need::Musl) {
        if !on_path("musl-gcc") {
            packages.push("musl-tools");
        }
        if KERNEL_HEADERS
            .iter()
            .any(|(_, dir)| !Path::new(dir).is_dir())
        {
            packages.push("linux-libc-dev");
        }
    }
    if needs.contains(&Need::Qemu) && !on_path("qemu-system-x86_64") {
        packages.push("qemu-system-x86");
    }
    if needs.contains(&Need::DebSource) {
        for (tool, package) in [("dpkg-source", "dpkg-dev"), ("make", "make"), ("gcc", "gcc")] {
            if !on_path(tool) {
                packages.push(package);
            }
        }
    }
    if needs.contains(&Need::Tcl) && !on_path("tclsh") {
        packages.push("tcl");
    }
    if !packages.is_empty() {
        apt_install(ctx, &packages)?;
    }
    Ok(())
}

fn ensure_rust_targets(ctx: &Ctx) -> Result<()> {
    let mut list = Command::new("rustup");
    // From the root, so that rust-toolchain.toml picks the toolchain.
    list.args(["target", "list", "--installed"])
        .current_dir(&ctx.root);
    ctx.show(&list);
    let installed = match list.output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        // Without rustup the toolchain was installed some other way; let cargo
        // report a missing target itself.
        _ => {
            eprintln!(
                "warning: `rustup target list` failed; assuming {RUST_TARGETS:?} are installed"
            );
            return Ok(());
        }
    };
    for target in RUST_TARGETS {
        if !installed.lines().any(|line| line.trim() == target) {
            eprintln!("installing Rust target {target}");
            ctx.run(
                Command::new("rustup")
                    .args(["target", "add", target])
                    .current_dir(&ctx.root),
            )?;
        }
    }
    Ok(())
}

/// Installs Debian packages (one `apt-get update`, one `apt-get install`)
/// when running as root; otherwise says how.
fn apt_install(ctx: &Ctx, packages: &[&str]) -> Result<()> {
    let list = packages.join(" ");
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        bail!("missing host packages: {list}\n  install them with: sudo apt-get install -y {list}");
    }
    eprintln!("installing missing host packages: {list}");
    ctx.run(Command::new("apt-get").arg("update"))?;
    ctx.run(
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
    .with_context(|| format!("apt-get install {list}"))
}

/// A private include directory with only the kernel UAPI headers in it, for
/// `musl-gcc -isystem` (all of /usr/include would bring glibc's headers in).
pub fn kernel_header_dir(ctx: &Ctx) -> Result<PathBuf> {
    let dir = ctx.out().join("include");
    std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
    for (name, target) in KERNEL_HEADERS {
        let link = dir.join(name);
        if std::fs::read_link(&link).is_ok_and(|old| old == Path::new(target)) {
            continue;
        }
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(target, &link)
            .with_context(|| format!("symlink {} -> {target}", link.display()))?;
    }
    Ok(dir)
}

/// Whether an executable called `name` is on PATH.
pub fn on_path(name: &str) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join(name))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}
