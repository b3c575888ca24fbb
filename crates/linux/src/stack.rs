//! The initial stack of a Linux process, built the way Linux's `create_elf_tables`
//! (`fs/binfmt_elf.c`) and `copy_strings` (`fs/exec.c`) build it, so a static musl or glibc
//! program (and busybox) finds argc, argv, envp and the auxiliary vector where the System V
//! x86_64 ABI says.
//!
//! The personality's `exec` calls [`build`] with the stack's top address and copies the returned
//! bytes to `[rsp, top)` in the new image before jumping to the entry point with `rsp`. From `rsp`
//! upwards the image holds:
//!
//! ```text
//! rsp ->  argc                          (rsp is 16-byte aligned, as Linux guarantees)
//!         argv[0] .. argv[argc-1], NULL
//!         envp[0] .. envp[envc-1], NULL
//!         auxv pairs (the caller's, then AT_RANDOM, AT_EXECFN, AT_PLATFORM), AT_NULL pair
//!         padding to 16 bytes
//!         the 16 AT_RANDOM bytes        (16-byte aligned)
//!         padding
//!         the platform string ("x86_64\0")
//!         padding to 16 bytes
//!         argv strings, envp strings, the execfn string (each NUL-terminated, in that order)
//!         8 zero bytes
//! top
//! ```
//!
//! As in Linux, an empty argv becomes a single empty string (argc 1, since Linux 5.18), and the
//! arguments are limited: each string, with its NUL, to [`MAX_ARG_STRLEN`], and all strings plus
//! the argv and envp pointers to [`MAX_ARG_TOTAL`]; past either, `E2BIG`.
//!
//! The `AT_*` keys are linux-raw-sys's (`linux_raw_sys::auxvec`), re-exported here; they are
//! `u32` there, so a caller writes `(u64::from(AT_PHDR), phdr)`. [`auxv_for_load`] makes the
//! load-dependent entries from a [`LoadAuxv`].

use alloc::vec;
use alloc::vec::Vec;

pub use linux_raw_sys::auxvec::{
    AT_BASE, AT_CLKTCK, AT_EGID, AT_ENTRY, AT_EUID, AT_EXECFN, AT_FLAGS, AT_GID, AT_HWCAP,
    AT_HWCAP2, AT_MINSIGSTKSZ, AT_NULL, AT_PAGESZ, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PLATFORM,
    AT_RANDOM, AT_SECURE, AT_SYSINFO_EHDR, AT_UID,
};

use crate::PAGE_SIZE;
use crate::errno::Errno;

/// The longest one argument or environment string may be, counting its NUL: Linux's
/// `MAX_ARG_STRLEN` (`include/uapi/linux/binfmts.h`, 32 pages; its `PAGE_SIZE` makes it
/// kernel-only, so it is not in linux-raw-sys).
pub const MAX_ARG_STRLEN: usize = 32 * PAGE_SIZE as usize;

/// The most all argument and environment strings (with their NULs, and the `execfn` string) plus
/// the argv and envp pointers may take: Linux allows a quarter of the stack rlimit
/// (`bprm_stack_limits`), 2 MiB under the default 8 MiB `RLIMIT_STACK`.
pub const MAX_ARG_TOTAL: usize = 2 << 20;

/// The most auxv entries a caller may pass (those [`build`] adds and `AT_NULL` not counted).
/// Linux's own vector has room for 25 (`AT_VECTOR_SIZE`); more is a caller bug (`EINVAL`).
pub const MAX_AUXV: usize = 32;

/// The longest platform string [`build`] accepts (without its NUL); `EINVAL` beyond.
pub const MAX_PLATFORM: usize = 64;

/// The `AT_PLATFORM` string Linux gives on x86_64 (`ELF_PLATFORM`, from `utsname()->machine`).
pub const PLATFORM: &[u8] = b"x86_64";

