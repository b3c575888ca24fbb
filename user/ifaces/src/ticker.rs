//! The ticker (`user/bin/ticker`): a helper the native tests spawn to need the CPU at set times.
//! It sleeps [`TICK_NS`] at a time on the kernel TIMER, and after each wake-up can spin for a
//! while, counting the spins in which the kernel asked for the processor back (PREEMPT: another
//! dispatcher was to run) and measuring the longest gap in its own run (how long it was off the
//! CPU, by the guest's clock — which also counts the host descheduling QEMU); at the end it
//! sends its spawner one async message, [`DONE_METHOD`], with a [`Report`].
//!
//! Its two spawn words: `arg0` the CommID to report to, `arg1` the [`Plan`].

use k42_abi::kernel::{ASYNC_PAYLOAD_WORDS, AsyncMessage};
use k42_rights::wire::method_word;

use crate::FIRST_SERVER_INTERFACE;

/// The method-word namespace of the ticker's message (no object interface).
pub const TICKER_INTERFACE: u32 = FIRST_SERVER_INTERFACE + 3;
/// Method word of the report message.
pub const DONE_METHOD: u64 = method_word(TICKER_INTERFACE, 0);
/// One sleep.
pub const TICK_NS: u64 = 10_000_000;
/// Most sleeps a plan may ask for (the ticker keeps each one's lateness).
pub const MAX_TICKS: u32 = 256;
/// A gap in the ticker's spinning longer than this counts as the CPU taken from it.
pub const STOLEN_GAP_NS: u64 = 4_000_000;

/// What the ticker does: `ticks` sleeps, each followed by `spin_us` µs of spinning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Sleeps of [`TICK_NS`] (at most [`MAX_TICKS`]).
    pub ticks: u32,
    /// Microseconds of spinning after each.
    pub spin_us: u32,
}

impl Plan {
    /// As the spawn word.
    pub fn to_word(self) -> u64 {
        u64::from(self.ticks) | u64::from(self.spin_us) << u32::BITS
    }

    /// From the spawn word.
    pub fn from_word(word: u64) -> Self {
        // Lossless: each half is 32 bits.
        Self {
            ticks: word as u32,
            spin_us: (word >> u32::BITS) as u32,
        }
    }
}

/// What the ticker reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Sleeps done.
    pub ticks: u16,
    /// Spins in which the kernel posted PREEMPT to the ticker.
    pub preempted: u16,
    /// Spins in which the ticker's clock jumped by more than [`STOLEN_GAP_NS`].
    pub stolen: u16,
    /// The median of how late the ticker ran after each sleep's deadline, in µs: the kernel
    /// timer's resolution (its tick) plus the wait for the CPU.
    pub median_late_us: u32,
    /// The latest it ran after a deadline, in µs.
    pub max_late_us: u32,
    /// The longest gap in its clock during a spin, in µs.
    pub max_gap_us: u32,
    /// From start to report, in µs.
    pub elapsed_us: u32,
}

/// Bits of a 16-bit field.
const HALF_HALF: u32 = u16::BITS;

impl Report {
    /// The message payload.
    pub fn to_payload(self) -> [u64; ASYNC_PAYLOAD_WORDS] {
        [
            u64::from(self.ticks)
                | u64::from(self.preempted) << HALF_HALF
                | u64::from(self.stolen) << (2 * HALF_HALF),
            u64::from(self.median_late_us) | u64::from(self.max_late_us) << u32::BITS,
            u64::from(self.max_gap_us) | u64::from(self.elapsed_us) << u32::BITS,
        ]
    }

    /// The report `msg` carries, if it is a ticker's report sent by process `pid`.
    pub fn from_message(msg: &AsyncMessage, pid: u64) -> Option<Self> {
        if msg.method != DONE_METHOD || msg.badge != pid {
            return None;
        }
        let [counts, late, rest] = msg.payload;
        // Lossless: each field is cut out at its own width.
        Some(Self {
            ticks: counts as u16,
            preempted: (counts >> HALF_HALF) as u16,
            stolen: (counts >> (2 * HALF_HALF)) as u16,
            median_late_us: late as u32,
            max_late_us: (late >> u32::BITS) as u32,
            max_gap_us: rest as u32,
            elapsed_us: (rest >> u32::BITS) as u32,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_and_report_round_trip() {
        let plan = Plan {
            ticks: 20,
            spin_us: 15_000,
        };
        assert_eq!(Plan::from_word(plan.to_word()), plan);
        let report = Report {
            ticks: 20,
            preempted: 1,
            stolen: 3,
            median_late_us: 5_000,
            max_late_us: 9_999,
            max_gap_us: 12_345,
            elapsed_us: 700_000,
        };
        let msg = AsyncMessage {
            badge: 7,
            handle: 0,
            method: DONE_METHOD,
            payload: report.to_payload(),
        };
        assert_eq!(Report::from_message(&msg, 7), Some(report));
        assert_eq!(Report::from_message(&msg, 8), None);
    }
}
