//! PPC_CALL and PPC_RETURN: K42's protected procedure call (DESIGN §2.3).
//!
//! Fast path — caller and server on one CPU: the caller's registers are kept, the server's
//! dispatcher is loaded and entered at IPC_CALL with the caller's badge (its process id, stamped
//! here; the caller's `rdi` named the target and is overwritten) and the caller's argument
//! registers; every other register is zero, so nothing of the caller leaks. The call runs on the
//! caller's time: the policy still sees the caller running, and `switch::executor` follows the
//! chain to the server. PPC_RETURN writes the five reply words into the caller's kept registers
//! and loads it again. Two ring transitions and two address-space switches per round trip; no
//! kernel message buffer, no policy decision. Its common case — a word-only call to a server
//! that accepts it, a WAIT return with no data — is carried out by `fast.rs` straight from the
//! entry, to the same effect; every other case comes here.
//!
//! Bulk data: a call may carry up to `PPC_DATA_BYTES` in the caller's dispatcher page
//! (`ppc_data`, `r15` = how many), a reply as many in the server's (`r13`). The kernel copies
//! exactly that many bytes frame to frame through the direct map (`Shared::copy_ppc_data`) —
//! into the server's page before it is entered at IPC_CALL, into the caller's at PPC_RETURN —
//! while both dispatchers are stopped (in the kernel, or blocked in the call), so neither page
//! changes under the copy. Nothing is buffered or allocated; a word-only call pays a test.
//!
//! A target that is disabled or busy (running, or with a thread of its own ready to resume)
//! fails the call with `Retry` and remembers the caller, who gets the IPC_RETRY soft interrupt
//! when the target is idle again — never a kernel wait queue.
//!
//! A call that names a dispatcher on another CPU is taken by the target process's dispatcher
//! on the caller's CPU when it has one that serves (an IPC_CALL entry) and none of its others
//! is serving a call: a server with a dispatcher on each CPU serves every caller on the
//! caller's CPU (`route`).
//!
//! Slow path — no dispatcher on this CPU takes the call: it goes by mail; the caller blocks in
//! its policy (AwaitingReply); on the target's CPU the server is made runnable with the upcall
//! ready, runs on its own time, and its reply goes back by mail. The call's bytes are copied on the
//! server's CPU when the call arrives (from the blocked caller's page, which the mail keeps
//! alive), the reply's on the server's CPU at its PPC_RETURN (into the still blocked caller's
//! page, before the reply is mailed): each copy is made while the server's page is certain to
//! hold them, and the caller's page is reached through the direct map from any CPU.
//!
//! Calls to `KERNEL_COMM_ID` are object calls on kernel objects (`kobj`), answered at once.

use alloc::sync::Arc;

use k42_abi::kernel::{Entry, KERNEL_COMM_ID, PPC_DATA_BYTES, Status, return_flags, soft};
use k42_hal::user::UserFrame;
use k42_kapi::counter;
use k42_rights::wire::{ARG_WORDS, REPLY_WORDS, encode_reply};

use super::{Next, me};
use crate::cpu::{self, Cpu, Dispatchers, Mail};
use crate::dispatcher::{Context, Dispatcher, Run, Serving, Shared};
use crate::switch::{self, Origin};

/// A call on its way to another CPU.
pub struct RemoteCall {
    caller: u64,
    badge: u64,
    target: u64,
    handle: u64,
    method: u64,
    args: [u64; ARG_WORDS],
    /// Bytes of the caller's `ppc_data` the call carries.
    len: usize,
    /// The caller's page, to copy them from on arrival (`None` when `len` is 0).
    from: Option<Arc<Shared>>,
}

/// A reply (or failure) on its way back to the caller's CPU.
pub struct RemoteReply {
    caller: u64,
    status: Status,
    words: [u64; REPLY_WORDS],
    /// Bytes of reply data already copied into the caller's `ppc_data`.
    len: usize,
}

/// A data length from a register: at most `PPC_DATA_BYTES`.
fn data_len(word: u64) -> Result<usize, Status> {
    if word <= PPC_DATA_BYTES as u64 {
        // Lossless: at most PPC_DATA_BYTES.
        Ok(word as usize)
    } else {
        Err(Status::BadArgument)
    }
}

fn args_of(frame: &UserFrame) -> [u64; ARG_WORDS] {
    [
        frame.r10, frame.r8, frame.r9, frame.r12, frame.r13, frame.r14,
    ]
}

