//! The I/O APIC: routes an ISA interrupt line to a vector on this CPU, for
//! the device servers that bind it (NativeCall::IrqBind).

use super::acpi::Platform;
use crate::mm::PHYS_OFFSET;
use spin::Mutex;

/// Vectors for ISA IRQs 0..16.
pub const IRQ_BASE: u8 = 0x30;

struct IoApic {
    base: u64,
    gsi_base: u32,
    overrides: [Option<(u32, u16)>; 16],
}

static IOAPIC: Mutex<Option<IoApic>> = Mutex::new(None);

pub fn init(p: &Platform) {
    if let Some((base, gsi_base)) = p.io_apic {
        *IOAPIC.lock() = Some(IoApic { base, gsi_base, overrides: p.overrides });
    }
}

fn write(base: u64, reg: u32, value: u32) {
    // SAFETY: the I/O APIC's select/window registers, mapped uncached by
    // the direct map (the top 32 MiB below 4 GiB).
    unsafe {
        ((base + PHYS_OFFSET) as *mut u32).write_volatile(reg);
        ((base + PHYS_OFFSET + 0x10) as *mut u32).write_volatile(value);
    }
}

/// Routes ISA `irq` to vector `IRQ_BASE + irq` on the boot CPU, unmasked,
/// with the polarity and trigger mode the MADT gives (ISA default: active
/// high, edge). False when there is no I/O APIC.
pub fn route(irq: u8) -> bool {
    let guard = IOAPIC.lock();
    let Some(io) = guard.as_ref() else { return false };
    let (gsi, flags) = io.overrides[irq as usize & 15].unwrap_or((irq as u32, 0));
    let Some(pin) = gsi.checked_sub(io.gsi_base) else { return false };
    let mut low = (IRQ_BASE + irq) as u32; // fixed delivery, physical destination
    if flags & 0b11 == 0b11 {
        low |= 1 << 13; // active low
    }
    if (flags >> 2) & 0b11 == 0b11 {
        low |= 1 << 15; // level triggered
    }
    write(io.base, 0x10 + 2 * pin + 1, 0); // destination: APIC 0
    write(io.base, 0x10 + 2 * pin, low);
    true
}
