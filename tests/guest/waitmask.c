/*
 * waitmask: the signal mask ppoll, pselect6 and epoll_pwait wait with, as Linux 6.1 applies it
 * (set_user_sigmask, restore_saved_sigmask_unless):
 *   a signal the program blocks but the wait's mask lets through interrupts the wait (EINTR),
 *   its handler runs, and the program's mask is back afterwards; a signal the wait's mask
 *   blocks does not interrupt it, and is delivered once the call returns; a wait that finds a
 *   descriptor ready returns it, and a signal only its mask let through stays pending and
 *   blocked; a null mask leaves the program's mask as it is, whatever the size;
 *   the errors: EINVAL for a mask of another size than a sigset_t, EFAULT for one that cannot
 *   be read, and for pselect6's unreadable (mask, size) pair.
 * Every wait here has a finite timeout: a build that gets the mask wrong fails a case, it
 * never hangs.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "k42test.h"

/* An address no process has mapped. */
#define BAD_POINTER ((void *)1)
/* The kernel's sigset_t, the one mask size the three calls take. */
#define SIGSET_BYTES 8
/* How long a wait that a signal should end may last before the case fails. */
#define LONG_SEC 2
/* The interval timer that raises SIGALRM during a wait, and the wait it falls inside. */
#define ALARM_US 50000
#define WAIT_MS 400
#define NS_PER_MS 1000000L

static volatile sig_atomic_t usr1_runs, alrm_runs;

static void on_usr1(int sig) {
    (void)sig;
    usr1_runs++;
}

static void on_alrm(int sig) {
    (void)sig;
    alrm_runs++;
}

/* Blocks (how = SIG_BLOCK) or unblocks (SIG_UNBLOCK) one signal. */
static void mask_one(int how, int sig) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(how, &set, NULL);
}

static int is_blocked(int sig) {
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    return sigismember(&now, sig);
}

static int is_pending(int sig) {
    sigset_t set;
    sigpending(&set);
    return sigismember(&set, sig);
}

/* Delivers and forgets a SIGUSR1 left pending and blocked by a case, then blocks it again. */
static void drain_usr1(void) {
    mask_one(SIG_UNBLOCK, SIGUSR1);
    mask_one(SIG_BLOCK, SIGUSR1);
    usr1_runs = 0;
}

/* Starts the interval timer: one SIGALRM in ALARM_US. */
static void alarm_soon(void) {
    struct itimerval it = {.it_value = {.tv_usec = ALARM_US}};
    alrm_runs = 0;
    setitimer(ITIMER_REAL, &it, NULL);
}

/* One case per call: a SIGUSR1 pending and blocked, which `wait` (waiting with an empty mask
 * on a descriptor that never gets ready) must end with EINTR, its handler run, SIGUSR1
 * blocked again afterwards. */
static void interrupts(const char *name, long (*wait)(void)) {
    mask_one(SIG_BLOCK, SIGUSR1);
    usr1_runs = 0;
    raise(SIGUSR1);
    errno = 0;
    long r = wait();
    int e = errno;
    CHECK(name,
          r == -1 && e == EINTR && usr1_runs == 1 && is_blocked(SIGUSR1) && !is_pending(SIGUSR1),
          "returned %ld (%s), handler ran %d times, SIGUSR1 blocked %d pending %d", r, strerror(e),
          (int)usr1_runs, is_blocked(SIGUSR1), is_pending(SIGUSR1));
    drain_usr1();
}

/* One case per call: SIGALRM unblocked, raised during `wait`, whose mask blocks it: the wait
 * times out (0), and the handler has run by the time the call is back. */
static void holds_off(const char *name, long (*wait)(void)) {
    mask_one(SIG_UNBLOCK, SIGALRM);
    alarm_soon();
    errno = 0;
    long r = wait();
    int e = errno;
    CHECK(name, r == 0 && alrm_runs == 1 && !is_blocked(SIGALRM),
          "returned %ld (%s), SIGALRM handler ran %d times, blocked %d", r, strerror(e),
          (int)alrm_runs, is_blocked(SIGALRM));
}

static int pipe_fds[2];
static int epfd;

static sigset_t only(int sig) {
    sigset_t set;
    sigemptyset(&set);
    if (sig)
        sigaddset(&set, sig);
    return set;
}

static long ppoll_empty_mask(void) {
    struct pollfd p = {.fd = pipe_fds[0], .events = POLLIN};
    struct timespec ts = {.tv_sec = LONG_SEC};
    sigset_t none = only(0);
    return ppoll(&p, 1, &ts, &none);
}

static long ppoll_alrm_blocked(void) {
    struct pollfd p = {.fd = pipe_fds[0], .events = POLLIN};
    struct timespec ts = {.tv_nsec = WAIT_MS * NS_PER_MS};
    sigset_t alrm = only(SIGALRM);
    return ppoll(&p, 1, &ts, &alrm);
}

static long pselect_empty_mask(void) {
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(pipe_fds[0], &rd);
    struct timespec ts = {.tv_sec = LONG_SEC};
    sigset_t none = only(0);
    return pselect(pipe_fds[0] + 1, &rd, NULL, NULL, &ts, &none);
}

