//! Linux signals as pure logic: the per-process signal state the personality keeps (each
//! signal's action, the blocked mask, the pending sets with one `siginfo` each, the alternate
//! stack), which signal is delivered next and what its default action is, the restart rule for
//! a call a signal interrupted, and the x86_64 `struct rt_sigframe` a handler runs on — built
//! and read back as bytes at the offsets of Linux's `arch/x86/include/asm/sigframe.h` and
//! `uapi/asm/sigcontext.h` (linux-raw-sys has no `sigcontext` or `ucontext`; the tests pin
//! every offset and size). The personality (`user/bin/linux/src/signals.rs`) does the I/O:
//! taking signals from messages, writing the frame to the program's stack, the FPU state.

use crate::errno::Errno;
use crate::raw::general as g;

/// Signals there are: 1..=64 (`_NSIG`).
pub const NSIG: u32 = 64;
/// The first real-time signal (`SIGRTMIN` of the kernel; C libraries reserve a few above it).
pub const SIGRTMIN: u32 = g::SIGRTMIN;

/// The handler values `SIG_DFL` and `SIG_IGN` (`include/uapi/asm-generic/signal-defs.h`):
/// linux-raw-sys has them only as function pointers, not as the numbers a `struct sigaction`'s
/// first word holds.
pub const SIG_DFL: u64 = 0;
/// See [`SIG_DFL`].
pub const SIG_IGN: u64 = 1;

/// The bit of `sig` in a `sigset_t` (signal 1 is bit 0); 0 for a number out of range.
pub const fn bit(sig: u32) -> u64 {
    if sig == 0 || sig > NSIG {
        0
    } else {
        1 << (sig - 1)
    }
}

/// SIGKILL's and SIGSTOP's bits, which can be neither caught, ignored nor blocked.
pub const UNBLOCKABLE: u64 = bit(g::SIGKILL) | bit(g::SIGSTOP);
/// The signals whose default action stops the process (Linux's `SIG_KERNEL_STOP_MASK`).
pub const STOP_SIGNALS: u64 = bit(g::SIGSTOP) | bit(g::SIGTSTP) | bit(g::SIGTTIN) | bit(g::SIGTTOU);

/// Whether `sig` is a valid signal number (1..=64).
pub const fn valid(sig: u32) -> bool {
    sig >= 1 && sig <= NSIG
}

/// What a signal does when its handler is `SIG_DFL` (signal(7)'s table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    /// The process ends.
    Terminate,
    /// The process ends and dumps core (with `RLIMIT_CORE` 0 no core is written, so the wait
    /// status has no core flag, as on Linux).
    Core,
    /// Nothing happens.
    Ignore,
    /// The process stops (job control).
    Stop,
    /// A stopped process continues.
    Continue,
}

/// `sig`'s default action.
pub const fn default_action(sig: u32) -> DefaultAction {
    match sig {
        g::SIGQUIT
        | g::SIGILL
        | g::SIGTRAP
        | g::SIGABRT
        | g::SIGBUS
        | g::SIGFPE
        | g::SIGSEGV
        | g::SIGXCPU
        | g::SIGXFSZ
        | g::SIGSYS => DefaultAction::Core,
        g::SIGCHLD | g::SIGURG | g::SIGWINCH => DefaultAction::Ignore,
        g::SIGSTOP | g::SIGTSTP | g::SIGTTIN | g::SIGTTOU => DefaultAction::Stop,
        g::SIGCONT => DefaultAction::Continue,
        _ => DefaultAction::Terminate,
    }
}

/// A `struct sigaction` as the kernel's `rt_sigaction` takes it (x86_64: handler, flags,
/// restorer, mask; four words).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Action {
    /// `SIG_DFL`, `SIG_IGN` or the handler's address.
    pub handler: u64,
    /// `SA_*`.
    pub flags: u64,
    /// The return address the frame gets (`SA_RESTORER`).
    pub restorer: u64,
    /// Signals blocked while the handler runs (besides the signal itself without `SA_NODEFER`).
    pub mask: u64,
}

impl Action {
    /// From the four words of the program's `struct sigaction`.
    pub const fn from_words(w: [u64; 4]) -> Self {
        Self {
            handler: w[0],
            flags: w[1],
            restorer: w[2],
            mask: w[3],
        }
    }

