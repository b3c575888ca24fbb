//! The FPU/SSE state of the Linux program that shares a Linux process with the personality
//! (`user/bin/linux`), as FXSAVE images: a signal handler's frame carries the interrupted
//! program's state, and `rt_sigreturn` puts it back (Linux's `struct _fpstate_64`).
//!
//! Native code is built soft-float, so while the personality runs the CPU's x87/SSE registers
//! still hold the program's values (the kernel switches them per dispatcher, eagerly): saving
//! them here at any point of a syscall or of a resume saves the program's. FXSAVE and FXRSTOR
//! are unprivileged; the kernel enables them (CR4.OSFXSR) and keeps AVX off (no XSAVE state).
//! It sits next to `foreign.rs` (the program's memory and FS base).

use core::arch::asm;

/// Bytes of an FXSAVE image.
pub const FXSAVE_BYTES: usize = 512;
/// Where MXCSR and MXCSR_MASK sit in the image (Intel SDM vol. 1, table 10-2).
const MXCSR_AT: usize = 24;
const MXCSR_MASK_AT: usize = 28;
/// The MXCSR mask a CPU that reports 0 has (the SDM's default: every bit but DAZ).
const DEFAULT_MXCSR_MASK: u32 = 0xffbf;

/// An FXSAVE image, aligned as the instruction needs.
#[repr(C, align(16))]
#[derive(Clone, Copy)]
pub struct FxState(pub [u8; FXSAVE_BYTES]);

impl Default for FxState {
    fn default() -> Self {
        Self([0; FXSAVE_BYTES])
    }
}

/// An image FXRSTOR would fault on: MXCSR has bits the CPU reserves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadFxState;

impl FxState {
    fn word(&self, at: usize) -> u32 {
        let mut w = [0u8; 4];
        w.copy_from_slice(&self.0[at..at + 4]);
        u32::from_le_bytes(w)
    }
}

/// The CPU's x87/SSE state now (the program's, module comment).
pub fn save() -> FxState {
    let mut area = FxState::default();
    // SAFETY: FXSAVE writes exactly 512 bytes at a 16-byte-aligned address, which `area` is
    // (`repr(align(16))`, 512 bytes); it changes no register.
    unsafe {
        asm!("fxsave64 [{}]", in(reg) area.0.as_mut_ptr(), options(nostack, preserves_flags));
    }
    area
}

/// Loads `area` into the CPU's x87/SSE registers (what the program continues with), after
/// checking what FXRSTOR would fault on: MXCSR bits outside the CPU's mask.
pub fn restore(area: &FxState) -> Result<(), BadFxState> {
    let mask = match save().word(MXCSR_MASK_AT) {
        0 => DEFAULT_MXCSR_MASK,
        m => m,
    };
    if area.word(MXCSR_AT) & !mask != 0 {
        return Err(BadFxState);
    }
    // SAFETY: FXRSTOR reads 512 bytes at a 16-byte-aligned address (`area`), and with MXCSR's
    // reserved bits clear (checked above) it cannot fault. It changes only x87/SSE registers,
    // which no native code uses (soft-float).
    unsafe {
        asm!("fxrstor64 [{}]", in(reg) area.0.as_ptr(), options(nostack, preserves_flags));
    }
    Ok(())
}
