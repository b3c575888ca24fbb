//! Host tests of `/proc`'s system-wide files (`procsys.rs`) against the lines Linux 6.1 writes
//! (`fs/proc/stat.c`, `loadavg.c`, `version.c`, `proc_namespace.c`, `filesystems.c`,
//! `arch/x86/kernel/cpu/proc.c`), and of the nodes `procpath.rs` added for them and for a
//! process's `fd`, `task`, `maps` and `mounts`.

use alloc::string::String;
use alloc::vec::Vec;

use k42_linux::Errno;
use k42_linux::raw::general as g;

use crate::procfs::{CONSOLE_TTY, Facts};
use crate::procfs_tests::{assert_distinct, names};
use crate::procpath::{Asker, Entry, Listing, MOUNTS_TARGET, Node, Type, walk};
use crate::procsys::{
    Cpu, MOUNTS, Mount, System, cpuinfo_text, filesystems_text, loadavg_text, mounts_text,
    stat_text, version_text,
};
use crate::{Creds, INIT_PID, Tree};

const ME: Asker = Asker {
    pid: 42,
    counters: false,
};

fn sys() -> System {
    System {
        cpus: 2,
        forks: 89,
        tasks: 54,
        running: 1,
        last_pid: 89,
        boot_s: 1_795_771_897,
    }
}

#[test]
fn stat_has_linux_lines() {
    let text = stat_text(&sys());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "cpu  0 0 0 0 0 0 0 0 0 0");
    assert_eq!(lines[1], "cpu0 0 0 0 0 0 0 0 0 0 0");
    assert_eq!(lines[2], "cpu1 0 0 0 0 0 0 0 0 0 0");
    assert_eq!(
        &lines[3..],
        [
            "intr 0",
            "ctxt 0",
            "btime 1795771897",
            "processes 89",
            "procs_running 1",
            "procs_blocked 0",
            "softirq 0 0 0 0 0 0 0 0 0 0 0",
        ]
    );
    assert!(text.ends_with('\n'));
}

#[test]
fn loadavg_version_mounts_filesystems() {
    assert_eq!(loadavg_text(&sys()), "0.00 0.00 0.00 1/54 89\n");
    assert_eq!(
        version_text("Linux", "6.1.0-k42", "#1 K42 in Rust"),
        "Linux version 6.1.0-k42 (k42@k42) (rustc) #1 K42 in Rust\n"
    );
    assert_eq!(
        mounts_text(&MOUNTS),
        "rootfs / rootfs rw 0 0\nproc /proc proc rw,relatime 0 0\n"
    );
    assert_eq!(
        filesystems_text(),
        "nodev\tproc\nnodev\tramfs\nnodev\ttmpfs\n"
    );
    let spaced = Mount {
        source: "my tmp",
        target: "/a b\\c",
        fstype: "tmpfs",
        options: "rw",
    };
    assert_eq!(
        mounts_text(&[spaced]),
        "my\\040tmp /a\\040b\\134c tmpfs rw 0 0\n",
        "blanks and backslashes escaped as Linux's mangle does"
    );
}

#[test]
fn cpuinfo_names_each_cpu() {
    // QEMU's TCG CPU as `-cpu max` shows it: family 0xf, extended model 6, model 0xb.
    let (family, model, stepping) = Cpu::signature(0x0006_0fb1);
    assert_eq!((family, model, stepping), (15, 107, 1));
    // An Intel family 6 CPU folds in the extended model too.
    assert_eq!(Cpu::signature(0x0009_06ea), (6, 158, 10));
    // Before family 6, no extended model.
    assert_eq!(Cpu::signature(0x0001_0543), (5, 4, 3));
    let cpu = Cpu {
        vendor: String::from("AuthenticAMD"),
        family,
        model,
        stepping,
        name: String::from("QEMU TCG CPU version 2.5+"),
    };
    let text = cpuinfo_text(2, &cpu);
    let first = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 15\nmodel\t\t: 107\n\
                 model name\t: QEMU TCG CPU version 2.5+\nstepping\t: 1\n\n";
    assert!(text.starts_with(first), "{text}");
    assert_eq!(text.matches("processor\t: ").count(), 2);
    assert!(text.contains("processor\t: 1\n"));
}

