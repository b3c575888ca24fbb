//! The host side of kernel symbolization: fills the linked kernel's `.ksyms` section with its own
//! function symbols.
//!
//! The kernel reserves a fixed-size `.ksyms` section holding `k42_ksyms::empty_table()` (the static lives
//! in the hal crate). After the kernel is linked, the build calls [`patch_kernel`], which reads the ELF
//! symbol table, encodes the function symbols with `k42_ksyms::encode` and writes the table over the
//! section in place. Patching the linked file, instead of linking twice, keeps every address the table
//! names exactly where it is. The kernel's exception report then reads the table with
//! `k42_ksyms::Table` to name the frames of its backtraces.

use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use k42_ksyms::{CAPACITY, MAGIC, SECTION, Table};
use object::{Object, ObjectSection, ObjectSymbol, SectionFlags, SymbolKind};

/// How the hal crate must declare the section, quoted in error messages so the fix is copy-paste.
const DECLARATION: &str = "#[used] #[unsafe(link_section = \".ksyms\")] \
     static KSYMS: [u8; k42_ksyms::CAPACITY] = k42_ksyms::empty_table();";

/// Fills the `.ksyms` section of the linked kernel ELF at `path` in place with its function symbols
/// (demangled, without hash), returns how many.
///
/// Patching twice is harmless: the section is rewritten whole, padded with zeros.
pub fn patch_kernel(path: &Path) -> Result<usize, String> {
    let shown = path.display();
    let data = std::fs::read(path)
        .map_err(|e| format!("cannot read the kernel ELF {shown}: {e}; build the kernel first"))?;
    let file = object::File::parse(&*data)
        .map_err(|e| format!("{shown} is not an ELF file the symbol patcher can read: {e}"))?;
    let offset = ksyms_section(&file, path)?;

    let symbols = function_symbols(&file);
    if symbols.is_empty() {
        return Err(format!(
            "{shown} has no function symbols: do not strip the kernel (no `strip = true` in the \
             profile, no `-s` linker flag) before patching {SECTION}"
        ));
    }
    let borrowed: Vec<(u64, u64, &str)> = symbols
        .iter()
        .map(|(start, size, name)| (*start, *size, name.as_str()))
        .collect();
    let mut table = k42_ksyms::encode(&borrowed).map_err(|e| format!("{shown}: {e}"))?;
    let count = Table::parse(&table)
        .ok_or_else(|| {
            format!("k42_ksyms::encode produced a table it cannot parse for {shown}: a bug")
        })?
        .len();
    // Pad to the whole section so a re-patch leaves nothing of an older, longer table behind.
    table.resize(CAPACITY, 0);

    let mut out = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| format!("cannot open {shown} for writing: {e}"))?;
    out.seek(SeekFrom::Start(offset))
        .and_then(|_| out.write_all(&table))
        .map_err(|e| format!("cannot write the symbol table into {shown}: {e}"))?;
    Ok(count)
}

