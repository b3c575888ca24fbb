//! File calls (issue #4 item 4): `open`/`openat`/`creat`, reading and writing files and
//! directories (`getdents64`), `lseek`, path-based metadata, the name-space calls (`mkdirat`,
//! `unlinkat`, `renameat2`, `linkat`, `symlinkat`, `readlinkat`), attributes (`fchmodat`,
//! `fchownat`, `utimensat`, `faccessat2`), sizes (`truncate`, `ftruncate`), `fsync`, and the
//! working directory (`getcwd`, `chdir`, `fchdir`). The file server (`user/bin/fs`) decides
//! every permission with the credentials it holds for this process's badge; the personality
//! only names nodes and paths. Device nodes open as the personality's own devices
//! (`crate::fd::Kind`: the memory devices, the console); FIFOs as pipe ends (`calls/pipe.rs`:
//! the file server checks the open and gets the end from the pipe server). A FIFO opened
//! `O_RDWR` comes here as `Kind::File`: its reads and writes go on to `calls/pipe.rs`, and it
//! cannot seek. Paths under `/proc` are the personality's own (`crate::procfs`): each call
//! here asks `procfs::lookup` first and hands a `/proc` node there.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use k42_linux::raw::general as g;
use k42_linux::stat::STAT_BYTES;
use k42_linux::{Errno, SysResult, path};
use k42_rights::XHandle;

use crate::fd::{Kind, OpenFile};
use crate::files::{self, Node};
use crate::procfs::{self, Change, Found};
use crate::state::Linux;
use crate::table::Args;
use crate::uaccess::{self, Source};

/// `AT_FDCWD` as the register holds it (a C int, -100).
const AT_FDCWD: i32 = g::AT_FDCWD;
/// Most bytes one file read or write moves per server call: the PPC data area.
pub const CHUNK: usize = k42_abi::kernel::PPC_DATA_BYTES;

/// The path argument at `addr`, as bytes (no NUL), `ENOENT` when empty unless `empty_ok`.
pub(crate) fn path_arg(linux: &Linux, addr: u64, empty_ok: bool) -> Result<Vec<u8>, Errno> {
    let p = uaccess::read_string(linux, addr)?;
    if p.is_empty() && !empty_ok {
        return Err(Errno::ENOENT);
    }
    Ok(p)
}

/// The directory node a `*at` call starts from: the cwd for `AT_FDCWD` (or an absolute path,
/// which the server walks from the root anyway), else `dirfd`'s, which must be a directory.
pub(crate) fn dir_node(linux: &Linux, dirfd: u64, path: &[u8]) -> Result<Arc<Node>, Errno> {
    let files = linux.files()?;
    if path.first() == Some(&b'/') {
        return Ok(files.root.clone());
    }
    if dirfd as u32 as i32 == AT_FDCWD {
        return Ok(files.cwd.lock().0.clone());
    }
    let file = linux.fds.lock().get(dirfd)?;
    match (&file.kind, &file.node) {
        (Kind::Dir, Some(node)) => Ok(node.clone()),
        _ if path.is_empty() => file.fs_node().ok_or(Errno::EBADF),
        _ => Err(Errno::ENOTDIR),
    }
}

/// Most bytes of a path one server call carries: the PPC data area, less the NUL a second
/// path would need.
pub(crate) const SENT_PATH_MAX: usize = CHUNK - 1;

/// Where a server call naming `path` from `dirfd` starts, and the path it sends: `dir_node`'s
/// node and `path` itself (borrowed) when it fits in `limit` bytes. A longer one (Linux takes up to
/// `PATH_MAX - 1` bytes, more than one call's data area) first loses its repeated slashes
/// (`a//b` is `a/b` to Linux's walk), then is walked a piece at a time: the part up to a `/`
/// before `limit` is opened as a directory (`O_PATH|O_DIRECTORY`, following symlinks as any
/// component but the last is followed) and the rest named from there, until it fits. The
/// pieces are walked as the whole path would be, with the same errors (`ENOENT`, `ENOTDIR`,
/// `EACCES`, `ELOOP`), except that Linux's 40-symlink bound counts per piece. A first component
/// longer than `limit` is `ENAMETOOLONG`, as it is past `NAME_MAX` anyway.
pub(crate) fn start_at<'p>(
    linux: &Linux,
    dirfd: u64,
    path: &'p [u8],
    limit: usize,
) -> Result<(Arc<Node>, Cow<'p, [u8]>), Errno> {
    let mut dir = dir_node(linux, dirfd, path)?;
    if path.len() <= limit {
        // The common case: the path goes as it is, not copied.
        return Ok((dir, Cow::Borrowed(path)));
    }
    let mut rest: Vec<u8> = Vec::with_capacity(path.len());
    for &b in path {
        if !(b == b'/' && rest.last() == Some(&b'/')) {
            rest.push(b);
        }
    }
    while rest.len() > limit {
        // The last separator within the limit that has a component before it.
        let cut = rest[..limit]
            .iter()
            .rposition(|&b| b == b'/')
            .filter(|&i| i > 0)
            .ok_or(Errno::ENAMETOOLONG)?;
        let flags = u64::from(g::O_PATH | g::O_DIRECTORY);
        let ((handle, ..), _) = files::call(&dir, &rest[..cut], |c| c.open(flags, 0, 0))?;
        dir = Arc::new(Node {
            comm: dir.comm,
            handle: XHandle::from_word(handle),
        });
        rest.drain(..=cut);
    }
    Ok((dir, Cow::Owned(rest)))
}

