/*
 * procfs: what /proc shows of processes, checked against the process's own syscalls so
 * that it holds on Linux and K42 alike: /proc/self/stat's first fields (pid, comm in
 * parentheses, state, ppid, pgrp, session), /proc/self/status's Name/State/Pid/PPid/Uid/
 * Gid lines, /proc/self/cmdline as the NUL-separated argv (procfs.args gives arguments
 * with spaces), /proc/self/comm; the files' metadata (regular, 0444, size 0), reads at
 * offsets, writes refused; /proc and /proc/PID as directories; a forked child in the
 * listing, seeing its parent asleep, a zombie after its exit and before waitpid, gone
 * (ENOENT) after it; /proc/uptime and /proc/meminfo against sysinfo(2); chdir into
 * /proc/self; busybox `ps` finding this process (the "ps" applet, by exec); and a
 * rename by prctl(PR_SET_NAME) and by writing /proc/self/comm showing in /proc (last: it
 * changes the name).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "k42test.h"
#include "proctest.h"

/* Linux's TASK_COMM_LEN less its NUL: the longest comm. */
#define COMM_MAX 15
/* Fields of /proc/PID/stat in Linux 6.1 (do_task_stat). */
#define STAT_FIELDS 52
/* Big enough for any of the files read here. */
#define TEXT_MAX 8192
/* How long a process may take to be seen asleep or a zombie, in steps of STEP_NS. */
#define ZOMBIE_STEPS 500
#define STEP_NS 10000000L
/* The exit code the child leaves (any code but 0 shows it came through). */
#define CHILD_CODE 3
/* Seconds /proc/uptime and sysinfo may differ by (two reads a moment apart). */
#define UPTIME_SLACK 2.0
/* Bytes in a KiB: /proc/meminfo's unit. */
#define KIB 1024UL
/* Where busybox is on both OSes' root file systems. */
#define BUSYBOX "/bin/busybox"

static char comm[COMM_MAX + 1];

/* The fields of a stat line after "pid (comm)": state, ppid, pgrp, session. */
struct stat_line {
    int pid;
    char comm[COMM_MAX + 1];
    char state;
    int ppid, pgrp, session;
    int fields; /* all fields, comm counted as one */
};

static int parse_stat(const char *text, struct stat_line *s) {
    const char *open = strchr(text, '(');
    const char *close = strrchr(text, ')');
    if (!open || !close || close < open || (size_t)(close - open - 1) > COMM_MAX)
        return -1;
    s->pid = atoi(text);
    memcpy(s->comm, open + 1, (size_t)(close - open - 1));
    s->comm[close - open - 1] = '\0';
    if (sscanf(close + 1, " %c %d %d %d", &s->state, &s->ppid, &s->pgrp, &s->session) != 4)
        return -1;
    s->fields = 2;
    for (const char *p = close + 1; *p; p++)
        if (*p == ' ')
            s->fields++;
    return 0;
}

static int read_stat(int pid, struct stat_line *s) {
    char path[64], text[TEXT_MAX];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (slurp(path, text, sizeof text) < 0)
        return -1;
    return parse_stat(text, s);
}

/* The value after "Key:\t" in a status text, up to the line's end, or NULL. */
static const char *status_field(const char *status, const char *key, char *out, size_t cap) {
    size_t klen = strlen(key);
    for (const char *line = status; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':' && line[klen + 1] == '\t') {
            const char *v = line + klen + 2;
            size_t n = strcspn(v, "\n");
            if (n >= cap)
                n = cap - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return out;
        }
    }
    return NULL;
}

static void self_stat(void) {
    struct stat_line s;
    char text[TEXT_MAX];
    if (slurp("/proc/self/stat", text, sizeof text) < 0 || parse_stat(text, &s) < 0) {
        FAIL("self_stat", "cannot read or parse /proc/self/stat: %s", strerror(errno));
        return;
    }
    CHECK("self_stat_ids",
          s.pid == getpid() && s.ppid == getppid() && s.pgrp == getpgrp() && s.session == getsid(0),
          "pid %d ppid %d pgrp %d session %d, expected %d %d %d %d", s.pid, s.ppid, s.pgrp,
          s.session, getpid(), getppid(), getpgrp(), getsid(0));
    CHECK("self_stat_comm_and_state", strcmp(s.comm, comm) == 0 && s.state == 'R',
          "comm (%s) state %c, expected (%s) R", s.comm, s.state, comm);
    CHECK("self_stat_fields", s.fields == STAT_FIELDS && text[strlen(text) - 1] == '\n',
          "%d fields, expected %d and a newline: %s", s.fields, STAT_FIELDS, text);
}

