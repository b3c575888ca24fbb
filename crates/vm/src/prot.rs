//! The protection of a region: one [`Prot`] for every page of it (K42's Region has exactly one;
//! changing part of it splits the region, see `map/edit.rs`).
//!
//! The bits are Linux's `PROT_READ`, `PROT_WRITE` and `PROT_EXEC` values, so the Linux personality
//! converts with `Prot::from_bits` and gets `None` (its `EINVAL`) for anything else, such as
//! `PROT_GROWSDOWN`, that this crate does not implement. The kernel turns a `Prot` into page-table
//! bits itself; nothing here knows about the HAT.

use core::fmt;

use bitflags::bitflags;

bitflags! {
    /// Access a region allows. The empty set ([`Prot::NONE`]) is a valid protection: the pages stay
    /// reserved (guard pages, `PROT_NONE` mappings) but every access faults.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct Prot: u32 {
        /// Loads are allowed (Linux `PROT_READ`).
        const READ = 1 << 0;
        /// Stores are allowed (Linux `PROT_WRITE`).
        const WRITE = 1 << 1;
        /// Instruction fetches are allowed (Linux `PROT_EXEC`).
        const EXEC = 1 << 2;
    }
}

impl Prot {
    /// No access at all (Linux `PROT_NONE`).
    pub const NONE: Self = Self::empty();
    /// Read and write: the usual data protection.
    pub const RW: Self = Self::READ.union(Self::WRITE);
    /// Read and execute: the usual code protection.
    pub const RX: Self = Self::READ.union(Self::EXEC);

    /// Whether this protection is both writable and executable. The map itself accepts such
    /// regions (Linux does); a caller enforcing W^X asks this before mapping or protecting.
    pub const fn violates_wx(self) -> bool {
        self.contains(Self::WRITE.union(Self::EXEC))
    }
}

impl fmt::Display for Prot {
    /// The `/proc/<pid>/maps` spelling: `r-x`, `rw-`, `---`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bit = |flag: Prot, c: char| if self.contains(flag) { c } else { '-' };
        write!(
            f,
            "{}{}{}",
            bit(Prot::READ, 'r'),
            bit(Prot::WRITE, 'w'),
            bit(Prot::EXEC, 'x')
        )
    }
}