/// The absolute path `path` names from `dirfd` (lexically: `..` after a symlink may differ
/// from the server's walk), for `fchdir` and `getcwd`: from `/`, the cwd, or `dirfd`'s own.
fn absolute_path(linux: &Linux, dirfd: u64, path: &[u8]) -> String {
    let path = String::from_utf8_lossy(path);
    if path.starts_with('/') {
        return path::resolve("/", &path).unwrap_or_else(|_| path.into_owned());
    }
    let base = if dirfd as u32 as i32 == AT_FDCWD {
        linux
            .files()
            .map(|f| f.cwd.lock().1.clone())
            .unwrap_or_else(|_| String::from("/"))
    } else {
        linux
            .fds
            .lock()
            .get(dirfd)
            .map(|f| f.path.clone())
            .unwrap_or_else(|_| String::from("/"))
    };
    path::resolve(&base, &path).unwrap_or_else(|_| path.into_owned())
}

/// What an open of a device number is in the personality.
fn device_kind(rdev: (u32, u32)) -> Kind {
    match rdev {
        (1, 3) => Kind::Null,
        (1, 5) => Kind::Zero,
        (1, 7) => Kind::Full,
        (1, 8) | (1, 9) => Kind::Random,
        _ => Kind::Console,
    }
}

/// `openat(dirfd, path, flags, mode)`.
pub fn openat(linux: &Linux, args: &Args) -> SysResult {
    open_common(linux, args[0], args[1], args[2] as u32, args[3] as u32)
}

/// `open(path, flags, mode)`.
pub fn open(linux: &Linux, args: &Args) -> SysResult {
    open_common(
        linux,
        AT_FDCWD as u64,
        args[0],
        args[1] as u32,
        args[2] as u32,
    )
}

/// `creat(path, mode)`: `open` with `O_CREAT|O_WRONLY|O_TRUNC`.
pub fn creat(linux: &Linux, args: &Args) -> SysResult {
    let flags = g::O_CREAT | g::O_WRONLY | g::O_TRUNC;
    open_common(linux, AT_FDCWD as u64, args[0], flags, args[1] as u32)
}

fn open_common(linux: &Linux, dirfd: u64, path_addr: u64, flags: u32, mode: u32) -> SysResult {
    let path = path_arg(linux, path_addr, false)?;
    let path = match procfs::lookup(linux, dirfd, &path, flags & g::O_NOFOLLOW == 0)? {
        Found::Node(node) => return procfs::open(linux, node, flags),
        Found::Elsewhere(other) => other.into_bytes(),
        Found::Outside => path,
    };
    let (dir, sent) = start_at(linux, dirfd, &path, SENT_PATH_MAX)?;
    let umask = linux.umask();
    let ((handle, st_mode, rdev, _size), _) = files::call(&dir, &sent, |c| {
        c.open(u64::from(flags), u64::from(mode & 0o7777), umask)
    })?;
    let node = Arc::new(Node {
        comm: dir.comm,
        handle: XHandle::from_word(handle),
    });
    let st_mode = st_mode as u32;
    let shown = absolute_path(linux, dirfd, &path);
    if st_mode & g::S_IFMT == g::S_IFIFO && flags & g::O_PATH == 0 {
        return crate::calls::pipe::open_fifo(linux, node, flags, shown);
    }
    let kind = match st_mode & g::S_IFMT {
        g::S_IFDIR => Kind::Dir,
        g::S_IFCHR => device_kind(k42_linux::stat::decode_dev(rdev)),
        _ => Kind::File,
    };
    let file = OpenFile::new(
        kind,
        flags & !(g::O_CREAT | g::O_EXCL | g::O_TRUNC | g::O_CLOEXEC),
        Some(node),
        shown,
    );
    linux.fds.lock().install(file, flags & g::O_CLOEXEC != 0)
}

/// Reads up to `len` bytes of the file at its offset (or at `at`, for `pread`): as many server
/// calls as it takes, stopping at a short one (the end of the file).
///
/// The offset is read before and stored after, with no lock held across the server calls (no
/// lock is held across an object invocation). Two threads reading one open file at once could
/// then read from the same offset, which Linux serializes (`f_pos_lock`); that comes with
/// program threads, as a per-file blocking lock.
pub fn read_file(
    linux: &Linux,
    file: &OpenFile,
    addr: u64,
    len: u64,
    at: Option<u64>,
) -> SysResult {
    if file.fifo.is_some() {
        return match at {
            Some(_) => Err(Errno::ESPIPE),
            None => crate::calls::pipe::read(linux, file, addr, len),
        };
    }
    let node = file.node.as_ref().ok_or(Errno::EBADF)?;
    uaccess::end(addr, len)?;
    let shared = at.is_none() && file.server_offset.load(Ordering::Relaxed);
    let mut offset = at.unwrap_or_else(|| *file.offset.lock());
    let mut done = 0u64;
    let result = loop {
        if done >= len {
            break Ok(());
        }
        let want = (len - done).min(CHUNK as u64);
        let read = if shared {
            files::call(node, &[], |c| c.read_next(want))
        } else {
            files::call(node, &[], |c| c.read(offset, want))
        };
        let (n, bytes) = match read {
            Ok(answer) => answer,
            Err(e) => break Err(e),
        };
        let n = n.min(bytes.len() as u64);
        if let Err(e) = uaccess::write(linux, addr + done, &bytes[..n as usize]) {
            break Err(e);
        }
        done += n;
        offset += n;
        if n < want {
            break Ok(());
        }
    };
    if at.is_none() && !shared {
        *file.offset.lock() = offset;
    }
    // What was read counts, as Linux reports a read cut short by a fault.
    match result {
        Err(e) if done == 0 => Err(e),
        _ => Ok(done),
    }
}

