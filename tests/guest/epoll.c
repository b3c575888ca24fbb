/*
 * epoll: epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait and epoll_pwait2 on
 * pipes, as Linux 6.1 answers them:
 *   a watch reports what is ready now, with the data it was given, again on every wait while
 *   it stays ready (level-triggered); EPOLLHUP and EPOLLERR come unasked; EPOLLONESHOT
 *   reports once until EPOLL_CTL_MOD; with more ready than maxevents, the next wait reports
 *   the others first; a wait sleeps until a write from another process, its timeout or a
 *   signal (EINTR, even with SA_RESTART), or a watch another thread adds; the watch of a
 *   closed descriptor ends, and the descriptor reused can be added again; poll on an epoll
 *   instance says whether a watch is ready;
 *   the errors in Linux's order: EINVAL, EBADF, EPERM (regular files, /dev/null, /proc files),
 *   EEXIST, ENOENT, EFAULT; an instance reads and writes nothing (EINVAL) and is an anonymous
 *   inode.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "k42test.h"

#define DIR_ "/tmp/epoll"
#define FILE_ DIR_ "/f"
/* An address no process has mapped. */
#define BAD_POINTER ((void *)1)
/* How long the short timed waits are, and the least of it they must take. */
#define SHORT_MS 60
#define LEAST_MS (SHORT_MS / 2)
/* How long a wait that something will end may take before the case fails (not hangs). */
#define LONG_MS 5000
#define NS_PER_MS 1000000LL

static long long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000LL + t.tv_nsec / NS_PER_MS;
}

static int add(int ep, int fd, unsigned events, unsigned long long data) {
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* One wait of at most 4 events: how many, the first's events and data in *events, *data. */
static int wait_one(int ep, int timeout, unsigned *events, unsigned long long *data) {
    struct epoll_event out[4];
    int n = epoll_wait(ep, out, 4, timeout);
    *events = n > 0 ? out[0].events : 0;
    *data = n > 0 ? out[0].data.u64 : 0;
    return n;
}

static void creating(void) {
    int ep = epoll_create1(0);
    CHECK("epoll_create1", ep >= 0 && fcntl(ep, F_GETFD) == 0, "fd %d (%s)", ep, strerror(errno));
    int ep2 = epoll_create1(EPOLL_CLOEXEC);
    CHECK("epoll_create1_cloexec", ep2 >= 0 && fcntl(ep2, F_GETFD) == FD_CLOEXEC, "fd %d (%s)",
          ep2, strerror(errno));
    /* Raw: a C library may make epoll_create epoll_create1 without asking the kernel. */
    int ep3 = syscall(SYS_epoll_create, 1);
    CHECK("epoll_create", ep3 >= 0, "%s", strerror(errno));
    CHECK_ERR("epoll_create_zero_einval", syscall(SYS_epoll_create, 0), EINVAL);
    CHECK_ERR("epoll_create1_bad_flag_einval", epoll_create1(1), EINVAL);
    struct stat st;
    char link[64] = {0}, path[32];
    snprintf(path, sizeof path, "/proc/self/fd/%d", ep);
    long len = readlink(path, link, sizeof link - 1);
    CHECK("epoll_is_an_anonymous_inode",
          fstat(ep, &st) == 0 && (st.st_mode & S_IFMT) == 0 && len > 0 &&
              strcmp(link, "anon_inode:[eventpoll]") == 0,
          "mode %o, link %ld \"%s\"", st.st_mode, len, link);
    char c;
    CHECK_ERR("epoll_read_einval", read(ep, &c, 1), EINVAL);
    CHECK_ERR("epoll_write_einval", write(ep, "x", 1), EINVAL);
    close(ep);
    close(ep2);
    close(ep3);
}

static void controlling(void) {
    int ep = epoll_create1(0);
    int p[2];
    pipe(p);
    int file = open(FILE_, O_CREAT | O_RDWR, 0644);
    int null = open("/dev/null", O_RDWR);
    struct epoll_event ev = {.events = EPOLLIN};
    CHECK("epoll_ctl_add", add(ep, p[0], EPOLLIN, 7) == 0, "%s", strerror(errno));
    CHECK_ERR("epoll_ctl_add_twice_eexist", add(ep, p[0], EPOLLIN, 7), EEXIST);
    CHECK_ERR("epoll_ctl_mod_unwatched_enoent", epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev), ENOENT);
    CHECK_ERR("epoll_ctl_del_unwatched_enoent", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL), ENOENT);
    CHECK_ERR("epoll_ctl_regular_file_eperm", add(ep, file, EPOLLIN, 0), EPERM);
    CHECK_ERR("epoll_ctl_dev_null_eperm", add(ep, null, EPOLLIN, 0), EPERM);
    int proc = open("/proc/self/stat", O_RDONLY);
    CHECK_ERR("epoll_ctl_proc_file_eperm", add(ep, proc, EPOLLIN, 0), EPERM);
    close(proc);
    CHECK_ERR("epoll_ctl_itself_einval", add(ep, ep, EPOLLIN, 0), EINVAL);
    CHECK_ERR("epoll_ctl_not_an_epoll_einval", add(p[1], p[0], EPOLLIN, 0), EINVAL);
    CHECK_ERR("epoll_ctl_bad_fd_ebadf", add(ep, 99, EPOLLIN, 0), EBADF);
    CHECK_ERR("epoll_ctl_bad_epfd_ebadf", add(99, p[0], EPOLLIN, 0), EBADF);
    CHECK_ERR("epoll_ctl_bad_event_efault", epoll_ctl(ep, EPOLL_CTL_ADD, p[1], BAD_POINTER),
              EFAULT);
    CHECK_ERR("epoll_ctl_unknown_op_einval", epoll_ctl(ep, 99, p[0], &ev), EINVAL);
    struct epoll_event excl = {.events = EPOLLIN | EPOLLEXCLUSIVE};
    CHECK_ERR("epoll_ctl_mod_exclusive_einval", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &excl),
              EINVAL);
    CHECK("epoll_ctl_del_ignores_the_event",
          epoll_ctl(ep, EPOLL_CTL_DEL, p[0], BAD_POINTER) == 0, "%s", strerror(errno));
    CHECK_ERR("epoll_ctl_deleted_mod_enoent", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), ENOENT);
    close(ep);
    close(p[0]);
    close(p[1]);
    close(file);
    close(null);
}

