//! Hostile and broken files: each validation, triggered on its own from a well-formed fixture,
//! must produce its own `ElfError` variant carrying the offending values, and a message that
//! names them.

mod common;

use common::*;
use k42_elf::{ElfError, MAX_SEGMENTS, Options, plan};

fn opts() -> Options {
    Options::default()
}

/// Plans `elf` under the default options, expecting an error.
fn err(elf: &Elf) -> ElfError {
    err_with(elf, &opts())
}

fn err_with(elf: &Elf, o: &Options) -> ElfError {
    let e = plan(&elf.build(), o).expect_err("plan accepted a bad file");
    // Every error explains itself in words, not just its variant name.
    let msg = e.to_string();
    assert!(msg.len() > 20, "terse message {msg:?}");
    e
}

/// The static fixture with program header `i` replaced.
fn with_ph(i: usize, ph: Ph) -> Elf {
    let mut elf = static_exec();
    elf.phdrs[i] = ph;
    elf
}

#[test]
fn not_elf() {
    for input in [&b""[..], b"\x7fEL", b"#!/bin/sh\n", b"\x7fELG\x02\x01"] {
        let e = plan(input, &opts()).unwrap_err();
        assert!(matches!(e, ElfError::NotElf { .. }), "{e:?}");
    }
    let e = plan(b"MZ\x90\x00", &opts()).unwrap_err();
    assert_eq!(
        e,
        ElfError::NotElf {
            magic: *b"MZ\x90\x00"
        }
    );
    assert!(e.to_string().contains("4d, 5a, 90, 00"), "{e}");
}

#[test]
fn truncated_header() {
    let bytes = static_exec().build();
    for cut in [4, 5, 6, 40, 63] {
        assert_eq!(
            plan(&bytes[..cut], &opts()).unwrap_err(),
            ElfError::TruncatedHeader { len: cut, need: 64 }
        );
    }
}

#[test]
fn wrong_class() {
    let mut elf = static_exec();
    elf.class = ELFCLASS32;
    assert_eq!(err(&elf), ElfError::WrongClass { class: ELFCLASS32 });
}

#[test]
fn wrong_endianness() {
    let mut elf = static_exec();
    elf.data_encoding = ELFDATA2MSB;
    assert_eq!(err(&elf), ElfError::WrongEndianness { data: ELFDATA2MSB });
}

#[test]
fn wrong_machine() {
    let mut elf = static_exec();
    elf.machine = EM_AARCH64;
    let e = err(&elf);
    assert_eq!(
        e,
        ElfError::WrongMachine {
            machine: EM_AARCH64
        }
    );
    assert!(e.to_string().contains("AARCH64"), "{e}");
}

#[test]
fn wrong_type() {
    for e_type in [0, ET_REL, 4, 0xfe00] {
        let mut elf = static_exec();
        elf.e_type = e_type;
        assert_eq!(err(&elf), ElfError::WrongType { e_type });
    }
    // A relocatable object has no program headers at all (e_phentsize 0): it is refused as an
    // object, which is what a person needs to hear, not as a bad table.
    let mut object = Elf::new(ET_REL, 0, vec![]);
    object.phentsize = 0;
    assert_eq!(err(&object), ElfError::WrongType { e_type: ET_REL });
}

#[test]
fn bad_phentsize() {
    for size in [0, 32, 55, 57, 64] {
        let mut elf = static_exec();
        elf.phentsize = size;
        assert_eq!(
            err(&elf),
            ElfError::BadPhentsize {
                phentsize: size,
                expected: 56
            }
        );
    }
}

