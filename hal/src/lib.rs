//! The hardware crate: the one place in K42 where `unsafe` code lives.
//!
//! Like Asterinas' `ostd`, everything that touches the machine directly — the PVH
//! boot trampoline, CPU tables (GDT, TSS, IDT), trap entry, page tables, port and
//! MMIO access, the local APIC, the kernel heap — is here, behind safe interfaces
//! whose invariants this crate upholds. The kernel crate above it is
//! `#![deny(unsafe_code)]` and holds the policy: what to map, what to log, what a
//! trap means. Every `unsafe` block carries a `// SAFETY:` comment.
#![no_std]

extern crate alloc;

pub mod acpi;
pub mod apic;
pub mod backtrace;
pub mod boot;
pub mod cpu;
pub mod debug;
pub mod exit;
pub mod heap;
pub mod ksyms;
pub mod layout;
pub mod paging;
pub mod phys;
pub mod rtc;
pub mod serial;
pub mod smp;
pub mod time;
pub mod trap;
pub mod user;

pub use boot::BootInfo;
pub use k42_frames::FrameAllocator;

/// Declares the kernel's main function, which the boot path calls on a guarded
/// stack, with paging, traps and the heap ready.
///
/// `entry!(path::to::main)` where `main: fn(BootInfo) -> !`. The macro gives the
/// function the one symbol name the boot path links against, so the kernel crate
/// needs no linkage attributes of its own.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[unsafe(no_mangle)]
        extern "Rust" fn __k42_kernel_main(info: $crate::BootInfo) -> ! {
            let main: fn($crate::BootInfo) -> ! = $main;
            main(info)
        }
    };
}
