//! The registry against Linux's pipe rules and against a model of the ring.

extern crate std;

use std::collections::VecDeque;
use std::vec;
use std::vec::Vec;

use super::*;

/// Two writers' keys.
const A: Key = 1;
const B: Key = 2;
/// A watcher.
const W: Watcher = 0x77;

fn filled(pipes: &mut Pipes, id: PipeId, n: usize) {
    let mut left = n;
    while left > 0 {
        let chunk = left.min(2048);
        assert_eq!(pipes.write(id, A, &vec![b'x'; chunk], 0), Ok(chunk));
        left -= chunk;
    }
}

#[test]
fn bytes_come_out_in_order_across_the_ring_s_wrap() {
    let mut pipes = Pipes::new();
    let id = pipes.create();
    let mut model = VecDeque::new();
    // A simple deterministic generator: sizes that wrap the ring many times.
    let mut seed = 12345u64;
    let mut next = |m: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize % m
    };
    // The next byte to write: advanced only by what went in, so the stream has no gaps.
    let mut byte = 0u8;
    for _ in 0..2000 {
        if next(2) == 0 {
            let len = next(3000) + 1;
            let data: Vec<u8> = (0..len).map(|i| byte.wrapping_add(i as u8)).collect();
            match pipes.write(id, A, &data, 0) {
                Ok(n) => {
                    model.extend(&data[..n]);
                    byte = byte.wrapping_add(n as u8);
                }
                Err(e) => {
                    assert_eq!(e, Errno::EAGAIN);
                    assert_eq!(model.len(), CAPACITY);
                }
            }
        } else {
            let max = next(5000) + 1;
            match pipes.read(id, max) {
                Ok(bytes) => {
                    let want: Vec<u8> = model.drain(..max.min(model.len())).collect();
                    assert_eq!(bytes, want);
                }
                Err(e) => {
                    assert_eq!(e, Errno::EAGAIN);
                    assert!(model.is_empty());
                }
            }
        }
        assert_eq!(pipes.buffered(id), Ok(model.len()));
    }
}

#[test]
fn a_pipe_holds_64_kib() {
    let mut pipes = Pipes::new();
    let id = pipes.create();
    assert_eq!(CAPACITY, 65536);
    filled(&mut pipes, id, CAPACITY);
    assert_eq!(pipes.write(id, A, b"y", 0), Err(Errno::EAGAIN));
    assert_eq!(pipes.read(id, 10).unwrap().len(), 10);
    // A plain write takes what fits.
    assert_eq!(pipes.write(id, A, &[b'z'; 100], 0), Ok(10));
}

#[test]
fn an_atomic_write_goes_in_whole_or_not_at_all() {
    let mut pipes = Pipes::new();
    let id = pipes.create();
    filled(&mut pipes, id, CAPACITY - PIPE_BUF + 1);
    // One byte short of PIPE_BUF free: a PIPE_BUF write fails and writes nothing.
    assert_eq!(pipes.write(id, A, &[1; 2048], PIPE_BUF), Err(Errno::EAGAIN));
    assert_eq!(pipes.buffered(id), Ok(CAPACITY - PIPE_BUF + 1));
    // A smaller atomic write that fits goes in.
    assert_eq!(pipes.write(id, A, &[1; 100], 100), Ok(100));
    // Leave nine bytes free.
    filled(&mut pipes, id, PIPE_BUF - 1 - 100 - 9);
    assert_eq!(
        pipes.write(id, A, &[1; 10], 10),
        Err(Errno::EAGAIN),
        "nine bytes free: a ten-byte atomic write waits"
    );
    assert_eq!(pipes.write(id, A, &[1; 10], 0), Ok(9));
}

#[test]
fn an_atomic_write_in_pieces_is_not_interleaved() {
    let mut pipes = Pipes::new();
    let id = pipes.create();
    assert_eq!(pipes.write(id, A, &[b'a'; 2048], PIPE_BUF), Ok(2048));
    // B's writes wait while A's is in progress, atomic or not.
    assert_eq!(pipes.write(id, B, b"b", 1), Err(Errno::EAGAIN));
    assert_eq!(pipes.write(id, B, b"b", 0), Err(Errno::EAGAIN));
    assert_eq!(pipes.revents(id, Side::Write), Ok(0));
    // A reader may take the first piece meanwhile.
    assert_eq!(pipes.read(id, 10).unwrap(), vec![b'a'; 10]);
    // The holder's next piece is taken; more than it announced is refused.
    assert_eq!(pipes.write(id, A, &[b'a'; 2049], 0), Err(Errno::EINVAL));
    assert_eq!(pipes.write(id, A, &[b'a'; 2048], 0), Ok(2048));
    assert_eq!(pipes.write(id, B, b"b", 1), Ok(1));
    let all = pipes.read(id, CAPACITY).unwrap();
    assert_eq!(all.len(), PIPE_BUF - 10 + 1);
    assert!(all[..PIPE_BUF - 10].iter().all(|&b| b == b'a'));
    assert_eq!(all.last(), Some(&b'b'));
}

