/*
 * personality: what a static program needs from the process it starts in and from the
 * calls that need no file system — the initial stack and auxiliary vector, TLS, brk and
 * anonymous mmap/munmap/mprotect/mremap/madvise, writes and the fd table, clocks and
 * sleeping, uname, signal dispositions and masks, limits, and ENOSYS for a call that
 * does not exist. On K42 it is served by the Linux personality in the program's own
 * address space (issue #4); on Linux by the kernel. It passes on both.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "k42test.h"

#define PAGE 4096UL
#define MIB (1024UL * 1024UL)
#define SLEEP_NS 20000000L
#define NO_SUCH_SYSCALL 1000
#define HIGH_FD 10

static __thread int tls_value = 7;

static long ns_of(const struct timespec *t) {
    return t->tv_sec * 1000000000L + t->tv_nsec;
}

static void start_state(int argc, char **argv) {
    const char *base = strrchr(argv[0], '/');
    /* The musl build is "personality", the glibc build "personality-glibc". */
    base = base ? base + 1 : argv[0];
    CHECK("argv", argc >= 1 && strncmp(base, "personality", strlen("personality")) == 0,
          "argc %d argv[0] %s", argc, argv[0]);
    CHECK("auxv_pagesz", getauxval(AT_PAGESZ) == PAGE, "AT_PAGESZ %lu", getauxval(AT_PAGESZ));
    const unsigned char *random = (const unsigned char *)getauxval(AT_RANDOM);
    CHECK("auxv_random", random != NULL, "no AT_RANDOM");
    CHECK("auxv_phdr", getauxval(AT_PHDR) != 0 && getauxval(AT_PHNUM) > 0, "AT_PHDR %#lx",
          getauxval(AT_PHDR));
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    CHECK("auxv_execfn", execfn && strstr(execfn, "personality"), "AT_EXECFN %s",
          execfn ? execfn : "(null)");
    tls_value += 35;
    errno = 0;
    CHECK("tls", tls_value == 42 && errno == 0, "tls %d", tls_value);
}

/* The brk syscall itself: musl's sbrk() refuses to move the break. */
static char *brk_to(char *addr) {
    return (char *)syscall(SYS_brk, addr);
}

static void brk_heap(void) {
    char *start = brk_to(NULL);
    char *grown = brk_to(start + 16 * PAGE);
    int ok = grown == start + 16 * PAGE;
    if (ok) {
        memset(start, 0xa5, 16 * PAGE);
        ok = start[16 * PAGE - 1] == (char)0xa5;
    }
    char *back = brk_to(start);
    CHECK("brk", ok && back == start, "start %p grown %p back %p", start, grown, back);
    /* A break below the heap's start is refused: the call returns the current one. */
    CHECK("brk_refused", brk_to(start - 64 * PAGE) == start, "moved below the start");
}

