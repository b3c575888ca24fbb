//! The process server (DESIGN §2.7, issue #4 item 4): the table of Linux processes — pid, parent,
//! process group, session, credentials, umask — and the system's name, served through the
//! `Procs` interface (`k42_ifaces::procs`). Every question is about the caller, found by the
//! badge the kernel stamped on the call, so a process can neither read nor change another's
//! entry by naming it. The spawner (the bootstrap) holds the table with CONTROL and registers
//! each Linux process before it starts; a process registers its forked child itself (`fork`).
//!
//! The tree's rules — zombies, reparenting to init, which child a wait collects, process
//! groups and sessions — are `k42_ptree`'s, host-tested; this file maps badges to them and
//! sends the [`ChildEvent`] notifications (an end, a stop, a continue), the [`SignalEvent`]s of
//! `kill`, of the terminal's input (to its foreground group: the console server calls
//! `terminal_signal`) and of the hang-ups an exit causes (`k42_ptree::job`). It also answers
//! `/proc`'s questions — the pids, one process's facts and threads, the system's counts
//! (`k42_ptree::procsys`) — and keeps each process's command for
//! them (`k42_ptree::procfs`): anyone may ask about anyone, as Linux lets anyone read
//! `/proc/PID/stat`. Credentials change by the setuid family with `k42_ptree::creds`'s
//! rules, decided with the table's record of the caller; each change goes on to the file
//! server ([`tell_files`]), whose permission checks use the new filesystem ids and groups.
//! **Why a loop
//! around the generated dispatch** ([`call`]): the dispatch hands a method its object alone, but two calls need the object
//! table — a `fork` gives the child its own handle (matched to the child's badge, READ), and an
//! `exit` releases every entry of the exiting badge, which the kernel may give to a new process.
//! One call runs at a time (the runtime serves a dispatcher's calls in turn), so [`STATE`]'s
//! lock is never contended.
//!
//! Start-up: `arg0` = the spawner's badge, `arg1` its CommID, whose start-up message brings a
//! `Boot` handle (READ: the memory figures and the CPUs); the table object is made for the spawner as
//! `SPAWNER_HANDLE`.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec;
use alloc::vec::Vec;

use k42_abi::kernel::{PPC_DATA_BYTES, Status, comm_pid};
use k42_ifaces::SPAWNER_HANDLE;
use k42_ifaces::fs::FsClient;
use k42_ifaces::procs::{
    self, ChildEvent, GID_BYTES, GROUPS_MAX, NOTIFY_METHOD, Procs, ProcsMethod, ProcsServer,
    SignalEvent, UTS_FIELD, UTS_FIELDS,
};
use k42_ifaces::start::StartHandles;
use k42_kapi::{BootClient, ProcessClient};
use k42_linux::Errno;
use k42_linux::raw::general as g;
use k42_ptree::procfs::{self, PID_BYTES};
use k42_ptree::{Creds, Family, IdChange, Pid, Proc, Selector, Tree, WaitOptions, WaitStatus};
use k42_rights::wire::meta::dispatch_with_meta;
use k42_rights::wire::{ARG_WORDS, DispatchError, Reply};
use k42_rights::{Badge, Rights, XHandle, XObjectTable};
use k42_rt::server::{set_reply_data, take_call_data};
use k42_rt::sync::FairBLock;
use k42_rt::sys::kcall;
use k42_rt::{Env, KernelPpc, Ppc, clock, log, ring, server};

k42_rt::entry!(main);

/// Exit status when the table object cannot be made as agreed.
const SETUP_FAILED: u32 = 1;
/// The host name until `sethostname`: Linux's when nobody set one.
const DEFAULT_HOSTNAME: &[u8] = b"(none)";
/// `uname`'s fields other than the host name: sysname, release, version, machine, domain.
const SYSNAME: &[u8] = b"Linux";
/// A release new enough for every C library in Debian's archive to accept.
const RELEASE: &[u8] = b"6.1.0-k42";
const VERSION: &[u8] = b"#1 K42 in Rust";
const MACHINE: &[u8] = b"x86_64";
const DOMAIN: &[u8] = b"(none)";
const NS_PER_SEC: u64 = 1_000_000_000;

