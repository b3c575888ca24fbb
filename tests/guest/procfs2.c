/*
 * procfs2: /proc beyond the process files of procfs.c — the system-wide files and what a
 * process sees of itself — checked against the process's own syscalls so that it holds on
 * Linux and K42 alike, and the busybox tools that read them.
 *
 * Cases: /proc/stat's lines in Linux's order (cpu, cpuN, intr, ctxt, btime against
 * time(2) less sysinfo's uptime, processes, procs_running, procs_blocked, softirq);
 * /proc/loadavg's fields and its last pid against a fresh fork; /proc/version against
 * uname(2); /proc/mounts as the link to self/mounts, with the root and /proc;
 * /proc/filesystems; /proc/cpuinfo's CPUs against /proc/stat's and its names against
 * CPUID; /proc/self/fd listing and its links (a file, both ends of a pipe, /dev/null; the
 * modes by access; a closed descriptor gone; following a file's link reaches the file);
 * /proc/self/task and a thread's own directory; /proc/self/maps (the program's text and
 * its file, the stack, an anonymous mapping split by mprotect, the heap after brk, the
 * layout); and busybox top -b -n 1, free, uptime, pidof, ls -l /proc/self/fd and cat
 * /proc/self/maps run with their expected lines (Debian's busybox has no pgrep applet).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "k42test.h"
#include "proctest.h"

/* Big enough for any of the files read here. */
#define TEXT_MAX 65536
/* Seconds btime and time(2) less the uptime may differ by (rounding, two reads). */
#define BTIME_SLACK 2
/* Fields of a cpu line after its name (Linux 6.1). */
#define CPU_FIELDS 10
/* Where a maps line's name starts (Linux's seq_setwidth(25 + 6 * sizeof(void *) - 1),
 * then one space). */
#define MAPS_NAME_COLUMN 73
/* Pages of the anonymous mapping whose middle page mprotect splits off. */
#define MAP_PAGES 3
/* Pages brk grows the heap by. */
#define BRK_PAGES 3
/* Where busybox is on both OSes' root file systems. */
#define BUSYBOX "/bin/busybox"
/* The file whose descriptor /proc/self/fd shows. */
#define FD_FILE "/tmp/procfs2.fd"
/* The descriptor the busybox ls child inherits it at, and one closed to check it is gone:
 * above any the test opens, so no pipe or directory stream takes their numbers. */
#define INHERITED_FD 20
#define CLOSED_FD 21

static long page;

/* The line after `line` (NULL at the end). */
static const char *next_line(const char *line) {
    const char *nl = strchr(line, '\n');
    return nl && nl[1] ? nl + 1 : NULL;
}

/* Whether `line` starts with `prefix`. */
static int starts(const char *line, const char *prefix) {
    return strncmp(line, prefix, strlen(prefix)) == 0;
}

/* How many space-separated numbers follow `prefix` on `line` up to its end (-1 for a
 * non-number). */
static int numbers_after(const char *line, const char *prefix) {
    const char *p = line + strlen(prefix);
    int n = 0;
    while (*p && *p != '\n') {
        if (*p++ != ' ')
            return -1;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9')
            p++;
        n++;
    }
    return n;
}

/* The number of cpuN lines of /proc/stat (-1 if unreadable). */
static int stat_cpus(void) {
    static char text[TEXT_MAX];
    if (slurp("/proc/stat", text, sizeof text) <= 0)
        return -1;
    int n = 0;
    for (const char *l = text; l; l = next_line(l)) {
        char want[32];
        snprintf(want, sizeof want, "cpu%d ", n);
        if (starts(l, want))
            n++;
    }
    return n;
}

