//! The process server's interface (DESIGN §2.7; issue #4 item 4): Linux process ids, parents,
//! process groups and sessions, credentials, the umask, scheduling parameters, the host name,
//! `uname` and `sysinfo`.
//! The kernel knows none of these (a K42 process is its badge); the personalities ask this
//! server, which answers every question about the *caller* by the badge the kernel stamped.
//!
//! **Objects.** One: the process table, whose root the spawner (the bootstrap) holds with
//! CONTROL to [`Procs::register`] processes; each registered Linux process is given access
//! with READ. A process forks by [`Procs::fork`], which registers the child and hands it its own
//! handle. `uname`'s bytes travel in the PPC data area. Errors are Linux's errno values.
//!
//! **Ends and waits** (issue #5). A process reports its end with [`Procs::exit`] before it
//! goes; the server keeps it as a zombie until its parent collects it with [`Procs::wait`],
//! which never blocks: when nothing has ended yet the parent waits in its own process for a
//! [`ChildEvent`] notification (registered with [`Procs::notify`]) and asks again. The tree's
//! rules are `k42_ptree`'s, host-tested.
//!
//! **Job control.** A process reports its own stops and continues ([`Procs::stopped`],
//! [`Procs::continued`]); the table keeps the terminal's session and foreground group
//! ([`Procs::terminal`], [`Procs::set_foreground`], [`Procs::acquire_terminal`]), and the
//! console server, holding [`TERMINAL`], sends the signals its input raises to that group
//! ([`Procs::terminal_signal`]).
//!
//! **`/proc`.** The table is what the personality's `/proc` shows: it lists the pids
//! ([`Procs::pids`]) and gives one process's facts ([`Procs::facts`]) to any process, as Linux
//! lets anyone read `/proc/PID/stat`, `status`, `cmdline` and `comm`; each process tells its
//! own command at start and at every exec ([`Procs::set_command`]), and its new name when it
//! renames itself ([`Procs::set_comm`]); it also counts what `/proc/stat` and
//! `/proc/loadavg` show ([`Procs::system`]) and lists a process's threads for
//! `/proc/PID/task` ([`Procs::tasks`]). The encodings are `k42_ptree::procfs`'s.
//!
//! **Scheduling parameters.** Each process's nice value, policy and CPU affinity are kept here
//! ([`Procs::getpriority`], [`Procs::setpriority`], [`Procs::sched_params`],
//! [`Procs::set_scheduler`], [`Procs::set_affinity`]), so a process may read or, with
//! Linux's permission, change another's; the rules are `k42_ptree::sched`'s.

use k42_abi::kernel::{ASYNC_PAYLOAD_WORDS, AsyncMessage, PPC_DATA_BYTES, comm_pid};
use k42_linux::Errno;
use k42_rights::wire::method_word;
use k42_rights::{Badge, Rights};

use crate::FIRST_SERVER_INTERFACE;
pub use crate::fs::GID_BYTES;

/// Interface id of [`Procs`].
pub const PROCS_INTERFACE: u32 = FIRST_SERVER_INTERFACE + 5;

/// Rights the spawner gets on the table: use, register, give access, and the terminal's right
/// to give on to the console server.
pub const SPAWNER_RIGHTS: Rights = Rights::READ
    .union(Rights::WRITE)
    .union(Rights::CONTROL)
    .union(TERMINAL)
    .union(REAP);
/// Rights a registered process gets.
pub const PROCESS_RIGHTS: Rights = Rights::READ;
/// The terminal's right: [`Procs::terminal_signal`]. The spawner gives it to the console
/// server, whose input raises the signals.
pub const TERMINAL: Rights = Rights::object(0);
/// The right to record a process's end it did not report ([`Procs::reap`]): the spawner's,
/// which the kernel tells when a process ends.
pub const REAP: Rights = Rights::object(1);

/// The most supplementary groups a process may have on K42: as many gid_t values as one PPC
/// data area carries ([`Procs::set_groups`], [`Procs::groups`]), fewer than Linux's
/// `NGROUPS_MAX` (`k42_ptree::NGROUPS_MAX`); `setgroups` with more is `EINVAL`.
pub const GROUPS_MAX: usize = PPC_DATA_BYTES / GID_BYTES;

