//! What came out of one boot, and its verdict; and when the console's bytes came
//! ([`ConsoleArrivals`], for `cargo xtask bench`'s time to a shell prompt).
//!
//! The verdict ([`Outcome::runner_status`]) follows `k42_abi::runner`: the
//! program's status from the status line, or RUNNER_KERNEL_FAILURE, RUNNER_TIMEOUT
//! or RUNNER_NO_STATUS. QEMU's own exit code is never taken as success: a triple
//! fault under `-no-reboot` ends QEMU with 0. `mod.rs` fills an [`Outcome`] in from
//! the pumps (`pumps.rs`); `main.rs` exits with its status and `../test/` checks it.

use std::time::Duration;

use k42_abi::runner::{
    DEBUG_EXIT_DONE, DEBUG_EXIT_KERNEL_FAILURE, INIT_START_MARKER, RUNNER_KERNEL_FAILURE,
    RUNNER_NO_STATUS, RUNNER_TIMEOUT, STATUS_LINE_PREFIX, qemu_status_for,
};

/// What came out of one boot.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The console, "\r\n" undone (empty in interactive mode).
    pub console: Vec<u8>,
    /// Everything on the log port.
    pub log: String,
    /// QEMU's exit code (`None` when a signal ended it).
    pub qemu_exit: Option<i32>,
    /// The timeout that killed QEMU, if one did.
    pub timed_out: Option<Duration>,
    /// From QEMU's start to the first byte on the log port.
    pub first_log_byte: Option<Duration>,
    /// From QEMU's start to the INIT_START_MARKER line.
    pub init_start: Option<Duration>,
    /// From QEMU's start to its end.
    pub elapsed: Duration,
}

/// When the console's bytes reached the runner: for each piece one read of the console
/// pipe returned, the offset in [`Outcome::console`] of its first byte and the host time
/// from QEMU's start to that read's return. A byte arrived no later than its piece's time
/// and after the previous piece's: QEMU writes each byte the guest puts in the UART's
/// transmit register to the pipe as it comes, and the pump waits in `read`, so a piece is
/// what came while the pump was busy with the one before (`pumps.rs`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsoleArrivals {
    /// (offset of a piece's first byte, time of its read), offsets not decreasing.
    pieces: Vec<(usize, Duration)>,
    /// The console's length: where the last piece ends.
    end: usize,
}

impl ConsoleArrivals {
    /// Notes a piece starting at `offset` read at `at` (after every piece before it).
    pub(super) fn push(&mut self, offset: usize, at: Duration) {
        self.pieces.push((offset, at));
    }

    /// Notes where the console ends (its length).
    pub(super) fn finish(&mut self, end: usize) {
        self.end = end;
    }

    /// The time of the read that returned the console byte at `offset`, or `None` when no
    /// piece brought it (past the end).
    pub fn of_byte(&self, offset: usize) -> Option<Duration> {
        if offset >= self.end {
            return None;
        }
        // The last piece starting at or before `offset` (a piece that was all a held-back
        // "\r" starts where the next one does, and gives way to it).
        let after = self.pieces.partition_point(|(start, _)| *start <= offset);
        self.pieces.get(after.checked_sub(1)?).map(|(_, at)| *at)
    }
}

impl Outcome {
    /// The exit status in the last status line of the log port.
    pub fn status_line(&self) -> Option<u8> {
        self.log.lines().rev().find_map(|line| {
            let at = line.find(STATUS_LINE_PREFIX)?;
            line[at + STATUS_LINE_PREFIX.len()..]
                .trim()
                .parse::<u8>()
                .ok()
        })
    }

    /// Whether the kernel ended the run with the kernel-failure verdict.
    pub fn kernel_failed(&self) -> bool {
        self.qemu_exit == Some(qemu_status_for(DEBUG_EXIT_KERNEL_FAILURE))
    }

    /// The runner's exit status for this outcome (see the module comment).
    pub fn runner_status(&self) -> i32 {
        if self.timed_out.is_some() {
            RUNNER_TIMEOUT
        } else if self.kernel_failed() {
            RUNNER_KERNEL_FAILURE
        } else {
            self.status_line().map_or(RUNNER_NO_STATUS, i32::from)
        }
    }

