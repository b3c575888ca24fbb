//! The typed Linux error number and the personality's one error-to-return-value conversion.
//!
//! Every syscall handler of the personality answers with a [`SysResult`]: `Ok(value)` or
//! `Err(Errno)`. Only [`to_return`] turns that into what `rax` holds when the program resumes
//! (`value`, or `-errno` as the kernel's `syscall` convention has it), so no handler writes a
//! negative number by hand and the "-errno" rule of `DESIGN.md` §2.6 lives in one place.
//!
//! The values are linux-raw-sys's (`linux_raw_sys::errno`, generated from the kernel's
//! `asm-generic/errno*.h`); this file types no number of its own. [`Errno::name`] gives the
//! symbolic name for log lines.

use core::fmt;

use linux_raw_sys::errno as raw;

/// A Linux error number, `1..=4095` (the range the `syscall` return convention reserves for
/// errors). Build one from the named constants ([`Errno::ENOENT`]…) or [`Errno::new`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Errno(u16);

/// The result of one Linux syscall in the personality: the value for `rax`, or an error number.
pub type SysResult = Result<u64, Errno>;

/// The largest error number the `syscall` return convention can carry: a return value in
/// `[-4095, -1]` is an error (Linux's `MAX_ERRNO`, `include/linux/err.h`, which is not UAPI and
/// so not in linux-raw-sys).
pub const MAX_ERRNO: u16 = 4095;

/// `Ok(v)` → `v`; `Err(e)` → `-e` as the unsigned 64-bit `rax` value. The personality's only
/// place where an error becomes a return value.
pub fn to_return(r: SysResult) -> u64 {
    match r {
        Ok(v) => v,
        Err(e) => (-i64::from(e.0)) as u64,
    }
}

/// The inverse of [`to_return`] for a raw `syscall` return value: `[-4095, -1]` is an error,
/// everything else a value (as libc's wrappers decide).
pub fn from_return(rax: u64) -> SysResult {
    let signed = rax as i64;
    if (-i64::from(MAX_ERRNO)..0).contains(&signed) {
        Err(Errno((-signed) as u16))
    } else {
        Ok(rax)
    }
}

/// Defines the named constants and [`Errno::name`]'s table from one list of linux-raw-sys names.
macro_rules! errnos {
    ($($name:ident),* $(,)?) => {
        impl Errno {
            $(
                #[doc = concat!("`", stringify!($name), "`, value from `linux_raw_sys::errno`.")]
                pub const $name: Errno = Errno(raw::$name as u16);
            )*

            /// The symbolic name (`"ENOENT"`), for log lines; `"E?"` for a number Linux does
            /// not define. Aliases answer with their primary name (`EWOULDBLOCK` → `"EAGAIN"`,
            /// `ENOTSUP` → `"EOPNOTSUPP"`).
            pub const fn name(self) -> &'static str {
                match self {
                    $(Self::$name => stringify!($name),)*
                    _ => "E?",
                }
            }

            /// Every primary (non-alias) error number Linux defines, in ascending order.
            pub const ALL: &'static [Errno] = &[$(Self::$name),*];
        }
    };
}

