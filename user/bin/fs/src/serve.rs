//! Serving the `Fs` interface: each method of `k42_ifaces::fs::Fs` on a [`Node`], over the
//! ramfs and the credentials table in [`STATE`], and the serve loop that owns the object table.
//!
//! **Why a loop around the generated dispatch.** The dispatch hands a method its target node
//! alone, but three things need the table: an open makes a new node for the caller (the method
//! leaves it in `State::opened`; the loop inserts it, matched to the caller with the rights the
//! open allows, and puts its handle in the reply); `rename` and `link` name a second directory
//! by a handle the caller holds (the loop looks it up for the caller's badge and passes the
//! method that node's inode, never a number the client made up); and releasing a node must
//! drop the file system's handle on its inode (an unlinked file lives until its last close).
//!
//! **FIFOs.** A FIFO opens as a node like any file; [`Fs::open_fifo`] on that node then asks
//! the pipe server (with the factory handle [`Fs::attach_pipes`] gave, right `NAMED`) for the
//! pipe of the FIFO's inode, for the caller's badge, with the node's access mode: the one
//! call this server makes to another server, made with no lock held. It never waits for the
//! other side of the FIFO: the caller does, in its own process (`Pipes::partner`).
//!
//! One call runs at a time (the runtime serves a dispatcher's calls in turn), so [`STATE`]'s
//! lock is never contended; no call waits for anything but that one call to the pipe server.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use k42_abi::kernel::PPC_DATA_BYTES;
use k42_ifaces::fs::{Fs, FsMethod, FsServer, GID_BYTES};
use k42_ifaces::pipes::PipesClient;
use k42_linux::Errno;
use k42_linux::dirent::encode_dirent64;
use k42_linux::raw::general as g;
use k42_ramfs::{Credentials, Dev, FileType, Ino, UtimeArg};
use k42_rights::wire::{
    ARG_WORDS, CallError, DispatchError, Reply, meta, method_word, split_method_word,
};
use k42_rights::{Badge, Rights, XHandle, XObjectTable};
use k42_rt::server::{set_reply_bytes, set_reply_data, take_call_data, take_reply_buffer};
use k42_rt::sync::FairBLock;
use k42_rt::{Ppc, log, server};

use crate::{images, now};

/// Most bytes a read or a listing returns per call: the PPC data area.
const DATA_BYTES: usize = k42_abi::kernel::PPC_DATA_BYTES;
/// The open flags that give a node READ and WRITE rights.
const ACCESS_MODE: u32 = g::O_ACCMODE;

/// A node: what a handle on the file server names.
#[derive(Clone, Copy, Debug)]
pub struct Node {
    /// Its inode.
    ino: Ino,
    /// The flags it was opened with (the root: `O_RDONLY|O_DIRECTORY`).
    flags: u32,
    /// Whether it holds a handle on its inode in the file system (every opened node; not the
    /// root, which is never freed).
    counted: bool,
    /// Its open file description's offset, in `State::offsets` (0: none, the root). Every
    /// handle given on from this node names the same one, so a fork child and its parent move
    /// one offset, as Linux shares an open file description's.
    ofd: u64,
    /// Whether [`Fs::open_fifo`] made this node's pipe end already (it makes one per open).
    piped: bool,
}

impl Node {
    /// The root directory.
    pub fn root(ino: Ino) -> Self {
        Self {
            ino,
            flags: g::O_RDONLY | g::O_DIRECTORY,
            counted: false,
            ofd: NO_OFD,
            piped: false,
        }
    }
}

/// The file system and who may use it.
struct State {
    fs: k42_ramfs::Fs,
    /// Credentials by badge (`Fs::set_credentials`).
    creds: BTreeMap<u64, Held>,
    /// The node the running `open` made, for the loop to insert.
    opened: Option<Node>,
    /// Open file descriptions' offsets (the personality's, once a file is shared: `Fs::seek`),
    /// by id, with the number of handles naming each.
    offsets: BTreeMap<u64, Ofd>,
    /// The next open file description's id.
    next_ofd: u64,
    /// The pipe server's CommID and this server's handle on its factory, for FIFOs
    /// ([`Fs::attach_pipes`]).
    pipes: Option<(u64, XHandle)>,
    /// File images ([`Fs::image`]) by inode: the data version each was made at and this
    /// server's handle on it.
    images: BTreeMap<Ino, (u64, XHandle)>,
}

