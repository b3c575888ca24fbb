//! The kernel's object interfaces, declared once with `k42_idl::interface`: the kernel serves
//! them (`kernel/src/kobj/`) through the generated dispatch — so every kernel object call passes
//! the same handle-and-rights check as a call on any server's object — and native programs call
//! them through the generated client stubs over a PPC to [`KERNEL_COMM_ID`]
//! (`k42_abi::kernel::KERNEL_COMM_ID`).
//!
//! These are the kernel's objects beyond its handful of kernel calls (`k42_abi::kernel::call`):
//! making and starting processes (native ones, and Linux ones under the personality
//! [`PERSONALITY_PROGRAM`]), their memory, their I/O ports, and the bootstrap's authority —
//! including reading the initramfs until the file server exists ([`Boot::read_file`]).
//! Handles name an entry in the kernel's XObject table for the interface; the kernel keeps the
//! interface in the handle's index (see [`kernel_handle`]), so one handle word finds its table.
#![no_std]

use k42_rights::wire::Word;
use k42_rights::{Badge, XHandle};

pub use k42_abi::kernel::KERNEL_COMM_ID;

/// Why a kernel object call failed (the method's own error word).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum KError {
    /// No such program in the initramfs.
    NotFound = 1,
    /// The program is not a valid native ELF executable.
    BadExecutable = 2,
    /// Out of memory (frames or kernel heap).
    NoMemory = 3,
    /// An argument is out of range.
    BadArgument = 4,
    /// A user range is not mapped (or not writable) where the call needs it.
    BadAddress = 5,
    /// The object is not in a state that allows the call (starting a started process).
    WrongState = 6,
    /// Something already occupies the range or slot.
    Exists = 7,
    /// A fixed-size kernel table is full.
    Full = 8,
}

/// All errors, for `from_word`.
const KERRORS: [KError; 8] = [
    KError::NotFound,
    KError::BadExecutable,
    KError::NoMemory,
    KError::BadArgument,
    KError::BadAddress,
    KError::WrongState,
    KError::Exists,
    KError::Full,
];

impl Word for KError {
    fn to_word(self) -> u64 {
        self as u64
    }
    fn from_word(word: u64) -> Option<Self> {
        KERRORS.into_iter().find(|e| *e as u64 == word)
    }
}

/// `Boot::spawn`'s CPU meaning "the caller's CPU".
pub const SAME_CPU: u32 = u32::MAX;

/// Interface id of [`Boot`].
pub const BOOT_INTERFACE: u32 = 1;
/// Interface id of [`Process`].
pub const PROCESS_INTERFACE: u32 = 2;
/// Interface id of [`Memory`].
pub const MEMORY_INTERFACE: u32 = 3;
/// Interface id of [`Image`].
pub const IMAGE_INTERFACE: u32 = 4;

/// Bytes of an [`Image`] page (and of every page the kernel maps).
pub const IMAGE_PAGE_SIZE: u64 = 4096;
/// Most pages an [`Image`] may have (1 GiB).
pub const MAX_IMAGE_PAGES: u64 = 1 << 18;
/// Most pages one [`Image::fill`] copies (the kernel copies them with interrupts off).
pub const MAX_FILL_PAGES: u64 = 64;

/// Bit position of the interface id in a kernel handle's index.
const TABLE_SHIFT: u32 = 24;
/// Mask of the slot part of a kernel handle's index.
const SLOT_MASK: u32 = (1 << TABLE_SHIFT) - 1;

/// A kernel table's handle as the client sees it: the interface id in the index's top bits.
pub const fn kernel_handle(interface: u32, local: XHandle) -> XHandle {
    XHandle {
        index: (interface << TABLE_SHIFT) | (local.index & SLOT_MASK),
        seq: local.seq,
    }
}

/// The `(interface, table-local handle)` a kernel handle names.
pub const fn split_kernel_handle(handle: XHandle) -> (u32, XHandle) {
    (
        handle.index >> TABLE_SHIFT,
        XHandle {
            index: handle.index & SLOT_MASK,
            seq: handle.seq,
        },
    )
}

