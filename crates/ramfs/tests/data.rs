//! File contents and attributes: read_at (and read_append, its Vec form), write_at (holes, EFBIG, ENOSPC, set-id clearing),
//! truncate and ftruncate, stat, relatime, and inode lifetime through handles.

mod common;

use common::*;
use k42_ramfs::{BLKSIZE, Errno, Fs, Limits, MAX_FILE_SIZE, PAGE_SIZE, Timespec};

#[test]
fn write_read_and_holes() {
    let mut fs = new_fs();
    let f = file(&mut fs, "/f", 0o666, b"");
    let r = root();
    assert_eq!(fs.write_at(&r, f, 0, b"hello", T1), Ok(5));
    assert_eq!(fs.write_at(&r, f, 10, b"world", T1), Ok(5));
    assert_eq!(read_ino(&mut fs, f), b"hello\0\0\0\0\0world");
    let mut buf = [0u8; 4];
    assert_eq!(fs.read_at(f, 3, &mut buf, T1), Ok(4));
    assert_eq!(&buf, b"lo\0\0");
    assert_eq!(fs.read_at(f, 15, &mut buf, T1), Ok(0));
    assert_eq!(fs.read_at(f, 1 << 40, &mut buf, T1), Ok(0));
    // A far write leaves a hole that costs nothing.
    assert_eq!(fs.write_at(&r, f, 10 * PAGE_SIZE, b"x", T1), Ok(1));
    let st = fs.stat(f).unwrap();
    assert_eq!(st.size, 10 * PAGE_SIZE + 1);
    assert_eq!(st.blocks, 2 * (PAGE_SIZE / 512), "two pages allocated");
    assert_eq!(st.blksize, BLKSIZE);
    let mut page = vec![1u8; PAGE_SIZE as usize];
    assert_eq!(
        fs.read_at(f, 5 * PAGE_SIZE, &mut page, T1),
        Ok(PAGE_SIZE as usize)
    );
    assert!(page.iter().all(|&b| b == 0));
    // Overwrite in place.
    assert_eq!(fs.write_at(&r, f, 1, b"EL", T1), Ok(2));
    let mut head = [0u8; 5];
    fs.read_at(f, 0, &mut head, T1).unwrap();
    assert_eq!(&head, b"hELlo");
    // An empty write changes nothing.
    let before = fs.stat(f).unwrap();
    assert_eq!(fs.write_at(&r, f, 1 << 50, b"", T2), Ok(0));
    assert_eq!(fs.stat(f).unwrap(), before);
}

#[test]
fn write_sets_times_and_clears_set_id_bits_for_non_root() {
    let mut fs = new_fs();
    let f = file_as(&mut fs, "/f", 0o6777, 1000, 1000, b"");
    fs.write_at(&root(), f, 0, b"x", T1).unwrap();
    let st = fs.stat(f).unwrap();
    assert_eq!((st.mode, st.mtime, st.ctime), (S_IFREG | 0o6777, T1, T1));
    fs.write_at(&user(1000), f, 0, b"x", T2).unwrap();
    assert_eq!(fs.stat(f).unwrap().mode, S_IFREG | 0o0777);
    // Set-group-ID without group-execute stays for a writer in the group.
    let g = file_as(&mut fs, "/g", 0o2764, 1000, 1000, b"");
    fs.write_at(&user(1000), g, 0, b"x", T2).unwrap();
    assert_eq!(fs.stat(g).unwrap().mode, S_IFREG | 0o2764);
    fs.write_at(&user(5), g, 0, b"x", T2).unwrap();
    assert_eq!(fs.stat(g).unwrap().mode, S_IFREG | 0o0764);
}

