//! rename and renameat2: replacing, the directory/non-directory rules, subtrees, flags,
//! permissions, link counts and `..`.

mod common;

use common::*;
use k42_ramfs::{Errno, Fs, Ino};

fn rename(fs: &mut Fs, old: &str, new: &str, flags: u32) -> Result<(), Errno> {
    let ri = fs.root();
    fs.rename(&root(), ri, old.as_bytes(), ri, new.as_bytes(), flags, T1)
}

fn nlink(fs: &Fs, ino: Ino) -> u64 {
    fs.stat(ino).unwrap().nlink
}

#[test]
fn file_moves_and_replaces() {
    let mut fs = new_fs();
    let d1 = mkdir(&mut fs, "/d1", 0o755);
    let d2 = mkdir(&mut fs, "/d2", 0o755);
    let f = file(&mut fs, "/d1/f", 0o644, b"new");
    let old = file(&mut fs, "/d2/g", 0o644, b"old");
    assert_eq!(rename(&mut fs, "/d1/f", "/d2/g", 0), Ok(()));
    assert_eq!(lookup(&fs, &root(), "/d1/f"), Err(Errno::ENOENT));
    assert_eq!(lookup(&fs, &root(), "/d2/g"), Ok(f));
    assert_eq!(read(&mut fs, "/d2/g"), b"new");
    assert!(
        !fs.exists(old),
        "the replaced file had no other name or handle"
    );
    assert_eq!(fs.stat(f).unwrap().ctime, T1);
    for d in [d1, d2] {
        let st = fs.stat(d).unwrap();
        assert_eq!((st.mtime, st.ctime, st.nlink), (T1, T1, 2));
    }
    // Within one directory.
    assert_eq!(rename(&mut fs, "/d2/g", "/d2/h", 0), Ok(()));
    assert_eq!(names(&mut fs, "/d2"), ["h"]);
}

#[test]
fn replaced_file_stays_alive_while_open() {
    let mut fs = new_fs();
    file(&mut fs, "/a", 0o644, b"a");
    let b = file(&mut fs, "/b", 0o644, b"b");
    fs.open_handle(b).unwrap();
    rename(&mut fs, "/a", "/b", 0).unwrap();
    assert_eq!(nlink(&fs, b), 0);
    assert_eq!(read_ino(&mut fs, b), b"b");
    assert_eq!(fs.close_handle(b), Ok(true));
    assert!(!fs.exists(b));
}

#[test]
fn hard_links_to_one_inode_are_a_no_op() {
    let mut fs = new_fs();
    let f = file(&mut fs, "/a", 0o644, b"");
    let ri = fs.root();
    fs.link(&root(), ri, b"/a", ri, b"/b", 0, T0).unwrap();
    assert_eq!(rename(&mut fs, "/a", "/b", 0), Ok(()));
    assert_eq!(lookup(&fs, &root(), "/a"), Ok(f));
    assert_eq!(lookup(&fs, &root(), "/b"), Ok(f));
    assert_eq!(nlink(&fs, f), 2);
    assert_eq!(rename(&mut fs, "/a", "/a", 0), Ok(()));
    // Even where the caller could not remove anything.
    mkdir(&mut fs, "/ro", 0o555);
    file(&mut fs, "/ro/x", 0o644, b"");
    fs.link(&root(), ri, b"/ro/x", ri, b"/ro/y", 0, T0).unwrap();
    assert_eq!(
        fs.rename(&user(5), ri, b"/ro/x", ri, b"/ro/y", 0, T1),
        Ok(())
    );
}

