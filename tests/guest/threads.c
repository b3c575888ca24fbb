/*
 * threads: POSIX threads (musl's pthreads over clone(CLONE_THREAD) and futex), as a
 * program sees them. On K42 every thread is a user-level thread of the process's
 * dispatcher and a thread that blocks (a futex, a pipe read) blocks only itself.
 *
 * Cases: create and join with return values; thread ids; thread-local storage; a
 * contended mutex; a condition variable with signal and broadcast; raw futex waits
 * (timeout, value mismatch, bad alignment, wake counts, requeue); two threads blocked
 * on different pipes each woken by its own; sched_yield alternating two threads;
 * many short threads; a thread that never blocks does not starve the others; a
 * signal to a process whose threads all block; tgkill of a thread; tgkill of the main
 * thread blocked in a pipe read, by another (EINTR); masks are per thread; fork from a
 * thread; exec from a thread (the new image has the exec'ing thread's mask, no futex
 * waiter of the old, the pid as its thread id, also when two threads exec at once or
 * the exec'ing thread is not the first); the exit status when the main thread exits
 * first; a stop that stops every thread.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "k42test.h"

/* From Linux's include/uapi/linux/futex.h (musl installs no kernel headers). */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAIT_BITSET 9
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_WAIT_PRIVATE (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAKE_PRIVATE (FUTEX_WAKE | FUTEX_PRIVATE_FLAG)
#define FUTEX_CMP_REQUEUE_PRIVATE (FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAIT_BITSET_PRIVATE (FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG)

#define WORKERS 4
#define INCREMENTS 2000
#define MANY_THREADS 64
#define YIELD_ROUNDS 200
#define FUTEX_TIMEOUT_NS 30000000L
#define SETTLE_US 100000
#define EXEC_STATUS 23
#define FORK_STATUS 5
#define LEADER_STATUS 3
#define LAST_THREAD_STATUS 9

static char *self_path;

static long futex(atomic_int *addr, int op, int val, const struct timespec *ts, atomic_int *addr2,
                  int val3) {
    return syscall(SYS_futex, addr, op, val, ts, addr2, val3);
}

static pid_t gettid_(void) {
    return (pid_t)syscall(SYS_gettid);
}

/* ---- create, join, ids, TLS ---- */

static __thread int tls_slot = 100;

struct ident {
    int index;
    pid_t tid;
    pid_t pid;
    int tls_seen;
};

static void *ident_main(void *arg) {
    struct ident *id = arg;
    id->tid = gettid_();
    id->pid = getpid();
    id->tls_seen = tls_slot;
    tls_slot = id->index;
    return (void *)(intptr_t)(id->index * 10);
}

static void create_join_ids_tls(void) {
    struct ident ids[WORKERS];
    pthread_t threads[WORKERS];
    int created = 0, results_ok = 1;
    for (int i = 0; i < WORKERS; i++) {
        ids[i] = (struct ident){.index = i + 1};
        if (pthread_create(&threads[i], NULL, ident_main, &ids[i]) == 0)
            created++;
    }
    for (int i = 0; i < created; i++) {
        void *ret = NULL;
        if (pthread_join(threads[i], &ret) != 0 || (intptr_t)ret != (i + 1) * 10)
            results_ok = 0;
    }
    CHECK("create_and_join_return_values", created == WORKERS && results_ok,
          "created %d of %d, results %s", created, WORKERS, results_ok ? "ok" : "wrong");

    int distinct = 1, same_pid = 1;
    for (int i = 0; i < created; i++) {
        if (ids[i].tid == getpid() || ids[i].tid <= 0)
            distinct = 0;
        for (int j = 0; j < i; j++)
            if (ids[i].tid == ids[j].tid)
                distinct = 0;
        if (ids[i].pid != getpid())
            same_pid = 0;
    }
    CHECK("thread_ids_distinct_and_pid_shared", distinct && same_pid && gettid_() == getpid(),
          "distinct %d, same pid %d, main tid %d pid %d", distinct, same_pid, gettid_(), getpid());

    int tls_ok = tls_slot == 100;
    for (int i = 0; i < created; i++)
        if (ids[i].tls_seen != 100)
            tls_ok = 0;
    CHECK("thread_local_storage_per_thread", tls_ok, "main sees %d, threads saw %d %d %d %d",
          tls_slot, ids[0].tls_seen, ids[1].tls_seen, ids[2].tls_seen, ids[3].tls_seen);
}

/* ---- a contended mutex ---- */

static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *increment_main(void *arg) {
    (void)arg;
    for (int i = 0; i < INCREMENTS; i++) {
        pthread_mutex_lock(&counter_lock);
        long seen = counter;
        /* Hold the lock across a yield now and then, so others find it taken and sleep
         * in futex_wait until the unlock wakes them. */
        if (i % 100 == 0)
            sched_yield();
        counter = seen + 1;
        pthread_mutex_unlock(&counter_lock);
    }
    return NULL;
}

static void contended_mutex(void) {
    pthread_t threads[WORKERS];
    int created = 0;
    counter = 0;
    for (int i = 0; i < WORKERS; i++)
        if (pthread_create(&threads[i], NULL, increment_main, NULL) == 0)
            created++;
    for (int i = 0; i < created; i++)
        pthread_join(threads[i], NULL);
    CHECK("contended_mutex_counts_every_increment", created == WORKERS && counter == WORKERS * INCREMENTS,
          "created %d, counter %ld, expected %d", created, counter, WORKERS * INCREMENTS);
}

/* ---- a condition variable ---- */

static pthread_mutex_t cv_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int cv_items, cv_go, cv_woken;

static void *consumer_main(void *arg) {
    int *got = arg;
    pthread_mutex_lock(&cv_lock);
    while (cv_items == 0)
        pthread_cond_wait(&cv, &cv_lock);
    cv_items--;
    (*got)++;
    pthread_mutex_unlock(&cv_lock);
    return NULL;
}

static void *broadcast_main(void *arg) {
    (void)arg;
    pthread_mutex_lock(&cv_lock);
    while (!cv_go)
        pthread_cond_wait(&cv, &cv_lock);
    cv_woken++;
    pthread_mutex_unlock(&cv_lock);
    return NULL;
}

static void condition_variable(void) {
    pthread_t threads[WORKERS];
    int got = 0, created = 0;
    cv_items = 0;
    for (int i = 0; i < WORKERS; i++)
        if (pthread_create(&threads[i], NULL, consumer_main, &got) == 0)
            created++;
    usleep(20000);
    for (int i = 0; i < created; i++) {
        pthread_mutex_lock(&cv_lock);
        cv_items++;
        pthread_cond_signal(&cv);
        pthread_mutex_unlock(&cv_lock);
    }
    for (int i = 0; i < created; i++)
        pthread_join(threads[i], NULL);
    CHECK("cond_signal_wakes_each_consumer", created == WORKERS && got == WORKERS && cv_items == 0,
          "created %d, consumed %d, left %d", created, got, cv_items);

    created = 0;
    cv_go = 0;
    cv_woken = 0;
    for (int i = 0; i < WORKERS; i++)
        if (pthread_create(&threads[i], NULL, broadcast_main, NULL) == 0)
            created++;
    usleep(20000);
    pthread_mutex_lock(&cv_lock);
    cv_go = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&cv_lock);
    for (int i = 0; i < created; i++)
        pthread_join(threads[i], NULL);
    CHECK("cond_broadcast_wakes_all", created == WORKERS && cv_woken == WORKERS, "created %d, woken %d",
          created, cv_woken);
}

