/*
 * sched: a process's scheduling parameters as Linux 6.1 keeps and checks them, as root (the
 * run's program is) and, in a child, as an unprivileged user:
 *   the CPU affinity: sched_getaffinity names every CPU /proc/cpuinfo lists and answers how
 *     many bytes it wrote; sched_setaffinity narrows it, a fork child inherits it, and a mask
 *     of no existing CPU, a short or uneven buffer, a bad address or pid are refused;
 *   the policy: SCHED_OTHER at start, the priority ranges, SCHED_FIFO/RR with a priority,
 *     sched_setparam, SCHED_RESET_ON_FORK (the child starts as SCHED_OTHER), and the EINVAL,
 *     EFAULT, ESRCH and EPERM cases;
 *   the nice value: getpriority's raw answer (20 - nice), setpriority's clamping, inheritance,
 *     and EACCES for an unprivileged process that lowers it;
 *   another process's: a parent reads and sets its child's; an unprivileged child may read
 *     its root parent's but not change them (EPERM).
 * Raw syscalls where the C library's wrapper would hide what the kernel answers, and for the
 * policy calls, which musl does not pass to the kernel (its wrappers answer ENOSYS).
 */
#define _GNU_SOURCE
#include <sched.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "k42test.h"

/* An address no process has mapped. */
#define BAD_POINTER ((void *)1)
/* A pid no process has (Linux's pid_max is far below it). */
#define NO_SUCH_PID 0x7fffffff
/* The user the unprivileged child becomes. */
#define NOBODY 65534
/* The bytes of the mask buffers: many more than any CPU count here needs. */
#define MASK_BYTES 128

static long getaffinity_(pid_t pid, unsigned len, void *mask) {
    return syscall(SYS_sched_getaffinity, pid, len, mask);
}

static long setaffinity_(pid_t pid, unsigned len, const void *mask) {
    return syscall(SYS_sched_setaffinity, pid, len, mask);
}

static int getscheduler_(pid_t pid) {
    return (int)syscall(SYS_sched_getscheduler, pid);
}

static int setscheduler_(pid_t pid, int policy, const struct sched_param *p) {
    return (int)syscall(SYS_sched_setscheduler, pid, policy, p);
}

static int getparam_(pid_t pid, struct sched_param *p) {
    return (int)syscall(SYS_sched_getparam, pid, p);
}

static int setparam_(pid_t pid, const struct sched_param *p) {
    return (int)syscall(SYS_sched_setparam, pid, p);
}

/* getpriority as the kernel answers it: 20 - nice (the C library turns it back). */
static long raw_getpriority(int which, int who) {
    return syscall(SYS_getpriority, which, who);
}

static int popcount_bytes(const unsigned char *b, long n) {
    int count = 0;
    for (long i = 0; i < n; i++)
        count += __builtin_popcount(b[i]);
    return count;
}

/* How many CPUs /proc/cpuinfo lists. */
static int cpuinfo_cpus(void) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return -1;
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strncmp(line, "processor", 9) == 0;
    fclose(f);
    return n;
}

/* Field `n` (1-based, as proc(5) counts) of /proc/PID/stat, or LONG_MIN. */
static long stat_field(pid_t pid, int n) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return LONG_MIN;
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[got] = 0;
    /* Fields counted from the state (field 3), after the name's closing parenthesis. */
    char *p = strrchr(buf, ')');
    if (!p)
        return LONG_MIN;
    p += 2;
    for (int field = 3; field < n; field++) {
        p = strchr(p, ' ');
        if (!p)
            return LONG_MIN;
        p++;
    }
    return strtol(p, NULL, 10);
}

