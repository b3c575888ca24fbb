//! 16550 UART output on the two serial ports the runner reads: COM1 carries the
//! program's console, COM2 the kernel log and the runner's markers
//! (`k42_abi::runner`). Polled transmit only: the ports are written at boot and
//! from trap handlers, where waiting for an interrupt is not an option.

use spin::Mutex;
use x86_64::instructions::port::Port;

const REG_DATA: u16 = 0;
const REG_INT_ENABLE: u16 = 1;
const REG_FIFO_CTRL: u16 = 2;
const REG_LINE_CTRL: u16 = 3;
const REG_MODEM_CTRL: u16 = 4;
const REG_LINE_STATUS: u16 = 5;
const LINE_CTRL_DLAB: u8 = 0x80;
const LINE_CTRL_8N1: u8 = 0x03;
const FIFO_ENABLE_CLEAR: u8 = 0xc7;
const MODEM_DTR_RTS_OUT2: u8 = 0x0b;
const LINE_STATUS_THR_EMPTY: u8 = 0x20;
/// Divisor 1 = 115200 baud.
const DIVISOR_115200: u8 = 1;
/// Polls before a transmit is given up: a missing UART must not hang the kernel.
const TX_SPIN_LIMIT: u32 = 100_000;

/// One 16550 UART at a fixed I/O base.
pub struct Uart {
    base: u16,
}

impl Uart {
    const fn new(base: u16) -> Self {
        Self { base }
    }

    fn out(&self, reg: u16, value: u8) {
        // SAFETY: `base` is one of the two fixed COM port bases this module owns;
        // writing UART registers has no effect on memory.
        unsafe { Port::new(self.base + reg).write(value) }
    }

    fn inb(&self, reg: u16) -> u8 {
        // SAFETY: as in `out`; reading a UART register has no memory effect.
        unsafe { Port::new(self.base + reg).read() }
    }

    fn init(&self) {
        self.out(REG_INT_ENABLE, 0);
        self.out(REG_LINE_CTRL, LINE_CTRL_DLAB);
        self.out(REG_DATA, DIVISOR_115200);
        self.out(REG_INT_ENABLE, 0);
        self.out(REG_LINE_CTRL, LINE_CTRL_8N1);
        self.out(REG_FIFO_CTRL, FIFO_ENABLE_CLEAR);
        self.out(REG_MODEM_CTRL, MODEM_DTR_RTS_OUT2);
    }

    fn put(&self, byte: u8) {
        for _ in 0..TX_SPIN_LIMIT {
            if self.inb(REG_LINE_STATUS) & LINE_STATUS_THR_EMPTY != 0 {
                break;
            }
            core::hint::spin_loop();
        }
        self.out(REG_DATA, byte);
    }

    /// Writes raw bytes.
    pub fn write_bytes(&self, bytes: &[u8]) {
        bytes.iter().for_each(|&b| self.put(b));
    }
}

impl core::fmt::Write for Uart {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}

static CONSOLE: Mutex<Uart> = Mutex::new(Uart::new(k42_abi::runner::CONSOLE_UART_PORT));
static LOG: Mutex<Uart> = Mutex::new(Uart::new(k42_abi::runner::LOG_UART_PORT));

/// Programs both UARTs (8N1, FIFOs on, interrupts off).
pub fn init() {
    CONSOLE.lock().init();
    LOG.lock().init();
}

/// The program console (COM1), locked for the duration of `f`.
pub fn with_console<R>(f: impl FnOnce(&mut Uart) -> R) -> R {
    f(&mut CONSOLE.lock())
}

/// The log port (COM2), locked for the duration of `f`.
pub fn with_log<R>(f: impl FnOnce(&mut Uart) -> R) -> R {
    f(&mut LOG.lock())
}

/// The log port for a dying kernel: takes it even if the lock is held (the holder
/// is the code that just faulted and will never release it). Output may
/// interleave with a half-written line, which is better than silence.
pub fn with_log_forced<R>(f: impl FnOnce(&mut Uart) -> R) -> R {
    // SAFETY: only called on the way to ending the machine; the `Uart` holds no
    // state beyond its port number, so a second user cannot break an invariant.
    unsafe { LOG.force_unlock() };
    f(&mut LOG.lock())
}
