//! How segments combine: concatenated archives with later-wins semantics, zero padding, gzip
//! members mixed with plain archives, hard links, and Linux's tolerances (implicit parents,
//! "./" names, gen_init_cpio's NUL-terminated symlink targets).

mod common;

use common::{Raw, S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, archive, gzip, gzip_named};
use k42_cpio::{Error, Limits, NodeKind, Tree, Writer};

fn data_of<'t>(tree: &'t Tree, path: &str) -> &'t [u8] {
    tree.lookup(path).unwrap().file_data().unwrap()
}

#[test]
fn later_file_replaces_earlier_file() {
    let mut input = archive(&[Raw::file("a", b"old"), Raw::file("b", b"kept")]);
    let mut second = Raw::file("a", b"new!");
    second.uid = 7;
    input.extend(archive(&[second]));
    let tree = Tree::parse(&input).unwrap();
    assert_eq!(data_of(&tree, "/a"), b"new!");
    assert_eq!(tree.lookup("/a").unwrap().uid, 7);
    assert_eq!(data_of(&tree, "/b"), b"kept");
    assert_eq!(tree.entry_count(), 2);
    assert_eq!(tree.total_file_bytes(), 4 + 4);
}

#[test]
fn later_directory_updates_metadata_and_keeps_children() {
    let mut input = archive(&[Raw::dir("d"), Raw::file("d/f", b"x")]);
    let mut again = Raw::new("d", S_IFDIR | 0o700, b"");
    again.gid = 9;
    again.mtime = 1234;
    input.extend(archive(&[again]));
    let tree = Tree::parse(&input).unwrap();
    let d = tree.lookup("/d").unwrap();
    assert_eq!((d.mode, d.gid, d.mtime), (S_IFDIR | 0o700, 9, 1234));
    assert_eq!(data_of(&tree, "/d/f"), b"x");
}

#[test]
fn file_replaces_directory_with_its_subtree_and_back() {
    let mut input = archive(&[
        Raw::dir("d"),
        Raw::file("d/f", b"abc"),
        Raw::file("d/g", b"de"),
    ]);
    input.extend(archive(&[Raw::file("d", b"now a file")]));
    let tree = Tree::parse(&input).unwrap();
    assert_eq!(data_of(&tree, "/d"), b"now a file");
    assert_eq!(tree.entry_count(), 1);
    assert_eq!(tree.total_file_bytes(), 10);

    input.extend(archive(&[Raw::dir("d")]));
    let tree = Tree::parse(&input).unwrap();
    assert!(tree.lookup("/d").unwrap().is_dir());
    assert_eq!((tree.entry_count(), tree.total_file_bytes()), (1, 0));
}

#[test]
fn entries_in_one_archive_also_override() {
    let input = archive(&[
        Raw::file("x", b"1"),
        Raw::new("x", S_IFLNK | 0o777, b"target"),
    ]);
    let tree = Tree::parse(&input).unwrap();
    assert_eq!(tree.lookup("x").unwrap().symlink_target(), Some("target"));
}

#[test]
fn zero_padding_between_archives_is_skipped() {
    let mut input = archive(&[Raw::file("a", b"1")]);
    input.extend([0; 512 + 4]);
    input.extend(archive(&[Raw::file("b", b"2")]));
    input.extend([0; 3]);
    let tree = Tree::parse(&input).unwrap();
    assert_eq!(data_of(&tree, "a"), b"1");
    assert_eq!(data_of(&tree, "b"), b"2");
}

#[test]
fn writer_archives_concatenate_directly() {
    let mut one = Writer::new();
    one.dir("/etc", 0o755).file("/etc/motd", 0o644, b"one");
    let mut two = Writer::new();
    two.file("/etc/motd", 0o644, b"two")
        .file("/etc/hosts", 0o644, b"h");
    let mut input = one.finish();
    input.extend(two.finish());
    let tree = Tree::parse(&input).unwrap();
    assert_eq!(data_of(&tree, "/etc/motd"), b"two");
    assert_eq!(data_of(&tree, "/etc/hosts"), b"h");
}

#[test]
fn gzip_member_is_inflated() {
    let mut w = Writer::new();
    w.file("/init", 0o755, &[b'z'; 10_000]);
    let input = gzip(&w.finish());
    let tree = Tree::parse(&input).unwrap();
    assert_eq!(data_of(&tree, "/init"), &[b'z'; 10_000][..]);
}

#[test]
fn gzip_member_may_hold_several_archives_with_padding() {
    let mut payload = archive(&[Raw::file("a", b"first")]);
    payload.extend([0; 8]);
    payload.extend(archive(&[Raw::file("a", b"second")]));
    payload.extend([0; 100]);
    let tree = Tree::parse(&gzip_named(&payload, "initrd.cpio")).unwrap();
    assert_eq!(data_of(&tree, "a"), b"second");
}