/* Runs `f` in a fork child; its exit status (or -1). */
static int in_child(int (*f)(void)) {
    pid_t child = fork();
    if (child == 0)
        _exit(f());
    int status = -1;
    if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static int cpus;

/* The child's affinity: exactly CPU 0. */
static int child_has_cpu0_only(void) {
    unsigned char m[MASK_BYTES] = {0};
    long r = getaffinity_(0, sizeof m, m);
    return r > 0 && m[0] == 1 && popcount_bytes(m, r) == 1 ? 0 : 1;
}

static void affinity(void) {
    unsigned char m[MASK_BYTES];
    memset(m, 0xee, sizeof m);
    long r = getaffinity_(0, sizeof m, m);
    CHECK("getaffinity_names_every_cpu",
          r > 0 && r % 8 == 0 && r <= MASK_BYTES && popcount_bytes(m, r) == cpus &&
              (m[0] & 1) != 0,
          "returned %ld (%s), %d CPUs in the mask, %d in /proc/cpuinfo", r, strerror(errno),
          r > 0 ? popcount_bytes(m, r) : -1, cpus);
    CHECK("getaffinity_writes_only_what_it_answers", r > 0 && r < MASK_BYTES && m[r] == 0xee,
          "returned %ld, byte after it %#x", r, r > 0 && r < MASK_BYTES ? m[r] : 0);
    unsigned char by_pid[MASK_BYTES] = {0};
    long r2 = getaffinity_(getpid(), sizeof by_pid, by_pid);
    CHECK("getaffinity_own_pid", r2 == r && memcmp(by_pid, m, r > 0 ? r : 0) == 0,
          "returned %ld, not %ld", r2, r);
    CHECK("nprocs_as_the_mask", sysconf(_SC_NPROCESSORS_ONLN) == cpus, "sysconf %ld, %d CPUs",
          sysconf(_SC_NPROCESSORS_ONLN), cpus);
    CHECK_ERR("getaffinity_zero_len_einval", getaffinity_(0, 0, m), EINVAL);
    CHECK_ERR("getaffinity_uneven_len_einval", getaffinity_(0, 12, m), EINVAL);
    CHECK_ERR("getaffinity_bad_mask_efault", getaffinity_(0, MASK_BYTES, BAD_POINTER), EFAULT);
    CHECK_ERR("getaffinity_no_such_pid_esrch", getaffinity_(NO_SUCH_PID, MASK_BYTES, m), ESRCH);
    CHECK_ERR("getaffinity_negative_pid_esrch", getaffinity_(-1, MASK_BYTES, m), ESRCH);

    unsigned char one[MASK_BYTES] = {1};
    long s = setaffinity_(0, sizeof one, one);
    unsigned char now[MASK_BYTES] = {0};
    long g = getaffinity_(0, sizeof now, now);
    CHECK("setaffinity_narrows_the_mask", s == 0 && g > 0 && now[0] == 1 && popcount_bytes(now, g) == 1,
          "setaffinity %ld (%s), getaffinity %ld, first byte %#x", s, strerror(errno), g, now[0]);
    CHECK("fork_child_inherits_affinity", in_child(child_has_cpu0_only) == 0, "child disagrees");
    /* A 4-byte mask is read as it is, the rest clear. */
    unsigned char short_mask[4] = {1};
    CHECK("setaffinity_short_mask", setaffinity_(0, sizeof short_mask, short_mask) == 0,
          "setaffinity: %s", strerror(errno));
    if (cpus < 8) {
        unsigned char none[MASK_BYTES] = {(unsigned char)(1u << cpus)};
        CHECK_ERR("setaffinity_no_existing_cpu_einval", setaffinity_(0, sizeof none, none), EINVAL);
    } else {
        SKIP("setaffinity_no_existing_cpu_einval", "%d CPUs", cpus);
    }
    CHECK_ERR("setaffinity_bad_mask_efault", setaffinity_(0, MASK_BYTES, BAD_POINTER), EFAULT);
    CHECK_ERR("setaffinity_no_such_pid_esrch", setaffinity_(NO_SUCH_PID, sizeof one, one), ESRCH);
    /* Back to every CPU. */
    s = setaffinity_(0, sizeof m, m);
    g = getaffinity_(0, sizeof now, now);
    CHECK("setaffinity_back_to_every_cpu", s == 0 && g > 0 && popcount_bytes(now, g) == cpus,
          "setaffinity %ld (%s): %d CPUs", s, strerror(errno), g > 0 ? popcount_bytes(now, g) : -1);
}

/* The child's policy after a fork from a SCHED_RESET_ON_FORK real-time parent at nice 5: the
 * default policy at nice 0. */
static int child_is_reset(void) {
    struct sched_param p = {.sched_priority = -1};
    return getscheduler_(0) == SCHED_OTHER && getparam_(0, &p) == 0 && p.sched_priority == 0 &&
                   raw_getpriority(PRIO_PROCESS, 0) == 20
               ? 0
               : 1;
}

static void policy(void) {
    struct sched_param p = {.sched_priority = -1};
    CHECK("starts_as_sched_other",
          getscheduler_(0) == SCHED_OTHER && getparam_(0, &p) == 0 && p.sched_priority == 0,
          "policy %d, priority %d", getscheduler_(0), p.sched_priority);
    CHECK("priority_ranges",
          sched_get_priority_max(SCHED_FIFO) == 99 && sched_get_priority_min(SCHED_FIFO) == 1 &&
              sched_get_priority_max(SCHED_RR) == 99 && sched_get_priority_min(SCHED_RR) == 1 &&
              sched_get_priority_max(SCHED_OTHER) == 0 && sched_get_priority_min(SCHED_OTHER) == 0 &&
              sched_get_priority_max(SCHED_BATCH) == 0 && sched_get_priority_max(SCHED_IDLE) == 0,
          "FIFO %d..%d RR %d..%d OTHER %d..%d", sched_get_priority_min(SCHED_FIFO),
          sched_get_priority_max(SCHED_FIFO), sched_get_priority_min(SCHED_RR),
          sched_get_priority_max(SCHED_RR), sched_get_priority_min(SCHED_OTHER),
          sched_get_priority_max(SCHED_OTHER));
    CHECK_ERR("priority_max_unknown_policy_einval", syscall(SYS_sched_get_priority_max, 4), EINVAL);
    CHECK_ERR("priority_min_negative_policy_einval", syscall(SYS_sched_get_priority_min, -1), EINVAL);

    struct sched_param fifo = {.sched_priority = 10};
    int s = setscheduler_(0, SCHED_FIFO, &fifo);
    p.sched_priority = -1;
    CHECK("setscheduler_fifo",
          s == 0 && getscheduler_(0) == SCHED_FIFO && getparam_(0, &p) == 0 &&
              p.sched_priority == 10,
          "setscheduler %d (%s): policy %d priority %d", s, strerror(errno), getscheduler_(0),
          p.sched_priority);
    struct sched_param twenty = {.sched_priority = 20};
    s = setparam_(0, &twenty);
    p.sched_priority = -1;
    CHECK("setparam_keeps_the_policy",
          s == 0 && getscheduler_(0) == SCHED_FIFO && getparam_(0, &p) == 0 &&
              p.sched_priority == 20,
          "setparam %d (%s): policy %d priority %d", s, strerror(errno), getscheduler_(0),
          p.sched_priority);
    struct sched_param zero = {.sched_priority = 0};
    CHECK_ERR("setparam_zero_under_fifo_einval", setparam_(0, &zero), EINVAL);

    struct sched_param rr = {.sched_priority = 5};
    s = setscheduler_(0, SCHED_RR | SCHED_RESET_ON_FORK, &rr);
    CHECK("reset_on_fork_is_reported",
          s == 0 && getscheduler_(0) == (SCHED_RR | SCHED_RESET_ON_FORK),
          "setscheduler %d (%s): policy %#x", s, strerror(errno), getscheduler_(0));
    setpriority(PRIO_PROCESS, 0, 5);
    CHECK("reset_on_fork_child_is_sched_other_at_nice_0", in_child(child_is_reset) == 0,
          "child disagrees");
    setpriority(PRIO_PROCESS, 0, 0);
    s = setscheduler_(0, SCHED_OTHER, &zero);
    CHECK("back_to_sched_other", s == 0 && getscheduler_(0) == SCHED_OTHER,
          "setscheduler %d (%s): policy %#x", s, strerror(errno), getscheduler_(0));

    struct sched_param one = {.sched_priority = 1}, hundred = {.sched_priority = 100};
    CHECK_ERR("other_with_priority_einval", setscheduler_(0, SCHED_OTHER, &one), EINVAL);
    CHECK_ERR("fifo_without_priority_einval", setscheduler_(0, SCHED_FIFO, &zero), EINVAL);
    CHECK_ERR("fifo_priority_100_einval", setscheduler_(0, SCHED_FIFO, &hundred), EINVAL);
    CHECK_ERR("unknown_policy_einval", syscall(SYS_sched_setscheduler, 0, 4, &zero), EINVAL);
    CHECK_ERR("negative_policy_einval", syscall(SYS_sched_setscheduler, 0, -1, &zero), EINVAL);
    CHECK_ERR("deadline_needs_setattr_einval", syscall(SYS_sched_setscheduler, 0, 6, &zero),
              EINVAL);
    CHECK_ERR("null_param_einval", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, NULL), EINVAL);
    CHECK_ERR("bad_param_efault", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, BAD_POINTER),
              EFAULT);
    CHECK_ERR("getparam_bad_param_efault", syscall(SYS_sched_getparam, 0, BAD_POINTER), EFAULT);
    CHECK_ERR("getscheduler_negative_pid_einval", syscall(SYS_sched_getscheduler, -1), EINVAL);
    CHECK_ERR("getscheduler_no_such_pid_esrch", syscall(SYS_sched_getscheduler, NO_SUCH_PID),
              ESRCH);
    CHECK_ERR("setscheduler_no_such_pid_esrch",
              syscall(SYS_sched_setscheduler, NO_SUCH_PID, SCHED_OTHER, &zero), ESRCH);
    CHECK("policy_unchanged_by_refusals", getscheduler_(0) == SCHED_OTHER, "policy %d",
          getscheduler_(0));
}

