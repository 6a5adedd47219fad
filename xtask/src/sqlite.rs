//! The sqlite3 shell from Debian's source package, built as a static musl
//! binary: a second real program beside busybox, whose file I/O (record
//! locks, positioned reads and writes, fsync, truncation, journals unlinked
//! while open, WAL's shared-memory file) the `sqlite` test runs on the host
//! and in Lstar alike.
//!
//! The package holds sqlite's sources, not the amalgamation, so its own
//! build makes that first: `configure` with musl-gcc (so that its
//! `sqlite_cfg.h` says what musl has: pread and pwrite, fdatasync, usleep)
//! and `make sqlite3.c shell.c` (which runs tclsh). Then musl-gcc compiles
//! those two files into the shell with the options upstream's own `make
//! sqlite3` gives it (CFLAGS). No option is turned off for Lstar's sake.
//!
//! Everything lives in `target/lstar/sqlite/`:
//! - `dl/` and `src-<version>/`: the fetched and unpacked package
//!   ([`debsrc`]);
//! - `build/`: configure's and make's tree, holding the amalgamation;
//! - `build.log`: their output and the compiler's;
//! - `sqlite3` and `stamp`, which says what that binary was built from.
//!   Nothing is rebuilt while the stamp matches; delete the directory to
//!   fetch and build afresh.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context as _, Result};

use crate::debsrc::{self, Package};
use crate::{deps, Ctx};

/// The Debian source package.
const PACKAGE: &str = "sqlite3";

/// configure's options: only what the amalgamation needs. Tcl, readline and
/// editline are for the host's own build of the shell, not ours.
const CONFIGURE: [&str; 3] = ["--disable-tcl", "--disable-readline", "--disable-editline"];

/// musl-gcc's options besides the sources and the output: configure's
/// header and what upstream's Makefile adds for the shell (TCC,
/// OPT_FEATURE_FLAGS and SHELL_OPT). -O1: the 8 MB amalgamation compiles
/// in about 15 s; -O2 would take twice as long on CI's two cores, and -O0
/// would make the test crawl under TCG.
const CFLAGS: &[&str] = &[
    "-static",
    "-O1",
    "-I.",
    "-D_HAVE_SQLITE_CONFIG_H",
    "-DSQLITE_OS_UNIX=1",
    "-DSQLITE_THREADSAFE=1",
    "-DSQLITE_ENABLE_MATH_FUNCTIONS",
    "-DSQLITE_ENABLE_FTS4",
    "-DSQLITE_ENABLE_RTREE",
    "-DSQLITE_ENABLE_EXPLAIN_COMMENTS",
    "-DSQLITE_ENABLE_UNKNOWN_SQL_FUNCTION",
    "-DSQLITE_ENABLE_STMTVTAB",
    "-DSQLITE_ENABLE_DBPAGE_VTAB",
    "-DSQLITE_ENABLE_DBSTAT_VTAB",
    "-DSQLITE_ENABLE_BYTECODE_VTAB",
    "-DSQLITE_ENABLE_OFFSET_SQL_FUNC",
];

/// `cargo xtask sqlite`: builds the sqlite3 shell and prints its path.
pub fn command(ctx: &Ctx) -> Result<u8> {
    println!("{}", build(ctx)?.display());
    Ok(0)
}

/// Builds the sqlite3 shell unless the stamp says the binary is up to date;
/// returns its path.
pub fn build(ctx: &Ctx) -> Result<PathBuf> {
    let dir = ctx.out().join("sqlite");
    let binary = dir.join("sqlite3");
    let stamp_path = dir.join("stamp");
    let package = Package { name: PACKAGE, dir: dir.clone(), command: "sqlite" };

    let fetched = package.fetch(ctx)?;
    let version = &fetched.version;
    let stamp = stamp(version);
    if debsrc::up_to_date(&binary, &stamp_path, &stamp) {
        return Ok(binary);
    }

    deps::ensure(ctx, &[deps::Need::Musl, deps::Need::DebSource, deps::Need::Tcl])?;
    let src = package.unpack(ctx, &fetched)?;
    let build = dir.join("build");
    let _ = std::fs::remove_dir_all(&build);
    std::fs::create_dir_all(&build).with_context(|| format!("create {}", build.display()))?;
    let log = dir.join("build.log");
    std::fs::write(&log, "").with_context(|| format!("write {}", log.display()))?;
    eprintln!("building sqlite3 {version} in {} (output in {})", build.display(), log.display());
    let started = std::time::Instant::now();

    let run = |cmd: &mut Command| debsrc::run_logged(ctx, cmd.current_dir(&build), &log);
    run(Command::new(src.join("configure")).args(CONFIGURE).env("CC", "musl-gcc"))?;
    run(Command::new("make").args(["sqlite3.c", "shell.c"]))?;
    run(Command::new("musl-gcc")
        .args(CFLAGS)
        .args(["-o", "sqlite3", "shell.c", "sqlite3.c"]))?;

    let built = build.join("sqlite3");
    debsrc::check_static(&built)?;
    std::fs::copy(&built, &binary)
        .with_context(|| format!("copy {} to {}", built.display(), binary.display()))?;
    std::fs::write(&stamp_path, stamp).with_context(|| format!("write {}", stamp_path.display()))?;
    eprintln!("built sqlite3 {version} in {:.0} s", started.elapsed().as_secs_f64());
    Ok(binary)
}

/// What the binary is built from; a different text means a rebuild.
fn stamp(version: &str) -> String {
    format!(
        "{PACKAGE} {version}\nCC=musl-gcc configure {}\nmake sqlite3.c shell.c\nmusl-gcc {} shell.c sqlite3.c\n",
        CONFIGURE.join(" "),
        CFLAGS.join(" ")
    )
}