/// The built stack: `bytes` belong at `[rsp, top)`, and the addresses of its parts, for the
/// personality's own use (`/proc/self/auxv`, `getauxval`, `prctl(PR_SET_MM)`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialStack {
    /// The program's initial stack pointer: the address of argc, 16-byte aligned.
    pub rsp: u64,
    /// The image of `[rsp, top)`; `bytes.len() == top - rsp`.
    pub bytes: Vec<u8>,
    /// Address of `argv[0]`'s pointer (`rsp + 8`).
    pub argv_addr: u64,
    /// Address of `envp[0]`'s pointer.
    pub envp_addr: u64,
    /// Address of the first auxv pair.
    pub auxv_addr: u64,
    /// The complete auxiliary vector as written, ending with the `(AT_NULL, 0)` pair.
    pub auxv: Vec<(u64, u64)>,
    /// Address of the 16 `AT_RANDOM` bytes.
    pub random_addr: u64,
    /// Address of the `AT_EXECFN` string.
    pub execfn_addr: u64,
    /// Address of the start of `argv[0]`'s string (the strings area runs from here to `top - 8`).
    pub strings_addr: u64,
}

/// The load-dependent auxv values the personality knows after mapping an ELF image (from
/// `k42_elf::LoadPlan`), its credentials and the machine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadAuxv {
    /// `AT_PHDR`: where the program headers are mapped.
    pub phdr: u64,
    /// `AT_PHENT`: the size of one program header (56 for ELF64).
    pub phent: u64,
    /// `AT_PHNUM`: how many program headers.
    pub phnum: u64,
    /// `AT_BASE`: the interpreter's load address, 0 for a static program.
    pub base: u64,
    /// `AT_ENTRY`: the program's (not the interpreter's) entry point.
    pub entry: u64,
    /// `AT_UID`.
    pub uid: u64,
    /// `AT_EUID`.
    pub euid: u64,
    /// `AT_GID`.
    pub gid: u64,
    /// `AT_EGID`.
    pub egid: u64,
    /// `AT_SECURE`: set-uid-like exec, so the C library ignores `LD_*` and friends.
    pub secure: bool,
    /// `AT_HWCAP`: CPUID leaf 1 EDX on x86_64.
    pub hwcap: u64,
    /// `AT_HWCAP2`: x86's extra bits (ring-3 MONITOR/MWAIT, FSGSBASE).
    pub hwcap2: u64,
    /// `AT_CLKTCK`: `USER_HZ`, the unit of `times()` (100 on Linux).
    pub clktck: u64,
    /// `AT_MINSIGSTKSZ`: the signal frame size for this CPU's extended state; omitted if 0.
    pub minsigstksz: u64,
    /// `AT_SYSINFO_EHDR`: the vDSO's address; omitted if `None` (the C library then makes real
    /// syscalls for `clock_gettime` and friends).
    pub sysinfo_ehdr: Option<u64>,
}

/// The auxv entries [`build`] expects from its caller, in Linux's order, with `AT_PAGESZ`
/// [`PAGE_SIZE`] and `AT_FLAGS` 0.
pub fn auxv_for_load(l: &LoadAuxv) -> Vec<(u64, u64)> {
    let mut v = Vec::with_capacity(18);
    if let Some(ehdr) = l.sysinfo_ehdr {
        v.push((u64::from(AT_SYSINFO_EHDR), ehdr));
    }
    if l.minsigstksz != 0 {
        v.push((u64::from(AT_MINSIGSTKSZ), l.minsigstksz));
    }
    v.extend_from_slice(&[
        (u64::from(AT_HWCAP), l.hwcap),
        (u64::from(AT_PAGESZ), PAGE_SIZE),
        (u64::from(AT_CLKTCK), l.clktck),
        (u64::from(AT_PHDR), l.phdr),
        (u64::from(AT_PHENT), l.phent),
        (u64::from(AT_PHNUM), l.phnum),
        (u64::from(AT_BASE), l.base),
        (u64::from(AT_FLAGS), 0),
        (u64::from(AT_ENTRY), l.entry),
        (u64::from(AT_UID), l.uid),
        (u64::from(AT_EUID), l.euid),
        (u64::from(AT_GID), l.gid),
        (u64::from(AT_EGID), l.egid),
        (u64::from(AT_SECURE), u64::from(l.secure)),
        (u64::from(AT_HWCAP2), l.hwcap2),
    ]);
    v
}

/// Checks one string for `exec`: `EINVAL` if it holds a NUL (it could not have come from a C
/// string), `E2BIG` if it is longer than [`MAX_ARG_STRLEN`] with its NUL. Returns its size with
/// the NUL.
fn arg_size(s: &[u8]) -> Result<usize, Errno> {
    if s.contains(&0) {
        return Err(Errno::EINVAL);
    }
    if s.len() >= MAX_ARG_STRLEN {
        return Err(Errno::E2BIG);
    }
    Ok(s.len() + 1)
}

