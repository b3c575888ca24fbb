//! User mode: the ring-3 side of the machine. Entering and leaving ring 3 (`entry.S`), the
//! per-CPU block the `syscall` entry finds its stack through (`percpu.rs`), user address spaces
//! (`space.rs`), the checked copy between kernel and user memory (`copy.rs`) and per-dispatcher
//! FPU/SSE state (`fpu.rs`).
//!
//! The kernel above is event-driven, as K42's and seL4's are: every entry from user mode — a
//! `syscall`, an interrupt or exception taken in ring 3 — lands on this CPU's entry stack as one
//! [`UserFrame`] and calls the kernel's handler with it; the handler changes the frame (a result,
//! or a whole other dispatcher's registers after switching address spaces) and returns, and the
//! exit path restores whatever the frame then holds. Nothing lives on the entry stack between
//! entries, so there are no kernel threads and no kernel stacks per dispatcher.
//!
//! The hardware crate keeps the exit safe whatever the kernel writes: the exit stub forces user
//! selectors, a user-mode RFLAGS and a canonical user RIP on every way out, by
//! [`UserFrame::make_safe`]'s rules.

mod copy;
mod fpu;
mod percpu;
mod space;

// RFLAGS bits a user context may choose, and those it always runs with: in the ABI because the
// SVC return stub resumes a context without the kernel (`k42_abi::kernel::svc_return`).
use k42_abi::kernel::{USER_RFLAGS_MASK, USER_RFLAGS_SET};
use spin::Once;
use x86_64::structures::gdt::SegmentSelector;

pub use copy::{UserCopyError, UserSlice};
pub use fpu::FpuState;
pub(crate) use percpu::init_cpu;
pub use percpu::{
    UserFsBase, UserGsBase, cpu_index, fsgsbase, io_permit, read_fs_base, read_user_gs_base,
    set_cpu_index, smep_smap,
};
pub use space::{AddressSpace, PageFrame, SpaceRoot, UserFlags};

use crate::trap::TrapFrame;

// The exit's safety rules (`entry.S`, `hal_user_exit`) are `UserFrame::make_safe`'s, with the
// same numbers and the frame's own layout.
core::arch::global_asm!(
    include_str!("entry.S"),
    FRAME_RIP = const core::mem::offset_of!(TrapFrame, rip),
    FRAME_CS = const core::mem::offset_of!(TrapFrame, cs),
    FRAME_RFLAGS = const core::mem::offset_of!(TrapFrame, rflags),
    FRAME_SS = const core::mem::offset_of!(TrapFrame, ss),
    USER_CS_SEL = const USER_CS,
    USER_SS_SEL = const USER_SS,
    RFLAGS_MASK = const USER_RFLAGS_MASK,
    RFLAGS_SET = const USER_RFLAGS_SET,
    USER_TOP = const USER_TOP,
);

/// One past the highest user address: user space is the canonical lower half.
pub const USER_TOP: u64 = 0x0000_8000_0000_0000;

/// The registers of a user context as an entry saved them (the trap frame's layout).
pub type UserFrame = TrapFrame;

/// The `vector` a `syscall` entry records, above every hardware vector.
pub const SYSCALL_VECTOR: u64 = 0x100;

/// How many registers a PPC reply's words travel in ([`UserFrame::resume_kept`]).
pub const REPLY_REGISTERS: usize = 5;

/// User code selector (GDT slot 4, RPL 3); `entry.S` has the same number.
pub const USER_CS: u64 = 0x23;
/// User data/stack selector (GDT slot 3, RPL 3); `entry.S` has the same number.
pub const USER_SS: u64 = 0x1b;
/// Kernel code selector.
const KERNEL_CS: u16 = 0x08;
/// Kernel data selector.
const KERNEL_SS: u16 = 0x10;

/// Where the kernel handles every entry from user mode.
pub type UserEntryHandler = fn(&mut UserFrame);

static HANDLER: Once<UserEntryHandler> = Once::new();

/// Sets the handler of entries from user mode (once; later calls are ignored).
pub fn set_entry_handler(h: UserEntryHandler) {
    HANDLER.call_once(|| h);
}

/// Checks that `cpu::init_cpu` built the GDT in the order `sysret` and `entry.S` assume.
pub(crate) fn check_selectors(
    code: SegmentSelector,
    data: SegmentSelector,
    user_data: SegmentSelector,
    user_code: SegmentSelector,
) {
    assert_eq!(code.0, KERNEL_CS);
    assert_eq!(data.0, KERNEL_SS);
    assert_eq!(u64::from(user_data.0), USER_SS);
    assert_eq!(u64::from(user_code.0), USER_CS);
}

