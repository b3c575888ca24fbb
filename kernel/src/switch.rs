//! Giving the CPU to a dispatcher and taking it back: the mechanism under the scheduling
//! policy (`k42-sched` decides who; this carries it out) and under PPC (which hands the CPU to
//! the server directly).
//!
//! The entry frame (`k42_hal::user::UserFrame`) holds the registers of the dispatcher that
//! `Cpu::running` names; everything else is kept in the dispatchers (`Context`). Leaving a
//! dispatcher saves its FPU state and FS base; entering one loads its space, FPU state, FS base,
//! GS base (its dispatcher page) and I/O ports, then either resumes its kept registers or enters
//! it at an upcall.
//!
//! User code may set its own FS base with `wrfsbase` (CR4.FSGSBASE, on where the CPU has it: a
//! Linux program's TLS). That writes the same MSR `leave` reads, so the value user code chose is
//! what is kept. The GS base is not kept: it is the dispatcher page, set again at every load.

use alloc::vec::Vec;
use k42_abi::kernel::{Entry, soft};
use k42_hal::user::{self, UserFrame};
use k42_kapi::counter;
use k42_sched::{Decision, DispatcherId};
use spin::MutexGuard;

use crate::cpu::{self, Cpu, Slot};
use crate::dispatcher::{Context, Dispatcher, Run};

/// How the registers in the entry frame got there, which decides how they are resumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A kernel call of the running dispatcher: its result is in the frame already.
    Call,
    /// An interrupt or exception: the dispatcher was preempted mid-instruction-stream.
    Interrupt,
}

/// The policy's name for a dispatcher.
pub fn policy_id(comm: u64) -> DispatcherId {
    // Spawn refuses process ids whose CommIDs would not fit.
    DispatcherId(comm as u32)
}

/// Saves the running dispatcher's FPU state and FS base and marks the CPU empty. Its registers
/// must already be in its `Context` (or be meant to be dropped).
pub fn leave(cpu: &mut Cpu) {
    let Some(comm) = cpu.running.take() else {
        return;
    };
    if let Some(d) = cpu.dispatchers.get_mut(&comm) {
        keep_machine_state(d);
    }
}

/// Saves the FPU state and FS base of dispatcher `d`, leaving the CPU: `leave` for a caller
/// that has it at hand (and clears `Cpu::running` itself).
#[inline(always)]
pub fn keep_machine_state(d: &mut Dispatcher) {
    d.fpu.save();
    d.fs_base = user::read_fs_base();
}

/// Keeps the running dispatcher's registers (the frame) in its context, then leaves it.
pub fn stash(cpu: &mut Cpu, frame: &UserFrame, origin: Origin) {
    if let Some(d) = cpu.running.and_then(|c| cpu.dispatchers.get_mut(&c)) {
        d.context = match origin {
            Origin::Call => Context::Call(*frame),
            Origin::Interrupt => Context::Preempted(*frame),
        };
    }
    leave(cpu);
}

/// Enters dispatcher `comm` at `entry` with the registers `set` chooses: `rsp` is its upcall
/// stack (IPC_CALL: its call stack, `Shared::stack_for`), `disabled` is set, the rest zero.
/// `false` if it has no such entry (nothing changed).
pub fn upcall(
    cpu: &mut Cpu,
    comm: u64,
    entry: Entry,
    frame: &mut UserFrame,
    set: impl FnOnce(&mut UserFrame),
) -> bool {
    cpu.dispatchers
        .get(&comm)
        .is_some_and(|d| upcall_into(d, entry, frame, set))
}

/// `upcall` for a dispatcher already looked up.
pub fn upcall_into(
    d: &Dispatcher,
    entry: Entry,
    frame: &mut UserFrame,
    set: impl FnOnce(&mut UserFrame),
) -> bool {
    let rip = d.entries[entry as usize];
    if rip == 0 {
        return false;
    }
    d.shared.set_disabled(true);
    *frame = UserFrame::new_user(rip, d.shared.stack_for(entry));
    set(frame);
    frame.clobber_for_sysret();
    cpu::this().count(counter::UPCALLS);
    true
}

