/*
 * jobctl: job control as Linux does it (issue #5) — SIGSTOP and SIGCONT between processes
 * (WUNTRACED reports a stop once, a stopped process does not run, WCONTINUED, the exit
 * after); SIGTSTP at its default action stops, ignored or caught it does not, nor in an
 * orphaned process group; SIGCHLD's siginfo for a stop, a continue and an exit, and none for
 * the first two under SA_NOCLDSTOP; waitid with WSTOPPED, WCONTINUED and WNOWAIT; SIGKILL
 * ends a stopped process; a SIGCONT handler runs after the continue; a blocked SIGCONT still
 * continues (and stays pending); the terminal's foreground process group: tcsetpgrp from a
 * background group stops the caller with SIGTTOU unless SIGTTOU is blocked or ignored, its
 * errors (ESRCH, EINVAL, EPERM, ENOTTY), and a background read of the terminal (/dev/tty)
 * stops with SIGTTIN, or fails with EIO when SIGTTIN is ignored or blocked; a background
 * write goes ahead unless the terminal has TOSTOP, which stops the writer with SIGTTOU
 * unless SIGTTOU is ignored.
 *
 * The program runs with the console as stdin and in the terminal's foreground group (the
 * first case says so). Children report through a MAP_SHARED page, pipes or their exit
 * status; every wait is synchronised (waitpid, a pipe), with a timeout only as a safety net
 * against a hang. The terminal is always handed back to this program's group.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "k42test.h"

/* The safety net of every wait: far more than any step takes, even under TCG. */
#define SAFETY_SECS 30

#include "jobtest.h"
/* How long a stopped child is watched for not running. */
#define STILL_MS 100
/* A pid no process has (Linux's default pid_max is 32768 on small machines, 4M at most). */
#define NO_SUCH_PID 4000000
/* What a child that should not get that far exits with. */
#define UNEXPECTED 99

/* The page parent and children share. */
struct shared {
    volatile long counter;
    volatile int quit;
};
static struct shared *sh;

/* This program's group: the terminal's foreground group, given back whatever happens. */
static pid_t own_group;
static int have_tty;

/* waitid, given up (-1, EINTR) after SAFETY_SECS. */
static int waitid_safe(pid_t pid, siginfo_t *si, int flags) {
    alarm_fired = 0;
    alarm(SAFETY_SECS);
    int r;
    do {
        memset(si, 0, sizeof *si);
        r = waitid(P_PID, pid, si, flags);
    } while (r < 0 && errno == EINTR && !alarm_fired);
    int e = errno;
    alarm(0);
    errno = e;
    return r;
}

/* sigtimedwait for `set`, given up after SAFETY_SECS: the signal, or -1. */
static int sigwait_safe(const sigset_t *set, siginfo_t *si) {
    struct timespec limit = {SAFETY_SECS, 0};
    int r;
    do {
        memset(si, 0, sizeof *si);
        r = sigtimedwait(set, si, &limit);
    } while (r < 0 && errno == EINTR);
    return r;
}

