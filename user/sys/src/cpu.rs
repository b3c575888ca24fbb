//! The few CPU instructions ring 3 uses directly: `rdtsc` (the kernel clock's base, with the
//! rate in the dispatcher page) and I/O-port access for user-level drivers (the console server).
//!
//! Port access from ring 3 works only for ports the kernel opened in this CPU's TSS I/O bitmap
//! (`Process::grant_io_ports`, loaded whenever the process runs); any other port raises #GP,
//! which the kernel reports as a TRAP upcall or ends the process for. So these are safe
//! functions: the grant is the capability, and a device the kernel grants is the grantee's to
//! drive (the kernel grants only devices without DMA, such as the UARTs).

use core::arch::asm;

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