/// [`Procs::kill`]'s answer when it stopped the caller itself through the kernel (SIGSTOP):
/// the caller has been stopped and continued since, and raises nothing.
pub const KILL_CARRIED_OUT: u64 = 2;

/// Bytes of one `struct utsname` field (`__NEW_UTS_LEN` + 1).
pub const UTS_FIELD: usize = 65;
/// Fields of `struct utsname`.
pub const UTS_FIELDS: usize = 6;

/// The process server.
#[k42_idl::interface(id = 21)]
pub trait Procs {
    /// Registers the K42 process `badge` as a Linux process whose parent is the Linux process
    /// `parent` (1: init), with user and group `uid`/`gid` (real = effective = saved). Returns
    /// its Linux pid; it leads its own process group and session (as init's children do).
    /// `kill` is a handle word on the process's kernel `Process` object that the server may
    /// use with DESTROY (0: none): SIGKILL then ends it through the kernel ([`Procs::kill`]).
    #[rights(CONTROL)]
    fn register(
        &mut self,
        caller: Badge,
        badge: u64,
        parent: u64,
        uid: u64,
        gid: u64,
        kill: u64,
    ) -> Result<u64, Errno>;
    /// The caller's pid, parent pid, process group and session.
    #[rights(READ)]
    fn ids(&self, caller: Badge) -> Result<(u64, u64, u64, u64), Errno>;
    /// The caller's real and effective user and group ids.
    #[rights(READ)]
    fn creds(&self, caller: Badge) -> Result<(u64, u64, u64, u64), Errno>;
    /// `getresuid`/`getresgid`: the caller's real, effective, saved and filesystem ids of
    /// `family` (`k42_ptree::Family::to_word`).
    #[rights(READ)]
    fn resids(&self, caller: Badge, family: u64) -> Result<(u64, u64, u64, u64), Errno>;
    /// A setuid-family call on the caller's own ids of `family`: `kind` and `a`, `b`, `c` are a
    /// `k42_ptree::IdChange`'s words (`IdChange::to_words`), applied with Linux's rules
    /// (`k42_ptree::Creds::change`: `EPERM`, `EINVAL`). Returns the call's value (the old
    /// filesystem id for `setfsuid`/`setfsgid`, else 0) and the family's new real and
    /// effective ids. The file server is told the new filesystem ids before the reply; if it
    /// cannot be, the change is undone (`EIO`).
    #[rights(READ)]
    fn set_ids(
        &mut self,
        caller: Badge,
        family: u64,
        kind: u64,
        a: u64,
        b: u64,
        c: u64,
    ) -> Result<(u64, u64, u64), Errno>;
    /// `setgroups(count, list)`: the call data is the list, each gid a little-endian u32
    /// ([`GID_BYTES`]); less data than `count` groups means the caller could not read its
    /// list (`EFAULT`). Linux's checks in its order (`k42_ptree::creds::setgroups`): `EPERM`
    /// unless the caller is root, `EINVAL` past `NGROUPS_MAX` or [`GROUPS_MAX`]. The file
    /// server is told, as [`Procs::set_ids`].
    #[rights(READ)]
    fn set_groups(&mut self, caller: Badge, count: u64) -> Result<(), Errno>;
    /// The supplementary groups of process `pid` (0: the caller), running or a zombie, as the
    /// reply data (sorted, each a little-endian u32): `getgroups`, and `/proc/PID/status`'s
    /// `Groups:` for anyone. Returns how many. `ESRCH` for no such process.
    #[rights(READ)]
    fn groups(&self, caller: Badge, pid: u64) -> Result<u64, Errno>;
    /// The caller executed a new program (a file without set-id bits: K42 does not honour
    /// them): its saved and filesystem ids become its effective ones, as Linux's `execve`
    /// makes them (`k42_ptree::Creds::executed`); the file server is told.
    #[rights(READ)]
    fn executed(&mut self, caller: Badge) -> Result<(), Errno>;
    /// The spawner attaches the file server: `handle` is this server's handle (with
    /// `k42_ifaces::fs::SET_CREDENTIALS`) on its root at the file server's dispatcher `comm`,
    /// through which every credentials change is passed on (`Fs::set_credentials`).
    #[rights(CONTROL)]
    fn attach_fs(&mut self, caller: Badge, comm: u64, handle: u64) -> Result<(), Errno>;
    /// The caller's umask; with `set` 1, replaces it with `new` and returns the old one.
    #[rights(READ)]
    fn umask(&mut self, caller: Badge, new: u64, set: u64) -> Result<u64, Errno>;
    /// `struct utsname` (six 65-byte fields) as the reply data.
    #[rights(READ)]
    fn uname(&self, caller: Badge) -> Result<(), Errno>;
    /// Sets the host name to the call data (`EPERM` unless the caller is root, `EINVAL` past
    /// 64 bytes).
    #[rights(READ)]
    fn sethostname(&mut self, caller: Badge) -> Result<(), Errno>;
    /// Uptime in seconds, the number of processes, and the bytes of memory the kernel manages
    /// and has free (`Boot::memory`).
    #[rights(READ)]
    fn sysinfo(&self, caller: Badge) -> Result<(u64, u64, u64, u64), Errno>;
    /// `fork`: registers the K42 process `child_badge` as a new Linux process, the caller's
    /// child, with the caller's process group, session, credentials and umask. Returns the
    /// child's pid and the word of the child's own handle on the table (READ, matched to
    /// `child_badge`: the child uses it instead of its parent's). `EINVAL` if `child_badge` is
    /// the caller, `EBUSY` if it is registered already. `kill`, as [`Procs::register`]'s: the
    /// parent gives the server READ and DESTROY on the child's kernel `Process` first, and the
    /// server asks the kernel (`Process::fork_origin`) that it names `child_badge`, a fork
    /// child of the caller not yet forked into: `EPERM` otherwise.
    #[rights(READ)]
    fn fork(&mut self, caller: Badge, child_badge: u64, kill: u64) -> Result<(u64, u64), Errno>;
    /// Registers the caller's dispatcher `comm` (a CommID of the caller's own process: `EPERM`
    /// otherwise) for [`NOTIFY_METHOD`] messages: one, a [`ChildEvent`], each time one of its
    /// children ends.
    #[rights(READ)]
    fn notify(&mut self, caller: Badge, comm: u64) -> Result<(), Errno>;
    /// The caller ends with the Linux wait status `wait_status` (`k42_ptree::WaitStatus`:
    /// `(code & 0xff) << 8` for an exit, the signal number, `| 0x80` with a core dump, for a
    /// death by signal), having had `cpu_ns` of CPU time of its own (the server bounds it by
    /// what the process could have had and adds its collected children's from its own record,
    /// `k42_ptree::Tree::set_cpu_ns`): it becomes a zombie for its parent to [`Procs::wait`] for, or is reaped at once if its
    /// parent is init; its children become init's (their `ids` say ppid 1); its parent is
    /// notified.
    #[rights(READ)]
    fn exit(&mut self, caller: Badge, wait_status: u64, cpu_ns: u64) -> Result<(), Errno>;
    /// Collects an ended child: `selector` is `wait4`'s pid as an i64 word (> 0 that child, -1
    /// any, 0 the caller's process group, < -1 the group `-selector`), `options` Linux's
    /// `waitid` bits, validated by the caller (`WEXITED` must be set for ended children to be
    /// reported, `WNOWAIT` leaves the child waitable; `WNOHANG` changes nothing here: the
    /// server never blocks). Returns the child's pid, wait status, real uid (`waitid`'s
    /// `si_uid`) and, for an ended child, the CPU time it said it had at [`Procs::exit`] (0
    /// for a stop or continue, and for a process killed before it could say);
    /// `(0, 0, 0, 0)` when children match but none has ended (wait for a [`ChildEvent`] and
    /// call again), `ECHILD` when no child matches.
    #[rights(READ)]
    fn wait(
        &mut self,
        caller: Badge,
        selector: u64,
        options: u64,
    ) -> Result<(u64, u64, u64, u64), Errno>;
    /// `getpgid(pid)`: the process group of `pid` (0: the caller), `ESRCH` for none.
    #[rights(READ)]
    fn getpgid(&self, caller: Badge, pid: u64) -> Result<u64, Errno>;
    /// `getsid(pid)`: the session of `pid` (0: the caller), `ESRCH` for none.
    #[rights(READ)]
    fn getsid(&self, caller: Badge, pid: u64) -> Result<u64, Errno>;
    /// `setpgid(pid, pgid)`, both pid_t values sign-extended to words, with Linux's rules
    /// (`k42_ptree::Tree::setpgid`: `EINVAL`, `ESRCH`, `EPERM`).
    #[rights(READ)]
    fn setpgid(&mut self, caller: Badge, pid: u64, pgid: u64) -> Result<(), Errno>;
    /// `setsid()`: the caller leads a new session and group; returns its id (`EPERM` if it
    /// leads a group).
    #[rights(READ)]
    fn setsid(&mut self, caller: Badge) -> Result<u64, Errno>;
    /// `kill(pid, sig)` (issue #5): `pid` a pid_t sign-extended to a word (> 0 that process,
    /// 0 the caller's group, -1 everyone the caller may signal but init and itself, < -1 the
    /// group `-pid`), `sig` a valid signal number or 0 (existence and permission only; the
    /// caller checks the range). Each permitted running target but the caller is sent a
    /// [`SignalEvent`] at the dispatcher it registered ([`Procs::notify`]) — except SIGKILL,
    /// which ends a target whose kernel `Process` the server may destroy through the kernel
    /// (its personality has no say; the kernel's EXITED report makes it a zombie killed by
    /// SIGKILL, [`Procs::reap`]), and SIGSTOP, which stops such a target through the kernel
    /// (`Process::stop`: wherever it is, its personality has no say) and records the stop for
    /// its parent as [`Procs::stopped`] would; SIGCONT is sent, and also continues such a
    /// target through the kernel (`Process::cont`) and records the continue. Returns 1 if the
    /// caller is itself a target (it raises the signal on itself, synchronously), else 0 —
    /// or [`KILL_CARRIED_OUT`] for a SIGSTOP that stopped the caller itself through the
    /// kernel: the call then returns once it has been continued, and it raises nothing.
    /// `ESRCH` when nothing is selected, `EPERM` when the caller may signal none of it
    /// (`k42_ptree::Tree::kill_targets`).
    #[rights(READ)]
    fn kill(&mut self, caller: Badge, pid: u64, sig: u64) -> Result<u64, Errno>;
    /// Job control (issue #5): the caller stops with signal `sig` (its personality applies a
    /// stop signal's default action, and then waits for SIGCONT). Its parent's waits with
    /// `WUNTRACED` report it once, and the parent is sent a [`ChildEvent`] with the stop
    /// status (`(sig << 8) | 0x7f`). Returns 1; or 0 — do not stop, the signal is discarded —
    /// for SIGTSTP, SIGTTIN and SIGTTOU when the caller's process group is orphaned.
    #[rights(READ)]
    fn stopped(&mut self, caller: Badge, sig: u64) -> Result<u64, Errno>;
    /// The caller continued after a stop: its parent's waits with `WCONTINUED` report it once,
    /// and the parent is sent a [`ChildEvent`] with status `0xffff`. Nothing if it was not
    /// stopped.
    #[rights(READ)]
    fn continued(&mut self, caller: Badge) -> Result<(), Errno>;
    /// The terminal (the console) as the caller sees it: its foreground process group, the
    /// session it controls, the caller's group, and 1 if that group is orphaned (0 if not).
    /// `ENOTTY` unless it is the controlling terminal of the caller's session
    /// (`k42_ptree::Tree::terminal`).
    #[rights(READ)]
    fn terminal(&self, caller: Badge) -> Result<(u64, u64, u64, u64), Errno>;
    /// `tcsetpgrp`: the terminal's foreground group becomes `pgrp` (a pid_t sign-extended to a
    /// word), with `tiocspgrp`'s errors (`EINVAL`, `ENOTTY`, `ESRCH`, `EPERM`); the caller
    /// checks first whether it is in the background (SIGTTOU).
    #[rights(READ)]
    fn set_foreground(&mut self, caller: Badge, pgrp: u64) -> Result<(), Errno>;
    /// `TIOCSCTTY`: the caller, a session leader, makes the terminal its session's
    /// controlling terminal; `steal` 1 takes it from another session (root only: `EPERM`
    /// otherwise, and whenever the caller leads no session).
    #[rights(READ)]
    fn acquire_terminal(&mut self, caller: Badge, steal: u64) -> Result<(), Errno>;
    /// From the console server: its input raised signal `sig` (^C, ^\, ^Z, a window-size
    /// change); every running process of the terminal's foreground group is sent a
    /// [`SignalEvent`] marked as the terminal's (`SI_KERNEL`). Returns how many.
    #[rights(crate::procs::TERMINAL)]
    fn terminal_signal(&mut self, caller: Badge, sig: u64) -> Result<u64, Errno>;
    /// A fork the kernel could not complete: the caller's child `child_badge` (Linux pid
    /// `child_pid`), registered by [`Procs::fork`], is dropped without a trace — running, or
    /// already a zombie if the kernel's report of its end came first — and ended through the
    /// kernel if it runs (`ESRCH` unless it is the caller's child; `EBUSY` if it has
    /// children).
    #[rights(READ)]
    fn abandon(&mut self, caller: Badge, child_badge: u64, child_pid: u64) -> Result<(), Errno>;
    /// The kernel said the K42 process `badge` ended: if it is still registered as running
    /// (its personality died before it could report the end), it ends now as killed by
    /// SIGKILL — a zombie for its parent, whose wait would otherwise never return. Returns 1
    /// if so, 0 if it had reported its end (or was never registered).
    #[rights(crate::procs::REAP)]
    fn reap(&mut self, caller: Badge, badge: u64) -> Result<u64, Errno>;
    /// A new thread id for the caller's new thread (`clone(CLONE_THREAD)`), from the pid space
    /// (`k42_ptree::threads`). `EAGAIN` when none is free.
    #[rights(READ)]
    fn new_thread(&mut self, caller: Badge) -> Result<u64, Errno>;
    /// The caller's thread `tid` ended: its id is free again (`ESRCH` unless it is one of the
    /// caller's).
    #[rights(READ)]
    fn end_thread(&mut self, caller: Badge, tid: u64) -> Result<(), Errno>;
    /// `/proc`'s listing: the pids above `after` — init, then every process, running or a
    /// zombie — in increasing order, as many as fit in the reply data, each a little-endian u32
    /// (`k42_ptree::procfs::encode_pids`). Returns how many, and 1 if more may follow (ask again
    /// from the last one), else 0.
    #[rights(READ)]
    fn pids(&self, caller: Badge, after: u64) -> Result<(u64, u64), Errno>;
    /// What `/proc/PID/…` shows of process `pid` (`k42_ptree::Tree::facts`; it is running if
    /// it is the caller), as the reply data (`k42_ptree::procfs::Facts::encode`): with its
    /// command line from byte `offset` on, as much as fits (ask again from where the piece
    /// ends). `ESRCH` if there is no such process.
    #[rights(READ)]
    fn facts(&self, caller: Badge, pid: u64, offset: u64) -> Result<(), Errno>;
    /// The caller tells its command, at start and at every exec: the call data is `comm_len`
    /// bytes of its name (`comm`, the base name of the file it executed) followed by its
    /// command line (each argument with its NUL) from byte `offset` on; offset 0 starts both
    /// anew, a later call adds to the command line where it ends
    /// (`k42_ptree::Tree::set_command`: at most `k42_ptree::procfs::CMDLINE_MAX` bytes are
    /// kept; `EINVAL` for another offset).
    #[rights(READ)]
    fn set_command(&mut self, caller: Badge, comm_len: u64, offset: u64) -> Result<(), Errno>;
    /// The caller renames itself (`prctl(PR_SET_NAME)`): its `comm` becomes the call data
    /// (cut to `k42_ptree::procfs::COMM_MAX` bytes); its command line stays.
    #[rights(READ)]
    fn set_comm(&mut self, caller: Badge) -> Result<(), Errno>;
    /// What `/proc/stat` and `/proc/loadavg` show of the system
    /// (`k42_ptree::procsys::System`): the CPUs the kernel runs (`Boot::cpus`), the tasks
    /// (processes and threads) made since boot, the tasks that exist now (init, zombies and
    /// threads included), and the last pid given.
    #[rights(READ)]
    fn system(&self, caller: Badge) -> Result<(u64, u64, u64, u64), Errno>;
    /// `/proc/PID/task`'s listing: the ids of process `pid`'s threads, its own included, above
    /// `after`, in increasing order, as many as fit in the reply data (each a little-endian
    /// u32, as [`Procs::pids`]). Returns how many, and 1 if more may follow, else 0. `ESRCH`
    /// if there is no such process.
    #[rights(READ)]
    fn tasks(&self, caller: Badge, pid: u64, after: u64) -> Result<(u64, u64), Errno>;
    /// `getpriority(which, who)` (C ints): 20 minus the lowest nice value of the processes
    /// named — a process or thread (`PRIO_PROCESS`, 0: the caller), a process group
    /// (`PRIO_PGRP`, 0: the caller's) or a real user's (`PRIO_USER`, 0: the caller's) — as the
    /// syscall returns it. `EINVAL` for another `which`, `ESRCH` when none matches
    /// (`k42_ptree::Tree::getpriority`).
    #[rights(READ)]
    fn getpriority(&self, caller: Badge, which: u64, who: u64) -> Result<u64, Errno>;
    /// `setpriority(which, who, nice)`: every process named gets nice value `nice` (a C int,
    /// clamped to -20..=19) if the caller may change it (`EPERM`) and, for a lower value, may
    /// lower it (`EACCES`); `ESRCH` when none matches (`k42_ptree::Tree::setpriority`).
    #[rights(READ)]
    fn setpriority(&mut self, caller: Badge, which: u64, who: u64, nice: u64) -> Result<(), Errno>;
    /// The scheduling parameters of the process `pid` names (0: the caller; a thread id: its
    /// process): its policy (with `SCHED_RESET_ON_FORK`), its real-time priority, and the
    /// mask of CPUs it may run on (bit n: CPU n). Anyone may ask; `ESRCH` for no such process.
    #[rights(READ)]
    fn sched_params(&self, caller: Badge, pid: u64) -> Result<(u64, u64, u64), Errno>;
    /// `sched_setscheduler(pid, policy, priority)`, or `sched_setparam` with `policy`
    /// [`KEEP_POLICY`] (priority and policy C ints): `ESRCH`, `EPERM` unless the caller may
    /// change the process, then Linux's checks (`k42_linux::sched::Params::set_scheduler`).
    #[rights(READ)]
    fn set_scheduler(
        &mut self,
        caller: Badge,
        pid: u64,
        policy: u64,
        priority: u64,
    ) -> Result<(), Errno>;
    /// `sched_setaffinity(pid, …)` with the first word of the caller's mask: `ESRCH`, `EPERM`,
    /// then `EINVAL` if it names none of the CPUs there are.
    #[rights(READ)]
    fn set_affinity(&mut self, caller: Badge, pid: u64, mask: u64) -> Result<(), Errno>;
}

