//! Linux's N_TTY line discipline as pure logic, host-tested here and run by the console server
//! (`user/bin/console`), which feeds it the bytes the UART receives and sends out what it says.
//!
//! - [`termios`]: [`Termios`] (the kernel's 36-byte `struct termios`, as `TCGETS`/`TCSETS` copy
//!   it) with Linux's defaults for a serial console, and [`Winsize`];
//! - [`ldisc`]: the [`LineDiscipline`] — received bytes in ([`LineDiscipline::receive`]), then
//!   [`Events`]: the echo to send, the signals to raise (`ISIG`), whether data became
//!   readable; reads ([`LineDiscipline::read`]) a line at a time in canonical mode, under the
//!   `VMIN`/`VTIME` rules in raw mode (the timer is the caller's: [`Read::Wait`]);
//! - [`output`]: output processing (`OPOST`: `ONLCR`, `OCRNL`, `ONOCR`, `ONLRET`, `XTABS`) for
//!   writes and echo alike ([`LineDiscipline::write`]).
//!
//! Every Linux number (flag bits, `c_cc` indices, `NCCS`, signal numbers) comes from
//! `linux-raw-sys` through `k42_linux::raw`. What the code follows is Linux's
//! `drivers/tty/n_tty.c`; where it departs, [`ldisc`] says so.

#![no_std]
#![deny(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod ldisc;
pub mod output;
pub mod termios;

pub use ldisc::{BUFFER, Events, LineDiscipline, Read, Signal};
pub use termios::{NCCS, TERMIOS_BYTES, TERMIOS_WORDS, Termios, WINSIZE_BYTES, Winsize, ctrl};

#[cfg(test)]
extern crate std;

#[cfg(test)]
mod tests;
