/*
 * fork: a forked child is a copy of its parent that goes its own way, with Linux's results:
 * fork returns the child's pid in the parent and 0 in the child; the child's getppid is the
 * parent; memory (globals, the stack, a large heap block, MAP_PRIVATE mappings) is copied, and
 * each side's writes after the fork stay its own, both ways, while MAP_SHARED memory is shared;
 * descriptors are inherited, sharing their open file descriptions' offsets; vfork and clone (as
 * glibc's fork and posix_spawn call it) work as fork; many children at once all report;
 * and 1,000 generations of fork-then-exit (each child forks, then its parent exits) end with
 * the memory they used returned (sysinfo's free RAM back within a bound far below what the
 * generations touched).
 *
 * Synchronisation uses files in /tmp and exit statuses only (pipes are tested elsewhere).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "k42test.h"

/* A heap block larger than any single page or region: 1 MiB. */
#define BIG (1 << 20)
/* Children forked at once. */
#define MANY 16
/* Generations of fork-then-exit, as issue #5 asks. */
#define GENERATIONS 1000
/* What each generation writes (so a leaked generation would leak at least this). */
#define TOUCHED (64 * 1024)
/* Free RAM may differ by this much after the generations end (caches, allocator slack);
 * leaking each generation's touched memory would lose GENERATIONS * TOUCHED = 62.5 MiB. */
#define FREE_RAM_SLACK (8L * 1024 * 1024)
/* How long to wait for another process's sign (a file appearing). */
#define WAIT_SECONDS 120

static int global = 1;
static char path_sign[64];
static char path_done[64];

/* Waits for `pid` and returns its wait status, or -1 (with the case failed by the caller). */
static int reap(pid_t pid) {
    int status = 0;
    pid_t got = waitpid(pid, &status, 0);
    return got == pid ? status : -1;
}

/* A child's verdict: exit 0 when `ok`, else a small code naming what went wrong. */
static int verdict(int ok, int code) {
    return ok ? 0 : code;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits until `path` exists; 0 if it never does. */
static int wait_for_file(const char *path) {
    struct stat st;
    for (long waited = 0; waited < WAIT_SECONDS * 1000L; waited += 10) {
        if (stat(path, &st) == 0)
            return 1;
        sleep_ms(10);
    }
    return 0;
}

static void touch(const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0)
        close(fd);
}

static void test_returns(void) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0)
        _exit(verdict(getppid() == parent, 1) | verdict(getpid() != parent, 2));
    CHECK("fork_returns_the_childs_pid", pid > 0 && pid != parent, "fork returned %d", pid);
    int status = reap(pid);
    CHECK("child_sees_its_parent_and_its_own_pid", status == 0,
          "child status %#x (1: getppid wrong, 2: getpid wrong)", status);
}

static void test_exit_statuses(void) {
    static const int codes[] = {0, 1, 42, 255, 256};
    int ok = 1;
    char why[128] = "";
    for (unsigned i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(codes[i]);
        int status = reap(pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != (codes[i] & 0xff)) {
            ok = 0;
            snprintf(why, sizeof why, "_exit(%d) gave status %#x", codes[i], status);
        }
    }
    CHECK("exit_status_is_the_low_byte", ok, "%s", why);
}

static void test_child_writes_stay_in_child(void) {
    int local = 7;
    unsigned char *big = malloc(BIG);
    if (!big) {
        FAIL("child_writes_stay_in_child", "malloc(%d) failed", BIG);
        return;
    }
    for (int i = 0; i < BIG; i++)
        big[i] = (unsigned char)i;
    global = 1;
    pid_t pid = fork();
    if (pid == 0) {
        int seen = global == 1 && local == 7;
        for (int i = 0; i < BIG; i += 4096)
            seen &= big[i] == (unsigned char)i;
        global = 2;
        local = 8;
        memset(big, 0xee, BIG);
        _exit(verdict(seen && global == 2 && local == 8 && big[BIG - 1] == 0xee, 3));
    }
    int status = reap(pid);
    CHECK("child_sees_the_parents_memory", status == 0, "child status %#x", status);
    int intact = global == 1 && local == 7;
    for (int i = 0; i < BIG; i++)
        intact &= big[i] == (unsigned char)i;
    CHECK("child_writes_stay_in_child", intact, "global %d local %d big[0] %#x", global, local,
          big[0]);
    free(big);
}

