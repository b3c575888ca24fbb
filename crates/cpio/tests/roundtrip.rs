//! Writer → parser round trips for every node kind, the tree's query API, and the writer's
//! output format (what `gen_init_cpio` produces, so Linux accepts it too).

mod common;

use k42_cpio::mode::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG, S_IFSOCK};
use k42_cpio::{Node, NodeKind, Tree, Writer};

fn sample() -> Vec<u8> {
    let mut w = Writer::new();
    w.dir("/", 0o700)
        .dir("/bin", 0o755)
        .file("/bin/sh", 0o755, b"#!shell")
        .file("/etc/empty", 0o600, b"")
        .symlink("/init", "/bin/sh")
        .char_dev("/dev/console", 0o600, 5, 1)
        .block_dev("/dev/vda", 0o660, 254, 0)
        .fifo("/run/fifo", 0o644)
        .socket("/run/sock", 0o755);
    w.finish()
}

#[test]
fn every_node_kind_round_trips() {
    let tree = Tree::parse(&sample()).unwrap();
    let sh = tree.lookup("/bin/sh").unwrap();
    assert_eq!(sh.file_data(), Some(&b"#!shell"[..]));
    assert_eq!(sh.mode, S_IFREG | 0o755);
    assert_eq!(
        tree.lookup("/etc/empty").unwrap().file_data(),
        Some(&[][..])
    );
    let init = tree.lookup("/init").unwrap();
    assert_eq!(init.kind, NodeKind::Symlink("/bin/sh".into()));
    assert_eq!(init.mode, S_IFLNK | 0o777);
    let console = tree.lookup("/dev/console").unwrap();
    assert_eq!(console.kind, NodeKind::CharDev { major: 5, minor: 1 });
    assert_eq!(console.mode, S_IFCHR | 0o600);
    let vda = tree.lookup("/dev/vda").unwrap();
    assert_eq!(
        vda.kind,
        NodeKind::BlockDev {
            major: 254,
            minor: 0
        }
    );
    assert_eq!(vda.mode, S_IFBLK | 0o660);
    let fifo = tree.lookup("/run/fifo").unwrap();
    assert_eq!((&fifo.kind, fifo.mode), (&NodeKind::Fifo, S_IFIFO | 0o644));
    let sock = tree.lookup("/run/sock").unwrap();
    assert_eq!(
        (&sock.kind, sock.mode),
        (&NodeKind::Socket, S_IFSOCK | 0o755)
    );
    assert_eq!(tree.root().mode, S_IFDIR | 0o700);
}

#[test]
fn writer_entries_are_owned_by_root_at_time_zero() {
    let tree = Tree::parse(&sample()).unwrap();
    tree.walk(&mut |path, node| {
        assert_eq!((node.uid, node.gid, node.mtime), (0, 0, 0), "{path}");
    });
}

#[test]
fn walk_is_depth_first_sorted_and_counts_match() {
    let tree = Tree::parse(&sample()).unwrap();
    let mut paths = Vec::new();
    tree.walk(&mut |path, _| paths.push(path.to_string()));
    assert_eq!(
        paths,
        [
            "/",
            "/bin",
            "/bin/sh",
            "/dev",
            "/dev/console",
            "/dev/vda",
            "/etc",
            "/etc/empty",
            "/init",
            "/run",
            "/run/fifo",
            "/run/sock",
        ]
    );
    // Everything but the root; /dev, /etc and /run were created implicitly.
    assert_eq!(tree.entry_count(), paths.len() - 1);
    assert_eq!(tree.total_file_bytes(), b"#!shell".len());
}

#[test]
fn lookup_accepts_every_spelling_and_never_follows_symlinks() {
    let tree = Tree::parse(&sample()).unwrap();
    let sh = tree.lookup("/bin/sh").unwrap();
    for spelling in ["bin/sh", "./bin/sh", "//bin///sh", "/bin/./sh/"] {
        assert_eq!(tree.lookup(spelling), Some(sh), "{spelling}");
    }
    for root in ["/", "", "."] {
        assert!(tree.lookup(root).unwrap().is_dir());
    }
    assert!(tree.lookup("/bin/../bin/sh").is_none());
    assert!(tree.lookup("/missing").is_none());
    assert!(tree.lookup("/bin/sh/deeper").is_none());
    assert!(tree.lookup("/init").unwrap().symlink_target().is_some());
}

#[test]
fn node_helpers() {
    let tree = Tree::parse(&sample()).unwrap();
    let bin = tree.lookup("/bin").unwrap();
    assert!(bin.is_dir() && !bin.is_file());
    assert_eq!(bin.file_data(), None);
    let names: Vec<&str> = bin.children().unwrap().map(|(n, _)| n).collect();
    assert_eq!(names, ["sh"]);
    let sh = bin.child("sh").unwrap();
    assert!(sh.is_file() && sh.children().is_none());
    assert_eq!((sh.permissions(), sh.file_type()), (0o755, S_IFREG));
    assert_eq!(Node::empty_dir(0o1777).mode, S_IFDIR | 0o1777);
}

