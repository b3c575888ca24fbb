//! Populating from the initramfs: `Fs::from_cpio` on archives the cpio writer builds, and the
//! `Builder`'s attributes, replacement rules and errors.

mod common;

use common::*;
use k42_cpio::{Tree, Writer};
use k42_ramfs::{Builder, Dev, Entry, Errno, FileType, Fs, Limits, NodeSpec, Timespec};

fn entry<'a>(path: &'a str, mode: u32, node: NodeSpec<'a>) -> Entry<'a> {
    Entry {
        path: path.as_bytes(),
        mode,
        uid: 0,
        gid: 0,
        mtime: Timespec::new(500, 0),
        node,
    }
}

#[test]
fn from_cpio_builds_every_kind() {
    let mut w = Writer::new();
    w.dir("/", 0o700)
        .dir("/bin", 0o755)
        .file("/bin/busybox", 0o4755, b"\x7fELF...")
        .symlink("/bin/sh", "busybox")
        .dir("/dev", 0o755)
        .char_dev("/dev/console", 0o600, 5, 1)
        .block_dev("/dev/sda", 0o660, 8, 0)
        .fifo("/dev/initctl", 0o600)
        .socket("/dev/log", 0o666)
        .file("/etc/passwd", 0o644, b"root:x:0:0::/root:/bin/sh\n");
    let tree = Tree::parse(&w.finish()).unwrap();
    let mut fs = Fs::from_cpio(&tree, T1).unwrap();
    let r = root();
    // Times: the archive's mtime (0 from this writer), ctime is the build's.
    let st = stat(&fs, "/etc/passwd");
    assert_eq!(
        (st.mtime, st.atime, st.ctime),
        (Timespec::new(0, 0), Timespec::new(0, 0), T1)
    );
    assert_eq!(read(&mut fs, "/bin/sh"), b"\x7fELF...");
    assert_eq!(stat(&fs, "/bin/busybox").mode, S_IFREG | 0o4755);
    assert_eq!(stat(&fs, "/bin/sh").mode, S_IFLNK | 0o777);
    assert_eq!(
        fs.readlink(&r, fs.root(), b"/bin/sh", T1),
        Ok(b"busybox".to_vec())
    );
    let console = stat(&fs, "/dev/console");
    assert_eq!((console.mode, console.rdev), (S_IFCHR | 0o600, 0x501));
    assert_eq!(stat(&fs, "/dev/sda").rdev, 0x800);
    assert_eq!(stat(&fs, "/dev/initctl").file_type(), Some(FileType::Fifo));
    assert_eq!(stat(&fs, "/dev/log").file_type(), Some(FileType::Socket));
    // The parser creates /etc implicitly.
    assert_eq!(stat(&fs, "/etc").mode, S_IFDIR | 0o755);
    assert_eq!(read(&mut fs, "/etc/passwd"), b"root:x:0:0::/root:/bin/sh\n");
    // The root took the archive's mode; link counts are right.
    let root_st = fs.stat(fs.root()).unwrap();
    assert_eq!((root_st.mode, root_st.nlink), (S_IFDIR | 0o700, 5));
    assert_eq!(stat(&fs, "/dev").nlink, 2);
    // And it is a working file system.
    assert_eq!(names(&mut fs, "/bin"), ["busybox", "sh"]);
    assert_eq!(
        try_open(&mut fs, &user(1000), "/dev/console", O_RDWR),
        Err(Errno::EACCES)
    );
}

#[test]
fn root_is_linux_rootfs_unless_the_archive_says() {
    // No entry for "." (as the xtask's images): Linux's rootfs root, tmpfs's 1777.
    let mut w = Writer::new();
    w.dir("/bin", 0o755).file("/bin/x", 0o755, b"x");
    let fs = Fs::from_cpio(&Tree::parse(&w.finish()).unwrap(), T1).unwrap();
    let st = fs.stat(fs.root()).unwrap();
    assert_eq!((st.mode, st.uid, st.gid), (S_IFDIR | 0o1777, 0, 0));
    assert_eq!(stat(&fs, "/bin").mode, S_IFDIR | 0o755);
    // A builder with no root entry too.
    let mut b = Builder::new(T1);
    b.add(&entry("/d", 0o755, NodeSpec::Dir)).unwrap();
    let fs = b.finish();
    assert_eq!(fs.stat(fs.root()).unwrap().mode, S_IFDIR | 0o1777);
    // An entry for "." decides.
    let mut w = Writer::new();
    w.dir(".", 0o755).dir("/bin", 0o700);
    let fs = Fs::from_cpio(&Tree::parse(&w.finish()).unwrap(), T1).unwrap();
    assert_eq!(fs.stat(fs.root()).unwrap().mode, S_IFDIR | 0o755);
}

#[test]
fn later_entries_win_in_concatenated_archives() {
    let mut first = Writer::new();
    first
        .file("/a", 0o644, b"old")
        .dir("/d", 0o755)
        .file("/d/x", 0o644, b"x");
    let mut second = Writer::new();
    second
        .file("/a", 0o600, b"new")
        .dir("/d", 0o700)
        .symlink("/d/x", "/a");
    let mut image = first.finish();
    image.extend(second.finish());
    let tree = Tree::parse(&image).unwrap();
    let mut fs = Fs::from_cpio(&tree, T0).unwrap();
    assert_eq!(read(&mut fs, "/a"), b"new");
    assert_eq!(stat(&fs, "/a").mode, S_IFREG | 0o600);
    assert_eq!(stat(&fs, "/d").mode, S_IFDIR | 0o700);
    assert_eq!(stat(&fs, "/d/x").mode, S_IFLNK | 0o777);
    assert_eq!(read(&mut fs, "/d/x"), b"new");
}