impl UserFrame {
    /// A frame that starts user code at `rip` with stack `rsp` and every other register zero.
    pub const fn new_user(rip: u64, rsp: u64) -> Self {
        Self {
            r15: 0,
            r14: 0,
            r13: 0,
            r12: 0,
            r11: 0,
            r10: 0,
            r9: 0,
            r8: 0,
            rbp: 0,
            rdi: 0,
            rsi: 0,
            rdx: 0,
            rcx: 0,
            rbx: 0,
            rax: 0,
            vector: 0,
            error_code: 0,
            rip,
            cs: USER_CS,
            rflags: USER_RFLAGS_SET,
            rsp,
            ss: USER_SS,
        }
    }

    /// Makes this frame start user code at `rip` with stack `rsp` as [`UserFrame::new_user`]
    /// would, but keeping `rsi rdx r8 r9 r10 r12 r13 r14` as they are: a PPC hands those to
    /// its server unchanged, so they need not be copied out and back. Every other register is
    /// zero, but `rcx` and `r11`, which are set for the `sysret` exit
    /// ([`UserFrame::clobber_for_sysret`]).
    #[inline]
    pub fn restart_keeping_args(&mut self, rip: u64, rsp: u64) {
        (self.rax, self.rbx, self.rdi, self.rbp, self.r15) = (0, 0, 0, 0, 0);
        (self.vector, self.error_code) = (0, 0);
        (self.rip, self.rsp, self.rflags) = (rip, rsp, USER_RFLAGS_SET);
        self.clobber_for_sysret();
    }

    /// The registers of this frame — a caller's at its PPC_CALL — that the kernel interface
    /// keeps across the call (`rbx rbp rsp`), and where it resumes: all a reply does not set, so
    /// all a same-CPU PPC keeps of its caller ([`KeptAcrossCall`]).
    #[inline(always)]
    pub fn kept_across_call(&self) -> KeptAcrossCall {
        KeptAcrossCall {
            rbx: self.rbx,
            rbp: self.rbp,
            rip: self.rip,
            rsp: self.rsp,
            rflags: self.rflags,
        }
    }

    /// Makes this frame the caller's whose registers are `kept`, resumed with a reply: `status`
    /// in `rax`, `words` in `rdi rsi rdx r10 r8`, `data_len` in `r15`, the other argument
    /// registers (`r9 r12 r13 r14`, which the interface does not keep) zero, and `rcx`/`r11`
    /// set for the `sysret` exit ([`UserFrame::clobber_for_sysret`]): the general path's reply
    /// (`set_call_reply`), and nothing of the registers this frame held (another
    /// dispatcher's, in the fast path) reaches the caller. `vector` and `error_code` are left:
    /// the exit does not restore them, and a frame any `syscall` entry saved has the same in
    /// both.
    #[inline(always)]
    pub fn resume_kept(
        &mut self,
        kept: &KeptAcrossCall,
        status: u64,
        words: &[u64; REPLY_REGISTERS],
        data_len: u64,
    ) {
        (self.rbx, self.rbp) = (kept.rbx, kept.rbp);
        (self.rip, self.rsp, self.rflags) = (kept.rip, kept.rsp, kept.rflags);
        // `cs` and `ss` are set by the exit stub.
        self.set_call_reply(status, words, data_len);
    }

    /// Writes a PPC_CALL's outcome into this frame, the caller's: `status` in `rax`, `words` in
    /// `rdi rsi rdx r10 r8`, `data_len` in `r15`, `r9 r12 r13 r14` zero (the interface keeps
    /// none of the argument registers), and `rcx`/`r11` set for the `sysret` exit
    /// ([`UserFrame::clobber_for_sysret`]). Every register but `rbx rbp rsp` and where it
    /// resumes is then the outcome's, whichever path gives it.
    #[inline(always)]
    pub fn set_call_reply(&mut self, status: u64, words: &[u64; REPLY_REGISTERS], data_len: u64) {
        (self.rax, self.r15) = (status, data_len);
        (self.rdi, self.rsi, self.rdx, self.r10, self.r8) =
            (words[0], words[1], words[2], words[3], words[4]);
        (self.r9, self.r12, self.r13, self.r14) = (0, 0, 0, 0);
        self.clobber_for_sysret();
    }

    /// Whether this frame was saved by an entry from user mode.
    pub fn from_user(&self) -> bool {
        self.cs & 3 == 3
    }

    /// Forces the frame into one the exit path can restore without leaving ring 3's rules: user
    /// selectors, a user-mode RFLAGS, and a RIP in user space (a non-canonical or kernel RIP
    /// becomes 0, so the context faults in ring 3, where the kernel sees it as a user fault,
    /// instead of `sysret`/`iret` faulting in ring 0). `entry.S`'s exit applies the same rules
    /// to every frame it restores.
    pub fn make_safe(&mut self) {
        self.cs = USER_CS;
        self.ss = USER_SS;
        self.rflags = (self.rflags & USER_RFLAGS_MASK) | USER_RFLAGS_SET;
        if self.rip >= USER_TOP {
            self.rip = 0;
        }
    }

