/*
 * pipes: pipe(2) and pipe2(2) within one process — flags, a round trip, end of file,
 * EPIPE, O_NONBLOCK's EAGAIN on an empty and on a full pipe (64 KiB), PIPE_BUF atomicity,
 * poll and select readiness, fstat, lseek, dup, fcntl, readv/writev, FIONREAD. On K42 the
 * pipe server (user/bin/pipes) and the personality's calls/pipe.rs serve them; on Linux the
 * kernel. Cases that need a second process are in pipes_fork.c. It passes on both.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "k42test.h"

/* Linux's default pipe capacity (16 pages) and PIPE_BUF. */
#define CAPACITY 65536
#define ATOMIC 4096
/* A write size that fills the pipe exactly. */
#define FILL_CHUNK 1024
/* More than a pipe holds. */
#define BIG 70000
/* How much to read from a full pipe before the atomicity case. */
#define DRAIN 100
/* A payload larger than one K42 server call (2 KiB) but atomic. */
#define MEDIUM 3000
#define POLL_WAIT_MS 50

static char buf[BIG];

/* A fresh pipe, or the case fails and the program stops (nothing else can run). */
static void make(int fds[2], int flags) {
    if (pipe2(fds, flags) != 0) {
        FAIL("pipe2", "pipe2(%#x): %s", flags, strerror(errno));
        exit(k42_done());
    }
}

static void close2(int fds[2]) {
    close(fds[0]);
    close(fds[1]);
}

/* Writes FILL_CHUNK-byte pieces into a non-blocking pipe until it is full; how much went. */
static long fill(int fd) {
    long total = 0;
    memset(buf, 'f', FILL_CHUNK);
    for (;;) {
        ssize_t n = write(fd, buf, FILL_CHUNK);
        if (n < 0)
            return errno == EAGAIN ? total : -errno;
        total += n;
    }
}

/* Reads a non-blocking pipe until it is empty; how much came. */
static long drain(int fd) {
    long total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0)
            return n == 0 || errno == EAGAIN ? total : -errno;
        total += n;
    }
}

static void flags(void) {
    int fds[2];
    CHECK("pipe", pipe(fds) == 0, "pipe: %s", strerror(errno));
    CHECK("pipe_modes",
          (fcntl(fds[0], F_GETFL) & O_ACCMODE) == O_RDONLY &&
              (fcntl(fds[1], F_GETFL) & O_ACCMODE) == O_WRONLY,
          "F_GETFL %#x %#x", fcntl(fds[0], F_GETFL), fcntl(fds[1], F_GETFL));
    CHECK("pipe_no_flags", fcntl(fds[0], F_GETFD) == 0 && !(fcntl(fds[1], F_GETFL) & O_NONBLOCK),
          "F_GETFD %d", fcntl(fds[0], F_GETFD));
    close2(fds);
    make(fds, O_CLOEXEC | O_NONBLOCK);
    CHECK("pipe2_cloexec",
          fcntl(fds[0], F_GETFD) == FD_CLOEXEC && fcntl(fds[1], F_GETFD) == FD_CLOEXEC,
          "F_GETFD %d %d", fcntl(fds[0], F_GETFD), fcntl(fds[1], F_GETFD));
    CHECK("pipe2_nonblock",
          (fcntl(fds[0], F_GETFL) & O_NONBLOCK) && (fcntl(fds[1], F_GETFL) & O_NONBLOCK),
          "F_GETFL %#x %#x", fcntl(fds[0], F_GETFL), fcntl(fds[1], F_GETFL));
    close2(fds);
    CHECK_ERR("pipe2_bad_flags", pipe2(fds, O_APPEND), EINVAL);
    CHECK_ERR("pipe_efault", pipe((int *)8), EFAULT);
}

