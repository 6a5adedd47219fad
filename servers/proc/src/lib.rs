//! The process server's pure logic, kept apart from its main loop so it has
//! host unit tests: the initial stack and auxiliary vector a Linux program
//! starts with, the ELF load plan, and which signal a CPU fault becomes.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod elf;
pub mod stack;

/// Linux signal numbers the process server raises.
pub mod signal {
    pub const SIGILL: u8 = 4;
    pub const SIGTRAP: u8 = 5;
    pub const SIGBUS: u8 = 7;
    pub const SIGFPE: u8 = 8;
    pub const SIGSEGV: u8 = 11;

    /// The signal Linux sends for a CPU exception vector.
    pub fn for_vector(vector: u64) -> u8 {
        match vector {
            0 | 16 | 19 => SIGFPE, // divide error, x87 and SIMD errors
            1 | 3 => SIGTRAP,
            6 => SIGILL,
            17 => SIGBUS, // alignment check
            _ => SIGSEGV, // page fault, general protection and the rest
        }
    }

    /// The name `kill -l` gives.
    pub fn name(sig: u8) -> &'static str {
        match sig {
            SIGILL => "SIGILL",
            SIGTRAP => "SIGTRAP",
            SIGBUS => "SIGBUS",
            SIGFPE => "SIGFPE",
            SIGSEGV => "SIGSEGV",
            _ => "signal",
        }
    }
}