errnos!(
    EPERM,
    ENOENT,
    ESRCH,
    EINTR,
    EIO,
    ENXIO,
    E2BIG,
    ENOEXEC,
    EBADF,
    ECHILD,
    EAGAIN,
    ENOMEM,
    EACCES,
    EFAULT,
    ENOTBLK,
    EBUSY,
    EEXIST,
    EXDEV,
    ENODEV,
    ENOTDIR,
    EISDIR,
    EINVAL,
    ENFILE,
    EMFILE,
    ENOTTY,
    ETXTBSY,
    EFBIG,
    ENOSPC,
    ESPIPE,
    EROFS,
    EMLINK,
    EPIPE,
    EDOM,
    ERANGE,
    EDEADLK,
    ENAMETOOLONG,
    ENOLCK,
    ENOSYS,
    ENOTEMPTY,
    ELOOP,
    ENOMSG,
    EIDRM,
    ECHRNG,
    EL2NSYNC,
    EL3HLT,
    EL3RST,
    ELNRNG,
    EUNATCH,
    ENOCSI,
    EL2HLT,
    EBADE,
    EBADR,
    EXFULL,
    ENOANO,
    EBADRQC,
    EBADSLT,
    EBFONT,
    ENOSTR,
    ENODATA,
    ETIME,
    ENOSR,
    ENONET,
    ENOPKG,
    EREMOTE,
    ENOLINK,
    EADV,
    ESRMNT,
    ECOMM,
    EPROTO,
    EMULTIHOP,
    EDOTDOT,
    EBADMSG,
    EOVERFLOW,
    ENOTUNIQ,
    EBADFD,
    EREMCHG,
    ELIBACC,
    ELIBBAD,
    ELIBSCN,
    ELIBMAX,
    ELIBEXEC,
    EILSEQ,
    ERESTART,
    ESTRPIPE,
    EUSERS,
    ENOTSOCK,
    EDESTADDRREQ,
    EMSGSIZE,
    EPROTOTYPE,
    ENOPROTOOPT,
    EPROTONOSUPPORT,
    ESOCKTNOSUPPORT,
    EOPNOTSUPP,
    EPFNOSUPPORT,
    EAFNOSUPPORT,
    EADDRINUSE,
    EADDRNOTAVAIL,
    ENETDOWN,
    ENETUNREACH,
    ENETRESET,
    ECONNABORTED,
    ECONNRESET,
    ENOBUFS,
    EISCONN,
    ENOTCONN,
    ESHUTDOWN,
    ETOOMANYREFS,
    ETIMEDOUT,
    ECONNREFUSED,
    EHOSTDOWN,
    EHOSTUNREACH,
    EALREADY,
    EINPROGRESS,
    ESTALE,
    EUCLEAN,
    ENOTNAM,
    ENAVAIL,
    EISNAM,
    EREMOTEIO,
    EDQUOT,
    ENOMEDIUM,
    EMEDIUMTYPE,
    ECANCELED,
    ENOKEY,
    EKEYEXPIRED,
    EKEYREVOKED,
    EKEYREJECTED,
    EOWNERDEAD,
    ENOTRECOVERABLE,
    ERFKILL,
    EHWPOISON,
);

impl Errno {
    /// `EWOULDBLOCK`, Linux's alias of [`Errno::EAGAIN`].
    pub const EWOULDBLOCK: Errno = Errno(raw::EWOULDBLOCK as u16);
    /// `EDEADLOCK`, Linux's alias of [`Errno::EDEADLK`] on x86_64.
    pub const EDEADLOCK: Errno = Errno(raw::EDEADLOCK as u16);
    /// `ENOTSUP`: C libraries define it as [`Errno::EOPNOTSUPP`] on Linux; the kernel's UAPI
    /// headers (and so linux-raw-sys) have only the latter.
    pub const ENOTSUP: Errno = Errno::EOPNOTSUPP;

    /// `ERESTARTSYS` (512), kernel-internal (`include/linux/errno.h`, not UAPI): a blocking
    /// call a signal interrupted. It never reaches the program: the signal code turns it into
    /// a restart of the call (no handler ran, or the handler has `SA_RESTART`) or `EINTR`.
    pub const ERESTARTSYS: Errno = Errno(512);
    /// `ERESTARTNOHAND` (514), kernel-internal: restart the call only if no handler runs,
    /// `EINTR` otherwise, whatever `SA_RESTART` says (`poll`, `pause`, `sigsuspend`).
    pub const ERESTARTNOHAND: Errno = Errno(514);

    /// The error number `n`, or `None` outside `1..=`[`MAX_ERRNO`]. Numbers Linux leaves
    /// unassigned inside that range are accepted (they still travel as `-n`).
    pub const fn new(n: u16) -> Option<Errno> {
        if n >= 1 && n <= MAX_ERRNO {
            Some(Errno(n))
        } else {
            None
        }
    }

    /// The positive number, as `errno` holds it in C.
    pub const fn get(self) -> u16 {
        self.0
    }
}

