//! The calls every object answers whatever its interface — K42's generic give-access and
//! release-access — as one reserved interface, so no interface declares them again.
//!
//! A server loop routes a call here when the method word's interface half is [`META_INTERFACE`]
//! ([`dispatch_with_meta`] does the routing); [`give_access`] and [`release`] are the client side,
//! usable with any generated client's transport and handle.

use core::convert::Infallible;

use super::{
    ARG_WORDS, CallError, DispatchError, Interface, Reply, Results, Transport, finish, method_word,
    pack_args, split_method_word,
};
use crate::{Badge, Rights, XHandle, XObjectTable};

/// Interface id reserved for the generic calls; a declared interface may not use it.
pub const META_INTERFACE: u32 = u32::MAX;

/// Method index of give-access: args `[to badge, rights bits]`, result `[new handle]`.
pub const GIVE_ACCESS: u32 = 0;
/// Method index of release: no args, no results.
pub const RELEASE: u32 = 1;

/// Argument positions of give-access.
const ARG_TO: usize = 0;
const ARG_RIGHTS: usize = 1;

/// Serves a generic call on `table` for `badge`: give-access (needs CONTROL, grants at most the
/// giver's rights) or release (by the holder or the giver).
pub fn dispatch<T: Clone>(
    table: &mut XObjectTable<T>,
    badge: Badge,
    handle: XHandle,
    method: u64,
    args: &[u64; ARG_WORDS],
) -> Reply {
    let unknown = Err(DispatchError::UnknownMethod { method });
    match split_method_word(method) {
        (META_INTERFACE, GIVE_ACCESS) => {
            let to = Badge(args[ARG_TO]);
            let rights = Rights::from_bits_retain(args[ARG_RIGHTS]);
            let new = table
                .give_access(handle, badge, to, rights)
                .map_err(DispatchError::Rights)?;
            Ok(new.into_words())
        }
        (META_INTERFACE, RELEASE) => {
            table
                .release(handle, badge)
                .map_err(DispatchError::Rights)?;
            Ok(().into_words())
        }
        _ => unknown,
    }
}

/// Serves any call for an interface `I`: generic calls here, the interface's own through its
/// generated dispatch.
pub fn dispatch_with_meta<I: Interface>(
    table: &mut XObjectTable<I::Target>,
    badge: Badge,
    handle: XHandle,
    method: u64,
    args: &[u64; ARG_WORDS],
) -> Reply
where
    I::Target: Clone,
{
    if split_method_word(method).0 == META_INTERFACE {
        dispatch(table, badge, handle, method, args)
    } else {
        I::dispatch(table, badge, handle, method, args)
    }
}

/// Asks the server to give process `to` access to `handle`'s object with at most `rights`;
/// returns the new entry's handle, for the caller to pass to `to`.
pub fn give_access(
    transport: &mut (impl Transport + ?Sized),
    handle: XHandle,
    to: Badge,
    rights: Rights,
) -> Result<XHandle, CallError<Infallible>> {
    let method = method_word(META_INTERFACE, GIVE_ACCESS);
    finish(transport.call(handle, method, &pack_args([to.0, rights.bits()])))
}

/// Asks the server to release `handle`'s entry (one's own, or one given away).
pub fn release(
    transport: &mut (impl Transport + ?Sized),
    handle: XHandle,
) -> Result<(), CallError<Infallible>> {
    let method = method_word(META_INTERFACE, RELEASE);
    finish(transport.call(handle, method, &pack_args([])))
}
