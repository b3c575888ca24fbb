//! The line discipline's behaviours, each against what Linux's N_TTY does.

use alloc::vec;
use alloc::vec::Vec;

use k42_linux::raw::general as g;

use crate::termios::DEL;
use crate::{BUFFER, Events, LineDiscipline, Read, Signal, Termios, Winsize, ctrl};

/// A terminal with the default settings changed by `f`.
fn tty(f: impl FnOnce(&mut Termios)) -> LineDiscipline {
    let mut t = Termios::serial_console();
    f(&mut t);
    LineDiscipline::new(t)
}

/// A raw terminal (`ICANON` off) with `VMIN`, `VTIME`.
fn raw(vmin: u8, vtime: u8) -> LineDiscipline {
    tty(|t| {
        t.c_lflag &= !g::ICANON;
        t.c_cc[g::VMIN as usize] = vmin;
        t.c_cc[g::VTIME as usize] = vtime;
    })
}

/// Everything one read(2) of `want` bytes gets, moved `chunk` bytes a call; `None` if it would
/// wait before getting anything.
fn read_all(ld: &mut LineDiscipline, want: usize, chunk: usize) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    loop {
        let mut buf = vec![0u8; chunk.min(want - got.len())];
        match ld.read(&mut buf, want, got.len()) {
            Read::Data { n, line_end } => {
                got.extend_from_slice(&buf[..n]);
                if line_end || n == 0 || got.len() == want {
                    return Some(got);
                }
            }
            Read::Wait { .. } if got.is_empty() => return None,
            Read::Wait { .. } => return Some(got),
        }
    }
}

fn line(ld: &mut LineDiscipline) -> Option<Vec<u8>> {
    read_all(ld, 4096, 24)
}

#[test]
fn tostop_follows_the_settings() {
    assert!(
        !LineDiscipline::default().tostop(),
        "off by default, as Linux's tty"
    );
    assert!(tty(|t| t.c_lflag |= g::TOSTOP).tostop());
}

#[test]
fn canonical_lines_echo_and_complete_on_return() {
    let mut ld = LineDiscipline::default();
    let ev = ld.receive(b"echo hi");
    assert_eq!(ev.echo, b"echo hi");
    assert!(!ev.readable);
    assert_eq!(line(&mut ld), None, "no line yet");
    let ev = ld.receive(b"\r");
    assert_eq!(
        ev.echo, b"\r\n",
        "ICRNL makes it a newline; ONLCR echoes it as CR LF"
    );
    assert!(ev.readable);
    assert_eq!(line(&mut ld).unwrap(), b"echo hi\n");
    assert_eq!(line(&mut ld), None);
}

#[test]
fn a_read_returns_at_most_one_line() {
    let mut ld = LineDiscipline::default();
    ld.receive(b"one\ntwo\n");
    assert_eq!(line(&mut ld).unwrap(), b"one\n");
    assert_eq!(line(&mut ld).unwrap(), b"two\n");
}

#[test]
fn a_long_line_comes_out_in_pieces_then_ends() {
    let mut ld = LineDiscipline::default();
    let text = b"a line longer than one piece of twenty-four bytes\n";
    ld.receive(text);
    assert_eq!(read_all(&mut ld, 4096, 24).unwrap(), text);
    ld.receive(text);
    // A small read(2) takes part of the line; the next one the rest.
    assert_eq!(read_all(&mut ld, 10, 24).unwrap(), &text[..10]);
    assert_eq!(read_all(&mut ld, 4096, 7).unwrap(), &text[10..]);
}

#[test]
fn eof_at_line_start_is_an_empty_read_and_mid_line_ends_the_line() {
    let mut ld = LineDiscipline::default();
    let ev = ld.receive(&[ctrl(b'D')]);
    assert!(ev.readable);
    assert!(ev.echo.is_empty(), "VEOF is not echoed");
    let mut buf = [0u8; 8];
    assert_eq!(
        ld.read(&mut buf, 8, 0),
        Read::Data {
            n: 0,
            line_end: true
        }
    );
    ld.receive(b"abc");
    ld.receive(&[ctrl(b'D')]);
    assert_eq!(line(&mut ld).unwrap(), b"abc", "no terminator");
    assert_eq!(line(&mut ld), None);
}

#[test]
fn erase_with_echoe_rubs_out() {
    let mut ld = LineDiscipline::default();
    ld.receive(b"abc");
    let ev = ld.receive(&[DEL]);
    assert_eq!(ev.echo, b"\x08 \x08");
    ld.receive(b"\n");
    assert_eq!(line(&mut ld).unwrap(), b"ab\n");
    // Nothing to erase: nothing happens, not even an echo.
    assert!(ld.receive(&[DEL]).echo.is_empty());
}

