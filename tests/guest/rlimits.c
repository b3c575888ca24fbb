/*
 * rlimits: resource limits with Linux's rules, as root, and two checks beside them, one
 * function per subject:
 *   defaults: getrlimit's and prlimit64's answers, Linux's defaults for init's children;
 *   changes: lowering, raising (root), soft above hard (EINVAL), RLIMIT_NOFILE above
 *     nr_open (EPERM), prlimit64's old pair, the errors;
 *   inherited: a fork child's copy of the limits, and its own change;
 *   descriptors: RLIMIT_NOFILE bounding open, dup, dup2, F_DUPFD and poll, then raised;
 *   randomness: getrandom's flags, and a fork child's bytes its own;
 *   advice: madvise's advice check;
 * and, after a re-exec of itself (/proc/self/exe, with "after-exec" and its failure count
 * so far), the limits execve kept; it exits with the total.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "k42test.h"

/* Linux's defaults for init's children: RLIMIT_NOFILE (INR_OPEN_CUR, INR_OPEN_MAX),
 * RLIMIT_STACK (_STK_LIM, unlimited), RLIMIT_CORE (0, unlimited). */
#define NOFILE_SOFT 1024
#define NOFILE_HARD 4096
#define STACK_SOFT (8 << 20)
/* fs.nr_open's default: the most RLIMIT_NOFILE may be. */
#define NR_OPEN (1 << 20)
/* The limit the fork and exec cases set and look for. */
#define MARK_SOFT 1000
#define MARK_HARD 5000
/* A small RLIMIT_NOFILE for the descriptor cases. */
#define FEW_FDS 10
/* A descriptor above the default soft limit, under the hard one. */
#define HIGH_FD 2000
/* Bytes getrandom is asked for. */
#define RANDOM_BYTES 32
/* getrandom flags (linux/random.h): GRND_INSECURE is newer than some C libraries. */
#define GRND_INSECURE_ 0x0004
#define GRND_UNKNOWN 0x0008
/* Advice no Linux knows. */
#define BAD_ADVICE 12345
/* An address no process has mapped. */
#define BAD_POINTER ((void *)1)
#define AFTER_EXEC "after-exec"

static long prlimit_(pid_t pid, int resource, const struct rlimit *new, struct rlimit *old) {
    return syscall(SYS_prlimit64, pid, resource, new, old);
}

static int limit_is(int resource, rlim_t soft, rlim_t hard) {
    struct rlimit r;
    return getrlimit(resource, &r) == 0 && r.rlim_cur == soft && r.rlim_max == hard;
}

static void defaults(void) {
    struct rlimit r = {0};
    int ok = getrlimit(RLIMIT_NOFILE, &r) == 0;
    CHECK("nofile_default", ok && r.rlim_cur == NOFILE_SOFT && r.rlim_max == NOFILE_HARD, "ok=%d %llu/%llu", ok,
          (unsigned long long)r.rlim_cur, (unsigned long long)r.rlim_max);
    ok = getrlimit(RLIMIT_STACK, &r) == 0;
    CHECK("stack_default", ok && r.rlim_cur == STACK_SOFT && r.rlim_max == RLIM_INFINITY, "ok=%d %llu/%llu", ok,
          (unsigned long long)r.rlim_cur, (unsigned long long)r.rlim_max);
    ok = getrlimit(RLIMIT_CORE, &r) == 0;
    CHECK("core_default", ok && r.rlim_cur == 0 && r.rlim_max == RLIM_INFINITY, "ok=%d %llu/%llu", ok,
          (unsigned long long)r.rlim_cur, (unsigned long long)r.rlim_max);
    struct rlimit p = {0};
    long pr = prlimit_(getpid(), RLIMIT_NOFILE, NULL, &p);
    CHECK("prlimit64_own_pid_reads", pr == 0 && p.rlim_cur == NOFILE_SOFT && p.rlim_max == NOFILE_HARD,
          "prlimit64 %ld: %llu/%llu", pr, (unsigned long long)p.rlim_cur, (unsigned long long)p.rlim_max);
    CHECK_ERR("getrlimit_bad_resource_einval", getrlimit(RLIM_NLIMITS, &r), EINVAL);
    CHECK_ERR("getrlimit_bad_pointer_efault", syscall(SYS_getrlimit, RLIMIT_NOFILE, BAD_POINTER), EFAULT);
}