/// Loads dispatcher `d`'s machine state on this CPU (space, FPU, FS and GS bases, I/O ports;
/// `io_open` is the CPU's `Cpu::io_open`); the caller makes it the running one (`Cpu::running`)
/// and puts its registers in the frame.
pub fn load_machine_state(d: &Dispatcher, io_open: &mut Vec<(u16, u16)>) {
    load_space(d, cpu::this());
    d.fpu.restore();
    d.fs_base.load();
    d.gs_base.load();
    load_io_ports(d, io_open);
}

/// `keep_machine_state(from)` then `load_machine_state(to)`, for the PPC fast path
/// (`kcall/fast.rs`), which has this CPU's slot at hand: the FS base is written only when the
/// two differ (a native server and its client usually both have none).
#[inline(always)]
pub fn swap_machine_state(
    from: &mut Dispatcher,
    to: &Dispatcher,
    io_open: &mut Vec<(u16, u16)>,
    slot: &Slot,
) {
    keep_machine_state(from);
    load_space(to, slot);
    to.fpu.restore();
    if to.fs_base != from.fs_base {
        to.fs_base.load();
    }
    to.gs_base.load();
    load_io_ports(to, io_open);
}

/// Loads `d`'s address space, counting a switch on `slot` if it was not loaded. Through the
/// root `d` keeps: no lock, no pointer to follow.
#[inline(always)]
fn load_space(d: &Dispatcher, slot: &Slot) {
    if d.root.activate() {
        slot.count(counter::SPACE_SWITCHES);
    }
}

/// Opens `d`'s I/O ports in this CPU's bitmap, closing those open now (`io_open`) first.
#[inline]
fn load_io_ports(d: &Dispatcher, io_open: &mut Vec<(u16, u16)>) {
    let process = &d.shared.process;
    if io_open.is_empty() && !process.has_io_ports() {
        return; // the common case: nothing to close, nothing to open
    }
    change_io_ports(process, io_open);
}

/// `load_io_ports` when some are open or granted (out of line: the common case has none).
#[cold]
#[inline(never)]
fn change_io_ports(process: &crate::process::Process, io_open: &mut Vec<(u16, u16)>) {
    let ports = process.io_ports.lock();
    if *ports != *io_open {
        for &(first, n) in io_open.iter() {
            user::io_permit(first, n, false);
        }
        for &(first, n) in ports.iter() {
            user::io_permit(first, n, true);
        }
        *io_open = ports.clone();
    }
}

/// Loads dispatcher `comm` and puts its registers (or an upcall into it) in the frame.
pub fn enter(cpu: &mut Cpu, comm: u64, frame: &mut UserFrame) {
    let Some(d) = cpu.dispatchers.get_mut(&comm) else {
        return;
    };
    if d.held() {
        // Stopped by job control (`jobstop.rs`): never entered. It got here by a call's end
        // (a PPC_RETURN to a stopped caller) or a decision made while it still ran: the policy
        // now sees it blocked, and whoever it picks instead runs.
        if let Ok(decision) = cpu.sched.block(policy_id(comm), cpu::now()) {
            apply(cpu, decision, frame, Origin::Call);
        }
        return;
    }
    load_machine_state(d, &mut cpu.io_open);
    cpu.running = Some(comm);
    // Copied out by reference, then forgotten: a `mem::replace` would copy the whole context
    // once more on the way.
    d.context.unfold_ppc();
    let kept = match &d.context {
        Context::Call(f) => Some((f, Origin::Call)),
        Context::Preempted(f) => Some((f, Origin::Interrupt)),
        // `Ppc` was unfolded above.
        Context::None | Context::Ppc(_) => None,
    };
    match kept {
        Some((f, origin)) => {
            *frame = *f;
            d.context = Context::None;
            if origin == Origin::Interrupt {
                interrupt_if_pending_in(d, frame);
            }
        }
        None => {
            // Idle and woken: only an upcall can give it something to do.
            let pending = d.shared.pending();
            if !upcall_into(d, Entry::Interrupt, frame, |f| f.rdi = pending) {
                log::warn!("dispatcher {comm:#x} woke idle with no INTERRUPT entry");
            }
        }
    }
}

