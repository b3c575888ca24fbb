//! The Memory object (`k42_kapi::Memory`): a process's address space as anonymous, zero-fill,
//! demand-paged regions (`space.rs`). Native programs get W^X: a writable and executable
//! protection is refused.

use k42_kapi::KError;
use k42_rights::Badge;

use k42_rights::Rights;

use super::{ImageObj, ProcessRef};
use crate::image::ImageRef;
use crate::space::prot_of;

/// A process's memory, as a kernel object.
#[derive(Clone)]
pub struct MemObj(pub ProcessRef);

impl k42_kapi::Memory for MemObj {
    fn map(&mut self, _caller: Badge, addr: u64, len: u64, prot: u8) -> Result<(), KError> {
        let prot = prot_of(prot)?;
        self.0
            .with_space(|s| s.map_anon(addr, len, prot))
            .ok_or(KError::WrongState)?
    }

    fn unmap(&mut self, _caller: Badge, addr: u64, len: u64) -> Result<(), KError> {
        let released = self
            .0
            .with_space(|s| s.unmap(addr, len))
            .ok_or(KError::WrongState)??;
        // Freed only when no CPU's TLB can reach them any more.
        crate::tlb::shootdown(crate::tlb::cpus_of(&self.0));
        released.free();
        Ok(())
    }

    fn protect(&mut self, _caller: Badge, addr: u64, len: u64, prot: u8) -> Result<(), KError> {
        let prot = prot_of(prot)?;
        self.0
            .with_space(|s| s.protect(addr, len, prot))
            .ok_or(KError::WrongState)??;
        crate::tlb::shootdown(crate::tlb::cpus_of(&self.0));
        Ok(())
    }

    fn map_shared(&mut self, _caller: Badge, addr: u64, len: u64, prot: u8) -> Result<(), KError> {
        let prot = prot_of(prot)?;
        self.0
            .with_space(|s| s.map_shared(addr, len, prot))
            .ok_or(KError::WrongState)?
    }

    fn make_image(&mut self, caller: Badge, pages: u64) -> Result<u64, KError> {
        if caller.0 != self.0.pid {
            return Err(KError::BadArgument);
        }
        let image = ImageRef::new(pages)?;
        super::insert_image(ImageObj(image), caller.0, Rights::all()).map(|h| h.to_word())
    }

    fn discard(&mut self, _caller: Badge, addr: u64, len: u64) -> Result<(), KError> {
        let released = self
            .0
            .with_space(|s| s.discard(addr, len))
            .ok_or(KError::WrongState)??;
        // Freed only when no CPU's TLB can reach them any more.
        crate::tlb::shootdown(crate::tlb::cpus_of(&self.0));
        released.free();
        Ok(())
    }

    fn new_child(&mut self, caller: Badge) -> Result<(u64, u64), KError> {
        if caller.0 != self.0.pid {
            return Err(KError::BadArgument);
        }
        let (pid, handle) = crate::fork::new_child(&self.0)?;
        Ok((pid, handle.to_word()))
    }
}
