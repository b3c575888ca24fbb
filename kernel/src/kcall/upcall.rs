//! SET_ENTRY and RESUME: the two ends of an upcall. SET_ENTRY says where the kernel enters the
//! dispatcher for each reason (and where a Linux personality's SVC return stub lies,
//! `reflect.rs`); RESUME is the return from an upcall — restore the registers the runtime left
//! in the save area and clear `disabled` in one step, so a soft interrupt that arrives in
//! between cannot be lost (it is delivered at INTERRUPT instead). REFLECT_RETURN
//! (`reflect.rs`) is the same return with the syscall's result put in `rax`.

use core::ops::Range;

use k42_abi::kernel::{Entry, SVC_RETURN_STUB, Status};
use k42_hal::user::{USER_TOP, UserFrame};

use super::{Next, me};
use crate::cpu::Cpu;
use crate::dispatcher::Dispatcher;
use crate::switch;

/// The kernel call.
pub fn set_entry(cpu: &mut Cpu, frame: &mut UserFrame) -> Result<Next, Status> {
    let me = me(cpu)?;
    if frame.rdi == SVC_RETURN_STUB {
        return set_svc_return_stub(cpu, me, frame.rsi..frame.rdx);
    }
    let vector = Entry::from_word(frame.rdi).ok_or(Status::BadArgument)?;
    let address = frame.rsi;
    if address >= USER_TOP {
        return Err(Status::BadArgument);
    }
    let d = cpu.dispatchers.get_mut(&me).ok_or(Status::NotPermitted)?;
    d.entries[vector as usize] = address;
    Ok(Next::Return)
}

/// SET_ENTRY's pseudo-vector `SVC_RETURN_STUB`: where dispatcher `me`'s SVC return stub lies
/// (`reflect::settle_svc_return` reads it). It reaches only the dispatcher's own registers, so
/// any user range is accepted.
fn set_svc_return_stub(cpu: &mut Cpu, me: u64, stub: Range<u64>) -> Result<Next, Status> {
    if stub.start > stub.end || stub.end > USER_TOP {
        return Err(Status::BadArgument);
    }
    let d = cpu.dispatchers.get_mut(&me).ok_or(Status::NotPermitted)?;
    d.svc_return_stub = stub;
    Ok(Next::Return)
}

/// The kernel call.
pub fn resume(cpu: &mut Cpu, frame: &mut UserFrame) -> Result<Next, Status> {
    let me = me(cpu)?;
    resume_with(cpu, me, frame, |_| {})
}

/// Resumes running dispatcher `me` with the save area's registers, changed by `adjust`, and
/// clears `disabled`; a pending soft interrupt enters it at INTERRUPT instead, with those
/// registers in the save area.
pub fn resume_with(
    cpu: &mut Cpu,
    me: u64,
    frame: &mut UserFrame,
    adjust: impl FnOnce(&mut UserFrame),
) -> Result<Next, Status> {
    let d = cpu.dispatchers.get(&me).ok_or(Status::NotPermitted)?;
    resume_into(d, frame, adjust)
}

/// `resume_with` for the running dispatcher, already looked up.
pub fn resume_into(
    d: &Dispatcher,
    frame: &mut UserFrame,
    adjust: impl FnOnce(&mut UserFrame),
) -> Result<Next, Status> {
    *frame = d.shared.saved_context();
    adjust(frame);
    d.shared.set_disabled(false);
    switch::interrupt_if_pending_in(d, frame);
    Ok(Next::Switched)
}
