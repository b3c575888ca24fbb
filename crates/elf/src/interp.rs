//! The checks Linux's `binfmt_elf` makes of a program's *interpreter* (the dynamic linker its
//! `PT_INTERP` names) before exec's point of no return, in its order: the ELF header must be
//! read whole (a shorter file is an I/O error, `EIO`), then carry the ELF magic and x86_64's
//! machine, and its program header table must be of the one entry size, at most a page and
//! inside the file (`load_elf_phdrs`) — each of those `ELIBBAD`. [`check_interp`] answers
//! which, as an [`InterpError`] the Linux personality turns into its errno.
//!
//! What Linux finds wrong only once the old image is gone (`load_elf_interp`: a type other
//! than `ET_EXEC`/`ET_DYN`, no `PT_LOAD`, a segment it cannot map) kills the process instead:
//! the personality learns those from [`crate::plan`] of the interpreter, which sits next to
//! this. Like the planner, nothing here panics or allocates, whatever the bytes.

use core::fmt;

use goblin::elf::header::{EI_CLASS, EI_DATA, ELFCLASS64, ELFDATA2LSB, ELFMAG, EM_X86_64, SELFMAG};
use goblin::elf64::header::{Header, SIZEOF_EHDR};
use goblin::elf64::program_header::SIZEOF_PHDR;
use scroll::{LE, Pread};

use crate::PAGE_SIZE;

/// Largest program header table `load_elf_phdrs` reads: `ELF_MIN_ALIGN`, one page (its other
/// bound, 64 KiB, is larger).
pub const INTERP_PHDRS_MAX: u64 = PAGE_SIZE;

/// Why an interpreter is refused before exec's point of no return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InterpError {
    /// The file ends inside the ELF header: Linux's read of it comes up short (`EIO`).
    ShortHeader {
        /// The file's length.
        len: usize,
    },
    /// Not `\x7fELF` (a script, a text file…): `ELIBBAD`.
    NotElf,
    /// Not a 64-bit little-endian x86_64 file (`elf_check_arch`): `ELIBBAD`.
    WrongArch {
        /// `EI_CLASS`.
        class: u8,
        /// `EI_DATA`.
        data: u8,
        /// `e_machine`.
        machine: u16,
    },
    /// The program header table is of the wrong entry size, empty, larger than
    /// [`INTERP_PHDRS_MAX`], or not wholly inside the file (`load_elf_phdrs` fails): `ELIBBAD`.
    BadProgramHeaders {
        /// `e_phentsize`.
        phentsize: u16,
        /// `e_phnum`.
        phnum: u16,
        /// `e_phoff`.
        phoff: u64,
    },
}

impl InterpError {
    /// Whether Linux reports it as a failed read (`EIO`) rather than a bad library (`ELIBBAD`).
    pub fn is_short_read(&self) -> bool {
        matches!(self, Self::ShortHeader { .. })
    }
}

impl fmt::Display for InterpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::ShortHeader { len } => write!(
                f,
                "the interpreter is {len} bytes long, shorter than an ELF header ({SIZEOF_EHDR})"
            ),
            Self::NotElf => f.write_str("the interpreter is not an ELF file"),
            Self::WrongArch {
                class,
                data,
                machine,
            } => write!(
                f,
                "the interpreter is not x86_64 ELF (class {class}, data {data}, machine {machine})"
            ),
            Self::BadProgramHeaders {
                phentsize,
                phnum,
                phoff,
            } => write!(
                f,
                "the interpreter's program header table ({phnum} entries of {phentsize} bytes at \
                 {phoff:#x}) cannot be read"
            ),
        }
    }
}

/// `Ok` when `bytes` pass what Linux checks of an interpreter before the point of no return.
pub fn check_interp(bytes: &[u8]) -> Result<(), InterpError> {
    if bytes.len() < SIZEOF_EHDR {
        return Err(InterpError::ShortHeader { len: bytes.len() });
    }
    if bytes.get(..SELFMAG) != Some(&ELFMAG[..]) {
        return Err(InterpError::NotElf);
    }
    let header: Header = bytes
        .pread_with(0, LE)
        .map_err(|_| InterpError::ShortHeader { len: bytes.len() })?;
    let (class, data) = (header.e_ident[EI_CLASS], header.e_ident[EI_DATA]);
    if class != ELFCLASS64 || data != ELFDATA2LSB || header.e_machine != EM_X86_64 {
        return Err(InterpError::WrongArch {
            class,
            data,
            machine: header.e_machine,
        });
    }
    let bad = InterpError::BadProgramHeaders {
        phentsize: header.e_phentsize,
        phnum: header.e_phnum,
        phoff: header.e_phoff,
    };
    let size = u64::from(header.e_phnum) * SIZEOF_PHDR as u64;
    if usize::from(header.e_phentsize) != SIZEOF_PHDR || size == 0 || size > INTERP_PHDRS_MAX {
        return Err(bad);
    }
    match header.e_phoff.checked_add(size) {
        Some(end) if end <= bytes.len() as u64 => Ok(()),
        _ => Err(bad),
    }
}
