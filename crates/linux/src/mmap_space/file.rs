//! `mmap` of a file descriptor (no `MAP_ANONYMOUS`): the checks Linux makes, in Linux's order,
//! and what the mapping becomes in the personality's map ([`plan`]).
//!
//! Linux 6.1 refuses an unaligned offset first (x86_64's `sys_mmap`: `EINVAL`), then a
//! descriptor that is not open (`ksys_mmap_pgoff`: `EBADF`, which an `O_PATH` one is too);
//! the personality answers those two, since they need its fd table. The rest is here, in
//! `do_mmap`'s order: `EOVERFLOW` for a range past the largest file offset, `EOPNOTSUPP` for a
//! flag `MAP_SHARED_VALIDATE` does not know, `EACCES` for a writable shared mapping of a
//! descriptor not open for writing or any mapping of one not open for reading, `ENODEV` for a
//! descriptor whose file cannot be mapped (pipes, the console, directories, every device but
//! `/dev/zero`), `EINVAL` for `MAP_GROWSDOWN` or `MAP_HUGETLB` on a file and for an unknown
//! mapping type.
//!
//! What passes becomes one of the map's kinds: `/dev/zero` is anonymous memory, private or
//! shared, as on Linux (`mmap_zero`); a regular file is [`Kind::FilePrivate`] or, read-only,
//! [`Kind::FileShared`] — memory the personality fills from the file's bytes. A *writable*
//! shared mapping of a regular file is [`Plan::SharedWritable`]: writes would have to reach
//! the file, which the personality does not do (it answers `ENODEV`; docs/linux-personality.md,
//! "Program memory").

use linux_raw_sys::general as raw;

use super::{Kind, PROT_WRITE};
use crate::PAGE_SIZE;
use crate::errno::Errno;

/// The flags a `MAP_SHARED_VALIDATE` mapping of a file may carry: Linux's `LEGACY_MAP_MASK`
/// (`include/linux/mman.h`, x86_64's `MAP_32BIT` included) plus the file's own
/// `mmap_supported_flags`, which are none for the files here (only DAX file systems take
/// `MAP_SYNC`). `MAP_SHARED` drops every other flag instead. `MAP_FIXED_NOREPLACE` is not
/// among them: Linux 6.1 answers `EOPNOTSUPP` for it with `MAP_SHARED_VALIDATE`.
pub const LEGACY_MAP_MASK: u32 = raw::MAP_SHARED
    | raw::MAP_PRIVATE
    | raw::MAP_FIXED
    | raw::MAP_ANONYMOUS
    | raw::MAP_DENYWRITE
    | raw::MAP_EXECUTABLE
    | raw::MAP_UNINITIALIZED
    | raw::MAP_GROWSDOWN
    | raw::MAP_LOCKED
    | raw::MAP_NORESERVE
    | raw::MAP_POPULATE
    | raw::MAP_NONBLOCK
    | raw::MAP_STACK
    | raw::MAP_HUGETLB
    | raw::MAP_32BIT
    | raw::MAP_HUGE_2MB
    | raw::MAP_HUGE_1GB;

/// The largest offset a regular file may have: Linux's `MAX_LFS_FILESIZE` on 64-bit machines,
/// `LLONG_MAX`.
pub const MAX_LFS_FILESIZE: u64 = i64::MAX as u64;

/// What the descriptor's open file is, as far as mapping it goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Object {
    /// A regular file of the file server.
    Regular,
    /// `/dev/zero`: mapped as anonymous memory.
    Zero,
    /// Anything without an `mmap` (a pipe or FIFO, the console, a directory, another device).
    Unmappable,
}

/// The descriptor a file mapping names, as the fd table describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Source {
    /// What it is.
    pub object: Object,
    /// Whether it was opened for reading (`O_RDONLY` or `O_RDWR`).
    pub readable: bool,
    /// Whether it was opened for writing (`O_WRONLY` or `O_RDWR`).
    pub writable: bool,
}

/// What a file mapping that passed Linux's checks becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Zero-filled memory of this kind, as with `MAP_ANONYMOUS` (`/dev/zero`).
    Anonymous(Kind),
    /// Memory of this kind ([`Kind::FilePrivate`], [`Kind::FileShared`]) filled from the file's
    /// bytes at the offset; bytes past the end of the file read as zero.
    Filled(Kind),
    /// A writable `MAP_SHARED` mapping of a regular file, which Linux would make and the
    /// personality does not serve.
    SharedWritable,
}

