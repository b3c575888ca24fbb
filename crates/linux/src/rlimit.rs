//! Resource limits (`getrlimit`, `setrlimit`, `prlimit64`): a process's soft and hard limit for
//! each resource, the values Linux starts init's children with, and the rules of a change
//! (Linux's `do_prlimit`, `kernel/sys.c`).
//!
//! The personality keeps one [`Limits`] per process (with its fd table, which
//! `RLIMIT_NOFILE` bounds); a fork child starts with a copy and an exec keeps them, as on
//! Linux. Which ones it enforces is the personality's business (docs/linux-personality.md).

use crate::Errno;
use crate::raw::general as g;

/// "No limit" (`RLIM64_INFINITY`, all ones).
pub const INFINITY: u64 = g::RLIM64_INFINITY as u64;
/// How many resources there are (`RLIM_NLIMITS`).
pub const RESOURCES: usize = g::RLIM_NLIMITS as usize;
/// The most `RLIMIT_NOFILE` may ever be: the default of the `fs.nr_open` sysctl
/// (`sysctl_nr_open`, `fs/file.c`: 1024 × 1024). Past it a change is `EPERM`, even for root.
pub const NR_OPEN: u64 = 1 << 20;
/// Linux's default `RLIMIT_NOFILE`: soft `INR_OPEN_CUR`, hard `INR_OPEN_MAX`
/// (`include/uapi/linux/fs.h`).
pub const NOFILE_DEFAULT: Rlimit = Rlimit {
    soft: 1024,
    hard: 4096,
};
/// Linux's default soft `RLIMIT_STACK` (`_STK_LIM`, 8 MiB); the hard one is unlimited.
pub const STACK_DEFAULT_SOFT: u64 = 8 << 20;

/// One resource's pair, as `struct rlimit64` holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rlimit {
    /// The limit in force (`rlim_cur`).
    pub soft: u64,
    /// The ceiling the soft limit may be raised to without privilege (`rlim_max`).
    pub hard: u64,
}

impl Rlimit {
    /// No limit either way.
    pub const UNLIMITED: Rlimit = Rlimit {
        soft: INFINITY,
        hard: INFINITY,
    };

    /// The pair as `struct rlimit64`'s two words.
    pub fn to_words(self) -> [u64; 2] {
        [self.soft, self.hard]
    }

    /// The pair from `struct rlimit64`'s two words.
    pub fn from_words([soft, hard]: [u64; 2]) -> Rlimit {
        Rlimit { soft, hard }
    }
}

/// Every resource's limits of one process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits([Rlimit; RESOURCES]);

impl Default for Limits {
    fn default() -> Self {
        Limits::linux_defaults()
    }
}

/// The array slot of `resource`; `EINVAL` past the last.
fn index(resource: u32) -> Result<usize, Errno> {
    usize::try_from(resource)
        .ok()
        .filter(|&r| r < RESOURCES)
        .ok_or(Errno::EINVAL)
}

impl Limits {
    /// What Linux gives init (`INIT_RLIMITS`) and so, unchanged, its children: `RLIMIT_STACK`
    /// 8 MiB soft, `RLIMIT_CORE` 0 soft (both unlimited hard), `RLIMIT_NOFILE` 1024/4096, 0
    /// for `RLIMIT_NICE` and `RLIMIT_RTPRIO` (what an unprivileged process may do to its
    /// scheduling, `crate::sched`), and every other resource unlimited. (Linux's init also
    /// has finite `RLIMIT_NPROC`, `RLIMIT_SIGPENDING`, `RLIMIT_MEMLOCK` and
    /// `RLIMIT_MSGQUEUE`, which nothing here would honour.)
    pub const fn linux_defaults() -> Limits {
        let mut all = [Rlimit::UNLIMITED; RESOURCES];
        all[g::RLIMIT_STACK as usize] = Rlimit {
            soft: STACK_DEFAULT_SOFT,
            hard: INFINITY,
        };
        all[g::RLIMIT_CORE as usize] = Rlimit {
            soft: 0,
            hard: INFINITY,
        };
        all[g::RLIMIT_NOFILE as usize] = NOFILE_DEFAULT;
        all[g::RLIMIT_NICE as usize] = Rlimit { soft: 0, hard: 0 };
        all[g::RLIMIT_RTPRIO as usize] = Rlimit { soft: 0, hard: 0 };
        Limits(all)
    }

    /// `resource`'s limits; `EINVAL` for a resource Linux does not have.
    pub fn get(&self, resource: u32) -> Result<Rlimit, Errno> {
        Ok(self.0[index(resource)?])
    }

