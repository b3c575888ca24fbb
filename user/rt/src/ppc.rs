//! The client transports: how a generated `…Client<T>` stub reaches its object. [`KernelPpc`]
//! calls kernel objects (a PPC to `KERNEL_COMM_ID`, answered at once); [`Ppc`] calls a server
//! dispatcher and follows DESIGN §2.3's retry protocol: a disabled or busy server fails the call
//! with `Retry` and later posts IPC_RETRY to the caller, who then calls again. Both decode the
//! five reply words with `k42_rights::wire::decode_reply`.
//!
//! Kernel-call failures (a `Status` other than `Ok`) become `DispatchError::Transport(status)`;
//! a reply whose status word no decoder knows becomes `Transport(UNDECODABLE_REPLY)`.
//!
//! **Bulk data.** [`Ppc::call_with_data`] also carries up to `PPC_DATA_BYTES` each way in the
//! dispatcher page's PPC data area (`k42_abi::kernel::DispatcherPage::ppc_data`): it fills the
//! area, calls and reads the reply's bytes inside one critical section, so no other thread of
//! the dispatcher can use the area in between, and fills it again for each retry (other threads
//! run while it waits). The generated stubs stay word-only: [`Ppc::with_data`] is a transport
//! for one stub call whose data travels beside its words, and `Ppc` implements
//! `k42_abi::kernel::PpcDataTransport` for interface crates (the console's `Writer`).
//!
//! Soundness caveat: a few kernel methods take an address in the caller's memory and read or
//! write it (`Boot::spawn`'s name, `Boot::argv`'s buffer, `Process::log`'s line). The generated
//! stubs take those as plain words, so a wrong address passed through them can make the kernel
//! write where Rust does not expect it. The runtime passes only live buffers it owns (e.g.
//! [`crate::log!`]); programs should do the same: pass `slice.as_ptr()` and `slice.len()`.

use alloc::vec::Vec;

use k42_abi::kernel::{KERNEL_COMM_ID, PPC_DATA_BYTES, PpcDataTransport, Status, soft};
use k42_rights::XHandle;
use k42_rights::wire::{ARG_WORDS, DispatchError, Reply, Transport, decode_reply};
use k42_sys::critical;
use k42_sys::kcall::{self, PpcOutcome, UNDECODABLE_REPLY};
use k42_sys::page::Page;

use crate::sched;

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

    /// One call, as [`Transport::call`], that also carries `send` (at most `PPC_DATA_BYTES`:
    /// more fails with `Transport(BadArgument)`, nothing sent) to the server in the PPC data
    /// area, and copies the reply's bytes to the front of `recv`; the reply, and how many bytes
    /// were copied (the reply's bytes past `recv.len()` are dropped: pass `PPC_DATA_BYTES` for
    /// all of them). Retries as `call` does, refilling the area each time.
    pub fn call_with_data(
        &mut self,
        handle: XHandle,
        method: u64,
        args: &[u64; ARG_WORDS],
        send: &[u8],
        recv: &mut [u8],
    ) -> (Reply, usize) {
        self.call_with_data_to(handle, method, args, send, |page, received| {
            let copied = received.min(recv.len());
            page.read_ppc_data(&mut recv[..copied]);
            copied
        })
    }

    /// [`Ppc::call_with_data`] that appends all the reply's bytes to `recv` (no room zeroed
    /// for them first); the reply, and how many bytes were appended.
    pub fn call_with_data_vec(
        &mut self,
        handle: XHandle,
        method: u64,
        args: &[u64; ARG_WORDS],
        send: &[u8],
        recv: &mut Vec<u8>,
    ) -> (Reply, usize) {
        self.call_with_data_to(handle, method, args, send, |page, received| {
            page.append_ppc_data(received, recv);
            received
        })
    }

    /// The call of [`Ppc::call_with_data`], with `take` (given the page and the reply's byte
    /// count, inside the call's critical section) taking the reply's bytes and saying how many
    /// it took.
    fn call_with_data_to(
        &mut self,
        handle: XHandle,
        method: u64,
        args: &[u64; ARG_WORDS],
        send: &[u8],
        mut take: impl FnMut(Page, usize) -> usize,
    ) -> (Reply, usize) {
        if send.len() > PPC_DATA_BYTES {
            return (Err(DispatchError::Transport(Status::BadArgument as u64)), 0);
        }
        loop {
            // Fill, call and read in one critical section: no other thread of this dispatcher
            // touches the area in between (and, as in `call`, no IPC_RETRY is taken before the
            // wait counts them).
            let upcalls = critical::disable();
            let page = Page::current();
            page.write_ppc_data(send);
            let (out, received) =
                kcall::ppc_call_data(self.comm_id, handle.to_word(), method, args, send.len());
            if out.status != Status::Retry as u64 || !upcalls.outermost() {
                let copied = take(page, received);
                drop(upcalls);
                return (finish(out), copied);
            }
            let seen = sched::with(|s| s.epoch(soft::IPC_RETRY));
            sched::wait_for(soft::IPC_RETRY, None, |s| s.epoch(soft::IPC_RETRY) != seen);
        }
    }

    /// A transport for generated-stub calls whose data travels beside their words: each call
    /// goes through [`Ppc::call_with_data`] with `send`, its reply's bytes landing in `recv`
    /// ([`WithData::received`] says how many).
    pub fn with_data<'a>(&'a mut self, send: &'a [u8], recv: &'a mut [u8]) -> WithData<'a> {
        WithData {
            ppc: self,
            send,
            recv: Recv::Slice(recv),
            received: 0,
        }
    }

    /// [`Ppc::with_data`] whose calls leave all their reply's bytes in `recv`, and only those:
    /// each call empties it and appends ([`Ppc::call_with_data_vec`]).
    pub fn with_data_vec<'a>(&'a mut self, send: &'a [u8], recv: &'a mut Vec<u8>) -> WithData<'a> {
        WithData {
            ppc: self,
            send,
            recv: Recv::Vec(recv),
            received: 0,
        }
    }
}

