/*
 * eventfd: eventfd and eventfd2, and the counter's reads, writes and readiness, as Linux 6.1
 * answers them (fs/eventfd.c):
 *   a write adds to the counter, a read takes all of it (one with EFD_SEMAPHORE) and is 8
 *   bytes; a read of zero waits (EAGAIN with EFD_NONBLOCK), as does a write that would reach
 *   UINT64_MAX; a thread waiting in read, write, poll or epoll_wait is woken by another
 *   thread's write or read; a signal interrupts a wait (EINTR); poll and epoll report
 *   POLLIN with a count and POLLOUT while one more fits; a fork child reads the count from
 *   before the fork;
 *   the errors: EINVAL for unknown flags, buffers under 8 bytes and a write of UINT64_MAX,
 *   EFAULT for a buffer that faults (a read's count is lost with it), ESPIPE for pread;
 *   readv reads one count over all its buffers; an eventfd is an anonymous inode,
 *   anon_inode:[eventfd] in /proc/self/fd.
 * Every wait that something should end is bounded (a timeout or a watchdog signal): a broken
 * build fails a case, it never hangs.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "anonfd.h"

/* An address no process has mapped. */
#define BAD_POINTER ((void *)1)
/* How long a helper thread lets the main one block before it acts. */
#define DELAY_US 50000
/* The largest count an eventfd holds. */
#define MAX_COUNT (UINT64_MAX - 1)

static long read_count(int fd, uint64_t *out) {
    return read(fd, out, sizeof *out);
}

static long write_count(int fd, uint64_t n) {
    return write(fd, &n, sizeof n);
}

static short revents(int fd, short events) {
    struct pollfd p = {.fd = fd, .events = events};
    return poll(&p, 1, 0) < 0 ? -1 : p.revents;
}

/* A helper thread: sleeps DELAY_US, then writes `n` to or reads from `fd`. */
struct helper {
    int fd;
    uint64_t n;
    int reads;
};

static void *helper_main(void *arg) {
    struct helper *h = arg;
    usleep(DELAY_US);
    uint64_t got;
    if (h->reads)
        read_count(h->fd, &got);
    else
        write_count(h->fd, h->n);
    return NULL;
}

static void counting(void) {
    int fd = eventfd(0, EFD_NONBLOCK);
    uint64_t got = 0;
    write_count(fd, 3);
    write_count(fd, 4);
    long r = read_count(fd, &got);
    CHECK("read_takes_the_sum", r == 8 && got == 7, "read %ld, count %llu", r,
          (unsigned long long)got);
    CHECK_ERR("read_of_zero_nonblocking_eagain", read_count(fd, &got), EAGAIN);
    CHECK("write_of_zero_adds_nothing", write_count(fd, 0) == 8 && revents(fd, POLLIN) == 0,
          "%s", strerror(errno));
    close(fd);

    fd = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
    uint64_t a = 0, b = 0, c = 0;
    long ra = read_count(fd, &a), rb = read_count(fd, &b), rc = read_count(fd, &c);
    CHECK("semaphore_reads_one_each", ra == 8 && rb == 8 && rc == 8 && a == 1 && b == 1 && c == 1,
          "reads %ld %ld %ld gave %llu %llu %llu", ra, rb, rc, (unsigned long long)a,
          (unsigned long long)b, (unsigned long long)c);
    CHECK_ERR("semaphore_empty_eagain", read_count(fd, &a), EAGAIN);
    close(fd);

    fd = eventfd(0, EFD_NONBLOCK);
    CHECK("full_counter_write", write_count(fd, MAX_COUNT) == 8, "%s", strerror(errno));
    CHECK_ERR("write_past_the_top_eagain", write_count(fd, 1), EAGAIN);
    CHECK("full_counter_readable_not_writable", revents(fd, POLLIN | POLLOUT) == POLLIN,
          "revents %#x", revents(fd, POLLIN | POLLOUT));
    close(fd);
}

static void readiness(void) {
    int fd = eventfd(0, 0);
    CHECK("empty_is_writable_only", revents(fd, POLLIN | POLLOUT) == POLLOUT, "revents %#x",
          revents(fd, POLLIN | POLLOUT));
    write_count(fd, 1);
    CHECK("counted_is_readable_and_writable", revents(fd, POLLIN | POLLOUT) == (POLLIN | POLLOUT),
          "revents %#x", revents(fd, POLLIN | POLLOUT));
    int ep = epoll_create1(0);
    struct epoll_event in = {.events = EPOLLIN, .data.u64 = 42}, out;
    CHECK("epoll_watches_eventfd", epoll_ctl(ep, EPOLL_CTL_ADD, fd, &in) == 0, "%s",
          strerror(errno));
    int n = epoll_wait(ep, &out, 1, 0);
    CHECK("epoll_reports_count", n == 1 && out.events == EPOLLIN && out.data.u64 == 42,
          "%d events, %#x", n, n > 0 ? out.events : 0);
    uint64_t got;
    read_count(fd, &got);
    CHECK("epoll_quiet_when_taken", epoll_wait(ep, &out, 1, 0) == 0, "%s", strerror(errno));
    close(ep);
    close(fd);
}

