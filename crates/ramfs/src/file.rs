//! A regular file's bytes, stored page by page so holes cost nothing.
//!
//! A file is a length and a sparse map from page index to a zero-initialised [`PAGE_SIZE`] page;
//! a page absent from the map reads as zeros. Bytes of a page past the file's length are always
//! zero (writes land inside the new length, truncation zeroes the cut tail), so growing a file
//! never exposes old data. The file system (`fs.rs`) counts allocated pages against its
//! [`crate::Limits::max_bytes`] and reports them as `st_blocks`, as tmpfs does.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use k42_linux::Errno;

use crate::PAGE_SIZE;

const PAGE: usize = PAGE_SIZE as usize;

/// A regular file's contents.
#[derive(Debug, Default)]
pub(crate) struct FileData {
    size: u64,
    pages: BTreeMap<u64, Box<[u8]>>,
    /// Changes (up, never back) with every write of a byte or truncate: a copy of the bytes
    /// made at one version is current while the version stays.
    version: u64,
}

/// A stretch of a file's bytes ([`FileData::pieces`]).
enum Piece<'a> {
    /// Bytes of an allocated page.
    Data(&'a [u8]),
    /// So many zeros (a hole).
    Hole(usize),
}

impl Piece<'_> {
    /// How many bytes it stands for.
    fn len(&self) -> usize {
        match self {
            Piece::Data(bytes) => bytes.len(),
            Piece::Hole(n) => *n,
        }
    }
}

/// A zeroed page, or `ENOMEM` if the allocator has none (a server must not abort on a big write).
fn zeroed_page() -> Result<Box<[u8]>, Errno> {
    let mut v = Vec::new();
    v.try_reserve_exact(PAGE).map_err(|_| Errno::ENOMEM)?;
    v.resize(PAGE, 0);
    Ok(v.into_boxed_slice())
}

impl FileData {
    /// The file's length.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The data version (`FileData::version`).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Page `index`'s bytes ([`PAGE_SIZE`] of them; those past the end are zero), or `None`
    /// for a hole (zeros).
    pub fn page(&self, index: u64) -> Option<&[u8]> {
        self.pages.get(&index).map(|p| &p[..])
    }

    /// Allocated pages.
    pub fn pages(&self) -> usize {
        self.pages.len()
    }

    /// Copies bytes from `offset` into `buf`, up to the end of the file; returns how many.
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> usize {
        let mut done = 0;
        self.pieces(offset, buf.len(), |piece| {
            let out = &mut buf[done..done + piece.len()];
            match piece {
                Piece::Data(bytes) => out.copy_from_slice(bytes),
                Piece::Hole(_) => out.fill(0),
            }
            done += out.len();
        });
        done
    }

    /// Appends up to `len` bytes from `offset` to `out`, up to the end of the file; returns how
    /// many. The same bytes as [`FileData::read`], for a caller whose buffer is a `Vec`: no room
    /// is zeroed first only to be overwritten.
    pub fn read_append(&self, offset: u64, len: usize, out: &mut Vec<u8>) -> usize {
        let start = out.len();
        self.pieces(offset, len, |piece| match piece {
            Piece::Data(bytes) => out.extend_from_slice(bytes),
            Piece::Hole(n) => out.resize(out.len() + n, 0),
        });
        out.len() - start
    }

