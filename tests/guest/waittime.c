/*
 * waittime: the time select, pselect6 and ppoll leave in their timeout, as Linux 6.1's
 * poll_select_finish writes it back (a program may wait again for what is left):
 *   after a wait that timed out, zero; after one that found a descriptor ready at once, most
 *   of what it was given and never more; after a signal's EINTR, less than it was given; a
 *   timeout it cannot write back (read-only memory) changes no result; select takes a
 *   tv_usec of a second or more (it carries it into seconds, and leaves the time in that
 *   form), and one that carrying cannot make valid is EINVAL. A wait a stop interrupts (SIGTSTP
 *   at its default action: no handler runs) is restarted for what was left, so the time the
 *   process spent stopped is not taken from its timeout; and with a timeout it cannot write
 *   back, it ends in EINTR instead (Linux's "sticky" timeout: a restart would wait it all again).
 * Raw system calls: musl's select and glibc's ppoll pass the kernel a copy of the timeout.
 * Every wait is bounded by its own timeout.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "k42test.h"

#define NS_PER_SEC 1000000000L
#define NS_PER_US 1000L
/* The timeout of a wait that should end long before it: a ready descriptor, a signal. */
#define LONG_SEC 5
/* What a wait that returns at once may have used of it, at most, under QEMU's TCG. */
#define AT_ONCE_NS (NS_PER_SEC / 2)
/* The timeout of a wait that should time out. */
#define SHORT_NS (100 * 1000 * 1000L)
/* The interval timer's SIGALRM that ends a long wait. */
#define ALARM_US 50000
/* A stopped wait: its timeout, how far into it the stop comes, and how long the stop lasts at
 * least. A restart that waited the whole timeout again would end STOP_AT_MS late, one that
 * counted the stop as waiting STOPPED_MS early; the checks allow half of either. */
#define STOP_TIMEOUT_MS 1000
#define STOP_AT_MS 500
#define STOPPED_MS 600
#define STOP_SLACK_MS 250
#define NS_PER_MS 1000000L

/* One wait: on descriptor `fd` for reading, with a timeout in the form of the call
 * (`struct timeval` for select, `struct timespec` for the others). */
typedef long (*waiter)(int fd, void *timeout);

static long raw_select(int fd, void *timeout) {
    fd_set set;
    FD_ZERO(&set);
    FD_SET(fd, &set);
    return syscall(SYS_select, fd + 1, &set, NULL, NULL, timeout);
}

static long raw_pselect6(int fd, void *timeout) {
    fd_set set;
    FD_ZERO(&set);
    FD_SET(fd, &set);
    return syscall(SYS_pselect6, fd + 1, &set, NULL, NULL, timeout, NULL);
}

static long raw_ppoll(int fd, void *timeout) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return syscall(SYS_ppoll, &p, 1, timeout, NULL, 0);
}

struct call {
    const char *name;
    waiter wait;
    /* Whether its timeout is a struct timeval (else a struct timespec). */
    int timeval;
};

static const struct call CALLS[] = {
    {"select", raw_select, 1},
    {"pselect6", raw_pselect6, 0},
    {"ppoll", raw_ppoll, 0},
};

/* A timeout of `ns` in the call's form, in `buf` (two longs). */
static void *timeout_of(const struct call *c, long buf[2], long ns) {
    buf[0] = ns / NS_PER_SEC;
    buf[1] = ns % NS_PER_SEC / (c->timeval ? NS_PER_US : 1);
    return buf;
}

/* The time a timeout in the call's form stands for, or -1 if it is not a valid one. */
static long ns_of(const struct call *c, const long buf[2]) {
    long unit = c->timeval ? NS_PER_US : 1;
    if (buf[0] < 0 || buf[1] < 0 || buf[1] >= NS_PER_SEC / unit)
        return -1;
    return buf[0] * NS_PER_SEC + buf[1] * unit;
}

static int pipe_fds[2];

/* The case `what` of call `call`: "select_what" (one name at a time). */
static const char *name_of(const char *call, const char *what) {
    static char name[96];
    snprintf(name, sizeof name, "%s_%s", call, what);
    return name;
}

static void on_alrm(int sig) {
    (void)sig;
}

