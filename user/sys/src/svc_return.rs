//! The SVC return stub: back to the Linux program after a reflected syscall without entering
//! the kernel a second time (`k42_abi::kernel::svc_return`). The save area already holds the
//! program's registers, so the stub loads them itself — RFLAGS through the stack it runs on,
//! the general registers and `rsp` straight from the page through GS (the page is the GS base:
//! no scratch register is needed) — clears `disabled`, and jumps to the program's `rip`.
//! REFLECT_RETURN is still the way back when:
//! - soft interrupts are pending once `disabled` is clear: the stub sets it again and makes the
//!   call, and the kernel delivers them at INTERRUPT with the program's registers saved;
//! - the `rip` is not a user address: what the program gets then is the kernel's to decide.
//!
//! The window: once `disabled` is clear, an interrupt may find the dispatcher enabled with its
//! `rip` in the stub. [`install`] told the kernel where the stub lies (SET_ENTRY with the
//! `SVC_RETURN_STUB` pseudo-vector), and the kernel takes such an interruption as one of the
//! program at its return point: the registers it keeps are the save area's. So the stub writes
//! the save area (the result) and touches its stack (the push) only while still disabled, and
//! nothing once `disabled` is clear but `disabled` itself on the slow path.
//!
//! Neither the FS base nor the FPU/SSE registers are the stub's business: native code never
//! touches them, so they are still the program's (`k42_rt::program` loads the FS base of the
//! program thread it enters before it returns here).

use core::arch::global_asm;
use core::mem::offset_of;
use core::sync::atomic::{AtomicU64, Ordering};

use k42_abi::kernel::{SavedRegs, USER_RFLAGS_MASK, USER_RFLAGS_SET, call, page_offset};

use crate::kcall;
use crate::page::Page;
use crate::upcall::InstallError;

/// The CommID of the dispatcher whose kernel half knows the stub's range (0: none; 0 is the
/// kernel's own CommID, never a dispatcher's). A fork child starts with its parent's value in
/// its copy of this word, but its dispatcher is a new one: it uses the stub only after its own
/// [`install`].
static INSTALLED_FOR: AtomicU64 = AtomicU64::new(0);

/// The end of user space (47-bit addresses): a `rip` at or above it goes through the kernel.
const USER_TOP: u64 = 1 << 47;

unsafe extern "C" {
    /// The stub: `result` into the save area's `rax`, then to the program. Returns only if
    /// the REFLECT_RETURN it made instead was refused, with the status.
    fn k42_sys_svc_return(result: u64) -> u64;
    /// One past the stub's last instruction.
    fn k42_sys_svc_return_end();
}