#[test]
fn program_headers_outside_the_file() {
    let bytes_len = static_exec().build().len();
    // Table past the end, table cut short, table at an offset that wraps.
    let mut past = static_exec();
    past.phoff = bytes_len as u64;
    let mut more = static_exec();
    more.phnum = Some(u16::MAX);
    let mut wraps = static_exec();
    wraps.phoff = u64::MAX - 8;
    for (elf, phoff, phnum) in [
        (past, bytes_len as u64, 7),
        (more, EHDR_SIZE, u16::MAX),
        (wraps, u64::MAX - 8, 7),
    ] {
        let mut build = elf.clone();
        // The writer cannot place a table out of the file; write it at 64 and patch e_phoff.
        build.phoff = EHDR_SIZE;
        let mut bytes = build.build();
        bytes[32..40].copy_from_slice(&phoff.to_le_bytes());
        assert_eq!(
            plan(&bytes, &opts()).unwrap_err(),
            ElfError::PhdrsOutsideFile {
                phoff,
                phnum,
                file_len: bytes.len()
            }
        );
    }
    // A table that ends exactly one byte past the file.
    let mut elf = k42_native();
    elf.truncate = Some((EHDR_SIZE + 3 * PHDR_SIZE - 1) as usize);
    assert!(matches!(err(&elf), ElfError::PhdrsOutsideFile { .. }));
}

#[test]
fn too_many_segments() {
    let n = MAX_SEGMENTS as u64 + 1;
    let phdrs = (0..n)
        .map(|i| Ph::load(RX, 0x1000 * (i + 1), EXEC_BASE + 0x1000 * i, 0x10, 0x10))
        .collect();
    let elf = Elf::new(ET_EXEC, EXEC_BASE, phdrs);
    assert_eq!(
        err(&elf),
        ElfError::TooManySegments {
            count: MAX_SEGMENTS + 1,
            max: MAX_SEGMENTS
        }
    );
    // The caller's own limit.
    let o = Options {
        max_segments: 3,
        ..opts()
    };
    assert_eq!(
        err_with(&static_exec(), &o),
        ElfError::TooManySegments { count: 4, max: 3 }
    );
}

#[test]
fn no_load_segments() {
    assert_eq!(err(&Elf::new(ET_EXEC, 0, vec![])), ElfError::NoLoadSegments);
    let only_others = Elf::new(
        ET_EXEC,
        EXEC_BASE,
        vec![Ph::gnu_stack(RW), Ph::load(RX, 0x1000, EXEC_BASE, 0, 0)],
    );
    assert_eq!(err(&only_others), ElfError::NoLoadSegments);
}

#[test]
fn file_size_over_mem_size() {
    let elf = with_ph(3, Ph::load(RW, 0x2fcc, 0x40_3fcc, 0x48, 0x47));
    assert_eq!(
        err(&elf),
        ElfError::FileSizeOverMemSize {
            index: 3,
            file_size: 0x48,
            mem_size: 0x47
        }
    );
    // The TLS template too.
    let elf = with_ph(
        4,
        Ph::other(PT_TLS, R, 0x2fcc, 0x40_3fcc, 8, 4).with_memsz(4),
    );
    assert!(matches!(
        err(&elf),
        ElfError::FileSizeOverMemSize { index: 4, .. }
    ));
}

#[test]
fn file_range_outside_the_file() {
    let len = static_exec().build().len();
    // One byte past the end (the writer pads to the furthest sane range, so cut it back).
    let mut elf = static_exec();
    elf.truncate = Some(len - 1);
    assert_eq!(
        err(&elf),
        ElfError::FileRangeOutsideFile {
            index: 3,
            offset: 0x2fcc,
            size: 0x48,
            file_len: len - 1
        }
    );
    // An offset + size that wraps past 2^64.
    let elf = with_ph(
        2,
        Ph::load(R, u64::MAX - 0xfff, 0x40_2000 - 0x1000, 0x2000, 0x2000),
    );
    assert!(matches!(
        err(&elf),
        ElfError::FileRangeOutsideFile {
            index: 2,
            offset: 0xffff_ffff_ffff_f000,
            ..
        }
    ));
    // PT_INTERP and PT_TLS are checked too.
    let mut elf = static_pie(true);
    elf.phdrs[1].offset = 1 << 32;
    assert!(matches!(
        err(&elf),
        ElfError::FileRangeOutsideFile { index: 1, .. }
    ));
    let elf = with_ph(4, Ph::other(PT_TLS, R, 1 << 32, 0x40_3fcc, 4, 4));
    assert!(matches!(
        err(&elf),
        ElfError::FileRangeOutsideFile { index: 4, .. }
    ));
}

