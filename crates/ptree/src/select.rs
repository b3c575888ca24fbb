//! Which children a wait is about and how it treats them: the [`Selector`] built from
//! `wait4`'s pid or `waitid`'s idtype and id with Linux's errno rules (`kernel/exit.c`), and
//! the [`WaitOptions`] the personality validates before it asks the process server. The
//! process server's `wait` carries the selector as one word (`Selector::to_word`, `wait4`'s
//! signed pid) and the options as Linux's bits.

use k42_linux::Errno;
use k42_linux::raw::general as g;

use crate::Pid;

/// The children a wait may report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selector {
    /// The child with this pid.
    Pid(Pid),
    /// Any child.
    Any,
    /// Any child in the caller's process group (as it is when the wait runs).
    OwnGroup,
    /// Any child in this process group.
    Group(Pid),
}

/// `wait4`'s "any child".
const ANY: i64 = -1;

impl Selector {
    /// `wait4`'s (and `waitpid`'s) `pid`: > 0 that child, -1 any, 0 the caller's group, < -1
    /// the group `-pid`. `INT_MIN` has no negation: `ESRCH`, as Linux answers.
    pub fn from_wait4(pid: i32) -> Result<Self, Errno> {
        Ok(match pid {
            i32::MIN => return Err(Errno::ESRCH),
            p if p > 0 => Self::Pid(p as Pid),
            -1 => Self::Any,
            0 => Self::OwnGroup,
            p => Self::Group(p.unsigned_abs().into()),
        })
    }

    /// `waitid`'s `idtype` and `id`: `P_ALL`; `P_PID` with a positive pid; `P_PGID` with a
    /// group, 0 meaning the caller's (Linux 5.4 on). A negative or zero pid, a negative group or
    /// an unknown idtype is `EINVAL`; `P_PIDFD` is `EBADF`, since no descriptor is a pidfd.
    pub fn from_waitid(idtype: u32, id: i32) -> Result<Self, Errno> {
        match idtype {
            g::P_ALL => Ok(Self::Any),
            g::P_PID if id > 0 => Ok(Self::Pid(id as Pid)),
            g::P_PGID if id == 0 => Ok(Self::OwnGroup),
            g::P_PGID if id > 0 => Ok(Self::Group(id as Pid)),
            g::P_PIDFD if id >= 0 => Err(Errno::EBADF),
            _ => Err(Errno::EINVAL),
        }
    }

    /// The selector as the process server's `wait` takes it: `wait4`'s signed pid as a word.
    /// Group 1 (init's, which no Linux process can join: init is the bootstrap) has no
    /// encoding of its own (-1 is "any"): `None`, and the caller answers `ECHILD`.
    pub fn to_word(self) -> Option<u64> {
        let pid: i64 = match self {
            Self::Pid(p) => i64::try_from(p).ok()?,
            Self::Any => ANY,
            Self::OwnGroup => 0,
            Self::Group(1) => return None,
            Self::Group(g) => -i64::try_from(g).ok()?,
        };
        Some(pid as u64)
    }

    /// The selector a word of [`Selector::to_word`] names (`ESRCH` for `wait4`'s `INT_MIN` or
    /// anything beyond a pid_t, as `wait4` itself would answer).
    pub fn from_word(word: u64) -> Result<Self, Errno> {
        let pid = i32::try_from(word as i64).map_err(|_| Errno::ESRCH)?;
        Self::from_wait4(pid)
    }

    /// Whether the child `pid` in group `pgid` is selected by a caller in group `own_pgid`.
    pub fn matches(self, pid: Pid, pgid: Pid, own_pgid: Pid) -> bool {
        match self {
            Self::Pid(p) => p == pid,
            Self::Any => true,
            Self::OwnGroup => pgid == own_pgid,
            Self::Group(g) => pgid == g,
        }
    }
}

/// The option bits every wait accepts and ignores: which kinds of child (threads, clones) to
/// consider. There are no clones and one thread per process, so all of them mean "every child".
const THREAD_BITS: u32 = g::__WNOTHREAD | g::__WCLONE | g::__WALL;

/// A wait's options, validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitOptions {
    /// `WNOHANG`: answer at once.
    pub nohang: bool,
    /// `WEXITED`: report children that ended.
    pub exited: bool,
    /// `WSTOPPED`/`WUNTRACED`: report stopped children (none stop until job control).
    pub stopped: bool,
    /// `WCONTINUED`: report continued children (none until job control).
    pub continued: bool,
    /// `WNOWAIT`: leave a reported child waitable.
    pub nowait: bool,
}

impl WaitOptions {
    /// `wait4`'s options: `WNOHANG`, `WUNTRACED`, `WCONTINUED` and the thread bits (`EINVAL`
    /// for any other); ended children are always reported.
    pub fn from_wait4(options: u32) -> Result<Self, Errno> {
        let known = g::WNOHANG | g::WUNTRACED | g::WCONTINUED | THREAD_BITS;
        if options & !known != 0 {
            return Err(Errno::EINVAL);
        }
        Ok(Self::from_bits(options | g::WEXITED))
    }

    /// `waitid`'s options: `WNOHANG`, `WNOWAIT`, `WEXITED`, `WSTOPPED`, `WCONTINUED` and the
    /// thread bits (`EINVAL` for any other, or when none of the three kinds is asked for).
    pub fn from_waitid(options: u32) -> Result<Self, Errno> {
        let kinds = g::WEXITED | g::WSTOPPED | g::WCONTINUED;
        let known = g::WNOHANG | g::WNOWAIT | kinds | THREAD_BITS;
        if options & !known != 0 || options & kinds == 0 {
            return Err(Errno::EINVAL);
        }
        Ok(Self::from_bits(options))
    }

    /// The options Linux's bits say, unchecked (the process server's side: the personality
    /// validated them).
    pub fn from_bits(options: u32) -> Self {
        Self {
            nohang: options & g::WNOHANG != 0,
            exited: options & g::WEXITED != 0,
            stopped: options & g::WSTOPPED != 0,
            continued: options & g::WCONTINUED != 0,
            nowait: options & g::WNOWAIT != 0,
        }
    }

    /// Linux's bits for these options.
    pub fn to_bits(self) -> u32 {
        [
            (self.nohang, g::WNOHANG),
            (self.exited, g::WEXITED),
            (self.stopped, g::WSTOPPED),
            (self.continued, g::WCONTINUED),
            (self.nowait, g::WNOWAIT),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .fold(0, |bits, (_, bit)| bits | bit)
    }
}
