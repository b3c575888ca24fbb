//! Path walks: components, `.` and `..`, symlinks (relative, absolute, chains, loops, `..`
//! after a symlink), trailing slashes, length limits, search permission, and `AT_*` flags.

mod common;

use common::*;
use k42_ramfs::{Errno, MAXSYMLINKS};

#[test]
fn absolute_relative_dot_and_dotdot() {
    let mut fs = new_fs();
    let a = mkdir(&mut fs, "/a", 0o755);
    let b = mkdir(&mut fs, "/a/b", 0o755);
    let f = file(&mut fs, "/a/b/f", 0o644, b"x");
    let r = root();
    assert_eq!(lookup(&fs, &r, "/a/b/f"), Ok(f));
    assert_eq!(lookup(&fs, &r, "//a///b//f"), Ok(f));
    assert_eq!(lookup(&fs, &r, "/a/./b/../b/f"), Ok(f));
    assert_eq!(fs.lookup(&r, a, b"b/f", 0), Ok(f));
    assert_eq!(fs.lookup(&r, b, b"..", 0), Ok(a));
    assert_eq!(fs.lookup(&r, b, b".", 0), Ok(b));
    assert_eq!(fs.lookup(&r, b, b"/", 0), Ok(fs.root()));
    // An absolute path ignores the start directory.
    assert_eq!(fs.lookup(&r, b, b"/a", 0), Ok(a));
    assert_eq!(lookup(&fs, &r, "/"), Ok(fs.root()));
    assert_eq!(lookup(&fs, &r, "///"), Ok(fs.root()));
}

#[test]
fn dotdot_at_root_stays_at_root() {
    let mut fs = new_fs();
    let a = mkdir(&mut fs, "/a", 0o755);
    let r = root();
    assert_eq!(lookup(&fs, &r, "/.."), Ok(fs.root()));
    assert_eq!(lookup(&fs, &r, "/../../.."), Ok(fs.root()));
    assert_eq!(lookup(&fs, &r, "/../a/../../a"), Ok(a));
    assert_eq!(fs.lookup(&r, a, b"../../..", 0), Ok(fs.root()));
}

#[test]
fn missing_components() {
    let mut fs = new_fs();
    mkdir(&mut fs, "/a", 0o755);
    let r = root();
    assert_eq!(lookup(&fs, &r, "/nope"), Err(Errno::ENOENT));
    assert_eq!(lookup(&fs, &r, "/nope/x"), Err(Errno::ENOENT));
    assert_eq!(lookup(&fs, &r, "/a/nope/.."), Err(Errno::ENOENT));
    assert_eq!(lookup(&fs, &r, ""), Err(Errno::ENOENT));
    assert_eq!(fs.lookup(&r, fs.root(), b"\0/a", 0), Err(Errno::ENOENT));
}

#[test]
fn path_ends_at_nul() {
    let mut fs = new_fs();
    let a = mkdir(&mut fs, "/a", 0o755);
    assert_eq!(fs.lookup(&root(), fs.root(), b"/a\0/garbage", 0), Ok(a));
}

#[test]
fn non_directory_used_as_directory() {
    let mut fs = new_fs();
    let f = file(&mut fs, "/f", 0o644, b"");
    let r = root();
    assert_eq!(lookup(&fs, &r, "/f/x"), Err(Errno::ENOTDIR));
    assert_eq!(lookup(&fs, &r, "/f/"), Err(Errno::ENOTDIR));
    assert_eq!(lookup(&fs, &r, "/f/."), Err(Errno::ENOTDIR));
    assert_eq!(lookup(&fs, &r, "/f/.."), Err(Errno::ENOTDIR));
    assert_eq!(lookup(&fs, &r, "/f"), Ok(f));
    // A relative path from a file "directory".
    assert_eq!(fs.lookup(&r, f, b"x", 0), Err(Errno::ENOTDIR));
    // ...but an absolute one does not care.
    assert_eq!(fs.lookup(&r, f, b"/f", 0), Ok(f));
    // A device node is no directory either.
    fs.mknod(
        &r,
        fs.root(),
        b"/null",
        S_IFCHR | 0o666,
        k42_ramfs::Dev::new(1, 3),
        0,
        T0,
    )
    .unwrap();
    assert_eq!(lookup(&fs, &r, "/null/"), Err(Errno::ENOTDIR));
}

#[test]
fn trailing_slash_on_directory_is_fine() {
    let mut fs = new_fs();
    let d = mkdir(&mut fs, "/d", 0o755);
    assert_eq!(lookup(&fs, &root(), "/d/"), Ok(d));
    assert_eq!(lookup(&fs, &root(), "/d//"), Ok(d));
    assert_eq!(lookup(&fs, &root(), "/d/."), Ok(d));
}