    /// Makes the exit take the fast `sysret` path: it clobbers RCX and R11 with RIP and RFLAGS,
    /// as a `syscall` return does anyway. Call only where RCX and R11 are not part of the state
    /// being restored. Nothing is made safe here: the exit stub does that to every frame, and
    /// one whose RIP or RFLAGS it has to change then leaves by `iret`, with RCX and R11 as set
    /// here (a context ring 3 could not have had anyway).
    #[inline]
    pub fn clobber_for_sysret(&mut self) {
        self.rcx = self.rip;
        self.r11 = self.rflags;
    }
}

/// What a caller keeps across a PPC ([`UserFrame::kept_across_call`]): the registers the kernel
/// interface preserves across PPC_CALL and where the caller resumes. Five words instead of a
/// whole frame: the rest is the call's arguments and outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeptAcrossCall {
    rbx: u64,
    rbp: u64,
    rip: u64,
    rsp: u64,
    rflags: u64,
}

impl KeptAcrossCall {
    /// A whole frame that resumes the caller as these registers say, every other register
    /// zero: for the general path, which writes a reply or an error into a frame.
    pub fn to_frame(&self) -> UserFrame {
        let mut f = UserFrame::new_user(self.rip, self.rsp);
        f.rflags = self.rflags;
        (f.rbx, f.rbp) = (self.rbx, self.rbp);
        f.vector = SYSCALL_VECTOR;
        f.clobber_for_sysret();
        f
    }
}

/// Called by `entry.S` for an interrupt or exception taken in ring 3: screened
/// ([`hardware_entry`]), then the kernel's handler. The exit that follows makes the frame safe,
/// whatever the handler left in it (`entry.S`'s `hal_user_exit`, by [`UserFrame::make_safe`]'s
/// rules).
#[unsafe(no_mangle)]
extern "C" fn hal_user_entry(frame: &mut UserFrame) {
    if hardware_entry(frame) {
        hal_syscall_handler(frame);
    }
}

/// Called by `entry.S` for a `syscall` (most entries, and the PPC fast path's), and by
/// [`hal_user_entry`] for a hardware entry it let through: the kernel's handler. Its last call,
/// so a jump, with no frame of its own.
#[unsafe(no_mangle)]
extern "C" fn hal_syscall_handler(frame: &mut UserFrame) {
    match HANDLER.get() {
        Some(h) => h(frame),
        None => crate::trap::fatal(frame),
    }
}

/// Screens an interrupt or exception from ring 3: a fatal one stops the machine, a spurious
/// interrupt is resumed at once (`false`), a device interrupt is acknowledged; `true` when the
/// kernel's handler is to see it.
fn hardware_entry(frame: &mut UserFrame) -> bool {
    let vector = frame.vector;
    let is_fatal = [
        crate::trap::DOUBLE_FAULT,
        crate::trap::NMI,
        crate::trap::MACHINE_CHECK,
    ]
    .iter()
    .any(|&v| u64::from(v) == vector);
    if is_fatal {
        crate::trap::fatal(frame);
    }
    if vector == u64::from(crate::trap::SPURIOUS_VECTOR) {
        return false;
    }
    if (u64::from(crate::trap::EXCEPTION_COUNT)..SYSCALL_VECTOR).contains(&vector) {
        // A device interrupt: acknowledge it first; the kernel runs with interrupts off, so
        // the next one cannot arrive before the handler is done.
        crate::apic::end_of_interrupt();
    }
    true
}

/// Leaves the kernel for user mode on this CPU with `frame`'s registers, for the first entry
/// into ring 3 on a CPU (later exits return from `hal_user_entry`). The caller's stack is
/// abandoned.
pub fn enter(frame: &UserFrame) -> ! {
    let mut frame = *frame;
    frame.make_safe();
    let slot = percpu::entry_top() - core::mem::size_of::<UserFrame>() as u64;
    unsafe extern "C" {
        fn hal_user_enter_frame(frame: u64) -> !;
    }
    // SAFETY: `slot` is the top of this CPU's entry stack, mapped and unused while the kernel
    // runs anywhere else (the caller is not on it: entries from user mode are the only users,
    // and this is the first exit); the frame was made safe above, so `hal_user_exit` leaves
    // for ring 3 with user selectors and a user RIP.
    unsafe {
        core::ptr::write(slot as *mut UserFrame, frame);
        hal_user_enter_frame(slot)
    }
}