/// Most slots a kernel table may have (the slot part of a kernel handle).
pub const KERNEL_TABLE_SLOTS: u32 = SLOT_MASK + 1;

/// Scheduling classes a process may be given (`k42_sched::Class` in the kernel).
pub mod class {
    /// System servers: run before any application.
    pub const SYSTEM: u8 = 0;
    /// Applications.
    pub const APPLICATION: u8 = 1;
}

/// Memory protections for [`Memory`] calls (bits).
pub mod prot {
    /// Readable.
    pub const READ: u8 = 1 << 0;
    /// Writable.
    pub const WRITE: u8 = 1 << 1;
    /// Executable.
    pub const EXEC: u8 = 1 << 2;
    /// Every bit.
    pub const ALL: u8 = READ | WRITE | EXEC;
}

/// Kernel counters [`Boot::counter`] reads, per CPU.
pub mod counter {
    /// Entries into the kernel from user mode (each is one ring transition in, one out).
    pub const KERNEL_ENTRIES: u32 = 0;
    /// Upcalls: entries into a dispatcher at one of its entry vectors.
    pub const UPCALLS: u32 = 1;
    /// Address-space switches (CR3 loads).
    pub const SPACE_SWITCHES: u32 = 2;
    /// TLB flushes other than those a CR3 load implies (single pages and shootdowns).
    pub const TLB_FLUSHES: u32 = 3;
    /// Inter-processor interrupts sent.
    pub const IPIS: u32 = 4;
    /// PPC calls made.
    pub const PPC_CALLS: u32 = 5;
    /// TSC ticks spent in the kernel's entry handler (under QEMU `-icount`, guest
    /// instructions): the kernel's share of the work a call does. Counted only while
    /// `Boot::time_kernel` has it on.
    pub const KERNEL_TSC: u32 = 6;
    /// Linux `syscall`s reflected to a Linux process's SVC entry.
    pub const REFLECTIONS: u32 = 7;
    /// Counters there are.
    pub const COUNT: u32 = 8;
}

/// What [`Boot::read_file`] found at a path.
pub mod file_kind {
    /// A regular file; its content is the file's bytes.
    pub const REGULAR: u64 = 1;
    /// A symbolic link (never followed); its content is the link's target.
    pub const SYMLINK: u64 = 2;
    /// A directory; it has no content to read.
    pub const DIRECTORY: u64 = 3;
}

/// The Linux personality's program name under `/k42/bin` (`k42_abi::kernel::NATIVE_BIN_DIR`):
/// [`Boot::spawn_linux`] loads it.
pub const PERSONALITY_PROGRAM: &str = "linux";

/// The bytes [`Boot::read_file`] copies of content `size` bytes long, from `offset`, into a
/// buffer of `buf_len` bytes: `offset..offset + min(buf_len, size - offset)`, empty when
/// `offset` is at or past the end. Never overflows.
pub const fn read_window(size: u64, offset: u64, buf_len: u64) -> core::ops::Range<u64> {
    if offset >= size {
        return size..size;
    }
    let left = size - offset;
    let n = if buf_len < left { buf_len } else { left };
    offset..offset + n
}

/// What the kernel tells a process's spawner in an async message when the process ends:
/// method word `method_word(PROCESS_INTERFACE, EXITED_METHOD)`, handle = the spawner's process
/// handle, payload `[status, pid, 0]`, badge 0 (the kernel).
pub const EXITED_METHOD: u32 = 0xffff;