static void timed_out_leaves_zero(const struct call *c) {
    long t[2];
    long r = c->wait(pipe_fds[0], timeout_of(c, t, SHORT_NS));
    CHECK(name_of(c->name, "timed_out_leaves_zero"), r == 0 && t[0] == 0 && t[1] == 0,
          "returned %ld, left {%ld, %ld}", r, t[0], t[1]);
}

static void ready_leaves_most(const struct call *c) {
    long t[2];
    write(pipe_fds[1], "x", 1);
    long r = c->wait(pipe_fds[0], timeout_of(c, t, LONG_SEC * NS_PER_SEC));
    long left = ns_of(c, t);
    char byte;
    read(pipe_fds[0], &byte, 1);
    CHECK(name_of(c->name, "ready_leaves_most"),
          r == 1 && left <= LONG_SEC * NS_PER_SEC && left >= LONG_SEC * NS_PER_SEC - AT_ONCE_NS,
          "returned %ld, left {%ld, %ld} of %d s", r, t[0], t[1], LONG_SEC);
}

static void interrupted_leaves_less(const struct call *c) {
    struct sigaction sa = {.sa_handler = on_alrm}; /* no SA_RESTART */
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {.it_value = {.tv_usec = ALARM_US}};
    setitimer(ITIMER_REAL, &it, NULL);
    long t[2];
    long r = c->wait(pipe_fds[0], timeout_of(c, t, LONG_SEC * NS_PER_SEC));
    int err = errno;
    long left = ns_of(c, t);
    CHECK(name_of(c->name, "interrupted_leaves_less"),
          r == -1 && err == EINTR && left > 0 && left < LONG_SEC * NS_PER_SEC,
          "returned %ld errno %d, left {%ld, %ld} of %d s", r, err, t[0], t[1], LONG_SEC);
    signal(SIGALRM, SIG_DFL);
}

/* A timeout the call can read but not write back: the result stands, and it is unchanged. */
static void read_only_timeout(const struct call *c) {
    long *t = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (t == MAP_FAILED) {
        CHECK(name_of(c->name, "read_only_timeout_keeps_result"), 0, "mmap failed");
        return;
    }
    timeout_of(c, t, LONG_SEC * NS_PER_SEC);
    mprotect(t, 4096, PROT_READ);
    write(pipe_fds[1], "x", 1);
    long r = c->wait(pipe_fds[0], t);
    char byte;
    read(pipe_fds[0], &byte, 1);
    CHECK(name_of(c->name, "read_only_timeout_keeps_result"),
          r == 1 && ns_of(c, t) == LONG_SEC * NS_PER_SEC, "returned %ld, timeout {%ld, %ld}", r,
          t[0], t[1]);
    munmap(t, 4096);
}

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * NS_PER_SEC + t.tv_nsec;
}

/* What a child's stopped wait saw: its result, errno, and how long the call took. */
struct stopped_wait {
    long r, err, elapsed_ns;
};

/* Forks a child that waits with `c` on the empty pipe, `timeout` (in memory made read-only
 * when `read_only`) its timeout; stops it with SIGTSTP `at_ms` into the wait, continues it at
 * least `stopped_ms` later. Fills `out` with what the child saw and returns how long it was
 * stopped (ns), or -1 if something other than the wait failed. */
static long stopped_wait(const struct call *c, long ns, int read_only, long at_ms, long stopped_ms,
                         struct stopped_wait *out) {
    int report[2];
    if (pipe(report) != 0)
        return -1;
    pid_t child = fork();
    if (child == 0) {
        /* Its own group, which its parent's makes not orphaned: SIGTSTP stops it. */
        setpgid(0, 0);
        long *t = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (t == MAP_FAILED)
            _exit(1);
        timeout_of(c, t, ns);
        if (read_only)
            mprotect(t, 4096, PROT_READ);
        long start = now_ns();
        struct stopped_wait w = {c->wait(pipe_fds[0], t), 0, 0};
        w.err = w.r < 0 ? errno : 0;
        w.elapsed_ns = now_ns() - start;
        _exit(write(report[1], &w, sizeof w) == sizeof w ? 0 : 1);
    }
    close(report[1]);
    if (child < 0) {
        close(report[0]);
        return -1;
    }
    setpgid(child, child);
    usleep(at_ms * 1000);
    kill(child, SIGTSTP);
    int status;
    long stopped = -1;
    if (waitpid(child, &status, WUNTRACED) == child && WIFSTOPPED(status)) {
        long since = now_ns();
        usleep(stopped_ms * 1000);
        stopped = now_ns() - since;
    }
    kill(child, SIGCONT);
    while (waitpid(child, &status, 0) == child && !WIFEXITED(status) && !WIFSIGNALED(status))
        ;
    if (read(report[0], out, sizeof *out) != sizeof *out)
        stopped = -1;
    close(report[0]);
    return stopped;
}

