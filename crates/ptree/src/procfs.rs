//! `/proc`'s process facts (issue #4: "/proc beyond /proc/self"): what the process server knows
//! of one process ([`Facts`], from [`Tree::facts`]), the texts Linux's `fs/proc/array.c` writes
//! from such facts — `/proc/PID/stat` ([`Facts::stat`]), `/proc/PID/status` ([`Facts::status`]),
//! `/proc/PID/comm` and `/proc/PID/cmdline` — and the two system-wide files the personality
//! can fill honestly, `/proc/uptime` and `/proc/meminfo`; and how facts and pid lists travel in
//! a PPC data area ([`Facts::encode`], [`encode_pids`]).
//!
//! The process tree owns the facts; each process tells it its own command (`comm`, the base name
//! of the file it executed, and `cmdline`, its argv) at start and at every exec
//! ([`Tree::set_command`]). The Linux personality (`user/bin/linux/src/procfs.rs`) asks the
//! process server (`k42_ifaces::procs`) and formats here; the `/proc` name space it serves is
//! [`crate::procpath`].
//!
//! What the tree does not know is written as Linux writes it for a reader without ptrace access
//! to the process: addresses as 0 (1 for the code range of a process with memory, so that it does
//! not look like a kernel thread), no exit code, no wait channel. CPU times, page faults, memory
//! sizes and signal masks are not kept, and are written as 0 (`stat`) or left out (`status`).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use k42_linux::Errno;
use k42_linux::raw::general as g;

use crate::tree::{INIT_PID, Pid, State, Tree};

/// Longest `comm` (Linux's `TASK_COMM_LEN` less its NUL).
pub const COMM_MAX: usize = 15;
/// Most bytes of a command line kept: one page, as Linux's `/proc/PID/cmdline` gave before 4.2.
pub const CMDLINE_MAX: usize = 4096;
/// The console, as a controlling terminal: the first serial port, `ttyS0` (major 4, minor 64),
/// which is what Linux's `/proc/PID/stat` names for a process of the console's session.
pub const CONSOLE_TTY: (u32, u32) = (4, 64);
/// Linux's `USER_HZ`: the unit of `stat`'s times.
pub const USER_HZ: u64 = 100;
/// Nanoseconds in one `USER_HZ` tick.
const NS_PER_TICK: u64 = 1_000_000_000 / USER_HZ;
/// Nanoseconds in a hundredth of a second (`/proc/uptime`'s precision).
const NS_PER_CENTI: u64 = 10_000_000;
/// Nanoseconds in a second.
const NS_PER_SEC: u64 = 1_000_000_000;
/// `stat`'s priority of a normal task at nice 0 (`task_prio`: its `prio`, `MAX_RT_PRIO + 20`,
/// less `MAX_RT_PRIO`); each step of nice adds one.
const NICE_0_PRIORITY: i64 = 20;
/// `stat`'s code range for a process with memory, as Linux writes it for a reader without
/// ptrace access (so that it does not look like a kernel thread, whose range is 0).
const HIDDEN_CODE_ADDRESS: u64 = 1;
/// The name of the process that plays init: the native bootstrap (`user/bin/bootstrap`), not a
/// Linux program (so, like a kernel thread, it has no command line).
pub const INIT_COMM: &[u8] = b"bootstrap";

/// What a process is doing, as `stat` and `status` name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// Running: the process that asks (it runs, reading).
    Running,
    /// Any other live process: the server cannot tell a wait from a run, and a process that is
    /// not the asker is far more often waiting.
    Sleeping,
    /// Stopped by a signal (`crate::job`).
    Stopped,
    /// Ended, not yet collected by its parent.
    Zombie,
}

impl RunState {
    /// The letter of `stat`'s third field.
    pub const fn letter(self) -> u8 {
        match self {
            RunState::Running => b'R',
            RunState::Sleeping => b'S',
            RunState::Stopped => b'T',
            RunState::Zombie => b'Z',
        }
    }