/// The credentials held for one process: the filesystem ids every check uses, and the real
/// ids `access(2)` checks with (`k42_ramfs::cred`), each with the supplementary groups.
#[derive(Clone)]
struct Held {
    fs: Credentials,
    real: Credentials,
}

/// No open file description (the root).
const NO_OFD: u64 = 0;

/// One open file description's offset and how many handles name it.
struct Ofd {
    offset: u64,
    holders: u64,
}

impl State {
    /// One more handle names `ofd`.
    fn hold_ofd(&mut self, ofd: u64) {
        if let Some(o) = self.offsets.get_mut(&ofd) {
            o.holders += 1;
        }
    }

    /// One handle fewer names `ofd`; the last one takes it away.
    fn drop_ofd(&mut self, ofd: u64) {
        if let Some(o) = self.offsets.get_mut(&ofd) {
            o.holders -= 1;
            if o.holders == 0 {
                self.offsets.remove(&ofd);
            }
        }
    }

    /// The offset of `ofd`.
    fn offset(&self, ofd: u64) -> Result<u64, Errno> {
        self.offsets
            .get(&ofd)
            .map(|o| o.offset)
            .ok_or(Errno::ESPIPE)
    }
}

static STATE: FairBLock<Option<State>> = FairBLock::new(None);

/// Runs `f` on the state with the caller's credentials (`EACCES` for a badge with none).
fn with_cred<R>(
    caller: Badge,
    f: impl FnOnce(&mut k42_ramfs::Fs, &Credentials) -> Result<R, Errno>,
) -> Result<R, Errno> {
    let mut guard = STATE.lock();
    let State { fs, creds, .. } = guard.as_mut().ok_or(Errno::EIO)?;
    // Borrowed, not cloned: the table and the file system are separate fields.
    let cred = &creds.get(&caller.0).ok_or(Errno::EACCES)?.fs;
    f(fs, cred)
}

/// The call's data: a path (without NUL).
fn path() -> Vec<u8> {
    take_call_data()
}

/// The call's data split at its first NUL: two paths.
fn two_paths() -> Result<(Vec<u8>, Vec<u8>), Errno> {
    let data = take_call_data();
    let at = data.iter().position(|&b| b == 0).ok_or(Errno::EINVAL)?;
    Ok((data[..at].to_vec(), data[at + 1..].to_vec()))
}

/// Replies with `bytes` as the data.
fn reply_data(bytes: Vec<u8>) -> Result<(), Errno> {
    set_reply_data(bytes).map_err(|_| Errno::EIO)
}

/// Whether a path call with `flags` names its target itself: `AT_EMPTY_PATH` and an empty
/// path (as C sees it, up to a NUL), what [`k42_ramfs::Fs::lookup`] answers with the target.
fn names_itself(path: &[u8], flags: u64) -> bool {
    flags & u64::from(g::AT_EMPTY_PATH) != 0 && path.first().is_none_or(|&b| b == 0)
}

/// The inode a path call names, with its `AT_*` flags (`AT_EMPTY_PATH` and no path: the
/// target itself); the flags the walk does not take (statx's sync types) are dropped.
fn named(
    fs: &mut k42_ramfs::Fs,
    cred: &Credentials,
    node: &Node,
    path: &[u8],
    flags: u64,
) -> Result<Ino, Errno> {
    let walk = g::AT_SYMLINK_NOFOLLOW | g::AT_EMPTY_PATH | g::AT_NO_AUTOMOUNT;
    fs.lookup(cred, node.ino, path, flags as u32 & walk)
}

