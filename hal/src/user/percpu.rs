//! This CPU's block for the `syscall` entry (reached through GS in ring 0: the entry stack's
//! top and a scratch slot for the user RSP), and the model-specific registers that make
//! `syscall`/`sysret` work: EFER.SCE, STAR, LSTAR, SFMASK. Also the CPU features user mode needs
//! on: SSE state (CR4.OSFXSR) and, where the CPU has them, SMEP and SMAP — the kernel never
//! touches user addresses directly (`copy.rs` goes through the direct map), so SMAP costs nothing
//! — and FSGSBASE, so user code sets its own FS base with `wrfsbase` (a Linux program's TLS).
//!
//! With FSGSBASE on, user code can put any value in the FS and GS bases, so the kernel must never
//! trust them. It does not: every entry from ring 3 (`syscall`, and `trap.S`'s traps whose saved
//! CS has RPL 3) runs `swapgs` first and every exit last, entries from ring 0 never do, and ring 0
//! reaches this block only through the GS base that `swapgs` brought in (the kernel's, set by
//! `init_cpu`). The user's GS base only ever sits in KERNEL_GS_BASE while the kernel runs; the
//! kernel writes it (the dispatcher page) and never reads through it. The user's FS base is
//! saved and restored per dispatcher as a value (`read_fs_base` and `UserFsBase::load` read and
//! write the MSR, which is what `wrfsbase` writes) and never used as an address. The one window
//! with a user GS base in ring 0 — the few instructions of `entry.S` between `syscall` and
//! `swapgs`, or `swapgs` and `sysret`/`iret`, with interrupts off — can only be hit by an NMI
//! or machine check, which the kernel treats as fatal.

use alloc::boxed::Box;

use x86_64::PrivilegeLevel;
use x86_64::VirtAddr;
use x86_64::registers::control::{Cr0, Cr0Flags, Cr4, Cr4Flags};
use x86_64::registers::model_specific::{
    Efer, EferFlags, FsBase, GsBase, KernelGsBase, LStar, SFMask, Star,
};
use x86_64::registers::rflags::RFlags;
use x86_64::structures::gdt::SegmentSelector;

use super::{KERNEL_CS, KERNEL_SS, USER_CS, USER_SS};
use crate::paging::KernelStack;

/// The per-CPU block `entry.S` reads through GS; offsets are fixed there.
#[repr(C)]
struct CpuLocal {
    /// Its own address, for Rust code that wants the block.
    this: u64,
    /// Top of this CPU's entry stack (`CPU_ENTRY_TOP` in entry.S).
    entry_top: u64,
    /// The user RSP while the `syscall` entry switches stacks (`CPU_USER_RSP`).
    user_rsp: u64,
    /// This CPU's I/O permission bitmap (`cpu::IOMAP_BYTES` bytes behind its TSS).
    iomap: *mut u8,
    /// The kernel's index for this CPU (`set_cpu_index`), or `u64::MAX` before it is set.
    index: core::sync::atomic::AtomicU64,
}

/// CPUID leaf 7 EBX bits.
const CPUID_SMEP: u32 = 1 << 7;
const CPUID_SMAP: u32 = 1 << 20;
const CPUID_FSGSBASE: u32 = 1 << 0;