/* ---- raw futex ---- */

static atomic_int futex_word, futex_word2, futex_started;

static void *futex_waiter_main(void *arg) {
    (void)arg;
    atomic_fetch_add(&futex_started, 1);
    long r = futex(&futex_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    return (void *)(intptr_t)(r == 0 ? 1 : -errno);
}

static void raw_futex(void) {
    atomic_store(&futex_word, 0);
    struct timespec ts = {0, FUTEX_TIMEOUT_NS};
    CHECK_ERR("futex_wait_times_out", futex(&futex_word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0), ETIMEDOUT);
    CHECK_ERR("futex_wait_value_mismatch_is_eagain", futex(&futex_word, FUTEX_WAIT_PRIVATE, 1, &ts, NULL, 0),
              EAGAIN);
    CHECK_ERR("futex_wait_misaligned_is_einval",
              futex((atomic_int *)((char *)&futex_word + 1), FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0), EINVAL);
    long r = futex(&futex_word, FUTEX_WAKE_PRIVATE, 5, NULL, NULL, 0);
    CHECK("futex_wake_without_waiters_is_zero", r == 0, "woke %ld", r);
    struct timespec bad = {0, 1000000000L};
    CHECK_ERR("futex_wait_bad_timeout_is_einval", futex(&futex_word, FUTEX_WAIT_PRIVATE, 0, &bad, NULL, 0),
              EINVAL);
    CHECK_ERR("futex_wait_bitset_zero_is_einval",
              futex(&futex_word, FUTEX_WAIT_BITSET_PRIVATE, 0, &ts, NULL, 0), EINVAL);

    /* Three waiters: a wake of 1 takes one, a requeue of the rest moves them to word2,
     * a wake there takes them. */
    pthread_t threads[3];
    int created = 0;
    atomic_store(&futex_started, 0);
    for (int i = 0; i < 3; i++)
        if (pthread_create(&threads[i], NULL, futex_waiter_main, NULL) == 0)
            created++;
    while (atomic_load(&futex_started) < created)
        sched_yield();
    usleep(20000);
    long woke = futex(&futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    /* The word must still hold 0 (val3) for the requeue to happen; 7 is a mismatch. */
    long mismatch = futex(&futex_word, FUTEX_CMP_REQUEUE_PRIVATE, 0, (void *)(uintptr_t)5, &futex_word2, 7);
    int mismatch_errno = errno;
    long moved = futex(&futex_word, FUTEX_CMP_REQUEUE_PRIVATE, 0, (void *)(uintptr_t)5, &futex_word2, 0);
    long woke2 = futex(&futex_word2, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0);
    /* Whatever went wrong above, no waiter is left behind to hang the join. */
    atomic_store(&futex_word, 1);
    futex(&futex_word, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0);
    int all_woken = 1;
    for (int i = 0; i < created; i++) {
        void *ret = NULL;
        pthread_join(threads[i], &ret);
        if ((intptr_t)ret != 1)
            all_woken = 0;
    }
    CHECK("futex_wake_requeue_counts", created == 3 && woke == 1 && moved == 2 && woke2 == 2 && all_woken,
          "created %d, woke %ld, requeued %ld, woke there %ld, all returned 0: %d", created, woke, moved,
          woke2, all_woken);
    CHECK("futex_cmp_requeue_mismatch_is_eagain", mismatch == -1 && mismatch_errno == EAGAIN,
          "returned %ld errno %d", mismatch, mismatch_errno);
}

/* ---- two threads blocked on two pipes ---- */

static int pipe_a[2], pipe_b[2];

static void *pipe_reader_main(void *arg) {
    (void)arg;
    char c = 0;
    ssize_t n = read(pipe_a[0], &c, 1);
    return (void *)(intptr_t)(n == 1 ? c : -1);
}

static void *pipe_writer_main(void *arg) {
    (void)arg;
    usleep(30000);
    ssize_t n = write(pipe_b[1], "b", 1);
    return (void *)(intptr_t)n;
}

static void blocked_on_two_pipes(void) {
    if (pipe(pipe_a) != 0 || pipe(pipe_b) != 0) {
        FAIL("threads_blocked_on_different_pipes", "pipe: %s", strerror(errno));
        return;
    }
    pthread_t reader, writer;
    int r1 = pthread_create(&reader, NULL, pipe_reader_main, NULL);
    int r2 = pthread_create(&writer, NULL, pipe_writer_main, NULL);
    /* The main thread blocks on pipe b while the reader blocks on pipe a; the writer
     * fills b, and only then does the main thread fill a. */
    char c = 0;
    ssize_t n = read(pipe_b[0], &c, 1);
    ssize_t w = write(pipe_a[1], "a", 1);
    void *got = NULL, *wrote = NULL;
    if (r1 == 0)
        pthread_join(reader, &got);
    if (r2 == 0)
        pthread_join(writer, &wrote);
    CHECK("threads_blocked_on_different_pipes",
          r1 == 0 && r2 == 0 && n == 1 && c == 'b' && w == 1 && (intptr_t)got == 'a' && (intptr_t)wrote == 1,
          "create %d %d, main read %zd '%c', wrote %zd, reader got %ld, writer wrote %ld", r1, r2, n, c, w,
          (long)(intptr_t)got, (long)(intptr_t)wrote);
    close(pipe_a[0]);
    close(pipe_a[1]);
    close(pipe_b[0]);
    close(pipe_b[1]);
}

/* ---- sched_yield alternation ---- */

static atomic_int turn;

static void *yield_partner_main(void *arg) {
    int rounds = 0;
    (void)arg;
    while (rounds < YIELD_ROUNDS) {
        while (atomic_load(&turn) != 1)
            sched_yield();
        atomic_store(&turn, 0);
        rounds++;
    }
    return (void *)(intptr_t)rounds;
}

static void yield_alternation(void) {
    pthread_t partner;
    atomic_store(&turn, 0);
    if (pthread_create(&partner, NULL, yield_partner_main, NULL) != 0) {
        FAIL("sched_yield_alternates_threads", "pthread_create: %s", strerror(errno));
        return;
    }
    int rounds = 0;
    while (rounds < YIELD_ROUNDS) {
        while (atomic_load(&turn) != 0)
            sched_yield();
        atomic_store(&turn, 1);
        rounds++;
    }
    void *theirs = NULL;
    pthread_join(partner, &theirs);
    CHECK("sched_yield_alternates_threads", (intptr_t)theirs == YIELD_ROUNDS, "partner did %ld rounds",
          (long)(intptr_t)theirs);
}

/* ---- many short threads ---- */

static void *short_main(void *arg) {
    return arg;
}

static void many_threads(void) {
    int ok = 0;
    for (int i = 0; i < MANY_THREADS; i++) {
        pthread_t t;
        void *ret = NULL;
        if (pthread_create(&t, NULL, short_main, (void *)(intptr_t)i) != 0)
            break;
        if (pthread_join(t, &ret) == 0 && (intptr_t)ret == i)
            ok++;
    }
    CHECK("many_short_threads", ok == MANY_THREADS, "%d of %d created and joined", ok, MANY_THREADS);
}

/* ---- a thread that never blocks does not starve the others ---- */

#define SPIN_LIMIT 2000000000L

static atomic_int spin_flag;

static void *set_flag_main(void *arg) {
    (void)arg;
    atomic_store(&spin_flag, 1);
    return NULL;
}

static void spinning_thread_does_not_starve(void) {
    pthread_t t;
    atomic_store(&spin_flag, 0);
    if (pthread_create(&t, NULL, set_flag_main, NULL) != 0) {
        FAIL("spinning_thread_does_not_starve_others", "pthread_create: %s", strerror(errno));
        return;
    }
    /* No syscall in the loop: only preemption lets the other thread run. */
    long spins = 0;
    while (!atomic_load(&spin_flag) && spins < SPIN_LIMIT)
        spins++;
    int seen = atomic_load(&spin_flag);
    pthread_join(t, NULL);
    CHECK("spinning_thread_does_not_starve_others", seen, "flag unset after %ld spins", spins);
}

/* Two threads woken at one instant (while the process idles) and then spinning: each must see
 * the other start. */
#define WAKE_DELAY_NS 100000000L
#define SPIN_SECONDS 3.0

static struct timespec woken_at;
static atomic_int woken_started[2];

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *woken_spinner_main(void *arg) {
    int me = (int)(intptr_t)arg;
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &woken_at, NULL);
    atomic_store(&woken_started[me], 1);
    double t0 = now_s();
    while (!atomic_load(&woken_started[1 - me]) && now_s() - t0 < SPIN_SECONDS) {
    }
    return (void *)(intptr_t)atomic_load(&woken_started[1 - me]);
}

static void threads_woken_together_share_the_cpu(void) {
    pthread_t t[2];
    void *saw[2] = {NULL, NULL};
    clock_gettime(CLOCK_MONOTONIC, &woken_at);
    woken_at.tv_nsec += WAKE_DELAY_NS;
    if (woken_at.tv_nsec >= 1000000000L) {
        woken_at.tv_sec++;
        woken_at.tv_nsec -= 1000000000L;
    }
    atomic_store(&woken_started[0], 0);
    atomic_store(&woken_started[1], 0);
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, woken_spinner_main, (void *)(intptr_t)i);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], &saw[i]);
    CHECK("threads_woken_together_share_the_cpu", saw[0] && saw[1], "thread 0 saw the other: %d, thread 1: %d",
          saw[0] != NULL, saw[1] != NULL);
}