/// A `stat`-like call's reply: the bytes `answer` makes of the inode the call data's path
/// names from `node` ([`named`]), as the reply data. `fstat`'s and `fstatfs`'s case names the
/// node itself: no walk, one look-up of its inode by `answer` (which answers `EBADF` for a
/// dead one, as the walk would).
fn reply_about<B: AsRef<[u8]>>(
    node: &Node,
    caller: Badge,
    flags: u64,
    answer: impl FnOnce(&mut k42_ramfs::Fs, Ino) -> Result<B, Errno>,
) -> Result<(), Errno> {
    let path = path();
    let bytes = with_cred(caller, |fs, cred| {
        let ino = if names_itself(&path, flags) {
            node.ino
        } else {
            named(fs, cred, node, &path, flags)?
        };
        answer(fs, ino)
    })?;
    set_reply_bytes(bytes.as_ref()).map_err(|_| Errno::EIO)
}

impl Fs for Node {
    fn open(
        &mut self,
        caller: Badge,
        flags: u64,
        mode: u64,
        umask: u64,
    ) -> Result<(u64, u64, u64, u64), Errno> {
        let path = path();
        let flags = flags as u32;
        let (ino, st) = with_cred(caller, |fs, cred| {
            let opened = fs.open(
                cred,
                self.ino,
                &path,
                flags,
                mode as u32,
                umask as u32,
                now(),
            )?;
            Ok((opened.ino, fs.stat(opened.ino)?))
        })?;
        if let Some(state) = STATE.lock().as_mut() {
            let ofd = state.next_ofd;
            state.next_ofd += 1;
            state.offsets.insert(
                ofd,
                Ofd {
                    offset: 0,
                    holders: 1,
                },
            );
            state.opened = Some(Node {
                ino,
                flags,
                counted: true,
                ofd,
                piped: false,
            });
        }
        // The loop puts the new node's handle in the first word.
        Ok((0, u64::from(st.mode), st.rdev, st.size))
    }

    fn read(&mut self, caller: Badge, offset: u64, len: u64) -> Result<u64, Errno> {
        if !readable(self.flags) {
            return Err(Errno::EBADF);
        }
        // The runtime's reply buffer, given back by `reply_data`: no allocation per read, and
        // the file's bytes appended to it, not copied over zeros.
        let mut buf = take_reply_buffer();
        let want = (len as usize).min(DATA_BYTES);
        let n = with_cred(caller, |fs, _| {
            fs.read_append(self.ino, offset, want, &mut buf, now())
        })?;
        reply_data(buf)?;
        Ok(n as u64)
    }

    fn write(&mut self, caller: Badge, offset: u64, append: u64) -> Result<(u64, u64), Errno> {
        let data = take_call_data();
        with_cred(caller, |fs, cred| {
            let at = if append != 0 {
                fs.stat(self.ino)?.size
            } else {
                offset
            };
            let n = fs.write_at(cred, self.ino, at, &data, now())?;
            Ok((n as u64, at + n as u64))
        })
    }

    fn stat(&mut self, caller: Badge, flags: u64) -> Result<(), Errno> {
        reply_about(self, caller, flags, |fs, ino| {
            Ok(fs.stat(ino)?.to_linux_bytes())
        })
    }

    fn statfs(&mut self, caller: Badge, flags: u64) -> Result<(), Errno> {
        reply_about(self, caller, flags, |fs, ino| {
            Ok(fs.statfs(ino)?.to_bytes())
        })
    }

    fn getdents(&mut self, caller: Badge, cookie: u64, max: u64) -> Result<(u64, u64), Errno> {
        let max = (max as usize).min(DATA_BYTES);
        let (bytes, next) = with_cred(caller, |fs, _| {
            let entries = fs.getdents(self.ino, cookie, max, now())?;
            let (bytes, count) = encode_dirent64(&entries, max)?;
            let next = match count {
                0 => cookie,
                n => entries[n - 1].next_cookie,
            };
            Ok((bytes, next))
        })?;
        let n = bytes.len() as u64;
        reply_data(bytes)?;
        Ok((next, n))
    }

    fn truncate(&mut self, caller: Badge, len: u64) -> Result<(), Errno> {
        with_cred(caller, |fs, cred| fs.ftruncate(cred, self.ino, len, now()))
    }

    fn mkdir(&mut self, caller: Badge, mode: u64, umask: u64) -> Result<(), Errno> {
        let path = path();
        with_cred(caller, |fs, cred| {
            fs.mkdir(cred, self.ino, &path, mode as u32, umask as u32, now())
                .map(|_| ())
        })
    }