/// Writes `len` bytes of `src` to the file at its offset (or at `at`, leaving the offset be),
/// appending instead when opened with `O_APPEND` — even with an `at`, as Linux's `pwrite` does
/// — or when `append` (`pwritev2`'s `RWF_APPEND`).
pub fn write_file(
    linux: &Linux,
    file: &OpenFile,
    src: Source,
    len: u64,
    at: Option<u64>,
    append: bool,
) -> SysResult {
    if file.fifo.is_some() {
        return match at {
            Some(_) => Err(Errno::ESPIPE),
            None => crate::calls::pipe::write(linux, file, src, len),
        };
    }
    let node = file.node.as_ref().ok_or(Errno::EBADF)?;
    src.check(len)?;
    let append = append || file.flags() & g::O_APPEND != 0;
    let shared = at.is_none() && file.server_offset.load(Ordering::Relaxed);
    let mut offset = at.unwrap_or_else(|| *file.offset.lock());
    let mut done = 0u64;
    let result = loop {
        if done >= len {
            break Ok(());
        }
        let n = (len - done).min(CHUNK as u64) as usize;
        let bytes = match src.read(linux, done, n) {
            Ok(bytes) => bytes,
            Err(e) => break Err(e),
        };
        let wrote = if shared {
            files::call(node, &bytes, |c| c.write_next(u64::from(append)))
                .map(|(wrote, data)| ((wrote, 0), data))
        } else {
            files::call(node, &bytes, |c| c.write(offset, u64::from(append)))
        };
        match wrote {
            Ok(((wrote, end), _)) => {
                done += wrote;
                offset = end;
                if wrote < n as u64 {
                    break Ok(());
                }
            }
            Err(e) => break Err(e),
        }
    };
    if at.is_none() && !shared {
        *file.offset.lock() = offset;
    }
    match result {
        Err(e) if done == 0 => Err(e),
        _ => Ok(done),
    }
}

/// `getdents64(fd, dirp, count)`.
pub fn getdents64(linux: &Linux, args: &Args) -> SysResult {
    let file = linux.fds.lock().get(args[0])?;
    if file.kind == Kind::ProcDir {
        return procfs::getdents(linux, &file, args[1], args[2]);
    }
    if !matches!(file.kind, Kind::Dir) {
        return Err(Errno::ENOTDIR);
    }
    let node = file.node.as_ref().ok_or(Errno::EBADF)?;
    let max = args[2].min(CHUNK as u64);
    let cookie = *file.offset.lock();
    let ((next, n), bytes) = files::call(node, &[], |c| c.getdents(cookie, max))?;
    let n = n.min(bytes.len() as u64) as usize;
    uaccess::write(linux, args[1], &bytes[..n])?;
    *file.offset.lock() = next;
    Ok(n as u64)
}

/// `lseek(fd, offset, whence)` on a file or directory (a directory's offset is its cookie,
/// which only `SEEK_SET` to 0 rewinds, as on Linux's simple file systems).
pub fn lseek_file(file: &OpenFile, offset: i64, whence: u32) -> SysResult {
    if file.fifo.is_some() {
        return Err(Errno::ESPIPE);
    }
    if file.server_offset.load(Ordering::Relaxed) {
        let node = file.node.as_ref().ok_or(Errno::EBADF)?;
        // Lossless: the word carries lseek's off_t.
        return Ok(files::call(node, &[], |c| c.seek(offset as u64, u64::from(whence)))?.0);
    }
    if file.kind == Kind::Dir && whence != g::SEEK_SET && whence != g::SEEK_CUR {
        return Err(Errno::EINVAL);
    }
    // The size is asked before the offset's lock is taken: no lock across a server call.
    let size = match whence {
        g::SEEK_END | g::SEEK_DATA | g::SEEK_HOLE => {
            let node = file.node.as_ref().ok_or(Errno::EBADF)?;
            stat_node(node)?.size
        }
        _ => 0,
    };
    let mut pos = file.offset.lock();
    let new = k42_linux::seek::position(*pos, size, offset, whence)?;
    *pos = new;
    Ok(new)
}

/// The offset of open file `file` of the file server, wherever it is kept
/// (`OpenFile::server_offset`).
pub fn offset_of(file: &OpenFile) -> Result<u64, Errno> {
    if !file.server_offset.load(Ordering::Relaxed) {
        return Ok(*file.offset.lock());
    }
    let node = file.node.as_ref().ok_or(Errno::EBADF)?;
    Ok(files::call(node, &[], |c| c.seek(0, u64::from(g::SEEK_CUR)))?.0)
}

/// Moves the offset of open file `file` to `at`, wherever it is kept.
pub fn set_offset(file: &OpenFile, at: u64) -> Result<(), Errno> {
    if !file.server_offset.load(Ordering::Relaxed) {
        *file.offset.lock() = at;
        return Ok(());
    }
    let node = file.node.as_ref().ok_or(Errno::EBADF)?;
    files::call(node, &[], |c| c.seek(at, u64::from(g::SEEK_SET))).map(|_| ())
}