static void changes(void) {
    /* `ulimit -c 0`: both limits down. */
    struct rlimit r = {0, 0};
    int s = setrlimit(RLIMIT_CORE, &r);
    CHECK("setrlimit_lowers_both", s == 0 && limit_is(RLIMIT_CORE, 0, 0), "setrlimit %d (%s)", s, strerror(errno));
    /* Root may raise the hard limit again (CAP_SYS_RESOURCE). */
    r = (struct rlimit){MARK_SOFT, MARK_HARD};
    s = setrlimit(RLIMIT_CORE, &r);
    CHECK("root_raises_hard", s == 0 && limit_is(RLIMIT_CORE, MARK_SOFT, MARK_HARD), "setrlimit %d (%s)", s,
          strerror(errno));
    r = (struct rlimit){MARK_HARD + 1, MARK_HARD};
    CHECK_ERR("soft_above_hard_einval", setrlimit(RLIMIT_CORE, &r), EINVAL);
    CHECK("failed_change_kept_the_old", limit_is(RLIMIT_CORE, MARK_SOFT, MARK_HARD), "changed");
    CHECK_ERR("setrlimit_bad_resource_einval", setrlimit(RLIM_NLIMITS, &r), EINVAL);
    CHECK_ERR("setrlimit_bad_pointer_efault", syscall(SYS_setrlimit, RLIMIT_CORE, BAD_POINTER), EFAULT);
    r = (struct rlimit){NR_OPEN + 1, NR_OPEN + 1};
    CHECK_ERR("nofile_above_nr_open_eperm", setrlimit(RLIMIT_NOFILE, &r), EPERM);

    /* prlimit64 sets and answers the old pair in one call. */
    struct rlimit old = {0}, new = {STACK_SOFT / 2, RLIM_INFINITY};
    long pr = prlimit_(0, RLIMIT_STACK, &new, &old);
    CHECK("prlimit64_sets_and_returns_old",
          pr == 0 && old.rlim_cur == STACK_SOFT && old.rlim_max == RLIM_INFINITY &&
              limit_is(RLIMIT_STACK, STACK_SOFT / 2, RLIM_INFINITY),
          "prlimit64 %ld: old %llu/%llu", pr, (unsigned long long)old.rlim_cur, (unsigned long long)old.rlim_max);
    new.rlim_cur = STACK_SOFT;
    prlimit_(0, RLIMIT_STACK, &new, NULL);
    CHECK_ERR("prlimit64_no_such_pid_esrch", prlimit_(0x3fffffff, RLIMIT_CORE, NULL, &old), ESRCH);
    CHECK_ERR("prlimit64_bad_new_efault", prlimit_(0, RLIMIT_CORE, BAD_POINTER, NULL), EFAULT);
}