/// [`Procs::set_scheduler`]'s `policy` for `sched_setparam`: the process keeps its policy.
pub const KEEP_POLICY: u64 = 1 << 32;

const _: () = assert!(ProcsMethod::INTERFACE_ID == PROCS_INTERFACE);

/// The process server's notification messages: its interface with a method index no method
/// has (async messages are not dispatched; the word only has to be unmistakable).
const NOTIFY_INDEX: u32 = u32::MAX;
/// Method word of the message a registered process ([`Procs::notify`]) is sent when one of its
/// children ends; the payload is a [`ChildEvent`].
pub const NOTIFY_METHOD: u64 = method_word(PROCS_INTERFACE, NOTIFY_INDEX);
/// Payload word 0 of a [`ChildEvent`] message (word 1: the child's pid, word 2: its status
/// and real uid).
const EVENT_CHILD_ENDED: u64 = 1;
/// Payload word 0 of a [`SignalEvent`] message (word 1: the signal and the sender's uid,
/// word 2: the sender's pid).
const EVENT_SIGNAL: u64 = 2;
/// Payload word 0 of a [`SignalEvent`] the terminal's input raised (sender pid and uid 0).
const EVENT_TERMINAL_SIGNAL: u64 = 3;
/// Where the sender's uid sits in a [`SignalEvent`]'s word 1 (the signal is the low half), and
/// the child's in a [`ChildEvent`]'s word 2 (the status is the low half).
const UID_SHIFT: u32 = 32;