    fn mknod(&mut self, caller: Badge, mode: u64, rdev: u64, umask: u64) -> Result<(), Errno> {
        let path = path();
        let (major, minor) = k42_linux::stat::decode_dev(rdev);
        let dev = Dev { major, minor };
        with_cred(caller, |fs, cred| {
            fs.mknod(cred, self.ino, &path, mode as u32, dev, umask as u32, now())
                .map(|_| ())
        })
    }

    fn unlink(&mut self, caller: Badge, flags: u64) -> Result<(), Errno> {
        let path = path();
        with_cred(caller, |fs, cred| {
            if flags as u32 & g::AT_REMOVEDIR != 0 {
                fs.rmdir(cred, self.ino, &path, now())
            } else {
                fs.unlink(cred, self.ino, &path, now())
            }
        })
    }

    fn rename(&mut self, caller: Badge, new_dir: u64, flags: u64) -> Result<(), Errno> {
        let (old, new) = two_paths()?;
        with_cred(caller, |fs, cred| {
            fs.rename(cred, self.ino, &old, new_dir, &new, flags as u32, now())
        })
    }

    fn link(&mut self, caller: Badge, new_dir: u64, flags: u64) -> Result<(), Errno> {
        let (old, new) = two_paths()?;
        with_cred(caller, |fs, cred| {
            fs.link(cred, self.ino, &old, new_dir, &new, flags as u32, now())
        })
    }

    fn symlink(&mut self, caller: Badge) -> Result<(), Errno> {
        let (target, path) = two_paths()?;
        with_cred(caller, |fs, cred| {
            fs.symlink(cred, &target, self.ino, &path, now())
                .map(|_| ())
        })
    }

    fn readlink(&mut self, caller: Badge) -> Result<u64, Errno> {
        let path = path();
        let target = with_cred(caller, |fs, cred| fs.readlink(cred, self.ino, &path, now()))?;
        let n = target.len() as u64;
        reply_data(target)?;
        Ok(n)
    }

    fn chmod(&mut self, caller: Badge, mode: u64, flags: u64) -> Result<(), Errno> {
        let path = path();
        with_cred(caller, |fs, cred| {
            let ino = named(fs, cred, self, &path, flags)?;
            fs.chmod(cred, ino, mode as u32, now())
        })
    }

    fn chown(&mut self, caller: Badge, uid: u64, gid: u64, flags: u64) -> Result<(), Errno> {
        let path = path();
        let keep = |id: u64| (id as u32 != u32::MAX).then_some(id as u32);
        with_cred(caller, |fs, cred| {
            let ino = named(fs, cred, self, &path, flags)?;
            fs.chown(cred, ino, keep(uid), keep(gid), now())
        })
    }

    fn utimens(
        &mut self,
        caller: Badge,
        flags: u64,
        atime_sec: u64,
        atime_nsec: u64,
        mtime_sec: u64,
        mtime_nsec: u64,
    ) -> Result<(), Errno> {
        let path = path();
        let times = [
            UtimeArg::from_raw(atime_sec as i64, atime_nsec as i64)?,
            UtimeArg::from_raw(mtime_sec as i64, mtime_nsec as i64)?,
        ];
        with_cred(caller, |fs, cred| {
            let ino = named(fs, cred, self, &path, flags)?;
            fs.utimens(cred, ino, Some(times), now())
        })
    }

    fn access(&mut self, caller: Badge, mode: u64, flags: u64) -> Result<(), Errno> {
        let path = path();
        let effective = flags & u64::from(g::AT_EACCESS) != 0;
        let mut guard = STATE.lock();
        let state = guard.as_mut().ok_or(Errno::EIO)?;
        let held = state.creds.get(&caller.0).ok_or(Errno::EACCES)?;
        // Linux's `access_override_creds`: the real ids, unless asked for the effective ones;
        // the walk to the file is checked with them too.
        let cred = if effective { &held.fs } else { &held.real }.clone();
        // The walk takes AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH (`named`).
        let ino = named(&mut state.fs, &cred, self, &path, flags)?;
        state.fs.access(&cred, ino, mode as u32)
    }

