//! Scheduling parameters (`getpriority`/`setpriority`, the `sched_*` policy calls and
//! `sched_getaffinity`/`sched_setaffinity`): what one process holds, and the checks Linux 6.1
//! makes before it changes any of it (`kernel/sys.c`'s `setpriority` and `set_one_prio`,
//! `kernel/sched/core.c`'s `__sched_setscheduler`, `sched_getaffinity` and
//! `get_user_cpu_mask`).
//!
//! The process server keeps one [`Params`] per process (`k42_ptree::sched`, which also says
//! who may change whose); a fork child starts with a copy ([`Params::forked`] applies
//! `SCHED_RESET_ON_FORK`) and an exec keeps it, as on Linux. The personality
//! (`user/bin/linux/src/calls/sched.rs`) checks the arguments Linux checks before it looks
//! for the process, with the length rules of the affinity masks here. What the values change
//! in how K42 runs the process is said in docs/linux-personality.md.

use crate::Errno;
use crate::raw::general as g;

/// The lowest nice value (the highest priority) and the highest (`MIN_NICE`, `MAX_NICE`).
pub const NICE_MIN: i32 = -20;
/// The highest nice value.
pub const NICE_MAX: i32 = 19;
/// The highest real-time priority (`MAX_RT_PRIO - 1`); the lowest is 1.
pub const RT_PRIORITY_MAX: u32 = 99;
/// Bits in one CPU-mask word: masks are arrays of `unsigned long`.
pub const MASK_WORD_BITS: u32 = u64::BITS;
/// Bytes in one CPU-mask word.
pub const MASK_WORD_BYTES: usize = core::mem::size_of::<u64>();
/// The most CPUs a [`Params::affinity`] mask names (one word, as K42's kernel supports).
pub const MAX_CPUS: u32 = MASK_WORD_BITS;

/// One process's scheduling parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// The nice value, [`NICE_MIN`]..=[`NICE_MAX`].
    pub nice: i32,
    /// The policy (`SCHED_OTHER`, `SCHED_FIFO`, …), without `SCHED_RESET_ON_FORK`.
    pub policy: u32,
    /// The real-time priority: 1..=[`RT_PRIORITY_MAX`] under `SCHED_FIFO` and `SCHED_RR`, 0
    /// under the others.
    pub rt_priority: u32,
    /// `SCHED_RESET_ON_FORK`: a child starts with the default policy and no negative nice.
    pub reset_on_fork: bool,
    /// The CPUs the process may run on, bit `n` for CPU `n`; `None` for every one there is.
    pub affinity: Option<u64>,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            nice: 0,
            policy: g::SCHED_NORMAL,
            rt_priority: 0,
            reset_on_fork: false,
            affinity: None,
        }
    }
}

/// Whether `policy` is one of Linux 6.1's (not `SCHED_EXT`, 7, which came in 6.12).
fn valid_policy(policy: u32) -> bool {
    matches!(
        policy,
        g::SCHED_NORMAL
            | g::SCHED_FIFO
            | g::SCHED_RR
            | g::SCHED_BATCH
            | g::SCHED_IDLE
            | g::SCHED_DEADLINE
    )
}

/// Whether `policy` is a real-time one (with a priority of its own).
fn rt_policy(policy: u32) -> bool {
    policy == g::SCHED_FIFO || policy == g::SCHED_RR
}

/// `sched_get_priority_max(policy)`: 99 for the real-time policies, 0 for the others, `EINVAL`
/// for a policy Linux does not have.
pub fn priority_max(policy: i32) -> Result<u32, Errno> {
    priority_range(policy).map(|(_, max)| max)
}

/// `sched_get_priority_min(policy)`: 1 for the real-time policies, 0 for the others.
pub fn priority_min(policy: i32) -> Result<u32, Errno> {
    priority_range(policy).map(|(min, _)| min)
}

fn priority_range(policy: i32) -> Result<(u32, u32), Errno> {
    let policy = u32::try_from(policy).map_err(|_| Errno::EINVAL)?;
    if !valid_policy(policy) {
        return Err(Errno::EINVAL);
    }
    Ok(if rt_policy(policy) {
        (1, RT_PRIORITY_MAX)
    } else {
        (0, 0)
    })
}

