//! The dynamic linkers and shared libraries the root file system carries, so dynamically
//! linked programs (the guest tier's `*.dyn.c`, `*.nopie-dyn.c` and `*.musl-dyn.c`, or any Debian program
//! given with `--rootfs`) run on both OSes: the host's own Debian glibc (`libc6`: its
//! `ld-linux-x86-64.so.2`, `libc.so.6`, `libm.so.6`) and musl (`musl`: its `libc.so`, which is
//! also its dynamic linker), at the paths Debian puts them, with Debian's links to the
//! linkers (`/lib64/ld-linux-x86-64.so.2`, `/lib/ld-musl-x86_64.so.1`: the paths programs'
//! `PT_INTERP` name).
//!
//! glibc's `ld.so` finds the libraries without `/etc/ld.so.cache` (there is none: its open
//! fails with `ENOENT` and it falls back) along its built-in search path, which Debian starts
//! with `/lib/x86_64-linux-gnu`. `rootfs.rs` adds [`archive`] to the image; `prereq.rs` makes
//! sure the packages are installed ([`REQUIRED`]).

use k42_cpio::Writer;

use crate::rootfs;

/// glibc's dynamic linker, where programs name it (`PT_INTERP`): a link on Debian.
pub const GLIBC_LOADER: &str = "/lib64/ld-linux-x86-64.so.2";
/// musl's dynamic linker, where programs name it: a link to musl's `libc.so` on Debian.
pub const MUSL_LOADER: &str = "/lib/ld-musl-x86_64.so.1";
/// Debian's multiarch directories for glibc and musl.
const GLIBC_DIR: &str = "/lib/x86_64-linux-gnu";
const MUSL_DIR: &str = "/lib/x86_64-linux-musl";
/// Permission bits of a shared object, as Debian installs them.
const LIB_MODE: u32 = 0o755;

/// The files copied from the host, at the same paths in the image: glibc's linker, C library
/// and maths library (which the guest tests `dlopen`), and musl's C library and linker.
const FILES: [&str; 4] = [
    "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
    "/lib/x86_64-linux-gnu/libc.so.6",
    "/lib/x86_64-linux-gnu/libm.so.6",
    "/lib/x86_64-linux-musl/libc.so",
];

/// Debian's links to the linkers: (link, target).
const LINKS: [(&str, &str); 2] = [
    (GLIBC_LOADER, "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
    (MUSL_LOADER, "/lib/x86_64-linux-musl/libc.so"),
];

/// The Debian packages that hold [`FILES`], with a file each that shows it is installed.
pub const REQUIRED: [(&str, &str); 2] = [(GLIBC_LOADER, "libc6"), (MUSL_LOADER, "musl")];

/// The archive of the linkers, the libraries and their links.
pub fn archive() -> Result<Vec<u8>, String> {
    let mut w = Writer::new();
    rootfs::add_parents(&mut w, &format!("{GLIBC_DIR}/x"));
    rootfs::add_parents(&mut w, &format!("{MUSL_DIR}/x"));
    rootfs::add_parents(&mut w, GLIBC_LOADER);
    for path in FILES {
        let data = std::fs::read(path)
            .map_err(|e| format!("cannot read the shared library {path}: {e}"))?;
        w.file(path, LIB_MODE, &data);
    }
    for (link, target) in LINKS {
        w.symlink(link, target);
    }
    Ok(w.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_link_names_a_file_carried() {
        for (link, target) in LINKS {
            assert!(FILES.contains(&target), "{link} -> {target}");
        }
        for (path, _) in REQUIRED {
            assert!(LINKS.iter().any(|(l, _)| *l == path), "{path}");
        }
    }
}
