//! Port I/O for device servers, after `mem::io_ports` opened the ports to
//! the calling thread (a port not opened faults the thread with #GP).

/// Reads a byte from `port`.
pub fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: IN touches no memory; a port the kernel did not open to this
    // thread raises #GP, which ends the server with a report.
    unsafe { core::arch::asm!("in al, dx", out("al") v, in("dx") port, options(nomem, nostack, preserves_flags)) };
    v
}

/// Writes a byte to `port`.
pub fn outb(port: u16, value: u8) {
    // SAFETY: as for inb.
    unsafe { core::arch::asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags)) };
}
