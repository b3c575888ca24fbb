//! The raw kernel calls: one `syscall` each, with the number in `rax` and the registers that
//! `k42_abi::kernel::call` documents. The kernel side is `kernel/src/kcall/`; the safe layer
//! (transports, blocking, the server loop) is `k42-rt`.
//!
//! Register policy, the same for every call:
//! - `rcx` and `r11` are always clobbered: the `syscall` instruction itself writes them (return
//!   RIP and RFLAGS), and the kernel returns with `sysret`.
//! - `rax` is always an output: the [`Status`] word (written by every call that returns).
//! - Caller-saved argument registers (`rdi rsi rdx r8 r9 r10`) are declared clobbered even where
//!   the ABI says they are preserved: that costs nothing (the compiler treats them as scratch
//!   across any call anyway) and keeps these stubs correct if the kernel ever writes them.
//! - **The kernel must preserve `rbx rbp rsp r12 r13 r14 r15` across every call that
//!   returns**, with one exception, PPC_CALL: it keeps only `rbx rbp rsp`, and its argument
//!   registers `r12 r13 r14` (like `r9`) come back zero after a reply, so they are in-and-out
//!   operands of its stub whose outputs are dropped (the compiler had to put the arguments in
//!   them anyway, so this costs a caller nothing but reusing those values), and its `r15`
//!   (bytes of data sent in, received out) is an in-and-out operand too — for a word-only call
//!   the stub sends 0 and drops what comes back. Elsewhere callee-saved registers used as
//!   inputs (PPC_RETURN's flags and reply-data length in `r12 r13`) are plain inputs.
//! - No `nomem`: object calls make the kernel read and write this process's memory (a log line,
//!   the argv buffer), so each call is a compiler memory barrier. `nostack`: the kernel never
//!   touches the user stack, and upcalls run on the page's `upcall_stack`, not here.
//!
//! Every call is `safe` except [`resume`]: the words they pass are checked by the kernel, and a
//! wrong one makes the call fail. Object calls that carry user *addresses* (e.g. `Boot::argv`)
//! are a soundness caveat of the object interfaces, not of this module: see `k42_rt::ppc`.

use core::arch::asm;

use k42_abi::kernel::{
    ASYNC_PAYLOAD_WORDS, PPC_ARG_WORDS, PPC_DATA_BYTES, SVC_RETURN_STUB, Status, call,
    return_flags, yield_mode,
};
use k42_rights::wire::{ARG_WORDS, REPLY_WORDS};

/// What a PPC_CALL returned: the kernel's status word, and, when it is [`Status::Ok`], the
/// server's five reply words (`k42_rights::wire::decode_reply` reads them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PpcOutcome {
    /// The [`Status`] word from `rax`.
    pub status: u64,
    /// `rdi rsi rdx r10 r8` after the call, in that order.
    pub words: [u64; REPLY_WORDS],
}

// The register lists below are written for these sizes.
const _: () = assert!(ARG_WORDS == 6 && REPLY_WORDS == 5 && ASYNC_PAYLOAD_WORDS == 3);
const _: () = assert!(ARG_WORDS == PPC_ARG_WORDS);

/// PPC_CALL: a synchronous protected procedure call to dispatcher `target`, carrying words only.
///
/// In: `rdi` target CommID, `rsi` handle word, `rdx` method word, `r10 r8 r9 r12 r13 r14` the six
/// argument words, `r15` = 0 (no data). Out: `rax` status; on OK, `rdi rsi rdx r10 r8` the reply
/// words (reply data, if the server sent any, is left in the page unread).
pub fn ppc_call(target: u64, handle: u64, method: u64, args: &[u64; ARG_WORDS]) -> PpcOutcome {
    ppc_call_raw(target, handle, method, args, 0).0
}

/// PPC_CALL with data: as [`ppc_call`], and the first `send_len` bytes of this dispatcher's
/// `ppc_data` ([`crate::page::Page::write_ppc_data`] puts them there) go to the server. Returns
/// the outcome and how many bytes of reply data are now at the start of `ppc_data`
/// ([`crate::page::Page::read_ppc_data`]; 0 unless the status is OK). A `send_len` over
/// `PPC_DATA_BYTES` fails with `BadArgument`.
///
/// The page's data area is shared by every thread of the dispatcher: fill it, call and read
/// the reply with upcalls disabled throughout (`crate::critical`), as `k42_rt::Ppc` does.
pub fn ppc_call_data(
    target: u64,
    handle: u64,
    method: u64,
    args: &[u64; ARG_WORDS],
    send_len: usize,
) -> (PpcOutcome, usize) {
    let (out, received) = ppc_call_raw(target, handle, method, args, send_len as u64);
    // The kernel reports at most PPC_DATA_BYTES; a larger word would be a kernel bug, and is
    // clamped rather than trusted with an index.
    (out, (received as usize).min(PPC_DATA_BYTES))
}