static void inherited(void) {
    pid_t child = fork();
    if (child == 0)
        _exit(limit_is(RLIMIT_CORE, MARK_SOFT, MARK_HARD) ? 0 : 1);
    int status = -1;
    waitpid(child, &status, 0);
    CHECK("fork_inherits_limits", WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
    /* The child's own change stays its own. */
    child = fork();
    if (child == 0) {
        struct rlimit r = {1, 2};
        _exit(setrlimit(RLIMIT_CORE, &r) == 0 && limit_is(RLIMIT_CORE, 1, 2) ? 0 : 1);
    }
    waitpid(child, &status, 0);
    CHECK("child_change_stays_in_child",
          WIFEXITED(status) && WEXITSTATUS(status) == 0 && limit_is(RLIMIT_CORE, MARK_SOFT, MARK_HARD),
          "child status %#x", status);
}

static void descriptors(void) {
    struct rlimit few = {FEW_FDS, NOFILE_HARD};
    int s = setrlimit(RLIMIT_NOFILE, &few);
    int last = -1, fd, err = 0;
    while ((fd = open("/dev/null", O_RDONLY)) >= 0)
        last = fd;
    err = errno;
    CHECK("nofile_bounds_open", s == 0 && last == FEW_FDS - 1 && err == EMFILE, "setrlimit %d, last fd %d, errno %s",
          s, last, strerror(err));
    CHECK_ERR("nofile_bounds_dup_emfile", dup(0), EMFILE);
    CHECK_ERR("nofile_bounds_dup2_ebadf", dup2(0, FEW_FDS), EBADF);
    CHECK_ERR("nofile_bounds_fcntl_dupfd_einval", fcntl(0, F_DUPFD, FEW_FDS), EINVAL);
    struct pollfd pfds[FEW_FDS + 1];
    for (int i = 0; i <= FEW_FDS; i++)
        pfds[i] = (struct pollfd){.fd = -1};
    CHECK_ERR("nofile_bounds_poll_einval", poll(pfds, FEW_FDS + 1, 0), EINVAL);
    for (int i = 3; i <= last; i++)
        close(i);
    /* Up to the hard limit, descriptors above the default soft one. */
    struct rlimit more = {NOFILE_HARD, NOFILE_HARD};
    s = setrlimit(RLIMIT_NOFILE, &more);
    int high = dup2(1, HIGH_FD);
    int low = fcntl(1, F_DUPFD, HIGH_FD - 1);
    CHECK("nofile_raised_soft", s == 0 && high == HIGH_FD && low == HIGH_FD - 1, "setrlimit %d dup2 %d F_DUPFD %d (%s)",
          s, high, low, strerror(errno));
    close(high);
    close(low);
    struct rlimit back = {NOFILE_SOFT, NOFILE_HARD};
    setrlimit(RLIMIT_NOFILE, &back);
}

static void randomness(void) {
    unsigned char a[RANDOM_BYTES], b[RANDOM_BYTES];
    ssize_t n1 = getrandom(a, sizeof a, 0), n2 = getrandom(b, sizeof b, GRND_NONBLOCK);
    CHECK("getrandom", n1 == RANDOM_BYTES && n2 == RANDOM_BYTES && memcmp(a, b, sizeof a) != 0,
          "getrandom %zd %zd (%s)", n1, n2, strerror(errno));
    ssize_t n3 = getrandom(a, sizeof a, GRND_RANDOM);
    ssize_t n4 = getrandom(a, sizeof a, GRND_RANDOM | GRND_NONBLOCK);
    ssize_t n5 = getrandom(a, sizeof a, GRND_INSECURE_);
    CHECK("getrandom_flags_accepted", n3 == RANDOM_BYTES && n4 == RANDOM_BYTES && n5 == RANDOM_BYTES,
          "GRND_RANDOM %zd, with GRND_NONBLOCK %zd, GRND_INSECURE %zd (%s)", n3, n4, n5, strerror(errno));
    CHECK("getrandom_zero_bytes", getrandom(a, 0, 0) == 0, "%s", strerror(errno));
    CHECK_ERR("getrandom_unknown_flag_einval", getrandom(a, sizeof a, GRND_UNKNOWN), EINVAL);
    CHECK_ERR("getrandom_insecure_and_random_einval", getrandom(a, sizeof a, GRND_INSECURE_ | GRND_RANDOM), EINVAL);
    CHECK_ERR("getrandom_bad_pointer_efault", syscall(SYS_getrandom, BAD_POINTER, RANDOM_BYTES, 0), EFAULT);
    /* This process's generator is in use by now: a fork child's next bytes must be its own,
     * not the parent's stream again from a copy of its state. */
    int fds[2];
    if (pipe(fds) != 0) {
        CHECK("getrandom_fork_child_has_its_own_bytes", 0, "pipe: %s", strerror(errno));
        return;
    }
    pid_t child = fork();
    if (child == 0) {
        ssize_t n = getrandom(b, sizeof b, 0);
        _exit(n == RANDOM_BYTES && write(fds[1], b, sizeof b) == (ssize_t)sizeof b ? 0 : 1);
    }
    close(fds[1]);
    ssize_t mine = getrandom(a, sizeof a, 0);
    ssize_t theirs = read(fds[0], b, sizeof b);
    int status = -1;
    waitpid(child, &status, 0);
    close(fds[0]);
    CHECK("getrandom_fork_child_has_its_own_bytes",
          mine == RANDOM_BYTES && theirs == RANDOM_BYTES && status == 0 && memcmp(a, b, sizeof a) != 0,
          "parent %zd, child %zd, status %#x, same bytes %d", mine, theirs, status, memcmp(a, b, sizeof a) == 0);
}

static void advice(void) {
    long page = sysconf(_SC_PAGESIZE);
    char *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int r1 = madvise(p, page, MADV_NORMAL), r2 = madvise(p, page, MADV_WILLNEED);
    CHECK("madvise_known_advice", r1 == 0 && r2 == 0, "%d %d (%s)", r1, r2, strerror(errno));
    CHECK_ERR("madvise_unknown_advice_einval", madvise(p, page, BAD_ADVICE), EINVAL);
    CHECK_ERR("madvise_unknown_advice_empty_range_einval", madvise(p, 0, BAD_ADVICE), EINVAL);
    CHECK_ERR("madvise_unaligned_einval", madvise(p + 1, page, MADV_NORMAL), EINVAL);
    munmap(p, page);
    CHECK_ERR("madvise_unmapped_enomem", madvise(p, page, MADV_NORMAL), ENOMEM);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], AFTER_EXEC) == 0) {
        struct rlimit r = {0};
        getrlimit(RLIMIT_CORE, &r);
        CHECK("execve_keeps_limits", r.rlim_cur == MARK_SOFT && r.rlim_max == MARK_HARD, "%llu/%llu",
              (unsigned long long)r.rlim_cur, (unsigned long long)r.rlim_max);
        /* The failures before the exec count too. */
        if (argc > 2)
            k42_failures += atoi(argv[2]);
        return k42_done();
    }
    defaults();
    changes();
    inherited();
    descriptors();
    randomness();
    advice();
    fflush(stdout);
    char failures[16];
    snprintf(failures, sizeof failures, "%d", k42_failures);
    char *args[] = {argv[0], AFTER_EXEC, failures, NULL};
    execv("/proc/self/exe", args);
    FAIL("execve_keeps_limits", "execv: %s", strerror(errno));
    return k42_done();
}
