/*
 * sigstop: SIGSTOP cannot be caught, blocked or ignored (issue #5: on K42 the kernel carries it
 * out, not the stopped process's personality). A child that blocks every signal, or handles
 * every one it may, still stops: its counter in MAP_SHARED memory stops advancing, the parent's
 * waitpid(WUNTRACED) reports WSTOPSIG == SIGSTOP, SIGCONT lets it go on (WCONTINUED), and
 * SIGKILL ends it while stopped. A SIGSTOP a process raises on itself (raise, kill) stops it the
 * same way and it goes on after SIGCONT; a process group stops and continues as one; a child
 * stopped in a blocking read of a pipe, sent the data while stopped, finishes the read once
 * continued (no EINTR: neither signal runs a handler); and a child that turned off every way
 * its own code could learn of a signal (on K42: its personality's upcalls) still stops.
 *
 * Children report through a MAP_SHARED page or their exit status; every wait is bounded by a
 * safety net against a hang, never by the timing of the test.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "k42test.h"

/* The safety net of every wait: far more than any step takes, even under TCG. */
#define SAFETY_SECS 30

#include "jobtest.h"
/* How long a stopped child is watched for not running. */
#define STILL_MS 200
/* What the pipe-reading child is sent while stopped. */
#define PIPE_BYTES "stopped-then-continued"

/* The page parent and children share. */
struct shared {
    volatile long counter;
    volatile long counter2;
    volatile int quit;
    volatile int step;
    volatile int in_read;
    volatile long got;
    volatile unsigned long long handled; /* bit n: a handler ran for signal n */
    char data[64];
};
static struct shared *sh;

/* Whether `*counter` passed `above` within SAFETY_SECS. */
static int passes(volatile long *counter, long above) {
    for (long waited = 0; waited < SAFETY_SECS * 1000L; waited++) {
        if (*counter > above)
            return 1;
        sleep_ms(1);
    }
    return *counter > above;
}

/* Whether `*flag` reached `value` within SAFETY_SECS. */
static int reaches(volatile int *flag, int value) {
    for (long waited = 0; waited < SAFETY_SECS * 1000L; waited++) {
        if (*flag == value)
            return 1;
        sleep_ms(1);
    }
    return *flag == value;
}

static int stopped_by_sigstop(pid_t r, pid_t child, int status) {
    return r == child && WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP;
}

static void note_signal(int sig) {
    __atomic_fetch_or(&sh->handled, 1ULL << sig, __ATOMIC_SEQ_CST);
}

/* Handles every signal a handler may be installed for; blocks them all too if `block_all`. */
static void handle_everything(int block_all) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = note_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            sigaction(sig, &sa, NULL);
    if (block_all) {
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
    }
}

/* 1. SIGSTOP's action and mask cannot be changed. */
static void cannot_be_caught_or_blocked(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = note_signal;
    CHECK_ERR("sigaction_sigstop_is_einval", sigaction(SIGSTOP, &sa, NULL), EINVAL);
    sa.sa_handler = SIG_IGN;
    CHECK_ERR("sig_ign_sigstop_is_einval", sigaction(SIGSTOP, &sa, NULL), EINVAL);
    sigset_t all, old, now;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old);
    sigprocmask(SIG_SETMASK, &old, &now);
    CHECK("sigstop_never_in_the_mask", !sigismember(&now, SIGSTOP),
          "sigprocmask kept SIGSTOP in the blocked set");
}

/*
 * 2. A child counting in a loop, with every signal blocked (`block_all`) or handled, is
 * stopped by SIGSTOP (and stays stopped), continued by SIGCONT, stopped again and killed by
 * SIGKILL while stopped. Case names carry `what`.
 */
