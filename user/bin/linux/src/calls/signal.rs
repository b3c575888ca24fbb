//! The signal syscalls (issue #5): dispositions (`rt_sigaction`), the blocked mask
//! (`rt_sigprocmask`), the alternate stack (`sigaltstack`), sending (`kill`, `tkill`,
//! `tgkill`), waiting (`rt_sigsuspend`, `pause`, `rt_sigtimedwait`) and `rt_sigpending`. The
//! state is `k42_linux::signal::State` (pure, host-tested); delivery, the frame and
//! `rt_sigreturn` are `crate::signals`; the timers that raise SIGALRM are `calls/timer.rs`.

use k42_linux::raw::general as g;
use k42_linux::signal::{self as sig, Action, AltStack};
use k42_linux::{Errno, SysResult};
use k42_rights::wire::CallError;
use k42_rt::{Ppc, clock};

use crate::signals::{self, Woken};
use crate::state::Linux;
use crate::table::Args;
use crate::uaccess;

/// The personality's signal state (`Linux::signals`).
pub type Signals = sig::State;

/// Bytes of the kernel's `sigset_t` on x86_64: the only size `rt_sig*` accept.
const SIGSET_BYTES: u64 = 8;
/// Words of the kernel's `struct sigaction` (handler, flags, restorer, mask).
const SIGACTION_WORDS: usize = 4;
const NS_PER_SEC: u64 = 1_000_000_000;

/// `rt_sigaction(sig, act, oldact, sigsetsize)`.
pub fn rt_sigaction(linux: &Linux, args: &Args) -> SysResult {
    let signo = args[0] as u32;
    if args[3] != SIGSET_BYTES || !sig::valid(signo) {
        return Err(Errno::EINVAL);
    }
    let new = match args[1] {
        0 => None,
        addr => {
            if sig::bit(signo) & sig::UNBLOCKABLE != 0 {
                return Err(Errno::EINVAL);
            }
            Some(Action::from_words(uaccess::read_words::<SIGACTION_WORDS>(
                linux, addr,
            )?))
        }
    };
    let old = {
        let mut signals = linux.signals.lock();
        let old = signals.action(signo);
        if let Some(new) = new {
            signals.set_action(signo, new);
        }
        old
    };
    if args[2] != 0 {
        uaccess::write_words(linux, args[2], &old.to_words())?;
    }
    Ok(0)
}

/// `rt_sigprocmask(how, set, oldset, sigsetsize)`. A signal it unblocks is delivered at the
/// end of the call (`table::serve`).
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
            } & !sig::UNBLOCKABLE;
        }
        old
    };
    if args[2] != 0 {
        uaccess::write_words(linux, args[2], &[old])?;
    }
    Ok(0)
}

/// `sigaltstack(ss, old_ss)`, with the program's stack pointer `rsp` (a `CONTEXT_CALLS`
/// handler: `SS_ONSTACK` and `EPERM` depend on where the program runs).
pub fn sigaltstack(linux: &Linux, args: &Args, rsp: u64) -> SysResult {
    let new = match args[0] {
        0 => None,
        addr => {
            let [sp, flags, size] = uaccess::read_words::<3>(linux, addr)?;
            // Lossless: `ss_flags` is an int.
            let flags = flags as u32;
            if flags & !(g::SS_DISABLE | g::SS_AUTODISARM | g::SS_ONSTACK) != 0 {
                return Err(Errno::EINVAL);
            }
            // `SS_ONSTACK` is accepted as 0, for old programs (Linux's `do_sigaltstack`).
            let flags = flags & !g::SS_ONSTACK;
            if flags & g::SS_DISABLE == 0 && size < u64::from(g::MINSIGSTKSZ) {
                return Err(Errno::ENOMEM);
            }
            Some(if flags & g::SS_DISABLE != 0 {
                AltStack::DISABLED
            } else {
                AltStack { sp, flags, size }
            })
        }
    };
    let old = {
        let mut signals = linux.signals.lock();
        let old = signals.altstack.report(rsp);
        if let Some(ss) = new {
            if signals.altstack.contains(rsp) {
                return Err(Errno::EPERM);
            }
            signals.altstack = ss;
        }
        old
    };
    if args[1] != 0 {
        uaccess::write_words(linux, args[1], &old)?;
    }
    Ok(0)
}