    /// `status`'s `State:` value.
    pub const fn name(self) -> &'static str {
        match self {
            RunState::Running => "R (running)",
            RunState::Sleeping => "S (sleeping)",
            RunState::Stopped => "T (stopped)",
            RunState::Zombie => "Z (zombie)",
        }
    }

    fn from_letter(letter: u64) -> Option<Self> {
        [
            RunState::Running,
            RunState::Sleeping,
            RunState::Stopped,
            RunState::Zombie,
        ]
        .into_iter()
        .find(|s| u64::from(s.letter()) == letter)
    }
}

/// One process as `/proc/PID/…` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    /// Its pid.
    pub pid: Pid,
    /// Its parent's (0 for init).
    pub ppid: Pid,
    /// Its process group.
    pub pgid: Pid,
    /// Its session.
    pub sid: Pid,
    /// What it is doing.
    pub state: RunState,
    /// Real user.
    pub uid: u64,
    /// Effective user.
    pub euid: u64,
    /// Saved user.
    pub suid: u64,
    /// Filesystem user.
    pub fsuid: u64,
    /// Real group.
    pub gid: u64,
    /// Effective group.
    pub egid: u64,
    /// Saved group.
    pub sgid: u64,
    /// Filesystem group.
    pub fsgid: u64,
    /// Its umask; `None` for a zombie (Linux then writes no `Umask:` line) and for init.
    pub umask: Option<u64>,
    /// Its threads, the first included.
    pub threads: u64,
    /// Its controlling terminal as (device, foreground process group), if it has one.
    pub tty: Option<((u32, u32), Pid)>,
    /// When it started, in nanoseconds since boot.
    pub start_ns: u64,
    /// Its nice value, -20..=19.
    pub nice: i32,
    /// Its scheduling policy (`SCHED_OTHER`, …, without `SCHED_RESET_ON_FORK`).
    pub policy: u32,
    /// Its real-time priority (0 under the policies that have none).
    pub rt_priority: u32,
    /// Its `comm` (at most [`COMM_MAX`] bytes).
    pub comm: Vec<u8>,
    /// Its command line: each argument with its NUL (empty for a zombie and for init).
    pub cmdline: Vec<u8>,
}

impl Facts {
    /// init's facts: the bootstrap plays it, a native program (module comment).
    pub fn init() -> Self {
        Self {
            pid: INIT_PID,
            ppid: 0,
            pgid: 0,
            sid: 0,
            state: RunState::Sleeping,
            uid: 0,
            euid: 0,
            suid: 0,
            fsuid: 0,
            gid: 0,
            egid: 0,
            sgid: 0,
            fsgid: 0,
            umask: None,
            threads: 1,
            tty: None,
            start_ns: 0,
            nice: 0,
            policy: g::SCHED_NORMAL,
            rt_priority: 0,
            comm: INIT_COMM.to_vec(),
            cmdline: Vec::new(),
        }
    }

    /// `stat`'s priority (`task_prio`): 20 plus the nice value, or under a real-time policy -1
    /// less its priority (-2 to -100).
    fn priority(&self) -> i64 {
        if self.policy == g::SCHED_FIFO || self.policy == g::SCHED_RR {
            -1 - i64::from(self.rt_priority)
        } else {
            NICE_0_PRIORITY + i64::from(self.nice)
        }
    }

    /// `/proc/PID/stat`: one line of 52 fields, as Linux 6.1's `do_task_stat` writes them for a
    /// reader without ptrace access (module comment).
    pub fn stat(&self) -> Vec<u8> {
        self.task_stat(self.pid)
    }

