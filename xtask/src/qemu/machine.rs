//! What to boot and how to run it: the machine (kernel medium, size, accelerator,
//! firmware) and the run options (console treatment, log echo, time limit).
//!
//! `main.rs`, `../test/boot.rs` and `../bench/` fill these in; `args.rs` turns a [`Machine`] into
//! QEMU's command line and `mod.rs` runs it under the [`Options`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::{Accel, Os};

/// One machine to boot.
#[derive(Debug, Clone)]
pub struct Machine {
    /// Which kernel this is (for messages).
    pub os: Os,
    /// How the kernel is loaded.
    pub medium: Medium,
    /// `-smp`.
    pub smp: u32,
    /// `-m`.
    pub mem: String,
    /// The accelerator, already resolved by [`resolve_accel`](super::resolve_accel).
    pub accel: Accel,
    /// `-s -S`.
    pub gdb: bool,
    /// The qboot firmware, or `None` for QEMU's default SeaBIOS.
    pub qboot: Option<PathBuf>,
    /// `-icount`: guest time counts guest instructions (`cargo xtask bench`'s
    /// primary mode), or `None` for plain TCG wall time.
    pub icount: Option<Icount>,
}

/// QEMU's `-icount shift=N,sleep=off`: each guest instruction advances guest time
/// by 2^N ns and idle time is skipped, so timings repeat from run to run. TCG then
/// runs the vCPUs one at a time (round-robin on one host thread).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icount {
    /// log2 of the nanoseconds one instruction takes in guest time.
    pub shift: u8,
}

impl Icount {
    /// One nanosecond per instruction (a 1 GHz, one-instruction-per-cycle guest).
    pub const ONE_NS_PER_INSTRUCTION: Icount = Icount { shift: 0 };
}

impl Machine {
    /// The one configuration of the boot tiers and the benchmarks: `os` booting
    /// `medium` with `smp` vCPUs, the default memory, TCG, no debugger, no icount.
    pub fn standard(os: Os, medium: Medium, smp: u32, qboot: Option<PathBuf>) -> Machine {
        Machine {
            os,
            medium,
            smp,
            mem: crate::cli::DEFAULT_MEM.to_string(),
            accel: Accel::Tcg,
            gdb: false,
            qboot,
            icount: None,
        }
    }
}

/// How a machine gets its kernel.
#[derive(Debug, Clone)]
pub enum Medium {
    /// `-kernel/-initrd/-append`, booted through PVH (how both OSes run here).
    Direct {
        /// `-kernel`.
        kernel: PathBuf,
        /// `-initrd`.
        initrd: PathBuf,
        /// `-append`.
        cmdline: String,
    },
    /// `-cdrom`: a GRUB ISO that boots the kernel through multiboot2, as on real
    /// hardware. Needs SeaBIOS: qboot boots no CD.
    Cdrom {
        /// The ISO.
        iso: PathBuf,
        /// The kernel ELF inside it (for messages and the debugger).
        kernel: PathBuf,
    },
}

impl Medium {
    /// The kernel ELF this medium boots.
    pub fn kernel(&self) -> &Path {
        match self {
            Medium::Direct { kernel, .. } | Medium::Cdrom { kernel, .. } => kernel,
        }
    }
}

/// Where the program's console goes, and what it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Console {
    /// QEMU owns the terminal: raw bytes both ways (no PROGRAM, stdin a terminal).
    Interactive,
    /// Read from a pipe, "\r\n" -> "\n", kept in
    /// [`Outcome::console`](super::Outcome::console) and copied to `echo`. The runner's stdin,
    /// when it is not a terminal (a pipe or a file: `printf 'echo hi\nexit 3\n' | cargo xtask
    /// run`), is the console's input, copied to COM1 once the guest's init starts; from a
    /// terminal, the console gets no input.
    Program {
        /// Where to copy the console as it comes, if anywhere.
        echo: Option<Echo>,
    },
    /// Like [`Console::Program`], but the console's input is exactly `input` (then end of
    /// input), sent once the guest's init starts: the test tiers' scripted terminal. Empty
    /// `input`: none at all.
    Scripted {
        /// Where to copy the console as it comes, if anywhere.
        echo: Option<Echo>,
        /// What is typed.
        input: &'static [u8],
    },
}

/// A live copy's destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// The runner's stdout.
    Stdout,
    /// The runner's stderr.
    Stderr,
}

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The console's treatment.
    pub console: Console,
    /// Copy the log port to stderr as it comes.
    pub echo_log: bool,
    /// Kill QEMU after this long.
    pub timeout: Option<Duration>,
    /// Print QEMU's command line on stderr.
    pub show_command: bool,
}
