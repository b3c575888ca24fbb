//! Real binaries from the host, checked against what `readelf -hlW` says about them: Debian's
//! busybox-static (`/bin/busybox`, glibc static `ET_EXEC`), and programs compiled here with
//! musl: `-static` (`ET_EXEC`), a true static-PIE (`ET_DYN` without `PT_INTERP`, linked by hand
//! with `rcrt1.o` because Debian's `musl-gcc` specs do not support `-static-pie`), and what
//! Debian's `musl-gcc -static-pie` really produces (a dynamic PIE naming
//! `/lib/ld-musl-x86_64.so.1`, whose interpreter the plan must report).
//!
//! Each test prints why it skips when a tool is missing, and never passes without comparing
//! concrete fields.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use k42_elf::{DEFAULT_PIE_BIAS, Kind, LoadPlan, Options, PAGE_SIZE, Prot, plan};

const BUSYBOX: &str = "/bin/busybox";

/// Where Debian's musl-tools keeps musl's start files (`rcrt1.o` for static-PIE).
const MUSL_LIB: &str = "/usr/lib/x86_64-linux-musl";

/// A program with data, `.bss`, thread-locals and a function pointer (a relocation for the
/// static-PIE to apply to itself).
const PROGRAM: &str = r#"
int counter = 3;
char zeroes[5000];
__thread int per_thread = 5;
int (*indirect)(void);
static int seven(void) { return 7; }
int main(void) {
    indirect = seven;
    return counter + per_thread + zeroes[4999] + indirect() - 15;
}
"#;

/// Plans the file at `path` under `o` and checks every field against `readelf -hlW`.
fn check_against_readelf(path: &Path, o: &Options) -> LoadPlan {
    let bytes = std::fs::read(path).unwrap();
    let p = plan(&bytes, o).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_sound(&p, &bytes, o);
    let r = readelf(path);
    let (kind, bias) = match r.e_type.as_str() {
        "EXEC" => (Kind::Exec, 0),
        "DYN" => (Kind::Pie, o.bias_for_pie),
        other => panic!("{}: readelf type {other}", path.display()),
    };
    assert_eq!(p.kind, kind);
    assert_eq!(p.bias, bias);
    assert_eq!(p.entry, r.entry + bias, "entry");
    assert_eq!(usize::from(p.phnum), r.headers.len(), "phnum");

    let loads: Vec<&ReadelfPh> = r
        .headers
        .iter()
        .filter(|h| h.kind == "LOAD" && h.memsz != 0)
        .collect();
    assert_eq!(p.segments().len(), loads.len(), "segment count");
    for (s, h) in p.segments().iter().zip(&loads) {
        assert_eq!(s.vaddr(), h.vaddr + bias);
        assert_eq!(s.mem_size(), h.memsz);
        assert_eq!(s.file_offset(), h.offset);
        assert_eq!(s.file_size(), h.filesz);
        assert_eq!(s.align(), h.align);
        let mut prot = Prot::empty();
        prot.set(Prot::READ, h.flags.contains('R'));
        prot.set(Prot::WRITE, h.flags.contains('W'));
        prot.set(Prot::EXEC, h.flags.contains('E'));
        assert_eq!(s.prot(), prot, "flags {:?}", h.flags);
    }
    let last = loads.last().unwrap();
    let end = last.vaddr + last.memsz + bias;
    assert_eq!(p.brk_start, end.next_multiple_of(PAGE_SIZE));

    let find = |kind: &str| r.headers.iter().find(|h| h.kind == kind);
    match find("TLS") {
        Some(h) => {
            let tls = p.tls.expect("PT_TLS not reported");
            assert_eq!(
                (
                    tls.file_offset,
                    tls.file_size,
                    tls.mem_size,
                    tls.align,
                    tls.vaddr
                ),
                (h.offset, h.filesz, h.memsz, h.align, h.vaddr + bias)
            );
        }
        None => assert_eq!(p.tls, None),
    }
    let stack_x = find("GNU_STACK").is_some_and(|h| h.flags.contains('E'));
    assert_eq!(p.stack_executable, stack_x);
    let interp = p
        .interp
        .map(|i| String::from_utf8(i.path(&bytes).unwrap().to_vec()).unwrap());
    assert_eq!(interp, r.interp, "interpreter");

    // AT_PHDR: PT_PHDR if present, else the PT_LOAD whose file bytes hold the table.
    let phoff = u64::from_le_bytes(bytes[32..40].try_into().unwrap());
    let expected_phdr = match find("PHDR") {
        Some(h) => Some(h.vaddr + bias),
        None => loads
            .iter()
            .find(|h| h.offset <= phoff && phoff < h.offset + h.filesz)
            .map(|h| h.vaddr + bias + (phoff - h.offset)),
    };
    assert_eq!(p.phdr, expected_phdr, "AT_PHDR");
    p
}