/* The child's raw getpriority (20 - nice): its exit status. */
static int child_priority(void) {
    return (int)raw_getpriority(PRIO_PROCESS, 0);
}

/* As an unprivileged user: raising nice is allowed, lowering it is EACCES, and a real-time
 * policy EPERM (RLIMIT_NICE and RLIMIT_RTPRIO are 0). Exit status: the first step that went
 * wrong, or 0. */
static int unprivileged(void) {
    if (setuid(NOBODY) != 0)
        return 1;
    if (setpriority(PRIO_PROCESS, 0, 10) != 0)
        return 2;
    errno = 0;
    if (setpriority(PRIO_PROCESS, 0, 9) != -1 || errno != EACCES)
        return 3;
    struct sched_param fifo = {.sched_priority = 1};
    errno = 0;
    if (setscheduler_(0, SCHED_FIFO, &fifo) != -1 || errno != EPERM)
        return 4;
    if (raw_getpriority(PRIO_PROCESS, 0) != 10)
        return 5;
    /* A bad request is EINVAL before the permission check (root's process: EPERM). */
    struct sched_param five = {.sched_priority = 5};
    errno = 0;
    if (setscheduler_(getppid(), SCHED_OTHER, &five) != -1 || errno != EINVAL)
        return 8;
    /* Root's process (the parent) is not this user's to change, but anyone's to read. */
    errno = 0;
    if (setpriority(PRIO_PROCESS, getppid(), 1) != -1 || errno != EPERM)
        return 6;
    if (raw_getpriority(PRIO_PROCESS, getppid()) != 20)
        return 7;
    return 0;
}