/// A [`Ppc`] whose calls carry data ([`Ppc::with_data`]).
pub struct WithData<'a> {
    ppc: &'a mut Ppc,
    send: &'a [u8],
    recv: Recv<'a>,
    received: usize,
}

/// Where a [`WithData`] call's reply bytes go.
enum Recv<'a> {
    /// Copied to the front (as many as fit).
    Slice(&'a mut [u8]),
    /// The vector emptied, then appended to.
    Vec(&'a mut Vec<u8>),
}

impl WithData<'_> {
    /// How many bytes of reply data the last call copied into the receive buffer.
    pub fn received(&self) -> usize {
        self.received
    }
}

impl Transport for WithData<'_> {
    fn call(&mut self, handle: XHandle, method: u64, args: &[u64; ARG_WORDS]) -> Reply {
        let (reply, received) = match &mut self.recv {
            Recv::Slice(recv) => self
                .ppc
                .call_with_data(handle, method, args, self.send, recv),
            Recv::Vec(recv) => {
                recv.clear();
                self.ppc
                    .call_with_data_vec(handle, method, args, self.send, recv)
            }
        };
        self.received = received;
        reply
    }
}

impl PpcDataTransport<XHandle, Reply> for Ppc {
    fn call_with_data(
        &mut self,
        handle: XHandle,
        method: u64,
        args: &[u64; ARG_WORDS],
        send: &[u8],
        recv: &mut [u8],
    ) -> (Reply, usize) {
        Ppc::call_with_data(self, handle, method, args, send, recv)
    }
}

impl Transport for Ppc {
    /// Calls until the server takes the call: after each `Retry`, blocks the calling thread
    /// until IPC_RETRY (the dispatcher's other threads run meanwhile). With upcalls disabled
    /// (in an upcall handler, or a critical section), nothing may block, so `Retry` is returned
    /// as `Transport(Retry)` instead. Inline: the stub's reply is then built where the call
    /// was made, not copied out of this frame and into the stub's.
    #[inline]
    fn call(&mut self, handle: XHandle, method: u64, args: &[u64; ARG_WORDS]) -> Reply {
        loop {
            // Upcalls stay disabled from the call to the wait, so no IPC_RETRY can be taken (by
            // an INTERRUPT upcall) between the `Retry` and the wait's count of them.
            let upcalls = critical::disable();
            let out = kcall::ppc_call(self.comm_id, handle.to_word(), method, args);
            if out.status != Status::Retry as u64 || !upcalls.outermost() {
                drop(upcalls);
                return finish(out);
            }
            wait_for_retry(upcalls);
        }
    }
}

/// After a `Retry` (upcalls disabled by `upcalls` since that try): blocks the calling thread
/// until IPC_RETRY, and enables upcalls. Out of line, so the first try, which nearly always is
/// the last, pays nothing for it; it takes no part of the call, so the stub's argument words
/// never need an address and go straight from where it made them to the call's registers.
#[cold]
#[inline(never)]
fn wait_for_retry(upcalls: critical::Disabled) {
    // Counted before any look at the pending bits: one pending now (maybe an old one, which
    // only costs one more `Retry`) ends the wait.
    let seen = sched::with(|s| s.epoch(soft::IPC_RETRY));
    sched::wait_for(soft::IPC_RETRY, None, |s| s.epoch(soft::IPC_RETRY) != seen);
    drop(upcalls);
}
