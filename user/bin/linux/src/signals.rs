//! Signal delivery (issue #5): where signals come from, how a blocked call learns of one, and
//! how a handler is entered and left. The state (actions, mask, the pending sets, the
//! alternate stack) is `k42_linux::signal::State` in `Linux::signals`; the syscalls that set
//! it are `calls/signal.rs`.
//!
//! - **Sources.** Every signal from outside the program's own calls arrives as an async
//!   message to this dispatcher: another process's `kill` from the process server
//!   (`SignalEvent`), a child's end (`ChildEvent` → SIGCHLD), a signal character on the
//!   console (`console::Event::Signal`), and `ITIMER_REAL` from this process's own timer
//!   thread (`calls/timer.rs`, [`ALARM_METHOD`]). [`absorb`] turns each into a pending signal.
//!   The program's own `kill`/`tgkill`/`raise` and a broken pipe raise directly; a fault comes
//!   from the TRAP upcall (`calls/fault.rs`) through [`fault`].
//! - **Waking a blocked call.** Every wait of a blocking call goes through [`wait`], which
//!   takes messages from the ring itself: a message that makes a signal deliverable (pending
//!   and not blocked) ends the wait with [`Woken::Signal`], and the call returns
//!   `ERESTARTSYS` (restarted under `SA_RESTART`), `ERESTARTNOHAND` or `EINTR` as Linux's does.
//! - **Delivery** ([`deliver`]) happens whenever the program is about to run again: at the end
//!   of every syscall (`table::serve`), and before an interrupted program continues
//!   (`k42_rt::program`'s resume hook, [`on_resume`]) — a message that arrives while program
//!   code runs interrupts it (the ASYNC soft interrupt), so the signal is delivered at once.
//!   Both drain the ring first. One handler frame per return, lowest signal first (faults
//!   before others); ignored ones are dropped, default actions applied (terminate and core
//!   end the process with the signal's wait status; stop stops it until SIGCONT,
//!   `job.rs`).
//! - **The frame** is Linux's x86_64 `rt_sigframe` (`k42_linux::signal::Frame`): the return
//!   address (`SA_RESTORER`), `ucontext` with every general register, `rip`, `rflags`, the
//!   fault's `err`/`trapno`/`cr2`, the old mask, the alternate stack, a pointer to the FXSAVE
//!   image of the program's x87/SSE state (`k42_sys::fpu`) just above the frame, and `siginfo`.
//!   `rt_sigreturn` ([`sigreturn`]) restores all of it. Not saved: the FS and GS bases (a
//!   handler that changes them keeps the change, as on Linux where they are not in the frame
//!   either) and AVX state (the kernel keeps AVX off).

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use k42_abi::kernel::{AsyncMessage, SavedRegs, comm_pid};
use k42_ifaces::console::Event;
use k42_ifaces::procs::{ChildEvent, SignalEvent};
use k42_linux::mmap_space::past_eof;
use k42_linux::raw::general as g;
use k42_linux::signal::{
    self as sig, Action, DefaultAction, FPSTATE_BYTES, Frame, Info, Restart, SIG_DFL, SIG_IGN,
    SIGFRAME_BYTES, Trap,
};
use k42_linux::{Errno, to_return};
use k42_rt::sys::critical;
use k42_rt::sys::fpu::{self, FXSAVE_BYTES, FxState};
use k42_rt::sys::page::Page;
use k42_rt::{log, ring};
use spin::Mutex;

use crate::state::{self, Linux};
use crate::{inbox, uaccess};

/// Method word of the personality's own "ITIMER_REAL expired" message, which its timer
/// thread sends to this dispatcher (badge: this process): no interface's (their method words
/// carry an interface id in the high half, and none is this large), and not the runtime's
/// nudge (`u64::MAX - 0x4e`).
pub const ALARM_METHOD: u64 = u64::MAX - 0x5a;

