//! Job control in the kernel: `Process::stop` and `Process::cont` (SIGSTOP and SIGCONT, which
//! the process server carries out through the kernel so that a program cannot ignore them by
//! corrupting the personality in its own address space).
//!
//! A stopped process's dispatchers are *held* (`Dispatcher::held`): the policy sees them
//! blocked whatever their `Run` says, so none is scheduled, none is entered at an upcall, and
//! soft interrupts posted meanwhile stay pending (`switch::wake` leaves a held dispatcher be)
//! until it continues. `Run` keeps saying what the dispatcher will be then — Runnable,
//! Blocked, Idle, AwaitingReply, or Stopped for one never started (a continue does not start
//! it, and a start while stopped makes it runnable but keeps it held).
//!
//! The cases:
//! - *running now, on this CPU or another*: taken off at once, its registers kept as they were
//!   (`switch::stash`), so it resumes exactly, or at INTERRUPT if it is enabled and soft
//!   interrupts came meanwhile;
//! - *runnable, blocked, idle*: it leaves (or never enters) the policy's ready set;
//! - *caller in a PPC*: the server runs on the caller's time on this CPU (the caller stays the
//!   policy's dispatcher of the chain) or on its own on another; either way it finishes the
//!   call, and the reply is kept in the caller's registers: PPC_RETURN does not enter a held
//!   caller (`switch::enter` blocks it instead), a reply by mail does not wake one;
//! - *serving a call* for another process: it finishes that call (the caller is waiting, and
//!   Linux too lets work in progress in the kernel end before a stop takes effect), and is held
//!   from its PPC_RETURN on; while held it takes no new calls — they get `Retry`, as from a busy
//!   server, and IPC_RETRY once it continues;
//! - *added later* (another dispatcher, a fork child's first): made held (`Cpu::add_dispatcher`).
//!
//! On other CPUs the work goes by mail (`Mail::Stop`, `Mail::Continue`). A stop returns only
//! when it has taken effect everywhere: the caller waits (`Run::AwaitingAcks`), blocked in its
//! policy — or, when it serves a same-CPU PPC, its caller at the head of the chain is — until
//! each other CPU's `Mail::StopAck`: no kernel wait queue and no spinning, as for a cross-CPU
//! PPC. So a process server that reports the stop to the parent after the call reports a
//! process that no longer runs anywhere.

use alloc::vec::Vec;

use k42_hal::user::UserFrame;

use crate::cpu::{self, Cpu, Mail};
use crate::dispatcher::{Context, Run};
use crate::switch::{self, Origin};

/// `Process::stop`'s effect, on the CPU of its caller (the running dispatcher, whose reply is
/// in the frame): stops the process's dispatchers here, mails the other CPUs that have some,
/// and makes the caller wait for their acknowledgements.
pub fn stop(cpu: &mut Cpu, pid: u64, frame: &mut UserFrame) {
    let Some(process) = crate::process::lookup(pid) else {
        return;
    };
    let others = other_cpus(cpu, &process);
    if let Some(me) = cpu.running.filter(|_| !others.is_empty()) {
        // The caller waits (its reply kept) until every other CPU has the process off. The
        // policy's dispatcher whose time it runs on — itself, or the caller at the head of
        // the same-CPU PPC chain it serves (the process server serving a `kill`) — leaves the
        // policy first, so nothing below can give the caller the CPU back.
        let head = switch::policy_head(cpu, me);
        if let Some(d) = cpu.dispatchers.get_mut(&me) {
            d.run = Run::AwaitingAcks;
            d.acks = others.len();
            d.wait_head = head;
            d.context = Context::Call(*frame);
            switch::leave(cpu);
            if let Ok(decision) = cpu.sched.block(switch::policy_id(head), cpu::now()) {
                switch::apply(cpu, decision, frame, Origin::Call);
            }
        }
        for &other in &others {
            if let Some(slot) = cpu::get(other) {
                slot.post(Mail::Stop { pid, ack: Some(me) });
            }
        }
    }
    // What runs now (the caller, or whoever the policy gave the CPU) has its registers in the
    // frame as a kernel call's end or an entry leaves them: kept exactly either way.
    stop_here(cpu, pid, frame, Origin::Call);
}

/// `Process::cont`'s effect: continues the process's dispatchers here, and by mail on the
/// other CPUs that have some (no need to wait: nothing is reported about a continue that the
/// process could contradict).
pub fn cont(cpu: &mut Cpu, pid: u64, frame: &mut UserFrame) {
    let Some(process) = crate::process::lookup(pid) else {
        return;
    };
    for other in other_cpus(cpu, &process) {
        if let Some(slot) = cpu::get(other) {
            slot.post(Mail::Continue(pid));
        }
    }
    cont_here(cpu, pid, frame, Origin::Call);
}

/// The CPUs other than this one that hold dispatchers of `process`.
fn other_cpus(cpu: &Cpu, process: &crate::process::Process) -> Vec<usize> {
    let mut cpus = Vec::new();
    for comm in process.dispatchers.lock().iter() {
        if let Some(shared) = crate::dispatcher::lookup(*comm)
            && shared.cpu != cpu.index
            && !cpus.contains(&shared.cpu)
        {
            cpus.push(shared.cpu);
        }
    }
    cpus
}

