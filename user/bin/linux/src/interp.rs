//! A dynamically linked program's interpreter — the dynamic linker its `PT_INTERP` names
//! (glibc's `/lib64/ld-linux-x86-64.so.2`, musl's `/lib/ld-musl-x86_64.so.1`) — found, checked
//! and planned for `exec.rs`, as Linux's `load_elf_binary` and `load_elf_interp` do: the
//! program, if position independent, goes at `ELF_ET_DYN_BASE` (aligned to its segments), the
//! interpreter's whole span at the highest free place of the mmap area, and the program starts
//! at the interpreter's entry with `AT_BASE` its load address and `AT_ENTRY` the program's own
//! entry (the placement rules are `k42_linux::exec_layout`, host-tested; the checks of the file
//! are `k42_elf::check_interp` and `k42_elf::plan`).
//!
//! The errors fall either side of exec's point of no return as Linux's do. Before it, the
//! interpreter's path is opened like the program's (relative to the working directory;
//! `ENOENT`, `EACCES`, `ELOOP`…), a file shorter than an ELF header is `EIO`, and one that is
//! not x86_64 ELF or whose program headers cannot be read is `ELIBBAD` — [`prepare`] answers
//! those as an [`ExecError`] and nothing of the process has changed. What Linux finds only
//! after it (a type other than `ET_EXEC`/`ET_DYN`, segments it cannot map) kills the process
//! by SIGSEGV there; [`prepare`] finds them early but leaves them in [`Interp::Doomed`], and
//! the load, past the point of no return, fails with them. The interpreter's own `PT_INTERP`,
//! if any, is ignored, as Linux ignores it.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ops::Range;

use k42_elf::{Kind, LoadPlan, Options};
use k42_linux::Errno;
use k42_linux::exec_layout;

use crate::exec::{self, ExecError};
use crate::file_bytes::FileBytes;
use crate::files::Node;
use crate::layout::{MMAP_CEILING, MMAP_FLOOR};
use crate::mem;
use crate::state::Linux;

/// Linux's `ELF_ET_DYN_BASE` on x86_64 without randomization: where a position-independent
/// program that names an interpreter goes (before its alignment).
const ET_DYN_BASE: u64 = k42_elf::DEFAULT_PIE_BIAS;

/// A program's interpreter, ready to load.
pub enum Interp {
    /// Planned: its image and where it goes.
    Ready {
        /// Its file's bytes.
        image: FileBytes,
        /// Its segments at their final addresses (boxed: a plan is large, the other variant
        /// small).
        plan: Box<LoadPlan>,
        /// Its file's node (`exec::ProgramFile::node`).
        node: Option<Arc<Node>>,
    },
    /// What Linux would refuse only past exec's point of no return: the load fails with it.
    Doomed(String),
}

impl Interp {
    /// `AT_BASE`: where the interpreter is loaded (Linux's `interp_load_addr`: its load bias,
    /// 0 for an `ET_EXEC` one, which goes where it is linked).
    pub fn base(&self) -> u64 {
        match self {
            Self::Ready { plan, .. } => plan.bias,
            Self::Doomed(_) => 0,
        }
    }
}

/// Plans `bytes`, the program `name`, as Linux places it: a position-independent program that
/// names an interpreter at [`ET_DYN_BASE`] aligned as `load_elf_binary` aligns it, anything
/// else as `opts` says.
pub fn plan_program(bytes: &[u8], opts: &Options) -> Result<LoadPlan, k42_elf::ElfError> {
    let plan = k42_elf::plan(bytes, opts)?;
    if plan.interp.is_none() || plan.kind != Kind::Pie {
        return Ok(plan);
    }
    let first_vaddr = plan.segments().first().map_or(0, |s| s.vaddr() - plan.bias);
    match exec_layout::pie_bias(ET_DYN_BASE, plan.max_align(), first_vaddr) {
        Some(bias) if bias != plan.bias => k42_elf::plan(
            bytes,
            &Options {
                bias_for_pie: bias,
                ..*opts
            },
        ),
        _ => Ok(plan),
    }
}

/// Finds, checks and plans the interpreter `program` (planned as `plan`, from `image`) names,
/// clear of the program's segments. `Err` for what Linux refuses before the point of no
/// return; [`Interp::Doomed`] for what it refuses after.
pub fn prepare(
    linux: &Linux,
    name: &str,
    plan: &LoadPlan,
    image: &[u8],
) -> Result<Option<Interp>, ExecError> {
    let Some(interp) = plan.interp else {
        return Ok(None);
    };
    let path = interp
        .path(image)
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .ok_or_else(|| ExecError::File(String::from(name), Errno::ENOEXEC))?;
    let refused = |errno, why: String| ExecError::Interp {
        program: String::from(name),
        interp: path.clone(),
        errno,
        why,
    };
    let file = exec::read_program(linux, &exec::cwd_path(linux), &path, false)
        .map_err(|e| refused(e, String::from("cannot open it")))?;
    if let Err(e) = k42_elf::check_interp(&file.bytes) {
        let errno = if e.is_short_read() {
            Errno::EIO
        } else {
            Errno::ELIBBAD
        };
        return Err(refused(errno, format!("{e}")));
    }
    Ok(Some(place(&path, plan, file.bytes, file.node)))
}

/// The program's pages, which the interpreter must stay clear of.
fn taken(plan: &LoadPlan) -> Vec<Range<u64>> {
    plan.segments().iter().map(|s| s.map_range()).collect()
}

/// Plans the interpreter `image` (at `path`, its file's `node`) beside the program `program`.
fn place(path: &str, program: &LoadPlan, image: FileBytes, node: Option<Arc<Node>>) -> Interp {
    match plan_interp(program, &image) {
        Ok(plan) => Interp::Ready {
            image,
            plan: Box::new(plan),
            node,
        },
        Err(why) => Interp::Doomed(format!("its interpreter {path}: {why}")),
    }
}

fn plan_interp(program: &LoadPlan, image: &[u8]) -> Result<LoadPlan, String> {
    // Planned once wherever it passes, to learn its span, then again where it goes.
    let provisional = Options {
        bias_for_pie: MMAP_FLOOR,
        user_top: MMAP_CEILING,
        ..Options::default()
    };
    let first = k42_elf::plan(image, &provisional).map_err(|e| format!("{e}"))?;
    let taken = taken(program);
    let plan = match first.kind {
        Kind::Pie => {
            let bias = exec_layout::interp_bias(
                MMAP_FLOOR,
                &first.map_bounds(),
                &taken,
                MMAP_FLOOR,
                MMAP_CEILING,
            )
            .ok_or_else(|| format!("no room for it: {}", Errno::ENOMEM))?;
            k42_elf::plan(
                image,
                &Options {
                    bias_for_pie: bias,
                    ..provisional
                },
            )
            .map_err(|e| format!("{e}"))?
        }
        // Where it is linked, as Linux maps it (MAP_FIXED): it may not land on the program.
        Kind::Exec => first,
    };
    for seg in plan.segments() {
        let range = seg.map_range();
        if !mem::program_may_use(range.start, range.end)
            || taken.iter().any(|t| exec_layout::overlaps(t, &range))
        {
            return Err(format!(
                "segment {:#x}..{:#x} is not free: {}",
                range.start,
                range.end,
                Errno::ENOMEM
            ));
        }
        if seg.file_bytes(image).is_none() {
            return Err(format!(
                "a segment's bytes are not in the file: {}",
                Errno::EINVAL
            ));
        }
    }
    Ok(plan)
}