    fn set_credentials(
        &mut self,
        _caller: Badge,
        badge: u64,
        fsuid: u64,
        fsgid: u64,
        uid: u64,
        gid: u64,
    ) -> Result<(), Errno> {
        let id = |w: u64| u32::try_from(w).map_err(|_| Errno::EINVAL);
        let data = take_call_data();
        if !data.len().is_multiple_of(GID_BYTES) {
            return Err(Errno::EINVAL);
        }
        let groups: Vec<u32> = data
            .chunks_exact(GID_BYTES)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let held = Held {
            fs: Credentials::user(id(fsuid)?, id(fsgid)?, &groups),
            real: Credentials::user(id(uid)?, id(gid)?, &groups),
        };
        let mut guard = STATE.lock();
        let state = guard.as_mut().ok_or(Errno::EIO)?;
        state.creds.insert(badge, held);
        Ok(())
    }

    fn read_next(&mut self, caller: Badge, len: u64) -> Result<u64, Errno> {
        let offset = STATE.lock().as_ref().ok_or(Errno::EIO)?.offset(self.ofd)?;
        let n = self.read(caller, offset, len)?;
        set_offset(self.ofd, offset + n);
        Ok(n)
    }

    fn write_next(&mut self, caller: Badge, append: u64) -> Result<u64, Errno> {
        let offset = STATE.lock().as_ref().ok_or(Errno::EIO)?.offset(self.ofd)?;
        let (n, end) = self.write(caller, offset, append)?;
        set_offset(self.ofd, end);
        Ok(n)
    }

    fn seek(&mut self, caller: Badge, offset: u64, whence: u64) -> Result<u64, Errno> {
        let current = STATE.lock().as_ref().ok_or(Errno::EIO)?.offset(self.ofd)?;
        let size = with_cred(caller, |fs, _| Ok(fs.stat(self.ino)?.size))?;
        // Lossless: the offset word is lseek's off_t, a signed 64-bit value.
        let new = k42_linux::seek::position(current, size, offset as i64, whence as u32)?;
        set_offset(self.ofd, new);
        Ok(new)
    }

    fn forget(&mut self, _caller: Badge, badge: u64) -> Result<(), Errno> {
        // The loop releases the handles (`forget` there): the table is its.
        if let Some(state) = STATE.lock().as_mut() {
            state.creds.remove(&badge);
        }
        Ok(())
    }

    fn open_fifo(&mut self, caller: Badge) -> Result<(u64, u64, u64), Errno> {
        if !self.counted || self.flags & g::O_PATH != 0 || self.piped {
            return Err(Errno::EBADF);
        }
        let (ftype, pipes) = {
            let guard = STATE.lock();
            let state = guard.as_ref().ok_or(Errno::EIO)?;
            (state.fs.file_type(self.ino)?, state.pipes)
        };
        if ftype != FileType::Fifo {
            return Err(Errno::EINVAL);
        }
        let (comm, factory) = pipes.ok_or(Errno::ENXIO)?;
        let flags = u64::from(self.flags & (g::O_ACCMODE | g::O_NONBLOCK));
        // No lock is held across the call (module comment).
        let answer = PipesClient::new(Ppc::new(comm), factory)
            .open_named(self.ino, caller.0, flags)
            .map_err(|e| match e {
                CallError::Method(e) => e,
                other => {
                    log!("fs: the pipe server failed a FIFO's open: {other:?}");
                    Errno::EIO
                }
            })?;
        self.piped = true;
        Ok(answer)
    }

    fn attach_pipes(&mut self, _caller: Badge, comm: u64, handle: u64) -> Result<(), Errno> {
        let mut guard = STATE.lock();
        let state = guard.as_mut().ok_or(Errno::EIO)?;
        state.pipes = Some((comm, XHandle::from_word(handle)));
        Ok(())
    }

