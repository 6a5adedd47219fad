//! Kernel output: the log on QEMU's debug console (port 0xe9, which xtask
//! reads as a file) and program output on the 16550 serial port (COM1).
//!
//! The serial writer is the kernel's until the console server takes the
//! UART over (issue 3); it polls the transmit-empty bit.

use crate::arch::x86_64::port::{inb, outb};
use core::fmt::Write;
use spin::Mutex;

const DEBUGCON: u16 = 0xe9;
const COM1: u16 = 0x3f8;

pub struct DebugCon;

impl Write for DebugCon {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for b in s.bytes() {
            outb(DEBUGCON, b);
        }
        Ok(())
    }
}

static LOG_LOCK: Mutex<()> = Mutex::new(());

/// Writes raw bytes to the debug console.
pub fn debug_bytes(bytes: &[u8]) {
    let _g = LOG_LOCK.lock();
    for &b in bytes {
        outb(DEBUGCON, b);
    }
}

/// For the panic handler: writes without the lock, which the panicking
/// code may hold.
pub fn debug_bytes_unlocked(bytes: &[u8]) {
    for &b in bytes {
        outb(DEBUGCON, b);
    }
}

struct Logger;

impl log::Log for Logger {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        let _g = LOG_LOCK.lock();
        let _ = writeln!(DebugCon, "[{:5}] {}", record.level(), record.args());
    }
    fn flush(&self) {}
}

static LOGGER: Logger = Logger;

pub fn init() {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Info);
    // 115200 8N1, FIFO on, interrupts off (polled output).
    for (off, v) in [(1, 0x00), (3, 0x80), (0, 0x01), (1, 0x00), (3, 0x03), (2, 0xc7), (4, 0x03)] {
        outb(COM1 + off, v);
    }
}

/// Writes program output to the serial console.
pub fn serial_write(bytes: &[u8]) {
    for &b in bytes {
        let mut spins = 0;
        while inb(COM1 + 5) & 0x20 == 0 && spins < 100_000 {
            spins += 1;
        }
        outb(COM1, b);
    }
}

/// Writes a line on the debug console outside the log format: the
/// protocol lines xtask reads (`lstar: exit status N`, `trace: ...`).
#[macro_export]
macro_rules! protocol {
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let mut line = $crate::console::LineBuf::new();
        let _ = writeln!(line, $($arg)*);
        $crate::console::debug_bytes(line.as_bytes());
    }};
}

/// A stack buffer for one protocol line, so a line is written whole.
pub struct LineBuf {
    buf: [u8; 512],
    len: usize,
}

impl LineBuf {
    pub fn new() -> LineBuf {
        LineBuf { buf: [0; 512], len: 0 }
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Write for LineBuf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}