/// If the running dispatcher `comm` is enabled and soft interrupts are pending, moves its
/// interrupted registers (the frame) to its save area and enters it at INTERRUPT.
pub fn interrupt_if_pending(cpu: &mut Cpu, comm: u64, frame: &mut UserFrame) {
    if let Some(d) = cpu.dispatchers.get(&comm) {
        interrupt_if_pending_in(d, frame);
    }
}

/// `interrupt_if_pending` for a running dispatcher already looked up.
pub fn interrupt_if_pending_in(d: &Dispatcher, frame: &mut UserFrame) {
    let pending = d.shared.pending();
    if pending == 0 || d.shared.disabled() || d.entries[Entry::Interrupt as usize] == 0 {
        return;
    }
    d.shared.save_context(frame);
    upcall_into(d, Entry::Interrupt, frame, |f| f.rdi = pending);
}

/// Like `interrupt_if_pending`, but only when PREEMPT is among the pending bits: after a kernel
/// call, the caller is interrupted only if the policy wants the CPU back.
pub fn preempt_if_asked(cpu: &mut Cpu, comm: u64, frame: &mut UserFrame) {
    let asked = cpu
        .dispatchers
        .get(&comm)
        .is_some_and(|d| d.shared.pending() & soft::PREEMPT != 0);
    if asked {
        interrupt_if_pending(cpu, comm, frame);
    }
}

/// The dispatcher that executes on behalf of policy dispatcher `comm`: itself, or the server at
/// the end of its chain of same-CPU PPCs (a PPC runs on the caller's time).
pub fn executor(cpu: &Cpu, comm: u64) -> u64 {
    let mut at = comm;
    while let Some(next) = cpu.dispatchers.get(&at).and_then(|d| d.calling) {
        if !cpu.dispatchers.contains_key(&next) {
            break;
        }
        at = next;
    }
    at
}

/// The policy's dispatcher on whose time running dispatcher `me` runs: the policy's current one
/// if `me` is at the end of its chain of same-CPU PPCs (`me` serves its call), else `me`. What
/// must leave the policy while `me` waits (for a remote reply, for job control's acks), so that
/// nothing gives the CPU back to the chain — and so to `me` — before the wait is over.
pub fn policy_head(cpu: &Cpu, me: u64) -> u64 {
    cpu.sched
        .current()
        .map(|id| u64::from(id.0))
        .filter(|&h| executor(cpu, h) == me)
        .unwrap_or(me)
}

/// Carries out a policy decision. `origin` says how the frame's registers (the running
/// dispatcher's, if any) are to be kept if it loses the CPU.
pub fn apply(cpu: &mut Cpu, decision: Decision, frame: &mut UserFrame, origin: Origin) {
    match decision {
        Decision::Continue => {}
        Decision::SoftPreempt(DispatcherId(id)) => {
            let id = u64::from(id);
            if let Some(d) = cpu.dispatchers.get(&id) {
                d.shared.post(soft::PREEMPT);
            }
            if origin == Origin::Interrupt && cpu.running == Some(executor(cpu, id)) {
                let running = executor(cpu, id);
                interrupt_if_pending(cpu, running, frame);
            }
        }
        Decision::HardPreempt { to, .. } => {
            stash(cpu, frame, Origin::Interrupt);
            let to = executor(cpu, u64::from(to.0));
            enter(cpu, to, frame);
        }
        Decision::Switch { to, .. } => {
            stash(cpu, frame, origin);
            let to = executor(cpu, u64::from(to.0));
            enter(cpu, to, frame);
        }
        Decision::Idle => stash(cpu, frame, origin),
    }
}

