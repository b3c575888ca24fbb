//! `open`: creation, `O_EXCL`, `O_TRUNC`, `O_DIRECTORY`, `O_NOFOLLOW`, `O_PATH`, access modes
//! and the errno of every refusal.

mod common;

use common::*;
use k42_ramfs::{Dev, Errno, FileType, Opened};

#[test]
fn create_sets_mode_owner_times_and_parent() {
    let mut fs = new_fs();
    let d = mkdir_as(&mut fs, "/d", 0o777, 0, 0);
    let u = user(1000);
    let o = fs
        .open(
            &u,
            fs.root(),
            b"/d/new",
            O_CREAT | O_WRONLY,
            0o4777,
            0o022,
            T1,
        )
        .unwrap();
    assert!(o.created);
    let st = fs.stat(o.ino).unwrap();
    assert_eq!(st.mode, S_IFREG | 0o4755);
    assert_eq!((st.uid, st.gid, st.nlink, st.size), (1000, 1000, 1, 0));
    assert_eq!((st.atime, st.mtime, st.ctime), (T1, T1, T1));
    let dst = fs.stat(d).unwrap();
    assert_eq!((dst.mtime, dst.ctime), (T1, T1));
    assert_eq!(fs.handles(o.ino), Ok(1));
    // Opening it again finds it.
    let again = fs
        .open(&u, fs.root(), b"/d/new", O_CREAT | O_RDWR, 0o600, 0, T2)
        .unwrap();
    assert_eq!(
        again,
        Opened {
            ino: o.ino,
            created: false
        }
    );
    assert_eq!(fs.handles(o.ino), Ok(2));
}

#[test]
fn created_file_opens_whatever_its_mode() {
    // open(O_CREAT | O_RDWR, 0) gives a descriptor on a file nobody may open again.
    let mut fs = new_fs();
    mkdir(&mut fs, "/tmp", 0o777);
    let u = user(1000);
    let root_ino = fs.root();
    let ino = fs
        .open(&u, root_ino, b"/tmp/g", O_CREAT | O_RDWR, 0, 0, T1)
        .unwrap();
    assert!(ino.created);
    assert_eq!(
        fs.stat(ino.ino).unwrap().mode & 0o7777,
        0,
        "mode 0 file created"
    );
    assert_eq!(
        try_open(&mut fs, &u, "/tmp/g", O_RDONLY),
        Err(Errno::EACCES)
    );
    assert_eq!(try_open(&mut fs, &root(), "/tmp/g", O_RDWR), Ok(()));
}

#[test]
fn create_needs_write_and_search_on_the_directory() {
    let mut fs = new_fs();
    mkdir(&mut fs, "/ro", 0o555);
    file(&mut fs, "/ro/existing", 0o666, b"");
    let u = user(1000);
    assert_eq!(
        try_open(&mut fs, &u, "/ro/new", O_CREAT | O_WRONLY),
        Err(Errno::EACCES)
    );
    // O_CREAT on an existing file needs no write permission on the directory.
    assert_eq!(
        try_open(&mut fs, &u, "/ro/existing", O_CREAT | O_WRONLY),
        Ok(())
    );
    // Root may create anywhere.
    assert_eq!(
        try_open(&mut fs, &root(), "/ro/new", O_CREAT | O_WRONLY),
        Ok(())
    );
    // Missing parent.
    assert_eq!(
        try_open(&mut fs, &root(), "/nope/new", O_CREAT | O_WRONLY),
        Err(Errno::ENOENT)
    );
    // Without O_CREAT, a missing file.
    assert_eq!(
        try_open(&mut fs, &root(), "/ro/zzz", O_RDONLY),
        Err(Errno::ENOENT)
    );
}

#[test]
fn o_excl() {
    let mut fs = new_fs();
    file(&mut fs, "/f", 0o644, b"");
    mkdir(&mut fs, "/d", 0o755);
    let r = root();
    assert_eq!(
        try_open(&mut fs, &r, "/f", O_CREAT | O_EXCL | O_WRONLY),
        Err(Errno::EEXIST)
    );
    assert_eq!(
        try_open(&mut fs, &r, "/d", O_CREAT | O_EXCL | O_RDONLY),
        Err(Errno::EEXIST)
    );
    assert_eq!(
        try_open(&mut fs, &r, "/d/.", O_CREAT | O_EXCL | O_RDONLY),
        Err(Errno::EEXIST)
    );
    assert_eq!(
        try_open(&mut fs, &r, "/g", O_CREAT | O_EXCL | O_WRONLY),
        Ok(())
    );
    // O_EXCL without O_CREAT means nothing here.
    assert_eq!(try_open(&mut fs, &r, "/f", O_EXCL | O_RDONLY), Ok(()));
}

