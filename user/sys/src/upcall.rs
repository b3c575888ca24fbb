//! Upcall entry stubs: the addresses the kernel enters this dispatcher at (K42's entry vector,
//! `k42_abi::kernel::Entry`), and the Rust handlers they call.
//!
//! At every upcall the kernel sets `disabled` in the page and enters with `rsp` = the page's
//! `upcall_stack` word (IPC_CALL: its `call_stack` word if set, the stack a server named for
//! its next call, `k42_rt::server`) and the vector's registers; everything else is 0. Each
//! stub clears `rbp` (end of the frame-pointer chain), aligns the stack for SysV, moves the
//! vector's registers into SysV arguments and calls the handler registered for the vector.
//! Handlers never return: an upcall ends in PPC_RETURN(WAIT), YIELD(IDLE) or RESUME, each of
//! which re-enables upcalls.
//!
//! Stubs exist for the vectors the runtime uses:
//! - `IpcCall`: `rdi` badge, `rsi` handle word, `rdx` method word, `r10 r8 r9 r12 r13 r14` the
//!   arguments, `r15` the bytes of data in the page's `ppc_data`, `rax` the reply token —
//!   stored into an [`IncomingCall`] on the stack it began on, whose address is the handler's one
//!   argument (the handler copies the data out before anything else uses the area);
//! - `Interrupt`: `rdi` the pending soft-interrupt bits, passed through as the argument;
//! - `Trap`: no registers (the page's `trap` and `saved` say what happened);
//! - `Svc`: no registers (a Linux process's program made a `syscall`: its registers are in the
//!   page's `saved`; the Linux personality serves it, `k42_rt::program`).
//!
//! Before the handler runs, the stack of the thread the upcall interrupted (if one was running)
//! is set aside for `thread::Context::from_saved` (`thread::note_upcall`): from here on the
//! dispatcher is on its upcall stack. One exception: an IPC_CALL that began on the stack named
//! in `call_stack`, where the dispatcher rested (`thread` module, "Resting"), interrupted
//! nothing and runs on that stack, still the running one (`thread::note_call_upcall`).
//!
//! Only these stubs can be installed ([`install`]), so SET_ENTRY never points the kernel at an
//! arbitrary address from safe code. Handlers live in atomics (not behind a lock): an upcall can
//! interrupt any code, including code that is changing a handler.

use core::arch::global_asm;
use core::mem::{offset_of, size_of};
use core::sync::atomic::{AtomicUsize, Ordering};

use k42_abi::kernel::Entry;
use k42_rights::wire::ARG_WORDS;

use crate::kcall;
use crate::page::Page;

/// A PPC as the IPC_CALL upcall delivered it.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IncomingCall {
    /// The caller's badge (its process id), stamped by the kernel.
    pub badge: u64,
    /// The handle word the caller named.
    pub handle: u64,
    /// The method word.
    pub method: u64,
    /// The argument words.
    pub args: [u64; ARG_WORDS],
    /// The reply token for PPC_RETURN.
    pub token: u64,
    /// How many bytes the caller sent: they are at the start of this dispatcher's `ppc_data`
    /// (`Page::read_ppc_data`), at most `PPC_DATA_BYTES`.
    pub data_len: u64,
    /// Keeps the size a multiple of 16 (the stub's stack alignment); always 0.
    pub reserved: u64,
}

// The stub reserves the struct on the stack and keeps rsp 16-byte aligned at its `call`.
const _: () = assert!(size_of::<IncomingCall>().is_multiple_of(16));

/// Handles an IPC_CALL upcall; ends in PPC_RETURN.
pub type CallHandler = fn(&IncomingCall) -> !;
/// Handles an INTERRUPT upcall with the pending bits the kernel passed.
pub type InterruptHandler = fn(u64) -> !;
/// Handles a TRAP upcall (details in the page).
pub type TrapHandler = fn() -> !;
/// Handles an SVC upcall (the program's registers in the page's save area).
pub type SvcHandler = fn() -> !;

