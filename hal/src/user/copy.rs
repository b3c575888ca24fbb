//! User pointers are allegations: a [`UserSlice`] names user memory a caller claims to own, and
//! only a checked copy through the caller's [`AddressSpace`] turns it into data. Each page is
//! looked up in the space's tables (present, user, and writable for a write) and copied through
//! the direct map, so the kernel never dereferences a user address: no fault can happen in ring
//! 0, SMAP can stay on, and a page another CPU unmaps mid-copy still belongs to its memory object
//! (frames are freed only after they are unmapped everywhere).
//!
//! A page not mapped yet (demand paging) fails the copy with its address; the kernel faults it
//! in through the memory objects and retries.

use core::fmt;

use super::{AddressSpace, USER_TOP};
use crate::layout::{self, PAGE_SIZE};

/// Why a copy between kernel and user memory failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserCopyError {
    /// The range wraps around or reaches beyond user space.
    BadRange {
        /// Start the caller gave.
        addr: u64,
        /// Length the caller gave.
        len: u64,
    },
    /// The page holding `addr` is not mapped (or not writable, for a copy out).
    Fault {
        /// First byte that could not be copied.
        addr: u64,
        /// Whether the copy was a write to user memory.
        write: bool,
    },
}

impl fmt::Display for UserCopyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadRange { addr, len } => {
                write!(f, "user range {addr:#x}+{len:#x} is not inside user space")
            }
            Self::Fault { addr, write } => write!(
                f,
                "user address {addr:#x} is not mapped{}",
                if *write { " writable" } else { "" }
            ),
        }
    }
}

/// A range of user memory as a caller described it: `WRITE` says the kernel may write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserSlice<const WRITE: bool> {
    addr: u64,
    len: u64,
}

impl<const WRITE: bool> UserSlice<WRITE> {
    /// The range `addr..addr+len`, refused unless it lies wholly inside user space.
    pub fn new(addr: u64, len: u64) -> Result<Self, UserCopyError> {
        match addr.checked_add(len) {
            Some(end) if end <= USER_TOP => Ok(Self { addr, len }),
            _ => Err(UserCopyError::BadRange { addr, len }),
        }
    }

    /// Start address.
    pub fn addr(&self) -> u64 {
        self.addr
    }

    /// Length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the range is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Walks the range page by page: `f(direct-map address, offset in the range, bytes)`.
    fn each_page(
        &self,
        space: &AddressSpace,
        mut f: impl FnMut(u64, usize, usize),
    ) -> Result<(), UserCopyError> {
        let mut done = 0u64;
        while done < self.len {
            let addr = self.addr + done;
            let page = addr & !(PAGE_SIZE - 1);
            let chunk = (PAGE_SIZE - (addr - page)).min(self.len - done);
            let fault = UserCopyError::Fault { addr, write: WRITE };
            let (paddr, flags) = space.lookup(page).ok_or(fault)?;
            if WRITE && !flags.writable {
                return Err(fault);
            }
            f(
                layout::phys_to_virt(paddr) + (addr - page),
                done as usize,
                chunk as usize,
            );
            done += chunk;
        }
        Ok(())
    }
}

impl UserSlice<false> {
    /// Copies the user range into `dst` (whose length must equal the range's).
    pub fn copy_in(&self, space: &AddressSpace, dst: &mut [u8]) -> Result<(), UserCopyError> {
        assert_eq!(
            dst.len() as u64,
            self.len,
            "copy_in into a buffer of another size"
        );
        self.each_page(space, |src, at, n| {
            // SAFETY: `src..src+n` is inside one frame mapped user-readable in `space`, seen
            // through the direct map; `dst[at..at+n]` is in bounds (at + n <= len).
            unsafe { core::ptr::copy_nonoverlapping(src as *const u8, dst[at..].as_mut_ptr(), n) }
        })
    }
}

impl UserSlice<true> {
    /// Copies `src` (whose length must equal the range's) into the user range. On a fault the
    /// pages before the faulting one have been written.
    pub fn copy_out(&self, space: &AddressSpace, src: &[u8]) -> Result<(), UserCopyError> {
        assert_eq!(
            src.len() as u64,
            self.len,
            "copy_out from a buffer of another size"
        );
        self.each_page(space, |dst, at, n| {
            // SAFETY: `dst..dst+n` is inside one frame mapped user-writable in `space`, seen
            // through the direct map; `src[at..at+n]` is in bounds.
            unsafe { core::ptr::copy_nonoverlapping(src[at..].as_ptr(), dst as *mut u8, n) }
        })
    }
}
