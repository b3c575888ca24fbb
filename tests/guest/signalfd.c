/*
 * signalfd: signalfd and signalfd4, and reading blocked signals from the descriptor, as
 * Linux 6.1 answers them (fs/signalfd.c):
 *   a read takes pending signals of the mask, lowest first, as struct signalfd_siginfo
 *   records (signal, code, sender; SIGCHLD's child and status), without running a handler,
 *   waiting for one (EAGAIN with SFD_NONBLOCK); poll and epoll report POLLIN while one is
 *   pending and wait for it; a wait is woken by another thread's kill and interrupted by a
 *   signal outside the mask (EINTR); signalfd on an existing one changes its mask; a fork
 *   child's copy reads the child's own signals;
 *   the errors: EINVAL for a size other than sigset_t's, unknown flags, a descriptor that is no
 *   signalfd, a buffer under one record and any write; EFAULT for the mask, EBADF for a
 *   descriptor not open, ESPIPE for pread; an anonymous inode, anon_inode:[signalfd] in
 *   /proc/self/fd.
 * Waits are bounded (timeouts, a watchdog signal): a broken build fails a case, never hangs.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "anonfd.h"

#define BAD_POINTER ((void *)1)
#define DELAY_US 50000
/* The kernel's sigset_t. */
#define SIGSET_BYTES 8
#define CHILD_STATUS 7

static volatile sig_atomic_t usr1_runs;

static void on_usr1(int sig) {
    (void)sig;
    usr1_runs++;
}

static sigset_t set_of(int a, int b) {
    sigset_t set;
    sigemptyset(&set);
    if (a)
        sigaddset(&set, a);
    if (b)
        sigaddset(&set, b);
    return set;
}

static short readable(int fd) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

static void reading(void) {
    sigset_t mask = set_of(SIGUSR1, SIGUSR2);
    int fd = signalfd(-1, &mask, SFD_NONBLOCK);
    struct signalfd_siginfo si[2];
    CHECK_ERR("empty_eagain", read(fd, si, sizeof si[0]), EAGAIN);
    CHECK("empty_not_readable", readable(fd) == 0, "revents %#x", readable(fd));
    usr1_runs = 0;
    raise(SIGUSR1);
    CHECK("pending_is_readable", readable(fd) == POLLIN, "revents %#x", readable(fd));
    long r = read(fd, si, sizeof si[0]);
    CHECK("read_raised_signal",
          r == sizeof si[0] && si[0].ssi_signo == SIGUSR1 && si[0].ssi_code == SI_TKILL &&
              si[0].ssi_pid == (uint32_t)getpid() && si[0].ssi_uid == getuid() && usr1_runs == 0,
          "read %ld: signo %u code %d pid %u uid %u, handler ran %d times", r, si[0].ssi_signo,
          si[0].ssi_code, si[0].ssi_pid, si[0].ssi_uid, (int)usr1_runs);
    sigset_t pending;
    sigpending(&pending);
    CHECK("read_takes_the_signal", !sigismember(&pending, SIGUSR1), "still pending");
    kill(getpid(), SIGUSR2);
    raise(SIGUSR1);
    r = read(fd, si, sizeof si);
    CHECK("read_two_lowest_first",
          r == sizeof si && si[0].ssi_signo == SIGUSR1 && si[1].ssi_signo == SIGUSR2 &&
              si[1].ssi_code == SI_USER,
          "read %ld: %u then %u (code %d)", r, si[0].ssi_signo, si[1].ssi_signo, si[1].ssi_code);
    char small[64];
    CHECK_ERR("short_buffer_einval", read(fd, small, sizeof small), EINVAL);

    sigset_t only2 = set_of(SIGUSR2, 0);
    CHECK("signalfd_changes_mask", signalfd(fd, &only2, 0) == fd, "%s", strerror(errno));
    raise(SIGUSR1);
    CHECK("outside_mask_not_readable", readable(fd) == 0, "revents %#x", readable(fd));
    sigpending(&pending);
    CHECK("outside_mask_stays_pending", sigismember(&pending, SIGUSR1), "not pending");
    /* Deliver it (the handler counts it), then block it again. */
    sigset_t u1 = set_of(SIGUSR1, 0);
    sigprocmask(SIG_UNBLOCK, &u1, NULL);
    sigprocmask(SIG_BLOCK, &u1, NULL);
    close(fd);
}

static void *kill_later(void *arg) {
    (void)arg;
    usleep(DELAY_US);
    kill(getpid(), SIGUSR1);
    return NULL;
}

static long blocking_read(int fd) {
    struct signalfd_siginfo si;
    long r = read(fd, &si, sizeof si);
    return r == sizeof si ? (long)si.ssi_signo : -1;
}



