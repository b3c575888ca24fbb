//! `/proc/PID/maps`: the program's address space as Linux 6.1's `show_map_vma`
//! (`fs/proc/task_mmu.c`) writes it, one line per mapping, from the personality's map of that
//! space ([`crate::mmap_space`]). The personality (`user/bin/linux/src/procself.rs`) serves the
//! file; what this map does not record comes from its caller ([`Names`]).
//!
//! A line is `START-END PERM OFFSET MAJOR:MINOR INODE`, padded to Linux's width, then the name:
//! the file's path, `[heap]` for the range holding the program break, `[stack]` for the main
//! thread's stack, `/dev/zero (deleted)` for shared anonymous memory (Linux's shmem file), none
//! for other anonymous memory. Departures, as the map keeps them: a file mapping of
//! `calls/mmap_file.rs` records neither its file nor its offset, so it shows as anonymous
//! memory (`p` or `s` as mapped); every range of the program's image — the image ranges below
//! the brk heap, which starts where the program's image ends — is the caller's image file at
//! offset 0 (the segments' file offsets are not kept), and an image range above the heap (a
//! dynamic program's interpreter, whose path the map does not keep) has no name; the guard
//! below the stack is not shown (Linux's stack guard gap is no mapping either), other guards
//! are `---p` ranges.

use alloc::string::String;
use core::fmt::Write;

use crate::mmap_space::{Kind, MmapSpace, PROT_EXEC, PROT_READ, PROT_WRITE, Range};

/// The width a named line's fields are padded to (Linux's `seq_setwidth(m, 25 +
/// sizeof(void *) * 6 - 1)` on a 64-bit machine); `seq_pad` then adds one space, so the name
/// starts one column further.
const FIELDS_WIDTH: usize = 25 + 8 * 6 - 1;
/// Shared anonymous memory's name (Linux maps it from a shmem file named `/dev/zero`, which
/// is unlinked).
const SHARED_ANON_NAME: &str = "/dev/zero (deleted)";
/// The device of that shmem file (the kernel's internal shmem mount, `00:01`).
const SHARED_ANON_DEV: (u32, u32) = (0, 1);

/// A file a mapping shows: its path, device and inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapsFile<'a> {
    /// Its path.
    pub path: &'a str,
    /// Its device (major, minor).
    pub dev: (u32, u32),
    /// Its inode number.
    pub ino: u64,
}

/// What the map does not record: the program's image file and its break.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Names<'a> {
    /// The file whose image the program's [`Kind::Image`] ranges (those below the heap) hold.
    pub image: Option<MapsFile<'a>>,
    /// The brk heap's start and current break.
    pub heap: Option<(u64, u64)>,
}

/// One line: the range, its offset, file (if any) and name.
fn line(out: &mut String, r: &Range, offset: u64, file: Option<MapsFile<'_>>, name: &str) {
    let bit = |b: u8, c: char| if r.prot & b != 0 { c } else { '-' };
    let shared = matches!(r.kind, Kind::AnonShared | Kind::FileShared);
    let (dev, ino) = file.map_or(((0, 0), 0), |f| (f.dev, f.ino));
    let start = out.len();
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "{:08x}-{:08x} {}{}{}{} {offset:08x} {:02x}:{:02x} {ino} ",
        r.start,
        r.end,
        bit(PROT_READ, 'r'),
        bit(PROT_WRITE, 'w'),
        bit(PROT_EXEC, 'x'),
        if shared { 's' } else { 'p' },
        dev.0,
        dev.1,
    );
    if !name.is_empty() {
        let used = out.len() - start;
        for _ in used..FIELDS_WIDTH + 1 {
            out.push(' ');
        }
        out.push_str(name);
    }
    out.push('\n');
}