/// The bootstrap's authority: it alone holds a `Boot` object (with CONTROL).
#[k42_idl::interface(id = 1)]
pub trait Boot {
    /// Loads the native program `/k42/bin/NAME` (NAME is the caller's `name_len` bytes at
    /// `name_addr`) into a new, stopped process of `class`, with one dispatcher on CPU `cpu`
    /// ([`SAME_CPU`] for the caller's); `arg0` and `arg1` reach its first entry. Returns its
    /// CommID and the caller's handle on it (all rights).
    #[rights(CONTROL)]
    // Six argument words, the most a call carries (`wire::ARG_WORDS`), plus self and the badge.
    #[allow(clippy::too_many_arguments)]
    fn spawn(
        &mut self,
        caller: Badge,
        name_addr: u64,
        name_len: u64,
        class: u8,
        arg0: u64,
        arg1: u64,
        cpu: u32,
    ) -> Result<(u64, u64), KError>;
    /// Ends the run with `status`: the runner's status line, then the debug-exit verdict.
    #[rights(CONTROL)]
    fn shutdown(&mut self, caller: Badge, status: u32) -> Result<(), KError>;
    /// Reads counter `which` ([`counter`]) of CPU `cpu`.
    #[rights(READ)]
    fn counter(&self, caller: Badge, which: u32, cpu: u32) -> Result<u64, KError>;
    /// How many CPUs run dispatchers.
    #[rights(READ)]
    fn cpus(&self, caller: Badge) -> Result<u32, KError>;
    /// Copies the run's argv (`k42_abi::runner::ARGV_PATH`: the program and its arguments,
    /// each NUL-terminated; when the runner named no program,
    /// `k42_abi::runner::INTERACTIVE_SHELL`) into the caller's `len` bytes at `addr`; returns
    /// its full length (more than `len` means it was cut short).
    #[rights(READ)]
    fn argv(&self, caller: Badge, addr: u64, len: u64) -> Result<u64, KError>;
    // New methods go below: a method's number is its place in this trait.
    /// Like [`spawn`](Boot::spawn) of the personality (`/k42/bin/`[`PERSONALITY_PROGRAM`]) as
    /// class APPLICATION, but the process is a *Linux process*: a `syscall` from its program
    /// code is reflected to the dispatcher's SVC entry (`k42_abi::kernel::Entry::Svc`). The
    /// image must lie wholly in `[PERSONALITY_BASE, PERSONALITY_LIMIT)`
    /// (`k42_abi::kernel`), entry point included; otherwise `BadExecutable`. Returns the
    /// CommID and the caller's handle on the process (all rights), as `spawn` does.
    #[rights(CONTROL)]
    fn spawn_linux(
        &mut self,
        caller: Badge,
        arg0: u64,
        arg1: u64,
        cpu: u32,
    ) -> Result<(u64, u64), KError>;
    /// Reads the initramfs, the stage before the file server exists: the personality's exec,
    /// and later the ramfs server, read the files through this. Looks the absolute path (the
    /// caller's `path_len` bytes at `path_addr`) up exactly as the archive names it — no
    /// symlink is followed, `..` is refused — and returns `(kind, size)` ([`file_kind`]). For
    /// a regular file or a symlink (whose content is its target) it copies
    /// [`read_window`]`(size, offset, buf_len)` of the content to the caller's memory at
    /// `buf_addr`; a directory copies nothing (size 0). `NotFound` if there is no such entry
    /// (devices, FIFOs and sockets included), `BadAddress` for a bad user range.
    #[rights(READ)]
    fn read_file(
        &self,
        caller: Badge,
        path_addr: u64,
        path_len: u64,
        offset: u64,
        buf_addr: u64,
        buf_len: u64,
    ) -> Result<(u64, u64), KError>;
    /// Copies [`read_window`]`(size, offset, len)` of the initramfs archive as the loader handed
    /// it over (newc cpio, possibly several concatenated, possibly gzip) to the caller's `len`
    /// bytes at `addr`; returns the archive's size. The file server unpacks it into its ramfs,
    /// with every entry's metadata (`k42_cpio`).
    #[rights(READ)]
    fn read_initramfs(
        &self,
        caller: Badge,
        offset: u64,
        addr: u64,
        len: u64,
    ) -> Result<u64, KError>;
    /// Bytes of memory the kernel manages and bytes free in its shared frame pool (each CPU's
    /// frame cache may hold up to a few hundred KiB more), for `sysinfo` and `free`.
    #[rights(READ)]
    fn memory(&self, caller: Badge) -> Result<(u64, u64), KError>;
    /// Turns the kernel-time counter ([`counter::KERNEL_TSC`]) on or off on every CPU. Off at
    /// boot, so kernel entries (a PPC's two among them) do not pay two TSC reads each.
    #[rights(READ)]
    fn time_kernel(&self, caller: Badge, on: bool) -> Result<(), KError>;
}