#[test]
fn erase_without_echoe_echoes_the_erase_character() {
    let mut ld = tty(|t| t.c_lflag &= !g::ECHOE);
    ld.receive(b"ab");
    assert_eq!(ld.receive(&[DEL]).echo, b"^?");
    ld.receive(b"\n");
    assert_eq!(line(&mut ld).unwrap(), b"a\n");
}

#[test]
fn echoctl_shows_controls_as_carets_and_erases_both_columns() {
    let mut ld = LineDiscipline::default();
    assert_eq!(ld.receive(&[ctrl(b'A')]).echo, b"^A");
    assert_eq!(ld.column(), 2);
    assert_eq!(ld.receive(&[DEL]).echo, b"\x08 \x08\x08 \x08");
    assert_eq!(ld.column(), 0);
    let mut plain = tty(|t| t.c_lflag &= !g::ECHOCTL);
    assert_eq!(plain.receive(&[ctrl(b'A')]).echo, [ctrl(b'A')]);
}

#[test]
fn erasing_a_tab_moves_back_its_width() {
    let mut ld = LineDiscipline::default();
    ld.receive(b"ab\t");
    assert_eq!(ld.column(), 8);
    assert_eq!(ld.receive(&[DEL]).echo, b"\x08\x08\x08\x08\x08\x08");
    assert_eq!(ld.column(), 2);
}

#[test]
fn kill_erases_the_line_visually_with_echoke() {
    let mut ld = LineDiscipline::default();
    ld.receive(b"ab");
    assert_eq!(ld.receive(&[ctrl(b'U')]).echo, b"\x08 \x08\x08 \x08");
    ld.receive(b"c\n");
    assert_eq!(line(&mut ld).unwrap(), b"c\n");
}

#[test]
fn kill_with_echok_and_no_echoke_echoes_it_and_a_newline() {
    let mut ld = tty(|t| t.c_lflag &= !g::ECHOKE);
    ld.receive(b"ab");
    assert_eq!(ld.receive(&[ctrl(b'U')]).echo, b"^U\r\n");
    let mut quiet = tty(|t| t.c_lflag &= !(g::ECHOKE | g::ECHOK));
    quiet.receive(b"ab");
    assert_eq!(quiet.receive(&[ctrl(b'U')]).echo, b"^U");
    quiet.receive(b"\n");
    assert_eq!(line(&mut quiet).unwrap(), b"\n");
}

#[test]
fn werase_erases_a_word_and_the_blanks_after_it() {
    let mut ld = LineDiscipline::default();
    ld.receive(b"ls foo_1  ");
    ld.receive(&[ctrl(b'W')]);
    ld.receive(b"\n");
    assert_eq!(line(&mut ld).unwrap(), b"ls \n");
    // Without IEXTEN, ^W is data.
    let mut plain = tty(|t| t.c_lflag &= !g::IEXTEN);
    plain.receive(&[b'a', ctrl(b'W'), b'\n']);
    assert_eq!(line(&mut plain).unwrap(), [b'a', ctrl(b'W'), b'\n']);
}

#[test]
fn lnext_takes_the_next_byte_literally() {
    let mut ld = LineDiscipline::default();
    let ev = ld.receive(&[ctrl(b'V'), ctrl(b'C'), b'\n']);
    assert!(ev.signals.is_empty());
    assert_eq!(ev.echo, b"^\x08^C\r\n");
    assert_eq!(line(&mut ld).unwrap(), [ctrl(b'C'), b'\n']);
}

#[test]
fn reprint_echoes_the_line_again() {
    let mut ld = LineDiscipline::default();
    ld.receive(b"abc");
    assert_eq!(ld.receive(&[ctrl(b'R')]).echo, b"^R\r\nabc");
}

#[test]
fn echonl_echoes_newlines_without_echo() {
    let mut ld = tty(|t| {
        t.c_lflag &= !g::ECHO;
        t.c_lflag |= g::ECHONL;
    });
    assert_eq!(ld.receive(b"secret\n").echo, b"\r\n");
    assert_eq!(line(&mut ld).unwrap(), b"secret\n");
    let mut silent = tty(|t| t.c_lflag &= !g::ECHO);
    assert!(silent.receive(b"secret\n").echo.is_empty());
}

