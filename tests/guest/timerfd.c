/*
 * timerfd: timerfd_create, timerfd_settime and timerfd_gettime, and the timer's reads and
 * readiness, as Linux 6.1 answers them (fs/timerfd.c):
 *   a timer set relative or absolute (CLOCK_MONOTONIC, CLOCK_REALTIME) expires no sooner than
 *   asked; a read returns the expirations since the last (8 bytes), waiting for one (EAGAIN
 *   with TFD_NONBLOCK); a periodic timer counts every interval passed; gettime says the time
 *   left and the interval, settime returns them as they were; poll and epoll report POLLIN
 *   once one is due, and wait for it; a read waiting on a disarmed timer is woken by another
 *   thread's settime; a signal interrupts a read (EINTR); a fork child has the timer armed;
 *   the errors: EINVAL for a clock or flags it does not take, a timespec out of range, a
 *   descriptor that is no timerfd, a read under 8 bytes and any write; EBADF, EFAULT (the
 *   old value's: the timer is set all the same), ESPIPE for pread; an anonymous inode,
 *   anon_inode:[timerfd] in /proc/self/fd.
 * Waits are bounded (timeouts, a watchdog signal): a broken build fails a case, never hangs.
 * Times are checked from below only (a timer never expires early), with slack for nothing
 * else: these machines are slow and noisy.
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
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "anonfd.h"

#define BAD_POINTER ((void *)1)
#define NS_PER_MS 1000000LL
#define NS_PER_SEC 1000000000LL
/* A short timer, and the period of a periodic one. */
#define SHORT_MS 50
#define PERIOD_MS 20

static long long now_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static struct timespec ts_of(long long ns) {
    return (struct timespec){.tv_sec = ns / NS_PER_SEC, .tv_nsec = ns % NS_PER_SEC};
}

