//! Loading native K42 programs: `/k42/bin/NAME` from the initramfs, planned and checked by
//! `k42-elf` (a static ELF executable; anything malformed is refused, never trusted), into a new
//! process with one stopped dispatcher whose first entry carries the registers
//! `k42_abi::kernel::first_entry` describes. Linux programs are loaded by the Linux personality
//! in user space instead (issue #4); the kernel only ever loads native images. A Linux process
//! ([`ProcessKind::Linux`]) is one whose native image is the personality, which must then lie
//! wholly in `[PERSONALITY_BASE, PERSONALITY_LIMIT)`: that range is how the kernel tells the
//! personality's kernel calls from the program's Linux `syscall`s (`kcall/reflect.rs`).

use alloc::format;
use alloc::sync::Arc;
use core::ops::Range;

use k42_abi::kernel::{
    COMM_DISPATCHER_BITS, DISPATCHER_PAGE_BASE, INITIAL_STACK_SIZE, INITIAL_STACK_TOP,
    NATIVE_BIN_DIR, PERSONALITY_BASE, PERSONALITY_LIMIT, comm_id,
};
use k42_hal::user::{PageFrame, USER_TOP, UserFrame, UserGsBase};
use k42_kapi::KError;
use k42_rights::{Rights, XHandle};
use k42_sched::Class;
use k42_vm::Prot;

use crate::dispatcher::{self, Dispatcher, Shared};
use crate::kobj::{self, MemObj, ProcObj};
use crate::process::{Process, Watcher};
use crate::space::{Space, USER_MIN};
use crate::{initramfs, mm};

/// Largest total memory a native program's segments may ask for.
const MAX_IMAGE_BYTES: u64 = 256 * 1024 * 1024;
/// Process ids must leave room for the dispatcher index in a 32-bit scheduler id.
pub const MAX_PID: u64 = 1 << (u32::BITS - COMM_DISPATCHER_BITS);

/// What kind of process `spawn` makes, which decides where its image must lie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessKind {
    /// A native K42 program: anywhere in user space.
    Native,
    /// A Linux process: the image is the Linux personality, and a `syscall` from outside it is
    /// reflected.
    Linux,
}

impl ProcessKind {
    /// Where every segment of the image, and its entry point, must lie.
    pub fn image_range(self) -> Range<u64> {
        match self {
            Self::Native => USER_MIN..USER_TOP,
            Self::Linux => PERSONALITY_BASE..PERSONALITY_LIMIT,
        }
    }
}

/// A process made by `spawn`, not started.
pub struct Spawned {
    /// Its first dispatcher's CommID.
    pub comm: u64,
    /// The spawner's handle on it (every right).
    pub handle: XHandle,
    /// Its first dispatcher, for its CPU.
    pub dispatcher: Dispatcher,
}

/// Makes a dispatcher of `process` on `cpu` whose page is mapped at `page_addr`, stopped, to
/// start with `first`; registers it.
pub fn new_dispatcher(
    process: &Arc<Process>,
    comm: u64,
    cpu: usize,
    page_addr: u64,
    first: UserFrame,
) -> Result<Dispatcher, KError> {
    let gs_base = UserGsBase::new(page_addr).ok_or(KError::BadArgument)?;
    let page = mm::with_frames(PageFrame::alloc).ok_or(KError::NoMemory)?;
    let mapped = process
        .with_space(|s| s.map_kernel_page(page_addr, &page).map(|()| s.root()))
        .ok_or(KError::WrongState)
        .and_then(|r| r);
    let root = match mapped {
        Ok(root) => root,
        Err(e) => {
            mm::with_frames(|f| page.free(f));
            return Err(e);
        }
    };
    let shared = Arc::new(Shared::new(comm, cpu, process.clone(), page, page_addr));
    dispatcher::register(shared.clone());
    process.dispatchers.lock().push(comm);
    process.dispatcher_added();
    Ok(Dispatcher::new(shared, process.class, first, root, gs_base))
}

fn prot_of(p: k42_elf::Prot) -> Prot {
    let mut prot = Prot::NONE;
    for (elf, vm) in [
        (k42_elf::Prot::READ, Prot::READ),
        (k42_elf::Prot::WRITE, Prot::WRITE),
        (k42_elf::Prot::EXEC, Prot::EXEC),
    ] {
        if p.contains(elf) {
            prot |= vm;
        }
    }
    prot
}