#[test]
fn the_tree_counts_tasks_and_forks() {
    let mut t = Tree::new();
    assert_eq!(t.system(), (0, 1, INIT_PID));
    let a = t.register(500, INIT_PID, Creds::new(0, 0)).unwrap();
    let b = t.fork(500, 501).unwrap();
    let tid = t.new_thread(500).unwrap();
    assert_eq!(t.system(), (3, 4, tid));
    assert_eq!(t.tasks_of(a, 0, 16), Ok(alloc::vec![a, tid]));
    assert_eq!(t.tasks_of(a, a, 16), Ok(alloc::vec![tid]));
    assert_eq!(t.tasks_of(a, 0, 1), Ok(alloc::vec![a]));
    assert_eq!(t.tasks_of(b, 0, 16), Ok(alloc::vec![b]));
    assert_eq!(t.tasks_of(INIT_PID, 0, 16), Ok(alloc::vec![INIT_PID]));
    assert_eq!(t.tasks_of(999, 0, 16), Err(Errno::ESRCH));
    // A thread's end frees its id but the count of tasks made stays.
    t.end_thread(500, tid).unwrap();
    assert_eq!(t.system().0, 3);
    assert_eq!(t.system().1, 3);
}

#[test]
fn a_thread_shows_its_own_id() {
    // Root's ids, as init's; the rest a two-thread shell's.
    let f = Facts {
        pid: 7,
        ppid: 2,
        pgid: 7,
        sid: 2,
        umask: Some(0o022),
        threads: 2,
        tty: Some((CONSOLE_TTY, 7)),
        comm: b"sh".to_vec(),
        ..Facts::init()
    };
    let stat = String::from_utf8(f.task_stat(9)).unwrap();
    assert!(stat.starts_with("9 (sh) S 2 7 2 "), "{stat}");
    assert_eq!(stat.trim_end().split(' ').count(), 52);
    let status = String::from_utf8(f.task_status(9, &[])).unwrap();
    assert!(status.contains("\nTgid:\t7\n"), "{status}");
    assert!(status.contains("\nPid:\t9\n"), "{status}");
    assert!(status.contains("\nNStgid:\t7\nNSpid:\t9\n"), "{status}");
    assert_eq!(f.task_status(7, &[1]), f.status(&[1]));
}

#[test]
fn walks_reach_the_new_nodes() {
    let at = |path: &str, follow: bool| walk(path, ME, follow);
    assert_eq!(at("/proc/stat", true), Some(Ok(Node::Stat)));
    assert_eq!(at("/proc/loadavg", true), Some(Ok(Node::Loadavg)));
    assert_eq!(at("/proc/version", true), Some(Ok(Node::Version)));
    assert_eq!(at("/proc/cpuinfo", true), Some(Ok(Node::Cpuinfo)));
    assert_eq!(at("/proc/filesystems", true), Some(Ok(Node::Filesystems)));
    // `mounts` is a link to `self/mounts`.
    assert_eq!(at("/proc/mounts", false), Some(Ok(Node::MountsLink)));
    assert_eq!(
        at("/proc/mounts", true),
        Some(Ok(Node::Of(42, Entry::Mounts)))
    );
    assert_eq!(MOUNTS_TARGET, "self/mounts");
    assert_eq!(
        at("/proc/self/maps", true),
        Some(Ok(Node::Of(42, Entry::Maps)))
    );
    assert_eq!(at("/proc/7/fd", true), Some(Ok(Node::Of(7, Entry::Fd))));
    assert_eq!(at("/proc/7/fd/0", false), Some(Ok(Node::Fd(7, 0))));
    assert_eq!(at("/proc/self/fd/12", true), Some(Ok(Node::Fd(42, 12))));
    assert_eq!(at("/proc/7/fd/12/..", true), Some(Err(Errno::ENOTDIR)));
    assert_eq!(at("/proc/7/fd/01", true), Some(Err(Errno::ENOENT)));
    assert_eq!(at("/proc/7/fd/x", true), Some(Err(Errno::ENOENT)));
    assert_eq!(at("/proc/7/fd/..", true), Some(Ok(Node::Pid(7))));
    assert_eq!(at("/proc/7/task/9", true), Some(Ok(Node::Thread(7, 9))));
    assert_eq!(
        at("/proc/7/task/9/stat", true),
        Some(Ok(Node::OfThread(7, 9, Entry::Stat)))
    );
    assert_eq!(
        at("/proc/7/task/9/..", true),
        Some(Ok(Node::Of(7, Entry::Task)))
    );
    assert_eq!(at("/proc/7/task/9/task", true), Some(Err(Errno::ENOENT)));
    assert_eq!(at("/proc/7/task/0", true), Some(Err(Errno::ENOENT)));
    assert_eq!(at("/proc/stat/x", true), Some(Err(Errno::ENOTDIR)));
}

