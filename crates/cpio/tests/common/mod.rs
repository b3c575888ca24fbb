//! Helpers shared by the integration tests: hand-built newc entries (so tests can write headers
//! the crate's own writer never would) and gzip members.

#![allow(dead_code)]

pub const S_IFREG: u32 = 0o100_000;
pub const S_IFDIR: u32 = 0o040_000;
pub const S_IFLNK: u32 = 0o120_000;
pub const S_IFCHR: u32 = 0o020_000;

/// One newc entry with every header field settable.
#[derive(Clone, Debug)]
pub struct Raw {
    pub magic: &'static str,
    pub ino: u32,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub mtime: u32,
    pub devmajor: u32,
    pub devminor: u32,
    pub rdevmajor: u32,
    pub rdevminor: u32,
    pub check: u32,
    /// The name without its NUL; the NUL is added unless `namesize` overrides the size.
    pub name: Vec<u8>,
    pub data: Vec<u8>,
    /// Overrides the header's name size (the real name bytes are still written).
    pub namesize: Option<u32>,
    /// Overrides the header's file size (the real data bytes are still written).
    pub filesize: Option<u32>,
    /// Leaves the NUL off the name.
    pub no_nul: bool,
}

impl Raw {
    pub fn new(name: &str, mode: u32, data: &[u8]) -> Raw {
        Raw {
            magic: "070701",
            ino: 1,
            mode,
            uid: 0,
            gid: 0,
            nlink: 1,
            mtime: 0,
            devmajor: 0,
            devminor: 0,
            rdevmajor: 0,
            rdevminor: 0,
            check: 0,
            name: name.as_bytes().to_vec(),
            data: data.to_vec(),
            namesize: None,
            filesize: None,
            no_nul: false,
        }
    }

    pub fn file(name: &str, data: &[u8]) -> Raw {
        Raw::new(name, S_IFREG | 0o644, data)
    }

    pub fn dir(name: &str) -> Raw {
        Raw::new(name, S_IFDIR | 0o755, b"")
    }

    pub fn trailer() -> Raw {
        Raw::new("TRAILER!!!", 0, b"")
    }

    pub fn bytes(&self) -> Vec<u8> {
        let mut name = self.name.clone();
        if !self.no_nul {
            name.push(0);
        }
        let namesize = self.namesize.unwrap_or(name.len() as u32);
        let filesize = self.filesize.unwrap_or(self.data.len() as u32);
        let mut out = self.magic.as_bytes().to_vec();
        for field in [
            self.ino,
            self.mode,
            self.uid,
            self.gid,
            self.nlink,
            self.mtime,
            filesize,
            self.devmajor,
            self.devminor,
            self.rdevmajor,
            self.rdevminor,
            namesize,
            self.check,
        ] {
            out.extend_from_slice(format!("{field:08X}").as_bytes());
        }
        out.extend_from_slice(&name);
        pad4(&mut out);
        out.extend_from_slice(&self.data);
        pad4(&mut out);
        out
    }
}

pub fn pad4(v: &mut Vec<u8>) {
    v.resize(v.len().next_multiple_of(4), 0);
}

/// The entries, then a trailer.
pub fn archive(entries: &[Raw]) -> Vec<u8> {
    let mut out: Vec<u8> = entries.iter().flat_map(Raw::bytes).collect();
    out.extend(Raw::trailer().bytes());
    out
}

/// A gzip member holding `payload`, with a minimal header.
pub fn gzip(payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    out.extend(miniz_oxide::deflate::compress_to_vec(payload, 6));
    out.extend(crc32(payload).to_le_bytes());
    out.extend((payload.len() as u32).to_le_bytes());
    out
}

/// A gzip member with a file name in its header (FNAME), as `gzip file` writes.
pub fn gzip_named(payload: &[u8], name: &str) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3];
    out.extend(name.as_bytes());
    out.push(0);
    out.extend(miniz_oxide::deflate::compress_to_vec(payload, 9));
    out.extend(crc32(payload).to_le_bytes());
    out.extend((payload.len() as u32).to_le_bytes());
    out
}

/// CRC-32 (IEEE), bitwise: an implementation independent of the crate's.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A deterministic pseudo-random sequence (xorshift64), for the fuzz-style tests.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
