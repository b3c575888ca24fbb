//! What the system is: `uname`, `sethostname`, `sysinfo` (the process server's), and the
//! process's random bytes (`getrandom`, `/dev/urandom`, `AT_RANDOM`).
//! `uname` answers as Linux so programs that check the kernel version (glibc refuses to run
//! on a kernel older than it was built for) run; the version string says it is K42.

use alloc::vec;
use core::sync::atomic::{AtomicBool, Ordering};

use k42_ifaces::procs::{ProcsClient, UTS_FIELD, UTS_FIELDS};
use k42_linux::random::KEY_BYTES;
use k42_linux::raw::general as g;
use k42_linux::{Errno, SysResult};
use k42_rights::wire::CallError;
use k42_rt::sys::critical;
use k42_rt::{Ppc, clock, log};

use crate::state::Linux;
use crate::table::Args;
use crate::uaccess;

/// `uname`'s answer without a process server: what `user/bin/procs` answers by default.
const FALLBACK_UTS: [&str; UTS_FIELDS] = [
    "Linux",
    "(none)",
    "6.1.0-k42",
    "#1 K42 in Rust",
    "x86_64",
    "(none)",
];

/// The process server's client, if there is one.
fn procs(linux: &Linux) -> Option<ProcsClient<Ppc>> {
    linux
        .procs
        .as_ref()
        .map(|p| ProcsClient::new(Ppc::new(p.comm), p.table))
}

/// `uname(buf)`: the process server's `struct utsname` (the host name is its).
pub fn uname(linux: &Linux, args: &Args) -> SysResult {
    let buf = utsname(linux)?;
    uaccess::write(linux, args[0], &buf).map(|()| 0)
}

/// The field `index` of a `struct utsname` (`buf`, as [`utsname`] gives it) up to its NUL.
pub fn uts_field(buf: &[u8], index: usize) -> &[u8] {
    let field = buf
        .get(index * UTS_FIELD..(index + 1) * UTS_FIELD)
        .unwrap_or(&[]);
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    &field[..end]
}

/// `struct utsname` (six NUL-padded fields: sysname, nodename, release, version, machine,
/// domain) as the process server answers it, or the fallback without one; `uname` and
/// `/proc/version` (`crate::procsys`) show it.
pub fn utsname(linux: &Linux) -> Result<alloc::vec::Vec<u8>, Errno> {
    let mut buf = vec![0u8; UTS_FIELD * UTS_FIELDS];
    match procs(linux) {
        Some(mut client) => {
            let handle = client.handle;
            let mut with = ProcsClient::new(client.transport.with_data(&[], &mut buf), handle);
            with.uname().map_err(|_| Errno::EIO)?;
            if with.transport.received() != UTS_FIELD * UTS_FIELDS {
                return Err(Errno::EIO);
            }
        }
        None => {
            for (i, field) in FALLBACK_UTS.iter().enumerate() {
                buf[i * UTS_FIELD..i * UTS_FIELD + field.len()].copy_from_slice(field.as_bytes());
            }
        }
    }
    Ok(buf)
}

/// `sethostname(name, len)`: the process server decides (root only).
pub fn sethostname(linux: &Linux, args: &Args) -> SysResult {
    let len = usize::try_from(args[1]).map_err(|_| Errno::EINVAL)?;
    if len >= UTS_FIELD {
        return Err(Errno::EINVAL);
    }
    let name = uaccess::read(linux, args[0], len)?;
    let mut client = procs(linux).ok_or(Errno::EPERM)?;
    let handle = client.handle;
    let mut none = [0u8; 0];
    ProcsClient::new(client.transport.with_data(&name, &mut none), handle)
        .sethostname()
        .map_err(|e| match e {
            CallError::Method(e) => e,
            _ => Errno::EIO,
        })?;
    Ok(0)
}

/// Most bytes one `getrandom` call returns (Linux caps a call at 32 MiB; smaller keeps the
/// personality's buffer small, and callers loop on short reads).
const GETRANDOM_MAX: u64 = 4096;

