//! Copying from one descriptor to another without the bytes passing through the program:
//! `sendfile` and `copy_file_range`.
//!
//! Both read their input a piece at a time from the file server into the personality's own
//! memory. Each piece then goes out through the same write path `write` and `pwrite` take
//! (`io::write_file` or `file::write_file`, with the bytes held: `uaccess::Source::Held`), so
//! every kind of output behaves as it does for `write`: a pipe blocks or raises `SIGPIPE`, the
//! console checks `TOSTOP`. The rules are Linux 6.1's (`fs/read_write.c`):
//! - the input must be a regular file, which is what has a `splice_read`;
//! - without an offset pointer the input's own offset moves; with one, the pointer's value
//!   moves instead;
//! - a transfer that fails part way answers the bytes it moved.
//!
//! Next to `calls/io.rs` (reads and writes) and `calls/file.rs` (the file server's files).

use k42_linux::raw::general as g;
use k42_linux::{Errno, SysResult};

use crate::calls::file;
use crate::calls::io::{self, JobCheck, MAX_RW};
use crate::calls::pipe;
use crate::fd::{Kind, OpenFile};
use crate::files::Node;
use crate::state::Linux;
use crate::table::Args;
use crate::uaccess::{self, Source};

/// `sendfile(out_fd, in_fd, offset, count)`: the offset pointer is read first and written back
/// last, as Linux's does, whatever the transfer answered.
pub fn sendfile(linux: &Linux, args: &Args) -> SysResult {
    let pointer = args[2];
    let given = offset_at(linux, pointer)?;
    let result = send(linux, args[0], args[1], given, args[3]);
    if let Some(start) = given {
        let end = result.as_ref().map_or(start, |&moved| start + moved as i64);
        uaccess::write_words(linux, pointer, &[end as u64])?;
    }
    result
}

/// `sendfile`'s checks in Linux's order (`do_sendfile`), then the transfer from `given` (the
/// input's own offset without one) of at most `count` bytes.
fn send(linux: &Linux, out_fd: u64, in_fd: u64, given: Option<i64>, count: u64) -> SysResult {
    let input = linux.fds.lock().get(in_fd)?;
    if !input.readable() {
        return Err(Errno::EBADF);
    }
    if given.is_some() && !seekable(&input) {
        return Err(Errno::ESPIPE);
    }
    // `rw_verify_area`: a count or an end past the largest offset, or a negative offset.
    let too_far = |at: i64| at < 0 || at.checked_add_unsigned(count).is_none();
    if i64::try_from(count).is_err() || given.is_some_and(too_far) {
        return Err(Errno::EINVAL);
    }
    let output = linux.fds.lock().get(out_fd)?;
    if !output.writable() {
        return Err(Errno::EBADF);
    }
    let into_pipe = output.kind == Kind::PipeWrite || output.fifo.is_some();
    if !into_pipe && output.flags() & g::O_APPEND != 0 {
        return Err(Errno::EINVAL);
    }
    // What has no `splice_write` in Linux: `/dev/full`, a `/proc` file.
    if matches!(
        output.kind,
        Kind::Full | Kind::ProcFile | Kind::EventFd | Kind::TimerFd | Kind::SignalFd
    ) {
        return Err(Errno::EINVAL);
    }
    // Nothing but a regular file has a `splice_read` here: not a pipe, a directory, a device
    // or a `/proc` file (a regular file in Linux, but one without it).
    let node = match (&input.kind, &input.fifo, &input.node) {
        (Kind::File, None, Some(node)) => node,
        _ => return Err(Errno::EINVAL),
    };
    let start = match given {
        // Lossless: not negative (checked above).
        Some(at) => at as u64,
        None => file::offset_of(&input)?,
    };
    let (moved, result) = transfer(node, start, count.min(MAX_RW), |bytes, done| {
        let (src, n) = (Source::Held(bytes), bytes.len() as u64);
        match (done, into_pipe) {
            (0, _) => io::write_file(linux, &output, src, n, JobCheck::Due),
            // Into a pipe, Linux waits only for room for the first bytes and moves what fits
            // (`splice_file_to_pipe`): the rest goes only if there is room for it now.
            (_, true) => match pipe::write_with(linux, &output, src, n, true) {
                Err(Errno::EAGAIN) => Ok(0),
                other => other,
            },
            (_, false) => io::write_file(linux, &output, src, n, JobCheck::Done),
        }
    });
    if given.is_none() {
        file::set_offset(&input, start + moved)?;
    }
    so_far(moved, result)
}