static void stop_a_counter(const char *what, int block_all) {
    char name[96];
    sh->counter = 0;
    sh->handled = 0;
    pid_t child = fork();
    if (child == 0) {
        handle_everything(block_all);
        for (;;)
            sh->counter++;
    }
    snprintf(name, sizeof name, "%s_runs", what);
    if (child < 0 || !passes(&sh->counter, 0)) {
        FAIL(name, "the child never ran (fork %d)", child);
        if (child > 0)
            kill_and_reap(child);
        return;
    }
    PASS(name);

    kill(child, SIGSTOP);
    int status;
    pid_t r = wait_safe(child, &status, WUNTRACED);
    snprintf(name, sizeof name, "%s_stopped_by_sigstop", what);
    CHECK(name, stopped_by_sigstop(r, child, status), "waitpid(WUNTRACED): %s", said(r, status));

    long before = sh->counter;
    sleep_ms(STILL_MS);
    long after = sh->counter;
    snprintf(name, sizeof name, "%s_does_not_run_while_stopped", what);
    CHECK(name, before == after, "the stopped child's counter went from %ld to %ld in %d ms",
          before, after, STILL_MS);

    kill(child, SIGCONT);
    r = wait_safe(child, &status, WCONTINUED);
    snprintf(name, sizeof name, "%s_continued", what);
    CHECK(name, r == child && WIFCONTINUED(status), "waitpid(WCONTINUED): %s",
          said(r, status));
    snprintf(name, sizeof name, "%s_runs_after_sigcont", what);
    CHECK(name, passes(&sh->counter, after), "the counter stayed at %ld for %d s after SIGCONT",
          after, SAFETY_SECS);

    if (!block_all) {
        /* Handled and not blocked, SIGCONT runs its handler; SIGSTOP never ran one. */
        for (long waited = 0; waited < SAFETY_SECS * 1000L; waited++) {
            if (sh->handled & (1ULL << SIGCONT))
                break;
            sleep_ms(1);
        }
        snprintf(name, sizeof name, "%s_only_the_sigcont_handler_ran", what);
        CHECK(name, sh->handled == 1ULL << SIGCONT, "handlers ran for the signals %#llx",
              (unsigned long long)sh->handled);
    }

    kill(child, SIGSTOP);
    r = wait_safe(child, &status, WUNTRACED);
    snprintf(name, sizeof name, "%s_stops_again", what);
    CHECK(name, stopped_by_sigstop(r, child, status), "waitpid(WUNTRACED): %s", said(r, status));
    kill(child, SIGKILL);
    r = wait_safe(child, &status, 0);
    snprintf(name, sizeof name, "%s_sigkill_ends_it_stopped", what);
    CHECK(name, r == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
          "waitpid: %s, expected killed by %d", said(r, status), SIGKILL);
    if (r != child)
        kill_and_reap(child);
}

/* 3. SIGSTOP a process raises on itself: raise (tgkill) and kill(getpid()). */
static void stops_itself(void) {
    sh->step = 0;
    pid_t child = fork();
    if (child == 0) {
        handle_everything(1);
        sh->step = 1;
        raise(SIGSTOP);
        sh->step = 2;
        kill(getpid(), SIGSTOP);
        sh->step = 3;
        _exit(5);
    }
    int status;
    pid_t r = wait_safe(child, &status, WUNTRACED);
    CHECK("raise_sigstop_stops", stopped_by_sigstop(r, child, status) && sh->step == 1,
          "waitpid(WUNTRACED): %s, step %d", said(r, status), sh->step);
    sleep_ms(STILL_MS);
    CHECK("raise_sigstop_stays_stopped", sh->step == 1, "the child went on to step %d",
          sh->step);
    kill(child, SIGCONT);
    r = wait_safe(child, &status, WUNTRACED);
    CHECK("kill_getpid_sigstop_stops", stopped_by_sigstop(r, child, status) && sh->step == 2,
          "after SIGCONT, waitpid(WUNTRACED): %s, step %d", said(r, status), sh->step);
    sleep_ms(STILL_MS);
    CHECK("kill_getpid_sigstop_stays_stopped", sh->step == 2, "the child went on to step %d",
          sh->step);
    kill(child, SIGCONT);
    r = wait_safe(child, &status, 0);
    CHECK("stopped_itself_goes_on_after_sigcont",
          r == child && WIFEXITED(status) && WEXITSTATUS(status) == 5 && sh->step == 3,
          "waitpid: %s, step %d", said(r, status), sh->step);
    if (r != child)
        kill_and_reap(child);
}

/* 4. kill(-pgrp, SIGSTOP) stops every member; kill(-pgrp, SIGCONT) continues them. */
static void stops_a_group(void) {
    sh->counter = 0;
    sh->counter2 = 0;
    pid_t a = fork();
    if (a == 0) {
        setpgid(0, 0);
        for (;;)
            sh->counter++;
    }
    setpgid(a, a);
    pid_t b = fork();
    if (b == 0) {
        setpgid(0, a);
        for (;;)
            sh->counter2++;
    }
    setpgid(b, a);
    if (a < 0 || b < 0 || !passes(&sh->counter, 0) || !passes(&sh->counter2, 0)) {
        FAIL("group_sigstop_stops_every_member", "the children never ran (fork %d %d)", a, b);
        if (a > 0)
            kill_and_reap(a);
        if (b > 0)
            kill_and_reap(b);
        return;
    }
    kill(-a, SIGSTOP);
    int sa, sb;
    pid_t ra = wait_safe(a, &sa, WUNTRACED);
    pid_t rb = wait_safe(b, &sb, WUNTRACED);
    CHECK("group_sigstop_stops_every_member",
          stopped_by_sigstop(ra, a, sa) && stopped_by_sigstop(rb, b, sb), "waitpid: %s and %s",
          said(ra, sa), said(rb, sb));
    long a1 = sh->counter, b1 = sh->counter2;
    sleep_ms(STILL_MS);
    CHECK("stopped_group_does_not_run", sh->counter == a1 && sh->counter2 == b1,
          "counters went from %ld, %ld to %ld, %ld", a1, b1, sh->counter, sh->counter2);
    kill(-a, SIGCONT);
    ra = wait_safe(a, &sa, WCONTINUED);
    rb = wait_safe(b, &sb, WCONTINUED);
    CHECK("group_sigcont_continues_every_member",
          ra == a && WIFCONTINUED(sa) && rb == b && WIFCONTINUED(sb) &&
              passes(&sh->counter, a1) && passes(&sh->counter2, b1),
          "waitpid: %s and %s", said(ra, sa), said(rb, sb));
    kill_and_reap(a);
    kill_and_reap(b);
}