/* ---- signals ---- */

static atomic_int usr1_count;
static atomic_int usr1_tid;
static atomic_int signal_target_ready;

static void on_usr1(int sig) {
    (void)sig;
    atomic_fetch_add(&usr1_count, 1);
    atomic_store(&usr1_tid, (int)gettid_());
}

static void *signaller_main(void *arg) {
    (void)arg;
    usleep(30000);
    kill(getpid(), SIGUSR1);
    return NULL;
}

#define MASK_ROUNDS 200
static atomic_int blocker_done;

/* Blocks SIGUSR1 in its own mask and keeps running until told. */
static void *blocker_main(void *arg) {
    pid_t *tid = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    *tid = gettid_();
    while (!atomic_load(&blocker_done))
        sched_yield();
    return NULL;
}

static void *sleeper_main(void *arg) {
    pid_t *tid = arg;
    *tid = gettid_();
    atomic_store(&signal_target_ready, 1);
    /* Sleeps until the signal ends the sleep (or a second passes). */
    struct timespec ts = {1, 0};
    nanosleep(&ts, NULL);
    return NULL;
}

/* Sends SIGUSR1 to the main thread every 20 ms until its blocked read ends (the first may
 * come before the read blocks), for at most 5 s; then unblocks the read with a byte. */
static atomic_int main_read_done;
static int main_read_pipe[2];

