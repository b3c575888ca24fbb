//! The namespace calls other than open and rename: mkdir, mknod, symlink, readlink, link, unlink,
//! rmdir; link counts; the sticky /tmp rule; set-group-ID directories; removed directories.

mod common;

use common::*;
use k42_ramfs::{Dev, Errno, FileType};

#[test]
fn mkdir_basics_and_nlink() {
    let mut fs = new_fs();
    let r = root();
    let root_ino = fs.root();
    assert_eq!(fs.stat(root_ino).unwrap().nlink, 2);
    let a = fs.mkdir(&r, root_ino, b"/a", 0o1777, 0o022, T1).unwrap();
    let st = fs.stat(a).unwrap();
    assert_eq!(st.mode, S_IFDIR | 0o1755);
    assert_eq!((st.nlink, st.size, st.atime), (2, 40, T1));
    assert_eq!(fs.stat(root_ino).unwrap().nlink, 3);
    assert_eq!(fs.stat(root_ino).unwrap().mtime, T1);
    // Set-id bits are not taken from the argument.
    let b = fs.mkdir(&r, root_ino, b"/a/b/", 0o6777, 0, T1).unwrap();
    assert_eq!(fs.stat(b).unwrap().mode, S_IFDIR | 0o777);
    assert_eq!(fs.stat(a).unwrap().nlink, 3);
    file(&mut fs, "/a/f", 0o644, b"");
    assert_eq!(fs.stat(a).unwrap().nlink, 3, "files do not count");
    assert_eq!(fs.stat(a).unwrap().size, 80);
}

#[test]
fn mkdir_errors() {
    let mut fs = new_fs();
    mkdir(&mut fs, "/ro", 0o555);
    file(&mut fs, "/f", 0o644, b"");
    symlink(&mut fs, "/nowhere", "/dangling");
    let r = root();
    let u = user(1000);
    let ri = fs.root();
    for (path, e) in [
        ("/f", Errno::EEXIST),
        ("/dangling", Errno::EEXIST),
        ("/ro", Errno::EEXIST),
        ("/", Errno::EEXIST),
        ("/ro/.", Errno::EEXIST),
        ("/ro/..", Errno::EEXIST),
        ("/nope/x", Errno::ENOENT),
        ("/f/x", Errno::ENOTDIR),
        ("", Errno::ENOENT),
    ] {
        assert_eq!(
            fs.mkdir(&r, ri, path.as_bytes(), 0o755, 0, T1),
            Err(e),
            "{path}"
        );
    }
    assert_eq!(fs.mkdir(&u, ri, b"/ro/x", 0o755, 0, T1), Err(Errno::EACCES));
    // EEXIST is found before the missing write permission.
    mkdir(&mut fs, "/ro/sub", 0o755);
    assert_eq!(
        fs.mkdir(&u, ri, b"/ro/sub", 0o755, 0, T1),
        Err(Errno::EEXIST)
    );
    let long = format!("/{}", "x".repeat(256));
    assert_eq!(
        fs.mkdir(&r, ri, long.as_bytes(), 0o755, 0, T1),
        Err(Errno::ENAMETOOLONG)
    );
}

