//! `#!` interpreter scripts, as Linux's `binfmt_script` (`fs/binfmt_script.c`) reads them: the
//! first [`BINPRM_BUF_SIZE`] bytes of the file, `#!`, the interpreter's path and at most one
//! optional argument (the rest of the line, spaces inside it kept). The personality's `execve`
//! (`user/bin/linux/src/calls/exec.rs`) reads a file's head, asks [`parse`], and runs the
//! interpreter with the argv [`argv`] makes, at most [`MAX_REWRITES`] scripts deep; it sits next
//! to [`crate::stack`], which lays the final argv out on the new stack.
//!
//! Linux's rules, which [`parse`] follows byte for byte:
//! - the line ends at the first `\n` within the buffer; with none there, the interpreter path
//!   must end (at a space, tab or NUL) inside the buffer, else `ENOEXEC` (a truncated path must
//!   not run), and the line is the buffer less its last byte (the argument may be cut: the
//!   interpreter can re-read the script);
//! - trailing spaces and tabs are dropped, leading ones skipped; no interpreter name is
//!   `ENOEXEC`;
//! - the interpreter name ends at the first space, tab or NUL; if that was a space or tab, the
//!   argument is what follows, less leading blanks, up to the line's end (or a NUL in it).

use alloc::vec::Vec;

use crate::errno::Errno;

/// Bytes of a file's head Linux reads to recognise its format (`BINPRM_BUF_SIZE`,
/// `include/uapi/linux/binfmts.h`; kernel-internal in practice, not in linux-raw-sys): the whole
/// `#!` line must fit in it.
pub const BINPRM_BUF_SIZE: usize = 256;

/// How many times one `execve` may replace the file it runs by an interpreter before failing
/// with `ELOOP`: Linux's `exec_binprm` loop stops when its depth passes 5 (`fs/exec.c`), so a
/// chain of five scripts ending in a binary runs and a sixth script is refused.
pub const MAX_REWRITES: usize = 5;

/// The `#!` magic.
const MAGIC: &[u8] = b"#!";

/// A parsed `#!` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shebang {
    /// The interpreter's path, as written (opened relative to the working directory).
    pub interp: Vec<u8>,
    /// Its optional single argument.
    pub arg: Option<Vec<u8>>,
}

/// Whether a file starting with `head` is a `#!` script.
pub fn is_script(head: &[u8]) -> bool {
    head.starts_with(MAGIC)
}

