//! The kernel calls: the few things only the kernel can do that are not object calls
//! (`docs/kernel-interface.md`; numbers and registers in `k42_abi::kernel::call`).
//!
//! Thin entry, safe dispatch: `dispatch` looks the number up in one declarative table; each
//! handler is `fn(&mut Cpu, &mut UserFrame) -> Result<Next, Status>`, and this one place turns
//! the result into registers. One file per family: `ppc.rs` (call, return), `async_send.rs`,
//! `sched.rs` (yield, handoff, timer), `upcall.rs` (set entry, resume), `reflect.rs` (a Linux
//! process's `syscall` from program code, which is not a kernel call at all but is reflected to
//! the personality before this table is consulted; and the personality's reflect return).
//! `fast.rs` is the same-CPU PPC fast path, which the entry tries before this table.

pub mod async_send;
pub mod fast;
pub mod ppc;
pub mod reflect;
mod sched;
mod upcall;

use k42_abi::kernel::{Status, call};
use k42_hal::user::UserFrame;

use crate::cpu::Cpu;
use crate::switch;

/// What a handler did with the CPU.
pub enum Next {
    /// Return to the caller with `Status::Ok` (and whatever results it put in the frame).
    Return,
    /// The frame already holds what runs next (another dispatcher, an upcall, or nothing: the
    /// CPU then runs what the policy picks).
    Switched,
}

/// A kernel call handler.
type Handler = fn(&mut Cpu, &mut UserFrame) -> Result<Next, Status>;

/// The kernel calls, by number: entry `i` is call `i` (checked below), so a call is found by
/// indexing.
const CALLS: [(u64, &str, Handler); call::COUNT as usize] = [
    (call::PPC_CALL, "ppc_call", ppc::call),
    (call::PPC_RETURN, "ppc_return", ppc::ret),
    (call::ASYNC_SEND, "async_send", async_send::send),
    (call::YIELD, "yield", sched::yield_),
    (call::HANDOFF, "handoff", sched::handoff),
    (call::SET_ENTRY, "set_entry", upcall::set_entry),
    (call::RESUME, "resume", upcall::resume),
    (call::TIMER, "timer", sched::timer),
    (
        call::REFLECT_RETURN,
        "reflect_return",
        reflect::reflect_return,
    ),
];

const _: () = {
    let mut i = 0;
    while i < CALLS.len() {
        assert!(CALLS[i].0 == i as u64, "CALLS is indexed by call number");
        i += 1;
    }
};

/// Runs the kernel call the frame names and writes its status; a Linux program's `syscall` is
/// reflected to its personality instead.
pub fn dispatch(cpu: &mut Cpu, frame: &mut UserFrame) {
    if reflect::reflected(cpu, frame) {
        return;
    }
    let number = frame.rax;
    let result = usize::try_from(number)
        .ok()
        .and_then(|n| CALLS.get(n))
        .map_or(Err(Status::NoSuchCall), |(_, _, handler)| {
            handler(cpu, frame)
        });
    let status = match result {
        Ok(Next::Switched) => return,
        Ok(Next::Return) => Status::Ok,
        Err(status) => status,
    };
    frame.rax = status as u64;
    frame.clobber_for_sysret();
    // The policy may have asked the caller to yield while the call ran (a wake-up of a
    // higher class): deliver that now that the call's result is in its registers.
    if let Some(comm) = cpu.running {
        switch::preempt_if_asked(cpu, comm, frame);
    }
}

/// The running dispatcher's CommID: every kernel call comes from one.
fn me(cpu: &Cpu) -> Result<u64, Status> {
    cpu.running.ok_or(Status::NotPermitted)
}
