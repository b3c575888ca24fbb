//! The panic handler of every native program: the message and location go to the kernel log
//! (`log!`, which needs no heap), then the process exits with [`PANIC_STATUS`] — Rust's own
//! status for a panicked program, so runners read it the same way on both OSes.

use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::{log, process};

/// Exit status of a program that panicked.
pub const PANIC_STATUS: u32 = 101;

/// Set by the first panic, so a panic while reporting one only exits.
static PANICKING: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn on_panic(info: &PanicInfo<'_>) -> ! {
    if !PANICKING.swap(true, Ordering::AcqRel) {
        match info.location() {
            Some(at) => log!(
                "panicked at {}:{}:{}: {}",
                at.file(),
                at.line(),
                at.column(),
                info.message()
            ),
            None => log!("panicked: {}", info.message()),
        }
    }
    process::exit(PANIC_STATUS)
}