static void anonymous_memory(void) {
    unsigned char *m = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        FAIL("mmap", "mmap: %s", strerror(errno));
        return;
    }
    int zero = 1;
    for (size_t i = 0; i < MIB; i += PAGE)
        zero &= m[i] == 0;
    for (size_t i = 0; i < MIB; i += PAGE)
        m[i] = (unsigned char)(i / PAGE);
    CHECK("mmap", zero && m[5 * PAGE] == 5, "fresh memory not zero or not writable");
    CHECK("mprotect", mprotect(m, PAGE, PROT_READ) == 0 && m[0] == 0, "mprotect: %s",
          strerror(errno));
    mprotect(m, PAGE, PROT_READ | PROT_WRITE);
    CHECK("madvise_dontneed", madvise(m + PAGE, PAGE, MADV_DONTNEED) == 0 && m[PAGE] == 0 &&
                                  m[2 * PAGE] == 2,
          "after MADV_DONTNEED: %d %d", m[PAGE], m[2 * PAGE]);
    unsigned char *r = mremap(m, MIB, 4 * MIB, MREMAP_MAYMOVE);
    CHECK("mremap_grow", r != MAP_FAILED && r[5 * PAGE] == 5 && r[3 * MIB] == 0, "mremap: %s",
          strerror(errno));
    if (r != MAP_FAILED)
        m = r;
    CHECK("munmap", munmap(m, 4 * MIB) == 0, "munmap: %s", strerror(errno));
    CHECK_ERR("mmap_zero_length", mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0, EINVAL);
    CHECK_ERR("mmap_no_type", mmap(NULL, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0, EINVAL);
    CHECK_ERR("mmap_fixed_unaligned",
              mmap((void *)(PAGE + 1), PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED ? -1 : 0,
              EINVAL);
    CHECK_ERR("munmap_unaligned", munmap((void *)(PAGE + 1), PAGE), EINVAL);
    void *hole = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(hole, 2 * PAGE);
    CHECK_ERR("mprotect_unmapped", mprotect(hole, PAGE, PROT_READ), ENOMEM);
}

static void writes_and_fds(void) {
    struct iovec iov[3] = {{"wri", 3}, {"tev", 3}, {" ok\n", 4}};
    CHECK("writev", writev(STDOUT_FILENO, iov, 3) == 10, "writev: %s", strerror(errno));
    CHECK_ERR("write_bad_fd", write(99, "x", 1), EBADF);
    CHECK_ERR("write_bad_buffer", write(STDOUT_FILENO, (void *)8, 1), EFAULT);
    int d = dup(STDOUT_FILENO);
    CHECK("dup", d > STDERR_FILENO && write(d, "", 0) == 0, "dup: %d", d);
    CHECK("dup2", dup2(STDOUT_FILENO, HIGH_FD) == HIGH_FD && fcntl(HIGH_FD, F_GETFD) == 0,
          "dup2: %s", strerror(errno));
    CHECK_ERR("dup3_same", dup3(HIGH_FD, HIGH_FD, 0), EINVAL);
    CHECK("cloexec", fcntl(HIGH_FD, F_SETFD, FD_CLOEXEC) == 0 &&
                         fcntl(HIGH_FD, F_GETFD) == FD_CLOEXEC,
          "F_SETFD: %s", strerror(errno));
    int high = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, HIGH_FD + 5);
    CHECK("dupfd_min", high == HIGH_FD + 5 && fcntl(high, F_GETFD) == FD_CLOEXEC, "got %d", high);
    close(high);
    close(HIGH_FD);
    struct stat st;
    CHECK("fstat_stdout", fstat(STDOUT_FILENO, &st) == 0 && S_ISCHR(st.st_mode),
          "fstat: %s, mode %o", strerror(errno), st.st_mode);
    /* musl here predates statx(): the raw call, with struct statx's offsets of stx_mode
     * and stx_rdev_major from linux/stat.h. */
    unsigned char sx[256] = {0};
    long sr = syscall(SYS_statx, STDOUT_FILENO, "", AT_EMPTY_PATH, 0x7ffU, sx);
    uint16_t sx_mode;
    uint32_t sx_rdev_major;
    memcpy(&sx_mode, sx + 0x1c, sizeof sx_mode);
    memcpy(&sx_rdev_major, sx + 0x80, sizeof sx_rdev_major);
    CHECK("statx_empty_path", sr == 0 && S_ISCHR(sx_mode) && sx_rdev_major == major(st.st_rdev),
          "statx: %ld (%s), mode %o, rdev major %u", sr, strerror(errno), sx_mode, sx_rdev_major);
    CHECK_ERR("fstat_bad_fd", fstat(99, &st), EBADF);
    CHECK("close", close(d) == 0, "close: %s", strerror(errno));
    CHECK_ERR("close_twice", close(d), EBADF);
}

static void clocks(void) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    struct timespec nap = {0, SLEEP_NS};
    int slept = nanosleep(&nap, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    CHECK("nanosleep", slept == 0 && ns_of(&b) - ns_of(&a) >= SLEEP_NS, "slept %ld ns",
          ns_of(&b) - ns_of(&a));
    struct timespec bad = {0, 1000000000L};
    CHECK_ERR("nanosleep_bad", nanosleep(&bad, NULL), EINVAL);
    CHECK_ERR("clock_bad", syscall(SYS_clock_gettime, 1234, &a), EINVAL);
}

static void system_state(void) {
    struct utsname u;
    CHECK("uname", uname(&u) == 0 && strcmp(u.sysname, "Linux") == 0 &&
                       strcmp(u.machine, "x86_64") == 0,
          "%s %s", u.sysname, u.machine);
    CHECK("getpid", getpid() > 0 && getppid() > 0 && getppid() != getpid(), "pid %d ppid %d",
          getpid(), getppid());
    CHECK("process_group", getpgrp() > 0 && getpgid(0) == getpgrp() && getpgid(getpid()) == getpgrp(),
          "pgrp %d pgid(0) %d", getpgrp(), getpgid(0));
    CHECK("session", getsid(0) > 0 && getsid(getpid()) == getsid(0), "sid %d", getsid(0));
    CHECK("no_supplementary_groups", getgroups(0, NULL) == 0, "%d groups", getgroups(0, NULL));
    struct utsname host;
    CHECK("hostname_unset", uname(&host) == 0 && strcmp(host.nodename, "(none)") == 0, "nodename %s",
          host.nodename);
    CHECK_ERR("enosys", syscall(NO_SUCH_SYSCALL), ENOSYS);
    struct rlimit rl;
    CHECK("rlimit", getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 0, "getrlimit: %s",
          strerror(errno));
}

static void on_usr1(int sig) {
    (void)sig;
}

static void signal_state(void) {
    struct sigaction sa = {0}, old = {0};
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR1, NULL, &old);
    CHECK("sigaction", old.sa_handler == on_usr1 && (old.sa_flags & SA_RESTART), "handler %p",
          (void *)old.sa_handler);
    CHECK_ERR("sigaction_kill", sigaction(SIGKILL, &sa, NULL), EINVAL);
    sigset_t set, got;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    sigprocmask(SIG_BLOCK, NULL, &got);
    CHECK("sigprocmask", sigismember(&got, SIGUSR1), "SIGUSR1 not blocked");
}

int main(int argc, char **argv) {
    start_state(argc, argv);
    brk_heap();
    anonymous_memory();
    writes_and_fds();
    clocks();
    system_state();
    signal_state();
    return k42_done();
}