/// Linux's `file_mmap_ok`: whether `len` bytes at `offset` stay within the offsets a file of
/// this object may have (`MAX_LFS_FILESIZE` for a regular file, any unsigned offset for a
/// device), counted in pages as Linux counts them.
fn within_file(object: Object, offset: u64, len: u64) -> bool {
    let max = match object {
        Object::Regular => MAX_LFS_FILESIZE,
        Object::Zero | Object::Unmappable => u64::MAX,
    };
    len <= max && offset / PAGE_SIZE <= (max - len) / PAGE_SIZE
}

/// Checks a mapping of `len` bytes (already rounded up to pages, non-zero) of `source` at
/// `offset` (page-aligned) with `prot` and `flags`, as Linux's `do_mmap` does after placing it
/// (module documentation), and says what it becomes.
pub fn plan(flags: u32, prot: u8, offset: u64, len: u64, source: Source) -> Result<Plan, Errno> {
    // `ksys_mmap_pgoff`: huge pages come only from hugetlbfs files.
    if flags & raw::MAP_HUGETLB != 0 {
        return Err(Errno::EINVAL);
    }
    if !within_file(source.object, offset, len) {
        return Err(Errno::EOVERFLOW);
    }
    let shared = match flags & raw::MAP_TYPE {
        raw::MAP_SHARED => true,
        raw::MAP_SHARED_VALIDATE if flags & !LEGACY_MAP_MASK != 0 => {
            return Err(Errno::EOPNOTSUPP);
        }
        raw::MAP_SHARED_VALIDATE => true,
        raw::MAP_PRIVATE => false,
        _ => return Err(Errno::EINVAL),
    };
    let write = prot & PROT_WRITE != 0;
    if shared && write && !source.writable {
        return Err(Errno::EACCES);
    }
    if !source.readable {
        return Err(Errno::EACCES);
    }
    if source.object == Object::Unmappable {
        return Err(Errno::ENODEV);
    }
    // VM_GROWSDOWN on a file mapping.
    if flags & raw::MAP_GROWSDOWN != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(match (source.object, shared) {
        (Object::Zero, false) => Plan::Anonymous(Kind::AnonPrivate),
        (Object::Zero, true) => Plan::Anonymous(Kind::AnonShared),
        (_, false) => Plan::Filled(Kind::FilePrivate),
        (_, true) if write => Plan::SharedWritable,
        (_, true) => Plan::Filled(Kind::FileShared),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mmap_space::{PROT_EXEC, PROT_READ};

    const P: u64 = PAGE_SIZE;
    const R: u8 = PROT_READ;
    const RW: u8 = PROT_READ | PROT_WRITE;
    const RX: u8 = PROT_READ | PROT_EXEC;
    const PRIVATE: u32 = raw::MAP_PRIVATE;
    const SHARED: u32 = raw::MAP_SHARED;
    const VALIDATE: u32 = raw::MAP_SHARED_VALIDATE;

    fn src(object: Object, readable: bool, writable: bool) -> Source {
        Source {
            object,
            readable,
            writable,
        }
    }

    const FILE_RO: Source = Source {
        object: Object::Regular,
        readable: true,
        writable: false,
    };
    const FILE_RW: Source = Source {
        object: Object::Regular,
        readable: true,
        writable: true,
    };

    #[test]
    fn regular_files_are_filled() {
        for prot in [0, R, RW, RX, RW | PROT_EXEC] {
            assert_eq!(
                plan(PRIVATE, prot, 0, P, FILE_RO),
                Ok(Plan::Filled(Kind::FilePrivate)),
                "a private mapping may be written whatever the open mode ({prot:#x})"
            );
        }
        assert_eq!(
            plan(SHARED, R, 4 * P, P, FILE_RO),
            Ok(Plan::Filled(Kind::FileShared))
        );
        assert_eq!(
            plan(VALIDATE | raw::MAP_POPULATE, RX, 0, P, FILE_RW),
            Ok(Plan::Filled(Kind::FileShared))
        );
        assert_eq!(plan(SHARED, RW, 0, P, FILE_RW), Ok(Plan::SharedWritable));
        assert_eq!(
            plan(
                PRIVATE | raw::MAP_FIXED | raw::MAP_NORESERVE,
                R,
                0,
                P,
                FILE_RW
            ),
            Ok(Plan::Filled(Kind::FilePrivate))
        );
    }

    #[test]
    fn dev_zero_is_anonymous() {
        let zero = src(Object::Zero, true, true);
        assert_eq!(
            plan(PRIVATE, RW, 0, P, zero),
            Ok(Plan::Anonymous(Kind::AnonPrivate))
        );
        assert_eq!(
            plan(SHARED, RW, 0, P, zero),
            Ok(Plan::Anonymous(Kind::AnonShared))
        );
        // Any unsigned offset: a device's offsets are not limited to a file's.
        assert_eq!(
            plan(PRIVATE, RW, MAX_LFS_FILESIZE + 1, P, zero),
            Ok(Plan::Anonymous(Kind::AnonPrivate))
        );
        let read_only = src(Object::Zero, true, false);
        assert_eq!(plan(SHARED, RW, 0, P, read_only), Err(Errno::EACCES));
        assert_eq!(
            plan(PRIVATE, RW, 0, P, read_only),
            Ok(Plan::Anonymous(Kind::AnonPrivate))
        );
    }

    #[test]
    fn access_mode_rules() {
        let write_only = src(Object::Regular, false, true);
        assert_eq!(plan(PRIVATE, R, 0, P, write_only), Err(Errno::EACCES));
        assert_eq!(plan(SHARED, RW, 0, P, write_only), Err(Errno::EACCES));
        assert_eq!(plan(SHARED, RW, 0, P, FILE_RO), Err(Errno::EACCES));
        // EACCES before ENODEV: a pipe's write end is refused for its mode.
        let pipe_write = src(Object::Unmappable, false, true);
        assert_eq!(plan(PRIVATE, R, 0, P, pipe_write), Err(Errno::EACCES));
        let pipe_read = src(Object::Unmappable, true, false);
        assert_eq!(plan(PRIVATE, R, 0, P, pipe_read), Err(Errno::ENODEV));
        assert_eq!(plan(SHARED, RW, 0, P, pipe_read), Err(Errno::EACCES));
        let console = src(Object::Unmappable, true, true);
        assert_eq!(plan(SHARED, RW, 0, P, console), Err(Errno::ENODEV));
    }

    #[test]
    fn offsets_past_the_largest_file_overflow() {
        let last_page = MAX_LFS_FILESIZE & !(P - 1);
        assert_eq!(
            plan(PRIVATE, R, last_page - P, P, FILE_RO),
            Ok(Plan::Filled(Kind::FilePrivate))
        );
        assert_eq!(
            plan(PRIVATE, R, last_page, P, FILE_RO),
            Err(Errno::EOVERFLOW)
        );
        assert_eq!(
            plan(PRIVATE, R, last_page - P, 2 * P, FILE_RO),
            Err(Errno::EOVERFLOW)
        );
        // A negative off_t is a huge unsigned one.
        assert_eq!(
            plan(PRIVATE, R, 0u64.wrapping_sub(P), P, FILE_RO),
            Err(Errno::EOVERFLOW)
        );
        assert_eq!(
            plan(PRIVATE, R, 0, !(P - 1), FILE_RO),
            Err(Errno::EOVERFLOW)
        );
        // EOVERFLOW comes before the access checks, as in Linux.
        let write_only = src(Object::Regular, false, true);
        assert_eq!(
            plan(PRIVATE, R, last_page, P, write_only),
            Err(Errno::EOVERFLOW)
        );
        // A device's limit is the whole unsigned range.
        let zero = src(Object::Zero, true, true);
        assert_eq!(
            plan(PRIVATE, R, 0u64.wrapping_sub(P), 2 * P, zero),
            Err(Errno::EOVERFLOW)
        );
    }

    #[test]
    fn flags_rules() {
        assert_eq!(
            plan(VALIDATE | raw::MAP_SYNC, R, 0, P, FILE_RO),
            Err(Errno::EOPNOTSUPP)
        );
        assert_eq!(
            plan(VALIDATE | raw::MAP_FIXED_NOREPLACE, R, 0, P, FILE_RO),
            Err(Errno::EOPNOTSUPP)
        );
        assert_eq!(
            plan(
                VALIDATE | raw::MAP_32BIT | raw::MAP_HUGE_2MB,
                R,
                0,
                P,
                FILE_RO
            ),
            Ok(Plan::Filled(Kind::FileShared))
        );
        // MAP_SHARED ignores what it does not know.
        assert_eq!(
            plan(SHARED | raw::MAP_SYNC, R, 0, P, FILE_RO),
            Ok(Plan::Filled(Kind::FileShared))
        );
        assert_eq!(
            plan(PRIVATE | raw::MAP_HUGETLB, R, 0, P, FILE_RO),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            plan(PRIVATE | raw::MAP_GROWSDOWN, R, 0, P, FILE_RO),
            Err(Errno::EINVAL)
        );
        assert_eq!(plan(0, R, 0, P, FILE_RO), Err(Errno::EINVAL));
        assert_eq!(plan(raw::MAP_TYPE, R, 0, P, FILE_RO), Err(Errno::EINVAL));
        // The unknown type is found before the access mode is looked at.
        let write_only = src(Object::Regular, false, true);
        assert_eq!(plan(0, R, 0, P, write_only), Err(Errno::EINVAL));
    }
}
