//! The syscall table: every Linux syscall the personality serves, by number, in one declarative
//! list ([`CALLS`]), and [`serve`] — the handler `k42_rt::program` runs for each reflected
//! syscall — which looks the number up, calls the handler with the six argument registers and
//! turns its `SysResult` into `rax` in the one place errors become `-errno`
//! (`k42_linux::to_return`), then delivers pending signals (`crate::signals`) before the
//! program continues. A number with no handler is `-ENOSYS` and one log line naming the
//! call (once per number, so a program probing in a loop does not flood the log).

use core::sync::atomic::{AtomicU64, Ordering};

use k42_abi::kernel::SavedRegs;
use k42_linux::raw::general as nr;
use k42_linux::{Errno, SysResult, sysno, to_return};
use k42_rt::log;

use crate::calls::{
    copy, creds, epoll, eventfd, exec, file, fork, futex, info, io, memlock, mount, pipe, poll,
    proc, rlimit, sched, signal, signalfd, stat, statfs, time, timer, timerfd, usage, wait, xattr,
};
use crate::state::{self, Linux};
use crate::{fd, mem};

/// The six argument registers, in the order of the x86_64 syscall convention (rdi, rsi, rdx,
/// r10, r8, r9).
pub type Args = [u64; 6];
/// A syscall handler.
pub type Handler = fn(&Linux, &Args) -> SysResult;
/// A handler that may replace the program's whole context (`execve`): it gets the program's
/// registers, and what it leaves there, with its result in `rax`, is what the program
/// continues with.
pub type ContextHandler = fn(&Linux, &Args, &mut SavedRegs) -> SysResult;

/// The calls served by a [`ContextHandler`], looked up before [`CALLS`].
const CONTEXT_CALLS: &[(u32, ContextHandler)] = &[
    // calls/exec.rs: a new program in this process.
    (nr::__NR_execve, exec::execve),
    (nr::__NR_execveat, exec::execveat),
    // calls/fork.rs: a new process, resumed in the child from the registers.
    (nr::__NR_fork, fork::fork),
    (nr::__NR_vfork, fork::vfork),
    (nr::__NR_clone, fork::clone),
    (nr::__NR_clone3, fork::clone3),
    // signals.rs: the end of a signal handler.
    (nr::__NR_rt_sigreturn, |l, _, regs| {
        crate::signals::sigreturn(l, regs)
    }),
    // calls/signal.rs: the alternate stack's state depends on where the program runs.
    (nr::__NR_sigaltstack, |l, args, regs| {
        signal::sigaltstack(l, args, regs.rsp)
    }),
];

