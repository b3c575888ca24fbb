//! The foreign (Linux) program that shares a Linux process with the personality: its memory and
//! its FS base. The personality (`user/bin/linux`) serves the program's syscalls in the same
//! address space (DESIGN §2.6), so it reads and writes the program's memory directly — these are
//! the only places that turn a program address into bytes, which is why they are here, in the
//! one user crate allowed `unsafe`. The personality calls them only after checking the range
//! against its own map of the program's mappings (`k42_linux::mmap_space`): a program pointer is
//! an allegation until that check.
//!
//! FS is the program's: Linux TLS (`arch_prctl(ARCH_SET_FS)`) lives there, and no native code
//! uses FS (the runtime finds its per-dispatcher data through GS, the dispatcher page), so the
//! personality can set it with `wrfsbase` (the kernel turns CR4.FSGSBASE on where the CPU has
//! it, and keeps FS per dispatcher).

use core::arch::asm;

use k42_abi::kernel::{
    COMM_DISPATCHER_BITS, DISPATCHER_PAGE_BASE, INITIAL_STACK_SIZE, INITIAL_STACK_TOP,
    PERSONALITY_BASE, PERSONALITY_LIMIT, RUNTIME_BASE, RUNTIME_LIMIT, SavedRegs, Status,
};

use crate::page::Page;
use crate::svc_return;

/// Continues the program with `regs`, enabling upcalls (call with them disabled): through the
/// SVC return stub once installed (`crate::svc_return`), else through REFLECT_RETURN. Returns only if refused, with the status: `NotPermitted` when this is
/// not a Linux process, `BadArgument` (without asking the kernel) when `rip` is in the
/// personality's range.
///
/// Safe because it gives the program nothing it does not have: the program shares this address
/// space and could reach any of it anyway (the kernel, not the personality, protects other
/// processes). What matters for this program's Rust code is that no personality code is resumed
/// on a stack or state it did not leave, and that is the `rip` check.
pub fn continue_program(regs: &SavedRegs) -> u64 {
    if (PERSONALITY_BASE..PERSONALITY_LIMIT).contains(&regs.rip) {
        return Status::BadArgument as u64;
    }
    let page = Page::current();
    page.set_saved(regs);
    page.set_saved_live(false);
    // SAFETY: the save area holds a program context (the `rip` check above): the program's
    // code on the program's stack, never anything the runtime still uses.
    unsafe { svc_return::to_program(regs.rax) }
}

/// An address range that is not the program's to hand out: it overlaps memory native code uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotProgramMemory;

/// Dispatchers a process can have, each with a dispatcher page.
const MAX_DISPATCHERS: u64 = 1 << COMM_DISPATCHER_BITS;

/// The ranges native code refers to in a Linux process: the personality's image, the runtime's
/// range, the dispatcher pages, and the initial stack with its red page.
const NATIVE: [(u64, u64); 4] = [
    (PERSONALITY_BASE, PERSONALITY_LIMIT),
    (RUNTIME_BASE, RUNTIME_LIMIT),
    (
        DISPATCHER_PAGE_BASE,
        DISPATCHER_PAGE_BASE + MAX_DISPATCHERS * PAGE_BYTES,
    ),
    (
        INITIAL_STACK_TOP - INITIAL_STACK_SIZE - PAGE_BYTES,
        INITIAL_STACK_TOP,
    ),
];
const PAGE_BYTES: u64 = 4096;

/// `[addr, addr + len)` if it is program memory: no overflow, nothing native code uses.
fn program_range(addr: u64, len: usize) -> Result<(u64, u64), NotProgramMemory> {
    let end = addr.checked_add(len as u64).ok_or(NotProgramMemory)?;
    if end > USER_TOP || NATIVE.iter().any(|&(lo, hi)| addr < hi && end > lo) {
        return Err(NotProgramMemory);
    }
    Ok((addr, end))
}

/// The end of user space (47-bit addresses).
const USER_TOP: u64 = 1 << 47;