/// The registers of an IPC_CALL upcall.
fn set_call_registers(
    f: &mut UserFrame,
    badge: u64,
    token: u64,
    handle: u64,
    method: u64,
    a: &[u64; ARG_WORDS],
    len: usize,
) {
    (f.rdi, f.rsi, f.rdx) = (badge, handle, method);
    (f.r10, f.r8, f.r9, f.r12, f.r13, f.r14) = (a[0], a[1], a[2], a[3], a[4], a[5]);
    f.r15 = len as u64;
    f.rax = token;
}

/// Writes a reply into a caller's kept registers (`len` bytes of reply data, already in its
/// page), as the fast path does (`UserFrame::set_call_reply`).
#[inline(always)]
pub(super) fn set_reply(f: &mut UserFrame, status: Status, w: &[u64; REPLY_WORDS], len: usize) {
    f.set_call_reply(status as u64, w, len as u64);
}

/// Copies `len` (> 0) bytes of PPC data from dispatcher `from`'s page to `to`'s, both of this
/// CPU. Out of line: the word-only path pays one test for it.
#[cold]
fn copy_data(cpu: &Cpu, from: u64, to: u64, len: usize) {
    if let (Some(from), Some(to)) = (cpu.dispatchers.get(&from), cpu.dispatchers.get(&to)) {
        from.shared.copy_ppc_data(&to.shared, len);
    }
}

/// The kernel call. `r15` is taken as the data length and cleared at once: a refused call
/// leaves the caller's registers as they were but for `rax` (the status) and `r15` (0 bytes of
/// reply data), and a reply sets it again.
pub fn call(cpu: &mut Cpu, frame: &mut UserFrame) -> Result<Next, Status> {
    let me = me(cpu)?;
    cpu::this().count(counter::PPC_CALLS);
    let len = core::mem::take(&mut frame.r15);
    let len = data_len(len)?;
    let target = frame.rdi;
    if target == KERNEL_COMM_ID {
        return kernel_object_call(cpu, me, frame);
    }
    if target == me {
        return Err(Status::BadArgument);
    }
    let target = match cpu.dispatchers.contains_key(&target) {
        true => target,
        false => match route(&cpu.dispatchers, me, target) {
            Route::Here(here) => here,
            Route::Mail(to) => {
                // The busy dispatcher a route named may be gone: then the named one.
                let (to, shared) = match crate::dispatcher::lookup(to) {
                    Some(shared) => (to, shared),
                    None => (
                        target,
                        crate::dispatcher::lookup(target).ok_or(Status::NoSuchTarget)?,
                    ),
                };
                return remote(cpu, me, to, shared.cpu, len, frame);
            }
        },
    };
    let t = cpu.dispatchers.get(&target).ok_or(Status::NoSuchTarget)?;
    if !accepts(t) {
        remember_retry(cpu, target, me);
        return Err(Status::Retry);
    }
    let (handle, method, args) = (frame.rsi, frame.rdx, args_of(frame));
    // The caller is this CPU's running dispatcher: one lookup for its badge and its state (and
    // it leaves the CPU here, as `switch::leave` would).
    let caller = cpu.dispatchers.get_mut(&me).ok_or(Status::NotPermitted)?;
    let badge = caller.shared.badge();
    caller.calling = Some(target);
    caller.context = Context::Call(*frame);
    switch::keep_machine_state(caller);
    cpu.running = None;
    // One lookup of the target, too (it is here: looked up above).
    let t = cpu
        .dispatchers
        .get_mut(&target)
        .ok_or(Status::NoSuchTarget)?;
    begin_serving_in(
        t,
        Serving {
            caller: me,
            remote: false,
        },
    );
    switch::load_machine_state(t, &mut cpu.io_open);
    cpu.running = Some(target);
    switch::upcall_into(t, Entry::IpcCall, frame, |f| {
        set_call_registers(f, badge, me, handle, method, &args, len)
    });
    // Neither side runs before this call returns to user mode.
    if len != 0 {
        copy_data(cpu, me, target, len);
    }
    Ok(Next::Switched)
}

/// Where a call `me` makes to `target`, a dispatcher on another CPU, is served.
pub(super) enum Route {
    /// By the target process's dispatcher on this CPU.
    Here(u64),
    /// By this dispatcher, through the mail.
    Mail(u64),
}