/// PPC_CALL with `r15` = `send_len`; the outcome and `r15` after the call.
#[inline(always)]
fn ppc_call_raw(
    target: u64,
    handle: u64,
    method: u64,
    args: &[u64; ARG_WORDS],
    send_len: u64,
) -> (PpcOutcome, u64) {
    let status: u64;
    let received: u64;
    let (w0, w1, w2, w3, w4): (u64, u64, u64, u64, u64);
    // SAFETY: PPC_CALL per `k42_abi::kernel::call::PPC_CALL`; every register the kernel or the
    // `syscall` instruction writes is an output or clobbered (module comment; r12–r15 are in
    // and out), rbx and rbp are preserved by the ABI, and the call touches no memory of ours except
    // what an object method is documented to read or write and the page's `ppc_data`, which
    // this crate reads and writes only through raw pointers (`crate::page`).
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") call::PPC_CALL => status,
            inlateout("rdi") target => w0,
            inlateout("rsi") handle => w1,
            inlateout("rdx") method => w2,
            inlateout("r10") args[0] => w3,
            inlateout("r8") args[1] => w4,
            inlateout("r9") args[2] => _,
            inlateout("r12") args[3] => _,
            inlateout("r13") args[4] => _,
            inlateout("r14") args[5] => _,
            inlateout("r15") send_len => received,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    let out = PpcOutcome {
        status,
        words: [w0, w1, w2, w3, w4],
    };
    (out, received)
}

/// PPC_RETURN with `flags` (`k42_abi::kernel::return_flags`): answers the call this dispatcher
/// was entered for with reply token `token`.
///
/// In: `rdi` token, `rsi rdx r10 r8 r9` the reply words, `r12` flags, `r13` bytes of reply data
/// at the start of the page's `ppc_data`. Without `WAIT` the caller runs at once and this
/// returns later with the status; with `WAIT` it returns only if the kernel refused the return
/// (e.g. `NotWaiting`, or `BadArgument` for more than `PPC_DATA_BYTES`).
fn ppc_return_flags(token: u64, words: &[u64; REPLY_WORDS], data_len: usize, flags: u64) -> u64 {
    let status: u64;
    // SAFETY: PPC_RETURN per `k42_abi::kernel::call::PPC_RETURN`; outputs and clobbers as in the
    // module comment, r12 and r13 preserved by the ABI; the kernel reads the page's `ppc_data`,
    // which this crate writes only through raw pointers. With WAIT the kernel drops this context
    // (it never resumes here unless the call failed), which is fine: nothing after the asm
    // relies on anything but its outputs.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") call::PPC_RETURN => status,
            inlateout("rdi") token => _,
            inlateout("rsi") words[0] => _,
            inlateout("rdx") words[1] => _,
            inlateout("r10") words[2] => _,
            inlateout("r8") words[3] => _,
            inlateout("r9") words[4] => _,
            in("r12") flags,
            in("r13") data_len as u64,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    status
}

/// PPC_RETURN: answers the call with reply token `token`, the first `data_len` bytes of the
/// page's `ppc_data` going back with the words; the caller runs at once and this dispatcher
/// continues here later (the status word is returned then).
pub fn ppc_return(token: u64, words: &[u64; REPLY_WORDS], data_len: usize) -> u64 {
    ppc_return_flags(token, words, data_len, 0)
}

/// PPC_RETURN with `WAIT`: answers the call (with `data_len` bytes of `ppc_data`, as
/// [`ppc_return`]) and makes this dispatcher idle (enabled, next entered at an upcall). Returns
/// only when the kernel refused the return, with its status.
pub fn ppc_return_and_wait(token: u64, words: &[u64; REPLY_WORDS], data_len: usize) -> u64 {
    ppc_return_flags(token, words, data_len, return_flags::WAIT)
}

/// A kernel call with up to two argument words (`rdi`, `rsi`) and only a status back.
fn call2(number: u64, a: u64, b: u64) -> u64 {
    call3(number, a, b, 0)
}

/// A kernel call with up to three argument words (`rdi`, `rsi`, `rdx`) and only a status back.
fn call3(number: u64, a: u64, b: u64, c: u64) -> u64 {
    let status: u64;
    // SAFETY: a kernel call per `k42_abi::kernel::call` that takes `rdi`/`rsi`/`rdx` and returns
    // only `rax`; outputs and clobbers as in the module comment. The only memory of ours the
    // calls made through here touch is the dispatcher page (RESUME reads its save area, IDLE
    // clears `disabled`), which this process accesses only atomically.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") number => status,
            inlateout("rdi") a => _,
            inlateout("rsi") b => _,
            inlateout("rdx") c => _,
            lateout("r8") _,
            lateout("r9") _,
            lateout("r10") _,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    status
}

