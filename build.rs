//! Generates the kernel's syscall dispatch tables from
//! `syscall-table/syscall_64.tbl` and `syscall-table/routes.tbl`, and hands
//! the kernel's linker script to the linker.
//!
//! This is the design card's `build.rs`, so it sits at the workspace root.
//! Cargo runs a build script only on behalf of a package, so the kernel, the
//! one package that includes the generated tables, names it with
//! `build = "../build.rs"`: `CARGO_MANIFEST_DIR` is therefore `kernel/`.
//! The script is only glue: the parser and generator live in the
//! `lstar-syscall-table` library, where they have host unit tests.

use std::path::{Path, PathBuf};
use std::{env, fs, process};

/// The tables, relative to the workspace root, which is how messages name them.
const TABLE: &str = "syscall-table/syscall_64.tbl";
const ROUTES: &str = "syscall-table/routes.tbl";

fn main() {
    let kernel_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = kernel_dir
        .parent()
        .expect("the kernel package is inside the workspace")
        .to_path_buf();
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));

    for path in [root.join(TABLE), root.join(ROUTES), root.join("build.rs")] {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    let table_src = read(&root, TABLE);
    let routes_src = read(&root, ROUTES);
    let table = lstar_syscall_table::parse_table(&table_src, TABLE).unwrap_or_else(|e| fail(&e));
    let routes =
        lstar_syscall_table::parse_routes(&routes_src, ROUTES, &table).unwrap_or_else(|e| fail(&e));
    let generated = lstar_syscall_table::generate(&table, &routes);
    let out = out_dir.join("syscall_table.rs");
    if let Err(e) = fs::write(&out, generated) {
        fail(&format!("{}: {e}", out.display()));
    }

    // The kernel's memory layout (higher half, PVH note) comes from its
    // linker script; `-bins` keeps it off anything that is not the kernel.
    let linker_script = root.join("kernel").join("kernel.ld");
    println!("cargo:rerun-if-changed={}", linker_script.display());
    println!("cargo:rustc-link-arg-bins=-T{}", linker_script.display());
}

fn read(root: &Path, file: &str) -> String {
    fs::read_to_string(root.join(file)).unwrap_or_else(|e| fail(&format!("{file}: {e}")))
}

/// Reports a mistake in the tables as `file:line: message`, the form
/// editors jump to, rather than as a panic with a backtrace.
fn fail(message: &dyn std::fmt::Display) -> ! {
    eprintln!("{message}");
    process::exit(1)
}
