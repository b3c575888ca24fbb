//! Directory listings: `.` and `..` first, cookies that survive entries coming and going, and
//! `struct linux_dirent64` records parsed back from the bytes.

mod common;

use std::collections::BTreeSet;

use common::*;
use k42_ramfs::{DirEntry, Errno, FileType, Fs, Ino, dirent64_reclen, encode_dirent64};

/// A parsed `struct linux_dirent64`.
#[derive(Debug, PartialEq, Eq)]
struct Raw {
    ino: u64,
    off: i64,
    reclen: u16,
    dtype: u8,
    name: Vec<u8>,
}

/// Parses a getdents64 buffer the way a C library does, checking the framing.
fn parse(mut buf: &[u8]) -> Vec<Raw> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        assert!(buf.len() >= 24, "a record is at least 24 bytes");
        let ino = u64::from_le_bytes(buf[0..8].try_into().unwrap());
        let off = i64::from_le_bytes(buf[8..16].try_into().unwrap());
        let reclen = u16::from_le_bytes(buf[16..18].try_into().unwrap());
        let dtype = buf[18];
        assert_eq!(reclen % 8, 0, "reclen is 8-byte aligned");
        let rec = &buf[..reclen as usize];
        let nul = rec[19..]
            .iter()
            .position(|&b| b == 0)
            .expect("NUL-terminated")
            + 19;
        assert!(rec[nul..].iter().all(|&b| b == 0), "zero padding");
        out.push(Raw {
            ino,
            off,
            reclen,
            dtype,
            name: rec[19..nul].to_vec(),
        });
        buf = &buf[reclen as usize..];
    }
    out
}

/// Lists a directory the way `readdir` over getdents64 does: `buf_len`-byte calls, each
/// resuming from the last record's d_off, running `between` before each call.
fn list_with(
    fs: &mut Fs,
    dir: Ino,
    buf_len: usize,
    mut between: impl FnMut(&mut Fs, usize),
) -> Vec<Vec<u8>> {
    let mut cookie = 0;
    let mut names = Vec::new();
    for call in 0.. {
        between(fs, call);
        let entries = fs.getdents(dir, cookie, buf_len / 24, T1).unwrap();
        let (bytes, n) = encode_dirent64(&entries, buf_len).unwrap();
        if n == 0 {
            break;
        }
        let raw = parse(&bytes);
        assert_eq!(raw.len(), n);
        cookie = raw.last().unwrap().off as u64;
        names.extend(raw.into_iter().map(|r| r.name));
    }
    names
}

#[test]
fn dot_and_dotdot_first_then_creation_order() {
    let mut fs = new_fs();
    let d = mkdir(&mut fs, "/d", 0o755);
    let sub = mkdir(&mut fs, "/d/sub", 0o755);
    let f = file(&mut fs, "/d/f", 0o644, b"");
    let l = symlink(&mut fs, "f", "/d/l");
    let p = fs
        .mknod(
            &root(),
            fs.root(),
            b"/d/p",
            S_IFIFO | 0o644,
            Default::default(),
            0,
            T0,
        )
        .unwrap();
    let e = fs.getdents(d, 0, 100, T1).unwrap();
    let got: Vec<(Ino, &[u8], FileType)> = e
        .iter()
        .map(|e| (e.ino, e.name.as_slice(), e.kind))
        .collect();
    assert_eq!(
        got,
        [
            (d, &b"."[..], FileType::Directory),
            (fs.root(), b"..", FileType::Directory),
            (sub, b"sub", FileType::Directory),
            (f, b"f", FileType::Regular),
            (l, b"l", FileType::Symlink),
            (p, b"p", FileType::Fifo),
        ]
    );
    // Cookies increase, and each resumes right after its entry.
    for (i, entry) in e.iter().enumerate() {
        let rest = fs.getdents(d, entry.next_cookie, 100, T1).unwrap();
        assert_eq!(rest, e[i + 1..]);
    }
    assert!(e.windows(2).all(|w| w[0].next_cookie < w[1].next_cookie));
    // `..` of the root is the root.
    let r = fs.getdents(fs.root(), 0, 2, T1).unwrap();
    assert_eq!((r[0].ino, r[1].ino), (fs.root(), fs.root()));
    // `max` bounds the answer.
    assert_eq!(fs.getdents(d, 0, 3, T1).unwrap().len(), 3);
    assert_eq!(fs.getdents(d, 0, 0, T1).unwrap().len(), 0);
    // Not a directory.
    assert_eq!(fs.getdents(f, 0, 10, T1), Err(Errno::ENOTDIR));
}

#[test]
fn encoding_parses_back() {
    let mut fs = new_fs();
    let d = mkdir(&mut fs, "/d", 0o755);
    let long = "L".repeat(255);
    for name in ["a", "bcdef", "1234567", "12345678", long.as_str()] {
        file(&mut fs, &format!("/d/{name}"), 0o644, b"");
    }
    let entries = fs.getdents(d, 0, 100, T1).unwrap();
    let (bytes, n) = encode_dirent64(&entries, 1 << 16).unwrap();
    assert_eq!(n, entries.len());
    let raw = parse(&bytes);
    for (r, e) in raw.iter().zip(&entries) {
        assert_eq!(r.ino, e.ino);
        assert_eq!(r.off as u64, e.next_cookie);
        assert_eq!(r.dtype, e.kind.dirent_type());
        assert_eq!(r.name, e.name);
        assert_eq!(r.reclen as usize, dirent64_reclen(e.name.len()));
    }
    // Record sizes: 19-byte header + name + NUL, rounded up to 8.
    let reclens: Vec<u16> = raw.iter().map(|r| r.reclen).collect();
    assert_eq!(reclens, [24, 24, 24, 32, 32, 32, 280]);
    assert_eq!(raw[0].dtype, 4, "DT_DIR");
    assert_eq!(raw[2].dtype, 8, "DT_REG");
}