/// A fault the TRAP upcall turned into a signal, for the resume hook of the thread that
/// faulted (its runtime id, `Thread::id`) to deliver.
static FAULT: Mutex<Option<(u64, Fault)>> = Mutex::new(None);
/// Whether [`FAULT`] holds a fault (changed only under its lock): every return to the program
/// asks, and almost always none is there, which this answers without the lock.
static FAULT_STORED: AtomicBool = AtomicBool::new(false);

/// A fault to deliver: the signal, the trap's words, what to call it in the log.
type Fault = (Info, Trap, &'static str);

/// The calling thread's fault, if the TRAP upcall left one (taken).
fn take_fault() -> Option<Fault> {
    // A thread's own fault is stored by its TRAP upcall before its resume hook runs here, so
    // a fault for it cannot be missed; one stored meanwhile is another thread's.
    if !FAULT_STORED.load(Ordering::Acquire) {
        return None;
    }
    let me = k42_rt::thread::current_id().unwrap_or(0);
    // Upcalls off while the lock is held: the TRAP upcall takes it too, and would spin for
    // ever on a holder it had interrupted.
    let _upcalls = critical::disable();
    let mut fault = FAULT.lock();
    match *fault {
        Some((owner, _)) if owner == me => {
            FAULT_STORED.store(false, Ordering::Release);
            fault.take().map(|(_, f)| f)
        }
        _ => None,
    }
}

/// Whether the calling thread has a fault to deliver.
fn fault_pending() -> bool {
    let me = k42_rt::thread::current_id().unwrap_or(0);
    let _upcalls = critical::disable();
    FAULT.lock().is_some_and(|(owner, _)| owner == me)
}

/// A fork child has no fault to deliver (one a thread of its parent took is the parent's).
pub fn for_fork_child_fault() {
    let _upcalls = critical::disable();
    let mut fault = FAULT.lock();
    *fault = None;
    FAULT_STORED.store(false, Ordering::Release);
}

/// Whether a fork may copy the process now (no other thread holds the fault's lock).
pub fn quiet() -> bool {
    !FAULT.is_locked()
}

/// How often a signal was delivered to a handler (for the log's first line only).
static DELIVERED: AtomicU64 = AtomicU64::new(0);

/// Raises `info.signo` on this process (or its thread): dropped if ignored.
pub fn raise(linux: &Linux, info: Info, thread: bool) {
    let signo = info.signo;
    linux.signals.lock().raise(info, thread);
    crate::thread_signals::raised(linux, signo);
}

/// A signal with `si_code` `code` sent by this process to itself (`kill`, `raise`, SIGPIPE).
pub fn own(linux: &Linux, signo: u32, code: i32) -> Info {
    Info {
        signo,
        code,
        // Linux's pids and uids are 32-bit.
        pid: linux.ids.pid as u32,
        uid: linux.creds.uid(),
        ..Info::default()
    }
}

/// Takes in a message this thread took from the ring: the signal it means, if any, becomes
/// pending (module comment), and the program's other threads get a copy (`inbox.rs`), since
/// one of them may be waiting for it (two readers of one pipe, a wait for a child). Messages
/// that are not signals (a pipe's or the console's wake-up) are left to whoever waits for
/// them.
pub fn absorb(linux: &Linux, msg: &AsyncMessage) {
    raise_from(linux, msg);
    inbox::pass_on(msg);
}

/// The signal `msg` means, if any, made pending.
fn raise_from(linux: &Linux, msg: &AsyncMessage) {
    if let Some(procs) = linux.procs.as_ref() {
        if let Some(ev) = SignalEvent::from_message(msg, procs.comm) {
            let info = Info {
                signo: ev.sig,
                code: if ev.terminal {
                    g::SI_KERNEL as i32
                } else {
                    g::SI_USER as i32
                },
                // Linux's pids are 32-bit.
                pid: ev.pid as u32,
                uid: ev.uid,
                ..Info::default()
            };
            raise(linux, info, false);
            return;
        }
        if let Some(ev) = ChildEvent::from_message(msg, procs.comm) {
            child_ended(linux, ev);
            return;
        }
    }
    if let Some(Event::Signal(n)) = Event::from_message(msg, linux.console_comm) {
        let info = Info {
            signo: n,
            code: g::SI_KERNEL as i32,
            ..Info::default()
        };
        raise(linux, info, false);
        return;
    }
    if msg.method == ALARM_METHOD && msg.badge == comm_pid(Page::current().comm_id()) {
        let info = Info {
            signo: g::SIGALRM,
            code: g::SI_KERNEL as i32,
            ..Info::default()
        };
        raise(linux, info, false);
    }
}

/// A child ended, stopped or continued: SIGCHLD, with the `si_code` and `si_status` Linux's
/// `do_notify_parent` (`CLD_EXITED`/`CLD_KILLED`/`CLD_DUMPED`) and
/// `do_notify_parent_cldstop` (`CLD_STOPPED`/`CLD_CONTINUED`) give. A stop or continue sends
/// none when the action has `SA_NOCLDSTOP`. When SIGCHLD is ignored explicitly or the action
/// has `SA_NOCLDWAIT`, an ended child is reaped at once (Linux's auto-reaping) and no signal
/// is sent for `SIG_IGN`.
fn child_ended(linux: &Linux, ev: ChildEvent) {
    let status = k42_ptree::WaitStatus(ev.status);
    let (code, value) = status.siginfo();
    let job_change = matches!(code, g::CLD_STOPPED | g::CLD_CONTINUED);
    let action = linux.signals.lock().action(g::SIGCHLD);
    if job_change && action.has(g::SA_NOCLDSTOP) {
        return;
    }
    if !job_change && (action.handler == SIG_IGN || action.has(g::SA_NOCLDWAIT)) {
        reap(ev.pid);
    }
    let info = Info {
        signo: g::SIGCHLD,
        code: code as i32,
        // Linux's pids are 32-bit.
        pid: ev.pid as u32,
        uid: ev.uid,
        status: u64::from(value),
        ..Info::default()
    };
    raise(linux, info, false);
}

/// Collects the ended child `pid` without telling anyone (auto-reaping).
fn reap(pid: u64) {
    let Ok(selector) = k42_ptree::Selector::from_wait4(pid as i32) else {
        return;
    };
    let Ok(options) = k42_ptree::WaitOptions::from_wait4(g::WNOHANG) else {
        return;
    };
    let _ = crate::procs::wait_child(selector, options);
}

/// Takes every waiting message and absorbs it (delivery's first step).
fn drain(linux: &Linux) {
    while let Some(msg) = ring::next_message() {
        absorb(linux, &msg);
    }
}

/// What ended a [`wait`].
pub enum Woken {
    /// The message the caller waited for came.
    Message,
    /// The deadline passed.
    Timeout,
    /// A signal is to be delivered: the call returns (`EINTR` or a restart).
    Signal,
}

/// Blocks the program's thread until a message `wanted` accepts arrives (absorbed first, so
/// a child's end is both a wake-up and SIGCHLD), `deadline` passes, or a signal becomes
/// deliverable — or, with `interrupt`, whatever it says about the signal state does.
pub fn wait_with(
    linux: &Linux,
    deadline: Option<u64>,
    wanted: impl FnMut(&AsyncMessage) -> bool,
    interrupt: impl Fn(&sig::State) -> bool,
) -> Woken {
    wait_full(linux, deadline, wanted, interrupt, || false)
}

/// Blocks the program's thread until `cond` holds (whoever makes it hold unparks the thread;
/// it must read only atomics: `k42_rt::ring::wait_message_unless`), `deadline` passes, or a
/// signal becomes deliverable. [`Woken::Message`] when `cond` holds — or, rarely, after a
/// stop, when the caller must look again.
pub fn wait_until(linux: &Linux, deadline: Option<u64>, cond: impl Fn() -> bool) -> Woken {
    wait_full(linux, deadline, |_| false, |s| s.deliverable() != 0, cond)
}

/// The one wait loop ([`wait_with`], [`wait_until`]).
fn wait_full(
    linux: &Linux,
    deadline: Option<u64>,
    mut wanted: impl FnMut(&AsyncMessage) -> bool,
    interrupt: impl Fn(&sig::State) -> bool,
    cond: impl Fn() -> bool,
) -> Woken {
    loop {
        // An exec on another thread ends this one here; a stopped process waits here.
        crate::threads::checkpoint(linux);
        if stop_in_place(linux) {
            // Whatever came while the process was stopped was absorbed as signals or
            // dropped (module comment of `job.rs`): the caller looks again, as after the
            // message it waited for.
            return Woken::Message;
        }
        let interrupted = {
            let mut s = linux.signals.lock();
            let yes = interrupt(&s);
            if yes {
                claim(&mut s);
            }
            yes
        };
        if interrupted || fault_pending() {
            return Woken::Signal;
        }
        if cond() {
            return Woken::Message;
        }
        match inbox::next(deadline, &mut wanted, &cond) {
            inbox::Next::Taken(msg) => {
                absorb(linux, &msg);
                if wanted(&msg) {
                    return Woken::Message;
                }
            }
            inbox::Next::Mail => return Woken::Message,
            inbox::Next::Nothing => {}
            inbox::Next::Timeout => return Woken::Timeout,
        }
    }
}

/// A wait that a process signal ends makes the signal this thread's (moved from the process's
/// pending set to the thread's), so that no other thread takes it before this one delivers it:
/// the call it interrupts ends with `EINTR` only for a signal its own thread then handles.
fn claim(s: &mut sig::State) {
    if !crate::threads::many() || s.thread.set & !s.blocked != 0 {
        return;
    }
    let Some(n) = sig::next(s.shared.set & !s.blocked) else {
        return;
    };
    if let Some(info) = s.shared.take(n) {
        s.thread.add(info);
    }
}

/// Applies the default action of every deliverable stop signal whose action is the default:
/// the process stops where it waits (`job.rs`) and the wait goes on once it is continued, as
/// on Linux, where such a signal does not make these calls fail with `EINTR`: they restart,
/// most for the same end (`poll`, a sleep). `select`, `pselect6` and `ppoll` restart for the
/// time they had left when the stop came, which their wait sees in `job::stopped_ns`
/// (`calls/poll.rs`). True if it stopped.
fn stop_in_place(linux: &Linux) -> bool {
    let mut stopped = false;
    loop {
        let stop = {
            let mut s = linux.signals.lock();
            let stops = s.deliverable() & sig::STOP_SIGNALS;
            let first = (1..=sig::NSIG)
                .find(|&n| stops & sig::bit(n) != 0 && s.action(n).handler == SIG_DFL);
            first.and_then(|n| s.take(n)).map(|info| info.signo)
        };
        match stop {
            Some(signo) => stopped |= crate::job::stop(linux, signo),
            None => return stopped,
        }
    }
}

/// [`wait`], also ended when `cond` holds ([`Woken::Message`]; whoever makes it hold unparks
/// the thread, and it must read only atomics, as [`wait_until`]'s).
pub fn wait_or(
    linux: &Linux,
    deadline: Option<u64>,
    wanted: impl FnMut(&AsyncMessage) -> bool,
    cond: impl Fn() -> bool,
) -> Woken {
    wait_full(linux, deadline, wanted, |s| s.deliverable() != 0, cond)
}

/// [`wait_with`] interrupted by any deliverable signal.
pub fn wait(
    linux: &Linux,
    deadline: Option<u64>,
    wanted: impl FnMut(&AsyncMessage) -> bool,
) -> Woken {
    wait_with(linux, deadline, wanted, |s| s.deliverable() != 0)
}

/// [`wait_or`], also ended ([`Woken::Message`]) when a signal of `mask` is pending, blocked or
/// not: a signalfd's readiness (`calls/signalfd.rs`). [`Woken::Signal`] only for a signal to
/// deliver.
pub fn wait_or_pending(
    linux: &Linux,
    deadline: Option<u64>,
    wanted: impl FnMut(&AsyncMessage) -> bool,
    mask: u64,
    cond: impl Fn() -> bool,
) -> Woken {
    let interrupt = |s: &sig::State| s.deliverable() != 0 || s.pending() & mask != 0;
    match wait_full(linux, deadline, wanted, interrupt, cond) {
        Woken::Signal if linux.signals.lock().deliverable() == 0 && !fault_pending() => {
            Woken::Message
        }
        woken => woken,
    }
}

/// The pending signals of `mask`, blocked or not (a signalfd's readiness). What is still in
/// the ring is not taken in here: a look of `poll` must not take the console's or a pipe's
/// notification it has just armed (a single-threaded process keeps no copy); the wait that
/// follows takes messages in and looks at the mask again (`wait_or_pending`).
pub fn pending_in(linux: &Linux, mask: u64) -> u64 {
    linux.signals.lock().pending() & mask
}

/// Takes the lowest pending signal of `mask` without delivering it (a signalfd's read), once
/// what has arrived is taken in.
pub fn take_pending_in(linux: &Linux, mask: u64) -> Option<Info> {
    drain(linux);
    let mut s = linux.signals.lock();
    let n = sig::next(s.pending() & mask)?;
    s.take(n)
}

/// Whether a signal is deliverable now (a blocking call checks before it sleeps).
pub fn pending(linux: &Linux) -> bool {
    drain(linux);
    linux.signals.lock().deliverable() != 0
}

/// The TRAP upcall's fault, for [`on_resume`] (`calls/fault.rs` then hands the registers to
/// `k42_rt::program::trapped`).
/// `what` names the fault for the log (`"SIGSEGV (page fault)"`).
pub fn fault(info: Info, trap: Trap, what: &'static str) {
    let me = k42_rt::thread::current_id().unwrap_or(0);
    let _upcalls = critical::disable();
    let mut fault = FAULT.lock();
    *fault = Some((me, (info, trap, what)));
    FAULT_STORED.store(true, Ordering::Release);
}

/// `k42_rt::program`'s resume hook: an interrupted (or faulted) program is about to continue.
pub fn on_resume(regs: &mut SavedRegs) {
    deliver(state::get(), regs, None);
}

/// Delivers what is pending and deliverable before the program continues with `regs`, after
/// syscall `syscall` (its number) or an interruption (None). See the module comment.
pub fn deliver(linux: &Linux, regs: &mut SavedRegs, syscall: Option<u64>) {
    drain(linux);
    // An exec on another thread ends this one here; a stopped process waits here.
    crate::threads::checkpoint(linux);
    let fault = take_fault();
    if let Some((info, trap, what)) = fault {
        return forced(linux, regs, info, trap, what);
    }
    loop {
        let picked = {
            let mut s = linux.signals.lock();
            let picked = sig::next(s.deliverable()).and_then(|n| Some((s.take(n)?, s.action(n))));
            if picked.is_none() {
                // Nothing (more) to deliver: `sigsuspend`'s mask goes back under this lock.
                restore_saved_mask(&mut s);
            }
            picked
        };
        let Some((info, action)) = picked else {
            break;
        };
        match action.handler {
            SIG_IGN => continue,
            SIG_DFL => match sig::default_action(info.signo) {
                DefaultAction::Terminate | DefaultAction::Core => die(linux, info.signo),
                DefaultAction::Stop => {
                    crate::job::stop(linux, info.signo);
                    continue;
                }
                DefaultAction::Ignore | DefaultAction::Continue => continue,
            },
            _ => {
                restart(regs, syscall, Some(action));
                if enter_handler(linux, regs, info, action, Trap::default()).is_err() {
                    die(linux, g::SIGSEGV);
                }
                return;
            }
        }
    }
    restart(regs, syscall, None);
}

/// Puts back the mask `sigsuspend` (and friends) saved, if any.
fn restore_saved_mask(s: &mut sig::State) {
    if let Some(mask) = s.saved_mask.take() {
        s.blocked = mask;
    }
}

/// Applies Linux's restart rule to the interrupted call's result.
fn restart(regs: &mut SavedRegs, syscall: Option<u64>, handler: Option<Action>) {
    let Some(number) = syscall else {
        return;
    };
    match sig::restart(regs.rax, handler) {
        Restart::Keep => {}
        Restart::Eintr => regs.rax = to_return(Err(Errno::EINTR)),
        Restart::Again => {
            regs.rax = number;
            regs.rip = regs.rip.wrapping_sub(sig::SYSCALL_INSN_BYTES);
        }
    }
}

/// A fault: its handler if one is installed and the signal is not blocked; otherwise the
/// process dies of it (Linux's `force_sig_info` resets a blocked or ignored fault signal to
/// its default action).
fn forced(linux: &Linux, regs: &mut SavedRegs, mut info: Info, trap: Trap, mut what: &str) {
    if info.signo == g::SIGSEGV && trap.trapno == PAGE_FAULT_VECTOR {
        let mem = linux.mem.lock();
        let mapped = mem.space.lookup(info.addr);
        if mem.past_eof.contains(info.addr)
            && mapped.is_some_and(|r| past_eof::fault_is_sigbus(r.prot, trap.err))
        {
            // A page of a file mapping wholly past the file's end, touched as its protection
            // allows: Linux's SIGBUS (a refused access is SIGSEGV first, below).
            info.signo = g::SIGBUS;
            info.code = g::BUS_ADRERR as i32;
            what = "SIGBUS (past the end of a mapped file)";
        } else if info.code == g::SEGV_MAPERR as i32 && mapped.is_some() {
            // A page fault on an address the program has mapped is an access its protection
            // refuses (`SEGV_ACCERR`), whether or not the page was present: Linux decides by
            // the mapping.
            info.code = g::SEGV_ACCERR as i32;
        }
    }
    let (action, blocked) = {
        let s = linux.signals.lock();
        (s.action(info.signo), s.blocked & sig::bit(info.signo) != 0)
    };
    if blocked || action.handler == SIG_DFL || action.handler == SIG_IGN {
        let what = alloc::format!(
            "{what} at rip {:#x} (address {:#x}, error {:#x})",
            regs.rip,
            trap.cr2,
            trap.err
        );
        crate::calls::fault::die_of_signal(linux, info.signo, &what);
    }
    if enter_handler(linux, regs, info, action, trap).is_err() {
        die(linux, g::SIGSEGV);
    }
}

/// The page-fault exception's vector (Intel SDM vol. 3, table 6-1): `Trap::trapno` of a bad
/// access.
const PAGE_FAULT_VECTOR: u64 = 14;

/// Ends the process as Linux ends one killed by `signo` (no core: `RLIMIT_CORE` is 0).
fn die(linux: &Linux, signo: u32) -> ! {
    crate::calls::fault::die_of_signal(linux, signo, "a signal")
}

/// Builds the frame for `info` under `action` and points `regs` at the handler. `Err` when
/// the frame cannot be written (Linux then forces SIGSEGV) or there is no restorer (x86_64
/// Linux requires `SA_RESTORER`).
fn enter_handler(
    linux: &Linux,
    regs: &mut SavedRegs,
    info: Info,
    action: Action,
    trap: Trap,
) -> Result<(), Errno> {
    if !action.has(g::SA_RESTORER) {
        return Err(Errno::EFAULT);
    }
    let (altstack, old_mask) = {
        let s = linux.signals.lock();
        (s.altstack, s.saved_mask.unwrap_or(s.blocked))
    };
    let (frame_at, fpstate_at, on_alt) = sig::place(regs.rsp, action.has(g::SA_ONSTACK), &altstack);
    let fx = fpu::save();
    let frame = Frame {
        regs: *regs,
        mask: old_mask,
        altstack: altstack.report(regs.rsp),
        fpstate: fpstate_at,
        restorer: action.restorer,
        info,
        trap,
    };
    const _: () = assert!(FPSTATE_BYTES as usize == FXSAVE_BYTES);
    uaccess::write(linux, fpstate_at, &fx.0)?;
    uaccess::write(linux, frame_at, &frame.to_bytes())?;
    {
        let mut s = linux.signals.lock();
        s.saved_mask = None;
        s.blocked = s.handler_mask(info.signo, action);
        if action.has(g::SA_RESETHAND) {
            s.actions[info.signo as usize - 1] = Action::default();
        }
        if on_alt && altstack.flags & g::SS_AUTODISARM != 0 {
            s.altstack = sig::AltStack::DISABLED;
        }
    }
    regs.rip = action.handler;
    regs.rsp = frame_at;
    regs.rdi = u64::from(info.signo);
    regs.rsi = frame_at + sig::FRAME_INFO as u64;
    regs.rdx = frame_at + sig::FRAME_UC as u64;
    regs.rax = 0;
    regs.rflags &= !sig::HANDLER_CLEARS;
    if DELIVERED.fetch_add(1, Ordering::Relaxed) == 0 {
        log!("linux: delivering signals to the program's handlers");
    }
    Ok(())
}

/// `rt_sigreturn()` (a `table::CONTEXT_CALLS` handler): the handler returned through its
/// restorer, so `rsp` is just above the frame's return address. Restores the registers, the
/// mask, the alternate stack and the x87/SSE state; a frame that cannot be read or holds a
/// state the CPU would refuse ends the process by SIGSEGV, as Linux's `signal_fault` does.
pub fn sigreturn(linux: &Linux, regs: &mut SavedRegs) -> Result<u64, Errno> {
    let frame_at = regs.rsp.wrapping_sub(8);
    let mut bytes = [0u8; SIGFRAME_BYTES];
    if uaccess::read_into(linux, frame_at, &mut bytes).is_err() {
        log!("linux: rt_sigreturn with no frame at {frame_at:#x}");
        die(linux, g::SIGSEGV);
    }
    let frame = Frame::from_bytes(&bytes);
    if frame.fpstate != 0 {
        let mut fx = FxState::default();
        let restored = uaccess::read_into(linux, frame.fpstate, &mut fx.0)
            .ok()
            .and_then(|()| fpu::restore(&fx).ok());
        if restored.is_none() {
            log!(
                "linux: rt_sigreturn with a bad FPU state at {:#x}",
                frame.fpstate
            );
            die(linux, g::SIGSEGV);
        }
    }
    {
        let mut s = linux.signals.lock();
        s.blocked = frame.mask & !sig::UNBLOCKABLE;
        // Linux's `restore_altstack`: as `sigaltstack` would take it, ignoring a refusal.
        let [sp, flags, size] = frame.altstack;
        // Lossless: `ss_flags` is an int.
        let flags = flags as u32 & !g::SS_ONSTACK;
        if !s.altstack.contains(regs.rsp)
            && flags & !(g::SS_DISABLE | g::SS_AUTODISARM) == 0
            && (flags & g::SS_DISABLE != 0 || size >= u64::from(g::MINSIGSTKSZ))
        {
            s.altstack = sig::AltStack { sp, flags, size };
        }
    }
    let mut restored = frame.regs;
    restored.rflags = (regs.rflags & !sig::USER_FLAGS) | (frame.regs.rflags & sig::USER_FLAGS);
    *regs = restored;
    Ok(regs.rax)
}

/// A fork child's signal state: the parent's actions, mask and alternate stack, nothing
/// pending (Linux's `copy_process` clears the child's pending set).
pub fn for_fork_child(parents: &crate::thread_signals::SignalState) -> sig::State {
    let mut s = parents.lock().clone();
    s.shared = sig::Pending::default();
    s.thread = sig::Pending::default();
    s.saved_mask = None;
    s.waiting = 0;
    s
}