static void test_parent_writes_stay_in_parent(void) {
    unlink(path_sign);
    global = 10;
    pid_t pid = fork();
    if (pid == 0) {
        /* The parent writes, then signs; what the child sees after the sign is its copy. */
        if (!wait_for_file(path_sign))
            _exit(4);
        _exit(verdict(global == 10, 5));
    }
    global = 11;
    touch(path_sign);
    int status = reap(pid);
    CHECK("parent_writes_stay_in_parent", status == 0 && global == 11,
          "child status %#x (4: no sign, 5: saw the parent's write)", status);
    unlink(path_sign);
}

static void test_mappings(void) {
    long page = sysconf(_SC_PAGESIZE);
    int *shared = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int *private = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED || private == MAP_FAILED) {
        FAIL("map_shared_is_shared", "mmap failed: %s", strerror(errno));
        return;
    }
    shared[0] = 1;
    private[0] = 1;
    pid_t pid = fork();
    if (pid == 0) {
        int saw = shared[0] == 1 && private[0] == 1;
        /* One page the parent touched, one it did not. */
        shared[0] = 2;
        shared[page / sizeof(int)] = 3;
        private[0] = 2;
        _exit(verdict(saw, 8));
    }
    int status = reap(pid);
    CHECK("map_shared_is_shared", status == 0 && shared[0] == 2 && shared[page / sizeof(int)] == 3,
          "child status %#x, parent sees %d and %d", status, shared[0], shared[page / sizeof(int)]);
    CHECK("map_private_is_copied", private[0] == 1, "parent sees the child's write: %d",
          private[0]);
    munmap(shared, 4 * page);
    munmap(private, 4 * page);
}

static void test_fds_inherited(void) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/fork-fd-%d", getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0644);
    int dupfd = dup(fd);
    pid_t pid = fork();
    if (pid == 0) {
        ssize_t a = write(fd, "child ", 6);
        ssize_t b = write(dupfd, "dup ", 4);
        _exit(verdict(a == 6 && b == 4, 6));
    }
    int status = reap(pid);
    ssize_t c = write(fd, "parent", 6);
    char buf[32] = {0};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    CHECK("fds_are_inherited", status == 0 && c == 6 && n == 16 && !strcmp(buf, "child dup parent"),
          "child status %#x, file holds %zd bytes \"%s\"", status, n, buf);
    close(fd);
    close(dupfd);
    unlink(path);
}

static void test_offsets_shared(void) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/fork-off-%d", getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    ssize_t w = write(fd, "0123456789", 10);
    lseek(fd, 2, SEEK_SET);
    pid_t pid = fork();
    if (pid == 0) {
        char b[4] = {0};
        ssize_t n = read(fd, b, 3);
        _exit(verdict(n == 3 && !strcmp(b, "234"), 9));
    }
    int status = reap(pid);
    char b[4] = {0};
    ssize_t n = read(fd, b, 2);
    off_t at = lseek(fd, 0, SEEK_CUR);
    CHECK("file_offset_is_shared_with_the_child",
          w == 10 && status == 0 && n == 2 && !strcmp(b, "56") && at == 7,
          "child status %#x, parent then read %zd bytes \"%s\" and is at %ld", status, n, b,
          (long)at);
    /* A child's seek moves the parent's offset too, and a write there lands where it says. */
    pid = fork();
    if (pid == 0)
        _exit(verdict(lseek(fd, 0, SEEK_SET) == 0 && write(fd, "ab", 2) == 2, 10));
    status = reap(pid);
    at = lseek(fd, 0, SEEK_CUR);
    char all[11] = {0};
    ssize_t m = pread(fd, all, 10, 0);
    CHECK("child_seek_and_write_move_the_parents_offset",
          status == 0 && at == 2 && m == 10 && !strcmp(all, "ab23456789"),
          "child status %#x, parent at %ld, file \"%s\"", status, (long)at, all);
    close(fd);
    unlink(path);
}