static void self_status(void) {
    char text[TEXT_MAX], v[128], want[128];
    if (slurp("/proc/self/status", text, sizeof text) < 0) {
        FAIL("self_status", "cannot read /proc/self/status: %s", strerror(errno));
        return;
    }
    CHECK("status_name", status_field(text, "Name", v, sizeof v) && strcmp(v, comm) == 0,
          "Name [%s], expected [%s]", status_field(text, "Name", v, sizeof v) ? v : "(none)", comm);
    CHECK("status_state", status_field(text, "State", v, sizeof v) && strcmp(v, "R (running)") == 0,
          "State [%s]", status_field(text, "State", v, sizeof v) ? v : "(none)");
    int pid = status_field(text, "Pid", v, sizeof v) ? atoi(v) : -1;
    int ppid = status_field(text, "PPid", v, sizeof v) ? atoi(v) : -1;
    CHECK("status_pid_ppid", pid == getpid() && ppid == getppid(), "Pid %d PPid %d, expected %d %d",
          pid, ppid, getpid(), getppid());
    /* Real, effective, saved and file-system ids: nothing here changes them apart. */
    snprintf(want, sizeof want, "%u\t%u\t%u\t%u", getuid(), geteuid(), geteuid(), geteuid());
    CHECK("status_uid", status_field(text, "Uid", v, sizeof v) && strcmp(v, want) == 0,
          "Uid [%s], expected [%s]", status_field(text, "Uid", v, sizeof v) ? v : "(none)", want);
    snprintf(want, sizeof want, "%u\t%u\t%u\t%u", getgid(), getegid(), getegid(), getegid());
    CHECK("status_gid", status_field(text, "Gid", v, sizeof v) && strcmp(v, want) == 0,
          "Gid [%s], expected [%s]", status_field(text, "Gid", v, sizeof v) ? v : "(none)", want);
}

/* argv as /proc/PID/cmdline has it: each argument with its NUL. */
static size_t join_argv(int argc, char **argv, char *out, size_t cap) {
    size_t n = 0;
    for (int i = 0; i < argc; i++) {
        size_t len = strlen(argv[i]) + 1;
        if (n + len > cap)
            break;
        memcpy(out + n, argv[i], len);
        n += len;
    }
    return n;
}

static void self_cmdline(int argc, char **argv) {
    char text[TEXT_MAX], want[TEXT_MAX];
    ssize_t n = slurp("/proc/self/cmdline", text, sizeof text);
    size_t wn = join_argv(argc, argv, want, sizeof want);
    CHECK("self_cmdline", n == (ssize_t)wn && memcmp(text, want, wn) == 0,
          "read %zd bytes, expected the %zu of argv (argc %d)", n, wn, argc);
    n = slurp("/proc/self/comm", text, sizeof text);
    CHECK("self_comm", n == (ssize_t)strlen(comm) + 1 && strncmp(text, comm, strlen(comm)) == 0 &&
                           text[n - 1] == '\n',
          "comm file [%s], expected [%s\\n]", text, comm);
}

