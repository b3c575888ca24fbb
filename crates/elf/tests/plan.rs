//! Well-formed programs: the plan for each shape of executable the loaders meet (static
//! `ET_EXEC`, static-PIE, PIE with an interpreter, native K42), field by field, and the edges of
//! every limit that must still pass.

mod common;

use common::*;
use k42_elf::{DEFAULT_PIE_BIAS, Kind, MAX_SEGMENTS, Options, PAGE_SIZE, Prot, plan};

fn opts() -> Options {
    Options::default()
}

#[test]
fn static_exec_plan_matches_the_headers() {
    let bytes = static_exec().build();
    let p = plan(&bytes, &opts()).unwrap();
    assert_eq!(p.kind, Kind::Exec);
    assert_eq!(p.bias, 0);
    assert_eq!(p.entry, 0x40_103f);
    assert_eq!((p.phent, p.phnum), (PHDR_SIZE as u16, 7));
    // No PT_PHDR: found through the first PT_LOAD, which maps file offset 0 at EXEC_BASE.
    assert_eq!(p.phdr, Some(EXEC_BASE + EHDR_SIZE));
    assert_eq!(p.interp, None);
    assert!(!p.stack_executable);

    let s = p.segments();
    assert_eq!(s.len(), 4);
    let expect = [
        (EXEC_BASE, 0x1c8, 0, 0x1c8, Prot::READ),
        (0x40_1000, 0x82c, 0x1000, 0x82c, Prot::READ | Prot::EXEC),
        (0x40_2000, 0x40, 0x2000, 0x40, Prot::READ),
        (0x40_3fcc, 0x2ac, 0x2fcc, 0x48, Prot::READ | Prot::WRITE),
    ];
    for (seg, (vaddr, mem, off, file, prot)) in s.iter().zip(expect) {
        assert_eq!(
            (
                seg.vaddr(),
                seg.mem_size(),
                seg.file_offset(),
                seg.file_size()
            ),
            (vaddr, mem, off, file)
        );
        assert_eq!(seg.prot(), prot);
        assert_eq!(seg.align(), PAGE);
    }

    // The data segment: starts mid-page, its .bss runs into a second page.
    let data = s[3];
    assert_eq!(data.map_range(), 0x40_3000..0x40_5000);
    assert_eq!(data.file_range(), 0x2fcc..0x3014);
    assert_eq!(data.copy_range(), 0x40_3fcc..0x40_4014);
    assert_eq!(data.zero_range(), 0x40_4014..0x40_4278);
    assert_eq!(data.end(), 0x40_4278);
    assert_eq!(data.file_bytes(&bytes), Some(&bytes[0x2fcc..0x3014]));
    assert_eq!(data.file_bytes(&bytes[..0x3000]), None);
    // Text is file-backed to the last byte: nothing to zero.
    assert!(s[1].zero_range().is_empty());

    let tls = p.tls.unwrap();
    assert_eq!(
        (
            tls.file_offset,
            tls.file_size,
            tls.mem_size,
            tls.align,
            tls.vaddr
        ),
        (0x2fcc, 4, 4, 4, 0x40_3fcc)
    );
    assert_eq!(p.brk_start, 0x40_5000);
    assert_eq!(p.mapped_bytes(), 5 * PAGE_SIZE);
}

#[test]
fn static_pie_is_biased_everywhere() {
    let bytes = static_pie(false).build();
    for bias in [DEFAULT_PIE_BIAS, 0x10_0000, 0x7fff_0000_0000] {
        let o = Options {
            bias_for_pie: bias,
            ..opts()
        };
        let p = plan(&bytes, &o).unwrap();
        assert_eq!(p.kind, Kind::Pie);
        assert_eq!(p.bias, bias);
        assert_eq!(p.entry, bias + 0x104f);
        // From PT_PHDR.
        assert_eq!(p.phdr, Some(bias + EHDR_SIZE));
        assert_eq!(p.interp, None);
        assert_eq!(p.tls, None);
        let starts: Vec<u64> = p.segments().iter().map(|s| s.vaddr()).collect();
        assert_eq!(starts, [bias, bias + 0x1000, bias + 0x2000, bias + 0x3dfc]);
        assert_eq!(p.segments()[3].map_range(), bias + 0x3000..bias + 0x5000);
        // File offsets are not biased.
        assert_eq!(p.segments()[3].file_range(), 0x2dfc..0x3014);
        assert_eq!(p.brk_start, bias + 0x5000);
    }
}