    /// The four words.
    pub const fn to_words(self) -> [u64; 4] {
        [self.handler, self.flags, self.restorer, self.mask]
    }

    /// Whether a flag among `flags` (`SA_*`) is set.
    pub const fn has(self, flag: u32) -> bool {
        self.flags & flag as u64 != 0
    }
}

/// What a `siginfo_t` says (the fields the personality fills; the rest are zero).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Info {
    /// `si_signo`.
    pub signo: u32,
    /// `si_code` (`SI_USER`, `SI_TKILL`, `SI_KERNEL`, `SEGV_MAPERR`, `CLD_EXITED`…).
    pub code: i32,
    /// `si_pid` (kill, tgkill, SIGCHLD, `sigqueue`).
    pub pid: u32,
    /// `si_uid`.
    pub uid: u32,
    /// `si_addr` for a fault (overlays `si_pid`/`si_uid`).
    pub addr: u64,
    /// `si_status` for SIGCHLD, or `si_value` for a queued signal (both at offset 24).
    pub status: u64,
}

/// Bytes of `siginfo_t` (`SI_MAX_SIZE`).
pub const SIGINFO_BYTES: usize = g::SI_MAX_SIZE as usize;
/// `siginfo_t` offsets (`include/uapi/asm-generic/siginfo.h`, x86_64: three ints, then the
/// union at 16, 8-aligned).
const SI_SIGNO: usize = 0;
const SI_CODE: usize = 8;
const SI_PID: usize = 16;
const SI_UID: usize = 20;
const SI_ADDR: usize = 16;
const SI_STATUS: usize = 24;

/// The `si_code` of a fault (`SEGV_*`, `FPE_*`…) says where `si_addr` is meaningful: the
/// kernel's `siginfo_layout` puts fault signals with a positive code in the `_sigfault` layout.
const fn is_fault_layout(info: &Info) -> bool {
    info.code > 0
        && info.code != g::SI_KERNEL as i32
        && matches!(
            info.signo,
            g::SIGSEGV | g::SIGBUS | g::SIGILL | g::SIGFPE | g::SIGTRAP
        )
}

impl Info {
    /// The 128 bytes of the `siginfo_t`.
    pub fn to_bytes(&self) -> [u8; SIGINFO_BYTES] {
        let mut b = [0u8; SIGINFO_BYTES];
        put4(&mut b, SI_SIGNO, self.signo);
        put4(&mut b, SI_CODE, self.code as u32);
        if is_fault_layout(self) {
            put8(&mut b, SI_ADDR, self.addr);
        } else {
            put4(&mut b, SI_PID, self.pid);
            put4(&mut b, SI_UID, self.uid);
            put8(&mut b, SI_STATUS, self.status);
        }
        b
    }
}

