//! The KPTI audit (boot option `kpti_audit`): from a timer tick that
//! interrupted a Linux program, list every present mapping in the kernel
//! half of the user page table that was active, so a test can check it
//! holds nothing but `.entry.text` and `.entry.data`.

use crate::task::Kernel;
use lstar_abi::native::Personality;

pub fn kpti(k: &mut Kernel) {
    static DONE: spin::Once<()> = spin::Once::new();
    let (personality, space) = {
        let t = k.current();
        (t.personality, t.space)
    };
    if personality != Personality::Linux || DONE.is_completed() {
        return;
    }
    let Some(space) = space else { return };
    DONE.call_once(|| ());
    let active = crate::arch::x86_64::cpu::percpu().entry_cr3 & !0xfff;
    let tables = &k.spaces[&space].tables;
    crate::protocol!("kpti-audit: begin cr3={active:#x} space-user-cr3={:#x} kpti={}", tables.user_cr3(), k.options.kpti);
    for (start, end, flags) in crate::mm::paging::leaf_runs(crate::mm::PhysAddr(active), 256..512) {
        crate::protocol!("kpti-audit: map {start:#x} {end:#x} {:?}", flags);
    }
    for (start, end) in crate::mm::paging::entry_sections() {
        crate::protocol!("kpti-audit: entry-section {start:#x} {end:#x}");
    }
    crate::protocol!("kpti-audit: end");
}
