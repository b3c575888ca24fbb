//! `fork`, `vfork` and `clone`, at user level as K42 does it
//! (DESIGN §2.5, issue #5): the personality asks the kernel for an empty child, gives the child's
//! badge access to every server object this process holds (console, root and working directory,
//! each open file, the files its mappings and its program hold: `mem::Mem::origins`, the pipe
//! factory), registers it with the process server as this process's child, writes what
//! the child must know into a static ([`PLAN`]), and has the kernel copy this process's memory
//! copy-on-write into the child (`k42_rt::fork`). The child starts at [`child_main`], which reads
//! its copy of the plan, re-makes the personality's state with its own handles (`state.rs`), and
//! resumes the program where it made the call, with 0 in `rax`.
//!
//! Only the calling thread continues in the child, as in Linux. The copy is made when no other
//! thread of the program holds one of the personality's locks the child needs (`quiet`: a
//! thread preempted while it held one would leave it held for ever in the child); handlers
//! hold none across a call out, so the wait is short.
//!
//! `clone(CLONE_VM | CLONE_THREAD | CLONE_SIGHAND …)`, as pthread_create calls it, makes a
//! thread instead (`threads.rs`).
//!
//! `vfork` and `clone(CLONE_VM | CLONE_VFORK)` (glibc's `posix_spawn`) are served as fork: the
//! child gets a copy, not a share, of the memory, which is all a correct vfork child (one that
//! only calls `execve` or `_exit`) can tell — except that an error it stores for its parent
//! before `_exit` is not seen there.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::sync::atomic::AtomicU64;

use k42_abi::kernel::SavedRegs;
use k42_ifaces::start::ProcsStart;
use k42_linux::raw::general as g;
use k42_linux::{Errno, SysResult};
use k42_rights::wire::meta;
use k42_rights::{Badge, Rights, XHandle};
use k42_rt::fork::ForkError;
use k42_rt::sys::{critical, foreign};
use k42_rt::{Env, Ppc, log, program};
use spin::Mutex;

use crate::files::{Files, Node};
use crate::mem::Mem;
use crate::state::{self, Ids, Linux};
use crate::table::Args;
use crate::threads;

/// What the child finds in its copy of this process's memory.
struct Plan {
    /// The program's registers at its call; the child returns 0 from it.
    regs: SavedRegs,
    /// The program's FS base (its thread pointer).
    fs_base: u64,
    /// The child's handle for each (server CommID, handle word) this process holds.
    given: BTreeMap<(u64, u64), XHandle>,
    /// The child's ids.
    ids: Ids,
    /// The child's handle on the process table.
    procs: Option<ProcsStart>,
    /// `CLONE_CHILD_SETTID`'s and `CLONE_CHILD_CLEARTID`'s address (0: none).
    child_tid: (u64, u64),
    /// The forking thread's runtime id here: its signal mask and alternate stack are the
    /// child's (`thread_signals::for_fork_child`).
    forker: u64,
}

/// Set in the parent only while the kernel copies its memory.
static PLAN: Mutex<Option<Plan>> = Mutex::new(None);

/// `clone` flags served for a new process: the exit signal (the low byte) and these;
/// `CLONE_VM` only with `CLONE_VFORK`.
const SERVED: u64 = (g::CLONE_VM
    | g::CLONE_VFORK
    | g::CLONE_SETTLS
    | g::CLONE_PARENT_SETTID
    | g::CLONE_CHILD_SETTID
    | g::CLONE_CHILD_CLEARTID) as u64;
/// `clone` flags a new thread must have (Linux: `CLONE_THREAD` needs `CLONE_SIGHAND`, which
/// needs `CLONE_VM`; a thread with an fd table or cwd of its own is not served).
const THREAD_NEEDS: u64 =
    (g::CLONE_VM | g::CLONE_THREAD | g::CLONE_SIGHAND | g::CLONE_FILES | g::CLONE_FS) as u64;
/// `clone` flags served for a new thread beyond [`THREAD_NEEDS`] (`CLONE_SYSVSEM`: there are
/// no System V semaphores to share; `CLONE_DETACHED`: ignored by Linux).
const THREAD_SERVED: u64 = THREAD_NEEDS
    | (g::CLONE_SYSVSEM
        | g::CLONE_SETTLS
        | g::CLONE_PARENT_SETTID
        | g::CLONE_CHILD_SETTID
        | g::CLONE_CHILD_CLEARTID
        | g::CLONE_DETACHED) as u64;
/// The exit signal's bits of `clone`'s flags.
const EXIT_SIGNAL: u64 = 0xff;