fn spacetab(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// The C string starting at `buf[from]` and ending at `end` or at the first NUL before it.
fn c_string(buf: &[u8], from: usize, end: usize) -> Vec<u8> {
    let piece = &buf[from..end];
    let len = piece.iter().position(|&c| c == 0).unwrap_or(piece.len());
    piece[..len].to_vec()
}

/// Parses the `#!` line of a file whose first bytes are `head` (at most [`BINPRM_BUF_SIZE`] are
/// looked at; a shorter file reads as if padded with NULs, as Linux's buffer is). `ENOEXEC`
/// when `head` is no script or names no (untruncated) interpreter.
pub fn parse(head: &[u8]) -> Result<Shebang, Errno> {
    if !is_script(head) {
        return Err(Errno::ENOEXEC);
    }
    let mut buf = [0u8; BINPRM_BUF_SIZE];
    let n = head.len().min(BINPRM_BUF_SIZE);
    buf[..n].copy_from_slice(&head[..n]);
    // Indices are inclusive "last" bounds where Linux's helpers take them.
    let buf_end = BINPRM_BUF_SIZE - 1;
    let next_non_spacetab = |first: usize, last: usize| (first..=last).find(|&i| !spacetab(buf[i]));
    let next_terminator =
        |first: usize, last: usize| (first..=last).find(|&i| spacetab(buf[i]) || buf[i] == 0);

    let mut i_end = match buf.iter().position(|&c| c == b'\n') {
        Some(newline) => newline,
        None => {
            let name = next_non_spacetab(MAGIC.len(), buf_end).ok_or(Errno::ENOEXEC)?;
            // No terminator after the name: the path itself was cut by the buffer.
            next_terminator(name, buf_end).ok_or(Errno::ENOEXEC)?;
            buf_end
        }
    };
    while i_end > MAGIC.len() && spacetab(buf[i_end - 1]) {
        i_end -= 1;
    }
    let i_name = match next_non_spacetab(MAGIC.len(), i_end) {
        Some(i) if i != i_end => i,
        _ => return Err(Errno::ENOEXEC),
    };
    let i_sep = next_terminator(i_name, i_end);
    let i_arg = i_sep
        .filter(|&s| buf[s] != 0)
        .and_then(|s| next_non_spacetab(s, i_end))
        .filter(|&a| a < i_end);
    let name_end = i_sep.map_or(i_end, |s| s.min(i_end));
    Ok(Shebang {
        interp: c_string(&buf, i_name, name_end),
        arg: i_arg.map(|a| c_string(&buf, a, i_end)),
    })
}

/// The argv the interpreter runs with: its name, its argument if any, the script's path as
/// `execve` was given it (`filename`), then the script's own argv less `argv[0]` (Linux's
/// `remove_arg_zero`).
pub fn argv(shebang: &Shebang, filename: &[u8], script_argv: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out = Vec::with_capacity(script_argv.len() + 2);
    out.push(shebang.interp.clone());
    if let Some(arg) = &shebang.arg {
        out.push(arg.clone());
    }
    out.push(filename.to_vec());
    out.extend(script_argv.iter().skip(1).cloned());
    out
}

#[cfg(test)]
mod tests {
    extern crate std;

    use alloc::vec;
    use std::string::String;

    use super::*;

    fn ok(interp: &str, arg: Option<&str>) -> Result<Shebang, Errno> {
        Ok(Shebang {
            interp: interp.as_bytes().to_vec(),
            arg: arg.map(|a| a.as_bytes().to_vec()),
        })
    }

    #[test]
    fn interpreter_alone() {
        assert_eq!(parse(b"#!/bin/sh\necho hi\n"), ok("/bin/sh", None));
        assert_eq!(parse(b"#!/bin/sh"), ok("/bin/sh", None));
        assert_eq!(parse(b"#! /bin/sh  \n"), ok("/bin/sh", None));
        assert_eq!(parse(b"#!\t/bin/sh\t\n"), ok("/bin/sh", None));
    }

    #[test]
    fn one_argument_keeps_inner_spaces() {
        assert_eq!(parse(b"#!/bin/sh -e\n"), ok("/bin/sh", Some("-e")));
        assert_eq!(
            parse(b"#!/usr/bin/env  a b\t c  \nrest"),
            ok("/usr/bin/env", Some("a b\t c"))
        );
    }

    #[test]
    fn not_a_script_or_no_interpreter() {
        assert_eq!(parse(b"\x7fELF"), Err(Errno::ENOEXEC));
        assert_eq!(parse(b"#"), Err(Errno::ENOEXEC));
        assert_eq!(parse(b"#!\n"), Err(Errno::ENOEXEC));
        assert_eq!(parse(b"#!   \t \n/bin/sh"), Err(Errno::ENOEXEC));
        // A file that is just "#!": the buffer's NUL padding is taken as an empty name, which
        // Linux then fails to open (ENOENT), as the caller will.
        assert_eq!(parse(b"#!"), ok("", None));
    }

    #[test]
    fn a_nul_ends_the_name_and_drops_the_argument() {
        assert_eq!(parse(b"#!/bin/sh\0 -x\n"), ok("/bin/sh", None));
        assert_eq!(parse(b"#!/bin/sh -x\0y\n"), ok("/bin/sh", Some("-x")));
    }

    #[test]
    fn cr_is_part_of_the_line() {
        // Linux does not strip a DOS line ending: the interpreter is "/bin/sh\r".
        assert_eq!(parse(b"#!/bin/sh\r\n"), ok("/bin/sh\r", None));
    }

    #[test]
    fn long_lines_as_linux_cuts_them() {
        // A path that fills the buffer with no terminator: refused, never run truncated.
        let mut long = String::from("#!/");
        long.push_str(&"x".repeat(BINPRM_BUF_SIZE));
        assert_eq!(parse(long.as_bytes()), Err(Errno::ENOEXEC));

        // A short path and a long argument: the argument is cut to the buffer less its last
        // byte.
        let mut line = String::from("#!/bin/sh ");
        line.push_str(&"a".repeat(BINPRM_BUF_SIZE));
        line.push('\n');
        let arg_len = BINPRM_BUF_SIZE - 1 - "#!/bin/sh ".len();
        let want = "a".repeat(arg_len);
        assert_eq!(parse(line.as_bytes()), ok("/bin/sh", Some(&want)));

        // A newline right at the buffer's last byte still ends the line there.
        let mut exact = String::from("#!/bin/sh ");
        exact.push_str(&"b".repeat(BINPRM_BUF_SIZE - exact.len() - 1));
        exact.push('\n');
        assert_eq!(exact.len(), BINPRM_BUF_SIZE);
        let want = "b".repeat(BINPRM_BUF_SIZE - 1 - "#!/bin/sh ".len());
        assert_eq!(parse(exact.as_bytes()), ok("/bin/sh", Some(&want)));

        // A path ending at the very last byte, with nothing after it in the buffer: no
        // terminator seen, so refused.
        let mut edge = String::from("#!");
        edge.push_str(&"p".repeat(BINPRM_BUF_SIZE - 2));
        edge.push_str(" arg\n");
        assert_eq!(parse(edge.as_bytes()), Err(Errno::ENOEXEC));
    }

    #[test]
    fn interpreter_argv() {
        let script = vec![b"./s".to_vec(), b"x".to_vec(), b"y".to_vec()];
        let with = Shebang {
            interp: b"/bin/sh".to_vec(),
            arg: Some(b"-e".to_vec()),
        };
        assert_eq!(
            argv(&with, b"/tmp/s", &script),
            vec![
                b"/bin/sh".to_vec(),
                b"-e".to_vec(),
                b"/tmp/s".to_vec(),
                b"x".to_vec(),
                b"y".to_vec()
            ]
        );
        let without = Shebang {
            interp: b"/bin/sh".to_vec(),
            arg: None,
        };
        assert_eq!(
            argv(&without, b"/tmp/s", &[]),
            vec![b"/bin/sh".to_vec(), b"/tmp/s".to_vec()]
        );
    }
}
