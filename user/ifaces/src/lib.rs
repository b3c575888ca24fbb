//! The interfaces of the native K42 servers, declared once with `k42_idl::interface` and shared
//! by each server (`user/bin/console`, `user/bin/echo`, `user/bin/fs`, `user/bin/procs`, `user/bin/pipes`) and its clients, plus the start-up
//! conventions that tie the bootstrap, the servers and the programs together ([`start`]) and
//! the test helpers' messages ([`ticker`]).
//!
//! A pure `no_std` crate (the generated code needs only `k42-rights`), so it is tested on the
//! host. The kernel's own interfaces are in `k42-kapi`; interface ids here start at
//! [`FIRST_SERVER_INTERFACE`], above the kernel's.
#![cfg_attr(not(test), no_std)]

pub mod console;
pub mod echo;
pub mod fs;
pub mod pipes;
pub mod procs;
pub mod spinner;
pub mod start;
pub mod ticker;

use k42_rights::{FIRST_SEQ, XHandle};

/// The first interface id of user-level servers: the kernel's (`k42_kapi`) are below.
pub const FIRST_SERVER_INTERFACE: u32 = 16;

/// The handle of the object a server made for the process that spawned it: the first entry of
/// the server's fresh table (index 0, first sequence number). A server spawned for one client
/// (console, echo) takes the client's badge in `arg0`, inserts that object before it serves
/// anything and checks it got this handle, so the spawner knows the handle without a call.
pub const SPAWNER_HANDLE: XHandle = XHandle {
    index: 0,
    seq: FIRST_SEQ,
};