/// `fork()`.
pub fn fork(linux: &Linux, _args: &Args, regs: &mut SavedRegs) -> SysResult {
    do_fork(linux, regs, &CloneArgs::default())
}

/// `vfork()`: a fork (module comment).
pub fn vfork(linux: &Linux, _args: &Args, regs: &mut SavedRegs) -> SysResult {
    do_fork(linux, regs, &CloneArgs::default())
}

/// `clone(flags, stack, parent_tid, child_tid, tls)` — x86_64's argument order.
pub fn clone(linux: &Linux, args: &Args, regs: &mut SavedRegs) -> SysResult {
    let flags = args[0];
    let vm = u64::from(g::CLONE_VM);
    let vfork = u64::from(g::CLONE_VFORK);
    let has = |bit: u32| flags & u64::from(bit) != 0;
    if has(g::CLONE_THREAD) {
        return clone_thread(linux, args, regs);
    }
    // Linux's `copy_process`: shared handlers need shared memory; a process that shares
    // them (not a thread) is not served.
    if has(g::CLONE_SIGHAND) {
        if flags & vm == 0 {
            return Err(Errno::EINVAL);
        }
        log!("linux: clone with CLONE_SIGHAND but not CLONE_THREAD is not supported: ENOSYS");
        return Err(Errno::ENOSYS);
    }
    if flags & vm != 0 && flags & vfork == 0 {
        log!(
            "linux: clone with CLONE_VM but not CLONE_THREAD (a process sharing memory) is not supported: ENOSYS"
        );
        return Err(Errno::ENOSYS);
    }
    let unserved = flags & !(SERVED | EXIT_SIGNAL);
    if unserved != 0 {
        log!("linux: clone flags {unserved:#x} are not supported yet");
        return Err(Errno::EINVAL);
    }
    let how = CloneArgs {
        stack: args[1],
        parent_tid: if has(g::CLONE_PARENT_SETTID) {
            args[2]
        } else {
            0
        },
        child_settid: if has(g::CLONE_CHILD_SETTID) {
            args[3]
        } else {
            0
        },
        child_cleartid: if has(g::CLONE_CHILD_CLEARTID) {
            args[3]
        } else {
            0
        },
        tls: has(g::CLONE_SETTLS).then_some(args[4]),
    };
    do_fork(linux, regs, &how)
}

/// `struct clone_args`'s size at its latest version that this personality knows (Linux's
/// `CLONE_ARGS_SIZE_VER2`: up to `cgroup`), in bytes and words.
const CLONE_ARGS_BYTES: usize = g::CLONE_ARGS_SIZE_VER2 as usize;
const CLONE_ARGS_WORDS: usize = CLONE_ARGS_BYTES / 8;
/// The most `clone3` reads (Linux refuses a larger struct with `E2BIG`).
const CLONE_ARGS_MAX: u64 = k42_linux::PAGE_SIZE;
/// `clone3` flags Linux has that `clone` has not; neither is served here (`EINVAL`, logged).
const CLONE3_ONLY: u64 = g::CLONE_CLEAR_SIGHAND | g::CLONE_INTO_CGROUP;

/// `clone3(args, size)`: `clone` with its arguments in a `struct clone_args`, checked as
/// Linux's `copy_clone_args_from_user` and `clone3_args_valid` do, then served as `clone`.
pub fn clone3(linux: &Linux, args: &Args, regs: &mut SavedRegs) -> SysResult {
    let (addr, size) = (args[0], args[1]);
    if size > CLONE_ARGS_MAX {
        return Err(Errno::E2BIG);
    }
    if size < u64::from(g::CLONE_ARGS_SIZE_VER0) {
        return Err(Errno::EINVAL);
    }
    // Lossless: at most a page.
    let size = size as usize;
    let mut bytes = alloc::vec![0u8; size];
    crate::uaccess::read_into(linux, addr, &mut bytes)?;
    // A newer program's struct may be longer: what this version does not know must be zero.
    if bytes.iter().skip(CLONE_ARGS_BYTES).any(|&b| b != 0) {
        return Err(Errno::E2BIG);
    }
    let mut words = [0u64; CLONE_ARGS_WORDS];
    for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
        *word = u64::from_ne_bytes(chunk.try_into().unwrap_or_default());
    }
    let [
        flags,
        pidfd,
        child_tid,
        parent_tid,
        exit_signal,
        stack,
        stack_size,
        tls,
        set_tid,
        set_tid_size,
        cgroup,
    ] = words;
    let has = |bit: u32| flags & u64::from(bit) != 0;
    let invalid = exit_signal & !u64::from(g::CSIGNAL) != 0
        || (set_tid == 0) != (set_tid_size == 0)
        || has(g::CLONE_DETACHED)
        || (has(g::CLONE_THREAD) || has(g::CLONE_PARENT)) && exit_signal != 0
        || (stack == 0) != (stack_size == 0)
        || flags & !(u64::from(u32::MAX) | CLONE3_ONLY) != 0;
    if invalid {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE3_ONLY != 0 || has(g::CLONE_PIDFD) || set_tid != 0 || cgroup != 0 {
        log!(
            "linux: clone3 with flags {flags:#x}, pidfd {pidfd:#x}, set_tid or cgroup is not supported: EINVAL"
        );
        return Err(Errno::EINVAL);
    }
    // x86's stack grows down: the child starts at the top of the area given.
    let sp = if stack == 0 {
        0
    } else {
        stack.checked_add(stack_size).ok_or(Errno::EINVAL)?
    };
    let legacy = [flags | exit_signal, sp, parent_tid, child_tid, tls, 0];
    clone(linux, &legacy, regs)
}

