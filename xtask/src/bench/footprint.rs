//! The "boot and footprint" figures that do not come from a benchmark program:
//! K42's free memory from its boot banner on the log port (`frames: N MiB free of M
//! MiB managed`, `kernel/src/banner.rs`), and the sizes of the images both OSes
//! boot (file size, and the bytes their loadable ELF segments occupy in memory).
//!
//! Boot time itself is the runner's own measurement (QEMU start to the
//! `k42-run: init-start` marker, `../qemu/outcome.rs`); Linux's free memory comes
//! from `bench/meminfo.c`. `mod.rs` gathers these into the results.

use std::path::Path;

use object::{Object, ObjectSegment};
use serde::{Deserialize, Serialize};

/// What K42's banner line starts with, and the words around its figures.
const FRAMES_PREFIX: &str = "frames: ";
const FREE_WORDS: &str = " MiB free of ";
const MANAGED_WORDS: &str = " MiB managed";

/// K42's frame counts from its banner: (free MiB, managed MiB).
pub fn k42_frames(log: &str) -> Option<(u64, u64)> {
    log.lines().find_map(|line| {
        let rest = &line[line.find(FRAMES_PREFIX)? + FRAMES_PREFIX.len()..];
        let (free, rest) = rest.split_once(FREE_WORDS)?;
        let (managed, _) = rest.split_once(MANAGED_WORDS)?;
        Some((free.trim().parse().ok()?, managed.trim().parse().ok()?))
    })
}

/// An image's size on disk and, for an ELF, in memory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSize {
    /// The file.
    pub path: String,
    /// Its size in bytes.
    pub file_bytes: u64,
    /// The sum of its loadable segments' memory sizes (text, data, bss), when it
    /// is an ELF file.
    pub loaded_bytes: Option<u64>,
}

/// The size of the image at `path`.
pub fn image_size(path: &Path) -> Result<ImageSize, String> {
    let data = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let loaded_bytes = object::File::parse(&*data)
        .ok()
        .map(|elf| elf.segments().map(|s| s.size()).sum());
    Ok(ImageSize {
        path: path.display().to_string(),
        file_bytes: data.len() as u64,
        loaded_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_banner_line() {
        let log = "[    0.08] INFO  k42_kernel::banner: K42 in Rust\n\
                   [    0.09] INFO  k42_kernel::banner: frames: 485 MiB free of 507 MiB managed; initramfs 2024 KiB\n";
        assert_eq!(k42_frames(log), Some((485, 507)));
        assert_eq!(k42_frames("frames: lots MiB free of 1 MiB managed"), None);
        assert_eq!(k42_frames(""), None);
    }

    #[test]
    fn measures_this_very_binary() {
        let exe = std::env::current_exe().expect("test binary");
        let size = image_size(&exe).expect("readable");
        assert!(size.file_bytes > 0);
        assert!(size.loaded_bytes.is_some_and(|b| b > 0));
    }
}