#[test]
fn o_excl_on_a_dangling_symlink_is_eexist_and_creates_nothing() {
    let mut fs = new_fs();
    symlink(&mut fs, "/target", "/dangling");
    let r = root();
    assert_eq!(
        try_open(&mut fs, &r, "/dangling", O_CREAT | O_EXCL | O_WRONLY),
        Err(Errno::EEXIST)
    );
    assert_eq!(lookup(&fs, &r, "/target"), Err(Errno::ENOENT));
    // Without O_EXCL the link is followed and its target created.
    let o = fs
        .open(
            &r,
            fs.root(),
            b"/dangling",
            O_CREAT | O_WRONLY,
            0o600,
            0,
            T1,
        )
        .unwrap();
    assert!(o.created);
    assert_eq!(lookup(&fs, &r, "/target"), Ok(o.ino));
    assert_eq!(stat(&fs, "/target").mode, S_IFREG | 0o600);
    // A dangling link into a missing directory: ENOENT.
    symlink(&mut fs, "/nodir/x", "/dangling2");
    assert_eq!(
        try_open(&mut fs, &r, "/dangling2", O_CREAT | O_WRONLY),
        Err(Errno::ENOENT)
    );
}

#[test]
fn o_creat_with_trailing_slash_or_on_a_directory_is_eisdir() {
    let mut fs = new_fs();
    mkdir(&mut fs, "/d", 0o755);
    file(&mut fs, "/f", 0o644, b"");
    let r = root();
    assert_eq!(
        try_open(&mut fs, &r, "/new/", O_CREAT | O_WRONLY),
        Err(Errno::EISDIR)
    );
    assert_eq!(
        try_open(&mut fs, &r, "/f/", O_CREAT | O_WRONLY),
        Err(Errno::EISDIR)
    );
    assert_eq!(
        try_open(&mut fs, &r, "/d/", O_CREAT | O_RDONLY),
        Err(Errno::EISDIR)
    );
    assert_eq!(
        try_open(&mut fs, &r, "/d", O_CREAT | O_RDONLY),
        Err(Errno::EISDIR)
    );
    assert_eq!(
        try_open(&mut fs, &r, "/", O_CREAT | O_RDONLY),
        Err(Errno::EISDIR)
    );
    assert_eq!(
        try_open(&mut fs, &r, "/d/..", O_CREAT | O_RDONLY),
        Err(Errno::EISDIR)
    );
    assert_eq!(lookup(&fs, &r, "/new"), Err(Errno::ENOENT));
}

#[test]
fn o_directory() {
    let mut fs = new_fs();
    mkdir(&mut fs, "/d", 0o755);
    file(&mut fs, "/f", 0o644, b"");
    symlink(&mut fs, "/d", "/ld");
    symlink(&mut fs, "/f", "/lf");
    let r = root();
    assert_eq!(try_open(&mut fs, &r, "/d", O_DIRECTORY | O_RDONLY), Ok(()));
    assert_eq!(try_open(&mut fs, &r, "/ld", O_DIRECTORY | O_RDONLY), Ok(()));
    assert_eq!(
        try_open(&mut fs, &r, "/f", O_DIRECTORY | O_RDONLY),
        Err(Errno::ENOTDIR)
    );
    assert_eq!(
        try_open(&mut fs, &r, "/lf", O_DIRECTORY | O_RDONLY),
        Err(Errno::ENOTDIR)
    );
    assert_eq!(try_open(&mut fs, &r, "/f/", O_RDONLY), Err(Errno::ENOTDIR));
    // O_NOFOLLOW | O_DIRECTORY on a symlink: ENOTDIR comes before ELOOP.
    assert_eq!(
        try_open(&mut fs, &r, "/ld", O_DIRECTORY | O_NOFOLLOW | O_RDONLY),
        Err(Errno::ENOTDIR)
    );
    assert_eq!(
        try_open(&mut fs, &r, "/x", O_DIRECTORY | O_CREAT | O_RDONLY),
        Err(Errno::EINVAL)
    );
}