#[test]
fn mknod_types_and_errors() {
    let mut fs = new_fs();
    let r = root();
    let ri = fs.root();
    let c = fs
        .mknod(&r, ri, b"/tty", S_IFCHR | 0o620, Dev::new(5, 0), 0, T1)
        .unwrap();
    let b = fs
        .mknod(&r, ri, b"/sda", S_IFBLK | 0o660, Dev::new(8, 0), 0, T1)
        .unwrap();
    let p = fs
        .mknod(&r, ri, b"/fifo", S_IFIFO | 0o666, Dev::new(9, 9), 0o022, T1)
        .unwrap();
    let s = fs
        .mknod(&r, ri, b"/sock", S_IFSOCK | 0o777, Dev::default(), 0, T1)
        .unwrap();
    let f = fs
        .mknod(&r, ri, b"/plain", 0o644, Dev::default(), 0, T1)
        .unwrap();
    assert_eq!(fs.stat(c).unwrap().rdev, 0x500);
    assert_eq!(fs.stat(c).unwrap().mode, S_IFCHR | 0o620);
    assert_eq!(fs.stat(b).unwrap().rdev, 0x800);
    let pst = fs.stat(p).unwrap();
    assert_eq!((pst.mode, pst.rdev, pst.size), (S_IFIFO | 0o644, 0, 0));
    assert_eq!(fs.file_type(s), Ok(FileType::Socket));
    assert_eq!(fs.file_type(f), Ok(FileType::Regular));
    assert_eq!(
        fs.mknod(&r, ri, b"/d", S_IFDIR | 0o755, Dev::default(), 0, T1),
        Err(Errno::EPERM)
    );
    assert_eq!(
        fs.mknod(&r, ri, b"/bad", 0o030000 | 0o755, Dev::default(), 0, T1),
        Err(Errno::EINVAL)
    );
    // Device nodes need root; FIFOs do not.
    mkdir(&mut fs, "/tmp", 0o777);
    let u = user(1000);
    assert_eq!(
        fs.mknod(&u, ri, b"/tmp/null", S_IFCHR | 0o666, Dev::new(1, 3), 0, T1),
        Err(Errno::EPERM)
    );
    assert!(
        fs.mknod(&u, ri, b"/tmp/fifo", S_IFIFO | 0o600, Dev::default(), 0, T1)
            .is_ok()
    );
    // A trailing slash: ENOENT for a new name, EEXIST for an existing one.
    assert_eq!(
        fs.mknod(&r, ri, b"/new/", S_IFIFO | 0o600, Dev::default(), 0, T1),
        Err(Errno::ENOENT)
    );
    assert_eq!(
        fs.mknod(&r, ri, b"/fifo/", S_IFIFO | 0o600, Dev::default(), 0, T1),
        Err(Errno::EEXIST)
    );
}

#[test]
fn symlink_and_readlink() {
    let mut fs = new_fs();
    let r = root();
    let ri = fs.root();
    mkdir(&mut fs, "/d", 0o755);
    let l = fs.symlink(&r, b"../some/where", ri, b"/d/l", T1).unwrap();
    let st = fs.stat(l).unwrap();
    assert_eq!((st.mode, st.size, st.nlink), (S_IFLNK | 0o777, 13, 1));
    assert_eq!(
        fs.readlink(&r, ri, b"/d/l", T2),
        Ok(b"../some/where".to_vec())
    );
    // An empty path reads the link the start inode is (readlinkat on an O_PATH descriptor).
    assert_eq!(fs.readlink(&r, l, b"", T2), Ok(b"../some/where".to_vec()));
    let d = lookup(&fs, &r, "/d").unwrap();
    assert_eq!(fs.readlink(&r, d, b"", T2), Err(Errno::ENOENT));
    assert_eq!(fs.readlink(&r, ri, b"/d", T2), Err(Errno::EINVAL));
    assert_eq!(fs.readlink(&r, ri, b"/nope", T2), Err(Errno::ENOENT));
    // The path's own symlinks are followed up to the last component.
    symlink(&mut fs, "/d", "/dl");
    assert_eq!(
        fs.readlink(&r, ri, b"/dl/l", T2),
        Ok(b"../some/where".to_vec())
    );
    assert_eq!(fs.readlink(&r, ri, b"/dl", T2), Ok(b"/d".to_vec()));
    // ...a trailing slash follows the last one too.
    assert_eq!(fs.readlink(&r, ri, b"/dl/", T2), Err(Errno::EINVAL));
    // Errors of creation.
    assert_eq!(fs.symlink(&r, b"x", ri, b"/d/l", T1), Err(Errno::EEXIST));
    assert_eq!(fs.symlink(&r, b"x", ri, b"/d/new/", T1), Err(Errno::ENOENT));
    let long = vec![b'a'; 4096];
    assert_eq!(
        fs.symlink(&r, &long, ri, b"/d/long", T1),
        Err(Errno::ENAMETOOLONG)
    );
    assert_eq!(
        fs.symlink(&user(1000), b"x", ri, b"/d/u", T1),
        Err(Errno::EACCES)
    );
}

