//! Server logging to the kernel's debug console: `libsys::println!`.

use core::fmt::{self, Write};
use lstar_abi::native::NativeCall;

/// Writes raw bytes to the kernel log.
pub fn write_bytes(bytes: &[u8]) {
    let _ = crate::raw::call0(NativeCall::DebugWrite, [bytes.as_ptr() as u64, bytes.len() as u64, 0, 0, 0, 0]);
}

/// Buffers one line so it reaches the log whole.
pub struct Line {
    buf: [u8; 256],
    len: usize,
}

impl Line {
    pub fn new() -> Line {
        Line { buf: [0; 256], len: 0 }
    }

    pub fn finish(&mut self) {
        write_bytes(&self.buf[..self.len]);
        self.len = 0;
    }
}

impl Default for Line {
    fn default() -> Self {
        Line::new()
    }
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if self.len == self.buf.len() {
                self.finish();
            }
            self.buf[self.len] = b;
            self.len += 1;
        }
        Ok(())
    }
}

/// Logs a line, prefixed with the server's name by the caller's format.
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let mut line = $crate::log::Line::new();
        let _ = writeln!(line, $($arg)*);
        line.finish();
    }};
}