/* Another process's parameters: the parent reads and changes a child's, which waits on a
 * pipe until the parent has looked. */
static void another_process(void) {
    int go[2];
    if (pipe(go) != 0) {
        FAIL("another_process_nice", "pipe: %s", strerror(errno));
        return;
    }
    pid_t child = fork();
    if (child == 0) {
        char c;
        close(go[1]);
        _exit(read(go[0], &c, 1) == 1 ? child_priority() : 255);
    }
    close(go[0]);
    int s = setpriority(PRIO_PROCESS, child, 7);
    long seen = raw_getpriority(PRIO_PROCESS, child);
    CHECK("another_process_nice", s == 0 && seen == 13, "setpriority %d (%s), getpriority %ld", s,
          strerror(errno), seen);
    CHECK("proc_stat_shows_the_nice_value",
          stat_field(child, 18) == 27 && stat_field(child, 19) == 7,
          "priority %ld nice %ld", stat_field(child, 18), stat_field(child, 19));
    unsigned char one[MASK_BYTES] = {1}, now[MASK_BYTES] = {0};
    long a = setaffinity_(child, sizeof one, one);
    long g = getaffinity_(child, sizeof now, now);
    CHECK("another_process_affinity", a == 0 && g > 0 && now[0] == 1 && popcount_bytes(now, g) == 1,
          "setaffinity %ld, getaffinity %ld, first byte %#x", a, g, now[0]);
    struct sched_param rr = {.sched_priority = 2}, p = {.sched_priority = -1};
    s = setscheduler_(child, SCHED_RR, &rr);
    CHECK("another_process_policy",
          s == 0 && getscheduler_(child) == SCHED_RR && getparam_(child, &p) == 0 &&
              p.sched_priority == 2,
          "setscheduler %d (%s): policy %d priority %d", s, strerror(errno), getscheduler_(child),
          p.sched_priority);
    CHECK("proc_stat_shows_the_policy",
          stat_field(child, 18) == -3 && stat_field(child, 40) == 2 &&
              stat_field(child, 41) == SCHED_RR,
          "priority %ld rt_priority %ld policy %ld", stat_field(child, 18), stat_field(child, 40),
          stat_field(child, 41));
    CHECK("another_process_leaves_this_one_be", raw_getpriority(PRIO_PROCESS, 0) == 20 &&
                                                    getscheduler_(0) == SCHED_OTHER,
          "raw priority %ld, policy %d", raw_getpriority(PRIO_PROCESS, 0), getscheduler_(0));
    if (write(go[1], "g", 1) != 1)
        FAIL("another_process_child_sees_it", "write: %s", strerror(errno));
    close(go[1]);
    int status = -1;
    waitpid(child, &status, 0);
    CHECK("another_process_child_sees_it", WIFEXITED(status) && WEXITSTATUS(status) == 13,
          "child status %#x", status);
}

