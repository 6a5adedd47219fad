//! Gives the vDSO the syscall numbers it falls back to, generated from
//! `syscall-table/syscall_64.tbl` as libsys's are (the vDSO cannot link
//! libsys: it must stay a small image with nothing writable).

use std::path::PathBuf;
use std::{env, fs, process};

fn main() {
    let dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let path = dir.join("../syscall-table/syscall_64.tbl");
    println!("cargo:rerun-if-changed={}", path.display());
    for file in ["vdso.ld", "vdso.map"] {
        println!("cargo:rerun-if-changed={}", dir.join(file).display());
    }
    let src = fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("{}: {e}", path.display());
        process::exit(1)
    });
    let table = lstar_syscall_table::parse_table(&src, "syscall-table/syscall_64.tbl").unwrap_or_else(|e| {
        eprintln!("{e}");
        process::exit(1)
    });
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("numbers.rs");
    fs::write(out, lstar_syscall_table::generate_numbers(&table)).expect("write numbers.rs");
}
