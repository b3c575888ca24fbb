//! The PC's CMOS real-time clock as pure logic: what its registers mean, and the Unix time they
//! name. The hardware crate reads the registers (port I/O, `k42_hal::rtc`); the kernel turns
//! them into the wall clock at boot, which user level reads from every dispatcher page
//! (`DispatcherPage::boot_epoch_ns`). The clock keeps UTC (QEMU's default, and Linux's
//! assumption on x86 unless told otherwise).
//!
//! Register formats (the MC146818 data sheet, as PCs use it): status register B says whether
//! the time registers are binary or BCD (bit 2: binary) and whether the hour is 24-hour (bit 1);
//! in 12-hour mode the hour's top bit means PM. The year register holds two digits; the
//! century register (0x32, named by ACPI's FADT and present on QEMU and every PC since) the
//! other two, and a clock without one is taken to be in the 2000s.
#![no_std]
#![deny(unsafe_code)]
#![deny(missing_docs)]

/// CMOS register numbers of the time and status registers.
pub mod reg {
    /// Seconds.
    pub const SECONDS: u8 = 0x00;
    /// Minutes.
    pub const MINUTES: u8 = 0x02;
    /// Hours.
    pub const HOURS: u8 = 0x04;
    /// Day of the month.
    pub const DAY: u8 = 0x07;
    /// Month.
    pub const MONTH: u8 = 0x08;
    /// Year within the century.
    pub const YEAR: u8 = 0x09;
    /// Status A: bit 7 is set while the clock updates its registers.
    pub const STATUS_A: u8 = 0x0a;
    /// Status B: the formats.
    pub const STATUS_B: u8 = 0x0b;
    /// The century.
    pub const CENTURY: u8 = 0x32;
}

/// Status A's update-in-progress bit.
pub const UPDATE_IN_PROGRESS: u8 = 0x80;
/// Status B's 24-hour-mode bit.
const HOUR_24: u8 = 0x02;
/// Status B's binary-mode bit.
const BINARY: u8 = 0x04;
/// A 12-hour-mode hour's PM bit.
const PM: u8 = 0x80;

/// The time registers as read, with the status register B that says how to read them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Registers {
    /// Seconds.
    pub seconds: u8,
    /// Minutes.
    pub minutes: u8,
    /// Hours.
    pub hours: u8,
    /// Day of the month.
    pub day: u8,
    /// Month.
    pub month: u8,
    /// Year within the century.
    pub year: u8,
    /// The century (0: the clock has no century register).
    pub century: u8,
    /// Status register B.
    pub status_b: u8,
}

const SECS_PER_DAY: u64 = 86_400;
const SECS_PER_HOUR: u64 = 3_600;
const SECS_PER_MINUTE: u64 = 60;
/// The century assumed without a century register.
const DEFAULT_CENTURY: u64 = 20;

fn from_bcd(v: u8) -> Option<u8> {
    let (hi, lo) = (v >> 4, v & 0x0f);
    (hi < 10 && lo < 10).then_some(hi * 10 + lo)
}

impl Registers {
    /// The Unix time (seconds since 1970-01-01 00:00 UTC) these registers name; `None` when
    /// they hold no valid date (a dead clock battery, a garbled read), or one before 1970.
    pub fn unix_time(&self) -> Option<u64> {
        let binary = self.status_b & BINARY != 0;
        let value = |v: u8| if binary { Some(v) } else { from_bcd(v) };
        let pm = self.status_b & HOUR_24 == 0 && self.hours & PM != 0;
        let mut hour = value(self.hours & !PM)?;
        if self.status_b & HOUR_24 == 0 {
            // 12-hour clock: 12 AM is 0, 12 PM is 12.
            if !(1..=12).contains(&hour) {
                return None;
            }
            hour = hour % 12 + if pm { 12 } else { 0 };
        }
        let century = match self.century {
            0 => DEFAULT_CENTURY,
            c => u64::from(value(c)?),
        };
        let year = century * 100 + u64::from(value(self.year)?);
        let (month, day) = (value(self.month)?, value(self.day)?);
        let (minute, second) = (value(self.minutes)?, value(self.seconds)?);
        let valid = (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month)
            && hour < 24
            && minute < 60
            && second < 60;
        if !valid {
            return None;
        }
        let days = days_from_civil(year, month, day)?;
        Some(
            days * SECS_PER_DAY
                + u64::from(hour) * SECS_PER_HOUR
                + u64::from(minute) * SECS_PER_MINUTE
                + u64::from(second),
        )
    }
}

