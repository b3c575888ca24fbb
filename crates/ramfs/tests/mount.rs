//! Mounts: a tmpfs or ramfs mounted on a directory hides it and has its own `st_dev`; walks
//! cross into it and `..` out of it; renames and links across are `EXDEV`; a mountpoint cannot
//! be removed; unmount refuses while busy, lazily detaches, and frees what it held.

mod common;

use common::*;
use k42_linux::raw::general as linux;
use k42_ramfs::{Errno, FsType};

fn mount(fs: &mut k42_ramfs::Fs, target: &str, fstype: &str) -> Result<(), Errno> {
    let ri = fs.root();
    fs.mount(
        &root(),
        ri,
        target.as_bytes(),
        b"none",
        fstype.as_bytes(),
        linux::MS_SILENT,
        b"",
        T1,
    )
}

fn umount(fs: &mut k42_ramfs::Fs, target: &str, flags: u32) -> Result<(), Errno> {
    let ri = fs.root();
    fs.umount(&root(), ri, target.as_bytes(), flags)
}

#[test]
fn a_mount_hides_the_directory_and_has_its_own_device() {
    let mut fs = new_fs();
    let mnt = mkdir(&mut fs, "/mnt", 0o755);
    file(&mut fs, "/mnt/under", 0o644, b"hidden");
    let before = stat(&fs, "/mnt");
    mount(&mut fs, "/mnt", "tmpfs").unwrap();
    let top = stat(&fs, "/mnt");
    assert_ne!(top.dev, before.dev, "a new st_dev");
    assert_ne!(top.ino, mnt);
    assert_eq!(top.mode, S_IFDIR | 0o1777, "tmpfs's root: 1777");
    assert_eq!(
        names(&mut fs, "/mnt"),
        Vec::<String>::new(),
        "the directory is covered"
    );
    assert_eq!(lookup(&fs, &root(), "/mnt/under"), Err(Errno::ENOENT));
    file(&mut fs, "/mnt/new", 0o644, b"on top");
    assert_eq!(read(&mut fs, "/mnt/new"), b"on top");
    assert_eq!(
        stat(&fs, "/mnt/new").dev,
        top.dev,
        "files inherit the device"
    );
    mkdir(&mut fs, "/mnt/d", 0o755);
    assert_eq!(stat(&fs, "/mnt/d/..").ino, top.ino);
    assert_eq!(stat(&fs, "/mnt/..").ino, fs.root(), ".. leaves the mount");
    assert_eq!(stat(&fs, "/mnt/d/../../mnt").ino, top.ino);
    // A walk that started in the covered directory stays there.
    assert_eq!(fs.lookup(&root(), mnt, b"under", 0).map(|_| ()), Ok(()));
    let listed = fs.mounts();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].target.as_slice(), listed[0].fstype),
        (b"/mnt".as_slice(), FsType::Tmpfs)
    );
    assert_eq!(listed[0].source, b"none");
}

#[test]
fn unmount_frees_and_uncovers() {
    let mut fs = new_fs();
    mkdir(&mut fs, "/mnt", 0o755);
    file(&mut fs, "/mnt/under", 0o644, b"hidden");
    let inodes = fs.inode_count();
    let used = fs.used_bytes();
    mount(&mut fs, "/mnt", "ramfs").unwrap();
    assert_eq!(
        stat(&fs, "/mnt").mode,
        S_IFDIR | 0o755,
        "ramfs's root: 0755"
    );
    file(&mut fs, "/mnt/a", 0o644, &[7; 10_000]);
    mkdir(&mut fs, "/mnt/d", 0o755);
    file(&mut fs, "/mnt/d/b", 0o644, b"x");
    umount(&mut fs, "/mnt", 0).unwrap();
    assert_eq!(read(&mut fs, "/mnt/under"), b"hidden");
    assert_eq!(fs.inode_count(), inodes, "every inode of the mount is gone");
    assert_eq!(fs.used_bytes(), used, "and its pages");
    assert!(fs.mounts().is_empty());
    assert_eq!(
        umount(&mut fs, "/mnt", 0),
        Err(Errno::EINVAL),
        "not a mount"
    );
}