#[test]
fn plain_then_gzip_then_plain() {
    // Like an early-microcode archive, then the main image, then an appended overlay.
    let mut input = archive(&[
        Raw::file("kernel/ucode", b"ucode"),
        Raw::file("a", b"plain"),
    ]);
    input.extend(gzip(&archive(&[
        Raw::file("a", b"gz"),
        Raw::file("b", b"gz"),
    ])));
    // A plain archive must start 4-aligned; after a gzip member Linux skips zeros to get there.
    common::pad4(&mut input);
    input.extend(archive(&[Raw::file("b", b"overlay")]));
    let tree = Tree::parse(&input).unwrap();
    assert_eq!(data_of(&tree, "/kernel/ucode"), b"ucode");
    assert_eq!(data_of(&tree, "/a"), b"gz");
    assert_eq!(data_of(&tree, "/b"), b"overlay");
}

#[test]
fn consecutive_gzip_members_at_any_alignment() {
    let mut input = vec![0; 1]; // pushes the first member off alignment
    input.extend(gzip(&archive(&[Raw::file("a", b"1")])));
    input.extend(gzip(&archive(&[Raw::file("b", b"2")])));
    input.extend([0; 7]);
    let tree = Tree::parse(&input).unwrap();
    assert_eq!(
        (data_of(&tree, "a"), data_of(&tree, "b")),
        (&b"1"[..], &b"2"[..])
    );
}