/* Reads exactly `n` bytes from `fd`, waiting at most SAFETY_SECS: 0, or -1. */
static int read_safe(int fd, void *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int ready = poll(&p, 1, SAFETY_SECS * 1000);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            return -1;
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Blocks until the parent closes its end of `fd`'s pipe (EOF). */
static void wait_for_eof(int fd) {
    char c;
    while (read(fd, &c, 1) != 0) {
    }
}

/* Whether the shared counter passed `above` within SAFETY_SECS. */
static int counter_passes(long above) {
    for (long waited = 0; waited < SAFETY_SECS * 1000L; waited++) {
        if (sh->counter > above)
            return 1;
        sleep_ms(1);
    }
    return sh->counter > above;
}

static int stopped_by(pid_t r, pid_t child, int status, int sig) {
    return r == child && WIFSTOPPED(status) && WSTOPSIG(status) == sig;
}

static int exited_with(pid_t r, pid_t child, int status, int code) {
    return r == child && WIFEXITED(status) && WEXITSTATUS(status) == code;
}

static void set_action(int sig, void (*handler)(int), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static void block(int sig, int how) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(how, &set, NULL);
}

/* Gives the terminal back to this program's group, with SIGTTOU blocked as shells do (a
 * background group's tcsetpgrp is otherwise stopped by it). Returns tcsetpgrp's result. */
static int take_terminal_back(void) {
    if (!have_tty)
        return 0;
    sigset_t ttou, old;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    sigprocmask(SIG_BLOCK, &ttou, &old);
    int r = tcgetpgrp(STDIN_FILENO) == own_group ? 0 : tcsetpgrp(STDIN_FILENO, own_group);
    int e = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return r;
}

static void at_exit_take_terminal_back(void) {
    take_terminal_back();
}

/* 1. SIGSTOP and SIGCONT sent by the parent. */
static void stop_and_continue(void) {
    sh->counter = 0;
    sh->quit = 0;
    pid_t child = fork();
    if (child == 0) {
        while (!sh->quit)
            sh->counter++;
        _exit(7);
    }
    if (child < 0 || !counter_passes(0)) {
        FAIL("sigstop_reported_by_wuntraced", "the child never ran (fork %d)", child);
        if (child > 0)
            kill_and_reap(child);
        return;
    }
    kill(child, SIGSTOP);
    int status;
    pid_t r = wait_safe(child, &status, WUNTRACED);
    CHECK("sigstop_reported_by_wuntraced", stopped_by(r, child, status, SIGSTOP),
          "waitpid(WUNTRACED): %s", said(r, status));

    int again_status, plain_status;
    pid_t again = waitpid(child, &again_status, WUNTRACED | WNOHANG);
    pid_t plain = waitpid(child, &plain_status, WNOHANG);
    CHECK("stop_reported_once", again == 0 && plain == 0,
          "a second waitpid(WUNTRACED|WNOHANG): %s; waitpid(WNOHANG): %s",
          said(again, again_status), said(plain, plain_status));

    long before = sh->counter;
    sleep_ms(STILL_MS);
    long after = sh->counter;
    CHECK("stopped_child_does_not_run", before == after,
          "the stopped child's counter went from %ld to %ld in %d ms", before, after, STILL_MS);

    kill(child, SIGCONT);
    r = wait_safe(child, &status, WCONTINUED);
    CHECK("sigcont_reported_by_wcontinued", r == child && WIFCONTINUED(status),
          "waitpid(WCONTINUED): %s", said(r, status));
    CHECK("continued_child_runs", counter_passes(after),
          "the counter stayed at %ld for %d s after SIGCONT", after, SAFETY_SECS);

    sh->quit = 1;
    r = wait_safe(child, &status, 0);
    CHECK("continued_child_exits_with_its_status", exited_with(r, child, status, 7),
          "waitpid: %s, expected exited 7", said(r, status));
    if (r != child)
        kill_and_reap(child);
}

static volatile sig_atomic_t tstp_caught;
static void on_tstp(int sig) {
    (void)sig;
    tstp_caught = 1;
}

/* 2. raise(SIGTSTP) at its default action, ignored, and caught. */
static void sigtstp(void) {
    int status;
    /* In a group of its own, whose parent (this program) is in another group of the
     * session: a group that is not orphaned, wherever this program runs. */
    pid_t child = fork();
    if (child == 0) {
        setpgid(0, 0);
        raise(SIGTSTP);
        _exit(0);
    }
    setpgid(child, child);
    pid_t r = wait_safe(child, &status, WUNTRACED);
    int stopped = stopped_by(r, child, status, SIGTSTP);
    CHECK("sigtstp_default_stops", stopped, "waitpid(WUNTRACED): %s, expected stopped by %d",
          said(r, status), SIGTSTP);
    if (stopped) {
        kill(child, SIGCONT);
        r = wait_safe(child, &status, 0);
        CHECK("sigtstp_stopped_child_continues_and_exits", exited_with(r, child, status, 0),
              "after SIGCONT, waitpid: %s", said(r, status));
    }
    if (r != child || !WIFEXITED(status))
        kill_and_reap(child);

    /* A session of its own: its group is orphaned (no member has a parent in another
     * group of the session), where Linux discards SIGTSTP at its default action. */
    child = fork();
    if (child == 0) {
        setsid();
        raise(SIGTSTP);
        _exit(8);
    }
    r = wait_safe(child, &status, WUNTRACED);
    CHECK("sigtstp_in_an_orphaned_group_does_not_stop", exited_with(r, child, status, 8),
          "waitpid(WUNTRACED): %s, expected exited 8", said(r, status));
    if (r != child || !WIFEXITED(status))
        kill_and_reap(child);

    child = fork();
    if (child == 0) {
        set_action(SIGTSTP, SIG_IGN, 0);
        raise(SIGTSTP);
        _exit(3);
    }
    r = wait_safe(child, &status, WUNTRACED);
    CHECK("sigtstp_ignored_does_not_stop", exited_with(r, child, status, 3),
          "waitpid(WUNTRACED): %s, expected exited 3", said(r, status));
    if (r != child || !WIFEXITED(status))
        kill_and_reap(child);

    child = fork();
    if (child == 0) {
        set_action(SIGTSTP, on_tstp, 0);
        raise(SIGTSTP);
        _exit(tstp_caught ? 4 : 5);
    }
    r = wait_safe(child, &status, WUNTRACED);
    CHECK("sigtstp_caught_runs_the_handler_and_does_not_stop", exited_with(r, child, status, 4),
          "waitpid(WUNTRACED): %s, expected exited 4 (5: the handler did not run)",
          said(r, status));
    if (r != child || !WIFEXITED(status))
        kill_and_reap(child);
}

static void on_nothing(int sig) {
    (void)sig;
}

/* The write end of the pipe a child's SIGCONT handler reports on. */
static int cont_report_fd = -1;
static void on_cont_report(int sig) {
    (void)sig;
    char c = 'c';
    ssize_t w = write(cont_report_fd, &c, 1);
    (void)w;
}

/* 3. SIGCHLD's siginfo for a stop, a continue and an exit; SA_NOCLDSTOP. */
static void sigchld_info(void) {
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&chld, NULL, &zero) == SIGCHLD) {
    }

    int gate[2];
    if (pipe(gate) != 0) {
        FAIL("sigchld_on_stop_is_cld_stopped", "pipe: %s", strerror(errno));
        sigprocmask(SIG_SETMASK, &old, NULL);
        return;
    }
    pid_t child = fork();
    if (child == 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        close(gate[1]);
        wait_for_eof(gate[0]);
        _exit(5);
    }
    close(gate[0]);
    siginfo_t si;
    int status;
    kill(child, SIGSTOP);
    int sig = sigwait_safe(&chld, &si);
    CHECK("sigchld_on_stop_is_cld_stopped",
          sig == SIGCHLD && si.si_pid == child && si.si_code == CLD_STOPPED &&
              si.si_status == SIGSTOP,
          "signal %d, si_pid %d (child %d), si_code %d (CLD_STOPPED %d), si_status %d", sig,
          si.si_pid, child, si.si_code, CLD_STOPPED, si.si_status);
    wait_safe(child, &status, WUNTRACED);
    kill(child, SIGCONT);
    sig = sigwait_safe(&chld, &si);
    CHECK("sigchld_on_continue_is_cld_continued",
          sig == SIGCHLD && si.si_pid == child && si.si_code == CLD_CONTINUED &&
              si.si_status == SIGCONT,
          "signal %d, si_pid %d (child %d), si_code %d (CLD_CONTINUED %d), si_status %d", sig,
          si.si_pid, child, si.si_code, CLD_CONTINUED, si.si_status);
    close(gate[1]);
    sig = sigwait_safe(&chld, &si);
    CHECK("sigchld_on_exit_is_cld_exited",
          sig == SIGCHLD && si.si_pid == child && si.si_code == CLD_EXITED && si.si_status == 5,
          "signal %d, si_pid %d (child %d), si_code %d (CLD_EXITED %d), si_status %d", sig,
          si.si_pid, child, si.si_code, CLD_EXITED, si.si_status);
    pid_t r = wait_safe(child, &status, 0);
    if (r != child)
        kill_and_reap(child);

    /* SA_NOCLDSTOP: a handler (the flag belongs to one), SIGCHLD still blocked and looked
     * for with sigpending once the child is known to be past the point of sending it. */
    struct sigaction nocldstop, prev;
    memset(&nocldstop, 0, sizeof nocldstop);
    nocldstop.sa_handler = on_nothing;
    nocldstop.sa_flags = SA_NOCLDSTOP;
    sigemptyset(&nocldstop.sa_mask);
    sigaction(SIGCHLD, &nocldstop, &prev);
    while (sigtimedwait(&chld, NULL, &zero) == SIGCHLD) {
    }
    int report[2];
    if (pipe(gate) != 0 || pipe(report) != 0) {
        FAIL("sa_nocldstop_no_sigchld_on_stop", "pipe: %s", strerror(errno));
        goto restore;
    }
    child = fork();
    if (child == 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        close(gate[1]);
        close(report[0]);
        cont_report_fd = report[1];
        set_action(SIGCONT, on_cont_report, SA_RESTART);
        char c = 'r';
        if (write(report[1], &c, 1) != 1)
            _exit(UNEXPECTED);
        wait_for_eof(gate[0]);
        _exit(6);
    }
    close(gate[0]);
    close(report[1]);
    char c = 0;
    int ready = read_safe(report[0], &c, 1) == 0 && c == 'r';
    kill(child, SIGSTOP);
    r = wait_safe(child, &status, WUNTRACED);
    sigset_t pending;
    sigpending(&pending);
    CHECK("sa_nocldstop_no_sigchld_on_stop",
          ready && stopped_by(r, child, status, SIGSTOP) && !sigismember(&pending, SIGCHLD),
          "child ready %d, waitpid(WUNTRACED): %s, SIGCHLD pending %d", ready, said(r, status),
          sigismember(&pending, SIGCHLD));
    kill(child, SIGCONT);
    /* The SIGCONT handler has run: the child went past its continue notification. */
    c = 0;
    int handled = read_safe(report[0], &c, 1) == 0 && c == 'c';
    sigpending(&pending);
    CHECK("sa_nocldstop_no_sigchld_on_continue", handled && !sigismember(&pending, SIGCHLD),
          "the child's SIGCONT handler ran %d, SIGCHLD pending %d", handled,
          sigismember(&pending, SIGCHLD));
    wait_safe(child, &status, WCONTINUED);
    close(gate[1]);
    sig = sigwait_safe(&chld, &si);
    CHECK("sa_nocldstop_still_sigchld_on_exit",
          sig == SIGCHLD && si.si_pid == child && si.si_code == CLD_EXITED && si.si_status == 6,
          "signal %d, si_pid %d (child %d), si_code %d (CLD_EXITED %d), si_status %d", sig,
          si.si_pid, child, si.si_code, CLD_EXITED, si.si_status);
    r = wait_safe(child, &status, 0);
    if (r != child)
        kill_and_reap(child);
    close(report[0]);