    /// Sets `resource`'s limits to `new` and answers the old ones, by Linux's rules: `EINVAL`
    /// for an unknown resource or a soft limit above the hard one; `EPERM` for an
    /// `RLIMIT_NOFILE` above [`NR_OPEN`], and for raising a hard limit without `privileged`
    /// (`CAP_SYS_RESOURCE`). Lowering either limit, and raising the soft one up to the hard,
    /// is anyone's. Nothing changes when it fails.
    pub fn set(&mut self, resource: u32, new: Rlimit, privileged: bool) -> Result<Rlimit, Errno> {
        let at = index(resource)?;
        if new.soft > new.hard {
            return Err(Errno::EINVAL);
        }
        if resource == g::RLIMIT_NOFILE && new.hard > NR_OPEN {
            return Err(Errno::EPERM);
        }
        let old = self.0[at];
        if new.hard > old.hard && !privileged {
            return Err(Errno::EPERM);
        }
        self.0[at] = new;
        Ok(old)
    }

    /// The soft `RLIMIT_NOFILE`: one more than the highest descriptor the process may open.
    pub fn nofile(&self) -> u64 {
        self.0[g::RLIMIT_NOFILE as usize].soft
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CORE: u32 = g::RLIMIT_CORE;
    const NOFILE: u32 = g::RLIMIT_NOFILE;

    fn pair(soft: u64, hard: u64) -> Rlimit {
        Rlimit { soft, hard }
    }

    #[test]
    fn defaults_are_linux_init_s() {
        let l = Limits::default();
        assert_eq!(l.get(NOFILE), Ok(pair(1024, 4096)));
        assert_eq!(l.get(g::RLIMIT_STACK), Ok(pair(8 << 20, INFINITY)));
        assert_eq!(l.get(g::RLIMIT_NICE), Ok(pair(0, 0)));
        assert_eq!(l.get(g::RLIMIT_RTPRIO), Ok(pair(0, 0)));
        assert_eq!(l.get(CORE), Ok(pair(0, INFINITY)));
        assert_eq!(l.get(g::RLIMIT_CPU), Ok(Rlimit::UNLIMITED));
        assert_eq!(l.get(g::RLIMIT_RTTIME), Ok(Rlimit::UNLIMITED));
        assert_eq!(l.nofile(), 1024);
        assert_eq!(INFINITY, u64::MAX);
    }

    #[test]
    fn unknown_resources_are_einval() {
        let mut l = Limits::default();
        assert_eq!(l.get(g::RLIM_NLIMITS), Err(Errno::EINVAL));
        assert_eq!(l.get(u32::MAX), Err(Errno::EINVAL));
        assert_eq!(l.set(g::RLIM_NLIMITS, pair(0, 0), true), Err(Errno::EINVAL));
    }

    #[test]
    fn anyone_lowers_and_raises_soft_up_to_hard() {
        let mut l = Limits::default();
        // `ulimit -c 0`: both down.
        assert_eq!(l.set(CORE, pair(0, 0), false), Ok(pair(0, INFINITY)));
        assert_eq!(l.get(CORE), Ok(pair(0, 0)));
        assert_eq!(l.set(NOFILE, pair(10, 100), false), Ok(pair(1024, 4096)));
        assert_eq!(l.set(NOFILE, pair(100, 100), false), Ok(pair(10, 100)));
        assert_eq!(l.nofile(), 100);
        // Setting the same pair again is no raise.
        assert_eq!(l.set(NOFILE, pair(100, 100), false), Ok(pair(100, 100)));
    }

    #[test]
    fn raising_hard_needs_privilege() {
        let mut l = Limits::default();
        l.set(CORE, pair(0, 10), false).unwrap();
        assert_eq!(l.set(CORE, pair(0, 11), false), Err(Errno::EPERM));
        assert_eq!(
            l.get(CORE),
            Ok(pair(0, 10)),
            "a refused change changes nothing"
        );
        assert_eq!(l.set(CORE, pair(5, INFINITY), true), Ok(pair(0, 10)));
        assert_eq!(l.get(CORE), Ok(pair(5, INFINITY)));
    }

    #[test]
    fn soft_above_hard_is_einval_even_for_root() {
        let mut l = Limits::default();
        assert_eq!(l.set(CORE, pair(2, 1), true), Err(Errno::EINVAL));
        assert_eq!(l.set(CORE, pair(INFINITY, 0), false), Err(Errno::EINVAL));
        assert_eq!(l.get(CORE), Ok(pair(0, INFINITY)));
    }

    #[test]
    fn nofile_stops_at_nr_open() {
        let mut l = Limits::default();
        assert_eq!(
            l.set(NOFILE, pair(NR_OPEN + 1, NR_OPEN + 1), true),
            Err(Errno::EPERM)
        );
        assert_eq!(l.set(NOFILE, pair(1024, INFINITY), true), Err(Errno::EPERM));
        assert_eq!(
            l.set(NOFILE, pair(NR_OPEN, NR_OPEN), true),
            Ok(NOFILE_DEFAULT)
        );
        // Other resources have no such ceiling.
        assert_eq!(
            l.set(g::RLIMIT_FSIZE, pair(NR_OPEN + 1, INFINITY), false),
            Ok(Rlimit::UNLIMITED)
        );
    }

    #[test]
    fn words_round_trip() {
        assert_eq!(Rlimit::from_words([3, 4]), pair(3, 4));
        assert_eq!(pair(3, 4).to_words(), [3, 4]);
    }
}
