/*
 * wait: a process's children and their ends (issue #5) — fork, _exit and the wait status a
 * parent collects with waitpid/wait/wait4/waitid, WNOHANG before a child ends, ECHILD with
 * none, selection by pid, any child and process group, waitid's siginfo_t, WNOWAIT, a death
 * by signal, EFAULT for a bad status pointer, EINVAL for bad options and ids, another
 * process's group and session, and an orphan becoming init's child (getppid() turning 1).
 * On K42 the process tree is the process server's (user/bin/procs, crates/ptree) and the
 * calls the personality's (user/bin/linux/src/calls/wait.rs); on Linux the kernel's. The
 * expected answers are Linux's.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "k42test.h"

/* How long a child that must still run when its parent looks sleeps first. */
#define CHILD_LINGER_NS 300000000L
/* An orphan's bounded wait for its new parent, and the parent's for the orphan's report. */
#define POLL_NS 10000000L
#define POLL_TRIES 1000
/* An address no program maps: page zero. */
#define BAD_POINTER ((int *)8)
/* An option bit wait4 does not know (between WCONTINUED and WNOWAIT). */
#define UNKNOWN_OPTION 0x40

static void sleep_ns(long ns) {
    struct timespec t = {ns / 1000000000L, ns % 1000000000L};
    nanosleep(&t, NULL);
}

/* A child that ends with `code` at once (after `linger_ns`, if not 0). */
static pid_t child_exiting(int code, long linger_ns) {
    pid_t pid = fork();
    if (pid == 0) {
        if (linger_ns)
            sleep_ns(linger_ns);
        _exit(code);
    }
    return pid;
}

static void exit_status(void) {
    pid_t pid = child_exiting(42, 0);
    if (pid < 0) {
        FAIL("fork", "fork: %s", strerror(errno));
        return;
    }
    PASS("fork");
    int status = -1;
    pid_t got = waitpid(pid, &status, 0);
    CHECK("waitpid_exited", got == pid && WIFEXITED(status) && WEXITSTATUS(status) == 42,
          "waitpid returned %d (child %d) status %#x", got, pid, status);
}

/* exit(n) keeps n's low 8 bits: 256 is 0. */
static void exit_codes(void) {
    static const int codes[] = {0, 1, 255, 256, 300};
    int ok = 1;
    char why[256] = "";
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        pid_t pid = child_exiting(codes[i], 0);
        int status = -1;
        pid_t got = waitpid(pid, &status, 0);
        if (got != pid || !WIFEXITED(status) || WEXITSTATUS(status) != (codes[i] & 0xff)) {
            ok = 0;
            snprintf(why, sizeof why, "exit(%d): waitpid %d status %#x", codes[i], got, status);
        }
    }
    CHECK("exit_codes", ok, "%s", why);
    /* exit (the thread's call) of a process's one thread ends the process. */
    pid_t pid = fork();
    if (pid == 0)
        syscall(SYS_exit, 7);
    int status = -1;
    pid_t got = waitpid(pid, &status, 0);
    CHECK("exit_thread_call", got == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7,
          "waitpid %d status %#x", got, status);
}

static void nohang(void) {
    pid_t pid = child_exiting(5, CHILD_LINGER_NS);
    int status = -1;
    pid_t got = waitpid(pid, &status, WNOHANG);
    CHECK("wnohang_running", got == 0 && status == -1, "waitpid returned %d status %#x", got,
          status);
    /* Another process's group and session, while it runs: the parent's. */
    CHECK("getpgid_child", getpgid(pid) == getpgrp(), "getpgid(child) %d, getpgrp %d",
          getpgid(pid), getpgrp());
    CHECK("getsid_child", getsid(pid) == getsid(0), "getsid(child) %d, getsid(0) %d", getsid(pid),
          getsid(0));
    got = waitpid(pid, &status, 0);
    CHECK("wait_blocks_until_exit", got == pid && WIFEXITED(status) && WEXITSTATUS(status) == 5,
          "waitpid returned %d status %#x", got, status);
    CHECK_ERR("getpgid_reaped", getpgid(pid), ESRCH);
}

