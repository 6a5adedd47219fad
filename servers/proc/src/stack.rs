//! The initial stack of a Linux program (the System V x86_64 ABI's process
//! start-up layout, as Linux builds it): from RSP upwards argc, argv
//! pointers, NULL, envp pointers, NULL, the auxiliary vector ending in
//! AT_NULL; above that the strings and the 16 AT_RANDOM bytes.

use alloc::vec::Vec;

pub const AT_NULL: u64 = 0;
pub const AT_PHDR: u64 = 3;
pub const AT_PHENT: u64 = 4;
pub const AT_PHNUM: u64 = 5;
pub const AT_PAGESZ: u64 = 6;
pub const AT_BASE: u64 = 7;
pub const AT_FLAGS: u64 = 8;
pub const AT_ENTRY: u64 = 9;
pub const AT_UID: u64 = 11;
pub const AT_EUID: u64 = 12;
pub const AT_GID: u64 = 13;
pub const AT_EGID: u64 = 14;
pub const AT_PLATFORM: u64 = 15;
pub const AT_HWCAP: u64 = 16;
pub const AT_CLKTCK: u64 = 17;
pub const AT_SECURE: u64 = 23;
pub const AT_RANDOM: u64 = 25;
pub const AT_EXECFN: u64 = 31;
pub const AT_SYSINFO_EHDR: u64 = 33;

/// What the loader knows about the program, for the auxiliary vector.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProgramInfo {
    pub phdr: u64,
    pub phent: u64,
    pub phnum: u64,
    pub entry: u64,
    pub hwcap: u64,
    /// Where the kernel's counters page is mapped (AT_LSTAR_COUNTERS).
    pub counters: u64,
    /// Where the vDSO's ELF header is (AT_SYSINFO_EHDR), or 0 for none.
    pub vdso: u64,
}

