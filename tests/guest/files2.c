/*
 * files2: the file calls files.c leaves out, with Linux's results and error numbers, as
 * root (the run's program is), one function per subject:
 *   times: a new file's times against time(NULL); utimensat/futimens with UTIME_NOW,
 *     UTIME_OMIT, explicit times and AT_SYMLINK_NOFOLLOW; a write's mtime;
 *   root_mode: the root directory's mode, rootfs's 1777;
 *   time_flags: utimensat's flags (unknown ones, none with a null path, AT_EMPTY_PATH) and
 *     both UTIME_OMIT;
 *   links: linkat (AT_SYMLINK_FOLLOW, AT_EMPTY_PATH, EPERM for directories, the errors);
 *   renames: renameat2's RENAME_NOREPLACE and RENAME_EXCHANGE, and its EINVAL combinations;
 *   owners: chown, fchown, lchown, fchownat (the set-id bits a chown clears), fchmodat;
 *   access_checks: faccessat2's modes and flags;
 *   syncs: fsync/fdatasync on files, directories, pipes and devices;
 *   cwd: fchdir, then getcwd;
 *   sizes: truncate/ftruncate (growing with zeros, shrinking, the errors), O_PATH fds;
 *   loops: symlink loops (ELOOP) and Linux's 40-link limit;
 *   long_names: ENAMETOOLONG at NAME_MAX and PATH_MAX; paths longer than one K42 call
 *     carries (up to 4,095 bytes) to stat, open, create, mkdir, rename and link.
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
#include "filetest.h"

/* How far a file time made "now" may be from time(NULL), in seconds. */
#define NOW_SLACK 5
/* Explicit times: 2001-09-09 and 2009-02-13 (seconds since the epoch). */
#define TIME_A 1000000000
#define TIME_B 1234567890
#define TIME_NSEC 123456789
/* Linux's limit on symlinks followed in one lookup (MAXSYMLINKS). */
#define MAX_LINKS 40
/* renameat2's flags (linux/fs.h; musl's headers lack them). */
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#define RENAME_WHITEOUT (1 << 2)
/* A flag bit no call knows. */
#define UNKNOWN_FLAG 0x40000000