/// Every syscall served, by number.
const CALLS: &[(u32, Handler)] = &[
    // fd.rs: the fd table.
    (nr::__NR_close, fd::close),
    (nr::__NR_close_range, fd::close_range),
    (nr::__NR_dup, fd::dup),
    (nr::__NR_dup2, fd::dup2),
    (nr::__NR_dup3, fd::dup3),
    (nr::__NR_fcntl, fd::fcntl),
    // calls/pipe.rs: pipes (their reads and writes go through io.rs).
    (nr::__NR_pipe, pipe::pipe),
    (nr::__NR_pipe2, pipe::pipe2),
    // calls/io.rs: reading and writing open files.
    (nr::__NR_read, io::read),
    (nr::__NR_write, io::write),
    (nr::__NR_readv, io::readv),
    (nr::__NR_writev, io::writev),
    (nr::__NR_pread64, io::pread64),
    (nr::__NR_pwrite64, io::pwrite64),
    (nr::__NR_preadv, io::preadv),
    (nr::__NR_pwritev, io::pwritev),
    (nr::__NR_preadv2, io::preadv2),
    (nr::__NR_pwritev2, io::pwritev2),
    (nr::__NR_lseek, io::lseek),
    (nr::__NR_ioctl, io::ioctl),
    // calls/copy.rs: copying between descriptors.
    (nr::__NR_sendfile, copy::sendfile),
    (nr::__NR_copy_file_range, copy::copy_file_range),
    // calls/poll.rs: readiness.
    (nr::__NR_poll, poll::poll),
    (nr::__NR_ppoll, poll::ppoll),
    // calls/epoll.rs: epoll instances.
    (nr::__NR_epoll_create, epoll::epoll_create),
    (nr::__NR_epoll_create1, epoll::epoll_create1),
    (nr::__NR_epoll_ctl, epoll::epoll_ctl),
    (nr::__NR_epoll_wait, epoll::epoll_wait),
    (nr::__NR_epoll_pwait, epoll::epoll_pwait),
    (nr::__NR_epoll_pwait2, epoll::epoll_pwait2),
    // calls/eventfd.rs: eventfd counters.
    (nr::__NR_eventfd, eventfd::eventfd),
    (nr::__NR_eventfd2, eventfd::eventfd2),
    // calls/signalfd.rs: signalfd descriptors.
    (nr::__NR_signalfd, signalfd::signalfd),
    (nr::__NR_signalfd4, signalfd::signalfd4),
    // calls/timerfd.rs: timerfd timers.
    (nr::__NR_timerfd_create, timerfd::timerfd_create),
    (nr::__NR_timerfd_settime, timerfd::timerfd_settime),
    (nr::__NR_timerfd_gettime, timerfd::timerfd_gettime),
    (nr::__NR_select, poll::select),
    (nr::__NR_pselect6, poll::pselect6),
    // calls/stat.rs: file metadata.
    (nr::__NR_fstat, stat::fstat),
    (nr::__NR_newfstatat, stat::newfstatat),
    (nr::__NR_statx, stat::statx),
    (nr::__NR_stat, stat::stat),
    (nr::__NR_lstat, stat::lstat),
    // calls/xattr.rs: extended attributes (none kept).
    (nr::__NR_getxattr, xattr::getxattr),
    (nr::__NR_lgetxattr, xattr::lgetxattr),
    (nr::__NR_fgetxattr, xattr::fgetxattr),
    (nr::__NR_setxattr, xattr::setxattr),
    (nr::__NR_lsetxattr, xattr::lsetxattr),
    (nr::__NR_fsetxattr, xattr::fsetxattr),
    (nr::__NR_listxattr, xattr::listxattr),
    (nr::__NR_llistxattr, xattr::llistxattr),
    (nr::__NR_flistxattr, xattr::flistxattr),
    (nr::__NR_removexattr, xattr::removexattr),
    (nr::__NR_lremovexattr, xattr::lremovexattr),
    (nr::__NR_fremovexattr, xattr::fremovexattr),
    // calls/statfs.rs: file systems' figures.
    (nr::__NR_statfs, statfs::statfs),
    (nr::__NR_fstatfs, statfs::fstatfs),
    // calls/file.rs: the file server's files and directories.
    (nr::__NR_open, file::open),
    (nr::__NR_openat, file::openat),
    (nr::__NR_creat, file::creat),
    (nr::__NR_getdents64, file::getdents64),
    (nr::__NR_mkdir, file::mkdir),
    (nr::__NR_mkdirat, file::mkdirat),
    (nr::__NR_mknod, file::mknod),
    (nr::__NR_mknodat, file::mknodat),
    (nr::__NR_unlink, file::unlink),
    (nr::__NR_unlinkat, file::unlinkat),
    (nr::__NR_rmdir, file::rmdir),
    (nr::__NR_rename, file::rename),
    (nr::__NR_renameat, file::renameat),
    (nr::__NR_renameat2, file::renameat2),
    (nr::__NR_link, file::link),
    (nr::__NR_linkat, file::linkat),
    (nr::__NR_symlink, file::symlink),
    (nr::__NR_symlinkat, file::symlinkat),
    // calls/mount.rs: the name space's mounts.
    (nr::__NR_mount, mount::mount),
    (nr::__NR_umount2, mount::umount2),
    (nr::__NR_readlink, file::readlink),
    (nr::__NR_readlinkat, file::readlinkat),
    (nr::__NR_chmod, file::chmod),
    (nr::__NR_fchmod, file::fchmod),
    (nr::__NR_fchmodat, file::fchmodat),
    (nr::__NR_chown, file::chown),
    (nr::__NR_lchown, file::lchown),
    (nr::__NR_fchown, file::fchown),
    (nr::__NR_fchownat, file::fchownat),
    (nr::__NR_utimensat, file::utimensat),
    (nr::__NR_access, file::access),
    (nr::__NR_faccessat, file::faccessat),
    (nr::__NR_faccessat2, file::faccessat2),
    (nr::__NR_truncate, file::truncate),
    (nr::__NR_ftruncate, file::ftruncate),
    (nr::__NR_fsync, file::fsync),
    (nr::__NR_fdatasync, file::fsync),
    (nr::__NR_sync, file::sync),
    (nr::__NR_syncfs, file::syncfs),
    (nr::__NR_getcwd, file::getcwd),
    (nr::__NR_chdir, file::chdir),
    (nr::__NR_fchdir, file::fchdir),
    // mem.rs: the program's memory.
    (nr::__NR_brk, mem::brk),
    (nr::__NR_mmap, mem::mmap),
    (nr::__NR_munmap, mem::munmap),
    (nr::__NR_mprotect, mem::mprotect),
    (nr::__NR_madvise, mem::madvise),
    (nr::__NR_mremap, mem::mremap),
    // calls/proc.rs: the process and its thread.
    (nr::__NR_exit, proc::exit),
    (nr::__NR_exit_group, proc::exit_group),
    (nr::__NR_getpid, proc::getpid),
    (nr::__NR_getppid, proc::getppid),
    (nr::__NR_gettid, proc::gettid),
    (nr::__NR_getpgrp, proc::getpgrp),
    (nr::__NR_getpgid, proc::getpgid),
    (nr::__NR_getsid, proc::getsid),
    (nr::__NR_setpgid, proc::setpgid),
    (nr::__NR_setsid, proc::setsid),
    (nr::__NR_set_tid_address, proc::set_tid_address),
    (nr::__NR_set_robust_list, proc::set_robust_list),
    (nr::__NR_arch_prctl, proc::arch_prctl),
    // calls/procfs.rs: the process's name, as /proc shows it.
    (nr::__NR_prctl, crate::calls::procfs::prctl),
    (nr::__NR_prlimit64, rlimit::prlimit64),
    (nr::__NR_getrlimit, rlimit::getrlimit),
    (nr::__NR_setrlimit, rlimit::setrlimit),
    (nr::__NR_sched_yield, proc::sched_yield),
    // calls/sched.rs: the process's scheduling parameters.
    (nr::__NR_getpriority, sched::getpriority),
    (nr::__NR_setpriority, sched::setpriority),
    (nr::__NR_sched_getscheduler, sched::sched_getscheduler),
    (nr::__NR_sched_setscheduler, sched::sched_setscheduler),
    (nr::__NR_sched_getparam, sched::sched_getparam),
    (nr::__NR_sched_setparam, sched::sched_setparam),
    (
        nr::__NR_sched_get_priority_max,
        sched::sched_get_priority_max,
    ),
    (
        nr::__NR_sched_get_priority_min,
        sched::sched_get_priority_min,
    ),
    (nr::__NR_sched_getaffinity, sched::sched_getaffinity),
    (nr::__NR_sched_setaffinity, sched::sched_setaffinity),
    (nr::__NR_getcpu, sched::getcpu),
    // calls/usage.rs: CPU time.
    (nr::__NR_getrusage, usage::getrusage),
    (nr::__NR_times, usage::times),
    // calls/memlock.rs: locking memory, writing it back.
    (nr::__NR_mlock, memlock::mlock),
    (nr::__NR_mlock2, memlock::mlock2),
    (nr::__NR_munlock, memlock::munlock),
    (nr::__NR_mlockall, memlock::mlockall),
    (nr::__NR_munlockall, memlock::munlockall),
    (nr::__NR_msync, memlock::msync),
    // calls/futex.rs: the program's threads' wait queue.
    (nr::__NR_futex, futex::futex),
    (nr::__NR_umask, proc::umask),
    // calls/creds.rs: user and group ids (the process server's).
    (nr::__NR_getuid, creds::getuid),
    (nr::__NR_geteuid, creds::geteuid),
    (nr::__NR_getgid, creds::getgid),
    (nr::__NR_getegid, creds::getegid),
    (nr::__NR_getresuid, creds::getresuid),
    (nr::__NR_getresgid, creds::getresgid),
    (nr::__NR_getgroups, creds::getgroups),
    (nr::__NR_setuid, creds::setuid),
    (nr::__NR_setgid, creds::setgid),
    (nr::__NR_setreuid, creds::setreuid),
    (nr::__NR_setregid, creds::setregid),
    (nr::__NR_setresuid, creds::setresuid),
    (nr::__NR_setresgid, creds::setresgid),
    (nr::__NR_setfsuid, creds::setfsuid),
    (nr::__NR_setfsgid, creds::setfsgid),
    (nr::__NR_setgroups, creds::setgroups),
    // calls/wait.rs: collecting children (the process server's).
    (nr::__NR_wait4, wait::wait4),
    (nr::__NR_waitid, wait::waitid),
    // calls/signal.rs: dispositions, masks, sending and waiting (delivery: signals.rs).
    (nr::__NR_rt_sigaction, signal::rt_sigaction),
    (nr::__NR_rt_sigprocmask, signal::rt_sigprocmask),
    (nr::__NR_rt_sigpending, signal::rt_sigpending),
    (nr::__NR_rt_sigsuspend, signal::rt_sigsuspend),
    (nr::__NR_rt_sigtimedwait, signal::rt_sigtimedwait),
    (nr::__NR_pause, signal::pause),
    (nr::__NR_kill, signal::kill),
    (nr::__NR_tkill, signal::tkill),
    (nr::__NR_tgkill, signal::tgkill),
    // calls/timer.rs: ITIMER_REAL and alarm.
    (nr::__NR_alarm, timer::alarm),
    (nr::__NR_setitimer, timer::setitimer),
    (nr::__NR_getitimer, timer::getitimer),
    // calls/time.rs: clocks and sleeping.
    (nr::__NR_clock_gettime, time::clock_gettime),
    (nr::__NR_clock_getres, time::clock_getres),
    (nr::__NR_gettimeofday, time::gettimeofday),
    (nr::__NR_time, time::time),
    (nr::__NR_nanosleep, time::nanosleep),
    (nr::__NR_clock_nanosleep, time::clock_nanosleep),
    // calls/info.rs: what the system is.
    (nr::__NR_uname, info::uname),
    (nr::__NR_getrandom, info::getrandom),
    (nr::__NR_sysinfo, info::sysinfo),
    (nr::__NR_sethostname, info::sethostname),
];