#[test]
fn name_too_long() {
    let mut fs = new_fs();
    let r = root();
    let ok = "n".repeat(255);
    file(&mut fs, &format!("/{ok}"), 0o644, b"");
    assert!(lookup(&fs, &r, &format!("/{ok}")).is_ok());
    let long = "n".repeat(256);
    assert_eq!(
        lookup(&fs, &r, &format!("/{long}")),
        Err(Errno::ENAMETOOLONG)
    );
    assert_eq!(
        lookup(&fs, &r, &format!("/{long}/x")),
        Err(Errno::ENAMETOOLONG)
    );
    // 4095 bytes fit with the NUL, 4096 do not.
    let fits = format!("/{}", "./".repeat(2047));
    assert_eq!(fits.len(), 4095);
    assert_eq!(lookup(&fs, &r, &fits), Ok(fs.root()));
    let too_long = format!("{fits}.");
    assert_eq!(lookup(&fs, &r, &too_long), Err(Errno::ENAMETOOLONG));
}

#[test]
fn symlinks_relative_absolute_and_chains() {
    let mut fs = new_fs();
    mkdir(&mut fs, "/a", 0o755);
    mkdir(&mut fs, "/a/b", 0o755);
    let f = file(&mut fs, "/a/b/f", 0o644, b"x");
    let rel = symlink(&mut fs, "b/f", "/a/rel");
    symlink(&mut fs, "/a/b", "/abs");
    symlink(&mut fs, "rel", "/a/chain");
    symlink(&mut fs, "/", "/toroot");
    let r = root();
    assert_eq!(lookup(&fs, &r, "/a/rel"), Ok(f));
    assert_eq!(lookup_nofollow(&fs, &r, "/a/rel"), Ok(rel));
    assert_eq!(lookup(&fs, &r, "/abs/f"), Ok(f));
    assert_eq!(lookup(&fs, &r, "/a/chain"), Ok(f));
    assert_eq!(lookup(&fs, &r, "/toroot/a/b/f"), Ok(f));
    assert_eq!(lookup(&fs, &r, "/toroot"), Ok(fs.root()));
    // A symlink in the middle is always followed, even with AT_SYMLINK_NOFOLLOW.
    assert_eq!(lookup_nofollow(&fs, &r, "/abs/f"), Ok(f));
}

#[test]
fn trailing_slash_follows_a_final_symlink() {
    let mut fs = new_fs();
    let d = mkdir(&mut fs, "/d", 0o755);
    file(&mut fs, "/f", 0o644, b"");
    symlink(&mut fs, "/d", "/ld");
    symlink(&mut fs, "/f", "/lf");
    let r = root();
    assert_eq!(lookup_nofollow(&fs, &r, "/ld/"), Ok(d));
    assert_eq!(lookup_nofollow(&fs, &r, "/lf/"), Err(Errno::ENOTDIR));
    // A link whose target ends in a slash demands a directory too.
    symlink(&mut fs, "/f/", "/lfslash");
    assert_eq!(lookup(&fs, &r, "/lfslash"), Err(Errno::ENOTDIR));
}

#[test]
fn dangling_and_empty_targets() {
    let mut fs = new_fs();
    let dangling = symlink(&mut fs, "/nowhere", "/dangling");
    let r = root();
    assert_eq!(lookup(&fs, &r, "/dangling"), Err(Errno::ENOENT));
    assert_eq!(lookup_nofollow(&fs, &r, "/dangling"), Ok(dangling));
    assert_eq!(
        fs.symlink(&r, b"", fs.root(), b"/empty", T0),
        Err(Errno::ENOENT)
    );
}

#[test]
fn dotdot_after_a_symlink_leaves_the_target() {
    // /a/b/c is a directory; /x/link -> /a/b/c. "/x/link/.." is /a/b (physical), not /x.
    let mut fs = new_fs();
    mkdir(&mut fs, "/a", 0o755);
    let b = mkdir(&mut fs, "/a/b", 0o755);
    mkdir(&mut fs, "/a/b/c", 0o755);
    let bf = file(&mut fs, "/a/b/f", 0o644, b"b's");
    let x = mkdir(&mut fs, "/x", 0o755);
    file(&mut fs, "/x/f", 0o644, b"x's");
    symlink(&mut fs, "/a/b/c", "/x/link");
    symlink(&mut fs, "../a/b/c", "/x/rel");
    let r = root();
    assert_eq!(lookup(&fs, &r, "/x/link/.."), Ok(b));
    assert_eq!(lookup(&fs, &r, "/x/link/../f"), Ok(bf));
    assert_eq!(lookup(&fs, &r, "/x/rel/../f"), Ok(bf));
    assert_eq!(fs.lookup(&r, x, b"link/../..", 0), lookup(&fs, &r, "/a"));
    // And a symlink target with ".." resolves against the link's directory.
    symlink(&mut fs, "../x/f", "/a/up");
    assert_eq!(read(&mut fs, "/a/up"), b"x's");
}

