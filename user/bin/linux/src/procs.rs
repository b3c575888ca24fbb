//! The personality's side of the process server (`user/bin/procs`, `k42_ifaces::procs`): the
//! calls the rest of the personality makes about this process's place in the process tree —
//! registering a forked child ([`fork_child`], from the fork code in the parent), taking
//! notifications of children ending ([`started`]), reporting this process's end
//! ([`exited`], from `calls/proc.rs` and `calls/fault.rs`), collecting children
//! ([`wait_child`], for `calls/wait.rs`), asking about ids that can change under us
//! ([`getppid`], [`getpgid`], [`getsid`]), changing this process's credentials ([`set_ids`],
//! [`set_groups`], [`executed`]; `calls/creds.rs`) and reading them ([`resids`], [`groups`]),
//! and `/proc`'s questions and this process's command for them ([`pids`], [`facts`],
//! [`set_command`], [`set_comm`]; `procfs.rs` serves `/proc`).
//!
//! Every call goes through `state::get()`'s `procs` handle, so a forked child that replaces its
//! state's handle and ids is at once the child here too. A process started without a process
//! server has no children and no tree: the calls answer as Linux does for a process alone.

use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use k42_abi::kernel::{AsyncMessage, PPC_DATA_BYTES, Status, comm_pid, soft};
use k42_ifaces::procs::{ChildEvent, GID_BYTES, GROUPS_MAX, ProcsClient};
use k42_linux::Errno;
use k42_ptree::procfs::{self, Facts};
use k42_ptree::{Family, INIT_PID, IdChange, Selector, WaitOptions, WaitStatus};
use k42_rights::wire::meta;
use k42_rights::wire::{CallError, DispatchError};
use k42_rights::{Badge, Rights, XHandle};
use k42_rt::sys::kcall;
use k42_rt::sys::page::Page;
use k42_rt::{KernelPpc, Ppc, log};

use crate::state::{self, Linux};

/// The process server's client for this process, if it has one.
pub(crate) fn client(linux: &Linux) -> Option<ProcsClient<Ppc>> {
    let procs = linux.procs.as_ref()?;
    Some(ProcsClient::new(Ppc::new(procs.comm), procs.table))
}

/// The errno a failed call means: the server's own, or `EIO` when it could not be reached or
/// refused the handle (which only a broken start-up explains).
pub(crate) fn errno(e: CallError<Errno>) -> Errno {
    match e {
        CallError::Method(e) => e,
        CallError::Failed(_) | CallError::BadReply => Errno::EIO,
    }
}

/// `fork` in the parent: registers the K42 process `child_badge` (made by the fork) as this
/// process's child, first giving the server READ and DESTROY on the child's kernel `Process`
/// (`child`, this process's handle on it): the server has the kernel attest that it is our
/// child, and SIGKILL ends it through the kernel. Returns the
/// child's Linux pid and the child's own handle on the process table, for the child's state
/// (`ProcsStart::table`). `ENOSYS` without a process server.
pub fn fork_child(child_badge: u64, child: XHandle) -> Result<(u64, XHandle), Errno> {
    let linux = state::get();
    let mut procs = client(linux).ok_or(Errno::ENOSYS)?;
    let server = linux.procs.as_ref().map_or(0, |p| comm_pid(p.comm));
    // READ: the server asks the kernel who the child is (`Process::fork_origin`).
    let rights = Rights::READ.union(Rights::DESTROY);
    let kill = meta::give_access(&mut KernelPpc, child, Badge(server), rights).map_err(|e| {
        log!("linux: fork: cannot let the process server end the child: {e:?}");
        Errno::EAGAIN
    })?;
    let (pid, handle) = procs.fork(child_badge, kill.to_word()).map_err(errno)?;
    Ok((pid, XHandle::from_word(handle)))
}

/// Undoes [`fork_child`] for a child the kernel could not make (it never ran), so no wait
/// finds it. A refusal is logged: the child would then show as killed when the kernel reports
/// its end.
pub fn abandon(child_badge: u64, child_pid: u64) {
    if let Some(mut procs) = client(state::get())
        && let Err(e) = procs.abandon(child_badge, child_pid)
    {
        log!("linux: the process server kept the child {child_badge} of a failed fork: {e}");
    }
}