#[test]
fn encoding_stops_at_the_buffer_and_refuses_a_tiny_one() {
    let entries: Vec<DirEntry> = (0..5)
        .map(|i| DirEntry {
            ino: 100 + i,
            name: format!("name{i}").into_bytes(),
            kind: FileType::Regular,
            next_cookie: 10 + i,
        })
        .collect();
    // Each record is 32 bytes.
    let (bytes, n) = encode_dirent64(&entries, 100).unwrap();
    assert_eq!((bytes.len(), n), (96, 3));
    assert_eq!(parse(&bytes).last().unwrap().off, 12);
    let (bytes, n) = encode_dirent64(&entries, 32).unwrap();
    assert_eq!((bytes.len(), n), (32, 1));
    assert_eq!(encode_dirent64(&entries, 31), Err(Errno::EINVAL));
    assert_eq!(encode_dirent64(&entries, 0), Err(Errno::EINVAL));
    // The end of the directory: nothing, whatever the buffer.
    assert_eq!(encode_dirent64(&[], 0), Ok((Vec::new(), 0)));
}

#[test]
fn small_buffers_list_everything_once() {
    let mut fs = new_fs();
    let d = mkdir(&mut fs, "/d", 0o755);
    let mut expected = vec![b".".to_vec(), b"..".to_vec()];
    for i in 0..100 {
        file(&mut fs, &format!("/d/file{i:03}"), 0o644, b"");
        expected.push(format!("file{i:03}").into_bytes());
    }
    for buf_len in [32, 40, 64, 100, 200, 4096] {
        let names = list_with(&mut fs, d, buf_len, |_, _| {});
        assert_eq!(names, expected, "buffer {buf_len}");
    }
}

#[test]
fn cookies_survive_concurrent_inserts_and_removals() {
    let mut fs = new_fs();
    let d = mkdir(&mut fs, "/d", 0o755);
    for i in 0..60 {
        file(&mut fs, &format!("/d/old{i:02}"), 0o644, b"");
    }
    // Between calls: remove two old entries (one possibly already listed, one possibly
    // not) and add a new one.
    let mut removed = BTreeSet::new();
    let mut added = BTreeSet::new();
    let names = list_with(&mut fs, d, 64, |fs, call| {
        // (Only for a while: a directory that grows on every call is never listed to its end.)
        if call == 0 || call > 20 {
            return;
        }
        for victim in [call * 3 % 60, (call * 7 + 30) % 60] {
            let name = format!("old{victim:02}");
            if fs
                .unlink(&root(), fs.root(), format!("/d/{name}").as_bytes(), T1)
                .is_ok()
            {
                removed.insert((name, call));
            }
        }
        let name = format!("new{call:02}");
        file(fs, &format!("/d/{name}"), 0o644, b"");
        added.insert(name);
    });
    let listed: Vec<String> = names
        .iter()
        .map(|n| String::from_utf8(n.clone()).unwrap())
        .collect();
    // Nothing twice.
    let unique: BTreeSet<&String> = listed.iter().collect();
    assert_eq!(unique.len(), listed.len(), "{listed:?}");
    // Every old entry never removed is listed; so is every one added (new entries land after
    // every cookie handed out).
    let removed_names: BTreeSet<&String> = removed.iter().map(|(n, _)| n).collect();
    for i in 0..60 {
        let name = format!("old{i:02}");
        if !removed_names.contains(&name) {
            assert!(unique.contains(&name), "{name} missing");
        }
    }
    for name in &added {
        assert!(unique.contains(name), "{name} missing");
    }
    // Only live or once-live names.
    for name in &listed {
        assert!(
            name == "." || name == ".." || name.starts_with("old") || added.contains(name),
            "{name}"
        );
    }
    assert!(!removed.is_empty());
    // Old entries appear in their original order.
    let olds: Vec<&String> = listed.iter().filter(|n| n.starts_with("old")).collect();
    assert!(olds.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn a_cookie_past_a_removed_entry_still_works() {
    let mut fs = new_fs();
    let d = mkdir(&mut fs, "/d", 0o755);
    for name in ["a", "b", "c"] {
        file(&mut fs, &format!("/d/{name}"), 0o644, b"");
    }
    let e = fs.getdents(d, 0, 3, T1).unwrap();
    assert_eq!(e[2].name, b"a");
    let cookie = e[2].next_cookie;
    // The entry the cookie points after, and the one it points at, both go.
    fs.unlink(&root(), fs.root(), b"/d/a", T1).unwrap();
    fs.unlink(&root(), fs.root(), b"/d/b", T1).unwrap();
    let rest: Vec<Vec<u8>> = fs
        .getdents(d, cookie, 10, T1)
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(rest, [b"c".to_vec()]);
    // Re-creating "a" puts it at the end.
    file(&mut fs, "/d/a", 0o644, b"");
    assert_eq!(names(&mut fs, "/d"), ["c", "a"]);
    // Rewinding starts over.
    assert_eq!(fs.getdents(d, 0, 1, T1).unwrap()[0].name, b".");
}

#[test]
fn listing_updates_atime() {
    let mut fs = new_fs();
    let d = mkdir(&mut fs, "/d", 0o755);
    fs.getdents(d, 0, 10, T2).unwrap();
    assert_eq!(fs.stat(d).unwrap().atime, T2);
}
