//! Named pipes (FIFOs, fifo(7)): the rendezvous of Linux's `fs/pipe.c` `fifo_open`, as pure
//! logic beside the anonymous pipes of `lib.rs`, for the pipe server (`user/bin/pipes`), which
//! the file server (`user/bin/fs`) asks for the pipe of a FIFO inode once it has checked that
//! the caller may open it.
//!
//! **One pipe per name while any end is open.** [`Pipes::open_named`] finds the pipe of a
//! [`Name`] (the FIFO's inode number) or makes an empty one, and counts the opener at once —
//! a reader, a writer, or both for `O_RDWR` ([`Side::Both`]). When the last holder closes
//! ([`Pipes::close`]), the pipe goes with its bytes and the name is free: the next open
//! starts a fresh pipe, as on Linux.
//!
//! **The rendezvous.** As in Linux:
//! - `O_RDONLY` with no writer waits until a writer opens, unless `O_NONBLOCK` (then it is
//!   open at once, reads see end of file, and `poll` reports no hang-up to it until a writer
//!   has come: [`End::quiet_until`]);
//! - `O_WRONLY` with no reader waits until a reader opens; with `O_NONBLOCK` it fails with
//!   `ENXIO` and counts nothing;
//! - `O_RDWR` never waits.
//!
//! Waiting is the opener's, in its own process (nothing here ever waits): the answer says
//! [`Rendezvous::Wait`] with the other side's open count it saw (Linux's `r_counter` or
//! `w_counter`); the opener arms [`Pipes::arm_partner`] with it and is woken — through
//! [`Pipes::take_wakes`], like any watch — when that count moves, which it does at every open
//! of that side, even one closed again since (Linux's `wait_for_partner` waits for the same).
//! Meanwhile the waiting opener already counts as a reader or writer, as Linux's does; one that
//! gives up (a signal) closes its end like any holder.

use alloc::vec::Vec;

use k42_linux::Errno;

use crate::{End, Name, Pipe, PipeId, Pipes, READS, Side, WRITES, Watcher};

/// An opener waiting for the other side: woken when that side's open count is no longer
/// `seen`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PartnerWatch {
    who: Watcher,
    side: Side,
    seen: u64,
}

/// What an opener of a named pipe does after [`Pipes::open_named`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rendezvous {
    /// Nothing: the open is complete.
    Ready,
    /// Waits until the other side's open count is no longer `seen`: a partner opened
    /// ([`Pipes::arm_partner`]).
    Wait {
        /// The other side's open count at this open.
        seen: u64,
    },
}

/// A named open's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NamedOpen {
    /// The pipe.
    pub pipe: PipeId,
    /// How the new holder sees it (its readiness: [`Pipes::revents`], [`Pipes::arm`]).
    pub end: End,
    /// Whether it must wait for the other side.
    pub rendezvous: Rendezvous,
}

/// The open count of the side `side` waits for (none for [`Side::Both`], which never waits).
fn partner_opens(opens: [u64; 2], side: Side) -> Option<u64> {
    match side {
        Side::Read => Some(opens[WRITES]),
        Side::Write => Some(opens[READS]),
        Side::Both => None,
    }
}

impl Pipes {
    /// Opens the named pipe `name` for `side` (module comment): one more holder of it, made
    /// now if it had none. `ENXIO` for a non-blocking writer while no reader holds it.
    pub fn open_named(
        &mut self,
        name: Name,
        side: Side,
        nonblock: bool,
    ) -> Result<NamedOpen, Errno> {
        let existing = self.names.get(&name).copied();
        let readers = existing
            .and_then(|id| self.pipes.get(&id))
            .map_or(0, |p| p.readers);
        if side == Side::Write && nonblock && readers == 0 {
            return Err(Errno::ENXIO);
        }
        let id = match existing {
            Some(id) => id,
            None => {
                let id = self.insert(Pipe {
                    name: Some(name),
                    ..Pipe::default()
                });
                self.names.insert(name, id);
                id
            }
        };
        let pipe = self.pipe(id)?;
        // Only a count at u32::MAX fails, and never on a fresh pipe.
        pipe.add(side)?;
        if side.reads() {
            pipe.opens[READS] = pipe.opens[READS].wrapping_add(1);
        }
        if side.writes() {
            pipe.opens[WRITES] = pipe.opens[WRITES].wrapping_add(1);
        }
        let (end, rendezvous) = match side {
            Side::Read if pipe.writers == 0 && nonblock => {
                let end = End {
                    side,
                    quiet_until: Some(pipe.opens[WRITES]),
                };
                (end, Rendezvous::Ready)
            }
            Side::Read if pipe.writers == 0 => {
                let seen = pipe.opens[WRITES];
                (End::from(side), Rendezvous::Wait { seen })
            }
            Side::Write if pipe.readers == 0 => {
                let seen = pipe.opens[READS];
                (End::from(side), Rendezvous::Wait { seen })
            }
            _ => (End::from(side), Rendezvous::Ready),
        };
        self.partners_changed(id);
        Ok(NamedOpen {
            pipe: id,
            end,
            rendezvous,
        })
    }