    /// `/proc/PID/task/TID/stat`: [`Facts::stat`] as thread `tid` of the process shows it (its
    /// own id first; the rest is the process's: no thread's own state is kept).
    pub fn task_stat(&self, tid: Pid) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(alloc::format!("{tid} (").as_bytes());
        out.extend_from_slice(&self.comm);
        let (tty_nr, tpgid) = match self.tty {
            Some((dev, fg)) => (k42_linux::stat::encode_dev(dev), fg as i64),
            None => (0, -1),
        };
        let has_memory = self.state != RunState::Zombie && self.pid != INIT_PID;
        let code = if has_memory { HIDDEN_CODE_ADDRESS } else { 0 };
        let exit_signal = if self.pid == INIT_PID { 0 } else { g::SIGCHLD };
        let mut rest = String::new();
        // Writing to a String cannot fail.
        let _ = write!(
            rest,
            ") {state} {ppid} {pgid} {sid} {tty_nr} {tpgid}",
            state = char::from(self.state.letter()),
            ppid = self.ppid,
            pgid = self.pgid,
            sid = self.sid,
        );
        // flags, minflt, cminflt, majflt, cmajflt, utime, stime, cutime, cstime.
        rest.push_str(" 0 0 0 0 0 0 0 0 0");
        let _ = write!(
            rest,
            " {priority} {nice} {threads} 0 {start} 0 0 {rsslim}",
            priority = self.priority(),
            nice = self.nice,
            threads = self.threads,
            start = self.start_ns / NS_PER_TICK,
            // RLIMIT_RSS is unlimited: RLIM_INFINITY as an unsigned long.
            rsslim = g::RLIM_INFINITY as i64 as u64,
        );
        // startcode, endcode, then startstack, kstkesp, kstkeip, the four signal masks, wchan,
        // nswap, cnswap.
        let _ = write!(rest, " {code} {code} 0 0 0 0 0 0 0 0 0 0");
        // exit_signal, processor, rt_priority, policy, delayacct_blkio_ticks, guest_time,
        // cguest_time, seven data and argument addresses, exit_code.
        let _ = writeln!(
            rest,
            " {exit_signal} 0 {rt} {policy} 0 0 0 0 0 0 0 0 0 0 0",
            rt = self.rt_priority,
            policy = self.policy,
        );
        out.extend_from_slice(rest.as_bytes());
        out
    }

    /// `/proc/PID/status`: the lines of Linux 6.1's `proc_pid_status` the tree knows, in its
    /// order (module comment): name, umask, state, ids, credentials (real, effective, saved and
    /// filesystem ids), `groups` (the process's supplementary groups, `Tree::groups`: they do
    /// not travel with the facts), the ids in the one pid name space, threads.
    pub fn status(&self, groups: &[u32]) -> Vec<u8> {
        self.task_status(self.pid, groups)
    }

    /// `/proc/PID/task/TID/status`: [`Facts::status`] as thread `tid` shows it (`Pid:` and
    /// `NSpid:` its id, `Tgid:` the process's).
    pub fn task_status(&self, tid: Pid, groups: &[u32]) -> Vec<u8> {
        let mut out = Vec::from(&b"Name:\t"[..]);
        // Linux escapes a newline and a backslash in the name (`seq_escape_str`).
        for &b in &self.comm {
            match b {
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b => out.push(b),
            }
        }
        let mut s = String::from("\n");
        if let Some(umask) = self.umask {
            let _ = writeln!(s, "Umask:\t{umask:04o}");
        }
        let _ = write!(
            s,
            "State:\t{state}\nTgid:\t{pid}\nNgid:\t0\nPid:\t{tid}\nPPid:\t{ppid}\nTracerPid:\t0\n\
             Uid:\t{uid}\t{euid}\t{suid}\t{fsuid}\nGid:\t{gid}\t{egid}\t{sgid}\t{fsgid}\n\
             Groups:\t",
            state = self.state.name(),
            pid = self.pid,
            ppid = self.ppid,
            uid = self.uid,
            euid = self.euid,
            suid = self.suid,
            fsuid = self.fsuid,
            gid = self.gid,
            egid = self.egid,
            sgid = self.sgid,
            fsgid = self.fsgid,
        );
        // Linux separates the groups with a space and ends the list with one, even an empty
        // list.
        for (i, g) in groups.iter().enumerate() {
            let _ = write!(s, "{}{g}", if i == 0 { "" } else { " " });
        }
        let _ = write!(
            s,
            " \nNStgid:\t{pid}\nNSpid:\t{tid}\nNSpgid:\t{pgid}\nNSsid:\t{sid}\n\
             Threads:\t{threads}\n",
            pid = self.pid,
            pgid = self.pgid,
            sid = self.sid,
            threads = self.threads,
        );
        out.extend_from_slice(s.as_bytes());
        out
    }

    /// `/proc/PID/comm`: the name and a newline.
    pub fn comm_file(&self) -> Vec<u8> {
        let mut out = self.comm.clone();
        out.push(b'\n');
        out
    }
}