/// A thread id for a new thread (`threads.rs`), from the process server's pid space
/// (`EAGAIN` when there is no server or no free id).
pub fn new_thread(linux: &Linux) -> Result<u64, Errno> {
    let Some(mut procs) = client(linux) else {
        log!("linux: clone: no process server to give the thread an id");
        return Err(Errno::EAGAIN);
    };
    procs.new_thread().map_err(errno)
}

/// The thread `tid` ended: its id goes back to the process server.
pub fn end_thread(linux: &Linux, tid: u64) {
    if let Some(mut procs) = client(linux)
        && let Err(e) = procs.end_thread(tid)
    {
        log!("linux: the process server kept the id of ended thread {tid}: {e}");
    }
}

/// The dispatcher registered for notifications (0: none): a forked child runs on another
/// dispatcher, so it registers again even though it inherited this word from its parent.
static NOTIFY_COMM: AtomicU64 = AtomicU64::new(0);

/// Registers the dispatcher `comm` for the server's [`ChildEvent`]s (at start, and by
/// [`wait_child`] when the current dispatcher has not been). Logs a refusal: a process that
/// cannot be notified still works, its waits only cannot sleep.
pub fn started(comm: u64) {
    let Some(mut procs) = client(state::get()) else {
        return;
    };
    match procs.notify(comm) {
        Ok(()) => NOTIFY_COMM.store(comm, Ordering::Release),
        Err(e) => log!("linux: the process server refused notifications: {e}"),
    }
}

/// Makes sure this process's current dispatcher is registered (see [`NOTIFY_COMM`]).
fn ensure_notified() {
    let comm = Page::current().comm_id();
    if NOTIFY_COMM.load(Ordering::Acquire) != comm {
        started(comm);
    }
}

/// How many times [`exited`] tries a server that answers "busy" before giving up (only in an
/// upcall handler, where the thread cannot sleep until it may call again).
const EXIT_TRIES: usize = 64;

/// Reports this process's end with the Linux wait status `status` (just before it ends), so
/// its parent can collect it. Callable from the program thread and from the fault handler,
/// which runs with upcalls disabled: there a busy server's `Retry` cannot be slept on by the
/// runtime, so this sleeps in the kernel until the retry wake-up and calls again, a bounded
/// number of times. A failure is logged; the process ends anyway.
pub fn exited(status: WaitStatus) {
    let Some(mut procs) = client(state::get()) else {
        return;
    };
    let retry = Status::Retry as u64;
    let page = Page::current();
    for _ in 0..EXIT_TRIES {
        // Taken before the call, so an IPC_RETRY posted after a refusal is still pending when
        // the kernel is asked to sleep.
        page.take_pending(soft::IPC_RETRY);
        match procs.exit(u64::from(status.0), crate::calls::usage::own_ns()) {
            Ok(()) => return,
            Err(CallError::Failed(DispatchError::Transport(s))) if s == retry => {
                kcall::yield_now(k42_abi::kernel::yield_mode::BLOCK);
            }
            Err(e) => {
                log!("linux: the process server refused the exit ({e})");
                return;
            }
        }
    }
    log!("linux: the process server stayed busy; the exit was not reported");
}

/// One wait for a child (`wait4`, `waitid`): the server collects a matching child that ended
/// (`Ok(Some((pid, status, uid, cpu_ns)))`, `uid` the child's real user, `cpu_ns` the CPU time
/// it had, its children's included: added to this process's children's unless `WNOWAIT`
/// left it to collect later; 0 for a stop or continue); when children match but none
/// ended, `Ok(None)` under `WNOHANG`, otherwise the program's thread sleeps until a child ends
/// (a [`ChildEvent`]) and asks again. `ECHILD` when no child matches (or there is no process
/// server).
pub fn wait_child(
    selector: Selector,
    options: WaitOptions,
) -> Result<Option<(u64, WaitStatus, u32, u64)>, Errno> {
    let linux = state::get();
    let Some(mut procs) = client(linux) else {
        return Err(Errno::ECHILD);
    };
    // Group 1 is init's, which no Linux process joins.
    let Some(selector) = selector.to_word() else {
        return Err(Errno::ECHILD);
    };
    let bits = u64::from(options.to_bits());
    if !options.nohang {
        ensure_notified();
    }
    loop {
        let (pid, status, uid, cpu_ns) = procs.wait(selector, bits).map_err(errno)?;
        if pid != 0 {
            // The server stores what `exited` sent, a u32 (`WaitStatus`), and 32-bit uids.
            let status = u32::try_from(status).map_err(|_| Errno::EIO)?;
            let uid = u32::try_from(uid).map_err(|_| Errno::EIO)?;
            if !options.nowait {
                crate::calls::usage::collected(linux, cpu_ns);
            }
            return Ok(Some((pid, WaitStatus(status), uid, cpu_ns)));
        }
        if options.nohang {
            return Ok(None);
        }
        if !wait_for_child_event(linux) {
            return Err(Errno::ERESTARTSYS);
        }
    }
}

