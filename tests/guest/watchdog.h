/*
 * watchdog.h: a watchdog for guest tests whose blocking calls something else should end
 * (another thread, a timer): SIGALRM, with no SA_RESTART, after a bound, so a build that never
 * ends the call fails the case with EINTR instead of hanging the run. `alarms` counts the
 * SIGALRMs taken; a test installs `on_alarm` for SIGALRM first.
 */
#ifndef WATCHDOG_H
#define WATCHDOG_H

#include <signal.h>
#include <sys/time.h>

static volatile sig_atomic_t alarms;

static inline void on_alarm(int sig) {
    (void)sig;
    alarms++;
}

/* SIGALRM in `ms`. */
static inline void watchdog(long ms) {
    struct itimerval it = {.it_value = {.tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static inline void watchdog_off(void) {
    struct itimerval off = {0};
    setitimer(ITIMER_REAL, &off, NULL);
}

#endif