/// The server's state: the tree (`k42_ptree`), who asked to be notified, and the host name.
struct State {
    tree: Tree,
    /// The dispatcher each process registered for [`ChildEvent`]s (`Procs::notify`), by badge.
    listeners: BTreeMap<u64, u64>,
    /// The handle on each process's kernel `Process` with DESTROY, by badge: how SIGKILL ends
    /// it, and SIGSTOP and SIGCONT stop and continue it ([`Procs::kill`]).
    killers: BTreeMap<u64, XHandle>,
    /// Processes SIGKILL is ending through the kernel, until their end is reaped.
    killed: BTreeSet<u64>,
    hostname: Vec<u8>,
    /// The child badge the running `fork` registered, for the loop to give a handle to.
    forked: Option<u64>,
    /// The badge the running `abandon` or `reap` ended, for the loop to release its entries.
    ended: Option<u64>,
}

static STATE: FairBLock<State> = FairBLock::new(State {
    tree: Tree::new(),
    listeners: BTreeMap::new(),
    killers: BTreeMap::new(),
    killed: BTreeSet::new(),
    hostname: Vec::new(),
    forked: None,
    ended: None,
});

/// The object every handle names (the one table).
#[derive(Clone, Copy)]
struct Root;

/// Runs `f` on the caller's entry (`ESRCH` for a badge not registered).
fn with_caller<R>(caller: Badge, f: impl FnOnce(&Proc) -> R) -> Result<R, Errno> {
    STATE.lock().tree.by_badge(caller.0).map(f)
}

/// A pid_t argument, sign-extended to a word by the client, back as the signed value.
fn signed(word: u64) -> i64 {
    word as i64
}

/// A C int argument: the low half of its word.
fn c_int(word: u64) -> i32 {
    word as u32 as i32
}

/// The CPUs the kernel runs (`Boot::cpus`), asked once: they do not come and go. 0 when the
/// server has no `Boot` handle (`main` keeps the one the spawner sent before serving).
fn kernel_cpus() -> Result<u32, Errno> {
    static CPUS: spin::Once<u32> = spin::Once::new();
    if let Some(&n) = CPUS.get() {
        return Ok(n);
    }
    let n = match BOOT.get() {
        Some(&boot) => BootClient::new(KernelPpc, boot)
            .cpus()
            .map_err(|_| Errno::EIO)?,
        None => 0,
    };
    Ok(*CPUS.call_once(|| n))
}

/// The CPUs a process may run on, for the scheduling calls: [`kernel_cpus`], at least 1.
fn cpus() -> Result<u32, Errno> {
    kernel_cpus().map(|n| n.max(1))
}

/// A pid argument of `getpgid`/`getsid` (0: the caller); a negative one names no process.
fn pid_arg(word: u64) -> Result<Pid, Errno> {
    Pid::try_from(signed(word)).map_err(|_| Errno::ESRCH)
}

impl Procs for Root {
    fn register(
        &mut self,
        _caller: Badge,
        badge: u64,
        parent: u64,
        uid: u64,
        gid: u64,
        kill: u64,
    ) -> Result<u64, Errno> {
        let id = |w: u64| u32::try_from(w).map_err(|_| Errno::EINVAL);
        let mut state = STATE.lock();
        let pid = state
            .tree
            .register(badge, parent, Creds::new(id(uid)?, id(gid)?))?;
        state.tree.started(pid, clock::now_ns());
        state.keep_killer(badge, kill);
        Ok(pid)
    }

    fn ids(&self, caller: Badge) -> Result<(u64, u64, u64, u64), Errno> {
        with_caller(caller, |p| (p.pid, p.ppid, p.pgid, p.sid))
    }

    fn creds(&self, caller: Badge) -> Result<(u64, u64, u64, u64), Errno> {
        with_caller(caller, |p| {
            let c = p.creds;
            (c.uid.into(), c.euid.into(), c.gid.into(), c.egid.into())
        })
    }

    fn resids(&self, caller: Badge, family: u64) -> Result<(u64, u64, u64, u64), Errno> {
        let family = Family::from_word(family)?;
        let ids = with_caller(caller, |p| p.creds.ids(family))?;
        Ok((
            ids.real.into(),
            ids.effective.into(),
            ids.saved.into(),
            ids.fs.into(),
        ))
    }

    fn set_ids(
        &mut self,
        caller: Badge,
        family: u64,
        kind: u64,
        a: u64,
        b: u64,
        c: u64,
    ) -> Result<(u64, u64, u64), Errno> {
        let family = Family::from_word(family)?;
        let change = IdChange::from_words(kind, [a, b, c])?;
        let (before, (after, value)) = {
            let mut state = STATE.lock();
            let before = record(&state, caller.0)?;
            (before, state.tree.change_ids(caller.0, family, change)?)
        };
        if after != before.0 {
            commit(caller.0, before)?;
        }
        let ids = after.ids(family);
        Ok((value.into(), ids.real.into(), ids.effective.into()))
    }