/// A fast call's answer from the state.
type FastAnswer = fn(&Linux) -> u64;

/// Calls answered on the upcall stack (`k42_rt::program::FastHandler`): they read only state
/// fixed at start (`state::Ids`) or atomics (`state::Creds`), take no lock and cannot block,
/// so they skip the program thread's restart — the cost of `getppid` is then the reflection
/// alone. `gettid` is one while the process has had only its first thread, whose id is the pid
/// (`threads.rs`).
const FAST_CALLS: &[(u32, FastAnswer)] = &[
    (nr::__NR_getpid, |l| l.ids.pid),
    (nr::__NR_getppid, |l| l.ids.ppid),
    (nr::__NR_gettid, |l| l.ids.pid),
    (nr::__NR_getuid, |l| l.creds.uid().into()),
    (nr::__NR_geteuid, |l| l.creds.euid().into()),
    (nr::__NR_getgid, |l| l.creds.gid().into()),
    (nr::__NR_getegid, |l| l.creds.egid().into()),
];

/// The fast path (`k42_rt::program::FastHandler`).
pub fn fast(number: u64) -> Option<u64> {
    let number = u32::try_from(number).ok()?;
    let (_, answer) = FAST_CALLS.iter().find(|(n, _)| *n == number)?;
    let linux = state::get();
    // A parent other than init may end and leave this process init's: then the server
    // knows, not the start-up copy (`crate::procs::getppid`).
    if number == nr::__NR_getppid && linux.ids.ppid != k42_ptree::INIT_PID {
        return None;
    }
    if number == nr::__NR_gettid && !crate::threads::first_only() {
        return None;
    }
    Some(answer(linux))
}