/// Routes a call `me` makes to `target`, a dispatcher on another CPU. A call names one
/// dispatcher of a server, but a server with a dispatcher on each CPU serves on each (DESIGN
/// §2.8: the PPC fast path never leaves the CPU), so its dispatcher here with an IPC_CALL
/// entry takes it — unless another of its dispatchers is serving a call right now: a server's
/// dispatchers share one handler, so the one here would only wait for it, spinning on this
/// CPU (and, with more virtual CPUs than host cores, keeping the holder's from running). Then
/// the call goes to the busy one by mail and waits its turn as any call to a busy server does
/// (`Retry`, then IPC_RETRY), blocked. Without a dispatcher here (or if that one is the
/// caller's own), the call goes to the named dispatcher by mail. Out of line: a call to a
/// dispatcher here never comes.
#[inline(never)]
pub(super) fn route(dispatchers: &Dispatchers, me: u64, target: u64) -> Route {
    let Some(here) = dispatchers.of_process(target) else {
        return Route::Mail(target);
    };
    let Some(d) = dispatchers.get(&here) else {
        return Route::Mail(target);
    };
    if here == me || d.entries[Entry::IpcCall as usize] == 0 {
        return Route::Mail(target);
    }
    match d.shared.process.serving_on() {
        busy if busy != 0 && busy != here => Route::Mail(busy),
        _ => Route::Here(here),
    }
}

/// Whether `target` (of this CPU) can be entered at IPC_CALL now: enabled, with an IPC_CALL
/// entry, and idle or blocked (its own threads have nothing ready to run).
fn accepts_call(cpu: &Cpu, target: u64) -> bool {
    cpu.dispatchers.get(&target).is_some_and(accepts)
}

/// `accepts_call` for a target already looked up.
pub(super) fn accepts(t: &Dispatcher) -> bool {
    // A server stopped by job control takes no new calls (`jobstop.rs`); its callers retry.
    !t.job_stopped
        && t.serving.is_none()
        && t.calling.is_none()
        && matches!(t.run, Run::Idle | Run::Blocked)
        && !t.shared.disabled()
        && t.entries[Entry::IpcCall as usize] != 0
        && t.shared.upcall_stack() != 0
}

fn remember_retry(cpu: &mut Cpu, target: u64, waiter: u64) {
    if let Some(t) = cpu.dispatchers.get_mut(&target)
        && !t.retry_waiters.contains(&waiter)
    {
        t.retry_waiters.push(waiter);
    }
}

/// Marks `target` as running a call; a context it kept while blocked moves to its save area
/// (`saved_live`), for its runtime to resume later.
fn begin_serving(cpu: &mut Cpu, target: u64, serving: Serving) {
    if let Some(t) = cpu.dispatchers.get_mut(&target) {
        begin_serving_in(t, serving);
    }
}

/// `begin_serving` for a target already looked up.
pub(super) fn begin_serving_in(t: &mut Dispatcher, serving: Serving) {
    // By reference: an idle server (the common case) has no context, and a `mem::replace`
    // would copy the whole empty one.
    if let Context::Call(kept) | Context::Preempted(kept) = &t.context {
        t.shared.save_context(kept);
        t.context = Context::None;
    }
    t.run = Run::Idle;
    t.serving = Some(serving);
    t.shared.process.serving_began(t.comm());
}

/// The kernel call.
pub fn ret(cpu: &mut Cpu, frame: &mut UserFrame) -> Result<Next, Status> {
    let me = me(cpu)?;
    let token = frame.rdi;
    let wait = frame.r12 & return_flags::WAIT != 0;
    let len = data_len(frame.r13)?;
    let server = cpu.dispatchers.get_mut(&me).ok_or(Status::NotPermitted)?;
    let serving = server
        .serving
        .filter(|s| s.caller == token)
        .ok_or(Status::NotWaiting)?;
    server.serving = None;
    server.shared.process.serving_ended(me);
    // Stopped while it served (`jobstop.rs`): the call is done, and it is held from here on.
    let held = server.held();
    let words = [frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9];
    // With WAIT: whether soft interrupts came while it served with upcalls disabled, looked at
    // once they are enabled (a post after this sees it enabled and wakes it itself).
    let mut pending = false;
    if wait {
        server.run = Run::Idle;
        server.context = Context::None;
        server.shared.set_disabled(false);
        pending = server.shared.pending() != 0;
    } else {
        frame.rax = Status::Ok as u64;
        frame.clobber_for_sysret();
        server.context = Context::Call(*frame);
        server.run = Run::Runnable;
    }
    let waiters = core::mem::take(&mut server.retry_waiters);
    // The server is the running dispatcher: it leaves the CPU (`switch::leave`).
    switch::keep_machine_state(server);
    cpu.running = None;
    let now = cpu::now();
    if serving.remote {
        reply_remote(cpu, me, (token, words, len), wait || held, now, frame);
    } else {
        if len != 0 {
            copy_data(cpu, me, token, len);
        }
        if let Some(c) = cpu.dispatchers.get_mut(&token) {
            c.calling = None;
            if let Some(f) = c.context.call_frame_mut() {
                set_reply(f, Status::Ok, &words, len);
            }
        }
        // A caller stopped meanwhile is not entered: it keeps the reply until continued.
        switch::enter(cpu, token, frame);
        if !wait
            && !held
            && let Ok(d) = cpu.sched.wake(switch::policy_id(me), now)
        {
            switch::apply(cpu, d, frame, Origin::Call);
        }
    }
    for waiter in waiters {
        notify_retry(cpu, waiter, frame, Origin::Call);
    }
    if pending {
        // Woken at once if soft interrupts came while it served with upcalls disabled (a TIMER
        // the tick posted after its runtime's last look): as YIELD(IDLE), or that bit waits
        // for the next post or call — the timer is disarmed once it has fired.
        switch::wake(cpu, me, frame, Origin::Call);
    }
    Ok(Next::Switched)
}