    /// Calls `each` with the pieces of `[offset, offset + len)` cut at the end of the file, in
    /// order: a page's bytes, or the length of a hole (zeros).
    fn pieces(&self, offset: u64, len: usize, mut each: impl FnMut(Piece<'_>)) {
        if offset >= self.size {
            return;
        }
        let len = (self.size - offset).min(len as u64) as usize;
        let mut done = 0;
        while done < len {
            let pos = offset + done as u64;
            let within = (pos % PAGE_SIZE) as usize;
            let n = (PAGE - within).min(len - done);
            match self.pages.get(&(pos / PAGE_SIZE)) {
                Some(page) => each(Piece::Data(&page[within..within + n])),
                None => each(Piece::Hole(n)),
            }
            done += n;
        }
    }

    /// Writes `data` at `offset`, allocating at most `*budget` new pages (decremented by what it
    /// allocates). Stops early when the budget or the allocator runs out: returns the bytes
    /// written, or `ENOSPC`/`ENOMEM` if that is none of them. The caller has bounded
    /// `offset + data.len()` by the maximum file size.
    pub fn write(&mut self, offset: u64, data: &[u8], budget: &mut u64) -> Result<usize, Errno> {
        let mut done = 0;
        let mut error = Errno::ENOSPC;
        while done < data.len() {
            let pos = offset + done as u64;
            let within = (pos % PAGE_SIZE) as usize;
            let n = (PAGE - within).min(data.len() - done);
            let index = pos / PAGE_SIZE;
            let page = match self.pages.get_mut(&index) {
                Some(page) => page,
                None => {
                    if *budget == 0 {
                        break;
                    }
                    match zeroed_page() {
                        Ok(page) => {
                            *budget -= 1;
                            self.pages.entry(index).or_insert(page)
                        }
                        Err(e) => {
                            error = e;
                            break;
                        }
                    }
                }
            };
            page[within..within + n].copy_from_slice(&data[done..done + n]);
            done += n;
        }
        if done == 0 && !data.is_empty() {
            return Err(error);
        }
        self.size = self.size.max(offset + done as u64);
        if done != 0 {
            self.version += 1;
        }
        Ok(done)
    }

    /// Sets the length to `len`: shrinking frees the pages past it and zeroes the rest of the
    /// last one, growing adds a hole. Returns how many pages were freed.
    pub fn truncate(&mut self, len: u64) -> usize {
        self.version += 1;
        if len >= self.size {
            self.size = len;
            return 0;
        }
        self.size = len;
        let keep = len.div_ceil(PAGE_SIZE);
        let freed = self.pages.split_off(&keep).len();
        let within = (len % PAGE_SIZE) as usize;
        if within != 0
            && let Some(page) = self.pages.get_mut(&(len / PAGE_SIZE))
        {
            page[within..].fill(0);
        }
        freed
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use alloc::vec;

    fn read_all(f: &FileData) -> Vec<u8> {
        let mut buf = vec![0xaa; f.size() as usize + 10];
        let n = f.read(0, &mut buf);
        buf.truncate(n);
        buf
    }

    #[test]
    fn the_version_moves_with_every_change_and_only_then() {
        let mut f = FileData::default();
        let mut budget = 100;
        let v0 = f.version();
        assert_eq!(f.write(0, b"", &mut budget), Ok(0));
        assert_eq!(f.version(), v0, "an empty write changes nothing");
        assert_eq!(f.write(0, b"abc", &mut budget), Ok(3));
        let v1 = f.version();
        assert!(v1 > v0);
        let mut buf = [0u8; 3];
        f.read(0, &mut buf);
        assert_eq!(f.version(), v1, "a read changes nothing");
        assert_eq!(f.write(1, b"b", &mut budget), Ok(1));
        let v2 = f.version();
        assert!(v2 > v1, "a write of the same bytes is still a write");
        f.truncate(10);
        assert!(f.version() > v2, "growing by truncate changes the version");
        let v3 = f.version();
        f.truncate(1);
        assert!(f.version() > v3, "shrinking changes it too");
    }

    #[test]
    fn pages_are_there_or_holes() {
        let mut f = FileData::default();
        let mut budget = 100;
        assert_eq!(f.write(PAGE_SIZE + 2, b"xy", &mut budget), Ok(2));
        assert_eq!(f.page(0), None, "a hole");
        let page = f.page(1).expect("written page");
        assert_eq!(page.len(), PAGE);
        assert_eq!(&page[..4], b"\0\0xy");
        assert!(page[4..].iter().all(|&b| b == 0));
        assert_eq!(f.page(2), None, "past the end");
    }

    #[test]
    fn holes_read_as_zeros_and_cost_nothing() {
        let mut f = FileData::default();
        let mut budget = 100;
        assert_eq!(f.write(3 * PAGE_SIZE + 5, b"xyz", &mut budget), Ok(3));
        assert_eq!(f.size(), 3 * PAGE_SIZE + 8);
        assert_eq!(f.pages(), 1);
        assert_eq!(budget, 99);
        let all = read_all(&f);
        assert!(all[..3 * PAGE + 5].iter().all(|&b| b == 0));
        assert_eq!(&all[3 * PAGE + 5..], b"xyz");
    }

    #[test]
    fn write_across_pages_and_partial_on_budget() {
        let mut f = FileData::default();
        let data = vec![7u8; PAGE + 10];
        let mut budget = 1;
        // Starting mid-page: the first page fits, the second needs a page the budget lacks.
        assert_eq!(f.write(100, &data, &mut budget), Ok(PAGE - 100));
        assert_eq!(f.size(), PAGE_SIZE);
        assert_eq!(f.write(PAGE_SIZE, b"a", &mut budget), Err(Errno::ENOSPC));
        let mut more = 1;
        assert_eq!(f.write(PAGE_SIZE, b"a", &mut more), Ok(1));
    }

    #[test]
    fn truncate_zeroes_the_cut_tail() {
        let mut f = FileData::default();
        let mut budget = 10;
        f.write(0, &vec![1u8; 2 * PAGE], &mut budget).unwrap();
        assert_eq!(f.truncate(10), 1);
        assert_eq!(f.pages(), 1);
        f.truncate(PAGE_SIZE + 1);
        let all = read_all(&f);
        assert_eq!(all.len(), PAGE + 1);
        assert!(all[..10].iter().all(|&b| b == 1));
        assert!(all[10..].iter().all(|&b| b == 0));
        assert_eq!(f.truncate(0), 1);
        assert_eq!(f.pages(), 0);
    }

    #[test]
    fn read_past_end() {
        let mut f = FileData::default();
        f.write(0, b"hello", &mut 1).unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(f.read(5, &mut buf), 0);
        assert_eq!(f.read(3, &mut buf), 2);
        assert_eq!(&buf[..2], b"lo");
        assert_eq!(f.read(u64::MAX, &mut buf), 0);
    }
}
