//! The same-CPU PPC fast path: PPC_CALL and PPC_RETURN between two dispatchers of this CPU
//! that are ready for them, carried out straight from the entry (`entry::on_user_entry`)
//! without the general path's work around them — no kernel-call table, no reflection check
//! beyond one flag, no pass through `switch::run_next` and its housekeeping, one lookup of
//! each dispatcher, and the machine state swapped in one step.
//!
//! It does exactly what `ppc::call` and `ppc::ret` do for the cases it takes, and takes only
//! those that need none of the general path's other work. Before changing anything it checks
//! that there is no mail from other CPUs and no dispatcher timer due (the housekeeping every
//! entry does would then have something to do), and for each call:
//! - PPC_CALL: a call (with up to `PPC_DATA_BYTES` of data: `r15`, copied from the caller's
//!   page to the server's) from a dispatcher that is not a Linux program's code (that
//!   `syscall` is reflected), to another dispatcher of this CPU that accepts it now
//!   (`ppc::accepts`: enabled, idle or blocked, not stopped, with an IPC_CALL entry).
//! - PPC_RETURN: with WAIT (and up to `PPC_DATA_BYTES` of reply data: `r13`, copied back), of
//!   a same-CPU call whose caller waits for it, neither of them stopped by job control.
//!
//! Everything else — a refusal (`Retry`), a call to the kernel or to another CPU, a data
//! length out of range, a return without WAIT, a held dispatcher — goes the general way,
//! which also gives every
//! error its status. Once it has begun, the fast path finishes the way the general one would:
//! retry waiters are told and soft interrupts that came while the server served are taken,
//! through the same functions. A timer that falls due, or mail that comes, while it runs is
//! seen at the next entry, as one coming just after the general path's housekeeping would be.

use k42_abi::kernel::{
    Entry, KERNEL_COMM_ID, PPC_DATA_BYTES, Status, call, is_personality_rip, return_flags,
};
use k42_hal::user::{REPLY_REGISTERS, UserFrame};
use k42_kapi::counter;

use super::ppc::{Route, accepts, begin_serving_in, notify_retry, route};
use crate::cpu::{self, Cpu, Slot};
use crate::dispatcher::{Context, Dispatcher, Run, Serving};
use crate::switch::{self, Origin};

/// The most data a call or a reply carries (`ppc::data_len`'s bound).
const MAX_DATA: u64 = PPC_DATA_BYTES as u64;

// The reply's words are the registers `UserFrame::resume_kept` writes.
const _: () = assert!(k42_rights::wire::REPLY_WORDS == REPLY_REGISTERS);

/// Carries out the kernel call in `frame` if it is a PPC the fast path takes, and returns
/// `true` with what runs next in the frame; `false` with nothing changed otherwise.
pub fn try_ppc(slot: &Slot, cpu: &mut Cpu, frame: &mut UserFrame) -> bool {
    let number = frame.rax;
    if number != call::PPC_CALL && number != call::PPC_RETURN {
        return false;
    }
    let Some(me) = cpu.running else {
        return false;
    };
    if !quiet(slot, cpu) {
        return false;
    }
    if number == call::PPC_CALL {
        ppc_call(slot, cpu, me, frame)
    } else {
        ppc_return(slot, cpu, me, frame)
    }
}

/// Whether the housekeeping every entry does has nothing to do: no mail, no timer due.
fn quiet(slot: &Slot, cpu: &Cpu) -> bool {
    !slot.has_mail() && (cpu.next_timer == u64::MAX || cpu::now() < cpu.next_timer)
}

/// Whether this `syscall` of dispatcher `d` is a Linux program's, to be reflected.
fn reflects(d: &Dispatcher, frame: &UserFrame) -> bool {
    d.linux && !is_personality_rip(frame.rip)
}