#[test]
fn symlink_loops_are_eloop() {
    let mut fs = new_fs();
    symlink(&mut fs, "/loop", "/loop");
    symlink(&mut fs, "/pong", "/ping");
    symlink(&mut fs, "/ping", "/pong");
    symlink(&mut fs, "self/x", "/self");
    let r = root();
    assert_eq!(lookup(&fs, &r, "/loop"), Err(Errno::ELOOP));
    assert_eq!(lookup(&fs, &r, "/ping"), Err(Errno::ELOOP));
    assert_eq!(lookup(&fs, &r, "/ping/x"), Err(Errno::ELOOP));
    assert_eq!(lookup(&fs, &r, "/self"), Err(Errno::ELOOP));
    // Not following the last one: the link itself.
    assert!(lookup_nofollow(&fs, &r, "/loop").is_ok());
    assert_eq!(lookup_nofollow(&fs, &r, "/loop/"), Err(Errno::ELOOP));
}

#[test]
fn forty_hops_allowed_forty_one_not() {
    let mut fs = new_fs();
    let f = file(&mut fs, "/target", 0o644, b"");
    // l1 -> target, l2 -> l1, ..., l41 -> l40.
    symlink(&mut fs, "/target", "/l1");
    for i in 2..=MAXSYMLINKS + 1 {
        symlink(&mut fs, &format!("l{}", i - 1), &format!("/l{i}"));
    }
    let r = root();
    assert_eq!(lookup(&fs, &r, &format!("/l{MAXSYMLINKS}")), Ok(f));
    assert_eq!(
        lookup(&fs, &r, &format!("/l{}", MAXSYMLINKS + 1)),
        Err(Errno::ELOOP)
    );
    // The count is per walk: a link in the middle and a final one add up.
    mkdir(&mut fs, "/d", 0o755);
    symlink(&mut fs, "/d", "/ld");
    symlink(&mut fs, &format!("/l{MAXSYMLINKS}"), "/d/deep");
    assert_eq!(lookup(&fs, &r, "/d/deep"), Err(Errno::ELOOP));
    assert_eq!(lookup(&fs, &r, "/ld/deep"), Err(Errno::ELOOP));
}

#[test]
fn search_permission_on_every_directory() {
    let mut fs = new_fs();
    mkdir(&mut fs, "/open", 0o755);
    mkdir(&mut fs, "/open/closed", 0o700);
    let f = file(&mut fs, "/open/closed/f", 0o644, b"");
    mkdir(&mut fs, "/open/closed/sub", 0o755);
    mkdir(&mut fs, "/listonly", 0o744);
    file(&mut fs, "/listonly/f", 0o644, b"");
    let u = user(1000);
    assert_eq!(lookup(&fs, &u, "/open/closed/f"), Err(Errno::EACCES));
    assert_eq!(
        lookup(&fs, &u, "/open/closed"),
        Ok(lookup(&fs, &root(), "/open/closed").unwrap())
    );
    assert_eq!(lookup(&fs, &u, "/open/closed/."), Err(Errno::EACCES));
    assert_eq!(lookup(&fs, &u, "/open/closed/sub/.."), Err(Errno::EACCES));
    assert_eq!(lookup(&fs, &u, "/listonly/f"), Err(Errno::EACCES));
    assert_eq!(lookup(&fs, &root(), "/open/closed/f"), Ok(f));
    // A symlink to a path through the closed directory does not help.
    symlink(&mut fs, "/open/closed/f", "/shortcut");
    assert_eq!(lookup(&fs, &u, "/shortcut"), Err(Errno::EACCES));
    // Starting inside it (a cwd kept from before) needs search permission there too.
    let closed = lookup(&fs, &root(), "/open/closed").unwrap();
    assert_eq!(fs.lookup(&u, closed, b"f", 0), Err(Errno::EACCES));
}

#[test]
fn lookup_flags() {
    let mut fs = new_fs();
    let d = mkdir(&mut fs, "/d", 0o755);
    let r = root();
    assert_eq!(fs.lookup(&r, d, b"", AT_EMPTY_PATH), Ok(d));
    assert_eq!(fs.lookup(&r, d, b"", 0), Err(Errno::ENOENT));
    assert_eq!(fs.lookup(&r, d, b".", 0x8000_0000), Err(Errno::EINVAL));
    assert_eq!(fs.lookup(&r, 9999, b"x", 0), Err(Errno::EBADF));
}
