//! The load plan for a static Linux executable (ET_EXEC, or ET_DYN without
//! an interpreter: static-PIE), checked before anything is mapped.

use alloc::vec::Vec;
use xmas_elf::header::{Class, Machine, Type as ElfType};
use xmas_elf::program::Type;
use xmas_elf::ElfFile;

/// Where a static-PIE is placed (Linux puts ET_DYN programs near 2/3 of
/// the 47-bit space; the exact spot is not ABI).
pub const PIE_BASE: u64 = 0x5555_5555_4000;

/// One PT_LOAD segment, relocated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub vaddr: u64,
    pub memsz: u64,
    pub offset: u64,
    pub filesz: u64,
    /// Linux PROT_* bits.
    pub prot: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub entry: u64,
    pub segments: Vec<Segment>,
    /// Address of the program headers in memory (AT_PHDR).
    pub phdr: u64,
    pub phent: u64,
    pub phnum: u64,
    /// First page above every segment: the initial program break.
    pub brk: u64,
}

/// Why a file cannot be run (execve's ENOEXEC, with the reason for logs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotExecutable(pub &'static str);

pub fn plan(image: &[u8]) -> Result<Plan, NotExecutable> {
    let elf = ElfFile::new(image).map_err(NotExecutable)?;
    if elf.header.pt1.class() != Class::SixtyFour || elf.header.pt2.machine().as_machine() != Machine::X86_64 {
        return Err(NotExecutable("not an x86_64 ELF64 file"));
    }
    let bias = match elf.header.pt2.type_().as_type() {
        ElfType::Executable => 0,
        ElfType::SharedObject => PIE_BASE,
        _ => return Err(NotExecutable("not an executable")),
    };
    let mut segments = Vec::new();
    let mut phdr = None;
    let mut first_load: Option<(u64, u64)> = None;
    for ph in elf.program_iter() {
        match ph.get_type() {
            Ok(Type::Interp) => return Err(NotExecutable("dynamically linked (has PT_INTERP); Lstar runs static programs")),
            Ok(Type::Phdr) => phdr = Some(ph.virtual_addr() + bias),
            Ok(Type::Load) => {
                let (vaddr, memsz, offset, filesz) = (ph.virtual_addr(), ph.mem_size(), ph.offset(), ph.file_size());
                if filesz > memsz || offset.checked_add(filesz).is_none_or(|e| e > image.len() as u64) {
                    return Err(NotExecutable("a segment lies outside the file"));
                }
                let end = vaddr.checked_add(memsz).and_then(|e| e.checked_add(bias));
                if end.is_none_or(|e| e > 0x0000_7fff_ffff_f000) {
                    return Err(NotExecutable("a segment lies outside user space"));
                }
                let f = ph.flags();
                let prot = (f.is_read() as u64) | ((f.is_write() as u64) << 1) | ((f.is_execute() as u64) << 2);
                if first_load.is_none() {
                    first_load = Some((vaddr, offset));
                }
                segments.push(Segment { vaddr: vaddr + bias, memsz, offset, filesz, prot });
            }
            _ => {}
        }
    }
    if segments.is_empty() {
        return Err(NotExecutable("no loadable segments"));
    }
    let phoff = elf.header.pt2.ph_offset();
    // Without PT_PHDR, the headers are where the first segment maps them.
    let phdr = match (phdr, first_load) {
        (Some(p), _) => p,
        (None, Some((vaddr, offset))) => vaddr + bias + phoff - offset,
        (None, None) => 0,
    };
    let brk = segments.iter().map(|s| s.vaddr + s.memsz).max().unwrap_or(0).next_multiple_of(4096);
    Ok(Plan {
        entry: elf.header.pt2.entry_point() + bias,
        segments,
        phdr,
        phent: elf.header.pt2.ph_entry_size() as u64,
        phnum: elf.header.pt2.ph_count() as u64,
        brk,
    })
}

#[cfg(test)]
mod tests {
    use super::plan;

    #[test]
    fn rejects_garbage_and_truncation() {
        assert!(plan(b"not an elf at all, just text").is_err());
        assert!(plan(&[0x7f, b'E', b'L', b'F', 2, 1, 1]).is_err());
    }

    #[test]
    fn plans_the_host_test_binary_if_static() {
        // The test binary itself is a dynamic ELF on most hosts: it must be
        // refused with the PT_INTERP reason rather than loaded.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        match plan(&me) {
            Err(e) => assert!(e.0.contains("dynamically linked") || e.0.contains("executable"), "{e:?}"),
            Ok(p) => assert!(!p.segments.is_empty()),
        }
    }
}
