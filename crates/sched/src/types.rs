//! The nouns the policy speaks in: who ([`DispatcherId`]), how urgent ([`Class`]), how large a share
//! ([`Weight`]) and when ([`Time`]).
//!
//! They live apart from the scheduler (`scheduler/`) so the kernel can name them without pulling in
//! the policy's internals; the stride arithmetic that turns a weight into virtual time is in
//! `stride.rs`.

use core::num::NonZeroU16;

/// Time as the caller measures it: nanoseconds are the intended unit, but the policy only adds and
/// compares, so any monotonic unit works (the host tests use abstract ticks). There is no clock in
/// this crate; every event carries `now`.
pub type Time = u64;

/// The kernel's name for a dispatcher. The kernel chooses the numbering (for example its per-CPU
/// dispatcher table index or the CommID); the policy only compares ids for equality.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DispatcherId(pub u32);

/// A priority class. Classes are strict: a runnable dispatcher of a higher class always runs before
/// any of a lower class (after at most the soft-preemption grace period), so a spinning application
/// can never starve a server (`DESIGN.md` §1: servers run above applications).
///
/// The variants are declared lowest first so the derived `Ord` puts [`Class::System`] on top.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// Background work that runs only when nothing else wants the CPU.
    Idle,
    /// Ordinary programs, including every Linux process's dispatcher.
    Application,
    /// The user-level servers (process, file, console, …) the applications call.
    System,
}

impl Class {
    /// How many classes there are; per-class state is an array of this length.
    pub const COUNT: usize = 3;

    /// Every class, highest first (the order the policy searches in).
    pub const ALL: [Class; Class::COUNT] = [Class::System, Class::Application, Class::Idle];

    /// A dense index for per-class arrays.
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// A dispatcher's share of the CPU within its class: over time two always-runnable dispatchers of
/// one class get CPU time in the ratio of their weights. Zero is unrepresentable, since a zero share
/// would mean "starve me", which the policy promises never to do within a class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Weight(NonZeroU16);

impl Weight {
    /// The weight every dispatcher gets unless its creator says otherwise.
    pub const DEFAULT: Weight = Weight(NonZeroU16::MIN);

    /// `None` for zero; any other 16-bit value is a valid weight.
    pub const fn new(weight: u16) -> Option<Weight> {
        match NonZeroU16::new(weight) {
            Some(w) => Some(Weight(w)),
            None => None,
        }
    }

    /// The weight as a number.
    pub const fn get(self) -> u16 {
        self.0.get()
    }
}

impl Default for Weight {
    fn default() -> Self {
        Weight::DEFAULT
    }
}