static void waits(void) {
    sigset_t mask = set_of(SIGUSR1, 0);
    int fd = signalfd(-1, &mask, 0);
    woken_by("read_waits_for_a_kill", kill_later, NULL, blocking_read, fd, SIGUSR1);
    woken_by("poll_waits_for_a_kill", kill_later, NULL, poll_in, fd, POLLIN);
    blocking_read(fd);
    woken_by("epoll_waits_for_a_kill", kill_later, NULL, epoll_in, fd, EPOLLIN);
    blocking_read(fd);

    alarms = 0;
    struct itimerval soon = {.it_value = {.tv_usec = DELAY_US}};
    setitimer(ITIMER_REAL, &soon, NULL);
    errno = 0;
    long r = blocking_read(fd);
    int e = errno;
    watchdog_off();
    CHECK("signal_outside_mask_interrupts", r == -1 && e == EINTR && alarms == 1,
          "returned %ld (%s), %d alarms", r, strerror(e), (int)alarms);
    close(fd);

    sigset_t chld = set_of(SIGCHLD, 0);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    fd = signalfd(-1, &chld, 0);
    pid_t child = fork();
    if (child == 0)
        _exit(CHILD_STATUS);
    struct signalfd_siginfo si = {0};
    alarms = 0;
    watchdog(LONG_MS);
    r = read(fd, &si, sizeof si);
    watchdog_off();
    CHECK("sigchld_record",
          r == sizeof si && si.ssi_signo == SIGCHLD && si.ssi_code == CLD_EXITED &&
              si.ssi_pid == (uint32_t)child && si.ssi_status == CHILD_STATUS,
          "read %ld: signo %u code %d pid %u (child %d) status %d", r, si.ssi_signo, si.ssi_code,
          si.ssi_pid, child, si.ssi_status);
    waitpid(child, NULL, 0);
    close(fd);
    sigprocmask(SIG_UNBLOCK, &chld, NULL);
}

static int change_fd;

static void *change_later(void *arg) {
    (void)arg;
    usleep(DELAY_US);
    sigset_t usr1 = set_of(SIGUSR1, 0);
    signalfd(change_fd, &usr1, 0);
    return NULL;
}

/* A read waiting with a mask that misses the pending SIGUSR1 is woken by another thread's
 * change of the mask, and reads it. */
static void mask_change(void) {
    sigset_t usr2 = set_of(SIGUSR2, 0);
    change_fd = signalfd(-1, &usr2, 0);
    raise(SIGUSR1);
    woken_by("mask_change_wakes_a_read", change_later, NULL, blocking_read, change_fd, SIGUSR1);
    close(change_fd);
}

static void errors(void) {
    sigset_t mask = set_of(SIGUSR1, 0);
    CHECK_ERR("size_einval", syscall(SYS_signalfd4, -1, &mask, 4, 0), EINVAL);
    CHECK_ERR("mask_efault", syscall(SYS_signalfd4, -1, BAD_POINTER, SIGSET_BYTES, 0), EFAULT);
    CHECK_ERR("flags_einval", signalfd(-1, &mask, 1), EINVAL);
    CHECK_ERR("bad_fd_ebadf", signalfd(999, &mask, 0), EBADF);
    int efd = eventfd(0, 0);
    CHECK_ERR("not_signalfd_einval", signalfd(efd, &mask, 0), EINVAL);
    close(efd);
    int fd = signalfd(-1, &mask, SFD_NONBLOCK);
    struct signalfd_siginfo si;
    CHECK_ERR("write_einval", write(fd, &si, sizeof si), EINVAL);
    CHECK_ERR("pread_espipe", pread(fd, &si, sizeof si, 0), ESPIPE);
    long old = syscall(SYS_signalfd, -1, &mask, SIGSET_BYTES);
    CHECK("old_signalfd_call", old >= 0, "%s", strerror(errno));
    close((int)old);
    close(fd);
}

static void identity(void) {
    sigset_t mask = set_of(SIGUSR1, 0);
    int fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    check_anon_identity(fd, "anon_inode:[signalfd]");

    pid_t child = fork();
    if (child == 0) {
        raise(SIGUSR1);
        struct signalfd_siginfo si;
        long r = read(fd, &si, sizeof si);
        int own = r == sizeof si && si.ssi_signo == SIGUSR1 && si.ssi_pid == (uint32_t)getpid();
        _exit(own ? 0 : 1);
    }
    int status = -1;
    waitpid(child, &status, 0);
    CHECK("fork_child_reads_own_signals", WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "status %#x", status);
    CHECK("parent_has_none", readable(fd) == 0, "revents %#x", readable(fd));
    close(fd);
}

int main(void) {
    struct sigaction usr1 = {.sa_handler = on_usr1}, alrm = {.sa_handler = on_alarm};
    sigaction(SIGUSR1, &usr1, NULL);
    sigaction(SIGUSR2, &usr1, NULL);
    sigaction(SIGALRM, &alrm, NULL);
    sigset_t block = set_of(SIGUSR1, SIGUSR2);
    sigprocmask(SIG_BLOCK, &block, NULL);
    reading();
    waits();
    mask_change();
    errors();
    identity();
    return k42_done();
}