/// A nice value as Linux's `setpriority` takes it: a C int, clamped to
/// [`NICE_MIN`]..=[`NICE_MAX`].
pub fn clamp_nice(register: u64) -> i32 {
    (register as u32 as i32).clamp(NICE_MIN, NICE_MAX)
}

/// The `RLIMIT_NICE` value that allows nice value `nice` (`nice_to_rlimit`: 40 for -20, 1
/// for 19); also what the `getpriority` syscall returns for it (the C library turns it back).
pub fn nice_to_rlimit(nice: i32) -> u64 {
    // Lossless: 1..=40 for a nice value in range.
    (NICE_MAX - nice + 1) as u64
}

/// `can_nice`: whether a process may take nice value `nice`, its `RLIMIT_NICE` soft limit
/// being `rlimit_nice`.
fn can_nice(nice: i32, rlimit_nice: u64, privileged: bool) -> bool {
    privileged || nice_to_rlimit(nice) <= rlimit_nice
}

/// What a scheduling change may do without `CAP_SYS_NICE`: the caller's limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allowance {
    /// `CAP_SYS_NICE` (here: the effective uid 0).
    pub privileged: bool,
    /// `RLIMIT_NICE`'s soft limit.
    pub rlimit_nice: u64,
    /// `RLIMIT_RTPRIO`'s soft limit.
    pub rlimit_rtprio: u64,
}

impl Params {
    /// `setpriority` on this process (`set_one_prio`, once the target is known to be one the
    /// caller may change): `nice` (clamped already) lower than now needs [`can_nice`], else
    /// `EACCES`.
    pub fn set_nice(&mut self, nice: i32, allowed: Allowance) -> Result<(), Errno> {
        if nice < self.nice && !can_nice(nice, allowed.rlimit_nice, allowed.privileged) {
            return Err(Errno::EACCES);
        }
        self.nice = nice;
        Ok(())
    }

    /// `sched_getscheduler`'s answer: the policy, with `SCHED_RESET_ON_FORK` if set.
    pub fn policy_word(&self) -> u32 {
        if self.reset_on_fork {
            self.policy | g::SCHED_RESET_ON_FORK
        } else {
            self.policy
        }
    }

    /// `sched_setscheduler(policy, priority)`, or `sched_setparam(priority)` with `policy`
    /// `None` (the current one stays), by `__sched_setscheduler`'s rules: `EINVAL` for a
    /// negative or unknown policy, `SCHED_DEADLINE` (it needs `sched_setattr`'s runtime and
    /// deadline), or a priority outside the policy's range; without privilege, `EPERM` to
    /// take a real-time policy or raise its priority past `RLIMIT_RTPRIO`, to leave
    /// `SCHED_IDLE` without [`can_nice`], or to drop `SCHED_RESET_ON_FORK`. Nothing changes
    /// when it fails.
    pub fn set_scheduler(
        &mut self,
        policy: Option<i32>,
        priority: i32,
        allowed: Allowance,
    ) -> Result<(), Errno> {
        let (policy, reset_on_fork, priority) = self.requested(policy, priority)?;
        if !allowed.privileged {
            if rt_policy(policy) {
                let limit = allowed.rlimit_rtprio;
                if policy != self.policy && limit == 0 {
                    return Err(Errno::EPERM);
                }
                if priority > self.rt_priority && u64::from(priority) > limit {
                    return Err(Errno::EPERM);
                }
            }
            if self.policy == g::SCHED_IDLE
                && policy != g::SCHED_IDLE
                && !can_nice(self.nice, allowed.rlimit_nice, false)
            {
                return Err(Errno::EPERM);
            }
            if self.reset_on_fork && !reset_on_fork {
                return Err(Errno::EPERM);
            }
        }
        self.policy = policy;
        self.rt_priority = priority;
        self.reset_on_fork = reset_on_fork;
        Ok(())
    }

