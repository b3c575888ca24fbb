//! What the system is: `uname`, `sysinfo`, `getrandom`. `uname` answers as Linux so programs
//! that check the kernel version (glibc refuses to run on a kernel older than it was built
//! for) run; the version string says it is K42.

use k42_linux::{Errno, SysResult};
use k42_rt::clock;

use crate::state::Linux;
use crate::table::Args;
use crate::uaccess;

/// Bytes of each `struct utsname` field (`__NEW_UTS_LEN` + 1).
const UTS_FIELD: usize = 65;
/// The six fields: sysname, nodename, release, version, machine, domainname.
const UTS_FIELDS: [&str; 6] = [
    "Linux",
    "k42",
    // A release new enough for every C library in Debian's archive to accept.
    "6.1.0-k42",
    "#1 K42 in Rust",
    "x86_64",
    "(none)",
];

/// `uname(buf)`.
pub fn uname(linux: &Linux, args: &Args) -> SysResult {
    let mut buf = [0u8; UTS_FIELD * UTS_FIELDS.len()];
    for (i, field) in UTS_FIELDS.iter().enumerate() {
        buf[i * UTS_FIELD..i * UTS_FIELD + field.len()].copy_from_slice(field.as_bytes());
    }
    uaccess::write(linux, args[0], &buf).map(|()| 0)
}

/// Most bytes one `getrandom` call returns (Linux caps a call at 32 MiB; smaller keeps the
/// personality's buffer small, and callers loop on short reads).
const GETRANDOM_MAX: u64 = 4096;

/// `getrandom(buf, len, flags)`: bytes from the personality's generator (SplitMix64 seeded by
/// the TSC) until a random-number server exists — not for keys.
pub fn getrandom(linux: &Linux, args: &Args) -> SysResult {
    let len = args[1].min(GETRANDOM_MAX) as usize;
    if args[2] & !0x7 != 0 {
        return Err(Errno::EINVAL);
    }
    let mut bytes = alloc::vec![0u8; len];
    random_bytes(&mut bytes);
    uaccess::write(linux, args[0], &bytes).map(|()| len as u64)
}

/// Fills `buf` from the personality's generator (see [`getrandom`]): `/dev/urandom` too.
pub fn random_bytes(buf: &mut [u8]) {
    let mut x = clock::now_ns() ^ k42_rt::sys::cpu::rdtsc();
    for chunk in buf.chunks_mut(8) {
        x = crate::exec::splitmix(x);
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
}

/// Words of `struct sysinfo` (x86_64: uptime, loads[3], totalram, freeram, sharedram,
/// bufferram, totalswap, freeswap, procs+pad, totalhigh, freehigh, mem_unit+pad).
const SYSINFO_WORDS: usize = 14;

/// `sysinfo(info)`: the uptime and one process; memory figures are not known to the
/// personality yet and read 0.
pub fn sysinfo(linux: &Linux, args: &Args) -> SysResult {
    let mut words = [0u64; SYSINFO_WORDS];
    words[0] = clock::now_ns() / 1_000_000_000;
    // procs (u16) in the low bits of word 10; mem_unit (u32) in word 13.
    words[10] = 1;
    words[13] = 1;
    uaccess::write_words(linux, args[0], &words).map(|()| 0)
}