static void round_trip(void) {
    int fds[2];
    make(fds, 0);
    ssize_t w = write(fds[1], "hello", 5);
    char got[16] = {0};
    ssize_t r = read(fds[0], got, sizeof got);
    CHECK("round_trip", w == 5 && r == 5 && memcmp(got, "hello", 5) == 0, "wrote %zd read %zd '%s'",
          w, r, got);
    /* A read takes what is there, not more than asked. */
    write(fds[1], "abcdef", 6);
    r = read(fds[0], got, 2);
    ssize_t r2 = read(fds[0], got + 2, sizeof got);
    CHECK("short_reads", r == 2 && r2 == 4 && memcmp(got, "abcdef", 6) == 0, "read %zd then %zd",
          r, r2);
    /* More than one K42 server call carries, in one atomic write. */
    for (int i = 0; i < MEDIUM; i++)
        buf[i] = (char)(i * 7);
    w = write(fds[1], buf, MEDIUM);
    static char back[MEDIUM];
    long total = 0;
    while (total < MEDIUM) {
        r = read(fds[0], back + total, MEDIUM - total);
        if (r <= 0)
            break;
        total += r;
    }
    CHECK("medium_round_trip", w == MEDIUM && total == MEDIUM && memcmp(buf, back, MEDIUM) == 0,
          "wrote %zd read %ld", w, total);
    struct iovec out[2] = {{"one", 3}, {"two", 3}};
    char a[2], b[8] = {0};
    struct iovec in[2] = {{a, sizeof a}, {b, sizeof b}};
    w = writev(fds[1], out, 2);
    r = readv(fds[0], in, 2);
    CHECK("readv_writev", w == 6 && r == 6 && memcmp(a, "on", 2) == 0 && memcmp(b, "etwo", 4) == 0,
          "writev %zd readv %zd", w, r);
    write(fds[1], "12345", 5);
    int avail = -1;
    CHECK("fionread", ioctl(fds[0], FIONREAD, &avail) == 0 && avail == 5, "FIONREAD %d: %s", avail,
          strerror(errno));
    CHECK_ERR("read_write_end", read(fds[1], got, 1), EBADF);
    CHECK_ERR("write_read_end", write(fds[0], "x", 1), EBADF);
    close2(fds);
}

static void ends(void) {
    int fds[2];
    make(fds, 0);
    write(fds[1], "last", 4);
    close(fds[1]);
    char got[8];
    ssize_t r = read(fds[0], got, sizeof got);
    ssize_t eof = read(fds[0], got, sizeof got);
    CHECK("eof_after_data", r == 4 && eof == 0, "read %zd then %zd", r, eof);
    close(fds[0]);

    signal(SIGPIPE, SIG_IGN);
    make(fds, 0);
    close(fds[0]);
    CHECK_ERR("epipe", write(fds[1], "x", 1), EPIPE);
    CHECK_ERR("epipe_big", write(fds[1], buf, BIG), EPIPE);
    close(fds[1]);
    signal(SIGPIPE, SIG_DFL);

    /* A dup of the write end keeps the pipe open for writing. */
    make(fds, O_NONBLOCK);
    int copy = dup(fds[1]);
    close(fds[1]);
    CHECK_ERR("dup_keeps_writer", read(fds[0], got, 1), EAGAIN);
    write(copy, "d", 1);
    r = read(fds[0], got, 1);
    close(copy);
    eof = read(fds[0], got, 1);
    CHECK("dup_then_eof", r == 1 && got[0] == 'd' && eof == 0, "read %zd then %zd", r, eof);
    close(fds[0]);
}

static void nonblocking(void) {
    int fds[2];
    make(fds, O_NONBLOCK);
    char got[4];
    CHECK_ERR("nonblock_empty", read(fds[0], got, sizeof got), EAGAIN);
    long filled = fill(fds[1]);
    CHECK("capacity_64k", filled == CAPACITY, "a pipe took %ld bytes", filled);
    CHECK_ERR("nonblock_full", write(fds[1], "x", 1), EAGAIN);
    CHECK("getpipe_sz", fcntl(fds[0], F_GETPIPE_SZ) == CAPACITY, "F_GETPIPE_SZ %d",
          fcntl(fds[0], F_GETPIPE_SZ));
    /* Less than PIPE_BUF free: a PIPE_BUF write fails whole, writing nothing. */
    ssize_t r = read(fds[0], buf, DRAIN);
    CHECK_ERR("atomic_write_waits", write(fds[1], buf, ATOMIC), EAGAIN);
    long left = drain(fds[0]);
    CHECK("atomic_wrote_nothing", r == DRAIN && left == CAPACITY - DRAIN, "read %zd, then %ld left",
          r, left);
    /* A larger non-blocking write takes what fits. */
    ssize_t w = write(fds[1], buf, BIG);
    CHECK("big_write_partial", w == CAPACITY, "a %d-byte write wrote %zd", BIG, w);
    close2(fds);

    /* O_NONBLOCK set later with F_SETFL. */
    make(fds, 0);
    CHECK("setfl_nonblock", fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0, "F_SETFL: %s",
          strerror(errno));
    CHECK_ERR("setfl_eagain", read(fds[0], got, 1), EAGAIN);
    close2(fds);
}