/// Returns to the program from an SVC upcall with `result` in `rax` and every other register
/// as the kernel saved them at the `syscall` (the save area untouched but for `rax`; through the
/// SVC return stub once installed, else REFLECT_RETURN): the fast path for a call answered on
/// the upcall stack. Returns only if refused, with the
/// status: `BadArgument` (without asking the kernel) when the save area's `rip` is in the
/// personality's range, i.e. it does not hold a program context.
pub fn return_to_program(result: u64) -> u64 {
    let rip = Page::current().saved_word(core::mem::offset_of!(SavedRegs, rip));
    if (PERSONALITY_BASE..PERSONALITY_LIMIT).contains(&rip) {
        return Status::BadArgument as u64;
    }
    // SAFETY: the save area holds a program context (the `rip` check above): the registers
    // the kernel saved at the program's `syscall`, on the program's stack and code.
    unsafe { svc_return::to_program(result) }
}

/// Copies `dst.len()` bytes of program memory at `src` into `dst`.
///
/// Safe because the range is checked to be none of the memory native code refers to
/// ([`NotProgramMemory`] otherwise): program memory holds no Rust value, so a copy can corrupt
/// nothing of ours. If the range is not mapped the copy faults and the process ends (TRAP) —
/// a crash, not undefined behaviour; the personality avoids even that by checking the range
/// against its map of the program's mappings first (`EFAULT`).
pub fn copy_from(src: u64, dst: &mut [u8]) -> Result<(), NotProgramMemory> {
    program_range(src, dst.len())?;
    // SAFETY: `[src, src + len)` is program memory (checked above), which no Rust reference
    // points into; `dst` is ours, so the two cannot overlap. Unmapped memory faults (see above).
    unsafe { core::ptr::copy_nonoverlapping(src as *const u8, dst.as_mut_ptr(), dst.len()) }
    Ok(())
}

/// Copies `src` into program memory at `dst` (as [`copy_from`]).
pub fn copy_to(dst: u64, src: &[u8]) -> Result<(), NotProgramMemory> {
    program_range(dst, src.len())?;
    // SAFETY: as in `copy_from`, the other way.
    unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), dst as *mut u8, src.len()) }
    Ok(())
}

/// Whether the CPU lets ring 3 write the FS base (CPUID.(EAX=7,ECX=0):EBX bit 0; the kernel
/// enables it in CR4 when it is there).
pub fn fs_base_writable() -> bool {
    // CPUID leaf 7 exists on every CPU with FSGSBASE; on older ones the bit reads 0.
    let ebx: u32;
    // SAFETY: `cpuid` reads identification registers only. rbx is reserved by LLVM, so it is
    // saved and restored around the instruction by hand.
    unsafe {
        asm!(
            "mov {save}, rbx",
            "cpuid",
            "mov {ebx:e}, ebx",
            "mov rbx, {save}",
            save = out(reg) _,
            ebx = out(reg) ebx,
            inout("eax") 7u32 => _,
            inout("ecx") 0u32 => _,
            out("edx") _,
            options(nomem, nostack, preserves_flags),
        );
    }
    ebx & 1 != 0
}

/// Sets the FS base (the program's thread pointer). Call only when [`fs_base_writable`]; the
/// personality checks once at start.
pub fn set_fs_base(base: u64) {
    // SAFETY: `wrfsbase` changes only FS, which no native code uses (module comment); the
    // caller checked the CPU has the instruction and the kernel enabled it (else #UD, a TRAP).
    unsafe { asm!("wrfsbase {}", in(reg) base, options(nomem, nostack, preserves_flags)) }
}

/// The FS base.
pub fn fs_base() -> u64 {
    let base: u64;
    // SAFETY: `rdfsbase` only reads FS's base (same condition as `set_fs_base`).
    unsafe { asm!("rdfsbase {}", out(reg) base, options(nomem, nostack, preserves_flags)) }
    base
}