#[test]
fn bad_align() {
    for align in [3, 0x1800, u64::MAX] {
        let mut ph = Ph::load(RX, 0x1000, 0x40_1000, 0x82c, 0x82c);
        ph.align = align;
        assert_eq!(err(&with_ph(1, ph)), ElfError::BadAlign { index: 1, align });
    }
    let mut tls = Ph::other(PT_TLS, R, 0x2fcc, 0x40_3fcc, 4, 4);
    tls.align = 12;
    assert_eq!(
        err(&with_ph(4, tls)),
        ElfError::BadAlign {
            index: 4,
            align: 12
        }
    );
}

#[test]
fn misaligned_against_p_align() {
    // Page congruent, but p_align asks for 2 MiB congruence (as older linkers wrote) and
    // 0x501000 is 0x101000 into its 2 MiB block while the file offset is 0x1000 into it.
    let mut ph = Ph::load(RX, 0x1000, 0x50_1000, 0x82c, 0x82c);
    ph.align = 0x20_0000;
    let elf = Elf::new(ET_EXEC, 0x50_1000, vec![ph]);
    assert_eq!(
        err(&elf),
        ElfError::Misaligned {
            index: 0,
            vaddr: 0x50_1000,
            offset: 0x1000,
            align: 0x20_0000
        }
    );
    let mut ph = Ph::load(RX, 0x1008, 0x40_1000, 0x82c, 0x82c);
    ph.align = 16;
    assert!(matches!(
        err(&with_ph(1, ph)),
        ElfError::Misaligned { index: 1, .. }
    ));
}

#[test]
fn not_page_congruent() {
    // A small (or no) p_align waives nothing: the page congruence mapping needs still holds.
    // 0x401020 and 0x1010 agree modulo 16 but not modulo the page.
    for align in [0, 1, 16] {
        let mut ph = Ph::load(RX, 0x1010, 0x40_1020, 0x80, 0x80);
        ph.align = align;
        let mut elf = with_ph(1, ph);
        elf.entry = 0x40_1020;
        assert_eq!(
            err(&elf),
            ElfError::NotPageCongruent {
                index: 1,
                vaddr: 0x40_1020,
                offset: 0x1010,
            }
        );
    }
}

#[test]
fn out_of_order() {
    let mut elf = static_exec();
    elf.phdrs.swap(1, 2);
    assert_eq!(
        err(&elf),
        ElfError::OutOfOrder {
            index: 2,
            vaddr: 0x40_1000,
            prev_vaddr: 0x40_2000
        }
    );
}

#[test]
fn overlapping_segments() {
    // Truly overlapping bytes: rodata starts inside text.
    let elf = with_ph(2, Ph::load(R, 0x1800, 0x40_1800, 0x40, 0x40));
    assert_eq!(
        err(&elf),
        ElfError::Overlap {
            index: 2,
            map_start: 0x40_1000,
            prev_map_end: 0x40_2000
        }
    );
    // Disjoint bytes that share a page (text ends at 0x40182c, rodata begins at 0x401900):
    // one page cannot be both RX and R, and no real binary does this.
    let elf = with_ph(2, Ph::load(R, 0x1900, 0x40_1900, 0x40, 0x40));
    assert_eq!(
        err(&elf),
        ElfError::Overlap {
            index: 2,
            map_start: 0x40_1000,
            prev_map_end: 0x40_2000
        }
    );
    // A huge .bss that runs over the next segment.
    let elf = with_ph(1, Ph::load(RX, 0x1000, 0x40_1000, 0x82c, 0x10_0000));
    assert!(matches!(err(&elf), ElfError::Overlap { index: 2, .. }));
}