static short revents(int fd, short events, int timeout) {
    struct pollfd p = {.fd = fd, .events = events};
    int n = poll(&p, 1, timeout);
    return n < 0 ? -1 : p.revents;
}

static void readiness(void) {
    int fds[2];
    make(fds, O_NONBLOCK);
    CHECK("poll_empty", revents(fds[0], POLLIN, 0) == 0, "revents %#x", revents(fds[0], POLLIN, 0));
    CHECK("poll_writable", revents(fds[1], POLLOUT, 0) == POLLOUT, "revents %#x",
          revents(fds[1], POLLOUT, 0));
    CHECK("poll_timeout", revents(fds[0], POLLIN, POLL_WAIT_MS) == 0, "revents %#x",
          revents(fds[0], POLLIN, POLL_WAIT_MS));
    write(fds[1], "x", 1);
    CHECK("poll_readable", revents(fds[0], POLLIN, -1) == POLLIN, "revents %#x",
          revents(fds[0], POLLIN, -1));
    fill(fds[1]);
    CHECK("poll_full", revents(fds[1], POLLOUT, 0) == 0, "revents %#x", revents(fds[1], POLLOUT, 0));
    fd_set r, w;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(fds[0], &r);
    FD_SET(fds[1], &w);
    struct timeval zero = {0, 0};
    int n = select(fds[1] + 1, &r, &w, NULL, &zero);
    CHECK("select_full", n == 1 && FD_ISSET(fds[0], &r) && !FD_ISSET(fds[1], &w), "select %d", n);
    close(fds[1]);
    CHECK("poll_hup_with_data", revents(fds[0], POLLIN, 0) == (POLLIN | POLLHUP), "revents %#x",
          revents(fds[0], POLLIN, 0));
    drain(fds[0]);
    CHECK("poll_hup", revents(fds[0], POLLIN, -1) == POLLHUP, "revents %#x",
          revents(fds[0], POLLIN, -1));
    close(fds[0]);

    make(fds, O_NONBLOCK);
    FD_ZERO(&r);
    FD_SET(fds[0], &r);
    n = select(fds[0] + 1, &r, NULL, NULL, &zero);
    CHECK("select_empty", n == 0 && !FD_ISSET(fds[0], &r), "select %d", n);
    close(fds[0]);
    CHECK("poll_err", revents(fds[1], POLLOUT, 0) == (POLLOUT | POLLERR), "revents %#x",
          revents(fds[1], POLLOUT, 0));
    close(fds[1]);
}

static void metadata(void) {
    int fds[2];
    make(fds, 0);
    struct stat r, w;
    int ok = fstat(fds[0], &r) == 0 && fstat(fds[1], &w) == 0;
    CHECK("fstat_fifo", ok && S_ISFIFO(r.st_mode) && S_ISFIFO(w.st_mode), "modes %#o %#o",
          r.st_mode, w.st_mode);
    CHECK("fstat_same_pipe", ok && r.st_ino == w.st_ino && r.st_dev == w.st_dev, "inodes %lu %lu",
          (unsigned long)r.st_ino, (unsigned long)w.st_ino);
    CHECK_ERR("lseek_espipe", lseek(fds[0], 0, SEEK_SET), ESPIPE);
    char c;
    CHECK_ERR("pread_espipe", pread(fds[0], &c, 1, 0), ESPIPE);
    close2(fds);
}

int main(void) {
    flags();
    round_trip();
    ends();
    nonblocking();
    readiness();
    metadata();
    return k42_done();
}