static void any_child(void) {
    pid_t a = child_exiting(3, 0);
    pid_t b = child_exiting(4, 0);
    int seen_a = 0, seen_b = 0, bad = 0;
    for (int i = 0; i < 2; i++) {
        int status = -1;
        pid_t got = wait(&status);
        if (got == a && WIFEXITED(status) && WEXITSTATUS(status) == 3)
            seen_a++;
        else if (got == b && WIFEXITED(status) && WEXITSTATUS(status) == 4)
            seen_b++;
        else
            bad++;
    }
    CHECK("wait_any", seen_a == 1 && seen_b == 1 && bad == 0, "a %d b %d other %d", seen_a,
          seen_b, bad);
    CHECK_ERR("echild_after_all", wait(NULL), ECHILD);
    CHECK_ERR("echild_wnohang", waitpid(-1, NULL, WNOHANG), ECHILD);
    CHECK_ERR("echild_not_a_child", waitpid(1, NULL, 0), ECHILD);
}

static void by_group(void) {
    pid_t a = child_exiting(11, 0);
    int status = -1;
    pid_t got = waitpid(0, &status, 0);
    CHECK("waitpid_own_group", got == a && WEXITSTATUS(status) == 11, "waitpid(0) %d status %#x",
          got, status);
    pid_t b = child_exiting(12, 0);
    got = waitpid(-getpgrp(), &status, 0);
    CHECK("waitpid_group", got == b && WEXITSTATUS(status) == 12, "waitpid(-pgrp) %d status %#x",
          got, status);
}

static void with_waitid(void) {
    pid_t pid = child_exiting(9, 0);
    siginfo_t info;
    memset(&info, 0xff, sizeof info);
    int r = waitid(P_PID, pid, &info, WEXITED);
    CHECK("waitid_pid", r == 0 && info.si_signo == SIGCHLD && info.si_code == CLD_EXITED &&
                            info.si_pid == pid && info.si_status == 9 && info.si_uid == getuid() &&
                            info.si_errno == 0,
          "r %d signo %d code %d pid %d (child %d) status %d uid %d", r, info.si_signo,
          info.si_code, info.si_pid, pid, info.si_status, (int)info.si_uid);
    CHECK_ERR("waitid_reaped", waitid(P_PID, pid, &info, WEXITED), ECHILD);

    /* WNOHANG with a running child: 0, and the fields zeroed. */
    pid = child_exiting(6, CHILD_LINGER_NS);
    memset(&info, 0xff, sizeof info);
    r = waitid(P_ALL, 0, &info, WEXITED | WNOHANG);
    CHECK("waitid_wnohang", r == 0 && info.si_pid == 0 && info.si_signo == 0,
          "r %d pid %d signo %d", r, info.si_pid, info.si_signo);
    /* WNOWAIT reports without collecting: a second wait gets the same child. */
    memset(&info, 0, sizeof info);
    r = waitid(P_PID, pid, &info, WEXITED | WNOWAIT);
    int status = -1;
    pid_t got = waitpid(pid, &status, 0);
    CHECK("waitid_wnowait", r == 0 && info.si_pid == pid && info.si_status == 6 && got == pid &&
                                WEXITSTATUS(status) == 6,
          "r %d si_pid %d si_status %d, then waitpid %d status %#x", r, info.si_pid,
          info.si_status, got, status);

    CHECK_ERR("waitid_no_kind", waitid(P_ALL, 0, &info, WNOHANG), EINVAL);
    CHECK_ERR("waitid_pid_zero", waitid(P_PID, 0, &info, WEXITED), EINVAL);
    CHECK_ERR("waitid_bad_idtype", waitid((idtype_t)42, 0, &info, WEXITED), EINVAL);
    CHECK_ERR("waitid_no_children", waitid(P_ALL, 0, &info, WEXITED), ECHILD);
}