static long blocking_read(int fd) {
    uint64_t got = 0;
    long r = read_count(fd, &got);
    return r == 8 ? (long)got : -1;
}

static long blocking_write(int fd) {
    return write_count(fd, 2);
}



static void waits(void) {
    int fd = eventfd(0, 0);
    woken_by("read_waits_for_a_write", helper_main, &(struct helper){fd, 5, 0}, blocking_read, fd,
             5);
    woken_by("poll_waits_for_a_write", helper_main, &(struct helper){fd, 1, 0}, poll_in, fd,
             POLLIN);
    blocking_read(fd);
    woken_by("epoll_wait_waits_for_a_write", helper_main, &(struct helper){fd, 1, 0}, epoll_in,
             fd, EPOLLIN);
    blocking_read(fd);
    write_count(fd, MAX_COUNT - 1);
    woken_by("write_waits_for_a_read", helper_main, &(struct helper){fd, 0, 1}, blocking_write,
             fd, 8);
    close(fd);

    fd = eventfd(0, 0);
    alarms = 0;
    struct itimerval soon = {.it_value = {.tv_usec = DELAY_US}};
    setitimer(ITIMER_REAL, &soon, NULL);
    uint64_t got;
    errno = 0;
    long r = read_count(fd, &got);
    int e = errno;
    watchdog_off();
    CHECK("signal_interrupts_read", r == -1 && e == EINTR && alarms == 1,
          "returned %ld (%s), %d alarms", r, strerror(e), (int)alarms);
    close(fd);
}

static void errors(void) {
    uint64_t got;
    uint32_t small = 1;
    CHECK_ERR("unknown_flag_einval", eventfd(0, 4), EINVAL);
    int fd = eventfd(1, EFD_NONBLOCK);
    CHECK_ERR("short_read_einval", read(fd, &small, sizeof small), EINVAL);
    CHECK_ERR("short_write_einval", write(fd, &small, sizeof small), EINVAL);
    CHECK_ERR("write_of_max_einval", write_count(fd, UINT64_MAX), EINVAL);
    CHECK_ERR("write_efault", syscall(SYS_write, fd, BAD_POINTER, 8), EFAULT);
    CHECK_ERR("pread_espipe", pread(fd, &got, sizeof got, 0), ESPIPE);
    CHECK_ERR("read_efault", syscall(SYS_read, fd, BAD_POINTER, 8), EFAULT);
    CHECK_ERR("read_efault_lost_the_count", read_count(fd, &got), EAGAIN);
    close(fd);
}

/* readv takes one count over all its buffers (Linux 6.1's read_iter): two 8-byte buffers get
 * one count and the second is untouched (no second read that would wait), 4 + 4 bytes get one
 * count split between them, and buffers under 8 bytes in all are EINVAL. */
static void vectored(void) {
    int fd = eventfd(0, 0);
    uint64_t first = 0, second = 0x5a5a;
    write_count(fd, 5);
    struct iovec two[2] = {{&first, 8}, {&second, 8}};
    alarms = 0;
    watchdog(LONG_MS);
    errno = 0;
    long r = readv(fd, two, 2);
    int e = errno;
    watchdog_off();
    /* A second read would wait for the watchdog, whose EINTR would leave the first's 8. */
    CHECK("readv_two_buffers_reads_one_count",
          r == 8 && first == 5 && second == 0x5a5a && alarms == 0,
          "readv %ld (%s), counts %llu %#llx, %d alarms", r, strerror(e),
          (unsigned long long)first, (unsigned long long)second, (int)alarms);
    uint64_t value = 0x0102030405060708ULL;
    write_count(fd, value);
    uint32_t low = 0, high = 0;
    struct iovec halves[2] = {{&low, 4}, {&high, 4}};
    r = readv(fd, halves, 2);
    CHECK("readv_count_spans_two_buffers",
          r == 8 && low == (uint32_t)value && high == (uint32_t)(value >> 32),
          "readv %ld, halves %#x %#x", r, low, high);
    write_count(fd, 1);
    struct iovec short_ones[2] = {{&low, 4}, {&high, 2}};
    CHECK_ERR("readv_under_8_bytes_einval", readv(fd, short_ones, 2), EINVAL);
    close(fd);
}

static void identity(void) {
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    check_anon_identity(fd, "anon_inode:[eventfd]");
    long raw = syscall(SYS_eventfd, 9);
    uint64_t got = 0;
    CHECK("old_eventfd_call", raw >= 0 && read_count((int)raw, &got) == 8 && got == 9,
          "fd %ld, count %llu", raw, (unsigned long long)got);
    close((int)raw);
    close(fd);

    fd = eventfd(6, 0);
    pid_t child = fork();
    if (child == 0) {
        uint64_t in_child = 0;
        _exit(read_count(fd, &in_child) == 8 && in_child == 6 ? 0 : 1);
    }
    int status = -1;
    waitpid(child, &status, 0);
    CHECK("fork_child_reads_count", WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x",
          status);
    close(fd);
}

int main(void) {
    struct sigaction sa = {.sa_handler = on_alarm};
    sigaction(SIGALRM, &sa, NULL);
    counting();
    readiness();
    waits();
    errors();
    vectored();
    identity();
    return k42_done();
}
