//! Helpers shared by the integration tests: a tiny ELF *writer* that lays out an ELF header and
//! program headers byte by byte from a description (so tests can write headers no linker would:
//! overlapping, huge, misaligned, truncated), fixtures shaped like real static and static-PIE
//! programs, a deterministic PRNG, and `readelf`/`musl-gcc` helpers for host binaries.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use k42_elf::{LoadPlan, Options, PAGE_SIZE, Prot};

pub const ET_REL: u16 = 1;
pub const ET_EXEC: u16 = 2;
pub const ET_DYN: u16 = 3;
pub const EM_X86_64: u16 = 62;
pub const EM_AARCH64: u16 = 183;
pub const ELFCLASS32: u8 = 1;
pub const ELFCLASS64: u8 = 2;
pub const ELFDATA2LSB: u8 = 1;
pub const ELFDATA2MSB: u8 = 2;

pub const PT_LOAD: u32 = 1;
pub const PT_DYNAMIC: u32 = 2;
pub const PT_INTERP: u32 = 3;
pub const PT_NOTE: u32 = 4;
pub const PT_PHDR: u32 = 6;
pub const PT_TLS: u32 = 7;
pub const PT_GNU_STACK: u32 = 0x6474_e551;
pub const PT_GNU_RELRO: u32 = 0x6474_e552;

pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;
pub const PF_R: u32 = 4;
pub const R: u32 = PF_R;
pub const RX: u32 = PF_R | PF_X;
pub const RW: u32 = PF_R | PF_W;

pub const EHDR_SIZE: u64 = 64;
pub const PHDR_SIZE: u64 = 56;
pub const PAGE: u64 = 4096;

/// Where `musl-gcc -static` and busybox-static link (`ld`'s default x86_64 base).
pub const EXEC_BASE: u64 = 0x40_0000;

/// One program header, every field settable.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ph {
    pub p_type: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
    pub align: u64,
}

impl Ph {
    /// A page-aligned `PT_LOAD`.
    pub fn load(flags: u32, offset: u64, vaddr: u64, filesz: u64, memsz: u64) -> Ph {
        Ph {
            p_type: PT_LOAD,
            flags,
            offset,
            vaddr,
            filesz,
            memsz,
            align: PAGE,
        }
    }

    /// A header of another type covering file bytes mapped at `vaddr`.
    pub fn other(p_type: u32, flags: u32, offset: u64, vaddr: u64, size: u64, align: u64) -> Ph {
        Ph {
            p_type,
            flags,
            offset,
            vaddr,
            filesz: size,
            memsz: size,
            align,
        }
    }

    /// The same header with another `p_memsz`.
    pub fn with_memsz(mut self, memsz: u64) -> Ph {
        self.memsz = memsz;
        self
    }

    pub fn gnu_stack(flags: u32) -> Ph {
        Ph {
            p_type: PT_GNU_STACK,
            flags,
            align: 16,
            ..Ph::default()
        }
    }
}

/// A whole ELF file: header fields plus program headers. [`Elf::build`] writes the header at 0,
/// the table at `phoff`, `data` wherever asked, and pads the file up to the end of the furthest
/// file range any header names (so a description is a complete, consistent file unless
/// `truncate` or an override says otherwise).
#[derive(Clone, Debug)]
pub struct Elf {
    pub class: u8,
    pub data_encoding: u8,
    pub e_type: u16,
    pub machine: u16,
    pub entry: u64,
    pub phoff: u64,
    pub phentsize: u16,
    /// Overrides `e_phnum` (the table written is still `phdrs`).
    pub phnum: Option<u16>,
    pub phdrs: Vec<Ph>,
    /// Bytes placed at file offsets (an interpreter path, say).
    pub data: Vec<(u64, Vec<u8>)>,
    /// Cuts the file to this many bytes after building.
    pub truncate: Option<usize>,
}

impl Elf {
    pub fn new(e_type: u16, entry: u64, phdrs: Vec<Ph>) -> Elf {
        Elf {
            class: ELFCLASS64,
            data_encoding: ELFDATA2LSB,
            e_type,
            machine: EM_X86_64,
            entry,
            phoff: EHDR_SIZE,
            phentsize: PHDR_SIZE as u16,
            phnum: None,
            phdrs,
            data: Vec::new(),
            truncate: None,
        }
    }

    pub fn with_data(mut self, offset: u64, bytes: &[u8]) -> Elf {
        self.data.push((offset, bytes.to_vec()));
        self
    }