/// `clone` of a thread (module comment): Linux's flag rules, then `threads::spawn`.
fn clone_thread(linux: &Linux, args: &Args, regs: &SavedRegs) -> SysResult {
    let flags = args[0];
    let has = |bit: u32| flags & u64::from(bit) != 0;
    // `copy_process`'s checks: a thread shares signal handlers, which need shared memory.
    if !has(g::CLONE_SIGHAND) || !has(g::CLONE_VM) {
        return Err(Errno::EINVAL);
    }
    if flags & THREAD_NEEDS != THREAD_NEEDS || flags & !(THREAD_SERVED | EXIT_SIGNAL) != 0 {
        log!(
            "linux: clone of a thread with flags {:#x} is not supported (needed {THREAD_NEEDS:#x}, served {THREAD_SERVED:#x})",
            flags
        );
        return Err(Errno::EINVAL);
    }
    let how = threads::NewThread {
        stack: args[1],
        tls: has(g::CLONE_SETTLS).then_some(args[4]),
        settid: [
            if has(g::CLONE_PARENT_SETTID) {
                args[2]
            } else {
                0
            },
            if has(g::CLONE_CHILD_SETTID) {
                args[3]
            } else {
                0
            },
        ],
        clear_child_tid: if has(g::CLONE_CHILD_CLEARTID) {
            args[3]
        } else {
            0
        },
    };
    threads::spawn(linux, regs, &how)
}

/// What `clone` asked beyond a plain fork.
#[derive(Default)]
struct CloneArgs {
    /// The child's stack pointer (0: the parent's).
    stack: u64,
    /// Where the parent stores the child's pid (0: nowhere).
    parent_tid: u64,
    /// Where the child stores its pid (0: nowhere).
    child_settid: u64,
    /// The child's `set_tid_address` pointer (0: none).
    child_cleartid: u64,
    /// The child's FS base, if not the parent's.
    tls: Option<u64>,
}

/// Every (server CommID, handle) this process holds that its child needs its own of.
fn held(linux: &Linux) -> Vec<(u64, XHandle)> {
    let mut held = Vec::new();
    if linux.console != XHandle::NULL {
        held.push((linux.console_comm, linux.console));
    }
    if let Some(files) = &linux.files {
        held.push((files.root.comm, files.root.handle));
        let cwd = files.cwd.lock().0.clone();
        held.push((cwd.comm, cwd.handle));
    }
    let nodes = linux.fds.lock().nodes();
    held.extend(nodes.iter().map(|n| (n.comm, n.handle)));
    // The files of file mappings, whose descriptors may be closed (`mem::Mem::origins`).
    held.extend(
        linux
            .mem
            .lock()
            .origins
            .iter()
            .map(|r| (r.source.comm, r.source.handle)),
    );
    // The pipe factory (`calls/pipe.rs`), so the child can make pipes of its own.
    if let Some(factory) = crate::calls::pipe::factory() {
        held.push((factory.comm, factory.handle));
    }
    held.sort_by_key(|&(comm, h)| (comm, h.to_word()));
    held.dedup();
    held
}

/// Takes back every handle given to the child of a fork that failed.
fn revoke(given: &BTreeMap<(u64, u64), XHandle>) {
    for (&(comm, _), &handle) in given {
        if let Err(e) = meta::release(&mut Ppc::new(comm), handle) {
            log!("linux: cannot take back a handle given to a failed fork's child: {e:?}");
        }
    }
}