static void *main_killer_main(void *arg) {
    pid_t main_tid = (pid_t)(intptr_t)arg;
    for (int i = 0; i < 250 && !atomic_load(&main_read_done); i++) {
        syscall(SYS_tgkill, getpid(), main_tid, SIGUSR1);
        usleep(20000);
    }
    if (!atomic_load(&main_read_done))
        write(main_read_pipe[1], "x", 1);
    return NULL;
}

/* A signal another thread sends the main thread ends its blocked read with EINTR. */
static void tgkill_interrupts_the_main_thread(void) {
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1; /* no SA_RESTART */
    sigaction(SIGUSR1, &sa, NULL);
    atomic_store(&usr1_count, 0);
    atomic_store(&main_read_done, 0);
    int piped = pipe(main_read_pipe) == 0;
    pthread_t killer;
    int created = piped && pthread_create(&killer, NULL, main_killer_main,
                                          (void *)(intptr_t)gettid_()) == 0;
    char c;
    long r = -1;
    int err = 0;
    if (created) {
        r = read(main_read_pipe[0], &c, 1);
        err = errno;
        atomic_store(&main_read_done, 1);
        pthread_join(killer, NULL);
    }
    CHECK("tgkill_interrupts_the_blocked_main_thread",
          created && r == -1 && err == EINTR && atomic_load(&usr1_tid) == getpid(),
          "created %d, read %ld errno %d, handler ran %d times, last on thread %d (main %d)",
          created, r, err, atomic_load(&usr1_count), atomic_load(&usr1_tid), getpid());
    if (piped) {
        close(main_read_pipe[0]);
        close(main_read_pipe[1]);
    }
    signal(SIGUSR1, SIG_DFL);
}