#[test]
fn link_counts_and_errors() {
    let mut fs = new_fs();
    let r = root();
    let ri = fs.root();
    let f = file(&mut fs, "/f", 0o644, b"shared");
    mkdir(&mut fs, "/d", 0o755);
    assert_eq!(fs.link(&r, ri, b"/f", ri, b"/d/g", 0, T1), Ok(()));
    assert_eq!(lookup(&fs, &r, "/d/g"), Ok(f));
    let st = fs.stat(f).unwrap();
    assert_eq!((st.nlink, st.ctime), (2, T1));
    assert_eq!(read(&mut fs, "/d/g"), b"shared");
    // Errors.
    assert_eq!(fs.link(&r, ri, b"/d", ri, b"/d2", 0, T1), Err(Errno::EPERM));
    assert_eq!(
        fs.link(&r, ri, b"/f", ri, b"/d/g", 0, T1),
        Err(Errno::EEXIST)
    );
    assert_eq!(
        fs.link(&r, ri, b"/nope", ri, b"/x", 0, T1),
        Err(Errno::ENOENT)
    );
    assert_eq!(
        fs.link(&r, ri, b"/f", ri, b"/nope/x", 0, T1),
        Err(Errno::ENOENT)
    );
    assert_eq!(
        fs.link(&r, ri, b"/f", ri, b"/x/", 0, T1),
        Err(Errno::ENOENT)
    );
    assert_eq!(
        fs.link(&r, ri, b"/f", ri, b"/d/.", 0, T1),
        Err(Errno::EEXIST)
    );
    assert_eq!(
        fs.link(&r, ri, b"/f", ri, b"/y", 0x1, T1),
        Err(Errno::EINVAL)
    );
    mkdir(&mut fs, "/ro", 0o555);
    assert_eq!(
        fs.link(&user(5), ri, b"/f", ri, b"/ro/x", 0, T1),
        Err(Errno::EACCES)
    );
    // The link itself, or with AT_SYMLINK_FOLLOW its target.
    let l = symlink(&mut fs, "/f", "/l");
    fs.link(&r, ri, b"/l", ri, b"/l2", 0, T1).unwrap();
    assert_eq!(lookup_nofollow(&fs, &r, "/l2"), Ok(l));
    assert_eq!(fs.stat(l).unwrap().nlink, 2);
    fs.link(&r, ri, b"/l", ri, b"/f3", AT_SYMLINK_FOLLOW, T1)
        .unwrap();
    assert_eq!(lookup_nofollow(&fs, &r, "/f3"), Ok(f));
    assert_eq!(fs.stat(f).unwrap().nlink, 3);
}

#[test]
fn link_with_empty_path_and_unlinked_files() {
    let mut fs = new_fs();
    let r = root();
    let ri = fs.root();
    let f = open(&mut fs, &r, "/f", O_CREAT | O_RDWR).unwrap();
    assert_eq!(fs.link(&r, f, b"", ri, b"/g", AT_EMPTY_PATH, T1), Ok(()));
    assert_eq!(
        fs.link(&user(1), f, b"", ri, b"/h", AT_EMPTY_PATH, T1),
        Err(Errno::ENOENT)
    );
    fs.unlink(&r, ri, b"/f", T1).unwrap();
    fs.unlink(&r, ri, b"/g", T1).unwrap();
    assert_eq!(fs.stat(f).unwrap().nlink, 0);
    // An open file with no name left cannot get one back.
    assert_eq!(
        fs.link(&r, f, b"", ri, b"/back", AT_EMPTY_PATH, T1),
        Err(Errno::ENOENT)
    );
}

