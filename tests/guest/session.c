/*
 * session: process groups and sessions with Linux's rules — a fork child inherits its
 * parent's group and session; setsid makes a non-leader the leader of a new session and
 * group, and is refused (EPERM) to a group leader; setpgid moves this process or a child into
 * a group of the same session, with EINVAL, ESRCH and EPERM where Linux gives them; getpgid and
 * getsid answer for other processes, ESRCH for none.
 *
 * Children report through their exit status (0: every check held, else the number of the
 * first that did not).
 */
#define _GNU_SOURCE
#include <sys/wait.h>
#include <unistd.h>

#include "k42test.h"

/* A pid no process has (Linux's default pid_max is 32768 on small machines, 4M at most). */
#define NO_SUCH_PID 4000000

static int reap(pid_t pid) {
    int status = 0;
    return waitpid(pid, &status, 0) == pid ? status : -1;
}

/* The first failed check's number, or 0. */
static int first_failed(const int *ok, int n) {
    for (int i = 0; i < n; i++)
        if (!ok[i])
            return i + 1;
    return 0;
}

int main(void) {
    pid_t me = getpid();
    pid_t group = getpgrp();
    pid_t session = getsid(0);
    CHECK("getpgrp_is_getpgid_0", group == getpgid(0) && group == getpgid(me),
          "getpgrp %d, getpgid(0) %d, getpgid(self) %d", group, getpgid(0), getpgid(me));
    CHECK("getsid_0_is_getsid_self", session > 0 && session == getsid(me), "getsid(0) %d, self %d",
          session, getsid(me));

    pid_t child = fork();
    if (child == 0) {
        int ok[] = {getpgrp() == group, getsid(0) == session};
        _exit(first_failed(ok, 2));
    }
    int status = reap(child);
    CHECK("fork_inherits_group_and_session", status == 0, "child status %#x", status);

    child = fork();
    if (child == 0) {
        pid_t mine = getpid();
        pid_t sid = setsid();
        int ok[] = {
            sid == mine,
            getsid(0) == mine,
            getpgrp() == mine,
            setsid() == -1 && errno == EPERM,
            /* A session leader cannot leave its group. */
            setpgid(0, group) == -1 && errno == EPERM,
        };
        _exit(first_failed(ok, 5));
    }
    status = reap(child);
    CHECK("setsid_makes_a_new_session_and_refuses_a_leader", status == 0,
          "child status %#x (the number of the first failed check)", status);

    /* A child's own group, set by the child and then by the parent. */
    child = fork();
    if (child == 0) {
        int ok[] = {setpgid(0, 0) == 0, getpgrp() == getpid(), getsid(0) == session};
        _exit(first_failed(ok, 3));
    }
    status = reap(child);
    CHECK("setpgid_0_0_makes_a_group", status == 0, "child status %#x", status);

    int gate[2];
    if (pipe(gate) != 0) {
        FAIL("parent_moves_its_child", "pipe: %s", strerror(errno));
        return k42_done();
    }
    child = fork();
    if (child == 0) {
        char c;
        close(gate[1]);
        /* Wait until the parent has moved us, then check where we are. */
        ssize_t n = read(gate[0], &c, 1);
        _exit(n == 1 && getpgrp() == getpid() ? 0 : 1);
    }
    close(gate[0]);
    int moved = setpgid(child, child);
    pid_t seen = getpgid(child);
    int back = setpgid(child, group);
    pid_t seen_back = getpgid(child);
    setpgid(child, child);
    ssize_t w = write(gate[1], "x", 1);
    close(gate[1]);
    status = reap(child);
    CHECK("parent_moves_its_child", moved == 0 && seen == child && back == 0 && seen_back == group &&
                                        w == 1 && status == 0,
          "setpgid %d, getpgid %d (child %d), back %d -> %d, child status %#x", moved, seen, child,
          back, seen_back, status);

    CHECK_ERR("setpgid_negative_pgid", setpgid(0, -1), EINVAL);
    CHECK_ERR("setpgid_not_a_child", setpgid(NO_SUCH_PID, NO_SUCH_PID), ESRCH);
    CHECK_ERR("setpgid_reaped_child", setpgid(child, child), ESRCH);
    CHECK_ERR("getpgid_no_such_process", getpgid(NO_SUCH_PID), ESRCH);
    CHECK_ERR("getsid_no_such_process", getsid(NO_SUCH_PID), ESRCH);

    /* A group in another session is out of reach. */
    child = fork();
    if (child == 0) {
        setsid();
        /* A member of the new session (not its leader) cannot join a group of the old one. */
        pid_t member = fork();
        if (member == 0) {
            int ok[] = {getsid(0) != session, setpgid(0, group) == -1 && errno == EPERM};
            _exit(first_failed(ok, 2));
        }
        _exit(reap(member) == 0 ? 0 : 9);
    }
    status = reap(child);
    CHECK("setpgid_into_another_session_is_eperm", status == 0, "child status %#x", status);
    return k42_done();
}
