/*
 * clock: the wall clock is the real date (QEMU's CMOS clock, which both OSes read at boot),
 * and the clocks agree with each other as Linux's do: time(), gettimeofday() and
 * CLOCK_REALTIME name the same second; REALTIME moves with MONOTONIC; an absolute sleep on
 * CLOCK_REALTIME wakes at its deadline.
 */
#define _GNU_SOURCE
#include <sys/time.h>
#include <time.h>

#include "k42test.h"

/* 2024-01-01 and 2100-01-01, UTC: any run of this test lies between. */
#define PLAUSIBLE_FROM 1704067200L
#define PLAUSIBLE_UNTIL 4102444800L
#define NS_PER_SEC 1000000000L
/* How far REALTIME - MONOTONIC may drift over a short sleep (both tick from one source). */
#define DRIFT_NS (20L * 1000 * 1000)
/* The absolute sleep's distance, and how late its wake-up may come under TCG. */
#define ABS_SLEEP_NS (200L * 1000 * 1000)
#define LATE_NS (5L * NS_PER_SEC)

static long long ns_of(clockid_t id) {
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        return -1;
    return (long long)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

int main(void) {
    time_t t = time(NULL);
    CHECK("realtime_is_a_plausible_date", t >= PLAUSIBLE_FROM && t < PLAUSIBLE_UNTIL,
          "time() is %ld", (long)t);

    struct timeval tv;
    int g = gettimeofday(&tv, NULL);
    long long rt = ns_of(CLOCK_REALTIME);
    time_t t2 = time(NULL);
    CHECK("time_gettimeofday_and_realtime_agree",
          g == 0 && rt / NS_PER_SEC >= tv.tv_sec && rt / NS_PER_SEC - tv.tv_sec <= 1 &&
              t2 - rt / NS_PER_SEC <= 1 && t2 >= t,
          "gettimeofday %ld, CLOCK_REALTIME %lld s, time %ld", (long)tv.tv_sec, rt / NS_PER_SEC,
          (long)t2);

    long long coarse = ns_of(CLOCK_REALTIME_COARSE);
    CHECK("realtime_coarse_is_realtime", coarse / NS_PER_SEC - rt / NS_PER_SEC <= 1,
          "REALTIME_COARSE %lld s, REALTIME %lld s", coarse / NS_PER_SEC, rt / NS_PER_SEC);

    long long gap1 = ns_of(CLOCK_REALTIME) - ns_of(CLOCK_MONOTONIC);
    struct timespec nap = {0, 100 * 1000 * 1000};
    nanosleep(&nap, NULL);
    long long gap2 = ns_of(CLOCK_REALTIME) - ns_of(CLOCK_MONOTONIC);
    long long drift = gap2 > gap1 ? gap2 - gap1 : gap1 - gap2;
    CHECK("realtime_moves_with_monotonic", drift < DRIFT_NS, "drifted %lld ns over 100 ms", drift);

    long long deadline = ns_of(CLOCK_REALTIME) + ABS_SLEEP_NS;
    struct timespec until = {deadline / NS_PER_SEC, deadline % NS_PER_SEC};
    long long mono_before = ns_of(CLOCK_MONOTONIC);
    int r = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &until, NULL);
    long long woke = ns_of(CLOCK_REALTIME);
    long long slept = ns_of(CLOCK_MONOTONIC) - mono_before;
    CHECK("absolute_realtime_sleep_wakes_at_its_deadline",
          r == 0 && woke >= deadline && woke - deadline < LATE_NS && slept < LATE_NS,
          "returned %d, woke %lld ns after the deadline, slept %lld ns", r, woke - deadline,
          slept);

    CHECK("clock_tai_exists", ns_of(CLOCK_TAI) > 0, "clock_gettime(CLOCK_TAI) failed");
    return k42_done();
}