#[test]
fn address_overflow() {
    // vaddr + memsz wraps.
    let elf = Elf::new(
        ET_EXEC,
        EXEC_BASE,
        vec![Ph::load(RX, 0x1000, u64::MAX - 0xfff, 0x10, 0x2000)],
    );
    assert_eq!(
        err(&elf),
        ElfError::AddressOverflow {
            index: Some(0),
            what: "segment start + p_memsz",
            base: u64::MAX - 0xfff,
            add: 0x2000
        }
    );
    // The end does not wrap, but its page round-up does.
    let elf = Elf::new(
        ET_EXEC,
        EXEC_BASE,
        vec![Ph::load(RX, 0x1000, u64::MAX - 0xfff, 0x10, 0x800)],
    );
    assert!(matches!(
        err(&elf),
        ElfError::AddressOverflow {
            index: Some(0),
            what: "segment end rounded up to a page",
            ..
        }
    ));
    // bias + vaddr wraps (the data segment of a PIE linked at the top of the space).
    let top_page = !0xfff;
    let mut elf = static_pie(false);
    elf.phdrs[4].vaddr = top_page;
    elf.phdrs[4].offset = 0x2000;
    let o = Options {
        bias_for_pie: 0x10_0000,
        ..opts()
    };
    assert_eq!(
        err_with(&elf, &o),
        ElfError::AddressOverflow {
            index: Some(4),
            what: "load bias + p_vaddr",
            base: 0x10_0000,
            add: top_page
        }
    );
    // bias + e_entry wraps.
    let mut elf = static_pie(false);
    elf.entry = u64::MAX;
    assert_eq!(
        err_with(&elf, &o),
        ElfError::AddressOverflow {
            index: None,
            what: "load bias + e_entry",
            base: 0x10_0000,
            add: u64::MAX
        }
    );
}

#[test]
fn below_min_addr() {
    // Linked at page 0..., or a PIE given no bias.
    let elf = Elf::new(
        ET_EXEC,
        0x1000,
        vec![Ph::load(RX, 0x1000, 0x1000, 0x10, 0x10)],
    );
    assert_eq!(
        err(&elf),
        ElfError::BelowMinAddr {
            index: 0,
            map_start: 0x1000,
            min_addr: 0x1_0000
        }
    );
    let o = Options {
        bias_for_pie: 0,
        ..opts()
    };
    assert_eq!(
        err_with(&static_pie(false), &o),
        ElfError::BelowMinAddr {
            index: 1,
            map_start: 0,
            min_addr: 0x1_0000
        }
    );
}

#[test]
fn above_user_top() {
    // Ends one page past the top of user space.
    let top = 0x0000_8000_0000_0000;
    let elf = Elf::new(
        ET_EXEC,
        top - 0x1000,
        vec![Ph::load(RX, 0x1000, top - 0x1000, 0x10, 0x1001)],
    );
    assert_eq!(
        err(&elf),
        ElfError::AboveUserTop {
            index: 0,
            map_end: top + 0x1000,
            user_top: top
        }
    );
    // Kernel-half addresses.
    let elf = Elf::new(
        ET_EXEC,
        0xffff_ffff_8000_0000,
        vec![Ph::load(RX, 0x1000, 0xffff_ffff_8000_0000, 0x10, 0x10)],
    );
    assert!(matches!(err(&elf), ElfError::AboveUserTop { .. }));
    // A PIE whose bias puts it past the top.
    let o = Options {
        bias_for_pie: top - 0x2000,
        ..opts()
    };
    assert!(matches!(
        err_with(&static_pie(false), &o),
        ElfError::AboveUserTop { .. }
    ));
}

#[test]
fn too_much_memory() {
    // A 4 GiB .bss.
    let elf = with_ph(3, Ph::load(RW, 0x2fcc, 0x40_3fcc, 0x48, 1 << 32));
    assert_eq!(
        err(&elf),
        ElfError::TooMuchMemory {
            total: 3 * 0x1000 + 0x1_0000_1000,
            max: 1 << 30
        }
    );
    let o = Options {
        max_total_mem: 5 * 0x1000 - 1,
        ..opts()
    };
    assert_eq!(
        err_with(&static_exec(), &o),
        ElfError::TooMuchMemory {
            total: 5 * 0x1000,
            max: 5 * 0x1000 - 1
        }
    );
}

#[test]
fn entry_not_executable() {
    // In a read-only segment, in the data segment, in a gap, one past the text, and at 0.
    for entry in [EXEC_BASE + 0x10, 0x40_3fd0, 0x50_0000, 0x40_182c, 0] {
        let mut elf = static_exec();
        elf.entry = entry;
        assert_eq!(err(&elf), ElfError::EntryNotExecutable { entry });
    }
    // A PIE's entry is checked after biasing.
    let mut elf = static_pie(false);
    elf.entry = 0x10;
    let e = err(&elf);
    assert_eq!(
        e,
        ElfError::EntryNotExecutable {
            entry: 0x5555_5555_4010
        }
    );
    assert!(e.to_string().contains("0x555555554010"), "{e}");
}

