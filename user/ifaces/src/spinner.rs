//! The spinner (`user/bin/spinner`): a helper the native tests spawn to keep a CPU busy. Its
//! two spawn words: `arg0` the CommID to report to (0: report nothing, spin for ever), `arg1`
//! the mode:
//! - [`MODE_SPIN`]: counts the turns of a loop that never yields and sends [`Progress`] with
//!   the count every [`REPORT_NS`] (by the clock it reads as it spins) — how a test sees
//!   whether it runs (`Process::stop` must keep it from running anywhere);
//! - [`MODE_CALL`]: waits for one [`TARGET_METHOD`] message from the process it reports to,
//!   naming an echo server that was spawned with the spinner's badge (so the spinner holds its
//!   spawner object), then calls `Echo::hold(`[`HOLD_MS`]`)` on it for ever, sending
//!   [`Progress`] before each call (`in_call`, the calls done so far) and after it — how a test
//!   catches it in the middle of a PPC.

use k42_abi::kernel::{ASYNC_PAYLOAD_WORDS, AsyncMessage};
use k42_rights::wire::method_word;

use crate::FIRST_SERVER_INTERFACE;

/// The method-word namespace of the spinner's messages (no object interface).
pub const SPINNER_INTERFACE: u32 = FIRST_SERVER_INTERFACE + 7;
/// Method word of a [`Progress`] report.
pub const PROGRESS_METHOD: u64 = method_word(SPINNER_INTERFACE, 0);
/// Method word of the message naming the echo server to call ([`MODE_CALL`]): payload
/// `[CommID, 0, 0]`.
pub const TARGET_METHOD: u64 = method_word(SPINNER_INTERFACE, 1);
/// Spin and count.
pub const MODE_SPIN: u64 = 0;
/// Call an echo server in a loop.
pub const MODE_CALL: u64 = 1;
/// How often [`MODE_SPIN`] reports.
pub const REPORT_NS: u64 = 5_000_000;
/// How long each call of [`MODE_CALL`] is held in the server.
pub const HOLD_MS: u64 = 300;

/// What the spinner reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Turns of the loop ([`MODE_SPIN`]) or calls completed ([`MODE_CALL`]).
    pub count: u64,
    /// [`MODE_CALL`]: sent just before a call (`true`) or just after one (`false`).
    pub in_call: bool,
}

impl Progress {
    /// The message payload.
    pub fn to_payload(self) -> [u64; ASYNC_PAYLOAD_WORDS] {
        [self.count, u64::from(self.in_call), 0]
    }

    /// The report `msg` carries, if it is a spinner's sent by process `pid`.
    pub fn from_message(msg: &AsyncMessage, pid: u64) -> Option<Self> {
        if msg.method != PROGRESS_METHOD || msg.badge != pid {
            return None;
        }
        Some(Self {
            count: msg.payload[0],
            in_call: msg.payload[1] != 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_round_trips_and_names_its_sender() {
        let p = Progress {
            count: 12345,
            in_call: true,
        };
        let msg = AsyncMessage {
            badge: 7,
            handle: 0,
            method: PROGRESS_METHOD,
            payload: p.to_payload(),
        };
        assert_eq!(Progress::from_message(&msg, 7), Some(p));
        assert_eq!(Progress::from_message(&msg, 8), None);
        let other = AsyncMessage {
            method: TARGET_METHOD,
            ..msg
        };
        assert_eq!(Progress::from_message(&other, 7), None);
    }
}