fn put4(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
fn put8(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}
fn get8(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// Signals waiting for delivery, each with the `siginfo` of its first instance: a standard
/// signal sent again while pending is merged, as Linux does. Real-time signals are not
/// queued here beyond one instance (Linux queues each); a departure noted in the docs.
#[derive(Clone, Debug)]
pub struct Pending {
    /// The set.
    pub set: u64,
    /// Each pending signal's info (index = signal − 1).
    info: [Info; NSIG as usize],
}

impl Default for Pending {
    fn default() -> Self {
        Self {
            set: 0,
            info: [Info::default(); NSIG as usize],
        }
    }
}

impl Pending {
    /// Adds `info.signo` (kept as it is if it is pending already).
    pub fn add(&mut self, info: Info) {
        let b = bit(info.signo);
        if b == 0 || self.set & b != 0 {
            return;
        }
        self.set |= b;
        self.info[info.signo as usize - 1] = info;
    }

    /// Takes `sig` out, with its info.
    pub fn take(&mut self, sig: u32) -> Option<Info> {
        let b = bit(sig);
        if self.set & b == 0 {
            return None;
        }
        self.set &= !b;
        Some(self.info[sig as usize - 1])
    }

    /// Drops every signal of `mask`.
    pub fn discard(&mut self, mask: u64) {
        self.set &= !mask;
    }
}

/// The synchronous (fault) signals, which Linux dequeues before others (`SYNCHRONOUS_MASK`).
const SYNCHRONOUS: u64 = bit(g::SIGSEGV)
    | bit(g::SIGBUS)
    | bit(g::SIGILL)
    | bit(g::SIGTRAP)
    | bit(g::SIGFPE)
    | bit(g::SIGSYS);

/// The signal of `set` to deliver first: a synchronous one, else the lowest number (Linux's
/// `next_signal`).
pub fn next(set: u64) -> Option<u32> {
    let pick = if set & SYNCHRONOUS != 0 {
        set & SYNCHRONOUS
    } else {
        set
    };
    (pick != 0).then(|| pick.trailing_zeros() + 1)
}

/// The alternate stack (`stack_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AltStack {
    /// `ss_sp`.
    pub sp: u64,
    /// `ss_flags` (`SS_DISABLE`, `SS_AUTODISARM`).
    pub flags: u32,
    /// `ss_size`.
    pub size: u64,
}

impl Default for AltStack {
    fn default() -> Self {
        Self::DISABLED
    }
}

impl AltStack {
    /// No alternate stack.
    pub const DISABLED: AltStack = AltStack {
        sp: 0,
        flags: g::SS_DISABLE,
        size: 0,
    };

    /// Whether `sp` lies on it (Linux's `on_sig_stack`: above the base, at most at the top).
    pub fn contains(&self, sp: u64) -> bool {
        self.flags & g::SS_DISABLE == 0 && sp > self.sp && sp - self.sp <= self.size
    }

    /// What `sigaltstack`'s `old_ss` reports with the program at `sp`: `SS_ONSTACK` while
    /// running on it.
    pub fn report(&self, sp: u64) -> [u64; 3] {
        let flags = if self.contains(sp) {
            g::SS_ONSTACK | (self.flags & g::SS_AUTODISARM)
        } else if self.flags & g::SS_DISABLE != 0 {
            g::SS_DISABLE
        } else {
            self.flags & g::SS_AUTODISARM
        };
        [self.sp, u64::from(flags), self.size]
    }
}

/// The whole per-process signal state.
#[derive(Clone, Debug)]
pub struct State {
    /// Each signal's action (index = signal − 1).
    pub actions: [Action; NSIG as usize],
    /// The blocked mask.
    pub blocked: u64,
    /// Signals sent to the process.
    pub shared: Pending,
    /// Signals sent to its one thread (`tgkill`, faults).
    pub thread: Pending,
    /// The alternate stack.
    pub altstack: AltStack,
    /// The mask to put back once a handler's frame is built (`sigsuspend`, `ppoll`): the frame
    /// records it, so `rt_sigreturn` restores it.
    pub saved_mask: Option<u64>,
    /// The signals `rt_sigtimedwait` is waiting for (Linux's `real_blocked`): never dropped
    /// as ignored meanwhile.
    pub waiting: u64,
    /// A SIGCONT was generated since the last stop signal was (job control: what ends a stop,
    /// whatever SIGCONT's action or mask — Linux resumes at generation).
    pub continued: bool,
}

impl Default for State {
    fn default() -> Self {
        Self {
            actions: [Action::default(); NSIG as usize],
            blocked: 0,
            shared: Pending::default(),
            thread: Pending::default(),
            altstack: AltStack::DISABLED,
            saved_mask: None,
            waiting: 0,
            continued: false,
        }
    }
}

impl State {
    /// `sig`'s action.
    pub fn action(&self, sig: u32) -> Action {
        self.actions[sig as usize - 1]
    }

    /// Whether `sig` would be dropped at generation (Linux's `sig_ignored`): not blocked, and
    /// its handler is `SIG_IGN`, or `SIG_DFL` with a default of ignoring (SIGCONT's, which
    /// resumes the process before it is dropped, counts).
    pub fn ignored(&self, sig: u32) -> bool {
        if (self.blocked | self.waiting) & bit(sig) != 0 {
            return false;
        }
        let action = self.action(sig);
        action.handler == SIG_IGN
            || (action.handler == SIG_DFL
                && matches!(
                    default_action(sig),
                    DefaultAction::Ignore | DefaultAction::Continue
                ))
    }

    /// Generates `info.signo` for the process (or its thread, `thread`): dropped if ignored.
    /// True if it is pending now. As Linux's `prepare_signal` does first, a stop signal
    /// discards a pending SIGCONT, and SIGCONT discards pending stop signals and marks the
    /// process [`State::continued`].
    pub fn raise(&mut self, info: Info, thread: bool) -> bool {
        if !valid(info.signo) {
            return false;
        }
        if info.signo == g::SIGCONT {
            self.discard(STOP_SIGNALS);
            self.continued = true;
        } else if STOP_SIGNALS & bit(info.signo) != 0 {
            self.discard(bit(g::SIGCONT));
            self.continued = false;
        }
        if self.ignored(info.signo) {
            return false;
        }
        if thread {
            self.thread.add(info);
        } else {
            self.shared.add(info);
        }
        true
    }

    /// Everything pending, process-wide and for the thread.
    pub fn pending(&self) -> u64 {
        self.shared.set | self.thread.set
    }

    /// The pending signals not blocked: what interrupts a wait and is delivered next.
    pub fn deliverable(&self) -> u64 {
        self.pending() & !self.blocked
    }

    /// Takes the pending signal `sig` (the thread's instance first).
    pub fn take(&mut self, sig: u32) -> Option<Info> {
        self.thread.take(sig).or_else(|| self.shared.take(sig))
    }

    /// Drops the signals of `set` from both pending sets.
    fn discard(&mut self, set: u64) {
        self.shared.discard(set);
        self.thread.discard(set);
    }

    /// `rt_sigaction`'s change: a signal whose new action ignores it is dropped from the
    /// pending sets (Linux's `do_sigaction`).
    pub fn set_action(&mut self, sig: u32, mut action: Action) {
        action.mask &= !UNBLOCKABLE;
        self.actions[sig as usize - 1] = action;
        let ignoring = action.handler == SIG_IGN
            || (action.handler == SIG_DFL && default_action(sig) == DefaultAction::Ignore);
        if ignoring {
            self.shared.discard(bit(sig));
            self.thread.discard(bit(sig));
        }
    }

    /// What `execve` does (`flush_signal_handlers(t, 0)`): caught signals go back to
    /// `SIG_DFL`, ignored ones stay ignored, every action loses flags, restorer and mask; the
    /// blocked mask and the pending sets are kept; the alternate stack is disabled.
    pub fn reset_for_exec(&mut self) {
        for action in &mut self.actions {
            let handler = if action.handler == SIG_IGN {
                SIG_IGN
            } else {
                SIG_DFL
            };
            *action = Action {
                handler,
                ..Action::default()
            };
        }
        self.altstack = AltStack::DISABLED;
        self.saved_mask = None;
    }

    /// The mask while `sig`'s handler runs: the old mask, the action's, and the signal itself
    /// unless `SA_NODEFER`.
    pub fn handler_mask(&self, sig: u32, action: Action) -> u64 {
        let own = if action.has(g::SA_NODEFER) {
            0
        } else {
            bit(sig)
        };
        (self.blocked | action.mask | own) & !UNBLOCKABLE
    }
}

/// What becomes of a call a signal interrupted, when the signal code has decided whether a
/// handler runs (Linux's `handle_signal` and `arch_do_signal_or_restart`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restart {
    /// Not an interrupted call: `rax` stays.
    Keep,
    /// The call fails with `EINTR`.
    Eintr,
    /// The call runs again: `rip` back over the 2-byte `syscall`, `rax` the number again.
    Again,
}

