//! The few CPU instructions ring 3 uses directly: `rdtsc` (the kernel clock's base, with the
//! rate in the dispatcher page), `rdrand` (the key of a Linux process's random bytes,
//! `k42_linux::random`) and I/O-port access for user-level drivers (the console server).
//!
//! Port access from ring 3 works only for ports the kernel opened in this CPU's TSS I/O bitmap
//! (`Process::grant_io_ports`, loaded whenever the process runs); any other port raises #GP,
//! which the kernel reports as a TRAP upcall or ends the process for. So these are safe
//! functions: the grant is the capability, and a device the kernel grants is the grantee's to
//! drive (the kernel grants only devices without DMA, such as the UARTs).

use core::arch::asm;
use core::sync::atomic::{AtomicU8, Ordering};

/// The time-stamp counter.
pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: `rdtsc` only reads the counter (CR4.TSD is clear: the kernel lets ring 3 read it,
    // which the dispatcher page's `tsc_per_ms` presumes).
    unsafe {
        asm!("rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags));
    }
    (u64::from(hi) << u32::BITS) | u64::from(lo)
}

/// CPUID leaf 1's ECX bit that says the CPU has `RDRAND`.
const CPUID_ECX_RDRAND: u32 = 1 << 30;

/// Tries of `RDRAND` before it is taken as broken: Intel's guide says ten failures in a row
/// mean a hardware fault, not an exhausted buffer.
const RDRAND_TRIES: usize = 10;

/// [`has_rdrand`]'s answer, once asked: `UNKNOWN` before.
static RDRAND: AtomicU8 = AtomicU8::new(UNKNOWN);
const UNKNOWN: u8 = 0;
const ABSENT: u8 = 1;
const PRESENT: u8 = 2;

/// Whether the CPU has `RDRAND` (CPUID leaf 1), asked once.
pub fn has_rdrand() -> bool {
    match RDRAND.load(Ordering::Relaxed) {
        UNKNOWN => {
            // Leaf 1 exists on every x86_64 CPU.
            let present = core::arch::x86_64::__cpuid(1).ecx & CPUID_ECX_RDRAND != 0;
            RDRAND.store(if present { PRESENT } else { ABSENT }, Ordering::Relaxed);
            present
        }
        known => known == PRESENT,
    }
}

/// 64 random bits from the CPU's `RDRAND`, or `None` when it has none or gave none in
/// [`RDRAND_TRIES`] tries. All ones counts as none: it is what some AMD CPUs' broken RDRAND
/// returns while reporting success (Linux's boot check looks for the same).
pub fn rdrand64() -> Option<u64> {
    if !has_rdrand() {
        return None;
    }
    (0..RDRAND_TRIES).find_map(|_| {
        // SAFETY: the CPU has RDRAND (checked above).
        unsafe { rdrand_step() }.filter(|&v| v != u64::MAX)
    })
}

/// One `RDRAND`: its 64 bits, or `None` when the CPU had none ready (carry clear).
///
/// # Safety
///
/// The CPU must have `RDRAND` ([`has_rdrand`]); otherwise the instruction faults (#UD).
#[target_feature(enable = "rdrand")]
unsafe fn rdrand_step() -> Option<u64> {
    let mut value = 0u64;
    // `_rdrand64_step` only writes `value` and the flags; the target feature is the caller's
    // promise.
    (core::arch::x86_64::_rdrand64_step(&mut value) == 1).then_some(value)
}

/// Reads a byte from I/O port `port` (#GP unless the kernel granted it).
pub fn inb(port: u16) -> u8 {
    let value: u8;
    // SAFETY: an `in` touches no memory; without the port's grant it faults into the kernel.
    unsafe {
        asm!("in al, dx", in("dx") port, out("al") value, options(nomem, nostack, preserves_flags));
    }
    value
}

/// Writes a byte to I/O port `port` (#GP unless the kernel granted it).
pub fn outb(port: u16, value: u8) {
    // SAFETY: an `out` to a granted device touches no memory of this process (see the module
    // comment); without the grant it faults into the kernel.
    unsafe {
        asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags));
    }
}
