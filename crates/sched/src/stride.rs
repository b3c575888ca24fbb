//! Stride scheduling arithmetic (Waldspurger & Weihl, 1995): a dispatcher's *pass* is its virtual
//! time, advanced by the time it runs divided by its weight; the dispatcher with the smallest pass
//! runs next. Over any interval, always-runnable dispatchers therefore receive CPU time in
//! proportion to their weights, with an error bounded by one quantum each.
//!
//! Kept apart from the scheduler (`scheduler/`) so the only numeric subtleties — fixed-point
//! precision and overflow — are in one small place.

use crate::{Time, Weight};

/// Virtual time. 128 bits so it never wraps: even at 2^32 virtual units per nanosecond (a weight-1
/// dispatcher) it lasts 2^96 ns, far beyond any uptime, and comparisons stay plain `<`.
pub(crate) type Pass = u128;

/// Fixed-point scale of a stride: a weight-1 dispatcher's pass advances by this much per unit of
/// time. 2^32 keeps the rounding of `STRIDE_ONE / weight` below one part in 2^16 for every 16-bit
/// weight, far inside the few-percent share accuracy the policy promises.
const STRIDE_ONE: u64 = 1 << 32;

/// The pass increment per unit of time for a dispatcher of this weight.
pub(crate) const fn stride(weight: Weight) -> u64 {
    STRIDE_ONE / weight.get() as u64
}

/// `pass` after running for `elapsed` at `stride`. Saturating: unreachable in practice (see
/// [`Pass`]), but a kernel must not panic on arithmetic.
pub(crate) const fn advance(pass: Pass, elapsed: Time, stride: u64) -> Pass {
    pass.saturating_add(elapsed as Pass * stride as Pass)
}
