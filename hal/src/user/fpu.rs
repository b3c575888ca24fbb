//! FPU/SSE register state, saved per dispatcher: the kernel saves the outgoing dispatcher's and
//! restores the incoming one's whenever it switches between them (never on an upcall into the
//! same dispatcher, whose user-level scheduler saves what its threads need).
//!
//! `fxsave`'s 512-byte legacy area: x87, MXCSR and XMM0–15. AVX state would need XSAVE and
//! CR4.OSXSAVE, which stays off, so CPUID tells programs AVX is unusable and they do not use it.

/// Offset of the x87 control word in the `fxsave` area.
const FCW_OFFSET: usize = 0;
/// Offset of MXCSR in the `fxsave` area.
const MXCSR_OFFSET: usize = 24;
/// The x87 control word after `fninit`: all exceptions masked, 64-bit precision.
const FCW_DEFAULT: u16 = 0x037f;
/// MXCSR after reset: all SSE exceptions masked, round to nearest.
const MXCSR_DEFAULT: u32 = 0x1f80;
/// Size of the `fxsave` area.
const AREA: usize = 512;

/// One context's FPU/SSE registers.
#[repr(C, align(16))]
#[derive(Clone)]
pub struct FpuState([u8; AREA]);

impl Default for FpuState {
    /// The state a fresh context starts with (as after `fninit` and reset MXCSR, registers zero).
    fn default() -> Self {
        let mut area = [0; AREA];
        area[FCW_OFFSET..FCW_OFFSET + 2].copy_from_slice(&FCW_DEFAULT.to_le_bytes());
        area[MXCSR_OFFSET..MXCSR_OFFSET + 4].copy_from_slice(&MXCSR_DEFAULT.to_le_bytes());
        Self(area)
    }
}

impl FpuState {
    /// Saves this CPU's FPU/SSE registers here.
    pub fn save(&mut self) {
        // SAFETY: the area is 512 bytes, 16-byte aligned and exclusively borrowed; CR4.OSFXSR
        // is set on every CPU by `percpu::init_cpu`.
        unsafe { core::arch::asm!("fxsave64 [{}]", in(reg) self.0.as_mut_ptr(), options(nostack)) };
    }

    /// Loads this CPU's FPU/SSE registers from here.
    pub fn restore(&self) {
        // SAFETY: as in `save`; the area only ever holds what `save` wrote or the default,
        // whose MXCSR has no reserved bit set, so `fxrstor` cannot fault.
        unsafe { core::arch::asm!("fxrstor64 [{}]", in(reg) self.0.as_ptr(), options(nostack)) };
    }
}