#[test]
fn pie_with_interpreter_reports_its_path() {
    let bytes = static_pie(true).build();
    let p = plan(&bytes, &opts()).unwrap();
    let interp = p.interp.unwrap();
    assert_eq!((interp.file_offset, interp.file_size), (0x270, 25));
    assert_eq!(interp.path(&bytes), Some(&b"/lib/ld-musl-x86_64.so.1"[..]));
    assert_eq!(interp.path(&bytes[..0x280]), None);
    assert_eq!(p.phnum, 8);
}

#[test]
fn k42_native_program_has_no_phdr_and_no_executable_stack() {
    let bytes = k42_native().build();
    let p = plan(&bytes, &opts()).unwrap();
    assert_eq!(p.kind, Kind::Exec);
    assert_eq!(p.entry, EXEC_BASE);
    // The headers sit in the file's first page, which no segment maps.
    assert_eq!(p.phdr, None);
    assert!(!p.stack_executable);
    assert_eq!(p.segments().len(), 3);
    assert_eq!(p.brk_start, 0x40_f000);
}

#[test]
fn gnu_stack_with_exec_flag_asks_for_an_executable_stack() {
    let mut elf = static_exec();
    elf.phdrs[5] = Ph::gnu_stack(RW | PF_X);
    assert!(plan(&elf.build(), &opts()).unwrap().stack_executable);
}

#[test]
fn bias_is_ignored_for_exec_images() {
    let o = Options {
        bias_for_pie: 0x1234_5000,
        ..opts()
    };
    let p = plan(&static_exec().build(), &o).unwrap();
    assert_eq!(p.bias, 0);
    assert_eq!(p.entry, 0x40_103f);
}

#[test]
fn empty_pt_load_is_left_out() {
    let mut elf = static_exec();
    // Out of order and overlapping, but it maps nothing, so it is not a segment at all.
    elf.phdrs.insert(2, Ph::load(RW, 0, 0x1000, 0, 0));
    let p = plan(&elf.build(), &opts()).unwrap();
    assert_eq!(p.segments().len(), 4);
    assert_eq!(p.phnum, 8);
}

#[test]
fn segments_may_share_a_file_page_but_not_a_memory_page() {
    // lld's default (-z noseparate-code) layout: the RW segment continues in the same file page
    // as the text but is moved to the next memory page.
    let elf = Elf::new(
        ET_EXEC,
        EXEC_BASE + 0x100,
        vec![
            Ph::load(RX, 0, EXEC_BASE, 0x1234, 0x1234),
            Ph::load(RW, 0x1234, 0x40_2234, 0x10, 0x2000),
        ],
    );
    let p = plan(&elf.build(), &opts()).unwrap();
    assert_eq!(p.segments()[0].map_range(), 0x40_0000..0x40_2000);
    assert_eq!(p.segments()[1].map_range(), 0x40_2000..0x40_5000);
}

#[test]
fn limits_are_inclusive_at_their_edges() {
    // One page exactly at min_addr, one ending exactly at user_top.
    let min = 0x1_0000;
    let top = 0x7fff_ffff_f000;
    let elf = Elf::new(
        ET_EXEC,
        min,
        vec![
            Ph::load(RX, 0x1000, min, PAGE, PAGE),
            Ph::load(RW, 0x2000, top - PAGE, PAGE, PAGE),
        ],
    );
    let o = Options {
        min_addr: min,
        user_top: top,
        max_segments: 2,
        max_total_mem: 2 * PAGE,
        ..opts()
    };
    let p = plan(&elf.build(), &o).unwrap();
    assert_eq!(p.brk_start, top);
    assert_eq!(p.mapped_bytes(), o.max_total_mem);
}

#[test]
fn max_segments_above_the_cap_means_the_cap() {
    let phdrs = (0..MAX_SEGMENTS as u64)
        .map(|i| Ph::load(RX, 0x1000 * (i + 1), EXEC_BASE + 0x1000 * i, 0x10, 0x10))
        .collect();
    let elf = Elf::new(ET_EXEC, EXEC_BASE, phdrs);
    let o = Options {
        max_segments: usize::MAX,
        ..opts()
    };
    assert_eq!(
        plan(&elf.build(), &o).unwrap().segments().len(),
        MAX_SEGMENTS
    );
}

#[test]
fn tbss_only_tls_need_not_be_loaded() {
    let mut elf = k42_native();
    elf.phdrs
        .push(Ph::other(PT_TLS, R, 0x10, 0x10, 0, 8).with_memsz(0x40));
    let tls = plan(&elf.build(), &opts()).unwrap().tls.unwrap();
    assert_eq!((tls.file_size, tls.mem_size, tls.align), (0, 0x40, 8));
}

#[test]
fn entry_may_be_the_last_executable_byte() {
    let mut elf = k42_native();
    elf.entry = EXEC_BASE + 0xa79e - 1;
    assert!(plan(&elf.build(), &opts()).is_ok());
}
