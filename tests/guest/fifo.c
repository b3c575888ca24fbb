/*
 * fifo: named pipes (fifo(7)) — mkfifo, then open(2)'s rendezvous as Linux's fifo_open has
 * it: O_RDWR opens at once; O_RDONLY waits for a writer and O_WRONLY for a reader (a child
 * process opens the other side meanwhile); O_RDONLY|O_NONBLOCK opens at once and reads end of
 * file while no writer is there; O_WRONLY|O_NONBLOCK with no reader is ENXIO; a blocked open
 * interrupted by a handled signal is EINTR, or restarts under SA_RESTART. Once open, the ends
 * are a pipe's: shared by every opener while any is open, end of file when the last writer
 * closes, EPIPE when the last reader has, the data thrown away when all have closed; fstat
 * says S_IFIFO with the file's own inode; an unlinked FIFO's open pipe works on; fork
 * inherits the ends. On K42 the file server checks the open and gets the end from the pipe
 * server (user/bin/fs, user/bin/pipes, the personality's calls/pipe.rs). Passes on both.
 *
 * Everything happens below a fresh directory /tmp/fifo-<pid>, removed at the end.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "k42test.h"

/* How long a child waits before it opens, so the parent is blocked in its open by then. */
#define DELAY_NS 100000000L
/* The interval timer that interrupts a blocked open. */
#define TIMER_US 100000
/* More than one K42 server call carries (2 KiB), less than PIPE_BUF. */
#define MEDIUM 3000

static char dir[64];
static char buf[2 * MEDIUM];

static void nap(void) {
    struct timespec t = {0, DELAY_NS};
    nanosleep(&t, NULL);
}

/* The monotonic clock, in nanoseconds. */
static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* The child's wait status, or -1. */
static int reap(pid_t pid) {
    int status;
    return waitpid(pid, &status, 0) == pid ? status : -1;
}

/* A fresh FIFO's path (mode 0600) in `out`; 0, or -1 with errno. */
static int fresh(char *out, size_t len, const char *name) {
    snprintf(out, len, "%s/%s", dir, name);
    return mkfifo(out, 0600);
}

static void make(void) {
    char path[96];
    CHECK("mkfifo", fresh(path, sizeof path, "made") == 0, "mkfifo: %s", strerror(errno));
    struct stat st;
    CHECK("mkfifo_is_fifo", stat(path, &st) == 0 && S_ISFIFO(st.st_mode) &&
                                (st.st_mode & 07777) == 0600 && st.st_size == 0,
          "stat: mode %#o size %lld", st.st_mode, (long long)st.st_size);
    CHECK_ERR("mkfifo_exists", mkfifo(path, 0600), EEXIST);
    unlink(path);
}