static void nice_value(void) {
    CHECK("getpriority_raw_is_20_minus_nice", raw_getpriority(PRIO_PROCESS, 0) == 20,
          "getpriority %ld (%s)", raw_getpriority(PRIO_PROCESS, 0), strerror(errno));
    int s = setpriority(PRIO_PROCESS, 0, 5);
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, 0);
    CHECK("setpriority_5", s == 0 && nice == 5 && errno == 0 && raw_getpriority(PRIO_PROCESS, 0) == 15,
          "setpriority %d: nice %d (%s), raw %ld", s, nice, strerror(errno),
          raw_getpriority(PRIO_PROCESS, 0));
    s = setpriority(PRIO_PROCESS, getpid(), 100);
    CHECK("setpriority_clamps_to_19", s == 0 && raw_getpriority(PRIO_PROCESS, getpid()) == 1,
          "setpriority %d (%s): raw %ld", s, strerror(errno), raw_getpriority(PRIO_PROCESS, 0));
    CHECK("fork_child_inherits_nice", in_child(child_priority) == 1, "child's raw priority %d",
          in_child(child_priority));
    s = setpriority(PRIO_PROCESS, 0, -100);
    CHECK("root_lowers_nice_to_minus_20", s == 0 && raw_getpriority(PRIO_PROCESS, 0) == 40,
          "setpriority %d (%s): raw %ld", s, strerror(errno), raw_getpriority(PRIO_PROCESS, 0));
    setpriority(PRIO_PROCESS, 0, 0);
    long group = raw_getpriority(PRIO_PGRP, 0), user = raw_getpriority(PRIO_USER, 0);
    CHECK("own_group_and_user_answer", group >= 1 && group <= 40 && user >= 1 && user <= 40,
          "group %ld user %ld (%s)", group, user, strerror(errno));
    CHECK_ERR("getpriority_unknown_which_einval", raw_getpriority(3, 0), EINVAL);
    CHECK_ERR("setpriority_unknown_which_einval", setpriority(3, 0, 0), EINVAL);
    CHECK_ERR("getpriority_no_such_pid_esrch", raw_getpriority(PRIO_PROCESS, NO_SUCH_PID), ESRCH);
    CHECK_ERR("setpriority_no_such_pid_esrch", setpriority(PRIO_PROCESS, NO_SUCH_PID, 0), ESRCH);
    int status = in_child(unprivileged);
    CHECK("unprivileged_may_raise_nice_only", status == 0, "child failed at step %d", status);
    CHECK("nice_back_to_0", raw_getpriority(PRIO_PROCESS, 0) == 20, "raw %ld",
          raw_getpriority(PRIO_PROCESS, 0));
}

static void where_it_runs(void) {
    unsigned cpu = ~0U, node = ~0U;
    long r = syscall(SYS_getcpu, &cpu, &node, NULL);
    CHECK("getcpu", r == 0 && (int)cpu < cpus && node == 0, "getcpu %ld (%s): cpu %u node %u", r,
          strerror(errno), cpu, node);
    CHECK("getcpu_null_pointers", syscall(SYS_getcpu, NULL, NULL, NULL) == 0, "%s",
          strerror(errno));
    CHECK_ERR("getcpu_bad_pointer_efault", syscall(SYS_getcpu, BAD_POINTER, NULL, NULL), EFAULT);
}

int main(void) {
    cpus = cpuinfo_cpus();
    where_it_runs();
    affinity();
    policy();
    nice_value();
    another_process();
    return k42_done();
}