/// A built stack: `bytes` go at `[base, top)`, and the program starts
/// with RSP = `rsp`.
#[derive(Debug)]
pub struct InitialStack {
    pub base: u64,
    pub rsp: u64,
    pub bytes: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooBig;

/// Builds the stack image that ends at `top` (16-byte aligned). `limit`
/// bounds its size (Linux's E2BIG for argument lists that don't fit).
pub fn build(top: u64, argv: &[&[u8]], envp: &[&[u8]], execfn: &[u8], random: [u8; 16], info: &ProgramInfo, limit: usize) -> Result<InitialStack, TooBig> {
    // Strings and random bytes, top down; `area` grows downwards and is
    // reversed into place at the end, so collect (address, bytes) pieces.
    let mut cursor = top - 8; // a NULL word at the very top, as Linux leaves
    let mut pieces: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut put = |bytes: &[u8], nul: bool, cursor: &mut u64| -> u64 {
        let mut v = bytes.to_vec();
        if nul {
            v.push(0);
        }
        *cursor -= v.len() as u64;
        pieces.push((*cursor, v));
        *cursor
    };
    let execfn_at = put(execfn, true, &mut cursor);
    let env_at: Vec<u64> = envp.iter().map(|e| put(e, true, &mut cursor)).collect();
    let arg_at: Vec<u64> = argv.iter().map(|a| put(a, true, &mut cursor)).collect();
    let platform_at = put(b"x86_64", true, &mut cursor);
    cursor &= !15;
    let random_at = put(&random, false, &mut cursor);
    cursor &= !15;

    let auxv: [(u64, u64); 19] = [
        (AT_SYSINFO_EHDR, info.vdso),
        (AT_PHDR, info.phdr),
        (AT_PHENT, info.phent),
        (AT_PHNUM, info.phnum),
        (AT_PAGESZ, 4096),
        (AT_BASE, 0),
        (AT_FLAGS, 0),
        (AT_ENTRY, info.entry),
        (AT_UID, 0),
        (AT_EUID, 0),
        (AT_GID, 0),
        (AT_EGID, 0),
        (AT_PLATFORM, platform_at),
        (AT_HWCAP, info.hwcap),
        (AT_CLKTCK, 100),
        (AT_SECURE, 0),
        (AT_RANDOM, random_at),
        (AT_EXECFN, execfn_at),
        (lstar_abi::counters::AT_LSTAR_COUNTERS, info.counters),
    ];
    let mut words: Vec<u64> = Vec::new();
    words.push(argv.len() as u64);
    words.extend(&arg_at);
    words.push(0);
    words.extend(&env_at);
    words.push(0);
    // Without a vDSO there is no AT_SYSINFO_EHDR at all (libc then makes
    // the syscalls), rather than one that says 0.
    for (k, v) in auxv.into_iter().filter(|&(k, v)| k != AT_SYSINFO_EHDR || v != 0) {
        words.push(k);
        words.push(v);
    }
    words.push(AT_NULL);
    words.push(0);
    let mut rsp = cursor - 8 * words.len() as u64;
    rsp &= !15; // RSP is 16-byte aligned at the entry point
    if (top - rsp) as usize > limit {
        return Err(TooBig);
    }

    let base = rsp;
    let mut bytes = alloc::vec![0u8; (top - base) as usize];
    for (i, w) in words.iter().enumerate() {
        let at = (rsp - base) as usize + 8 * i;
        bytes[at..at + 8].copy_from_slice(&w.to_le_bytes());
    }
    for (addr, v) in pieces {
        let at = (addr - base) as usize;
        bytes[at..at + v.len()].copy_from_slice(&v);
    }
    Ok(InitialStack { base, rsp, bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(s: &InitialStack, addr: u64) -> u64 {
        let at = (addr - s.base) as usize;
        u64::from_le_bytes(s.bytes[at..at + 8].try_into().unwrap())
    }

    fn c_string(s: &InitialStack, addr: u64) -> Vec<u8> {
        let at = (addr - s.base) as usize;
        s.bytes[at..].iter().take_while(|&&b| b != 0).copied().collect()
    }

    #[test]
    fn layout_reads_back_like_a_program_would() {
        let top = 0x7fff_ffff_f000;
        let info = ProgramInfo { phdr: 0x400040, phent: 56, phnum: 7, entry: 0x401000, hwcap: 0, counters: 0x7fff_f000_0000, vdso: 0x7fff_f000_1000 };
        let s = build(top, &[b"/bin/prog", b"a", b"bc"], &[b"HOME=/", b"TERM=linux"], b"/bin/prog", [7; 16], &info, 1 << 20).unwrap();
        assert_eq!(s.rsp % 16, 0);
        assert_eq!(s.base + s.bytes.len() as u64, top);
        assert_eq!(word(&s, s.rsp), 3);
        let argv: Vec<Vec<u8>> = (0..3).map(|i| c_string(&s, word(&s, s.rsp + 8 + 8 * i))).collect();
        assert_eq!(argv, [b"/bin/prog".to_vec(), b"a".to_vec(), b"bc".to_vec()]);
        assert_eq!(word(&s, s.rsp + 8 * 4), 0);
        let env0 = s.rsp + 8 * 5;
        assert_eq!(c_string(&s, word(&s, env0)), b"HOME=/");
        assert_eq!(c_string(&s, word(&s, env0 + 8)), b"TERM=linux");
        assert_eq!(word(&s, env0 + 16), 0);
        let mut aux = env0 + 24;
        let mut seen = alloc::collections::BTreeMap::new();
        loop {
            let (k, v) = (word(&s, aux), word(&s, aux + 8));
            if k == AT_NULL {
                break;
            }
            seen.insert(k, v);
            aux += 16;
        }
        assert_eq!(seen[&AT_PHDR], 0x400040);
        assert_eq!(seen[&AT_ENTRY], 0x401000);
        assert_eq!(seen[&AT_PAGESZ], 4096);
        assert_eq!(seen[&lstar_abi::counters::AT_LSTAR_COUNTERS], 0x7fff_f000_0000);
        assert_eq!(seen[&AT_SYSINFO_EHDR], 0x7fff_f000_1000);
        let random = seen[&AT_RANDOM];
        assert_eq!(random % 16, 0);
        assert_eq!(&s.bytes[(random - s.base) as usize..][..16], &[7; 16]);
        assert_eq!(c_string(&s, seen[&AT_PLATFORM]), b"x86_64");
        assert_eq!(c_string(&s, seen[&AT_EXECFN]), b"/bin/prog");
    }

    #[test]
    fn no_vdso_no_sysinfo_ehdr() {
        let s = build(0x7fff_ffff_f000, &[b"p"], &[], b"p", [0; 16], &ProgramInfo::default(), 1 << 20).unwrap();
        let mut aux = s.rsp + 8 * 4; // argc, argv[0], NULL, envp's NULL
        while word(&s, aux) != AT_NULL {
            assert_ne!(word(&s, aux), AT_SYSINFO_EHDR);
            aux += 16;
        }
    }

    #[test]
    fn too_big_is_reported() {
        let big = alloc::vec![b'x'; 5000];
        let r = build(0x7fff_ffff_f000, &[&big], &[], b"p", [0; 16], &ProgramInfo::default(), 4096);
        assert_eq!(r.unwrap_err(), TooBig);
    }
}