    fn set_groups(&mut self, caller: Badge, count: u64) -> Result<(), Errno> {
        let data = take_call_data();
        let list: Vec<u32> = data
            .chunks_exact(GID_BYTES)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        // A count past any list is refused by the rules all the same.
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        let before = {
            let mut state = STATE.lock();
            let before = record(&state, caller.0)?;
            state
                .tree
                .set_groups(caller.0, count, Some(&list), GROUPS_MAX)?;
            before
        };
        commit(caller.0, before)
    }

    fn groups(&self, caller: Badge, pid: u64) -> Result<u64, Errno> {
        let groups = STATE.lock().tree.groups(caller.0, pid_arg(pid)?)?.to_vec();
        let bytes: Vec<u8> = groups.iter().flat_map(|g| g.to_le_bytes()).collect();
        set_reply_data(bytes).map_err(|_| Errno::EIO)?;
        Ok(groups.len() as u64)
    }

    fn executed(&mut self, caller: Badge) -> Result<(), Errno> {
        let (before, after) = {
            let mut state = STATE.lock();
            let before = record(&state, caller.0)?;
            (before, state.tree.executed(caller.0)?)
        };
        if after != before.0 {
            commit(caller.0, before)?;
        }
        Ok(())
    }

    fn attach_fs(&mut self, _caller: Badge, comm: u64, handle: u64) -> Result<(), Errno> {
        FILES.call_once(|| (comm, XHandle::from_word(handle)));
        Ok(())
    }

    fn umask(&mut self, caller: Badge, new: u64, set: u64) -> Result<u64, Errno> {
        STATE.lock().tree.umask(caller.0, (set != 0).then_some(new))
    }

    fn uname(&self, caller: Badge) -> Result<(), Errno> {
        let hostname = {
            let state = STATE.lock();
            state.tree.by_badge(caller.0)?;
            match state.hostname.is_empty() {
                true => DEFAULT_HOSTNAME.to_vec(),
                false => state.hostname.clone(),
            }
        };
        let mut buf = vec![0u8; UTS_FIELD * UTS_FIELDS];
        let fields: [&[u8]; UTS_FIELDS] = [SYSNAME, &hostname, RELEASE, VERSION, MACHINE, DOMAIN];
        for (i, field) in fields.iter().enumerate() {
            let n = field.len().min(UTS_FIELD - 1);
            buf[i * UTS_FIELD..i * UTS_FIELD + n].copy_from_slice(&field[..n]);
        }
        set_reply_data(buf).map_err(|_| Errno::EIO)
    }

    fn sethostname(&mut self, caller: Badge) -> Result<(), Errno> {
        let euid = with_caller(caller, |p| p.creds.euid)?;
        if euid != 0 {
            return Err(Errno::EPERM);
        }
        let name = take_call_data();
        if name.len() >= UTS_FIELD {
            return Err(Errno::EINVAL);
        }
        STATE.lock().hostname = name;
        Ok(())
    }

    fn sysinfo(&self, caller: Badge) -> Result<(u64, u64, u64, u64), Errno> {
        // The running processes, and init.
        let procs = with_caller(caller, |_| ()).map(|()| STATE.lock().tree.live() as u64 + 1)?;
        let (total, free) = match BOOT.get() {
            Some(&boot) => BootClient::new(KernelPpc, boot)
                .memory()
                .map_err(|_| Errno::EIO)?,
            None => (0, 0),
        };
        Ok((clock::now_ns() / NS_PER_SEC, procs, total, free))
    }

    fn fork(&mut self, caller: Badge, child_badge: u64, kill: u64) -> Result<(u64, u64), Errno> {
        // The kernel attests the parentage (and that `kill` names the child) before the
        // caller's word is taken; no lock is held across that call.
        let origin = ProcessClient::new(KernelPpc, XHandle::from_word(kill)).fork_origin();
        if origin.ok() != Some((child_badge, caller.0)) {
            return Err(Errno::EPERM);
        }
        let mut state = STATE.lock();
        let pid = state.tree.fork(caller.0, child_badge)?;
        state.tree.started(pid, clock::now_ns());
        state.keep_killer(child_badge, kill);
        // Signals sent to the child before it registers itself (`notify`, at its start) go to
        // its first dispatcher, which the fork makes: a `kill` right after `fork` reaches it.
        state
            .listeners
            .insert(child_badge, k42_abi::kernel::comm_id(child_badge, 0));
        // The loop gives the child its handle and puts it in the reply's second word.
        state.forked = Some(child_badge);
        Ok((pid, 0))
    }