/// The fate of a call that returned `rax`, given the handler about to run (None: none runs).
pub fn restart(rax: u64, handler: Option<Action>) -> Restart {
    let code = crate::errno::from_return(rax);
    let restarting = |e: Errno| e == Errno::ERESTARTSYS || e == Errno::ERESTARTNOHAND;
    match (code, handler) {
        (Err(e), None) if restarting(e) => Restart::Again,
        (Err(e), Some(action)) if e == Errno::ERESTARTSYS && action.has(g::SA_RESTART) => {
            Restart::Again
        }
        (Err(e), Some(_)) if restarting(e) => Restart::Eintr,
        _ => Restart::Keep,
    }
}

/// Bytes of the `syscall` instruction (what a restart steps `rip` back over).
pub const SYSCALL_INSN_BYTES: u64 = 2;

/// The general registers a frame saves and `rt_sigreturn` restores: the registers the kernel
/// saves for an interrupted context, in its layout, so the personality passes them as they are.
pub use k42_abi::kernel::SavedRegs as Regs;

/// Bytes of `struct rt_sigframe` on x86_64: `pretcode` (8), `struct ucontext` (304), `struct
/// siginfo` (128). The FPU state goes separately, below it… in address, above it on the stack.
pub const SIGFRAME_BYTES: usize = 440;
/// Offsets in the frame (module comment).
const PRETCODE: usize = 0;
const UC: usize = 8;
const UC_FLAGS: usize = UC;
const UC_STACK: usize = UC + 16;
const MCONTEXT: usize = UC + 40;
const UC_SIGMASK: usize = UC + 296;
/// Where `siginfo` starts in the frame.
pub const FRAME_INFO: usize = UC + 304;
/// Where `struct ucontext` starts in the frame.
pub const FRAME_UC: usize = UC;