#[test]
fn unlink_basics_and_errors() {
    let mut fs = new_fs();
    let r = root();
    let ri = fs.root();
    let d = mkdir(&mut fs, "/d", 0o755);
    let f = file(&mut fs, "/d/f", 0o644, b"x");
    fs.link(&r, ri, b"/d/f", ri, b"/d/g", 0, T0).unwrap();
    assert_eq!(fs.unlink(&r, ri, b"/d/f", T1), Ok(()));
    assert_eq!(lookup(&fs, &r, "/d/f"), Err(Errno::ENOENT));
    let st = fs.stat(f).unwrap();
    assert_eq!((st.nlink, st.ctime), (1, T1));
    assert_eq!(fs.stat(d).unwrap().mtime, T1);
    assert_eq!(fs.unlink(&r, ri, b"/d/g", T1), Ok(()));
    assert!(!fs.exists(f), "no name, no handle: freed");
    // Errors.
    file(&mut fs, "/d/h", 0o644, b"");
    for (path, e) in [
        ("/d", Errno::EISDIR),
        ("/d/", Errno::EISDIR),
        ("/d/h/", Errno::ENOTDIR),
        ("/d/none/", Errno::ENOENT),
        ("/d/none", Errno::ENOENT),
        ("/d/.", Errno::EISDIR),
        ("/d/..", Errno::EISDIR),
        ("/", Errno::EISDIR),
        ("/d/h/x", Errno::ENOTDIR),
    ] {
        assert_eq!(fs.unlink(&r, ri, path.as_bytes(), T1), Err(e), "{path}");
    }
    // A symlink is removed, not its target.
    symlink(&mut fs, "/d/h", "/l");
    fs.unlink(&r, ri, b"/l", T1).unwrap();
    assert!(lookup(&fs, &r, "/d/h").is_ok());
    // Permission on the directory, not the file.
    mkdir(&mut fs, "/ro", 0o555);
    file(&mut fs, "/ro/f", 0o666, b"");
    assert_eq!(fs.unlink(&user(5), ri, b"/ro/f", T1), Err(Errno::EACCES));
    mkdir(&mut fs, "/rw", 0o777);
    file(&mut fs, "/rw/f", 0o000, b"");
    assert_eq!(fs.unlink(&user(5), ri, b"/rw/f", T1), Ok(()));
}

#[test]
fn rmdir_basics_and_errors() {
    let mut fs = new_fs();
    let r = root();
    let ri = fs.root();
    let a = mkdir(&mut fs, "/a", 0o755);
    mkdir(&mut fs, "/a/b", 0o755);
    file(&mut fs, "/a/f", 0o644, b"");
    symlink(&mut fs, "/a", "/la");
    assert_eq!(fs.stat(a).unwrap().nlink, 3);
    for (path, e) in [
        ("/a", Errno::ENOTEMPTY),
        ("/a/f", Errno::ENOTDIR),
        ("/a/f/", Errno::ENOTDIR),
        ("/la", Errno::ENOTDIR),
        ("/la/", Errno::ENOTDIR),
        ("/a/.", Errno::EINVAL),
        ("/a/b/..", Errno::ENOTEMPTY),
        ("/", Errno::EBUSY),
        ("/a/none", Errno::ENOENT),
        (".", Errno::EINVAL),
    ] {
        assert_eq!(fs.rmdir(&r, ri, path.as_bytes(), T1), Err(e), "{path}");
    }
    assert_eq!(fs.rmdir(&user(5), ri, b"/a/b", T1), Err(Errno::EACCES));
    assert_eq!(fs.rmdir(&r, ri, b"/a/b/", T1), Ok(()));
    assert_eq!(fs.stat(a).unwrap().nlink, 2);
    assert_eq!(fs.stat(a).unwrap().mtime, T1);
    fs.unlink(&r, ri, b"/a/f", T1).unwrap();
    assert_eq!(fs.rmdir(&r, ri, b"/la/", T1), Err(Errno::ENOTDIR));
    assert_eq!(fs.rmdir(&r, ri, b"/a", T1), Ok(()));
    assert!(!fs.exists(a));
    assert_eq!(fs.stat(ri).unwrap().nlink, 2);
}

#[test]
fn sticky_tmp() {
    let mut fs = new_fs();
    let ri = fs.root();
    let tmp = mkdir(&mut fs, "/tmp", 0o1777);
    let alice = user(1000);
    let bob = user(2000);
    for (who, name) in [(&alice, "/tmp/alice"), (&bob, "/tmp/bob")] {
        try_open(&mut fs, who, name, O_CREAT | O_WRONLY).unwrap();
    }
    fs.mkdir(&alice, ri, b"/tmp/alicedir", 0o777, 0, T1)
        .unwrap();
    // Bob may neither remove nor rename away Alice's file, nor replace it, even though the
    // directory is world-writable; he may his own.
    assert_eq!(fs.unlink(&bob, ri, b"/tmp/alice", T1), Err(Errno::EPERM));
    assert_eq!(fs.rmdir(&bob, ri, b"/tmp/alicedir", T1), Err(Errno::EPERM));
    assert_eq!(
        fs.rename(&bob, ri, b"/tmp/alice", ri, b"/tmp/mine", 0, T1),
        Err(Errno::EPERM)
    );
    assert_eq!(
        fs.rename(&bob, ri, b"/tmp/bob", ri, b"/tmp/alice", 0, T1),
        Err(Errno::EPERM)
    );
    assert_eq!(
        fs.rename(&bob, ri, b"/tmp/bob", ri, b"/tmp/bob2", 0, T1),
        Ok(())
    );
    assert_eq!(fs.unlink(&bob, ri, b"/tmp/bob2", T1), Ok(()));
    // The owner of the file, the owner of the directory, and root may.
    let carol = user(3000);
    fs.chown(&root(), tmp, Some(3000), None, T1).unwrap();
    assert_eq!(fs.unlink(&carol, ri, b"/tmp/alice", T1), Ok(()));
    try_open(&mut fs, &alice, "/tmp/alice", O_CREAT | O_WRONLY).unwrap();
    assert_eq!(fs.unlink(&alice, ri, b"/tmp/alice", T1), Ok(()));
    assert_eq!(fs.rmdir(&root(), ri, b"/tmp/alicedir", T1), Ok(()));
    // Creating is unaffected.
    assert_eq!(
        try_open(&mut fs, &bob, "/tmp/again", O_CREAT | O_WRONLY),
        Ok(())
    );
}