static void proc_stat(void) {
    static char text[TEXT_MAX];
    if (slurp("/proc/stat", text, sizeof text) <= 0) {
        FAIL("stat_lines", "cannot read /proc/stat: %s", strerror(errno));
        return;
    }
    /* The keys in Linux's order, each once, with its count of numbers (0: any). */
    static const struct {
        const char *key;
        int numbers;
    } keys[] = {{"intr", 0},          {"ctxt", 1},          {"btime", 1},   {"processes", 1},
                {"procs_running", 1}, {"procs_blocked", 1}, {"softirq", 11}};
    const char *l = text;
    /* The sum line: "cpu", two spaces, the fields. */
    int ok = starts(l, "cpu  ") && numbers_after(l, "cpu ") == CPU_FIELDS;
    int cpus = 0;
    for (l = next_line(l); l && starts(l, "cpu"); l = next_line(l)) {
        char name[32];
        snprintf(name, sizeof name, "cpu%d", cpus);
        ok &= starts(l, name) && numbers_after(l, name) == CPU_FIELDS;
        cpus++;
    }
    size_t k = 0;
    for (; l && k < sizeof keys / sizeof keys[0]; l = next_line(l), k++) {
        char key[32];
        snprintf(key, sizeof key, "%s ", keys[k].key);
        int n = starts(l, key) ? numbers_after(l, keys[k].key) : -1;
        ok &= n >= 1 && (keys[k].numbers == 0 || n == keys[k].numbers);
    }
    CHECK("stat_lines", ok && cpus >= 1 && k == sizeof keys / sizeof keys[0],
          "cpus %d, keys matched %zu, ok %d: %.300s", cpus, k, ok, text);

    unsigned long long btime = 0, processes = 0, running = 0;
    for (l = text; l; l = next_line(l)) {
        sscanf(l, "btime %llu", &btime);
        sscanf(l, "processes %llu", &processes);
        sscanf(l, "procs_running %llu", &running);
    }
    struct sysinfo si;
    int si_ok = sysinfo(&si) == 0;
    long long booted = (long long)time(NULL) - (si_ok ? si.uptime : 0);
    long long off = (long long)btime - booted;
    CHECK("stat_btime", si_ok && off <= BTIME_SLACK && off >= -BTIME_SLACK,
          "btime %llu, time less uptime %lld", btime, booted);
    CHECK("stat_counts", processes >= 1 && running >= 1, "processes %llu procs_running %llu",
          processes, running);
}

static void loadavg(void) {
    char text[256];
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    double l1 = -1, l5 = -1, l15 = -1;
    int running = -1, total = -1, last = -1;
    int n = slurp("/proc/loadavg", text, sizeof text) > 0
                ? sscanf(text, "%lf %lf %lf %d/%d %d", &l1, &l5, &l15, &running, &total, &last)
                : 0;
    waitpid(child, NULL, 0);
    CHECK("loadavg", n == 6 && l1 >= 0 && l5 >= 0 && l15 >= 0 && running >= 1 &&
                         running <= total && last >= child && text[strlen(text) - 1] == '\n',
          "[%s]: %d fields, running %d of %d, last pid %d (a child just had %d)", text, n,
          running, total, last, child);
}

static void version(void) {
    char text[1024], head[256], tail[256];
    struct utsname u;
    int ok = slurp("/proc/version", text, sizeof text) > 0 && uname(&u) == 0;
    snprintf(head, sizeof head, "%s version %s (", u.sysname, u.release);
    snprintf(tail, sizeof tail, ") %s\n", u.version);
    size_t n = strlen(text), t = strlen(tail);
    CHECK("version", ok && starts(text, head) && n > t && strcmp(text + n - t, tail) == 0,
          "[%s], expected [%s ... %s]", text, head, tail);
}

static void mounts(void) {
    char text[4096], mine[4096], link[64] = "";
    struct stat st;
    ssize_t n = slurp("/proc/mounts", text, sizeof text);
    ssize_t m = slurp("/proc/self/mounts", mine, sizeof mine);
    ssize_t ln = readlink("/proc/mounts", link, sizeof link - 1);
    int is_link = lstat("/proc/mounts", &st) == 0 && S_ISLNK(st.st_mode);
    CHECK("mounts_link", is_link && ln == 11 && strncmp(link, "self/mounts", 11) == 0 && n > 0 &&
                             n == m && memcmp(text, mine, (size_t)n) == 0,
          "link %d [%.*s], %zd and %zd bytes", is_link, (int)(ln > 0 ? ln : 0), link, n, m);
    int root = 0, proc = 0, lines = 0, fields_ok = 1;
    for (const char *l = text; n > 0 && l; l = next_line(l)) {
        char src[64], dir[64], type[64], opts[256];
        int dump = -1, pass = -1;
        lines++;
        if (sscanf(l, "%63s %63s %63s %255s %d %d", src, dir, type, opts, &dump, &pass) != 6 ||
            dump != 0 || pass != 0) {
            fields_ok = 0;
            continue;
        }
        root |= strcmp(dir, "/") == 0 && starts(opts, "rw");
        proc |= strcmp(src, "proc") == 0 && strcmp(dir, "/proc") == 0 && strcmp(type, "proc") == 0 &&
                starts(opts, "rw,");
    }
    CHECK("mounts", fields_ok && root && proc && lines >= 2, "lines %d fields %d root %d proc %d: %s",
          lines, fields_ok, root, proc, text);
}