static void metadata(void) {
    struct stat st;
    int fd = open("/proc/self/stat", O_RDONLY);
    int ok = fd >= 0 && fstat(fd, &st) == 0;
    CHECK("fstat_file", ok && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0444 && st.st_size == 0,
          "ok %d mode %o size %lld", ok, ok ? st.st_mode : 0, ok ? (long long)st.st_size : -1LL);
    if (fd >= 0) {
        char whole[TEXT_MAX] = "", part[8] = "";
        ssize_t n = read(fd, whole, sizeof whole - 1);
        whole[n > 0 ? n : 0] = '\0';
        ssize_t p = pread(fd, part, 5, 2);
        off_t back = lseek(fd, 0, SEEK_SET);
        char again[TEXT_MAX];
        ssize_t m = read(fd, again, sizeof again - 1);
        /* Linux makes the text anew at each read: only "pid (comm)" is sure to stay. */
        size_t stable = n > 0 ? strcspn(whole, ")") : 0;
        CHECK("pread_and_lseek",
              n > 7 && p == 5 && memcmp(part, whole + 2, 5) == 0 && back == 0 && m > 7 &&
                  memcmp(again, whole, stable) == 0,
              "read %zd, pread %zd, lseek %lld, read again %zd", n, p, (long long)back, m);
        CHECK_ERR("lseek_end_einval", lseek(fd, 0, SEEK_END), EINVAL);
        CHECK_ERR("write_read_only_fd_ebadf", write(fd, "x", 1), EBADF);
        close(fd);
    }
    ok = stat("/proc/self/comm", &st) == 0;
    CHECK("comm_mode", ok && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644,
          "ok %d mode %o", ok, ok ? st.st_mode : 0);
    /* Writing: root may open, but the file takes no write; others may not open. */
    errno = 0;
    fd = open("/proc/self/stat", O_WRONLY);
    if (geteuid() == 0) {
        ssize_t w = fd >= 0 ? write(fd, "x", 1) : 0;
        CHECK("write_refused", fd >= 0 && w == -1 && errno == EINVAL,
              "open %d, write %zd errno %d (%s), expected an open and EINVAL", fd, w, errno,
              strerror(errno));
    } else {
        CHECK("write_refused", fd == -1 && errno == EACCES, "open %d errno %d", fd, errno);
    }
    if (fd >= 0)
        close(fd);
    CHECK_ERR("unlink_eperm", unlink("/proc/self/stat"), EPERM);
    CHECK_ERR("creat_enoent", open("/proc/newfile", O_CREAT | O_WRONLY, 0644), ENOENT);
    CHECK_ERR("trailing_slash_enotdir", open("/proc/self/stat/", O_RDONLY), ENOTDIR);
    CHECK_ERR("dir_for_writing_eisdir", open("/proc", O_WRONLY), EISDIR);
    CHECK_ERR("nofollow_self_eloop", open("/proc/self", O_RDONLY | O_NOFOLLOW), ELOOP);
    CHECK_ERR("pid_zero_enoent", open("/proc/0/stat", O_RDONLY), ENOENT);

    char link[32] = "", want[32];
    ssize_t ln = readlink("/proc/self", link, sizeof link - 1);
    snprintf(want, sizeof want, "%d", getpid());
    CHECK("self_link", ln == (ssize_t)strlen(want) && strncmp(link, want, (size_t)ln) == 0,
          "readlink gave %zd [%.*s], expected [%s]", ln, (int)(ln > 0 ? ln : 0), link, want);
    ok = lstat("/proc/self", &st) == 0 && S_ISLNK(st.st_mode);
    int dir = stat("/proc/self", &st) == 0 && S_ISDIR(st.st_mode);
    char mine[64];
    snprintf(mine, sizeof mine, "/proc/%d/", getpid());
    int owned = stat(mine, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid();
    CHECK("dirs_and_links", ok && dir && owned, "lstat link %d, stat dir %d, %s owned by %u: %d",
          ok, dir, mine, geteuid(), owned);
    CHECK("access", access("/proc/self/status", R_OK) == 0 && access("/proc", X_OK) == 0,
          "access: %s", strerror(errno));

    fd = open("/proc", O_RDONLY | O_DIRECTORY);
    char c;
    CHECK_ERR("read_dir_eisdir", read(fd, &c, 1), EISDIR);
    if (fd >= 0)
        close(fd);
}

static void listing(void) {
    char me[16];
    snprintf(me, sizeof me, "%d", getpid());
    CHECK("proc_lists_self_and_me", lists("/proc", "self") && lists("/proc", me),
          "/proc lists self %d, %s %d", lists("/proc", "self"), me, lists("/proc", me));
    int all = lists("/proc/self", "stat") && lists("/proc/self", "status") &&
              lists("/proc/self", "cmdline") && lists("/proc/self", "comm");
    CHECK("pid_dir_lists_files", all, "/proc/self lacks one of stat, status, cmdline, comm");

    char cwd[PATH_MAX] = "", text[TEXT_MAX];
    int moved = chdir("/proc/self") == 0;
    int got = getcwd(cwd, sizeof cwd) != NULL;
    ssize_t n = slurp("stat", text, sizeof text);
    char want[64];
    snprintf(want, sizeof want, "/proc/%d", getpid());
    CHECK("chdir_into_proc", moved && got && strcmp(cwd, want) == 0 && n > 0,
          "chdir %d, getcwd [%s] (expected [%s]), read stat %zd", moved, cwd, want, n);
    if (chdir("/") != 0)
        FAIL("chdir_back", "chdir(/): %s", strerror(errno));
}

/* A child that blocks on a pipe; its parent looks at it through /proc. */
static void child_in_proc(int argc, char **argv) {
    int go[2], verdict[2];
    if (pipe(go) < 0 || pipe(verdict) < 0) {
        FAIL("child_pipes", "pipe: %s", strerror(errno));
        return;
    }
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0) {
        FAIL("child_fork", "fork: %s", strerror(errno));
        return;
    }
    if (child == 0) {
        close(go[1]);
        close(verdict[0]);
        /* The parent blocks reading the verdict pipe (at once, or after a few instructions
         * on another CPU): asleep, as /proc shows it. */
        struct stat_line s;
        struct timespec step = {0, STEP_NS};
        char ok = 'n';
        for (int i = 0; i < ZOMBIE_STEPS && ok == 'n'; i++) {
            ok = read_stat(parent, &s) == 0 && s.pid == parent && s.state == 'S' ? 'y' : 'n';
            if (ok == 'n')
                nanosleep(&step, NULL);
        }
        if (write(verdict[1], &ok, 1) != 1)
            _exit(1);
        char c;
        while (read(go[0], &c, 1) > 0) {
        }
        _exit(CHILD_CODE);
    }
    close(go[0]);
    close(verdict[1]);
    char ok = 'n';
    ssize_t r = read(verdict[0], &ok, 1);
    CHECK("child_sees_parent_asleep", r == 1 && ok == 'y', "the child read its parent's stat: %c", ok);

    char name[16];
    snprintf(name, sizeof name, "%d", child);
    CHECK("child_listed", lists("/proc", name), "/proc does not list the child %d", child);
    struct stat_line s;
    int got = read_stat(child, &s) == 0;
    CHECK("child_stat", got && s.pid == child && s.ppid == parent && strcmp(s.comm, comm) == 0 &&
                            (s.state == 'S' || s.state == 'R'),
          "got %d pid %d ppid %d comm (%s) state %c", got, s.pid, s.ppid, s.comm, s.state);
    char path[64], text[TEXT_MAX], want[TEXT_MAX];
    snprintf(path, sizeof path, "/proc/%d/cmdline", child);
    ssize_t n = slurp(path, text, sizeof text);
    size_t wn = join_argv(argc, argv, want, sizeof want);
    CHECK("child_cmdline_inherited", n == (ssize_t)wn && memcmp(text, want, wn) == 0,
          "read %zd bytes of the child's cmdline, expected %zu", n, wn);

    /* Its end: a zombie until collected. */
    close(go[1]);
    int zombie = 0;
    struct timespec step = {0, STEP_NS};
    for (int i = 0; i < ZOMBIE_STEPS && !zombie; i++) {
        zombie = read_stat(child, &s) == 0 && s.state == 'Z';
        if (!zombie)
            nanosleep(&step, NULL);
    }
    CHECK("child_zombie", zombie, "the child's state stayed %c", s.state);
    snprintf(path, sizeof path, "/proc/%d/status", child);
    char v[64];
    int status_z = slurp(path, text, sizeof text) > 0 && status_field(text, "State", v, sizeof v) &&
                   strcmp(v, "Z (zombie)") == 0;
    CHECK("child_status_zombie", status_z, "status State of the zombie: [%s]", v);
    snprintf(path, sizeof path, "/proc/%d/cmdline", child);
    n = slurp(path, text, sizeof text);
    CHECK("zombie_cmdline_empty", n == 0, "the zombie's cmdline has %zd bytes", n);

    int status = 0;
    pid_t w = waitpid(child, &status, 0);
    CHECK("child_reaped", w == child && WIFEXITED(status) && WEXITSTATUS(status) == CHILD_CODE,
          "waitpid %d status %#x", w, status);
    snprintf(path, sizeof path, "/proc/%d/stat", child);
    CHECK_ERR("reaped_child_enoent", open(path, O_RDONLY), ENOENT);
    snprintf(path, sizeof path, "/proc/%d", child);
    struct stat st;
    CHECK_ERR("reaped_child_dir_enoent", stat(path, &st), ENOENT);
    CHECK("reaped_child_unlisted", !lists("/proc", name), "/proc still lists %s", name);
    close(verdict[0]);
}