/// `struct sigcontext_64`'s words (`uapi/asm/sigcontext.h`), as indexes from `uc_mcontext`:
/// r8–r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags, cs/gs/fs/ss, err, trapno,
/// oldmask, cr2, fpstate, then 8 reserved words (32 words, 256 bytes).
mod sc {
    pub const R8: usize = 0;
    pub const RDI: usize = 8;
    pub const RSI: usize = 9;
    pub const RBP: usize = 10;
    pub const RBX: usize = 11;
    pub const RDX: usize = 12;
    pub const RAX: usize = 13;
    pub const RCX: usize = 14;
    pub const RSP: usize = 15;
    pub const RIP: usize = 16;
    pub const EFLAGS: usize = 17;
    pub const SEGS: usize = 18;
    pub const ERR: usize = 19;
    pub const TRAPNO: usize = 20;
    pub const OLDMASK: usize = 21;
    pub const CR2: usize = 22;
    pub const FPSTATE: usize = 23;
}

/// `uc_flags` Linux sets on x86_64 (`UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS`, from
/// `uapi/asm/ucontext.h`; not in linux-raw-sys).
const UC_SIGCONTEXT_SS: u64 = 0x2;
const UC_STRICT_RESTORE_SS: u64 = 0x4;

/// Linux's user selectors (`__USER_CS`, `__USER_DS`): what a frame's `cs`/`ss` say, as on
/// Linux — K42 forces its own user selectors on every return, so these are only read back.
const USER_CS: u64 = 0x33;
const USER_SS: u64 = 0x2b;

/// The trap a fault signal came from, for the frame's `err`, `trapno` and `cr2`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Trap {
    /// The CPU's error code.
    pub err: u64,
    /// The exception vector.
    pub trapno: u64,
    /// The faulting address (page faults).
    pub cr2: u64,
}

/// Everything a frame holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Frame {
    /// The registers the handler's return restores.
    pub regs: Regs,
    /// The mask to restore.
    pub mask: u64,
    /// The alternate stack as `sigaltstack` would report it at delivery.
    pub altstack: [u64; 3],
    /// Where the FXSAVE image is (0: none).
    pub fpstate: u64,
    /// The return address (`SA_RESTORER`).
    pub restorer: u64,
    /// The signal's info.
    pub info: Info,
    /// The fault, if the signal is one.
    pub trap: Trap,
}

impl Frame {
    /// The frame's bytes.
    pub fn to_bytes(&self) -> [u8; SIGFRAME_BYTES] {
        let mut b = [0u8; SIGFRAME_BYTES];
        put8(&mut b, PRETCODE, self.restorer);
        put8(&mut b, UC_FLAGS, UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS);
        for (i, w) in self.altstack.iter().enumerate() {
            put8(&mut b, UC_STACK + 8 * i, *w);
        }
        let r = &self.regs;
        let gregs = [
            r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rdi, r.rsi, r.rbp, r.rbx,
            r.rdx, r.rax, r.rcx, r.rsp, r.rip, r.rflags,
        ];
        for (i, w) in gregs.iter().enumerate() {
            put8(&mut b, MCONTEXT + 8 * (sc::R8 + i), *w);
        }
        // cs at bits 0–15, gs 16–31, fs 32–47, ss 48–63.
        put8(&mut b, MCONTEXT + 8 * sc::SEGS, USER_CS | (USER_SS << 48));
        put8(&mut b, MCONTEXT + 8 * sc::ERR, self.trap.err);
        put8(&mut b, MCONTEXT + 8 * sc::TRAPNO, self.trap.trapno);
        put8(&mut b, MCONTEXT + 8 * sc::OLDMASK, self.mask);
        put8(&mut b, MCONTEXT + 8 * sc::CR2, self.trap.cr2);
        put8(&mut b, MCONTEXT + 8 * sc::FPSTATE, self.fpstate);
        put8(&mut b, UC_SIGMASK, self.mask);
        b[FRAME_INFO..].copy_from_slice(&self.info.to_bytes());
        b
    }