fn skip(test: &str, why: &str) {
    eprintln!("SKIPPED {test}: {why}");
}

#[test]
fn busybox_static_matches_readelf() {
    if !Path::new(BUSYBOX).exists() {
        return skip(
            "busybox",
            "/bin/busybox is absent (apt-get install busybox-static)",
        );
    }
    if !have("readelf") {
        return skip("busybox", "readelf is absent (apt-get install binutils)");
    }
    let p = check_against_readelf(Path::new(BUSYBOX), &Options::default());
    // Whatever the version: a glibc static ET_EXEC at ld's default base with text, its headers
    // in the first segment (no PT_PHDR), thread-locals and a non-executable stack.
    assert_eq!(p.kind, Kind::Exec);
    assert!(p.segments().len() >= 2);
    assert_eq!(p.segments()[0].vaddr(), EXEC_BASE);
    assert_eq!(p.phdr, Some(EXEC_BASE + EHDR_SIZE));
    assert!(p.tls.is_some());
    assert!(!p.stack_executable);
    assert_eq!(p.interp, None);
}

#[test]
fn busybox_truncations_and_flips_never_panic() {
    let Ok(bytes) = std::fs::read(BUSYBOX) else {
        return skip("busybox robustness", "/bin/busybox is absent");
    };
    let o = Options::default();
    let p = plan(&bytes, &o).unwrap();
    // Every length of the first pages (ELF header, program headers, the first segment), then
    // each page boundary and its neighbours (where segments begin and end), then the last page:
    // every length of all 2 MB takes over 15 s in a debug build (the musl program below gets
    // every length).
    let head = bytes.len().min(16 * PAGE_SIZE as usize);
    let mut cuts: Vec<usize> = (0..head).collect();
    for page in (0..bytes.len()).step_by(PAGE_SIZE as usize) {
        cuts.extend([page.saturating_sub(1), page, page + 1]);
    }
    cuts.extend(bytes.len().saturating_sub(PAGE_SIZE as usize)..bytes.len());
    // Busybox's last PT_LOAD ends before its section headers: shorter cuts must fail, longer
    // ones still hold the whole program.
    let needed = p
        .segments()
        .iter()
        .map(|s| s.file_range().end)
        .max()
        .unwrap() as usize;
    for cut in cuts.into_iter().filter(|&c| c < bytes.len()) {
        let result = plan(&bytes[..cut], &o);
        if cut < needed {
            assert!(result.is_err(), "cut at {cut} accepted");
        } else {
            assert_sound(&result.unwrap(), &bytes[..cut], &o);
        }
    }
    let mut rng = Rng::new(0x62_7573_7962_6f78);
    let mut flipped = bytes[..(EHDR_SIZE + 16 * PHDR_SIZE) as usize].to_vec();
    let original = flipped.clone();
    for _ in 0..5_000 {
        let at = rng.below(flipped.len() as u64) as usize;
        flipped[at] ^= 1 << rng.below(8);
        // The headers alone: any accepted plan would name file bytes past them, so errors only.
        let _ = plan(&flipped, &o);
        flipped[at] = original[at];
    }
}

/// Compiles [`PROGRAM`] in `dir` with `musl-gcc` and `args`; `None` (after saying why) if the
/// compiler is missing.
fn musl(dir: &Path, name: &str, args: &[&str]) -> Option<PathBuf> {
    if !have("musl-gcc") {
        skip(name, "musl-gcc is absent (apt-get install musl-tools)");
        return None;
    }
    if !have("readelf") {
        skip(name, "readelf is absent (apt-get install binutils)");
        return None;
    }
    let src = dir.join("prog.c");
    std::fs::write(&src, PROGRAM).unwrap();
    let out = dir.join(name);
    let status = Command::new("musl-gcc")
        .args(args)
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "musl-gcc {args:?} failed");
    Some(out)
}

/// Runs a built program and checks its exit status (0 means every value it read was right), so
/// the fixture is known to be a working program, not just a file readelf can parse.
fn runs(path: &Path) {
    let status = Command::new(path).status().unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "{} did not run cleanly",
        path.display()
    );
}

