//! Every entry from user mode lands here (`k42_hal::user::set_entry_handler`): a kernel call,
//! a device interrupt, the wake-up IPI, or a CPU exception in ring 3. The thin unsafe entry is
//! the hardware crate's; this is the safe dispatch: lock this CPU's state, handle the event,
//! and make sure some dispatcher's registers are in the frame before returning. A same-CPU PPC
//! between ready dispatchers is first offered to its fast path (`kcall/fast.rs`), which needs
//! none of the rest.
//!
//! Also here: the periodic work every entry and the idle loop share (`housekeeping`: mail from
//! other CPUs, dispatcher timers, the scheduler tick), user faults, and the end of a process.

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use k42_abi::kernel::{AsyncMessage, Entry, TrapInfo, soft};
use k42_hal::trap::{PAGE_FAULT, TIMER_VECTOR, WAKE_VECTOR};
use k42_hal::user::{SYSCALL_VECTOR, UserFrame};
use k42_kapi::{EXITED_METHOD, PROCESS_INTERFACE, counter};
use k42_rights::wire::method_word;

use crate::cpu::{self, Cpu, Mail, Slot};
use crate::dispatcher::Run;
use crate::process::{self, Process};
use crate::space::Access;
use crate::switch::{self, Origin};

/// Page-fault error code bits (Intel SDM vol. 3, 4.7).
const PF_WRITE: u64 = 1 << 1;
const PF_INSTRUCTION: u64 = 1 << 4;

/// The exit status of a process the kernel kills for a fault it could not deliver: Linux's
/// status for a death by SIGSEGV (128 + 11), so runners read it the same way.
pub const FAULT_KILL_STATUS: u32 = 128 + 11;

/// The exit status of a Linux process the kernel kills for a `syscall` it cannot reflect (no SVC
/// entry, or the dispatcher disabled: a personality bug): Linux's status for a death by SIGSYS
/// (128 + 31).
pub const SYSCALL_KILL_STATUS: u32 = 128 + 31;

/// Registers the handler with the hardware crate.
pub fn init() {
    k42_hal::user::set_entry_handler(on_user_entry);
}

/// Whether entries add their time to `KERNEL_TSC` (`Boot::time_kernel`; off at boot).
static TIME_KERNEL: AtomicBool = AtomicBool::new(false);

/// Turns the kernel-time counter on or off (`Boot::time_kernel`).
pub fn time_kernel(on: bool) {
    TIME_KERNEL.store(on, Ordering::Relaxed);
}

fn on_user_entry(frame: &mut UserFrame) {
    // One copy of the handling, timed or not: with two, LLVM no longer inlines the fast path
    // into either (it cost more than the two TSC reads save).
    let start = TIME_KERNEL
        .load(Ordering::Relaxed)
        .then(k42_hal::time::rdtsc);
    let slot = cpu::this();
    slot.count(counter::KERNEL_ENTRIES);
    crate::tlb::service_on(slot);
    let mut cpu = slot.state.lock();
    // A same-CPU PPC between ready dispatchers needs none of the general path's work
    // (`kcall/fast.rs`).
    let fast = frame.vector == SYSCALL_VECTOR && crate::kcall::fast::try_ppc(slot, &mut cpu, frame);
    if !fast {
        cpu = general(slot, cpu, frame);
    }
    drop(cpu);
    if let Some(start) = start {
        // Idle time spent inside run_next counts too; a benchmark reads it on a busy CPU.
        slot.add(
            counter::KERNEL_TSC,
            k42_hal::time::rdtsc().wrapping_sub(start),
        );
    }
}

/// Handles any entry: the event, then whatever runs next (`switch::run_next`).
fn general<'a>(
    slot: &'a Slot,
    mut cpu: spin::MutexGuard<'a, Cpu>,
    frame: &mut UserFrame,
) -> spin::MutexGuard<'a, Cpu> {
    if frame.vector != SYSCALL_VECTOR {
        // Before anything takes the interrupted registers: they may be the program's.
        crate::kcall::reflect::settle_svc_return(&cpu, frame);
    }
    match frame.vector {
        SYSCALL_VECTOR => crate::kcall::dispatch(&mut cpu, frame),
        v if v == u64::from(TIMER_VECTOR) => tick(&mut cpu, frame),
        v if v == u64::from(WAKE_VECTOR) => {} // the mail is read below
        v if v < 32 => fault(&mut cpu, frame),
        other => log::warn!("unexpected vector {other} from user mode"),
    }
    switch::run_next(slot, cpu, frame)
}

