//! The program console on COM1, as a tty with default termios would show it:
//! "\n" goes out as "\r\n" (ONLCR), which the runner undoes, so runner output is
//! byte for byte what the program wrote, on K42 as on Linux.

use core::fmt;

/// A writer onto the console.
pub struct Console;

impl fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        k42_hal::serial::with_console(|port| {
            for (i, line) in s.split('\n').enumerate() {
                if i > 0 {
                    port.write_bytes(b"\r\n");
                }
                port.write_bytes(line.as_bytes());
            }
        });
        Ok(())
    }
}

/// Prints to the console, like `println!`.
#[macro_export]
macro_rules! cprintln {
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let _ = writeln!($crate::console::Console, $($arg)*);
    }};
}
