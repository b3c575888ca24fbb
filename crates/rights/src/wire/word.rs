//! Scalars in registers: how each argument, result and method error type becomes one `u64` word
//! and back. The `k42-idl` macro admits exactly these types in interface declarations.
//!
//! Demarshalling is strict: a word that does not fit the declared type (300 for a `u8`, 2 for a
//! `bool`) is refused, never truncated, so a server sees only values its signature allows.

use core::convert::Infallible;

use crate::{Rights, XHandle};

/// A type that travels in one register word.
pub trait Word: Sized {
    /// The value as a word.
    fn to_word(self) -> u64;
    /// The value a word carries, or `None` if the word is not a valid value of the type.
    fn from_word(word: u64) -> Option<Self>;
}

// Every target this OS builds for has a 64-bit (or narrower) usize, so `usize as u64` is lossless.
const _: () = assert!(usize::BITS <= u64::BITS);

macro_rules! unsigned_word {
    ($($t:ty),*) => {$(
        impl Word for $t {
            fn to_word(self) -> u64 {
                // Lossless: the type is at most 64 bits wide (asserted for usize above).
                self as u64
            }
            fn from_word(word: u64) -> Option<Self> {
                Self::try_from(word).ok()
            }
        }
    )*};
}
unsigned_word!(u8, u16, u32, u64, usize);

macro_rules! signed_word {
    ($($t:ty),*) => {$(
        impl Word for $t {
            fn to_word(self) -> u64 {
                // Sign-extend to 64 bits, then reinterpret: -1 travels as u64::MAX for every width.
                (self as i64).cast_unsigned()
            }
            fn from_word(word: u64) -> Option<Self> {
                Self::try_from(word.cast_signed()).ok()
            }
        }
    )*};
}
signed_word!(i8, i16, i32, i64, isize);

impl Word for bool {
    fn to_word(self) -> u64 {
        u64::from(self)
    }
    fn from_word(word: u64) -> Option<Self> {
        match word {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
}

impl Word for XHandle {
    fn to_word(self) -> u64 {
        XHandle::to_word(self)
    }
    fn from_word(word: u64) -> Option<Self> {
        Some(XHandle::from_word(word))
    }
}

impl Word for Rights {
    fn to_word(self) -> u64 {
        self.bits()
    }
    fn from_word(word: u64) -> Option<Self> {
        Some(Rights::from_bits_retain(word))
    }
}

/// The error type of a method that cannot fail: never sent, and no word decodes to it.
impl Word for Infallible {
    fn to_word(self) -> u64 {
        match self {}
    }
    fn from_word(_: u64) -> Option<Self> {
        None
    }
}

/// What a method's `Ok` value may be: nothing, one [`Word`], or a tuple of up to
/// [`RESULT_WORDS`](super::RESULT_WORDS) of them. Unused result words are zero.
pub trait Results: Sized {
    /// The value as result words.
    fn into_words(self) -> [u64; super::RESULT_WORDS];
    /// The value result words carry, if valid.
    fn from_words(words: [u64; super::RESULT_WORDS]) -> Option<Self>;
}

impl Results for () {
    fn into_words(self) -> [u64; super::RESULT_WORDS] {
        [0; super::RESULT_WORDS]
    }
    fn from_words(_: [u64; super::RESULT_WORDS]) -> Option<Self> {
        Some(())
    }
}

impl<W: Word> Results for W {
    fn into_words(self) -> [u64; super::RESULT_WORDS] {
        (self,).into_words()
    }
    fn from_words(words: [u64; super::RESULT_WORDS]) -> Option<Self> {
        <(W,)>::from_words(words).map(|(w,)| w)
    }
}

macro_rules! tuple_results {
    ($(($($name:ident $idx:tt),+)),*) => {$(
        impl<$($name: Word),+> Results for ($($name,)+) {
            fn into_words(self) -> [u64; super::RESULT_WORDS] {
                let mut words = [0; super::RESULT_WORDS];
                $(words[$idx] = self.$idx.to_word();)+
                words
            }
            fn from_words(words: [u64; super::RESULT_WORDS]) -> Option<Self> {
                Some(($($name::from_word(words[$idx])?,)+))
            }
        }
    )*};
}
// Up to RESULT_WORDS elements; a wider tuple has no impl, so the compiler refuses it.
tuple_results!((A 0), (A 0, B 1), (A 0, B 1, C 2), (A 0, B 1, C 2, D 3));