/// File offset of the `.ksyms` section, after checking it is the kernel's unpatched (or already
/// patched) table of the size this xtask was built with.
fn ksyms_section<'d>(file: &object::File<'d>, path: &Path) -> Result<u64, String> {
    let shown = path.display();
    let section = file.section_by_name(SECTION).ok_or_else(|| {
        format!(
            "{shown} has no {SECTION} section: the hal crate must declare `{DECLARATION}` and the \
             linker script must KEEP(*({SECTION})) inside a loaded segment"
        )
    })?;
    let size = section.size();
    if usize::try_from(size).ok() != Some(CAPACITY) {
        return Err(format!(
            "{SECTION} in {shown} is {size} bytes but k42_ksyms::CAPACITY is {CAPACITY}: the section \
             must be exactly `{DECLARATION}`; rebuild the kernel after changing CAPACITY"
        ));
    }
    if let SectionFlags::Elf { sh_flags, .. } = section.flags()
        && !sh_flags.contains(object::elf::SHF_ALLOC)
    {
        return Err(format!(
            "{SECTION} in {shown} is not loaded at run time (no SHF_ALLOC): the linker script must \
             place it in a loaded segment, e.g. next to .rodata"
        ));
    }
    let (offset, file_size) = section.file_range().ok_or_else(|| {
        format!(
            "{SECTION} in {shown} has no bytes in the file (NOBITS): initialize the static with \
             k42_ksyms::empty_table(), whose nonzero magic keeps it out of .bss"
        )
    })?;
    let contents = section
        .data()
        .map_err(|e| format!("cannot read {SECTION} in {shown}: {e}"))?;
    if file_size != size || contents.len() != CAPACITY {
        return Err(format!(
            "{SECTION} in {shown} is truncated in the file: relink the kernel"
        ));
    }
    if Table::parse(contents).is_none() {
        return Err(format!(
            "{SECTION} in {shown} does not hold a symbol table (expected magic {:?}): initialize it \
             with k42_ksyms::empty_table() and do not let anything else write into it",
            String::from_utf8_lossy(&MAGIC)
        ));
    }
    Ok(offset)
}

/// The defined function symbols with a nonzero size, as `(address, size, demangled name)`.
fn function_symbols<'d>(file: &object::File<'d>) -> Vec<(u64, u64, String)> {
    file.symbols()
        .filter(|s| s.kind() == SymbolKind::Text && s.size() > 0 && s.is_definition())
        .filter_map(|s| {
            let name = s.name().ok().filter(|n| !n.is_empty())?;
            Some((s.address(), s.size(), demangle(name)))
        })
        .collect()
}