restore:
    sigaction(SIGCHLD, &prev, NULL);
    while (sigtimedwait(&chld, NULL, &zero) == SIGCHLD) {
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
}

/* 4. waitid with WSTOPPED, WNOWAIT and WCONTINUED. */
static void waitid_stops(void) {
    int gate[2];
    if (pipe(gate) != 0) {
        FAIL("waitid_wstopped_reports_cld_stopped", "pipe: %s", strerror(errno));
        return;
    }
    pid_t child = fork();
    if (child == 0) {
        close(gate[1]);
        wait_for_eof(gate[0]);
        _exit(6);
    }
    close(gate[0]);
    siginfo_t si;
    kill(child, SIGSTOP);
    int r = waitid_safe(child, &si, WSTOPPED | WNOWAIT);
    CHECK("waitid_wstopped_reports_cld_stopped",
          r == 0 && si.si_pid == child && si.si_code == CLD_STOPPED && si.si_status == SIGSTOP,
          "waitid %d (%s), si_pid %d (child %d), si_code %d (CLD_STOPPED %d), si_status %d", r,
          r ? strerror(errno) : "ok", si.si_pid, child, si.si_code, CLD_STOPPED, si.si_status);
    r = waitid_safe(child, &si, WSTOPPED | WNOHANG);
    CHECK("waitid_wnowait_leaves_the_stop_reportable",
          r == 0 && si.si_pid == child && si.si_code == CLD_STOPPED && si.si_status == SIGSTOP,
          "waitid %d, si_pid %d, si_code %d, si_status %d", r, si.si_pid, si.si_code,
          si.si_status);
    r = waitid_safe(child, &si, WSTOPPED | WNOHANG);
    CHECK("waitid_without_wnowait_consumes_the_stop", r == 0 && si.si_pid == 0,
          "waitid %d, si_pid %d, si_code %d", r, si.si_pid, si.si_code);
    kill(child, SIGCONT);
    r = waitid_safe(child, &si, WCONTINUED);
    CHECK("waitid_wcontinued_reports_cld_continued",
          r == 0 && si.si_pid == child && si.si_code == CLD_CONTINUED && si.si_status == SIGCONT,
          "waitid %d (%s), si_pid %d, si_code %d (CLD_CONTINUED %d), si_status %d", r,
          r ? strerror(errno) : "ok", si.si_pid, si.si_code, CLD_CONTINUED, si.si_status);
    close(gate[1]);
    r = waitid_safe(child, &si, WEXITED);
    CHECK("waitid_wexited_after_the_continue",
          r == 0 && si.si_pid == child && si.si_code == CLD_EXITED && si.si_status == 6,
          "waitid %d, si_pid %d, si_code %d (CLD_EXITED %d), si_status %d", r, si.si_pid,
          si.si_code, CLD_EXITED, si.si_status);
    if (r != 0 || si.si_pid != child)
        kill_and_reap(child);
}

