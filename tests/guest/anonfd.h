/*
 * anonfd.h: what the guest tests of the personality's own descriptors (eventfd.c, timerfd.c,
 * signalfd.c) check alike: a blocking call (a read, a poll or an epoll wait) that another
 * thread should end, bounded by the watchdog; and what such a descriptor is — O_RDWR with
 * the flags it was made with, an anonymous inode, and its anon_inode:[NAME] link in
 * /proc/self/fd.
 */
#ifndef ANONFD_H
#define ANONFD_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "k42test.h"
#include "watchdog.h"

/* How long a wait that something will end may take before the case fails (not hangs). */
#define LONG_MS 5000

/* The revents of a poll of `fd` for POLLIN (-1: none came within LONG_MS). */
static inline long poll_in(int fd) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, LONG_MS) == 1 ? p.revents : -1;
}

/* The events an epoll wait on `fd` for EPOLLIN reports (-1: none within LONG_MS). */
static inline long epoll_in(int fd) {
    int ep = epoll_create1(0);
    struct epoll_event in = {.events = EPOLLIN}, out;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &in);
    long n = epoll_wait(ep, &out, 1, LONG_MS);
    close(ep);
    return n == 1 ? (long)out.events : -1;
}

/* Case `name`: `call(fd)` on this thread, while a helper thread runs `helper(arg)` (which
 * should end the call), must return `want` before the watchdog goes off. */
static inline void woken_by(const char *name, void *(*helper)(void *), void *arg,
                            long (*call)(int), int fd, long want) {
    pthread_t t;
    pthread_create(&t, NULL, helper, arg);
    alarms = 0;
    watchdog(LONG_MS);
    errno = 0;
    long r = call(fd);
    int e = errno;
    watchdog_off();
    pthread_join(t, NULL);
    CHECK(name, r == want && alarms == 0, "returned %ld (%s), %d alarms", r, strerror(e),
          (int)alarms);
}

/* Cases flags, anonymous_inode and proc_fd_link for `fd`, made with O_CLOEXEC and
 * O_NONBLOCK; `link_name` is its /proc/self/fd target. */
static inline void check_anon_identity(int fd, const char *link_name) {
    int fdflags = fcntl(fd, F_GETFD), flags = fcntl(fd, F_GETFL);
    CHECK("flags", fdflags == FD_CLOEXEC && flags == (O_RDWR | O_NONBLOCK), "fd %#x, fl %#x",
          fdflags, flags);
    struct stat st;
    CHECK("anonymous_inode", fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == 0 && st.st_size == 0,
          "mode %#o size %lld", st.st_mode, (long long)st.st_size);
    char path[64], link[64] = {0};
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    long n = readlink(path, link, sizeof link - 1);
    CHECK("proc_fd_link", n > 0 && strcmp(link, link_name) == 0, "%s", link);
}

#endif