#[test]
fn input_processing_maps_carriage_returns_and_newlines() {
    let mut none = tty(|t| t.c_iflag &= !g::ICRNL);
    none.receive(b"a\r\n");
    assert_eq!(line(&mut none).unwrap(), b"a\r\n");
    let mut igncr = tty(|t| t.c_iflag |= g::IGNCR);
    igncr.receive(b"a\r\n");
    assert_eq!(line(&mut igncr).unwrap(), b"a\n");
    let mut inlcr = tty(|t| {
        t.c_iflag = g::INLCR | g::ICRNL;
        t.c_lflag &= !g::ICANON;
    });
    inlcr.receive(b"\n\r");
    assert_eq!(read_all(&mut inlcr, 8, 8).unwrap(), b"\r\n");
}

#[test]
fn istrip_clears_the_eighth_bit() {
    let mut ld = tty(|t| t.c_iflag |= g::ISTRIP);
    ld.receive(&[b'a' | 0x80, b'\n']);
    assert_eq!(line(&mut ld).unwrap(), b"a\n");
}

#[test]
fn signal_characters_raise_signals_echo_and_flush() {
    let mut ld = LineDiscipline::default();
    ld.receive(b"done\n");
    ld.receive(b"half");
    let ev = ld.receive(&[ctrl(b'C')]);
    assert_eq!(ev.signals, [Signal::Interrupt]);
    assert_eq!(ev.echo, b"^C");
    assert_eq!(line(&mut ld), None, "input flushed, complete lines too");
    assert_eq!(ld.receive(&[ctrl(b'\\')]).signals, [Signal::Quit]);
    assert_eq!(ld.receive(&[ctrl(b'Z')]).signals, [Signal::Suspend]);
    assert_eq!(Signal::Interrupt.number(), g::SIGINT);
    assert_eq!(Signal::from_number(g::SIGTSTP), Some(Signal::Suspend));
}

#[test]
fn a_signal_drops_the_echo_of_its_batch_as_linux_drops_pending_echo() {
    let mut ld = LineDiscipline::default();
    let ev = ld.receive(&[b'x', b'y', ctrl(b'C')]);
    assert_eq!(ev.echo, b"^C");
    assert_eq!(ld.column(), 2);
}

#[test]
fn noflsh_keeps_input_and_isig_off_makes_them_data() {
    let mut ld = tty(|t| t.c_lflag |= g::NOFLSH);
    ld.receive(b"done\n");
    assert_eq!(ld.receive(&[ctrl(b'C')]).signals, [Signal::Interrupt]);
    assert_eq!(line(&mut ld).unwrap(), b"done\n");
    let mut data = tty(|t| t.c_lflag &= !g::ISIG);
    assert!(data.receive(&[ctrl(b'C'), b'\n']).signals.is_empty());
    assert_eq!(line(&mut data).unwrap(), [ctrl(b'C'), b'\n']);
}

#[test]
fn ixon_consumes_stop_and_start() {
    let mut ld = LineDiscipline::default();
    ld.receive(&[ctrl(b'S')]);
    assert!(ld.output_stopped());
    ld.receive(&[ctrl(b'Q'), b'\n']);
    assert!(!ld.output_stopped());
    assert_eq!(line(&mut ld).unwrap(), b"\n");
}

#[test]
fn raw_vmin_0_vtime_0_returns_what_is_there() {
    let mut ld = raw(0, 0);
    let mut buf = [0u8; 8];
    assert_eq!(
        ld.read(&mut buf, 8, 0),
        Read::Data {
            n: 0,
            line_end: false
        }
    );
    let ev = ld.receive(b"ab");
    assert!(ev.readable);
    assert_eq!(ev.echo, b"ab");
    assert_eq!(read_all(&mut ld, 8, 8).unwrap(), b"ab");
}

#[test]
fn raw_vmin_waits_for_min_of_vmin_and_the_request() {
    let mut ld = raw(3, 0);
    ld.receive(b"ab");
    let mut buf = [0u8; 8];
    assert_eq!(ld.read(&mut buf, 8, 0), Read::Wait { timeout: None });
    // A request of 2 bytes needs only 2.
    assert_eq!(read_all(&mut ld, 2, 8).unwrap(), b"ab");
    ld.receive(b"cdefg");
    // VMIN met: everything there, in pieces.
    assert_eq!(read_all(&mut ld, 8, 2).unwrap(), b"cdefg");
}