/// What a process-server notification says: the child `pid` (real user `uid`) ended with the
/// wait status `status`. Only a wake-up: the server's table is the truth, so the receiver calls
/// [`Procs::wait`] to collect it (a notification may be stale, or arrive for a child another
/// wait collected already).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChildEvent {
    /// The child's pid.
    pub pid: u64,
    /// Its wait status (`k42_ptree::WaitStatus`, 32 bits).
    pub status: u32,
    /// Its real uid (SIGCHLD's `si_uid`).
    pub uid: u32,
}

impl ChildEvent {
    /// The message payload.
    pub fn to_payload(self) -> [u64; ASYNC_PAYLOAD_WORDS] {
        [
            EVENT_CHILD_ENDED,
            self.pid,
            u64::from(self.status) | (u64::from(self.uid) << UID_SHIFT),
        ]
    }

    /// The event `msg` carries, if it is a notification from the process server whose
    /// dispatcher is `procs_comm` (the badge is the kernel's stamp: nobody else can send one).
    pub fn from_message(msg: &AsyncMessage, procs_comm: u64) -> Option<Self> {
        if msg.method != NOTIFY_METHOD
            || msg.badge != comm_pid(procs_comm)
            || msg.payload[0] != EVENT_CHILD_ENDED
        {
            return None;
        }
        Some(Self {
            pid: msg.payload[1],
            // Lossless: the halves of a word.
            status: msg.payload[2] as u32,
            uid: (msg.payload[2] >> UID_SHIFT) as u32,
        })
    }
}