static void test_vfork_and_clone(void) {
    pid_t pid = vfork();
    if (pid == 0)
        _exit(33);
    int status = reap(pid);
    CHECK("vfork_child_exits", WIFEXITED(status) && WEXITSTATUS(status) == 33,
          "vfork child status %#x", status);
    /* glibc's fork: clone(CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD, 0, ...). */
    pid_t tid = 0;
    long r = syscall(SYS_clone, (long)(CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD), 0L,
                     NULL, &tid, 0L);
    if (r == 0)
        _exit(verdict(tid == getpid(), 7));
    status = r > 0 ? reap((pid_t)r) : -1;
    CHECK("clone_child_settid", r > 0 && status == 0, "clone returned %ld, child status %#x", r,
          status);
    CHECK_ERR("clone_thread_without_vm_is_refused",
              syscall(SYS_clone, (long)(CLONE_THREAD | CLONE_SIGHAND), 0L, NULL, NULL, 0L), EINVAL);
}

static void test_many(void) {
    pid_t pids[MANY];
    for (int i = 0; i < MANY; i++) {
        pids[i] = fork();
        if (pids[i] == 0)
            _exit(i + 1);
    }
    int ok = 1;
    char why[128] = "";
    for (int i = 0; i < MANY; i++) {
        int status = reap(pids[i]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != i + 1) {
            ok = 0;
            snprintf(why, sizeof why, "child %d: status %#x", i, status);
        }
    }
    CHECK("many_children_all_report", ok, "%s", why);
}

/* The generations, from the first: each touches memory, forks the next and exits; the last
 * one signs. Never returns. */
static void generations(void) {
    for (int n = 1;; n++) {
        char *mem = malloc(TOUCHED);
        if (mem)
            memset(mem, n & 0xff, TOUCHED);
        if (n == GENERATIONS) {
            touch(path_done);
            _exit(0);
        }
        pid_t next = fork();
        if (next != 0)
            _exit(next > 0 ? 0 : 1);
    }
}

static long free_ram(void) {
    struct sysinfo si;
    if (sysinfo(&si) != 0)
        return -1;
    return (long)si.freeram * (long)si.mem_unit;
}

static void test_generations(void) {
    unlink(path_done);
    long before = free_ram();
    pid_t first = fork();
    if (first == 0)
        generations();
    int status = reap(first);
    int done = wait_for_file(path_done);
    CHECK("fork_then_exit_1000_generations", status == 0 && done,
          "first generation status %#x, last generation %s", status,
          done ? "signed" : "never signed");
    /* The last generation's exit may still be under way: let it finish. */
    long after = free_ram();
    for (int i = 0; i < 100 && before - after > FREE_RAM_SLACK; i++) {
        sleep_ms(20);
        after = free_ram();
    }
    CHECK("generations_return_their_memory", done && before > 0 && before - after <= FREE_RAM_SLACK,
          "free RAM %ld KiB before, %ld KiB after %d generations", before / 1024, after / 1024,
          GENERATIONS);
    unlink(path_done);
}

int main(void) {
    snprintf(path_sign, sizeof path_sign, "/tmp/fork-sign-%d", getpid());
    snprintf(path_done, sizeof path_done, "/tmp/fork-done-%d", getpid());
    test_returns();
    test_exit_statuses();
    test_child_writes_stay_in_child();
    test_parent_writes_stay_in_parent();
    test_mappings();
    test_fds_inherited();
    test_offsets_shared();
    test_vfork_and_clone();
    test_many();
    test_generations();
    CHECK_ERR("no_children_left", wait(NULL), ECHILD);
    return k42_done();
}
