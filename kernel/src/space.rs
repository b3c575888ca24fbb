//! A process's memory: its regions (`k42-vm`: one protection each), the pages behind them and
//! the page tables (`k42_hal::user::AddressSpace`, a cache of the two). Anonymous memory,
//! zero-filled on first touch, is one copy-on-write memory object per process: a leaf of its
//! fork family's tree (`cow.rs`, over `k42-cow`), indexed by virtual page. [`Space::fork`] makes
//! the child's leaf and write-protects the parent's mappings; a fault copies a shared page on
//! write; `unmap` discards the leaf's pages there (hiding an ancestor's, so the range reads zeros
//! again); the end of a process collapses the chain it leaves. This is DESIGN §2.5's Region →
//! FCM → FR → PM → HAT chain with one FCM per address space; file-backed FRs and MAP_SHARED
//! memory come with mmap of files.
//!
//! The kernel reaches user memory only through here: a copy faults missing pages in first (as
//! the CPU would), then copies through the direct map (`UserSlice`).

use alloc::vec::Vec;
use k42_hal::paging::MapError;

use k42_cow::NodeId;
use k42_hal::user::{AddressSpace, PageFrame, SpaceRoot, USER_TOP, UserFlags, UserSlice};
use k42_kapi::KError;
use k42_vm::{Bounds, PAGE_SIZE, Policy, Prot, RegionMap, VRange};

use crate::cow::{Family, FamilyRef, ImageFault};
use crate::image::ImageRef;
use crate::mm;
use crate::shared::SharedRef;

/// Lowest user address that may be mapped: page 0 and the rest of the first 64 KiB stay unmapped
/// so null-pointer accesses fault (Linux's `mmap_min_addr`).
pub const USER_MIN: u64 = 0x1_0000;
/// The window every user space maps in.
const BOUNDS: Bounds = Bounds {
    min: USER_MIN,
    top: USER_TOP,
};

/// What backs a region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backing {
    /// Anonymous zero-fill memory: the space's copy-on-write leaf.
    Anon,
    /// Shared anonymous memory (`shared.rs`): the same pages in every region naming the
    /// object, fork children's included.
    Shared(SharedRef),
    /// A file image (`image.rs`), mapped privately: its pages read-only until written, then
    /// the space's copy-on-write leaf's own (copied from the image, where `Anon` zero-fills).
    /// The region's offset is the byte offset of its start in the image.
    Image(ImageRef),
    /// A kernel-owned page mapped in (a dispatcher page): not this space's to allocate or free.
    Kernel,
}

/// What an unmap let go of: to be freed (dropped) only once no CPU's TLB can reach it, after
/// the shootdown.
#[must_use = "frames must go back once the TLBs are clean"]
#[derive(Default)]
pub struct Released {
    frames: Vec<PageFrame>,
    shared: Vec<SharedRef>,
    images: Vec<ImageRef>,
}

impl Released {
    /// Frames that left the space for good.
    pub fn frames(&self) -> usize {
        self.frames.len()
    }

    /// Gives everything back (after the shootdown).
    pub fn free(self) {
        self.frames.into_iter().for_each(mm::free_page);
        drop(self.shared);
        drop(self.images);
    }
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
    /// The fork family's tree and frames, and this space's leaf in it.
    family: FamilyRef,
    leaf: NodeId,
}

/// The copy-on-write tree's index of the page at `addr`.
const fn page_index(addr: u64) -> u64 {
    addr / PAGE_SIZE
}

fn prot_flags(prot: Prot) -> UserFlags {
    UserFlags {
        writable: prot.contains(Prot::WRITE),
        executable: prot.contains(Prot::EXEC),
    }
}

/// The flags of a page a copy-on-write fault resolved: `prot`'s, but writable only if the
/// page is the space's own (`writable`) — a shared one stays read-only until written.
fn cow_flags(prot: Prot, writable: bool) -> UserFlags {
    UserFlags {
        writable: writable && prot.contains(Prot::WRITE),
        ..prot_flags(prot)
    }
}