static void signals_and_threads(void) {
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    atomic_store(&usr1_count, 0);
    pthread_t signaller;
    int created = pthread_create(&signaller, NULL, signaller_main, NULL) == 0;
    /* The main thread blocks in pthread_join (a futex) while the other signals the
     * process: the handler runs once, on some thread. */
    if (created)
        pthread_join(signaller, NULL);
    for (int i = 0; i < 100 && atomic_load(&usr1_count) == 0; i++)
        usleep(1000);
    CHECK("process_signal_handled_once_with_threads", created && atomic_load(&usr1_count) == 1,
          "created %d, handler ran %d times", created, atomic_load(&usr1_count));

    atomic_store(&usr1_count, 0);
    atomic_store(&signal_target_ready, 0);
    pid_t tid = 0;
    pthread_t sleeper;
    created = pthread_create(&sleeper, NULL, sleeper_main, &tid) == 0;
    while (created && !atomic_load(&signal_target_ready))
        sched_yield();
    long r = created ? syscall(SYS_tgkill, getpid(), tid, SIGUSR1) : -1;
    if (created)
        pthread_join(sleeper, NULL);
    /* A signal sent to one thread is handled on that thread. */
    CHECK("tgkill_of_a_thread_runs_on_it",
          created && r == 0 && atomic_load(&usr1_count) == 1 && atomic_load(&usr1_tid) == tid,
          "created %d, tgkill %ld, handler ran %d times, last on thread %d (target %d)", created, r,
          atomic_load(&usr1_count), atomic_load(&usr1_tid), tid);
    /* A process-directed signal never runs on the thread that blocks it. */
    atomic_store(&usr1_count, 0);
    atomic_store(&usr1_tid, 0);
    atomic_store(&blocker_done, 0);
    pthread_t blocker;
    pid_t blocker_tid = 0;
    created = pthread_create(&blocker, NULL, blocker_main, &blocker_tid) == 0;
    while (created && !blocker_tid)
        sched_yield();
    int wrong = 0;
    for (int i = 0; created && i < MASK_ROUNDS; i++) {
        kill(getpid(), SIGUSR1);
        if (atomic_load(&usr1_tid) == blocker_tid)
            wrong++;
        sched_yield();
    }
    atomic_store(&blocker_done, 1);
    if (created)
        pthread_join(blocker, NULL);
    CHECK("masks_are_per_thread", created && wrong == 0 && atomic_load(&usr1_count) == MASK_ROUNDS,
          "created %d, handler ran %d times (%d of them on the thread that blocks it)", created,
          atomic_load(&usr1_count), wrong);
    long bad = syscall(SYS_tgkill, getpid(), 0x3fffff00, 0);
    CHECK("tgkill_of_no_thread_is_esrch", bad == -1 && errno == ESRCH, "returned %ld errno %d", bad, errno);
    signal(SIGUSR1, SIG_DFL);
}