#[test]
fn musl_static_exec_matches_readelf() {
    let dir = TempDir::new("static");
    let src = dir.path().join("prog.c");
    let src = src.to_str().unwrap();
    let Some(exe) = musl(dir.path(), "static", &["-static", "-O2", src]) else {
        return;
    };
    runs(&exe);
    let p = check_against_readelf(&exe, &Options::default());
    assert_eq!(p.kind, Kind::Exec);
    assert_eq!(p.segments()[0].vaddr(), EXEC_BASE);
    assert!(p.tls.is_some_and(|t| t.file_size == 4));
    // The data segment's 5000-byte .bss is zeroed, not copied.
    let data = p.segments().last().unwrap();
    assert!(data.prot().contains(Prot::WRITE));
    assert!(data.zero_range().end - data.zero_range().start >= 5000);

    // Every truncation of a real program fails cleanly (its last PT_LOAD ends before the
    // section headers, so only cuts inside segment bytes are sure to fail).
    let bytes = std::fs::read(&exe).unwrap();
    let o = Options::default();
    let needed = p
        .segments()
        .iter()
        .map(|s| s.file_range().end)
        .max()
        .unwrap() as usize;
    for cut in 0..bytes.len() {
        let result = plan(&bytes[..cut], &o);
        if cut < needed {
            assert!(result.is_err(), "cut at {cut} accepted");
        } else {
            assert_sound(&result.unwrap(), &bytes[..cut], &o);
        }
    }
}

#[test]
fn musl_static_pie_matches_readelf_at_several_biases() {
    let dir = TempDir::new("static-pie");
    let src = dir.path().join("prog.c");
    let src = src.to_str().unwrap();
    let rcrt1 = Path::new(MUSL_LIB).join("rcrt1.o");
    if !rcrt1.exists() {
        return skip(
            "static-pie",
            "musl's rcrt1.o is absent (apt-get install musl-dev)",
        );
    }
    // What -static-pie means in musl's own gcc wrapper: rcrt1.o (which relocates the program
    // itself), libc.a, no dynamic linker.
    let crt = |name: &str| format!("{MUSL_LIB}/{name}");
    let gcc_file = |name: &str| {
        let out = Command::new("gcc")
            .arg(format!("-print-file-name={name}"))
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let (rcrt1, crti, crtn) = (crt("rcrt1.o"), crt("crti.o"), crt("crtn.o"));
    let (begin, end) = (gcc_file("crtbeginS.o"), gcc_file("crtendS.o"));
    let args = [
        "-fPIE",
        "-O2",
        "-static-pie",
        "-nostartfiles",
        "-Wl,-static,--no-dynamic-linker,-z,text",
        &rcrt1,
        &crti,
        &begin,
        src,
        &end,
        &crtn,
    ];
    let Some(exe) = musl(dir.path(), "static-pie", &args) else {
        return;
    };
    runs(&exe);
    for bias in [DEFAULT_PIE_BIAS, 0x10_0000, 0x7fff_f000_0000] {
        let o = Options {
            bias_for_pie: bias,
            ..Options::default()
        };
        let p = check_against_readelf(&exe, &o);
        assert_eq!(p.kind, Kind::Pie);
        assert_eq!(p.interp, None, "a true static-PIE names no interpreter");
        assert_eq!(p.segments()[0].vaddr(), bias);
        assert!(p.entry > bias);
        // No PT_PHDR in musl's static-PIE: the table is found in the first segment.
        assert_eq!(p.phdr, Some(bias + EHDR_SIZE));
    }
}

#[test]
fn debian_musl_gcc_static_pie_reports_its_interpreter() {
    let dir = TempDir::new("musl-gcc-static-pie");
    let src = dir.path().join("prog.c");
    let src = src.to_str().unwrap();
    let Some(exe) = musl(
        dir.path(),
        "musl-gcc-static-pie",
        &["-static-pie", "-O2", src],
    ) else {
        return;
    };
    let p = check_against_readelf(&exe, &Options::default());
    assert_eq!(p.kind, Kind::Pie);
    // check_against_readelf compared the path with readelf's; say what it was, for the record.
    match p.interp {
        Some(i) => eprintln!(
            "musl-gcc -static-pie names interpreter {:?}",
            String::from_utf8_lossy(i.path(&std::fs::read(&exe).unwrap()).unwrap())
        ),
        None => eprintln!("musl-gcc -static-pie produced a true static-PIE here"),
    }
}