    fn notify(&mut self, caller: Badge, comm: u64) -> Result<(), Errno> {
        if comm_pid(comm) != caller.0 {
            return Err(Errno::EPERM);
        }
        let mut state = STATE.lock();
        state.tree.by_badge(caller.0)?;
        state.listeners.insert(caller.0, comm);
        Ok(())
    }

    fn exit(&mut self, caller: Badge, wait_status: u64, cpu_ns: u64) -> Result<(), Errno> {
        let cpus = cpus()?;
        STATE
            .lock()
            .tree
            .set_cpu_ns(caller.0, cpu_ns, clock::now_ns(), cpus)?;
        end(caller.0, wait_status)
    }

    fn wait(
        &mut self,
        caller: Badge,
        selector: u64,
        options: u64,
    ) -> Result<(u64, u64, u64, u64), Errno> {
        let selector = Selector::from_word(selector)?;
        let options = WaitOptions::from_bits(u32::try_from(options).map_err(|_| Errno::EINVAL)?);
        let found = STATE
            .lock()
            .tree
            .wait_with_uid(caller.0, selector, options)?;
        Ok(found.map_or((0, 0, 0, 0), |(pid, status, uid, cpu_ns)| {
            (pid, u64::from(status.0), u64::from(uid), cpu_ns)
        }))
    }

    fn getpgid(&self, caller: Badge, pid: u64) -> Result<u64, Errno> {
        STATE.lock().tree.getpgid(caller.0, pid_arg(pid)?)
    }

    fn getsid(&self, caller: Badge, pid: u64) -> Result<u64, Errno> {
        STATE.lock().tree.getsid(caller.0, pid_arg(pid)?)
    }

    fn setpgid(&mut self, caller: Badge, pid: u64, pgid: u64) -> Result<(), Errno> {
        STATE
            .lock()
            .tree
            .setpgid(caller.0, signed(pid), signed(pgid))
    }

    fn setsid(&mut self, caller: Badge) -> Result<u64, Errno> {
        STATE.lock().tree.setsid(caller.0)
    }

    fn kill(&mut self, caller: Badge, pid: u64, sig: u64) -> Result<u64, Errno> {
        let sig = u32::try_from(sig).map_err(|_| Errno::EINVAL)?;
        // Who gets a message: every running target but the caller, at its dispatcher; for
        // SIGKILL and SIGSTOP, those the kernel can end or stop get no message but that (the
        // caller too, for SIGSTOP: `job_signal`); SIGCONT also continues through the kernel.
        let (me, sends, kills, jobs) = {
            let state = STATE.lock();
            let sender = state.tree.by_badge(caller.0)?;
            let event = SignalEvent {
                sig,
                pid: sender.pid,
                uid: sender.creds.uid,
                terminal: false,
            };
            let targets = state.tree.kill_targets(caller.0, signed(pid), sig)?;
            let me = targets.iter().any(|t| t.badge == Some(caller.0));
            let others = targets
                .iter()
                .filter_map(|t| t.badge.filter(|&b| b != caller.0));
            let mut sends = Vec::new();
            let mut kills = Vec::new();
            let mut jobs = Vec::new();
            for badge in others {
                let killer = state.killers.get(&badge).copied();
                match killer {
                    Some(killer) if sig == g::SIGKILL => kills.push((badge, killer)),
                    Some(killer) if sig == g::SIGSTOP => jobs.push((badge, Some(killer))),
                    _ => {
                        sends.extend(state.listeners.get(&badge).map(|&c| (c, event)));
                        if sig == g::SIGCONT {
                            jobs.push((badge, killer));
                        }
                    }
                }
            }
            // The caller stops through the kernel like any target: its call returns once it
            // is continued.
            let me_stop = state.killers.get(&caller.0).copied().filter(|_| me);
            if sig == g::SIGSTOP && me_stop.is_some() {
                jobs.push((caller.0, me_stop));
            }
            (me, sends, kills, jobs)
        };
        let done = sig == g::SIGSTOP && jobs.iter().any(|&(b, _)| b == caller.0);
        if sig != 0 {
            for (comm, event) in sends {
                send_signal(comm, event);
            }
            for (badge, killer) in kills {
                // Refused: it is gone already, having ended by itself meanwhile.
                if ProcessClient::new(KernelPpc, killer)
                    .exit(KILLED_EXIT_STATUS)
                    .is_ok()
                {
                    STATE.lock().killed.insert(badge);
                }
            }
            // After the messages: a continued process finds its SIGCONT waiting.
            for (badge, killer) in jobs {
                job_signal(badge, killer, sig);
            }
        }
        Ok(match (done, me) {
            (true, _) => procs::KILL_CARRIED_OUT,
            (false, me) => u64::from(me),
        })
    }

