//! A process's memory: its regions (`k42-vm`: one protection each), the pages behind them and
//! the page tables (`k42_hal::user::AddressSpace`, a cache of the two). Anonymous memory only:
//! zero-filled on first touch. This is the seed of DESIGN §2.5's Region → FCM → FR → PM → HAT
//! chain: here the "FCM" of every anonymous region is this table of pages, and copy-on-write
//! memory objects with fork trees replace it with the Linux personality (issues #4, #5).
//!
//! The kernel reaches user memory only through here: a copy faults missing pages in first (as
//! the CPU would), then copies through the direct map (`UserSlice`).

use alloc::collections::BTreeMap;

use k42_hal::user::{AddressSpace, PageFrame, USER_TOP, UserFlags, UserSlice};
use k42_kapi::KError;
use k42_vm::{Bounds, PAGE_SIZE, Policy, Prot, RegionMap, VRange};

use crate::mm;

/// Lowest user address that may be mapped: page 0 and the rest of the first 64 KiB stay unmapped
/// so null-pointer accesses fault (Linux's `mmap_min_addr`).
pub const USER_MIN: u64 = 0x1_0000;
/// The window every user space maps in.
const BOUNDS: Bounds = Bounds {
    min: USER_MIN,
    top: USER_TOP,
};

/// What backs a region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backing {
    /// Anonymous zero-fill memory; its pages are in `Space::pages`.
    Anon,
    /// A kernel-owned page mapped in (a dispatcher page): not this space's to allocate or free.
    Kernel,
}

/// How a fault touched memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A load.
    Read,
    /// A store.
    Write,
    /// An instruction fetch.
    Execute,
}

/// One process's memory.
pub struct Space {
    hw: AddressSpace,
    regions: RegionMap<Backing>,
    /// The anonymous pages faulted in so far, by user address.
    pages: BTreeMap<u64, PageFrame>,
}

fn prot_flags(prot: Prot) -> UserFlags {
    UserFlags {
        writable: prot.contains(Prot::WRITE),
        executable: prot.contains(Prot::EXEC),
    }
}

/// A kernel-interface protection as a region protection, refusing writable-and-executable:
/// native programs get W^X.
pub fn prot_of(bits: u8) -> Result<Prot, KError> {
    let prot = Prot::from_bits(u32::from(bits)).ok_or(KError::BadArgument)?;
    if prot.violates_wx() {
        return Err(KError::BadArgument);
    }
    Ok(prot)
}

fn range(addr: u64, len: u64) -> Result<VRange, KError> {
    VRange::within(addr, len, BOUNDS).map_err(|_| KError::BadArgument)
}

impl Space {
    /// An empty space.
    pub fn new() -> Result<Self, KError> {
        let hw = mm::with_frames(AddressSpace::new).map_err(|_| KError::NoMemory)?;
        Ok(Self {
            hw,
            regions: RegionMap::new(BOUNDS),
            pages: BTreeMap::new(),
        })
    }

    /// Loads the page tables on this CPU.
    pub fn activate(&self) -> bool {
        let switched = !self.hw.is_active();
        self.hw.activate();
        switched
    }

    /// Loads the kernel's own tables instead if this space is loaded here (before the space
    /// goes away, or a CPU stops running it).
    pub fn deactivate_here(&self) {
        if self.hw.is_active() {
            k42_hal::paging::activate_kernel();
        }
    }

    /// Maps anonymous zero-fill memory at `addr..addr+len`, which must be free.
    pub fn map_anon(&mut self, addr: u64, len: u64, prot: Prot) -> Result<(), KError> {
        let range = range(addr, len)?;
        let mapped = self
            .regions
            .insert(range, prot, Backing::Anon, 0, Policy::FixedNoReplace)
            .map_err(|_| KError::Exists)?;
        debug_assert!(mapped.displaced.is_empty());
        Ok(())
    }

    /// Maps a kernel-owned page (read-write, never executable) at `addr`, which must be free.
    pub fn map_kernel_page(&mut self, addr: u64, page: &PageFrame) -> Result<(), KError> {
        let range = range(addr, PAGE_SIZE)?;
        self.regions
            .insert(range, Prot::RW, Backing::Kernel, 0, Policy::FixedNoReplace)
            .map_err(|_| KError::Exists)?
            .displaced
            .is_empty()
            .then_some(())
            .ok_or(KError::Exists)?;
        mm::with_frames(|f| self.hw.map(addr, page, prot_flags(Prot::RW), f))
            .map_err(|_| KError::NoMemory)
    }

    /// Unmaps `addr..addr+len` (holes are fine) and returns its anonymous pages, for the caller
    /// to free once no CPU's TLB can still reach them (after the shootdown). Kernel pages in the
    /// range are refused: they go with their dispatcher.
    pub fn unmap(&mut self, addr: u64, len: u64) -> Result<alloc::vec::Vec<PageFrame>, KError> {
        let range = range(addr, len)?;
        if self
            .regions
            .overlapping(range)
            .any(|r| r.backing == Backing::Kernel)
        {
            return Err(KError::BadArgument);
        }
        let mut freed = alloc::vec::Vec::new();
        for piece in self.regions.unmap(range) {
            self.drop_pages(piece.range, &mut freed);
        }
        Ok(freed)
    }

    fn drop_pages(&mut self, range: VRange, freed: &mut alloc::vec::Vec<PageFrame>) {
        let doomed: alloc::vec::Vec<u64> = self
            .pages
            .range(range.start()..range.end())
            .map(|(&a, _)| a)
            .collect();
        for addr in doomed {
            if self.hw.unmap(addr).is_ok() {
                crate::cpu::this().count(k42_kapi::counter::TLB_FLUSHES);
            }
            if let Some(page) = self.pages.remove(&addr) {
                freed.push(page);
            }
        }
    }