/// `/proc/uptime`: seconds since boot and seconds the CPUs spent idle, each with two decimals
/// (truncated, as Linux's `uptime_proc_show`).
pub fn uptime_text(uptime_ns: u64, idle_ns: u64) -> String {
    let two = |ns: u64| {
        alloc::format!(
            "{}.{:02}",
            ns / NS_PER_SEC,
            (ns % NS_PER_SEC) / NS_PER_CENTI
        )
    };
    alloc::format!("{} {}\n", two(uptime_ns), two(idle_ns))
}

/// Bytes in a KiB (`/proc/meminfo`'s unit).
const KIB: u64 = 1024;

/// `/proc/meminfo`: the lines whose figures are known — all memory and free memory — and those
/// that are zero by construction here (nothing is a buffer, a page cache or a reclaimable
/// kernel cache, nothing swaps; busybox `free` wants `SReclaimable` to trust `MemAvailable`), in
/// Linux's order and layout (`show_val_kb`: the label padded to 16 columns, the figure to 8).
/// Memory that is free is all that is available.
pub fn meminfo_text(total_bytes: u64, free_bytes: u64) -> String {
    let (total, free) = (total_bytes / KIB, free_bytes / KIB);
    let lines: [(&str, u64); 9] = [
        ("MemTotal:", total),
        ("MemFree:", free),
        ("MemAvailable:", free),
        ("Buffers:", 0),
        ("Cached:", 0),
        ("SwapCached:", 0),
        ("SwapTotal:", 0),
        ("SwapFree:", 0),
        ("SReclaimable:", 0),
    ];
    let mut out = String::new();
    for (label, kib) in lines {
        let _ = writeln!(out, "{label:<16}{kib:>8} kB");
    }
    out
}

/// Bytes of one pid in a list ([`encode_pids`]): Linux's pid_t.
pub const PID_BYTES: usize = size_of::<u32>();
/// Words of [`Facts::encode`]'s header.
const HEADER_WORDS: usize = 25;
/// Bytes of that header.
const HEADER_BYTES: usize = HEADER_WORDS * size_of::<u64>();
/// The header's word for "no umask".
const NO_UMASK: u64 = u64::MAX;

/// Pids as a list travels: each a little-endian u32.
pub fn encode_pids(pids: &[Pid]) -> Vec<u8> {
    // Lossless: pids stay below `crate::PID_MAX`.
    pids.iter()
        .flat_map(|&p| (p as u32).to_le_bytes())
        .collect()
}

/// The pids of an [`encode_pids`] list (a trailing partial one is dropped).
pub fn decode_pids(bytes: &[u8]) -> Vec<Pid> {
    bytes
        .chunks_exact(PID_BYTES)
        .map(|b| Pid::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
        .collect()
}

/// What one [`Facts::decode`] gives: the facts with the piece of the command line the reply
/// carried, where the piece starts, and the command line's whole length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The facts; `cmdline` holds the piece.
    pub facts: Facts,
    /// The piece's offset in the command line.
    pub offset: usize,
    /// The command line's length.
    pub total: usize,
}