#[test]
fn directories_move_with_nlink_and_dotdot() {
    let mut fs = new_fs();
    let a = mkdir(&mut fs, "/a", 0o755);
    let b = mkdir(&mut fs, "/b", 0o755);
    let sub = mkdir(&mut fs, "/a/sub", 0o755);
    mkdir(&mut fs, "/a/sub/inner", 0o755);
    assert_eq!((nlink(&fs, a), nlink(&fs, b)), (3, 2));
    assert_eq!(rename(&mut fs, "/a/sub", "/b/moved", 0), Ok(()));
    assert_eq!((nlink(&fs, a), nlink(&fs, b), nlink(&fs, sub)), (2, 3, 3));
    assert_eq!(fs.lookup(&root(), sub, b"..", 0), Ok(b));
    assert_eq!(lookup(&fs, &root(), "/b/moved/inner/../.."), Ok(b));
    let entries = fs.getdents(sub, 0, 10, T1).unwrap();
    assert_eq!(entries[1].ino, b, "`..` lists the new parent");
}

#[test]
fn directory_over_empty_directory() {
    let mut fs = new_fs();
    let a = mkdir(&mut fs, "/a", 0o755);
    let src = mkdir(&mut fs, "/a/src", 0o755);
    file(&mut fs, "/a/src/f", 0o644, b"");
    let b = mkdir(&mut fs, "/b", 0o755);
    let dst = mkdir(&mut fs, "/b/dst", 0o755);
    assert_eq!(rename(&mut fs, "/a/src", "/b/dst", 0), Ok(()));
    assert!(!fs.exists(dst));
    assert!(lookup(&fs, &root(), "/b/dst/f").is_ok());
    assert_eq!((nlink(&fs, a), nlink(&fs, b), nlink(&fs, src)), (2, 3, 2));
    // In the same directory: the parent loses one subdirectory.
    mkdir(&mut fs, "/b/e1", 0o755);
    mkdir(&mut fs, "/b/e2", 0o755);
    assert_eq!(nlink(&fs, b), 5);
    assert_eq!(rename(&mut fs, "/b/e1", "/b/e2/", 0), Ok(()));
    assert_eq!(nlink(&fs, b), 4);
    assert_eq!(fs.stat(fs.root()).unwrap().nlink, 4);
}

#[test]
fn type_mismatches_and_non_empty_targets() {
    let mut fs = new_fs();
    mkdir(&mut fs, "/d", 0o755);
    mkdir(&mut fs, "/full", 0o755);
    file(&mut fs, "/full/x", 0o644, b"");
    file(&mut fs, "/f", 0o644, b"");
    symlink(&mut fs, "/d", "/ld");
    assert_eq!(rename(&mut fs, "/d", "/f", 0), Err(Errno::ENOTDIR));
    assert_eq!(rename(&mut fs, "/f", "/d", 0), Err(Errno::EISDIR));
    assert_eq!(rename(&mut fs, "/d", "/full", 0), Err(Errno::ENOTEMPTY));
    // A symlink to a directory is not a directory.
    assert_eq!(rename(&mut fs, "/d", "/ld", 0), Err(Errno::ENOTDIR));
    assert_eq!(rename(&mut fs, "/ld", "/d", 0), Err(Errno::EISDIR));
    assert_eq!(rename(&mut fs, "/ld", "/f", 0), Ok(()));
}

#[test]
fn trailing_slashes() {
    let mut fs = new_fs();
    mkdir(&mut fs, "/d", 0o755);
    file(&mut fs, "/f", 0o644, b"");
    assert_eq!(rename(&mut fs, "/f/", "/g", 0), Err(Errno::ENOTDIR));
    assert_eq!(rename(&mut fs, "/f", "/g/", 0), Err(Errno::ENOTDIR));
    assert_eq!(rename(&mut fs, "/d/", "/e/", 0), Ok(()));
    assert_eq!(rename(&mut fs, "/e", "/d/", 0), Ok(()));
}

