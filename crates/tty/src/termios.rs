//! The terminal's settings, `struct termios`, and its window size, `struct winsize`, in the
//! layouts the kernel's `TCGETS`/`TCSETS` and `TIOCGWINSZ`/`TIOCSWINSZ` copy (x86_64: no speed
//! fields, `NCCS` = 19), with Linux's defaults for a serial console.

use k42_linux::raw::general as g;

/// Control characters in `c_cc` (Linux's `NCCS`).
pub const NCCS: usize = g::NCCS as usize;
/// Bytes of the kernel's `struct termios`: four flag words, the line discipline, `NCCS` control
/// characters (what `TCGETS` copies out and `TCSETS` in).
pub const TERMIOS_BYTES: usize = 4 * size_of::<u32>() + 1 + NCCS;
/// 64-bit words that carry a `struct termios` (the last one partly), for register calls.
pub const TERMIOS_WORDS: usize = TERMIOS_BYTES.div_ceil(size_of::<u64>());
/// Bytes of the kernel's `struct winsize`.
pub const WINSIZE_BYTES: usize = 4 * size_of::<u16>();

/// The control character typed as Ctrl and `letter` (`ctrl(b'C')` is ^C, 0x03).
pub const fn ctrl(letter: u8) -> u8 {
    letter & 0x1f
}

/// ASCII DEL, the erase character by default (echoed `^?`).
pub const DEL: u8 = 0x7f;

/// The kernel's `struct termios`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Termios {
    /// Input modes (`ICRNL`, `IXON`, `ISTRIP`, …).
    pub c_iflag: u32,
    /// Output modes (`OPOST`, `ONLCR`, …).
    pub c_oflag: u32,
    /// Control modes (speed, character size, …): kept, not acted on.
    pub c_cflag: u32,
    /// Local modes (`ICANON`, `ECHO`, `ISIG`, …).
    pub c_lflag: u32,
    /// The line discipline number (0, `N_TTY`).
    pub c_line: u8,
    /// Control characters, indexed by `VINTR`, `VEOF`, `VMIN`, … (0 disables one).
    pub c_cc: [u8; NCCS],
}

impl Termios {
    /// Linux's settings for a fresh serial line (`tty_std_termios` with `INIT_C_CC`, as
    /// `drivers/tty/tty_io.c` and `include/linux/tty.h` give them): canonical input with echo
    /// and signals, `ICRNL`, `IXON`, `OPOST`|`ONLCR`, 38400 baud 8N1.
    pub const fn serial_console() -> Self {
        let mut c_cc = [0u8; NCCS];
        c_cc[g::VINTR as usize] = ctrl(b'C');
        c_cc[g::VQUIT as usize] = ctrl(b'\\');
        c_cc[g::VERASE as usize] = DEL;
        c_cc[g::VKILL as usize] = ctrl(b'U');
        c_cc[g::VEOF as usize] = ctrl(b'D');
        c_cc[g::VTIME as usize] = 0;
        c_cc[g::VMIN as usize] = 1;
        c_cc[g::VSTART as usize] = ctrl(b'Q');
        c_cc[g::VSTOP as usize] = ctrl(b'S');
        c_cc[g::VSUSP as usize] = ctrl(b'Z');
        c_cc[g::VREPRINT as usize] = ctrl(b'R');
        c_cc[g::VDISCARD as usize] = ctrl(b'O');
        c_cc[g::VWERASE as usize] = ctrl(b'W');
        c_cc[g::VLNEXT as usize] = ctrl(b'V');
        Self {
            c_iflag: g::ICRNL | g::IXON,
            c_oflag: g::OPOST | g::ONLCR,
            c_cflag: g::B38400 | g::CS8 | g::CREAD | g::HUPCL,
            c_lflag: g::ISIG
                | g::ICANON
                | g::ECHO
                | g::ECHOE
                | g::ECHOK
                | g::ECHOCTL
                | g::ECHOKE
                | g::IEXTEN,
            c_line: 0,
            c_cc,
        }
    }

