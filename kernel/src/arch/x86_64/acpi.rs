//! ACPI, through the `acpi` crate: the MADT tells where the local APIC and
//! the I/O APICs are. Tables are read through the direct map.

use crate::mm::PHYS_OFFSET;
use acpi::madt::{Madt, MadtEntry};
use acpi::{AcpiHandler, AcpiTables, PhysicalMapping};
use core::ptr::NonNull;

#[derive(Clone, Copy)]
struct DirectMap;

impl AcpiHandler for DirectMap {
    unsafe fn map_physical_region<T>(&self, pa: usize, size: usize) -> PhysicalMapping<Self, T> {
        let va = NonNull::new((pa as u64 + PHYS_OFFSET) as *mut T).expect("direct map is never null");
        // SAFETY: the direct map covers all physical memory below 4 GiB
        // (and all RAM), where firmware tables live; it is never unmapped.
        unsafe { PhysicalMapping::new(pa, va, size, size, *self) }
    }

    fn unmap_physical_region<T>(_: &PhysicalMapping<Self, T>) {}
}

/// Interrupt controllers found in the MADT.
#[derive(Debug, Default)]
pub struct Platform {
    pub local_apic: u64,
    pub io_apics: usize,
    pub cpus: usize,
    /// The first I/O APIC: MMIO address and first GSI.
    pub io_apic: Option<(u64, u32)>,
    /// ISA IRQ -> (GSI, flags) where the MADT overrides identity mapping.
    pub overrides: [Option<(u32, u16)>; 16],
}

pub fn platform(rsdp: u64) -> Result<Platform, acpi::AcpiError> {
    // SAFETY: `rsdp` comes from the PVH start info, which QEMU fills with
    // the address of a valid RSDP.
    let tables = unsafe { AcpiTables::from_rsdp(DirectMap, rsdp as usize)? };
    let madt = tables.find_table::<Madt>()?;
    let mut p = Platform { local_apic: madt.get().local_apic_address as u64, ..Platform::default() };
    for entry in madt.get().entries() {
        match entry {
            MadtEntry::LocalApic(_) | MadtEntry::LocalX2Apic(_) => p.cpus += 1,
            MadtEntry::IoApic(io) => {
                p.io_apics += 1;
                if p.io_apic.is_none() {
                    p.io_apic = Some((io.io_apic_address as u64, io.global_system_interrupt_base));
                }
            }
            MadtEntry::InterruptSourceOverride(o) if (o.irq as usize) < 16 => {
                p.overrides[o.irq as usize] = Some((o.global_system_interrupt, o.flags));
            }
            MadtEntry::LocalApicAddressOverride(o) => p.local_apic = o.local_apic_address,
            _ => {}
        }
    }
    Ok(p)
}
