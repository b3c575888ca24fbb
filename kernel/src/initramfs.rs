//! The initramfs the loader handed over, unpacked into an in-memory tree (newc
//! cpio, plain or gzip, concatenated archives — `k42_cpio`). The file server
//! will serve it as its ramfs (issue #4); today the kernel loads native programs
//! and reads the runner's argv from it, and hands its files to user level through
//! `Boot::read_file` (`kobj/boot.rs`) until that server exists.

use k42_cpio::Tree;
use spin::Once;

/// The unpacked initramfs, kept for the life of the kernel: programs are loaded from it.
static TREE: Once<Option<Tree>> = Once::new();
/// The archive as the loader handed it over (its frames stay reserved), for the file server
/// (`Boot::read_initramfs`), which unpacks it into its own ramfs.
static ARCHIVE: Once<&'static [u8]> = Once::new();

/// Unpacks the archive once and keeps the tree and the archive.
pub fn init(archive: &'static [u8]) -> Option<&'static Tree> {
    ARCHIVE.call_once(|| archive);
    TREE.call_once(|| unpack(archive)).as_ref()
}

/// The archive as loaded (empty if there was none).
pub fn archive() -> &'static [u8] {
    ARCHIVE.get().copied().unwrap_or(&[])
}

/// The kept tree, if there is one.
pub fn tree() -> Option<&'static Tree> {
    TREE.get().and_then(Option::as_ref)
}

/// The bytes of file `path` in the initramfs.
pub fn file(path: &str) -> Option<&'static [u8]> {
    tree()?.lookup(path)?.file_data()
}

/// The runner's argv file as it is (NUL-terminated words).
pub fn argv_bytes() -> Option<&'static [u8]> {
    file(k42_abi::runner::ARGV_PATH)
}

/// Parses the archive; logs and returns `None` when there is none or it is bad.
pub fn unpack(archive: &[u8]) -> Option<Tree> {
    if archive.is_empty() {
        log::warn!("no initramfs (QEMU -initrd); starting without files");
        return None;
    }
    match Tree::parse(archive) {
        Ok(tree) => {
            log::info!(
                "initramfs: {} entries, {} KiB of file data",
                tree.entry_count(),
                tree.total_file_bytes() / 1024
            );
            Some(tree)
        }
        Err(e) => {
            log::error!("initramfs rejected: {e}");
            None
        }
    }
}

/// The runner's argv (`k42_abi::runner::ARGV_PATH`: NUL-terminated words).
pub fn argv(tree: &Tree) -> Option<alloc::vec::Vec<&str>> {
    let data = tree.lookup(k42_abi::runner::ARGV_PATH)?.file_data()?;
    let words = data
        .split(|&b| b == 0)
        .filter(|w| !w.is_empty())
        .map(core::str::from_utf8)
        .collect::<Result<alloc::vec::Vec<_>, _>>();
    match words {
        Ok(w) => Some(w),
        Err(_) => {
            log::error!("{} is not UTF-8; ignoring it", k42_abi::runner::ARGV_PATH);
            None
        }
    }
}