#[test]
fn write_limits() {
    let mut fs = new_fs();
    let f = file(&mut fs, "/f", 0o666, b"");
    let r = root();
    assert_eq!(
        fs.write_at(&r, f, MAX_FILE_SIZE, b"x", T1),
        Err(Errno::EFBIG)
    );
    assert_eq!(fs.write_at(&r, f, u64::MAX, b"x", T1), Err(Errno::EFBIG));
    // Crossing the limit: cut short there.
    assert_eq!(fs.write_at(&r, f, MAX_FILE_SIZE - 2, b"abcd", T1), Ok(2));
    assert_eq!(fs.stat(f).unwrap().size, MAX_FILE_SIZE);
    assert_eq!(fs.stat(f).unwrap().blocks, 8);
    // Wrong kinds of inode.
    let d = mkdir(&mut fs, "/d", 0o755);
    assert_eq!(fs.write_at(&r, d, 0, b"x", T1), Err(Errno::EISDIR));
    let mut buf = [0u8; 1];
    assert_eq!(fs.read_at(d, 0, &mut buf, T1), Err(Errno::EISDIR));
    let l = symlink(&mut fs, "/f", "/l");
    assert_eq!(fs.write_at(&r, l, 0, b"x", T1), Err(Errno::EINVAL));
    assert_eq!(fs.write_at(&r, 12345, 0, b"x", T1), Err(Errno::EBADF));
}

#[test]
fn data_limit_is_enospc_and_short_writes() {
    let limits = Limits {
        max_bytes: 3 * PAGE_SIZE,
        ..Limits::DEFAULT
    };
    let mut fs = Fs::with_limits(limits, T0);
    let r = root();
    let f = open(&mut fs, &r, "/f", O_CREAT | O_RDWR).unwrap();
    let big = vec![7u8; 4 * PAGE_SIZE as usize];
    assert_eq!(fs.write_at(&r, f, 0, &big, T1), Ok(3 * PAGE_SIZE as usize));
    assert_eq!(fs.used_bytes(), 3 * PAGE_SIZE);
    assert_eq!(
        fs.write_at(&r, f, 3 * PAGE_SIZE, b"x", T1),
        Err(Errno::ENOSPC)
    );
    // Overwriting allocated pages still works.
    assert_eq!(fs.write_at(&r, f, 0, b"y", T1), Ok(1));
    // Truncating gives the space back.
    fs.ftruncate(&r, f, PAGE_SIZE, T1).unwrap();
    assert_eq!(fs.used_bytes(), PAGE_SIZE);
    assert_eq!(fs.write_at(&r, f, 5 * PAGE_SIZE, b"z", T1), Ok(1));
    // So does freeing the file.
    fs.unlink(&r, fs.root(), b"/f", T1).unwrap();
    assert_eq!(fs.used_bytes(), 2 * PAGE_SIZE, "still open");
    fs.close_handle(f).unwrap();
    assert_eq!(fs.used_bytes(), 0);
}

#[test]
fn inode_limit_is_enospc() {
    let limits = Limits {
        max_inodes: 3,
        ..Limits::DEFAULT
    };
    let mut fs = Fs::with_limits(limits, T0);
    let r = root();
    let ri = fs.root();
    fs.mkdir(&r, ri, b"/a", 0o755, 0, T0).unwrap();
    fs.symlink(&r, b"x", ri, b"/b", T0).unwrap();
    assert_eq!(fs.mkdir(&r, ri, b"/c", 0o755, 0, T0), Err(Errno::ENOSPC));
    assert_eq!(
        try_open(&mut fs, &r, "/c", O_CREAT | O_WRONLY),
        Err(Errno::ENOSPC)
    );
    assert_eq!(lookup(&fs, &r, "/c"), Err(Errno::ENOENT));
    fs.unlink(&r, ri, b"/b", T0).unwrap();
    assert_eq!(try_open(&mut fs, &r, "/c", O_CREAT | O_WRONLY), Ok(()));
}