/* Creates `name` holding `text`; 0 on success. */
static int make_file(const char *name, const char *text) {
    int fd = open(at(name), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* The first bytes of `name` as a string ("" if unreadable). */
static const char *contents(const char *name) {
    static char buf[64];
    buf[0] = 0;
    int fd = open(at(name), O_RDONLY);
    if (fd < 0)
        return buf;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    return buf;
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

static void time_flags(void) {
    struct stat st;
    struct timespec set[2] = {{TIME_A, 0}, {TIME_B, 0}};
    CHECK_ERR("utimensat_unknown_flag_einval", utimensat(AT_FDCWD, at("t"), NULL, UNKNOWN_FLAG), EINVAL);
    /* Both UTIME_OMIT: nothing to do, and the path is not even looked at. */
    struct timespec both_omit[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    int r = utimensat(AT_FDCWD, at("missing"), both_omit, 0);
    CHECK("utimensat_both_omit_skips_the_path", r == 0, "utimensat %d (%s)", r, strerror(errno));
    /* A null path names the fd (glibc's futimens), which takes no flags. */
    int fd = open(at("t"), O_RDONLY);
    CHECK_ERR("utimensat_fd_with_flags_einval", syscall(SYS_utimensat, fd, NULL, NULL, AT_SYMLINK_NOFOLLOW),
              EINVAL);
    r = utimensat(fd, "", set, AT_EMPTY_PATH);
    fstat(fd, &st);
    CHECK("utimensat_empty_path", r == 0 && st.st_mtime == TIME_B, "utimensat %d (%s): mtime %lld", r,
          strerror(errno), (long long)st.st_mtime);
    close(fd);
}

static void links(void) {
    struct stat a, b;
    make_file("l", "linked");
    int r = linkat(AT_FDCWD, at("l"), AT_FDCWD, at("l2"), 0);
    stat(at("l"), &a);
    stat(at("l2"), &b);
    CHECK("linkat", r == 0 && a.st_ino == b.st_ino && a.st_nlink == 2 && strcmp(contents("l2"), "linked") == 0,
          "linkat %d: ino %lu/%lu nlink %lu", r, (unsigned long)a.st_ino, (unsigned long)b.st_ino,
          (unsigned long)a.st_nlink);

    /* Without AT_SYMLINK_FOLLOW the new name is the link itself; with it, the target. */
    symlink("l", at("ls"));
    r = linkat(AT_FDCWD, at("ls"), AT_FDCWD, at("ls_nofollow"), 0);
    int ok = lstat(at("ls_nofollow"), &b) == 0;
    CHECK("linkat_symlink_not_followed", r == 0 && ok && S_ISLNK(b.st_mode), "linkat %d: mode %o", r,
          (unsigned)b.st_mode);
    r = linkat(AT_FDCWD, at("ls"), AT_FDCWD, at("ls_follow"), AT_SYMLINK_FOLLOW);
    ok = lstat(at("ls_follow"), &b) == 0;
    stat(at("l"), &a);
    CHECK("linkat_symlink_follow", r == 0 && ok && S_ISREG(b.st_mode) && b.st_ino == a.st_ino && a.st_nlink == 3,
          "linkat %d: mode %o ino %lu (target %lu) nlink %lu", r, (unsigned)b.st_mode, (unsigned long)b.st_ino,
          (unsigned long)a.st_ino, (unsigned long)a.st_nlink);

    /* AT_EMPTY_PATH links the open file itself: root holds CAP_DAC_READ_SEARCH. */
    int fd = open(at("l"), O_RDONLY);
    r = linkat(fd, "", AT_FDCWD, at("l_empty"), AT_EMPTY_PATH);
    ok = stat(at("l_empty"), &b) == 0;
    CHECK("linkat_empty_path", r == 0 && ok && b.st_ino == a.st_ino, "linkat %d (%s): ino %lu, want %lu", r,
          strerror(errno), (unsigned long)b.st_ino, (unsigned long)a.st_ino);
    CHECK_ERR("linkat_empty_without_flag_enoent", linkat(fd, "", AT_FDCWD, at("l_e2"), 0), ENOENT);
    close(fd);

    mkdir(at("ld"), 0755);
    CHECK_ERR("linkat_directory_eperm", linkat(AT_FDCWD, at("ld"), AT_FDCWD, at("ld2"), 0), EPERM);
    fd = open(at("ld"), O_RDONLY | O_DIRECTORY);
    CHECK_ERR("linkat_empty_path_directory_eperm", linkat(fd, "", AT_FDCWD, at("ld3"), AT_EMPTY_PATH), EPERM);
    close(fd);
    CHECK_ERR("linkat_existing_eexist", linkat(AT_FDCWD, at("l"), AT_FDCWD, at("l2"), 0), EEXIST);
    CHECK_ERR("linkat_missing_enoent", linkat(AT_FDCWD, at("nope"), AT_FDCWD, at("l3"), 0), ENOENT);
    CHECK_ERR("linkat_unknown_flag_einval", linkat(AT_FDCWD, at("l"), AT_FDCWD, at("l4"), UNKNOWN_FLAG),
              EINVAL);
    CHECK_ERR("linkat_into_missing_dir_enoent", linkat(AT_FDCWD, at("l"), AT_FDCWD, at("no/l"), 0), ENOENT);
}

static long renameat2_(const char *old, const char *new, unsigned flags) {
    return syscall(SYS_renameat2, AT_FDCWD, old, AT_FDCWD, new, flags);
}

static void renames(void) {
    make_file("ra", "A");
    make_file("rb", "B");
    CHECK_ERR("renameat2_noreplace_eexist", renameat2_(at("ra"), at("rb"), RENAME_NOREPLACE), EEXIST);
    CHECK("noreplace_left_both", strcmp(contents("ra"), "A") == 0 && strcmp(contents("rb"), "B") == 0,
          "ra [%s]", contents("ra"));
    long r = renameat2_(at("ra"), at("rc"), RENAME_NOREPLACE);
    CHECK("renameat2_noreplace_to_new_name", r == 0 && strcmp(contents("rc"), "A") == 0 && access(at("ra"), F_OK) != 0,
          "renameat2 %ld (%s)", r, strerror(errno));

    r = renameat2_(at("rb"), at("rc"), RENAME_EXCHANGE);
    CHECK("renameat2_exchange_swaps", r == 0 && strcmp(contents("rb"), "A") == 0 && strcmp(contents("rc"), "B") == 0,
          "renameat2 %ld (%s): rb [%s]", r, strerror(errno), contents("rb"));
    /* A file and a directory may trade places. */
    mkdir(at("rd"), 0755);
    make_file("rd/inside", "I");
    r = renameat2_(at("rb"), at("rd"), RENAME_EXCHANGE);
    struct stat st;
    int ok = stat(at("rb"), &st) == 0;
    CHECK("renameat2_exchange_file_and_dir",
          r == 0 && ok && S_ISDIR(st.st_mode) && strcmp(contents("rb/inside"), "I") == 0 &&
              strcmp(contents("rd"), "A") == 0,
          "renameat2 %ld (%s)", r, strerror(errno));
    CHECK_ERR("renameat2_exchange_missing_enoent", renameat2_(at("rc"), at("nope"), RENAME_EXCHANGE), ENOENT);
    CHECK_ERR("renameat2_exchange_noreplace_einval",
              renameat2_(at("rc"), at("rd"), RENAME_EXCHANGE | RENAME_NOREPLACE), EINVAL);
    CHECK_ERR("renameat2_exchange_whiteout_einval",
              renameat2_(at("rc"), at("rd"), RENAME_EXCHANGE | RENAME_WHITEOUT), EINVAL);
    CHECK_ERR("renameat2_unknown_flag_einval", renameat2_(at("rc"), at("rd"), 1 << 3), EINVAL);
    CHECK("renameat2_failures_moved_nothing", strcmp(contents("rc"), "B") == 0 && strcmp(contents("rd"), "A") == 0,
          "rc [%s]", contents("rc"));
}

static void owners(void) {
    struct stat st, lst;
    make_file("o", "o");
    int r = chown(at("o"), 1234, 5678);
    stat(at("o"), &st);
    CHECK("chown", r == 0 && st.st_uid == 1234 && st.st_gid == 5678, "chown %d: %u:%u", r, st.st_uid, st.st_gid);

    int fd = open(at("o"), O_RDONLY);
    r = fchown(fd, -1, 42);
    fstat(fd, &st);
    CHECK("fchown_keeps_minus_one", r == 0 && st.st_uid == 1234 && st.st_gid == 42, "fchown %d: %u:%u", r,
          st.st_uid, st.st_gid);
    r = fchownat(fd, "", 77, -1, AT_EMPTY_PATH);
    fstat(fd, &st);
    CHECK("fchownat_empty_path", r == 0 && st.st_uid == 77 && st.st_gid == 42, "fchownat %d: %u:%u", r, st.st_uid,
          st.st_gid);
    close(fd);

    symlink("o", at("ol"));
    r = lchown(at("ol"), 7, 8);
    lstat(at("ol"), &lst);
    stat(at("o"), &st);
    CHECK("lchown_changes_the_link", r == 0 && lst.st_uid == 7 && lst.st_gid == 8 && st.st_uid == 77,
          "lchown %d: link %u:%u target %u:%u", r, lst.st_uid, lst.st_gid, st.st_uid, st.st_gid);
    r = fchownat(AT_FDCWD, at("ol"), 9, 10, AT_SYMLINK_NOFOLLOW);
    lstat(at("ol"), &lst);
    CHECK("fchownat_nofollow", r == 0 && lst.st_uid == 9 && lst.st_gid == 10, "fchownat %d: %u:%u", r, lst.st_uid,
          lst.st_gid);
    r = fchownat(AT_FDCWD, at("ol"), 11, 12, 0);
    stat(at("o"), &st);
    CHECK("fchownat_follows", r == 0 && st.st_uid == 11 && st.st_gid == 12, "fchownat %d: %u:%u", r, st.st_uid,
          st.st_gid);

    /* A change of owner takes the set-user-ID bit away, and set-group-ID on a group-executable file. */
    chmod(at("o"), 06755);
    r = chown(at("o"), 0, 0);
    stat(at("o"), &st);
    CHECK("chown_clears_setid", r == 0 && (st.st_mode & 07777) == 0755, "chown %d: mode %o", r,
          (unsigned)st.st_mode);
    chmod(at("o"), 02745);
    r = chown(at("o"), -1, -1);
    stat(at("o"), &st);
    CHECK("chown_keeps_sgid_without_group_exec", r == 0 && (st.st_mode & 07777) == 02745, "chown %d: mode %o", r,
          (unsigned)st.st_mode);

    /* fchmodat(2) has no flags argument: a fourth register is not read, the link is followed. */
    chmod(at("o"), 0644);
    r = syscall(SYS_fchmodat, AT_FDCWD, at("ol"), 0600, AT_SYMLINK_NOFOLLOW);
    lstat(at("ol"), &lst);
    stat(at("o"), &st);
    CHECK("fchmodat_has_no_flags", r == 0 && (st.st_mode & 07777) == 0600 && S_ISLNK(lst.st_mode),
          "fchmodat %d (%s): target mode %o", r, strerror(errno), (unsigned)st.st_mode);

    CHECK_ERR("chown_missing_enoent", chown(at("nope"), 0, 0), ENOENT);
    CHECK_ERR("fchown_bad_fd_ebadf", fchown(-1, 0, 0), EBADF);
    CHECK_ERR("fchownat_unknown_flag_einval", fchownat(AT_FDCWD, at("o"), 0, 0, UNKNOWN_FLAG), EINVAL);
}

static long faccessat2_(int dirfd, const char *path, int mode, int flags) {
    return syscall(SYS_faccessat2, dirfd, path, mode, flags);
}

static void access_checks(void) {
    make_file("a", "a");
    chmod(at("a"), 0644);
    long r = faccessat2_(AT_FDCWD, at("a"), R_OK | W_OK, 0);
    CHECK("faccessat2_read_write", r == 0, "faccessat2 %ld (%s)", r, strerror(errno));
    CHECK_ERR("faccessat2_exec_without_x_eacces", faccessat2_(AT_FDCWD, at("a"), X_OK, 0), EACCES);
    chmod(at("a"), 0);
    r = faccessat2_(AT_FDCWD, at("a"), R_OK | W_OK, AT_EACCESS);
    CHECK("faccessat2_root_reads_mode_0", r == 0, "faccessat2 %ld (%s)", r, strerror(errno));
    chmod(at("a"), 0100);
    r = faccessat2_(AT_FDCWD, at("a"), X_OK, 0);
    CHECK("faccessat2_root_exec_with_one_x", r == 0, "faccessat2 %ld (%s)", r, strerror(errno));

    symlink("nowhere", at("dangling"));
    CHECK_ERR("faccessat2_dangling_enoent", faccessat2_(AT_FDCWD, at("dangling"), F_OK, 0), ENOENT);
    r = faccessat2_(AT_FDCWD, at("dangling"), F_OK, AT_SYMLINK_NOFOLLOW);
    CHECK("faccessat2_nofollow_sees_the_link", r == 0, "faccessat2 %ld (%s)", r, strerror(errno));
    int fd = open(at("a"), O_PATH);
    r = faccessat2_(fd, "", F_OK, AT_EMPTY_PATH);
    CHECK("faccessat2_empty_path", r == 0, "faccessat2 %ld (%s)", r, strerror(errno));
    close(fd);
    CHECK_ERR("faccessat2_unknown_flag_einval", faccessat2_(AT_FDCWD, at("a"), F_OK, 0x1), EINVAL);
    CHECK_ERR("faccessat2_unknown_flag_high_einval", faccessat2_(AT_FDCWD, at("a"), F_OK, UNKNOWN_FLAG), EINVAL);
    CHECK_ERR("faccessat2_bad_mode_einval", faccessat2_(AT_FDCWD, at("a"), 8, 0), EINVAL);
}

static void syncs(void) {
    int fd = open(at("a"), O_RDWR);
    int r1 = fsync(fd), r2 = fdatasync(fd);
    CHECK("fsync_fdatasync_file", r1 == 0 && r2 == 0, "fsync %d fdatasync %d (%s)", r1, r2, strerror(errno));
    close(fd);
    fd = open(base, O_RDONLY | O_DIRECTORY);
    r1 = fsync(fd);
    CHECK("fsync_directory", r1 == 0, "fsync %d (%s)", r1, strerror(errno));
    close(fd);
    int p[2];
    pipe(p);
    CHECK_ERR("fsync_pipe_einval", fsync(p[0]), EINVAL);
    CHECK_ERR("fdatasync_pipe_einval", fdatasync(p[1]), EINVAL);
    close(p[0]);
    close(p[1]);
    fd = open("/dev/null", O_WRONLY);
    CHECK_ERR("fsync_dev_null_einval", fsync(fd), EINVAL);
    close(fd);
    CHECK_ERR("fsync_closed_ebadf", fsync(fd), EBADF);
}

static void cwd(void) {
    char was[PATH_MAX], now[PATH_MAX];
    getcwd(was, sizeof was);
    mkdir(at("cd"), 0755);
    int fd = open(at("cd"), O_RDONLY | O_DIRECTORY);
    chdir("/");
    int r = fchdir(fd);
    const char *got = getcwd(now, sizeof now);
    CHECK("fchdir_then_getcwd", r == 0 && got && strcmp(now, at("cd")) == 0, "fchdir %d: cwd [%s], want [%s]", r,
          got ? now : "(null)", at("cd"));
    close(fd);
    CHECK("relative_after_fchdir", make_file("cd/rel", "r") == 0 && open("rel", O_RDONLY) >= 0, "open rel: %s",
          strerror(errno));
    fd = open(at("cd"), O_PATH | O_DIRECTORY);
    chdir("/");
    r = fchdir(fd);
    got = getcwd(now, sizeof now);
    CHECK("fchdir_o_path", r == 0 && got && strcmp(now, at("cd")) == 0, "fchdir %d: cwd [%s]", r,
          got ? now : "(null)");
    close(fd);
    fd = open(at("a"), O_RDONLY);
    CHECK_ERR("fchdir_file_enotdir", fchdir(fd), ENOTDIR);
    close(fd);
    CHECK_ERR("fchdir_closed_ebadf", fchdir(fd), EBADF);
    chdir(was);
}

static void sizes(void) {
    struct stat st;
    int fd = open(at("s"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    write(fd, "abc", 3);
    int r = ftruncate(fd, 10);
    char buf[16];
    memset(buf, 'z', sizeof buf);
    ssize_t n = pread(fd, buf, sizeof buf, 0);
    fstat(fd, &st);
    CHECK("ftruncate_grows_with_zeros",
          r == 0 && n == 10 && st.st_size == 10 && memcmp(buf, "abc\0\0\0\0\0\0\0", 10) == 0,
          "ftruncate %d: read %zd size %lld", r, n, (long long)st.st_size);
    r = ftruncate(fd, 1);
    fstat(fd, &st);
    CHECK("ftruncate_shrinks", r == 0 && st.st_size == 1 && strcmp(contents("s"), "a") == 0,
          "ftruncate %d: size %lld [%s]", r, (long long)st.st_size, contents("s"));
    r = truncate(at("s"), 5);
    memset(buf, 'z', sizeof buf);
    n = pread(fd, buf, sizeof buf, 0);
    CHECK("truncate_regrows_with_zeros", r == 0 && n == 5 && memcmp(buf, "a\0\0\0\0", 5) == 0,
          "truncate %d: read %zd [%.*s]", r, n, (int)(n > 0 ? n : 0), buf);
    CHECK_ERR("ftruncate_negative_einval", ftruncate(fd, -1), EINVAL);
    CHECK_ERR("truncate_negative_einval", truncate(at("s"), -1), EINVAL);
    close(fd);
    CHECK_ERR("ftruncate_closed_ebadf", ftruncate(fd, 0), EBADF);
    CHECK_ERR("ftruncate_negative_before_ebadf", ftruncate(-1, -1), EINVAL);
    fd = open(at("s"), O_RDONLY);
    CHECK_ERR("ftruncate_read_only_einval", ftruncate(fd, 0), EINVAL);
    close(fd);
    fd = open(at("s"), O_PATH);
    CHECK_ERR("ftruncate_o_path_ebadf", ftruncate(fd, 0), EBADF);
    CHECK_ERR("read_o_path_ebadf", read(fd, buf, 1), EBADF);
    CHECK_ERR("fsync_o_path_ebadf", fsync(fd), EBADF);
    close(fd);
    CHECK_ERR("truncate_directory_eisdir", truncate(base, 0), EISDIR);
    fd = open(base, O_RDONLY | O_DIRECTORY);
    CHECK_ERR("ftruncate_directory_einval", ftruncate(fd, 0), EINVAL);
    close(fd);
    CHECK_ERR("truncate_missing_enoent", truncate(at("nope"), 0), ENOENT);
    CHECK_ERR("truncate_empty_path_enoent", truncate("", 0), ENOENT);
    int p[2];
    pipe(p);
    CHECK_ERR("ftruncate_pipe_einval", ftruncate(p[1], 0), EINVAL);
    close(p[0]);
    close(p[1]);
}

static void loops(void) {
    struct stat st;
    symlink("loop_b", at("loop_a"));
    symlink("loop_a", at("loop_b"));
    symlink("self", at("self"));
    CHECK_ERR("open_symlink_loop_eloop", open(at("loop_a"), O_RDONLY), ELOOP);
    CHECK_ERR("stat_symlink_loop_eloop", stat(at("loop_a"), &st), ELOOP);
    CHECK_ERR("open_self_link_eloop", open(at("self"), O_RDONLY), ELOOP);
    CHECK_ERR("loop_as_directory_eloop", stat(at("loop_a/x"), &st), ELOOP);
    CHECK_ERR("create_through_loop_eloop", open(at("loop_b"), O_WRONLY | O_CREAT, 0644), ELOOP);
    CHECK("lstat_loop_is_a_link", lstat(at("loop_a"), &st) == 0 && S_ISLNK(st.st_mode), "lstat: %s",
          strerror(errno));
    CHECK_ERR("open_nofollow_link_eloop", open(at("loop_a"), O_RDONLY | O_NOFOLLOW), ELOOP);

    /* A chain: chain0 -> "a", chainN -> chain(N-1). Opening chainN follows N+1 links. */
    char name[32], target[32];
    for (int i = 0; i <= MAX_LINKS; i++) {
        snprintf(name, sizeof name, "chain%d", i);
        if (i == 0)
            snprintf(target, sizeof target, "s");
        else
            snprintf(target, sizeof target, "chain%d", i - 1);
        symlink(target, at(name));
    }
    snprintf(name, sizeof name, "chain%d", MAX_LINKS - 1);
    int fd = open(at(name), O_RDONLY);
    CHECK("forty_links_resolve", fd >= 0, "open %s: %s", name, strerror(errno));
    close(fd);
    snprintf(name, sizeof name, "chain%d", MAX_LINKS);
    CHECK_ERR("forty_one_links_eloop", open(at(name), O_RDONLY), ELOOP);
}

/* Fills `buf` with base, then "/." repeated, then "/" and `name`: `len` bytes in all. */
static void long_path(char *buf, size_t len, const char *name) {
    size_t fixed = strlen(base) + 1 + strlen(name);
    strcpy(buf, base);
    size_t at_ = strlen(base);
    /* An odd filler takes one "//" (the same as "/" to the walk). */
    if ((len - fixed) % 2)
        buf[at_++] = '/';
    while (at_ < len - strlen(name) - 1) {
        buf[at_++] = '/';
        buf[at_++] = '.';
    }
    buf[at_++] = '/';
    strcpy(buf + at_, name);
}

static void long_names(void) {
    char component[NAME_MAX + 2];
    memset(component, 'n', NAME_MAX + 1);
    component[NAME_MAX + 1] = 0;
    struct stat st;
    CHECK_ERR("open_component_256_enametoolong", open(at(component), O_RDONLY), ENAMETOOLONG);
    CHECK_ERR("stat_component_256_enametoolong", stat(at(component), &st), ENAMETOOLONG);
    CHECK_ERR("mkdir_component_256_enametoolong", mkdir(at(component), 0755), ENAMETOOLONG);
    component[NAME_MAX] = 0;
    int fd = open(at(component), O_RDWR | O_CREAT, 0644);
    CHECK("component_255_is_fine", fd >= 0, "open: %s", strerror(errno));
    close(fd);
    unlink(at(component));

    /* A path of PATH_MAX - 1 bytes names a file; one of PATH_MAX bytes is too long. */
    static char path[PATH_MAX + 2];
    const char *tail = at("s");
    size_t fill = PATH_MAX - 1 - strlen(tail);
    memset(path, '/', fill);
    strcpy(path + fill, tail);
    int r = stat(path, &st);
    CHECK("path_of_4095_bytes", strlen(path) == PATH_MAX - 1 && r == 0, "len %zu stat %d (%s)", strlen(path), r,
          strerror(errno));
    path[0] = 0;
    memset(path, '/', fill + 1);
    strcpy(path + fill + 1, tail);
    CHECK_ERR("path_of_4096_bytes_enametoolong", stat(path, &st), ENAMETOOLONG);
    CHECK_ERR("open_path_of_4096_bytes_enametoolong", open(path, O_RDONLY), ENAMETOOLONG);

    /* Long paths of many components: base/./././…/name. */
    static char other[PATH_MAX];
    long_path(path, PATH_MAX - 1, "s");
    r = stat(path, &st);
    CHECK("dotted_path_of_4095_bytes", strlen(path) == PATH_MAX - 1 && r == 0 && st.st_size == 5,
          "len %zu stat %d (%s)", strlen(path), r, strerror(errno));
    long_path(path, 3000, "s");
    long_path(other, 3001, "s_moved");
    r = rename(path, other);
    CHECK("rename_long_paths", r == 0 && access(at("s_moved"), F_OK) == 0 && access(at("s"), F_OK) != 0,
          "rename %d (%s)", r, strerror(errno));
    r = link(other, path);
    CHECK("link_long_paths", r == 0 && stat(at("s"), &st) == 0 && st.st_nlink == 2, "link %d (%s)", r,
          strerror(errno));
    long_path(path, 2500, "long_dir");
    r = mkdir(path, 0755);
    long_path(other, 3500, "long_dir/f");
    fd = open(other, O_WRONLY | O_CREAT | O_EXCL, 0644);
    CHECK("mkdir_and_create_long_paths", r == 0 && fd >= 0 && access(at("long_dir/f"), F_OK) == 0,
          "mkdir %d, open %d (%s)", r, fd, strerror(errno));
    close(fd);
    long_path(other, 3500, "nope/f");
    CHECK_ERR("long_path_missing_dir_enoent", open(other, O_RDONLY), ENOENT);
    long_path(other, 3500, "s/f");
    CHECK_ERR("long_path_through_file_enotdir", open(other, O_RDONLY), ENOTDIR);
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
    time_flags();
    links();
    renames();
    owners();
    access_checks();
    syncs();
    cwd();
    sizes();
    loops();
    long_names();
    remove_tree(base);
    CHECK("cleanup", access(base, F_OK) != 0, "%s is still there", base);
    return k42_done();
}