/// The fork proper: returns the child's pid in the parent.
fn do_fork(linux: &Linux, regs: &SavedRegs, how: &CloneArgs) -> SysResult {
    // The child shares this process's open file descriptions, offsets included: the file
    // server keeps them from now on.
    if let Err(e) = crate::calls::file::share_offsets(linux) {
        log!("linux: fork: cannot hand a file offset to the file server: {e:?}");
        return Err(Errno::EAGAIN);
    }
    let held = held(linux);
    // The child's copy of this process's memory holds the key of this process's next random
    // bytes: this process mixes fresh entropy in before it uses it.
    {
        let _upcalls = critical::disable();
        linux.random.lock().forked();
    }
    let mut child_regs = *regs;
    child_regs.rax = 0;
    if how.stack != 0 {
        child_regs.rsp = how.stack;
    }
    let fs_base = how.tls.unwrap_or_else(program::fs_base);
    let mut child_pid = 0;
    let mut child_badge = None;
    let prepare = |badge: u64, child: XHandle| -> Result<(), Errno> {
        let mut given = BTreeMap::new();
        for &(comm, handle) in &held {
            match meta::give_access(&mut Ppc::new(comm), handle, Badge(badge), Rights::all()) {
                Ok(theirs) => {
                    given.insert((comm, handle.to_word()), theirs);
                }
                Err(e) => {
                    log!(
                        "linux: fork: cannot give the child handle {handle:?} of {comm:#x}: {e:?}"
                    );
                    revoke(&given);
                    return Err(Errno::EAGAIN);
                }
            }
        }
        if let Some(files) = &linux.files {
            // The file server checks the child's calls against its credentials: its parent's.
            let shared = crate::files::call(&files.root, &[], |fs| fs.share_credentials(badge));
            if let Err(e) = shared {
                log!("linux: fork: the file server refused the child's credentials: {e:?}");
                revoke(&given);
                return Err(Errno::EAGAIN);
            }
        }
        let (pid, table) = match crate::procs::fork_child(badge, child) {
            Ok(registered) => registered,
            Err(e) => {
                revoke(&given);
                return Err(if e == Errno::ENOSYS { Errno::EAGAIN } else { e });
            }
        };
        child_pid = pid;
        child_badge = Some(badge);
        let ids = Ids {
            pid,
            ppid: linux.ids.pid,
            ..linux.ids
        };
        let procs = linux.procs.map(|p| ProcsStart { table, ..p });
        *PLAN.lock() = Some(Plan {
            regs: child_regs,
            fs_base,
            given,
            ids,
            procs,
            child_tid: (how.child_settid, how.child_cleartid),
            forker: crate::thread_signals::current(),
        });
        Ok(())
    };
    let forked = k42_rt::fork::fork(child_main, prepare, || quiet(linux));
    let plan = PLAN.lock().take();
    match forked {
        Ok(_) => {}
        Err(ForkError::Prepare(e)) => return Err(e),
        Err(ForkError::Kernel(e)) => {
            log!("linux: fork: the kernel refused: {e:?}");
            if let Some(plan) = plan {
                revoke(&plan.given);
            }
            // The child was registered but will never run: no parent may wait for it.
            if let Some(badge) = child_badge {
                crate::procs::abandon(badge, child_pid);
            }
            return Err(Errno::ENOMEM);
        }
    }
    if how.parent_tid != 0 {
        // Lossless: Linux pids are 32-bit.
        let _ = crate::uaccess::write(linux, how.parent_tid, &(child_pid as u32).to_ne_bytes());
    }
    Ok(child_pid)
}

/// Whether no lock the child needs is held (by another thread of the program, preempted in
/// the middle of its bookkeeping): the copy is made only then (module comment).
fn quiet(linux: &Linux) -> bool {
    let files = linux.files.as_ref().is_none_or(|f| !f.cwd.is_locked());
    !linux.fds.is_locked()
        && !linux.signals.is_locked()
        && !linux.mem.is_locked()
        && !linux.exe.is_locked()
        && !PLAN.is_locked()
        && files
        && threads::quiet()
        && crate::calls::futex::quiet()
        && crate::calls::pipe::quiet()
        && crate::fd::quiet(linux)
        && crate::calls::timer::quiet()
        && crate::signals::quiet()
        && crate::inbox::quiet()
        && crate::thread_signals::quiet()
        && !state::is_locked()
}

