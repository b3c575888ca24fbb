//! `lseek` arithmetic, as Linux's `generic_file_llseek_size` does it for a file without holes
//! (every file of the ramfs): shared by the personality, which keeps a private open file's
//! offset itself, and the file server, which keeps a shared one's (`Fs::seek`).

use crate::Errno;
use crate::raw::general as g;

/// The offset `lseek(fd, offset, whence)` moves to, from `current` in a file of `size` bytes:
/// `EINVAL` for an unknown `whence` or a negative result, `ENXIO` for `SEEK_DATA`/`SEEK_HOLE`
/// at or past the end.
pub fn position(current: u64, size: u64, offset: i64, whence: u32) -> Result<u64, Errno> {
    // Files hold far less than 2^63 bytes: the casts to i64 cannot wrap.
    let (current, size) = (current as i64, size as i64);
    let new = match whence {
        g::SEEK_SET => Some(offset),
        g::SEEK_CUR => current.checked_add(offset),
        g::SEEK_END => size.checked_add(offset),
        // All of a file is data, and its one hole is the virtual one at its end.
        g::SEEK_DATA | g::SEEK_HOLE if offset < 0 => return Err(Errno::ENXIO),
        g::SEEK_DATA | g::SEEK_HOLE if offset >= size => return Err(Errno::ENXIO),
        g::SEEK_DATA => Some(offset),
        g::SEEK_HOLE => Some(size),
        _ => return Err(Errno::EINVAL),
    };
    match new {
        Some(p) if p >= 0 => Ok(p as u64),
        _ => Err(Errno::EINVAL),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_cur_end() {
        assert_eq!(position(5, 100, 7, g::SEEK_SET), Ok(7));
        assert_eq!(position(5, 100, 7, g::SEEK_CUR), Ok(12));
        assert_eq!(position(5, 100, -3, g::SEEK_CUR), Ok(2));
        assert_eq!(position(5, 100, -10, g::SEEK_END), Ok(90));
        // Past the end is allowed (a later write leaves a gap of zeros).
        assert_eq!(position(5, 100, 50, g::SEEK_END), Ok(150));
    }

    #[test]
    fn negative_results_and_unknown_whence_are_einval() {
        assert_eq!(position(5, 100, -6, g::SEEK_CUR), Err(Errno::EINVAL));
        assert_eq!(position(5, 100, -1, g::SEEK_SET), Err(Errno::EINVAL));
        assert_eq!(position(5, 100, -101, g::SEEK_END), Err(Errno::EINVAL));
        assert_eq!(position(5, 100, i64::MAX, g::SEEK_CUR), Err(Errno::EINVAL));
        assert_eq!(position(5, 100, 0, 99), Err(Errno::EINVAL));
    }

    #[test]
    fn data_and_hole() {
        assert_eq!(position(0, 100, 10, g::SEEK_DATA), Ok(10));
        assert_eq!(position(0, 100, 10, g::SEEK_HOLE), Ok(100));
        assert_eq!(position(0, 100, 100, g::SEEK_DATA), Err(Errno::ENXIO));
        assert_eq!(position(0, 100, 100, g::SEEK_HOLE), Err(Errno::ENXIO));
        assert_eq!(position(0, 0, 0, g::SEEK_DATA), Err(Errno::ENXIO));
    }
}
