//! What the caller decides rather than the file: where a position-independent image goes and the
//! window of addresses (and the amount of memory) a program may claim. The kernel and the Linux
//! personality pass their own address-space layout; [`Options::default`] is Linux's x86_64 one.

/// Most `PT_LOAD` segments a plan holds. Real static programs have four (R, RX, R, RW: see
/// Debian's busybox-static or `musl-gcc -static`); the cap keeps [`crate::LoadPlan`] a fixed-size
/// value so that no allocation is needed.
pub const MAX_SEGMENTS: usize = 16;

/// Exclusive upper bound of user addresses on x86_64 with 4-level paging: the start of the
/// non-canonical hole.
pub const DEFAULT_USER_TOP: u64 = 0x0000_8000_0000_0000;

/// Lowest address a segment may map: Linux's default `vm.mmap_min_addr`, which keeps page zero
/// (and a margin above it) unmapped so that NULL-pointer dereferences fault.
pub const DEFAULT_MIN_ADDR: u64 = 0x1_0000;

/// Where Linux on x86_64 puts a PIE: `ELF_ET_DYN_BASE` (two thirds of the 47-bit user space)
/// rounded down to a page, the familiar `0x5555_5555_4000`.
pub const DEFAULT_PIE_BIAS: u64 = 0x5555_5555_4000;

/// Default cap on the memory a program's segments may map (1 GiB): far above any real static
/// program's image and low enough that a hostile `p_memsz` cannot claim the machine.
pub const DEFAULT_MAX_TOTAL_MEM: u64 = 1 << 30;

/// The caller's side of a plan: placement and limits. See [`Options::default`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Load bias added to every address of an `ET_DYN` image (ignored for `ET_EXEC`, whose
    /// addresses are absolute). Must be page aligned.
    pub bias_for_pie: u64,
    /// Exclusive upper bound of user addresses: every mapped page must end at or below it.
    pub user_top: u64,
    /// Lowest address any mapped page may start at (`mmap_min_addr`).
    pub min_addr: u64,
    /// Most `PT_LOAD` segments accepted; values above [`MAX_SEGMENTS`] mean [`MAX_SEGMENTS`].
    pub max_segments: usize,
    /// Most bytes the segments may map in total, counted in whole pages.
    pub max_total_mem: u64,
}

impl Default for Options {
    /// Linux's x86_64 layout: PIEs at [`DEFAULT_PIE_BIAS`], user space below [`DEFAULT_USER_TOP`]
    /// and above [`DEFAULT_MIN_ADDR`], at most [`MAX_SEGMENTS`] segments mapping at most
    /// [`DEFAULT_MAX_TOTAL_MEM`].
    fn default() -> Self {
        Options {
            bias_for_pie: DEFAULT_PIE_BIAS,
            user_top: DEFAULT_USER_TOP,
            min_addr: DEFAULT_MIN_ADDR,
            max_segments: MAX_SEGMENTS,
            max_total_mem: DEFAULT_MAX_TOTAL_MEM,
        }
    }
}
