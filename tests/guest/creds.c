/*
 * creds: the setuid family (setuid, setreuid, setresuid, setfsuid, their gid twins,
 * setgroups/getgroups) with Linux's rules, run as root: each case is a forked child that
 * changes its own credentials and checks them, and the parent checks it ended well.
 *
 *   saved ids: root's setresuid(1000, 1000, 0) keeps a way back (seteuid(0)), setuid(1000)
 *     does not; an unprivileged setuid reaches only the real or saved id (EPERM otherwise);
 *     setreuid's saved-id rule; setuid(-1) is EINVAL; the gid calls likewise;
 *   setfsuid/setfsgid: the old id returned, the change made only when allowed;
 *   groups: setgroups/getgroups round trip (sorted), EINVAL for a short list, EFAULT, EPERM
 *     for a non-root caller before anything else; /proc/self/status shows every id;
 *   files: what the file server allows follows the change — a root-only file (EACCES), a
 *     root-only directory (not searchable), mkdir in root's 0755 directory, then the same with
 *     the filesystem id back at 0 (the saved 0 allows it), access(2) with the real ids; a
 *     group's file through a supplementary group and through setfsgid;
 *   kill: between processes of different users EPERM, by the real and saved ids only (not
 *     the target's effective one), SIGCONT within the session allowed; waitid's si_uid is the
 *     child's real uid;
 *   exec: the program exec'd after a change sees the new ids (getuid, geteuid, the auxiliary
 *     vector with AT_SECURE), and the saved id is the effective one from then on.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "k42test.h"

#define SECRET "/tmp/creds-secret"
#define CLOSED_DIR "/tmp/creds-closed"
#define CLOSED_FILE CLOSED_DIR "/f"
#define OPEN_DIR "/tmp/creds-open"
#define GROUP_FILE "/tmp/creds-group"
#define FSGID_FILE "/tmp/creds-fsgid"
#define EXEC_FLAG "--exec-check"
/* One past Linux's NGROUPS_MAX (65536; musl's <limits.h> says 32, an old value). */
#define PAST_NGROUPS_MAX 65537

/* The users and groups the cases become (nobody in particular on either OS). */
#define USER 1000
#define OTHER 2000
#define THIRD 3000
/* A user no case's process ever is. */
#define STRANGER 4000
#define GROUP 20
#define FSGROUP 300

/* Whether getresuid/getresgid say (r, e, s). */
static int res_uid_is(uid_t r, uid_t e, uid_t s) {
    uid_t a, b, c;
    return getresuid(&a, &b, &c) == 0 && a == r && b == e && c == s;
}

static int res_gid_is(gid_t r, gid_t e, gid_t s) {
    gid_t a, b, c;
    return getresgid(&a, &b, &c) == 0 && a == r && b == e && c == s;
}

/* "(r, e, s)" of the user ids now, for a failure's reason. */
static const char *res_uid(void) {
    static char text[64];
    uid_t a, b, c;
    getresuid(&a, &b, &c);
    snprintf(text, sizeof text, "(%u, %u, %u)", a, b, c);
    return text;
}

static const char *res_gid(void) {
    static char text[64];
    gid_t a, b, c;
    getresgid(&a, &b, &c);
    snprintf(text, sizeof text, "(%u, %u, %u)", a, b, c);
    return text;
}

/* Runs `body` in a forked child, which reports its own cases; the case `name` passes when
 * it ended with every one of them passed. */