#[test]
fn busy_mounts_refuse_and_lazy_unmount_waits_for_the_last_handle() {
    let mut fs = new_fs();
    mkdir(&mut fs, "/mnt", 0o755);
    let inodes = fs.inode_count();
    mount(&mut fs, "/mnt", "tmpfs").unwrap();
    let f = open(&mut fs, &root(), "/mnt/f", O_CREAT | O_RDWR).unwrap();
    assert_eq!(umount(&mut fs, "/mnt", 0), Err(Errno::EBUSY));
    umount(&mut fs, "/mnt", linux::MNT_DETACH).unwrap();
    assert!(fs.mounts().is_empty(), "out of the name space at once");
    assert_eq!(lookup(&fs, &root(), "/mnt/f"), Err(Errno::ENOENT));
    assert!(fs.exists(f), "the open file lives on");
    fs.write_at(&root(), f, 0, b"still", T1).unwrap();
    fs.close_handle(f).unwrap();
    assert_eq!(fs.inode_count(), inodes, "gone with the last handle");
}

#[test]
fn nested_mounts_and_stacking() {
    let mut fs = new_fs();
    mkdir(&mut fs, "/mnt", 0o755);
    mount(&mut fs, "/mnt", "tmpfs").unwrap();
    mkdir(&mut fs, "/mnt/inner", 0o755);
    mount(&mut fs, "/mnt/inner", "ramfs").unwrap();
    let targets: Vec<Vec<u8>> = fs.mounts().into_iter().map(|m| m.target).collect();
    assert_eq!(targets, [b"/mnt".to_vec(), b"/mnt/inner".to_vec()]);
    assert_eq!(
        umount(&mut fs, "/mnt", 0),
        Err(Errno::EBUSY),
        "a mount inside"
    );
    umount(&mut fs, "/mnt/inner", 0).unwrap();
    // Stacked: the second covers the first's root; unmounting uncovers it.
    file(&mut fs, "/mnt/first", 0o644, b"1");
    mount(&mut fs, "/mnt", "tmpfs").unwrap();
    assert_eq!(lookup(&fs, &root(), "/mnt/first"), Err(Errno::ENOENT));
    umount(&mut fs, "/mnt", 0).unwrap();
    assert_eq!(read(&mut fs, "/mnt/first"), b"1");
    // A lazy unmount takes the mounts inside with it.
    mount(&mut fs, "/mnt/inner", "tmpfs").unwrap();
    umount(&mut fs, "/mnt", linux::MNT_DETACH).unwrap();
    assert!(fs.mounts().is_empty());
}

#[test]
fn renames_and_links_across_are_exdev_and_mountpoints_are_busy() {
    let mut fs = new_fs();
    mkdir(&mut fs, "/mnt", 0o755);
    file(&mut fs, "/f", 0o644, b"");
    mount(&mut fs, "/mnt", "tmpfs").unwrap();
    file(&mut fs, "/mnt/g", 0o644, b"");
    let (r, ri) = (root(), fs.root());
    assert_eq!(
        fs.rename(&r, ri, b"/f", ri, b"/mnt/f", 0, T1),
        Err(Errno::EXDEV)
    );
    assert_eq!(
        fs.rename(&r, ri, b"/mnt/g", ri, b"/g", 0, T1),
        Err(Errno::EXDEV)
    );
    assert_eq!(
        fs.link(&r, ri, b"/f", ri, b"/mnt/f", 0, T1),
        Err(Errno::EXDEV)
    );
    mkdir(&mut fs, "/mnt/ro", 0o555);
    assert_eq!(
        fs.link(&user(1000), ri, b"/f", ri, b"/mnt/ro/f", 0, T1),
        Err(Errno::EXDEV),
        "do_linkat: EXDEV before vfs_link's permission check"
    );
    fs.rename(&r, ri, b"/mnt/g", ri, b"/mnt/h", 0, T1).unwrap();
    assert_eq!(fs.rmdir(&r, ri, b"/mnt", T1), Err(Errno::EBUSY));
    assert_eq!(
        fs.rename(&r, ri, b"/mnt", ri, b"/moved", 0, T1),
        Err(Errno::EBUSY)
    );
    mkdir(&mut fs, "/other", 0o755);
    assert_eq!(
        fs.rename(&r, ri, b"/other", ri, b"/mnt", 0, T1),
        Err(Errno::EBUSY),
        "the name /mnt is the covered directory (Linux looks it up without crossing)"
    );
}