    /// For an opener of `side` waiting with [`Rendezvous::Wait`]`{ seen }`: whether a partner
    /// has opened since (`true`: the open is complete). If not, also arms a one-shot watch:
    /// `who` goes to [`Pipes::take_wakes`] when one does. `EBADF` for a pipe that is gone.
    pub fn arm_partner(
        &mut self,
        id: PipeId,
        side: Side,
        who: Watcher,
        seen: u64,
    ) -> Result<bool, Errno> {
        let pipe = self.pipe(id)?;
        match partner_opens(pipe.opens, side) {
            Some(now) if now == seen => {}
            _ => return Ok(true),
        }
        let watch = PartnerWatch { who, side, seen };
        match pipe
            .partners
            .iter_mut()
            .find(|w| w.who == who && w.side == side)
        {
            Some(old) => *old = watch,
            None => pipe.partners.push(watch),
        }
        Ok(false)
    }

    /// Pipe `id` was opened by name: every opener waiting for the side that opened is woken.
    fn partners_changed(&mut self, id: PipeId) {
        let Some(pipe) = self.pipes.get_mut(&id) else {
            return;
        };
        let opens = pipe.opens;
        let mut fired = Vec::new();
        pipe.partners.retain(|w| {
            let arrived = partner_opens(opens, w.side) != Some(w.seen);
            if arrived {
                fired.push(w.who);
            }
            !arrived
        });
        self.wake(id, fired);
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::vec;

    use crate::{ERROR, HANGUP, READABLE, WRITABLE};

    use super::*;

    const FIFO: Name = 42;
    const OTHER: Name = 43;
    const KEY: u64 = 1;
    const W: Watcher = 0x77;

    fn ready(open: NamedOpen) -> bool {
        open.rendezvous == Rendezvous::Ready
    }

    #[test]
    fn read_write_opens_at_once_and_is_a_pipe() {
        let mut pipes = Pipes::new();
        let open = pipes.open_named(FIFO, Side::Both, false).unwrap();
        assert!(ready(open));
        assert_eq!(pipes.write(open.pipe, KEY, b"hello", 5), Ok(5));
        assert_eq!(pipes.read(open.pipe, 10), Ok(b"hello".to_vec()));
        // Its own reader and writer: empty is EAGAIN, never end of file or EPIPE.
        assert_eq!(pipes.read(open.pipe, 10), Err(Errno::EAGAIN));
        assert_eq!(pipes.revents(open.pipe, Side::Both), Ok(WRITABLE));
        pipes.write(open.pipe, KEY, b"x", 1).unwrap();
        assert_eq!(pipes.revents(open.pipe, open.end), Ok(READABLE | WRITABLE));
    }

    #[test]
    fn every_opener_of_a_name_shares_one_pipe() {
        let mut pipes = Pipes::new();
        let a = pipes.open_named(FIFO, Side::Both, false).unwrap();
        let b = pipes.open_named(FIFO, Side::Read, true).unwrap();
        let c = pipes.open_named(OTHER, Side::Both, false).unwrap();
        assert_eq!(a.pipe, b.pipe);
        assert_ne!(a.pipe, c.pipe);
        pipes.write(a.pipe, KEY, b"shared", 0).unwrap();
        assert_eq!(pipes.read(b.pipe, 10), Ok(b"shared".to_vec()));
        // Anonymous pipes are never found by name.
        let anon = pipes.create();
        assert_ne!(
            pipes.open_named(FIFO, Side::Both, false).unwrap().pipe,
            anon
        );
    }

    #[test]
    fn the_last_close_drops_the_data_and_frees_the_name() {
        let mut pipes = Pipes::new();
        let open = pipes.open_named(FIFO, Side::Both, false).unwrap();
        pipes.write(open.pipe, KEY, b"stale", 0).unwrap();
        pipes.close(open.pipe, Side::Both, KEY).unwrap();
        assert!(pipes.is_empty());
        let again = pipes.open_named(FIFO, Side::Both, false).unwrap();
        assert_ne!(again.pipe, open.pipe);
        assert_eq!(pipes.read(again.pipe, 10), Err(Errno::EAGAIN));
    }

    #[test]
    fn a_non_blocking_writer_needs_a_reader() {
        let mut pipes = Pipes::new();
        assert_eq!(pipes.open_named(FIFO, Side::Write, true), Err(Errno::ENXIO));
        assert!(pipes.is_empty(), "a refused open leaves nothing behind");
        let reader = pipes.open_named(FIFO, Side::Read, true).unwrap();
        let writer = pipes.open_named(FIFO, Side::Write, true).unwrap();
        assert!(ready(writer));
        assert_eq!(writer.pipe, reader.pipe);
        // An O_RDWR holder is a reader too.
        let mut pipes = Pipes::new();
        pipes.open_named(FIFO, Side::Both, false).unwrap();
        assert!(ready(pipes.open_named(FIFO, Side::Write, true).unwrap()));
    }

    #[test]
    fn a_non_blocking_reader_opens_at_once_and_reads_end_of_file() {
        let mut pipes = Pipes::new();
        let open = pipes.open_named(FIFO, Side::Read, true).unwrap();
        assert!(ready(open));
        assert_eq!(pipes.read(open.pipe, 10), Ok(vec![]));
    }

    #[test]
    fn no_hangup_before_a_writer_came() {
        let mut pipes = Pipes::new();
        let rd = pipes.open_named(FIFO, Side::Read, true).unwrap();
        assert_eq!(pipes.revents(rd.pipe, rd.end), Ok(0));
        // Nothing to wait for: arming arms (no spin on a hang-up it would not report).
        assert_eq!(pipes.arm(rd.pipe, rd.end, W, READABLE), Ok(0));
        let wr = pipes.open_named(FIFO, Side::Write, true).unwrap();
        assert_eq!(pipes.revents(rd.pipe, rd.end), Ok(0));
        pipes.close(wr.pipe, Side::Write, KEY).unwrap();
        // The writer came and went: now it is a hang-up, and the watch fires.
        assert_eq!(pipes.revents(rd.pipe, rd.end), Ok(HANGUP));
        assert_eq!(pipes.take_wakes(), vec![(W, rd.pipe)]);
        // Another holder of the read side sees the hang-up all along.
        assert_eq!(pipes.revents(rd.pipe, Side::Read), Ok(HANGUP));
    }

    #[test]
    fn a_blocking_reader_waits_for_a_writer() {
        let mut pipes = Pipes::new();
        let rd = pipes.open_named(FIFO, Side::Read, false).unwrap();
        let Rendezvous::Wait { seen } = rd.rendezvous else {
            panic!("{rd:?} should wait");
        };
        assert_eq!(pipes.arm_partner(rd.pipe, Side::Read, W, seen), Ok(false));
        assert!(pipes.take_wakes().is_empty());
        // Another reader wakes nobody; the waiting reader already counts as a reader.
        assert!(!ready(pipes.open_named(FIFO, Side::Read, false).unwrap()));
        assert!(pipes.take_wakes().is_empty());
        let wr = pipes.open_named(FIFO, Side::Write, false).unwrap();
        assert!(ready(wr), "a reader is there");
        assert_eq!(pipes.take_wakes(), vec![(W, rd.pipe)]);
        assert_eq!(pipes.arm_partner(rd.pipe, Side::Read, W, seen), Ok(true));
    }

    #[test]
    fn a_writer_that_came_and_went_still_ends_the_wait() {
        let mut pipes = Pipes::new();
        let rd = pipes.open_named(FIFO, Side::Read, false).unwrap();
        let Rendezvous::Wait { seen } = rd.rendezvous else {
            panic!("{rd:?} should wait");
        };
        let wr = pipes.open_named(FIFO, Side::Write, false).unwrap();
        pipes.close(wr.pipe, Side::Write, KEY).unwrap();
        // Armed only now: the count moved already.
        assert_eq!(pipes.arm_partner(rd.pipe, Side::Read, W, seen), Ok(true));
        assert!(pipes.take_wakes().is_empty());
        assert_eq!(pipes.read(rd.pipe, 1), Ok(vec![]), "end of file");
    }

    #[test]
    fn a_blocking_writer_waits_for_a_reader() {
        let mut pipes = Pipes::new();
        let wr = pipes.open_named(FIFO, Side::Write, false).unwrap();
        let Rendezvous::Wait { seen } = wr.rendezvous else {
            panic!("{wr:?} should wait");
        };
        assert_eq!(pipes.revents(wr.pipe, Side::Write), Ok(WRITABLE | ERROR));
        assert_eq!(pipes.arm_partner(wr.pipe, Side::Write, W, seen), Ok(false));
        // A non-blocking reader is a reader: the writer's wait ends.
        let rd = pipes.open_named(FIFO, Side::Read, true).unwrap();
        assert!(
            ready(rd),
            "a writer is there, so no wait and no quiet hang-up"
        );
        assert_eq!(rd.end, End::from(Side::Read));
        assert_eq!(pipes.take_wakes(), vec![(W, wr.pipe)]);
        assert_eq!(pipes.write(wr.pipe, KEY, b"go", 0), Ok(2));
        assert_eq!(pipes.read(rd.pipe, 10), Ok(b"go".to_vec()));
    }

    #[test]
    fn a_waiter_that_gives_up_leaves_no_opener() {
        let mut pipes = Pipes::new();
        let rd = pipes.open_named(FIFO, Side::Read, false).unwrap();
        // While it waits it is a reader: a non-blocking writer may open.
        let wr = pipes.open_named(FIFO, Side::Write, true).unwrap();
        pipes.close(wr.pipe, Side::Write, KEY).unwrap();
        // Interrupted: it closes.
        pipes.close(rd.pipe, Side::Read, KEY).unwrap();
        assert!(pipes.is_empty());
        assert_eq!(pipes.open_named(FIFO, Side::Write, true), Err(Errno::ENXIO));
    }

    #[test]
    fn read_write_holders_never_wait_and_wake_both_sides() {
        let mut pipes = Pipes::new();
        let rd = pipes.open_named(FIFO, Side::Read, false).unwrap();
        let wr = pipes.open_named(OTHER, Side::Write, false).unwrap();
        let (Rendezvous::Wait { seen: r }, Rendezvous::Wait { seen: w }) =
            (rd.rendezvous, wr.rendezvous)
        else {
            panic!("both should wait");
        };
        pipes.arm_partner(rd.pipe, Side::Read, 1, r).unwrap();
        pipes.arm_partner(wr.pipe, Side::Write, 2, w).unwrap();
        let both = pipes.open_named(FIFO, Side::Both, false).unwrap();
        assert!(ready(both));
        assert_eq!(pipes.arm_partner(both.pipe, Side::Both, 3, 0), Ok(true));
        assert_eq!(pipes.take_wakes(), vec![(1, rd.pipe)]);
        pipes.open_named(OTHER, Side::Both, false).unwrap();
        assert_eq!(pipes.take_wakes(), vec![(2, wr.pipe)]);
    }

    #[test]
    fn a_gone_pipe_is_ebadf() {
        let mut pipes = Pipes::new();
        assert_eq!(pipes.arm_partner(9, Side::Read, W, 0), Err(Errno::EBADF));
        let both = pipes.open_named(FIFO, Side::Both, false).unwrap();
        assert_eq!(pipes.close(both.pipe, Side::Read, KEY), Ok(()));
        // A Both holder is one reader and one writer: closing it twice is refused.
        assert_eq!(pipes.close(both.pipe, Side::Both, KEY), Err(Errno::EBADF));
    }
}
