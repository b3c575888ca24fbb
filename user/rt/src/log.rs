//! `log!`: formatted lines into the kernel log (COM2) through `Process::log` on the process's own
//! object. The kernel prefixes each call's text with the process's name and pid, so each line
//! is one call. Formatting goes into a fixed buffer on the stack (no allocation, so logging works
//! when the heap does not, e.g. in the panic handler); a line longer than the buffer goes out in
//! several calls.

use core::fmt::{self, Write};

/// Bytes of one logged piece: below the kernel's cap on one `Process::log` call (512).
pub const LINE_BYTES: usize = 256;

/// Collects text and sends each line to the kernel log.
pub struct LogWriter {
    buf: [u8; LINE_BYTES],
    len: usize,
}

impl Default for LogWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl LogWriter {
    /// An empty writer.
    pub const fn new() -> Self {
        Self {
            buf: [0; LINE_BYTES],
            len: 0,
        }
    }

    /// Sends what is buffered as one line (nothing if empty).
    pub fn flush(&mut self) {
        if self.len == 0 {
            return;
        }
        let line = &self.buf[..self.len];
        // A failed log call has nowhere to be reported.
        let _ = crate::process::own().log(line.as_ptr() as u64, line.len() as u64);
        self.len = 0;
    }
}

impl Write for LogWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &byte in s.as_bytes() {
            if byte == b'\n' {
                self.flush();
                continue;
            }
            if self.len == LINE_BYTES {
                self.flush();
            }
            self.buf[self.len] = byte;
            self.len += 1;
        }
        Ok(())
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Logs formatted text (what [`crate::log!`] expands to).
pub fn log_fmt(args: fmt::Arguments<'_>) {
    let mut w = LogWriter::new();
    // LogWriter never fails; a formatting impl that does just cuts the line short.
    let _ = w.write_fmt(args);
}

/// Writes a formatted line to the kernel log, under the process's name: `log!("x = {x}")`.
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => {
        $crate::log::log_fmt(::core::format_args!($($arg)*))
    };
}