/// A process. Its spawner holds a handle with every right; the process itself holds one with
/// READ, WRITE and DESTROY (it may log, read its ids and exit, not start itself or grant
/// itself ports).
#[k42_idl::interface(id = 2)]
pub trait Process {
    /// Starts a stopped process: its first dispatcher enters at RUN.
    #[rights(CONTROL)]
    fn start(&mut self, caller: Badge) -> Result<(), KError>;
    /// Lets the process use I/O ports `first..first+count` from ring 3.
    #[rights(CONTROL)]
    fn grant_io_ports(&mut self, caller: Badge, first: u16, count: u16) -> Result<(), KError>;
    /// Writes `len` bytes at `addr` of the *caller's* memory to the kernel log, as one line
    /// under the process's name.
    #[rights(WRITE)]
    fn log(&mut self, caller: Badge, addr: u64, len: u64) -> Result<(), KError>;
    /// Ends the process with `status`; its spawner gets an EXITED async message.
    #[rights(DESTROY)]
    fn exit(&mut self, caller: Badge, status: u32) -> Result<(), KError>;
    /// The process id (its badge) and the CommID of its first dispatcher.
    #[rights(READ)]
    fn ids(&self, caller: Badge) -> Result<(u64, u64), KError>;
    /// Adds a dispatcher on CPU `cpu` (at most one per CPU per process) that starts at `rip`
    /// with stack `rsp` (see `k42_abi::kernel::first_entry`). Returns its CommID. WRITE, so a
    /// process can spread itself over CPUs (a server: one dispatcher on each CPU it serves):
    /// only it knows addresses in its own space.
    #[rights(WRITE)]
    fn add_dispatcher(
        &mut self,
        caller: Badge,
        cpu: u32,
        rip: u64,
        rsp: u64,
    ) -> Result<u64, KError>;
    // New methods go below: a method's number is its place in this trait.
    /// The second half of a fork (`Memory::new_child` is the first): gives this process — a
    /// child the *caller* made with `new_child`, not yet forked into — a copy-on-write copy of
    /// the caller's memory (kernel pages left out) and its first dispatcher, on the caller's
    /// CPU, stopped, to start at `rip` with stack `rsp` and the first-entry registers of a
    /// spawned process (`k42_abi::kernel::first_entry`: its own Process and Memory handles, its
    /// CommID, `arg` as the first argument word). Returns the CommID. Start it with `start`.
    #[rights(CONTROL)]
    fn fork_from_caller(
        &mut self,
        caller: Badge,
        rip: u64,
        rsp: u64,
        arg: u64,
    ) -> Result<u64, KError>;
    /// While this process is a fork child not yet forked into (between `Memory::new_child`
    /// and `fork_from_caller`): its pid and its parent's — the kernel's attestation a server
    /// can ask for before it takes the parent's word that this is its child. `WrongState`
    /// at any other time.
    #[rights(READ)]
    fn fork_origin(&self, caller: Badge) -> Result<(u64, u64), KError>;
    /// Stops the process (job control: SIGSTOP through the kernel): none of its dispatchers is
    /// scheduled or entered at an upcall until [`cont`](Process::cont), on every CPU. One
    /// running now is taken off its CPU at once, its registers kept; soft interrupts posted to
    /// a stopped dispatcher stay pending and are taken when it continues. A dispatcher in the
    /// middle of a PPC as caller lets its server finish the call and then stops, the reply
    /// kept for it; one serving a call finishes it and then stops, and while stopped it takes
    /// no new calls (callers get `Retry`, and IPC_RETRY once it continues). The call returns
    /// once every CPU has taken the process off (the caller waits, blocked, for the others'
    /// word by mail). Returns 1 if the process was not stopped, 0 if it already was (stopping
    /// again changes nothing). A process not yet started can be stopped too: starting it then
    /// lets nothing run until it is continued. DESTROY: whoever may end a process may stop it.
    #[rights(DESTROY)]
    fn stop(&mut self, caller: Badge) -> Result<u64, KError>;
    /// Continues a process [`stop`](Process::stop)ped: its dispatchers are scheduled again and
    /// resume where they were (an enabled one with soft interrupts pending is entered at
    /// INTERRUPT, the kept registers in its save area). Returns 1 if it was stopped, 0 if not
    /// (then nothing changes). It never starts a process not yet started (`start` does).
    #[rights(DESTROY)]
    fn cont(&mut self, caller: Badge) -> Result<u64, KError>;
}