/// Builds the initial stack of a process whose stack ends at `top` (exclusive, 16-byte aligned;
/// `EINVAL` otherwise): see the module documentation for the layout.
///
/// `auxv` holds the caller's entries (see [`auxv_for_load`]); `build` appends `AT_RANDOM`
/// (pointing at `random16`, copied onto the stack), `AT_EXECFN` (pointing at `execfn`, the path
/// name `execve` was given), `AT_PLATFORM` (pointing at `platform`, normally [`PLATFORM`];
/// omitted if empty, as Linux does without one) and the closing `AT_NULL`. Strings are given
/// without their NUL.
///
/// Errors: `E2BIG` past [`MAX_ARG_STRLEN`] or [`MAX_ARG_TOTAL`]; `EINVAL` for a string holding a
/// NUL, a platform longer than [`MAX_PLATFORM`], more than [`MAX_AUXV`] caller entries, or a
/// caller entry with a key `build` adds itself (`AT_NULL`, `AT_RANDOM`, `AT_EXECFN`,
/// `AT_PLATFORM`); `ENOMEM` if the stack would reach below address 0.
pub fn build(
    top: u64,
    argv: &[&[u8]],
    envp: &[&[u8]],
    auxv: &[(u64, u64)],
    random16: [u8; 16],
    platform: &[u8],
    execfn: &[u8],
) -> Result<InitialStack, Errno> {
    if !top.is_multiple_of(16) {
        return Err(Errno::EINVAL);
    }
    // Linux 5.18+: an empty argv is given one empty string, so argv[0] always exists.
    let argv: &[&[u8]] = if argv.is_empty() { &[b""] } else { argv };

    // Sizes and limits first, so nothing is built for a refused exec.
    let mut strings = 0usize;
    for s in argv.iter().chain(envp) {
        strings += arg_size(s)?;
    }
    strings += arg_size(execfn)?;
    let pointers = 8 * (argv.len() + envp.len());
    if strings.saturating_add(pointers) > MAX_ARG_TOTAL {
        return Err(Errno::E2BIG);
    }
    if platform.len() > MAX_PLATFORM || platform.contains(&0) {
        return Err(Errno::EINVAL);
    }
    if auxv.len() > MAX_AUXV {
        return Err(Errno::EINVAL);
    }
    let reserved = [AT_NULL, AT_RANDOM, AT_EXECFN, AT_PLATFORM].map(u64::from);
    if auxv.iter().any(|(k, _)| reserved.contains(k)) {
        return Err(Errno::EINVAL);
    }

    // Addresses, from the top down. Every quantity is bounded by the limits above, so only the
    // distance from address 0 can fail.
    let below = |addr: u64, n: usize| addr.checked_sub(n as u64).ok_or(Errno::ENOMEM);
    let end_marker = below(top, 8)?;
    let strings_addr = below(end_marker, strings)?;
    let mut p = strings_addr & !15;
    let platform_addr = if platform.is_empty() {
        None
    } else {
        p = below(p, platform.len() + 1)?;
        Some(p)
    };
    // Linux puts the random bytes right below the platform string; aligning them costs at most
    // 15 bytes and lets a C library read them as two aligned words.
    p = below(p, 16)? & !15;
    let random_addr = p;

    // The complete auxv, then the table: argc, argv, NULL, envp, NULL, auxv pairs.
    let mut execfn_addr = strings_addr;
    for s in argv.iter().chain(envp) {
        execfn_addr += s.len() as u64 + 1;
    }
    let mut full_auxv = Vec::with_capacity(auxv.len() + 4);
    full_auxv.extend_from_slice(auxv);
    full_auxv.push((u64::from(AT_RANDOM), random_addr));
    full_auxv.push((u64::from(AT_EXECFN), execfn_addr));
    if let Some(addr) = platform_addr {
        full_auxv.push((u64::from(AT_PLATFORM), addr));
    }
    full_auxv.push((u64::from(AT_NULL), 0));
    let words = 1 + (argv.len() + 1) + (envp.len() + 1) + 2 * full_auxv.len();
    let rsp = below(p, 8 * words)? & !15;

    // Fill the image.
    let mut bytes = vec![0u8; (top - rsp) as usize];
    let at = |addr: u64| (addr - rsp) as usize;
    let mut table: Vec<u64> = Vec::with_capacity(words);
    table.push(argv.len() as u64);
    let mut cursor = strings_addr;
    for list in [argv, envp] {
        for s in list {
            table.push(cursor);
            bytes[at(cursor)..at(cursor) + s.len()].copy_from_slice(s);
            cursor += s.len() as u64 + 1;
        }
        table.push(0);
    }
    bytes[at(execfn_addr)..at(execfn_addr) + execfn.len()].copy_from_slice(execfn);
    for &(k, v) in &full_auxv {
        table.push(k);
        table.push(v);
    }
    for (i, word) in table.iter().enumerate() {
        let o = at(rsp) + 8 * i;
        bytes[o..o + 8].copy_from_slice(&word.to_le_bytes());
    }
    bytes[at(random_addr)..at(random_addr) + 16].copy_from_slice(&random16);
    if let Some(addr) = platform_addr {
        bytes[at(addr)..at(addr) + platform.len()].copy_from_slice(platform);
    }

    let argv_addr = rsp + 8;
    let envp_addr = argv_addr + 8 * (argv.len() as u64 + 1);
    let auxv_addr = envp_addr + 8 * (envp.len() as u64 + 1);
    Ok(InitialStack {
        rsp,
        bytes,
        argv_addr,
        envp_addr,
        auxv_addr,
        auxv: full_auxv,
        random_addr,
        execfn_addr,
        strings_addr,
    })
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::vec::Vec;

    use super::*;

    const TOP: u64 = 0x7fff_ffff_f000;
    const RANDOM: [u8; 16] = *b"0123456789abcdef";

    /// What a C runtime's `_start` reads back from the image, every pointer checked to resolve
    /// inside `[rsp, top)`.
    #[derive(Debug)]
    struct Parsed {
        argv: Vec<Vec<u8>>,
        envp: Vec<Vec<u8>>,
        auxv: Vec<(u64, u64)>,
    }

    fn word(s: &InitialStack, addr: u64) -> u64 {
        assert!(
            addr >= s.rsp && addr + 8 <= s.rsp + s.bytes.len() as u64,
            "{addr:#x} outside"
        );
        let o = (addr - s.rsp) as usize;
        u64::from_le_bytes(s.bytes[o..o + 8].try_into().unwrap())
    }

    fn cstr(s: &InitialStack, addr: u64) -> Vec<u8> {
        assert!(
            addr >= s.rsp && addr < s.rsp + s.bytes.len() as u64,
            "{addr:#x} outside"
        );
        let o = (addr - s.rsp) as usize;
        let len = s.bytes[o..]
            .iter()
            .position(|&b| b == 0)
            .expect("NUL inside the image");
        s.bytes[o..o + len].to_vec()
    }

    fn parse(s: &InitialStack) -> Parsed {
        assert_eq!(s.rsp % 16, 0, "rsp aligned");
        let argc = word(s, s.rsp);
        let mut a = s.rsp + 8;
        let argv = (0..argc).map(|i| cstr(s, word(s, a + 8 * i))).collect();
        a += 8 * argc;
        assert_eq!(word(s, a), 0, "argv NULL");
        a += 8;
        assert_eq!(a, s.envp_addr);
        let mut envp = Vec::new();
        while word(s, a) != 0 {
            envp.push(cstr(s, word(s, a)));
            a += 8;
        }
        a += 8;
        assert_eq!(a, s.auxv_addr);
        let mut auxv = Vec::new();
        loop {
            let (k, v) = (word(s, a), word(s, a + 8));
            auxv.push((k, v));
            a += 16;
            if k == u64::from(AT_NULL) {
                break;
            }
        }
        assert_eq!(auxv, s.auxv);
        Parsed { argv, envp, auxv }
    }

    fn lookup(auxv: &[(u64, u64)], key: u32) -> Option<u64> {
        auxv.iter()
            .find(|&&(k, _)| k == u64::from(key))
            .map(|&(_, v)| v)
    }

    fn load() -> Vec<(u64, u64)> {
        auxv_for_load(&LoadAuxv {
            phdr: 0x40_0040,
            phent: 56,
            phnum: 9,
            entry: 0x40_1000,
            clktck: 100,
            hwcap: 0x178b_fbff,
            ..LoadAuxv::default()
        })
    }

    #[test]
    fn busybox_sh_round_trips() {
        let argv: [&[u8]; 3] = [b"sh", b"-c", b"echo hi; exit 7"];
        let envp: [&[u8]; 2] = [b"PATH=/bin:/usr/bin", b"HOME=/"];
        let s = build(TOP, &argv, &envp, &load(), RANDOM, PLATFORM, b"/bin/sh").unwrap();
        assert_eq!(s.bytes.len() as u64, TOP - s.rsp);
        let p = parse(&s);
        assert_eq!(p.argv, argv.map(<[u8]>::to_vec));
        assert_eq!(p.envp, envp.map(<[u8]>::to_vec));
        assert_eq!(lookup(&p.auxv, AT_PHDR), Some(0x40_0040));
        assert_eq!(lookup(&p.auxv, AT_PHENT), Some(56));
        assert_eq!(lookup(&p.auxv, AT_PHNUM), Some(9));
        assert_eq!(lookup(&p.auxv, AT_ENTRY), Some(0x40_1000));
        assert_eq!(lookup(&p.auxv, AT_PAGESZ), Some(4096));
        assert_eq!(lookup(&p.auxv, AT_SECURE), Some(0));
        assert_eq!(lookup(&p.auxv, AT_SYSINFO_EHDR), None);
        let random = lookup(&p.auxv, AT_RANDOM).unwrap();
        assert_eq!(random, s.random_addr);
        let o = (random - s.rsp) as usize;
        assert_eq!(s.bytes[o..o + 16], RANDOM);
        assert_eq!(cstr(&s, lookup(&p.auxv, AT_EXECFN).unwrap()), b"/bin/sh");
        assert_eq!(cstr(&s, lookup(&p.auxv, AT_PLATFORM).unwrap()), b"x86_64");
        assert_eq!(p.auxv.last(), Some(&(u64::from(AT_NULL), 0)));
        // Linux's layout: the 8 zero bytes at the very top, execfn right below them, the argv
        // strings first in the strings area.
        assert_eq!(word(&s, TOP - 8), 0);
        assert_eq!(s.execfn_addr, TOP - 8 - b"/bin/sh\0".len() as u64);
        assert_eq!(word(&s, s.argv_addr), s.strings_addr);
        // The stack table lies below AT_RANDOM's bytes, which lie below the strings.
        assert!(s.auxv_addr + 16 * s.auxv.len() as u64 <= s.random_addr);
        assert!(s.random_addr + 16 <= s.strings_addr);
    }

    #[test]
    fn aligned_for_every_parity() {
        let strs: [&[u8]; 5] = [b"a", b"bb", b"ccc", b"dddd", b"eeeee"];
        for argc in 0..5 {
            for envc in 0..5 {
                for naux in 0..4 {
                    for plat in [PLATFORM, b""] {
                        let aux: Vec<(u64, u64)> = load().into_iter().take(naux).collect();
                        let s = build(TOP, &strs[..argc], &strs[..envc], &aux, RANDOM, plat, b"x")
                            .unwrap();
                        let p = parse(&s);
                        if argc == 0 {
                            assert_eq!(p.argv, [b"".to_vec()], "empty argv gets one empty string");
                        } else {
                            assert_eq!(
                                p.argv,
                                strs[..argc].iter().map(|s| s.to_vec()).collect::<Vec<_>>()
                            );
                        }
                        assert_eq!(p.envp.len(), envc);
                        assert_eq!(&p.auxv[..naux], &aux[..]);
                        assert_eq!(lookup(&p.auxv, AT_PLATFORM).is_some(), !plat.is_empty());
                        assert_eq!(s.random_addr % 16, 0, "random bytes at an aligned boundary");
                    }
                }
            }
        }
    }

    #[test]
    fn argument_limits() {
        let top = 0x1_0000_0000;
        // One string: MAX_ARG_STRLEN bytes including its NUL is the most.
        let fits = std::vec![b'x'; MAX_ARG_STRLEN - 1];
        assert!(build(top, &[&fits], &[], &[], RANDOM, PLATFORM, b"p").is_ok());
        let long = std::vec![b'x'; MAX_ARG_STRLEN];
        assert_eq!(
            build(top, &[&long], &[], &[], RANDOM, PLATFORM, b"p"),
            Err(Errno::E2BIG)
        );
        assert_eq!(
            build(top, &[], &[&long], &[], RANDOM, PLATFORM, b"p"),
            Err(Errno::E2BIG)
        );
        assert_eq!(
            build(top, &[], &[], &[], RANDOM, PLATFORM, &long),
            Err(Errno::E2BIG)
        );
        // The total: strings + NULs + execfn + 8 bytes per argv/envp pointer.
        let chunk = std::vec![b'y'; MAX_ARG_STRLEN - 1]; // MAX_ARG_STRLEN with its NUL
        let n = MAX_ARG_TOTAL / (MAX_ARG_STRLEN + 8); // whole chunks that fit
        let rest = MAX_ARG_TOTAL - n * (MAX_ARG_STRLEN + 8) - 8 - 2; // last arg, "p\0"
        let last = std::vec![b'z'; rest - 1];
        let mut args: Vec<&[u8]> = (0..n).map(|_| chunk.as_slice()).collect();
        args.push(&last);
        let s = build(top, &args, &[], &[], RANDOM, PLATFORM, b"p").unwrap();
        assert_eq!(parse(&s).argv.len(), n + 1);
        let one_more = std::vec![b'z'; rest];
        *args.last_mut().unwrap() = &one_more;
        assert_eq!(
            build(top, &args, &[], &[], RANDOM, PLATFORM, b"p"),
            Err(Errno::E2BIG)
        );
        // Many tiny strings hit the limit through their pointers.
        let many: Vec<&[u8]> = (0..=MAX_ARG_TOTAL / 9).map(|_| b"".as_slice()).collect();
        assert_eq!(
            build(top, &many, &[], &[], RANDOM, PLATFORM, b"p"),
            Err(Errno::E2BIG)
        );
    }

    #[test]
    fn refusals() {
        let ok = build(TOP, &[b"a"], &[], &[], RANDOM, PLATFORM, b"a");
        assert!(ok.is_ok());
        assert_eq!(
            build(TOP + 8, &[b"a"], &[], &[], RANDOM, PLATFORM, b"a"),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            build(TOP, &[b"a\0b"], &[], &[], RANDOM, PLATFORM, b"a"),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            build(TOP, &[b"a"], &[], &[], RANDOM, b"x8\0", b"a"),
            Err(Errno::EINVAL)
        );
        let plat = [b'p'; MAX_PLATFORM + 1];
        assert_eq!(
            build(TOP, &[b"a"], &[], &[], RANDOM, &plat, b"a"),
            Err(Errno::EINVAL)
        );
        for key in [AT_NULL, AT_RANDOM, AT_EXECFN, AT_PLATFORM] {
            let aux = [(u64::from(key), 1)];
            assert_eq!(
                build(TOP, &[b"a"], &[], &aux, RANDOM, PLATFORM, b"a"),
                Err(Errno::EINVAL)
            );
        }
        let aux = std::vec![(u64::from(AT_FLAGS), 0); MAX_AUXV + 1];
        assert_eq!(
            build(TOP, &[b"a"], &[], &aux, RANDOM, PLATFORM, b"a"),
            Err(Errno::EINVAL)
        );
        assert!(build(TOP, &[b"a"], &[], &aux[1..], RANDOM, PLATFORM, b"a").is_ok());
        // A top too close to address 0 for the image.
        assert_eq!(
            build(64, &[b"a"], &[], &[], RANDOM, PLATFORM, b"a"),
            Err(Errno::ENOMEM)
        );
    }

    #[test]
    fn auxv_for_load_has_linuxs_entries() {
        let l = LoadAuxv {
            secure: true,
            minsigstksz: 2048,
            sysinfo_ehdr: Some(0x7fff_f000_0000),
            base: 0x7f00_0000_0000,
            ..LoadAuxv::default()
        };
        let v = auxv_for_load(&l);
        assert_eq!(lookup(&v, AT_SECURE), Some(1));
        assert_eq!(lookup(&v, AT_MINSIGSTKSZ), Some(2048));
        assert_eq!(lookup(&v, AT_SYSINFO_EHDR), Some(0x7fff_f000_0000));
        assert_eq!(lookup(&v, AT_BASE), Some(0x7f00_0000_0000));
        assert_eq!(lookup(&v, AT_FLAGS), Some(0));
        let keys: Vec<u64> = v.iter().map(|&(k, _)| k).collect();
        let mut unique = keys.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "no key twice: {keys:?}");
        assert!(v.len() <= MAX_AUXV);
    }
}