/// A Rust symbol demangled without its hash (`{:#}`); any other name unchanged.
fn demangle(name: &str) -> String {
    format!("{:#}", rustc_demangle::demangle(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demangles_without_hash() {
        assert_eq!(
            demangle("_ZN6kernel4main17h0123456789abcdefE"),
            "kernel::main"
        );
        assert_eq!(
            demangle("_ZN4core3fmt5write17h0123456789abcdefE"),
            "core::fmt::write"
        );
        assert_eq!(
            demangle(
                "_ZN50_$LT$kernel..Foo$u20$as$u20$core..fmt..Display$GT$3fmt17h0123456789abcdefE"
            ),
            "<kernel::Foo as core::fmt::Display>::fmt"
        );
        assert_eq!(
            demangle("_RNvCs15kBYyAo9fc_7mycrate7example"),
            "mycrate::example"
        );
        assert_eq!(demangle("pvh_start32"), "pvh_start32");
        assert_eq!(demangle("memcpy"), "memcpy");
    }

    /// Writes a minimal x86_64 ELF executable with the sections and symbols the patcher looks at.
    mod elf {
        use k42_ksyms::{CAPACITY, empty_table};

        const EHDR_LEN: usize = 64;
        const SHDR_LEN: usize = 64;
        const SYM_LEN: u64 = 24;
        const ET_EXEC: u16 = 2;
        const EM_X86_64: u16 = 62;
        const EV_CURRENT: u8 = 1;
        const ELFCLASS64: u8 = 2;
        const ELFDATA2LSB: u8 = 1;
        const SHT_PROGBITS: u32 = 1;
        const SHT_SYMTAB: u32 = 2;
        const SHT_STRTAB: u32 = 3;
        const SHT_NOBITS: u32 = 8;
        const SHF_ALLOC: u64 = 2;
        const SHF_EXECINSTR: u64 = 4;
        const STB_GLOBAL: u8 = 1;
        const STT_OBJECT: u8 = 1;
        const STT_FUNC: u8 = 2;
        /// Section index of `.text`, `.ksyms`, `.strtab` and `.shstrtab` in [`build`]'s layout.
        const TEXT: u16 = 1;
        const KSYMS: u16 = 2;
        const STRTAB: u32 = 4;
        const SHSTRTAB: u16 = 5;

        pub const TEXT_ADDR: u64 = 0xffff_ffff_8010_0000;
        pub const TEXT_LEN: usize = 0x100;
        pub const KSYMS_ADDR: u64 = 0xffff_ffff_8020_0000;

        /// One symbol: name, section index (0 = undefined), address, size, type.
        pub type Sym<'a> = (&'a str, u16, u64, u64, u8);

        /// Functions (two mangled, one plain, one zero-sized, one undefined) and the table's own object.
        pub fn sample_symbols() -> Vec<Sym<'static>> {
            vec![
                (
                    "_ZN6kernel4main17h0123456789abcdefE",
                    TEXT,
                    TEXT_ADDR,
                    0x40,
                    STT_FUNC,
                ),
                (
                    "_ZN4core3fmt5write17h0123456789abcdefE",
                    TEXT,
                    TEXT_ADDR + 0x40,
                    0x20,
                    STT_FUNC,
                ),
                ("pvh_start32", TEXT, TEXT_ADDR + 0x80, 0x10, STT_FUNC),
                ("zero_sized_marker", TEXT, TEXT_ADDR + 0x90, 0, STT_FUNC),
                ("external", 0, 0, 0x10, STT_FUNC),
                (
                    "_ZN7k42_hal5KSYMS17h0123456789abcdefE",
                    KSYMS,
                    KSYMS_ADDR,
                    CAPACITY as u64,
                    STT_OBJECT,
                ),
            ]
        }

        fn strtab(names: &[&str]) -> (Vec<u8>, Vec<u32>) {
            let mut table = vec![0u8];
            let offsets = names
                .iter()
                .map(|n| {
                    let at = table.len() as u32;
                    table.extend_from_slice(n.as_bytes());
                    table.push(0);
                    at
                })
                .collect();
            (table, offsets)
        }

        /// The section the patcher fills, as the test wants it (right or wrong).
        pub struct Ksyms<'a> {
            pub name: &'a str,
            pub size: usize,
            /// The content, or `None` for a NOBITS section.
            pub content: Option<&'a [u8]>,
            pub loaded: bool,
        }

        impl Default for Ksyms<'static> {
            fn default() -> Self {
                Ksyms {
                    name: k42_ksyms::SECTION,
                    size: CAPACITY,
                    content: None,
                    loaded: true,
                }
            }
        }

        /// Builds the ELF.
        pub fn build(symbols: &[Sym<'_>], section: Ksyms<'_>) -> Vec<u8> {
            let ksyms = section.content;
            let (shstr, shnames) =
                strtab(&[".text", section.name, ".symtab", ".strtab", ".shstrtab"]);
            let names: Vec<&str> = symbols.iter().map(|s| s.0).collect();
            let (str_data, str_offsets) = strtab(&names);
            let mut symtab = vec![0u8; SYM_LEN as usize];
            for (sym, name) in symbols.iter().zip(&str_offsets) {
                symtab.extend_from_slice(&name.to_le_bytes());
                symtab.push((STB_GLOBAL << 4) | sym.4);
                symtab.push(0);
                symtab.extend_from_slice(&sym.1.to_le_bytes());
                symtab.extend_from_slice(&sym.2.to_le_bytes());
                symtab.extend_from_slice(&sym.3.to_le_bytes());
            }

            let mut out = vec![0u8; EHDR_LEN];
            let place = |out: &mut Vec<u8>, bytes: &[u8]| {
                let at = out.len() as u64;
                out.extend_from_slice(bytes);
                at
            };
            let text_at = place(&mut out, &[0xcc; TEXT_LEN]);
            let ksyms_at = ksyms.map_or(out.len() as u64, |k| place(&mut out, k));
            let symtab_at = place(&mut out, &symtab);
            let strtab_at = place(&mut out, &str_data);
            let shstr_at = place(&mut out, &shstr);
            let shoff = out.len() as u64;

            let mut shdr = |name: u32,
                            kind: u32,
                            flags: u64,
                            addr: u64,
                            at: u64,
                            size: u64,
                            link: u32,
                            entsize: u64| {
                out.extend_from_slice(&name.to_le_bytes());
                out.extend_from_slice(&kind.to_le_bytes());
                out.extend_from_slice(&flags.to_le_bytes());
                out.extend_from_slice(&addr.to_le_bytes());
                out.extend_from_slice(&at.to_le_bytes());
                out.extend_from_slice(&size.to_le_bytes());
                out.extend_from_slice(&link.to_le_bytes());
                // sh_info of .symtab: index of the first global symbol.
                out.extend_from_slice(&u32::from(kind == SHT_SYMTAB).to_le_bytes());
                out.extend_from_slice(&1u64.to_le_bytes());
                out.extend_from_slice(&entsize.to_le_bytes());
            };
            shdr(0, 0, 0, 0, 0, 0, 0, 0);
            shdr(
                shnames[0],
                SHT_PROGBITS,
                SHF_ALLOC | SHF_EXECINSTR,
                TEXT_ADDR,
                text_at,
                TEXT_LEN as u64,
                0,
                0,
            );
            let ksyms_kind = if ksyms.is_some() {
                SHT_PROGBITS
            } else {
                SHT_NOBITS
            };
            let ksyms_flags = if section.loaded { SHF_ALLOC } else { 0 };
            shdr(
                shnames[1],
                ksyms_kind,
                ksyms_flags,
                KSYMS_ADDR,
                ksyms_at,
                section.size as u64,
                0,
                0,
            );
            shdr(
                shnames[2],
                SHT_SYMTAB,
                0,
                0,
                symtab_at,
                symtab.len() as u64,
                STRTAB,
                SYM_LEN,
            );
            shdr(
                shnames[3],
                SHT_STRTAB,
                0,
                0,
                strtab_at,
                str_data.len() as u64,
                0,
                0,
            );
            shdr(
                shnames[4],
                SHT_STRTAB,
                0,
                0,
                shstr_at,
                shstr.len() as u64,
                0,
                0,
            );
            let shnum = 6u16;

            let mut header = Vec::with_capacity(EHDR_LEN);
            header.extend_from_slice(&[
                0x7f,
                b'E',
                b'L',
                b'F',
                ELFCLASS64,
                ELFDATA2LSB,
                EV_CURRENT,
            ]);
            header.resize(16, 0);
            header.extend_from_slice(&ET_EXEC.to_le_bytes());
            header.extend_from_slice(&EM_X86_64.to_le_bytes());
            header.extend_from_slice(&u32::from(EV_CURRENT).to_le_bytes());
            header.extend_from_slice(&TEXT_ADDR.to_le_bytes()); // e_entry
            header.extend_from_slice(&0u64.to_le_bytes()); // e_phoff: no segments needed here
            header.extend_from_slice(&shoff.to_le_bytes());
            header.extend_from_slice(&0u32.to_le_bytes()); // e_flags
            header.extend_from_slice(&(EHDR_LEN as u16).to_le_bytes());
            header.extend_from_slice(&0u16.to_le_bytes()); // e_phentsize
            header.extend_from_slice(&0u16.to_le_bytes()); // e_phnum
            header.extend_from_slice(&(SHDR_LEN as u16).to_le_bytes());
            header.extend_from_slice(&shnum.to_le_bytes());
            header.extend_from_slice(&SHSTRTAB.to_le_bytes());
            out[..EHDR_LEN].copy_from_slice(&header);
            out
        }

        pub fn sample() -> Vec<u8> {
            build(
                &sample_symbols(),
                Ksyms {
                    content: Some(&empty_table()),
                    ..Ksyms::default()
                },
            )
        }
    }

    /// A scratch file under the target directory's temp area, removed on drop.
    struct Scratch(std::path::PathBuf);

    impl Scratch {
        fn new(name: &str, bytes: &[u8]) -> Self {
            let path =
                std::env::temp_dir().join(format!("k42-xtask-ksyms-{}-{name}", std::process::id()));
            std::fs::write(&path, bytes).unwrap();
            Scratch(path)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn selects_defined_sized_functions() {
        let data = elf::sample();
        let file = object::File::parse(&*data).unwrap();
        let mut names: Vec<String> = function_symbols(&file).into_iter().map(|s| s.2).collect();
        names.sort();
        assert_eq!(names, ["core::fmt::write", "kernel::main", "pvh_start32"]);
    }

    #[test]
    fn patches_in_place() {
        let original = elf::sample();
        let scratch = Scratch::new("ok", &original);
        assert_eq!(patch_kernel(&scratch.0), Ok(3));
        // Twice is fine and gives the same bytes.
        let once = std::fs::read(&scratch.0).unwrap();
        assert_eq!(patch_kernel(&scratch.0), Ok(3));
        let patched = std::fs::read(&scratch.0).unwrap();
        assert_eq!(once, patched);
        assert_eq!(patched.len(), original.len());

        let file = object::File::parse(&*patched).unwrap();
        let section = file.section_by_name(SECTION).unwrap();
        let table = Table::parse(section.data().unwrap()).unwrap();
        assert_eq!(table.len(), 3);
        assert_eq!(
            table.lookup(elf::TEXT_ADDR + 0x10),
            Some(("kernel::main", 0x10))
        );
        assert_eq!(
            table.lookup(elf::TEXT_ADDR + 0x5f),
            Some(("core::fmt::write", 0x1f))
        );
        assert_eq!(
            table.lookup(elf::TEXT_ADDR + 0x80),
            Some(("pvh_start32", 0))
        );
        assert_eq!(table.lookup(elf::TEXT_ADDR + 0x90), None);
        // Only the section changed.
        let (offset, size) = section.file_range().unwrap();
        let (offset, size) = (offset as usize, size as usize);
        assert_eq!(original[..offset], patched[..offset]);
        assert_eq!(original[offset + size..], patched[offset + size..]);
    }

    #[test]
    fn explains_missing_or_wrong_sections() {
        use elf::Ksyms;
        let symbols = elf::sample_symbols();
        let empty = k42_ksyms::empty_table();
        let zeros = vec![0u8; CAPACITY];
        let good = || Ksyms {
            content: Some(&empty),
            ..Ksyms::default()
        };
        let half = CAPACITY / 2;
        let cases: [(&str, Vec<u8>, &str); 7] = [
            (
                "missing",
                elf::build(
                    &symbols,
                    Ksyms {
                        name: ".rodata",
                        ..good()
                    },
                ),
                "KEEP",
            ),
            (
                "small",
                elf::build(
                    &symbols,
                    Ksyms {
                        size: half,
                        content: Some(&empty[..half]),
                        ..good()
                    },
                ),
                "CAPACITY",
            ),
            (
                "notloaded",
                elf::build(
                    &symbols,
                    Ksyms {
                        loaded: false,
                        ..good()
                    },
                ),
                "loaded segment",
            ),
            ("nobits", elf::build(&symbols, Ksyms::default()), "NOBITS"),
            (
                "nomagic",
                elf::build(
                    &symbols,
                    Ksyms {
                        content: Some(&zeros),
                        ..good()
                    },
                ),
                "empty_table",
            ),
            (
                "stripped",
                elf::build(&symbols[symbols.len() - 1..], good()),
                "strip",
            ),
            ("garbage", b"not an elf".to_vec(), "not an ELF"),
        ];
        for (name, bytes, hint) in cases {
            let scratch = Scratch::new(name, &bytes);
            let err = patch_kernel(&scratch.0).unwrap_err();
            assert!(err.contains(hint), "{name}: {err}");
            assert_eq!(
                std::fs::read(&scratch.0).unwrap(),
                bytes,
                "{name}: file changed on error"
            );
        }
        let err = patch_kernel(Path::new("/nonexistent/kernel.elf")).unwrap_err();
        assert!(err.contains("build the kernel first"), "{err}");
    }
}