#[test]
fn into_own_subtree_and_onto_an_ancestor() {
    let mut fs = new_fs();
    mkdir(&mut fs, "/a", 0o755);
    mkdir(&mut fs, "/a/b", 0o755);
    mkdir(&mut fs, "/a/b/c", 0o755);
    assert_eq!(rename(&mut fs, "/a", "/a/x", 0), Err(Errno::EINVAL));
    assert_eq!(rename(&mut fs, "/a", "/a/b/c/x", 0), Err(Errno::EINVAL));
    assert_eq!(rename(&mut fs, "/a/b", "/a/b/c", 0), Err(Errno::EINVAL));
    // The target an ancestor of the source's directory.
    assert_eq!(rename(&mut fs, "/a/b/c", "/a", 0), Err(Errno::ENOTEMPTY));
    assert_eq!(
        rename(&mut fs, "/a/b/c", "/a", RENAME_EXCHANGE),
        Err(Errno::EINVAL)
    );
    // Through a symlink, the real tree decides.
    symlink(&mut fs, "/a/b", "/lb");
    assert_eq!(rename(&mut fs, "/a", "/lb/y", 0), Err(Errno::EINVAL));
    // A sibling subtree is fine.
    mkdir(&mut fs, "/a/b2", 0o755);
    assert_eq!(rename(&mut fs, "/a/b2", "/a/b/c/b2", 0), Ok(()));
}

#[test]
fn dots_and_root() {
    let mut fs = new_fs();
    mkdir(&mut fs, "/d", 0o755);
    mkdir(&mut fs, "/d/e", 0o755);
    for old in ["/d/.", "/d/e/..", "/", "."] {
        assert_eq!(rename(&mut fs, old, "/x", 0), Err(Errno::EBUSY), "{old}");
    }
    assert_eq!(rename(&mut fs, "/d/e", "/d/.", 0), Err(Errno::EBUSY));
    assert_eq!(
        rename(&mut fs, "/d/e", "/", RENAME_NOREPLACE),
        Err(Errno::EEXIST)
    );
    assert_eq!(rename(&mut fs, "/nope", "/x", 0), Err(Errno::ENOENT));
    assert_eq!(rename(&mut fs, "/d/e", "/nope/x", 0), Err(Errno::ENOENT));
}

#[test]
fn noreplace() {
    let mut fs = new_fs();
    file(&mut fs, "/a", 0o644, b"a");
    file(&mut fs, "/b", 0o644, b"b");
    symlink(&mut fs, "/nowhere", "/dangling");
    assert_eq!(
        rename(&mut fs, "/a", "/b", RENAME_NOREPLACE),
        Err(Errno::EEXIST)
    );
    assert_eq!(
        rename(&mut fs, "/a", "/dangling", RENAME_NOREPLACE),
        Err(Errno::EEXIST)
    );
    assert_eq!(rename(&mut fs, "/a", "/c", RENAME_NOREPLACE), Ok(()));
    assert_eq!(read(&mut fs, "/c"), b"a");
    assert_eq!(read(&mut fs, "/b"), b"b");
}