#[test]
fn truncate_and_ftruncate() {
    let mut fs = new_fs();
    let f = file_as(&mut fs, "/f", 0o644, 1000, 1000, b"0123456789");
    let owner = user(1000);
    let other = user(2000);
    assert_eq!(fs.truncate(&other, f, 3, T1), Err(Errno::EACCES));
    assert_eq!(fs.truncate(&owner, f, 4, T1), Ok(()));
    assert_eq!(read_ino(&mut fs, f), b"0123");
    assert_eq!(fs.stat(f).unwrap().mtime, T1);
    // Same size: truncate(2) leaves the times, ftruncate(2) stamps them.
    assert_eq!(fs.truncate(&owner, f, 4, T2), Ok(()));
    assert_eq!(fs.stat(f).unwrap().mtime, T1);
    assert_eq!(
        fs.ftruncate(&other, f, 4, T2),
        Ok(()),
        "no permission check"
    );
    assert_eq!(fs.stat(f).unwrap().mtime, T2);
    // Growing: zeros, and no stale bytes come back.
    assert_eq!(fs.truncate(&owner, f, 8, T1), Ok(()));
    assert_eq!(read_ino(&mut fs, f), b"0123\0\0\0\0");
    assert_eq!(
        fs.truncate(&owner, f, MAX_FILE_SIZE + 1, T1),
        Err(Errno::EFBIG)
    );
    assert_eq!(fs.truncate(&owner, f, MAX_FILE_SIZE, T1), Ok(()));
    assert_eq!(fs.stat(f).unwrap().blocks, 8);
    // Wrong kinds.
    let d = mkdir(&mut fs, "/d", 0o777);
    assert_eq!(fs.truncate(&root(), d, 0, T1), Err(Errno::EISDIR));
    assert_eq!(fs.ftruncate(&root(), d, 0, T1), Err(Errno::EINVAL));
    let p = fs
        .mknod(
            &root(),
            fs.root(),
            b"/p",
            S_IFIFO | 0o666,
            Default::default(),
            0,
            T1,
        )
        .unwrap();
    assert_eq!(fs.truncate(&root(), p, 0, T1), Err(Errno::EINVAL));
    // Truncation by a non-root writer clears set-user-ID.
    let s = file_as(&mut fs, "/s", 0o4777, 1000, 1000, b"abc");
    fs.ftruncate(&owner, s, 1, T1).unwrap();
    assert_eq!(fs.stat(s).unwrap().mode, S_IFREG | 0o777);
}

#[test]
fn stat_fields() {
    let mut fs = new_fs();
    fs.set_dev(k42_ramfs::Dev::new(0, 42));
    let f = file_as(&mut fs, "/f", 0o640, 7, 8, &[1u8; 5000]);
    let st = fs.stat(f).unwrap();
    assert_eq!(st.ino, f);
    assert_eq!(st.dev, 42);
    assert_eq!(
        (st.mode, st.uid, st.gid, st.nlink),
        (S_IFREG | 0o640, 7, 8, 1)
    );
    assert_eq!(
        (st.size, st.blocks, st.blksize, st.rdev),
        (5000, 16, 4096, 0)
    );
    let bytes = st.to_linux_bytes();
    assert_eq!(u64::from_le_bytes(bytes[8..16].try_into().unwrap()), f);
    assert_eq!(u64::from_le_bytes(bytes[48..56].try_into().unwrap()), 5000);
    let root_st = fs.stat(fs.root()).unwrap();
    assert_eq!(
        (root_st.ino, root_st.mode, root_st.size),
        (1, S_IFDIR | 0o755, 60)
    );
}

#[test]
fn relatime() {
    let mut fs = new_fs();
    let f = file(&mut fs, "/f", 0o644, b"data");
    let mut buf = [0u8; 4];
    // Written at T0, read at T1: atime moves (it was not newer than mtime).
    fs.read_at(f, 0, &mut buf, T1).unwrap();
    assert_eq!(fs.stat(f).unwrap().atime, T1);
    // Read again soon after: atime is newer than mtime and ctime, so it stays.
    fs.read_at(f, 0, &mut buf, T2).unwrap();
    assert_eq!(fs.stat(f).unwrap().atime, T1);
    // A day later it moves again.
    let later = Timespec::new(T1.sec + 86_400, 0);
    fs.read_at(f, 0, &mut buf, later).unwrap();
    assert_eq!(fs.stat(f).unwrap().atime, later);
    // An empty read does not count.
    fs.write_at(&root(), f, 0, b"x", later).unwrap();
    let much_later = Timespec::new(later.sec + 10, 0);
    fs.read_at(f, 0, &mut [], much_later).unwrap();
    assert_eq!(fs.stat(f).unwrap().atime, later);
    fs.read_at(f, 100, &mut buf, much_later).unwrap();
    assert_eq!(
        fs.stat(f).unwrap().atime,
        much_later,
        "a read at EOF counts"
    );
}

