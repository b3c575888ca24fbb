//! Every way an initramfs can be malformed gives its own error variant with the right offset.

mod common;

use common::{Raw, S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, archive, gzip};
use k42_cpio::{Error, Tree};

fn err(input: &[u8]) -> Error {
    Tree::parse(input).unwrap_err()
}

/// The offset of the second entry of `archive(&[first, ..])`.
fn after(first: &Raw) -> usize {
    first.bytes().len()
}

#[test]
fn bad_magic() {
    let mut bad = Raw::file("a", b"");
    bad.magic = "070799";
    assert_eq!(err(&archive(&[bad])), Error::BadMagic { offset: 0 });

    let first = Raw::file("a", b"12345");
    let mut input = first.bytes();
    input.extend(b"0x0701");
    input.extend([b'0'; 200]);
    assert_eq!(
        err(&input),
        Error::BadMagic {
            offset: after(&first)
        }
    );
}

#[test]
fn input_that_is_not_an_archive() {
    assert_eq!(err(b"hello world"), Error::BadMagic { offset: 0 });
    assert_eq!(err(&[0, 0, 0, 0, 0xff]), Error::BadMagic { offset: 4 });
}

#[test]
fn old_portable_format_is_unsupported() {
    let mut odc = Raw::file("a", b"");
    odc.magic = "070707";
    assert_eq!(
        err(&archive(&[odc])),
        Error::UnsupportedFormat { offset: 0 }
    );
}

#[test]
fn non_hex_digit_in_header() {
    let mut input = archive(&[Raw::file("a", b"x")]);
    // Third digit of the mode field (header bytes 14..22).
    input[16] = b'g';
    assert_eq!(
        err(&input),
        Error::BadHexDigit {
            offset: 16,
            byte: b'g'
        }
    );
    input[16] = b' ';
    assert_eq!(
        err(&input),
        Error::BadHexDigit {
            offset: 16,
            byte: b' '
        }
    );
}

#[test]
fn truncated_header() {
    let input = archive(&[Raw::file("a", b"x")]);
    assert_eq!(err(&input[..50]), Error::TruncatedHeader { offset: 0 });
    assert_eq!(err(&input[..3]), Error::TruncatedHeader { offset: 0 });
}

#[test]
fn name_size_zero_or_over_path_max() {
    let mut zero = Raw::file("a", b"");
    zero.namesize = Some(0);
    assert_eq!(
        err(&archive(&[zero])),
        Error::BadNameSize { offset: 0, size: 0 }
    );
    let mut huge = Raw::file(&"n".repeat(4096), b"");
    huge.namesize = Some(4097);
    assert_eq!(
        err(&archive(&[huge])),
        Error::BadNameSize {
            offset: 0,
            size: 4097
        }
    );
    // Exactly PATH_MAX, the NUL included, is allowed.
    let longest = Raw::file(&"n".repeat(4095), b"ok");
    assert!(Tree::parse(&archive(&[longest])).is_ok());
}

#[test]
fn truncated_name() {
    let mut long = Raw::file("abc", b"");
    long.namesize = Some(4000);
    assert_eq!(err(&archive(&[long])), Error::TruncatedName { offset: 0 });
    let input = Raw::file("a-long-name", b"").bytes();
    assert_eq!(err(&input[..115]), Error::TruncatedName { offset: 0 });
}

#[test]
fn name_without_nul() {
    let mut raw = Raw::file("abcd", b"");
    raw.no_nul = true;
    assert_eq!(
        err(&archive(&[raw])),
        Error::NameNotTerminated { offset: 0 }
    );
}

#[test]
fn name_with_inner_nul_or_bad_utf8() {
    assert_eq!(
        err(&archive(&[Raw::file("a\0b", b"")])),
        Error::InvalidName { offset: 0 }
    );
    let mut raw = Raw::file("", b"");
    raw.name = vec![b'a', 0xff, 0xfe];
    assert_eq!(err(&archive(&[raw])), Error::InvalidName { offset: 0 });
}