/// `rt_sigpending(set, sigsetsize)`: the pending signals that are blocked.
pub fn rt_sigpending(linux: &Linux, args: &Args) -> SysResult {
    if args[1] > SIGSET_BYTES {
        return Err(Errno::EINVAL);
    }
    signals::pending(linux);
    let set = {
        let s = linux.signals.lock();
        s.pending() & s.blocked
    };
    let bytes = set.to_le_bytes();
    // Lossless: at most 8.
    uaccess::write(linux, args[0], &bytes[..args[1] as usize])?;
    Ok(0)
}

/// A signal number `kill` may send: 0 (checks only) or a valid one.
fn sendable(signo: u32) -> Result<(), Errno> {
    if signo == 0 || sig::valid(signo) {
        Ok(())
    } else {
        Err(Errno::EINVAL)
    }
}

/// `kill(pid, sig)`: through the process server, which checks existence and permission and
/// sends the signal to every other target (`Procs::kill`); when this process is a target it
/// raises the signal on itself here, so it is delivered before `kill` returns, as on Linux.
pub fn kill(linux: &Linux, args: &Args) -> SysResult {
    // Lossless: pid_t and int arguments.
    let pid = args[0] as u32 as i32;
    let signo = args[1] as u32;
    sendable(signo)?;
    let me = match linux.procs.as_ref() {
        Some(procs) => {
            let mut client = k42_ifaces::procs::ProcsClient::new(Ppc::new(procs.comm), procs.table);
            match client.kill(i64::from(pid) as u64, u64::from(signo)) {
                // SIGSTOP stopped this process through the kernel, which has continued it since.
                Ok(k42_ifaces::procs::KILL_CARRIED_OUT) => false,
                Ok(me) => me != 0,
                Err(CallError::Method(e)) => return Err(e),
                Err(_) => return Err(Errno::EIO),
            }
        }
        // Alone: only this process exists.
        None if matches!(pid, 0 | -1) || pid as u64 == linux.ids.pid => true,
        None => return Err(Errno::ESRCH),
    };
    if me && signo != 0 {
        signals::raise(linux, signals::own(linux, signo, g::SI_USER as i32), false);
    }
    Ok(0)
}

/// A signal sent to thread `tid` of this process, pending for that thread alone
/// (`thread_signals::raise_on`); a thread of another process: `ESRCH`.
fn to_own_thread(linux: &Linux, tid: i32, signo: u32) -> SysResult {
    if tid <= 0 {
        return Err(Errno::EINVAL);
    }
    sendable(signo)?;
    let tid = tid as u64;
    let Some(target) = crate::threads::runtime_id(tid) else {
        return Err(Errno::ESRCH);
    };
    if signo != 0 {
        let info = signals::own(linux, signo, g::SI_TKILL);
        crate::thread_signals::raise_on(linux, target, info);
    }
    Ok(0)
}

/// `tkill(tid, sig)`.
pub fn tkill(linux: &Linux, args: &Args) -> SysResult {
    to_own_thread(linux, args[0] as u32 as i32, args[1] as u32)
}

/// `tgkill(tgid, tid, sig)`.
pub fn tgkill(linux: &Linux, args: &Args) -> SysResult {
    let tgid = args[0] as u32 as i32;
    if tgid <= 0 {
        return Err(Errno::EINVAL);
    }
    if tgid as u64 != linux.ids.pid {
        return Err(Errno::ESRCH);
    }
    to_own_thread(linux, args[1] as u32 as i32, args[2] as u32)
}

/// Sleeps the program's thread until a signal is to be delivered: `ERESTARTNOHAND`, which
/// becomes `EINTR` once a handler runs (`pause`, `sigsuspend`).
fn until_signal(linux: &Linux) -> SysResult {
    loop {
        if let Woken::Signal = signals::wait(linux, None, |_| false) {
            return Err(Errno::ERESTARTNOHAND);
        }
    }
}

/// `pause()`.
pub fn pause(linux: &Linux, _args: &Args) -> SysResult {
    until_signal(linux)
}