#[test]
fn extend_from_lays_an_archive_over_a_tree() {
    let mut tree = Tree::parse(&archive(&[Raw::file("a", b"base"), Raw::dir("d")])).unwrap();
    tree.extend_from(
        &archive(&[Raw::file("a", b"over"), Raw::file("d/n", b"new")]),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(data_of(&tree, "/a"), b"over");
    assert_eq!(data_of(&tree, "/d/n"), b"new");
    assert_eq!(tree.entry_count(), 3);
}

#[test]
fn names_are_normalised() {
    let tree = Tree::parse(&archive(&[
        Raw::file("./dot", b"1"),
        Raw::file("/abs", b"2"),
        Raw::file("a//b///c", b"3"),
        Raw::file("x/./y/", b"4"),
    ]))
    .unwrap();
    for (path, want) in [("/dot", "1"), ("/abs", "2"), ("/a/b/c", "3"), ("/x/y", "4")] {
        assert_eq!(data_of(&tree, path), want.as_bytes(), "{path}");
    }
}

#[test]
fn dot_entry_sets_root_metadata() {
    let mut root = Raw::new(".", S_IFDIR | 0o711, b"");
    root.uid = 3;
    let tree = Tree::parse(&archive(&[root])).unwrap();
    assert_eq!((tree.root().mode, tree.root().uid), (S_IFDIR | 0o711, 3));
    assert_eq!(tree.entry_count(), 0);
}

#[test]
fn missing_parents_are_created_as_root_owned_0755_directories() {
    let tree = Tree::parse(&archive(&[Raw::file("usr/lib/x/libc.so", b"elf")])).unwrap();
    for dir in ["/usr", "/usr/lib", "/usr/lib/x"] {
        let node = tree.lookup(dir).unwrap();
        assert_eq!((node.mode, node.uid, node.mtime), (0o40755, 0, 0), "{dir}");
    }
    assert_eq!(tree.entry_count(), 4);
}

#[test]
fn symlink_target_with_trailing_nul_as_gen_init_cpio_writes_it() {
    let tree = Tree::parse(&archive(&[Raw::new("sh", S_IFLNK | 0o777, b"busybox\0")])).unwrap();
    assert_eq!(tree.lookup("sh").unwrap().symlink_target(), Some("busybox"));
}

#[test]
fn device_numbers_come_from_rdev_not_dev() {
    let mut dev = Raw::new("dev/null", S_IFCHR | 0o666, b"");
    (dev.devmajor, dev.devminor, dev.rdevmajor, dev.rdevminor) = (8, 1, 1, 3);
    let tree = Tree::parse(&archive(&[dev])).unwrap();
    assert_eq!(
        tree.lookup("/dev/null").unwrap().kind,
        NodeKind::CharDev { major: 1, minor: 3 }
    );
}

#[test]
fn crc_format_with_correct_checksum_is_accepted() {
    let data = b"checksummed \xff\xfe";
    let mut entry = Raw::file("f", data);
    entry.magic = "070702";
    entry.check = data.iter().map(|&b| u32::from(b)).sum();
    let mut trailer = Raw::trailer();
    trailer.magic = "070702";
    let mut input = entry.bytes();
    input.extend(trailer.bytes());
    let tree = Tree::parse(&input).unwrap();
    assert_eq!(data_of(&tree, "f"), data);
}

fn link(name: &str, ino: u32, data: &[u8]) -> Raw {
    let mut r = Raw::file(name, data);
    r.ino = ino;
    r.nlink = 3;
    r
}

#[test]
fn hard_links_share_the_data_written_on_the_last_name() {
    // GNU cpio's layout: every name but the last has size 0.
    let mut last = link("bin/c", 42, b"busybox");
    last.mode = S_IFREG | 0o755;
    last.uid = 5;
    let tree = Tree::parse(&archive(&[
        {
            let mut r = link("bin/a", 42, b"");
            r.mode = S_IFREG | 0o755;
            r
        },
        {
            let mut r = link("bin/b", 42, b"");
            r.mode = S_IFREG | 0o755;
            r
        },
        last,
        link("unrelated", 43, b""),
    ]))
    .unwrap();
    for name in ["/bin/a", "/bin/b", "/bin/c"] {
        let node = tree.lookup(name).unwrap();
        assert_eq!(node.file_data(), Some(&b"busybox"[..]), "{name}");
        assert_eq!(node.uid, 5, "{name}");
    }
    assert_eq!(data_of(&tree, "/unrelated"), b"");
    assert_eq!(tree.total_file_bytes(), 3 * 7);
}

#[test]
fn hard_links_with_data_on_the_first_name() {
    let tree = Tree::parse(&archive(&[link("a", 9, b"payload"), link("b", 9, b"")])).unwrap();
    assert_eq!(data_of(&tree, "a"), b"payload");
    assert_eq!(data_of(&tree, "b"), b"payload");
}

#[test]
fn hard_links_do_not_join_across_archives_or_devices() {
    let mut input = archive(&[link("a", 9, b"one")]);
    input.extend(archive(&[link("b", 9, b"")]));
    let mut other_dev = link("c", 9, b"");
    other_dev.devminor = 1;
    input.extend(archive(&[link("d", 9, b"x"), other_dev]));
    let tree = Tree::parse(&input).unwrap();
    assert_eq!(data_of(&tree, "a"), b"one");
    assert_eq!(data_of(&tree, "b"), b"");
    assert_eq!(data_of(&tree, "c"), b"");
    assert_eq!(data_of(&tree, "d"), b"x");
}

#[test]
fn hard_link_name_replaced_by_a_directory_is_left_alone() {
    let tree = Tree::parse(&archive(&[
        link("a", 9, b""),
        Raw::dir("a"),
        link("b", 9, b"data"),
    ]))
    .unwrap();
    assert!(tree.lookup("a").unwrap().is_dir());
    assert_eq!(data_of(&tree, "b"), b"data");
}

#[test]
fn empty_and_all_zero_inputs_give_an_empty_tree() {
    assert_eq!(Tree::parse(&[]).unwrap(), Tree::new());
    assert_eq!(Tree::parse(&[0; 1024]).unwrap(), Tree::new());
    assert_eq!(Tree::parse(&gzip(&[0; 64])).unwrap(), Tree::new());
}

#[test]
fn gnu_cpio_archive_from_the_host_parses() {
    // Built by tests/data/make-fixtures.sh with GNU cpio and gzip: a "." root entry, hard links
    // with the data on the last name, symlink targets without a NUL.
    let tree = Tree::parse(include_bytes!("data/gnu-newc.cpio.gz")).unwrap();
    assert_eq!(data_of(&tree, "/bin/tool"), b"tool binary\n");
    assert_eq!(data_of(&tree, "/bin/tool-link"), b"tool binary\n");
    assert_eq!(
        tree.lookup("/bin/sh").unwrap().symlink_target(),
        Some("tool")
    );
    assert!(tree.lookup("/etc").unwrap().is_dir());
    assert_eq!(data_of(&tree, "/etc/motd"), b"hello from GNU cpio\n");
    assert_eq!(tree.lookup("/run/fifo").unwrap().kind, NodeKind::Fifo);
    assert_eq!(tree.lookup("/etc/motd").unwrap().permissions(), 0o640);
    assert_eq!(tree.root().mode, S_IFDIR | 0o700);
}

#[test]
fn unsupported_compression_is_named() {
    let err = Tree::parse(&[0x28, 0xb5, 0x2f, 0xfd, 0, 0]).unwrap_err();
    assert_eq!(
        err,
        Error::UnsupportedCompression {
            offset: 0,
            format: "zstd"
        }
    );
}

#[test]
fn crate_gzip_members_chain_with_plain_archives() {
    // k42_cpio::gzip is what the xtask uses for the run's argv layer: a member
    // padded so that a plain archive may follow it, later entries winning.
    let mut first = Writer::new();
    first.file("/etc/motd", 0o644, b"plain");
    let mut second = Writer::new();
    second.file("/etc/motd", 0o644, b"compressed");
    let member = k42_cpio::gzip(&second.finish());
    assert_eq!(
        member.len() % 4,
        0,
        "a member must leave the next archive aligned"
    );
    let mut third = Writer::new();
    third.file("/etc/issue", 0o644, b"after");
    let mut input = first.finish();
    input.extend(&member);
    input.extend(third.finish());
    let tree = Tree::parse(&input).unwrap();
    assert_eq!(data_of(&tree, "/etc/motd"), b"compressed");
    assert_eq!(data_of(&tree, "/etc/issue"), b"after");
}
