//! The client transports: how a generated `…Client<T>` stub reaches its object. [`KernelPpc`]
//! calls kernel objects (a PPC to `KERNEL_COMM_ID`, answered at once); [`Ppc`] calls a server
//! dispatcher and follows DESIGN §2.3's retry protocol: a disabled or busy server fails the call
//! with `Retry` and later posts IPC_RETRY to the caller, who then calls again. Both decode the
//! five reply words with `k42_rights::wire::decode_reply`.
//!
//! Kernel-call failures (a `Status` other than `Ok`) become `DispatchError::Transport(status)`;
//! a reply whose status word no decoder knows becomes `Transport(UNDECODABLE_REPLY)`.
//!
//! Soundness caveat: a few kernel methods take an address in the caller's memory and read or
//! write it (`Boot::spawn`'s name, `Boot::argv`'s buffer, `Process::log`'s line). The generated
//! stubs take those as plain words, so a wrong address passed through them can make the kernel
//! write where Rust does not expect it. The runtime passes only live buffers it owns (e.g.
//! [`crate::log!`]); programs should do the same: pass `slice.as_ptr()` and `slice.len()`.

use k42_abi::kernel::{KERNEL_COMM_ID, Status, soft};
use k42_rights::XHandle;
use k42_rights::wire::{ARG_WORDS, DispatchError, Reply, Transport, decode_reply};
use k42_sys::kcall::{self, PpcOutcome, UNDECODABLE_REPLY};
use k42_sys::page::Page;

use crate::ring;

/// The reply of a PPC that returned, or the transport error.
fn finish(out: PpcOutcome) -> Reply {
    if out.status != Status::Ok as u64 {
        return Err(DispatchError::Transport(out.status));
    }
    decode_reply(out.words).unwrap_or(Err(DispatchError::Transport(UNDECODABLE_REPLY)))
}

/// Calls on kernel objects (`k42_kapi`: Boot, Process, Memory).
#[derive(Clone, Copy, Debug, Default)]
pub struct KernelPpc;

impl Transport for KernelPpc {
    fn call(&mut self, handle: XHandle, method: u64, args: &[u64; ARG_WORDS]) -> Reply {
        finish(kcall::ppc_call(
            KERNEL_COMM_ID,
            handle.to_word(),
            method,
            args,
        ))
    }
}

/// Calls on a server's objects: a PPC to dispatcher `comm_id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ppc {
    /// The server dispatcher's CommID.
    pub comm_id: u64,
}

impl Ppc {
    /// A transport to dispatcher `comm_id`.
    pub const fn new(comm_id: u64) -> Self {
        Self { comm_id }
    }
}

impl Transport for Ppc {
    /// Calls until the server takes the call: after each `Retry`, blocks until IPC_RETRY. Inside
    /// an upcall (upcalls disabled, e.g. a server calling another server while it serves), the
    /// dispatcher may not block, so `Retry` is returned as `Transport(Retry)` instead.
    fn call(&mut self, handle: XHandle, method: u64, args: &[u64; ARG_WORDS]) -> Reply {
        loop {
            let out = kcall::ppc_call(self.comm_id, handle.to_word(), method, args);
            if out.status != Status::Retry as u64 || Page::current().disabled() {
                return finish(out);
            }
            // The kernel remembered us as a waiter when it said Retry; IPC_RETRY may already be
            // pending (then this returns at once), or a stale one makes us retry early, which
            // only costs one more Retry.
            ring::block_until(soft::IPC_RETRY);
        }
    }
}
