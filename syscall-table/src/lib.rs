//! Lstar's syscall tables, read at build time.
//!
//! `syscall_64.tbl` (Linux's x86_64 numbers, names and entry points) and
//! `routes.tbl` (who handles each call) are the single source of truth for
//! syscall dispatch: nothing else hard-codes a syscall number. The kernel's
//! build script (`build.rs` at the workspace root) calls [`parse_table`],
//! [`parse_routes`] and [`generate`] to turn them into the kernel's x64 and
//! x32 dispatch tables.
//!
//! The parser is a library rather than code inside the build script so that
//! it has host unit tests, and so that a mistake in a table is reported as
//! `file:line: message` instead of surfacing later as a kernel that
//! dispatches a number to the wrong place.

use std::fmt;

mod generate;
mod routes;
mod table;
#[cfg(test)]
mod tests;

pub use generate::{generate, generate_numbers};
pub use routes::{parse_routes, Handler, Route, Scope};
pub use table::{parse_table, x32_view, x64_view, Abi, Row};

/// The first number of the x32-only rows. Linux keeps 512..=547 for them and
/// never numbers a common or 64 row this high, so a number alone says which
/// kind of row it can be.
pub const X32_FIRST: u32 = 512;

/// A mistake in one of the tables, at a line a person can go and fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// The file as the caller named it (the build script uses paths relative
    /// to the workspace root).
    pub file: String,
    /// 1-based.
    pub line: usize,
    pub message: String,
}

impl Error {
    fn new(file: &str, line: usize, message: String) -> Self {
        Error {
            file: file.to_owned(),
            line,
            message,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl std::error::Error for Error {}

/// The whitespace-separated fields of one line, without its `#` comment.
/// Each item is the 1-based line number and the fields; lines with no
/// fields (blank or comment-only) are skipped.
fn lines(src: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    src.lines().enumerate().filter_map(|(index, text)| {
        let code = text.split('#').next().unwrap_or_default();
        let fields: Vec<&str> = code.split_whitespace().collect();
        (!fields.is_empty()).then_some((index + 1, fields))
    })
}

/// Whether `s` can stand as a Rust or C identifier, as syscall names and
/// entry points must (the generated code uses entry points as Rust paths).
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
