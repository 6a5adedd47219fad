//! The process server's pure logic, kept apart from its main loop so it has
//! host unit tests: the initial stack and auxiliary vector a Linux program
//! starts with, the ELF load plan, and which signal a CPU fault becomes.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod elf;
pub mod signal;
pub mod stack;
pub mod vm;

/// How a process ended, and the encodings Linux gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Termination {
    Exited(u8),
    Signaled(u8),
}

impl Termination {
    /// The `wstatus` wait4 stores: exit code in bits 8-15, or the signal
    /// number in bits 0-6 (WIFEXITED / WIFSIGNALED).
    pub fn wait_status(self) -> u32 {
        match self {
            Termination::Exited(code) => (code as u32) << 8,
            Termination::Signaled(sig) => sig as u32 & 0x7f,
        }
    }

    /// The status a shell reports: the code, or 128 + the signal.
    pub fn shell_status(self) -> u8 {
        match self {
            Termination::Exited(code) => code,
            Termination::Signaled(sig) => 128u8.wrapping_add(sig),
        }
    }
}

/// Whether a wait4 `pid` argument selects a child: `> 0` that pid, `-1`
/// any child, `0` a child in the caller's process group, `< -1` a child in
/// group `-pid`.
pub fn wait_selects(pid_arg: i32, child: u32, child_pgid: u32, caller_pgid: u32) -> bool {
    match pid_arg {
        -1 => true,
        0 => child_pgid == caller_pgid,
        p if p > 0 => p as u32 == child,
        p => p.unsigned_abs() == child_pgid,
    }
}

/// Parses a `#!` line: the interpreter and its optional single argument
/// (Linux passes the rest of the line, trimmed, as one argument).
pub fn shebang(image: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    let rest = image.strip_prefix(b"#!")?;
    let line = &rest[..rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len()).min(255)];
    let line = trim(line);
    if line.is_empty() {
        return None;
    }
    match line.iter().position(|b| b" \t".contains(b)) {
        Some(i) => {
            let arg = trim(&line[i..]);
            Some((&line[..i], (!arg.is_empty()).then_some(arg)))
        }
        None => Some((line, None)),
    }
}

fn trim(s: &[u8]) -> &[u8] {
    let blank = |b: &u8| b" \t\r".contains(b);
    let start = s.iter().position(|b| !blank(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !blank(b)).map_or(start, |e| e + 1);
    &s[start..end.max(start)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_statuses() {
        assert_eq!(Termination::Exited(42).wait_status(), 42 << 8);
        assert_eq!(Termination::Signaled(11).wait_status(), 11);
        assert_eq!(Termination::Signaled(11).shell_status(), 139);
        assert_eq!(Termination::Exited(3).shell_status(), 3);
    }

    #[test]
    fn wait_selection() {
        assert!(wait_selects(-1, 5, 9, 1));
        assert!(wait_selects(5, 5, 9, 1));
        assert!(!wait_selects(6, 5, 9, 1));
        assert!(wait_selects(0, 5, 1, 1));
        assert!(!wait_selects(0, 5, 9, 1));
        assert!(wait_selects(-9, 5, 9, 1));
        assert!(!wait_selects(-8, 5, 9, 1));
    }

    #[test]
    fn shebang_lines() {
        assert_eq!(shebang(b"#!/bin/sh\necho"), Some((&b"/bin/sh"[..], None)));
        assert_eq!(shebang(b"#! /bin/busybox  sh -x \n"), Some((&b"/bin/busybox"[..], Some(&b"sh -x"[..]))));
        assert_eq!(shebang(b"#!\n"), None);
        assert_eq!(shebang(b"\x7fELF"), None);
    }
}