/// The fork child's first function (`k42_rt::fork`): takes over the state with its own
/// handles and resumes the program.
fn child_main(env: Env) -> u32 {
    let Some(plan) = PLAN.lock().take() else {
        log!("linux: a fork child found no plan");
        return u32::from(k42_abi::runner::STATUS_NOT_FOUND);
    };
    let parents = state::get();
    crate::thread_signals::for_fork_child(&parents.signals, plan.forker);
    state::install(child_state(parents, &plan, &env));
    crate::calls::pipe::for_fork_child(|node| {
        let handle = plan
            .given
            .get(&(node.comm, node.handle.to_word()))
            .copied()?;
        Some(Arc::new(Node {
            comm: node.comm,
            handle,
        }))
    });
    let linux = state::get();
    if foreign::fs_base_writable() {
        program::set_fs_base(plan.fs_base);
    }
    let (settid, cleartid) = plan.child_tid;
    threads::only(linux, linux.ids.pid, cleartid);
    // Whatever the parent's other threads were doing is not the child's: their futex waits,
    // a stop one of them was in, a fault one of them took.
    crate::calls::futex::reset();
    crate::job::for_fork_child();
    crate::signals::for_fork_child_fault();
    crate::procs::started(env.comm_id);
    if settid != 0 {
        // Lossless: Linux pids are 32-bit.
        let _ = crate::uaccess::write(linux, settid, &(linux.ids.pid as u32).to_ne_bytes());
    }
    if let Err(e) = program::install(crate::table::serve, crate::table::fast) {
        log!("linux: a fork child cannot install the SVC entry: {e:?}");
        return u32::from(k42_abi::runner::STATUS_NOT_FOUND);
    }
    crate::calls::fault::install();
    program::set_resume_hook(crate::signals::on_resume);
    // Timers are not inherited (the parent's timer thread is not ours).
    crate::calls::timer::for_fork_child();
    program::run(plan.regs)
}

/// The child's memory state: the parent's, with its file mappings' nodes the child's own
/// (`node_for`; a record whose node the child was not given goes, and its mapping cannot grow
/// with its file's bytes). The parent's nodes are never dropped here: dropping one would
/// release the parent's handle.
fn child_mem(mut mem: Mem, node_for: &impl Fn(&Node) -> Option<Arc<Node>>) -> Mem {
    let parents = core::mem::take(&mut mem.origins);
    for r in parents.iter() {
        if let Some(node) = node_for(&r.source) {
            mem.origins.add(r.start, r.end, node, r.offset);
        }
    }
    core::mem::forget(parents);
    mem
}

/// The child's state, made from its copy of the parent's (which it never drops: `state.rs`).
fn child_state(parents: &Linux, plan: &Plan, env: &Env) -> Linux {
    let mine = |comm: u64, handle: XHandle| {
        plan.given
            .get(&(comm, handle.to_word()))
            .copied()
            .unwrap_or(XHandle::NULL)
    };
    // One node per handle, as in the parent: a node releases its handle when dropped, and
    // the parent may reach one handle through several nodes (its root is its first cwd;
    // `fchdir` shares an fd's node), so two nodes of one handle here would leave the others
    // stale once one goes (a `cd` in the child released the root it exec'd from).
    let made: RefCell<BTreeMap<(u64, u64), Arc<Node>>> = RefCell::new(BTreeMap::new());
    let node_for = |node: &Node| {
        let key = (node.comm, node.handle.to_word());
        if let Some(known) = made.borrow().get(&key) {
            return Some(known.clone());
        }
        let handle = mine(node.comm, node.handle);
        if handle == XHandle::NULL {
            return None;
        }
        let made_now = Arc::new(Node {
            comm: node.comm,
            handle,
        });
        made.borrow_mut().insert(key, made_now.clone());
        Some(made_now)
    };
    let files = parents.files.as_ref().and_then(|f| {
        let root = node_for(&f.root)?;
        let (cwd, path) = f.cwd.lock().clone();
        let cwd = node_for(&cwd)?;
        Some(Files {
            root,
            cwd: Mutex::new((cwd, path)),
        })
    });
    let fds = parents.fds.lock().for_fork_child(node_for);
    let mem = child_mem(core::mem::take(&mut *parents.mem.lock()), &node_for);
    Linux {
        console_comm: parents.console_comm,
        console: mine(parents.console_comm, parents.console),
        boot: XHandle::NULL,
        memory: env.memory,
        mem: Mutex::new(mem),
        fds: Mutex::new(fds),
        signals: crate::thread_signals::SignalState::new(crate::signals::for_fork_child(
            &parents.signals,
        )),
        umask: AtomicU64::new(parents.umask()),
        files,
        exe: Mutex::new(String::clone(&parents.exe.lock())),
        procs: plan.procs,
        ids: plan.ids,
        // The parent's, as the fork copied them (the server gave the child the same).
        creds: crate::state::Creds::new(parents.creds.get()),
        // Unkeyed: the child draws its own key rather than repeat the parent's stream.
        random: Mutex::new(k42_linux::random::Random::new()),
        children_cpu_ns: AtomicU64::new(0),
    }
}
