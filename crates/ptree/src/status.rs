//! The wait status a process leaves behind, in Linux's encoding (what `wait4` stores in
//! `*wstatus` and the `W*` macros of `<sys/wait.h>` take apart), and its `waitid` form
//! (`si_code`, `si_status`). The process server stores it as the exiting process gave it; the
//! personality encodes it at exit and decodes it for `waitid`.

use k42_linux::raw::general as g;

/// The low 7 bits of a status: the signal that killed the process, 0 for a normal exit.
const SIGNAL_MASK: u32 = 0x7f;
/// The bit set when the death by signal dumped core.
const CORE_FLAG: u32 = 0x80;
/// Where a normal exit's code sits.
const CODE_SHIFT: u32 = 8;
/// An exit code keeps its low 8 bits (`exit(256)` is `exit(0)`).
const CODE_MASK: u32 = 0xff;
/// The low 7 bits of a stop report (`WIFSTOPPED`), the stop signal above them.
const STOPPED_MARK: u32 = 0x7f;
/// The whole status of a continue report (`WIFCONTINUED`).
const CONTINUED_STATUS: u32 = 0xffff;

/// A Linux wait status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitStatus(pub u32);

impl WaitStatus {
    /// A normal exit with `code` (only its low 8 bits count, as on Linux).
    pub const fn exited(code: u64) -> Self {
        // Lossless: masked to 8 bits.
        Self(((code as u32) & CODE_MASK) << CODE_SHIFT)
    }

    /// A death by signal `signal`, with a core dump if `core`.
    pub const fn signaled(signal: u32, core: bool) -> Self {
        Self((signal & SIGNAL_MASK) | if core { CORE_FLAG } else { 0 })
    }

    /// A stop by signal `signal` (`WIFSTOPPED`, `WSTOPSIG`): a report, not an end.
    pub const fn stopped(signal: u32) -> Self {
        Self(((signal & CODE_MASK) << CODE_SHIFT) | STOPPED_MARK)
    }

    /// A continue after a stop (`WIFCONTINUED`): a report, not an end.
    pub const CONTINUED: Self = Self(CONTINUED_STATUS);

    /// The stop signal, if this is a stop report.
    pub const fn stop_signal(self) -> Option<u32> {
        match self.0 & (CODE_MASK | !0xffff) {
            STOPPED_MARK => Some((self.0 >> CODE_SHIFT) & CODE_MASK),
            _ => None,
        }
    }

    /// Whether this is a continue report.
    pub const fn is_continued(self) -> bool {
        self.0 == CONTINUED_STATUS
    }

    /// The exit code, if the process exited normally (`WIFEXITED`, `WEXITSTATUS`).
    pub const fn exit_code(self) -> Option<u32> {
        match self.0 & SIGNAL_MASK {
            0 => Some((self.0 >> CODE_SHIFT) & CODE_MASK),
            _ => None,
        }
    }

    /// The signal that killed the process and whether it dumped core (`WIFSIGNALED`,
    /// `WTERMSIG`, `WCOREDUMP`).
    pub const fn signal(self) -> Option<(u32, bool)> {
        match self.0 & SIGNAL_MASK {
            0 => None,
            n => Some((n, self.0 & CORE_FLAG != 0)),
        }
    }

    /// `waitid`'s (and SIGCHLD's) `si_code` and `si_status`: `CLD_EXITED` with the exit
    /// code, `CLD_KILLED`/`CLD_DUMPED` with the signal, `CLD_STOPPED` with the stop signal,
    /// `CLD_CONTINUED` with SIGCONT.
    pub const fn siginfo(self) -> (u32, u32) {
        if let Some(signal) = self.stop_signal() {
            return (g::CLD_STOPPED, signal);
        }
        if self.is_continued() {
            return (g::CLD_CONTINUED, g::SIGCONT);
        }
        match self.signal() {
            None => (g::CLD_EXITED, (self.0 >> CODE_SHIFT) & CODE_MASK),
            Some((signal, false)) => (g::CLD_KILLED, signal),
            Some((signal, true)) => (g::CLD_DUMPED, signal),
        }
    }

    /// The exit status a shell (and the runner) reports for it: the code, or 128 + the
    /// signal.
    pub const fn shell_status(self) -> u32 {
        /// A death by signal N reads as this plus N.
        const SIGNAL_STATUS_BASE: u32 = 128;
        match self.signal() {
            None => (self.0 >> CODE_SHIFT) & CODE_MASK,
            Some((signal, _)) => SIGNAL_STATUS_BASE + signal,
        }
    }
}