/// `/proc/PID/maps` of `space`, with `names` for what it does not record (module comment).
pub fn maps_text(space: &MmapSpace, names: &Names<'_>) -> String {
    let mut out = String::new();
    let ranges: alloc::vec::Vec<&Range> = space.iter().collect();
    for (i, r) in ranges.iter().enumerate() {
        let below_stack = ranges
            .get(i + 1)
            .is_some_and(|next| next.kind == Kind::Stack && next.start == r.end);
        match r.kind {
            Kind::Guard if below_stack => {}
            Kind::Image => {
                let program = names.heap.is_none_or(|(start, _)| r.end <= start);
                match names.image.filter(|_| program) {
                    Some(f) => line(&mut out, r, 0, Some(f), f.path),
                    None => line(&mut out, r, 0, None, ""),
                }
            }
            Kind::Stack => line(&mut out, r, 0, None, "[stack]"),
            Kind::AnonShared => {
                let shm = MapsFile {
                    path: SHARED_ANON_NAME,
                    dev: SHARED_ANON_DEV,
                    ino: 0,
                };
                line(&mut out, r, 0, Some(shm), SHARED_ANON_NAME);
            }
            Kind::AnonPrivate => {
                // Linux's test: the range reaches the break and starts at or below it.
                let heap = names
                    .heap
                    .is_some_and(|(start, brk)| r.start <= brk && r.end >= start);
                line(&mut out, r, 0, None, if heap { "[heap]" } else { "" });
            }
            Kind::Guard | Kind::FilePrivate | Kind::FileShared => line(&mut out, r, 0, None, ""),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mmap_space::PROT_NONE;
    use alloc::vec::Vec;

    const RX: u8 = PROT_READ | PROT_EXEC;
    const RW: u8 = PROT_READ | PROT_WRITE;

    fn space() -> MmapSpace {
        let mut s = MmapSpace::new();
        s.insert_fixed(0x40_0000, 0x1000, PROT_READ, Kind::Image)
            .unwrap();
        s.insert_fixed(0x40_1000, 0x2000, RX, Kind::Image).unwrap();
        s.insert_fixed(0x50_0000, 0x3000, RW, Kind::AnonPrivate)
            .unwrap();
        s.insert_fixed(0x7000_0000, 0x1000, RW, Kind::AnonShared)
            .unwrap();
        s.insert_fixed(0x7ff0_0000, 0x1000, PROT_NONE, Kind::Guard)
            .unwrap();
        s.insert_fixed(0x7ff0_1000, 0x4000, RW, Kind::Stack)
            .unwrap();
        s
    }

    #[test]
    fn lines_are_linux_s() {
        let names = Names {
            image: Some(MapsFile {
                path: "/bin/busybox",
                dev: (0, 2),
                ino: 16,
            }),
            heap: Some((0x50_0000, 0x50_2800)),
        };
        let text = maps_text(&space(), &names);
        let lines: Vec<&str> = text.lines().collect();
        // Linux 6.1's own lines for busybox, byte for byte but the addresses.
        assert_eq!(
            lines[0],
            "00400000-00401000 r--p 00000000 00:02 16                                 /bin/busybox"
        );
        assert_eq!(
            lines[1],
            "00401000-00403000 r-xp 00000000 00:02 16                                 /bin/busybox"
        );
        assert_eq!(
            lines[2],
            "00500000-00503000 rw-p 00000000 00:00 0                                  [heap]"
        );
        assert_eq!(
            lines[3],
            "70000000-70001000 rw-s 00000000 00:01 0                                  /dev/zero (deleted)"
        );
        // The guard below the stack is not shown.
        assert_eq!(
            lines[4],
            "7ff01000-7ff05000 rw-p 00000000 00:00 0                                  [stack]"
        );
        assert_eq!(lines.len(), 5);
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn anonymous_memory_has_no_name_and_a_trailing_space() {
        let mut s = MmapSpace::new();
        s.insert_fixed(0x7ffa_b53a_f000, 0x1_0000, RW, Kind::AnonPrivate)
            .unwrap();
        s.insert_fixed(0x7ffa_b53c_0000, 0x1000, PROT_NONE, Kind::Guard)
            .unwrap();
        let text = maps_text(&s, &Names::default());
        assert_eq!(
            text,
            "7ffab53af000-7ffab53bf000 rw-p 00000000 00:00 0 \n\
             7ffab53c0000-7ffab53c1000 ---p 00000000 00:00 0 \n"
        );
        // An image range above the heap is the interpreter's: no name.
        let mut s = space();
        s.insert_fixed(0x7000_8000, 0x1000, RX, Kind::Image)
            .unwrap();
        let names = Names {
            image: Some(MapsFile {
                path: "/bin/prog",
                dev: (0, 1),
                ino: 3,
            }),
            heap: Some((0x50_0000, 0x50_0000)),
        };
        let text = maps_text(&s, &names);
        assert!(
            text.contains("00401000-00403000 r-xp 00000000 00:01 3"),
            "{text}"
        );
        assert!(
            text.contains("70008000-70009000 r-xp 00000000 00:00 0 \n"),
            "{text}"
        );
        // No break yet: no [heap], and an image without its file has no name.
        let mut s = MmapSpace::new();
        s.insert_fixed(0x40_0000, 0x1000, RX, Kind::Image).unwrap();
        assert_eq!(
            maps_text(&s, &Names::default()),
            "00400000-00401000 r-xp 00000000 00:00 0 \n"
        );
    }
}
