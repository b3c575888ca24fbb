//! Clustered objects (DESIGN §2.8, after K42's): one object, one representative per CPU, so the
//! common case touches only this CPU's memory and takes no shared lock. A CPU's first call
//! finds no representative in its slot — the miss — and the root makes one and installs it;
//! every later call on that CPU goes straight to it. The root holds what the representatives
//! share and is reached only on misses and when a representative must go to it (a refill).
//!
//! K42 keeps one translation table per CPU indexed by object id; here each object keeps one
//! slot per CPU indexed by CPU, which is the same lookup (one indexed load) without a global
//! id space — there are few clustered objects and they are statics.

use spin::Once;

use crate::cpu;

/// Most CPUs a clustered object has representatives for.
pub const MAX_CPUS: usize = 64;

/// What makes a representative for a CPU (the root's miss handler).
pub trait Root {
    /// The per-CPU representative.
    type Rep;
    /// Makes CPU `cpu`'s representative, on that CPU's first use.
    fn make_rep(&self, cpu: usize) -> Self::Rep;
}

/// A clustered object: its root and the representatives installed so far.
pub struct Clustered<R: Root> {
    root: R,
    reps: [Once<R::Rep>; MAX_CPUS],
}

impl<R: Root> Clustered<R> {
    /// An object with no representative yet.
    pub const fn new(root: R) -> Self {
        Self {
            root,
            reps: [const { Once::new() }; MAX_CPUS],
        }
    }

    /// This CPU's representative, made by the root's miss handler on first use.
    pub fn rep(&self) -> &R::Rep {
        let cpu = cpu::this().index.min(MAX_CPUS - 1);
        self.reps[cpu].call_once(|| self.root.make_rep(cpu))
    }
}
