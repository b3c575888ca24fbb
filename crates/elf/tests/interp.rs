//! The interpreter checks (`k42_elf::check_interp`) on written headers and on Debian's own
//! dynamic linker: what Linux refuses before exec's point of no return, with the same answer
//! (`EIO` for a short header, `ELIBBAD` for the rest), and never a panic.

mod common;

use common::*;
use k42_elf::{INTERP_PHDRS_MAX, InterpError, check_interp};

/// Debian's glibc dynamic linker, when the host has one.
const LD_SO: &str = "/lib64/ld-linux-x86-64.so.2";

/// A shared object shaped like ld.so: linked at 0, R, RX, R, RW.
fn ld_so_like() -> Elf {
    Elf::new(
        ET_DYN,
        0x1b70,
        vec![
            Ph::load(R, 0, 0, 0xd58, 0xd58),
            Ph::load(RX, 0x1000, 0x1000, 0x2000, 0x2000),
            Ph::load(RW, 0x3900, 0x4900, 0x100, 0x300),
        ],
    )
}

#[test]
fn a_shared_object_passes() {
    assert_eq!(check_interp(&ld_so_like().build()), Ok(()));
}

#[test]
fn a_file_shorter_than_a_header_is_a_short_read() {
    let bytes = ld_so_like().build();
    for len in [0, 1, 4, EHDR_SIZE as usize - 1] {
        let e = check_interp(&bytes[..len]).unwrap_err();
        assert_eq!(e, InterpError::ShortHeader { len });
        assert!(e.is_short_read());
    }
}

#[test]
fn not_elf_is_a_bad_library() {
    let mut script = b"#!/bin/sh\necho not a dynamic linker\n".to_vec();
    script.resize(200, b' ');
    let e = check_interp(&script).unwrap_err();
    assert_eq!(e, InterpError::NotElf);
    assert!(!e.is_short_read());
}

#[test]
fn another_architecture_is_a_bad_library() {
    let mut elf = ld_so_like();
    elf.machine = EM_AARCH64;
    assert!(matches!(
        check_interp(&elf.build()),
        Err(InterpError::WrongArch { machine, .. }) if machine == EM_AARCH64
    ));
    let mut elf = ld_so_like();
    elf.class = ELFCLASS32;
    assert!(matches!(
        check_interp(&elf.build()),
        Err(InterpError::WrongArch { .. })
    ));
    let mut elf = ld_so_like();
    elf.data_encoding = ELFDATA2MSB;
    assert!(matches!(
        check_interp(&elf.build()),
        Err(InterpError::WrongArch { .. })
    ));
}

#[test]
fn unreadable_program_header_tables_are_bad_libraries() {
    let bad = |elf: Elf| {
        let e = check_interp(&elf.build()).unwrap_err();
        assert!(matches!(e, InterpError::BadProgramHeaders { .. }), "{e:?}");
        assert!(!e.is_short_read());
    };
    // Cut inside the table, as a truncated ld.so is.
    let mut elf = ld_so_like();
    elf.truncate = Some(EHDR_SIZE as usize + 10);
    bad(elf);
    let mut elf = ld_so_like();
    elf.phentsize = 32;
    bad(elf);
    let mut elf = ld_so_like();
    elf.phnum = Some(0);
    bad(elf);
    let mut elf = ld_so_like();
    elf.phnum = Some((INTERP_PHDRS_MAX / PHDR_SIZE + 1) as u16);
    bad(elf);
    // A table offset past the end of the file, and one whose end overflows: patched into a
    // sound file's `e_phoff` (the writer would lay the table out there).
    for phoff in [1u64 << 20, u64::MAX - 8] {
        let mut bytes = ld_so_like().build();
        bytes[E_PHOFF..E_PHOFF + 8].copy_from_slice(&phoff.to_le_bytes());
        let e = check_interp(&bytes).unwrap_err();
        assert!(matches!(e, InterpError::BadProgramHeaders { .. }), "{e:?}");
    }
}

/// Where `e_phoff` lies in an ELF64 header.
const E_PHOFF: usize = 32;

/// What Linux finds only after the point of no return is not this check's: an object file or
/// a header naming no segment passes here, and `plan` refuses it.
#[test]
fn what_linux_finds_later_is_left_to_the_planner() {
    let mut elf = ld_so_like();
    elf.e_type = ET_REL;
    let bytes = elf.build();
    assert_eq!(check_interp(&bytes), Ok(()));
    assert!(k42_elf::plan(&bytes, &k42_elf::Options::default()).is_err());
}

#[test]
fn debian_ld_so_passes_and_its_truncations_never_panic() {
    let Ok(bytes) = std::fs::read(LD_SO) else {
        eprintln!("skipped: no {LD_SO} on this host");
        return;
    };
    assert_eq!(check_interp(&bytes), Ok(()));
    let plan = k42_elf::plan(&bytes, &k42_elf::Options::default()).expect("ld.so plans");
    assert_eq!(plan.kind, k42_elf::Kind::Pie);
    assert!(plan.interp.is_none());
    for len in (0..1024).chain([bytes.len() / 2, bytes.len() - 1]) {
        let cut = &bytes[..len];
        if check_interp(cut).is_ok() {
            let _ = k42_elf::plan(cut, &k42_elf::Options::default());
        }
    }
    // 200 bytes hold the header but not the table: Linux answers ELIBBAD.
    assert!(matches!(
        check_interp(&bytes[..200]),
        Err(InterpError::BadProgramHeaders { .. })
    ));
}

/// The span Linux's `total_mapping_size` measures to place an interpreter, and the alignment
/// `maximum_alignment` gives a PIE's bias.
#[test]
fn bounds_and_alignment_of_a_plan() {
    const BIAS: u64 = 0x7000_0000_0000;
    let opts = k42_elf::Options {
        bias_for_pie: BIAS,
        ..k42_elf::Options::default()
    };
    let plan = k42_elf::plan(&ld_so_like().build(), &opts).expect("plans");
    assert_eq!(plan.map_bounds(), BIAS..BIAS + 0x5000);
    assert_eq!(plan.max_align(), PAGE);
    let mut elf = ld_so_like();
    const HUGE: u64 = 0x20_0000;
    elf.phdrs[1].align = HUGE;
    let plan = k42_elf::plan(&elf.build(), &k42_elf::Options::default()).expect("plans");
    assert_eq!(plan.max_align(), HUGE);
}

/// `PT_INTERP` is a C string: a path padded with NULs (as a patched program's is) ends at its
/// first NUL, as Linux's `open_exec` reads it.
#[test]
fn an_interpreter_path_ends_at_its_first_nul() {
    let mut padded = b"/lib/ld.so".to_vec();
    padded.resize(MUSL_INTERP.len(), 0);
    let bytes = static_pie(true).with_data(0x270, &padded).build();
    let plan = k42_elf::plan(&bytes, &k42_elf::Options::default()).expect("plans");
    let interp = plan.interp.expect("has PT_INTERP");
    assert_eq!(interp.path(&bytes), Some(&b"/lib/ld.so"[..]));
}