/// An errno is a server method's error word as it is (`1..=MAX_ERRNO`), so a file server's
/// answer reaches the program unchanged.
impl k42_rights::wire::Word for Errno {
    fn to_word(self) -> u64 {
        u64::from(self.0)
    }
    fn from_word(word: u64) -> Option<Self> {
        u16::try_from(word).ok().and_then(Errno::new)
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::format;
    use std::vec::Vec;

    use super::*;

    #[test]
    fn values_are_linuxs() {
        // The asm-generic numbers every Linux architecture but alpha/mips/parisc/sparc shares;
        // spelled out here once, as the check that the table is wired to the right constants.
        let expected: &[(Errno, u16, &str)] = &[
            (Errno::EPERM, 1, "EPERM"),
            (Errno::ENOENT, 2, "ENOENT"),
            (Errno::ESRCH, 3, "ESRCH"),
            (Errno::EINTR, 4, "EINTR"),
            (Errno::EIO, 5, "EIO"),
            (Errno::ENXIO, 6, "ENXIO"),
            (Errno::E2BIG, 7, "E2BIG"),
            (Errno::ENOEXEC, 8, "ENOEXEC"),
            (Errno::EBADF, 9, "EBADF"),
            (Errno::ECHILD, 10, "ECHILD"),
            (Errno::EAGAIN, 11, "EAGAIN"),
            (Errno::ENOMEM, 12, "ENOMEM"),
            (Errno::EACCES, 13, "EACCES"),
            (Errno::EFAULT, 14, "EFAULT"),
            (Errno::EBUSY, 16, "EBUSY"),
            (Errno::EEXIST, 17, "EEXIST"),
            (Errno::EXDEV, 18, "EXDEV"),
            (Errno::ENODEV, 19, "ENODEV"),
            (Errno::ENOTDIR, 20, "ENOTDIR"),
            (Errno::EISDIR, 21, "EISDIR"),
            (Errno::EINVAL, 22, "EINVAL"),
            (Errno::ENFILE, 23, "ENFILE"),
            (Errno::EMFILE, 24, "EMFILE"),
            (Errno::ENOTTY, 25, "ENOTTY"),
            (Errno::EFBIG, 27, "EFBIG"),
            (Errno::ENOSPC, 28, "ENOSPC"),
            (Errno::ESPIPE, 29, "ESPIPE"),
            (Errno::EROFS, 30, "EROFS"),
            (Errno::EMLINK, 31, "EMLINK"),
            (Errno::EPIPE, 32, "EPIPE"),
            (Errno::ERANGE, 34, "ERANGE"),
            (Errno::ENAMETOOLONG, 36, "ENAMETOOLONG"),
            (Errno::ENOSYS, 38, "ENOSYS"),
            (Errno::ENOTEMPTY, 39, "ENOTEMPTY"),
            (Errno::ELOOP, 40, "ELOOP"),
            (Errno::EOPNOTSUPP, 95, "EOPNOTSUPP"),
            (Errno::ETIMEDOUT, 110, "ETIMEDOUT"),
        ];
        for &(e, n, name) in expected {
            assert_eq!(e.get(), n, "{name}");
            assert_eq!(e.name(), name);
        }
    }

    #[test]
    fn aliases_share_values_and_primary_names() {
        assert_eq!(Errno::EWOULDBLOCK, Errno::EAGAIN);
        assert_eq!(Errno::EWOULDBLOCK.name(), "EAGAIN");
        assert_eq!(Errno::ENOTSUP, Errno::EOPNOTSUPP);
        assert_eq!(Errno::ENOTSUP.name(), "EOPNOTSUPP");
        assert_eq!(Errno::EDEADLOCK, Errno::EDEADLK);
    }

    #[test]
    fn table_is_sorted_unique_and_named() {
        let all = Errno::ALL;
        assert!(all.len() >= 130);
        assert!(
            all.windows(2).all(|w| w[0] < w[1]),
            "ascending, no duplicates"
        );
        for &e in all {
            assert_ne!(e.name(), "E?", "{}", e.get());
            assert_eq!(Errno::new(e.get()), Some(e));
        }
    }

    #[test]
    fn new_bounds() {
        assert_eq!(Errno::new(0), None);
        assert_eq!(Errno::new(MAX_ERRNO + 1), None);
        assert_eq!(Errno::new(MAX_ERRNO).map(Errno::get), Some(MAX_ERRNO));
        assert_eq!(Errno::new(4000).map(Errno::name), Some("E?"));
    }

    #[test]
    fn to_return_is_minus_errno() {
        assert_eq!(to_return(Ok(0)), 0);
        assert_eq!(to_return(Ok(42)), 42);
        assert_eq!(to_return(Ok(u64::MAX - 5000)), u64::MAX - 5000);
        assert_eq!(to_return(Err(Errno::ENOSYS)), (-38i64) as u64);
        assert_eq!(to_return(Err(Errno::EPERM)), u64::MAX);
        let max = Errno::new(MAX_ERRNO).unwrap();
        assert_eq!(to_return(Err(max)), (-4095i64) as u64);
    }

    #[test]
    fn from_return_round_trips() {
        let values: Vec<SysResult> = std::vec![
            Ok(0),
            Ok(1),
            Ok(0x7fff_ffff_f000),
            Ok((-4096i64) as u64),
            Err(Errno::EPERM),
            Err(Errno::ENOENT),
            Err(Errno::new(MAX_ERRNO).unwrap()),
        ];
        for v in values {
            assert_eq!(from_return(to_return(v)), v);
        }
    }

    #[test]
    fn formatting() {
        assert_eq!(format!("{}", Errno::ENOENT), "ENOENT");
        assert_eq!(format!("{:?}", Errno::ENOENT), "ENOENT(2)");
    }
}