static void filesystems(void) {
    char text[4096];
    int ok = slurp("/proc/filesystems", text, sizeof text) > 0;
    CHECK("filesystems", ok && strstr(text, "nodev\tproc\n") && strstr(text, "nodev\tramfs\n"),
          "%s", text);
}

/* CPUID leaf `leaf`: eax, ebx, ecx, edx. */
static void cpuid(unsigned leaf, unsigned r[4]) {
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

/* The value after "key\t...: " on a cpuinfo line, or NULL. */
static const char *cpuinfo_value(const char *line, const char *key, char *out, size_t cap) {
    if (!starts(line, key))
        return NULL;
    const char *p = line + strlen(key);
    while (*p == '\t')
        p++;
    if (p[0] != ':' || p[1] != ' ')
        return NULL;
    p += 2;
    size_t n = strcspn(p, "\n");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return out;
}

static void cpuinfo(void) {
    static char text[TEXT_MAX];
    unsigned r[4];
    char vendor[13], brand[49] = "", want_brand[49] = "";
    cpuid(0, r);
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = '\0';
    cpuid(1, r);
    unsigned family = (r[0] >> 8) & 0xf, model = (r[0] >> 4) & 0xf;
    if (family == 0xf)
        family += (r[0] >> 20) & 0xff;
    if (family >= 6)
        model += ((r[0] >> 16) & 0xf) << 4;
    cpuid(0x80000000, r);
    if (r[0] >= 0x80000004) {
        for (unsigned i = 0; i < 3; i++) {
            cpuid(0x80000002 + i, r);
            memcpy(brand + 16 * i, r, 16);
        }
        brand[48] = '\0';
        const char *b = brand;
        while (*b == ' ')
            b++;
        snprintf(want_brand, sizeof want_brand, "%s", b);
        for (size_t n = strlen(want_brand); n > 0 && want_brand[n - 1] == ' '; n--)
            want_brand[n - 1] = '\0';
    }
    int ok = slurp("/proc/cpuinfo", text, sizeof text) > 0;
    int processors = 0, names_ok = 1;
    char v[128];
    for (const char *l = text; ok && l; l = next_line(l)) {
        if (cpuinfo_value(l, "processor", v, sizeof v))
            names_ok &= atoi(v) == processors++;
        if (cpuinfo_value(l, "vendor_id", v, sizeof v))
            names_ok &= strcmp(v, vendor) == 0;
        if (cpuinfo_value(l, "cpu family", v, sizeof v))
            names_ok &= (unsigned)atoi(v) == family;
        if (cpuinfo_value(l, "model", v, sizeof v))
            names_ok &= (unsigned)atoi(v) == model;
        if (cpuinfo_value(l, "model name", v, sizeof v))
            names_ok &= strcmp(v, want_brand) == 0;
    }
    int cpus = stat_cpus();
    CHECK("cpuinfo", ok && processors >= 1 && processors == cpus && names_ok,
          "%d processors, %d cpu lines in /proc/stat, names match %d (vendor %s family %u model "
          "%u name [%s])",
          processors, cpus, names_ok, vendor, family, model, want_brand);
}

/* readlink of /proc/self/fd/FD into `out` (NUL-terminated): its length, or -1. */
static ssize_t fd_link(int fd, char *out, size_t cap) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, out, cap - 1);
    out[n > 0 ? n : 0] = '\0';
    return n;
}

/* The permission bits of /proc/self/fd/FD's link (-1 if lstat fails or it is no link). */
static int fd_mode(int fd) {
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    if (lstat(path, &st) != 0 || !S_ISLNK(st.st_mode))
        return -1;
    return (int)(st.st_mode & 07777);
}