    fn stopped(&mut self, caller: Badge, sig: u64) -> Result<u64, Errno> {
        let sig = u32::try_from(sig).map_err(|_| Errno::EINVAL)?;
        let Some(change) = STATE.lock().tree.stop(caller.0, sig)? else {
            return Ok(0);
        };
        report_change(change);
        Ok(1)
    }

    fn continued(&mut self, caller: Badge) -> Result<(), Errno> {
        // The change is taken before it is reported: `report_change` takes the lock again.
        let change = STATE.lock().tree.cont(caller.0)?;
        if let Some(change) = change {
            report_change(change);
        }
        Ok(())
    }

    fn terminal(&self, caller: Badge) -> Result<(u64, u64, u64, u64), Errno> {
        let t = STATE.lock().tree.terminal(caller.0)?;
        Ok((t.fg, t.sid, t.pgid, u64::from(t.orphaned)))
    }

    fn set_foreground(&mut self, caller: Badge, pgrp: u64) -> Result<(), Errno> {
        STATE.lock().tree.set_foreground(caller.0, signed(pgrp))
    }

    fn acquire_terminal(&mut self, caller: Badge, steal: u64) -> Result<(), Errno> {
        let mut state = STATE.lock();
        // Only root may steal it from another session (Linux's `tiocsctty`).
        let root = state.tree.by_badge(caller.0)?.creds.euid == 0;
        state.tree.acquire_terminal(caller.0, steal != 0 && root)
    }

    fn terminal_signal(&mut self, _caller: Badge, sig: u64) -> Result<u64, Errno> {
        let sig = u32::try_from(sig).map_err(|_| Errno::EINVAL)?;
        let comms = {
            let state = STATE.lock();
            state.comms(&state.tree.foreground())
        };
        let event = terminal_event(sig);
        for &comm in &comms {
            send_signal(comm, event);
        }
        Ok(comms.len() as u64)
    }

    fn abandon(&mut self, caller: Badge, child_badge: u64, child_pid: u64) -> Result<(), Errno> {
        let killer = {
            let mut state = STATE.lock();
            state.tree.forget_child(caller.0, child_badge, child_pid)?;
            state.listeners.remove(&child_badge);
            state.ended = Some(child_badge);
            state.killers.remove(&child_badge)
        };
        // A child that did run cannot be left unknown here and alive: it ends (its parent
        // could SIGKILL it anyway). One the kernel ended already refuses; nothing to do.
        if let Some(killer) = killer {
            let _ = ProcessClient::new(KernelPpc, killer).exit(KILLED_EXIT_STATUS);
        }
        Ok(())
    }

    fn new_thread(&mut self, caller: Badge) -> Result<u64, Errno> {
        STATE.lock().tree.new_thread(caller.0)
    }

    fn end_thread(&mut self, caller: Badge, tid: u64) -> Result<(), Errno> {
        STATE.lock().tree.end_thread(caller.0, tid)
    }

    fn pids(&self, _caller: Badge, after: u64) -> Result<(u64, u64), Errno> {
        let room = PPC_DATA_BYTES / PID_BYTES;
        let pids = STATE.lock().tree.pids_after(after, room);
        let count = pids.len() as u64;
        set_reply_data(procfs::encode_pids(&pids)).map_err(|_| Errno::EIO)?;
        Ok((count, u64::from(pids.len() == room)))
    }

    fn facts(&self, caller: Badge, pid: u64, offset: u64) -> Result<(), Errno> {
        let offset = usize::try_from(offset).map_err(|_| Errno::EINVAL)?;
        let facts = STATE.lock().tree.facts(caller.0, pid)?;
        set_reply_data(facts.encode(offset, PPC_DATA_BYTES)).map_err(|_| Errno::EIO)
    }

    fn set_command(&mut self, caller: Badge, comm_len: u64, offset: u64) -> Result<(), Errno> {
        let data = take_call_data();
        let offset = usize::try_from(offset).map_err(|_| Errno::EINVAL)?;
        let comm_len = usize::try_from(comm_len)
            .ok()
            .filter(|&n| n <= data.len())
            .ok_or(Errno::EINVAL)?;
        let (comm, cmdline) = data.split_at(comm_len);
        STATE
            .lock()
            .tree
            .set_command(caller.0, comm, cmdline, offset)
    }