/// `copy_file_range(fd_in, off_in, fd_out, off_out, len, flags)`: between regular files, at
/// the pointers' offsets or the files' own, each moved by what was copied.
pub fn copy_file_range(linux: &Linux, args: &Args) -> SysResult {
    let (in_pointer, out_pointer, len, flags) = (args[1], args[3], args[4], args[5]);
    let input = linux.fds.lock().get(args[0])?;
    let output = linux.fds.lock().get(args[2])?;
    let given_in = offset_at(linux, in_pointer)?;
    let given_out = offset_at(linux, out_pointer)?;
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let (in_node, out_node) = regular_pair(&input, &output)?;
    let pos_in = given_in.map_or_else(|| own_offset(&input), Ok)?;
    let pos_out = given_out.map_or_else(|| own_offset(&output), Ok)?;
    let stat_in = file::stat_node(in_node)?;
    let count = copy_count(pos_in, pos_out, len, stat_in.size)?;
    let stat_out = file::stat_node(out_node)?;
    let same = (stat_in.dev, stat_in.ino) == (stat_out.dev, stat_out.ino);
    // Copying a range onto itself, or onto part of itself, would read what it wrote.
    if same && pos_out + count as i64 > pos_in && pos_out < pos_in + count as i64 {
        return Err(Errno::EINVAL);
    }
    if count == 0 {
        return Ok(0);
    }
    // Lossless below: both offsets are not negative (`copy_count`).
    let (from, to) = (pos_in as u64, pos_out as u64);
    let (moved, result) = transfer(in_node, from, count.min(MAX_RW), |bytes, done| {
        let n = bytes.len() as u64;
        file::write_file(
            linux,
            &output,
            Source::Held(bytes),
            n,
            Some(to + done),
            false,
        )
    });
    // Both offsets move even if one pointer cannot be written, which is then `EFAULT`, as
    // Linux's `copy_file_range` answers.
    let mut written = Ok(());
    if moved > 0 {
        for (file, pointer, end) in [
            (&input, in_pointer, from + moved),
            (&output, out_pointer, to + moved),
        ] {
            let moved_one = match pointer {
                0 => file::set_offset(file, end),
                _ => uaccess::write_words(linux, pointer, &[end]),
            };
            written = written.and(moved_one);
        }
    }
    written?;
    so_far(moved, result)
}

/// `copy_file_range`'s checks of the two files (`generic_file_rw_checks`): `EISDIR` for a
/// directory, `EINVAL` for anything else not a regular file, then `EBADF` for an input not
/// open for reading or an output not open for writing, or open to append. Their nodes.
fn regular_pair<'a>(
    input: &'a OpenFile,
    output: &'a OpenFile,
) -> Result<(&'a Node, &'a Node), Errno> {
    let is_dir = |f: &OpenFile| matches!(f.kind, Kind::Dir | Kind::ProcDir);
    if is_dir(input) || is_dir(output) {
        return Err(Errno::EISDIR);
    }
    let (Some(in_node), Some(out_node)) = (regular(input)?, regular(output)?) else {
        return Err(Errno::EINVAL);
    };
    if !input.readable() || !output.writable() || output.flags() & g::O_APPEND != 0 {
        return Err(Errno::EBADF);
    }
    Ok((in_node, out_node))
}