#[test]
fn raw_vtime_is_left_to_the_caller() {
    let mut ld = raw(0, 5);
    let mut buf = [0u8; 8];
    assert_eq!(ld.read(&mut buf, 8, 0), Read::Wait { timeout: Some(5) });
    ld.receive(b"x");
    assert_eq!(read_all(&mut ld, 8, 8).unwrap(), b"x");
    // VMIN > 0 with VTIME: the first byte untimed, then the inter-byte timer.
    let mut ld = raw(4, 2);
    assert_eq!(ld.read(&mut buf, 8, 0), Read::Wait { timeout: None });
    ld.receive(b"ab");
    assert_eq!(
        ld.read(&mut buf, 8, 0),
        Read::Data {
            n: 2,
            line_end: false
        }
    );
    assert_eq!(ld.read(&mut buf, 8, 2), Read::Wait { timeout: Some(2) });
}

#[test]
fn raw_newlines_typed_as_return_echo_as_newlines() {
    let mut ld = raw(1, 0);
    assert_eq!(ld.receive(b"a\r").echo, b"a\r\n");
    assert_eq!(read_all(&mut ld, 8, 8).unwrap(), b"a\n");
    // A bare newline in raw mode is no special byte: ECHOCTL shows it as ^J, as Linux does.
    assert_eq!(ld.receive(b"\n").echo, b"^J");
}

#[test]
fn switching_modes_keeps_pending_input() {
    let mut ld = LineDiscipline::default();
    ld.receive(b"part");
    let mut t = *ld.termios();
    t.c_lflag &= !g::ICANON;
    let ev = ld.set_termios(t, false);
    assert!(ev.readable);
    assert_eq!(read_all(&mut ld, 2, 8).unwrap(), b"pa");
    t.c_lflag |= g::ICANON;
    assert!(ld.set_termios(t, false).readable);
    assert_eq!(
        line(&mut ld).unwrap(),
        b"rt",
        "what was pending is one line"
    );
    ld.receive(b"gone");
    ld.set_termios(t, true);
    assert_eq!(ld.queued(), 0, "TCSETSF flushes");
}

#[test]
fn a_full_canonical_line_rings_the_bell_but_still_ends() {
    let mut ld = LineDiscipline::default();
    ld.receive(&vec![b'x'; BUFFER - 1]);
    let ev = ld.receive(b"y");
    assert_eq!(ev.echo, [0x07]);
    ld.receive(b"\n");
    let got = line(&mut ld).unwrap();
    assert_eq!(got.len(), BUFFER);
    assert_eq!(got.last(), Some(&b'\n'));
}

#[test]
fn raw_room_bounds_what_the_device_hands_over() {
    let mut ld = raw(1, 0);
    assert_eq!(ld.room(), BUFFER);
    ld.receive(b"abc");
    assert_eq!(ld.room(), BUFFER - 3);
}

#[test]
fn writes_are_output_processed_and_share_the_column_with_echo() {
    let mut ld = LineDiscipline::default();
    let mut out = vec![];
    ld.write(b"$ ", &mut out);
    assert_eq!(ld.column(), 2);
    ld.write(b"x\n", &mut out);
    assert_eq!(out, b"$ x\r\n");
    assert_eq!(ld.column(), 0);
}

#[test]
fn window_size_changes_raise_sigwinch() {
    let mut ld = LineDiscipline::default();
    let w = Winsize {
        ws_row: 24,
        ws_col: 80,
        ..Winsize::default()
    };
    assert_eq!(ld.set_winsize(w).signals, [Signal::WindowChange]);
    assert_eq!(ld.set_winsize(w), Events::default());
    assert_eq!(ld.winsize(), w);
}

#[test]
fn utf8_characters_erase_whole_under_iutf8() {
    let mut ld = tty(|t| t.c_iflag |= g::IUTF8);
    ld.receive("aé".as_bytes());
    assert_eq!(ld.column(), 2);
    assert_eq!(ld.receive(&[DEL]).echo, b"\x08 \x08");
    ld.receive(b"\n");
    assert_eq!(line(&mut ld).unwrap(), b"a\n");
}

#[test]
fn poll_readiness_follows_input_available_p() {
    // Canonical: only a complete line (or end of file) is readable.
    let mut ld = tty(|_| {});
    assert!(!ld.poll_readable());
    ld.receive(b"ab");
    assert!(!ld.poll_readable());
    ld.receive(b"\n");
    assert!(ld.poll_readable());
    // Raw with VMIN 3, VTIME 0: three bytes; with a VTIME, one.
    let mut ld = raw(3, 0);
    ld.receive(b"xy");
    assert!(!ld.poll_readable());
    ld.receive(b"z");
    assert!(ld.poll_readable());
    let mut ld = raw(3, 5);
    assert!(!ld.poll_readable());
    ld.receive(b"x");
    assert!(ld.poll_readable());
    let mut ld = raw(0, 0);
    assert!(!ld.poll_readable());
    ld.receive(b"x");
    assert!(ld.poll_readable());
}