#[test]
fn mount_errors() {
    let mut fs = new_fs();
    mkdir(&mut fs, "/mnt", 0o755);
    file(&mut fs, "/f", 0o644, b"");
    let ri = fs.root();
    let call = |fs: &mut k42_ramfs::Fs, cred, target: &str, fstype: &str, flags, data: &str| {
        fs.mount(
            &cred,
            ri,
            target.as_bytes(),
            b"none",
            fstype.as_bytes(),
            flags,
            data.as_bytes(),
            T1,
        )
    };
    assert_eq!(
        call(&mut fs, user(1000), "/mnt", "tmpfs", 0, ""),
        Err(Errno::EPERM)
    );
    assert_eq!(
        call(&mut fs, user(1000), "/nope", "tmpfs", 0, ""),
        Err(Errno::ENOENT)
    );
    assert_eq!(
        call(&mut fs, root(), "/mnt", "ext4", 0, ""),
        Err(Errno::ENODEV)
    );
    assert_eq!(
        call(&mut fs, root(), "/mnt", "", 0, ""),
        Err(Errno::EINVAL),
        "no type"
    );
    assert_eq!(
        call(&mut fs, root(), "/mnt", "tmpfs", linux::MS_RDONLY, ""),
        Err(Errno::EINVAL),
        "read-only is not supported: refused, not ignored"
    );
    assert_eq!(
        call(&mut fs, root(), "/mnt", "tmpfs", 0, "size=1m"),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        call(&mut fs, root(), "/f", "tmpfs", 0, ""),
        Err(Errno::ENOTDIR)
    );
    assert_eq!(
        call(&mut fs, root(), "/", "tmpfs", 0, ""),
        Err(Errno::EBUSY)
    );
    assert!(fs.mounts().is_empty());
    // The old magic in the high half is dropped; options set the root's owner and mode.
    call(
        &mut fs,
        root(),
        "/mnt",
        "tmpfs",
        linux::MS_MGC_VAL,
        "mode=700,uid=5,gid=6",
    )
    .unwrap();
    let st = stat(&fs, "/mnt");
    assert_eq!((st.mode, st.uid, st.gid), (S_IFDIR | 0o700, 5, 6));
    assert_eq!(
        fs.umount(&user(5), ri, b"/mnt", 0),
        Err(Errno::EPERM),
        "only root unmounts"
    );
    assert_eq!(umount(&mut fs, "/mnt", 0x100), Err(Errno::EINVAL));
    assert_eq!(umount(&mut fs, "/", 0), Err(Errno::EBUSY));
    assert_eq!(
        umount(&mut fs, "/mnt", linux::MNT_EXPIRE | linux::MNT_DETACH),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        umount(&mut fs, "/mnt", linux::MNT_EXPIRE),
        Err(Errno::EAGAIN)
    );
    umount(&mut fs, "/mnt", linux::MNT_EXPIRE).unwrap();
    assert!(fs.mounts().is_empty());
}

#[test]
fn dotdot_crosses_into_a_later_mount_and_a_mounted_root_lists_itself_as_dotdot() {
    let mut fs = new_fs();
    mkdir(&mut fs, "/mnt", 0o755);
    let x = mkdir(&mut fs, "/mnt/x", 0o755);
    mount(&mut fs, "/mnt", "tmpfs").unwrap();
    let top = stat(&fs, "/mnt");
    // A walk from the covered /mnt/x (a cwd from before the mount): `..` is /mnt, which the
    // walk crosses as Linux's handle_dots does (step_into, handle_mounts).
    let up = fs.lookup(&root(), x, b"..", 0).unwrap();
    assert_eq!(up, top.ino, "'..' lands on the mount");
    let via = fs.lookup(&root(), x, b"../", 0).unwrap();
    assert_eq!(via, top.ino);
    // getdents' `..` of the mounted root is the root itself (dcache_readdir's parent_ino).
    let entries = fs.getdents(top.ino, 0, usize::MAX, T1).unwrap();
    let dotdot = entries.iter().find(|e| e.name == b"..").unwrap();
    assert_eq!(dotdot.ino, top.ino);
    umount(&mut fs, "/mnt", 0).unwrap();
}