global_asm!(
    ".pushsection .text.k42_svc_return, \"ax\", @progbits",
    ".globl k42_sys_svc_return",
    ".type k42_sys_svc_return, @function",
    ".balign 16",
    "k42_sys_svc_return:",
    // Still disabled: the result makes the save area final.
    "    mov gs:[{rax}], rdi",
    "    mov rax, {user_top}",
    "    cmp gs:[{rip}], rax",
    "    jae 3f",
    // The program's RFLAGS as the kernel would resume them, on this stack (the stub's one
    // access to memory that may not be mapped yet, so it is done while disabled).
    "    push qword ptr gs:[{rflags}]",
    "    and qword ptr [rsp], {rflags_mask}",
    "    or qword ptr [rsp], {rflags_set}",
    // The window opens: from here to the jump an interruption is the program's.
    "    mov qword ptr gs:[{disabled}], 0",
    "    cmp qword ptr gs:[{pending}], 0",
    "    jne 2f",
    "    popfq",
    "    mov rax, gs:[{rax}]",
    "    mov rbx, gs:[{rbx}]",
    "    mov rcx, gs:[{rcx}]",
    "    mov rdx, gs:[{rdx}]",
    "    mov rsi, gs:[{rsi}]",
    "    mov rdi, gs:[{rdi}]",
    "    mov rbp, gs:[{rbp}]",
    "    mov r8, gs:[{r8}]",
    "    mov r9, gs:[{r9}]",
    "    mov r10, gs:[{r10}]",
    "    mov r11, gs:[{r11}]",
    "    mov r12, gs:[{r12}]",
    "    mov r13, gs:[{r13}]",
    "    mov r14, gs:[{r14}]",
    "    mov r15, gs:[{r15}]",
    "    mov rsp, gs:[{rsp}]",
    "    jmp qword ptr gs:[{rip}]",
    // Soft interrupts pending: disabled again (the window closes), and the kernel delivers
    // them; `rdi` still holds the result.
    "2:",
    "    mov qword ptr gs:[{disabled}], 1",
    "    add rsp, 8",
    "3:",
    "    mov eax, {reflect_return}",
    "    syscall",
    "    ret",
    ".size k42_sys_svc_return, . - k42_sys_svc_return",
    ".globl k42_sys_svc_return_end",
    "k42_sys_svc_return_end:",
    ".popsection",
    rax = const page_offset::SAVED + offset_of!(SavedRegs, rax),
    rbx = const page_offset::SAVED + offset_of!(SavedRegs, rbx),
    rcx = const page_offset::SAVED + offset_of!(SavedRegs, rcx),
    rdx = const page_offset::SAVED + offset_of!(SavedRegs, rdx),
    rsi = const page_offset::SAVED + offset_of!(SavedRegs, rsi),
    rdi = const page_offset::SAVED + offset_of!(SavedRegs, rdi),
    rbp = const page_offset::SAVED + offset_of!(SavedRegs, rbp),
    rsp = const page_offset::SAVED + offset_of!(SavedRegs, rsp),
    r8 = const page_offset::SAVED + offset_of!(SavedRegs, r8),
    r9 = const page_offset::SAVED + offset_of!(SavedRegs, r9),
    r10 = const page_offset::SAVED + offset_of!(SavedRegs, r10),
    r11 = const page_offset::SAVED + offset_of!(SavedRegs, r11),
    r12 = const page_offset::SAVED + offset_of!(SavedRegs, r12),
    r13 = const page_offset::SAVED + offset_of!(SavedRegs, r13),
    r14 = const page_offset::SAVED + offset_of!(SavedRegs, r14),
    r15 = const page_offset::SAVED + offset_of!(SavedRegs, r15),
    rip = const page_offset::SAVED + offset_of!(SavedRegs, rip),
    rflags = const page_offset::SAVED + offset_of!(SavedRegs, rflags),
    disabled = const page_offset::DISABLED,
    pending = const page_offset::PENDING,
    user_top = const USER_TOP,
    rflags_mask = const USER_RFLAGS_MASK,
    rflags_set = const USER_RFLAGS_SET,
    reflect_return = const call::REFLECT_RETURN,
);

// `and`/`or` take the masks as sign-extended 32-bit immediates.
const _: () = assert!(USER_RFLAGS_MASK < 1 << 31 && USER_RFLAGS_SET < 1 << 31);

/// Tells the kernel where this dispatcher's stub lies, after which [`to_program`] uses it. Call
/// once per dispatcher that returns to a Linux program (a fork child again: its dispatcher is
/// new).
pub fn install() -> Result<(), InstallError> {
    let start = k42_sys_svc_return as *const () as u64;
    let end = k42_sys_svc_return_end as *const () as u64;
    match kcall::set_svc_return_stub(start, end) {
        status if kcall::is_ok(status) => {
            INSTALLED_FOR.store(Page::current().comm_id(), Ordering::Relaxed);
            Ok(())
        }
        status => Err(InstallError::Kernel(status)),
    }
}

/// Back to the program: the save area's registers with `rax` = `result`, upcalls enabled —
/// through the stub when the kernel knows it and upcalls are disabled (its precondition),
/// through REFLECT_RETURN otherwise. Returns only if the kernel refused REFLECT_RETURN, with
/// the status.
///
/// # Safety
///
/// As for [`kcall::reflect_return`]: the save area holds a program context, on the program's
/// own stack and code, never anything the runtime still uses.
pub(crate) unsafe fn to_program(result: u64) -> u64 {
    let page = Page::current();
    if page.disabled() && INSTALLED_FOR.load(Ordering::Relaxed) == page.comm_id() {
        // SAFETY: upcalls are disabled, as the stub requires; the kernel knows its range
        // (`install`, by this dispatcher); the save area holds a program context (the caller's
        // contract), which the stub continues exactly as REFLECT_RETURN would.
        unsafe { k42_sys_svc_return(result) }
    } else {
        // SAFETY: the caller's contract is REFLECT_RETURN's.
        unsafe { kcall::reflect_return(result) }
    }
}
