//! Bounds on what one parse may build, so a corrupt or hostile initramfs fails with an error
//! instead of exhausting the kernel's memory at boot.

/// Bounds on a parse. Every byte the tree stores is counted, so memory use stays proportional
/// to these whatever the input claims in its headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes all gzip members of one input may decompress to, and most bytes of regular
    /// file data the tree may hold (hard links count once per name, as each is a copy).
    pub max_total_bytes: usize,
    /// Most nodes the tree may hold below its root, implicitly created directories included.
    pub max_entries: usize,
    /// Largest single entry's data.
    pub max_file_size: usize,
}

const MIB: usize = 1024 * 1024;

impl Limits {
    /// The defaults: room for any real initramfs (distribution images are tens of MiB and tens
    /// of thousands of entries) with a bound far below what would take a machine down.
    pub const DEFAULT: Limits = Limits {
        max_total_bytes: 1024 * MIB,
        max_entries: 1_000_000,
        max_file_size: 512 * MIB,
    };

    /// No bounds at all, for input that is trusted (e.g. built by this project's own writer).
    pub const UNLIMITED: Limits = Limits {
        max_total_bytes: usize::MAX,
        max_entries: usize::MAX,
        max_file_size: usize::MAX,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