#[test]
fn o_nofollow() {
    let mut fs = new_fs();
    let f = file(&mut fs, "/f", 0o644, b"");
    mkdir(&mut fs, "/d", 0o755);
    symlink(&mut fs, "/f", "/lf");
    symlink(&mut fs, "/d", "/ld");
    let r = root();
    assert_eq!(
        try_open(&mut fs, &r, "/lf", O_NOFOLLOW | O_RDONLY),
        Err(Errno::ELOOP)
    );
    assert_eq!(
        try_open(&mut fs, &r, "/lf", O_NOFOLLOW | O_CREAT | O_WRONLY),
        Err(Errno::ELOOP)
    );
    // Only the last component is affected.
    file(&mut fs, "/d/g", 0o644, b"");
    assert_eq!(
        try_open(&mut fs, &r, "/ld/g", O_NOFOLLOW | O_RDONLY),
        Ok(())
    );
    // A trailing slash follows anyway.
    assert_eq!(try_open(&mut fs, &r, "/ld/", O_NOFOLLOW | O_RDONLY), Ok(()));
    assert_eq!(open(&mut fs, &r, "/f", O_NOFOLLOW | O_RDONLY), Ok(f));
}

#[test]
fn o_path_opens_without_permission_and_can_hold_a_symlink() {
    let mut fs = new_fs();
    let f = file(&mut fs, "/secret", 0o000, b"");
    let l = symlink(&mut fs, "/secret", "/link");
    let u = user(1000);
    assert_eq!(
        try_open(&mut fs, &u, "/secret", O_RDONLY),
        Err(Errno::EACCES)
    );
    // O_PATH drops O_CREAT, O_TRUNC and the access mode.
    assert_eq!(
        open(&mut fs, &u, "/secret", O_PATH | O_RDWR | O_TRUNC | O_CREAT),
        Ok(f)
    );
    assert_eq!(open(&mut fs, &u, "/link", O_PATH), Ok(f));
    assert_eq!(open(&mut fs, &u, "/link", O_PATH | O_NOFOLLOW), Ok(l));
    assert_eq!(
        open(&mut fs, &u, "/link", O_PATH | O_DIRECTORY),
        Err(Errno::ENOTDIR)
    );
    assert_eq!(open(&mut fs, &u, "/nope", O_PATH), Err(Errno::ENOENT));
}

#[test]
fn o_trunc() {
    let mut fs = new_fs();
    let f = file_as(&mut fs, "/f", 0o664, 1000, 1000, b"contents");
    let u = user(1000);
    let other = user(2000);
    // Needs write permission, even with O_RDONLY.
    assert_eq!(
        try_open(&mut fs, &other, "/f", O_RDONLY | O_TRUNC),
        Err(Errno::EACCES)
    );
    assert_eq!(read(&mut fs, "/f"), b"contents");
    let ino = fs
        .open(&u, fs.root(), b"/f", O_RDONLY | O_TRUNC, 0, 0, T2)
        .unwrap()
        .ino;
    assert_eq!(ino, f);
    let st = fs.stat(f).unwrap();
    assert_eq!((st.size, st.blocks, st.mtime, st.ctime), (0, 0, T2, T2));
    // Even an already empty file gets new times.
    let t3 = k42_ramfs::Timespec::new(4_000, 0);
    fs.open(&u, fs.root(), b"/f", O_WRONLY | O_TRUNC, 0, 0, t3)
        .unwrap();
    assert_eq!(fs.stat(f).unwrap().mtime, t3);
    // A new file created with O_TRUNC is simply created (where the caller may create).
    assert_eq!(
        try_open(&mut fs, &u, "/g", O_CREAT | O_TRUNC | O_WRONLY),
        Err(Errno::EACCES)
    );
    mkdir(&mut fs, "/tmp", 0o777);
    assert_eq!(
        try_open(&mut fs, &u, "/tmp/g", O_CREAT | O_TRUNC | O_WRONLY),
        Ok(())
    );
}

#[test]
fn o_trunc_by_non_root_clears_setuid() {
    let mut fs = new_fs();
    let f = file_as(&mut fs, "/f", 0o6777, 1000, 1000, b"x");
    try_open(&mut fs, &user(1000), "/f", O_WRONLY | O_TRUNC).unwrap();
    assert_eq!(fs.stat(f).unwrap().mode, S_IFREG | 0o0777);
    let g = file_as(&mut fs, "/g", 0o6777, 1000, 1000, b"x");
    try_open(&mut fs, &root(), "/g", O_WRONLY | O_TRUNC).unwrap();
    assert_eq!(fs.stat(g).unwrap().mode, S_IFREG | 0o6777);
}

#[test]
fn directories_cannot_be_opened_for_writing() {
    let mut fs = new_fs();
    mkdir(&mut fs, "/d", 0o777);
    let r = root();
    assert_eq!(try_open(&mut fs, &r, "/d", O_WRONLY), Err(Errno::EISDIR));
    assert_eq!(try_open(&mut fs, &r, "/d", O_RDWR), Err(Errno::EISDIR));
    assert_eq!(
        try_open(&mut fs, &r, "/d", O_RDONLY | O_TRUNC),
        Err(Errno::EISDIR)
    );
    assert_eq!(try_open(&mut fs, &r, "/d", O_RDONLY), Ok(()));
    assert_eq!(try_open(&mut fs, &r, "/", O_RDONLY), Ok(()));
}

