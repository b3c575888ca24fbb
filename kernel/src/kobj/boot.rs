//! The Boot object (`k42_kapi::Boot`): the bootstrap's authority to start programs from the
//! initramfs — native ones, and Linux processes under the personality (`spawn_linux`) — read
//! the run's argv, the counters and (until the file server exists) the initramfs's files, and
//! end the run. The kernel gives it to the bootstrap task only; the bootstrap may give access to
//! others (with at most its rights).

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use k42_kapi::{KError, file_kind, read_window};
use k42_rights::Badge;
use k42_sched::Class;

use super::{Effect, effect};
use crate::loader::ProcessKind;

/// The argv of a run whose runner named no program: `k42_abi::runner::INTERACTIVE_SHELL` and
/// its NUL, as the argv file would hold it.
const INTERACTIVE_ARGV: [u8; k42_abi::runner::INTERACTIVE_SHELL.len() + 1] = {
    let shell = k42_abi::runner::INTERACTIVE_SHELL.as_bytes();
    let mut argv = [0u8; k42_abi::runner::INTERACTIVE_SHELL.len() + 1];
    let mut i = 0;
    while i < shell.len() {
        argv[i] = shell[i];
        i += 1;
    }
    argv
};

/// Longest program name `spawn` takes.
const MAX_NAME: u64 = 64;
/// Longest path `read_file` takes (Linux's PATH_MAX, the terminating NUL included there).
const MAX_PATH: u64 = 4096;

/// The bootstrap's authority, as a kernel object.
#[derive(Clone)]
pub struct BootObj;

/// The CPU a spawn names: `SAME_CPU` is the caller's.
fn spawn_cpu(cpu: u32) -> Result<usize, KError> {
    if cpu == k42_kapi::SAME_CPU {
        Ok(crate::cpu::this().index)
    } else if crate::cpu::get(cpu as usize).is_some() {
        Ok(cpu as usize)
    } else {
        Err(KError::BadArgument)
    }
}

/// The caller's `len` bytes at `addr`.
fn copy_from_caller(caller: Badge, addr: u64, len: u64) -> Result<Vec<u8>, KError> {
    let mut buf = vec![0u8; len as usize];
    let from = crate::process::lookup(caller.0).ok_or(KError::WrongState)?;
    from.with_space(|s| s.copy_in(addr, &mut buf))
        .ok_or(KError::WrongState)??;
    Ok(buf)
}

/// Copies `window` of `content` (clipped by `k42_kapi::read_window`) to the caller's memory at
/// `addr`.
fn copy_to_caller(
    caller: Badge,
    addr: u64,
    content: &[u8],
    window: core::ops::Range<u64>,
) -> Result<(), KError> {
    if window.is_empty() {
        return Ok(());
    }
    let bytes = content
        .get(window.start as usize..window.end as usize)
        .ok_or(KError::BadArgument)?;
    let to = crate::process::lookup(caller.0).ok_or(KError::WrongState)?;
    to.with_space(|s| s.copy_out(addr, bytes))
        .ok_or(KError::WrongState)?
}

/// Loads `/k42/bin/NAME` as a process of `kind` for the caller, and queues its dispatcher.
fn spawn_for(
    caller: Badge,
    name: &str,
    class: Class,
    kind: ProcessKind,
    args: [u64; 2],
    cpu: u32,
) -> Result<(u64, u64), KError> {
    let cpu = spawn_cpu(cpu)?;
    let spawned = crate::loader::spawn(
        name,
        class,
        kind,
        args,
        caller.0,
        super::calling_comm(),
        cpu,
    )?;
    effect(Effect::Add(alloc::boxed::Box::new(spawned.dispatcher)));
    Ok((spawned.comm, spawned.handle.to_word()))
}

