//! Reading the CMOS real-time clock (ports 0x70/0x71): the registers as `k42_rtc` names them,
//! read when no update is in progress and twice in a row alike, so a read never straddles the
//! clock's once-a-second update. What they mean is `k42_rtc`'s (host-tested); the kernel reads
//! the clock once at boot for the wall clock.

use k42_rtc::{Registers, UPDATE_IN_PROGRESS, reg};
use x86_64::instructions::port::Port;

/// The CMOS index port (bit 7 would mask NMIs: left clear) and data port.
const INDEX: u16 = 0x70;
const DATA: u16 = 0x71;
/// Reads tried before the clock is declared unreadable (an update takes under 2 ms; a read
/// of all registers a few µs).
const ATTEMPTS: usize = 10_000;

fn cmos(register: u8) -> u8 {
    // SAFETY: the CMOS ports are the kernel's alone (never granted to user level); selecting a
    // register and reading it has no effect on memory.
    unsafe {
        Port::<u8>::new(INDEX).write(register);
        Port::<u8>::new(DATA).read()
    }
}

fn snapshot() -> Option<Registers> {
    if cmos(reg::STATUS_A) & UPDATE_IN_PROGRESS != 0 {
        return None;
    }
    Some(Registers {
        seconds: cmos(reg::SECONDS),
        minutes: cmos(reg::MINUTES),
        hours: cmos(reg::HOURS),
        day: cmos(reg::DAY),
        month: cmos(reg::MONTH),
        year: cmos(reg::YEAR),
        century: cmos(reg::CENTURY),
        status_b: cmos(reg::STATUS_B),
    })
}

/// The clock's registers, or `None` if no two reads in a row agreed.
pub fn read() -> Option<Registers> {
    let mut last = None;
    for _ in 0..ATTEMPTS {
        let now = snapshot();
        if now.is_some() && now == last {
            return now;
        }
        last = now;
    }
    None
}