/* 5. SIGKILL ends a stopped child. */
static void kill_stopped(void) {
    pid_t child = fork();
    if (child == 0) {
        for (;;)
            pause();
    }
    int status;
    kill(child, SIGSTOP);
    pid_t r = wait_safe(child, &status, WUNTRACED);
    int stopped = stopped_by(r, child, status, SIGSTOP);
    kill(child, SIGKILL);
    pid_t r2 = wait_safe(child, &status, 0);
    CHECK("sigkill_ends_a_stopped_child",
          stopped && r2 == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
          "stopped %d; after SIGKILL waitpid: %s", stopped, said(r2, status));
    if (r2 != child)
        kill_and_reap(child);
}

/* 6. A SIGCONT handler runs once the child is continued. */
static void sigcont_handler(void) {
    int report[2];
    if (pipe(report) != 0) {
        FAIL("sigcont_handler_runs_after_the_continue", "pipe: %s", strerror(errno));
        return;
    }
    pid_t child = fork();
    if (child == 0) {
        close(report[0]);
        cont_report_fd = report[1];
        set_action(SIGCONT, on_cont_report, 0);
        char c = 'r';
        if (write(report[1], &c, 1) != 1)
            _exit(UNEXPECTED);
        for (;;)
            pause();
    }
    close(report[1]);
    char c = 0;
    int ready = read_safe(report[0], &c, 1) == 0 && c == 'r';
    int status;
    kill(child, SIGSTOP);
    pid_t r = wait_safe(child, &status, WUNTRACED);
    int stopped = stopped_by(r, child, status, SIGSTOP);
    /* Nothing from the handler while stopped. */
    struct pollfd p = {.fd = report[0], .events = POLLIN};
    int early = poll(&p, 1, 0);
    kill(child, SIGCONT);
    c = 0;
    int ran = read_safe(report[0], &c, 1) == 0 && c == 'c';
    CHECK("sigcont_handler_runs_after_the_continue", ready && stopped && early == 0 && ran,
          "child ready %d, stopped %d (%s), handler output before SIGCONT %d, handler ran %d",
          ready, stopped, said(r, status), early, ran);
    close(report[0]);
    kill_and_reap(child);
}