impl Facts {
    /// The facts in at most `room` bytes: a header of words, the name, and the command line
    /// from `offset` on, as much of it as fits (the reader asks again from where it stopped,
    /// [`Decoded`]). `room` must hold the header and the name ([`COMM_MAX`]).
    pub fn encode(&self, offset: usize, room: usize) -> Vec<u8> {
        let comm = &self.comm[..self.comm.len().min(COMM_MAX)];
        let from = offset.min(self.cmdline.len());
        let fits = room.saturating_sub(HEADER_BYTES + comm.len());
        let piece = &self.cmdline[from..self.cmdline.len().min(from + fits)];
        let (tty_dev, tpgid) = match self.tty {
            Some((dev, fg)) => (k42_linux::stat::encode_dev(dev), fg),
            None => (0, 0),
        };
        let words: [u64; HEADER_WORDS] = [
            self.pid,
            self.ppid,
            self.pgid,
            self.sid,
            u64::from(self.state.letter()),
            self.uid,
            self.euid,
            self.suid,
            self.fsuid,
            self.gid,
            self.egid,
            self.sgid,
            self.fsgid,
            self.umask.unwrap_or(NO_UMASK),
            self.threads,
            u64::from(self.tty.is_some()),
            tty_dev,
            tpgid,
            self.start_ns,
            i64::from(self.nice) as u64,
            u64::from(self.policy),
            u64::from(self.rt_priority),
            comm.len() as u64,
            self.cmdline.len() as u64,
            from as u64,
        ];
        let mut out: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        out.extend_from_slice(comm);
        out.extend_from_slice(piece);
        out
    }

    /// The facts [`Facts::encode`] wrote; `None` for bytes it cannot have written.
    pub fn decode(bytes: &[u8]) -> Option<Decoded> {
        let header = bytes.get(..HEADER_BYTES)?;
        let mut words = [0u64; HEADER_WORDS];
        for (w, b) in words.iter_mut().zip(header.chunks_exact(size_of::<u64>())) {
            *w = u64::from_le_bytes(b.try_into().ok()?);
        }
        let [
            pid,
            ppid,
            pgid,
            sid,
            state,
            uid,
            euid,
            suid,
            fsuid,
            gid,
            egid,
            sgid,
            fsgid,
            umask,
            threads,
            has_tty,
            tty_dev,
            tpgid,
            start_ns,
            nice,
            policy,
            rt_priority,
            comm_len,
            total,
            offset,
        ] = words;
        let comm_len = usize::try_from(comm_len).ok().filter(|&n| n <= COMM_MAX)?;
        let comm = bytes.get(HEADER_BYTES..HEADER_BYTES + comm_len)?.to_vec();
        let piece = bytes[HEADER_BYTES + comm_len..].to_vec();
        let total = usize::try_from(total).ok()?;
        let offset = usize::try_from(offset).ok()?;
        if offset.checked_add(piece.len())? > total {
            return None;
        }
        let facts = Facts {
            pid,
            ppid,
            pgid,
            sid,
            state: RunState::from_letter(state)?,
            uid,
            euid,
            suid,
            fsuid,
            gid,
            egid,
            sgid,
            fsgid,
            umask: (umask != NO_UMASK).then_some(umask),
            threads,
            tty: (has_tty != 0).then(|| (k42_linux::stat::decode_dev(tty_dev), tpgid)),
            start_ns,
            nice: i32::try_from(nice as i64).ok()?,
            policy: u32::try_from(policy).ok()?,
            rt_priority: u32::try_from(rt_priority).ok()?,
            comm,
            cmdline: piece,
        };
        Some(Decoded {
            facts,
            offset,
            total,
        })
    }
}

impl Tree {
    /// Up to `max` pids above `after`, in increasing order: what `/proc` lists — init, then every
    /// process, running or a zombie (threads' ids are not listed, as on Linux).
    pub fn pids_after(&self, after: Pid, max: usize) -> Vec<Pid> {
        use core::ops::Bound::{Excluded, Unbounded};
        let init = (after < INIT_PID).then_some(INIT_PID);
        init.into_iter()
            .chain(
                self.procs
                    .range((Excluded(after), Unbounded))
                    .map(|(&p, _)| p),
            )
            .take(max)
            .collect()
    }