/// A signal another process sent with `kill` ([`Procs::kill`]), for the personality to raise
/// (`SI_USER` with the sender's pid and real uid, as Linux's `siginfo` has them). The badge
/// of the message is the process server's, so nobody else can forge one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalEvent {
    /// The signal.
    pub sig: u32,
    /// The sender's pid.
    pub pid: u64,
    /// The sender's real uid.
    pub uid: u32,
    /// Raised by the terminal's input (`SI_KERNEL`), not sent by a process (`SI_USER`).
    pub terminal: bool,
}

impl SignalEvent {
    /// The message payload.
    pub fn to_payload(self) -> [u64; ASYNC_PAYLOAD_WORDS] {
        [
            if self.terminal {
                EVENT_TERMINAL_SIGNAL
            } else {
                EVENT_SIGNAL
            },
            u64::from(self.sig) | (u64::from(self.uid) << UID_SHIFT),
            self.pid,
        ]
    }

    /// The event `msg` carries, if it is a signal from the process server at `procs_comm`.
    pub fn from_message(msg: &AsyncMessage, procs_comm: u64) -> Option<Self> {
        if msg.method != NOTIFY_METHOD
            || msg.badge != comm_pid(procs_comm)
            || !matches!(msg.payload[0], EVENT_SIGNAL | EVENT_TERMINAL_SIGNAL)
        {
            return None;
        }
        Some(Self {
            // Lossless: the halves of a word.
            sig: msg.payload[1] as u32,
            uid: (msg.payload[1] >> UID_SHIFT) as u32,
            pid: msg.payload[2],
            terminal: msg.payload[0] == EVENT_TERMINAL_SIGNAL,
        })
    }
}
