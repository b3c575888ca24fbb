//! The PPC server loop (DESIGN §2.3): a server dispatcher has no loop of its own. [`serve`] sets
//! up the upcall stack and the IPC_CALL and INTERRUPT entries, then goes idle; the kernel enters
//! it at IPC_CALL for each call (disabled, on the upcall stack, with the caller's badge), the
//! handler runs, and PPC_RETURN with WAIT sends the reply and makes the dispatcher idle and
//! enabled again in one step. Nothing of a call survives it but what the handler stored.
//!
//! The handler must not block: the kernel refuses YIELD(BLOCK) while a call is being served (it
//! runs on the caller's time). Servers answer "would block" instead (DESIGN §2.3).

use alloc::boxed::Box;

use k42_abi::kernel::{Entry, yield_mode};
use k42_rights::wire::{ARG_WORDS, DispatchError, Interface, Reply, encode_reply, meta};
use k42_rights::{Badge, XHandle, XObjectTable};
use k42_sys::kcall;
use k42_sys::page::Page;
use k42_sys::upcall::{self, IncomingCall};
use spin::Mutex;

use crate::{log, upcall_stack};

/// What a server does with one call: `(badge, handle, method, args)` to a reply.
pub type Handler = dyn FnMut(Badge, XHandle, u64, &[u64; ARG_WORDS]) -> Reply + Send;

/// The handler [`serve`] installed. Locked only by the one upcall running at a time (upcalls are
/// disabled while one runs), and by `serve` before any can run.
static HANDLER: Mutex<Option<Box<Handler>>> = Mutex::new(None);

/// The `DispatchError::Transport` code of a call that came while no handler was installed or
/// the handler was in use (neither happens with one dispatcher; it keeps the reply honest).
pub const NOT_SERVING: u64 = u64::MAX - 1;

/// Serves calls with `handler` for the rest of the process's life.
///
/// # Panics
///
/// If the upcall stack cannot be mapped or the kernel refuses an entry vector: a server that
/// cannot take calls has nothing else to do.
pub fn serve<H>(handler: H) -> !
where
    H: FnMut(Badge, XHandle, u64, &[u64; ARG_WORDS]) -> Reply + Send + 'static,
{
    *HANDLER.lock() = Some(Box::new(handler));
    if let Err(e) = upcall_stack::ensure() {
        panic!("server: cannot map the upcall stack: {e:?}");
    }
    // No upcall until the set-up is complete and this context is gone: one coming in between
    // (an INTERRUPT at a preemption) would take this context as a saved one and drop it.
    // YIELD(IDLE) below enables upcalls again, atomically with going to sleep.
    let page = Page::current();
    page.set_disabled(true);
    upcall::set_call_handler(on_call);
    upcall::set_interrupt_handler(on_interrupt);
    for vector in [Entry::Interrupt, Entry::IpcCall] {
        if let Err(e) = upcall::install(vector) {
            panic!("server: cannot install the {vector:?} entry: {e:?}");
        }
    }
    // The main context ends here: from now on the dispatcher lives in upcalls.
    idle()
}

/// Serves `table`'s objects of interface `I`, plus the generic give-access and release calls
/// every object answers (`k42_rights::wire::meta`).
pub fn serve_table<I>(mut table: XObjectTable<I::Target>) -> !
where
    I: Interface,
    I::Target: Clone + Send + 'static,
{
    serve(move |badge, handle, method, args| {
        meta::dispatch_with_meta::<I>(&mut table, badge, handle, method, args)
    })
}

/// Sleeps until the next upcall, forever. A refusal (the kernel says a call is still being
/// served) is logged once; then the dispatcher keeps yielding its quantum and asking again.
fn idle() -> ! {
    let mut logged = false;
    loop {
        let status = kcall::yield_idle();
        if !logged {
            log!("server: YIELD(IDLE) refused with status {status}");
            logged = true;
        }
        kcall::yield_now(yield_mode::YIELD);
    }
}

/// A context the kernel moved into the save area at this upcall (the dispatcher was blocked or
/// preempted when it came) belongs to a thread; this runtime has none yet, so it is dropped.
/// The thread scheduler will take it here instead.
fn drop_saved_context(page: Page) {
    if page.take_saved().is_some() {
        log!("server: dropped the context saved at an upcall (no threads yet)");
    }
}

/// The IPC_CALL upcall: run the handler, reply, go idle.
fn on_call(call: &IncomingCall) -> ! {
    drop_saved_context(Page::current());
    let reply = match HANDLER.try_lock() {
        Some(mut guard) => match guard.as_mut() {
            Some(handler) => handler(
                Badge(call.badge),
                XHandle::from_word(call.handle),
                call.method,
                &call.args,
            ),
            None => Err(DispatchError::Transport(NOT_SERVING)),
        },
        None => Err(DispatchError::Transport(NOT_SERVING)),
    };
    let status = kcall::ppc_return_and_wait(call.token, &encode_reply(&reply));
    // Only a refused return comes back (e.g. NotWaiting: the caller is gone).
    log!("server: PPC_RETURN refused with status {status}");
    idle()
}

/// The INTERRUPT upcall of an idle server: soft interrupts it has no use for (async messages,
/// a retry notice, a preemption request) are cleared so the kernel lets it sleep.
fn on_interrupt(_bits: u64) -> ! {
    let page = Page::current();
    drop_saved_context(page);
    page.take_pending(u64::MAX);
    while let Some(msg) = page.pop_async() {
        log!(
            "server: dropped an async message (badge {}, method {:#x})",
            msg.badge,
            msg.method
        );
    }
    idle()
}
