//! The PPC server loop (DESIGN §2.3): a server dispatcher has no loop of its own. [`serve`]
//! installs the handler and the IPC_CALL entry and ends the calling thread; the kernel enters
//! the dispatcher at IPC_CALL for each call (disabled, on the upcall stack or the stack the
//! page's `call_stack` names, with the caller's badge).
//!
//! **Each call runs on a thread.** The upcall hands the call to a server thread: a pooled one,
//! or a new one. A server thread keeps nothing between calls, like K42's PPC threads: when its
//! call is done it retires to the pool with its stack, and the next call starts it afresh at
//! the stack's top. So a call costs no thread context save or restore. **The fast path** — the
//! common case of nothing else ready and a thread in the pool: the upcall starts the pooled
//! thread with the call as its argument (`k42_sys::thread::start_fresh`, no frame to build or
//! pop), and when the handler is done the thread *rests* on its stack: it names the stack for
//! the next call in the dispatcher page (`call_stack`) and replies with PPC_RETURN(WAIT) from
//! it (`sched::retire_in_place`), no switch to the upcall stack between, and it stays the
//! current thread and the handler. The kernel then begins the next IPC_CALL upcall on that
//! stack, so that call runs on the thread with no switch at all and almost nothing to undo
//! (`sched::wake_in_place`); any other upcall first puts the thread in the pool
//! (`Sched::end_rest`).
//! Otherwise the upcall queues the thread (or makes one) and runs the scheduler, and the
//! thread retires through it (`sched::retire_to_pool`). The handler runs on that thread with
//! upcalls enabled, so it may block briefly (on a [`FairBLock`](crate::sync::FairBLock)
//! another thread holds, say): the dispatcher runs its other threads meanwhile. It never waits
//! on a client's behalf for anything longer: servers answer "would block" instead, and the
//! client's thread waits in its own process.
//!
//! **The reply.** The retiring thread leaves the reply with the scheduler
//! (`sched::retire_to_pool`). If the dispatcher then has nothing ready, it answers with
//! PPC_RETURN(WAIT) from the upcall stack, once its stack is in the pool: reply and sleep in one
//! step, the dispatcher idle and enabled for the next call. If other threads are ready, the
//! reply goes without WAIT and the dispatcher carries on with them on its own time (until then,
//! new callers get `Retry` and are told when it is idle again). While a call is being served
//! the kernel refuses YIELD(BLOCK/IDLE), so a dispatcher whose threads all wait then yields to
//! the kernel until one is ready.
//!
//! **Bulk data.** A call may bring up to `PPC_DATA_BYTES` in the dispatcher page's data area
//! (`k42_abi::kernel::DispatcherPage::ppc_data`). The IPC_CALL upcall copies them into the
//! call's record before any thread runs; the handler's thread takes them with
//! [`take_call_data`] and may give its reply bytes with [`set_reply_data`] (or
//! [`set_reply_bytes`]; [`take_reply_buffer`] lends the buffer the runtime keeps for them, so
//! a reply built there allocates nothing), which the runtime writes into the area when it
//! sends the reply, upcalls disabled until that PPC_RETURN. The
//! generated dispatch stays word-only: an interface says in its docs which methods carry data
//! this way.

use alloc::boxed::Box;
use alloc::format;
use alloc::vec::Vec;

use k42_abi::kernel::{Entry, PPC_DATA_BYTES};
use k42_rights::wire::{ARG_WORDS, DispatchError, Interface, Reply, encode_reply, meta};
use k42_rights::{Badge, XHandle, XObjectTable};
use k42_sys::critical;
use k42_sys::page::Page;
use k42_sys::thread::{self as sys_thread, Target};
use k42_sys::upcall::{self, IncomingCall};

use crate::sched;
use crate::sync::FairBLock;

/// What a server does with one call: `(badge, handle, method, args)` to a reply.
pub type Handler = dyn FnMut(Badge, XHandle, u64, &[u64; ARG_WORDS]) -> Reply + Send;

