//! Unpacking an initramfs into a [`Tree`] with Linux's semantics (`init/initramfs.c`): a run of
//! segments, each a plain cpio archive or a gzip member, separated by zero padding; each entry
//! laid over what earlier ones built.
//!
//! Where Linux is lax (it skips entries it cannot create and carries on silently) this refuses
//! the input with an error, since a half-unpacked root fails later in ways far harder to trace.
//! The places where it departs from Linux are noted where they are decided.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::gzip;
use crate::mode::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK};
use crate::newc::{self, ALIGN, Entry, Magic, NEWC_MAGIC, PATH_MAX};
use crate::path;
use crate::tree::{Meta, NewKind, NodeKind, Tree};
use crate::{Error, Limits};

/// Formats Linux may find in an initramfs but this crate cannot inflate, recognised by their
/// magic bytes only to name them in the error.
const OTHER_COMPRESSIONS: &[(&[u8], &str)] = &[
    (&[0x28, 0xb5, 0x2f, 0xfd], "zstd"),
    (&[0xfd, b'7', b'z', b'X', b'Z', 0x00], "xz"),
    (b"BZh", "bzip2"),
    (&[0x5d, 0x00, 0x00], "lzma"),
    (&[0x89, b'L', b'Z', b'O'], "lzo"),
    (&[0x02, 0x21, 0x4c, 0x18], "lz4"),
];

/// Linux only treats entries as hard links from this many links up.
const MIN_LINKED_NLINK: u32 = 2;

/// Lays the initramfs `input` over `tree`.
pub(crate) fn unpack(tree: &mut Tree, input: &[u8], limits: &Limits) -> Result<(), Error> {
    Unpacker {
        tree,
        limits,
        decompressed: 0,
    }
    .segments(input)
}

struct Unpacker<'t, 'l> {
    tree: &'t mut Tree,
    limits: &'l Limits,
    /// Bytes all gzip members have produced so far.
    decompressed: usize,
}

/// Linux's hard-link key (`find_link`): entries agreeing on all of it share one inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct LinkKey {
    devmajor: u32,
    devminor: u32,
    ino: u32,
    mode: u32,
}

/// The names of one inode in the archive being read, and the inode's final state.
struct LinkGroup<'a> {
    names: Vec<Vec<&'a str>>,
    /// Each entry re-applies owner and mode to the shared inode, so the last one wins.
    meta: Meta,
    /// Each entry with data truncates the shared inode and rewrites it, so the last one wins.
    data: &'a [u8],
}

impl Unpacker<'_, '_> {
    /// The outer level, like Linux's `unpack_to_rootfs`: zero bytes are skipped one at a time;
    /// a plain archive must start 4-aligned in the input (alignment is relative to the start of
    /// the whole input, as Linux counts it); a gzip member may start anywhere.
    fn segments(&mut self, input: &[u8]) -> Result<(), Error> {
        let mut pos = 0;
        let mut seen_segment = false;
        loop {
            pos = skip_zeros(input, pos);
            let rest = input.get(pos..).unwrap_or_default();
            let Some(&first) = rest.first() else {
                return Ok(());
            };
            if first == NEWC_MAGIC[0] {
                if !pos.is_multiple_of(ALIGN) {
                    return Err(Error::Misaligned { offset: pos });
                }
                pos = self.archive(input, pos)?;
            } else if gzip::is_member(rest) {
                pos = self.gzip_member(input, pos)?;
            } else if let Some(&(_, format)) = OTHER_COMPRESSIONS
                .iter()
                .find(|(magic, _)| rest.starts_with(magic))
            {
                return Err(Error::UnsupportedCompression {
                    offset: pos,
                    format,
                });
            } else {
                return Err(not_an_archive(seen_segment, pos));
            }
            seen_segment = true;
        }
    }

    /// Inflates one member and unpacks what it holds; returns where the member ends.
    fn gzip_member(&mut self, input: &[u8], start: usize) -> Result<usize, Error> {
        let limit = self.limits.max_total_bytes;
        let budget = limit.saturating_sub(self.decompressed);
        let member = gzip::inflate_member(input, start, budget, limit)?;
        self.decompressed = self.decompressed.saturating_add(member.data.len());
        self.decompressed_stream(&member.data)
            .map_err(|inner| Error::Compressed {
                member_offset: start,
                inner: Box::new(inner),
            })?;
        Ok(member.end)
    }

    /// The contents of one gzip member, like Linux's `flush_buffer`: archives separated by
    /// zeros, each starting 4-aligned within the decompressed data. Anything else, another gzip
    /// member included, is junk. Unlike Linux, an empty or all-zero member is accepted: it
    /// holds nothing to unpack, so there is nothing to get wrong.
    fn decompressed_stream(&mut self, stream: &[u8]) -> Result<(), Error> {
        let mut pos = 0;
        let mut seen_archive = false;
        loop {
            pos = skip_zeros(stream, pos);
            let Some(&first) = stream.get(pos) else {
                return Ok(());
            };
            if !pos.is_multiple_of(ALIGN) {
                return Err(Error::Misaligned { offset: pos });
            }
            if first != NEWC_MAGIC[0] {
                return Err(not_an_archive(seen_archive, pos));
            }
            pos = self.archive(stream, pos)?;
            seen_archive = true;
        }
    }