    pub fn build(&self) -> Vec<u8> {
        let table_end = self.phoff + self.phdrs.len() as u64 * PHDR_SIZE;
        let mut len = EHDR_SIZE.max(table_end);
        for ph in &self.phdrs {
            // Hostile headers may name absurd ranges; only sane ones grow the file.
            if let Some(end) = ph.offset.checked_add(ph.filesz)
                && end < (1 << 24)
            {
                len = len.max(end);
            }
        }
        for (at, bytes) in &self.data {
            len = len.max(at + bytes.len() as u64);
        }
        // Recognisable filler so copies can be checked byte for byte.
        let mut out: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();

        let mut h = Vec::with_capacity(EHDR_SIZE as usize);
        h.extend_from_slice(b"\x7fELF");
        h.extend_from_slice(&[self.class, self.data_encoding, 1, 0]);
        h.extend_from_slice(&[0; 8]);
        h.extend_from_slice(&self.e_type.to_le_bytes());
        h.extend_from_slice(&self.machine.to_le_bytes());
        h.extend_from_slice(&1u32.to_le_bytes()); // e_version
        h.extend_from_slice(&self.entry.to_le_bytes());
        h.extend_from_slice(&self.phoff.to_le_bytes());
        h.extend_from_slice(&0u64.to_le_bytes()); // e_shoff: no section headers
        h.extend_from_slice(&0u32.to_le_bytes()); // e_flags
        h.extend_from_slice(&(EHDR_SIZE as u16).to_le_bytes());
        h.extend_from_slice(&self.phentsize.to_le_bytes());
        let phnum = self.phnum.unwrap_or(self.phdrs.len() as u16);
        h.extend_from_slice(&phnum.to_le_bytes());
        h.extend_from_slice(&64u16.to_le_bytes()); // e_shentsize
        h.extend_from_slice(&0u16.to_le_bytes()); // e_shnum
        h.extend_from_slice(&0u16.to_le_bytes()); // e_shstrndx
        assert_eq!(h.len() as u64, EHDR_SIZE);
        out[..h.len()].copy_from_slice(&h);

        for (i, ph) in self.phdrs.iter().enumerate() {
            let mut p = Vec::with_capacity(PHDR_SIZE as usize);
            p.extend_from_slice(&ph.p_type.to_le_bytes());
            p.extend_from_slice(&ph.flags.to_le_bytes());
            p.extend_from_slice(&ph.offset.to_le_bytes());
            p.extend_from_slice(&ph.vaddr.to_le_bytes());
            p.extend_from_slice(&ph.vaddr.to_le_bytes()); // p_paddr = p_vaddr, as linkers do
            p.extend_from_slice(&ph.filesz.to_le_bytes());
            p.extend_from_slice(&ph.memsz.to_le_bytes());
            p.extend_from_slice(&ph.align.to_le_bytes());
            let at = (self.phoff + i as u64 * PHDR_SIZE) as usize;
            out[at..at + p.len()].copy_from_slice(&p);
        }
        for (at, bytes) in &self.data {
            let at = *at as usize;
            out[at..at + bytes.len()].copy_from_slice(bytes);
        }
        if let Some(cut) = self.truncate {
            out.truncate(cut);
        }
        out
    }
}

/// Shaped like `musl-gcc -static` output (`readelf -lW`): headers in a read-only first segment,
/// then text, rodata and a data segment whose `.bss` runs past its file bytes, a TLS template at
/// the start of the data segment, and a non-executable stack.
pub fn static_exec() -> Elf {
    Elf::new(
        ET_EXEC,
        0x40_103f,
        vec![
            Ph::load(R, 0, EXEC_BASE, 0x1c8, 0x1c8),
            Ph::load(RX, 0x1000, 0x40_1000, 0x82c, 0x82c),
            Ph::load(R, 0x2000, 0x40_2000, 0x40, 0x40),
            Ph::load(RW, 0x2fcc, 0x40_3fcc, 0x48, 0x2ac),
            Ph::other(PT_TLS, R, 0x2fcc, 0x40_3fcc, 4, 4),
            Ph::gnu_stack(RW),
            Ph::other(PT_GNU_RELRO, R, 0x2fcc, 0x40_3fcc, 0x34, 1),
        ],
    )
}

/// The interpreter path a musl-linked dynamic PIE names.
pub const MUSL_INTERP: &[u8] = b"/lib/ld-musl-x86_64.so.1\0";

/// Shaped like a static-PIE (`rcrt1.o` + `-static-pie`): linked at 0 with `PT_PHDR`, a
/// `PT_DYNAMIC` for its self-relocation, and `PT_INTERP` only if `interp` is set (as Debian's
/// `musl-gcc -static-pie` leaves it).
pub fn static_pie(interp: bool) -> Elf {
    let phnum = if interp { 8 } else { 7 };
    let mut phdrs = vec![Ph::other(
        PT_PHDR,
        R,
        EHDR_SIZE,
        EHDR_SIZE,
        phnum * PHDR_SIZE,
        8,
    )];
    if interp {
        phdrs.push(Ph::other(
            PT_INTERP,
            R,
            0x270,
            0x270,
            MUSL_INTERP.len() as u64,
            1,
        ));
    }
    phdrs.extend([
        Ph::load(R, 0, 0, 0x4b0, 0x4b0),
        Ph::load(RX, 0x1000, 0x1000, 0x15c, 0x15c),
        Ph::load(R, 0x2000, 0x2000, 0x70, 0x70),
        Ph::load(RW, 0x2dfc, 0x3dfc, 0x218, 0x21c),
        Ph::other(PT_DYNAMIC, RW, 0x2e10, 0x3e10, 0x1c0, 8),
        Ph::gnu_stack(RW),
    ]);
    let elf = Elf::new(ET_DYN, 0x104f, phdrs);
    if interp {
        elf.with_data(0x270, MUSL_INTERP)
    } else {
        elf
    }
}