/* 7. SIGCONT continues a child that blocks it; it stays pending there. */
static void sigcont_blocked(void) {
    sh->counter = 0;
    sh->quit = 0;
    pid_t child = fork();
    if (child == 0) {
        block(SIGCONT, SIG_BLOCK);
        while (!sh->quit)
            sh->counter++;
        sigset_t pending;
        sigpending(&pending);
        _exit(sigismember(&pending, SIGCONT) ? 0 : 1);
    }
    if (child < 0 || !counter_passes(0)) {
        FAIL("blocked_sigcont_still_continues", "the child never ran (fork %d)", child);
        if (child > 0)
            kill_and_reap(child);
        return;
    }
    int status;
    kill(child, SIGSTOP);
    pid_t r = wait_safe(child, &status, WUNTRACED);
    int stopped = stopped_by(r, child, status, SIGSTOP);
    long at_stop = sh->counter;
    kill(child, SIGCONT);
    r = wait_safe(child, &status, WCONTINUED);
    int continued = r == child && WIFCONTINUED(status);
    CHECK("blocked_sigcont_still_continues", stopped && continued && counter_passes(at_stop),
          "stopped %d, waitpid(WCONTINUED): %s, counter %ld at the stop, %ld now", stopped,
          said(r, status), at_stop, sh->counter);
    sh->quit = 1;
    r = wait_safe(child, &status, 0);
    CHECK("blocked_sigcont_stays_pending", exited_with(r, child, status, 0),
          "waitpid: %s (exited 1: SIGCONT was not pending in the child)", said(r, status));
    if (r != child)
        kill_and_reap(child);
}

/* What a background child tells about its terminal calls. */
struct tty_report {
    int ret;
    int err;
    pid_t pgrp;
};

/* A child in a group of its own (set by both sides, as shells do), running `body` with the
 * write end of a report pipe and the read end of a gate the parent closes to release it. */
static pid_t background_child(int (*body)(int report, int gate), int report[2], int gate[2]) {
    if (pipe(report) != 0 || pipe(gate) != 0)
        return -1;
    pid_t child = fork();
    if (child == 0) {
        close(report[0]);
        close(gate[1]);
        setpgid(0, 0);
        _exit(body(report[1], gate[0]));
    }
    setpgid(child, child);
    close(report[1]);
    close(gate[0]);
    return child;
}

static int tcsetpgrp_default(int report, int gate) {
    (void)report;
    (void)gate;
    set_action(SIGTTOU, SIG_DFL, 0);
    int r = tcsetpgrp(STDIN_FILENO, getpid());
    return r == 0 ? 0 : 10;
}

static int tcsetpgrp_and_report(int report, int gate) {
    struct tty_report rep;
    rep.ret = tcsetpgrp(STDIN_FILENO, getpid());
    rep.err = rep.ret ? errno : 0;
    rep.pgrp = tcgetpgrp(STDIN_FILENO);
    if (write(report, &rep, sizeof rep) != (ssize_t)sizeof rep)
        return UNEXPECTED;
    /* Stay (and keep the group alive) until the parent has the terminal back. */
    wait_for_eof(gate);
    return 0;
}