    /// What `rt_sigreturn` takes back from a frame's bytes (as the program may have changed
    /// them): the registers, the mask, the alternate stack and the FPU image's address.
    pub fn from_bytes(b: &[u8; SIGFRAME_BYTES]) -> Frame {
        let g = |i: usize| get8(b, MCONTEXT + 8 * i);
        let regs = Regs {
            r8: g(sc::R8),
            r9: g(sc::R8 + 1),
            r10: g(sc::R8 + 2),
            r11: g(sc::R8 + 3),
            r12: g(sc::R8 + 4),
            r13: g(sc::R8 + 5),
            r14: g(sc::R8 + 6),
            r15: g(sc::R8 + 7),
            rdi: g(sc::RDI),
            rsi: g(sc::RSI),
            rbp: g(sc::RBP),
            rbx: g(sc::RBX),
            rdx: g(sc::RDX),
            rax: g(sc::RAX),
            rcx: g(sc::RCX),
            rsp: g(sc::RSP),
            rip: g(sc::RIP),
            rflags: g(sc::EFLAGS),
        };
        Frame {
            regs,
            mask: get8(b, UC_SIGMASK),
            altstack: [
                get8(b, UC_STACK),
                get8(b, UC_STACK + 8),
                get8(b, UC_STACK + 16),
            ],
            fpstate: g(sc::FPSTATE),
            restorer: get8(b, PRETCODE),
            info: Info::default(),
            trap: Trap::default(),
        }
    }
}

/// Bytes of the FXSAVE image a frame carries (the legacy `struct _fpstate_64`).
pub const FPSTATE_BYTES: u64 = 512;
/// Its alignment: FXSAVE needs 16; Linux aligns the FPU area to 64 (XSAVE's).
const FPSTATE_ALIGN: u64 = 64;
/// Bytes below a program's stack pointer that belong to it (the x86_64 ABI's red zone).
pub const RED_ZONE: u64 = 128;

/// Where a frame goes for a program at `rsp` (Linux's `get_sigframe`): on the alternate stack
/// if the action asks (`SA_ONSTACK`), one is set and the program is not on it already; else
/// below the red zone. Returns the frame's address (so that `frame + 8` is 16-byte aligned,
/// as after a `call`), the FPU image's (64-aligned, just above it) and whether the frame went
/// on the alternate stack.
pub fn place(rsp: u64, onstack: bool, altstack: &AltStack) -> (u64, u64, bool) {
    let use_alt = onstack && altstack.flags & g::SS_DISABLE == 0 && !altstack.contains(rsp);
    let top = if use_alt {
        altstack.sp.wrapping_add(altstack.size)
    } else {
        rsp.wrapping_sub(RED_ZONE)
    };
    let fpstate = top.wrapping_sub(FPSTATE_BYTES) & !(FPSTATE_ALIGN - 1);
    let frame = (fpstate.wrapping_sub(SIGFRAME_BYTES as u64) & !0xf).wrapping_sub(8);
    (frame, fpstate, use_alt)
}

/// The RFLAGS bits a program may set through `rt_sigreturn` (Linux's `FIX_EFLAGS`: the
/// arithmetic flags, TF, DF, AC, RF); the rest come from the current flags.
pub const USER_FLAGS: u64 =
    0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | 0x4_0000 | 0x1_0000;
