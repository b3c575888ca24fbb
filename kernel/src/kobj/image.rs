//! The Image object (`k42_kapi::Image`): a file image (`crate::image`) as a kernel object. Its
//! maker fills it; whoever it gives READ maps it privately into its *own* memory — the caller's
//! badge names the space, so a handle lets no one map into another process.

use alloc::vec;

use k42_kapi::{IMAGE_PAGE_SIZE, KError, MAX_FILL_PAGES};
use k42_rights::Badge;

use crate::image::ImageRef;
use crate::process;
use crate::space::prot_of;

/// Bytes of one entry of `fill`'s table (a user address).
const TABLE_ENTRY: u64 = 8;

/// An image, as a kernel object.
#[derive(Clone)]
pub struct ImageObj(pub ImageRef);

impl k42_kapi::Image for ImageObj {
    fn fill(
        &mut self,
        caller: Badge,
        first: u64,
        table_addr: u64,
        count: u64,
    ) -> Result<(), KError> {
        if self.0.sealed() {
            return Err(KError::WrongState);
        }
        if count > MAX_FILL_PAGES || !self.0.holds(first, count) {
            return Err(KError::BadArgument);
        }
        let process = process::lookup(caller.0).ok_or(KError::WrongState)?;
        // Lossless: at most MAX_FILL_PAGES entries.
        let mut table = vec![0u8; (count * TABLE_ENTRY) as usize];
        process
            .with_space(|s| s.copy_in(table_addr, &mut table))
            .ok_or(KError::WrongState)??;
        let mut page = vec![0u8; IMAGE_PAGE_SIZE as usize];
        for (i, entry) in (0u64..).zip(table.chunks_exact(TABLE_ENTRY as usize)) {
            let mut word = [0u8; TABLE_ENTRY as usize];
            word.copy_from_slice(entry);
            let addr = u64::from_le_bytes(word);
            let bytes = if addr == 0 {
                None
            } else {
                process
                    .with_space(|s| s.copy_in(addr, &mut page))
                    .ok_or(KError::WrongState)??;
                Some(&page[..])
            };
            self.0.fill(first + i, bytes)?;
        }
        Ok(())
    }

    fn map_private(
        &mut self,
        caller: Badge,
        addr: u64,
        len: u64,
        first: u64,
        prot: u8,
    ) -> Result<(), KError> {
        let prot = prot_of(prot)?;
        let process = process::lookup(caller.0).ok_or(KError::WrongState)?;
        process
            .with_space(|s| s.map_image(addr, len, self.0.clone(), first, prot))
            .ok_or(KError::WrongState)?
    }

    fn pages(&self, _caller: Badge) -> Result<u64, KError> {
        Ok(self.0.pages())
    }

    fn seal(&mut self, _caller: Badge) -> Result<(), KError> {
        self.0.seal();
        Ok(())
    }
}