static void waiting(void) {
    int ep = epoll_create1(0);
    int p[2];
    pipe(p);
    add(ep, p[0], EPOLLIN, 0x1122334455667788ULL);
    unsigned events;
    unsigned long long data;
    CHECK("epoll_wait_nothing_ready", wait_one(ep, 0, &events, &data) == 0, "%s",
          strerror(errno));
    long long t0 = now_ms();
    int n = wait_one(ep, SHORT_MS, &events, &data);
    long long waited = now_ms() - t0;
    CHECK("epoll_wait_times_out", n == 0 && waited >= LEAST_MS, "%d after %lld ms", n, waited);
    write(p[1], "ab", 2);
    n = wait_one(ep, LONG_MS, &events, &data);
    CHECK("epoll_wait_reports_input", n == 1 && events == EPOLLIN && data == 0x1122334455667788ULL,
          "%d: events %#x data %#llx", n, events, data);
    n = wait_one(ep, 0, &events, &data);
    CHECK("epoll_wait_level_triggered_again", n == 1 && events == EPOLLIN, "%d: events %#x", n,
          events);
    char buf[4];
    read(p[0], buf, sizeof buf);
    CHECK("epoll_wait_drained_nothing", wait_one(ep, 0, &events, &data) == 0, "%s",
          strerror(errno));
    add(ep, p[1], EPOLLOUT, 2);
    n = wait_one(ep, 0, &events, &data);
    CHECK("epoll_wait_write_end_ready", n == 1 && events == EPOLLOUT && data == 2,
          "%d: events %#x data %llu", n, events, data);
    struct epoll_event none = {.events = 0, .data.u64 = 2};
    epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &none);
    close(p[0]);
    n = wait_one(ep, 0, &events, &data);
    CHECK("epoll_wait_error_comes_unasked", n == 1 && (events & EPOLLERR) && data == 2,
          "%d: events %#x data %llu", n, events, data);
    close(p[1]);
    CHECK("epoll_wait_closed_watches_end", wait_one(ep, 0, &events, &data) == 0, "%s",
          strerror(errno));
    pipe(p);
    add(ep, p[0], EPOLLIN, 3);
    close(p[1]);
    n = wait_one(ep, 0, &events, &data);
    CHECK("epoll_wait_hangup_comes_unasked", n == 1 && events == EPOLLHUP && data == 3,
          "%d: events %#x data %llu", n, events, data);
    close(p[0]);
    close(ep);
}