/// Work every pass through the kernel does on this CPU: mail from other CPUs, then due timers.
pub fn housekeeping(slot: &Slot, cpu: &mut Cpu, frame: &mut UserFrame) {
    let mail = slot.take_mail();
    if mail.is_empty() {
        return timers(cpu, frame);
    }
    let origin = if cpu.running.is_some() {
        Origin::Interrupt
    } else {
        Origin::Call
    };
    for m in mail {
        match m {
            Mail::Add(d) => {
                let comm = d.comm();
                let class = d.class;
                cpu.add_dispatcher(comm, *d);
                if let Err(e) =
                    cpu.sched
                        .add(switch::policy_id(comm), class, k42_sched::Weight::DEFAULT)
                {
                    log::error!("dispatcher {comm:#x} not schedulable: {e:?}");
                }
            }
            // A dispatcher running here when the mail came (the IPI interrupted it) is
            // interrupted now if it takes soft interrupts, as a timer interrupts it: `wake`
            // leaves a running one be, and a program that never enters the kernel would not
            // see the bits another CPU posted until its quantum ends.
            Mail::Wake(comm) if origin == Origin::Interrupt && cpu.running == Some(comm) => {
                switch::interrupt_if_pending(cpu, comm, frame);
            }
            Mail::Wake(comm) => switch::wake(cpu, comm, frame, origin),
            Mail::Start(comm) => switch::start(cpu, comm, frame, origin),
            Mail::Kill(pid) => kill_local(cpu, pid, frame),
            Mail::Stop { pid, ack } => crate::jobstop::stop_mail(cpu, pid, ack, frame, origin),
            Mail::StopAck(comm) => crate::jobstop::acked(cpu, comm, frame, origin),
            Mail::Continue(pid) => crate::jobstop::cont_here(cpu, pid, frame, origin),
            Mail::Call(call) => crate::kcall::ppc::arrive(cpu, call, frame),
            Mail::Reply(reply) => crate::kcall::ppc::replied(cpu, reply, frame, origin),
            Mail::Run(f) => f(),
        }
    }
    timers(cpu, frame);
}

/// Wakes the dispatchers whose timers are due (nothing to scan before the earliest deadline).
fn timers(cpu: &mut Cpu, frame: &mut UserFrame) {
    if cpu.next_timer == u64::MAX {
        return; // no timer set: not even the clock to read
    }
    let now = cpu::now();
    if now < cpu.next_timer {
        return;
    }
    let origin = if cpu.running.is_some() {
        Origin::Interrupt
    } else {
        Origin::Call
    };
    let due: Vec<u64> = cpu
        .dispatchers
        .iter()
        .filter(|(_, d)| d.timer.is_some_and(|t| t <= now))
        .map(|(&c, _)| c)
        .collect();
    for comm in due {
        if let Some(d) = cpu.dispatchers.get_mut(&comm) {
            d.timer = None;
            d.shared.post(soft::TIMER);
        }
        if origin == Origin::Interrupt && cpu.running == Some(comm) {
            // Running already (`wake` leaves it be): the timer interrupts it now, as a timer
            // interrupt would (a Linux program's interval timer must reach code that never
            // enters the kernel).
            switch::interrupt_if_pending(cpu, comm, frame);
            continue;
        }
        switch::wake(cpu, comm, frame, origin);
    }
    cpu.next_timer = cpu
        .dispatchers
        .values()
        .filter_map(|d| d.timer)
        .min()
        .unwrap_or(u64::MAX);
}

fn tick(cpu: &mut Cpu, frame: &mut UserFrame) {
    let decision = cpu.sched.tick(cpu::now());
    switch::apply(cpu, decision, frame, Origin::Interrupt);
}

/// A CPU exception in ring 3: a page fault the kernel can resolve is resumed; anything else is
/// the dispatcher's (TRAP upcall) or, if it cannot take one, the end of its process.
fn fault(cpu: &mut Cpu, frame: &mut UserFrame) {
    let Some(comm) = cpu.running else {
        return;
    };
    let Some(d) = cpu.dispatchers.get(&comm) else {
        return;
    };
    let process = d.shared.process.clone();
    let address = if frame.vector == u64::from(PAGE_FAULT) {
        k42_hal::cpu::read_cr2()
    } else {
        0
    };
    if frame.vector == u64::from(PAGE_FAULT) {
        let access = if frame.error_code & PF_INSTRUCTION != 0 {
            Access::Execute
        } else if frame.error_code & PF_WRITE != 0 {
            Access::Write
        } else {
            Access::Read
        };
        if process.with_space(|s| s.fault(address, access)) == Some(true) {
            return;
        }
    }
    let info = TrapInfo {
        vector: frame.vector,
        error_code: frame.error_code,
        address,
    };
    let can_upcall = !d.shared.disabled()
        && d.entries[Entry::Trap as usize] != 0
        && d.shared.upcall_stack() != 0;
    if can_upcall {
        d.shared.save_context(frame);
        d.shared.set_trap(info);
        switch::upcall(cpu, comm, Entry::Trap, frame, |f| {
            (f.rdi, f.rsi, f.rdx) = (info.vector, info.error_code, info.address);
        });
        return;
    }
    let why = if d.shared.disabled() {
        "while disabled"
    } else {
        "with no TRAP entry"
    };
    let line = format!(
        "process {} (pid {}) killed: {} at rip {:#x}, address {:#x}, error code {:#x} {why}",
        process.name,
        process.pid,
        exception_name(frame.vector),
        frame.rip,
        address,
        frame.error_code
    );
    log::error!("{line}");
    exit_process(cpu, &process, FAULT_KILL_STATUS, frame);
}