#[test]
fn file_size_past_the_input() {
    let mut raw = Raw::file("a", b"short");
    raw.filesize = Some(1_000_000);
    assert_eq!(
        err(&raw.bytes()),
        Error::TruncatedData {
            offset: 0,
            size: 1_000_000
        }
    );
    let mut huge = Raw::file("a", b"");
    huge.filesize = Some(u32::MAX);
    let limits = k42_cpio::Limits::UNLIMITED;
    assert_eq!(
        Tree::parse_with_limits(&archive(&[huge]), &limits).unwrap_err(),
        Error::TruncatedData {
            offset: 0,
            size: u32::MAX
        }
    );
    let input = archive(&[Raw::file("a", b"0123456789")]);
    assert_eq!(
        err(&input[..118]),
        Error::TruncatedData {
            offset: 0,
            size: 10
        }
    );
}

#[test]
fn dot_dot_components_are_refused() {
    for name in ["..", "../etc/passwd", "a/../../b", "/x/..", "./.."] {
        let first = Raw::dir("ok");
        let input = archive(&[first.clone(), Raw::file(name, b"evil")]);
        assert_eq!(
            err(&input),
            Error::PathEscape {
                offset: after(&first)
            },
            "{name}"
        );
    }
}

#[test]
fn path_through_a_non_directory() {
    let first = Raw::file("a", b"file");
    let input = archive(&[first.clone(), Raw::file("a/b", b"")]);
    assert_eq!(
        err(&input),
        Error::NotADirectory {
            offset: after(&first)
        }
    );
    // Symlinks are not followed while unpacking either.
    let link = Raw::new("lib", S_IFLNK | 0o777, b"usr/lib");
    let input = archive(&[link.clone(), Raw::file("lib/libc.so", b"")]);
    assert_eq!(
        err(&input),
        Error::NotADirectory {
            offset: after(&link)
        }
    );
}

#[test]
fn root_entry_that_is_not_a_directory() {
    assert_eq!(
        err(&archive(&[Raw::file(".", b"")])),
        Error::RootNotDirectory { offset: 0 }
    );
    assert_eq!(
        err(&archive(&[Raw::file("/", b"")])),
        Error::RootNotDirectory { offset: 0 }
    );
}

#[test]
fn symlink_target_too_long() {
    let target = "t".repeat(4097);
    let raw = Raw::new("l", S_IFLNK | 0o777, target.as_bytes());
    assert_eq!(
        err(&archive(&[raw])),
        Error::SymlinkTargetTooLong {
            offset: 0,
            len: 4097
        }
    );
}

#[test]
fn symlink_target_empty_or_holding_nul() {
    for target in [&b""[..], b"\0", b"a\0b", b"\xff"] {
        let raw = Raw::new("l", S_IFLNK | 0o777, target);
        assert_eq!(
            err(&archive(&[raw])),
            Error::InvalidSymlinkTarget { offset: 0 }
        );
    }
}

#[test]
fn data_on_entries_that_hold_none() {
    for mode in [
        S_IFDIR | 0o755,
        S_IFCHR | 0o600,
        0o010_644,
        0o140_755,
        0o060_600,
    ] {
        let raw = Raw::new("x", mode, b"data");
        assert_eq!(
            err(&archive(&[raw])),
            Error::UnexpectedData { offset: 0, size: 4 }
        );
    }
}

#[test]
fn unknown_file_type() {
    for mode in [0o644, 0o170_644, 0o030_644] {
        let raw = Raw::new("x", mode, b"");
        assert_eq!(
            err(&archive(&[raw])),
            Error::UnknownFileType { offset: 0, mode }
        );
    }
}

#[test]
fn crc_format_with_wrong_checksum() {
    let mut raw = Raw::file("f", b"abc");
    raw.magic = "070702";
    raw.check = 1;
    assert_eq!(
        err(&archive(&[raw])),
        Error::ChecksumMismatch {
            offset: 0,
            expected: 1,
            actual: 0x61 + 0x62 + 0x63
        }
    );
}

#[test]
fn misaligned_archive_after_padding() {
    let mut input = archive(&[Raw::file("a", b"")]);
    let end = input.len();
    input.push(0);
    input.extend(archive(&[Raw::file("b", b"")]));
    assert_eq!(err(&input), Error::Misaligned { offset: end + 1 });
}

#[test]
fn trailing_garbage_after_an_archive() {
    let mut input = archive(&[Raw::file("a", b"")]);
    let end = input.len();
    input.extend([0; 4]);
    input.extend(b"junk");
    assert_eq!(err(&input), Error::TrailingGarbage { offset: end + 4 });
}

