/*
 * jobtest.h: the waits the job-control tests (jobctl.c, sigstop.c) share — a sleep that
 * survives signals, and waitpid with a SIGALRM safety net so a wrong stop or continue fails
 * the case instead of hanging the run — and how a wait's outcome is said in a reason.
 * Include after k42test.h, with SAFETY_SECS defined.
 */
#ifndef JOBTEST_H
#define JOBTEST_H

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SAFETY_SECS
#error "define SAFETY_SECS (the longest any wait may take) before including jobtest.h"
#endif

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

/* The safety net: SIGALRM (without SA_RESTART) interrupts a wait that would hang. */
static volatile sig_atomic_t alarm_fired;
static void on_alarm(int sig) {
    (void)sig;
    alarm_fired = 1;
}

/* waitpid, given up (-1, EINTR) after SAFETY_SECS. */
static pid_t wait_safe(pid_t pid, int *status, int flags) {
    alarm_fired = 0;
    alarm(SAFETY_SECS);
    pid_t r;
    do {
        *status = 0;
        r = waitpid(pid, status, flags);
    } while (r < 0 && errno == EINTR && !alarm_fired);
    int e = errno;
    alarm(0);
    errno = e;
    return r;
}

static void kill_and_reap(pid_t pid) {
    int status;
    kill(pid, SIGKILL);
    wait_safe(pid, &status, 0);
}

/* A wait's result in words, for failure reasons (four rotating buffers). */
static const char *said(pid_t r, int status) {
    static char buf[4][64];
    static int next;
    char *b = buf[next++ % 4];
    if (r < 0)
        snprintf(b, sizeof buf[0], "error %s", strerror(errno));
    else if (r == 0)
        snprintf(b, sizeof buf[0], "nothing to report");
    else if (WIFEXITED(status))
        snprintf(b, sizeof buf[0], "exited %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(b, sizeof buf[0], "killed by signal %d", WTERMSIG(status));
    else if (WIFSTOPPED(status))
        snprintf(b, sizeof buf[0], "stopped by signal %d", WSTOPSIG(status));
    else if (WIFCONTINUED(status))
        snprintf(b, sizeof buf[0], "continued");
    else
        snprintf(b, sizeof buf[0], "status %#x", status);
    return b;
}

#endif