    fn system(&self, caller: Badge) -> Result<(u64, u64, u64, u64), Errno> {
        with_caller(caller, |_| ())?;
        let cpus = kernel_cpus()?;
        let (forks, tasks, last_pid) = STATE.lock().tree.system();
        Ok((u64::from(cpus), forks, tasks, last_pid))
    }

    fn tasks(&self, _caller: Badge, pid: u64, after: u64) -> Result<(u64, u64), Errno> {
        let room = PPC_DATA_BYTES / PID_BYTES;
        let tids = STATE.lock().tree.tasks_of(pid, after, room)?;
        let count = tids.len() as u64;
        set_reply_data(procfs::encode_pids(&tids)).map_err(|_| Errno::EIO)?;
        Ok((count, u64::from(tids.len() == room)))
    }

    fn getpriority(&self, caller: Badge, which: u64, who: u64) -> Result<u64, Errno> {
        STATE
            .lock()
            .tree
            .getpriority(caller.0, c_int(which) as u32, c_int(who) as u32)
    }

    fn setpriority(&mut self, caller: Badge, which: u64, who: u64, nice: u64) -> Result<(), Errno> {
        let nice = k42_linux::sched::clamp_nice(nice);
        STATE
            .lock()
            .tree
            .setpriority(caller.0, c_int(which) as u32, c_int(who) as u32, nice)
    }

    fn sched_params(&self, caller: Badge, pid: u64) -> Result<(u64, u64, u64), Errno> {
        let cpus = cpus()?;
        let p = STATE.lock().tree.sched_params(caller.0, pid_arg(pid)?)?;
        Ok((
            u64::from(p.policy_word()),
            u64::from(p.rt_priority),
            p.allowed_cpus(cpus),
        ))
    }

    fn set_scheduler(
        &mut self,
        caller: Badge,
        pid: u64,
        policy: u64,
        priority: u64,
    ) -> Result<(), Errno> {
        let policy = (policy != procs::KEEP_POLICY).then(|| c_int(policy));
        STATE
            .lock()
            .tree
            .set_scheduler(caller.0, pid_arg(pid)?, policy, c_int(priority))
    }

    fn set_affinity(&mut self, caller: Badge, pid: u64, mask: u64) -> Result<(), Errno> {
        let cpus = cpus()?;
        STATE
            .lock()
            .tree
            .set_affinity(caller.0, pid_arg(pid)?, mask, cpus)
    }

    fn set_comm(&mut self, caller: Badge) -> Result<(), Errno> {
        let name = take_call_data();
        STATE.lock().tree.set_comm(caller.0, &name)
    }

    fn reap(&mut self, _caller: Badge, badge: u64) -> Result<u64, Errno> {
        {
            let mut state = STATE.lock();
            if state.tree.by_badge(badge).is_err() {
                state.killed.remove(&badge);
                return Ok(0);
            }
        }
        let killed = WaitStatus::signaled(g::SIGKILL, false);
        if !STATE.lock().killed.remove(&badge) {
            log!(
                "procs: process {badge} ended without reporting it; recorded as killed by SIGKILL"
            );
        }
        end(badge, u64::from(killed.0))?;
        STATE.lock().ended = Some(badge);
        Ok(1)
    }
}

/// The process `badge` ends with `wait_status` (`Procs::exit`, or `Procs::reap` for one that
/// could not say so): the tree's exit, the parent's notification, the hang-ups.
fn end(badge: u64, wait_status: u64) -> Result<(), Errno> {
    let status = WaitStatus(u32::try_from(wait_status).map_err(|_| Errno::EINVAL)?);
    let (parent, hangups, uid) = {
        let mut state = STATE.lock();
        let uid = state.tree.by_badge(badge)?.creds.uid;
        let exited = state.tree.exit(badge, status)?;
        state.listeners.remove(&badge);
        state.killers.remove(&badge);
        let parent = exited.notify.and_then(|(_, parent)| {
            let comm = *state.listeners.get(&parent)?;
            Some((parent, comm, exited.pid))
        });
        (parent, exited.hangup, uid)
    };
    if let Some((parent, comm, pid)) = parent {
        let event = ChildEvent {
            pid,
            status: status.0,
            uid,
        };
        notify_parent(parent, comm, event);
    }
    for badge in hangups {
        hang_up(badge);
    }
    Ok(())
}