#[test]
fn missing_trailer() {
    let entries = [Raw::file("a", b"x"), Raw::file("b", b"y")];
    let input: Vec<u8> = entries.iter().flat_map(Raw::bytes).collect();
    assert_eq!(
        err(&input),
        Error::MissingTrailer {
            offset: input.len()
        }
    );
    let mut padded = input.clone();
    padded.extend([0; 512]);
    assert_eq!(
        err(&padded),
        Error::MissingTrailer {
            offset: input.len()
        }
    );
}

#[test]
fn gzip_member_with_bad_crc() {
    let mut input = gzip(&archive(&[Raw::file("a", b"x")]));
    let crc_at = input.len() - 8;
    input[crc_at] ^= 0xff;
    assert!(matches!(
        err(&input),
        Error::GzipCrcMismatch { offset: 0, .. }
    ));
}

#[test]
fn gzip_member_with_bad_size() {
    let mut input = gzip(&archive(&[Raw::file("a", b"x")]));
    let size_at = input.len() - 4;
    input[size_at] ^= 1;
    assert!(matches!(
        err(&input),
        Error::GzipSizeMismatch { offset: 0, .. }
    ));
}

#[test]
fn gzip_member_truncated() {
    let mut input = archive(&[Raw::file("a", b"x")]);
    let member_at = input.len();
    input.extend(gzip(&archive(&[Raw::file("b", b"y")])));
    for cut in [member_at + 5, member_at + 12, input.len() - 1] {
        assert_eq!(
            err(&input[..cut]),
            Error::GzipTruncated { offset: member_at },
            "cut at {cut}"
        );
    }
}

#[test]
fn gzip_member_with_corrupt_deflate_data() {
    let mut input = gzip(&[0; 100]);
    // A deflate block header with the reserved block type 3.
    input[10] = 0b111;
    assert_eq!(err(&input), Error::GzipCorrupt { offset: 0 });
}

#[test]
fn gzip_header_with_unknown_method() {
    let mut input = gzip(&archive(&[]));
    input[2] = 0;
    assert!(matches!(err(&input), Error::GzipHeader { offset: 0, .. }));
}

#[test]
fn errors_inside_a_gzip_member_are_wrapped() {
    let mut input = archive(&[Raw::file("a", b"x")]);
    let member_at = input.len();
    input.extend(gzip(&archive(&[Raw::dir("ok"), Raw::file("../x", b"")])));
    let e = err(&input);
    let inner = Raw::dir("ok").bytes().len();
    assert_eq!(
        e,
        Error::Compressed {
            member_offset: member_at,
            inner: Box::new(Error::PathEscape { offset: inner })
        }
    );
    assert_eq!(e.offset(), member_at);
    assert_eq!(e.root_cause(), &Error::PathEscape { offset: inner });
}

#[test]
fn junk_inside_a_gzip_member() {
    let e = err(&gzip(b"not a cpio archive"));
    assert_eq!(e.root_cause(), &Error::BadMagic { offset: 0 });

    let mut payload = archive(&[Raw::file("a", b"")]);
    let end = payload.len();
    payload.extend(gzip(&archive(&[])));
    assert_eq!(
        err(&gzip(&payload)).root_cause(),
        &Error::TrailingGarbage { offset: end }
    );

    let mut payload = archive(&[Raw::file("a", b"")]);
    payload.extend([0; 2]);
    payload.extend(archive(&[]));
    assert_eq!(
        err(&gzip(&payload)).root_cause(),
        &Error::Misaligned { offset: end + 2 }
    );
}

#[test]
fn gzip_member_without_trailer() {
    let payload: Vec<u8> = Raw::file("a", b"x").bytes();
    assert_eq!(
        err(&gzip(&payload)).root_cause(),
        &Error::MissingTrailer {
            offset: payload.len()
        }
    );
}

#[test]
fn errors_display_what_and_where() {
    let e = Error::TruncatedData {
        offset: 0x74,
        size: 10,
    };
    assert_eq!(
        e.to_string(),
        "input ends inside the 10 bytes of an entry's data (at offset 0x74)"
    );
    let wrapped = Error::Compressed {
        member_offset: 8,
        inner: Box::new(e),
    };
    let text = wrapped.to_string();
    assert!(text.contains("gzip member at offset 0x8"), "{text}");
    assert!(text.contains("(at offset 0x74)"), "{text}");
    let regular = S_IFREG;
    assert!(
        Error::UnknownFileType {
            offset: 0,
            mode: regular
        }
        .to_string()
        .contains("0o100000")
    );
}
