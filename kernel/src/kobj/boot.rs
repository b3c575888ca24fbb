//! The Boot object (`k42_kapi::Boot`): the bootstrap's authority to start programs from the
//! initramfs, read the run's argv and counters, and end the run. The kernel gives it to the
//! bootstrap task only; the bootstrap may give access to others (with at most its rights).

use alloc::string::String;
use alloc::vec;

use k42_kapi::KError;
use k42_rights::Badge;
use k42_sched::Class;

use super::{Effect, effect};

/// Longest program name `spawn` takes.
const MAX_NAME: u64 = 64;

/// The bootstrap's authority, as a kernel object.
#[derive(Clone)]
pub struct BootObj;

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
        let cpu = if cpu == k42_kapi::SAME_CPU {
            crate::cpu::this().index
        } else if crate::cpu::get(cpu as usize).is_some() {
            cpu as usize
        } else {
            return Err(KError::BadArgument);
        };
        if name_len == 0 || name_len > MAX_NAME {
            return Err(KError::BadArgument);
        }
        let class = match class {
            k42_kapi::class::SYSTEM => Class::System,
            k42_kapi::class::APPLICATION => Class::Application,
            _ => return Err(KError::BadArgument),
        };
        let mut name = vec![0u8; name_len as usize];
        let from = crate::process::lookup(caller.0).ok_or(KError::WrongState)?;
        from.with_space(|s| s.copy_in(name_addr, &mut name))
            .ok_or(KError::WrongState)??;
        let name = String::from_utf8(name).map_err(|_| KError::BadArgument)?;
        if name.contains('/') || name.starts_with('.') {
            return Err(KError::BadArgument);
        }
        let spawned = crate::loader::spawn(
            &name,
            class,
            [arg0, arg1],
            caller.0,
            super::calling_comm(),
            cpu,
        )?;
        effect(Effect::Add(alloc::boxed::Box::new(spawned.dispatcher)));
        Ok((spawned.comm, spawned.handle.to_word()))
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

    fn cpus(&self, _caller: Badge) -> Result<u32, KError> {
        Ok(crate::cpu::count() as u32)
    }

    fn argv(&self, caller: Badge, addr: u64, len: u64) -> Result<u64, KError> {
        let argv = crate::initramfs::argv_bytes().unwrap_or(&[]);
        let n = argv.len().min(len as usize);
        let to = crate::process::lookup(caller.0).ok_or(KError::WrongState)?;
        to.with_space(|s| s.copy_out(addr, &argv[..n]))
            .ok_or(KError::WrongState)??;
        Ok(argv.len() as u64)
    }
}
