//! The personality's side of the file server (`k42_ifaces::fs`, `user/bin/fs`): where it is,
//! the process's root and working directory as server nodes, and the one way calls to it are
//! made ([`call`]), with paths and data in the PPC data area (`k42_rt::ppc::WithData`) and the server's errno returned
//! as it is.
//!
//! A [`Node`] is a handle on a server object (an open file or directory, the root); dropping
//! the last reference releases it at the server. Drops happen with no lock of the
//! personality's held (callers take a node out of the fd table first), so the release call
//! never runs under a lock.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use k42_ifaces::fs::FsClient;
use k42_linux::Errno;
use k42_rights::XHandle;
use k42_rights::wire::{CallError, DispatchError, meta};
use k42_rt::ppc::WithData;
use k42_rt::{Ppc, log};
use spin::Mutex;

/// Where the file server is and what this process holds there.
pub struct Files {
    /// The root directory.
    pub root: Arc<Node>,
    /// The working directory and its path (for `getcwd`).
    pub cwd: Mutex<(Arc<Node>, String)>,
}

impl Files {
    /// The files the bootstrap's message names: the root, which is also the first cwd.
    pub fn new(start: k42_ifaces::start::FsStart) -> Self {
        let root = Arc::new(Node {
            comm: start.comm,
            handle: start.root,
        });
        Self {
            cwd: Mutex::new((root.clone(), String::from("/"))),
            root,
        }
    }
}

/// A handle on a server node.
#[derive(Debug)]
pub struct Node {
    /// The server's CommID.
    pub comm: u64,
    /// The handle.
    pub handle: XHandle,
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Err(e) = meta::release(&mut Ppc::new(self.comm), self.handle) {
            log!(
                "linux: the file server refused to release {:?}: {e:?}",
                self.handle
            );
        }
    }
}

/// The errno a failed call means: the server's own, or `EBADF` when the handle was refused
/// (stale, or lacking the right: the program used an fd in a way its open did not allow), or
/// `EIO` when the server could not be reached.
pub fn errno(e: CallError<Errno>) -> Errno {
    match e {
        CallError::Method(e) => e,
        CallError::Failed(DispatchError::Rights(_)) => Errno::EBADF,
        CallError::Failed(_) | CallError::BadReply => Errno::EIO,
    }
}

/// Calls `f` on `node` with `send` as the call data; returns its result and the reply data.
pub fn call<R>(
    node: &Node,
    send: &[u8],
    f: impl FnOnce(&mut FsClient<WithData<'_>>) -> Result<R, CallError<Errno>>,
) -> Result<(R, Vec<u8>), Errno> {
    let mut ppc = Ppc::new(node.comm);
    let mut recv = Vec::new();
    let result = f(&mut FsClient::new(
        ppc.with_data_vec(send, &mut recv),
        node.handle,
    ));
    Ok((result.map_err(errno)?, recv))
}

/// [`call`] whose reply data lands in `recv` (as many bytes as fit; a fixed-size answer needs
/// no heap buffer); returns `f`'s result and how many bytes came.
pub fn call_into<R>(
    node: &Node,
    send: &[u8],
    recv: &mut [u8],
    f: impl FnOnce(&mut FsClient<WithData<'_>>) -> Result<R, CallError<Errno>>,
) -> Result<(R, usize), Errno> {
    let mut ppc = Ppc::new(node.comm);
    let mut client = FsClient::new(ppc.with_data(send, recv), node.handle);
    let result = f(&mut client).map_err(errno)?;
    Ok((result, client.transport.received()))
}