    /// The kernel's byte layout (little-endian flag words, then `c_line`, then `c_cc`).
    pub fn to_bytes(&self) -> [u8; TERMIOS_BYTES] {
        let mut b = [0u8; TERMIOS_BYTES];
        let flags = [self.c_iflag, self.c_oflag, self.c_cflag, self.c_lflag];
        for (chunk, flag) in b.chunks_mut(size_of::<u32>()).zip(flags) {
            chunk.copy_from_slice(&flag.to_le_bytes());
        }
        b[LINE_OFFSET] = self.c_line;
        b[CC_OFFSET..].copy_from_slice(&self.c_cc);
        b
    }

    /// Settings from the kernel's byte layout.
    pub fn from_bytes(b: &[u8; TERMIOS_BYTES]) -> Self {
        let flag = |i: usize| {
            let mut w = [0u8; size_of::<u32>()];
            w.copy_from_slice(&b[i * size_of::<u32>()..(i + 1) * size_of::<u32>()]);
            u32::from_le_bytes(w)
        };
        let mut c_cc = [0u8; NCCS];
        c_cc.copy_from_slice(&b[CC_OFFSET..]);
        Self {
            c_iflag: flag(0),
            c_oflag: flag(1),
            c_cflag: flag(2),
            c_lflag: flag(3),
            c_line: b[LINE_OFFSET],
            c_cc,
        }
    }

    /// The byte layout as [`TERMIOS_WORDS`] little-endian words (word `i` holds bytes
    /// `8i..8i+8`; the last word's upper half is zero).
    pub fn to_words(&self) -> [u64; TERMIOS_WORDS] {
        let bytes = self.to_bytes();
        let mut words = [0u64; TERMIOS_WORDS];
        for (word, chunk) in words.iter_mut().zip(bytes.chunks(size_of::<u64>())) {
            let mut le = [0u8; size_of::<u64>()];
            le[..chunk.len()].copy_from_slice(chunk);
            *word = u64::from_le_bytes(le);
        }
        words
    }

    /// Settings from [`Termios::to_words`]'s words (bytes past the layout are ignored).
    pub fn from_words(words: [u64; TERMIOS_WORDS]) -> Self {
        let mut all = [0u8; TERMIOS_WORDS * size_of::<u64>()];
        for (chunk, word) in all.chunks_mut(size_of::<u64>()).zip(words) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        let mut bytes = [0u8; TERMIOS_BYTES];
        bytes.copy_from_slice(&all[..TERMIOS_BYTES]);
        Self::from_bytes(&bytes)
    }

    /// Control character `index` (`g::VINTR`, …).
    pub fn cc(&self, index: u32) -> u8 {
        self.c_cc[index as usize]
    }

    /// Whether input byte `c` is control character `index`; a disabled one (0, Linux's
    /// `_POSIX_VDISABLE`) matches nothing.
    pub fn is_cc(&self, index: u32, c: u8) -> bool {
        let cc = self.cc(index);
        cc != 0 && cc == c
    }

    /// Whether every bit of `flag` is set in `c_iflag`.
    pub fn input(&self, flag: u32) -> bool {
        self.c_iflag & flag == flag
    }

    /// Whether every bit of `flag` is set in `c_oflag`.
    pub fn output(&self, flag: u32) -> bool {
        self.c_oflag & flag == flag
    }

    /// Whether every bit of `flag` is set in `c_lflag`.
    pub fn local(&self, flag: u32) -> bool {
        self.c_lflag & flag == flag
    }

    /// Whether input is canonical (`ICANON`): line by line, with editing.
    pub fn canonical(&self) -> bool {
        self.local(g::ICANON)
    }
}

impl Default for Termios {
    fn default() -> Self {
        Self::serial_console()
    }
}