static void in_child(const char *name, void (*body)(void)) {
    pid_t pid = fork();
    if (pid == 0) {
        /* Only its own cases count for its status. */
        k42_failures = 0;
        body();
        fflush(stdout);
        _exit(k42_failures ? 1 : 0);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    CHECK(name, WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
}

static void root_keeps_saved_zero(void) {
    CHECK("setresuid_drop", setresuid(USER, USER, 0) == 0 && res_uid_is(USER, USER, 0),
          "ids %s", res_uid());
    CHECK("dropped_euid", geteuid() == USER && getuid() == USER, "getuid %u geteuid %u",
          getuid(), geteuid());
    CHECK_ERR("dropped_cannot_setuid_other", setuid(OTHER), EPERM);
    CHECK("seteuid_back_to_saved_zero", seteuid(0) == 0 && res_uid_is(USER, 0, 0), "ids %s",
          res_uid());
    /* Privileged again: anything goes. */
    CHECK("root_again_sets_anything", setresuid(OTHER, OTHER, OTHER) == 0 &&
                                          res_uid_is(OTHER, OTHER, OTHER),
          "ids %s", res_uid());
}

static void setuid_is_for_good(void) {
    CHECK_ERR("setuid_minus_one_einval", setuid((uid_t)-1), EINVAL);
    CHECK("setuid_all", setuid(USER) == 0 && res_uid_is(USER, USER, USER), "ids %s", res_uid());
    CHECK_ERR("no_setuid_back", setuid(0), EPERM);
    CHECK_ERR("no_seteuid_back", seteuid(0), EPERM);
    CHECK_ERR("no_setreuid_back", setreuid(0, -1), EPERM);
    CHECK_ERR("no_setresuid_back", setresuid(-1, -1, 0), EPERM);
    CHECK("still_user", res_uid_is(USER, USER, USER), "ids %s", res_uid());
    /* The gids too are root's business only. */
    CHECK_ERR("unprivileged_setgid_eperm", setgid(5), EPERM);
    CHECK_ERR("unprivileged_setgroups_eperm", setgroups(0, NULL), EPERM);
}

static void unprivileged_setuid(void) {
    /* Real USER, effective OTHER, saved THIRD: setuid moves only the effective id, and only
     * to the real or the saved one. */
    setresuid(USER, OTHER, THIRD);
    CHECK("setuid_to_saved", setuid(THIRD) == 0 && res_uid_is(USER, THIRD, THIRD), "ids %s",
          res_uid());
    CHECK("setuid_to_real", setuid(USER) == 0 && res_uid_is(USER, USER, THIRD), "ids %s",
          res_uid());
    CHECK_ERR("setuid_to_former_effective", setuid(OTHER), EPERM);
    CHECK_ERR("setresuid_foreign", setresuid(-1, STRANGER, -1), EPERM);
    CHECK("setresuid_own_ids", setresuid(THIRD, USER, USER) == 0 && res_uid_is(THIRD, USER, USER),
          "ids %s", res_uid());
}

static void setreuid_saved_rule(void) {
    /* Setting the real id makes the saved id the new effective one. */
    CHECK("setreuid_both", setreuid(USER, OTHER) == 0 && res_uid_is(USER, OTHER, OTHER),
          "ids %s", res_uid());
    /* The effective id back to the real one: the saved id stays. */
    CHECK("setreuid_effective_to_real", setreuid(-1, USER) == 0 && res_uid_is(USER, USER, OTHER),
          "ids %s", res_uid());
    /* To the saved one, which is not the real one: the saved id follows (it is the same). */
    CHECK("setreuid_effective_to_saved", setreuid(-1, OTHER) == 0 &&
                                             res_uid_is(USER, OTHER, OTHER),
          "ids %s", res_uid());
    /* The real id to the effective one: allowed, and the saved id follows. */
    CHECK("setreuid_real_to_effective", setreuid(OTHER, -1) == 0 &&
                                            res_uid_is(OTHER, OTHER, OTHER),
          "ids %s", res_uid());
    CHECK_ERR("setreuid_real_to_foreign", setreuid(USER, -1), EPERM);
}

static void gid_twins(void) {
    CHECK_ERR("setgid_minus_one_einval", setgid((gid_t)-1), EINVAL);
    CHECK("setregid_both", setregid(100, 200) == 0 && res_gid_is(100, 200, 200), "gids %s",
          res_gid());
    CHECK("setresgid_keeps_saved", setresgid(-1, 100, 0) == 0 && res_gid_is(100, 100, 0),
          "gids %s", res_gid());
    setresuid(USER, USER, USER);
    /* Unprivileged now: the gid moves only among its own ids. */
    CHECK("setgid_to_saved", setgid(0) == 0 && res_gid_is(100, 0, 0), "gids %s", res_gid());
    CHECK_ERR("setgid_foreign", setgid(5), EPERM);
    CHECK_ERR("setregid_foreign", setregid(5, -1), EPERM);
    CHECK("getgid_getegid", getgid() == 100 && getegid() == 0, "getgid %u getegid %u", getgid(),
          getegid());
}

static void fs_ids(void) {
    CHECK("setfsuid_root", setfsuid(USER) == 0, "setfsuid(USER) did not return 0");
    CHECK("setfsuid_query", setfsuid(-1) == USER, "fsuid is not USER");
    CHECK("setfsuid_back", setfsuid(0) == USER && setfsuid(-1) == 0, "fsuid not back to 0");
    /* Every set*uid makes the filesystem id the effective one. */
    setfsuid(OTHER);
    setresuid(USER, USER, USER);
    CHECK("fsuid_follows_euid", setfsuid(-1) == USER, "fsuid %d", setfsuid(-1));
    /* Refused silently, the old id returned all the same. */
    CHECK("setfsuid_refused", setfsuid(0) == USER && setfsuid(-1) == USER,
          "an unprivileged setfsuid(0) changed the fsuid");
    CHECK("setfsgid_refused", setfsgid(FSGROUP) == 0 && setfsgid(-1) == 0,
          "an unprivileged setfsgid changed the fsgid");
}

/* Makes a new file at `path` with `mode`, owned by root and `gid`, with a line in it. */
static void make_file(const char *path, mode_t mode, gid_t gid) {
    unlink(path);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    write(fd, "secret\n", 7);
    fchown(fd, 0, gid);
    fchmod(fd, mode);
    close(fd);
}

static void files_follow_the_change(void) {
    setresuid(USER, USER, 0);
    CHECK_ERR("root_file_eacces", open(SECRET, O_RDONLY), EACCES);
    struct stat st;
    CHECK_ERR("closed_dir_not_searchable", stat(CLOSED_FILE, &st), EACCES);
    CHECK_ERR("mkdir_in_roots_dir_eacces", mkdir(OPEN_DIR "/new", 0755), EACCES);
    /* The saved 0 allows fsuid 0: root's file access, not root's id. */
    CHECK("setfsuid_zero_by_saved", setfsuid(0) == USER, "setfsuid(0) did not return USER");
    int fd = open(SECRET, O_RDONLY);
    CHECK("fsuid_zero_opens", fd >= 0, "open: %s", strerror(errno));
    close(fd);
    CHECK("fsuid_zero_searches", stat(CLOSED_FILE, &st) == 0, "stat: %s", strerror(errno));
    CHECK("fsuid_zero_mkdir", mkdir(OPEN_DIR "/new", 0755) == 0 && stat(OPEN_DIR "/new", &st) == 0 &&
                                  st.st_uid == 0,
          "mkdir: %s, owner %u", strerror(errno), st.st_uid);
    /* access(2) asks with the real ids; AT_EACCESS with the filesystem ones. */
    CHECK_ERR("access_uses_real_ids", access(SECRET, R_OK), EACCES);
    CHECK("eaccess_uses_fs_ids", faccessat(AT_FDCWD, SECRET, R_OK, AT_EACCESS) == 0,
          "faccessat(AT_EACCESS): %s", strerror(errno));
    setfsuid(USER);
    CHECK_ERR("fsuid_user_again", open(SECRET, O_RDONLY), EACCES);
    CHECK_ERR("geteuid_still_user_for_eaccess", faccessat(AT_FDCWD, SECRET, R_OK, AT_EACCESS),
              EACCES);
}

static void files_after_setuid(void) {
    setuid(USER);
    CHECK("no_fsuid_zero_after_setuid", setfsuid(0) == USER && setfsuid(-1) == USER,
          "fsuid changed");
    CHECK_ERR("root_file_still_eacces", open(SECRET, O_RDONLY), EACCES);
}

static void group_files(void) {
    gid_t groups[] = {7, GROUP};
    setgroups(2, groups);
    setfsgid(FSGROUP);
    setresuid(USER, USER, USER);
    int fd = open(GROUP_FILE, O_RDONLY);
    CHECK("supplementary_group_reads", fd >= 0, "open: %s", strerror(errno));
    close(fd);
    fd = open(FSGID_FILE, O_RDONLY);
    CHECK("fsgid_reads", fd >= 0, "open: %s", strerror(errno));
    close(fd);
}

static void no_groups(void) {
    setgroups(0, NULL);
    setresuid(USER, USER, USER);
    CHECK_ERR("without_the_group_eacces", open(GROUP_FILE, O_RDONLY), EACCES);
    CHECK_ERR("without_the_fsgid_eacces", open(FSGID_FILE, O_RDONLY), EACCES);
}

/* The `Name:\t...` line of /proc/self/status. */
static int status_line(const char *name, char *out, size_t size) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return 0;
    char line[256];
    size_t n = strlen(name);
    int found = 0;
    while (fgets(line, sizeof line, f))
        if (!found && strncmp(line, name, n) == 0) {
            snprintf(out, size, "%s", line);
            found = 1;
        }
    fclose(f);
    return found;
}

static void groups_round_trip(void) {
    gid_t in[] = {30, 10, 20}, out[8] = {0};
    CHECK("setgroups", setgroups(3, in) == 0, "setgroups: %s", strerror(errno));
    CHECK("getgroups_count", getgroups(0, NULL) == 3, "getgroups(0) %d", getgroups(0, NULL));
    int n = getgroups(8, out);
    CHECK("getgroups_sorted", n == 3 && out[0] == 10 && out[1] == 20 && out[2] == 30,
          "getgroups %d: %u %u %u", n, out[0], out[1], out[2]);
    CHECK_ERR("getgroups_too_small", getgroups(2, out), EINVAL);
    CHECK_ERR("getgroups_negative", getgroups(-1, out), EINVAL);
    CHECK_ERR("getgroups_efault", getgroups(3, (gid_t *)1), EFAULT);
    CHECK_ERR("setgroups_efault", setgroups(2, (gid_t *)1), EFAULT);
    CHECK_ERR("setgroups_past_ngroups_max", setgroups(PAST_NGROUPS_MAX, in), EINVAL);
    setresgid(100, 200, 300);
    setresuid(USER, OTHER, 0);
    setfsuid(0);
    char line[256];
    CHECK("status_uid", status_line("Uid:", line, sizeof line) &&
                            !strcmp(line, "Uid:\t1000\t2000\t0\t0\n"),
          "[%s]", line);
    CHECK("status_gid", status_line("Gid:", line, sizeof line) &&
                            !strcmp(line, "Gid:\t100\t200\t300\t200\n"),
          "[%s]", line);
    CHECK("status_groups", status_line("Groups:", line, sizeof line) &&
                               !strcmp(line, "Groups:\t10 20 30 \n"),
          "[%s]", line);
    /* Unprivileged: EPERM before the size or the list is looked at. */
    CHECK_ERR("setgroups_eperm_first", setgroups(PAST_NGROUPS_MAX, (gid_t *)1), EPERM);
    CHECK("groups_kept", getgroups(8, out) == 3, "getgroups changed");
}

/* A child that becomes (r, e, s), says so on the pipe `ready`, and waits to be killed. */
static pid_t target(uid_t r, uid_t e, uid_t s, const int ready[2]) {
    pid_t pid = fork();
    if (pid == 0) {
        setresuid(r, e, s);
        write(ready[1], "x", 1);
        for (;;)
            pause();
    }
    char byte;
    read(ready[0], &byte, 1);
    return pid;
}

static void kill_as_user(pid_t other_user, pid_t same_effective, pid_t saved_user) {
    setresuid(USER, USER, USER);
    CHECK_ERR("kill_other_user_eperm", kill(other_user, SIGTERM), EPERM);
    CHECK_ERR("kill_probe_other_user_eperm", kill(other_user, 0), EPERM);
    CHECK_ERR("target_effective_id_does_not_count", kill(same_effective, SIGTERM), EPERM);
    CHECK("target_saved_id_counts", kill(saved_user, 0) == 0, "kill: %s", strerror(errno));
    CHECK("sigcont_same_session", kill(other_user, SIGCONT) == 0, "kill(SIGCONT): %s",
          strerror(errno));
    CHECK("kill_self", kill(getpid(), 0) == 0, "kill(self): %s", strerror(errno));
}

static void kill_between_users(void) {
    int ready[2];
    pipe(ready);
    pid_t other = target(OTHER, OTHER, OTHER, ready);
    pid_t effective = target(OTHER, USER, OTHER, ready);
    pid_t saved = target(OTHER, OTHER, USER, ready);
    pid_t pid = fork();
    if (pid == 0) {
        k42_failures = 0;
        kill_as_user(other, effective, saved);
        fflush(stdout);
        _exit(k42_failures ? 1 : 0);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    CHECK("kill_child", WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
    pid_t targets[] = {other, effective, saved};
    for (int i = 0; i < 3; i++)
        kill(targets[i], SIGKILL);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    int r = waitid(P_PID, other, &info, WEXITED);
    CHECK("waitid_si_uid_is_childs_real_uid", r == 0 && info.si_uid == OTHER &&
                                                  info.si_status == SIGKILL,
          "waitid %d: si_uid %u si_status %d", r, info.si_uid, info.si_status);
    waitpid(effective, NULL, 0);
    waitpid(saved, NULL, 0);
    close(ready[0]);
    close(ready[1]);
}

/* The value of auxiliary vector entry `type` as the kernel passed it (0 if absent): read
 * past the environment's end on the start-up stack, since musl's getauxval(AT_SECURE)
 * answers from its own reckoning of the ids instead. */
static unsigned long raw_auxv(unsigned long type) {
    char **end = environ;
    while (*end)
        end++;
    for (unsigned long *a = (unsigned long *)(end + 1); a[0] != AT_NULL; a += 2)
        if (a[0] == type)
            return a[1];
    return 0;
}

/* The exec'd program (EXEC_FLAG): ruid USER, euid OTHER from before the exec. */
static int exec_check(void) {
    CHECK("exec_getuid", getuid() == USER && geteuid() == OTHER, "getuid %u geteuid %u",
          getuid(), geteuid());
    CHECK("exec_auxv", getauxval(AT_UID) == USER && getauxval(AT_EUID) == OTHER &&
                           getauxval(AT_GID) == 100 && getauxval(AT_EGID) == 100,
          "AT_UID %lu AT_EUID %lu AT_GID %lu AT_EGID %lu", getauxval(AT_UID), getauxval(AT_EUID),
          getauxval(AT_GID), getauxval(AT_EGID));
    CHECK("exec_at_secure", raw_auxv(AT_SECURE) == 1, "AT_SECURE %lu", raw_auxv(AT_SECURE));
    /* The saved 0 from before the exec is gone: the saved id is the effective one. */
    CHECK("exec_saved_is_effective", res_uid_is(USER, OTHER, OTHER), "ids %s", res_uid());
    CHECK_ERR("exec_no_way_back", seteuid(0), EPERM);
    return k42_done();
}

static char *self_path;

static void exec_sees_new_ids(void) {
    setresgid(100, 100, 100);
    setresuid(USER, OTHER, 0);
    char *argv[] = {self_path, EXEC_FLAG, NULL};
    execv(self_path, argv);
    FAIL("exec", "execv(%s): %s", self_path, strerror(errno));
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], EXEC_FLAG))
        return exec_check();
    self_path = argv[0];
    CHECK("runs_as_root", getuid() == 0 && geteuid() == 0, "uid %u euid %u", getuid(), geteuid());
    mkdir("/tmp", 0777);
    make_file(SECRET, 0600, 0);
    mkdir(CLOSED_DIR, 0700);
    chmod(CLOSED_DIR, 0700);
    make_file(CLOSED_FILE, 0644, 0);
    rmdir(OPEN_DIR "/new");
    mkdir(OPEN_DIR, 0755);
    chmod(OPEN_DIR, 0755);
    make_file(GROUP_FILE, 0640, GROUP);
    make_file(FSGID_FILE, 0640, FSGROUP);

    in_child("root_keeps_saved_zero", root_keeps_saved_zero);
    in_child("setuid_is_for_good", setuid_is_for_good);
    in_child("unprivileged_setuid", unprivileged_setuid);
    in_child("setreuid_saved_rule", setreuid_saved_rule);
    in_child("gid_twins", gid_twins);
    in_child("fs_ids", fs_ids);
    in_child("files_follow_the_change", files_follow_the_change);
    in_child("files_after_setuid", files_after_setuid);
    in_child("group_files", group_files);
    in_child("no_groups", no_groups);
    in_child("groups_round_trip", groups_round_trip);
    kill_between_users();
    in_child("exec_sees_new_ids", exec_sees_new_ids);
    /* The parent's own ids never moved. */
    CHECK("parent_still_root", res_uid_is(0, 0, 0) && res_gid_is(0, 0, 0), "ids %s gids %s",
          res_uid(), res_gid());
    return k42_done();
}