/// The flags a handler starts with cleared (Linux clears DF, TF and RF; `AC` too).
pub const HANDLER_CLEARS: u64 = 0x100 | 0x400 | 0x1_0000 | 0x4_0000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_size_and_offsets_match_linux() {
        // sizeof(struct rt_sigframe) on x86_64 with the 304-byte ucontext and 128-byte siginfo.
        assert_eq!(SIGFRAME_BYTES, 8 + 304 + 128);
        // glibc's and musl's `ucontext_t`: gregs at 40, uc_sigmask at 296 (after mcontext's
        // 23 gregs, the fpregs pointer and 8 reserved words).
        assert_eq!(MCONTEXT - UC, 40);
        assert_eq!(UC_SIGMASK - MCONTEXT, (23 + 1 + 8) * 8);
        assert_eq!(FRAME_INFO, 312);
        // REG_RIP is gregs[16], REG_EFL 17, REG_CSGSFS 18, REG_ERR 19, REG_TRAPNO 20,
        // REG_OLDMASK 21, REG_CR2 22, then fpregs.
        assert_eq!(
            (sc::RIP, sc::EFLAGS, sc::CR2, sc::FPSTATE),
            (16, 17, 22, 23)
        );
    }

    #[test]
    fn frame_round_trips() {
        let regs = Regs {
            rax: 1,
            rbx: 2,
            rcx: 3,
            rdx: 4,
            rsi: 5,
            rdi: 6,
            rbp: 7,
            rsp: 8,
            r8: 9,
            r9: 10,
            r10: 11,
            r11: 12,
            r12: 13,
            r13: 14,
            r14: 15,
            r15: 16,
            rip: 17,
            rflags: 18,
        };
        let frame = Frame {
            regs,
            mask: 0x55,
            altstack: [0x1000, 0, 0x2000],
            fpstate: 0x7000,
            restorer: 0x4242,
            info: Info {
                signo: 10,
                code: g::SI_TKILL,
                pid: 3,
                uid: 4,
                ..Info::default()
            },
            trap: Trap::default(),
        };
        let bytes = frame.to_bytes();
        let back = Frame::from_bytes(&bytes);
        assert_eq!(back.regs, regs);
        assert_eq!(back.mask, 0x55);
        assert_eq!(back.fpstate, 0x7000);
        assert_eq!(back.altstack, [0x1000, 0, 0x2000]);
        assert_eq!(back.restorer, 0x4242);
        // gregs[REG_RIP] where a C handler reads it.
        assert_eq!(get8(&bytes, MCONTEXT + 16 * 8), 17);
        // siginfo: signo, code, pid, uid.
        assert_eq!(bytes[FRAME_INFO], 10);
        assert_eq!(
            i32::from_le_bytes(bytes[FRAME_INFO + 8..FRAME_INFO + 12].try_into().unwrap()),
            g::SI_TKILL
        );
        assert_eq!(bytes[FRAME_INFO + 16], 3);
        assert_eq!(bytes[FRAME_INFO + 20], 4);
    }

    #[test]
    fn fault_info_has_the_address() {
        let info = Info {
            signo: g::SIGSEGV,
            code: g::SEGV_MAPERR as i32,
            addr: 0xdead_0000,
            ..Info::default()
        };
        let b = info.to_bytes();
        assert_eq!(get8(&b, 16), 0xdead_0000);
    }

    #[test]
    fn placement_aligns_and_honours_the_alternate_stack() {
        let alt = AltStack {
            sp: 0x10_0000,
            flags: 0,
            size: 0x4000,
        };
        let (frame, fp, on) = place(0x7fff_f000, false, &alt);
        assert!(!on);
        assert_eq!((frame + 8) % 16, 0);
        assert_eq!(fp % 64, 0);
        assert!(frame + SIGFRAME_BYTES as u64 <= fp);
        assert!(fp + FPSTATE_BYTES <= 0x7fff_f000 - RED_ZONE);
        let (frame, _, on) = place(0x7fff_f000, true, &alt);
        assert!(on && alt.contains(frame));
        // Already on it: stays where it is, below the red zone.
        let (frame, _, on) = place(0x10_2000, true, &alt);
        assert!(!on && frame < 0x10_2000 - RED_ZONE);
        assert!(!place(0x7fff_f000, true, &AltStack::DISABLED).2);
    }

    #[test]
    fn next_prefers_faults_then_lowest() {
        assert_eq!(next(0), None);
        assert_eq!(next(bit(10) | bit(2)), Some(2));
        assert_eq!(next(bit(2) | bit(g::SIGSEGV)), Some(g::SIGSEGV));
    }

    #[test]
    fn defaults() {
        assert_eq!(default_action(g::SIGTERM), DefaultAction::Terminate);
        assert_eq!(default_action(g::SIGSEGV), DefaultAction::Core);
        assert_eq!(default_action(g::SIGCHLD), DefaultAction::Ignore);
        assert_eq!(default_action(g::SIGTSTP), DefaultAction::Stop);
        assert_eq!(default_action(g::SIGCONT), DefaultAction::Continue);
        assert_eq!(default_action(40), DefaultAction::Terminate);
    }

    #[test]
    fn ignored_signals_are_dropped_unless_blocked() {
        let mut s = State::default();
        assert!(!s.raise(
            Info {
                signo: g::SIGCHLD,
                ..Info::default()
            },
            false
        ));
        s.blocked = bit(g::SIGCHLD);
        assert!(s.raise(
            Info {
                signo: g::SIGCHLD,
                ..Info::default()
            },
            false
        ));
        assert_eq!(s.deliverable(), 0);
        assert_eq!(s.pending(), bit(g::SIGCHLD));
        s.set_action(
            g::SIGCHLD,
            Action {
                handler: SIG_IGN,
                ..Action::default()
            },
        );
        assert_eq!(s.pending(), 0);
    }

    #[test]
    fn sigcont_and_stop_signals_cancel_each_other_at_generation() {
        let sig = |signo| Info {
            signo,
            ..Info::default()
        };
        let mut s = State::default();
        // A default stop signal is pending (its default action applies at delivery).
        assert!(s.raise(sig(g::SIGTSTP), false));
        assert!(!s.continued);
        // SIGCONT, ignored by default, is dropped, but resumes and discards the stop.
        assert!(!s.raise(sig(g::SIGCONT), false));
        assert!(s.continued);
        assert_eq!(s.pending(), 0);
        // Blocked SIGCONT stays pending; a later stop signal discards it.
        s.blocked = bit(g::SIGCONT);
        assert!(s.raise(sig(g::SIGCONT), true));
        assert!(s.raise(sig(g::SIGSTOP), false));
        assert!(!s.continued);
        assert_eq!(s.pending(), bit(g::SIGSTOP));
        // An ignored stop signal is dropped but still cancels a continue.
        s.set_action(
            g::SIGTTIN,
            Action {
                handler: SIG_IGN,
                ..Action::default()
            },
        );
        s.raise(sig(g::SIGCONT), false);
        assert!(!s.raise(sig(g::SIGTTIN), false));
        assert!(!s.continued);
    }

    #[test]
    fn pending_merges_standard_signals() {
        let mut p = Pending::default();
        p.add(Info {
            signo: 10,
            pid: 1,
            ..Info::default()
        });
        p.add(Info {
            signo: 10,
            pid: 2,
            ..Info::default()
        });
        assert_eq!(p.take(10).map(|i| i.pid), Some(1));
        assert_eq!(p.take(10), None);
    }

    #[test]
    fn handler_mask_and_restart() {
        let s = State::default();
        let a = Action {
            handler: 0x1000,
            mask: bit(3) | bit(g::SIGKILL),
            ..Action::default()
        };
        assert_eq!(s.handler_mask(10, a), bit(3) | bit(10));
        let nodefer = Action {
            flags: u64::from(g::SA_NODEFER),
            ..a
        };
        assert_eq!(s.handler_mask(10, nodefer), bit(3));
        let sys = crate::to_return(Err(Errno::ERESTARTSYS));
        let nohand = crate::to_return(Err(Errno::ERESTARTNOHAND));
        let restart = Action {
            flags: u64::from(g::SA_RESTART),
            ..a
        };
        assert_eq!(restart_of(sys, None), Restart::Again);
        assert_eq!(restart_of(sys, Some(a)), Restart::Eintr);
        assert_eq!(restart_of(sys, Some(restart)), Restart::Again);
        assert_eq!(restart_of(nohand, Some(restart)), Restart::Eintr);
        assert_eq!(restart_of(nohand, None), Restart::Again);
        assert_eq!(restart_of(5, Some(a)), Restart::Keep);
    }

    fn restart_of(rax: u64, a: Option<Action>) -> Restart {
        restart(rax, a)
    }

    #[test]
    fn altstack_report() {
        let alt = AltStack {
            sp: 0x1000,
            flags: 0,
            size: 0x1000,
        };
        assert_eq!(alt.report(0x1800)[1], u64::from(g::SS_ONSTACK));
        assert_eq!(alt.report(0x9000)[1], 0);
        assert_eq!(AltStack::DISABLED.report(0)[1], u64::from(g::SS_DISABLE));
    }
}