static int tcsetpgrp_sigttou_blocked(int report, int gate) {
    block(SIGTTOU, SIG_BLOCK);
    return tcsetpgrp_and_report(report, gate);
}

static int tcsetpgrp_sigttou_ignored(int report, int gate) {
    set_action(SIGTTOU, SIG_IGN, 0);
    return tcsetpgrp_and_report(report, gate);
}

/* 8b/8c: a background child takes the terminal; the parent takes it back. */
static void background_takes_terminal(const char *name, int (*body)(int, int)) {
    int report[2], gate[2];
    pid_t child = background_child(body, report, gate);
    if (child < 0) {
        FAIL(name, "pipe or fork: %s", strerror(errno));
        return;
    }
    struct tty_report rep = {-1, 0, -1};
    int got = read_safe(report[0], &rep, sizeof rep) == 0;
    pid_t seen_by_parent = tcgetpgrp(STDIN_FILENO);
    int back = take_terminal_back();
    int back_errno = errno;
    pid_t now = tcgetpgrp(STDIN_FILENO);
    close(gate[1]);
    close(report[0]);
    int status;
    pid_t r = wait_safe(child, &status, WUNTRACED);
    CHECK(name, got && rep.ret == 0 && rep.pgrp == child && seen_by_parent == child,
          "child %d: report %d, tcsetpgrp %d (%s), its tcgetpgrp %d, the parent's %d; child %s",
          child, got, rep.ret, strerror(rep.err), rep.pgrp, seen_by_parent, said(r, status));
    char back_name[96];
    snprintf(back_name, sizeof back_name, "%s_then_parent_takes_it_back", name);
    CHECK(back_name, back == 0 && now == own_group,
          "tcsetpgrp(own group %d) with SIGTTOU blocked: %d (%s); tcgetpgrp now %d", own_group,
          back, back ? strerror(back_errno) : "ok", now);
    if (r != child || !WIFEXITED(status))
        kill_and_reap(child);
}

/* 8. tcsetpgrp from a background group. */
static void background_tcsetpgrp(void) {
    int report[2], gate[2];
    pid_t child = background_child(tcsetpgrp_default, report, gate);
    if (child < 0) {
        FAIL("background_tcsetpgrp_stopped_by_sigttou", "pipe or fork: %s", strerror(errno));
        return;
    }
    int status;
    pid_t r = wait_safe(child, &status, WUNTRACED);
    pid_t fg = tcgetpgrp(STDIN_FILENO);
    close(gate[1]);
    close(report[0]);
    if (r != child || !WIFEXITED(status))
        kill_and_reap(child);
    take_terminal_back();
    CHECK("background_tcsetpgrp_stopped_by_sigttou",
          stopped_by(r, child, status, SIGTTOU) && fg == own_group,
          "waitpid(WUNTRACED): %s, expected stopped by %d; foreground group %d (ours %d)",
          said(r, status), SIGTTOU, fg, own_group);

    background_takes_terminal("background_tcsetpgrp_with_sigttou_blocked",
                              tcsetpgrp_sigttou_blocked);
    background_takes_terminal("background_tcsetpgrp_with_sigttou_ignored",
                              tcsetpgrp_sigttou_ignored);
}