    /// The policy, `SCHED_RESET_ON_FORK` and priority a `sched_setscheduler` (`policy`) or
    /// `sched_setparam` (`None`) asks for, or the `EINVAL` Linux answers before any permission
    /// check ([`Params::set_scheduler`]'s first step).
    pub fn requested(&self, policy: Option<i32>, priority: i32) -> Result<(u32, bool, u32), Errno> {
        let (policy, reset_on_fork) = match policy {
            None => (self.policy, self.reset_on_fork),
            Some(word) => {
                let word = u32::try_from(word).map_err(|_| Errno::EINVAL)?;
                (
                    word & !g::SCHED_RESET_ON_FORK,
                    word & g::SCHED_RESET_ON_FORK != 0,
                )
            }
        };
        if !valid_policy(policy) {
            return Err(Errno::EINVAL);
        }
        let priority = u32::try_from(priority).map_err(|_| Errno::EINVAL)?;
        if priority > RT_PRIORITY_MAX
            || policy == g::SCHED_DEADLINE
            || rt_policy(policy) != (priority != 0)
        {
            return Err(Errno::EINVAL);
        }
        Ok((policy, reset_on_fork, priority))
    }

    /// A fork child's parameters: the parent's, except that with `SCHED_RESET_ON_FORK` a
    /// real-time policy becomes `SCHED_OTHER` at nice 0, a negative nice under another policy
    /// 0, and the flag goes (`sched_fork`).
    pub fn forked(&self) -> Params {
        let mut child = *self;
        if child.reset_on_fork {
            if rt_policy(child.policy) {
                child.policy = g::SCHED_NORMAL;
                child.rt_priority = 0;
                child.nice = 0;
            } else {
                child.nice = child.nice.max(0);
            }
            child.reset_on_fork = false;
        }
        child
    }

    /// The CPUs this process may run on, of the `cpus` there are.
    pub fn allowed_cpus(&self, cpus: u32) -> u64 {
        self.affinity.unwrap_or(u64::MAX) & online_mask(cpus)
    }
}

/// The mask of CPUs 0 to `cpus - 1` (at most [`MAX_CPUS`]).
pub fn online_mask(cpus: u32) -> u64 {
    match cpus {
        0 => 0,
        n if n >= MAX_CPUS => u64::MAX,
        n => (1 << n) - 1,
    }
}

/// The bytes of a CPU mask for `cpus` CPUs (`cpumask_size()`: whole words).
pub fn mask_bytes(cpus: u32) -> usize {
    cpus.div_ceil(MASK_WORD_BITS).max(1) as usize * MASK_WORD_BYTES
}

/// How many bytes `sched_getaffinity` writes into a buffer of `len` bytes (its answer), for
/// `cpus` CPUs: `EINVAL` if the buffer has fewer bits than there are CPUs or is not whole
/// words.
pub fn getaffinity_len(len: u32, cpus: u32) -> Result<usize, Errno> {
    // An unsigned int, whose bit count wraps as Linux's `len * BITS_PER_BYTE` does.
    if len.wrapping_mul(8) < cpus || !len.is_multiple_of(MASK_WORD_BYTES as u32) {
        return Err(Errno::EINVAL);
    }
    Ok((len as usize).min(mask_bytes(cpus)))
}

/// How many bytes `sched_setaffinity` reads of a buffer of `len` bytes (`get_user_cpu_mask`:
/// at most a whole mask; a shorter one is read as it is, the rest of the mask clear).
pub fn setaffinity_len(len: u64, cpus: u32) -> usize {
    // Lossless: min of a usize.
    len.min(mask_bytes(cpus) as u64) as usize
}

/// The affinity `sched_setaffinity` keeps for the mask in `bytes` (little-endian words, as the
/// program wrote them) with `cpus` CPUs online: the CPUs it names that exist, `EINVAL` if that
/// leaves none.
pub fn new_affinity(bytes: &[u8], cpus: u32) -> Result<u64, Errno> {
    let mut first = [0u8; MASK_WORD_BYTES];
    let n = bytes.len().min(MASK_WORD_BYTES);
    first[..n].copy_from_slice(&bytes[..n]);
    let mask = u64::from_le_bytes(first) & online_mask(cpus);
    if mask == 0 {
        return Err(Errno::EINVAL);
    }
    Ok(mask)
}

