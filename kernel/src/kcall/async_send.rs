//! ASYNC_SEND: a small message into another dispatcher's ring (K42's async messages, for
//! wake-ups: data arrived, child exited). The kernel stamps the sender's badge, writes the ring
//! in the target's page, posts the ASYNC soft interrupt and wakes the target on its CPU. Nothing
//! is queued in the kernel: a full ring is the sender's `Full`.

use k42_abi::kernel::{AsyncMessage, Status};
use k42_hal::user::UserFrame;

use super::{Next, me};
use crate::cpu::{self, Cpu, Mail};
use crate::switch::{self, Origin};

/// The kernel call.
pub fn send(cpu: &mut Cpu, frame: &mut UserFrame) -> Result<Next, Status> {
    let sender = me(cpu)?;
    let badge = cpu
        .dispatchers
        .get(&sender)
        .map(|d| d.shared.badge())
        .ok_or(Status::NotPermitted)?;
    let msg = AsyncMessage {
        badge,
        handle: frame.rsi,
        method: frame.rdx,
        payload: [frame.r10, frame.r8, frame.r9],
    };
    let target = frame.rdi;
    frame.rax = Status::Ok as u64;
    frame.clobber_for_sysret();
    deliver(cpu, target, &msg, frame, Origin::Call)?;
    Ok(Next::Switched)
}

/// Puts `msg` in dispatcher `target`'s ring and wakes it (here, or by mail on its CPU).
pub fn deliver(
    cpu: &mut Cpu,
    target: u64,
    msg: &AsyncMessage,
    frame: &mut UserFrame,
    origin: Origin,
) -> Result<(), Status> {
    let shared = crate::dispatcher::lookup(target).ok_or(Status::NoSuchTarget)?;
    shared.push_async(msg)?;
    if shared.cpu == cpu.index {
        switch::wake(cpu, target, frame, origin);
    } else if let Some(other) = cpu::get(shared.cpu) {
        other.post(Mail::Wake(target));
    }
    Ok(())
}
