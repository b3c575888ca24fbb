//! Host tests of `/proc`'s facts, texts and name space (`procfs.rs`, `procpath.rs`) against
//! what Linux 6.1 writes (`fs/proc/array.c`, `fs/proc/base.c`, `fs/proc/meminfo.c`).

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use k42_linux::Errno;
use k42_linux::raw::general as g;

use crate::procfs::{
    CMDLINE_MAX, COMM_MAX, CONSOLE_TTY, Facts, RunState, decode_pids, encode_pids, meminfo_text,
    uptime_text,
};
use crate::procpath::{Asker, Entry, Listing, Node, Type, walk};
use crate::{Creds, INIT_PID, Tree, WaitStatus};

const A: u64 = 500;
const B: u64 = 501;
const C: u64 = 502;

fn family() -> (Tree, u64, u64) {
    let mut t = Tree::new();
    let a = t.register(A, INIT_PID, Creds::new(0, 0)).unwrap();
    let b = t.fork(A, B).unwrap();
    (t, a, b)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// The facts of a shell, pid 7, as Linux would show it to another process.
fn shell() -> Facts {
    Facts {
        pid: 7,
        ppid: 2,
        pgid: 7,
        sid: 2,
        state: RunState::Sleeping,
        uid: 1000,
        euid: 1000,
        suid: 1000,
        fsuid: 1000,
        gid: 100,
        egid: 100,
        sgid: 100,
        fsgid: 100,
        umask: Some(0o022),
        threads: 1,
        tty: Some((CONSOLE_TTY, 7)),
        start_ns: 1_234_567_890,
        nice: 0,
        policy: 0,
        rt_priority: 0,
        comm: b"sh".to_vec(),
        cmdline: b"sh\0-c\0echo hi\0".to_vec(),
    }
}

#[test]
fn stat_line_has_linux_fields() {
    let line = text(&shell().stat());
    assert!(line.ends_with('\n'));
    let fields: Vec<&str> = line.trim_end().split(' ').collect();
    assert_eq!(fields.len(), 52, "{line}");
    assert_eq!(&fields[..8], ["7", "(sh)", "S", "2", "7", "2", "1088", "7"]);
    // priority 20, nice 0, one thread, start time in USER_HZ ticks (123), unlimited rss.
    assert_eq!(&fields[17..22], ["20", "0", "1", "0", "123"]);
    assert_eq!(fields[24], "18446744073709551615");
    // Hidden code addresses, SIGCHLD as the exit signal, no exit code.
    assert_eq!(&fields[25..27], ["1", "1"]);
    assert_eq!(fields[37], g::SIGCHLD.to_string());
    assert_eq!(fields[51], "0");
}

#[test]
fn stat_line_shows_the_nice_value_and_policy() {
    let mut f = shell();
    f.nice = -5;
    let line = text(&f.stat());
    let fields: Vec<&str> = line.trim_end().split(' ').collect();
    // priority 20 + nice, then nice; rt_priority and policy 0.
    assert_eq!(&fields[17..19], ["15", "-5"]);
    assert_eq!(&fields[39..41], ["0", "0"]);
    (f.policy, f.rt_priority) = (g::SCHED_FIFO, 10);
    let line = text(&f.stat());
    let fields: Vec<&str> = line.trim_end().split(' ').collect();
    // Real-time: priority -1 - rt_priority; the nice value stays.
    assert_eq!(&fields[17..19], ["-11", "-5"]);
    assert_eq!(&fields[39..41], ["10", "1"]);
    assert_eq!(fields.len(), 52);
}

#[test]
fn stat_line_without_terminal_and_of_a_zombie() {
    let mut f = shell();
    f.tty = None;
    f.state = RunState::Zombie;
    f.comm = b"a b) c".to_vec();
    let line = text(&f.stat());
    // The name goes in raw: readers split at the last ')', as busybox and procps do.
    assert!(line.starts_with("7 (a b) c) Z 2 7 2 0 -1 "), "{line}");
    let after = &line[line.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.trim_end().split(' ').collect();
    assert_eq!(fields.len(), 50);
    // A zombie has no memory: its code range is 0.
    assert_eq!(&fields[23..25], ["0", "0"]);
}

#[test]
fn status_has_linux_lines() {
    let status = text(&shell().status(&[]));
    let want = "Name:\tsh\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t7\nNgid:\t0\nPid:\t7\n\
                PPid:\t2\nTracerPid:\t0\nUid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t100\n\
                Groups:\t \nNStgid:\t7\nNSpid:\t7\nNSpgid:\t7\nNSsid:\t2\nThreads:\t1\n";
    assert_eq!(status, want);
}

#[test]
fn status_shows_every_id_and_the_groups() {
    let f = Facts {
        uid: 1000,
        euid: 0,
        suid: 2,
        fsuid: 3,
        gid: 100,
        egid: 4,
        sgid: 5,
        fsgid: 6,
        ..shell()
    };
    let status = text(&f.status(&[7, 100, 4000]));
    assert!(
        status.contains("\nUid:\t1000\t0\t2\t3\nGid:\t100\t4\t5\t6\nGroups:\t7 100 4000 \n"),
        "{status}"
    );
    let one = text(&f.task_status(9, &[12]));
    assert!(
        one.contains("\nGroups:\t12 \nNStgid:\t7\nNSpid:\t9\n"),
        "{one}"
    );
}

#[test]
fn status_escapes_the_name_and_a_zombie_has_no_umask() {
    let mut f = shell();
    f.comm = b"a\nb\\c".to_vec();
    f.umask = None;
    f.state = RunState::Zombie;
    let status = text(&f.status(&[]));
    assert!(
        status.starts_with("Name:\ta\\nb\\\\c\nState:\tZ (zombie)\n"),
        "{status}"
    );
    assert_eq!(shell().comm_file(), b"sh\n");
}

#[test]
fn uptime_and_meminfo_layouts() {
    assert_eq!(uptime_text(53_243_869_999_999, 0), "53243.86 0.00\n");
    assert_eq!(uptime_text(5_000_000, 1_010_000_000), "0.00 1.01\n");
    let m = meminfo_text(512 * 1024 * 1024, 3 * 1024 * 1024 + 1023);
    let lines: Vec<&str> = m.lines().collect();
    assert_eq!(lines[0], "MemTotal:         524288 kB");
    assert_eq!(lines[1], "MemFree:            3072 kB");
    assert_eq!(lines[2], "MemAvailable:       3072 kB");
    assert_eq!(lines[7], "SwapFree:              0 kB");
    assert_eq!(lines[8], "SReclaimable:          0 kB");
    assert!(
        lines
            .iter()
            .all(|l| l.len() == "MemTotal:       ".len() + 8 + 3)
    );
}

#[test]
fn facts_travel_in_pieces() {
    let mut f = shell();
    f.cmdline = (0..3000u32).map(|i| (i % 251) as u8).collect();
    let room = 2048;
    let mut got: Vec<u8> = Vec::new();
    let mut first = None;
    loop {
        let bytes = f.encode(got.len(), room);
        assert!(bytes.len() <= room);
        let d = Facts::decode(&bytes).unwrap();
        assert_eq!(d.offset, got.len());
        assert_eq!(d.total, 3000);
        got.extend_from_slice(&d.facts.cmdline);
        first.get_or_insert(d.facts);
        if got.len() == d.total {
            break;
        }
    }
    assert_eq!(got, f.cmdline);
    let mut first = first.unwrap();
    first.cmdline = f.cmdline.clone();
    assert_eq!(first, f);
    // Without a terminal or umask, and garbage.
    let mut g = shell();
    g.tty = None;
    g.umask = None;
    g.cmdline.clear();
    // Every id travels apart, and the scheduling parameters, a negative nice value too.
    (g.euid, g.suid, g.fsuid, g.egid, g.sgid, g.fsgid) = (1, 2, 3, 4, 5, 6);
    (g.nice, g.policy, g.rt_priority) = (-7, g::SCHED_RR, 42);
    assert_eq!(Facts::decode(&g.encode(0, room)).unwrap().facts, g);
    assert_eq!(Facts::decode(&[1, 2, 3]), None);
    let mut bad = shell().encode(0, room);
    bad[4 * 8] = b'?';
    assert_eq!(Facts::decode(&bad), None);
}

#[test]
fn pids_travel_as_u32() {
    let pids = [1, 2, 70_000, 4_000_000];
    assert_eq!(decode_pids(&encode_pids(&pids)), pids);
    assert_eq!(decode_pids(&[1, 0, 0]), Vec::<u64>::new());
}

#[test]
fn pids_are_listed_with_init_and_zombies() {
    let (mut t, a, b) = family();
    let c = t.fork(A, C).unwrap();
    t.exit(C, WaitStatus::exited(0)).unwrap();
    assert_eq!(t.pids_after(0, 10), vec![INIT_PID, a, b, c]);
    assert_eq!(t.pids_after(0, 2), vec![INIT_PID, a]);
    assert_eq!(t.pids_after(a, 10), vec![b, c]);
    assert_eq!(t.pids_after(c, 10), Vec::<u64>::new());
    assert_eq!(t.pids_after(u64::MAX, 10), Vec::<u64>::new());
}

#[test]
fn facts_follow_the_tree() {
    let (mut t, a, b) = family();
    t.started(b, 3_000_000_000);
    // The asker runs; others sleep; the terminal is the first session's.
    let fa = t.facts(A, a).unwrap();
    assert_eq!(fa.state, RunState::Running);
    assert_eq!(fa.tty, Some((CONSOLE_TTY, a)));
    let fb = t.facts(A, b).unwrap();
    assert_eq!((fb.ppid, fb.pgid, fb.sid), (a, a, a));
    assert_eq!(fb.state, RunState::Sleeping);
    assert_eq!(fb.start_ns, 3_000_000_000);
    assert_eq!(fb.umask, Some(0o022));
    t.stop(B, g::SIGSTOP).unwrap();
    assert_eq!(t.facts(A, b).unwrap().state, RunState::Stopped);
    t.cont(B).unwrap();
    t.new_thread(B).unwrap();
    assert_eq!(t.facts(A, b).unwrap().threads, 2);
    t.exit(B, WaitStatus::exited(3)).unwrap();
    let zombie = t.facts(A, b).unwrap();
    assert_eq!(zombie.state, RunState::Zombie);
    assert_eq!((zombie.umask, zombie.threads), (None, 1));
    t.wait(
        A,
        crate::Selector::Any,
        crate::WaitOptions::from_wait4(0).unwrap(),
    )
    .unwrap();
    assert_eq!(t.facts(A, b), Err(Errno::ESRCH));
    assert_eq!(t.facts(A, 999), Err(Errno::ESRCH));
    let init = t.facts(A, INIT_PID).unwrap();
    assert_eq!((init.ppid, init.comm.as_slice()), (0, &b"bootstrap"[..]));
}

#[test]
fn command_is_set_in_pieces_inherited_and_dropped_at_exit() {
    let mut t = Tree::new();
    let a = t.register(A, INIT_PID, Creds::new(0, 0)).unwrap();
    t.set_command(A, b"a-very-long-program-name", b"one\0", 0)
        .unwrap();
    t.set_command(A, b"", b"two\0", 4).unwrap();
    assert_eq!(t.set_command(A, b"", b"x", 2), Err(Errno::EINVAL));
    assert_eq!(t.set_command(A, b"n", b"x", 8), Err(Errno::EINVAL));
    assert_eq!(t.set_command(C, b"n", b"x", 0), Err(Errno::ESRCH));
    let f = t.facts(A, a).unwrap();
    assert_eq!(f.comm.len(), COMM_MAX);
    assert_eq!(f.comm, b"a-very-long-pro");
    assert_eq!(f.cmdline, b"one\0two\0");
    let b = t.fork(A, B).unwrap();
    assert_eq!(t.facts(A, b).unwrap().cmdline, b"one\0two\0");
    t.set_comm(B, b"renamed-to-a-long-name").unwrap();
    let renamed = t.facts(A, b).unwrap();
    assert_eq!(renamed.comm, b"renamed-to-a-lo");
    assert_eq!(renamed.cmdline, b"one\0two\0");
    assert_eq!(t.facts(A, a).unwrap().comm, b"a-very-long-pro");
    assert_eq!(t.set_comm(C, b"x"), Err(Errno::ESRCH));
    let huge = vec![b'x'; CMDLINE_MAX + 100];
    t.set_command(B, b"big", &huge, 0).unwrap();
    assert_eq!(t.facts(A, b).unwrap().cmdline.len(), CMDLINE_MAX);
    t.exit(B, WaitStatus::exited(0)).unwrap();
    let zombie = t.facts(A, b).unwrap();
    assert_eq!(
        (zombie.comm.as_slice(), zombie.cmdline.len()),
        (&b"big"[..], 0)
    );
}

const ME: Asker = Asker {
    pid: 42,
    counters: false,
};
const ME_COUNTING: Asker = Asker {
    pid: 42,
    counters: true,
};

fn node(path: &str, follow: bool) -> Option<Result<Node, Errno>> {
    walk(path, ME, follow)
}

#[test]
fn walks_reach_proc_nodes() {
    assert_eq!(node("/proc", true), Some(Ok(Node::Root)));
    assert_eq!(node("//proc/", true), Some(Ok(Node::Root)));
    assert_eq!(node("/tmp/../proc/./uptime", true), Some(Ok(Node::Uptime)));
    assert_eq!(node("/proc/self", true), Some(Ok(Node::Pid(42))));
    assert_eq!(node("/proc/self", false), Some(Ok(Node::SelfLink)));
    assert_eq!(node("/proc/self/", false), Some(Ok(Node::Pid(42))));
    assert_eq!(
        node("/proc/self/stat", false),
        Some(Ok(Node::Of(42, Entry::Stat)))
    );
    assert_eq!(
        node("/proc/7/cmdline", true),
        Some(Ok(Node::Of(7, Entry::Cmdline)))
    );
    assert_eq!(node("/proc/7/..", true), Some(Ok(Node::Root)));
    assert_eq!(node("/proc/7/exe", true), Some(Ok(Node::Of(7, Entry::Exe))));
}

#[test]
fn walks_leave_proc_and_fail_as_linux() {
    assert_eq!(node("/", true), None);
    assert_eq!(node("/tmp/proc", true), None);
    assert_eq!(node("/proc/..", true), None);
    assert_eq!(node("/proc/../tmp", true), None);
    assert_eq!(node("/proc/7/../../etc", true), None);
    assert_eq!(node("/proc/nosuch", true), Some(Err(Errno::ENOENT)));
    assert_eq!(node("/proc/0", true), Some(Err(Errno::ENOENT)));
    assert_eq!(node("/proc/007", true), Some(Err(Errno::ENOENT)));
    assert_eq!(node("/proc/99999999999", true), Some(Err(Errno::ENOENT)));
    assert_eq!(node("/proc/7/nosuch", true), Some(Err(Errno::ENOENT)));
    assert_eq!(node("/proc/self/stat/", true), Some(Err(Errno::ENOTDIR)));
    assert_eq!(node("/proc/self/stat/..", true), Some(Err(Errno::ENOTDIR)));
    assert_eq!(node("/proc/uptime/x", true), Some(Err(Errno::ENOTDIR)));
    // The exe link's target is outside: the walk stops at the link.
    assert_eq!(node("/proc/7/exe/x", true), Some(Err(Errno::ENOTDIR)));
    // The counters exist only for who may read them.
    assert_eq!(node("/proc/k42/counters", false), Some(Err(Errno::ENOENT)));
    let reader = Asker {
        pid: 42,
        counters: true,
    };
    assert_eq!(
        walk("/proc/k42/counters", reader, false),
        Some(Ok(Node::Counters))
    );
}

#[test]
fn nodes_have_linux_modes_and_distinct_inodes() {
    assert_eq!(Node::Root.mode(), g::S_IFDIR | 0o555);
    assert_eq!(Node::SelfLink.mode(), g::S_IFLNK | 0o777);
    assert_eq!(Node::Of(3, Entry::Stat).mode(), g::S_IFREG | 0o444);
    assert_eq!(Node::Of(3, Entry::Comm).mode(), g::S_IFREG | 0o644);
    assert_eq!(Node::Of(3, Entry::Exe).kind(), Type::Link);
    assert_eq!(Node::Uptime.pid(), None);
    assert_eq!(Node::Root.path(), "/proc");
    assert_eq!(Node::SelfLink.path(), "/proc/self");
    assert_eq!(Node::Pid(9).path(), "/proc/9");
    assert_eq!(Node::Of(9, Entry::Status).path(), "/proc/9/status");
    assert_eq!(Node::Counters.path(), "/proc/k42/counters");
    for node in [
        Node::Root,
        Node::Pid(9),
        Node::Of(9, Entry::Exe),
        Node::Counters,
    ] {
        assert_eq!(walk(&node.path(), ME_COUNTING, false), Some(Ok(node)));
    }
    assert_eq!(Node::Of(3, Entry::Cmdline).pid(), Some(3));
    let mut inos: Vec<u64> = [
        Node::Root,
        Node::SelfLink,
        Node::Uptime,
        Node::Meminfo,
        Node::K42,
        Node::Counters,
    ]
    .into_iter()
    .chain([1, 2, 3].into_iter().flat_map(|p| {
        core::iter::once(Node::Pid(p)).chain(Entry::ALL.into_iter().map(move |e| Node::Of(p, e)))
    }))
    .map(Node::ino)
    .collect();
    assert_distinct(&mut inos);
}

/// Asserts that no inode number in `inos` repeats (it sorts them).
pub(crate) fn assert_distinct(inos: &mut Vec<u64>) {
    let n = inos.len();
    inos.sort_unstable();
    inos.dedup();
    assert_eq!(inos.len(), n, "inode numbers repeat");
}

/// The names in `getdents64` records.
pub(crate) fn names(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let reclen = u16::from_le_bytes([bytes[at + 16], bytes[at + 17]]) as usize;
        let name = &bytes[at + 19..at + reclen];
        let end = name.iter().position(|&b| b == 0).unwrap();
        out.push(text(&name[..end]));
        at += reclen;
    }
    out
}

#[test]
fn listings_resume_at_their_cookie() {
    let root = Listing::of(Node::Root, &[1, 2, 10], ME).unwrap();
    let (all, end) = root.read(0, 4096).unwrap();
    assert_eq!(
        names(&all),
        [
            ".",
            "..",
            "k42",
            "stat",
            "mounts",
            "uptime",
            "cpuinfo",
            "loadavg",
            "meminfo",
            "version",
            "filesystems",
            "self",
            "1",
            "2",
            "10"
        ]
    );
    assert_eq!(root.dirs(), 6);
    // A small buffer takes a few records; the rest follows from the cookie.
    let (some, next) = root.read(0, 60).unwrap();
    let (rest, last) = root.read(next, 4096).unwrap();
    let mut both = names(&some);
    both.extend(names(&rest));
    assert_eq!(both, names(&all));
    assert_eq!(last, end);
    assert_eq!(root.read(end, 4096).unwrap().0, Vec::<u8>::new());
    assert_eq!(root.read(0, 10), Err(Errno::EINVAL));
    let dir = Listing::of(Node::Pid(10), &[], ME).unwrap();
    assert_eq!(
        names(&dir.read(0, 4096).unwrap().0),
        [
            ".", "..", "task", "fd", "status", "comm", "cmdline", "stat", "maps", "exe", "mounts"
        ]
    );
    assert_eq!(dir.dirs(), 4);
    let k42 = Listing::of(Node::K42, &[], ME).unwrap();
    assert_eq!(names(&k42.read(0, 4096).unwrap().0), [".", ".."]);
    assert_eq!(Listing::of(Node::Uptime, &[], ME), Err(Errno::ENOTDIR));
}