#[test]
fn setgid_directories_pass_their_group_on() {
    let mut fs = new_fs();
    let ri = fs.root();
    mkdir_as(&mut fs, "/shared", 0o2777, 0, 50);
    let u = user(1000);
    let f = fs
        .open(&u, ri, b"/shared/f", O_CREAT | O_WRONLY, 0o2775, 0, T1)
        .unwrap()
        .ino;
    let st = fs.stat(f).unwrap();
    // Group 50 is the directory's; the caller is not in it, so a group-executable file
    // loses set-group-ID.
    assert_eq!((st.gid, st.mode), (50, S_IFREG | 0o0775));
    let member = k42_ramfs::Credentials::user(1000, 1000, &[50]);
    let g = fs
        .open(&member, ri, b"/shared/g", O_CREAT | O_WRONLY, 0o2775, 0, T1)
        .unwrap()
        .ino;
    assert_eq!(fs.stat(g).unwrap().mode, S_IFREG | 0o2775);
    let d = fs.mkdir(&u, ri, b"/shared/sub", 0o755, 0, T1).unwrap();
    let st = fs.stat(d).unwrap();
    assert_eq!((st.gid, st.mode), (50, S_IFDIR | 0o2755));
    // Outside, the caller's own group.
    mkdir(&mut fs, "/plain", 0o777);
    let h = fs
        .open(&u, ri, b"/plain/h", O_CREAT | O_WRONLY, 0o644, 0, T1)
        .unwrap()
        .ino;
    assert_eq!(fs.stat(h).unwrap().gid, 1000);
}

#[test]
fn removed_directory_as_cwd() {
    let mut fs = new_fs();
    let r = root();
    let ri = fs.root();
    let a = mkdir(&mut fs, "/a", 0o755);
    let b = mkdir(&mut fs, "/a/b", 0o755);
    // A process sits in /a/b.
    fs.open_handle(b).unwrap();
    fs.rmdir(&r, ri, b"/a/b", T1).unwrap();
    assert!(fs.exists(b));
    assert_eq!(fs.stat(b).unwrap().nlink, 0);
    assert_eq!(fs.lookup(&r, b, b".", 0), Ok(b));
    assert_eq!(fs.lookup(&r, b, b"..", 0), Ok(a));
    assert_eq!(fs.lookup(&r, b, b"x", 0), Err(Errno::ENOENT));
    assert_eq!(
        fs.open(&r, b, b"x", O_CREAT | O_WRONLY, 0o644, 0, T1)
            .map(|o| o.ino),
        Err(Errno::ENOENT)
    );
    assert_eq!(fs.mkdir(&r, b, b"x", 0o755, 0, T1), Err(Errno::ENOENT));
    assert_eq!(fs.getdents(b, 0, 10, T1), Err(Errno::ENOENT));
    // Its parent may go too; `..` still leads there.
    fs.rmdir(&r, ri, b"/a", T1).unwrap();
    assert!(fs.exists(a), "held by the removed child's `..`");
    assert_eq!(fs.lookup(&r, b, b"..", 0), Ok(a));
    assert_eq!(fs.close_handle(b), Ok(true));
    assert!(!fs.exists(b));
    assert!(!fs.exists(a));
    assert_eq!(fs.inode_count(), 1);
}