/// SIGSTOP or SIGCONT to the process `badge`, through the kernel where the server holds its
/// `Process` (`killer`): the kernel stops it wherever it is — its personality has no say —
/// or lets it run again, and the tree records the stop (reported to the parent for its
/// `WUNTRACED` wait and SIGCHLD) or the continue (`WCONTINUED`; the SIGCONT itself is the
/// process's message, for its handler). A stop the kernel refused (the process is gone) is
/// not recorded.
fn job_signal(badge: u64, killer: Option<XHandle>, sig: u32) {
    let mut process = killer.map(|k| ProcessClient::new(KernelPpc, k));
    let change = if sig == g::SIGSTOP {
        if process.as_mut().is_none_or(|p| p.stop().is_err()) {
            return;
        }
        STATE.lock().tree.stop(badge, sig)
    } else {
        if let Some(p) = process.as_mut() {
            let _ = p.cont();
        }
        STATE.lock().tree.cont(badge)
    };
    if let Ok(Some(change)) = change {
        report_change(change);
    }
}

/// The exit status the kernel reports for a process SIGKILL ended (a shell's 128 + 9), which
/// the runner shows for the run's program as Linux's does.
const KILLED_EXIT_STATUS: u32 = 128 + g::SIGKILL;

impl State {
    /// Keeps `kill`, a handle word on `badge`'s kernel `Process` (0: none).
    fn keep_killer(&mut self, badge: u64, kill: u64) {
        if kill != 0 {
            self.killers.insert(badge, XHandle::from_word(kill));
        }
    }

    /// The registered dispatchers of these processes.
    fn comms(&self, badges: &[u64]) -> Vec<u64> {
        badges
            .iter()
            .filter_map(|b| self.listeners.get(b).copied())
            .collect()
    }
}

/// A signal the terminal (or a hang-up) raises: no sending process (`SI_KERNEL`).
fn terminal_event(sig: u32) -> SignalEvent {
    SignalEvent {
        sig,
        pid: 0,
        uid: 0,
        terminal: true,
    }
}

/// SIGHUP and then SIGCONT to the process `badge`, hung up by an exit
/// (`k42_ptree::Exited::hangup`): the SIGCONT continues it through the kernel too.
fn hang_up(badge: u64) {
    let (comm, killer) = {
        let state = STATE.lock();
        let comm = state.listeners.get(&badge).copied();
        (comm, state.killers.get(&badge).copied())
    };
    if let Some(comm) = comm {
        for sig in [g::SIGHUP, g::SIGCONT] {
            send_signal(comm, terminal_event(sig));
        }
    }
    job_signal(badge, killer, g::SIGCONT);
}

/// Sends a signal to the dispatcher `comm`. A full ring loses it (as a full real-time queue
/// would); a gone dispatcher is a process ending anyway.
fn send_signal(comm: u64, event: SignalEvent) {
    let _ = kcall::async_send(comm, 0, NOTIFY_METHOD, &event.to_payload());
}

/// Tells a stopped or continued child's parent, if it listens.
fn report_change(change: k42_ptree::Change) {
    let Some((_, parent)) = change.notify else {
        return;
    };
    let (comm, uid) = {
        let state = STATE.lock();
        let Some(comm) = state.listeners.get(&parent).copied() else {
            return;
        };
        let uid = state.tree.get(change.pid).map_or(0, |p| p.creds.uid);
        (comm, uid)
    };
    notify_parent(
        parent,
        comm,
        ChildEvent {
            pid: change.pid,
            status: change.status.0,
            uid,
        },
    );
}

/// Sends `event` to the parent whose badge is `parent` at its dispatcher `comm`.
fn notify_parent(parent: u64, comm: u64, event: ChildEvent) {
    let sent = kcall::async_send(comm, 0, NOTIFY_METHOD, &event.to_payload());
    if sent == Status::NoSuchTarget as u64 {
        // The parent's dispatcher is gone: it will never wait.
        STATE.lock().listeners.remove(&parent);
    }
    // Any other failure is a full ring: the parent has messages to wake it already, and its
    // wait asks the table, which is the truth (`ChildEvent`).
}