static long long ns_of(struct timespec ts) {
    return ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* Sets `fd` to expire in (or at, with TFD_TIMER_ABSTIME) `value_ns`, then every
 * `interval_ns`. */
static int arm(int fd, int flags, long long value_ns, long long interval_ns) {
    struct itimerspec it = {.it_interval = ts_of(interval_ns), .it_value = ts_of(value_ns)};
    return timerfd_settime(fd, flags, &it, NULL);
}

static long read_ticks(int fd, uint64_t *ticks) {
    return read(fd, ticks, sizeof *ticks);
}

static void disarmed(void) {
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct itimerspec now;
    uint64_t ticks;
    CHECK("new_timer_disarmed",
          timerfd_gettime(fd, &now) == 0 && ns_of(now.it_value) == 0 && ns_of(now.it_interval) == 0,
          "%s", strerror(errno));
    CHECK_ERR("read_of_disarmed_eagain", read_ticks(fd, &ticks), EAGAIN);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    CHECK("disarmed_not_readable", poll(&p, 1, 0) == 0, "revents %#x", p.revents);
    close(fd);
}

static void one_shot(void) {
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    long long start = now_ns(CLOCK_MONOTONIC);
    arm(fd, 0, SHORT_MS * NS_PER_MS, 0);
    struct itimerspec left;
    timerfd_gettime(fd, &left);
    CHECK("gettime_says_time_left",
          ns_of(left.it_value) > 0 && ns_of(left.it_value) <= SHORT_MS * NS_PER_MS &&
              ns_of(left.it_interval) == 0,
          "value %lld ns, interval %lld ns", ns_of(left.it_value), ns_of(left.it_interval));
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n = poll(&p, 1, LONG_MS);
    long long waited = now_ns(CLOCK_MONOTONIC) - start;
    CHECK("poll_waits_for_expiry", n == 1 && p.revents == POLLIN && waited >= SHORT_MS * NS_PER_MS,
          "poll %d, revents %#x, after %lld ms", n, p.revents, waited / NS_PER_MS);
    uint64_t ticks = 0;
    long r = read_ticks(fd, &ticks);
    CHECK("read_one_expiry", r == 8 && ticks == 1, "read %ld, %llu ticks", r,
          (unsigned long long)ticks);
    CHECK_ERR("read_again_eagain", read_ticks(fd, &ticks), EAGAIN);
    timerfd_gettime(fd, &left);
    CHECK("expired_one_shot_disarmed", ns_of(left.it_value) == 0, "value %lld ns",
          ns_of(left.it_value));
    close(fd);

    fd = timerfd_create(CLOCK_MONOTONIC, 0);
    start = now_ns(CLOCK_MONOTONIC);
    arm(fd, 0, SHORT_MS * NS_PER_MS, 0);
    alarms = 0;
    watchdog(LONG_MS);
    ticks = 0;
    r = read_ticks(fd, &ticks);
    watchdog_off();
    waited = now_ns(CLOCK_MONOTONIC) - start;
    CHECK("read_waits_for_expiry", r == 8 && ticks == 1 && waited >= SHORT_MS * NS_PER_MS,
          "read %ld, %llu ticks after %lld ms, %d alarms", r, (unsigned long long)ticks,
          waited / NS_PER_MS, (int)alarms);
    close(fd);
}

static void periodic(void) {
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    long long start = now_ns(CLOCK_MONOTONIC);
    arm(fd, 0, PERIOD_MS * NS_PER_MS, PERIOD_MS * NS_PER_MS);
    usleep(5 * PERIOD_MS * 1000 + PERIOD_MS * 500);
    uint64_t ticks = 0;
    long r = read_ticks(fd, &ticks);
    long long after = now_ns(CLOCK_MONOTONIC) - start;
    /* Every period that ended before the read, and none that began after it. */
    CHECK("periodic_counts_every_interval",
          r == 8 && ticks >= 5 && (long long)ticks <= after / (PERIOD_MS * NS_PER_MS),
          "read %ld, %llu ticks in %lld ms", r, (unsigned long long)ticks, after / NS_PER_MS);
    struct itimerspec left;
    timerfd_gettime(fd, &left);
    /* The time left may be 0 on Linux, if the period has ended but not its interrupt. */
    CHECK("periodic_gettime", ns_of(left.it_interval) == PERIOD_MS * NS_PER_MS &&
                                  ns_of(left.it_value) >= 0 &&
                                  ns_of(left.it_value) <= PERIOD_MS * NS_PER_MS,
          "value %lld, interval %lld", ns_of(left.it_value), ns_of(left.it_interval));
    struct itimerspec off = {0}, old;
    arm(fd, 0, 10 * NS_PER_SEC, NS_PER_SEC);
    timerfd_settime(fd, 0, &off, &old);
    CHECK("settime_returns_old", ns_of(old.it_interval) == NS_PER_SEC &&
                                     ns_of(old.it_value) > 9 * NS_PER_SEC &&
                                     ns_of(old.it_value) <= 10 * NS_PER_SEC,
          "old value %lld, interval %lld", ns_of(old.it_value), ns_of(old.it_interval));
    CHECK_ERR("disarm_drops_expirations", read_ticks(fd, &ticks), EAGAIN);
    struct itimerspec interval_only = {.it_interval = ts_of(NS_PER_SEC)};
    timerfd_settime(fd, 0, &interval_only, NULL);
    timerfd_gettime(fd, &left);
    CHECK("disarmed_keeps_interval",
          ns_of(left.it_value) == 0 && ns_of(left.it_interval) == NS_PER_SEC,
          "value %lld, interval %lld", ns_of(left.it_value), ns_of(left.it_interval));
    close(fd);
}

static void absolute(void) {
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    /* Half the time since boot ago: K42 may run this less than a second after boot, and a
     * negative time would be EINVAL. */
    arm(fd, TFD_TIMER_ABSTIME, now_ns(CLOCK_MONOTONIC) / 2 + 1, 0);
    /* Expired already, though Linux may see it only at its next timer interrupt. */
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int polled = poll(&p, 1, LONG_MS);
    uint64_t ticks = 0;
    long r = read_ticks(fd, &ticks);
    CHECK("absolute_past_expires", polled == 1 && r == 8 && ticks == 1,
          "poll %d, read %ld (%s), %llu ticks", polled, r, strerror(errno),
          (unsigned long long)ticks);
    close(fd);

    fd = timerfd_create(CLOCK_REALTIME, 0);
    long long at = now_ns(CLOCK_REALTIME) + SHORT_MS * NS_PER_MS;
    arm(fd, TFD_TIMER_ABSTIME, at, 0);
    struct itimerspec left;
    timerfd_gettime(fd, &left);
    int ep = epoll_create1(0);
    struct epoll_event in = {.events = EPOLLIN}, out;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &in);
    int n = epoll_wait(ep, &out, 1, LONG_MS);
    long long late = now_ns(CLOCK_REALTIME) - at;
    CHECK("realtime_absolute_in_epoll",
          n == 1 && out.events == EPOLLIN && late >= 0 && ns_of(left.it_value) > 0 &&
              ns_of(left.it_value) <= SHORT_MS * NS_PER_MS,
          "%d events, %lld ns after the time, %lld ns left at first", n, late,
          ns_of(left.it_value));
    close(ep);
    close(fd);
}

static void *set_later(void *arg) {
    usleep(SHORT_MS * 1000);
    arm(*(int *)arg, 0, 1, 0);
    return NULL;
}


/* The ticks a blocking read returns (-1: it failed). */
static long blocking_ticks(int fd) {
    uint64_t ticks = 0;
    return read_ticks(fd, &ticks) == 8 ? (long)ticks : -1;
}

