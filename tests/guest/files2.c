/*
 * files2: the file calls files.c leaves out, with Linux's results and error numbers, as
 * root (the run's program is), one function per subject:
 *   times: a new file's times against time(NULL); utimensat/futimens with UTIME_NOW,
 *     UTIME_OMIT, explicit times and AT_SYMLINK_NOFOLLOW; a write's mtime;
 *   root_mode: the root directory's mode, rootfs's 1777.
 *
 * Everything happens below a fresh directory /tmp/files2-<pid>, removed at the end.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "k42test.h"

/* How far a file time made "now" may be from time(NULL), in seconds. */
#define NOW_SLACK 5
/* Explicit times: 2001-09-09 and 2009-02-13 (seconds since the epoch). */
#define TIME_A 1000000000
#define TIME_B 1234567890
#define TIME_NSEC 123456789
/* An address no process has mapped. */
#define BAD_POINTER ((void *)1)

static char base[64];

/* base + "/" + name, in a static buffer per call site slot. */
static const char *at(const char *name) {
    static char bufs[4][PATH_MAX];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, PATH_MAX, "%s/%s", base, name);
    return b;
}

/* Creates `name` holding `text`; 0 on success. */
static int make_file(const char *name, const char *text) {
    int fd = open(at(name), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int near_now(time_t t) {
    time_t now = time(NULL);
    return t >= now - NOW_SLACK && t <= now + NOW_SLACK;
}

static void times(void) {
    struct stat st;
    int r = make_file("t", "x");
    r = r == 0 ? stat(at("t"), &st) : -1;
    CHECK("new_file_times_are_wall_clock",
          r == 0 && near_now(st.st_mtime) && near_now(st.st_atime) && near_now(st.st_ctime),
          "stat %d: mtime %lld atime %lld ctime %lld, time() %lld", r, (long long)st.st_mtime,
          (long long)st.st_atime, (long long)st.st_ctime, (long long)time(NULL));

    struct timespec set[2] = {{TIME_A, TIME_NSEC}, {TIME_B, 0}};
    r = utimensat(AT_FDCWD, at("t"), set, 0);
    stat(at("t"), &st);
    CHECK("utimensat_explicit",
          r == 0 && st.st_atim.tv_sec == TIME_A && st.st_atim.tv_nsec == TIME_NSEC &&
              st.st_mtim.tv_sec == TIME_B && st.st_mtim.tv_nsec == 0 && near_now(st.st_ctime),
          "utimensat %d: atime %lld.%09ld mtime %lld.%09ld ctime %lld", r, (long long)st.st_atim.tv_sec,
          st.st_atim.tv_nsec, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (long long)st.st_ctime);

    r = utimensat(AT_FDCWD, at("t"), NULL, 0);
    stat(at("t"), &st);
    CHECK("utimensat_null_is_now", r == 0 && near_now(st.st_atime) && near_now(st.st_mtime),
          "utimensat %d: atime %lld mtime %lld, time() %lld", r, (long long)st.st_atime,
          (long long)st.st_mtime, (long long)time(NULL));

    int fd = open(at("t"), O_RDWR);
    struct timespec omit_now[2] = {{TIME_A, 0}, {0, UTIME_OMIT}};
    r = futimens(fd, omit_now);
    struct stat before;
    fstat(fd, &before);
    omit_now[0] = (struct timespec){0, UTIME_OMIT};
    omit_now[1] = (struct timespec){0, UTIME_NOW};
    int r2 = futimens(fd, omit_now);
    fstat(fd, &st);
    CHECK("futimens_omit_and_now",
          r == 0 && r2 == 0 && before.st_atime == TIME_A && near_now(before.st_mtime) &&
              st.st_atime == TIME_A && near_now(st.st_mtime),
          "futimens %d %d: atime %lld then %lld, mtime %lld then %lld", r, r2,
          (long long)before.st_atime, (long long)st.st_atime, (long long)before.st_mtime,
          (long long)st.st_mtime);

    struct timespec both_omit[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    r = futimens(fd, both_omit);
    fstat(fd, &before);
    CHECK("futimens_both_omit_changes_nothing",
          r == 0 && before.st_atime == st.st_atime && before.st_mtime == st.st_mtime, "%d", r);

    /* A write sets mtime to the wall clock. */
    futimens(fd, set);
    ssize_t w = write(fd, "y", 1);
    fstat(fd, &st);
    CHECK("write_sets_mtime_now", w == 1 && near_now(st.st_mtime) && near_now(st.st_ctime),
          "write %zd: mtime %lld ctime %lld, time() %lld", w, (long long)st.st_mtime,
          (long long)st.st_ctime, (long long)time(NULL));
    close(fd);

    struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
    CHECK_ERR("utimensat_bad_nsec_einval", utimensat(AT_FDCWD, at("t"), bad, 0), EINVAL);
    CHECK_ERR("utimensat_missing_enoent", utimensat(AT_FDCWD, at("missing"), NULL, 0), ENOENT);
    CHECK_ERR("futimens_bad_fd_ebadf", futimens(-1, NULL), EBADF);
    CHECK_ERR("utimensat_bad_times_efault", syscall(SYS_utimensat, AT_FDCWD, at("t"), BAD_POINTER, 0), EFAULT);

    /* AT_SYMLINK_NOFOLLOW changes the link's own times. */
    symlink("t", at("tl"));
    utimensat(AT_FDCWD, at("t"), set, 0);
    struct timespec link_times[2] = {{TIME_B, 0}, {TIME_A, 0}};
    r = utimensat(AT_FDCWD, at("tl"), link_times, AT_SYMLINK_NOFOLLOW);
    struct stat link_st;
    lstat(at("tl"), &link_st);
    stat(at("t"), &st);
    CHECK("utimensat_nofollow_sets_the_link",
          r == 0 && link_st.st_mtime == TIME_A && link_st.st_atime == TIME_B && st.st_mtime == TIME_B &&
              st.st_atime == TIME_A,
          "utimensat %d: link mtime %lld atime %lld, target mtime %lld atime %lld", r,
          (long long)link_st.st_mtime, (long long)link_st.st_atime, (long long)st.st_mtime,
          (long long)st.st_atime);
    r = utimensat(AT_FDCWD, at("tl"), link_times, 0);
    stat(at("t"), &st);
    CHECK("utimensat_follows_by_default", r == 0 && st.st_mtime == TIME_A && st.st_atime == TIME_B,
          "utimensat %d: target mtime %lld atime %lld", r, (long long)st.st_mtime, (long long)st.st_atime);
}

static void root_mode(void) {
    struct stat st;
    int r = stat("/", &st);
    /* The initramfs has no entry for "." itself: rootfs's root keeps tmpfs's 1777. */
    CHECK("root_dir_mode_1777", r == 0 && st.st_mode == (S_IFDIR | 01777), "stat(\"/\") %d mode %o", r,
          (unsigned)st.st_mode);
}

/* Removes `path` and everything below it. */
static void remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char child[PATH_MAX];
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            remove_tree(child);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

int main(void) {
    mkdir("/tmp", 01777);
    snprintf(base, sizeof base, "/tmp/files2-%d", (int)getpid());
    if (mkdir(base, 0755) != 0) {
        FAIL("setup", "mkdir %s: %s", base, strerror(errno));
        return k42_done();
    }
    times();
    root_mode();
    remove_tree(base);
    CHECK("cleanup", access(base, F_OK) != 0, "%s is still there", base);
    return k42_done();
}