/* ---- fork and exec from a thread ---- */

static void *child_thread_main(void *arg) {
    (void)arg;
    return (void *)(intptr_t)gettid_();
}

static void *forker_main(void *arg) {
    (void)arg;
    pid_t pid = fork();
    if (pid == 0) {
        /* The child has one thread, this one, whose id is the child's pid; it can make
         * threads of its own. */
        pthread_t t;
        void *tid = NULL;
        int ok = getpid() == gettid_() && pthread_create(&t, NULL, child_thread_main, NULL) == 0 &&
                 pthread_join(t, &tid) == 0 && (pid_t)(intptr_t)tid != getpid();
        _exit(ok ? FORK_STATUS : 1);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return (void *)(intptr_t)-1;
    return (void *)(intptr_t)status;
}

/* After the process had a second thread: a fork child keeps the forking thread's alternate
 * stack and mask, also through the raw fork syscall (musl's fork masks signals itself). */
static char fork_altstack[65536];

static void fork_keeps_altstack_and_mask(void) {
    pthread_t t;
    pthread_create(&t, NULL, short_main, NULL);
    pthread_join(t, NULL);
    stack_t ss = {.ss_sp = fork_altstack, .ss_size = sizeof fork_altstack, .ss_flags = 0};
    stack_t old_ss;
    sigaltstack(&ss, &old_ss);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, &old);
    pid_t pid = (pid_t)syscall(SYS_fork);
    if (pid == 0) {
        stack_t o;
        sigset_t cur;
        sigaltstack(NULL, &o);
        sigprocmask(SIG_BLOCK, NULL, &cur);
        int ok = o.ss_flags == 0 && o.ss_sp == fork_altstack && sigismember(&cur, SIGUSR2);
        _exit(ok ? FORK_STATUS : 1);
    }
    int status = 0;
    pid_t got = pid > 0 ? waitpid(pid, &status, 0) : -1;
    sigprocmask(SIG_SETMASK, &old, NULL);
    stack_t off = {.ss_flags = SS_DISABLE};
    sigaltstack(&off, NULL);
    CHECK("fork_child_keeps_altstack_and_mask", got == pid && WIFEXITED(status) && WEXITSTATUS(status) == FORK_STATUS,
          "waitpid %d, status %#x", got, status);
}

static void fork_from_thread(void) {
    pthread_t forker;
    void *status = NULL;
    int created = pthread_create(&forker, NULL, forker_main, NULL) == 0;
    if (created)
        pthread_join(forker, &status);
    int st = (int)(intptr_t)status;
    CHECK("fork_from_a_thread", created && WIFEXITED(st) && WEXITSTATUS(st) == FORK_STATUS,
          "created %d, child status %#x", created, st);
}