/// One call: the generated dispatch, plus what needs the object table (module comment): a
/// fork's child gets its handle, an exit's caller loses its entries.
fn call(
    table: &mut XObjectTable<Root>,
    badge: Badge,
    handle: XHandle,
    method: u64,
    args: &[u64; ARG_WORDS],
) -> Reply {
    let reply = dispatch_with_meta::<ProcsServer<Root>>(table, badge, handle, method, args);
    if method == ProcsMethod::Exit.number() && reply.is_ok() {
        // Nothing of this process's may outlive it.
        table.release_all_for(badge);
        return reply;
    }
    let ends = [ProcsMethod::Abandon.number(), ProcsMethod::Reap.number()];
    if ends.contains(&method)
        && let Some(ended) = STATE.lock().ended.take()
    {
        table.release_all_for(Badge(ended));
        return reply;
    }
    if method != ProcsMethod::Fork.number() {
        return reply;
    }
    let forked = STATE.lock().forked.take();
    let mut words = reply?;
    let Some(child) = forked else {
        return Ok(words);
    };
    match table.insert(Root, Badge(child), procs::PROCESS_RIGHTS, Rights::NONE) {
        Ok(new) => {
            words[1] = new.to_word();
            Ok(words)
        }
        Err(e) => {
            // No handle, no child: undo the registration.
            let mut state = STATE.lock();
            let _ = state.tree.forget(child);
            state.listeners.remove(&child);
            state.killers.remove(&child);
            Err(DispatchError::Rights(e))
        }
    }
}

/// The file server's dispatcher and this server's handle there (`SET_CREDENTIALS` on its
/// root), once the spawner attached it (`Procs::attach_fs`).
static FILES: spin::Once<(u64, XHandle)> = spin::Once::new();

/// Tells the file server the credentials the table now holds for the process `badge`: its
/// filesystem and real ids, and its groups (`Fs::set_credentials`). Called after the table
/// changed, with no lock held across the call; nothing to do before the spawner attached the
/// file server. `EIO` if the file server refuses (the caller then undoes the change, so that
/// the two never disagree on what a process may do).
fn tell_files(badge: u64) -> Result<(), Errno> {
    let Some(&(comm, handle)) = FILES.get() else {
        return Ok(());
    };
    let (creds, groups) = {
        let state = STATE.lock();
        let me = state.tree.by_badge(badge)?;
        (me.creds, me.groups.clone())
    };
    let data: Vec<u8> = groups.iter().flat_map(|g| g.to_le_bytes()).collect();
    let mut ppc = Ppc::new(comm);
    let mut none = [0u8; 0];
    FsClient::new(ppc.with_data(&data, &mut none), handle)
        .set_credentials(
            badge,
            creds.fsuid.into(),
            creds.fsgid.into(),
            creds.uid.into(),
            creds.gid.into(),
        )
        .map_err(|e| {
            log!("procs: the file server refused process {badge}'s new credentials: {e}");
            Errno::EIO
        })
}

/// The credentials and groups of the running process `badge`, as they are before a change.
fn record(state: &State, badge: u64) -> Result<(Creds, Vec<u32>), Errno> {
    let me = state.tree.by_badge(badge)?;
    Ok((me.creds, me.groups.clone()))
}

/// Passes the change the table just made to the process `badge`'s credentials on to the file
/// server ([`tell_files`]); if it cannot be, the table gets back `before` (its [`record`]
/// before the change) and the call fails with `EIO`.
fn commit(badge: u64, before: (Creds, Vec<u32>)) -> Result<(), Errno> {
    tell_files(badge).inspect_err(|_| {
        let _ = STATE.lock().tree.put_back(badge, before.0, before.1);
    })
}

/// The `Boot` handle (READ) the spawner sent, for the memory figures of `sysinfo` and the CPU
/// count ([`kernel_cpus`]).
static BOOT: spin::Once<XHandle> = spin::Once::new();

fn main(env: Env) -> u32 {
    let spawner = Badge(env.arg0);
    let message = ring::wait_message_where(
        |msg| StartHandles::from_message(msg, env.arg1).is_some(),
        |msg| log!("procs: ignored a message before the start-up one: {msg:?}"),
    );
    if let Some(boot) = StartHandles::from_message(&message, env.arg1).and_then(|h| h.boot) {
        BOOT.call_once(|| boot);
    }
    let mut table = XObjectTable::new();
    match table.insert(Root, spawner, procs::SPAWNER_RIGHTS, Rights::NONE) {
        Ok(handle) if handle == SPAWNER_HANDLE => {}
        other => {
            log!("procs: the spawner's table is {other:?}, not {SPAWNER_HANDLE}");
            return SETUP_FAILED;
        }
    }
    server::serve(move |badge, handle, method, args| call(&mut table, badge, handle, method, args))
}