/// The file server's node of `file` if it is a regular file (asked of the server: a `File`
/// may be a device or socket node opened by path).
fn regular(file: &OpenFile) -> Result<Option<&Node>, Errno> {
    let (Kind::File, None, Some(node)) = (&file.kind, &file.fifo, &file.node) else {
        return Ok(None);
    };
    let mode = file::stat_node(node)?.mode;
    Ok((mode & g::S_IFMT == g::S_IFREG).then_some(node.as_ref()))
}

/// How many bytes `copy_file_range` copies of the `len` asked from `pos_in` of an input of
/// `size` bytes to `pos_out`, after Linux's checks in its order: `EOVERFLOW` for a range that
/// wraps (`generic_copy_file_checks`), the count cut at the input's end, then `EINVAL` for a
/// negative offset or a range past the largest offset (`rw_verify_area`).
fn copy_count(pos_in: i64, pos_out: i64, len: u64, size: u64) -> Result<u64, Errno> {
    let wraps = |pos: i64| (pos as u64).checked_add(len).is_none();
    if wraps(pos_in) || wraps(pos_out) {
        return Err(Errno::EOVERFLOW);
    }
    let count = match u64::try_from(pos_in) {
        Ok(at) if at < size => len.min(size - at),
        Ok(_) => 0,
        // A negative offset is before the end: `rw_verify_area` refuses it below.
        Err(_) => len.min(size.wrapping_sub(pos_in as u64)),
    };
    let past_max = |pos: i64| pos < 0 || pos.checked_add_unsigned(count).is_none();
    if i64::try_from(count).is_err() || past_max(pos_in) || past_max(pos_out) {
        return Err(Errno::EINVAL);
    }
    Ok(count)
}

/// Moves up to `count` bytes of `node` from offset `from`, a piece at a time, through `put`
/// (given the piece and the bytes moved before it; answering how many it took), until the
/// input ends, a piece goes out short, or something fails: the bytes moved, and the failure.
fn transfer(
    node: &Node,
    from: u64,
    count: u64,
    mut put: impl FnMut(&[u8], u64) -> SysResult,
) -> (u64, Result<(), Errno>) {
    let mut moved = 0u64;
    while moved < count {
        let bytes = match file::read_piece(node, from + moved, count - moved) {
            Ok(bytes) if bytes.is_empty() => break,
            Ok(bytes) => bytes,
            Err(e) => return (moved, Err(e)),
        };
        match put(&bytes, moved) {
            Ok(n) => {
                moved += n.min(bytes.len() as u64);
                if n < bytes.len() as u64 {
                    break;
                }
            }
            Err(e) => return (moved, Err(e)),
        }
    }
    (moved, Ok(()))
}

/// The bytes moved, or the failure if none were.
fn so_far(moved: u64, result: Result<(), Errno>) -> SysResult {
    match result {
        Err(e) if moved == 0 => Err(e),
        _ => Ok(moved),
    }
}

/// The `loff_t` an offset pointer names (`None` for a null one), `EFAULT` if unreadable.
fn offset_at(linux: &Linux, pointer: u64) -> Result<Option<i64>, Errno> {
    match pointer {
        0 => Ok(None),
        // Lossless: a loff_t's bits.
        _ => Ok(Some(uaccess::read_words::<1>(linux, pointer)?[0] as i64)),
    }
}

/// A regular file's own offset, as a `loff_t`.
fn own_offset(file: &OpenFile) -> Result<i64, Errno> {
    file::offset_of(file).map(|at| at as i64)
}

/// Whether `file` takes a positioned read (`FMODE_PREAD`): not a pipe, a FIFO or the console.
fn seekable(file: &OpenFile) -> bool {
    !matches!(file.kind, Kind::Console | Kind::PipeRead | Kind::PipeWrite) && file.fifo.is_none()
}