    fn image(&mut self, caller: Badge) -> Result<(u64, u64), Errno> {
        if !readable(self.flags) {
            return Err(Errno::EBADF);
        }
        let mut guard = STATE.lock();
        let state = guard.as_mut().ok_or(Errno::EIO)?;
        if !state.creds.contains_key(&caller.0) {
            return Err(Errno::EACCES);
        }
        let (version, size) = state.fs.data_version(self.ino)?;
        if size == 0 {
            return Err(Errno::EINVAL);
        }
        let mine = match state.images.get(&self.ino) {
            Some(&(made, handle)) if made == version => handle,
            stale => {
                let stale = stale.map(|&(_, handle)| handle);
                let handle = images::make(&state.fs, self.ino, size)?;
                state.images.insert(self.ino, (version, handle));
                // Mappings of the old version keep it; this server needs it no more.
                if let Some(old) = stale {
                    images::release(old);
                }
                handle
            }
        };
        let given = images::give(mine, caller)?;
        Ok((given.to_word(), size))
    }

    fn mount(&mut self, caller: Badge, flags: u64) -> Result<(), Errno> {
        let data = take_call_data();
        let mut fields = data.splitn(4, |&b| b == 0);
        let mut field = || fields.next().ok_or(Errno::EINVAL);
        let (target, source, fstype, options) = (field()?, field()?, field()?, field()?);
        with_cred(caller, |fs, cred| {
            fs.mount(
                cred,
                self.ino,
                target,
                source,
                fstype,
                flags as u32,
                options,
                now(),
            )
        })
    }

    fn umount(&mut self, caller: Badge, flags: u64) -> Result<(), Errno> {
        let path = path();
        with_cred(caller, |fs, cred| {
            fs.umount(cred, self.ino, &path, flags as u32)
        })
    }

    fn mounts(&mut self, caller: Badge, from: u64) -> Result<(u64, u64), Errno> {
        let mounts = with_cred(caller, |fs, _| Ok(fs.mounts()))?;
        let mut data = Vec::new();
        let mut next = usize::try_from(from)
            .unwrap_or(usize::MAX)
            .min(mounts.len());
        let mut held = 0;
        for m in &mounts[next..] {
            let record = [&m.source[..], &m.target, m.fstype.name().as_bytes()];
            let len: usize = record.iter().map(|f| f.len() + 1).sum();
            if data.len() + len > PPC_DATA_BYTES {
                if held == 0 {
                    // Not even alone: leave it out rather than stall the listing.
                    log!("fs: a mount's record ({len} bytes) does not fit a reply; left out");
                    next += 1;
                    continue;
                }
                break;
            }
            for f in record {
                data.extend_from_slice(f);
                data.push(0);
            }
            held += 1;
            next += 1;
        }
        reply_data(data)?;
        Ok((held, next as u64))
    }

    fn share_credentials(&mut self, caller: Badge, badge: u64) -> Result<(), Errno> {
        let mut guard = STATE.lock();
        let state = guard.as_mut().ok_or(Errno::EIO)?;
        let held = state.creds.get(&caller.0).cloned().ok_or(Errno::EACCES)?;
        match state.creds.entry(badge) {
            alloc::collections::btree_map::Entry::Occupied(_) => Err(Errno::EEXIST),
            alloc::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(held);
                Ok(())
            }
        }
    }
}

/// The rights a node opened with `flags` gets for its opener: READ always (metadata, and the
/// node as a directory for `*at` calls — reading data also needs a readable open, checked by
/// [`Fs::read`]), WRITE when the open allows writing, and CONTROL, so the opener can give the
/// open file on (to a fork child, which shares it as Linux shares an open file description).
fn rights_for(flags: u32) -> Rights {
    let data = if flags & g::O_PATH != 0 {
        Rights::READ
    } else {
        match flags & ACCESS_MODE {
            g::O_WRONLY | g::O_RDWR => Rights::READ.union(Rights::WRITE),
            _ => Rights::READ,
        }
    };
    data.union(Rights::CONTROL)
}

/// Whether a node opened with `flags` may read data.
fn readable(flags: u32) -> bool {
    flags & g::O_PATH == 0 && matches!(flags & ACCESS_MODE, g::O_RDONLY | g::O_RDWR)
}

/// What a released entry's node stops holding: its open file description and its inode.
fn closed(node: Node) {
    if node.counted
        && let Some(state) = STATE.lock().as_mut()
    {
        state.drop_ofd(node.ofd);
        if let Err(e) = state.fs.close_handle(node.ino) {
            log!("fs: closing inode {} failed: {e}", node.ino);
        }
        forget_images(state);
    }
}

