//! The file server (DESIGN §2.7, issue #4 item 4): the one process that holds the file system —
//! a ramfs (`k42-ramfs`) populated from the initramfs archive (`Boot::read_initramfs`) — and
//! serves it through the `Fs` interface (`k42_ifaces::fs`) to the Linux personalities.
//!
//! Start-up: the bootstrap spawns it with its own badge in `arg0` and CommID in `arg1`, and
//! sends the start-up message with a `Boot` handle (READ). The server unpacks the archive,
//! makes the root node for the spawner (`SPAWNER_HANDLE`, with `fs::SPAWNER_RIGHTS`) and
//! serves.
//!
//! Serving (`serve.rs`): every call is checked twice — the handle's rights by the generated
//! dispatch, then the file system's own permission rules (`k42_ramfs`) with the credentials
//! this server holds for the caller's *badge* (`Fs::set_credentials`); a client never names its
//! own ids. Objects a call makes (an open's new node) and handles a call names besides its
//! target (`rename`'s and `link`'s new directory) are handled by the serve loop, which owns the
//! object table.
#![no_std]
#![no_main]

extern crate alloc;

mod images;
mod serve;

use alloc::vec;
use alloc::vec::Vec;

use k42_ifaces::SPAWNER_HANDLE;
use k42_ifaces::start::StartHandles;
use k42_kapi::BootClient;
use k42_ramfs::Timespec;
use k42_rights::{Badge, Rights, XObjectTable};
use k42_rt::{Env, KernelPpc, clock, log, ring};

k42_rt::entry!(main);

/// Exit status when the server cannot start as agreed.
const SETUP_FAILED: u32 = 1;
/// Bytes of the archive read per `Boot::read_initramfs` call.
const READ_CHUNK: u64 = 1 << 20;

fn main(env: Env) -> u32 {
    let spawner = Badge(env.arg0);
    let message = ring::wait_message_where(
        |msg| StartHandles::from_message(msg, env.arg1).is_some(),
        |msg| log!("fs: ignored a message before the start-up one: {msg:?}"),
    );
    let Some(boot) = StartHandles::from_message(&message, env.arg1).and_then(|h| h.boot) else {
        log!("fs: no Boot handle to read the initramfs with");
        return SETUP_FAILED;
    };
    let archive = match read_archive(&mut BootClient::new(KernelPpc, boot)) {
        Ok(archive) => archive,
        Err(why) => {
            log!("fs: cannot read the initramfs: {why}");
            return SETUP_FAILED;
        }
    };
    let tree = match k42_cpio::Tree::parse(&archive) {
        Ok(tree) => tree,
        Err(e) => {
            log!("fs: the initramfs does not parse: {e}");
            return SETUP_FAILED;
        }
    };
    drop(archive);
    let fs = match k42_ramfs::Fs::from_cpio(&tree, now()) {
        Ok(fs) => fs,
        Err(e) => {
            log!("fs: cannot build the ramfs: {e}");
            return SETUP_FAILED;
        }
    };
    drop(tree);
    let mut table = XObjectTable::new();
    let root = serve::Node::root(fs.root());
    match table.insert(root, spawner, k42_ifaces::fs::SPAWNER_RIGHTS, Rights::NONE) {
        Ok(handle) if handle == SPAWNER_HANDLE => {}
        other => {
            log!("fs: the spawner's root is {other:?}, not {SPAWNER_HANDLE}");
            return SETUP_FAILED;
        }
    }
    log!(
        "fs: serving {} inodes, {} KiB",
        fs.inode_count(),
        fs.used_bytes() / 1024
    );
    serve::serve(fs, table)
}

/// The whole initramfs archive, read a chunk at a time.
fn read_archive(boot: &mut BootClient<KernelPpc>) -> Result<Vec<u8>, alloc::string::String> {
    let size = boot
        .read_initramfs(0, 0, 0)
        .map_err(|e| alloc::format!("{e}"))?;
    let size = usize::try_from(size).map_err(|_| "the archive is too large")?;
    let mut archive = vec![0u8; size];
    let mut done = 0usize;
    while done < size {
        let n = (size - done).min(READ_CHUNK as usize);
        let chunk = &mut archive[done..done + n];
        boot.read_initramfs(done as u64, chunk.as_mut_ptr() as u64, n as u64)
            .map_err(|e| alloc::format!("{e}"))?;
        done += n;
    }
    Ok(archive)
}

/// The file system's clock, for every time it stamps on a node: the wall clock
/// (`clock::wall_ns`: the real-time clock the kernel read at boot plus the time since), as
/// `clock_gettime(CLOCK_REALTIME)` answers a program, so a file made now has `st_mtime` near
/// `time(NULL)`.
pub fn now() -> Timespec {
    let ns = clock::wall_ns();
    Timespec {
        sec: (ns / 1_000_000_000) as i64,
        // Lossless: below 10⁹.
        nsec: (ns % 1_000_000_000) as u32,
    }
}