fn exception_name(vector: u64) -> &'static str {
    match vector {
        0 => "divide error",
        6 => "invalid opcode",
        13 => "general protection fault",
        14 => "page fault",
        17 => "alignment check",
        19 => "SIMD floating-point exception",
        _ => "CPU exception",
    }
}

/// Ends `process` with `status`: its dispatchers here go now, those on other CPUs by mail; the
/// CPU that removes the last one tears it down and tells its watcher.
pub fn exit_process(cpu: &mut Cpu, process: &Arc<Process>, status: u32, frame: &mut UserFrame) {
    if !process.begin_exit(status) {
        return;
    }
    let comms = process.dispatchers.lock().clone();
    if comms.is_empty() {
        // Never given a dispatcher (a fork child its parent gave up on): nothing runs it, so
        // nothing else would ever tear it down.
        teardown(cpu, process, frame);
        return;
    }
    let mut told = Vec::new();
    for comm in comms {
        let Some(shared) = crate::dispatcher::lookup(comm) else {
            continue;
        };
        if shared.cpu != cpu.index && !told.contains(&shared.cpu) {
            told.push(shared.cpu);
            if let Some(other) = cpu::get(shared.cpu) {
                other.post(Mail::Kill(process.pid));
            }
        }
    }
    kill_local(cpu, process.pid, frame);
}

/// Removes every dispatcher of process `pid` from this CPU.
fn kill_local(cpu: &mut Cpu, pid: u64, frame: &mut UserFrame) {
    let doomed: Vec<u64> = cpu
        .dispatchers
        .iter()
        .filter(|(_, d)| d.shared.process.pid == pid)
        .map(|(&c, _)| c)
        .collect();
    for comm in doomed {
        remove_dispatcher(cpu, comm, frame);
    }
}

fn remove_dispatcher(cpu: &mut Cpu, comm: u64, frame: &mut UserFrame) {
    if cpu.running == Some(comm) {
        // Its registers are dropped; leave saves nothing of a dispatcher being removed.
        cpu.running = None;
    }
    let Some(d) = cpu.remove_dispatcher(comm) else {
        return;
    };
    crate::dispatcher::unregister(comm);
    // A caller waiting on it gets an error instead of a reply; a server running its call
    // forgets it; those it told to retry may try (and fail cleanly).
    if let Some(serving) = d.serving {
        crate::kcall::ppc::fail_caller(cpu, serving, frame);
        // Gone while it waited on its callers' time (a remote reply, job control's acks): the
        // head of their chain left the policy for the wait, and its chain has an answer now.
        let waited = matches!(d.run, Run::AwaitingReply | Run::AwaitingAcks);
        if waited
            && d.wait_head != comm
            && let Ok(decision) = cpu.sched.wake(switch::policy_id(d.wait_head), cpu::now())
        {
            switch::apply(cpu, decision, frame, Origin::Call);
        }
    }
    if let Some(s) = d
        .calling
        .and_then(|server| cpu.dispatchers.get_mut(&server))
    {
        s.serving = None;
        s.shared.process.serving_ended(s.comm());
    }
    for waiter in d.retry_waiters.iter().copied() {
        crate::kcall::ppc::notify_retry(cpu, waiter, frame, Origin::Call);
    }
    let process = d.shared.process.clone();
    process.with_space(|s| s.deactivate_here());
    if let Ok(decision) = cpu.sched.remove(switch::policy_id(comm), cpu::now()) {
        switch::apply(cpu, decision, frame, Origin::Call);
    }
    drop(d);
    if process.dispatcher_removed() {
        teardown(cpu, &process, frame);
    }
}

/// Frees a process whose last dispatcher is gone and tells its watcher.
fn teardown(cpu: &mut Cpu, process: &Arc<Process>, frame: &mut UserFrame) {
    let status = match *process.life.lock() {
        process::Life::Exiting(s) => s,
        _ => 0,
    };
    if let Some(space) = process.space.lock().take() {
        space.deactivate_here();
        space.destroy();
    }
    crate::kobj::forget_badge(process.pid);
    process::forget(process.pid);
    log::debug!(
        "process {} (pid {}) exited with {status}",
        process.name,
        process.pid
    );
    crate::run::process_ended(process.pid, status);
    let watcher = *process.watcher.lock();
    if let Some(w) = watcher {
        let msg = AsyncMessage {
            badge: 0,
            handle: w.handle,
            method: method_word(PROCESS_INTERFACE, EXITED_METHOD),
            payload: [u64::from(status), process.pid, 0],
        };
        if let Err(e) = crate::kcall::async_send::deliver(cpu, w.comm, &msg, frame, Origin::Call) {
            log::warn!(
                "exit of pid {} not reported to {:#x}: {e:?}",
                process.pid,
                w.comm
            );
        }
    }
}
