//! The kernel as a server: its objects (`k42_kapi`: Boot, Process, Memory, Image) in XObject
//! tables, one per interface, each behind its own lock, and every call through the dispatch the
//! `k42_idl` macro generated from the interface — the same handle lookup and matched/unmatched
//! rights check any user-level server runs. The badge is the kernel's own stamp of the caller.
//!
//! A kernel handle carries its interface in its index (`k42_kapi::kernel_handle`), so a call —
//! including the generic give-access and release every object answers — finds its table.
//!
//! Methods never touch the scheduler: what a call changes there (a process started, exited, a
//! dispatcher added, the run ended) is an [`Effect`] the method records, and the kernel call
//! carries it out after the reply is in registers, with no table lock held.

mod boot;
mod image;
mod memory;
mod process;

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use k42_hal::user::UserFrame;
use k42_kapi::{
    BOOT_INTERFACE, BootServer, IMAGE_INTERFACE, ImageServer, KERNEL_TABLE_SLOTS, MEMORY_INTERFACE,
    MemoryServer, PROCESS_INTERFACE, ProcessServer, kernel_handle, split_kernel_handle,
};
use k42_rights::wire::{ARG_WORDS, DispatchError, Reply, meta, split_method_word};
use k42_rights::{Badge, RightsError, XHandle, XObjectTable};
use spin::Mutex;

pub use boot::BootObj;
pub use image::ImageObj;
pub use memory::MemObj;
pub use process::ProcObj;

use crate::cpu::Cpu;
use crate::dispatcher::Dispatcher;
use crate::switch::{self, Origin};

/// What a kernel object call changes outside its own object, carried out after the reply.
pub enum Effect {
    /// Put a new (stopped) dispatcher on its CPU.
    Add(Box<Dispatcher>),
    /// Put a fork child's first dispatcher on its CPU, once its own Memory handle is made
    /// (`fork::own_memory`: a table insertion the fork's method could not make under its own
    /// table's lock).
    AddForked(Box<Dispatcher>),
    /// Start the process's dispatchers.
    Start(u64),
    /// End the process with this status.
    Exit(u64, u32),
    /// Stop the process (job control) on every CPU; the caller waits until it is.
    Stop(u64),
    /// Continue the stopped process.
    Continue(u64),
    /// End the run with this status.
    Shutdown(u32),
}

/// The caller of the kernel object call in progress on each CPU, and its effects.
pub struct CallCx {
    /// The calling dispatcher's CommID.
    pub comm: u64,
    /// Effects recorded so far.
    pub effects: Vec<Effect>,
}

static BOOT: Mutex<XObjectTable<BootObj>> =
    Mutex::new(XObjectTable::with_limit(KERNEL_TABLE_SLOTS));
static PROCESSES: Mutex<XObjectTable<ProcObj>> =
    Mutex::new(XObjectTable::with_limit(KERNEL_TABLE_SLOTS));
static MEMORY: Mutex<XObjectTable<MemObj>> =
    Mutex::new(XObjectTable::with_limit(KERNEL_TABLE_SLOTS));
static IMAGES: Mutex<XObjectTable<ImageObj>> =
    Mutex::new(XObjectTable::with_limit(KERNEL_TABLE_SLOTS));

/// Records an effect of the call in progress on this CPU.
pub fn effect(e: Effect) {
    crate::cpu::this().call.lock().effects.push(e);
}

/// The CommID of the dispatcher making the call in progress on this CPU.
pub fn calling_comm() -> u64 {
    crate::cpu::this().call.lock().comm
}

/// Serves one call on a kernel object: returns the reply and the effects to carry out.
pub fn call(
    badge: u64,
    comm: u64,
    handle: u64,
    method: u64,
    args: &[u64; ARG_WORDS],
) -> (Reply, Vec<Effect>) {
    {
        let mut cx = crate::cpu::this().call.lock();
        cx.comm = comm;
        cx.effects.clear();
    }
    let badge = Badge(badge);
    let (interface, local) = split_kernel_handle(XHandle::from_word(handle));
    let is_meta = split_method_word(method).0 == meta::META_INTERFACE;
    let reply = match interface {
        BOOT_INTERFACE => {
            serve::<BootServer<BootObj>, _>(&BOOT, badge, local, method, args, is_meta)
        }
        PROCESS_INTERFACE => {
            serve::<ProcessServer<ProcObj>, _>(&PROCESSES, badge, local, method, args, is_meta)
        }
        MEMORY_INTERFACE => {
            serve::<MemoryServer<MemObj>, _>(&MEMORY, badge, local, method, args, is_meta)
        }
        IMAGE_INTERFACE => {
            serve::<ImageServer<ImageObj>, _>(&IMAGES, badge, local, method, args, is_meta)
        }
        _ => Err(DispatchError::Rights(RightsError::NoSuchHandle(
            XHandle::from_word(handle),
        ))),
    };
    // A new handle from give-access names its table too.
    let reply = match (is_meta, reply) {
        (true, Ok(mut words)) if split_method_word(method).1 == meta::GIVE_ACCESS => {
            words[0] = kernel_handle(interface, XHandle::from_word(words[0])).to_word();
            Ok(words)
        }
        (_, reply) => reply,
    };
    let effects = core::mem::take(&mut crate::cpu::this().call.lock().effects);
    (reply, effects)
}

fn serve<I, T>(
    table: &Mutex<XObjectTable<T>>,
    badge: Badge,
    local: XHandle,
    method: u64,
    args: &[u64; ARG_WORDS],
    is_meta: bool,
) -> Reply
where
    I: k42_rights::wire::Interface<Target = T>,
    T: Clone,
{
    let mut table = table.lock();
    if is_meta {
        meta::dispatch(&mut table, badge, local, method, args)
    } else {
        I::dispatch(&mut table, badge, local, method, args)
    }
}

