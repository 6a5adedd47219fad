//! The dispatcher's index logic, kept here (pure and host-tested) rather
//! than in the kernel: which table a syscall number selects, and where.

/// The table a syscall number selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abi {
    /// The x86_64 table (`common` and `64` rows).
    X64,
    /// The x32 table (`common` and `x32` rows), reached with
    /// [`crate::X32_SYSCALL_BIT`] set.
    X32,
}

/// Decodes RAX at SYSCALL into a table and an index that is `< x64_len`
/// (or `< x32_len`), as Linux does: only the low 32 bits count, read as a
/// signed `int`, so `-1` and every other negative number are out of range.
/// `None` means `-ENOSYS`. The caller still clamps the index before the
/// table load (speculation safety); this only decides.
pub fn decode(rax: u64, x64_len: usize, x32_len: usize) -> Option<(Abi, usize)> {
    let unr = rax as u32; // Linux: int nr = (int)regs->orig_ax
    if (unr as usize) < x64_len {
        return Some((Abi::X64, unr as usize));
    }
    let xnr = unr.wrapping_sub(crate::X32_SYSCALL_BIT as u32);
    if (xnr as usize) < x32_len {
        return Some((Abi::X32, xnr as usize));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{decode, Abi};

    const X64: usize = 463;
    const X32: usize = 548;

    #[test]
    fn x64_numbers() {
        assert_eq!(decode(39, X64, X32), Some((Abi::X64, 39)));
        assert_eq!(decode(0, X64, X32), Some((Abi::X64, 0)));
        assert_eq!(decode(462, X64, X32), Some((Abi::X64, 462)));
    }

    #[test]
    fn x32_numbers() {
        assert_eq!(decode(0x4000_0000 + 39, X64, X32), Some((Abi::X32, 39)));
        assert_eq!(decode(0x4000_0000 + 547, X64, X32), Some((Abi::X32, 547)));
    }

    #[test]
    fn out_of_range_is_enosys() {
        for nr in [463u64, 512, 1000, u64::MAX, 0xffff_ffff, 0x7fff_ffff, 0x4000_0000 + 548, 0x4000_0000 + 1000, 0x3fff_ffff] {
            assert_eq!(decode(nr, X64, X32), None, "{nr:#x}");
        }
    }

    #[test]
    fn upper_half_of_rax_is_ignored() {
        assert_eq!(decode(0x1_0000_0027, X64, X32), Some((Abi::X64, 39)));
        assert_eq!(decode(0xffff_ffff_0000_0001, X64, X32), Some((Abi::X64, 1)));
    }
}