#[test]
fn closing_the_holder_ends_its_atomic_write() {
    let mut pipes = Pipes::new();
    let id = pipes.create();
    pipes.open(id, Side::Write).unwrap();
    assert_eq!(pipes.write(id, A, &[0; 1000], 3000), Ok(1000));
    assert_eq!(pipes.write(id, B, b"b", 0), Err(Errno::EAGAIN));
    pipes.close(id, Side::Write, A).unwrap();
    assert_eq!(pipes.write(id, B, b"b", 0), Ok(1));
    assert_eq!(pipes.buffered(id), Ok(1001));
}

#[test]
fn atomic_sizes_are_checked() {
    let mut pipes = Pipes::new();
    let id = pipes.create();
    assert_eq!(
        pipes.write(id, A, &[0; 10], PIPE_BUF + 1),
        Err(Errno::EINVAL)
    );
    assert_eq!(pipes.write(id, A, &[0; 10], 5), Err(Errno::EINVAL));
    assert_eq!(pipes.write(id, A, &[], 0), Ok(0));
}

#[test]
fn an_empty_pipe_would_block_until_its_writers_are_gone() {
    let mut pipes = Pipes::new();
    let id = pipes.create();
    assert_eq!(pipes.read(id, 10), Err(Errno::EAGAIN));
    assert_eq!(pipes.read(id, 0), Ok(vec![]));
    pipes.write(id, A, b"last", 4).unwrap();
    pipes.close(id, Side::Write, A).unwrap();
    // The bytes written before the close are still read, then end of file.
    assert_eq!(pipes.read(id, 10), Ok(b"last".to_vec()));
    assert_eq!(pipes.read(id, 10), Ok(vec![]));
    assert_eq!(pipes.revents(id, Side::Read), Ok(HANGUP));
}

#[test]
fn writing_with_no_reader_is_epipe() {
    let mut pipes = Pipes::new();
    let id = pipes.create();
    pipes.close(id, Side::Read, A).unwrap();
    assert_eq!(pipes.write(id, A, b"x", 1), Err(Errno::EPIPE));
    assert_eq!(pipes.write(id, A, b"x", 0), Err(Errno::EPIPE));
    assert_eq!(pipes.revents(id, Side::Write), Ok(WRITABLE | ERROR));
}

#[test]
fn every_holder_counts() {
    let mut pipes = Pipes::new();
    let id = pipes.create();
    // A write end given to a child: two writers.
    pipes.open(id, Side::Write).unwrap();
    pipes.close(id, Side::Write, A).unwrap();
    assert_eq!(pipes.read(id, 1), Err(Errno::EAGAIN), "one writer is left");
    pipes.close(id, Side::Write, B).unwrap();
    assert_eq!(pipes.read(id, 1), Ok(vec![]));
    // The same for readers.
    pipes.open(id, Side::Read).unwrap();
    pipes.close(id, Side::Read, A).unwrap();
    assert_eq!(pipes.len(), 1);
    pipes.close(id, Side::Read, B).unwrap();
    // Both ends closed: the pipe is gone.
    assert!(pipes.is_empty());
    assert_eq!(pipes.read(id, 1), Err(Errno::EBADF));
    assert_eq!(pipes.close(id, Side::Read, A), Err(Errno::EBADF));
}

#[test]
fn a_count_never_goes_below_zero() {
    let mut pipes = Pipes::new();
    let id = pipes.create();
    pipes.close(id, Side::Write, A).unwrap();
    assert_eq!(pipes.close(id, Side::Write, A), Err(Errno::EBADF));
    assert_eq!(pipes.len(), 1);
}

#[test]
fn readiness_is_linux_s() {
    let mut pipes = Pipes::new();
    let id = pipes.create();
    assert_eq!(pipes.revents(id, Side::Read), Ok(0));
    assert_eq!(pipes.revents(id, Side::Write), Ok(WRITABLE));
    pipes.write(id, A, b"x", 1).unwrap();
    assert_eq!(pipes.revents(id, Side::Read), Ok(READABLE));
    filled(&mut pipes, id, CAPACITY - PIPE_BUF);
    // PIPE_BUF - 1 free: not writable (an atomic write would wait).
    assert_eq!(pipes.revents(id, Side::Write), Ok(0));
    pipes.read(id, 1).unwrap();
    assert_eq!(pipes.revents(id, Side::Write), Ok(WRITABLE));
    pipes.close(id, Side::Write, A).unwrap();
    assert_eq!(pipes.revents(id, Side::Read), Ok(READABLE | HANGUP));
}

