//! The Process object (`k42_kapi::Process`): start, I/O-port grants, logging, exit, ids, more
//! dispatchers, fork, and job control's stop and continue (`jobstop.rs`). Its spawner holds
//! it with every right, the process itself without CONTROL.

use alloc::string::String;
use alloc::vec;
use core::sync::atomic::Ordering;

use k42_abi::kernel::{DISPATCHER_PAGE_BASE, comm_id};
use k42_kapi::KError;
use k42_rights::Badge;

use super::{Effect, ProcessRef, effect};
use crate::process::Life;

/// Longest line `log` takes.
const MAX_LOG_LINE: u64 = 512;
/// Most dispatchers one process may have (one per CPU).
const MAX_DISPATCHERS: usize = 64;
/// Bytes of a dispatcher page.
const PAGE: u64 = 4096;

/// A process, as a kernel object.
#[derive(Clone)]
pub struct ProcObj(pub ProcessRef);

impl k42_kapi::Process for ProcObj {
    fn start(&mut self, _caller: Badge) -> Result<(), KError> {
        let mut life = self.0.life.lock();
        if *life != Life::Stopped {
            return Err(KError::WrongState);
        }
        *life = Life::Running;
        effect(Effect::Start(self.0.pid));
        Ok(())
    }

    fn grant_io_ports(&mut self, _caller: Badge, first: u16, count: u16) -> Result<(), KError> {
        if count == 0 || u32::from(first) + u32::from(count) > u32::from(u16::MAX) + 1 {
            return Err(KError::BadArgument);
        }
        self.0.grant_io_ports(first, count);
        Ok(())
    }

    fn log(&mut self, caller: Badge, addr: u64, len: u64) -> Result<(), KError> {
        let len = len.min(MAX_LOG_LINE) as usize;
        let mut buf = vec![0u8; len];
        let from = crate::process::lookup(caller.0).ok_or(KError::WrongState)?;
        from.with_space(|s| s.copy_in(addr, &mut buf))
            .ok_or(KError::WrongState)??;
        let text = String::from_utf8_lossy(&buf);
        log::info!("[{} {}] {}", self.0.name, self.0.pid, text.trim_end());
        Ok(())
    }

    fn exit(&mut self, _caller: Badge, status: u32) -> Result<(), KError> {
        effect(Effect::Exit(self.0.pid, status));
        Ok(())
    }

    fn stop(&mut self, _caller: Badge) -> Result<u64, KError> {
        let was = self.0.job_stopped.swap(true, Ordering::AcqRel);
        // Even when it was stopped already: the call returns only once the stop has taken
        // effect on every CPU, whoever asked first.
        effect(Effect::Stop(self.0.pid));
        Ok(u64::from(!was))
    }

    fn cont(&mut self, _caller: Badge) -> Result<u64, KError> {
        let was = self.0.job_stopped.swap(false, Ordering::AcqRel);
        if was {
            effect(Effect::Continue(self.0.pid));
        }
        Ok(u64::from(was))
    }

    fn fork_origin(&self, _caller: Badge) -> Result<(u64, u64), KError> {
        let parent = self.0.fork.lock().as_ref().map(|f| f.parent);
        parent
            .map(|parent| (self.0.pid, parent))
            .ok_or(KError::WrongState)
    }

    fn ids(&self, _caller: Badge) -> Result<(u64, u64), KError> {
        let first = self
            .0
            .dispatchers
            .lock()
            .first()
            .copied()
            .ok_or(KError::WrongState)?;
        Ok((self.0.pid, first))
    }

    fn add_dispatcher(
        &mut self,
        _caller: Badge,
        cpu: u32,
        rip: u64,
        rsp: u64,
    ) -> Result<u64, KError> {
        let cpu = cpu as usize;
        if crate::cpu::get(cpu).is_none() {
            return Err(KError::BadArgument);
        }
        let index = {
            let comms = self.0.dispatchers.lock();
            if comms.len() >= MAX_DISPATCHERS {
                return Err(KError::Full);
            }
            let taken = comms
                .iter()
                .filter_map(|&c| crate::dispatcher::lookup(c))
                .any(|s| s.cpu == cpu);
            if taken {
                return Err(KError::Exists);
            }
            comms.len() as u64
        };
        let comm = comm_id(self.0.pid, index);
        let page_addr = DISPATCHER_PAGE_BASE + index * PAGE;
        let mut first = k42_hal::user::UserFrame::new_user(rip, rsp);
        (first.rdi, first.rsi) = (page_addr, comm);
        let d = crate::loader::new_dispatcher(&self.0, comm, cpu, page_addr, first)?;
        effect(Effect::Add(alloc::boxed::Box::new(d)));
        if *self.0.life.lock() == Life::Running {
            effect(Effect::Start(self.0.pid));
        }
        Ok(comm)
    }

    fn fork_from_caller(
        &mut self,
        caller: Badge,
        rip: u64,
        rsp: u64,
        arg: u64,
    ) -> Result<u64, KError> {
        let cpu = crate::cpu::fork_child_cpu(crate::cpu::this().index);
        let (comm, d) = crate::fork::fork_into(&self.0, caller.0, cpu, (rip, rsp, arg))?;
        // The caller's writable pages are now shared and mapped read-only: every CPU running
        // it forgets the old entries (this one did, page by page, as it changed them).
        if let Some(parent) = crate::process::lookup(caller.0) {
            crate::tlb::shootdown(crate::tlb::cpus_of(&parent));
        }
        effect(Effect::AddForked(alloc::boxed::Box::new(d)));
        Ok(comm)
    }
}
