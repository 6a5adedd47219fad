//! The register frame saved on every kernel entry.

/// User registers as the entry path pushes them, in the order of Linux's
/// x86_64 `struct pt_regs`, so that each step of Lstar's path can be laid
/// next to Linux's. The entry assembly pushes from the last field to the
/// first; offsets are checked by the tests below and used by the assembly
/// through [`PtRegs::OFFSET_OF`] constants.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PtRegs {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    /// The return value; `-ENOSYS` until a handler sets it.
    pub rax: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    /// The syscall number for a syscall; the error code (or vector) for an
    /// exception or interrupt.
    pub orig_rax: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

impl PtRegs {
    /// Size in bytes; the entry path reserves exactly this much.
    pub const SIZE: usize = 21 * 8;
    pub const OFFSET_RAX: usize = 10 * 8;
    pub const OFFSET_RCX: usize = 11 * 8;
    pub const OFFSET_ORIG_RAX: usize = 15 * 8;
    pub const OFFSET_RIP: usize = 16 * 8;
    pub const OFFSET_CS: usize = 17 * 8;
    pub const OFFSET_RFLAGS: usize = 18 * 8;
    pub const OFFSET_RSP: usize = 19 * 8;
    pub const OFFSET_SS: usize = 20 * 8;

    /// The fields in memory order.
    pub fn to_words(&self) -> [u64; 21] {
        [
            self.r15, self.r14, self.r13, self.r12, self.rbp, self.rbx, self.r11, self.r10, self.r9, self.r8, self.rax, self.rcx, self.rdx, self.rsi,
            self.rdi, self.orig_rax, self.rip, self.cs, self.rflags, self.rsp, self.ss,
        ]
    }

    pub fn from_words(w: &[u64; 21]) -> PtRegs {
        PtRegs {
            r15: w[0],
            r14: w[1],
            r13: w[2],
            r12: w[3],
            rbp: w[4],
            rbx: w[5],
            r11: w[6],
            r10: w[7],
            r9: w[8],
            r8: w[9],
            rax: w[10],
            rcx: w[11],
            rdx: w[12],
            rsi: w[13],
            rdi: w[14],
            orig_rax: w[15],
            rip: w[16],
            cs: w[17],
            rflags: w[18],
            rsp: w[19],
            ss: w[20],
        }
    }

    /// The six syscall arguments in the Linux order: rdi, rsi, rdx, r10, r8, r9.
    pub fn args(&self) -> [u64; 6] {
        [self.rdi, self.rsi, self.rdx, self.r10, self.r8, self.r9]
    }
}

#[cfg(test)]
mod tests {
    use super::PtRegs;
    use core::mem::{offset_of, size_of};

    #[test]
    fn words_round_trip() {
        let mut w = [0u64; 21];
        for (i, v) in w.iter_mut().enumerate() {
            *v = i as u64 * 3 + 1;
        }
        let r = PtRegs::from_words(&w);
        assert_eq!(r.r15, 1);
        assert_eq!(r.ss, 61);
        assert_eq!(r.to_words(), w);
    }

    #[test]
    fn layout_matches_linux_pt_regs() {
        assert_eq!(size_of::<PtRegs>(), PtRegs::SIZE);
        assert_eq!(offset_of!(PtRegs, r15), 0);
        assert_eq!(offset_of!(PtRegs, rax), PtRegs::OFFSET_RAX);
        assert_eq!(offset_of!(PtRegs, rcx), PtRegs::OFFSET_RCX);
        assert_eq!(offset_of!(PtRegs, orig_rax), PtRegs::OFFSET_ORIG_RAX);
        assert_eq!(offset_of!(PtRegs, rip), PtRegs::OFFSET_RIP);
        assert_eq!(offset_of!(PtRegs, cs), PtRegs::OFFSET_CS);
        assert_eq!(offset_of!(PtRegs, rflags), PtRegs::OFFSET_RFLAGS);
        assert_eq!(offset_of!(PtRegs, rsp), PtRegs::OFFSET_RSP);
        assert_eq!(offset_of!(PtRegs, ss), PtRegs::OFFSET_SS);
    }
}