#[test]
fn unlinked_open_file_stays_readable_until_closed() {
    let mut fs = new_fs();
    let r = root();
    let ri = fs.root();
    file(&mut fs, "/f", 0o644, b"still here");
    let a = open(&mut fs, &r, "/f", O_RDONLY).unwrap();
    let b = open(&mut fs, &r, "/f", O_RDWR).unwrap();
    assert_eq!(a, b);
    assert_eq!(fs.handles(a), Ok(2));
    fs.unlink(&r, ri, b"/f", T1).unwrap();
    assert_eq!(lookup(&fs, &r, "/f"), Err(Errno::ENOENT));
    assert_eq!(read_ino(&mut fs, a), b"still here");
    assert_eq!(fs.write_at(&r, a, 0, b"STILL", T1), Ok(5));
    assert_eq!(fs.stat(a).unwrap().nlink, 0);
    assert_eq!(fs.close_handle(a), Ok(false));
    assert_eq!(read_ino(&mut fs, a), b"STILL here");
    assert_eq!(fs.close_handle(a), Ok(true));
    assert!(!fs.exists(a));
    assert_eq!(fs.stat(a), Err(Errno::EBADF));
    assert_eq!(fs.close_handle(a), Err(Errno::EBADF));
    // A file that still has a name is not freed by its last close.
    let g = open(&mut fs, &r, "/g", O_CREAT | O_RDWR).unwrap();
    assert_eq!(fs.close_handle(g), Ok(false));
    assert!(fs.exists(g));
    assert_eq!(fs.close_handle(g), Err(Errno::EBADF));
    // Inode numbers are not reused.
    let h = open(&mut fs, &r, "/h", O_CREAT | O_RDWR).unwrap();
    assert!(h > g && h > a);
}

#[test]
fn read_append_reads_what_read_at_reads() {
    let mut fs = new_fs();
    let f = file(&mut fs, "/f", 0o666, b"");
    let r = root();
    fs.write_at(&r, f, 3, b"abc", T1).unwrap();
    fs.write_at(&r, f, 2 * PAGE_SIZE + 7, b"tail", T1).unwrap();
    let size = fs.stat(f).unwrap().size;
    let page = PAGE_SIZE as usize;
    for (offset, len) in [
        (0, 10),
        (1, 2 * page),
        (0, 3 * page),
        (size - 2, 9),
        (size, 4),
    ] {
        let mut want = vec![0xaa; len];
        let n = fs.read_at(f, offset, &mut want, T1).unwrap();
        want.truncate(n);
        let mut got = b"kept".to_vec();
        assert_eq!(fs.read_append(f, offset, len, &mut got, T1), Ok(n));
        assert_eq!(&got[..4], b"kept", "appended after what was there");
        assert_eq!(&got[4..], &want[..], "offset {offset}, {len} bytes");
    }
    let d = fs.root();
    assert_eq!(
        fs.read_append(d, 0, 1, &mut Vec::new(), T1),
        Err(Errno::EISDIR)
    );
}

#[test]
fn read_append_keeps_relatime() {
    let mut fs = new_fs();
    let f = file(&mut fs, "/f", 0o644, b"data");
    let mut out = Vec::new();
    fs.read_append(f, 0, 4, &mut out, T1).unwrap();
    assert_eq!(fs.stat(f).unwrap().atime, T1);
    fs.write_at(&root(), f, 0, b"x", T2).unwrap();
    let later = Timespec::new(T2.sec + 10, 0);
    fs.read_append(f, 0, 0, &mut out, later).unwrap();
    assert_eq!(
        fs.stat(f).unwrap().atime,
        T1,
        "an empty read does not count"
    );
    fs.read_append(f, 100, 4, &mut out, later).unwrap();
    assert_eq!(fs.stat(f).unwrap().atime, later, "a read at EOF counts");
}