/// Sets up this CPU for user mode; `entry` is the stack entries from ring 3 land on.
pub(crate) fn init_cpu(entry: KernelStack, iomap: *mut u8) {
    let block: &'static mut CpuLocal = Box::leak(Box::new(CpuLocal {
        this: 0,
        entry_top: entry.top,
        user_rsp: 0,
        iomap,
        index: core::sync::atomic::AtomicU64::new(u64::MAX),
    }));
    block.this = core::ptr::from_mut(block) as u64;
    GsBase::write(VirtAddr::new(block.this));
    KernelGsBase::write(VirtAddr::zero());
    unsafe extern "C" {
        fn hal_syscall_entry();
    }
    LStar::write(VirtAddr::new(hal_syscall_entry as *const () as u64));
    // Interrupts stay off in the kernel; TF, DF, AC and NT never leak in from user mode.
    SFMask::write(
        RFlags::INTERRUPT_FLAG
            | RFlags::TRAP_FLAG
            | RFlags::DIRECTION_FLAG
            | RFlags::ALIGNMENT_CHECK
            | RFlags::NESTED_TASK,
    );
    Star::write(
        SegmentSelector(USER_CS as u16),
        SegmentSelector(USER_SS as u16),
        SegmentSelector::new(KERNEL_CS >> 3, PrivilegeLevel::Ring0),
        SegmentSelector::new(KERNEL_SS >> 3, PrivilegeLevel::Ring0),
    )
    .expect("the GDT layout check_selectors verified suits STAR");
    // SAFETY: turning on `syscall` and no-execute changes nothing for code that does not use
    // them, and the kernel's page tables already rely on NXE (set by the trampoline).
    unsafe {
        Efer::update(|f| f.insert(EferFlags::SYSTEM_CALL_EXTENSIONS | EferFlags::NO_EXECUTE_ENABLE))
    };
    // SAFETY: EM off and MP on let SSE instructions run; OSFXSR/OSXMMEXCPT say the kernel saves
    // that state (`fpu.rs`, per dispatcher). The kernel itself is built soft-float and never
    // touches it.
    unsafe {
        Cr0::update(|f| {
            f.remove(Cr0Flags::EMULATE_COPROCESSOR);
            f.insert(Cr0Flags::MONITOR_COPROCESSOR);
        });
        Cr4::update(|f| f.insert(Cr4Flags::OSFXSR | Cr4Flags::OSXMMEXCPT_ENABLE));
    }
    let features = core::arch::x86_64::__cpuid_count(7, 0).ebx;
    let mut protect = Cr4Flags::empty();
    if features & CPUID_SMEP != 0 {
        protect |= Cr4Flags::SUPERVISOR_MODE_EXECUTION_PROTECTION;
    }
    if features & CPUID_SMAP != 0 {
        protect |= Cr4Flags::SUPERVISOR_MODE_ACCESS_PREVENTION;
    }
    // SAFETY: ring 0 never executes from or reads/writes user pages: kernel code is in the
    // upper half, and user memory is copied through the direct map (`copy.rs`).
    unsafe { Cr4::update(|f| f.insert(protect)) };
    if features & CPUID_FSGSBASE != 0 {
        // SAFETY: this only lets ring 3 read and write its own FS and GS bases with
        // `rdfsbase`/`wrfsbase`/`rdgsbase`/`wrgsbase`; the kernel never trusts either (see the
        // module comment: `swapgs` on every entry from ring 3 and only then, the user FS base
        // kept as a value per dispatcher, the user GS base never read through).
        unsafe { Cr4::update(|f| f.insert(Cr4Flags::FSGSBASE)) };
    }
}

/// Whether SMEP and SMAP are on on this CPU.
pub fn smep_smap() -> (bool, bool) {
    let cr4 = Cr4::read();
    (
        cr4.contains(Cr4Flags::SUPERVISOR_MODE_EXECUTION_PROTECTION),
        cr4.contains(Cr4Flags::SUPERVISOR_MODE_ACCESS_PREVENTION),
    )
}

/// Whether user code may use `rdfsbase`/`wrfsbase`/`rdgsbase`/`wrgsbase` on this CPU
/// (CR4.FSGSBASE, set by `init_cpu` when the CPU has it).
pub fn fsgsbase() -> bool {
    Cr4::read().contains(Cr4Flags::FSGSBASE)
}

#[inline]
fn local() -> *const CpuLocal {
    // The block's first word is its own address (`init_cpu`), read GS-relative: one load, where
    // reading IA32_GS_BASE would be an MSR access on every call (several per kernel entry).
    let block: u64;
    // SAFETY: in ring 0 the GS base is this CPU's block (module comment); its first word is
    // readable and reading it has no side effects. Before `init_cpu` the GS base is 0 and the
    // read faults at address 0, which the kernel reports as a fatal page fault.
    unsafe {
        core::arch::asm!(
            "mov {}, gs:[0]",
            out(reg) block,
            options(nostack, readonly, preserves_flags)
        );
    }
    block as *const CpuLocal
}