static void read_write(void) {
    char path[96];
    fresh(path, sizeof path, "rw");
    int fd = open(path, O_RDWR);
    CHECK("open_rdwr", fd >= 0, "open O_RDWR: %s", strerror(errno));
    if (fd < 0)
        return;
    CHECK("rdwr_mode", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR, "F_GETFL %#x",
          fcntl(fd, F_GETFL));
    char got[8] = {0};
    ssize_t w = write(fd, "hello", 5);
    ssize_t r = read(fd, got, sizeof got);
    CHECK("rdwr_round_trip", w == 5 && r == 5 && memcmp(got, "hello", 5) == 0,
          "wrote %zd, read %zd '%s'", w, r, got);

    struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
    int n = poll(&p, 1, 0);
    CHECK("rdwr_poll_empty", n == 1 && p.revents == POLLOUT, "poll %d revents %#x", n, p.revents);
    write(fd, "x", 1);
    n = poll(&p, 1, 0);
    CHECK("rdwr_poll_data", n == 1 && p.revents == (POLLIN | POLLOUT), "poll %d revents %#x", n,
          p.revents);
    int queued = -1;
    int q = ioctl(fd, FIONREAD, &queued);
    CHECK("rdwr_fionread", q == 0 && queued == 1, "FIONREAD %d: %d (%s)", q, queued,
          strerror(errno));
    read(fd, got, 1);

    struct stat st, named;
    int f = fstat(fd, &st);
    int s = stat(path, &named);
    CHECK("fstat_fifo",
          f == 0 && s == 0 && S_ISFIFO(st.st_mode) && st.st_ino == named.st_ino &&
              st.st_dev == named.st_dev && (st.st_mode & 07777) == 0600,
          "fstat %d mode %#o ino %llu, stat %d ino %llu", f, st.st_mode,
          (unsigned long long)st.st_ino, s, (unsigned long long)named.st_ino);
    /* fchmod acts on the FIFO's inode. */
    int c = fchmod(fd, 0640);
    s = stat(path, &named);
    CHECK("fchmod_fifo", c == 0 && s == 0 && (named.st_mode & 07777) == 0640,
          "fchmod %d, stat %d mode %#o", c, s, named.st_mode);
    CHECK_ERR("lseek_espipe", lseek(fd, 0, SEEK_SET), ESPIPE);
    CHECK_ERR("pread_espipe", pread(fd, got, 1, 0), ESPIPE);

    /* A second opener shares the pipe; a third, write-only and non-blocking, finds a reader. */
    int rd = open(path, O_RDONLY | O_NONBLOCK);
    int wr = open(path, O_WRONLY | O_NONBLOCK);
    CHECK("openers_share_the_pipe", rd >= 0 && wr >= 0, "open: %d %d: %s", rd, wr,
          strerror(errno));
    if (rd >= 0 && wr >= 0) {
        /* PIPE_BUF atomicity holds for a FIFO too: all of it or nothing. */
        memset(buf, 'm', MEDIUM);
        w = write(wr, buf, MEDIUM);
        int queued = -1;
        int q = ioctl(rd, FIONREAD, &queued);
        memset(buf, 0, sizeof buf);
        r = read(rd, buf, sizeof buf);
        CHECK("shared_data", w == MEDIUM && r == MEDIUM && buf[0] == 'm' && buf[MEDIUM - 1] == 'm',
              "wrote %zd, read %zd", w, r);
        CHECK("fionread", q == 0 && queued == MEDIUM, "FIONREAD %d: %d", q, queued);
        CHECK_ERR("empty_with_writers_eagain", read(rd, got, 1), EAGAIN);
    }
    close(rd);
    close(wr);
    close(fd);
    unlink(path);
}

