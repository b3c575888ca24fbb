//! `Limits` bound what a parse may build or decompress, whatever the headers claim.

mod common;

use common::{Raw, archive, gzip};
use k42_cpio::{Error, Limits, Tree};

fn limits(max_total_bytes: usize, max_entries: usize, max_file_size: usize) -> Limits {
    Limits {
        max_total_bytes,
        max_entries,
        max_file_size,
    }
}

#[test]
fn defaults_are_sensible() {
    let d = Limits::default();
    assert_eq!(d.max_total_bytes, 1 << 30);
    assert_eq!(d.max_entries, 1_000_000);
    assert_eq!(d.max_file_size, 512 << 20);
}

#[test]
fn file_size_limit() {
    let second = Raw::file("a", b"1234");
    let input = archive(&[second.clone(), Raw::file("b", b"12345")]);
    assert_eq!(
        Tree::parse_with_limits(&input, &limits(100, 10, 4)).unwrap_err(),
        Error::FileTooLarge {
            offset: second.bytes().len(),
            size: 5,
            limit: 4
        }
    );
    assert!(Tree::parse_with_limits(&input, &limits(100, 10, 5)).is_ok());
}

#[test]
fn absurd_file_size_is_refused_before_anything_is_read() {
    let mut raw = Raw::file("a", b"");
    raw.filesize = Some(0xffff_fff0);
    assert_eq!(
        Tree::parse(&archive(&[raw])).unwrap_err(),
        Error::FileTooLarge {
            offset: 0,
            size: 0xffff_fff0,
            limit: 512 << 20
        }
    );
}

#[test]
fn entry_limit_counts_implicit_directories() {
    let input = archive(&[Raw::file("a/b/c", b"")]);
    assert!(Tree::parse_with_limits(&input, &limits(100, 3, 100)).is_ok());
    assert_eq!(
        Tree::parse_with_limits(&input, &limits(100, 2, 100)).unwrap_err(),
        Error::TooManyEntries {
            offset: 0,
            limit: 2
        }
    );
}

#[test]
fn replacing_an_entry_does_not_count_twice() {
    let input = archive(&[
        Raw::file("a", b"1"),
        Raw::file("a", b"2"),
        Raw::file("a", b"3"),
    ]);
    let tree = Tree::parse_with_limits(&input, &limits(1, 1, 1)).unwrap();
    assert_eq!((tree.entry_count(), tree.total_file_bytes()), (1, 1));
}

#[test]
fn total_file_bytes_limit() {
    let second = Raw::file("a", b"12345");
    let input = archive(&[second.clone(), Raw::file("b", b"123456")]);
    assert_eq!(
        Tree::parse_with_limits(&input, &limits(10, 10, 10)).unwrap_err(),
        Error::TreeTooLarge {
            offset: second.bytes().len(),
            limit: 10
        }
    );
    assert!(Tree::parse_with_limits(&input, &limits(11, 10, 10)).is_ok());
}

#[test]
fn hard_link_copies_count_against_the_byte_limit() {
    // One 1000-byte file with 20 names must not make 20 000 bytes appear from 1000 of input.
    let mut entries: Vec<Raw> = (0..20)
        .map(|i| {
            let mut r = Raw::file(&format!("l{i}"), b"");
            (r.ino, r.nlink) = (7, 20);
            r
        })
        .collect();
    entries[19].data = vec![b'x'; 1000];
    let input = archive(&entries);
    assert!(matches!(
        Tree::parse_with_limits(&input, &limits(5000, 100, 1000)).unwrap_err(),
        Error::TreeTooLarge { limit: 5000, .. }
    ));
    let tree = Tree::parse_with_limits(&input, &limits(20_000, 100, 1000)).unwrap();
    assert_eq!(tree.total_file_bytes(), 20_000);
}

#[test]
fn decompressed_size_limit_stops_a_gzip_bomb() {
    // 16 MiB of zeros compress to about 16 KiB; the limit stops inflation long before the end.
    let mut payload = archive(&[Raw::file("a", b"x")]);
    payload.extend(vec![0; 16 << 20]);
    let bomb = gzip(&payload);
    assert!(bomb.len() < 64 << 10);
    assert_eq!(
        Tree::parse_with_limits(&bomb, &limits(1 << 20, 10, 10)).unwrap_err(),
        Error::DecompressedTooLarge {
            offset: 0,
            limit: 1 << 20
        }
    );
}

#[test]
fn decompressed_limit_is_shared_by_all_members() {
    let member = gzip(&archive(&[Raw::file("a", &[b'a'; 300])]));
    let one = archive(&[Raw::file("a", &[b'a'; 300])]).len();
    let mut input = member.clone();
    input.extend(&member);
    assert!(Tree::parse_with_limits(&input, &limits(2 * one, 10, 1000)).is_ok());
    assert_eq!(
        Tree::parse_with_limits(&input, &limits(2 * one - 1, 10, 1000)).unwrap_err(),
        Error::DecompressedTooLarge {
            offset: member.len(),
            limit: 2 * one - 1
        }
    );
}

#[test]
fn extend_from_limits_cover_the_existing_tree() {
    let mut tree = Tree::parse(&archive(&[Raw::file("a", b"12345")])).unwrap();
    let more = archive(&[Raw::file("b", b"123456")]);
    assert!(matches!(
        tree.extend_from(&more, &limits(10, 10, 10)),
        Err(Error::TreeTooLarge { .. })
    ));
    assert!(matches!(
        tree.extend_from(&more, &limits(100, 1, 10)),
        Err(Error::TooManyEntries { .. })
    ));
    tree.extend_from(&more, &limits(11, 2, 10)).unwrap();
    assert_eq!(tree.total_file_bytes(), 11);
}