/* A stop restarts the wait for what was left: it ends its timeout plus the stop after it began. */
static void stopped_waits_what_was_left(const struct call *c) {
    struct stopped_wait w;
    long stopped = stopped_wait(c, STOP_TIMEOUT_MS * NS_PER_MS, 0, STOP_AT_MS, STOPPED_MS, &w);
    long expected = STOP_TIMEOUT_MS * NS_PER_MS + stopped;
    CHECK(name_of(c->name, "stopped_waits_what_was_left"),
          stopped >= 0 && w.r == 0 && w.elapsed_ns > expected - STOP_SLACK_MS * NS_PER_MS &&
              w.elapsed_ns < expected + STOP_SLACK_MS * NS_PER_MS,
          "stopped %ld ms; returned %ld errno %ld after %ld ms (expected about %ld)",
          stopped / NS_PER_MS, w.r, w.err, w.elapsed_ns / NS_PER_MS, expected / NS_PER_MS);
}

/* A stop cannot restart a wait whose timeout it cannot write back: EINTR, long before it. */
static void stopped_read_only_is_eintr(const struct call *c) {
    struct stopped_wait w;
    long stopped = stopped_wait(c, LONG_SEC * NS_PER_SEC, 1, STOP_AT_MS, 0, &w);
    CHECK(name_of(c->name, "stopped_read_only_timeout_is_eintr"),
          stopped >= 0 && w.r == -1 && w.err == EINTR && w.elapsed_ns < LONG_SEC * NS_PER_SEC,
          "returned %ld errno %ld after %ld ms", w.r, w.err, w.elapsed_ns / NS_PER_MS);
}

/* select carries whole seconds out of tv_usec, and leaves the time in the carried form. */
static void select_carries_usec(void) {
    long t[2] = {0, 1500000};
    write(pipe_fds[1], "x", 1);
    long r = raw_select(pipe_fds[0], t);
    char byte;
    read(pipe_fds[0], &byte, 1);
    long left = ns_of(&CALLS[0], t);
    CHECK("select_carries_usec_into_seconds",
          r == 1 && left <= 1500 * 1000 * 1000L && left >= 1500 * 1000 * 1000L - AT_ONCE_NS,
          "returned %ld, left {%ld, %ld}", r, t[0], t[1]);
    long bad[2] = {1, -1};
    CHECK_ERR("select_negative_usec_is_einval", raw_select(pipe_fds[0], bad), EINVAL);
    /* Carrying makes {1 s, -1 s} the valid zero timeout: the empty pipe is not ready. */
    long carried[2] = {1, -1000000};
    long zero = raw_select(pipe_fds[0], carried);
    CHECK("select_negative_usec_carried_is_valid", zero == 0, "returned %ld errno %d", zero,
          zero < 0 ? errno : 0);
}

int main(void) {
    if (pipe(pipe_fds) != 0) {
        CHECK("pipe", 0, "pipe failed");
        return k42_done();
    }
    for (unsigned i = 0; i < sizeof CALLS / sizeof CALLS[0]; i++) {
        timed_out_leaves_zero(&CALLS[i]);
        ready_leaves_most(&CALLS[i]);
        interrupted_leaves_less(&CALLS[i]);
        read_only_timeout(&CALLS[i]);
        stopped_waits_what_was_left(&CALLS[i]);
        stopped_read_only_is_eintr(&CALLS[i]);
    }
    select_carries_usec();
    return k42_done();
}
