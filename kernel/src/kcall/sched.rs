//! YIELD, HANDOFF and TIMER: a dispatcher telling the kernel's scheduler what it needs. The
//! policy (`k42-sched`) decides; `switch::apply` carries the decision out.

use k42_abi::kernel::{Status, yield_mode};
use k42_hal::user::UserFrame;

use super::{Next, me};
use crate::cpu::{self, Cpu};
use crate::dispatcher::{Context, Run};
use crate::switch::{self, Origin};

/// The kernel call.
pub fn yield_(cpu: &mut Cpu, frame: &mut UserFrame) -> Result<Next, Status> {
    let me = me(cpu)?;
    let mode = frame.rdi;
    let d = cpu.dispatchers.get_mut(&me).ok_or(Status::NotPermitted)?;
    // A server runs a call to its PPC_RETURN; it may not sleep on the caller's time.
    if d.serving.is_some() && mode != yield_mode::YIELD {
        return Err(Status::NotPermitted);
    }
    frame.rax = Status::Ok as u64;
    frame.clobber_for_sysret();
    let now = cpu::now();
    let decision = match mode {
        yield_mode::YIELD => cpu.sched.yield_now(now),
        yield_mode::BLOCK => {
            if d.shared.pending() != 0 {
                return Ok(Next::Return);
            }
            d.run = Run::Blocked;
            d.context = Context::Call(*frame);
            // Blocked, it accepts calls again: those it told to retry may.
            let waiters = core::mem::take(&mut d.retry_waiters);
            switch::leave(cpu);
            let decision = cpu.sched.block(switch::policy_id(me), now);
            for waiter in waiters {
                super::ppc::notify_retry(cpu, waiter, frame, Origin::Call);
            }
            decision
        }
        yield_mode::IDLE => {
            d.run = Run::Idle;
            d.context = Context::None;
            d.shared.set_disabled(false);
            let waiters = core::mem::take(&mut d.retry_waiters);
            switch::leave(cpu);
            let decision = cpu.sched.block(switch::policy_id(me), now);
            for waiter in waiters {
                super::ppc::notify_retry(cpu, waiter, frame, Origin::Call);
            }
            decision
        }
        _ => return Err(Status::BadArgument),
    };
    match decision {
        Ok(decision) => switch::apply(cpu, decision, frame, Origin::Call),
        Err(e) => log::warn!("yield by {me:#x} refused by the policy: {e:?}"),
    }
    // Woken at once if soft interrupts came in while it went to sleep.
    switch::wake(cpu, me, frame, Origin::Call);
    Ok(Next::Switched)
}

/// The kernel call.
pub fn handoff(cpu: &mut Cpu, frame: &mut UserFrame) -> Result<Next, Status> {
    me(cpu)?;
    let target = frame.rdi;
    if !cpu
        .dispatchers
        .get(&target)
        .is_some_and(|d| d.run == Run::Runnable && !d.held())
    {
        return Err(Status::NotRunnable);
    }
    let decision = cpu
        .sched
        .handoff(switch::policy_id(target), cpu::now())
        .map_err(|_| Status::NotRunnable)?;
    frame.rax = Status::Ok as u64;
    frame.clobber_for_sysret();
    switch::apply(cpu, decision, frame, Origin::Call);
    Ok(Next::Switched)
}

/// The kernel call.
pub fn timer(cpu: &mut Cpu, frame: &mut UserFrame) -> Result<Next, Status> {
    let me = me(cpu)?;
    let d = cpu.dispatchers.get_mut(&me).ok_or(Status::NotPermitted)?;
    d.timer = (frame.rdi != 0).then_some(frame.rdi);
    if let Some(deadline) = d.timer {
        cpu.next_timer = cpu.next_timer.min(deadline);
    }
    Ok(Next::Return)
}