/// Inserts a process entry; returns the kernel handle.
pub fn insert_process(
    target: ProcObj,
    owner: u64,
    rights: k42_rights::Rights,
) -> Result<XHandle, k42_kapi::KError> {
    PROCESSES
        .lock()
        .insert(target, Badge(owner), rights, k42_rights::Rights::NONE)
        .map(|h| kernel_handle(PROCESS_INTERFACE, h))
        .map_err(|_| k42_kapi::KError::Full)
}

/// Inserts a memory entry; returns the kernel handle.
pub fn insert_memory(
    target: MemObj,
    owner: u64,
    rights: k42_rights::Rights,
) -> Result<XHandle, k42_kapi::KError> {
    MEMORY
        .lock()
        .insert(target, Badge(owner), rights, k42_rights::Rights::NONE)
        .map(|h| kernel_handle(MEMORY_INTERFACE, h))
        .map_err(|_| k42_kapi::KError::Full)
}

/// Inserts an image entry; returns the kernel handle.
pub fn insert_image(
    target: ImageObj,
    owner: u64,
    rights: k42_rights::Rights,
) -> Result<XHandle, k42_kapi::KError> {
    IMAGES
        .lock()
        .insert(target, Badge(owner), rights, k42_rights::Rights::NONE)
        .map(|h| kernel_handle(IMAGE_INTERFACE, h))
        .map_err(|_| k42_kapi::KError::Full)
}

/// Inserts the bootstrap's Boot object; returns the kernel handle.
pub fn insert_boot(owner: u64) -> Result<XHandle, k42_kapi::KError> {
    BOOT.lock()
        .insert(
            BootObj,
            Badge(owner),
            k42_rights::Rights::all(),
            k42_rights::Rights::NONE,
        )
        .map(|h| kernel_handle(BOOT_INTERFACE, h))
        .map_err(|_| k42_kapi::KError::Full)
}

/// Drops the Process table's entries held by, or naming, process `pid` (a fork child that was
/// never forked into: it has no others).
pub fn forget_process_entries(pid: u64) {
    let mut p = PROCESSES.lock();
    p.release_all_for(Badge(pid));
    p.retain(|_, o| o.target.0.pid != pid);
}

/// Drops every kernel table entry held by, or naming, process `pid` (it ended).
pub fn forget_badge(pid: u64) {
    BOOT.lock().release_all_for(Badge(pid));
    forget_spawned(pid);
}

/// Drops the entries of process `pid` in every table but Boot's: a process a spawn gave up on,
/// under the Boot table's lock (`Boot::spawn`), which holds no Boot entry.
pub fn forget_spawned(pid: u64) {
    let mut p = PROCESSES.lock();
    p.release_all_for(Badge(pid));
    p.retain(|_, o| o.target.0.pid != pid);
    drop(p);
    let mut m = MEMORY.lock();
    m.release_all_for(Badge(pid));
    m.retain(|_, o| o.target.0.pid != pid);
    drop(m);
    // An image outlives its maker while others hold handles on it or map it.
    IMAGES.lock().release_all_for(Badge(pid));
}

/// Carries out one effect of a kernel object call made by the running dispatcher.
pub fn apply(cpu: &mut Cpu, e: Effect, frame: &mut UserFrame) {
    match e {
        Effect::AddForked(mut d) => {
            if let Err(e) = crate::fork::own_memory(&mut d) {
                log::error!(
                    "fork child {} starts without its Memory handle: {e:?}",
                    d.shared.process.pid
                );
            }
            apply(cpu, Effect::Add(d), frame);
        }
        Effect::Add(d) => {
            let target_cpu = d.shared.cpu;
            if target_cpu == cpu.index {
                let comm = d.comm();
                let class = d.class;
                cpu.add_dispatcher(comm, *d);
                if let Err(err) =
                    cpu.sched
                        .add(switch::policy_id(comm), class, k42_sched::Weight::DEFAULT)
                {
                    log::error!("dispatcher {comm:#x} not schedulable: {err:?}");
                }
            } else if let Some(other) = crate::cpu::get(target_cpu) {
                other.post(crate::cpu::Mail::Add(d));
            }
        }
        Effect::Start(pid) => {
            let Some(p) = crate::process::lookup(pid) else {
                return;
            };
            let comms = p.dispatchers.lock().clone();
            for comm in comms {
                start_dispatcher(cpu, comm, frame);
            }
        }
        Effect::Exit(pid, status) => {
            if let Some(p) = crate::process::lookup(pid) {
                crate::entry::exit_process(cpu, &p, status, frame);
            }
        }
        Effect::Stop(pid) => crate::jobstop::stop(cpu, pid, frame),
        Effect::Continue(pid) => crate::jobstop::cont(cpu, pid, frame),
        Effect::Shutdown(status) => crate::run::finish(status),
    }
}

/// Lets a stopped dispatcher run (here, or by mail on its CPU).
pub fn start_dispatcher(cpu: &mut Cpu, comm: u64, frame: &mut UserFrame) {
    let Some(shared) = crate::dispatcher::lookup(comm) else {
        return;
    };
    if shared.cpu == cpu.index {
        switch::start(cpu, comm, frame, Origin::Call);
    } else if let Some(other) = crate::cpu::get(shared.cpu) {
        other.post(crate::cpu::Mail::Start(comm));
    }
}

/// A process's kernel object wrapper target, shared by the Process and Memory tables.
pub type ProcessRef = Arc<crate::process::Process>;