#[test]
fn access_modes_check_permissions() {
    let mut fs = new_fs();
    file_as(&mut fs, "/r", 0o444, 1000, 1000, b"");
    file_as(&mut fs, "/w", 0o222, 1000, 1000, b"");
    let u = user(1000);
    assert_eq!(try_open(&mut fs, &u, "/r", O_RDONLY), Ok(()));
    assert_eq!(try_open(&mut fs, &u, "/r", O_WRONLY), Err(Errno::EACCES));
    assert_eq!(try_open(&mut fs, &u, "/r", O_RDWR), Err(Errno::EACCES));
    assert_eq!(try_open(&mut fs, &u, "/w", O_WRONLY), Ok(()));
    assert_eq!(try_open(&mut fs, &u, "/w", O_RDONLY), Err(Errno::EACCES));
    // O_ACCMODE 3 needs both.
    assert_eq!(try_open(&mut fs, &u, "/w", 3), Err(Errno::EACCES));
    assert_eq!(try_open(&mut fs, &root(), "/w", O_RDWR | O_APPEND), Ok(()));
}

#[test]
fn o_noatime_only_for_owner_or_root() {
    let mut fs = new_fs();
    file_as(&mut fs, "/f", 0o644, 1000, 1000, b"");
    assert_eq!(
        try_open(&mut fs, &user(2000), "/f", O_RDONLY | O_NOATIME),
        Err(Errno::EPERM)
    );
    assert_eq!(
        try_open(&mut fs, &user(1000), "/f", O_RDONLY | O_NOATIME),
        Ok(())
    );
    assert_eq!(
        try_open(&mut fs, &root(), "/f", O_RDONLY | O_NOATIME),
        Ok(())
    );
}

#[test]
fn special_nodes() {
    let mut fs = new_fs();
    let r = root();
    let root_ino = fs.root();
    let null = fs
        .mknod(
            &r,
            root_ino,
            b"/null",
            S_IFCHR | 0o666,
            Dev::new(1, 3),
            0,
            T0,
        )
        .unwrap();
    let fifo = fs
        .mknod(
            &r,
            root_ino,
            b"/fifo",
            S_IFIFO | 0o666,
            Dev::default(),
            0,
            T0,
        )
        .unwrap();
    fs.mknod(
        &r,
        root_ino,
        b"/sock",
        S_IFSOCK | 0o666,
        Dev::default(),
        0,
        T0,
    )
    .unwrap();
    // O_TRUNC is ignored on devices and FIFOs.
    assert_eq!(
        open(&mut fs, &user(5), "/null", O_WRONLY | O_TRUNC),
        Ok(null)
    );
    assert_eq!(
        open(&mut fs, &user(5), "/fifo", O_RDONLY | O_TRUNC),
        Ok(fifo)
    );
    assert_eq!(fs.file_type(null), Ok(FileType::CharDevice));
    // A socket node cannot be opened.
    assert_eq!(try_open(&mut fs, &r, "/sock", O_RDWR), Err(Errno::ENXIO));
    // Device data is not ours to read.
    let mut buf = [0u8; 4];
    assert_eq!(fs.read_at(null, 0, &mut buf, T1), Err(Errno::EINVAL));
}

#[test]
fn o_tmpfile_is_not_supported() {
    let mut fs = new_fs();
    let r = root();
    assert_eq!(
        try_open(&mut fs, &r, "/", O_TMPFILE | O_RDWR),
        Err(Errno::EOPNOTSUPP)
    );
    assert_eq!(
        try_open(&mut fs, &r, "/", O_TMPFILE | O_RDONLY),
        Err(Errno::EINVAL)
    );
}

#[test]
fn open_with_bad_start_directory() {
    let mut fs = new_fs();
    let f = file(&mut fs, "/f", 0o644, b"");
    let r = root();
    assert_eq!(
        fs.open(&r, f, b"x", O_RDONLY, 0, 0, T0).map(|o| o.ino),
        Err(Errno::ENOTDIR)
    );
    assert_eq!(
        fs.open(&r, f, b"/f", O_RDONLY, 0, 0, T0).map(|o| o.ino),
        Ok(f)
    );
    assert_eq!(
        fs.open(&r, f, b"", O_RDONLY, 0, 0, T0).map(|o| o.ino),
        Err(Errno::ENOENT)
    );
}
