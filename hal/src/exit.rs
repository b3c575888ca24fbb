//! Ending the machine: QEMU's `isa-debug-exit` device carries the verdict out
//! (`k42_abi::runner`), and on hardware without it the CPU halts for good.

use x86_64::instructions::port::Port;

/// Writes `value` to the debug-exit port (QEMU then exits with `(value << 1) | 1`)
/// and halts if the device is absent.
pub fn qemu_exit(value: u32) -> ! {
    // SAFETY: the debug-exit port has no memory effect; on a machine without the
    // device the write is ignored and we halt below.
    unsafe { Port::<u32>::new(k42_abi::runner::DEBUG_EXIT_PORT).write(value) };
    halt_forever()
}

/// Disables interrupts and halts this CPU forever.
pub fn halt_forever() -> ! {
    x86_64::instructions::interrupts::disable();
    loop {
        x86_64::instructions::hlt();
    }
}