static void fds(void) {
    int file = open(FD_FILE, O_RDWR | O_CREAT | O_TRUNC, 0644);
    int pipes[2] = {-1, -1};
    int piped = pipe(pipes) == 0;
    int null = open("/dev/null", O_WRONLY);
    if (file < 0 || !piped || null < 0) {
        FAIL("fd_setup", "open %d pipe %d null %d: %s", file, piped, null, strerror(errno));
        return;
    }
    if (write(file, "contents", 8) != 8)
        FAIL("fd_setup_write", "write: %s", strerror(errno));
    char name[16];
    int listed = 1;
    int want[] = {file, pipes[0], pipes[1], null};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        snprintf(name, sizeof name, "%d", want[i]);
        listed &= lists("/proc/self/fd", name);
    }
    struct stat st;
    int dir = stat("/proc/self/fd", &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0500;
    CHECK("fd_dir_lists", listed && dir, "listed %d, directory 0500 %d", listed, dir);

    char a[PATH_MAX], b[PATH_MAX], c[PATH_MAX];
    ssize_t n = fd_link(file, a, sizeof a);
    CHECK("fd_link_file", n == (ssize_t)strlen(FD_FILE) && strcmp(a, FD_FILE) == 0, "[%s]", a);
    fd_link(pipes[0], a, sizeof a);
    fd_link(pipes[1], b, sizeof b);
    unsigned long inode = 0;
    char end = 0;
    int pipe_name = sscanf(a, "pipe:[%lu%c", &inode, &end) == 2 && end == ']' && a[strlen(a) - 1] == ']';
    CHECK("fd_link_pipe", pipe_name && strcmp(a, b) == 0, "read end [%s], write end [%s]", a, b);
    fd_link(null, c, sizeof c);
    CHECK("fd_link_dev_null", strcmp(c, "/dev/null") == 0, "[%s]", c);

    /* The link's mode says how the file is open. */
    int rw = fd_mode(file), ro = fd_mode(pipes[0]), wo = fd_mode(pipes[1]);
    CHECK("fd_link_modes", rw == 0700 && ro == 0500 && wo == 0300, "rw %o, read %o, write %o", rw,
          ro, wo);

    /* Following the link reaches the file itself. */
    struct stat via, direct;
    char path[64], got[16] = "";
    snprintf(path, sizeof path, "/proc/self/fd/%d", file);
    int same = stat(path, &via) == 0 && fstat(file, &direct) == 0 && via.st_ino == direct.st_ino &&
               via.st_dev == direct.st_dev;
    int again = open(path, O_RDONLY);
    ssize_t r = again >= 0 ? read(again, got, sizeof got - 1) : -1;
    if (again >= 0)
        close(again);
    CHECK("fd_link_followed", same && r == 8 && strncmp(got, "contents", 8) == 0,
          "same inode %d, reopened %d read %zd [%s]", same, again, r, got);

    /* A closed descriptor is gone from the directory. */
    snprintf(name, sizeof name, "%d", CLOSED_FD);
    int was = dup2(null, CLOSED_FD) == CLOSED_FD && lists("/proc/self/fd", name);
    close(CLOSED_FD);
    close(null);
    errno = 0;
    ssize_t gone = fd_link(CLOSED_FD, c, sizeof c);
    CHECK("fd_closed_gone", was && gone == -1 && errno == ENOENT && !lists("/proc/self/fd", name),
          "listed while open %d, readlink %zd errno %d, listed %d", was, gone, errno,
          lists("/proc/self/fd", name));

    /* busybox ls -l /proc/self/fd in a child that inherits the file at INHERITED_FD. */
    int out[2];
    if (pipe(out) == 0) {
        pid_t child = fork();
        if (child == 0) {
            dup2(file, INHERITED_FD);
            dup2(out[1], STDOUT_FILENO);
            close(out[0]);
            close(out[1]);
            char *args[] = {"ls", "-l", "/proc/self/fd/", NULL};
            execv(BUSYBOX, args);
            _exit(127);
        }
        close(out[1]);
        static char text[TEXT_MAX];
        size_t got_n = 0;
        for (ssize_t k; got_n < sizeof text - 1 && (k = read(out[0], text + got_n, sizeof text - 1 - got_n)) > 0;)
            got_n += (size_t)k;
        text[got_n] = '\0';
        close(out[0]);
        int status = 0;
        waitpid(child, &status, 0);
        char want_line[64];
        snprintf(want_line, sizeof want_line, " %d -> %s\n", INHERITED_FD, FD_FILE);
        CHECK("busybox_ls_fd", WIFEXITED(status) && WEXITSTATUS(status) == 0 && strstr(text, want_line) &&
                                   strstr(text, "lrwx------"),
              "status %#x: %s", status, text);
    }
    close(file);
    close(pipes[0]);
    close(pipes[1]);
    unlink(FD_FILE);
}