    /// Changes the protection of `addr..addr+len`, which must be wholly mapped.
    pub fn protect(&mut self, addr: u64, len: u64, prot: Prot) -> Result<(), KError> {
        let range = range(addr, len)?;
        if self
            .regions
            .overlapping(range)
            .any(|r| r.backing == Backing::Kernel)
        {
            return Err(KError::BadArgument);
        }
        self.regions
            .protect(range, prot)
            .map_err(|_| KError::BadAddress)?;
        let present: alloc::vec::Vec<u64> = self
            .pages
            .range(range.start()..range.end())
            .map(|(&a, _)| a)
            .collect();
        for addr in present {
            let _ = self.hw.protect(addr, prot_flags(prot));
        }
        Ok(())
    }

    /// Resolves a fault at `addr`: a missing page of an anonymous region that allows `access`
    /// gets a zeroed frame. `false`: a bad access (no region, wrong protection).
    pub fn fault(&mut self, addr: u64, access: Access) -> bool {
        let Some(region) = self.regions.find(addr) else {
            return false;
        };
        let needed = match access {
            Access::Read => Prot::READ,
            Access::Write => Prot::WRITE,
            Access::Execute => Prot::EXEC,
        };
        if !region.prot.contains(needed) || region.backing != Backing::Anon {
            return false;
        }
        let page = addr & !(PAGE_SIZE - 1);
        if self.pages.contains_key(&page) {
            // Present and allowed: a stale TLB entry (another CPU changed it); nothing to add.
            return self.hw.lookup(page).is_some();
        }
        let flags = prot_flags(region.prot);
        let Some(frame) = mm::alloc_page() else {
            log::warn!("out of memory faulting in {page:#x}");
            return false;
        };
        if mm::with_frames(|f| self.hw.map(page, &frame, flags, f)).is_err() {
            mm::free_page(frame);
            return false;
        }
        self.pages.insert(page, frame);
        true
    }

    /// The frame behind anonymous page `page`, faulting it in (as a write) if it is missing:
    /// how the loader fills a program's pages whatever their final protection.
    fn frame_for_load(&mut self, page: u64) -> Result<&PageFrame, KError> {
        if !self.pages.contains_key(&page) {
            let region = self.regions.find(page).ok_or(KError::BadAddress)?;
            if region.backing != Backing::Anon {
                return Err(KError::BadAddress);
            }
            let flags = prot_flags(region.prot);
            let frame = mm::alloc_page().ok_or(KError::NoMemory)?;
            if mm::with_frames(|f| self.hw.map(page, &frame, flags, f)).is_err() {
                mm::free_page(frame);
                return Err(KError::NoMemory);
            }
            self.pages.insert(page, frame);
        }
        Ok(&self.pages[&page])
    }

    /// Writes `bytes` at `addr` from the kernel, ignoring the region's protection (loading a
    /// read-only segment): every page must be in an anonymous region.
    pub fn load_bytes(&mut self, addr: u64, bytes: &[u8]) -> Result<(), KError> {
        let mut done = 0usize;
        while done < bytes.len() {
            let at = addr.checked_add(done as u64).ok_or(KError::BadArgument)?;
            let page = at & !(PAGE_SIZE - 1);
            let offset = (at - page) as usize;
            let n = (PAGE_SIZE as usize - offset).min(bytes.len() - done);
            self.frame_for_load(page)?
                .write(offset, &bytes[done..done + n]);
            done += n;
        }
        Ok(())
    }

    /// Faults in every page of `addr..addr+len` the way `access` would, for a copy.
    fn prefault(&mut self, addr: u64, len: u64, access: Access) -> Result<(), KError> {
        if len == 0 {
            return Ok(());
        }
        let end = addr.checked_add(len).ok_or(KError::BadAddress)?;
        let mut page = addr & !(PAGE_SIZE - 1);
        while page < end {
            let ok = match self.hw.lookup(page) {
                Some((_, flags)) => access != Access::Write || flags.writable,
                None => self.fault(page, access),
            };
            if !ok {
                return Err(KError::BadAddress);
            }
            page += PAGE_SIZE;
        }
        Ok(())
    }

    /// Copies the caller's `buf.len()` bytes at `addr` into `buf`.
    pub fn copy_in(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), KError> {
        let slice =
            UserSlice::<false>::new(addr, buf.len() as u64).map_err(|_| KError::BadAddress)?;
        self.prefault(addr, buf.len() as u64, Access::Read)?;
        slice.copy_in(&self.hw, buf).map_err(|_| KError::BadAddress)
    }

    /// Copies `data` to the caller's memory at `addr`.
    pub fn copy_out(&mut self, addr: u64, data: &[u8]) -> Result<(), KError> {
        let slice =
            UserSlice::<true>::new(addr, data.len() as u64).map_err(|_| KError::BadAddress)?;
        self.prefault(addr, data.len() as u64, Access::Write)?;
        slice
            .copy_out(&self.hw, data)
            .map_err(|_| KError::BadAddress)
    }

    /// Frees everything: page tables, then the anonymous pages. The space must not be loaded on
    /// any CPU (the kernel switches this CPU to its own tables first).
    pub fn destroy(self) {
        let Self { hw, pages, .. } = self;
        mm::with_frames(|f| hw.destroy(f));
        for (_, page) in pages {
            mm::free_page(page);
        }
    }
}