#[test]
fn umount_by_anyone_but_root_is_eperm_first() {
    let mut fs = new_fs();
    mkdir(&mut fs, "/mnt", 0o755);
    let ri = fs.root();
    assert_eq!(
        fs.umount(&user(5), ri, b"/mnt", 0),
        Err(Errno::EPERM),
        "not a mount, but may_mount comes first"
    );
}

#[test]
fn nothing_is_mounted_on_a_removed_directory_or_a_detached_mount() {
    let mut fs = new_fs();
    let gone = mkdir(&mut fs, "/gone", 0o755);
    fs.open_handle(gone).unwrap();
    let ri = fs.root();
    fs.rmdir(&root(), ri, b"/gone", T1).unwrap();
    let on = |fs: &mut k42_ramfs::Fs, dir, target: &[u8]| {
        fs.mount(&root(), dir, target, b"none", b"tmpfs", 0, b"", T1)
    };
    assert_eq!(on(&mut fs, gone, b"."), Err(Errno::ENOENT), "lock_mount");
    fs.close_handle(gone).unwrap();
    mkdir(&mut fs, "/mnt", 0o755);
    mount(&mut fs, "/mnt", "tmpfs").unwrap();
    let kept = lookup(&fs, &root(), "/mnt").unwrap();
    fs.open_handle(kept).unwrap();
    umount(&mut fs, "/mnt", linux::MNT_DETACH).unwrap();
    fs.mkdir(&root(), kept, b"x", 0o755, 0, T1).unwrap();
    assert_eq!(on(&mut fs, kept, b"x"), Err(Errno::EINVAL), "check_mnt");
    let inodes_before_close = fs.inode_count();
    fs.close_handle(kept).unwrap();
    assert!(
        fs.inode_count() < inodes_before_close,
        "the detached mount went"
    );
    assert!(fs.mounts().is_empty());
}

#[test]
fn statfs_reports_each_file_systems_type_and_the_shared_figures() {
    let mut fs = new_fs();
    let limits = fs.limits();
    let page = k42_ramfs::PAGE_SIZE;
    let root_fs = fs.statfs(fs.root()).unwrap();
    assert_eq!(root_fs.fs_type, u64::from(linux::TMPFS_MAGIC));
    assert_eq!(root_fs.blocks, limits.max_bytes / page);
    assert_eq!(root_fs.files, limits.max_inodes);
    assert_eq!(root_fs.flags, 0, "the root is mounted rw");
    mkdir(&mut fs, "/t", 0o755);
    mkdir(&mut fs, "/r", 0o755);
    mount(&mut fs, "/t", "tmpfs").unwrap();
    mount(&mut fs, "/r", "ramfs").unwrap();
    file(
        &mut fs,
        "/t/two-pages",
        0o644,
        &vec![1u8; 2 * page as usize],
    );
    let t = fs
        .statfs(lookup(&fs, &root(), "/t/two-pages").unwrap())
        .unwrap();
    assert_eq!(t.fs_type, u64::from(linux::TMPFS_MAGIC));
    assert_eq!(t.bfree, root_fs.bfree - 2, "the file's two pages are used");
    assert_eq!(
        t.ffree,
        root_fs.ffree - 5,
        "five inodes more: two roots, two dirs, a file"
    );
    assert_eq!(t.flags, k42_linux::statfs::ST_RELATIME);
    assert_ne!(t.fsid, root_fs.fsid, "its own id");
    let r = fs.statfs(lookup(&fs, &root(), "/r").unwrap()).unwrap();
    assert_eq!(r.fs_type, u64::from(linux::RAMFS_MAGIC));
    assert_eq!((r.blocks, r.bfree, r.files, r.ffree), (0, 0, 0, 0));
    assert_eq!(fs.statfs(9999), Err(Errno::EBADF), "a dead inode");
}