    /// Unpacks entries from `start` up to and including `TRAILER!!!`; returns the offset after
    /// the trailer's padding.
    ///
    /// The trailer is required. Linux tolerates its absence for a plain archive at the end of the
    /// input (and even a last file cut short), but refuses it inside a gzip member ("junk at the
    /// end of compressed archive"). A missing trailer is indistinguishable from truncation, so it
    /// is refused everywhere.
    fn archive<'a>(&mut self, stream: &'a [u8], start: usize) -> Result<usize, Error> {
        // Like Linux's link hash, links only join entries within one archive.
        let mut links: BTreeMap<LinkKey, LinkGroup<'a>> = BTreeMap::new();
        let mut pos = start;
        loop {
            if stream
                .get(pos..)
                .unwrap_or_default()
                .iter()
                .all(|&b| b == 0)
            {
                return Err(Error::MissingTrailer { offset: pos });
            }
            let entry = newc::parse_entry(stream, pos, self.limits)?;
            if entry.is_trailer() {
                self.settle_links(links, entry.offset)?;
                return Ok(entry.next);
            }
            self.entry(&entry, &mut links)?;
            pos = entry.next;
        }
    }

    /// Lays one non-trailer entry over the tree.
    fn entry<'a>(
        &mut self,
        entry: &Entry<'a>,
        links: &mut BTreeMap<LinkKey, LinkGroup<'a>>,
    ) -> Result<(), Error> {
        let offset = entry.offset;
        let h = &entry.header;
        let components = path::components(entry.name).map_err(|_| Error::PathEscape { offset })?;
        let meta = Meta {
            mode: h.mode,
            uid: h.uid,
            gid: h.gid,
            mtime: h.mtime,
        };
        let data = entry.data;
        // Linux skips such entries without a word; data on them means a corrupt header.
        let no_data = || {
            if data.is_empty() {
                Ok(())
            } else {
                Err(Error::UnexpectedData {
                    offset,
                    size: h.filesize,
                })
            }
        };
        let kind = match h.mode & S_IFMT {
            S_IFREG => {
                if h.magic == Magic::NewcCrc {
                    let actual = data
                        .iter()
                        .fold(0u32, |sum, &b| sum.wrapping_add(u32::from(b)));
                    if actual != h.check {
                        return Err(Error::ChecksumMismatch {
                            offset,
                            expected: h.check,
                            actual,
                        });
                    }
                }
                if h.nlink >= MIN_LINKED_NLINK {
                    let key = LinkKey {
                        devmajor: h.devmajor,
                        devminor: h.devminor,
                        ino: h.ino,
                        mode: h.mode,
                    };
                    let group = links.entry(key).or_insert_with(|| LinkGroup {
                        names: Vec::new(),
                        meta,
                        data,
                    });
                    group.names.push(components.clone());
                    group.meta = meta;
                    if !data.is_empty() {
                        group.data = data;
                    }
                }
                NewKind::File(data)
            }
            S_IFDIR => {
                no_data()?;
                NewKind::Dir
            }
            S_IFLNK => NewKind::Symlink(symlink_target(entry)?),
            S_IFCHR => {
                no_data()?;
                NewKind::CharDev {
                    major: h.rdevmajor,
                    minor: h.rdevminor,
                }
            }
            S_IFBLK => {
                no_data()?;
                NewKind::BlockDev {
                    major: h.rdevmajor,
                    minor: h.rdevminor,
                }
            }
            S_IFIFO => {
                no_data()?;
                NewKind::Fifo
            }
            S_IFSOCK => {
                no_data()?;
                NewKind::Socket
            }
            _ => {
                return Err(Error::UnknownFileType {
                    offset,
                    mode: h.mode,
                });
            }
        };
        self.tree.put(&components, meta, kind, self.limits, offset)
    }

    /// At the end of an archive, gives every name of each hard-linked inode the inode's final
    /// contents and metadata.
    ///
    /// Linux links later names to the first one and writes data through whichever name carries
    /// it (GNU cpio and `gen_init_cpio` put it on the last), so all names see the last data
    /// written. The tree has no inodes: each name gets its own copy, counted against the limits.
    /// A name replaced since by something that is not a regular file is left alone. Only regular
    /// files are grouped; linked devices, FIFOs and sockets carry everything in their own header.
    fn settle_links(
        &mut self,
        links: BTreeMap<LinkKey, LinkGroup<'_>>,
        offset: usize,
    ) -> Result<(), Error> {
        for group in links.into_values() {
            if group.names.len() < 2 {
                continue;
            }
            for name in &group.names {
                let still_file = self
                    .tree
                    .get(name)
                    .is_some_and(|node| matches!(node.kind, NodeKind::File(_)));
                if still_file {
                    self.tree.put(
                        name,
                        group.meta,
                        NewKind::File(group.data),
                        self.limits,
                        offset,
                    )?;
                }
            }
        }
        Ok(())
    }
}

/// A symlink's target: its data, less one terminating NUL (`gen_init_cpio` writes one, GNU cpio
/// does not; Linux's `symlink()` stops at the first NUL either way).
fn symlink_target<'a>(entry: &Entry<'a>) -> Result<&'a str, Error> {
    let offset = entry.offset;
    if entry.data.len() > PATH_MAX {
        return Err(Error::SymlinkTargetTooLong {
            offset,
            len: entry.header.filesize,
        });
    }
    let target = entry.data.strip_suffix(&[0]).unwrap_or(entry.data);
    if target.is_empty() || target.contains(&0) {
        return Err(Error::InvalidSymlinkTarget { offset });
    }
    core::str::from_utf8(target).map_err(|_| Error::InvalidSymlinkTarget { offset })
}

/// The offset of the first non-zero byte at or after `pos`.
fn skip_zeros(data: &[u8], pos: usize) -> usize {
    let zeros = data
        .get(pos..)
        .unwrap_or_default()
        .iter()
        .take_while(|&&b| b == 0)
        .count();
    pos + zeros
}

/// The error for bytes that start no segment: garbage after an archive, or no archive at all.
fn not_an_archive(after_archive: bool, offset: usize) -> Error {
    if after_archive {
        Error::TrailingGarbage { offset }
    } else {
        Error::BadMagic { offset }
    }
}