static void nonblocking(void) {
    char path[96];
    fresh(path, sizeof path, "nb");
    CHECK_ERR("wronly_nonblock_no_reader_enxio", open(path, O_WRONLY | O_NONBLOCK), ENXIO);
    int rd = open(path, O_RDONLY | O_NONBLOCK);
    CHECK("rdonly_nonblock_no_writer", rd >= 0, "open: %s", strerror(errno));
    if (rd < 0)
        return;
    char got[4];
    ssize_t r = read(rd, got, sizeof got);
    CHECK("read_no_writer_eof", r == 0, "read %zd: %s", r, strerror(errno));
    CHECK("rdonly_nonblock_flags", (fcntl(rd, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) ==
                                       (O_RDONLY | O_NONBLOCK),
          "F_GETFL %#x", fcntl(rd, F_GETFL));
    /* Linux reports no hang-up to a reader that has not seen a writer yet. */
    struct pollfd p = {.fd = rd, .events = POLLIN};
    int n = poll(&p, 1, 0);
    CHECK("poll_no_writer_yet", n == 0 && p.revents == 0, "poll %d revents %#x", n, p.revents);
    int wr = open(path, O_WRONLY | O_NONBLOCK);
    CHECK("wronly_nonblock_with_reader", wr >= 0, "open: %s", strerror(errno));
    ssize_t w = write(wr, "ab", 2);
    r = read(rd, got, sizeof got);
    CHECK("nonblock_round_trip", w == 2 && r == 2 && memcmp(got, "ab", 2) == 0,
          "wrote %zd read %zd", w, r);
    close(wr);
    r = read(rd, got, sizeof got);
    n = poll(&p, 1, 0);
    CHECK("eof_after_writer_closes", r == 0 && n == 1 && p.revents == POLLHUP,
          "read %zd, poll %d revents %#x", r, n, p.revents);

    /* The last reader gone: a writer's write is EPIPE (SIGPIPE ignored). */
    wr = open(path, O_WRONLY | O_NONBLOCK);
    close(rd);
    signal(SIGPIPE, SIG_IGN);
    CHECK_ERR("epipe_after_reader_closes", write(wr, "x", 1), EPIPE);
    p = (struct pollfd){.fd = wr, .events = POLLOUT};
    n = poll(&p, 1, 0);
    CHECK("pollerr_after_reader_closes", n == 1 && (p.revents & POLLERR), "poll %d revents %#x",
          n, p.revents);
    signal(SIGPIPE, SIG_DFL);
    close(wr);
    unlink(path);
}

static void discarded(void) {
    char path[96];
    fresh(path, sizeof path, "discard");
    int fd = open(path, O_RDWR);
    ssize_t w = write(fd, "stale", 5);
    close(fd);
    fd = open(path, O_RDWR | O_NONBLOCK);
    char got[8];
    errno = 0;
    ssize_t r = read(fd, got, sizeof got);
    CHECK("data_discarded_after_all_close", w == 5 && r == -1 && errno == EAGAIN,
          "wrote %zd, then read %zd (%s)", w, r, strerror(errno));
    close(fd);
    unlink(path);
}

/* A child opens `path` with `flags` after a nap and writes or reads "ping"; its exit status
 * says whether that worked. */
static pid_t partner(const char *path, int flags) {
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    nap();
    int fd = open(path, flags);
    if (fd < 0)
        _exit(2);
    if ((flags & O_ACCMODE) == O_WRONLY)
        _exit(write(fd, "ping", 4) == 4 ? 0 : 3);
    char got[8] = {0};
    ssize_t r = read(fd, got, sizeof got);
    _exit(r == 4 && memcmp(got, "ping", 4) == 0 ? 0 : 4);
}

static void rendezvous(void) {
    char path[96];
    fresh(path, sizeof path, "meet");
    pid_t pid = partner(path, O_WRONLY);
    long long start = now_ns();
    int fd = open(path, O_RDONLY);
    long long waited = now_ns() - start;
    /* The open itself waited for the child's (a read would wait for its data anyway). */
    CHECK("rdonly_waits_for_writer", fd >= 0 && waited >= DELAY_NS / 2, "open %d after %lld ns: %s",
          fd, waited, strerror(errno));
    char got[8] = {0};
    ssize_t r = read(fd, got, sizeof got);
    int status = reap(pid);
    ssize_t eof = read(fd, got + 4, 4);
    CHECK("writer_child_data", r == 4 && memcmp(got, "ping", 4) == 0 && WIFEXITED(status) &&
                                   WEXITSTATUS(status) == 0,
          "read %zd '%s', child status %#x", r, got, status);
    CHECK("eof_at_writer_exit", eof == 0, "read %zd", eof);
    close(fd);

    pid = partner(path, O_RDONLY);
    start = now_ns();
    fd = open(path, O_WRONLY);
    waited = now_ns() - start;
    CHECK("wronly_waits_for_reader", fd >= 0 && waited >= DELAY_NS / 2, "open %d after %lld ns: %s",
          fd, waited, strerror(errno));
    ssize_t w = write(fd, "ping", 4);
    status = reap(pid);
    CHECK("reader_child_data", w == 4 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "wrote %zd, child status %#x", w, status);
    close(fd);
    unlink(path);
}

static void inherited(void) {
    char path[96];
    fresh(path, sizeof path, "fork");
    int rd = open(path, O_RDONLY | O_NONBLOCK);
    int wr = open(path, O_WRONLY);
    pid_t pid = fork();
    if (pid == 0) {
        close(rd);
        _exit(write(wr, "kid", 3) == 3 ? 0 : 1);
    }
    close(wr);
    int status = reap(pid);
    char got[8] = {0};
    ssize_t r = read(rd, got, sizeof got);
    ssize_t eof = read(rd, got, sizeof got);
    CHECK("fork_inherits_ends",
          r == 3 && memcmp(got, "kid", 3) == 0 && eof == 0 && WIFEXITED(status) &&
              WEXITSTATUS(status) == 0,
          "read %zd then %zd, child status %#x", r, eof, status);
    close(rd);
    unlink(path);
}

static volatile sig_atomic_t rang;

static void on_alarm(int sig) {
    (void)sig;
    rang++;
}

/* Blocks in open(path, O_RDONLY) with a SIGALRM handler of `flags` that a timer raises. */
static int open_under_timer(const char *path, int flags, int *err) {
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    rang = 0;
    struct itimerval it = {{0, 0}, {0, TIMER_US}};
    setitimer(ITIMER_REAL, &it, NULL);
    errno = 0;
    int fd = open(path, O_RDONLY);
    *err = errno;
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    signal(SIGALRM, SIG_DFL);
    return fd;
}

static void interrupted(void) {
    char path[96];
    fresh(path, sizeof path, "intr");
    int err;
    int fd = open_under_timer(path, 0, &err);
    CHECK("blocked_open_eintr", fd == -1 && err == EINTR && rang == 1, "open %d errno %d rang %d",
          fd, err, (int)rang);
    /* The interrupted opener is gone: a non-blocking writer finds no reader. */
    CHECK_ERR("interrupted_reader_gone", open(path, O_WRONLY | O_NONBLOCK), ENXIO);

    /* Under SA_RESTART the open goes on after the handler, until the child's writer comes
     * (after the timer: the child naps three times as long). */
    pid_t pid = fork();
    if (pid == 0) {
        nap();
        nap();
        nap();
        int w = open(path, O_WRONLY);
        _exit(w >= 0 && write(w, "late", 4) == 4 ? 0 : 1);
    }
    fd = open_under_timer(path, SA_RESTART, &err);
    char got[8] = {0};
    ssize_t r = fd >= 0 ? read(fd, got, sizeof got) : -1;
    int status = reap(pid);
    CHECK("blocked_open_restarts", fd >= 0 && rang == 1 && r == 4 && memcmp(got, "late", 4) == 0,
          "open %d errno %d rang %d read %zd, child status %#x", fd, err, (int)rang, r, status);
    if (fd >= 0)
        close(fd);
    unlink(path);
}

static void unlinked(void) {
    char path[96];
    fresh(path, sizeof path, "gone");
    int fd = open(path, O_RDWR);
    int u = unlink(path);
    char got[8] = {0};
    ssize_t w = write(fd, "still", 5);
    ssize_t r = read(fd, got, sizeof got);
    struct stat st;
    int f = fstat(fd, &st);
    CHECK("unlinked_fifo_works",
          u == 0 && w == 5 && r == 5 && memcmp(got, "still", 5) == 0 && access(path, F_OK) != 0,
          "unlink %d, wrote %zd, read %zd", u, w, r);
    CHECK("unlinked_fstat", f == 0 && S_ISFIFO(st.st_mode) && st.st_nlink == 0,
          "fstat %d mode %#o nlink %lu", f, st.st_mode, (unsigned long)st.st_nlink);
    close(fd);
}

static void not_a_file(void) {
    char path[96];
    fresh(path, sizeof path, "exec");
    char *argv[] = {path, NULL};
    char *envp[] = {NULL};
    CHECK_ERR("execve_fifo_eacces", execve(path, argv, envp), EACCES);
    CHECK_ERR("truncate_fifo_einval", truncate(path, 0), EINVAL);
    /* Neither of those opened it: a non-blocking writer still finds no reader. */
    CHECK_ERR("no_stray_reader", open(path, O_WRONLY | O_NONBLOCK), ENXIO);
    int fd = open(path, O_PATH);
    char got[1];
    CHECK("o_path_opens_no_pipe", fd >= 0 && read(fd, got, 1) == -1 && errno == EBADF,
          "open O_PATH %d: %s", fd, strerror(errno));
    close(fd);
    unlink(path);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/fifo-%d", (int)getpid());
    if (mkdir(dir, 0700) != 0) {
        FAIL("setup", "mkdir %s: %s", dir, strerror(errno));
        return k42_done();
    }
    make();
    read_write();
    nonblocking();
    discarded();
    rendezvous();
    inherited();
    interrupted();
    unlinked();
    not_a_file();
    rmdir(dir);
    return k42_done();
}
