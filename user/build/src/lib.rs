//! The one build-script step every native K42 program shares (`user/bin/*/build.rs` calls
//! [`link_native_program`]): link the binary with the user linker script `user/link.ld` at
//! [`NATIVE_LOAD_BASE`], as a static executable without a dynamic linker.
//!
//! It sits next to `kernel/build.rs`, which does the same for the kernel image with its own
//! script. The load base is passed with `--defsym` so the linker script takes the number from
//! `k42-abi` instead of repeating it. Arguments go through `rustc-link-arg-bins`, so only the
//! program's binary sees them, never a host build or test of anything else.

use k42_abi::kernel::{NATIVE_LOAD_BASE, PERSONALITY_BASE};

/// The user linker script, relative to this crate's manifest (`user/build/`).
const LINKER_SCRIPT: &str = "../link.ld";
/// The symbol `user/link.ld` places the image at.
const LOAD_BASE_SYMBOL: &str = "NATIVE_LOAD_BASE";

/// Prints the cargo directives that link the calling package's binaries as native K42 programs.
pub fn link_native_program() {
    link_at(NATIVE_LOAD_BASE);
}

/// The same for the Linux personality (`user/bin/linux`), linked at [`PERSONALITY_BASE`]: the
/// range the kernel tells personality code from Linux program code by.
pub fn link_personality() {
    link_at(PERSONALITY_BASE);
}

fn link_at(base: u64) {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(LINKER_SCRIPT);
    let script = script.canonicalize().unwrap_or(script);
    println!("cargo:rustc-link-arg-bins=-T{}", script.display());
    println!("cargo:rustc-link-arg-bins=--defsym={LOAD_BASE_SYMBOL}={base:#x}");
    println!("cargo:rustc-link-arg-bins=--no-dynamic-linker");
    println!("cargo:rerun-if-changed={}", script.display());
}