/// Dispatchers of process `pid` on this CPU.
fn here(cpu: &Cpu, pid: u64) -> Vec<u64> {
    cpu.dispatchers
        .iter()
        .filter(|(_, d)| d.shared.process.pid == pid)
        .map(|(&c, _)| c)
        .collect()
}

/// Stops every dispatcher of process `pid` on this CPU. `origin` says how the registers in the
/// frame (the running dispatcher's) got there.
pub fn stop_here(cpu: &mut Cpu, pid: u64, frame: &mut UserFrame, origin: Origin) {
    for comm in here(cpu, pid) {
        let Some(d) = cpu.dispatchers.get_mut(&comm) else {
            continue;
        };
        if d.job_stopped {
            continue; // stopping again changes nothing
        }
        d.job_stopped = true;
        if !d.held() {
            continue; // in a PPC: held once the call returns
        }
        let runnable = d.run == Run::Runnable;
        let id = switch::policy_id(comm);
        if cpu.running == Some(comm) {
            // Off the CPU at once, its registers kept.
            switch::stash(cpu, frame, origin);
        } else if !runnable {
            continue; // not in the policy's ready set: nothing to take it out of
        }
        if let Ok(decision) = cpu.sched.block(id, cpu::now()) {
            switch::apply(cpu, decision, frame, origin);
        }
    }
}

/// Continues every dispatcher of process `pid` on this CPU: one that was held goes back to the
/// policy if it is runnable, or is woken if soft interrupts came while it was held; callers it
/// turned away may call again.
pub fn cont_here(cpu: &mut Cpu, pid: u64, frame: &mut UserFrame, origin: Origin) {
    for comm in here(cpu, pid) {
        let Some(d) = cpu.dispatchers.get_mut(&comm) else {
            continue;
        };
        if !d.job_stopped {
            continue;
        }
        let was_held = d.held();
        d.job_stopped = false;
        let runnable = d.run == Run::Runnable;
        let waiters = core::mem::take(&mut d.retry_waiters);
        d.context.unfold_ppc();
        if was_held
            && runnable
            && let Context::Call(kept) = d.context
        {
            // Registers kept at the end of a kernel call (its own stop, a PPC's reply) resume
            // as an interrupted context does: entered at INTERRUPT if soft interrupts came
            // while it was stopped, so it takes them at once (`switch::enter`).
            d.context = Context::Preempted(kept);
        }
        if was_held {
            if runnable {
                if let Ok(decision) = cpu.sched.wake(switch::policy_id(comm), cpu::now()) {
                    switch::apply(cpu, decision, frame, origin);
                }
            } else {
                switch::wake(cpu, comm, frame, origin);
            }
        }
        for waiter in waiters {
            crate::kcall::ppc::notify_retry(cpu, waiter, frame, origin);
        }
    }
}

/// `Mail::Stop` on this CPU: stops the process here, then tells the waiting caller.
pub fn stop_mail(cpu: &mut Cpu, pid: u64, ack: Option<u64>, frame: &mut UserFrame, origin: Origin) {
    stop_here(cpu, pid, frame, origin);
    let Some(waiter) = ack else {
        return;
    };
    match crate::dispatcher::lookup(waiter) {
        Some(shared) if shared.cpu == cpu.index => acked(cpu, waiter, frame, origin),
        Some(shared) => {
            if let Some(slot) = cpu::get(shared.cpu) {
                slot.post(Mail::StopAck(waiter));
            }
        }
        None => {} // the caller is gone
    }
}

/// One more CPU has stopped the process dispatcher `comm` (here) asked to stop; after the
/// last, its `Process::stop` call returns.
pub fn acked(cpu: &mut Cpu, comm: u64, frame: &mut UserFrame, origin: Origin) {
    let Some(d) = cpu.dispatchers.get_mut(&comm) else {
        return;
    };
    if d.run != Run::AwaitingAcks {
        return;
    }
    d.acks = d.acks.saturating_sub(1);
    if d.acks > 0 {
        return;
    }
    let head = d.wait_head;
    if head != comm && switch::executor(cpu, head) == comm {
        // It serves `head`'s call on `head`'s time: the chain goes back to the policy.
        if let Some(d) = cpu.dispatchers.get_mut(&comm) {
            d.run = Run::Idle;
        }
        if let Ok(decision) = cpu.sched.wake(switch::policy_id(head), cpu::now()) {
            switch::apply(cpu, decision, frame, origin);
        }
        return;
    }
    let Some(d) = cpu.dispatchers.get_mut(&comm) else {
        return;
    };
    d.run = Run::Runnable;
    if d.held() {
        return; // it stopped its own process: it waits for the continue too
    }
    if let Ok(decision) = cpu.sched.wake(switch::policy_id(comm), cpu::now()) {
        switch::apply(cpu, decision, frame, origin);
    }
}
