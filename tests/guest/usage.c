/*
 * usage: a process's CPU time as getrusage, times, wait4's rusage and the CPU-time clocks
 * report it, on Linux 6.1: it grows while the process computes and not while it sleeps; a
 * collected child's (its own collected children's included) is its parent's RUSAGE_CHILDREN
 * and times' cutime, and a fork child starts with none; a thread's own (CLOCK_THREAD_CPUTIME_ID,
 * RUSAGE_THREAD) counts only its own computing; and the EINVAL and EFAULT cases.
 * User and system time are summed: where a system call's time goes differs between the two
 * systems (K42 runs them in user mode). The bounds are loose: the machine is shared.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "k42test.h"

/* An address no process has mapped. */
#define BAD_POINTER ((void *)1)
#define NS_PER_MS 1000000LL
#define NS_PER_US 1000LL
/* How long a spin computes, in wall time, and the least share of it the CPU time must show. */
#define SPIN_MS 150
#define LEAST_MS (SPIN_MS / 4)
#define SLEEP_MS 200

static long long clock_ns(clockid_t id) {
    struct timespec t;
    clock_gettime(id, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Computes for `ms` of wall time. */
static void spin(int ms) {
    long long end = clock_ns(CLOCK_MONOTONIC) + ms * NS_PER_MS;
    volatile unsigned long x = 0;
    while (clock_ns(CLOCK_MONOTONIC) < end)
        for (int i = 0; i < 10000; i++)
            x += i;
}

static long long rusage_ns(const struct rusage *r) {
    return (r->ru_utime.tv_sec + r->ru_stime.tv_sec) * 1000000000LL +
           (r->ru_utime.tv_usec + r->ru_stime.tv_usec) * NS_PER_US;
}

static long long self_ns(void) {
    struct rusage r;
    return getrusage(RUSAGE_SELF, &r) == 0 ? rusage_ns(&r) : -1;
}

static long long children_ns(void) {
    struct rusage r;
    return getrusage(RUSAGE_CHILDREN, &r) == 0 ? rusage_ns(&r) : -1;
}

static void own(void) {
    /* The wall-clock readings bracket the CPU-clock ones: a pause of the whole machine (QEMU
     * descheduled on a shared host) between two readings counts as run time on both clocks, and
     * must fall inside the wall interval too. The slack is for Linux, whose CPU time runs on
     * sched_clock, calibrated apart from CLOCK_MONOTONIC's clocksource. */
    long long w0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    spin(SPIN_MS);
    long long c1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID), w1 = clock_ns(CLOCK_MONOTONIC);
    CHECK("cpu_clock_grows_while_computing",
          c1 - c0 >= LEAST_MS * NS_PER_MS && c1 - c0 <= (w1 - w0) * 101 / 100 + NS_PER_MS,
          "cpu %lld ms over %lld ms of wall time", (c1 - c0) / NS_PER_MS, (w1 - w0) / NS_PER_MS);
    long long thread = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    CHECK("thread_cpu_clock_grows", thread >= LEAST_MS * NS_PER_MS, "thread cpu %lld ms",
          thread / NS_PER_MS);
    long long r = self_ns(), c = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    CHECK("getrusage_self_as_the_clock", r >= c1 - 10 * NS_PER_MS && r <= c + 10 * NS_PER_MS,
          "getrusage %lld ms, clock %lld..%lld ms", r / NS_PER_MS, c1 / NS_PER_MS, c / NS_PER_MS);
    struct timespec nap = {0, SLEEP_MS * NS_PER_MS};
    long long s0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    nanosleep(&nap, NULL);
    long long s1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    CHECK("cpu_clock_stands_still_while_sleeping", s1 - s0 < SLEEP_MS / 4 * NS_PER_MS,
          "cpu %lld ms over a %d ms sleep", (s1 - s0) / NS_PER_MS, SLEEP_MS);
    struct tms t;
    clock_t before = times(&t);
    long ticks = sysconf(_SC_CLK_TCK);
    CHECK("times_counts_the_process", t.tms_utime + t.tms_stime >= LEAST_MS * ticks / 1000,
          "utime %ld stime %ld ticks", (long)t.tms_utime, (long)t.tms_stime);
    nanosleep(&nap, NULL);
    clock_t after = times(NULL);
    CHECK("times_answer_counts_wall_ticks",
          after - before >= SLEEP_MS * ticks / 1000 / 2 && after - before <= SLEEP_MS * ticks / 100,
          "%ld ticks over %d ms", (long)(after - before), SLEEP_MS);
}

/* A child computing, then a grandchild computing that it collects: exit status 0. */
static int grandparent_of_work(void) {
    pid_t g = fork();
    if (g == 0) {
        spin(SPIN_MS);
        _exit(0);
    }
    int status;
    waitpid(g, &status, 0);
    return children_ns() >= LEAST_MS * NS_PER_MS ? 0 : 1;
}

/* A fork child's RUSAGE_CHILDREN and cutime start empty: exit status 0. */
static int fresh_child(void) {
    struct tms t;
    times(&t);
    return children_ns() == 0 && t.tms_cutime == 0 && t.tms_cstime == 0 ? 0 : 1;
}

static void children(void) {
    long long before = children_ns();
    pid_t child = fork();
    if (child == 0) {
        spin(SPIN_MS);
        _exit(0);
    }
    struct rusage r;
    int status;
    pid_t got = wait4(child, &status, 0, &r);
    long long after = children_ns();
    CHECK("wait4_rusage_is_the_childs", got == child && rusage_ns(&r) >= LEAST_MS * NS_PER_MS,
          "wait4 %d, child %lld ms", (int)got, rusage_ns(&r) / NS_PER_MS);
    CHECK("collected_child_counts", after - before >= rusage_ns(&r) - NS_PER_MS,
          "children %lld ms before, %lld ms after", before / NS_PER_MS, after / NS_PER_MS);
    struct tms t;
    times(&t);
    long ticks = sysconf(_SC_CLK_TCK);
    CHECK("times_counts_the_children", t.tms_cutime + t.tms_cstime >= LEAST_MS * ticks / 1000,
          "cutime %ld cstime %ld ticks", (long)t.tms_cutime, (long)t.tms_cstime);

    child = fork();
    if (child == 0)
        _exit(grandparent_of_work());
    long long mid = children_ns();
    waitpid(child, &status, 0);
    long long last = children_ns();
    CHECK("grandchildren_count_through_their_parent",
          WIFEXITED(status) && WEXITSTATUS(status) == 0 && last - mid >= LEAST_MS * NS_PER_MS,
          "child status %#x, children %lld -> %lld ms", status, mid / NS_PER_MS,
          last / NS_PER_MS);

    child = fork();
    if (child == 0)
        _exit(fresh_child());
    waitpid(child, &status, 0);
    CHECK("fork_child_starts_without_children", WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "child status %#x", status);

    /* WNOWAIT leaves the child, and its time, to a later wait. */
    child = fork();
    if (child == 0) {
        spin(SPIN_MS / 3);
        _exit(0);
    }
    siginfo_t info;
    long long pre = children_ns();
    int w = waitid(P_PID, child, &info, WEXITED | WNOWAIT);
    long long peeked = children_ns();
    waitpid(child, &status, 0);
    long long reaped = children_ns();
    CHECK("wnowait_counts_nothing_yet", w == 0 && peeked == pre && reaped > pre,
          "children %lld, after WNOWAIT %lld, after the wait %lld (ns)", pre, peeked, reaped);
}

static long long thread_rusage_ns(void) {
    struct rusage r;
    return getrusage(RUSAGE_THREAD, &r) == 0 ? rusage_ns(&r) : -1;
}

/* What a computing thread measured of its own CPU time, and how long it computed. */
struct thread_work {
    long long clock_ns, rusage_ns;
};

static void *computing_thread(void *arg) {
    struct thread_work *w = arg;
    long long c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    spin(SPIN_MS);
    w->clock_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
    w->rusage_ns = thread_rusage_ns();
    return NULL;
}

/* A thread's CPU time is its own: the main thread's does not grow while it waits for another
 * that computes, whose own does, and the process's counts both. The main thread's bound is half
 * of what the other computed, not a fixed figure: its own work (creating and joining the
 * thread) counts, and is far less than that on any machine, while a clock that counted the
 * other thread would grow by all of it. */
static void threads(void) {
    long long main0 = clock_ns(CLOCK_THREAD_CPUTIME_ID), rmain0 = thread_rusage_ns();
    long long p0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    struct thread_work w = {-1, -1};
    pthread_t t;
    int created = pthread_create(&t, NULL, computing_thread, &w) == 0;
    if (created)
        pthread_join(t, NULL);
    long long main1 = clock_ns(CLOCK_THREAD_CPUTIME_ID), rmain1 = thread_rusage_ns();
    long long p1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    CHECK("thread_cpu_clock_counts_the_thread", created && w.clock_ns >= LEAST_MS * NS_PER_MS,
          "created %d, thread cpu %lld ms", created, w.clock_ns / NS_PER_MS);
    CHECK("rusage_thread_counts_the_thread", created && w.rusage_ns >= LEAST_MS * NS_PER_MS,
          "created %d, thread rusage %lld ms", created, w.rusage_ns / NS_PER_MS);
    CHECK("thread_cpu_clock_not_another_threads",
          main1 - main0 < w.clock_ns / 2 && p1 - p0 >= LEAST_MS * NS_PER_MS,
          "main thread %lld ms, process %lld ms while the other computed",
          (main1 - main0) / NS_PER_MS, (p1 - p0) / NS_PER_MS);
    CHECK("rusage_thread_not_another_threads", rmain1 - rmain0 < w.clock_ns / 2,
          "main thread %lld ms while the other computed", (rmain1 - rmain0) / NS_PER_MS);
}

static void errors(void) {
    struct rusage r;
    CHECK_ERR("getrusage_unknown_who_einval", getrusage(2, &r), EINVAL);
    CHECK_ERR("getrusage_both_einval", syscall(SYS_getrusage, -2, &r), EINVAL);
    CHECK_ERR("getrusage_bad_pointer_efault", syscall(SYS_getrusage, RUSAGE_SELF, BAD_POINTER),
              EFAULT);
    CHECK_ERR("times_bad_pointer_efault", syscall(SYS_times, BAD_POINTER), EFAULT);
}

int main(void) {
    own();
    children();
    threads();
    errors();
    return k42_done();
}