/// PPC_CALL from `me` (`ppc::call`'s same-CPU case).
fn ppc_call(slot: &Slot, cpu: &mut Cpu, me: u64, frame: &mut UserFrame) -> bool {
    let (target, len) = (frame.rdi, frame.r15);
    if len > MAX_DATA || target == KERNEL_COMM_ID || target == me {
        return false;
    }
    // A server's dispatcher on another CPU is served by its dispatcher here, if it has one.
    let Some((target, caller, server)) =
        cpu.dispatchers
            .pair_mut_or(me, target, |here| match route(here, me, target) {
                Route::Here(here) => Some(here),
                Route::Mail(_) => None,
            })
    else {
        return false;
    };
    if reflects(caller, frame) || !accepts(server) {
        return false;
    }
    slot.count(counter::PPC_CALLS);
    let badge = caller.shared.badge();
    caller.calling = Some(target);
    caller.context = Context::Ppc(frame.kept_across_call());
    if len != 0 {
        data_call(caller, server, len);
    }
    begin_serving_in(
        server,
        Serving {
            caller: me,
            remote: false,
        },
    );
    switch::swap_machine_state(caller, server, &mut cpu.io_open, slot);
    cpu.running = Some(target);
    // `accepts` saw its IPC_CALL entry and upcall stack: as `switch::upcall_into`, with the
    // registers of `ppc::set_call_registers` — the handle, method and argument words are in
    // the registers the upcall takes them in already.
    server.shared.set_disabled(true);
    frame.restart_keeping_args(
        server.entries[Entry::IpcCall as usize],
        server.shared.call_stack(),
    );
    (frame.rdi, frame.rax, frame.r15) = (badge, me, len);
    slot.count(counter::UPCALLS);
    true
}

/// The data of a call (`len` > 0 bytes, at most [`MAX_DATA`]) goes from the caller's page to
/// the server's (the caller keeps no `r15`: the reply sets it). Out of line: a word-only call
/// pays one test for it.
#[inline(never)]
fn data_call(caller: &Dispatcher, server: &Dispatcher, len: u64) {
    // Lossless: at most PPC_DATA_BYTES.
    caller.shared.copy_ppc_data(&server.shared, len as usize);
}

/// A reply's data (`len` > 0 bytes, at most [`MAX_DATA`]) goes from the server's page to the
/// caller's. Out of line, as `data_call`.
#[inline(never)]
fn reply_data(server: &Dispatcher, caller: &Dispatcher, len: u64) {
    // Lossless: at most PPC_DATA_BYTES.
    server.shared.copy_ppc_data(&caller.shared, len as usize);
}

/// PPC_RETURN from `me` (`ppc::ret`'s same-CPU case with WAIT).
fn ppc_return(slot: &Slot, cpu: &mut Cpu, me: u64, frame: &mut UserFrame) -> bool {
    let (token, len) = (frame.rdi, frame.r13);
    if frame.r12 & return_flags::WAIT == 0 || len > MAX_DATA {
        return false;
    }
    let Some((server, caller)) = cpu.dispatchers.pair_mut(me, token) else {
        return false;
    };
    let serving = Some(Serving {
        caller: token,
        remote: false,
    });
    let Context::Ppc(kept) = &caller.context else {
        return false;
    };
    if server.serving != serving
        || caller.calling != Some(me)
        || server.job_stopped
        || caller.job_stopped
        || reflects(server, frame)
    {
        return false;
    }
    if len != 0 {
        reply_data(server, caller, len);
    }
    // As the general path's unfolded context and `ppc::set_reply`, written once. The words are
    // read here, not before the call above: from the frame straight into place. A caller whose
    // context the general path unfolded meanwhile (`Context::Call`) went that way above.
    let words = [frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9];
    frame.resume_kept(kept, Status::Ok as u64, &words, len);
    caller.context = Context::None;
    caller.calling = None;
    server.serving = None;
    server.shared.process.serving_ended(me);
    server.context = Context::None;
    server.run = Run::Idle;
    // Whether soft interrupts came while it served with upcalls disabled, looked at once they
    // are enabled (a post after this sees it enabled and wakes it itself).
    server.shared.set_disabled(false);
    let pending = server.shared.pending() != 0;
    // Told out of line, and only if there are any: the common case is one test.
    let retry = !server.retry_waiters.is_empty();
    switch::swap_machine_state(server, caller, &mut cpu.io_open, slot);
    cpu.running = Some(token);
    if retry {
        notify_retry_waiters(cpu, me, frame);
    }
    if pending {
        // As YIELD(IDLE) would: woken at once for the bits that came while it served.
        switch::wake(cpu, me, frame, Origin::Call);
    }
    true
}

/// Tells the dispatchers server `server` refused while it served that it may take calls again
/// (`ppc::ret`'s notices), once its reply has switched to the caller.
#[cold]
#[inline(never)]
fn notify_retry_waiters(cpu: &mut Cpu, server: u64, frame: &mut UserFrame) {
    let waiters = cpu
        .dispatchers
        .get_mut(&server)
        .map(|d| core::mem::take(&mut d.retry_waiters))
        .unwrap_or_default();
    for waiter in waiters {
        notify_retry(cpu, waiter, frame, Origin::Call);
    }
}
