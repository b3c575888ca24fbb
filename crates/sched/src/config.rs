//! The two time constants of the policy: how long a dispatcher runs before it is asked to give way
//! (the quantum), and how long it then has to yield cleanly before it is preempted hard (the grace
//! period).
//!
//! They are per-scheduler values rather than crate constants so the kernel can tune them per CPU
//! and the host tests (`tests/`) can use small tick counts; the defaults below assume `Time` is in
//! nanoseconds, which is what the kernel passes.

use crate::Time;

/// Default quantum: 10 ms, the classic time-sharing slice — long enough that a switch every quantum
/// costs well under 1% of the CPU, short enough that a CPU shared by a few applications feels
/// interactive.
pub const DEFAULT_QUANTUM_NS: Time = 10_000_000;

/// Default grace period: 1 ms. The PREEMPT soft interrupt only asks the dispatcher's user-level
/// scheduler to save its running thread and yield, which takes microseconds; a millisecond covers a
/// dispatcher that is briefly disabled (in a critical section) without letting a misbehaving one
/// delay a server noticeably.
pub const DEFAULT_GRACE_NS: Time = 1_000_000;

/// The scheduler's tunables. Both are positive: a zero quantum would preempt on every event, and a
/// zero grace would make the soft interrupt pointless.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    quantum: Time,
    grace: Time,
}

impl Config {
    /// `None` if either value is zero.
    pub const fn new(quantum: Time, grace: Time) -> Option<Config> {
        if quantum == 0 || grace == 0 {
            return None;
        }
        Some(Config { quantum, grace })
    }

    /// How long a dispatcher runs before a waiting peer of its class may take the CPU.
    pub const fn quantum(&self) -> Time {
        self.quantum
    }

    /// How long after the PREEMPT soft interrupt is posted the dispatcher is preempted hard.
    pub const fn grace(&self) -> Time {
        self.grace
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            quantum: DEFAULT_QUANTUM_NS,
            grace: DEFAULT_GRACE_NS,
        }
    }
}
