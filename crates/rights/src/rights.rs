//! The rights set: one `u64` of bits, checked by `object::check` and named per method in interface
//! declarations (`#[rights(READ | WRITE)]` in `k42-idl`).
//!
//! Layout of the word, chosen so one register carries a whole set and the two halves never collide:
//!
//! | bits   | meaning                                                                     |
//! |--------|-----------------------------------------------------------------------------|
//! | 0..=3  | generic rights every object understands: READ, WRITE, CONTROL, DESTROY      |
//! | 4..=31 | reserved for future generic rights (kept when seen, never granted by name)  |
//! | 32..=63| object-defined rights: each interface gives them meaning ([`Rights::object`]) |

use bitflags::bitflags;

/// Number of bits at the bottom of the word reserved for generic rights.
pub const GENERIC_BITS: u32 = 32;
/// Number of object-defined rights an interface may name.
pub const OBJECT_BITS: u32 = u64::BITS - GENERIC_BITS;

bitflags! {
    /// A set of rights. Unnamed bits are real rights too (reserved generic or object-defined), so
    /// every operation — complement, `all()`, truncation — treats all 64 bits alike.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct Rights: u64 {
        /// Observe the object's state (read data, query attributes).
        const READ = 1 << 0;
        /// Change the object's state (write data, set attributes).
        const WRITE = 1 << 1;
        /// Give other processes access to the object and change rights: what `give_access` needs.
        const CONTROL = 1 << 2;
        /// Destroy the object itself (not just drop one's own handle, which needs no right).
        const DESTROY = 1 << 3;
        // Every bit is a right, named or not; see the table in the module comment.
        const _ = !0;
    }
}

impl Rights {
    /// No rights: what `#[rights(NONE)]` names for a method any handle holder may call.
    pub const NONE: Self = Self::empty();
    /// Mask of the generic half of the word.
    pub const GENERIC_MASK: Self = Self::from_bits_retain((1 << GENERIC_BITS) - 1);
    /// Mask of the object-defined half of the word.
    pub const OBJECT_MASK: Self = Self::from_bits_retain(!Self::GENERIC_MASK.bits());

    /// The object-defined right number `n` (`0..OBJECT_BITS`), e.g. a console's "set baud rate".
    ///
    /// # Panics
    /// If `n >= OBJECT_BITS`; in a `const` that is a compile error, which is where these are defined.
    pub const fn object(n: u32) -> Self {
        assert!(n < OBJECT_BITS, "object-defined rights are numbered 0..32");
        Self::from_bits_retain(1 << (GENERIC_BITS + n))
    }
}
