//! The kernel's scheduling policy for dispatchers, one instance per CPU, as pure `no_std` logic
//! with no clock, no allocation and no lock, so it is tested on the host (`tests/`) and used
//! unchanged by the kernel's per-CPU scheduler (`kernel/`, issue #3), which supplies the mechanism:
//! timer interrupts, register save areas, soft-interrupt bits, entering dispatchers.
//!
//! The kernel schedules *dispatchers*, never threads (`DESIGN.md` §2.4): each dispatcher's
//! user-level scheduler runs its own threads. The policy:
//!
//! - **Strict classes.** [`Class::System`] (servers) > [`Class::Application`] > [`Class::Idle`]. A
//!   runnable dispatcher of a higher class always runs before one of a lower class; when one wakes
//!   while a lower one runs, the lower one is preempted (softly, then after the grace period hard).
//! - **Stride scheduling within a class** (`stride.rs`): each dispatcher has a pass (virtual time)
//!   that grows by the time it runs divided by its [`Weight`]; the smallest pass runs next, equal
//!   passes first-come first-served. Chosen over weighted round robin and deficit round robin
//!   because it charges exactly the time used — dispatchers block, yield and are preempted
//!   mid-quantum all the time, and WRR's whole-quantum bookkeeping either overcharges them or needs
//!   per-round deficits that amount to the same thing — and because it makes the no-hoarding rule
//!   a single comparison: a waking dispatcher's pass is raised to the least pass of its runnable
//!   peers. A quantum ends in a preemption only if a peer's pass is no larger than the running
//!   one's, so a heavy dispatcher runs several quanta back to back instead of being switched out
//!   and straight back in.
//! - **Soft, then hard, preemption.** When the running dispatcher should give way, the policy
//!   says [`Decision::SoftPreempt`]; if it has not yielded `grace` later, [`Decision::HardPreempt`].
//! - **Handoff**: the running dispatcher can give the rest of its quantum to a chosen runnable one.
//!
//! # Using it from the kernel (issue #3)
//!
//! Keep one `Scheduler<N>` in each CPU's kernel state, with `N` the most dispatchers a CPU may hold.
//! Ids are the kernel's choice ([`DispatcherId`]); the kernel maps them to its dispatcher objects.
//! Report each event on the CPU that owns the dispatcher, with `now` from a monotonic clock in
//! nanoseconds (the [`Config`] defaults assume ns), and carry out the returned [`Decision`].
//!
//! Where the events come from:
//! - [`Scheduler::add`]: the "start a dispatcher" object call puts it on its CPU (blocked), then
//!   [`Scheduler::wake`] lets it run for the first time. [`Scheduler::remove`]: the dispatcher is
//!   destroyed (its process exits) or migrates to another CPU (remove here, add and wake there).
//! - [`Scheduler::wake`]: anything that gives a dispatcher work: an async message into its ring, a
//!   page-fault completion, its timer firing, an IPC-retry notification, a device interrupt routed
//!   to it. From another CPU, send an IPI and report the wake on the owning CPU (there is no
//!   cross-CPU access to a `Scheduler`).
//! - [`Scheduler::block`]: the dispatcher's kernel call saying it has nothing to run (its threads
//!   all wait); [`Scheduler::yield_now`] and [`Scheduler::handoff`]: the yield and handoff kernel
//!   calls. The synchronous PPC fast path need not involve the policy at all: the server's
//!   dispatcher runs the call on the caller's time (as in K42), so the policy still sees the
//!   caller as current, and a decision naming the caller applies to the dispatcher executing the
//!   call on its behalf.
//! - [`Scheduler::tick`]: the timer interrupt. A periodic tick works (decisions land on the first
//!   tick at or after their deadline); a tickless kernel programs a one-shot timer for
//!   [`Scheduler::next_deadline`] after every decision.
//! - [`Scheduler::pick_next`]: at boot, or whenever the kernel finds nothing running.
//!
//! What to do with each decision:
//! - [`Decision::Continue`]: return to the running dispatcher.
//! - [`Decision::SoftPreempt`]: set the PREEMPT bit in the dispatcher's soft-interrupt word. If its
//!   *disabled* flag is clear, save the interrupted registers in its save area and enter it at the
//!   INTERRUPT vector; its user-level scheduler saves the running thread and makes the yield call.
//!   If *disabled* is set, enter nothing: leave the bit set and resume it exactly where it was
//!   interrupted; its runtime checks pending soft-interrupt bits when it re-enables and yields then.
//!   Either way the dispatcher keeps running and the grace period runs.
//! - [`Decision::HardPreempt`]: the grace period ran out. Save all of `from`'s registers (FPU/SSE
//!   too) without its cooperation: if it is disabled, into the save area it is later resumed from
//!   exactly, still disabled (it cannot be entered mid-critical-section); if enabled, into its
//!   interrupted-state save area, and later enter it at RUN so its user-level scheduler picks a
//!   thread (the interrupted one is in the save area). Leave PREEMPT set — it tells the runtime why
//!   it lost the CPU. Then run `to` as for `Switch`. `from` stays runnable; the policy runs it
//!   again later.
//! - [`Decision::Switch`]: if `from` is `Some`, it left through its own kernel call (yield, block,
//!   handoff), so save its state as for any kernel call return; then switch to `to`'s address space
//!   and resume it: enter at RUN (or the upcall pending for it, or return from its own yield call
//!   if it is the same dispatcher, which the policy reports as `Continue`). `from: None`: the CPU
//!   was idle, or the previous dispatcher was removed.
//! - [`Decision::Idle`]: nothing is runnable; halt until an interrupt and report what it brings.
//!
//! An event the policy refuses ([`SchedError`]) changed nothing; for a kernel call (a handoff to
//! a blocked or lower-class dispatcher) return the error to the caller.
#![no_std]

mod config;
mod decision;
mod scheduler;
mod stride;
mod table;
mod types;

pub use config::{Config, DEFAULT_GRACE_NS, DEFAULT_QUANTUM_NS};
pub use decision::{Decision, SchedError};
pub use scheduler::Scheduler;
pub use types::{Class, DispatcherId, Time, Weight};