/// A process's address space: anonymous, zero-filled, demand-paged regions.
#[k42_idl::interface(id = 3)]
pub trait Memory {
    /// Maps `len` bytes at `addr` (page aligned, not overlapping a mapping) with `prot`.
    #[rights(WRITE)]
    fn map(&mut self, caller: Badge, addr: u64, len: u64, prot: u8) -> Result<(), KError>;
    /// Unmaps `addr..addr+len`; holes are fine.
    #[rights(WRITE)]
    fn unmap(&mut self, caller: Badge, addr: u64, len: u64) -> Result<(), KError>;
    /// Changes the protection of `addr..addr+len`, which must be wholly mapped.
    #[rights(WRITE)]
    fn protect(&mut self, caller: Badge, addr: u64, len: u64, prot: u8) -> Result<(), KError>;
    // New methods go below: a method's number is its place in this trait.
    /// The first half of a fork: makes an empty, stopped process of the same kind and class as
    /// this memory's process, for the caller to give access to (its badge is the returned pid)
    /// and then fill with `Process::fork_from_caller`. Returns `(pid, handle)`: the caller's
    /// handle on the new process, with every right. Only the memory's own process may fork
    /// itself (`BadArgument` otherwise).
    #[rights(WRITE)]
    fn new_child(&mut self, caller: Badge) -> Result<(u64, u64), KError>;
    /// Maps `len` bytes at `addr` (page aligned, not overlapping a mapping) with `prot`, as a
    /// new *shared* object: zero-filled like `map`, but a fork child's copy of the range names
    /// the same pages instead of a copy-on-write copy (`mmap(MAP_SHARED | MAP_ANONYMOUS)`).
    #[rights(WRITE)]
    fn map_shared(&mut self, caller: Badge, addr: u64, len: u64, prot: u8) -> Result<(), KError>;
    /// Makes a new [`Image`] of `pages` pages (at most [`MAX_IMAGE_PAGES`]), all zero, matched
    /// to the caller with every right; returns the caller's handle. The memory's own process
    /// only (`BadArgument` otherwise).
    #[rights(WRITE)]
    fn make_image(&mut self, caller: Badge, pages: u64) -> Result<u64, KError>;
    /// Drops this memory's own copies of the pages of `addr..addr+len` (page aligned, wholly
    /// mapped), as Linux's `MADV_DONTNEED` does: anonymous memory reads zeros again, an
    /// image's range its image's bytes, and a shared object's range keeps its pages (they are
    /// the object's). `BadAddress` for a hole in the range, `BadArgument` for a kernel page.
    #[rights(WRITE)]
    fn discard(&mut self, caller: Badge, addr: u64, len: u64) -> Result<(), KError>;
}