/// At most `want` (at most [`CHUNK`]) bytes of `node` from offset `at`: fewer only at its end.
pub fn read_piece(node: &Node, at: u64, want: u64) -> Result<Vec<u8>, Errno> {
    let (n, mut bytes) = files::call(node, &[], |c| c.read(at, want.min(CHUNK as u64)))?;
    bytes.truncate(usize::try_from(n).unwrap_or(usize::MAX));
    Ok(bytes)
}

/// Hands the offset of each open regular file this process still keeps to the file server
/// (before a fork shares them: `calls/fork.rs`).
pub fn share_offsets(linux: &Linux) -> Result<(), Errno> {
    let private = linux.fds.lock().private_offsets();
    for file in private {
        let node = file.node.as_ref().ok_or(Errno::EBADF)?;
        let offset = *file.offset.lock();
        let set = u64::from(g::SEEK_SET);
        files::call(node, &[], |c| c.seek(offset, set))?;
        file.server_offset.store(true, Ordering::Relaxed);
    }
    Ok(())
}

/// The metadata of `node` itself.
pub fn stat_node(node: &Node) -> Result<k42_linux::stat::Stat, Errno> {
    stat_call(node, &[], g::AT_EMPTY_PATH)
}

/// The server's `stat` of `path` from `node` with `flags`, its answer read from a buffer on the
/// stack (a `struct stat`'s bytes, `EIO` if fewer came).
fn stat_call(node: &Node, path: &[u8], flags: u32) -> Result<k42_linux::stat::Stat, Errno> {
    let mut bytes = [0u8; STAT_BYTES];
    stat_call_into(node, path, flags, &mut bytes)?;
    k42_linux::stat::Stat::from_stat_bytes(&bytes).ok_or(Errno::EIO)
}

/// [`stat_node`] as the server sent it, into `bytes`: Linux's `struct stat`, which the program
/// can be given as it is (decoding it to a `Stat` and encoding that again gives the same bytes).
pub fn stat_node_into(node: &Node, bytes: &mut [u8; STAT_BYTES]) -> Result<(), Errno> {
    stat_call_into(node, &[], g::AT_EMPTY_PATH, bytes)
}

/// [`stat_call`]'s answer into `bytes` (`EIO` if fewer than a `struct stat` came).
fn stat_call_into(
    node: &Node,
    path: &[u8],
    flags: u32,
    bytes: &mut [u8; STAT_BYTES],
) -> Result<(), Errno> {
    let ((), got) = files::call_into(node, path, bytes, |c| c.stat(u64::from(flags)))?;
    if got < STAT_BYTES {
        return Err(Errno::EIO);
    }
    Ok(())
}

/// Path-named metadata for `newfstatat` and `statx`: `AT_EMPTY_PATH` with an empty path is
/// `dirfd` itself (which may be any open file: the console answers locally).
pub fn stat_path(
    linux: &Linux,
    dirfd: u64,
    path_addr: u64,
    flags: u32,
) -> Result<k42_linux::stat::Stat, Errno> {
    let path = path_arg(linux, path_addr, flags & g::AT_EMPTY_PATH != 0)?;
    if path.is_empty() {
        return crate::calls::stat::stat_fd(linux, dirfd);
    }
    let path = match procfs::lookup(linux, dirfd, &path, flags & g::AT_SYMLINK_NOFOLLOW == 0)? {
        Found::Node(node) => return procfs::stat(linux, node),
        Found::Elsewhere(other) => other.into_bytes(),
        Found::Outside => path,
    };
    let (dir, path) = start_at(linux, dirfd, &path, SENT_PATH_MAX)?;
    stat_call(&dir, &path, flags)
}

/// Runs a name-space method on the path argument `(dirfd, path_addr)`; a `/proc` node (found
/// following a final link when `follow`) is `in_proc`'s to answer instead.
fn on_path(
    linux: &Linux,
    (dirfd, path_addr): (u64, u64),
    empty_ok: bool,
    follow: bool,
    in_proc: impl FnOnce(k42_ptree::procpath::Node) -> SysResult,
    f: impl FnOnce(
        &mut k42_ifaces::fs::FsClient<k42_rt::ppc::WithData<'_>>,
    ) -> Result<(), k42_rights::wire::CallError<Errno>>,
) -> SysResult {
    let path = path_arg(linux, path_addr, empty_ok)?;
    let path = match procfs::lookup(linux, dirfd, &path, follow)? {
        Found::Node(node) => return in_proc(node),
        Found::Elsewhere(other) => other.into_bytes(),
        Found::Outside => path,
    };
    let (dir, path) = start_at(linux, dirfd, &path, SENT_PATH_MAX)?;
    files::call(&dir, &path, f).map(|((), _)| 0)
}

/// `/proc`'s answer to a change of its name space (`procfs::refuse_change`).
fn refuse(
    linux: &Linux,
    change: Change,
) -> impl FnOnce(k42_ptree::procpath::Node) -> SysResult + '_ {
    move |node| procfs::refuse_change(linux, node, change)
}

/// `mkdirat(dirfd, path, mode)`.
pub fn mkdirat(linux: &Linux, args: &Args) -> SysResult {
    let umask = linux.umask();
    let create = refuse(linux, Change::Create);
    on_path(linux, (args[0], args[1]), false, false, create, |c| {
        c.mkdir(args[2] & 0o7777, umask)
    })
}

/// `mkdir(path, mode)`.
pub fn mkdir(linux: &Linux, args: &Args) -> SysResult {
    mkdirat(linux, &[AT_FDCWD as u64, args[0], args[1], 0, 0, 0])
}

