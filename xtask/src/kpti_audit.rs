//! The KPTI audit: with `kpti_audit` on its command line the kernel lists
//! what the user page table maps in the kernel half, and this checks that it
//! is the entry code and data and nothing else (no kernel secrets for
//! Meltdown-style reads), read against the kernel ELF's section headers.
//!
//! The log format: `kpti-audit: begin cr3=<hex> ...`, then one line per
//! present mapping `kpti-audit: map <start hex> <end hex> <flags...>` (end
//! exclusive; an end ending in fff is read as the last byte), then
//! `kpti-audit: end`. Other `kpti-audit:` lines are ignored.

use std::path::Path;

use lstar_abi::PAGE_SIZE;

/// The sections that the user page table may map in the kernel half.
const ENTRY_SECTIONS: [&str; 2] = [".entry.text", ".entry.data"];

/// Checks the kernel's `kpti-audit:` blocks in `log` against the `kernel`
/// ELF: each mapped range lies in one page-rounded entry section, and every
/// entry section is mapped whole.
pub fn check(log: &str, kernel: &Path) -> Result<(), String> {
    let sections = entry_sections(kernel)?;
    let blocks = audit_blocks(log)?;
    if blocks.is_empty() {
        return Err("no `kpti-audit: begin` ... `kpti-audit: end` block in the log".into());
    }
    for (cr3, maps) in &blocks {
        for &(start, end) in maps {
            if !sections.iter().any(|(_, s, e)| *s <= start && end <= *e) {
                return Err(format!(
                    "user page table (cr3={cr3}) maps {start:#x}..{end:#x}, outside {}",
                    ENTRY_SECTIONS.join(" and ")
                ));
            }
        }
        for (name, s, e) in &sections {
            if !covers(maps, *s, *e) {
                return Err(format!(
                    "user page table (cr3={cr3}) does not map all of {name} ({s:#x}..{e:#x})"
                ));
            }
        }
    }
    Ok(())
}

/// (name, start, end) of each entry section, rounded out to whole pages.
fn entry_sections(kernel: &Path) -> Result<Vec<(&'static str, u64, u64)>, String> {
    let bytes = std::fs::read(kernel).map_err(|e| format!("read {}: {e}", kernel.display()))?;
    let elf = xmas_elf::ElfFile::new(&bytes).map_err(|e| format!("{}: {e}", kernel.display()))?;
    ENTRY_SECTIONS
        .iter()
        .map(|&name| match elf.find_section_by_name(name) {
            Some(sh) if sh.size() > 0 => {
                let start = sh.address() & !(PAGE_SIZE - 1);
                let end = (sh.address() + sh.size()).next_multiple_of(PAGE_SIZE);
                Ok((name, start, end))
            }
            _ => Err(format!(
                "the kernel ELF has no (or an empty) {name} section"
            )),
        })
        .collect()
}

/// One `kpti-audit: begin` ... `end` block: cr3 as written, and the mapped
/// ranges.
type AuditBlock = (String, Vec<(u64, u64)>);

fn audit_blocks(log: &str) -> Result<Vec<AuditBlock>, String> {
    let mut blocks = Vec::new();
    let mut open: Option<AuditBlock> = None;
    for line in log.lines() {
        let Some(rest) = line.trim_end().strip_prefix("kpti-audit: ") else {
            continue;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        match (words.as_slice(), &mut open) {
            (["begin", cr3, ..], None) => {
                open = Some((cr3.trim_start_matches("cr3=").to_string(), Vec::new()))
            }
            (["map", start, end, ..], Some((_, maps))) => {
                let (start, mut end) = (hex(start)?, hex(end)?);
                if end % PAGE_SIZE == PAGE_SIZE - 1 {
                    end += 1;
                }
                maps.push((start, end));
            }
            (["end"], Some(_)) => blocks.extend(open.take()),
            (["begin" | "map" | "end", ..], _) => {
                return Err(format!("audit line out of place: {line:?}"))
            }
            // Other lines (the kernel's own `entry-section` view) only inform.
            _ => {}
        }
    }
    match open {
        Some(_) => Err("a `kpti-audit: begin` block has no `kpti-audit: end`".into()),
        None => Ok(blocks),
    }
}

fn hex(word: &str) -> Result<u64, String> {
    let digits = word.strip_prefix("0x").unwrap_or(word);
    u64::from_str_radix(digits, 16).map_err(|_| format!("bad hex number {word:?} in the audit"))
}

/// Whether the union of `ranges` covers `start..end`.
fn covers(ranges: &[(u64, u64)], start: u64, end: u64) -> bool {
    let mut sorted = ranges.to_vec();
    sorted.sort_unstable();
    let mut reached = start;
    for (s, e) in sorted {
        if s <= reached && e > reached {
            reached = e;
        }
    }
    reached >= end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_parsing() {
        let log = "x\nkpti-audit: begin cr3=0x1000 kpti=true\nkpti-audit: map ffffffff80000000 ffffffff80002000 RX\n\
                   kpti-audit: map 0xffffffff80005000 0xffffffff80005fff Flags(RW | NX)\n\
                   kpti-audit: entry-section 0xffffffff80000000 0xffffffff80002000\nkpti-audit: end\n";
        let blocks = audit_blocks(log).unwrap();
        assert_eq!(
            blocks,
            vec![(
                "0x1000".to_string(),
                vec![
                    (0xffff_ffff_8000_0000, 0xffff_ffff_8000_2000),
                    (0xffff_ffff_8000_5000, 0xffff_ffff_8000_6000)
                ]
            )]
        );
        assert!(audit_blocks("kpti-audit: begin cr3=1\n").is_err());
        assert!(audit_blocks("kpti-audit: map 1 2 R\n").is_err());
        assert!(audit_blocks("kpti-audit: begin cr3=1\nkpti-audit: begin cr3=2\n").is_err());
        assert!(
            audit_blocks("kpti-audit: begin cr3=1\nkpti-audit: map zz 2 R\nkpti-audit: end\n")
                .is_err()
        );
    }

    #[test]
    fn coverage() {
        assert!(covers(
            &[(0x2000, 0x3000), (0x1000, 0x2000)],
            0x1000,
            0x3000
        ));
        assert!(!covers(
            &[(0x1000, 0x2000), (0x3000, 0x4000)],
            0x1000,
            0x4000
        ));
        assert!(covers(&[(0x0, 0x5000)], 0x1000, 0x2000));
        assert!(!covers(&[], 0x1000, 0x2000));
    }
}