/// A file's bytes as a memory object: K42's FR for a file whose pages are resident. The file
/// server fills one per file version ([`Image::fill`], WRITE), seals it ([`Image::seal`]) and
/// gives its clients access with READ only; a client maps ranges of it privately into its own memory
/// ([`Image::map_private`]) — `execve`'s segments, `mmap(MAP_PRIVATE)` of the file — so every
/// process shares the image's frames until it writes a page, which copies it. Nothing is read
/// through the file server per page, and nothing is copied that is only read.
#[k42_idl::interface(id = 4)]
pub trait Image {
    /// Copies `count` pages (at most [`MAX_FILL_PAGES`]) into the image from page `first`:
    /// `table_addr` holds `count` addresses in the caller's memory, each of [`IMAGE_PAGE_SIZE`]
    /// readable bytes, or 0 for a hole (zeros, and no memory). `BadArgument` past the image's
    /// end or for too many pages, `BadAddress` for an unreadable table or page, `WrongState`
    /// once the image is sealed.
    #[rights(WRITE)]
    fn fill(
        &mut self,
        caller: Badge,
        first: u64,
        table_addr: u64,
        count: u64,
    ) -> Result<(), KError>;
    /// Maps `len` bytes (page aligned) of the image from page `first` at `addr` (page aligned,
    /// not overlapping a mapping) of the *caller's* memory with `prot`, privately: reads see
    /// the image's pages, and the first write to a page copies it into the caller's own memory
    /// (a fork child's copy of the range behaves the same). `BadArgument` for a range past the
    /// image's end, `WrongState` for an image not sealed yet.
    #[rights(READ)]
    fn map_private(
        &mut self,
        caller: Badge,
        addr: u64,
        len: u64,
        first: u64,
        prot: u8,
    ) -> Result<(), KError>;
    /// Its number of pages.
    #[rights(READ)]
    fn pages(&self, caller: Badge) -> Result<u64, KError>;
    /// Seals it: no more fills, and from now on it maps. A sealed image never changes, so what
    /// its mappings read is fixed.
    #[rights(WRITE)]
    fn seal(&mut self, caller: Badge) -> Result<(), KError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_window_clips_to_the_content_and_the_buffer() {
        assert_eq!(read_window(10, 0, 100), 0..10);
        assert_eq!(read_window(10, 0, 4), 0..4);
        assert_eq!(read_window(10, 8, 4), 8..10);
        assert_eq!(read_window(10, 9, 1), 9..10);
        assert_eq!(read_window(10, 10, 4), 10..10);
        assert_eq!(read_window(10, 11, 4), 10..10);
        assert_eq!(read_window(10, 3, 0), 3..3);
        assert_eq!(read_window(0, 0, 4), 0..0);
    }

    #[test]
    fn read_window_never_overflows() {
        assert_eq!(
            read_window(u64::MAX, u64::MAX - 1, u64::MAX),
            u64::MAX - 1..u64::MAX
        );
        assert_eq!(read_window(u64::MAX, 1, u64::MAX), 1..u64::MAX);
        assert_eq!(read_window(5, u64::MAX, u64::MAX), 5..5);
    }

    #[test]
    fn new_boot_methods_come_last() {
        let names: [&str; 10] = BootMethod::ALL.map(|m| m.name());
        assert_eq!(
            names,
            [
                "spawn",
                "shutdown",
                "counter",
                "cpus",
                "argv",
                "spawn_linux",
                "read_file",
                "read_initramfs",
                "memory",
                "time_kernel"
            ]
        );
        assert_eq!(BootMethod::SpawnLinux.rights(), k42_rights::Rights::CONTROL);
        assert_eq!(BootMethod::ReadFile.rights(), k42_rights::Rights::READ);
        assert_eq!(BootMethod::TimeKernel.rights(), k42_rights::Rights::READ);
    }

    #[test]
    fn new_process_methods_come_last() {
        let names: [&str; 10] = ProcessMethod::ALL.map(|m| m.name());
        assert_eq!(
            names,
            [
                "start",
                "grant_io_ports",
                "log",
                "exit",
                "ids",
                "add_dispatcher",
                "fork_from_caller",
                "fork_origin",
                "stop",
                "cont"
            ]
        );
        // The process server stops and continues with the handle it ends processes with.
        assert_eq!(ProcessMethod::Stop.rights(), k42_rights::Rights::DESTROY);
        assert_eq!(ProcessMethod::Cont.rights(), k42_rights::Rights::DESTROY);
        assert_eq!(ProcessMethod::Exit.rights(), k42_rights::Rights::DESTROY);
    }

    #[test]
    fn counters_are_numbered_densely() {
        assert_eq!(counter::REFLECTIONS + 1, counter::COUNT);
    }
}