/// `rt_sigsuspend(mask, sigsetsize)`: waits with `mask` as the blocked mask; the handler's
/// frame records the old one, so its return restores it (`State::saved_mask`).
pub fn rt_sigsuspend(linux: &Linux, args: &Args) -> SysResult {
    if args[1] != SIGSET_BYTES {
        return Err(Errno::EINVAL);
    }
    let [mask] = uaccess::read_words::<1>(linux, args[0])?;
    swap_in_mask(linux, mask);
    until_signal(linux)
}

/// Makes `mask` the blocked mask for a wait, the one it replaces kept as `State::saved_mask`:
/// a handler that interrupts the wait records the kept one in its frame (so its return
/// restores it), and the return to the program restores it if no handler runs.
fn swap_in_mask(linux: &Linux, mask: u64) {
    let mut s = linux.signals.lock();
    let old = s.blocked;
    s.saved_mask = Some(old);
    s.blocked = mask & !sig::UNBLOCKABLE;
}

/// The signal mask argument of `ppoll`, `pselect6` and `epoll_pwait` (Linux's
/// `set_user_sigmask`): none for a null pointer, whatever the size; otherwise `EINVAL` for a
/// size other than a `sigset_t`'s and `EFAULT` for a mask that cannot be read.
pub fn wait_mask(linux: &Linux, addr: u64, size: u64) -> Result<Option<u64>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    if size != SIGSET_BYTES {
        return Err(Errno::EINVAL);
    }
    let [mask] = uaccess::read_words::<1>(linux, addr)?;
    Ok(Some(mask))
}

/// Runs the wait `wait` with `mask` (if any) as the blocked mask, as Linux's `ppoll`,
/// `pselect6` and `epoll_pwait` do: a signal the mask lets through interrupts the wait and
/// its handler runs under it, the old mask restored by the handler's return; a wait that ends
/// otherwise (ready, timed out, an error) gets the old mask back at once, so a signal only the
/// wait's mask let through stays pending (`restore_saved_sigmask_unless`).
pub fn with_wait_mask(
    linux: &Linux,
    mask: Option<u64>,
    wait: impl FnOnce() -> SysResult,
) -> SysResult {
    let Some(mask) = mask else {
        return wait();
    };
    swap_in_mask(linux, mask);
    let result = wait();
    if !matches!(result, Err(Errno::EINTR | Errno::ERESTARTNOHAND)) {
        let mut s = linux.signals.lock();
        if let Some(old) = s.saved_mask.take() {
            s.blocked = old;
        }
    }
    result
}

/// `rt_sigtimedwait(set, info, timeout, sigsetsize)`: takes a pending signal of `set`
/// without running its handler (its number; its `siginfo` at `info`), waiting up to
/// `timeout` (null: for ever) — `EAGAIN` when it passes, `EINTR` when another signal is to be
/// delivered first.
pub fn rt_sigtimedwait(linux: &Linux, args: &Args) -> SysResult {
    if args[3] != SIGSET_BYTES {
        return Err(Errno::EINVAL);
    }
    let [set] = uaccess::read_words::<1>(linux, args[0])?;
    let set = set & !sig::UNBLOCKABLE;
    let deadline = match args[2] {
        0 => None,
        addr => {
            let [sec, nsec] = uaccess::read_words::<2>(linux, addr)?;
            if (sec as i64) < 0 || nsec >= NS_PER_SEC {
                return Err(Errno::EINVAL);
            }
            let ns = sec.saturating_mul(NS_PER_SEC).saturating_add(nsec);
            Some(clock::now_ns().saturating_add(ns))
        }
    };
    linux.signals.lock().waiting = set;
    let result = loop {
        signals::pending(linux);
        let taken = {
            let mut s = linux.signals.lock();
            sig::next(s.pending() & set).and_then(|n| s.take(n))
        };
        if let Some(info) = taken {
            if args[1] != 0
                && let Err(e) = uaccess::write(linux, args[1], &info.to_bytes())
            {
                break Err(e);
            }
            break Ok(u64::from(info.signo));
        }
        let woken = signals::wait_with(
            linux,
            deadline,
            |_| false,
            |s| s.pending() & set != 0 || s.deliverable() & !set != 0,
        );
        match woken {
            Woken::Timeout => break Err(Errno::EAGAIN),
            Woken::Signal if linux.signals.lock().pending() & set == 0 => {
                break Err(Errno::EINTR);
            }
            _ => {}
        }
    };
    linux.signals.lock().waiting = 0;
    result
}