#[test]
fn new_tree_is_an_empty_root() {
    let tree = Tree::new();
    // Linux's rootfs root: tmpfs's 1777, until an archive entry for "." says otherwise.
    assert_eq!(tree.root().mode, 0o41777);
    assert_eq!(tree.root().children().unwrap().count(), 0);
    assert_eq!((tree.entry_count(), tree.total_file_bytes()), (0, 0));
    assert_eq!(Tree::default(), tree);
}

#[test]
fn empty_writer_gives_an_archive_with_only_a_trailer() {
    let bytes = Writer::new().finish();
    assert_eq!(bytes.len(), 512);
    assert!(bytes.starts_with(b"070701"));
    assert_eq!(Tree::parse(&bytes).unwrap(), Tree::new());
}

#[test]
fn writer_output_matches_gen_init_cpio_layout() {
    let mut w = Writer::new();
    w.file("/a", 0o644, b"xyz").dir("/d", 0o755);
    let bytes = w.finish();
    assert_eq!(bytes.len() % 512, 0);
    // Header of the first entry: ino 1, regular file, nlink 1, size 3, name "a" + NUL.
    let header = std::str::from_utf8(&bytes[..110]).unwrap();
    assert_eq!(
        header,
        "070701\
         00000001\
         000081A4\
         00000000\
         00000000\
         00000001\
         00000000\
         00000003\
         00000000\
         00000000\
         00000000\
         00000000\
         00000002\
         00000000"
    );
    // The name is written without its leading "/", then padded so that data starts 4-aligned.
    assert_eq!(&bytes[110..112], b"a\0");
    assert_eq!(&bytes[112..115], b"xyz");
    assert_eq!(bytes[115], 0);
    // The directory has the next inode and nlink 2.
    let dir = std::str::from_utf8(&bytes[116..226]).unwrap();
    assert_eq!(&dir[6..14], "00000002");
    assert_eq!(&dir[38..46], "00000002");
    assert!(bytes.windows(10).any(|w| w == b"TRAILER!!!"));
}

#[test]
fn writer_type_bits_in_mode_are_ignored() {
    let mut w = Writer::new();
    w.file("/f", S_IFDIR | 0o4755, b"");
    let tree = Tree::parse(&w.finish()).unwrap();
    assert_eq!(tree.lookup("/f").unwrap().mode, S_IFREG | 0o4755);
}

#[test]
fn large_and_binary_files_round_trip() {
    let data: Vec<u8> = (0..200_003u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let mut w = Writer::new();
    for name in ["/x1", "/x2", "/x3"] {
        w.file(name, 0o644, &data[..data.len() - name.len()]);
    }
    let tree = Tree::parse(&w.finish()).unwrap();
    assert_eq!(
        tree.lookup("/x3").unwrap().file_data().unwrap(),
        &data[..data.len() - 3]
    );
}

#[test]
fn deep_nesting_parses_walks_and_drops() {
    // About 2000 levels, the most a 4096-byte path allows: nothing may recurse per level.
    let path: String = "/d".repeat(2000);
    let mut w = Writer::new();
    w.file(&format!("{path}/f"), 0o644, b"deep");
    let tree = Tree::parse(&w.finish()).unwrap();
    assert_eq!(tree.entry_count(), 2001);
    let mut deepest = 0;
    tree.walk(&mut |p, _| deepest = deepest.max(p.len()));
    assert_eq!(deepest, path.len() + 2);
    drop(tree);
}

#[test]
#[should_panic(expected = "'..'")]
fn writer_panics_on_dot_dot() {
    Writer::new().file("/a/../b", 0o644, b"");
}

#[test]
#[should_panic(expected = "not a directory")]
fn writer_panics_below_a_file() {
    Writer::new()
        .file("/a", 0o644, b"")
        .file("/a/b", 0o644, b"");
}

#[test]
#[should_panic(expected = "must be a directory")]
fn writer_panics_on_a_non_directory_root() {
    Writer::new().file("/", 0o644, b"");
}

#[test]
#[should_panic(expected = "target")]
fn writer_panics_on_an_empty_symlink_target() {
    Writer::new().symlink("/l", "");
}

#[test]
fn writer_allows_a_directory_over_a_file_then_children() {
    let mut w = Writer::new();
    w.file("/a", 0o644, b"x")
        .dir("/a", 0o755)
        .file("/a/b", 0o644, b"y");
    let tree = Tree::parse(&w.finish()).unwrap();
    assert_eq!(tree.lookup("/a/b").unwrap().file_data(), Some(&b"y"[..]));
}