#[test]
fn bias_not_page_aligned() {
    let o = Options {
        bias_for_pie: 0x5555_5555_4800,
        ..opts()
    };
    assert_eq!(
        err_with(&static_pie(false), &o),
        ElfError::BiasNotPageAligned {
            bias: 0x5555_5555_4800
        }
    );
}

#[test]
fn bad_interp() {
    let interp = |size: u64, data: &[u8]| {
        let mut elf = static_pie(true);
        elf.phdrs[1].filesz = size;
        elf.phdrs[1].memsz = size;
        elf.with_data(0x270, data)
    };
    // Not NUL-terminated.
    assert_eq!(
        err(&interp(24, MUSL_INTERP)),
        ElfError::BadInterp {
            index: 1,
            size: 24,
            reason: "is not NUL-terminated"
        }
    );
    // Empty, or only a NUL.
    for size in [0, 1] {
        assert!(matches!(
            err(&interp(size, b"\0")),
            ElfError::BadInterp { index: 1, .. }
        ));
    }
    // Longer than PATH_MAX.
    let mut elf = interp(4097, &[b'a'; 4097]);
    elf.data.push((0x270 + 4096, vec![0]));
    assert!(matches!(
        err(&elf),
        ElfError::BadInterp {
            index: 1,
            size: 4097,
            ..
        }
    ));
}

#[test]
fn duplicate_headers() {
    let mut elf = static_pie(true);
    let second = elf.phdrs[1];
    elf.phdrs.push(second);
    assert_eq!(
        err(&elf),
        ElfError::DuplicateHeader {
            index: 8,
            p_type: PT_INTERP
        }
    );
    for p_type in [PT_TLS, PT_GNU_STACK] {
        let mut elf = static_exec();
        let again = *elf.phdrs.iter().find(|p| p.p_type == p_type).unwrap();
        elf.phdrs.push(again);
        let e = err(&elf);
        assert_eq!(e, ElfError::DuplicateHeader { index: 7, p_type });
    }
    let mut elf = static_pie(false);
    let phdr = elf.phdrs[0];
    elf.phdrs.insert(1, phdr);
    assert!(matches!(
        err(&elf),
        ElfError::DuplicateHeader {
            index: 1,
            p_type: PT_PHDR
        }
    ));
}

#[test]
fn not_loaded() {
    // PT_PHDR pointing into a gap between segments.
    let mut elf = static_pie(false);
    elf.phdrs[0].vaddr = 0x10_0000;
    let e = err(&elf);
    assert_eq!(
        e,
        ElfError::NotLoaded {
            index: 0,
            what: "the program header table named by PT_PHDR",
            vaddr: 0x5555_5555_4000 + 0x10_0000,
            size: 7 * PHDR_SIZE
        }
    );
    // PT_TLS whose image is not in memory.
    let elf = with_ph(4, Ph::other(PT_TLS, R, 0x2fcc, 0x60_0000, 4, 4));
    assert!(matches!(
        err(&elf),
        ElfError::NotLoaded {
            index: 4,
            vaddr: 0x60_0000,
            size: 4,
            ..
        }
    ));
}

#[test]
fn every_message_names_its_values() {
    let cases = [
        (
            ElfError::FileRangeOutsideFile {
                index: 3,
                offset: 0x2fcc,
                size: 0x48,
                file_len: 0x3000,
            },
            &["program header 3", "0x2fcc", "0x48", "0x3000"][..],
        ),
        (
            ElfError::Overlap {
                index: 2,
                map_start: 0x40_1000,
                prev_map_end: 0x40_2000,
            },
            &["program header 2", "0x401000", "0x402000"],
        ),
        (
            ElfError::DuplicateHeader {
                index: 5,
                p_type: PT_INTERP,
            },
            &["program header 5", "PT_INTERP"],
        ),
        (
            ElfError::TooManySegments { count: 17, max: 16 },
            &["17", "16"],
        ),
    ];
    for (e, needles) in cases {
        let msg = e.to_string();
        for n in needles {
            assert!(msg.contains(n), "{msg:?} lacks {n:?}");
        }
    }
}