/* 9. tcsetpgrp's and tcgetpgrp's errors. */
static void tcsetpgrp_errors(void) {
    /* A pid no process has: Linux looks the group up first (ESRCH). */
    errno = 0;
    int r = tcsetpgrp(STDIN_FILENO, NO_SUCH_PID);
    int e = errno;
    take_terminal_back();
    CHECK("tcsetpgrp_no_such_group_is_esrch", r == -1 && e == ESRCH,
          "tcsetpgrp(%d): %d (%s), expected ESRCH", NO_SUCH_PID, r, strerror(e));
    CHECK_ERR("tcsetpgrp_negative_group_is_einval", tcsetpgrp(STDIN_FILENO, -1), EINVAL);

    /* A group of another session. */
    int report[2], gate[2];
    if (pipe(report) != 0 || pipe(gate) != 0) {
        FAIL("tcsetpgrp_other_session_group_is_eperm", "pipe: %s", strerror(errno));
        return;
    }
    pid_t child = fork();
    if (child == 0) {
        close(report[0]);
        close(gate[1]);
        struct tty_report rep;
        rep.ret = setsid();
        rep.err = errno;
        rep.pgrp = getpgrp();
        if (write(report[1], &rep, sizeof rep) != (ssize_t)sizeof rep)
            _exit(UNEXPECTED);
        /* Without a controlling terminal: both calls are ENOTTY. */
        rep.ret = tcsetpgrp(STDIN_FILENO, getpid());
        rep.err = rep.ret ? errno : 0;
        errno = 0;
        rep.pgrp = tcgetpgrp(STDIN_FILENO);
        int get_err = errno;
        if (write(report[1], &rep, sizeof rep) != (ssize_t)sizeof rep ||
            write(report[1], &get_err, sizeof get_err) != (ssize_t)sizeof get_err)
            _exit(UNEXPECTED);
        wait_for_eof(gate[0]);
        _exit(0);
    }
    close(report[1]);
    close(gate[0]);
    struct tty_report session = {-1, 0, -1}, calls = {0, 0, 0};
    int get_err = 0;
    int got = read_safe(report[0], &session, sizeof session) == 0 && session.ret == child;
    errno = 0;
    r = got ? tcsetpgrp(STDIN_FILENO, child) : 0;
    e = errno;
    take_terminal_back();
    CHECK("tcsetpgrp_other_session_group_is_eperm", got && r == -1 && e == EPERM,
          "child's setsid %d (%s); tcsetpgrp(its group %d): %d (%s), expected EPERM",
          session.ret, strerror(session.err), child, r, strerror(e));
    int got_calls = read_safe(report[0], &calls, sizeof calls) == 0 &&
                    read_safe(report[0], &get_err, sizeof get_err) == 0;
    CHECK("tcsetpgrp_without_controlling_tty_is_enotty",
          got_calls && calls.ret == -1 && calls.err == ENOTTY,
          "after setsid, tcsetpgrp: %d (%s), expected ENOTTY", calls.ret, strerror(calls.err));
    CHECK("tcgetpgrp_without_controlling_tty_is_enotty",
          got_calls && calls.pgrp == -1 && get_err == ENOTTY,
          "after setsid, tcgetpgrp: %d (%s), expected ENOTTY", calls.pgrp, strerror(get_err));
    close(gate[1]);
    close(report[0]);
    int status;
    if (wait_safe(child, &status, 0) != child)
        kill_and_reap(child);

    int p[2];
    if (pipe(p) == 0) {
        CHECK_ERR("tcgetpgrp_of_a_pipe_is_enotty", tcgetpgrp(p[0]), ENOTTY);
        close(p[0]);
        close(p[1]);
    }
}

/* The controlling terminal, opened as /dev/tty: Linux applies no job control to reads (or
 * writes) through /dev/console, which is this program's stdin on Linux (the init wrapper's
 * console), so a background read goes through /dev/tty. */
static int tty_fd = -1;

static int read_terminal(int report, int gate) {
    (void)gate;
    struct tty_report rep;
    char c;
    rep.ret = (int)read(tty_fd, &c, 1);
    rep.err = rep.ret < 0 ? errno : 0;
    rep.pgrp = getpgrp();
    return write(report, &rep, sizeof rep) == (ssize_t)sizeof rep ? 0 : UNEXPECTED;
}

static int read_terminal_default(int report, int gate) {
    set_action(SIGTTIN, SIG_DFL, 0);
    return read_terminal(report, gate);
}

static int read_terminal_ignored(int report, int gate) {
    set_action(SIGTTIN, SIG_IGN, 0);
    return read_terminal(report, gate);
}

static int read_terminal_blocked(int report, int gate) {
    block(SIGTTIN, SIG_BLOCK);
    return read_terminal(report, gate);
}

/* 10b/10c, 11b/11c: a background read or write (`what`) that must end — not stop — with
 * `want_ret` (and, for -1, errno `want_err`), the child exiting 0. */
static void background_call_ends(const char *name, int (*body)(int, int), const char *what,
                                 int want_ret, int want_err) {
    int report[2], gate[2];
    pid_t child = background_child(body, report, gate);
    if (child < 0) {
        FAIL(name, "pipe or fork: %s", strerror(errno));
        return;
    }
    struct tty_report rep = {0, 0, 0};
    int got = read_safe(report[0], &rep, sizeof rep) == 0;
    int status;
    pid_t r = got ? wait_safe(child, &status, WUNTRACED) : -1;
    close(gate[1]);
    close(report[0]);
    if (r != child || !WIFEXITED(status))
        kill_and_reap(child);
    take_terminal_back();
    CHECK(name,
          got && rep.ret == want_ret && (want_ret != -1 || rep.err == want_err) &&
              exited_with(r, child, status, 0),
          "report %d: %s %d (%s), expected %d (%s); child %s", got, what, rep.ret,
          strerror(rep.err), want_ret, want_ret == -1 ? strerror(want_err) : "no error",
          said(r, status));
}