/// Lets go of the images of files that are gone (their last name and handle went).
fn forget_images(state: &mut State) {
    let fs = &state.fs;
    state.images.retain(|&ino, &mut (_, handle)| {
        let alive = fs.data_version(ino).is_ok();
        if !alive {
            images::release(handle);
        }
        alive
    });
}

/// Releases every entry the ended process `dead` held (`Fs::forget`, whose rights the
/// dispatch checked and which dropped its credentials), as its own releases would have.
fn forget(table: &mut XObjectTable<Node>, dead: Badge) {
    for obj in table.take_all_for(dead) {
        closed(obj.target);
    }
}

/// Moves open file description `ofd`'s offset to `to` (nothing if it went meanwhile).
fn set_offset(ofd: u64, to: u64) {
    if let Some(o) = STATE.lock().as_mut().and_then(|s| s.offsets.get_mut(&ofd)) {
        o.offset = to;
    }
}

/// Serves `fs` with `table`'s objects for the rest of the process's life.
pub fn serve(fs: k42_ramfs::Fs, table: XObjectTable<Node>) -> ! {
    *STATE.lock() = Some(State {
        fs,
        creds: BTreeMap::new(),
        opened: None,
        offsets: BTreeMap::new(),
        next_ofd: NO_OFD + 1,
        pipes: None,
        images: BTreeMap::new(),
    });
    let mut table = table;
    server::serve(move |badge, handle, method, args| call(&mut table, badge, handle, method, args))
}

/// One call (module comment).
fn call(
    table: &mut XObjectTable<Node>,
    badge: Badge,
    handle: XHandle,
    method: u64,
    args: &[u64; ARG_WORDS],
) -> Reply {
    let release = method_word(meta::META_INTERFACE, meta::RELEASE);
    if method == release {
        let obj = table
            .release(handle, badge)
            .map_err(DispatchError::Rights)?;
        closed(obj.target);
        return Ok([0; 4]);
    }
    if split_method_word(method).0 == meta::META_INTERFACE {
        let reply = meta::dispatch(table, badge, handle, method, args);
        // A node given to another process is one more holder of its inode and of its open
        // file description.
        if reply.is_ok()
            && split_method_word(method).1 == meta::GIVE_ACCESS
            && let Ok(obj) = table.get(handle)
            && obj.target.counted
            && let Some(state) = STATE.lock().as_mut()
        {
            let _ = state.fs.open_handle(obj.target.ino);
            state.hold_ofd(obj.target.ofd);
        }
        return reply;
    }
    let mut args = *args;
    if method == FsMethod::Rename.number() || method == FsMethod::Link.number() {
        // The second directory, as the caller holds it: its inode goes to the method.
        let dir = table
            .lookup(XHandle::from_word(args[0]), badge, Rights::READ)
            .map_err(DispatchError::Rights)?;
        args[0] = dir.target.ino;
    }
    let reply = FsServer::<Node>::dispatch(table, badge, handle, method, &args);
    if method == FsMethod::Forget.number() && reply.is_ok() {
        forget(table, Badge(args[0]));
    }
    if (method == FsMethod::Unlink.number()
        || method == FsMethod::Rename.number()
        || method == FsMethod::Umount.number())
        && reply.is_ok()
        && let Some(state) = STATE.lock().as_mut()
    {
        // An unlink, a rename over a file or an unmount may have freed an inode with an image.
        forget_images(state);
    }
    if method != FsMethod::Open.number() {
        return reply;
    }
    let opened = STATE.lock().as_mut().and_then(|s| s.opened.take());
    let mut words = reply?;
    let Some(node) = opened else {
        return Ok(words);
    };
    match table.insert(node, badge, rights_for(node.flags), Rights::NONE) {
        Ok(new) => {
            words[0] = new.to_word();
            Ok(words)
        }
        Err(e) => {
            if let Some(state) = STATE.lock().as_mut() {
                let _ = state.fs.close_handle(node.ino);
                state.drop_ofd(node.ofd);
            }
            Err(DispatchError::Rights(e))
        }
    }
}
