//! The 16550 UART on COM1: received bytes by interrupt, sent bytes by
//! polling the transmitter-empty bit.

use alloc::vec::Vec;
use libsys::port::{inb, outb};
use libsys::Errno;

/// COM1's registers, and its ISA interrupt line.
pub const COM1: u16 = 0x3f8;
pub const COM1_IRQ: u8 = 4;

// Register offsets (DLAB clear).
const RBR: u16 = 0; // receive buffer (read)
const THR: u16 = 0; // transmit holding (write)
const IER: u16 = 1;
const FCR: u16 = 2;
const MCR: u16 = 4;
const LSR: u16 = 5;

const IER_RX_AVAILABLE: u8 = 0x01;
/// FIFO on, receive trigger at one byte (bits 7:6 = 0): every byte
/// interrupts at once, which an interactive line wants.
const FCR_FIFO_ONE_BYTE: u8 = 0x01;
/// DTR and RTS, and OUT2, which gates the UART's interrupt onto the bus.
const MCR_DTR_RTS_OUT2: u8 = 0x0b;
const LSR_DATA_READY: u8 = 0x01;
const LSR_THR_EMPTY: u8 = 0x20;

/// Polls of LSR before a byte is sent anyway: a stuck transmitter must not
/// hang the console (the kernel's own writer does the same).
const TX_SPINS: u32 = 100_000;
/// Bytes taken per interrupt at most; the rest raise the next one.
const RX_BATCH: usize = 4096;

/// The UART, once this thread may use its ports.
#[derive(Debug)]
pub struct Uart {
    base: u16,
}

impl Uart {
    /// Takes the UART over from the kernel's boot-time set-up (115200 8N1,
    /// interrupts off), keeping the line settings: asks for the ports,
    /// sets a one-byte receive trigger, raises OUT2 and enables the
    /// receive interrupt. The caller binds the interrupt first.
    pub fn open(base: u16) -> Result<Uart, Errno> {
        libsys::mem::io_ports(base, 8)?;
        let uart = Uart { base };
        // The FIFO is already on, so this write keeps what it holds.
        outb(base + FCR, FCR_FIFO_ONE_BYTE);
        outb(base + MCR, MCR_DTR_RTS_OUT2);
        Ok(uart)
    }

    /// Enables the receive interrupt (after IrqBind, so none is lost).
    pub fn enable_rx_interrupt(&self) {
        outb(self.base + IER, IER_RX_AVAILABLE);
    }

    /// Everything received so far. Reading RBR until LSR says empty also
    /// lowers the interrupt line, so the next byte raises a fresh edge.
    pub fn drain(&self, into: &mut Vec<u8>) {
        while into.len() < RX_BATCH && inb(self.base + LSR) & LSR_DATA_READY != 0 {
            into.push(inb(self.base + RBR));
        }
    }

    pub fn write(&self, bytes: &[u8]) {
        for &b in bytes {
            let mut spins = 0;
            while inb(self.base + LSR) & LSR_THR_EMPTY == 0 && spins < TX_SPINS {
                spins += 1;
            }
            outb(self.base + THR, b);
        }
    }
}