    /// The facts of process `pid` (init included) as the process `asker` sees them: it is
    /// itself running. `ESRCH` if there is no such process.
    pub fn facts(&self, asker: u64, pid: Pid) -> Result<Facts, Errno> {
        if pid == INIT_PID {
            return Ok(Facts::init());
        }
        let p = self.procs.get(&pid).ok_or(Errno::ESRCH)?;
        let zombie = matches!(p.state, State::Zombie(_));
        let state = if zombie {
            RunState::Zombie
        } else if p.job.stopped {
            RunState::Stopped
        } else if p.badge == Some(asker) {
            RunState::Running
        } else {
            RunState::Sleeping
        };
        let tty = self
            .terminal
            .filter(|t| t.sid == p.sid)
            .map(|t| (CONSOLE_TTY, t.fg));
        Ok(Facts {
            pid,
            ppid: p.ppid,
            pgid: p.pgid,
            sid: p.sid,
            state,
            uid: p.creds.uid.into(),
            euid: p.creds.euid.into(),
            suid: p.creds.suid.into(),
            fsuid: p.creds.fsuid.into(),
            gid: p.creds.gid.into(),
            egid: p.creds.egid.into(),
            sgid: p.creds.sgid.into(),
            fsgid: p.creds.fsgid.into(),
            umask: (!zombie).then_some(p.umask),
            threads: if zombie {
                1
            } else {
                1 + self.threads_of(pid) as u64
            },
            tty,
            start_ns: p.start_ns,
            nice: p.sched.nice,
            policy: p.sched.policy,
            rt_priority: p.sched.rt_priority,
            comm: p.comm.clone(),
            cmdline: p.cmdline.clone(),
        })
    }

    /// The running process `badge` tells its command (at start and at each exec): at `offset`
    /// 0 its new `comm` (cut to [`COMM_MAX`] bytes) and the start of its new command line; at
    /// the offset where the command line so far ends, more of it (`comm` empty). The command
    /// line keeps at most [`CMDLINE_MAX`] bytes. `EINVAL` for any other offset, or a name
    /// given past offset 0; `ESRCH` if `badge` is not running.
    pub fn set_command(
        &mut self,
        badge: u64,
        comm: &[u8],
        cmdline: &[u8],
        offset: usize,
    ) -> Result<(), Errno> {
        let me = self.by_badge_mut(badge)?;
        if offset == 0 {
            me.comm = comm[..comm.len().min(COMM_MAX)].to_vec();
            me.cmdline.clear();
        } else if offset != me.cmdline.len() || !comm.is_empty() {
            return Err(Errno::EINVAL);
        }
        let room = CMDLINE_MAX.saturating_sub(me.cmdline.len());
        me.cmdline
            .extend_from_slice(&cmdline[..cmdline.len().min(room)]);
        Ok(())
    }

    /// The running process `badge` renames itself (`prctl(PR_SET_NAME)`): its `comm` becomes
    /// `name`, cut to [`COMM_MAX`] bytes; its command line stays. `ESRCH` if it is not running.
    pub fn set_comm(&mut self, badge: u64, name: &[u8]) -> Result<(), Errno> {
        let me = self.by_badge_mut(badge)?;
        me.comm = name[..name.len().min(COMM_MAX)].to_vec();
        Ok(())
    }

    /// Records when process `pid` started (`now_ns`, nanoseconds since boot), right after its
    /// [`Tree::register`] or [`Tree::fork`]: `stat`'s start time.
    pub fn started(&mut self, pid: Pid, now_ns: u64) {
        if let Some(p) = self.procs.get_mut(&pid) {
            p.start_ns = now_ns;
        }
    }
}