static void *execer_main(void *arg) {
    char pid_text[32];
    (void)arg;
    snprintf(pid_text, sizeof pid_text, "%d", getpid());
    char *argv[] = {self_path, "exec-child", pid_text, NULL};
    execv(self_path, argv);
    _exit(1);
}

/* Waits on `futex_word` until the process execs (the wait never ends otherwise). */
static void *futex_sleeper_main(void *arg) {
    (void)arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    atomic_store(&futex_started, 1);
    for (;;)
        futex(&futex_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    return NULL;
}

static void *idle_main(void *arg) {
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

/* The program exec'd by a thread: same pid, one thread, whose id is the pid, the
 * exec'ing thread's mask (SIGUSR2 was blocked by another thread only), and none of the
 * old image's futex waiters (one waited on futex_word, at the same address here). */
static int exec_child(const char *expected_pid) {
    sigset_t mask;
    sigprocmask(SIG_BLOCK, NULL, &mask);
    int ok = getpid() == atoi(expected_pid) && gettid_() == getpid() && !sigismember(&mask, SIGUSR2) &&
             futex(&futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) == 0;
    return ok ? EXEC_STATUS : 1;
}

/* Runs `setup` in a forked child and reports whether the child ended with EXEC_STATUS. */
static void exec_case(const char *name, void (*setup)(void)) {
    pid_t pid = fork();
    if (pid == 0) {
        setup();
        _exit(2);
    }
    int status = 0;
    pid_t got = waitpid(pid, &status, 0);
    CHECK(name, got == pid && WIFEXITED(status) && WEXITSTATUS(status) == EXEC_STATUS, "waitpid %d, status %#x",
          got, status);
}

/* Two threads exec at once: one wins, the new image runs. */
static void two_execers(void) {
    pthread_t a, b;
    pthread_create(&a, NULL, execer_main, NULL);
    pthread_create(&b, NULL, execer_main, NULL);
    pthread_join(a, NULL);
}

/* The first thread has ended; the one left execs. */
static void non_first_execer(void) {
    pthread_t t;
    pthread_create(&t, NULL, execer_main, NULL);
    syscall(SYS_exit, 0);
}

/* A thread waits on a futex with SIGUSR2 blocked in its own mask; another execs. */
static void execer_beside_futex_waiter(void) {
    pthread_t sleeper, execer;
    atomic_store(&futex_word, 0);
    atomic_store(&futex_started, 0);
    pthread_create(&sleeper, NULL, futex_sleeper_main, NULL);
    while (!atomic_load(&futex_started))
        sched_yield();
    pthread_create(&execer, NULL, execer_main, NULL);
    pthread_join(execer, NULL);
}

static void exec_from_thread(void) {
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t idle, execer;
        pthread_create(&idle, NULL, idle_main, NULL);
        pthread_create(&execer, NULL, execer_main, NULL);
        pthread_join(execer, NULL);
        _exit(2);
    }
    int status = 0;
    pid_t got = waitpid(pid, &status, 0);
    CHECK("exec_from_a_thread_ends_the_others", got == pid && WIFEXITED(status) && WEXITSTATUS(status) == EXEC_STATUS,
          "waitpid %d, status %#x", got, status);
    exec_case("exec_by_two_threads_at_once", two_execers);
    exec_case("exec_by_a_thread_left_alone", non_first_execer);
    exec_case("exec_keeps_the_execers_mask_and_drops_futex_waiters", execer_beside_futex_waiter);
}

/* ---- clone3's argument checks (glibc's pthread_create tries clone3 first) ---- */

/* Linux's struct clone_args (include/uapi/linux/sched.h), version 2. */
struct clone_args_v2 {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
        set_tid_size, cgroup;
};
#define CLONE_ARGS_SIZE_VER0 64
#define PAGE_BYTES 4096
#ifndef SYS_clone3
#define SYS_clone3 435
#endif

static void clone3_checks(void) {
    static unsigned char big[PAGE_BYTES * 2];
    struct clone_args_v2 args = {0};
    CHECK_ERR("clone3_size_below_ver0_is_einval", syscall(SYS_clone3, &args, CLONE_ARGS_SIZE_VER0 - 8), EINVAL);
    CHECK_ERR("clone3_size_above_a_page_is_e2big", syscall(SYS_clone3, big, PAGE_BYTES + 8), E2BIG);
    big[sizeof args] = 1;
    CHECK_ERR("clone3_unknown_nonzero_tail_is_e2big", syscall(SYS_clone3, big, sizeof args + 8), E2BIG);
    args.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
    args.exit_signal = SIGCHLD;
    CHECK_ERR("clone3_thread_with_exit_signal_is_einval", syscall(SYS_clone3, &args, sizeof args), EINVAL);
    args.exit_signal = 0;
    args.stack = (uint64_t)(uintptr_t)big;
    CHECK_ERR("clone3_stack_without_size_is_einval", syscall(SYS_clone3, &args, sizeof args), EINVAL);
}

/* ---- the main thread exits first ---- */

static void *last_thread_main(void *arg) {
    (void)arg;
    usleep(30000);
    syscall(SYS_exit, LAST_THREAD_STATUS);
    return NULL;
}

static void leader_exits_first(void) {
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t last;
        pthread_create(&last, NULL, last_thread_main, NULL);
        syscall(SYS_exit, LEADER_STATUS);
        _exit(1);
    }
    int status = 0;
    pid_t got = waitpid(pid, &status, 0);
    /* The process ends with its last thread, and with that thread's status. */
    CHECK("main_thread_exit_then_last_thread", got == pid && WIFEXITED(status) && WEXITSTATUS(status) == LAST_THREAD_STATUS,
          "waitpid %d, status %#x", got, status);
}