static long long cpu_ns(void) {
    return now_ns(CLOCK_PROCESS_CPUTIME_ID);
}

static void wakeups(void) {
    int fd = timerfd_create(CLOCK_MONOTONIC, 0);
    woken_by("settime_wakes_a_poll", set_later, &fd, poll_in, fd, POLLIN);
    /* Due now, but a wait for POLLOUT, which a timerfd never reports, sleeps its timeout
     * instead of looking again and again. */
    struct pollfd out = {.fd = fd, .events = POLLOUT};
    long long cpu0 = cpu_ns(), wall0 = now_ns(CLOCK_MONOTONIC);
    int n = poll(&out, 1, 6 * SHORT_MS);
    long long cpu = cpu_ns() - cpu0, wall = now_ns(CLOCK_MONOTONIC) - wall0;
    CHECK("wait_for_pollout_sleeps", n == 0 && cpu < wall / 2,
          "poll %d, %lld ms of CPU over %lld ms", n, cpu / NS_PER_MS, wall / NS_PER_MS);
    uint64_t drained;
    read_ticks(fd, &drained);

    woken_by("settime_wakes_a_read", set_later, &fd, blocking_ticks, fd, 1);

    uint64_t ticks;
    long r;
    alarms = 0;
    struct itimerval soon = {.it_value = {.tv_usec = SHORT_MS * 1000}};
    setitimer(ITIMER_REAL, &soon, NULL);
    errno = 0;
    r = read_ticks(fd, &ticks);
    int e = errno;
    watchdog_off();
    CHECK("signal_interrupts_read", r == -1 && e == EINTR && alarms == 1,
          "read %ld (%s), %d alarms", r, strerror(e), (int)alarms);
    close(fd);
}

static void errors(void) {
    struct itimerspec it = {.it_value = {.tv_sec = 1}}, bad = {.it_value = {.tv_nsec = NS_PER_SEC}},
                      negative = {.it_value = {.tv_sec = -1}};
    uint32_t small;
    uint64_t ticks;
    CHECK_ERR("create_bad_clock_einval", timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL);
    CHECK_ERR("create_bad_flags_einval", timerfd_create(CLOCK_MONOTONIC, 1), EINVAL);
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    CHECK_ERR("settime_bad_flags_einval", timerfd_settime(fd, 4, &it, NULL), EINVAL);
    CHECK_ERR("settime_nsec_einval", timerfd_settime(fd, 0, &bad, NULL), EINVAL);
    CHECK_ERR("settime_negative_einval", timerfd_settime(fd, 0, &negative, NULL), EINVAL);
    CHECK_ERR("settime_efault", timerfd_settime(fd, 0, BAD_POINTER, NULL), EFAULT);
    CHECK_ERR("settime_bad_fd_ebadf", timerfd_settime(999, 0, &it, NULL), EBADF);
    int efd = eventfd(0, 0);
    CHECK_ERR("settime_not_timerfd_einval", timerfd_settime(efd, 0, &it, NULL), EINVAL);
    CHECK_ERR("gettime_not_timerfd_einval", timerfd_gettime(efd, &it), EINVAL);
    close(efd);
    CHECK_ERR("gettime_efault", timerfd_gettime(fd, BAD_POINTER), EFAULT);
    CHECK_ERR("settime_old_efault", timerfd_settime(fd, 0, &it, BAD_POINTER), EFAULT);
    struct itimerspec left;
    timerfd_gettime(fd, &left);
    CHECK("set_despite_old_efault", ns_of(left.it_value) > 0, "value %lld", ns_of(left.it_value));
    CHECK_ERR("short_read_einval", read(fd, &small, sizeof small), EINVAL);
    CHECK_ERR("write_einval", write(fd, &ticks, sizeof ticks), EINVAL);
    CHECK_ERR("pread_espipe", pread(fd, &ticks, sizeof ticks, 0), ESPIPE);
    close(fd);
}

static void identity(void) {
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    check_anon_identity(fd, "anon_inode:[timerfd]");

    arm(fd, 0, 10 * NS_PER_SEC, 0);
    pid_t child = fork();
    if (child == 0) {
        struct itimerspec left;
        timerfd_gettime(fd, &left);
        _exit(ns_of(left.it_value) > 0 ? 0 : 1);
    }
    int status = -1;
    waitpid(child, &status, 0);
    CHECK("fork_child_has_timer", WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x",
          status);
    close(fd);
}

int main(void) {
    struct sigaction sa = {.sa_handler = on_alarm};
    sigaction(SIGALRM, &sa, NULL);
    disarmed();
    one_shot();
    periodic();
    absolute();
    wakeups();
    errors();
    identity();
    return k42_done();
}
