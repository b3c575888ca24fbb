//! What a program starts with: its handles on itself and its memory, its CommID, the two words
//! its spawner passed and its dispatcher page (`k42_abi::kernel::first_entry`, as `k42-sys`'s
//! `_start` received them), with clients for the kernel objects those handles name.

use k42_abi::kernel::comm_pid;
use k42_kapi::{BootClient, MemoryClient, ProcessClient};
use k42_rights::XHandle;
use k42_sys::entry::FirstEntry;
use k42_sys::page::Page;

use crate::ppc::KernelPpc;

/// A program's start-up environment.
#[derive(Clone, Copy, Debug)]
pub struct Env {
    /// Handle on its own process (READ, WRITE, DESTROY: log, ids, exit).
    pub process: XHandle,
    /// Handle on its own memory (WRITE: map, unmap, protect).
    pub memory: XHandle,
    /// Its first dispatcher's CommID.
    pub comm_id: u64,
    /// The spawner's first word (its meaning is the spawner's convention, e.g. `k42_ifaces`).
    pub arg0: u64,
    /// The spawner's second word.
    pub arg1: u64,
    /// Its first dispatcher's page.
    pub page: Page,
}

impl Env {
    /// The environment the first entry delivered.
    pub(crate) fn from_first_entry(first: &FirstEntry) -> Self {
        Self {
            process: XHandle::from_word(first.process),
            memory: XHandle::from_word(first.memory),
            comm_id: first.comm_id,
            arg0: first.arg0,
            arg1: first.arg1,
            page: first.page,
        }
    }

    /// The process id: the badge the kernel stamps on this process's calls.
    pub fn pid(&self) -> u64 {
        comm_pid(self.comm_id)
    }

    /// A client of its own process object.
    pub fn process(&self) -> ProcessClient<KernelPpc> {
        ProcessClient::new(KernelPpc, self.process)
    }

    /// A client of its own memory object.
    pub fn memory(&self) -> MemoryClient<KernelPpc> {
        MemoryClient::new(KernelPpc, self.memory)
    }
}

/// A client of the kernel's `Boot` object through `handle_word` (the bootstrap's first word, or
/// a handle given to a program by access).
pub fn boot(handle_word: u64) -> BootClient<KernelPpc> {
    BootClient::new(KernelPpc, XHandle::from_word(handle_word))
}