/// PPC_RETURN of a call that came by mail (out of line: the same-CPU path stays small).
#[inline(never)]
fn reply_remote(
    cpu: &mut Cpu,
    me: u64,
    (token, words, len): (u64, [u64; REPLY_WORDS], usize),
    block: bool,
    now: u64,
    frame: &mut UserFrame,
) {
    // The server ran on its own time: tell the policy what it does next (`block` is also
    // `true` for a server held now, stopped by job control).
    let decision = if block {
        cpu.sched.block(switch::policy_id(me), now)
    } else {
        cpu.sched.yield_now(now)
    };
    // The caller waits blocked on its CPU: the reply's bytes go into its page from here,
    // while this server's page still holds them.
    let from = cpu.dispatchers.get(&me).map(|s| &*s.shared);
    send_reply(token, Status::Ok, words, from.map(|s| (s, len)));
    if let Ok(d) = decision {
        switch::apply(cpu, d, frame, Origin::Call);
    }
}

/// Tells `waiter` (on any CPU) that a dispatcher that refused it may take calls again.
pub fn notify_retry(cpu: &mut Cpu, waiter: u64, frame: &mut UserFrame, origin: Origin) {
    let Some(shared) = crate::dispatcher::lookup(waiter) else {
        return;
    };
    shared.post(soft::IPC_RETRY);
    if shared.cpu == cpu.index {
        switch::wake(cpu, waiter, frame, origin);
    } else if let Some(other) = cpu::get(shared.cpu) {
        other.post(Mail::Wake(waiter));
    }
}

/// The server running `serving`'s call is gone: the caller's PPC fails with `NoSuchTarget`.
pub fn fail_caller(cpu: &mut Cpu, serving: Serving, frame: &mut UserFrame) {
    if serving.remote {
        send_reply(serving.caller, Status::NoSuchTarget, [0; REPLY_WORDS], None);
        return;
    }
    if let Some(c) = cpu.dispatchers.get_mut(&serving.caller) {
        c.calling = None;
        if let Some(f) = c.context.call_frame_mut() {
            set_reply(f, Status::NoSuchTarget, &[0; REPLY_WORDS], 0);
        }
    }
    let _ = frame;
}

/// Mails a reply to `caller`'s CPU; with `data` = (the server's page, n), the reply's `n` bytes
/// go into the caller's page first.
fn send_reply(
    caller: u64,
    status: Status,
    words: [u64; REPLY_WORDS],
    data: Option<(&Shared, usize)>,
) {
    let Some(shared) = crate::dispatcher::lookup(caller) else {
        return;
    };
    let len = match data {
        Some((from, len)) => {
            from.copy_ppc_data(&shared, len);
            len
        }
        None => 0,
    };
    if let Some(other) = cpu::get(shared.cpu) {
        other.post(Mail::Reply(RemoteReply {
            caller,
            status,
            words,
            len,
        }));
    }
}

/// The slow path, caller's side: mail the call and block until the reply.
fn remote(
    cpu: &mut Cpu,
    me: u64,
    target: u64,
    target_cpu: usize,
    len: usize,
    frame: &mut UserFrame,
) -> Result<Next, Status> {
    let other = cpu::get(target_cpu).ok_or(Status::NoSuchTarget)?;
    let caller = cpu.dispatchers.get_mut(&me).ok_or(Status::NotPermitted)?;
    let call = RemoteCall {
        caller: me,
        badge: caller.shared.badge(),
        target,
        handle: frame.rsi,
        method: frame.rdx,
        args: args_of(frame),
        len,
        from: (len != 0).then(|| caller.shared.clone()),
    };
    caller.run = Run::AwaitingReply;
    caller.context = Context::Call(*frame);
    // A server making this call while it serves a same-CPU caller runs on that caller's time:
    // the caller leaves the policy, or the policy would give it the CPU back and `executor`
    // would enter this dispatcher, its reply not come (`replied` puts it back).
    let head = switch::policy_head(cpu, me);
    if let Some(caller) = cpu.dispatchers.get_mut(&me) {
        caller.wait_head = head;
    }
    switch::leave(cpu);
    other.post(Mail::Call(call));
    if let Ok(d) = cpu.sched.block(switch::policy_id(head), cpu::now()) {
        switch::apply(cpu, d, frame, Origin::Call);
    }
    Ok(Next::Switched)
}