/// `mknodat(dirfd, path, mode, dev)`.
pub fn mknodat(linux: &Linux, args: &Args) -> SysResult {
    let umask = linux.umask();
    let create = refuse(linux, Change::Create);
    on_path(linux, (args[0], args[1]), false, false, create, |c| {
        c.mknod(args[2], args[3], umask)
    })
}

/// `mknod(path, mode, dev)` (musl's `mkfifo` calls it).
pub fn mknod(linux: &Linux, args: &Args) -> SysResult {
    mknodat(linux, &[AT_FDCWD as u64, args[0], args[1], args[2], 0, 0])
}

/// `unlinkat(dirfd, path, flags)`.
pub fn unlinkat(linux: &Linux, args: &Args) -> SysResult {
    if args[2] as u32 & !g::AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    let change = match args[2] as u32 & g::AT_REMOVEDIR {
        0 => Change::Unlink,
        _ => Change::Rmdir,
    };
    on_path(
        linux,
        (args[0], args[1]),
        false,
        false,
        refuse(linux, change),
        |c| c.unlink(args[2]),
    )
}

/// `unlink(path)`.
pub fn unlink(linux: &Linux, args: &Args) -> SysResult {
    unlinkat(linux, &[AT_FDCWD as u64, args[0], 0, 0, 0, 0])
}

/// `rmdir(path)`.
pub fn rmdir(linux: &Linux, args: &Args) -> SysResult {
    unlinkat(
        linux,
        &[
            AT_FDCWD as u64,
            args[0],
            u64::from(g::AT_REMOVEDIR),
            0,
            0,
            0,
        ],
    )
}

/// Two paths as the server takes them.
struct TwoPaths {
    /// Where the old one starts.
    old_dir: Arc<Node>,
    /// Where the new one starts.
    new_dir: Arc<Node>,
    /// `old\0new`.
    data: Vec<u8>,
}

/// Two paths as the server takes them: `old\0new`, with the new one's directory node; the old
/// one may be empty when `old_empty_ok` (`linkat`'s `AT_EMPTY_PATH`: `olddirfd` itself).
fn two_paths(
    linux: &Linux,
    (olddirfd, old_addr): (u64, u64),
    (newdirfd, new_addr): (u64, u64),
    old_empty_ok: bool,
) -> Result<TwoPaths, Errno> {
    let old = path_arg(linux, old_addr, old_empty_ok)?;
    let new = path_arg(linux, new_addr, false)?;
    // Both travel in one call's data, with a NUL between.
    let (old_dir, old) = start_at(linux, olddirfd, &old, CHUNK / 2 - 1)?;
    let (new_dir, new) = start_at(linux, newdirfd, &new, CHUNK / 2 - 1)?;
    let mut data = old.into_owned();
    data.push(0);
    data.extend_from_slice(&new);
    Ok(TwoPaths {
        old_dir,
        new_dir,
        data,
    })
}

/// `rename` and `link` with `/proc` on either side (`None`: on neither): `/proc` is another
/// file system (`EXDEV` across), whose names do not move (`EPERM`) and whose taken names
/// cannot be linked over (`EEXIST`); a name it does not have is `ENOENT`.
fn across_proc(linux: &Linux, args: &Args, link: bool) -> Result<Option<u64>, Errno> {
    let empty_ok = link && args[4] as u32 & g::AT_EMPTY_PATH != 0;
    let old = path_arg(linux, args[1], empty_ok)?;
    let new = path_arg(linux, args[3], false)?;
    let old_at = if old.is_empty() {
        // `linkat(fd, "", …, AT_EMPTY_PATH)`: the fd's own file.
        procfs::node_of_fd(linux, args[0]).map_or(Found::Outside, Found::Node)
    } else {
        procfs::lookup(linux, args[0], &old, false)?
    };
    let new_at = procfs::lookup(linux, args[2], &new, false)?;
    let change = if link { Change::Create } else { Change::Rename };
    match (old_at, new_at) {
        (_, Found::Node(new)) if link => procfs::refuse_change(linux, new, change).map(Some),
        (Found::Node(old), Found::Node(_)) => procfs::refuse_change(linux, old, change).map(Some),
        (Found::Node(_), _) | (_, Found::Node(_)) => Err(Errno::EXDEV),
        _ => Ok(None),
    }
}

/// `renameat2(olddirfd, old, newdirfd, new, flags)`.
pub fn renameat2(linux: &Linux, args: &Args) -> SysResult {
    if let Some(done) = across_proc(linux, args, false)? {
        return Ok(done);
    }
    let p = two_paths(linux, (args[0], args[1]), (args[2], args[3]), false)?;
    let new_dir = p.new_dir.handle.to_word();
    files::call(&p.old_dir, &p.data, |c| c.rename(new_dir, args[4])).map(|((), _)| 0)
}

/// `renameat(olddirfd, old, newdirfd, new)`.
pub fn renameat(linux: &Linux, args: &Args) -> SysResult {
    renameat2(linux, &[args[0], args[1], args[2], args[3], 0, 0])
}

/// `rename(old, new)`.
pub fn rename(linux: &Linux, args: &Args) -> SysResult {
    let cwd = AT_FDCWD as u64;
    renameat2(linux, &[cwd, args[0], cwd, args[1], 0, 0])
}