/// Top of this CPU's entry stack.
pub(crate) fn entry_top() -> u64 {
    // SAFETY: GS base in ring 0 is this CPU's leaked `CpuLocal`, set by `init_cpu` and never
    // freed; `entry_top` is written once before and only read after.
    unsafe { (*local()).entry_top }
}

/// Records the kernel's index for this CPU, so `cpu_index` finds it without a device read.
pub fn set_cpu_index(index: u64) {
    // SAFETY: as in `entry_top`; `index` is an atomic, shared only with this CPU's readers.
    unsafe {
        (*local())
            .index
            .store(index, core::sync::atomic::Ordering::Relaxed)
    }
}

/// The kernel's index for this CPU (`u64::MAX` before `set_cpu_index`).
#[inline]
pub fn cpu_index() -> u64 {
    // SAFETY: as in `set_cpu_index`.
    unsafe { (*local()).index.load(core::sync::atomic::Ordering::Relaxed) }
}

/// Allows (or denies again) ring-3 access to I/O ports `first..first+count` on this CPU, for
/// the dispatcher about to run (the kernel denies the previous one's ports first).
pub fn io_permit(first: u16, count: u16, allow: bool) {
    // SAFETY: as in `entry_top`; `iomap` points at this CPU's bitmap, which only this CPU
    // writes, with interrupts off (the kernel runs so), and the CPU reads only on port access
    // from ring 3, which cannot happen while the kernel runs here.
    let iomap = unsafe { (*local()).iomap };
    for port in u32::from(first)..(u32::from(first) + u32::from(count)).min(1 << 16) {
        let (byte, bit) = ((port / 8) as usize, port % 8);
        // SAFETY: `byte` < IOMAP_BYTES because `port` < 65536.
        unsafe {
            let b = iomap.add(byte);
            if allow {
                *b &= !(1 << bit);
            } else {
                *b |= 1 << bit;
            }
        }
    }
}

/// The FS base user code runs with (thread-local storage), saved per dispatcher by the kernel.
#[inline]
pub fn read_fs_base() -> UserFsBase {
    // Read raw: the MSR holds a canonical address by construction (a non-canonical write
    // faults), so `FsBase::read`'s check of it would only cost every dispatcher switch.
    // SAFETY: IA32_FS_BASE exists on every x86_64 CPU; reading it in ring 0 has no side
    // effects.
    UserFsBase(unsafe { FsBase::MSR.read() })
}

/// An FS base as [`read_fs_base`] read it from the MSR, or zero: canonical by construction, so
/// [`UserFsBase::load`] writes it back with no check (a dispatcher switch does, when the two
/// dispatchers' differ).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UserFsBase(u64);

impl UserFsBase {
    /// Makes it the FS base user code runs with.
    #[inline]
    pub fn load(self) {
        let mut msr = FsBase::MSR;
        // SAFETY: the value came from IA32_FS_BASE itself, or is zero (the type's only
        // makers), so it is canonical and the write cannot fault; the kernel never uses FS.
        unsafe { msr.write(self.0) }
    }
}

/// A GS base for user code, checked canonical once ([`UserGsBase::new`]), so
/// [`UserGsBase::load`] writes it with no check: a dispatcher's page address, loaded at every
/// switch to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserGsBase(u64);

impl UserGsBase {
    /// `base` if it is a canonical address.
    pub fn new(base: u64) -> Option<Self> {
        VirtAddr::try_new(base).ok().map(|_| Self(base))
    }

    /// Makes it the GS base user code will run with (KERNEL_GS_BASE until `swapgs`).
    #[inline]
    pub fn load(self) {
        let mut msr = KernelGsBase::MSR;
        // SAFETY: checked canonical when made, so the write cannot fault; the kernel's own GS
        // base is in IA32_GS_BASE, untouched.
        unsafe { msr.write(self.0) }
    }
}

/// The GS base user code runs with: while in ring 0 it waits in KERNEL_GS_BASE for `swapgs`.
pub fn read_user_gs_base() -> u64 {
    KernelGsBase::read().as_u64()
}