#[test]
fn exchange() {
    let mut fs = new_fs();
    let d1 = mkdir(&mut fs, "/d1", 0o755);
    let d2 = mkdir(&mut fs, "/d2", 0o755);
    let f = file(&mut fs, "/d1/f", 0o644, b"file");
    let sub = mkdir(&mut fs, "/d2/sub", 0o755);
    file(&mut fs, "/d2/sub/inner", 0o644, b"");
    assert_eq!(rename(&mut fs, "/d1/f", "/d2/sub", RENAME_EXCHANGE), Ok(()));
    assert_eq!(lookup(&fs, &root(), "/d1/f"), Ok(sub));
    assert_eq!(lookup(&fs, &root(), "/d2/sub"), Ok(f));
    assert!(lookup(&fs, &root(), "/d1/f/inner").is_ok());
    assert_eq!((nlink(&fs, d1), nlink(&fs, d2)), (3, 2));
    assert_eq!(fs.lookup(&root(), sub, b"..", 0), Ok(d1));
    // A non-empty directory may be exchanged, with anything.
    assert_eq!(rename(&mut fs, "/d1/f", "/d2/sub", RENAME_EXCHANGE), Ok(()));
    assert_eq!(lookup(&fs, &root(), "/d2/sub"), Ok(sub));
    assert_eq!((nlink(&fs, d1), nlink(&fs, d2)), (2, 3));
    // Positions in the listing are kept.
    file(&mut fs, "/d2/z", 0o644, b"");
    assert_eq!(names(&mut fs, "/d2"), ["sub", "z"]);
    rename(&mut fs, "/d2/sub", "/d2/z", RENAME_EXCHANGE).unwrap();
    assert_eq!(names(&mut fs, "/d2"), ["sub", "z"]);
    assert!(lookup(&fs, &root(), "/d2/z/inner").is_ok());
    // Errors.
    assert_eq!(
        rename(&mut fs, "/d2/z", "/d2/none", RENAME_EXCHANGE),
        Err(Errno::ENOENT)
    );
    assert_eq!(
        rename(
            &mut fs,
            "/d2/z",
            "/d2/sub",
            RENAME_EXCHANGE | RENAME_NOREPLACE
        ),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        rename(&mut fs, "/d2/z/", "/d2/sub/", RENAME_EXCHANGE),
        Err(Errno::ENOTDIR)
    );
    assert_eq!(
        rename(&mut fs, "/d2/sub/", "/d2/z", RENAME_EXCHANGE),
        Err(Errno::ENOTDIR)
    );
    assert_eq!(
        rename(&mut fs, "/d2/z", "/d2/z/inner", RENAME_EXCHANGE),
        Err(Errno::EINVAL)
    );
    // A trailing slash on the target is fine when the target is a directory, whatever the
    // source is (Linux checks the source's slash only).
    assert_eq!(
        rename(&mut fs, "/d2/sub", "/d2/z/", RENAME_EXCHANGE),
        Ok(())
    );
    assert!(lookup(&fs, &root(), "/d2/sub/inner").is_ok());
}

#[test]
fn flags_validation() {
    let mut fs = new_fs();
    file(&mut fs, "/a", 0o644, b"");
    assert_eq!(rename(&mut fs, "/a", "/b", 0x100), Err(Errno::EINVAL));
    assert_eq!(
        rename(&mut fs, "/a", "/b", RENAME_WHITEOUT),
        Err(Errno::EINVAL)
    );
    let ri = fs.root();
    assert_eq!(
        fs.rename(&user(1), ri, b"/a", ri, b"/b", RENAME_WHITEOUT, T1),
        Err(Errno::EPERM)
    );
}

#[test]
fn permissions() {
    let mut fs = new_fs();
    let u = user(1000);
    let ri = fs.root();
    mkdir_as(&mut fs, "/mine", 0o755, 1000, 1000);
    mkdir_as(&mut fs, "/other", 0o777, 0, 0);
    mkdir(&mut fs, "/ro", 0o755);
    file(&mut fs, "/ro/f", 0o666, b"");
    file_as(&mut fs, "/mine/f", 0o644, 1000, 1000, b"");
    // Write on the source directory and on the target's.
    assert_eq!(
        fs.rename(&u, ri, b"/ro/f", ri, b"/mine/f2", 0, T1),
        Err(Errno::EACCES)
    );
    assert_eq!(
        fs.rename(&u, ri, b"/mine/f", ri, b"/ro/f2", 0, T1),
        Err(Errno::EACCES)
    );
    assert_eq!(
        fs.rename(&u, ri, b"/mine/f", ri, b"/other/f", 0, T1),
        Ok(())
    );
    // Moving a directory to another parent needs write permission on it (for its `..`).
    mkdir_as(&mut fs, "/other/rootowned", 0o755, 0, 0);
    assert_eq!(
        fs.rename(&u, ri, b"/other/rootowned", ri, b"/mine/x", 0, T1),
        Err(Errno::EACCES)
    );
    // ...but not within the same parent.
    assert_eq!(
        fs.rename(&u, ri, b"/other/rootowned", ri, b"/other/renamed", 0, T1),
        Ok(())
    );
}