#[test]
fn new_nodes_have_linux_modes_paths_and_distinct_inodes() {
    assert_eq!(Node::Stat.mode(), g::S_IFREG | 0o444);
    assert_eq!(Node::MountsLink.mode(), g::S_IFLNK | 0o777);
    assert_eq!(Node::Of(3, Entry::Fd).mode(), g::S_IFDIR | 0o500);
    assert_eq!(Node::Of(3, Entry::Task).mode(), g::S_IFDIR | 0o555);
    assert_eq!(Node::Of(3, Entry::Maps).mode(), g::S_IFREG | 0o444);
    assert_eq!(Node::Fd(3, 1).kind(), Type::Link);
    assert_eq!(Node::Thread(3, 4).kind(), Type::Dir);
    assert_eq!(Node::OfThread(3, 4, Entry::Comm).mode(), g::S_IFREG | 0o644);
    assert_eq!(Node::Fd(3, 1).pid(), Some(3));
    assert_eq!(Node::Thread(3, 4).tid(), Some(4));
    assert_eq!(Node::Of(3, Entry::Stat).tid(), None);
    for node in [
        Node::Stat,
        Node::Loadavg,
        Node::Version,
        Node::Cpuinfo,
        Node::Filesystems,
        Node::MountsLink,
        Node::Of(9, Entry::Fd),
        Node::Fd(9, 3),
        Node::Thread(9, 11),
        Node::OfThread(9, 11, Entry::Status),
    ] {
        assert_eq!(walk(&node.path(), ME, false), Some(Ok(node)), "{node:?}");
    }
    let mut inos: Vec<u64> = [
        Node::Root,
        Node::SelfLink,
        Node::Uptime,
        Node::Meminfo,
        Node::K42,
        Node::Counters,
        Node::Stat,
        Node::Loadavg,
        Node::Version,
        Node::Cpuinfo,
        Node::Filesystems,
        Node::MountsLink,
    ]
    .into_iter()
    .chain([1, 2, 3].into_iter().flat_map(|p| {
        let entries = Entry::ALL.into_iter().map(move |e| Node::Of(p, e));
        let fds = (0..4).map(move |fd| Node::Fd(p, fd));
        let threads = [p, p + 10].into_iter().flat_map(move |t| {
            core::iter::once(Node::Thread(p, t)).chain(
                Entry::THREAD
                    .into_iter()
                    .map(move |e| Node::OfThread(p, t, e)),
            )
        });
        core::iter::once(Node::Pid(p))
            .chain(entries)
            .chain(fds)
            .chain(threads)
    }))
    .map(Node::ino)
    .collect();
    assert_distinct(&mut inos);
}

#[test]
fn fd_and_task_directories_list_their_ids() {
    let fds = Listing::of(Node::Of(7, Entry::Fd), &[0, 1, 2, 5], ME).unwrap();
    assert_eq!(
        names(&fds.read(0, 4096).unwrap().0),
        [".", "..", "0", "1", "2", "5"]
    );
    assert_eq!(fds.dirs(), 2);
    let tasks = Listing::of(Node::Of(7, Entry::Task), &[7, 9], ME).unwrap();
    assert_eq!(
        names(&tasks.read(0, 4096).unwrap().0),
        [".", "..", "7", "9"]
    );
    assert_eq!(tasks.dirs(), 4);
    let thread = Listing::of(Node::Thread(7, 9), &[], ME).unwrap();
    assert_eq!(
        names(&thread.read(0, 4096).unwrap().0),
        [".", "..", "status", "comm", "cmdline", "stat"]
    );
    assert_eq!(Listing::of(Node::Fd(7, 1), &[], ME), Err(Errno::ENOTDIR));
}