/* 5. A child stopped in a blocking read of a pipe, sent the data while stopped, reads it once
 * continued. */
static void stopped_in_a_read(void) {
    int fds[2];
    if (pipe(fds) != 0) {
        FAIL("stopped_read_completes", "pipe: %s", strerror(errno));
        return;
    }
    sh->in_read = 0;
    sh->got = -1;
    memset(sh->data, 0, sizeof sh->data);
    pid_t child = fork();
    if (child == 0) {
        close(fds[1]);
        handle_everything(1);
        sh->in_read = 1;
        ssize_t n = read(fds[0], sh->data, sizeof sh->data - 1);
        sh->got = n < 0 ? -errno : n;
        _exit(n > 0 ? 0 : 1);
    }
    close(fds[0]);
    /* Let it reach the read and block there. */
    reaches(&sh->in_read, 1);
    sleep_ms(STILL_MS);
    kill(child, SIGSTOP);
    int status;
    pid_t r = wait_safe(child, &status, WUNTRACED);
    CHECK("stopped_in_a_read", stopped_by_sigstop(r, child, status), "waitpid(WUNTRACED): %s",
          said(r, status));
    ssize_t w = write(fds[1], PIPE_BYTES, strlen(PIPE_BYTES));
    sleep_ms(STILL_MS);
    CHECK("stopped_reader_does_not_read", sh->got == -1 && w == (ssize_t)strlen(PIPE_BYTES),
          "the stopped child's read returned %ld (write %ld)", sh->got, (long)w);
    kill(child, SIGCONT);
    r = wait_safe(child, &status, 0);
    CHECK("stopped_read_completes",
          r == child && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
              sh->got == (long)strlen(PIPE_BYTES) && strcmp(sh->data, PIPE_BYTES) == 0,
          "waitpid: %s; read returned %ld, \"%s\"", said(r, status), sh->got, sh->data);
    if (r != child)
        kill_and_reap(child);
    close(fds[1]);
}

/*
 * 6. A child deaf to every signal its own code could see still stops: on K42 it sets the
 * `disabled` flag of its dispatcher page (at K42's DISPATCHER_PAGE_BASE, whose first word is its
 * own address), so its personality is never entered again — no signal message reaches it — and
 * it makes no system call; only the kernel can stop it. On Linux there is nothing to turn off:
 * the child just spins, and the same checks hold.
 */
#define K42_DISPATCHER_PAGE 0x00007f0000000000ULL
static int on_k42(void) {
    struct utsname u;
    return uname(&u) == 0 && strstr(u.release, "k42") != NULL;
}

static void deaf_child(void) {
    sh->counter = 0;
    int k42 = on_k42();
    pid_t child = fork();
    if (child == 0) {
        if (k42) {
            volatile unsigned long long *page = (unsigned long long *)K42_DISPATCHER_PAGE;
            if (page[0] != K42_DISPATCHER_PAGE)
                _exit(2);
            page[1] = 1; /* disabled: no upcall, so no signal delivery, from now on */
        }
        for (;;)
            sh->counter++;
    }
    if (child < 0 || !passes(&sh->counter, 0)) {
        FAIL("deaf_child_stopped_by_sigstop", "the child never ran (fork %d)", child);
        if (child > 0)
            kill_and_reap(child);
        return;
    }
    kill(child, SIGSTOP);
    int status;
    pid_t r = wait_safe(child, &status, WUNTRACED);
    CHECK("deaf_child_stopped_by_sigstop", stopped_by_sigstop(r, child, status),
          "waitpid(WUNTRACED): %s", said(r, status));
    long before = sh->counter;
    sleep_ms(STILL_MS);
    long after = sh->counter;
    CHECK("deaf_child_does_not_run_while_stopped", before == after,
          "the stopped child's counter went from %ld to %ld in %d ms", before, after, STILL_MS);
    kill(child, SIGCONT);
    r = wait_safe(child, &status, WCONTINUED);
    CHECK("deaf_child_continued",
          r == child && WIFCONTINUED(status) && passes(&sh->counter, after),
          "waitpid(WCONTINUED): %s, counter %ld (was %ld)", said(r, status), sh->counter, after);
    kill(child, SIGKILL);
    r = wait_safe(child, &status, 0);
    CHECK("deaf_child_killed", r == child && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
          "waitpid: %s, expected killed by %d", said(r, status), SIGKILL);
    if (r != child)
        kill_and_reap(child);
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        FAIL("shared_page", "mmap(MAP_SHARED|MAP_ANONYMOUS): %s", strerror(errno));
        return k42_done();
    }
    cannot_be_caught_or_blocked();
    stop_a_counter("all_blocked", 1);
    stop_a_counter("all_handled", 0);
    stops_itself();
    stops_a_group();
    stopped_in_a_read();
    deaf_child();
    return k42_done();
}