static void system_files(void) {
    struct sysinfo si;
    char text[TEXT_MAX];
    double up = -1, idle = -1;
    int read_ok = slurp("/proc/uptime", text, sizeof text) > 0 &&
                  sscanf(text, "%lf %lf", &up, &idle) == 2;
    int si_ok = sysinfo(&si) == 0;
    CHECK("uptime", read_ok && si_ok && up > 0 && idle >= 0 &&
                        up - (double)si.uptime < UPTIME_SLACK && (double)si.uptime - up < UPTIME_SLACK,
          "/proc/uptime [%s], sysinfo uptime %ld", text, si_ok ? (long)si.uptime : -1L);

    unsigned long total = 0, free_kib = 0;
    int have = slurp("/proc/meminfo", text, sizeof text) > 0;
    for (char *line = text; have && line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        sscanf(line, "MemTotal: %lu kB", &total);
        sscanf(line, "MemFree: %lu kB", &free_kib);
    }
    unsigned long si_total = si_ok ? si.totalram * si.mem_unit / KIB : 0;
    CHECK("meminfo", have && total > 0 && free_kib > 0 && free_kib <= total && total == si_total,
          "MemTotal %lu kB, MemFree %lu kB, sysinfo total %lu kB", total, free_kib, si_total);
}

/* busybox ps, run as the "ps" applet in a child: this process's line is in its output. */
static void busybox_ps(void) {
    int out[2];
    if (pipe(out) < 0) {
        FAIL("ps", "pipe: %s", strerror(errno));
        return;
    }
    pid_t child = fork();
    if (child == 0) {
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        char *args[] = {"ps", "-o", "pid,ppid,comm", NULL};
        execv(BUSYBOX, args);
        _exit(127);
    }
    close(out[1]);
    char text[TEXT_MAX];
    size_t got = 0;
    for (ssize_t n; got < sizeof text - 1 && (n = read(out[0], text + got, sizeof text - 1 - got)) > 0;)
        got += (size_t)n;
    text[got] = '\0';
    close(out[0]);
    int status = 0;
    waitpid(child, &status, 0);
    int mine = 0, its = 0;
    for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        int pid = 0, ppid = 0;
        char name[COMM_MAX + 2] = "";
        if (sscanf(line, "%d %d %16s", &pid, &ppid, name) != 3)
            continue;
        mine |= pid == getpid() && ppid == getppid() && strcmp(name, comm) == 0;
        /* Its own comm is the base name of the file it executed. */
        its |= pid == child && ppid == getpid() && strcmp(name, "busybox") == 0;
    }
    CHECK("ps_lists_me_and_itself", WIFEXITED(status) && WEXITSTATUS(status) == 0 && mine && its,
          "status %#x, my line %d, its line %d: %s", status, mine, its, text);
}