struct waiter {
    int fd;
    pid_t tid;
};

static void *thread_main(void *arg) {
    struct waiter *w = arg;
    w->tid = (pid_t)syscall(SYS_gettid);
    char c;
    /* Blocks until the main thread has looked. */
    while (read(w->fd, &c, 1) < 0 && errno == EINTR) {
    }
    return NULL;
}

/* The value after "Key:\t" in a status text as a number, or -1. */
static long status_number(const char *status, const char *key) {
    for (const char *l = status; l; l = next_line(l))
        if (starts(l, key) && l[strlen(key)] == ':' && l[strlen(key) + 1] == '\t')
            return atol(l + strlen(key) + 2);
    return -1;
}

static void tasks(void) {
    char me[16], path[128], text[4096];
    pid_t pid = getpid();
    snprintf(me, sizeof me, "%d", pid);
    int alone = lists("/proc/self/task", me);
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", pid);
    int stat_ok = slurp(path, text, sizeof text) > 0 && atoi(text) == pid;
    CHECK("task_self", alone && stat_ok, "listed %d, task stat [%.60s]", alone, text);

    int go[2];
    if (pipe(go) != 0) {
        FAIL("task_thread", "pipe: %s", strerror(errno));
        return;
    }
    struct waiter w = {go[0], 0};
    pthread_t t;
    if (pthread_create(&t, NULL, thread_main, &w) != 0) {
        FAIL("task_thread", "pthread_create failed");
        return;
    }
    struct timespec step = {0, 10000000L};
    for (int i = 0; i < 500 && __atomic_load_n(&w.tid, __ATOMIC_SEQ_CST) == 0; i++)
        nanosleep(&step, NULL);
    pid_t tid = __atomic_load_n(&w.tid, __ATOMIC_SEQ_CST);
    char tname[16];
    snprintf(tname, sizeof tname, "%d", tid);
    int both = lists("/proc/self/task", me) && lists("/proc/self/task", tname);
    snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
    int status_ok = slurp(path, text, sizeof text) > 0;
    long spid = status_number(text, "Pid"), tgid = status_number(text, "Tgid");
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    char st[4096];
    int tstat = slurp(path, st, sizeof st) > 0 && atoi(st) == tid;
    char own[4096];
    long threads = slurp("/proc/self/status", own, sizeof own) > 0 ? status_number(own, "Threads") : -1;
    CHECK("task_thread", tid > 0 && tid != pid && both && status_ok && spid == tid && tgid == pid &&
                             tstat && threads == 2,
          "tid %d listed %d, status Pid %ld Tgid %ld, stat %d, Threads %ld", tid, both, spid, tgid,
          tstat, threads);
    close(go[1]);
    pthread_join(t, NULL);
    close(go[0]);
    /* Linux may take a moment after the join to release the thread. */
    snprintf(path, sizeof path, "/proc/self/task/%d", tid);
    struct stat s;
    int gone = 0;
    for (int i = 0; i < 500 && !gone; i++) {
        gone = stat(path, &s) != 0 && errno == ENOENT;
        if (!gone)
            nanosleep(&step, NULL);
    }
    CHECK("task_joined_gone", gone && !lists("/proc/self/task", tname), "%s stays", path);
}

/* One line of /proc/self/maps. */
struct map {
    unsigned long start, end, offset, ino;
    unsigned major, minor;
    char perms[5];
    const char *name; /* within the text; "" for none */
    size_t name_len;
    int layout_ok;    /* the name at its column, or a trailing space without one */
};

/* Parses the maps text into `maps` (at most `cap`): how many, or -1 for a bad line. */
static int parse_maps(char *text, struct map *maps, int cap) {
    int n = 0;
    for (char *l = text; l && *l && n < cap; l = (char *)next_line(l)) {
        struct map *m = &maps[n];
        int used = 0;
        if (sscanf(l, "%lx-%lx %4s %lx %x:%x %lu %n", &m->start, &m->end, m->perms, &m->offset,
                   &m->major, &m->minor, &m->ino, &used) != 7)
            return -1;
        size_t len = strcspn(l, "\n");
        if ((size_t)used >= len) {
            /* No name: the line ends with the space after the inode. */
            m->name = "";
            m->name_len = 0;
            m->layout_ok = l[len - 1] == ' ';
        } else {
            m->name = l + MAPS_NAME_COLUMN;
            m->name_len = len > MAPS_NAME_COLUMN ? len - MAPS_NAME_COLUMN : 0;
            int spaces = 1;
            for (size_t i = (size_t)used; i < MAPS_NAME_COLUMN && i < len; i++)
                spaces &= l[i] == ' ';
            m->layout_ok = spaces && len > MAPS_NAME_COLUMN && l[MAPS_NAME_COLUMN] != ' ';
        }
        n++;
    }
    return n;
}