/// The handler [`serve`] installed. One call is served at a time per dispatcher (the kernel's
/// rule), so the lock only orders dispatchers of one server process.
static HANDLER: FairBLock<Option<Box<Handler>>> = FairBLock::new(None);

/// The `DispatchError::Transport` code of a call that came while no handler was installed.
pub const NOT_SERVING: u64 = u64::MAX - 1;

/// Where a server takes calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cpus {
    /// On every CPU: a dispatcher is added on each CPU the process has none on
    /// (`crate::dispatchers`), and a call is served by the one on the caller's CPU.
    Every,
    /// Only on this dispatcher's CPU: calls from elsewhere come by mail.
    This,
}

/// Serves calls with `handler` on every CPU for the rest of the process's life
/// ([`serve_on`] with [`Cpus::Every`]).
pub fn serve<H>(handler: H) -> !
where
    H: FnMut(Badge, XHandle, u64, &[u64; ARG_WORDS]) -> Reply + Send + 'static,
{
    serve_on(Cpus::Every, handler)
}

/// Serves calls with `handler` where `cpus` says for the rest of the process's life; the
/// calling thread ends (the process lives on, serving). The handler is one for all of the
/// process's dispatchers: calls on different CPUs take turns at it.
///
/// # Panics
///
/// If the kernel refuses the IPC_CALL entry: a server that cannot take calls has nothing else
/// to do.
pub fn serve_on<H>(cpus: Cpus, handler: H) -> !
where
    H: FnMut(Badge, XHandle, u64, &[u64; ARG_WORDS]) -> Reply + Send + 'static,
{
    *HANDLER.lock() = Some(Box::new(handler));
    upcall::set_call_handler(on_call);
    if let Err(e) = take_calls_here() {
        panic!("server: cannot install the IPC_CALL entry: {e:?}");
    }
    if cpus == Cpus::Every
        && let Err(e) = crate::dispatchers::add_on_every_cpu(serve_here)
    {
        crate::log!("server: serving on fewer CPUs than there are: {e}");
    }
    crate::thread::exit()
}

/// Makes this dispatcher take calls: a server drops the async messages no thread reads, and
/// the kernel enters it at IPC_CALL.
fn take_calls_here() -> Result<(), upcall::InstallError> {
    {
        let _upcalls = critical::disable();
        sched::with(|s| s.server.drop_unread_messages = true);
    }
    upcall::install(Entry::IpcCall)
}

/// What a server's dispatcher added on another CPU does first (`crate::dispatchers`).
fn serve_here() {
    if let Err(e) = take_calls_here() {
        // Calls made on its CPU keep going to the first dispatcher, by mail.
        crate::log!("server: a dispatcher cannot take calls: {e:?}");
    }
}

/// Serves `table`'s objects of interface `I`, plus the generic give-access and release calls
/// every object answers (`k42_rights::wire::meta`), on every CPU.
pub fn serve_table<I>(table: XObjectTable<I::Target>) -> !
where
    I: Interface,
    I::Target: Clone + Send + 'static,
{
    serve_table_on::<I>(Cpus::Every, table)
}

/// [`serve_table`] where `cpus` says.
pub fn serve_table_on<I>(cpus: Cpus, mut table: XObjectTable<I::Target>) -> !
where
    I: Interface,
    I::Target: Clone + Send + 'static,
{
    serve_on(cpus, move |badge, handle, method, args| {
        meta::dispatch_with_meta::<I>(&mut table, badge, handle, method, args)
    })
}

/// Why [`set_reply_data`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataError {
    /// More than `PPC_DATA_BYTES`.
    TooLong,
    /// The calling thread is not running a call's handler.
    NoCall,
}

/// Runs `f` on this dispatcher's server state if the calling thread is running a call's
/// handler (only it may use the call's data and set its reply's); `None` otherwise.
fn with_call_state<R>(f: impl FnOnce(&mut sched::ServerState) -> R) -> Option<R> {
    let _upcalls = critical::disable();
    sched::with(|s| {
        let on_handler = s.current_serial().is_some_and(|me| {
            let handler = s.server.handler.as_ref();
            handler.is_some_and(|handler| handler.serial == me)
        });
        on_handler.then(|| f(&mut s.server))
    })
}