/// `getrandom(buf, len, flags)`: the process's random bytes ([`random_bytes`]). The flags are
/// Linux's (`GRND_NONBLOCK`, `GRND_RANDOM`, `GRND_INSECURE`; the generator is keyed at its
/// first use, never waits, so none of them changes what comes back); others, and
/// `GRND_INSECURE` with `GRND_RANDOM`, are `EINVAL`.
pub fn getrandom(linux: &Linux, args: &Args) -> SysResult {
    let len = args[1].min(GETRANDOM_MAX) as usize;
    // An unsigned int: the upper half of the register is not read.
    let flags = args[2] as u32;
    let insecure_random = g::GRND_INSECURE | g::GRND_RANDOM;
    if flags & !(g::GRND_NONBLOCK | insecure_random) != 0
        || flags & insecure_random == insecure_random
    {
        return Err(Errno::EINVAL);
    }
    let mut bytes = alloc::vec![0u8; len];
    random_bytes(linux, &mut bytes);
    uaccess::write(linux, args[0], &bytes).map(|()| len as u64)
}

/// Fills `buf` with the process's random bytes: `getrandom`, `/dev/urandom` and
/// `/dev/random`, and `execve`'s `AT_RANDOM`. A ChaCha20 stream per process
/// (`k42_linux::random`), keyed from the CPU's `RDRAND` ([`entropy`]).
pub fn random_bytes(linux: &Linux, buf: &mut [u8]) {
    let mut without_rdrand = false;
    {
        // Upcalls off while the lock is held: a thread preempted holding it would leave the
        // process's other threads spinning on it for a whole slice.
        let _upcalls = critical::disable();
        linux.random.lock().fill(buf, || {
            let (key, rdrand) = entropy(linux.ids.pid);
            without_rdrand = !rdrand;
            key
        });
    }
    if without_rdrand {
        warn_no_rdrand();
    }
}

/// A key's worth of entropy for process `pid`, and whether `RDRAND` gave it: its output mixed
/// with the clock, the TSC and the pid — which alone, on a CPU without `RDRAND` or one whose
/// generator fails, are unpredictable enough for hash seeds and canaries, not a secret
/// ([`warn_no_rdrand`] says so), and which keep a broken `RDRAND` that repeats itself from
/// giving every process the same key.
fn entropy(pid: u64) -> ([u8; KEY_BYTES], bool) {
    let mut key = [0u8; KEY_BYTES];
    let mut x = clock::now_ns() ^ k42_rt::sys::cpu::rdtsc().rotate_left(29) ^ pid.rotate_left(47);
    let mut rdrand = true;
    for chunk in key.chunks_mut(8) {
        x = splitmix(x ^ k42_rt::sys::cpu::rdtsc());
        let word = match k42_rt::sys::cpu::rdrand64() {
            Some(r) => r ^ x,
            None => {
                rdrand = false;
                x
            }
        };
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    (key, rdrand)
}

/// Logs, once (a fork child inherits the note), that random bytes were keyed without `RDRAND`.
#[cold]
fn warn_no_rdrand() {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        log!("linux: no RDRAND output: getrandom is keyed from the clock, not for secrets");
    }
}

/// One step of SplitMix64: the mixing of [`entropy`]'s fallback.
fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Words of `struct sysinfo` (x86_64: uptime, loads[3], totalram, freeram, sharedram,
/// bufferram, totalswap, freeswap, procs+pad, totalhigh, freehigh, mem_unit+pad).
const SYSINFO_WORDS: usize = 14;

/// `sysinfo(info)`: the uptime, the processes and the memory figures, from the process
/// server (no swap, no shared or buffer memory, no load averages yet).
pub fn sysinfo(linux: &Linux, args: &Args) -> SysResult {
    let mut words = [0u64; SYSINFO_WORDS];
    let (uptime, processes, total, free) = match procs(linux) {
        Some(mut client) => client.sysinfo().map_err(|_| Errno::EIO)?,
        None => (clock::now_ns() / 1_000_000_000, 1, 0, 0),
    };
    words[0] = uptime;
    words[4] = total;
    words[5] = free;
    // procs (u16) in the low bits of word 10; mem_unit (u32) in word 13.
    words[10] = processes.min(u64::from(u16::MAX));
    words[13] = 1;
    uaccess::write_words(linux, args[0], &words).map(|()| 0)
}