static long pselect_alrm_blocked(void) {
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(pipe_fds[0], &rd);
    struct timespec ts = {.tv_nsec = WAIT_MS * NS_PER_MS};
    sigset_t alrm = only(SIGALRM);
    return pselect(pipe_fds[0] + 1, &rd, NULL, NULL, &ts, &alrm);
}

static long epoll_empty_mask(void) {
    struct epoll_event out;
    sigset_t none = only(0);
    return epoll_pwait(epfd, &out, 1, LONG_SEC * 1000, &none);
}

static long epoll_alrm_blocked(void) {
    struct epoll_event out;
    sigset_t alrm = only(SIGALRM);
    return epoll_pwait(epfd, &out, 1, WAIT_MS, &alrm);
}

/* A descriptor ready at once and a SIGUSR1 that only the wait's empty mask lets through: the
 * call reports the descriptor (1), the signal stays pending and blocked, no handler runs. */
static void ready_keeps_pending(void) {
    mask_one(SIG_BLOCK, SIGUSR1);
    usr1_runs = 0;
    raise(SIGUSR1);
    sigset_t none = only(0);
    struct pollfd p = {.fd = pipe_fds[1], .events = POLLOUT};
    struct timespec ts = {.tv_sec = LONG_SEC};
    long r = ppoll(&p, 1, &ts, &none);
    CHECK("ppoll_ready_leaves_signal_pending",
          r == 1 && usr1_runs == 0 && is_pending(SIGUSR1) && is_blocked(SIGUSR1),
          "returned %ld, handler ran %d times, SIGUSR1 pending %d blocked %d", r, (int)usr1_runs,
          is_pending(SIGUSR1), is_blocked(SIGUSR1));
    drain_usr1();
}

/* The size and address checks, made with raw syscalls (the C libraries pass the right size). */
static void errors(void) {
    struct pollfd p = {.fd = pipe_fds[0], .events = POLLIN};
    struct timespec zero = {0};
    sigset_t none = only(0);
    struct epoll_event out;
    CHECK_ERR("ppoll_mask_size_einval", syscall(SYS_ppoll, &p, 1, &zero, &none, 4), EINVAL);
    CHECK("ppoll_null_mask_any_size", syscall(SYS_ppoll, &p, 1, &zero, NULL, 4) == 0, "%s",
          strerror(errno));
    CHECK_ERR("ppoll_mask_efault", syscall(SYS_ppoll, &p, 1, &zero, BAD_POINTER, SIGSET_BYTES),
              EFAULT);
    struct {
        void *mask;
        size_t size;
    } wrong_size = {&none, 4}, bad_mask = {BAD_POINTER, SIGSET_BYTES}, no_mask = {NULL, 4};
    CHECK_ERR("pselect6_mask_size_einval",
              syscall(SYS_pselect6, 0, NULL, NULL, NULL, &zero, &wrong_size), EINVAL);
    CHECK_ERR("pselect6_mask_efault", syscall(SYS_pselect6, 0, NULL, NULL, NULL, &zero, &bad_mask),
              EFAULT);
    CHECK_ERR("pselect6_pair_efault",
              syscall(SYS_pselect6, 0, NULL, NULL, NULL, &zero, BAD_POINTER), EFAULT);
    CHECK("pselect6_null_mask_any_size",
          syscall(SYS_pselect6, 0, NULL, NULL, NULL, &zero, &no_mask) == 0, "%s", strerror(errno));
    CHECK_ERR("epoll_pwait_mask_size_einval", syscall(SYS_epoll_pwait, epfd, &out, 1, 0, &none, 4),
              EINVAL);
    CHECK_ERR("epoll_pwait_mask_efault",
              syscall(SYS_epoll_pwait, epfd, &out, 1, 0, BAD_POINTER, SIGSET_BYTES), EFAULT);
}

int main(void) {
    struct sigaction usr1 = {.sa_handler = on_usr1}, alrm = {.sa_handler = on_alrm};
    sigaction(SIGUSR1, &usr1, NULL);
    sigaction(SIGALRM, &alrm, NULL);
    if (pipe(pipe_fds) != 0) {
        FAIL("setup", "pipe: %s", strerror(errno));
        return k42_done();
    }
    epfd = epoll_create1(0);
    struct epoll_event in = {.events = EPOLLIN};
    if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, pipe_fds[0], &in) != 0) {
        FAIL("setup", "epoll: %s", strerror(errno));
        return k42_done();
    }
    interrupts("ppoll_mask_lets_blocked_signal_in", ppoll_empty_mask);
    interrupts("pselect_mask_lets_blocked_signal_in", pselect_empty_mask);
    interrupts("epoll_pwait_mask_lets_blocked_signal_in", epoll_empty_mask);
    holds_off("ppoll_mask_holds_signal_off", ppoll_alrm_blocked);
    holds_off("pselect_mask_holds_signal_off", pselect_alrm_blocked);
    holds_off("epoll_pwait_mask_holds_signal_off", epoll_alrm_blocked);
    ready_keeps_pending();
    errors();
    return k42_done();
}