/// The bytes the call this server thread is running brought in the PPC data area (empty for a
/// call without data, off a handler's thread, or when taken already: they are moved out).
pub fn take_call_data() -> Vec<u8> {
    with_call_state(|server| core::mem::take(&mut server.data)).unwrap_or_default()
}

/// Sets the bytes the reply of the call this server thread is running carries back in the PPC
/// data area (replacing any set before): at most `PPC_DATA_BYTES`. A slice is copied, a `Vec`
/// (say, the call's own bytes from [`take_call_data`]) is kept as it is.
pub fn set_reply_data(bytes: impl Into<Vec<u8>>) -> Result<(), DataError> {
    let data = bytes.into();
    if data.len() > PPC_DATA_BYTES {
        return Err(DataError::TooLong);
    }
    with_call_state(|server| server.reply_data = data).ok_or(DataError::NoCall)
}

/// The reply buffer the runtime keeps between calls (empty, with the room the last reply left
/// it), for a handler to fill and give back with [`set_reply_data`]: a reply built in it needs
/// no allocation. Off a call's handler thread, a new empty `Vec`.
pub fn take_reply_buffer() -> Vec<u8> {
    with_call_state(|server| {
        let mut buffer = core::mem::take(&mut server.reply_data);
        buffer.clear();
        buffer
    })
    .unwrap_or_default()
}

/// [`set_reply_data`] for bytes the handler does not own as a `Vec` (a struct's encoding on
/// its stack): copied into the reply buffer the runtime keeps between calls, so a reply of a
/// size already sent allocates nothing.
pub fn set_reply_bytes(bytes: &[u8]) -> Result<(), DataError> {
    if bytes.len() > PPC_DATA_BYTES {
        return Err(DataError::TooLong);
    }
    with_call_state(|server| {
        server.reply_data.clear();
        server.reply_data.extend_from_slice(bytes);
    })
    .ok_or(DataError::NoCall)
}

/// The IPC_CALL upcall: the call goes to a server thread, then the scheduler runs.
fn on_call(incoming: &IncomingCall) -> ! {
    // The dispatcher rested on the stack of the last call's thread (`sched::retire_in_place`):
    // the kernel began the upcall there, and that thread is still current.
    let rested = sys_thread::is_resting();
    // The call's bytes leave the page first: everything after may use the area.
    if incoming.data_len != 0 {
        copy_call_data(incoming.data_len);
    }
    // A thread blocked in the kernel when the call came is in the save area: it continues later.
    // (Never so when the dispatcher rested: it was idle.)
    sched::take_interrupted(false);
    if !rested {
        serve_from_upcall_stack(incoming)
    }
    // The common case: nothing else to run — the call runs on the rested thread, its record
    // where the upcall's entry left it. Otherwise the rest ends, the thread goes back to the
    // pool and the call is served the general way, from the upcall stack.
    if sched::wake_in_place() {
        serve_direct(incoming)
    }
    sched::with(|s| s.end_rest());
    sys_thread::start_on_upcall_stack(serve_from_upcall_stack, incoming)
}

/// The IPC_CALL upcall's work on the upcall stack: the call goes to a server thread, then the
/// scheduler runs.
fn serve_from_upcall_stack(incoming: &IncomingCall) -> ! {
    // When nothing else is to run and a thread is pooled, start it with the call, its handler
    // from the first instruction. The upcall's record is copied once, to the thread's stack,
    // where the thread reads it.
    if let Some(stack) = sched::with(|s| {
        s.server.serving = true;
        s.claim_pooled_alone()
    }) {
        sys_thread::start_fresh(stack, serve_direct, incoming);
    }
    let (pooled, direct) = sched::with(|s| {
        s.server.serving = true;
        s.server.call = Some(call_of(incoming));
        let pooled = !s.server.pool.is_empty();
        (pooled, s.start_pooled(pooled_entry))
    });
    if let Some(ctx) = direct {
        // Nothing else to run: straight into the thread, no pass through the idle loop.
        sys_thread::enter(Target::Thread(ctx));
    }
    if !pooled {
        let name = sched::with(|s| {
            s.server.made += 1;
            format!("server-{}", s.server.made)
        });
        if let Err(e) = sched::spawn_locked(name, Box::new(|| serve_call()), true) {
            // No thread, no way to run the call: answer it from here instead of never.
            crate::log!("server: no thread for a call ({e}); refused");
            sched::with(|s| {
                s.server.call = None;
                s.server.data.clear();
                s.server.reply = Some((
                    incoming.token,
                    encode_reply(&Err(DispatchError::Transport(NOT_SERVING))),
                ));
            });
        }
    }
    sched::idle_loop()
}

