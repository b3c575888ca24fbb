//! The "boot and footprint" figures that do not come from a benchmark program:
//! K42's free memory from its boot banner on the log port (`frames: N MiB free of M
//! MiB managed`, `kernel/src/banner.rs`), the sizes of the images both OSes
//! boot (file size, and the bytes their loadable ELF segments occupy in memory), and
//! where the interactive shell's first prompt starts on the console ([`prompt_offset`]).
//!
//! Boot time itself is the runner's own measurement (QEMU start to the
//! `k42-run: init-start` marker, `../qemu/outcome.rs`), and so is the time of the
//! prompt's first byte (`qemu::ConsoleArrivals`; the boot is `boots.rs`'s `Work::Shell`);
//! Linux's free memory comes from `bench/meminfo.c`. `mod.rs` gathers these into the
//! results.

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

/// The first prompt of the interactive shell — busybox `sh` (ash) started with no program
/// named, as `cargo xtask run` starts it — on both OSes: its default `PS1` (`\w \$ `) for
/// root in the working directory `/`, as the consoles of the guest tier's
/// `guest.OS.interactive_sh` boots show it (`target/k42/logs/guest-*-interactive-sh.console`).
pub const SHELL_PROMPT: &str = "/ # ";
/// What the prompt boot types once init starts (the runner sends console input then,
/// `../qemu/mod.rs`): the shell reads it after its first prompt and ends the run.
pub const PROMPT_INPUT: &[u8] = b"exit 0\n";
/// The exit status [`PROMPT_INPUT`] gives the run.
pub const PROMPT_EXIT_STATUS: i32 = 0;

/// Where the shell's first prompt starts on `console`: the first [`SHELL_PROMPT`] at the
/// start of a line (the banner before it ends with a newline; the echo of what was typed
/// ahead, which may come first, is not a prompt).
pub fn prompt_offset(console: &[u8]) -> Option<usize> {
    let prompt = SHELL_PROMPT.as_bytes();
    console
        .windows(prompt.len())
        .enumerate()
        .find(|(at, window)| *window == prompt && (*at == 0 || console[at - 1] == b'\n'))
        .map(|(at, _)| at)
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
    fn finds_the_first_prompt_at_a_line_start() {
        let linux = b"exit 0\n\n\nBusyBox v1.35.0 built-in shell (ash)\n\n/ # exit 0\n";
        assert_eq!(prompt_offset(linux), Some(47));
        assert_eq!(&linux[47..51], b"/ # ");
        assert_eq!(prompt_offset(b"/ # "), Some(0));
        // Not at a line start, or not there at all.
        assert_eq!(prompt_offset(b"ls / # x\n"), None);
        assert_eq!(prompt_offset(b"/ #"), None);
    }

    #[test]
    fn measures_this_very_binary() {
        let exe = std::env::current_exe().expect("test binary");
        let size = image_size(&exe).expect("readable");
        assert!(size.file_bytes > 0);
        assert!(size.loaded_bytes.is_some_and(|b| b > 0));
    }
}
