//! The regions of a user address space, as pure `no_std` + `alloc` logic the kernel uses and the
//! host tests (`tests/`) check against a page-by-page model.
//!
//! In K42 (`DESIGN.md` §2.5) a process's memory is a set of **Regions**: each a virtual range with
//! exactly one protection, backed by a memory object (an FCM caching the pages of an FR) from some
//! offset on. This crate is that set and its rules, nothing else: no page tables, no frames, no
//! objects. The kernel keeps one [`RegionMap<B>`] per address space, `B` being its reference to the
//! backing FCM, and uses it for the map/unmap/protect object calls and on every page fault; the HAT
//! (page tables, a cache of this state) and the FCMs sit next to it in the kernel. The Linux
//! personality's mmap, munmap, mprotect, mremap and brk follow the same rules, so it gets Linux's
//! behaviour without re-deriving it.
//!
//! Everything is page-granular ([`PAGE_SIZE`]) and every address computation is checked:
//! [`VRange`] cannot be built unaligned, empty or wrapping, and the map refuses offsets whose end
//! would overflow.
//!
//! # Operations and what the kernel does with them
//!
//! - [`RegionMap::find`]: the fault path. No region → bad address (the TRAP upcall, later SIGSEGV);
//!   a region whose [`Prot`] forbids the access → likewise; otherwise ask the region's backing
//!   for the page at [`Region::page_offset`].
//! - [`RegionMap::insert`] with a [`Policy`]: `Fixed` replaces whatever overlaps and returns the
//!   displaced pieces ([`Mapped::displaced`]) whose pages the kernel unmaps from the HAT and
//!   releases; `FixedNoReplace` fails with [`VmError::Exists`] instead (and is brk's growth when
//!   it cannot grow in place); `Hint` picks the place (below).
//! - [`RegionMap::unmap`]: returns the removed pieces, for the same HAT and page clean-up.
//! - [`RegionMap::protect`]: all-or-nothing; afterwards the kernel downgrades or flushes the HAT
//!   entries of the range.
//! - [`RegionMap::grow_in_place`]: mremap's and brk's cheap case; when it says no, mremap with
//!   `MREMAP_MAYMOVE` finds room with [`RegionMap::free_gap`], inserts there `Fixed` and unmaps the
//!   old range.
//!
//! # Merging
//!
//! After every insert, protect and grow the map merges neighbours that touch and have the same
//! protection, the same backing (`B: PartialEq`) and continuous offsets, so the map is always fully
//! merged and an mprotect that is later undone leaves one region, as Linux's `vma_merge` does.
//! Unmap never needs to merge (it only opens holes). Merging is local to the edited range and one
//! neighbour on each side (`map/merge.rs`).
//!
//! # Gap search
//!
//! Top-down, like Linux's default mmap layout: a [`Policy::Hint`] uses the requested range itself
//! if it is free, inside the bounds and not at address 0 (which means "no preference"); otherwise
//! the highest gap that fits below the hint's `below` ceiling (the personality passes its
//! `mmap_base`), placed at the top of the gap; otherwise the highest gap anywhere in the bounds.
//! [`RegionMap::free_gap`] exposes the search (`map/gap.rs`).
//!
//! # Errors and their Linux errno
//!
//! A refused operation changes nothing. The personality maps [`VmError`] to errno in its one
//! error-to-errno place; this crate deliberately has no errno numbers.
//!
//! | `VmError`                                           | errno | notes                                                   |
//! |-----------------------------------------------------|-------|---------------------------------------------------------|
//! | `UnalignedAddress`, `UnalignedLength`, `UnalignedOffset`, `ZeroLength` | `EINVAL` | the personality rounds mmap lengths up before asking |
//! | `Overflow`                                          | `ENOMEM` | `EINVAL` from munmap, as Linux                       |
//! | `OutOfBounds`                                       | `ENOMEM` | `EINVAL` from munmap; Linux says `EPERM` for a fixed map below `mmap_min_addr` |
//! | `OffsetOverflow`                                    | `EOVERFLOW` | Linux's answer when offset + length wraps          |
//! | `Exists`                                            | `EEXIST` | `MAP_FIXED_NOREPLACE`                                |
//! | `NotMapped`                                         | `ENOMEM` | mprotect over a hole                                 |
//! | `NoSpace`                                           | `ENOMEM` | no gap for mmap or mremap's move                     |
#![no_std]

extern crate alloc;

mod error;
mod map;
mod prot;
mod range;
mod region;

pub use error::VmError;
pub use map::{Mapped, Policy, RegionMap};
pub use prot::Prot;
pub use range::{Bounds, PAGE_SIZE, VRange, is_page_aligned, page_ceil, page_floor};
pub use region::Region;