/* prctl(PR_SET_NAME): the new name (cut to 15 bytes) in comm and stat, the command line
 * unchanged. */
static void rename_self(int argc, char **argv) {
    const char *name = "renamed-procfs-test";
    char want[COMM_MAX + 1], got[COMM_MAX + 2] = "", text[TEXT_MAX], args[TEXT_MAX];
    /* The name is longer than COMM_MAX: its first COMM_MAX bytes. */
    memcpy(want, name, COMM_MAX);
    want[COMM_MAX] = '\0';
    int set = prctl(PR_SET_NAME, name, 0, 0, 0) == 0;
    int get = prctl(PR_GET_NAME, got, 0, 0, 0) == 0;
    CHECK("prctl_name", set && get && strcmp(got, want) == 0, "set %d get %d [%s], expected [%s]",
          set, get, got, want);
    ssize_t n = slurp("/proc/self/comm", text, sizeof text);
    struct stat_line s;
    int parsed = read_stat(getpid(), &s) == 0;
    CHECK("renamed_in_proc", n == (ssize_t)strlen(want) + 1 && strncmp(text, want, strlen(want)) == 0 &&
                                 parsed && strcmp(s.comm, want) == 0,
          "comm file [%s], stat (%s)", text, parsed ? s.comm : "?");
    n = slurp("/proc/self/cmdline", text, sizeof text);
    size_t wn = join_argv(argc, argv, args, sizeof args);
    CHECK("rename_keeps_cmdline", n == (ssize_t)wn && memcmp(text, args, wn) == 0,
          "cmdline has %zd bytes, expected %zu", n, wn);

    /* Its own comm file takes a new name too (as written: no newline here). */
    const char *other = "via-comm-file";
    int fd = open("/proc/self/comm", O_WRONLY);
    ssize_t w = fd >= 0 ? write(fd, other, strlen(other)) : -1;
    if (fd >= 0)
        close(fd);
    n = slurp("/proc/self/comm", text, sizeof text);
    CHECK("comm_file_renames", w == (ssize_t)strlen(other) && n == (ssize_t)strlen(other) + 1 &&
                                   strncmp(text, other, strlen(other)) == 0,
          "open %d, write %zd, comm now [%s]", fd, w, text);
}

int main(int argc, char **argv) {
    const char *base = strrchr(argv[0], '/');
    snprintf(comm, sizeof comm, "%s", base ? base + 1 : argv[0]);
    self_stat();
    self_status();
    self_cmdline(argc, argv);
    metadata();
    listing();
    child_in_proc(argc, argv);
    system_files();
    busybox_ps();
    rename_self(argc, argv);
    return k42_done();
}
