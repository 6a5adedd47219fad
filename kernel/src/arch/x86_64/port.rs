//! Port I/O for the few devices the kernel drives itself: the debug
//! console, the serial port, isa-debug-exit, the PIT and the legacy PIC.

use core::arch::asm;

pub fn outb(port: u16, value: u8) {
    // SAFETY: the kernel only touches ports of devices it owns.
    unsafe { asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack)) };
}

pub fn outl(port: u16, value: u32) {
    // SAFETY: as for outb.
    unsafe { asm!("out dx, eax", in("dx") port, in("eax") value, options(nomem, nostack)) };
}

pub fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: as for outb.
    unsafe { asm!("in al, dx", out("al") v, in("dx") port, options(nomem, nostack)) };
    v
}