impl k42_kapi::Boot for BootObj {
    #[allow(clippy::too_many_arguments)] // the interface's six argument words
    fn spawn(
        &mut self,
        caller: Badge,
        name_addr: u64,
        name_len: u64,
        class: u8,
        arg0: u64,
        arg1: u64,
        cpu: u32,
    ) -> Result<(u64, u64), KError> {
        if name_len == 0 || name_len > MAX_NAME {
            return Err(KError::BadArgument);
        }
        let class = match class {
            k42_kapi::class::SYSTEM => Class::System,
            k42_kapi::class::APPLICATION => Class::Application,
            _ => return Err(KError::BadArgument),
        };
        let name = copy_from_caller(caller, name_addr, name_len)?;
        let name = String::from_utf8(name).map_err(|_| KError::BadArgument)?;
        if name.contains('/') || name.starts_with('.') {
            return Err(KError::BadArgument);
        }
        spawn_for(caller, &name, class, ProcessKind::Native, [arg0, arg1], cpu)
    }

    fn shutdown(&mut self, _caller: Badge, status: u32) -> Result<(), KError> {
        effect(Effect::Shutdown(status));
        Ok(())
    }

    fn counter(&self, _caller: Badge, which: u32, cpu: u32) -> Result<u64, KError> {
        crate::cpu::get(cpu as usize)
            .and_then(|c| c.counter(which))
            .ok_or(KError::BadArgument)
    }

    fn time_kernel(&self, _caller: Badge, on: bool) -> Result<(), KError> {
        crate::entry::time_kernel(on);
        Ok(())
    }

    fn cpus(&self, _caller: Badge) -> Result<u32, KError> {
        Ok(crate::cpu::count() as u32)
    }

    fn argv(&self, caller: Badge, addr: u64, len: u64) -> Result<u64, KError> {
        // No argv file: the runner named no program, and the run is the interactive shell.
        let argv = crate::initramfs::argv_bytes().unwrap_or(&INTERACTIVE_ARGV);
        let size = argv.len() as u64;
        copy_to_caller(caller, addr, argv, read_window(size, 0, len))?;
        Ok(size)
    }

    fn spawn_linux(
        &mut self,
        caller: Badge,
        arg0: u64,
        arg1: u64,
        cpu: u32,
    ) -> Result<(u64, u64), KError> {
        spawn_for(
            caller,
            k42_kapi::PERSONALITY_PROGRAM,
            Class::Application,
            ProcessKind::Linux,
            [arg0, arg1],
            cpu,
        )
    }

    fn read_file(
        &self,
        caller: Badge,
        path_addr: u64,
        path_len: u64,
        offset: u64,
        buf_addr: u64,
        buf_len: u64,
    ) -> Result<(u64, u64), KError> {
        if path_len == 0 || path_len > MAX_PATH {
            return Err(KError::BadArgument);
        }
        let path = copy_from_caller(caller, path_addr, path_len)?;
        let path = core::str::from_utf8(&path).map_err(|_| KError::BadArgument)?;
        if !path.starts_with('/') {
            return Err(KError::BadArgument);
        }
        let node = crate::initramfs::tree()
            .and_then(|t| t.lookup(path))
            .ok_or(KError::NotFound)?;
        let (kind, content): (u64, &[u8]) = match &node.kind {
            k42_cpio::NodeKind::File(data) => (file_kind::REGULAR, data),
            k42_cpio::NodeKind::Symlink(target) => (file_kind::SYMLINK, target.as_bytes()),
            k42_cpio::NodeKind::Dir(_) => (file_kind::DIRECTORY, &[]),
            // Devices, FIFOs and sockets are the servers' to present, not files to read.
            _ => return Err(KError::NotFound),
        };
        let size = content.len() as u64;
        copy_to_caller(
            caller,
            buf_addr,
            content,
            read_window(size, offset, buf_len),
        )?;
        Ok((kind, size))
    }

    fn read_initramfs(
        &self,
        caller: Badge,
        offset: u64,
        buf_addr: u64,
        buf_len: u64,
    ) -> Result<u64, KError> {
        let archive = crate::initramfs::archive();
        let size = archive.len() as u64;
        copy_to_caller(
            caller,
            buf_addr,
            archive,
            read_window(size, offset, buf_len),
        )?;
        Ok(size)
    }

    fn memory(&self, _caller: Badge) -> Result<(u64, u64), KError> {
        let (total, free) = crate::mm::with_frames(|f| (f.total_frames(), f.free_frames()));
        let bytes = |frames: usize| frames as u64 * k42_hal::layout::PAGE_SIZE;
        Ok((bytes(total), bytes(free)))
    }
}