    /// Why the run did not end normally, when it did not (`None` when a status
    /// line came and QEMU ended through isa-debug-exit as planned).
    pub fn problem(&self) -> Option<String> {
        let qemu = match self.qemu_exit {
            Some(code) => format!("QEMU exit code {code}"),
            None => "QEMU killed by a signal".to_string(),
        };
        if let Some(limit) = self.timed_out {
            Some(format!(
                "the guest did not finish within the timeout of {} s (--timeout); QEMU was killed",
                limit.as_secs()
            ))
        } else if self.kernel_failed() {
            Some(format!(
                "the guest kernel failed (panic or exception report on the log port; {qemu})"
            ))
        } else if self.status_line().is_none() {
            Some(format!(
                "QEMU ended without a status line on the log port ({qemu}): the guest crashed \
                 (a Linux panic or a triple fault both end QEMU with 0 under -no-reboot), or QEMU \
                 was ended from outside (Ctrl-A X, a signal)"
            ))
        } else if self.qemu_exit != Some(qemu_status_for(DEBUG_EXIT_DONE)) {
            Some(format!(
                "the status line came, but QEMU did not end through isa-debug-exit ({qemu})"
            ))
        } else {
            None
        }
    }

    /// One line of timings, for stderr.
    pub fn timings(&self) -> String {
        let secs =
            |d: Option<Duration>| d.map_or("never".into(), |d| format!("{:.3} s", d.as_secs_f64()));
        format!(
            "QEMU start -> first log byte {}, -> {INIT_START_MARKER} {}, -> end {:.3} s",
            secs(self.first_log_byte),
            secs(self.init_start),
            self.elapsed.as_secs_f64()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(log: &str, qemu_exit: Option<i32>) -> Outcome {
        Outcome {
            console: Vec::new(),
            log: log.to_string(),
            qemu_exit,
            timed_out: None,
            first_log_byte: None,
            init_start: None,
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn a_console_byte_has_the_time_of_the_read_that_brought_it() {
        let ms = Duration::from_millis;
        let mut arrivals = ConsoleArrivals::default();
        assert_eq!(arrivals.of_byte(0), None);
        arrivals.push(0, ms(10));
        arrivals.push(4, ms(20));
        // A piece that was only a held-back "\r": the next starts at the same offset.
        arrivals.push(6, ms(30));
        arrivals.push(6, ms(40));
        arrivals.finish(9);
        assert_eq!(arrivals.of_byte(0), Some(ms(10)));
        assert_eq!(arrivals.of_byte(3), Some(ms(10)));
        assert_eq!(arrivals.of_byte(4), Some(ms(20)));
        assert_eq!(arrivals.of_byte(6), Some(ms(40)));
        assert_eq!(arrivals.of_byte(8), Some(ms(40)));
        assert_eq!(arrivals.of_byte(9), None);
    }

    #[test]
    fn verdicts_follow_the_contract() {
        let done = Some(qemu_status_for(DEBUG_EXIT_DONE));
        let ok = outcome("boot\nk42-run: init-start\nk42-run: exit-status 7\n", done);
        assert_eq!(ok.runner_status(), 7);
        assert!(ok.problem().is_none());
        // A triple fault ends QEMU with 0: never success.
        let crash = outcome("k42-run: init-start\n", Some(0));
        assert_eq!(crash.runner_status(), RUNNER_NO_STATUS);
        assert!(crash.problem().is_some());
        let failed = outcome(
            "!!! KERNEL EXCEPTION\n",
            Some(qemu_status_for(DEBUG_EXIT_KERNEL_FAILURE)),
        );
        assert_eq!(failed.runner_status(), RUNNER_KERNEL_FAILURE);
        let mut slow = outcome("k42-run: exit-status 0\n", None);
        slow.timed_out = Some(Duration::from_secs(3));
        assert_eq!(slow.runner_status(), RUNNER_TIMEOUT);
        assert!(slow.problem().is_some_and(|p| p.contains("3 s")));
    }
}