/// Offset of `c_line` in the byte layout.
const LINE_OFFSET: usize = 4 * size_of::<u32>();
/// Offset of `c_cc` in the byte layout.
const CC_OFFSET: usize = LINE_OFFSET + 1;

/// The kernel's `struct winsize`. Linux reports 0×0 for a serial line nobody sized, and so does
/// [`Winsize::default`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Winsize {
    /// Rows.
    pub ws_row: u16,
    /// Columns.
    pub ws_col: u16,
    /// Width in pixels (unused by Linux).
    pub ws_xpixel: u16,
    /// Height in pixels (unused by Linux).
    pub ws_ypixel: u16,
}

impl Winsize {
    /// The kernel's byte layout: four little-endian `u16`s.
    pub fn to_bytes(self) -> [u8; WINSIZE_BYTES] {
        self.to_word().to_le_bytes()
    }

    /// A window size from the kernel's byte layout.
    pub fn from_bytes(b: [u8; WINSIZE_BYTES]) -> Self {
        Self::from_word(u64::from_le_bytes(b))
    }

    /// The byte layout as one little-endian word (for register calls).
    pub fn to_word(self) -> u64 {
        u64::from(self.ws_row)
            | u64::from(self.ws_col) << 16
            | u64::from(self.ws_xpixel) << 32
            | u64::from(self.ws_ypixel) << 48
    }

    /// A window size from [`Winsize::to_word`]'s word.
    pub fn from_word(w: u64) -> Self {
        // Each field is one 16-bit lane of the word.
        Self {
            ws_row: w as u16,
            ws_col: (w >> 16) as u16,
            ws_xpixel: (w >> 32) as u16,
            ws_ypixel: (w >> 48) as u16,
        }
    }
}

const _: () = assert!(TERMIOS_BYTES == size_of::<g::termios>());
const _: () = assert!(WINSIZE_BYTES == size_of::<g::winsize>());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_is_the_kernels() {
        assert_eq!(TERMIOS_BYTES, 36);
        assert_eq!(TERMIOS_WORDS, 5);
        let t = Termios::serial_console();
        let b = t.to_bytes();
        assert_eq!(b[0..4], (g::ICRNL | g::IXON).to_le_bytes());
        assert_eq!(b[4..8], (g::OPOST | g::ONLCR).to_le_bytes());
        assert_eq!(b[12..16], t.c_lflag.to_le_bytes());
        assert_eq!(b[16], 0, "c_line is N_TTY");
        assert_eq!(b[17 + g::VINTR as usize], 3, "^C");
        assert_eq!(b[17 + g::VERASE as usize], 0x7f);
        assert_eq!(b[17 + g::VEOF as usize], 4, "^D");
        assert_eq!(b[17 + g::VMIN as usize], 1);
        assert_eq!(b[17 + g::VWERASE as usize], 0x17, "^W");
        assert_eq!(Termios::from_bytes(&b), t);
        assert_eq!(Termios::from_words(t.to_words()), t);
        assert!(t.canonical() && t.local(g::ECHO | g::ISIG) && !t.local(g::ECHONL));
    }

    #[test]
    fn disabled_control_characters_match_nothing() {
        let t = Termios::serial_console();
        assert!(t.is_cc(g::VINTR, 3));
        assert_eq!(t.cc(g::VEOL), 0);
        assert!(!t.is_cc(g::VEOL, 0));
    }

    #[test]
    fn window_sizes_round_trip() {
        let w = Winsize {
            ws_row: 24,
            ws_col: 80,
            ws_xpixel: 1,
            ws_ypixel: 2,
        };
        assert_eq!(Winsize::from_bytes(w.to_bytes()), w);
        assert_eq!(w.to_bytes()[..4], [24, 0, 80, 0]);
        assert_eq!(Winsize::from_word(w.to_word()), w);
        assert_eq!(Winsize::default().to_word(), 0);
    }
}
