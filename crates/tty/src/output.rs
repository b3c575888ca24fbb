//! Output processing (`OPOST`): what a byte written to the terminal, or echoed, becomes on the
//! wire, as Linux's `do_output_char` (`drivers/tty/n_tty.c`) does it, and the output column it
//! tracks (which erasing a tab needs).
//!
//! With `OPOST` off, bytes go out unchanged and the column is not tracked, as on Linux.

use alloc::vec::Vec;

use k42_linux::raw::general as g;

use crate::termios::Termios;

/// Columns between tab stops.
const TAB_WIDTH: usize = 8;
/// What `XTABS` expands a tab into (up to a whole stop).
const SPACES: [u8; TAB_WIDTH] = [b' '; TAB_WIDTH];

/// Whether Linux's `iscntrl` holds for `c`: C0 controls, DEL, and the C1 range 0x80–0x9f (the
/// kernel's ctype table is Latin-1's).
pub fn is_cntrl(c: u8) -> bool {
    c < 0x20 || c == 0x7f || (0x80..0xa0).contains(&c)
}

/// Whether `c` continues a UTF-8 sequence and `IUTF8` is on: such bytes take no column.
pub fn is_continuation(t: &Termios, c: u8) -> bool {
    t.input(g::IUTF8) && c & 0xc0 == 0x80
}

/// The output side of the terminal: the column the cursor is at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    /// The column (0 at the start of a line).
    pub column: usize,
}

impl Output {
    /// Appends byte `c`, processed by `t`'s output modes, to `out`.
    pub fn put(&mut self, t: &Termios, c: u8, out: &mut Vec<u8>) {
        if !t.output(g::OPOST) {
            out.push(c);
            return;
        }
        let mut c = c;
        match c {
            b'\n' => {
                if t.output(g::ONLRET) {
                    self.column = 0;
                }
                if t.output(g::ONLCR) {
                    self.column = 0;
                    out.extend_from_slice(b"\r\n");
                    return;
                }
            }
            b'\r' => {
                if t.output(g::ONOCR) && self.column == 0 {
                    return;
                }
                if t.output(g::OCRNL) {
                    c = b'\n';
                    if t.output(g::ONLRET) {
                        self.column = 0;
                    }
                } else {
                    self.column = 0;
                }
            }
            b'\t' => {
                let spaces = TAB_WIDTH - self.column % TAB_WIDTH;
                self.column += spaces;
                if t.c_oflag & g::TABDLY == g::XTABS {
                    out.extend_from_slice(&SPACES[..spaces]);
                    return;
                }
            }
            b'\x08' => self.column = self.column.saturating_sub(1),
            _ => {
                if !is_cntrl(c) {
                    if t.output(g::OLCUC) {
                        c = c.to_ascii_uppercase();
                    }
                    if !is_continuation(t, c) {
                        self.column += 1;
                    }
                }
            }
        }
        out.push(c);
    }

    /// Appends `bytes`, processed, to `out`: a write to the terminal.
    pub fn write(&mut self, t: &Termios, bytes: &[u8], out: &mut Vec<u8>) {
        for &c in bytes {
            self.put(t, c, out);
        }
    }

    /// Appends control character `c` echoed as `^X` (`ECHOCTL`): two columns, not processed.
    pub fn put_caret(&mut self, c: u8, out: &mut Vec<u8>) {
        out.extend_from_slice(&[b'^', c ^ 0x40]);
        self.column += 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn written(t: &Termios, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![];
        Output::default().write(t, bytes, &mut out);
        out
    }

    #[test]
    fn onlcr_maps_newlines_to_crlf() {
        let t = Termios::serial_console();
        assert_eq!(written(&t, b"a\nb\n"), b"a\r\nb\r\n");
    }

    #[test]
    fn without_opost_nothing_changes() {
        let mut t = Termios::serial_console();
        t.c_oflag &= !g::OPOST;
        assert_eq!(written(&t, b"a\nb\r\t"), b"a\nb\r\t");
    }

    #[test]
    fn ocrnl_onocr_onlret() {
        let mut t = Termios::serial_console();
        t.c_oflag = g::OPOST | g::OCRNL;
        assert_eq!(written(&t, b"a\rb"), b"a\nb");
        t.c_oflag = g::OPOST | g::ONOCR;
        assert_eq!(written(&t, b"\rab\r\r"), b"ab\r");
        t.c_oflag = g::OPOST;
        assert_eq!(written(&t, b"a\nb"), b"a\nb");
    }

    #[test]
    fn tabs_track_columns_and_expand_with_xtabs() {
        let mut t = Termios::serial_console();
        let mut o = Output::default();
        let mut out = vec![];
        o.write(&t, b"abc\t", &mut out);
        assert_eq!(o.column, 8);
        o.write(&t, b"\x08", &mut out);
        assert_eq!(o.column, 7);
        t.c_oflag |= g::XTABS;
        assert_eq!(written(&t, b"ab\tc"), b"ab      c");
    }

    #[test]
    fn c1_bytes_are_controls_as_in_the_kernels_ctype() {
        assert!(is_cntrl(0x03) && is_cntrl(0x7f) && is_cntrl(0x85));
        assert!(!is_cntrl(b'a') && !is_cntrl(0xa9) && !is_cntrl(b' '));
    }
}