/// The words of `incoming` a server thread needs.
fn call_of(incoming: &IncomingCall) -> sched::Call {
    sched::Call {
        badge: incoming.badge,
        handle: incoming.handle,
        method: incoming.method,
        args: incoming.args,
        token: incoming.token,
    }
}

/// A pooled server thread started by the fast path with its call (upcalls disabled): it runs
/// the handler and retires in place (`sched::retire_in_place`). The call's record is the
/// upcall's, at the top of this thread's stack.
fn serve_direct(call: &IncomingCall) -> ! {
    critical::enable();
    let reply = handle(call.badge, call.handle, call.method, &call.args);
    sched::retire_in_place(call.token, &reply)
}

/// The installed handler's answer to a call (upcalls enabled: it may block). Inline: no
/// call and frame of its own on every call's way.
#[inline(always)]
fn handle(badge: u64, handle: u64, method: u64, args: &[u64; ARG_WORDS]) -> Reply {
    match HANDLER.lock().as_mut() {
        Some(handler) => handler(Badge(badge), XHandle::from_word(handle), method, args),
        None => Err(DispatchError::Transport(NOT_SERVING)),
    }
}

/// Where a pooled server thread starts for its next call (upcalls disabled, as after any
/// switch). A new one starts in `serve_call` through the runtime's thread entry.
extern "C" fn pooled_entry(_slot: u64) -> ! {
    critical::enable();
    serve_call()
}

/// A server thread's life for one call: it runs the call `on_call` left, then retires to the
/// pool, leaving its reply with the scheduler (`sched::retire_to_pool`). It keeps nothing
/// between calls, so the next one starts it afresh on the same stack: no context is saved at
/// the end of a call or restored at the start of the next.
fn serve_call() -> ! {
    let reply = run_call();
    sched::retire_to_pool(reply)
}

/// Runs the waiting call's handler on this thread; its reply (`None`: no call was waiting).
fn run_call() -> Option<sched::Reply> {
    let call = {
        let _upcalls = critical::disable();
        sched::with(|s| {
            let call = s.server.call.take();
            if call.is_some() {
                // The call's data is this thread's (`take_call_data`, `set_reply_data`).
                s.server.handler = s.current();
            }
            call
        })
    }?;
    let reply = handle(call.badge, call.handle, call.method, &call.args);
    Some((call.token, encode_reply(&reply)))
}

/// Copies a call's `len` bytes out of the page's data area into the server's state, at the
/// IPC_CALL upcall (upcalls disabled). Out of line: a word-only call pays one test for it.
#[cold]
fn copy_call_data(len: u64) {
    // The kernel sends at most PPC_DATA_BYTES; more is not trusted with an index.
    let len = usize::try_from(len).map_or(PPC_DATA_BYTES, |n| n.min(PPC_DATA_BYTES));
    sched::with(|s| {
        let server = &mut s.server;
        if server.data.capacity() == 0 {
            // The handler took the last call's bytes: reuse the buffer the last reply's went
            // out of (sent and emptied by now), rather than allocate.
            core::mem::swap(&mut server.data, &mut server.reply_data);
        }
        server.data.clear();
        server.data.resize(len, 0);
        Page::current().read_ppc_data(&mut server.data);
    });
}