/// The mask `sched_getaffinity` writes: `len` bytes (from [`getaffinity_len`]), `allowed`'s
/// bits first.
pub fn affinity_bytes(allowed: u64, len: usize) -> alloc::vec::Vec<u8> {
    let mut out = alloc::vec![0u8; len];
    let n = len.min(MASK_WORD_BYTES);
    out[..n].copy_from_slice(&allowed.to_le_bytes()[..n]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: Allowance = Allowance {
        privileged: true,
        rlimit_nice: 0,
        rlimit_rtprio: 0,
    };
    const USER: Allowance = Allowance {
        privileged: false,
        rlimit_nice: 0,
        rlimit_rtprio: 0,
    };

    #[test]
    fn priority_ranges_are_linux_s() {
        assert_eq!(priority_max(g::SCHED_FIFO as i32), Ok(99));
        assert_eq!(priority_min(g::SCHED_RR as i32), Ok(1));
        for p in [
            g::SCHED_NORMAL,
            g::SCHED_BATCH,
            g::SCHED_IDLE,
            g::SCHED_DEADLINE,
        ] {
            assert_eq!(priority_max(p as i32), Ok(0));
            assert_eq!(priority_min(p as i32), Ok(0));
        }
        for bad in [-1, 4, 7, 100] {
            assert_eq!(priority_max(bad), Err(Errno::EINVAL));
        }
    }

    #[test]
    fn nice_is_clamped_and_reported_as_the_syscall_does() {
        assert_eq!(clamp_nice(100), NICE_MAX);
        assert_eq!(clamp_nice((-100i64) as u64), NICE_MIN);
        // The upper half of the register is not read (a C int).
        assert_eq!(clamp_nice(0xffff_ffff_0000_0005), 5);
        assert_eq!(nice_to_rlimit(0), 20);
        assert_eq!(nice_to_rlimit(NICE_MIN), 40);
        assert_eq!(nice_to_rlimit(NICE_MAX), 1);
    }

    #[test]
    fn lowering_nice_needs_privilege_or_rlimit_nice() {
        let mut p = Params::default();
        assert_eq!(p.set_nice(5, USER), Ok(()));
        assert_eq!(p.set_nice(4, USER), Err(Errno::EACCES));
        assert_eq!(p.nice, 5);
        let limited = Allowance {
            rlimit_nice: 20,
            ..USER
        };
        assert_eq!(p.set_nice(0, limited), Ok(()));
        assert_eq!(p.set_nice(-1, limited), Err(Errno::EACCES));
        assert_eq!(p.set_nice(-20, ROOT), Ok(()));
    }

    #[test]
    fn setscheduler_checks_policy_and_priority() {
        let mut p = Params::default();
        assert_eq!(p.set_scheduler(Some(-1), 0, ROOT), Err(Errno::EINVAL));
        assert_eq!(p.set_scheduler(Some(4), 0, ROOT), Err(Errno::EINVAL));
        assert_eq!(p.set_scheduler(Some(1), 0, ROOT), Err(Errno::EINVAL));
        assert_eq!(p.set_scheduler(Some(0), 1, ROOT), Err(Errno::EINVAL));
        assert_eq!(p.set_scheduler(Some(1), 100, ROOT), Err(Errno::EINVAL));
        assert_eq!(p.set_scheduler(Some(6), 0, ROOT), Err(Errno::EINVAL));
        assert_eq!(p, Params::default());
        assert_eq!(p.set_scheduler(Some(1), 10, ROOT), Ok(()));
        assert_eq!((p.policy, p.rt_priority), (g::SCHED_FIFO, 10));
        // sched_setparam keeps the policy.
        assert_eq!(p.set_scheduler(None, 0, ROOT), Err(Errno::EINVAL));
        assert_eq!(p.set_scheduler(None, 20, ROOT), Ok(()));
        assert_eq!((p.policy, p.rt_priority), (g::SCHED_FIFO, 20));
    }

    #[test]
    fn unprivileged_setscheduler_follows_the_rlimits() {
        let mut p = Params::default();
        assert_eq!(p.set_scheduler(Some(1), 1, USER), Err(Errno::EPERM));
        let rt = Allowance {
            rlimit_rtprio: 5,
            ..USER
        };
        assert_eq!(p.set_scheduler(Some(2), 6, rt), Err(Errno::EPERM));
        assert_eq!(p.set_scheduler(Some(2), 5, rt), Ok(()));
        // Lowering is anyone's.
        assert_eq!(p.set_scheduler(None, 1, USER), Ok(()));
        assert_eq!(p.set_scheduler(Some(0), 0, USER), Ok(()));
        // SCHED_IDLE is easy to enter and, without RLIMIT_NICE, hard to leave.
        assert_eq!(p.set_scheduler(Some(5), 0, USER), Ok(()));
        assert_eq!(p.set_scheduler(Some(0), 0, USER), Err(Errno::EPERM));
        assert_eq!(p.set_scheduler(Some(0), 0, ROOT), Ok(()));
        // SCHED_RESET_ON_FORK is easy to set and, without privilege, kept.
        let word = (g::SCHED_BATCH | g::SCHED_RESET_ON_FORK) as i32;
        assert_eq!(p.set_scheduler(Some(word), 0, USER), Ok(()));
        assert_eq!(p.policy_word(), g::SCHED_BATCH | g::SCHED_RESET_ON_FORK);
        assert_eq!(p.set_scheduler(Some(0), 0, USER), Err(Errno::EPERM));
        assert_eq!(p.set_scheduler(None, 0, USER), Ok(()));
        assert!(p.reset_on_fork);
    }

    #[test]
    fn reset_on_fork_resets_the_child_only() {
        let mut p = Params::default();
        p.set_scheduler(Some((g::SCHED_RR | g::SCHED_RESET_ON_FORK) as i32), 7, ROOT)
            .unwrap();
        p.set_nice(-5, ROOT).unwrap();
        let child = p.forked();
        assert_eq!((child.policy, child.rt_priority, child.nice), (0, 0, 0));
        assert!(!child.reset_on_fork);
        assert_eq!((p.policy, p.rt_priority, p.nice), (g::SCHED_RR, 7, -5));
        // A real-time parent's positive nice is reset too; another policy's is kept.
        p.set_nice(5, ROOT).unwrap();
        assert_eq!(p.forked().nice, 0);
        let mut batch = Params::default();
        batch
            .set_scheduler(
                Some((g::SCHED_BATCH | g::SCHED_RESET_ON_FORK) as i32),
                0,
                ROOT,
            )
            .unwrap();
        batch.set_nice(5, ROOT).unwrap();
        assert_eq!(batch.forked().nice, 5);
        let mut plain = Params::default();
        plain.set_nice(-5, ROOT).unwrap();
        assert_eq!(plain.forked(), plain);
    }

    #[test]
    fn affinity_lengths_are_linux_s() {
        assert_eq!(mask_bytes(2), 8);
        assert_eq!(mask_bytes(64), 8);
        assert_eq!(getaffinity_len(0, 2), Err(Errno::EINVAL));
        assert_eq!(getaffinity_len(4, 2), Err(Errno::EINVAL));
        assert_eq!(getaffinity_len(12, 2), Err(Errno::EINVAL));
        assert_eq!(getaffinity_len(8, 2), Ok(8));
        assert_eq!(getaffinity_len(128, 2), Ok(8));
        // 2^29 bytes have 2^32 bits: 0 once wrapped, as in Linux.
        assert_eq!(getaffinity_len(1 << 29, 2), Err(Errno::EINVAL));
        assert_eq!(getaffinity_len((1 << 29) + 8, 2), Ok(8));
        assert_eq!(setaffinity_len(4, 2), 4);
        assert_eq!(setaffinity_len(1024, 2), 8);
    }

    #[test]
    fn a_new_affinity_keeps_the_cpus_that_exist() {
        assert_eq!(new_affinity(&[0b110], 2), Ok(0b10));
        assert_eq!(new_affinity(&[0b100], 2), Err(Errno::EINVAL));
        assert_eq!(new_affinity(&[], 2), Err(Errno::EINVAL));
        assert_eq!(new_affinity(&[0xff; 16], 64), Ok(u64::MAX));
        let mut p = Params::default();
        assert_eq!(p.allowed_cpus(2), 0b11);
        p.affinity = Some(0b10);
        assert_eq!(p.allowed_cpus(2), 0b10);
        assert_eq!(affinity_bytes(0b10, 16), {
            let mut v = alloc::vec![0u8; 16];
            v[0] = 0b10;
            v
        });
    }
}