/* The map holding `addr`, or NULL. */
static const struct map *holding(const struct map *maps, int n, unsigned long addr) {
    for (int i = 0; i < n; i++)
        if (maps[i].start <= addr && addr < maps[i].end)
            return &maps[i];
    return NULL;
}

static int named(const struct map *m, const char *name) {
    return m && m->name_len == strlen(name) && strncmp(m->name, name, m->name_len) == 0;
}

static void maps(void) {
    static char text[TEXT_MAX];
    static struct map m[512];
    char *area = mmap(NULL, MAP_PAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int protected = area != MAP_FAILED && mprotect(area + page, page, PROT_READ) == 0;
    unsigned long brk0 = (unsigned long)syscall(SYS_brk, 0);
    unsigned long brk1 = (unsigned long)syscall(SYS_brk, brk0 + BRK_PAGES * page);
    int local = 0;
    ssize_t len = slurp("/proc/self/maps", text, sizeof text);
    int n = len > 0 ? parse_maps(text, m, 512) : -1;
    if (n <= 0) {
        FAIL("maps_parse", "%zd bytes, %d lines: %.300s", len, n, text);
        return;
    }
    int sorted = 1, layout = 1;
    for (int i = 0; i < n; i++) {
        sorted &= m[i].start < m[i].end && (i == 0 || m[i - 1].end <= m[i].start);
        layout &= m[i].layout_ok;
    }
    CHECK("maps_layout", sorted && layout && text[len - 1] == '\n', "sorted %d, layout %d: %.400s",
          sorted, layout, text);

    char exe[PATH_MAX];
    ssize_t en = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[en > 0 ? en : 0] = '\0';
    struct stat st;
    int have = stat(exe, &st) == 0;
    const struct map *code = holding(m, n, (unsigned long)(uintptr_t)&maps);
    CHECK("maps_text_is_the_program",
          code && strcmp(code->perms, "r-xp") == 0 && named(code, exe) && have &&
              code->major == major(st.st_dev) && code->minor == minor(st.st_dev) &&
              code->ino == st.st_ino,
          "line %s %.*s %x:%x %lu, exe %s %x:%x %lu", code ? code->perms : "(none)",
          code ? (int)code->name_len : 0, code ? code->name : "", code ? code->major : 0,
          code ? code->minor : 0, code ? code->ino : 0, exe, have ? major(st.st_dev) : 0,
          have ? minor(st.st_dev) : 0, have ? (unsigned long)st.st_ino : 0);

    const struct map *stack = holding(m, n, (unsigned long)(uintptr_t)&local);
    CHECK("maps_stack", named(stack, "[stack]") && strcmp(stack->perms, "rw-p") == 0,
          "the stack's line: %s %.*s", stack ? stack->perms : "(none)",
          stack ? (int)stack->name_len : 0, stack ? stack->name : "");

    unsigned long a = (unsigned long)(uintptr_t)area;
    const struct map *mid = protected ? holding(m, n, a + page) : NULL;
    const struct map *low = protected ? holding(m, n, a) : NULL;
    const struct map *high = protected ? holding(m, n, a + 2 * page) : NULL;
    CHECK("maps_anonymous_split",
          mid && low && high && mid->start == a + page && mid->end == a + 2 * page &&
              strcmp(mid->perms, "r--p") == 0 && mid->name_len == 0 && mid->offset == 0 &&
              mid->major == 0 && mid->minor == 0 && mid->ino == 0 && low->end == a + page &&
              strcmp(low->perms, "rw-p") == 0 && high->start == a + 2 * page &&
              strcmp(high->perms, "rw-p") == 0,
          "mprotect %d; middle %lx-%lx %s", protected, mid ? mid->start : 0, mid ? mid->end : 0,
          mid ? mid->perms : "(none)");

    const struct map *heap = brk1 >= brk0 + BRK_PAGES * page ? holding(m, n, brk0) : NULL;
    CHECK("maps_heap", named(heap, "[heap]") && strcmp(heap->perms, "rw-p") == 0 && heap->end >= brk1,
          "brk %lx -> %lx; the line there: %s %.*s", brk0, brk1, heap ? heap->perms : "(none)",
          heap ? (int)heap->name_len : 0, heap ? heap->name : "");
    if (area != MAP_FAILED)
        munmap(area, MAP_PAGES * page);
}

/* Runs busybox applet argv[0] with `argv` in a child; its stdout (NUL-terminated) in `out`,
 * its wait status returned. */
static int run(char *const argv[], char *out, size_t cap) {
    int p[2];
    if (pipe(p) != 0)
        return -1;
    pid_t child = fork();
    if (child == 0) {
        dup2(p[1], STDOUT_FILENO);
        close(p[0]);
        close(p[1]);
        execv(BUSYBOX, argv);
        _exit(127);
    }
    close(p[1]);
    size_t got = 0;
    for (ssize_t k; got < cap - 1 && (k = read(p[0], out + got, cap - 1 - got)) > 0;)
        got += (size_t)k;
    out[got] = '\0';
    close(p[0]);
    int status = -1;
    waitpid(child, &status, 0);
    return status;
}

/* Whether a line of `text` starts with `prefix`. */
static int has_line(const char *text, const char *prefix) {
    for (const char *l = text; l && *l; l = next_line(l))
        if (starts(l, prefix))
            return 1;
    return 0;
}

#define EXITED_OK(s) (WIFEXITED(s) && WEXITSTATUS(s) == 0)

static void busybox_tools(void) {
    static char out[TEXT_MAX];
    char me[32];
    snprintf(me, sizeof me, "%d", getpid());

    char *top[] = {"top", "-b", "-n", "1", NULL};
    int s = run(top, out, sizeof out);
    char mine[32];
    snprintf(mine, sizeof mine, "%5d ", getpid());
    CHECK("busybox_top", EXITED_OK(s) && has_line(out, "Mem: ") && has_line(out, "CPU: ") &&
                             has_line(out, "Load average: ") && has_line(out, "  PID  PPID USER") &&
                             has_line(out, mine),
          "status %#x: %.600s", s, out);

    char *free_argv[] = {"free", NULL};
    s = run(free_argv, out, sizeof out);
    struct sysinfo si;
    unsigned long total = 0;
    int si_ok = sysinfo(&si) == 0;
    const char *mem = strstr(out, "\nMem:");
    int parsed = mem && sscanf(mem + 5, "%lu", &total) == 1;
    /* With MemAvailable, Cached and SReclaimable in /proc/meminfo, no "-/+ buffers/cache"
     * line (busybox's layout for kernels before 3.14). */
    CHECK("busybox_free", EXITED_OK(s) && strstr(out, "available") && parsed && si_ok &&
                              total == si.totalram * si.mem_unit / 1024 && has_line(out, "Swap:") &&
                              !strstr(out, "-/+"),
          "status %#x, Mem total %lu kB, sysinfo %lu kB: %s", s, total,
          si_ok ? (unsigned long)(si.totalram * si.mem_unit / 1024) : 0, out);

    char *uptime_argv[] = {"uptime", NULL};
    s = run(uptime_argv, out, sizeof out);
    CHECK("busybox_uptime", EXITED_OK(s) && strstr(out, " up ") && strstr(out, "load average: "),
          "status %#x: %s", s, out);

    /* This program by its own name: "procfs2", or "procfs2-glibc" for the glibc build. */
    char *pidof[] = {"pidof", program_invocation_short_name, NULL};
    s = run(pidof, out, sizeof out);
    int found = 0;
    for (char *tok = strtok(out, " \n"); tok; tok = strtok(NULL, " \n"))
        found |= strcmp(tok, me) == 0;
    CHECK("busybox_pidof", EXITED_OK(s) && found, "status %#x: [%s], expected %s", s, out, me);

    char *cat[] = {"cat", "/proc/self/maps", NULL};
    s = run(cat, out, sizeof out);
    CHECK("busybox_cat_maps", EXITED_OK(s) && strstr(out, "[stack]") && strstr(out, " " BUSYBOX "\n"),
          "status %#x: %.600s", s, out);
}

int main(void) {
    page = sysconf(_SC_PAGESIZE);
    proc_stat();
    loadavg();
    version();
    mounts();
    filesystems();
    cpuinfo();
    fds();
    tasks();
    maps();
    busybox_tools();
    return k42_done();
}