/// Registered handlers, as `fn` addresses (0: none). Each holds only values of its own type.
static CALL_HANDLER: AtomicUsize = AtomicUsize::new(0);
static INTERRUPT_HANDLER: AtomicUsize = AtomicUsize::new(0);
static TRAP_HANDLER: AtomicUsize = AtomicUsize::new(0);
static SVC_HANDLER: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" {
    fn k42_sys_ipc_call_stub();
    fn k42_sys_interrupt_stub();
    fn k42_sys_trap_stub();
    fn k42_sys_svc_stub();
}

global_asm!(
    ".pushsection .text.k42_upcall, \"ax\", @progbits",
    // IPC_CALL: store the call's registers as an IncomingCall on the stack it began on.
    ".globl k42_sys_ipc_call_stub",
    ".type k42_sys_ipc_call_stub, @function",
    ".balign 16",
    "k42_sys_ipc_call_stub:",
    "    xor ebp, ebp",
    "    and rsp, -16",
    "    sub rsp, {size}",
    "    mov [rsp + {badge}], rdi",
    "    mov [rsp + {handle}], rsi",
    "    mov [rsp + {method}], rdx",
    "    mov [rsp + {args}], r10",
    "    mov [rsp + {args} + 8], r8",
    "    mov [rsp + {args} + 16], r9",
    "    mov [rsp + {args} + 24], r12",
    "    mov [rsp + {args} + 32], r13",
    "    mov [rsp + {args} + 40], r14",
    "    mov [rsp + {token}], rax",
    "    mov [rsp + {data_len}], r15",
    "    mov qword ptr [rsp + {reserved}], 0",
    "    mov rdi, rsp",
    "    call {ipc_call}",
    "    ud2",
    ".size k42_sys_ipc_call_stub, . - k42_sys_ipc_call_stub",
    // INTERRUPT: rdi already holds the bits, the handler's first argument.
    ".globl k42_sys_interrupt_stub",
    ".type k42_sys_interrupt_stub, @function",
    ".balign 16",
    "k42_sys_interrupt_stub:",
    "    xor ebp, ebp",
    "    and rsp, -16",
    "    call {interrupt}",
    "    ud2",
    ".size k42_sys_interrupt_stub, . - k42_sys_interrupt_stub",
    // TRAP: nothing in registers.
    ".globl k42_sys_trap_stub",
    ".type k42_sys_trap_stub, @function",
    ".balign 16",
    "k42_sys_trap_stub:",
    "    xor ebp, ebp",
    "    and rsp, -16",
    "    call {trap}",
    "    ud2",
    ".size k42_sys_trap_stub, . - k42_sys_trap_stub",
    // SVC: nothing in registers either (the program's are in the save area).
    ".globl k42_sys_svc_stub",
    ".type k42_sys_svc_stub, @function",
    ".balign 16",
    "k42_sys_svc_stub:",
    "    xor ebp, ebp",
    "    and rsp, -16",
    "    call {svc}",
    "    ud2",
    ".size k42_sys_svc_stub, . - k42_sys_svc_stub",
    ".popsection",
    size = const size_of::<IncomingCall>(),
    badge = const offset_of!(IncomingCall, badge),
    handle = const offset_of!(IncomingCall, handle),
    method = const offset_of!(IncomingCall, method),
    args = const offset_of!(IncomingCall, args),
    token = const offset_of!(IncomingCall, token),
    data_len = const offset_of!(IncomingCall, data_len),
    reserved = const offset_of!(IncomingCall, reserved),
    ipc_call = sym ipc_call_upcall,
    interrupt = sym interrupt_upcall,
    trap = sym trap_upcall,
    svc = sym svc_upcall,
);

// The stub writes the six arguments by hand, 8 bytes apart.
const _: () = assert!(ARG_WORDS == 6);

/// When no handler is registered (impossible once [`install`] accepted the vector): sleep until
/// the next upcall, forever.
fn no_handler() -> ! {
    loop {
        kcall::yield_idle();
    }
}

