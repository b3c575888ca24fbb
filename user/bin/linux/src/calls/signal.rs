//! Signal state in the personality (DESIGN §2.6): dispositions (`rt_sigaction`), the blocked
//! mask (`rt_sigprocmask`) and the alternate stack (`sigaltstack`) are stored exactly as Linux
//! stores them, so programs that set them up at start (every shell, glibc's abort) behave, even
//! though no signal is delivered yet (delivery, `rt_sigframe` and `rt_sigreturn` are issue #5).

use k42_linux::raw::general as g;
use k42_linux::{Errno, SysResult};

use crate::state::Linux;
use crate::table::Args;
use crate::uaccess;

/// Signals there are (1..=64).
const SIGNALS: usize = 64;
/// Bytes of the kernel's `sigset_t` on x86_64: the only size `rt_sig*` accept.
const SIGSET_BYTES: u64 = 8;
/// Words of the kernel's `struct sigaction` (handler, flags, restorer, mask).
const SIGACTION_WORDS: usize = 4;

/// The signal state.
#[derive(Debug)]
pub struct Signals {
    /// Each signal's `struct sigaction`, as the program set it (index = signal − 1).
    actions: [[u64; SIGACTION_WORDS]; SIGNALS],
    /// The blocked mask.
    blocked: u64,
    /// The alternate stack (`stack_t`: sp, flags, size).
    altstack: [u64; 3],
}

impl Default for Signals {
    fn default() -> Self {
        Self {
            actions: [[0; SIGACTION_WORDS]; SIGNALS],
            blocked: 0,
            altstack: [0, u64::from(g::SS_DISABLE), 0],
        }
    }
}

/// The handler values `SIG_DFL` and `SIG_IGN` (`include/uapi/asm-generic/signal-defs.h`):
/// linux-raw-sys has them only as function pointers (`signal_macros`), not as the numbers a
/// `struct sigaction`'s first word holds.
const SIG_DFL: u64 = 0;
const SIG_IGN: u64 = 1;

impl Signals {
    /// What `execve` does to the signal state (Linux's `flush_signal_handlers(t, 0)` and the
    /// alternate stack's reset): a caught signal goes back to `SIG_DFL` — its handler is code
    /// of the image that is going away — an ignored one stays ignored, every action loses its
    /// flags, restorer and mask; the blocked mask (and, once there is one, the pending set) is
    /// kept; the alternate stack, an address in the old image, is disabled.
    pub fn reset_for_exec(&mut self) {
        for action in &mut self.actions {
            let handler = if action[0] == SIG_IGN {
                SIG_IGN
            } else {
                SIG_DFL
            };
            *action = [handler, 0, 0, 0];
        }
        self.altstack = Signals::default().altstack;
    }
}

impl Signals {
    /// Whether signal `sig` would take its default action now: `SIG_DFL` and not blocked
    /// (what a write to a pipe with no reader asks of `SIGPIPE`, `calls/pipe.rs`).
    pub fn default_and_unblocked(&self, sig: u32) -> bool {
        let i = sig as usize - 1;
        self.actions[i][0] == SIG_DFL && self.blocked & (1 << i) == 0
    }
}

/// SIGKILL's and SIGSTOP's bits, which can be neither caught nor blocked.
const UNBLOCKABLE: u64 = (1 << (g::SIGKILL - 1)) | (1 << (g::SIGSTOP - 1));

/// `rt_sigaction(sig, act, oldact, sigsetsize)`.
pub fn rt_sigaction(linux: &Linux, args: &Args) -> SysResult {
    let sig = args[0] as u32;
    if args[3] != SIGSET_BYTES || sig == 0 || sig as usize > SIGNALS {
        return Err(Errno::EINVAL);
    }
    let new = match args[1] {
        0 => None,
        addr => {
            if sig == g::SIGKILL || sig == g::SIGSTOP {
                return Err(Errno::EINVAL);
            }
            Some(uaccess::read_words::<SIGACTION_WORDS>(linux, addr)?)
        }
    };
    let old = {
        let mut signals = linux.signals.lock();
        let slot = &mut signals.actions[sig as usize - 1];
        let old = *slot;
        if let Some(mut new) = new {
            new[3] &= !UNBLOCKABLE;
            *slot = new;
        }
        old
    };
    if args[2] != 0 {
        uaccess::write_words(linux, args[2], &old)?;
    }
    Ok(0)
}

/// `rt_sigprocmask(how, set, oldset, sigsetsize)`.
pub fn rt_sigprocmask(linux: &Linux, args: &Args) -> SysResult {
    if args[3] != SIGSET_BYTES {
        return Err(Errno::EINVAL);
    }
    let how = args[0] as u32;
    let set = match args[1] {
        0 => None,
        addr => Some(uaccess::read_words::<1>(linux, addr)?[0]),
    };
    let old = {
        let mut signals = linux.signals.lock();
        let old = signals.blocked;
        if let Some(set) = set {
            signals.blocked = match how {
                g::SIG_BLOCK => old | set,
                g::SIG_UNBLOCK => old & !set,
                g::SIG_SETMASK => set,
                _ => return Err(Errno::EINVAL),
            } & !UNBLOCKABLE;
        }
        old
    };
    if args[2] != 0 {
        uaccess::write_words(linux, args[2], &[old])?;
    }
    Ok(0)
}

/// `sigaltstack(ss, old_ss)`.
pub fn sigaltstack(linux: &Linux, args: &Args) -> SysResult {
    let new = match args[0] {
        0 => None,
        addr => {
            let ss = uaccess::read_words::<3>(linux, addr)?;
            let flags = ss[1] as u32;
            if flags & !(g::SS_DISABLE | g::SS_AUTODISARM) != 0 {
                return Err(Errno::EINVAL);
            }
            if flags & g::SS_DISABLE == 0 && ss[2] < u64::from(g::MINSIGSTKSZ) {
                return Err(Errno::ENOMEM);
            }
            Some(ss)
        }
    };
    let old = {
        let mut signals = linux.signals.lock();
        let old = signals.altstack;
        if let Some(ss) = new {
            signals.altstack = ss;
        }
        old
    };
    if args[1] != 0 {
        uaccess::write_words(linux, args[1], &old)?;
    }
    Ok(0)
}