static void one_shot_and_turns(void) {
    int ep = epoll_create1(0);
    int a[2], b[2];
    pipe(a);
    pipe(b);
    add(ep, a[0], EPOLLIN | EPOLLONESHOT, 1);
    write(a[1], "x", 1);
    unsigned events;
    unsigned long long data;
    int first = wait_one(ep, 0, &events, &data);
    int second = wait_one(ep, 0, &events, &data);
    CHECK("epoll_oneshot_reports_once", first == 1 && second == 0, "%d then %d", first, second);
    struct epoll_event again = {.events = EPOLLIN | EPOLLONESHOT, .data.u64 = 1};
    epoll_ctl(ep, EPOLL_CTL_MOD, a[0], &again);
    int third = wait_one(ep, 0, &events, &data);
    CHECK("epoll_oneshot_mod_rearms", third == 1 && data == 1, "%d, data %llu", third, data);
    epoll_ctl(ep, EPOLL_CTL_DEL, a[0], NULL);
    add(ep, a[0], EPOLLIN, 10);
    add(ep, b[0], EPOLLIN, 20);
    write(b[1], "y", 1);
    struct epoll_event out[1];
    int n1 = epoll_wait(ep, out, 1, 0);
    unsigned long long d1 = out[0].data.u64;
    int n2 = epoll_wait(ep, out, 1, 0);
    unsigned long long d2 = out[0].data.u64;
    CHECK("epoll_wait_ready_watches_take_turns", n1 == 1 && n2 == 1 && d1 != d2 &&
              (d1 == 10 || d1 == 20) && (d2 == 10 || d2 == 20),
          "%d (data %llu) then %d (data %llu)", n1, d1, n2, d2);
    struct pollfd pfd = {.fd = ep, .events = POLLIN};
    int polled = poll(&pfd, 1, 0);
    CHECK("poll_on_epoll_ready", polled == 1 && pfd.revents == POLLIN, "%d revents %#x", polled,
          pfd.revents);
    char buf[2];
    read(a[0], buf, 1);
    read(b[0], buf, 1);
    pfd.revents = 0;
    polled = poll(&pfd, 1, 0);
    CHECK("poll_on_epoll_not_ready", polled == 0, "%d revents %#x", polled, pfd.revents);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
    close(ep);
}

static void on_alarm(int sig) {
    (void)sig;
}

