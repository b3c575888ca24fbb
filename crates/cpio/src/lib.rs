//! Linux initramfs archives: parsing them into an in-memory [`Tree`] (in the kernel at boot, to
//! populate the ramfs) and writing newc archives (in the host-side xtask, to build the image).
//!
//! An initramfs is a run of segments, each a newc cpio archive (`070701`, or `070702` with data
//! checksums) or a gzip member holding such archives, with zero padding between them; later
//! entries are laid over earlier ones. Parsing follows Linux's `init/initramfs.c`, refusing with
//! a typed [`Error`] what Linux would silently skip; all input-derived offsets are checked and
//! everything allocated is bounded by [`Limits`].
//!
//! ```
//! use k42_cpio::{Limits, Tree, Writer};
//!
//! let mut w = Writer::new();
//! w.dir("/bin", 0o755).file("/bin/hello", 0o755, b"\x7fELF").symlink("/init", "/bin/hello");
//! let tree = Tree::parse(&w.finish()).unwrap();
//! assert_eq!(tree.lookup("/bin/hello").unwrap().file_data(), Some(&b"\x7fELF"[..]));
//! assert_eq!(tree.lookup("init").unwrap().symlink_target(), Some("/bin/hello"));
//! ```

#![no_std]

extern crate alloc;

mod error;
mod gzip;
mod limits;
pub mod mode;
mod newc;
mod path;
mod tree;
mod unpack;
mod writer;

pub use error::Error;
pub use gzip::{GZIP_MAGIC, compress as gzip};
pub use limits::Limits;
pub use newc::{HEADER_LEN, NEWC_CRC_MAGIC, NEWC_MAGIC, PATH_MAX, TRAILER_NAME};
pub use tree::{Node, NodeKind, Tree};
pub use writer::Writer;

impl Tree {
    /// Parses an initramfs (plain, gzip or a concatenation) into a new tree, with the default
    /// [`Limits`].
    pub fn parse(data: &[u8]) -> Result<Tree, Error> {
        Tree::parse_with_limits(data, &Limits::default())
    }

    /// Parses an initramfs into a new tree under `limits`.
    pub fn parse_with_limits(data: &[u8], limits: &Limits) -> Result<Tree, Error> {
        let mut tree = Tree::new();
        tree.extend_from(data, limits)?;
        Ok(tree)
    }

    /// Lays an initramfs over this tree, as Linux does with the built-in and the bootloader's
    /// images: later entries replace earlier ones, directories merge. `limits` bound the tree as
    /// a whole, what it held before included, and the data decompressed by this call.
    ///
    /// On error the tree keeps the entries applied before the failing one.
    pub fn extend_from(&mut self, data: &[u8], limits: &Limits) -> Result<(), Error> {
        unpack::unpack(self, data, limits)
    }
}