/// `linkat(olddirfd, old, newdirfd, new, flags)`.
pub fn linkat(linux: &Linux, args: &Args) -> SysResult {
    if args[4] as u32 & !(g::AT_SYMLINK_FOLLOW | g::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    if let Some(done) = across_proc(linux, args, true)? {
        return Ok(done);
    }
    let empty_ok = args[4] as u32 & g::AT_EMPTY_PATH != 0;
    let p = two_paths(linux, (args[0], args[1]), (args[2], args[3]), empty_ok)?;
    let new_dir = p.new_dir.handle.to_word();
    files::call(&p.old_dir, &p.data, |c| c.link(new_dir, args[4])).map(|((), _)| 0)
}

/// `link(old, new)`.
pub fn link(linux: &Linux, args: &Args) -> SysResult {
    let cwd = AT_FDCWD as u64;
    linkat(linux, &[cwd, args[0], cwd, args[1], 0, 0])
}

/// `symlinkat(target, newdirfd, linkpath)`.
pub fn symlinkat(linux: &Linux, args: &Args) -> SysResult {
    let target = path_arg(linux, args[0], false)?;
    let link = path_arg(linux, args[2], false)?;
    if let Found::Node(node) = procfs::lookup(linux, args[1], &link, false)? {
        return procfs::refuse_change(linux, node, Change::Create);
    }
    let dir = dir_node(linux, args[1], &link)?;
    let mut data = target;
    data.push(0);
    data.extend_from_slice(&link);
    files::call(&dir, &data, |c| c.symlink()).map(|((), _)| 0)
}

/// `symlink(target, linkpath)`.
pub fn symlink(linux: &Linux, args: &Args) -> SysResult {
    symlinkat(linux, &[args[0], AT_FDCWD as u64, args[1], 0, 0, 0])
}

/// `readlinkat(dirfd, path, buf, bufsiz)`: at most `bufsiz` bytes, no NUL, as Linux.
pub fn readlinkat(linux: &Linux, args: &Args) -> SysResult {
    if (args[3] as i32) <= 0 {
        return Err(Errno::EINVAL);
    }
    let path = path_arg(linux, args[1], false)?;
    let path = match procfs::lookup(linux, args[0], &path, false)? {
        Found::Node(node) => {
            let target = procfs::readlink(linux, node)?;
            let n = target.len().min(args[3] as usize);
            uaccess::write(linux, args[2], &target.as_bytes()[..n])?;
            return Ok(n as u64);
        }
        Found::Elsewhere(other) => other.into_bytes(),
        Found::Outside => path,
    };
    let (dir, path) = start_at(linux, args[0], &path, SENT_PATH_MAX)?;
    let (len, target) = files::call(&dir, &path, |c| c.readlink())?;
    let n = (len as usize).min(target.len()).min(args[3] as usize);
    uaccess::write(linux, args[2], &target[..n])?;
    Ok(n as u64)
}

/// `readlink(path, buf, bufsiz)`.
pub fn readlink(linux: &Linux, args: &Args) -> SysResult {
    readlinkat(linux, &[AT_FDCWD as u64, args[0], args[1], args[2], 0, 0])
}

/// `fchmodat(dirfd, path, mode)`: Linux's call has no flags argument (a fourth register is
/// not read: C libraries implement `AT_SYMLINK_NOFOLLOW` themselves, or with `fchmodat2`),
/// so the path is followed and must not be empty.
pub fn fchmodat(linux: &Linux, args: &Args) -> SysResult {
    let chmod = refuse(linux, Change::Chmod);
    on_path(linux, (args[0], args[1]), false, true, chmod, |c| {
        c.chmod(args[2] & 0o7777, 0)
    })
}

/// `chmod(path, mode)`.
pub fn chmod(linux: &Linux, args: &Args) -> SysResult {
    fchmodat(linux, &[AT_FDCWD as u64, args[0], args[1], 0, 0, 0])
}

/// The file server's node of an open fd, for the `f*` calls.
fn fd_node(linux: &Linux, fd: u64) -> Result<Arc<Node>, Errno> {
    linux.fds.lock().get(fd)?.fs_node().ok_or(Errno::EINVAL)
}

/// `/proc`'s answer to a change made through an open fd of it (`None`: not one of `/proc`).
fn proc_fd_change(linux: &Linux, fd: u64, change: Change) -> Option<SysResult> {
    procfs::node_of_fd(linux, fd).map(|node| procfs::refuse_change(linux, node, change))
}

/// `fchmod(fd, mode)`.
pub fn fchmod(linux: &Linux, args: &Args) -> SysResult {
    if let Some(done) = proc_fd_change(linux, args[0], Change::Chmod) {
        return done;
    }
    let node = fd_node(linux, args[0])?;
    let flags = u64::from(g::AT_EMPTY_PATH);
    files::call(&node, &[], |c| c.chmod(args[1] & 0o7777, flags)).map(|((), _)| 0)
}

/// `fchownat(dirfd, path, uid, gid, flags)` (`-1`: unchanged); flags other than
/// `AT_SYMLINK_NOFOLLOW` and `AT_EMPTY_PATH` are `EINVAL`.
pub fn fchownat(linux: &Linux, args: &Args) -> SysResult {
    let flags = args[4] as u32;
    if flags & !(g::AT_SYMLINK_NOFOLLOW | g::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let (empty, follow) = (
        flags & g::AT_EMPTY_PATH != 0,
        flags & g::AT_SYMLINK_NOFOLLOW == 0,
    );
    let (uid, gid) = (u64::from(args[2] as u32), u64::from(args[3] as u32));
    let chown = refuse(linux, Change::Attributes);
    on_path(linux, (args[0], args[1]), empty, follow, chown, |c| {
        c.chown(uid, gid, args[4])
    })
}

/// `chown(path, uid, gid)`.
pub fn chown(linux: &Linux, args: &Args) -> SysResult {
    fchownat(linux, &[AT_FDCWD as u64, args[0], args[1], args[2], 0, 0])
}

/// `lchown(path, uid, gid)`.
pub fn lchown(linux: &Linux, args: &Args) -> SysResult {
    let nofollow = u64::from(g::AT_SYMLINK_NOFOLLOW);
    fchownat(
        linux,
        &[AT_FDCWD as u64, args[0], args[1], args[2], nofollow, 0],
    )
}

/// `fchown(fd, uid, gid)`.
pub fn fchown(linux: &Linux, args: &Args) -> SysResult {
    if let Some(done) = proc_fd_change(linux, args[0], Change::Attributes) {
        return done;
    }
    let node = fd_node(linux, args[0])?;
    let (uid, gid) = (u64::from(args[1] as u32), u64::from(args[2] as u32));
    let flags = u64::from(g::AT_EMPTY_PATH);
    files::call(&node, &[], |c| c.chown(uid, gid, flags)).map(|((), _)| 0)
}

/// `utimensat(dirfd, path, times, flags)`: a null `times` is "now" for both; both
/// `UTIME_OMIT` is done before the path is even looked at (Linux: "nothing to do"). A null
/// `path` names `dirfd` itself (glibc's `futimens`), which takes no flags; otherwise the flags
/// are `AT_SYMLINK_NOFOLLOW` and `AT_EMPTY_PATH`.
pub fn utimensat(linux: &Linux, args: &Args) -> SysResult {
    let now = u64::from(g::UTIME_NOW);
    let omit = u64::from(g::UTIME_OMIT);
    let [a_sec, a_nsec, m_sec, m_nsec] = match args[2] {
        0 => [0, now, 0, now],
        addr => uaccess::read_words::<4>(linux, addr)?,
    };
    if (a_nsec, m_nsec) == (omit, omit) {
        return Ok(0);
    }
    let flags = args[3] as u32;
    if args[1] == 0 && args[0] as u32 as i32 != AT_FDCWD {
        if flags != 0 {
            return Err(Errno::EINVAL);
        }
        if let Some(done) = proc_fd_change(linux, args[0], Change::Attributes) {
            return done;
        }
        let node = fd_node(linux, args[0])?;
        let flags = u64::from(g::AT_EMPTY_PATH);
        return files::call(&node, &[], |c| {
            c.utimens(flags, a_sec, a_nsec, m_sec, m_nsec)
        })
        .map(|((), _)| 0);
    }
    if flags & !(g::AT_SYMLINK_NOFOLLOW | g::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let (empty, follow) = (
        flags & g::AT_EMPTY_PATH != 0,
        flags & g::AT_SYMLINK_NOFOLLOW == 0,
    );
    let times = refuse(linux, Change::Attributes);
    on_path(linux, (args[0], args[1]), empty, follow, times, |c| {
        c.utimens(u64::from(flags), a_sec, a_nsec, m_sec, m_nsec)
    })
}

/// Flags `faccessat2` takes.
const ACCESS_FLAGS: u32 = g::AT_EACCESS | g::AT_SYMLINK_NOFOLLOW | g::AT_EMPTY_PATH;

/// `faccessat2(dirfd, path, mode, flags)`: `EINVAL` for a mode beyond `rwx` or flags beyond
/// [`ACCESS_FLAGS`]. `AT_EACCESS` (the effective ids rather than the real) changes nothing
/// while the two are the same.
pub fn faccessat2(linux: &Linux, args: &Args) -> SysResult {
    let flags = args[3] as u32;
    if args[2] & !0o7 != 0 || flags & !ACCESS_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    let (empty, follow) = (
        flags & g::AT_EMPTY_PATH != 0,
        flags & g::AT_SYMLINK_NOFOLLOW == 0,
    );
    let access = |node| procfs::access(linux, node, args[2], flags);
    on_path(linux, (args[0], args[1]), empty, follow, access, |c| {
        c.access(args[2], args[3])
    })
}

/// `faccessat(dirfd, path, mode)`.
pub fn faccessat(linux: &Linux, args: &Args) -> SysResult {
    faccessat2(linux, &[args[0], args[1], args[2], 0, 0, 0])
}

/// `access(path, mode)`.
pub fn access(linux: &Linux, args: &Args) -> SysResult {
    faccessat2(linux, &[AT_FDCWD as u64, args[0], args[1], 0, 0, 0])
}

/// `ftruncate(fd, length)`: as Linux's `do_sys_ftruncate`, a negative length is `EINVAL`
/// before the fd is looked at; an `O_PATH` fd is `EBADF`; anything but a regular file open
/// for writing is `EINVAL`.
pub fn ftruncate(linux: &Linux, args: &Args) -> SysResult {
    if (args[1] as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    let file = linux.fds.lock().get(args[0])?;
    if file.flags() & g::O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    if !matches!(file.kind, Kind::File) || file.fifo.is_some() || !file.writable() {
        return Err(Errno::EINVAL);
    }
    let node = file.node.as_ref().ok_or(Errno::EINVAL)?;
    files::call(node, &[], |c| c.truncate(args[1])).map(|((), _)| 0)
}

/// `truncate(path, length)`: open for writing, truncate, close.
pub fn truncate(linux: &Linux, args: &Args) -> SysResult {
    if (args[1] as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    let path = path_arg(linux, args[0], false)?;
    let path = match procfs::lookup(linux, AT_FDCWD as u64, &path, true)? {
        Found::Node(node) => return procfs::refuse_change(linux, node, Change::Truncate),
        Found::Elsewhere(other) => other.into_bytes(),
        Found::Outside => path,
    };
    let (dir, path) = start_at(linux, AT_FDCWD as u64, &path, SENT_PATH_MAX)?;
    let umask = linux.umask();
    let ((handle, ..), _) = files::call(&dir, &path, |c| c.open(u64::from(g::O_WRONLY), 0, umask))?;
    let node = Node {
        comm: dir.comm,
        handle: XHandle::from_word(handle),
    };
    files::call(&node, &[], |c| c.truncate(args[1])).map(|((), _)| 0)
}

/// `fsync(fd)`, `fdatasync(fd)`: the ramfs holds everything already; pipes, the console and
/// the memory devices cannot sync (`EINVAL`, as Linux's files without an `fsync` operation);
/// an `O_PATH` fd is `EBADF`.
pub fn fsync(linux: &Linux, args: &Args) -> SysResult {
    let file = linux.fds.lock().get(args[0])?;
    if file.flags() & g::O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    match file.kind {
        Kind::File | Kind::Dir if file.fifo.is_none() => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

/// `sync()`: nothing to write back, the file server holds every file in memory.
pub fn sync(_: &Linux, _: &Args) -> SysResult {
    Ok(0)
}

/// `syncfs(fd)`: as `sync`, for an open descriptor (`EBADF` otherwise, `O_PATH` included, as
/// Linux's `fdget` refuses it) of any kind.
pub fn syncfs(linux: &Linux, args: &Args) -> SysResult {
    // A descriptor is a C int.
    let file = linux.fds.lock().get(u64::from(args[0] as u32))?;
    if file.flags() & g::O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    Ok(0)
}

/// `getcwd(buf, size)`: the length with the NUL.
pub fn getcwd(linux: &Linux, args: &Args) -> SysResult {
    let cwd = linux.files()?.cwd.lock().1.clone();
    let mut bytes = cwd.into_bytes();
    bytes.push(0);
    if (args[1] as usize) < bytes.len() {
        return Err(Errno::ERANGE);
    }
    uaccess::write(linux, args[0], &bytes)?;
    Ok(bytes.len() as u64)
}

/// Makes `node` (a directory just opened as `path`) the working directory.
fn set_cwd(linux: &Linux, node: Arc<Node>, shown: &str) -> Result<(), Errno> {
    let files = linux.files()?;
    let mut cwd = files.cwd.lock();
    let path = path::resolve(&cwd.1, shown)?;
    let old = core::mem::replace(&mut *cwd, (node, path));
    drop(cwd);
    drop(old);
    Ok(())
}

/// `chdir(path)`: the directory must be searchable (the server's open with `O_DIRECTORY|O_PATH`
/// checks it).
pub fn chdir(linux: &Linux, args: &Args) -> SysResult {
    let path = path_arg(linux, args[0], false)?;
    let path = match procfs::lookup(linux, AT_FDCWD as u64, &path, true)? {
        Found::Node(node) => return chdir_proc(linux, node),
        Found::Elsewhere(other) => other.into_bytes(),
        Found::Outside => path,
    };
    let (dir, sent) = start_at(linux, AT_FDCWD as u64, &path, SENT_PATH_MAX)?;
    let flags = u64::from(g::O_DIRECTORY | g::O_PATH);
    let ((handle, ..), _) = files::call(&dir, &sent, |c| c.open(flags, 0, 0))?;
    let node = Arc::new(Node {
        comm: dir.comm,
        handle: XHandle::from_word(handle),
    });
    set_cwd(linux, node, &String::from_utf8_lossy(&path)).map(|()| 0)
}

/// The working directory becomes `/proc`'s directory `node`: its node at the file server is
/// the initramfs's `/proc` (where every walk from a directory of `/proc` that leaves it comes
/// out), its path the node's, from which `procfs::lookup` walks.
fn chdir_proc(linux: &Linux, node: k42_ptree::procpath::Node) -> SysResult {
    let st = procfs::stat(linux, node)?;
    if st.mode & g::S_IFMT != g::S_IFDIR {
        return Err(Errno::ENOTDIR);
    }
    let root = linux.files()?.root.clone();
    let flags = u64::from(g::O_DIRECTORY | g::O_PATH);
    let ((handle, ..), _) = files::call(&root, PROC_MOUNT.as_bytes(), |c| c.open(flags, 0, 0))?;
    let dir = Arc::new(Node {
        comm: root.comm,
        handle: XHandle::from_word(handle),
    });
    set_cwd(linux, dir, &node.path()).map(|()| 0)
}

/// Where the initramfs has `/proc` (the mount point Linux's procfs covers).
const PROC_MOUNT: &str = "/proc";

/// `fchdir(fd)`.
pub fn fchdir(linux: &Linux, args: &Args) -> SysResult {
    let file = linux.fds.lock().get(args[0])?;
    if let Some(open) = &file.proc {
        return chdir_proc(linux, open.node);
    }
    if !matches!(file.kind, Kind::Dir) {
        return Err(Errno::ENOTDIR);
    }
    let node = file.node.clone().ok_or(Errno::EBADF)?;
    set_cwd(linux, node, &file.path).map(|()| 0)
}