/// ASYNC_SEND: a message into dispatcher `target`'s async ring (the kernel stamps our badge).
///
/// In: `rdi` CommID, `rsi` handle word, `rdx` method word, `r10 r8 r9` the payload. Out: `rax`
/// status (`Full` when the ring is full; nothing is queued then).
pub fn async_send(
    target: u64,
    handle: u64,
    method: u64,
    payload: &[u64; ASYNC_PAYLOAD_WORDS],
) -> u64 {
    let status: u64;
    // SAFETY: ASYNC_SEND per `k42_abi::kernel::call::ASYNC_SEND`; outputs and clobbers as in the
    // module comment. The kernel reads only registers.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") call::ASYNC_SEND => status,
            inlateout("rdi") target => _,
            inlateout("rsi") handle => _,
            inlateout("rdx") method => _,
            inlateout("r10") payload[0] => _,
            inlateout("r8") payload[1] => _,
            inlateout("r9") payload[2] => _,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    status
}

/// YIELD in `mode` (`k42_abi::kernel::yield_mode`). `YIELD` and `BLOCK` return when the
/// dispatcher runs again (status in the result); `IDLE` returns only if refused (a server may
/// not idle while it runs a call) — use [`yield_idle`] for it.
pub fn yield_now(mode: u64) -> u64 {
    call2(call::YIELD, mode, 0)
}

/// Sleeps the dispatcher of `page` for good, for code with nothing left to run that must not
/// return: YIELD(BLOCK), and on every wake-up the soft interrupts that woke it are dropped
/// and it blocks again.
pub fn block_for_good(page: crate::page::Page) -> ! {
    loop {
        page.take_pending(u64::MAX);
        yield_now(yield_mode::BLOCK);
    }
}

/// YIELD with `IDLE`: drop this context and sleep until the next upcall. Returns only with the
/// status of a refusal.
pub fn yield_idle() -> u64 {
    call2(call::YIELD, yield_mode::IDLE, 0)
}

/// HANDOFF: gives the rest of this quantum to dispatcher `target` (same class, runnable).
pub fn handoff(target: u64) -> u64 {
    call2(call::HANDOFF, target, 0)
}

/// SET_ENTRY with a raw address. Private: only the stubs of [`crate::upcall`] may be installed,
/// which is what keeps [`crate::upcall::install`] safe.
pub(crate) fn set_entry_raw(vector: u64, address: u64) -> u64 {
    call2(call::SET_ENTRY, vector, address)
}

/// SET_ENTRY with the pseudo-vector `SVC_RETURN_STUB`: the range `[start, end)` of this
/// dispatcher's SVC return stub (`crate::svc_return`).
pub(crate) fn set_svc_return_stub(start: u64, end: u64) -> u64 {
    call3(call::SET_ENTRY, SVC_RETURN_STUB, start, end)
}

/// TIMER: this dispatcher's one-shot timer at `deadline_ns` of the kernel clock (0 cancels).
pub fn timer(deadline_ns: u64) -> u64 {
    call2(call::TIMER, deadline_ns, 0)
}

/// RESUME: restores the registers in the dispatcher page's save area and clears `disabled` in
/// one step. Returns only if the kernel refused, with the status.
///
/// # Safety
///
/// The save area (`DispatcherPage::saved`) must hold a context that is valid to continue: its
/// `rip` in this program's code with a stack that belongs to that context and to nothing still
/// running (typically exactly what the kernel saved at the upcall being returned from).
pub unsafe fn resume() -> u64 {
    call2(call::RESUME, 0, 0)
}

/// REFLECT_RETURN: back to the Linux program after a reflected syscall — the save area's
/// registers with `rax` = `result`, `disabled` cleared in the same step (as RESUME). Returns
/// only if the kernel refused (not a Linux process), with the status.
///
/// # Safety
///
/// As for [`resume`]: the save area must hold the program context the SVC upcall delivered (or
/// one the personality made for the program on purpose, e.g. at exec), which runs on the
/// program's own stack and code, never on anything the runtime still uses.
pub unsafe fn reflect_return(result: u64) -> u64 {
    call2(call::REFLECT_RETURN, result, 0)
}

/// The `DispatchError::Transport` code a transport reports when a PPC succeeded but its reply's
/// status word is none `k42_rights::wire::decode_reply` knows (client and server disagree on
/// the wire format). Chosen outside every [`Status`] value, which the other transport codes are.
pub const UNDECODABLE_REPLY: u64 = u64::MAX;

/// Whether a status word is [`Status::Ok`].
pub fn is_ok(status: u64) -> bool {
    status == Status::Ok as u64
}