#[test]
fn builder_attributes_and_times() {
    let mut b = Builder::new(T1);
    let d = b
        .add(&Entry {
            uid: 5,
            gid: 6,
            ..entry("/home", 0o2750, NodeSpec::Dir)
        })
        .unwrap();
    b.add(&entry("home/f", S_IFDIR | 0o640, NodeSpec::File(b"data")))
        .unwrap();
    b.add(&entry(
        "./home/tty",
        0o620,
        NodeSpec::CharDevice(Dev::new(4, 1)),
    ))
    .unwrap();
    let fs = b.finish();
    let st = fs.stat(d).unwrap();
    assert_eq!(
        (st.mode, st.uid, st.gid, st.nlink),
        (S_IFDIR | 0o2750, 5, 6, 2)
    );
    // Adding entries did not disturb the directory's archive times.
    assert_eq!(
        (st.mtime, st.atime, st.ctime),
        (Timespec::new(500, 0), Timespec::new(500, 0), T1)
    );
    let f = stat(&fs, "/home/f");
    assert_eq!(
        (f.mode, f.size, f.blocks),
        (S_IFREG | 0o640, 4, 8),
        "type bits of mode ignored"
    );
    assert_eq!(stat(&fs, "/home/tty").rdev, 0x401);
}

#[test]
fn builder_replacement() {
    let mut b = Builder::new(T1);
    b.add(&entry("/d", 0o755, NodeSpec::Dir)).unwrap();
    b.add(&entry("/d/sub", 0o755, NodeSpec::Dir)).unwrap();
    b.add(&entry("/d/sub/f", 0o644, NodeSpec::File(b"deep")))
        .unwrap();
    b.add(&entry("/d/g", 0o644, NodeSpec::File(b"g"))).unwrap();
    // A directory over a directory keeps the contents.
    let d2 = b.add(&entry("/d", 0o700, NodeSpec::Dir)).unwrap();
    // A file over a directory replaces the whole subtree.
    b.add(&entry("/d/sub", 0o600, NodeSpec::File(b"flat")))
        .unwrap();
    // A directory over a file.
    b.add(&entry("/d/g", 0o755, NodeSpec::Dir)).unwrap();
    let before = {
        let fs = b.finish();
        let mut fs = fs;
        assert_eq!(stat(&fs, "/d").mode, S_IFDIR | 0o700);
        assert_eq!(lookup(&fs, &root(), "/d"), Ok(d2));
        assert_eq!(read(&mut fs, "/d/sub"), b"flat");
        assert_eq!(stat(&fs, "/d/g").file_type(), Some(FileType::Directory));
        assert_eq!(stat(&fs, "/d").nlink, 3);
        assert_eq!(fs.used_bytes(), 4096, "only /d/sub's page is left");
        fs.inode_count()
    };
    // root, d, sub, g (the replaced subtree's three inodes are gone).
    assert_eq!(before, 4);
}

#[test]
fn builder_errors() {
    let mut b = Builder::new(T1);
    b.add(&entry("/f", 0o644, NodeSpec::File(b""))).unwrap();
    assert_eq!(
        b.add(&entry("/missing/x", 0o644, NodeSpec::Fifo)),
        Err(Errno::ENOENT)
    );
    assert_eq!(
        b.add(&entry("/f/x", 0o644, NodeSpec::Fifo)),
        Err(Errno::ENOTDIR)
    );
    assert_eq!(
        b.add(&entry("/a/../b", 0o644, NodeSpec::Fifo)),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        b.add(&entry("/", 0o644, NodeSpec::Fifo)),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        b.add(&entry("/l", 0o777, NodeSpec::Symlink(b""))),
        Err(Errno::ENOENT)
    );
    let long = format!("/{}", "n".repeat(256));
    assert_eq!(
        b.add(&entry(&long, 0o644, NodeSpec::Fifo)),
        Err(Errno::ENAMETOOLONG)
    );
    assert_eq!(b.add(&entry("", 0o711, NodeSpec::Dir)), Ok(1));
    assert_eq!(b.finish().stat(1).unwrap().mode, S_IFDIR | 0o711);

    let small = Limits {
        max_file_size: 10,
        max_inodes: 3,
        max_bytes: 4096,
    };
    let mut b = Builder::with_limits(small, T1);
    assert_eq!(
        b.add(&entry("/big", 0o644, NodeSpec::File(&[0; 11]))),
        Err(Errno::EFBIG)
    );
    b.add(&entry("/a", 0o644, NodeSpec::File(&[1; 10])))
        .unwrap();
    assert_eq!(
        b.add(&entry("/b", 0o644, NodeSpec::File(&[1; 10]))),
        Err(Errno::ENOSPC)
    );
    b.add(&entry("/c", 0o644, NodeSpec::Fifo)).unwrap();
    assert_eq!(
        b.add(&entry("/d", 0o644, NodeSpec::Fifo)),
        Err(Errno::ENOSPC)
    );
    let fs = b.finish();
    assert_eq!((fs.inode_count(), fs.used_bytes()), (3, 4096));
}

#[test]
fn from_cpio_reports_limits() {
    let mut w = Writer::new();
    w.file("/a", 0o644, &[1; 100]).file("/b", 0o644, &[2; 100]);
    let tree = Tree::parse(&w.finish()).unwrap();
    let limits = Limits {
        max_bytes: 4096,
        ..Limits::DEFAULT
    };
    assert_eq!(
        Fs::from_cpio_with_limits(&tree, limits, T0).map(|_| ()),
        Err(Errno::ENOSPC)
    );
}