/// Maps `frame` at `page` with `flags` in place of whatever mapped it (a shared page mapped
/// read-only, now copied).
fn install(
    hw: &mut AddressSpace,
    page: u64,
    frame: &PageFrame,
    flags: UserFlags,
) -> Result<(), KError> {
    let map = |hw: &mut AddressSpace| mm::with_frames(|f| hw.map(page, frame, flags, f));
    match map(hw) {
        Err(MapError::AlreadyMapped(_)) => {
            let _ = hw.unmap(page);
            map(hw)
        }
        done => done,
    }
    .map_err(|_| KError::NoMemory)
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
        let (family, leaf) = Family::new();
        Ok(Self {
            hw,
            regions: RegionMap::new(BOUNDS),
            family,
            leaf,
        })
    }

    /// A copy-on-write copy of this space for a forked child: every anonymous region with the
    /// same protection, its pages shared until either side writes; kernel pages (dispatcher
    /// pages) are left out. This space's writable mappings become read-only, so the caller must
    /// flush the TLBs of every CPU running it before the parent runs on.
    pub fn fork(&mut self) -> Result<Space, KError> {
        let hw = mm::with_frames(AddressSpace::new).map_err(|_| KError::NoMemory)?;
        let mut regions = self.regions.clone();
        let kernel: Vec<VRange> = self
            .regions
            .iter()
            .filter(|r| r.backing == Backing::Kernel)
            .map(|r| r.range)
            .collect();
        for range in kernel {
            regions.unmap(range);
        }
        let leaf = match self.family.fork(self.leaf) {
            Ok(leaf) => leaf,
            Err(e) => {
                log::error!("fork of a copy-on-write space: {e}");
                mm::with_frames(|f| hw.destroy(f));
                return Err(KError::WrongState);
            }
        };
        let mut child = Space {
            hw,
            regions,
            family: self.family.clone(),
            leaf,
        };
        self.share_mappings_with(&mut child);
        Ok(child)
    }

    /// After the tree's fork: makes this space's copy-on-write mappings read-only and maps
    /// in the child what this space has mapped, as Linux's fork copies page tables. The child
    /// sees what the parent sees, so every page the parent has present is the child's too:
    /// its copy-on-write pages (anonymous, or an image's) read-only, as the parent's now are,
    /// a shared object's writable if they are here. The child then faults only on writes and
    /// on pages the parent never touched (without this, fork-then-exit took some 78 faults).
    /// The child's regions name the same images and shared objects, so they outlive its
    /// mappings as the parent's do; the tree frees a frame only once no process sees it.
    fn share_mappings_with(&mut self, child: &mut Space) {
        for region in child.regions.iter() {
            let copy_on_write = match region.backing {
                Backing::Anon | Backing::Image(_) => true,
                Backing::Shared(_) => false,
                Backing::Kernel => continue,
            };
            let (start, end) = (region.range.start(), region.range.end());
            if let Err(e) = mm::with_frames(|f| {
                self.hw
                    .share_into(&mut child.hw, start, end, copy_on_write, f)
            }) {
                // Out of page-table frames: what the child lacks faults in later, but every
                // page here must still lose write, or the parent would write the frames the
                // child now shares.
                log::warn!("fork: copying the mappings of {start:#x}..{end:#x}: {e:?}");
                if copy_on_write {
                    self.write_protect(start..end);
                }
            }
        }
    }

    /// The frame mapped at `addr` and whether writes go through, if a page is present (for
    /// tests: what the page tables cache).
    pub fn mapping(&self, addr: u64) -> Option<(u64, bool)> {
        self.hw
            .lookup(addr & !(PAGE_SIZE - 1))
            .map(|(paddr, flags)| (paddr, flags.writable))
    }

    /// Takes write away from every page mapped in `range` (this CPU's TLB flushed).
    fn write_protect(&mut self, range: core::ops::Range<u64>) {
        for page in self.hw.present(range.start, range.end) {
            if let Some((_, flags)) = self.hw.lookup(page)
                && flags.writable
            {
                let read_only = UserFlags {
                    writable: false,
                    ..flags
                };
                let _ = self.hw.protect(page, read_only);
            }
        }
    }

    /// The fork family this space belongs to (for tests: it outlives the space).
    pub fn family(&self) -> FamilyRef {
        self.family.clone()
    }

    /// The longest copy-on-write chain in this space's fork family, and the frames the family
    /// holds (for tests and statistics).
    pub fn cow_stats(&self) -> (usize, usize) {
        (self.family.longest_chain(), self.family.frames_held())
    }

    /// Its PML4, for a dispatcher to load without this space's lock (`switch::load_space`).
    pub fn root(&self) -> SpaceRoot {
        self.hw.root()
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

    /// Maps a new shared anonymous object at `addr..addr+len`, which must be free.
    pub fn map_shared(&mut self, addr: u64, len: u64, prot: Prot) -> Result<(), KError> {
        let range = range(addr, len)?;
        self.regions
            .insert(
                range,
                prot,
                Backing::Shared(SharedRef::new()),
                0,
                Policy::FixedNoReplace,
            )
            .map(drop)
            .map_err(|_| KError::Exists)
    }

    /// Maps `len` bytes of `image` from page `first` at `addr..addr+len`, which must be free,
    /// privately (`Backing::Image`). `BadArgument` for a range past the image's end.
    pub fn map_image(
        &mut self,
        addr: u64,
        len: u64,
        image: ImageRef,
        first: u64,
        prot: Prot,
    ) -> Result<(), KError> {
        let range = range(addr, len)?;
        if !image.sealed() {
            return Err(KError::WrongState);
        }
        if !image.holds(first, len / PAGE_SIZE) {
            return Err(KError::BadArgument);
        }
        let offset = first.checked_mul(PAGE_SIZE).ok_or(KError::BadArgument)?;
        self.regions
            .insert(
                range,
                prot,
                Backing::Image(image),
                offset,
                Policy::FixedNoReplace,
            )
            .map(drop)
            .map_err(|_| KError::Exists)
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

    /// Unmaps `addr..addr+len` (holes are fine) and returns what it let go of, for the caller
    /// to free once no CPU's TLB can still reach it (after the shootdown). Kernel pages in the
    /// range are refused: they go with their dispatcher.
    pub fn unmap(&mut self, addr: u64, len: u64) -> Result<Released, KError> {
        let range = range(addr, len)?;
        if self
            .regions
            .overlapping(range)
            .any(|r| r.backing == Backing::Kernel)
        {
            return Err(KError::BadArgument);
        }
        let mut released = Released::default();
        for piece in self.regions.unmap(range) {
            self.drop_pages(piece.range, &mut released.frames);
            match piece.backing {
                Backing::Shared(object) => released.shared.push(object),
                // Its frames may still be in a TLB: the image lives until the shootdown.
                Backing::Image(image) => released.images.push(image),
                Backing::Anon | Backing::Kernel => {}
            }
        }
        Ok(released)
    }

    /// Drops the space's own copies of the pages of `addr..addr+len`, which must be wholly
    /// mapped (`MADV_DONTNEED`): every page of the range leaves the page tables and the leaf
    /// discards its pages there (hiding its ancestors'), so anonymous memory reads zeros
    /// again and an image's range its image's bytes; a shared object's pages stay the object's.
    /// Returns the frames to free after the shootdown.
    pub fn discard(&mut self, addr: u64, len: u64) -> Result<Released, KError> {
        let range = range(addr, len)?;
        let mut covered = range.start();
        for region in self.regions.overlapping(range) {
            if region.backing == Backing::Kernel {
                return Err(KError::BadArgument);
            }
            if region.range.start() > covered {
                return Err(KError::BadAddress);
            }
            covered = region.range.end();
        }
        if covered < range.end() {
            return Err(KError::BadAddress);
        }
        let mut released = Released::default();
        self.drop_pages(range, &mut released.frames);
        Ok(released)
    }

    /// Unmaps the anonymous pages of `range` from the page tables and discards them from the
    /// leaf, collecting the frames nobody sees any more.
    fn drop_pages(&mut self, range: VRange, freed: &mut Vec<PageFrame>) {
        for addr in self.hw.present(range.start(), range.end()) {
            if self.hw.unmap(addr).is_ok() {
                crate::cpu::this().count(k42_kapi::counter::TLB_FLUSHES);
            }
        }
        let pages = page_index(range.start())..page_index(range.end());
        freed.extend(self.family.discard(self.leaf, pages));
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
        for addr in self.hw.present(range.start(), range.end()) {
            // A copy-on-write page stays read-only: its next write copies it (a shared
            // object's page is writable whenever its region is; the next write maps it so).
            let writable = self.hw.lookup(addr).is_some_and(|(_, f)| f.writable);
            let flags = UserFlags {
                writable: writable && prot.contains(Prot::WRITE),
                ..prot_flags(prot)
            };
            let _ = self.hw.protect(addr, flags);
        }
        Ok(())
    }

    /// Resolves a fault at `addr`: a missing page of an anonymous region that allows `access`
    /// gets a zeroed frame, or its fork family's shared copy (read-only), or a private copy of
    /// that (on a write). `false`: a bad access (no region, wrong protection), or memory is out.
    pub fn fault(&mut self, addr: u64, access: Access) -> bool {
        let Some(region) = self.regions.find(addr) else {
            return false;
        };
        let needed = match access {
            Access::Read => Prot::READ,
            Access::Write => Prot::WRITE,
            Access::Execute => Prot::EXEC,
        };
        if !region.prot.contains(needed) || region.backing == Backing::Kernel {
            return false;
        }
        let prot = region.prot;
        let page = addr & !(PAGE_SIZE - 1);
        if let Some((_, flags)) = self.hw.lookup(page)
            && (access != Access::Write || flags.writable)
        {
            // Present and allowed: a stale TLB entry (another CPU changed it); nothing to add.
            return true;
        }
        if let Backing::Shared(object) = &region.backing {
            // Lossless: a region's offset and range lie in u64 (k42-vm checks both).
            let index = page_index(region.offset + (page - region.range.start()));
            let object = object.clone();
            return self.map_shared_page(&object, index, page, prot).is_ok();
        }
        if let Backing::Image(image) = &region.backing {
            // Lossless, as above.
            let index = page_index(region.offset + (page - region.range.start()));
            let image = image.clone();
            return self
                .resolve_image(&image, index, page, access == Access::Write, prot)
                .is_ok();
        }
        self.resolve(page, access == Access::Write, prot).is_ok()
    }

    /// `resolve` for a page of a region over `image` (its page `index`): the leaf's copy if it
    /// has one, else the image's frame read-only for a read, or a private copy of it.
    fn resolve_image(
        &mut self,
        image: &ImageRef,
        index: u64,
        page: u64,
        write: bool,
        prot: Prot,
    ) -> Result<(), KError> {
        let hw = &mut self.hw;
        let got = self.family.fault_image(
            self.leaf,
            page_index(page),
            write,
            image,
            index,
            |frame, writable| install(hw, page, frame, cow_flags(prot, writable)),
        )?;
        match got {
            ImageFault::Tree(()) => Ok(()),
            ImageFault::Image => {
                let flags = cow_flags(prot, false);
                let hw = &mut self.hw;
                image
                    .with_page(index, |frame| {
                        frame.map(|frame| install(hw, page, frame, flags))
                    })
                    .flatten()
                    .ok_or(KError::BadAddress)?
            }
        }
    }

    /// Maps page `index` of shared object `object` at `page` with `prot`.
    fn map_shared_page(
        &mut self,
        object: &SharedRef,
        index: u64,
        page: u64,
        prot: Prot,
    ) -> Result<(), KError> {
        let hw = &mut self.hw;
        object
            .with_page(index, |frame| install(hw, page, frame, prot_flags(prot)))
            .ok_or(KError::NoMemory)?
    }

    /// Asks the leaf for page `page` (a write makes it the leaf's own) and maps what it gets
    /// with `prot`, read-only if shared; returns the frame's physical address.
    fn resolve(&mut self, page: u64, write: bool, prot: Prot) -> Result<u64, KError> {
        let hw = &mut self.hw;
        self.family
            .fault(self.leaf, page_index(page), write, |frame, writable| {
                install(hw, page, frame, cow_flags(prot, writable))?;
                Ok(frame.paddr())
            })
            .inspect_err(|e| {
                if *e == KError::NoMemory {
                    log::warn!("out of memory faulting in {page:#x}");
                }
            })
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
            let region = self.regions.find(page).ok_or(KError::BadAddress)?;
            if region.backing != Backing::Anon {
                return Err(KError::BadAddress);
            }
            let prot = region.prot;
            let paddr = self.resolve(page, true, prot)?;
            self.family
                .with_frame(paddr, |frame| frame.write(offset, &bytes[done..done + n]))
                .ok_or(KError::WrongState)?;
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
                Some((_, flags)) if access != Access::Write || flags.writable => true,
                // Missing, or shared copy-on-write: the fault path decides.
                _ => self.fault(page, access),
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

    /// Frees everything: page tables, then the leaf (collapsing the fork chain it leaves) and
    /// the frames nobody else sees. The space must not be loaded on any CPU (the kernel switches
    /// this CPU to its own tables first).
    pub fn destroy(self) {
        let Self {
            hw, family, leaf, ..
        } = self;
        mm::with_frames(|f| hw.destroy(f));
        let freed = family.exit(leaf);
        freed.into_iter().for_each(mm::free_page);
    }
}
