//! The console server: the one process that drives COM1, the program console the runner passes
//! through byte for byte (`k42_abi::runner`). Clients write through the `Console` interface
//! (`k42_ifaces::console`); the bootstrap spawns this server, grants it the UART's I/O ports and
//! passes its own badge in `arg0`, for which the server makes the console object with
//! `SPAWNER_HANDLE` — the bootstrap then gives the program access.
//!
//! `write` carries its bytes in the call's words, `write_data` in the PPC data area (up to
//! `PPC_DATA_BYTES` a call, taken with `k42_rt::server::take_call_data`): the clients' `Writer`
//! uses the latter.
//!
//! Output is what the kernel's console (`kernel/src/console.rs`) did before user mode: "\n" goes
//! out as "\r\n", as a tty with default settings (ONLCR) shows it, which the runner undoes. The
//! UART itself was set up by the kernel at boot (8N1, FIFOs on, interrupts off); transmit is
//! polled, like the kernel's.
//!
//! The console is a terminal (`tty.rs`): writes go through the line discipline's output
//! processing (so "\n" → "\r\n" is `ONLCR`, and a program may turn it off), and input — the
//! UART's receive side, polled every 10 ms — goes through Linux's N_TTY line discipline
//! (`k42_tty`): echo, editing, signals, and `read`, `tcgets`/`tcsets`, `get_winsize`/
//! `set_winsize` and `notify` for clients.
#![no_std]
#![no_main]

extern crate alloc;

mod tty;

use k42_abi::runner::CONSOLE_UART_PORT;
use k42_ifaces::SPAWNER_HANDLE;
use k42_ifaces::console::{self, Console, ConsoleError, ConsoleServer};
use k42_rights::{Badge, Rights, XHandle, XObjectTable};
use k42_rt::sys::cpu::{inb, outb};
use k42_rt::{Env, log, server};

k42_rt::entry!(main);

/// UART registers, as offsets from the port base (a 16550).
const REG_DATA: u16 = 0;
const REG_LINE_STATUS: u16 = 5;
/// Line status: the transmit holding register is empty.
const LINE_STATUS_THR_EMPTY: u8 = 0x20;
/// Polls before a byte is sent anyway: a missing UART must not hang the server (the kernel's
/// UART code uses the same bound).
const TX_SPIN_LIMIT: u32 = 100_000;
/// Exit status when the console object cannot be made as agreed.
const SETUP_FAILED: u32 = 1;

/// The console: COM1.
#[derive(Clone, Copy)]
struct Uart;

impl Uart {
    fn put(self, byte: u8) {
        for _ in 0..TX_SPIN_LIMIT {
            if inb(CONSOLE_UART_PORT + REG_LINE_STATUS) & LINE_STATUS_THR_EMPTY != 0 {
                break;
            }
            core::hint::spin_loop();
        }
        outb(CONSOLE_UART_PORT + REG_DATA, byte);
    }

    /// Sends `bytes` through the terminal's output processing ("\n" as "\r\n" by default).
    fn put_all(self, bytes: &[u8]) {
        tty::write(bytes);
    }
}

impl Console for Uart {
    fn write(
        &mut self,
        _caller: Badge,
        len: u8,
        w0: u64,
        w1: u64,
        w2: u64,
        w3: u64,
        w4: u64,
    ) -> Result<u8, ConsoleError> {
        let (bytes, n) = console::unpack(len, [w0, w1, w2, w3, w4])?;
        self.put_all(&bytes[..n]);
        Ok(len)
    }

    fn write_data(&mut self, _caller: Badge, len: u64) -> Result<u64, ConsoleError> {
        let bytes = server::take_call_data();
        if bytes.len() as u64 != len {
            return Err(ConsoleError::DataMismatch);
        }
        self.put_all(&bytes);
        Ok(len)
    }

    fn read(&mut self, caller: Badge, want: u64, got: u64) -> Result<u64, ConsoleError> {
        tty::read(caller, want, got)
    }

    fn tcgets(&mut self, _caller: Badge) -> Result<u64, ConsoleError> {
        tty::tcgets()
    }

    fn tcsets(&mut self, _caller: Badge, flush: bool, len: u64) -> Result<(), ConsoleError> {
        tty::tcsets(flush, len)
    }

    fn get_winsize(&mut self, _caller: Badge) -> Result<u64, ConsoleError> {
        Ok(tty::get_winsize())
    }

    fn set_winsize(&mut self, _caller: Badge, winsize: u64) -> Result<(), ConsoleError> {
        tty::set_winsize(winsize);
        Ok(())
    }

    fn notify(&mut self, caller: Badge, comm: u64) -> Result<(), ConsoleError> {
        tty::register(caller, comm)
    }

    fn poll_input(&mut self, caller: Badge) -> Result<u64, ConsoleError> {
        Ok(u64::from(tty::poll_input(caller)))
    }

    fn tostop(&mut self, _caller: Badge) -> Result<u64, ConsoleError> {
        Ok(u64::from(tty::tostop()))
    }

    fn attach_procs(&mut self, _caller: Badge, comm: u64, handle: u64) -> Result<(), ConsoleError> {
        tty::attach_procs(comm, XHandle::from_word(handle));
        Ok(())
    }
}

fn main(env: Env) -> u32 {
    let spawner = Badge(env.arg0);
    let mut table = XObjectTable::new();
    match table.insert(Uart, spawner, console::SPAWNER_RIGHTS, Rights::NONE) {
        Ok(handle) if handle == SPAWNER_HANDLE => {}
        other => {
            log!("console: the spawner's object is {other:?}, not {SPAWNER_HANDLE}");
            return SETUP_FAILED;
        }
    }
    tty::spawn_poller();
    server::serve_table::<ConsoleServer<Uart>>(table)
}