/// Blocks the program's thread (never the dispatcher) until the process server says a child
/// ended (true) or a signal is to be delivered (false: the wait returns `ERESTARTSYS`).
/// Other messages met meanwhile are signals or stale wake-ups (`crate::signals::wait`).
fn wait_for_child_event(linux: &Linux) -> bool {
    let Some(comm) = linux.procs.as_ref().map(|p| p.comm) else {
        return true;
    };
    let wanted = |msg: &AsyncMessage| ChildEvent::from_message(msg, comm).is_some();
    !matches!(
        crate::signals::wait(linux, None, wanted),
        crate::signals::Woken::Signal
    )
}

/// `getppid()`: init never ends, so a parent of 1 is for good and the start-up copy answers
/// (`table::fast` does the same on the upcall stack); any other parent may have ended since,
/// making this process init's, so the server is asked.
pub fn getppid(linux: &Linux) -> u64 {
    if linux.ids.ppid == INIT_PID {
        return INIT_PID;
    }
    let ids = client(linux).map(|mut procs| procs.ids());
    match ids {
        Some(Ok((_, ppid, _, _))) => ppid,
        _ => linux.ids.ppid,
    }
}

/// Whether `pid` (a `getpgid`/`getsid` argument) names this process.
fn is_self(linux: &Linux, pid: i32) -> bool {
    pid == 0 || i64::from(pid) as u64 == linux.ids.pid
}

/// `getpgid(pid)` (0: this process), the process server's answer; without one, this process's
/// start-up ids (it is alone) and `ESRCH` for any other.
pub fn getpgid(linux: &Linux, pid: i32) -> Result<u64, Errno> {
    let Some(mut procs) = client(linux) else {
        return is_self(linux, pid)
            .then_some(linux.ids.pgid)
            .ok_or(Errno::ESRCH);
    };
    procs.getpgid(i64::from(pid) as u64).map_err(errno)
}

/// `setpgid(pid, pgid)` (`k42_ptree`'s rules; `ESRCH` without a process server).
pub fn setpgid(linux: &Linux, pid: i32, pgid: i32) -> Result<(), Errno> {
    let mut procs = client(linux).ok_or(Errno::ESRCH)?;
    procs
        .setpgid(i64::from(pid) as u64, i64::from(pgid) as u64)
        .map_err(errno)
}

/// `setsid()`: the new session's id (`EPERM` without a process server: the lone process is
/// taken to lead its group already, as init's children do).
pub fn setsid(linux: &Linux) -> Result<u64, Errno> {
    let mut procs = client(linux).ok_or(Errno::EPERM)?;
    procs.setsid().map_err(errno)
}

/// `getsid(pid)`, as [`getpgid`].
pub fn getsid(linux: &Linux, pid: i32) -> Result<u64, Errno> {
    let Some(mut procs) = client(linux) else {
        return is_self(linux, pid)
            .then_some(linux.ids.sid)
            .ok_or(Errno::ESRCH);
    };
    procs.getsid(i64::from(pid) as u64).map_err(errno)
}

/// Most calls one `/proc` question makes (each brings a data area): enough for the longest
/// command line the server keeps, and for a list of every possible pid; a bound, so that a
/// server that keeps answering "more" cannot hold the program forever.
const MOST_PIECES: usize = 2048;

/// `/proc`'s listing: every process's pid, init's first (`Procs::pids`); empty without a
/// process server.
pub fn pids(linux: &Linux) -> Result<Vec<u64>, Errno> {
    let Some(mut procs) = client(linux) else {
        return Ok(Vec::new());
    };
    let handle = procs.handle;
    let mut out = Vec::new();
    let mut buf = vec![0u8; PPC_DATA_BYTES];
    for _ in 0..MOST_PIECES {
        let after = out.last().copied().unwrap_or(0);
        let mut with = ProcsClient::new(procs.transport.with_data(&[], &mut buf), handle);
        let (_, more) = with.pids(after).map_err(errno)?;
        let received = with.transport.received();
        out.extend(procfs::decode_pids(&buf[..received]));
        if more == 0 {
            break;
        }
    }
    Ok(out)
}