extern "C" fn ipc_call_upcall(call: &IncomingCall) -> ! {
    crate::thread::note_call_upcall();
    let handler = match CALL_HANDLER.load(Ordering::Acquire) {
        0 => no_handler(),
        // SAFETY: CALL_HANDLER holds only `CallHandler` values cast to usize (set_call_handler).
        f => unsafe { core::mem::transmute::<usize, CallHandler>(f) },
    };
    handler(call)
}

extern "C" fn interrupt_upcall(bits: u64) -> ! {
    crate::thread::note_upcall();
    let handler = match INTERRUPT_HANDLER.load(Ordering::Acquire) {
        0 => no_handler(),
        // SAFETY: INTERRUPT_HANDLER holds only `InterruptHandler` values cast to usize.
        f => unsafe { core::mem::transmute::<usize, InterruptHandler>(f) },
    };
    handler(bits)
}

extern "C" fn trap_upcall() -> ! {
    crate::thread::note_upcall();
    let handler = match TRAP_HANDLER.load(Ordering::Acquire) {
        0 => no_handler(),
        // SAFETY: TRAP_HANDLER holds only `TrapHandler` values cast to usize.
        f => unsafe { core::mem::transmute::<usize, TrapHandler>(f) },
    };
    handler()
}

extern "C" fn svc_upcall() -> ! {
    crate::thread::note_upcall();
    let handler = match SVC_HANDLER.load(Ordering::Acquire) {
        0 => no_handler(),
        // SAFETY: SVC_HANDLER holds only `SvcHandler` values cast to usize.
        f => unsafe { core::mem::transmute::<usize, SvcHandler>(f) },
    };
    handler()
}

/// Registers the IPC_CALL handler (replacing any earlier one).
pub fn set_call_handler(handler: CallHandler) {
    CALL_HANDLER.store(handler as usize, Ordering::Release);
}

/// Registers the INTERRUPT handler (replacing any earlier one).
pub fn set_interrupt_handler(handler: InterruptHandler) {
    INTERRUPT_HANDLER.store(handler as usize, Ordering::Release);
}

/// Registers the TRAP handler (replacing any earlier one).
pub fn set_trap_handler(handler: TrapHandler) {
    TRAP_HANDLER.store(handler as usize, Ordering::Release);
}

/// Registers the SVC handler (replacing any earlier one).
pub fn set_svc_handler(handler: SvcHandler) {
    SVC_HANDLER.store(handler as usize, Ordering::Release);
}

/// Why [`install`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstallError {
    /// This crate has no stub for the vector.
    NoStub(Entry),
    /// No handler is registered for the vector yet.
    NoHandler(Entry),
    /// The page's `upcall_stack` is 0: set it first, the kernel enters with it.
    NoUpcallStack,
    /// SET_ENTRY failed with this status word.
    Kernel(u64),
}

/// Points `vector` of this dispatcher at its stub (SET_ENTRY). Needs the vector's handler
/// registered and the page's `upcall_stack` set, because the kernel may enter at once.
pub fn install(vector: Entry) -> Result<(), InstallError> {
    let (stub, handler) = match vector {
        Entry::IpcCall => (k42_sys_ipc_call_stub as *const () as usize, &CALL_HANDLER),
        Entry::Interrupt => (
            k42_sys_interrupt_stub as *const () as usize,
            &INTERRUPT_HANDLER,
        ),
        Entry::Trap => (k42_sys_trap_stub as *const () as usize, &TRAP_HANDLER),
        Entry::Svc => (k42_sys_svc_stub as *const () as usize, &SVC_HANDLER),
        other => return Err(InstallError::NoStub(other)),
    };
    if handler.load(Ordering::Acquire) == 0 {
        return Err(InstallError::NoHandler(vector));
    }
    if Page::current().upcall_stack() == 0 {
        return Err(InstallError::NoUpcallStack);
    }
    match kcall::set_entry_raw(vector as u64, stub as u64) {
        status if kcall::is_ok(status) => Ok(()),
        status => Err(InstallError::Kernel(status)),
    }
}