fn is_leap(year: u64) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u64, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to `year-month-day` (proleptic Gregorian; `None` before 1970).
fn days_from_civil(year: u64, month: u8, day: u8) -> Option<u64> {
    const UNIX_YEAR: u64 = 1970;
    if year < UNIX_YEAR {
        return None;
    }
    let mut days: u64 = (UNIX_YEAR..year)
        .map(|y| if is_leap(y) { 366 } else { 365 })
        .sum();
    days += (1..month)
        .map(|m| u64::from(days_in_month(year, m)))
        .sum::<u64>();
    Some(days + u64::from(day) - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BCD_24H: u8 = HOUR_24;

    fn bcd(seconds: u8, minutes: u8, hours: u8, day: u8, month: u8, year: u8) -> Registers {
        Registers {
            seconds,
            minutes,
            hours,
            day,
            month,
            year,
            century: 0x20,
            status_b: BCD_24H,
        }
    }

    #[test]
    fn the_epoch_and_known_dates() {
        let epoch = Registers {
            century: 0x19,
            ..bcd(0, 0, 0, 0x01, 0x01, 0x70)
        };
        assert_eq!(epoch.unix_time(), Some(0));
        // 2000-03-01 00:00:00 UTC (after a leap day in a century divisible by 400).
        assert_eq!(
            bcd(0, 0, 0, 0x01, 0x03, 0x00).unix_time(),
            Some(951_868_800)
        );
        // 2026-11-27 02:20:16 UTC.
        assert_eq!(
            bcd(0x16, 0x20, 0x02, 0x27, 0x11, 0x26).unix_time(),
            Some(1_795_746_016)
        );
    }

    #[test]
    fn binary_mode_and_twelve_hour_clock() {
        let binary = Registers {
            status_b: BINARY | HOUR_24,
            century: 20,
            ..bcd(16, 20, 14, 27, 11, 26)
        };
        assert_eq!(binary.unix_time(), Some(1_795_746_016 + 12 * SECS_PER_HOUR));
        // 2:20:16 PM in BCD 12-hour mode is 14:20:16.
        let pm = Registers {
            status_b: 0,
            ..bcd(0x16, 0x20, PM | 0x02, 0x27, 0x11, 0x26)
        };
        assert_eq!(pm.unix_time(), binary.unix_time());
        // 12 AM is midnight, 12 PM noon.
        let midnight = Registers {
            status_b: 0,
            ..bcd(0, 0, 0x12, 0x27, 0x11, 0x26)
        };
        let noon = Registers {
            status_b: 0,
            ..bcd(0, 0, PM | 0x12, 0x27, 0x11, 0x26)
        };
        assert_eq!(
            noon.unix_time().unwrap() - midnight.unix_time().unwrap(),
            12 * 3600
        );
    }

    #[test]
    fn no_century_register_means_the_2000s() {
        let no_century = Registers {
            century: 0,
            ..bcd(0, 0, 0, 0x01, 0x03, 0x00)
        };
        assert_eq!(no_century.unix_time(), Some(951_868_800));
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(bcd(0x60, 0, 0, 1, 1, 0x26).unix_time(), None); // second 60
        assert_eq!(bcd(0, 0, 0x24, 1, 1, 0x26).unix_time(), None); // hour 24
        assert_eq!(bcd(0, 0, 0, 0x30, 0x02, 0x26).unix_time(), None); // February 30th
        assert_eq!(bcd(0, 0, 0, 0x29, 0x02, 0x25).unix_time(), None); // not a leap year
        assert!(bcd(0, 0, 0, 0x29, 0x02, 0x24).unix_time().is_some()); // a leap year
        assert_eq!(bcd(0, 0, 0, 0x1a, 1, 0x26).unix_time(), None); // not BCD
        assert_eq!(bcd(0, 0, 0, 0, 1, 0x26).unix_time(), None); // day 0
        let twelve_hour_zero = Registers {
            status_b: 0,
            ..bcd(0, 0, 0, 1, 1, 0x26)
        };
        assert_eq!(twelve_hour_zero.unix_time(), None);
        let before_1970 = Registers {
            century: 0x19,
            ..bcd(0, 0, 0, 1, 1, 0x69)
        };
        assert_eq!(before_1970.unix_time(), None);
    }
}