#[test]
fn a_reader_s_watch_fires_once_on_data_or_hangup() {
    let mut pipes = Pipes::new();
    let id = pipes.create();
    assert_eq!(pipes.arm(id, Side::Read, W, READABLE), Ok(0));
    assert!(pipes.take_wakes().is_empty());
    pipes.write(id, A, b"x", 1).unwrap();
    assert_eq!(pipes.take_wakes(), vec![(W, id)]);
    // One-shot: more data wakes nobody.
    pipes.write(id, A, b"y", 1).unwrap();
    assert!(pipes.take_wakes().is_empty());
    // Ready already: arming reports it and does not arm.
    assert_eq!(pipes.arm(id, Side::Read, W, READABLE), Ok(READABLE));
    pipes.read(id, 10).unwrap();
    pipes.write(id, A, b"z", 1).unwrap();
    assert!(pipes.take_wakes().is_empty());
    pipes.read(id, 10).unwrap();
    // The last writer's close wakes a reader (HANGUP is always reported).
    assert_eq!(pipes.arm(id, Side::Read, W, READABLE), Ok(0));
    pipes.close(id, Side::Write, A).unwrap();
    assert_eq!(pipes.take_wakes(), vec![(W, id)]);
}

#[test]
fn a_writer_s_watch_fires_when_an_atomic_write_fits_or_readers_go() {
    let mut pipes = Pipes::new();
    let id = pipes.create();
    filled(&mut pipes, id, CAPACITY);
    assert_eq!(pipes.arm(id, Side::Write, W, WRITABLE), Ok(0));
    // Reading less than PIPE_BUF does not make it writable: no wake-up to spin on.
    pipes.read(id, PIPE_BUF - 1).unwrap();
    assert!(pipes.take_wakes().is_empty());
    pipes.read(id, 1).unwrap();
    assert_eq!(pipes.take_wakes(), vec![(W, id)]);
    filled(&mut pipes, id, PIPE_BUF);
    assert_eq!(pipes.arm(id, Side::Write, W, WRITABLE), Ok(0));
    pipes.close(id, Side::Read, A).unwrap();
    assert_eq!(pipes.take_wakes(), vec![(W, id)]);
}

#[test]
fn the_end_of_an_atomic_write_wakes_the_writers_it_held_back() {
    let mut pipes = Pipes::new();
    let id = pipes.create();
    pipes.write(id, A, &[0; 2048], PIPE_BUF).unwrap();
    assert_eq!(pipes.write(id, B, b"b", 1), Err(Errno::EAGAIN));
    assert_eq!(pipes.arm(id, Side::Write, W, WRITABLE), Ok(0));
    pipes.write(id, A, &[0; 2048], 0).unwrap();
    assert_eq!(pipes.take_wakes(), vec![(W, id)]);
}

#[test]
fn every_would_block_leaves_something_to_wait_for() {
    // The no-spin rule (module comment): each EAGAIN comes with its event false.
    let mut pipes = Pipes::new();
    let id = pipes.create();
    assert_eq!(pipes.read(id, 1), Err(Errno::EAGAIN));
    assert_eq!(
        pipes.revents(id, Side::Read).unwrap() & (READABLE | ALWAYS),
        0
    );
    for (fill, size, atomic) in [(CAPACITY, 1, 0), (CAPACITY - 10, 20, 20)] {
        let id = pipes.create();
        filled(&mut pipes, id, fill);
        assert_eq!(
            pipes.write(id, A, &vec![0; size], atomic),
            Err(Errno::EAGAIN)
        );
        assert_eq!(
            pipes.revents(id, Side::Write).unwrap() & (WRITABLE | ALWAYS),
            0
        );
    }
}

#[test]
fn watches_of_several_watchers_and_pipes_are_kept_apart() {
    let mut pipes = Pipes::new();
    let (one, two) = (pipes.create(), pipes.create());
    pipes.arm(one, Side::Read, 1, READABLE).unwrap();
    pipes.arm(one, Side::Read, 2, READABLE).unwrap();
    pipes.arm(two, Side::Read, 1, READABLE).unwrap();
    pipes.write(one, A, b"x", 1).unwrap();
    assert_eq!(pipes.take_wakes(), vec![(1, one), (2, one)]);
    pipes.write(two, A, b"x", 1).unwrap();
    assert_eq!(pipes.take_wakes(), vec![(1, two)]);
}