/* ---- a stop stops every thread ---- */

static void *spinner_main(void *arg) {
    atomic_long *count = arg;
    for (;;) {
        atomic_fetch_add(count, 1);
        sched_yield();
    }
    return NULL;
}

static void stop_stops_every_thread(void) {
    atomic_long *counts = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (counts == MAP_FAILED) {
        FAIL("stop_stops_every_thread", "mmap: %s", strerror(errno));
        return;
    }
    atomic_store(&counts[0], 0);
    atomic_store(&counts[1], 0);
    pid_t pid = fork();
    if (pid == 0) {
        pthread_t spinner;
        pthread_create(&spinner, NULL, spinner_main, &counts[1]);
        spinner_main(&counts[0]);
        _exit(1);
    }
    while (atomic_load(&counts[0]) == 0 || atomic_load(&counts[1]) == 0)
        usleep(1000);
    kill(pid, SIGSTOP);
    int status = 0;
    pid_t got = waitpid(pid, &status, WUNTRACED);
    usleep(SETTLE_US);
    long a1 = atomic_load(&counts[0]), b1 = atomic_load(&counts[1]);
    usleep(SETTLE_US);
    long a2 = atomic_load(&counts[0]), b2 = atomic_load(&counts[1]);
    kill(pid, SIGCONT);
    for (int i = 0; i < 1000 && (atomic_load(&counts[0]) == a2 || atomic_load(&counts[1]) == b2); i++)
        usleep(1000);
    long a3 = atomic_load(&counts[0]), b3 = atomic_load(&counts[1]);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    CHECK("stop_stops_every_thread", got == pid && WIFSTOPPED(status) && a1 == a2 && b1 == b2,
          "waitpid %d status %#x, main thread %ld -> %ld, other %ld -> %ld", got, status, a1, a2, b1, b2);
    CHECK("continue_resumes_every_thread", a3 > a2 && b3 > b2, "main thread %ld -> %ld, other %ld -> %ld", a2,
          a3, b2, b3);
    munmap(counts, 4096);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "exec-child") == 0)
        return exec_child(argv[2]);
    self_path = argv[0];
    create_join_ids_tls();
    contended_mutex();
    condition_variable();
    raw_futex();
    blocked_on_two_pipes();
    yield_alternation();
    many_threads();
    spinning_thread_does_not_starve();
    threads_woken_together_share_the_cpu();
    signals_and_threads();
    tgkill_interrupts_the_main_thread();
    fork_from_thread();
    fork_keeps_altstack_and_mask();
    exec_from_thread();
    clone3_checks();
    leader_exits_first();
    stop_stops_every_thread();
    return k42_done();
}