/// The slow path, server's side: a call arrived by mail.
pub fn arrive(cpu: &mut Cpu, call: RemoteCall, frame: &mut UserFrame) {
    if !cpu.dispatchers.contains_key(&call.target) {
        send_reply(call.caller, Status::NoSuchTarget, [0; REPLY_WORDS], None);
        return;
    }
    if !accepts_call(cpu, call.target) {
        remember_retry(cpu, call.target, call.caller);
        send_reply(call.caller, Status::Retry, [0; REPLY_WORDS], None);
        return;
    }
    // The caller is blocked awaiting the reply, so its page holds the call's bytes.
    if let (Some(from), Some(to)) = (&call.from, cpu.dispatchers.get(&call.target)) {
        from.copy_ppc_data(&to.shared, call.len);
    }
    begin_serving(
        cpu,
        call.target,
        Serving {
            caller: call.caller,
            remote: true,
        },
    );
    let mut upcall_frame = UserFrame::new_user(0, 0);
    if !switch::upcall(cpu, call.target, Entry::IpcCall, &mut upcall_frame, |f| {
        set_call_registers(
            f,
            call.badge,
            call.caller,
            call.handle,
            call.method,
            &call.args,
            call.len,
        )
    }) {
        send_reply(call.caller, Status::NoSuchTarget, [0; REPLY_WORDS], None);
        return;
    }
    if let Some(t) = cpu.dispatchers.get_mut(&call.target) {
        t.context = Context::Call(upcall_frame);
        t.run = Run::Runnable;
    }
    let origin = if cpu.running.is_some() {
        Origin::Interrupt
    } else {
        Origin::Call
    };
    if let Ok(d) = cpu.sched.wake(switch::policy_id(call.target), cpu::now()) {
        switch::apply(cpu, d, frame, origin);
    }
}

/// The slow path, caller's side again: the reply arrived by mail.
pub fn replied(cpu: &mut Cpu, reply: RemoteReply, frame: &mut UserFrame, origin: Origin) {
    let Some(c) = cpu.dispatchers.get_mut(&reply.caller) else {
        return;
    };
    if c.run != Run::AwaitingReply {
        return;
    }
    if let Some(f) = c.context.call_frame_mut() {
        set_reply(f, reply.status, &reply.words, reply.len);
    }
    let head = c.wait_head;
    if head != reply.caller && switch::executor(cpu, head) == reply.caller {
        // It serves `head`'s call on `head`'s time (`remote`): the chain goes back to the
        // policy, which enters it through `head`.
        if let Some(c) = cpu.dispatchers.get_mut(&reply.caller) {
            c.run = Run::Idle;
        }
        if let Ok(d) = cpu.sched.wake(switch::policy_id(head), cpu::now()) {
            switch::apply(cpu, d, frame, origin);
        }
        return;
    }
    let Some(c) = cpu.dispatchers.get_mut(&reply.caller) else {
        return;
    };
    c.run = Run::Runnable;
    if c.held() {
        return; // stopped by job control: the reply waits in its registers for the continue
    }
    if let Ok(d) = cpu.sched.wake(switch::policy_id(reply.caller), cpu::now()) {
        switch::apply(cpu, d, frame, origin);
    }
}

/// A PPC to the kernel: an object call on a kernel object, answered at once. Effects on
/// scheduling (a process started or exited) are carried out after the reply is in registers.
fn kernel_object_call(cpu: &mut Cpu, me: u64, frame: &mut UserFrame) -> Result<Next, Status> {
    let badge = cpu
        .dispatchers
        .get(&me)
        .map(|d| d.shared.badge())
        .ok_or(Status::NotPermitted)?;
    let (reply, effects) = crate::kobj::call(badge, me, frame.rsi, frame.rdx, &args_of(frame));
    let words = encode_reply(&reply);
    set_reply(frame, Status::Ok, &words, 0);
    for effect in effects {
        crate::kobj::apply(cpu, effect, frame);
    }
    if cpu.running == Some(me) {
        Ok(Next::Return)
    } else {
        Ok(Next::Switched)
    }
}
