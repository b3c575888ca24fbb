//! The one place for numbers and layouts shared across the ring-0/ring-3 line and
//! with the host-side runner (`xtask`).
//!
//! Anything two parties must agree on — an I/O port, an exit code, a line format the
//! runner parses, a path inside the initramfs — is defined here once, so the kernel,
//! the user-level code and the xtask cannot drift apart. The C init wrapper used on
//! Linux gets the same values from the xtask as `-D` defines.
#![no_std]

pub mod kernel;
pub mod runner;
pub mod testfmt;