/* 10a, 11a: a background read or write that must stop its child with `sig`. */
static void background_call_stops(const char *name, int (*body)(int, int), int sig) {
    int report[2], gate[2];
    pid_t child = background_child(body, report, gate);
    if (child < 0) {
        FAIL(name, "pipe or fork: %s", strerror(errno));
        return;
    }
    int status;
    pid_t r = wait_safe(child, &status, WUNTRACED);
    close(gate[1]);
    close(report[0]);
    if (r != child || !WIFEXITED(status))
        kill_and_reap(child);
    take_terminal_back();
    CHECK(name, stopped_by(r, child, status, sig),
          "waitpid(WUNTRACED): %s, expected stopped by %d", said(r, status), sig);
}

/* 10. A background group reading the terminal. */
static void background_read(void) {
    tty_fd = open("/dev/tty", O_RDWR);
    if (tty_fd < 0) {
        FAIL("background_read_stopped_by_sigttin", "open(/dev/tty): %s", strerror(errno));
        return;
    }
    background_call_stops("background_read_stopped_by_sigttin", read_terminal_default, SIGTTIN);

    background_call_ends("background_read_with_sigttin_ignored_is_eio", read_terminal_ignored,
                         "read", -1, EIO);
    background_call_ends("background_read_with_sigttin_blocked_is_eio", read_terminal_blocked,
                         "read", -1, EIO);
    close(tty_fd);
}

static int write_terminal(int report, int gate) {
    (void)gate;
    struct tty_report rep;
    rep.ret = (int)write(tty_fd, "\n", 1);
    rep.err = rep.ret < 0 ? errno : 0;
    rep.pgrp = getpgrp();
    return write(report, &rep, sizeof rep) == (ssize_t)sizeof rep ? 0 : UNEXPECTED;
}

static int write_terminal_default(int report, int gate) {
    set_action(SIGTTOU, SIG_DFL, 0);
    return write_terminal(report, gate);
}

static int write_terminal_ignored(int report, int gate) {
    set_action(SIGTTOU, SIG_IGN, 0);
    return write_terminal(report, gate);
}

/* Sets or clears TOSTOP on the terminal; 0 on success. */
static int set_tostop(int on) {
    struct termios t;
    if (tcgetattr(tty_fd, &t) != 0)
        return -1;
    if (on)
        t.c_lflag |= TOSTOP;
    else
        t.c_lflag &= ~TOSTOP;
    return tcsetattr(tty_fd, TCSANOW, &t);
}

/* 11. A background group writing the terminal: stopped by SIGTTOU only with TOSTOP set, and
 * then not if SIGTTOU is ignored. */
static void background_write(void) {
    tty_fd = open("/dev/tty", O_RDWR);
    if (tty_fd < 0) {
        FAIL("background_write_with_tostop_stopped_by_sigttou", "open(/dev/tty): %s",
             strerror(errno));
        return;
    }
    background_call_ends("background_write_without_tostop_goes_ahead", write_terminal_default,
                         "write", 1, 0);
    if (set_tostop(1) != 0) {
        FAIL("background_write_with_tostop_stopped_by_sigttou", "TOSTOP: %s", strerror(errno));
        close(tty_fd);
        return;
    }
    background_call_stops("background_write_with_tostop_stopped_by_sigttou",
                          write_terminal_default, SIGTTOU);
    background_call_ends("background_write_with_tostop_sigttou_ignored_goes_ahead",
                         write_terminal_ignored, "write", 1, 0);
    set_tostop(0);
    close(tty_fd);
}

int main(void) {
    set_action(SIGALRM, on_alarm, 0);
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        FAIL("shared_page", "mmap(MAP_SHARED|MAP_ANONYMOUS): %s", strerror(errno));
        return k42_done();
    }

    own_group = getpgrp();
    pid_t fg = tcgetpgrp(STDIN_FILENO);
    int fg_errno = errno;
    have_tty = isatty(STDIN_FILENO) && fg == own_group;
    CHECK("runs_in_the_terminals_foreground_group", have_tty,
          "stdin a tty %d, tcgetpgrp(0) %d (%s), getpgrp %d", isatty(STDIN_FILENO), fg,
          fg < 0 ? strerror(fg_errno) : "ok", own_group);
    atexit(at_exit_take_terminal_back);

    stop_and_continue();
    sigtstp();
    sigchld_info();
    waitid_stops();
    kill_stopped();
    sigcont_handler();
    sigcont_blocked();
    if (have_tty) {
        background_tcsetpgrp();
        tcsetpgrp_errors();
        background_read();
        background_write();
    } else {
        SKIP("terminal_cases", "stdin is not the terminal with this program in the foreground");
    }
    take_terminal_back();
    return k42_done();
}