/// Shaped like a native K42 program (`user/link.ld`): RX, R, RW segments from `EXEC_BASE`, the
/// headers in no segment, no `PT_GNU_STACK`.
pub fn k42_native() -> Elf {
    Elf::new(
        ET_EXEC,
        EXEC_BASE,
        vec![
            Ph::load(RX, 0x1000, EXEC_BASE, 0xa79e, 0xa79e),
            Ph::load(R, 0xc000, 0x40_b000, 0x2868, 0x2868),
            Ph::load(RW, 0xf000, 0x40_e000, 0x58, 0x88),
        ],
    )
}

/// xorshift64*: small, deterministic, good enough to pick bytes and bits.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Whether `program` can be run (found on `PATH` and answering `--version`).
pub fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// A fresh directory under the system temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("k42-elf-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What `readelf -hlW` says about a file's type, entry point and program headers.
#[derive(Debug, Default)]
pub struct Readelf {
    /// `EXEC` or `DYN`.
    pub e_type: String,
    pub entry: u64,
    /// Every program header: type name, offset, vaddr, filesz, memsz, flags ("R E"), align.
    pub headers: Vec<ReadelfPh>,
    pub interp: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ReadelfPh {
    pub kind: String,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
    pub flags: String,
    pub align: u64,
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap_or_else(|_| panic!("hex {s:?}"))
}

/// Runs `readelf -hlW path` and parses what the tests compare against.
pub fn readelf(path: &Path) -> Readelf {
    let out = Command::new("readelf")
        .arg("-hlW")
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "readelf failed on {}", path.display());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut r = Readelf::default();
    let mut in_table = false;
    for line in text.lines() {
        let t = line.trim();
        if let Some(v) = t.strip_prefix("Type:") {
            r.e_type = v.split_whitespace().next().unwrap().to_string();
        } else if let Some(v) = t.strip_prefix("Entry point address:") {
            r.entry = hex(v.trim());
        } else if t.starts_with("Program Headers:") {
            in_table = true;
        } else if t.starts_with("Section to Segment") {
            in_table = false;
        } else if let Some(v) = t.strip_prefix("[Requesting program interpreter: ") {
            r.interp = Some(v.trim_end_matches(']').to_string());
        } else if in_table && !t.is_empty() && !t.starts_with("Type") {
            let tok: Vec<&str> = t.split_whitespace().collect();
            // TYPE OFFSET VADDR PADDR FILESZ MEMSZ FLG... ALIGN; FLG may be "R E".
            r.headers.push(ReadelfPh {
                kind: tok[0].to_string(),
                offset: hex(tok[1]),
                vaddr: hex(tok[2]),
                filesz: hex(tok[4]),
                memsz: hex(tok[5]),
                flags: tok[6..tok.len() - 1].join(" "),
                align: hex(tok[tok.len() - 1]),
            });
        }
    }
    r
}

/// Checks what a loader relies on in an accepted plan, so that an `Ok` on mutated input is
/// never a plan that would map outside the window, overlap, or read past the file.
pub fn assert_sound(p: &LoadPlan, bytes: &[u8], o: &Options) {
    let segments = p.segments();
    assert!(!segments.is_empty());
    let mut prev_end = o.min_addr;
    for s in segments {
        let map = s.map_range();
        assert!(map.start >= prev_end, "overlap or below min_addr: {p:?}");
        assert!(map.start % PAGE_SIZE == 0 && map.end % PAGE_SIZE == 0);
        assert!(map.start <= s.vaddr() && s.end() <= map.end);
        assert!(map.end <= o.user_top);
        assert!(s.file_size() <= s.mem_size());
        assert_eq!(
            s.file_bytes(bytes).map(<[u8]>::len),
            Some(s.file_size() as usize)
        );
        assert_eq!(s.copy_range().end, s.zero_range().start);
        prev_end = map.end;
    }
    assert_eq!(p.brk_start, prev_end);
    assert!(p.mapped_bytes() <= o.max_total_mem);
    assert!(
        segments
            .iter()
            .any(|s| s.prot().contains(Prot::EXEC) && s.vaddr() <= p.entry && p.entry < s.end())
    );
    if let Some(interp) = p.interp {
        assert!(interp.path(bytes).is_some());
    }
}