/// One past the highest syscall number the table can hold (x86_64 numbers end below it).
const MAX_NR: usize = 512;

/// [`CALLS`] indexed by number.
static BY_NUMBER: [Option<Handler>; MAX_NR] = by_number();

const fn by_number() -> [Option<Handler>; MAX_NR] {
    let mut table: [Option<Handler>; MAX_NR] = [None; MAX_NR];
    let mut i = 0;
    while i < CALLS.len() {
        let (number, handler) = CALLS[i];
        assert!(
            (number as usize) < MAX_NR,
            "a syscall number beyond the table"
        );
        assert!(table[number as usize].is_none(), "a syscall listed twice");
        table[number as usize] = Some(handler);
        i += 1;
    }
    table
}

/// Which unsupported numbers were logged already.
static LOGGED: [AtomicU64; MAX_NR / 64] = [const { AtomicU64::new(0) }; MAX_NR / 64];

/// Serves one reflected syscall (`k42_rt::program::SyscallHandler`).
pub fn serve(regs: &mut SavedRegs) {
    let number = regs.rax;
    let args = [regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9];
    let context = u32::try_from(number)
        .ok()
        .and_then(|n| CONTEXT_CALLS.iter().find(|(c, _)| *c == n));
    let linux = state::get();
    if let Some((_, handler)) = context {
        let result = handler(linux, &args, regs);
        regs.rax = to_return(result);
        // A handler's return is no call to restart (Linux's sigreturn clears `orig_ax`).
        let restartable = (number != u64::from(nr::__NR_rt_sigreturn)).then_some(number);
        crate::signals::deliver(linux, regs, restartable);
        return;
    }
    let handler = usize::try_from(number)
        .ok()
        .and_then(|n| BY_NUMBER.get(n).copied().flatten());
    let result = match handler {
        Some(handler) => handler(linux, &args),
        None => unsupported(number),
    };
    regs.rax = to_return(result);
    // Signals are delivered whenever the program is about to run again (`signals.rs`).
    crate::signals::deliver(linux, regs, Some(number));
}

/// `-ENOSYS`, and the log line the first time a number is seen.
fn unsupported(number: u64) -> SysResult {
    let first = usize::try_from(number)
        .ok()
        .filter(|&n| n < MAX_NR)
        .is_none_or(|n| {
            let bit = 1u64 << (n % 64);
            LOGGED[n / 64].fetch_or(bit, Ordering::Relaxed) & bit == 0
        });
    if first {
        let name = sysno::name(number).unwrap_or("unknown");
        log!("linux: syscall {name} ({number}) is not supported yet: ENOSYS");
    }
    Err(Errno::ENOSYS)
}