/// `/proc/PID/task`'s listing: the ids of process `pid`'s threads, its own first
/// (`Procs::tasks`); `ESRCH` if there is no such process (or no process server).
pub fn tasks(linux: &Linux, pid: u64) -> Result<Vec<u64>, Errno> {
    let mut procs = client(linux).ok_or(Errno::ESRCH)?;
    let handle = procs.handle;
    let mut out = Vec::new();
    let mut buf = vec![0u8; PPC_DATA_BYTES];
    for _ in 0..MOST_PIECES {
        let after = out.last().copied().unwrap_or(0);
        let mut with = ProcsClient::new(procs.transport.with_data(&[], &mut buf), handle);
        let (_, more) = with.tasks(pid, after).map_err(errno)?;
        let received = with.transport.received();
        out.extend(procfs::decode_pids(&buf[..received]));
        if more == 0 {
            break;
        }
    }
    Ok(out)
}

/// What `/proc/stat` and `/proc/loadavg` show of the system (`Procs::system`): the CPUs, the
/// tasks made since boot, the tasks that exist and the last pid given. `ENOENT` without a
/// process server: there are no figures to show.
pub fn system(linux: &Linux) -> Result<(u64, u64, u64, u64), Errno> {
    let mut procs = client(linux).ok_or(Errno::ENOENT)?;
    procs.system().map_err(errno)
}

/// The facts `/proc/PID/…` shows of process `pid` (`Procs::facts`), the whole command line
/// gathered; `ESRCH` if there is no such process (or no process server).
pub fn facts(linux: &Linux, pid: u64) -> Result<Facts, Errno> {
    let mut procs = client(linux).ok_or(Errno::ESRCH)?;
    let handle = procs.handle;
    let mut buf = vec![0u8; PPC_DATA_BYTES];
    let mut cmdline = Vec::new();
    for _ in 0..MOST_PIECES {
        let mut with = ProcsClient::new(procs.transport.with_data(&[], &mut buf), handle);
        with.facts(pid, cmdline.len() as u64).map_err(errno)?;
        let received = with.transport.received();
        let d = Facts::decode(&buf[..received]).ok_or(Errno::EIO)?;
        // A piece from elsewhere than asked: the command changed between calls (an exec);
        // start again with the new one.
        if d.offset != cmdline.len() {
            cmdline.clear();
            continue;
        }
        cmdline.extend_from_slice(&d.facts.cmdline);
        if cmdline.len() >= d.total || d.facts.cmdline.is_empty() {
            return Ok(Facts { cmdline, ..d.facts });
        }
    }
    Err(Errno::EIO)
}

/// Tells the process server this process's command, at start and at every exec
/// (`Procs::set_command`): its `comm` and its command line, the latter a data area at a time,
/// up to what the server keeps. A refusal is logged: `/proc` then shows the old command.
pub fn set_command(linux: &Linux, comm: &[u8], cmdline: &[u8]) {
    let Some(mut procs) = client(linux) else {
        return;
    };
    let handle = procs.handle;
    let comm = &comm[..comm.len().min(procfs::COMM_MAX)];
    let cmdline = &cmdline[..cmdline.len().min(procfs::CMDLINE_MAX)];
    let mut sent = 0;
    loop {
        let name: &[u8] = if sent == 0 { comm } else { &[] };
        let n = (cmdline.len() - sent).min(PPC_DATA_BYTES - name.len());
        let mut data = name.to_vec();
        data.extend_from_slice(&cmdline[sent..sent + n]);
        let mut none = [0u8; 0];
        let mut with = ProcsClient::new(procs.transport.with_data(&data, &mut none), handle);
        if let Err(e) = with.set_command(name.len() as u64, sent as u64) {
            log!("linux: the process server refused this process's command: {e}");
            return;
        }
        sent += n;
        if sent >= cmdline.len() {
            return;
        }
    }
}