static void killed(void) {
    pid_t pid = fork();
    if (pid == 0) {
        /* No core file, so the status is the signal alone on both systems. */
        struct rlimit none = {0, RLIM_INFINITY};
        setrlimit(RLIMIT_CORE, &none);
        *(volatile int *)BAD_POINTER = 1;
        _exit(0);
    }
    int status = -1;
    pid_t got = waitpid(pid, &status, 0);
    CHECK("killed_by_sigsegv", got == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
          "waitpid %d status %#x", got, status);
}

static void bad_arguments(void) {
    CHECK_ERR("wait4_bad_option", waitpid(-1, NULL, UNKNOWN_OPTION), EINVAL);
    CHECK_ERR("wait4_wnowait_refused", waitpid(-1, NULL, WNOWAIT), EINVAL);
    /* The child is collected first, then the status write faults: EFAULT, child gone. */
    pid_t pid = child_exiting(1, 0);
    errno = 0;
    long r = syscall(SYS_wait4, pid, BAD_POINTER, 0, NULL);
    CHECK("wait4_efault", r == -1 && errno == EFAULT, "wait4 returned %ld errno %d (%s)", r,
          errno, strerror(errno));
    CHECK_ERR("wait4_efault_reaped", waitpid(pid, NULL, WNOHANG), ECHILD);
    /* A rusage pointer is filled. */
    pid = child_exiting(2, 0);
    struct rusage usage;
    int status = -1;
    r = wait4(pid, &status, 0, &usage);
    CHECK("wait4_rusage", r == pid && WEXITSTATUS(status) == 2, "wait4 %ld status %#x", r, status);
}

/* A child forks a grandchild and ends; the grandchild, now init's, waits for getppid() to say
 * so and leaves its verdict in a file (nobody but init can collect its status). */
static void orphan(void) {
    char path[64], tmp[64], ready[64];
    snprintf(path, sizeof path, "/tmp/wait-orphan-%d", getpid());
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    snprintf(ready, sizeof ready, "%s.ready", path);
    unlink(path);
    unlink(ready);
    pid_t child = fork();
    if (child == 0) {
        pid_t middle = getpid();
        pid_t grandchild = fork();
        if (grandchild != 0) {
            /* End only once the grandchild has seen its first parent (no pipes needed). */
            for (int i = 0; i < POLL_TRIES && access(ready, F_OK) != 0; i++)
                sleep_ns(POLL_NS);
            _exit(grandchild < 0 ? 1 : 0);
        }
        pid_t before = getppid();
        int fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0)
            close(fd);
        pid_t after = before;
        for (int i = 0; i < POLL_TRIES && after != 1; i++) {
            sleep_ns(POLL_NS);
            after = getppid();
        }
        char verdict[64];
        int n = snprintf(verdict, sizeof verdict, "%d %d %d", before == middle, after, middle);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            write(fd, verdict, (size_t)n);
            close(fd);
            rename(tmp, path);
        }
        _exit(0);
    }
    int status = -1;
    pid_t got = waitpid(child, &status, 0);
    CHECK("orphan_parent_exited", got == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "waitpid %d status %#x", got, status);
    char verdict[64] = "";
    for (int i = 0; i < POLL_TRIES && access(path, F_OK) != 0; i++)
        sleep_ns(POLL_NS);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        FAIL("orphan_getppid_1", "no verdict from the grandchild: %s", strerror(errno));
        return;
    }
    ssize_t n = read(fd, verdict, sizeof verdict - 1);
    close(fd);
    unlink(path);
    unlink(ready);
    verdict[n > 0 ? n : 0] = '\0';
    int was_child = 0, after = 0, middle = 0;
    int fields = sscanf(verdict, "%d %d %d", &was_child, &after, &middle);
    CHECK("orphan_getppid_1", fields == 3 && was_child == 1 && after == 1 && middle == child,
          "grandchild says \"%s\"", verdict);
}

int main(void) {
    CHECK_ERR("echild_no_children", waitpid(-1, NULL, 0), ECHILD);
    exit_status();
    exit_codes();
    nohang();
    any_child();
    by_group();
    with_waitid();
    killed();
    bad_arguments();
    orphan();
    CHECK_ERR("echild_at_end", wait(NULL), ECHILD);
    return k42_done();
}