/// Something has work for dispatcher `comm` of this CPU (soft-interrupt bits were posted, or it
/// is being started): make it runnable if it sleeps.
pub fn wake(cpu: &mut Cpu, comm: u64, frame: &mut UserFrame, origin: Origin) {
    let Some(d) = cpu.dispatchers.get_mut(&comm) else {
        return;
    };
    if d.held() {
        return; // stopped: its soft interrupts wait for the continue (`jobstop.rs`)
    }
    let runnable = match d.run {
        Run::Runnable | Run::Stopped => return,
        Run::Blocked => d.shared.pending() != 0,
        Run::Idle => d.shared.pending() != 0 && d.entries[Entry::Interrupt as usize] != 0,
        Run::AwaitingReply | Run::AwaitingAcks => false,
    };
    if !runnable {
        return;
    }
    d.run = Run::Runnable;
    let now = cpu::now();
    if let Ok(decision) = cpu.sched.wake(policy_id(comm), now) {
        apply(cpu, decision, frame, origin);
    }
}

/// Lets stopped dispatcher `comm` run for the first time (its process was started).
pub fn start(cpu: &mut Cpu, comm: u64, frame: &mut UserFrame, origin: Origin) {
    let Some(d) = cpu.dispatchers.get_mut(&comm) else {
        return;
    };
    if d.run != Run::Stopped {
        return;
    }
    d.run = Run::Runnable;
    if d.held() {
        return; // started while stopped by job control: it runs once continued
    }
    if let Ok(decision) = cpu.sched.wake(policy_id(comm), cpu::now()) {
        apply(cpu, decision, frame, origin);
    }
}

/// Runs whatever the policy picks, or idles until something is runnable; returns with
/// `cpu.running` set and its registers in the frame. Called at the end of every entry that left
/// the CPU empty, and at a CPU's first entry into user mode.
pub fn run_next<'a>(
    slot: &'a Slot,
    mut cpu: MutexGuard<'a, Cpu>,
    frame: &mut UserFrame,
) -> MutexGuard<'a, Cpu> {
    loop {
        crate::entry::housekeeping(slot, &mut cpu, frame);
        if cpu.running.is_some() {
            account(&mut cpu);
            return cpu;
        }
        if let Some(id) = cpu.sched.pick_next(cpu::now()) {
            let to = executor(&cpu, u64::from(id.0));
            enter(&mut cpu, to, frame);
            if cpu.running.is_some() {
                account(&mut cpu);
                return cpu;
            }
            continue;
        }
        account(&mut cpu);
        drop(cpu);
        k42_hal::cpu::wait_for_interrupt();
        k42_hal::cpu::disable_interrupts();
        crate::tlb::service();
        cpu = slot.state.lock();
    }
}

/// Keeps CPU-time accounting in step with the policy: when the dispatcher it runs has changed,
/// the one it ran until now is charged the time since it began (its page's `run_ns`), and the
/// new one runs on its own time from now (`run_since`). Every pass through the general path
/// ends here (`run_next`). The same-CPU PPC fast path never changes the policy's dispatcher:
/// the server runs on its caller's time, as a Linux system call counts as its caller's.
fn account(cpu: &mut Cpu) {
    let current = cpu.sched.current().map(|id| u64::from(id.0));
    if cpu.accounted.map(|(comm, _)| comm) == current {
        return;
    }
    let now = cpu::now();
    if let Some((comm, since)) = cpu.accounted.take()
        && let Some(d) = cpu.dispatchers.get(&comm)
    {
        d.shared.charge(now.saturating_sub(since));
    }
    if let Some(comm) = current
        && let Some(d) = cpu.dispatchers.get(&comm)
    {
        d.shared.charge_from(now);
        cpu.accounted = Some((comm, now));
    }
}

/// A CPU's first entry into user mode: run what the policy picks, idling until there is
/// something. Never returns.
pub fn start_cpu() -> ! {
    let slot = cpu::this();
    k42_hal::cpu::disable_interrupts();
    let mut frame = UserFrame::new_user(0, 0);
    let cpu = slot.state.lock();
    let cpu = run_next(slot, cpu, &mut frame);
    drop(cpu);
    user::enter(&frame)
}