/// Builds `name`'s memory from its ELF image, which must lie in `range`; returns the space and
/// the entry point.
fn load_image(name: &str, range: &Range<u64>) -> Result<(Space, u64), KError> {
    let path = format!("{NATIVE_BIN_DIR}/{name}");
    let bytes = initramfs::file(&path).ok_or(KError::NotFound)?;
    let options = k42_elf::Options {
        bias_for_pie: 0,
        user_top: USER_TOP,
        min_addr: USER_MIN,
        max_segments: k42_elf::MAX_SEGMENTS,
        max_total_mem: MAX_IMAGE_BYTES,
    };
    let plan = k42_elf::plan(bytes, &options).map_err(|e| {
        log::warn!("{path}: not a loadable native program: {e}");
        KError::BadExecutable
    })?;
    if plan.kind != k42_elf::Kind::Exec || plan.interp.is_some() {
        log::warn!("{path}: native programs are static ET_EXEC images");
        return Err(KError::BadExecutable);
    }
    let outside = plan
        .segments()
        .iter()
        .map(|seg| seg.map_range())
        .find(|map| map.start < range.start || map.end > range.end);
    if let Some(map) = outside {
        log::warn!(
            "{path}: segment [{:#x}, {:#x}) lies outside [{:#x}, {:#x}), where this image must be",
            map.start,
            map.end,
            range.start,
            range.end
        );
        return Err(KError::BadExecutable);
    }
    if !range.contains(&plan.entry) {
        log::warn!(
            "{path}: entry point {:#x} lies outside [{:#x}, {:#x}), where this image must be",
            plan.entry,
            range.start,
            range.end
        );
        return Err(KError::BadExecutable);
    }
    let mut space = Space::new()?;
    for seg in plan.segments() {
        let prot = prot_of(seg.prot());
        if prot.violates_wx() {
            log::warn!("{path}: a segment is both writable and executable");
            space.destroy();
            return Err(KError::BadExecutable);
        }
        let map = seg.map_range();
        let loaded = space
            .map_anon(map.start, map.end - map.start, prot)
            .and_then(|()| {
                let file = seg.file_bytes(bytes).ok_or(KError::BadExecutable)?;
                space.load_bytes(seg.copy_range().start, file)
            });
        if let Err(e) = loaded {
            log::warn!(
                "{path}: segment at {:#x} cannot be loaded: {e:?}",
                seg.vaddr()
            );
            space.destroy();
            return Err(e);
        }
    }
    let stack = space.map_anon(
        INITIAL_STACK_TOP - INITIAL_STACK_SIZE,
        INITIAL_STACK_SIZE,
        Prot::RW,
    );
    if let Err(e) = stack {
        space.destroy();
        return Err(e);
    }
    Ok((space, plan.entry))
}

/// Loads `/k42/bin/NAME` into a new stopped process of `class` and `kind` whose first
/// dispatcher will run on `cpu`; `spawner` (a process id, and its dispatcher to tell of the
/// exit) gets a handle on it with every right. `spawner` 0 is the kernel itself (the bootstrap
/// task).
pub fn spawn(
    name: &str,
    class: Class,
    kind: ProcessKind,
    args: [u64; 2],
    spawner: u64,
    spawner_comm: u64,
    cpu: usize,
) -> Result<Spawned, KError> {
    let (space, entry) = load_image(name, &kind.image_range())?;
    let process = Process::create(name, class, space, kind == ProcessKind::Linux);
    let fail = |process: &Arc<Process>, e: KError| {
        if let Some(space) = process.space.lock().take() {
            space.destroy();
        }
        crate::process::forget(process.pid);
        // Under the Boot table's lock (`Boot::spawn`): the Boot table is not touched.
        kobj::forget_spawned(process.pid);
        e
    };
    if process.pid >= MAX_PID {
        return Err(fail(&process, KError::Full));
    }
    let own = kobj::insert_process(
        ProcObj(process.clone()),
        process.pid,
        Rights::READ | Rights::WRITE | Rights::DESTROY,
    )
    .and_then(|own| {
        let memory = kobj::insert_memory(MemObj(process.clone()), process.pid, Rights::WRITE)?;
        let theirs = kobj::insert_process(ProcObj(process.clone()), spawner, Rights::all())?;
        Ok((own, memory, theirs))
    });
    let (own, memory, theirs) = own.map_err(|e| fail(&process, e))?;
    let comm = comm_id(process.pid, 0);
    if spawner != 0 {
        *process.watcher.lock() = Some(Watcher {
            comm: spawner_comm,
            handle: theirs.to_word(),
        });
    }
    let mut first = UserFrame::new_user(entry, INITIAL_STACK_TOP);
    (first.rdi, first.rsi, first.rdx) = (own.to_word(), memory.to_word(), comm);
    (first.rcx, first.r8, first.r9) = (args[0], args[1], DISPATCHER_PAGE_BASE);
    let dispatcher = new_dispatcher(&process, comm, cpu, DISPATCHER_PAGE_BASE, first)
        .map_err(|e| fail(&process, e))?;
    log::debug!(
        "loaded {name} as pid {} (CommID {comm:#x}){}",
        process.pid,
        if process.linux {
            ", a Linux process"
        } else {
            ""
        }
    );
    Ok(Spawned {
        comm,
        handle: theirs,
        dispatcher,
    })
}