static void sleeping(void) {
    int ep = epoll_create1(0);
    int p[2];
    pipe(p);
    add(ep, p[0], EPOLLIN, 5);
    pid_t child = fork();
    if (child == 0) {
        struct timespec nap = {0, SHORT_MS * NS_PER_MS};
        nanosleep(&nap, NULL);
        write(p[1], "z", 1);
        _exit(0);
    }
    unsigned events;
    unsigned long long data;
    long long t0 = now_ms();
    int n = wait_one(ep, LONG_MS, &events, &data);
    long long waited = now_ms() - t0;
    CHECK("epoll_wait_woken_by_another_process",
          n == 1 && events == EPOLLIN && data == 5 && waited < LONG_MS,
          "%d: events %#x data %llu after %lld ms", n, events, data, waited);
    waitpid(child, NULL, 0);
    char c;
    read(p[0], &c, 1);
    struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {.it_value = {0, SHORT_MS * 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
    n = wait_one(ep, LONG_MS, &events, &data);
    int e = errno;
    CHECK("epoll_wait_signal_eintr_despite_restart", n == -1 && e == EINTR, "%d (%s)", n,
          strerror(e));
    struct epoll_event out[1];
    struct timespec zero = {0, 0};
    CHECK("epoll_pwait_no_mask", epoll_pwait(ep, out, 1, 0, NULL) == 0, "%s", strerror(errno));
    CHECK("epoll_pwait2_zero_timeout", syscall(SYS_epoll_pwait2, ep, out, 1, &zero, NULL, 8) == 0,
          "%s", strerror(errno));
    CHECK_ERR("epoll_wait_maxevents_zero_einval", epoll_wait(ep, out, 0, 0), EINVAL);
    CHECK_ERR("epoll_wait_maxevents_negative_einval", epoll_wait(ep, out, -1, 0), EINVAL);
    CHECK_ERR("epoll_wait_bad_epfd_ebadf", epoll_wait(99, out, 1, 0), EBADF);
    CHECK_ERR("epoll_wait_not_an_epoll_einval", epoll_wait(p[0], out, 1, 0), EINVAL);
    CHECK_ERR("epoll_pwait_bad_mask_size_einval",
              syscall(SYS_epoll_pwait, ep, out, 1, 0, &zero, 4), EINVAL);
    char c2;
    CHECK_ERR("epoll_pread_espipe", pread(ep, &c2, 1, 0), ESPIPE);
    write(p[1], "w", 1);
    CHECK_ERR("epoll_wait_bad_buffer_efault", epoll_wait(ep, BAD_POINTER, 1, 0), EFAULT);
    close(p[0]);
    close(p[1]);
    close(ep);
}

static void reused_descriptor(void) {
    int ep = epoll_create1(0);
    int p[2], q[2];
    pipe(p);
    add(ep, p[0], EPOLLIN, 1);
    int reused = p[0];
    close(p[0]);
    close(p[1]);
    pipe(q);
    write(q[1], "r", 1);
    int again = q[0] == reused ? add(ep, q[0], EPOLLIN, 2) : -2;
    unsigned events;
    unsigned long long data;
    int n = wait_one(ep, 0, &events, &data);
    CHECK("epoll_ctl_readd_reused_descriptor", again == 0 && n == 1 && data == 2,
          "fd %d reused as %d: add %d (%s), wait %d data %llu", reused, q[0], again,
          strerror(errno), n, data);
    close(q[0]);
    close(q[1]);
    close(ep);
}

/* What the thread that changes an instance another thread waits on needs. */
struct changer {
    int ep, fd;
};

static void *add_later(void *arg) {
    struct changer *c = arg;
    struct timespec nap = {0, SHORT_MS * NS_PER_MS};
    nanosleep(&nap, NULL);
    add(c->ep, c->fd, EPOLLIN, 9);
    return NULL;
}

static void changed_by_another_thread(void) {
    int ep = epoll_create1(0);
    int p[2];
    pipe(p);
    write(p[1], "t", 1);
    struct changer c = {ep, p[0]};
    pthread_t t;
    int made = pthread_create(&t, NULL, add_later, &c);
    unsigned events;
    unsigned long long data;
    long long t0 = now_ms();
    int n = wait_one(ep, LONG_MS, &events, &data);
    long long waited = now_ms() - t0;
    if (made == 0)
        pthread_join(t, NULL);
    CHECK("epoll_wait_woken_by_a_watch_another_thread_adds",
          made == 0 && n == 1 && data == 9 && waited < LONG_MS,
          "thread %d, wait %d data %llu after %lld ms", made, n, data, waited);
    close(p[0]);
    close(p[1]);
    close(ep);
}

int main(void) {
    mkdir("/tmp", 0777);
    mkdir(DIR_, 0755);
    creating();
    controlling();
    waiting();
    one_shot_and_turns();
    sleeping();
    reused_descriptor();
    changed_by_another_thread();
    return k42_done();
}