/// All memory and free memory, in bytes: the process server's `sysinfo` figures
/// (`/proc/meminfo`). `ENOENT` without a process server: there are no figures to show.
pub fn memory(linux: &Linux) -> Result<(u64, u64), Errno> {
    let mut procs = client(linux).ok_or(Errno::ENOENT)?;
    let (_, _, total, free) = procs.sysinfo().map_err(errno)?;
    Ok((total, free))
}

/// Renames this process (`prctl(PR_SET_NAME)`, `calls/procfs.rs`): the process server keeps
/// its `comm` (`Procs::set_comm`). `ESRCH` without one.
pub fn set_comm(linux: &Linux, name: &[u8]) -> Result<(), Errno> {
    let mut procs = client(linux).ok_or(Errno::ESRCH)?;
    let handle = procs.handle;
    let mut none = [0u8; 0];
    ProcsClient::new(procs.transport.with_data(name, &mut none), handle)
        .set_comm()
        .map_err(errno)
}

/// A setuid-family call on this process's own ids of `family` (`Procs::set_ids`: the server
/// decides, with its record of this process): the call's value, once the real and effective
/// ids the server answered are this process's copy (`state::Creds`). `EPERM` without a
/// process server: nobody may decide a change.
pub fn set_ids(linux: &Linux, family: Family, change: IdChange) -> Result<u32, Errno> {
    let mut procs = client(linux).ok_or(Errno::EPERM)?;
    let (kind, [a, b, c]) = change.to_words();
    let (value, real, effective) = procs
        .set_ids(family.to_word(), kind, a, b, c)
        .map_err(errno)?;
    // The server keeps 32-bit ids (Linux's uid_t): the words hold no more.
    linux.creds.store(family, real as u32, effective as u32);
    Ok(value as u32)
}

/// This process's real, effective, saved and filesystem ids of `family` (`Procs::resids`);
/// without a process server, the copy's, the saved and filesystem ids being the effective one.
pub fn resids(linux: &Linux, family: Family) -> Result<[u32; 4], Errno> {
    let Some(mut procs) = client(linux) else {
        let ids = linux.creds.get();
        let (real, effective) = match family {
            Family::User => (ids.uid, ids.euid),
            Family::Group => (ids.gid, ids.egid),
        };
        return Ok([real, effective, effective, effective]);
    };
    let (r, e, s, fs) = procs.resids(family.to_word()).map_err(errno)?;
    // 32-bit ids, as in `set_ids`.
    Ok([r as u32, e as u32, s as u32, fs as u32])
}

/// `setgroups` with `count` groups, `list` the bytes read from the program (`None`: it could
/// not be read, or holds more than one call carries): the server decides, and says `EPERM`
/// before any complaint about the list, as Linux does (`Procs::set_groups`). `EPERM` without
/// a process server.
pub fn set_groups(linux: &Linux, count: u32, list: Option<&[u8]>) -> Result<(), Errno> {
    let mut procs = client(linux).ok_or(Errno::EPERM)?;
    let handle = procs.handle;
    let mut none = [0u8; 0];
    let data = list.unwrap_or(&[]);
    ProcsClient::new(procs.transport.with_data(data, &mut none), handle)
        .set_groups(u64::from(count))
        .map_err(errno)
}

/// The supplementary groups of process `pid` (0: this process), sorted (`Procs::groups`);
/// none without a process server (as for init's children).
pub fn groups(linux: &Linux, pid: u64) -> Result<Vec<u32>, Errno> {
    let Some(mut procs) = client(linux) else {
        return Ok(Vec::new());
    };
    let handle = procs.handle;
    let mut buf = vec![0u8; GROUPS_MAX * GID_BYTES];
    let mut with = ProcsClient::new(procs.transport.with_data(&[], &mut buf), handle);
    let count = with.groups(pid).map_err(errno)?;
    let received = with.transport.received();
    let groups: Vec<u32> = buf[..received]
        .chunks_exact(GID_BYTES)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    if groups.len() as u64 != count {
        return Err(Errno::EIO);
    }
    Ok(groups)
}

/// Tells the process server this process executed a new program (`Procs::executed`: its saved
/// and filesystem ids become its effective ones). Past `execve`'s point of no return there is
/// no failing: a refusal is logged.
pub fn executed(linux: &Linux) {
    if let Some(mut procs) = client(linux)
        && let Err(e) = procs.executed()
    {
        log!("linux: the process server did not record the exec's credentials: {e}");
    }
}
