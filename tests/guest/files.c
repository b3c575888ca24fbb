/*
 * files: the file system calls a Linux program leans on, in /tmp, with Linux's
 * results and error numbers: open/read/write/lseek/stat, unlink, mkdir/rmdir,
 * rename, symlink/readlink, directory listing, and the error paths (ENOENT, EEXIST,
 * ENOTDIR, EISDIR, ENOTEMPTY, EBADF, ENAMETOOLONG, EFAULT).
 *
 * Everything happens below a fresh directory /tmp/files-<pid>, removed at the end.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "k42test.h"
#include "filetest.h"

/* A name component longer than NAME_MAX (255 on Linux). */
#define TOO_LONG_COMPONENT (NAME_MAX + 45)
/* Where the sparse-file test writes its one byte. */
#define HOLE_OFFSET 100
/* Permission bits asked for, and the umask that must not change them. */
#define CREATE_MODE 0640
#define TEST_UMASK 022
#define DIR_MODE 0755


static ssize_t read_file(const char *path, char *buf, size_t len) {
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len);
    close(fd);
    return n;
}

static void basic_io(void) {
    umask(TEST_UMASK);
    int fd = open(at("a"), O_RDWR | O_CREAT | O_EXCL, CREATE_MODE);
    CHECK("open_create", fd >= 0, "open(O_CREAT|O_EXCL): %s", strerror(errno));
    if (fd < 0)
        return;
    ssize_t w = write(fd, "hello", 5);
    CHECK("write", w == 5, "write returned %zd (%s)", w, strerror(errno));

    off_t end = lseek(fd, 0, SEEK_CUR);
    off_t start = lseek(fd, 0, SEEK_SET);
    char buf[16] = "";
    ssize_t r = read(fd, buf, sizeof buf);
    CHECK("lseek_and_read_back", end == 5 && start == 0 && r == 5 && memcmp(buf, "hello", 5) == 0,
          "offset after write %lld, after SEEK_SET %lld, read %zd [%.*s]", (long long)end,
          (long long)start, r, (int)(r > 0 ? r : 0), buf);
    r = read(fd, buf, sizeof buf);
    CHECK("read_at_eof", r == 0, "read at EOF returned %zd", r);
    off_t size = lseek(fd, 0, SEEK_END);
    off_t back = lseek(fd, -2, SEEK_CUR);
    r = read(fd, buf, 2);
    CHECK("lseek_end_and_cur", size == 5 && back == 3 && r == 2 && memcmp(buf, "lo", 2) == 0,
          "SEEK_END %lld, SEEK_CUR-2 %lld, read %zd", (long long)size, (long long)back, r);
    CHECK_ERR("lseek_negative_einval", lseek(fd, -100, SEEK_SET), EINVAL);

    struct stat st;
    int ok = fstat(fd, &st) == 0;
    CHECK("fstat", ok && S_ISREG(st.st_mode) && st.st_size == 5 && (st.st_mode & 07777) == CREATE_MODE,
          "ok=%d mode %o size %lld, expected regular 0%o size 5", ok, ok ? (unsigned)st.st_mode : 0u,
          ok ? (long long)st.st_size : -1LL, CREATE_MODE);

    /* A write past the end leaves a hole that reads as zeros. */
    off_t hole = lseek(fd, HOLE_OFFSET, SEEK_SET);
    w = write(fd, "!", 1);
    char mid[8];
    memset(mid, 'x', sizeof mid);
    r = pread(fd, mid, sizeof mid, 10);
    int zeros = r == (ssize_t)sizeof mid;
    for (size_t i = 0; zeros && i < sizeof mid; i++)
        zeros = mid[i] == 0;
    ok = fstat(fd, &st) == 0;
    CHECK("sparse_hole_reads_zeros", hole == HOLE_OFFSET && w == 1 && zeros && ok && st.st_size == HOLE_OFFSET + 1,
          "lseek %lld write %zd pread %zd zeros %d size %lld", (long long)hole, w, r, zeros,
          ok ? (long long)st.st_size : -1LL);

    /* The fd is closed: every use is EBADF. */
    close(fd);
    CHECK_ERR("read_closed_fd_ebadf", read(fd, buf, 1), EBADF);
    CHECK_ERR("close_twice_ebadf", close(fd), EBADF);
    CHECK_ERR("write_negative_fd_ebadf", write(-1, "x", 1), EBADF);

    fd = open(at("a"), O_RDONLY);
    CHECK_ERR("write_to_readonly_fd_ebadf", write(fd, "x", 1), EBADF);
    /* A bad buffer is refused with EFAULT, not a crash. */
    CHECK_ERR("read_bad_pointer_efault", read(fd, BAD_POINTER, 1), EFAULT);
    close(fd);
    fd = open(at("a"), O_WRONLY);
    CHECK_ERR("write_bad_pointer_efault", write(fd, BAD_POINTER, 1), EFAULT);
    close(fd);
    CHECK_ERR("open_bad_path_pointer_efault", open(BAD_POINTER, O_RDONLY), EFAULT);

    fd = open(at("a"), O_WRONLY | O_APPEND);
    lseek(fd, 0, SEEK_SET);
    w = write(fd, "+", 1);
    ok = fstat(fd, &st) == 0;
    CHECK("append_writes_at_end", w == 1 && ok && st.st_size == HOLE_OFFSET + 2, "write %zd size %lld", w,
          ok ? (long long)st.st_size : -1LL);
    close(fd);

    fd = open(at("a"), O_RDONLY);
    int dup_fd = dup(fd);
    r = read(fd, buf, 2);
    off_t shared = lseek(dup_fd, 0, SEEK_CUR);
    CHECK("dup_shares_offset", dup_fd >= 0 && r == 2 && shared == 2, "dup %d read %zd offset %lld", dup_fd, r,
          (long long)shared);
    close(dup_fd);
    close(fd);
}

static void error_paths(void) {
    CHECK_ERR("open_missing_enoent", open(at("missing"), O_RDONLY), ENOENT);
    CHECK_ERR("open_missing_dir_enoent", open(at("no/such/file"), O_RDONLY), ENOENT);
    CHECK_ERR("open_excl_existing_eexist", open(at("a"), O_RDWR | O_CREAT | O_EXCL, CREATE_MODE), EEXIST);
    CHECK_ERR("open_through_file_enotdir", open(at("a/x"), O_RDONLY), ENOTDIR);
    CHECK_ERR("open_dir_for_write_eisdir", open(base, O_WRONLY), EISDIR);
    CHECK_ERR("open_directory_flag_on_file_enotdir", open(at("a"), O_RDONLY | O_DIRECTORY), ENOTDIR);

    char long_name[TOO_LONG_COMPONENT + 1];
    memset(long_name, 'n', TOO_LONG_COMPONENT);
    long_name[TOO_LONG_COMPONENT] = '\0';
    CHECK_ERR("open_long_name_enametoolong", open(at(long_name), O_RDWR | O_CREAT, CREATE_MODE),
              ENAMETOOLONG);
    CHECK_ERR("unlink_missing_enoent", unlink(at("missing")), ENOENT);
    CHECK_ERR("stat_missing_enoent", stat(at("missing"), &(struct stat){0}), ENOENT);
}

static void directories(void) {
    CHECK("mkdir", mkdir(at("d"), DIR_MODE) == 0, "mkdir: %s", strerror(errno));
    CHECK_ERR("mkdir_existing_eexist", mkdir(at("d"), DIR_MODE), EEXIST);
    CHECK_ERR("mkdir_missing_parent_enoent", mkdir(at("nope/d"), DIR_MODE), ENOENT);
    struct stat st;
    int ok = stat(at("d"), &st) == 0;
    CHECK("mkdir_makes_directory", ok && S_ISDIR(st.st_mode), "stat ok=%d mode %o", ok,
          ok ? (unsigned)st.st_mode : 0u);

    int fd = open(at("d/inner"), O_WRONLY | O_CREAT, CREATE_MODE);
    close(fd);
    CHECK_ERR("rmdir_nonempty_enotempty", rmdir(at("d")), ENOTEMPTY);
    CHECK_ERR("rmdir_file_enotdir", rmdir(at("a")), ENOTDIR);
    CHECK_ERR("unlink_dir_eisdir", unlink(at("d")), EISDIR);

    DIR *dir = opendir(at("d"));
    int seen_inner = 0, seen_dot = 0, entries = 0;
    struct dirent *e;
    while (dir && (e = readdir(dir))) {
        entries++;
        seen_inner |= strcmp(e->d_name, "inner") == 0;
        seen_dot |= strcmp(e->d_name, ".") == 0;
    }
    if (dir)
        closedir(dir);
    CHECK("readdir_lists_entries", dir && seen_inner && seen_dot && entries == 3,
          "opendir %s, entries %d, inner %d, dot %d", dir ? "ok" : strerror(errno), entries,
          seen_inner, seen_dot);

    CHECK("unlink", unlink(at("d/inner")) == 0, "unlink: %s", strerror(errno));
    CHECK_ERR("unlinked_is_gone", access(at("d/inner"), F_OK), ENOENT);
    CHECK("rmdir", rmdir(at("d")) == 0, "rmdir: %s", strerror(errno));
    CHECK_ERR("rmdir_missing_enoent", rmdir(at("d")), ENOENT);
}

static void renames(void) {
    int fd = open(at("r1"), O_WRONLY | O_CREAT | O_TRUNC, CREATE_MODE);
    ssize_t w = write(fd, "one", 3);
    close(fd);
    fd = open(at("r2"), O_WRONLY | O_CREAT | O_TRUNC, CREATE_MODE);
    w += write(fd, "two!", 4);
    close(fd);

    int renamed = rename(at("r1"), at("r3")) == 0;
    char buf[8] = "";
    ssize_t r = read_file(at("r3"), buf, sizeof buf);
    CHECK("rename_moves", w == 7 && renamed && r == 3 && memcmp(buf, "one", 3) == 0 && access(at("r1"), F_OK) != 0,
          "rename %d, read %zd [%.*s]", renamed, r, (int)(r > 0 ? r : 0), buf);
    /* Renaming over an existing file replaces it atomically. */
    renamed = rename(at("r3"), at("r2")) == 0;
    r = read_file(at("r2"), buf, sizeof buf);
    CHECK("rename_replaces", renamed && r == 3 && memcmp(buf, "one", 3) == 0 && access(at("r3"), F_OK) != 0,
          "rename %d, read %zd [%.*s]", renamed, r, (int)(r > 0 ? r : 0), buf);
    CHECK_ERR("rename_missing_enoent", rename(at("r1"), at("r4")), ENOENT);
    mkdir(at("rd"), DIR_MODE);
    CHECK_ERR("rename_file_over_dir_eisdir", rename(at("r2"), at("rd")), EISDIR);
    rmdir(at("rd"));
    unlink(at("r2"));
}

static void symlinks(void) {
    CHECK("symlink", symlink("a", at("link")) == 0, "symlink: %s", strerror(errno));
    char target[PATH_MAX];
    memset(target, 'x', sizeof target);
    ssize_t n = readlink(at("link"), target, sizeof target);
    /* readlink does not add a NUL: exactly the target's bytes come back. */
    CHECK("readlink", n == 1 && target[0] == 'a' && target[1] == 'x', "readlink returned %zd [%.*s]", n,
          (int)(n > 0 ? n : 0), target);
    struct stat st;
    int ok = lstat(at("link"), &st) == 0;
    CHECK("lstat_sees_link", ok && S_ISLNK(st.st_mode), "lstat ok=%d mode %o", ok,
          ok ? (unsigned)st.st_mode : 0u);
    ok = stat(at("link"), &st) == 0;
    CHECK("stat_follows_link", ok && S_ISREG(st.st_mode) && st.st_size == HOLE_OFFSET + 2,
          "stat ok=%d mode %o size %lld", ok, ok ? (unsigned)st.st_mode : 0u,
          ok ? (long long)st.st_size : -1LL);
    CHECK_ERR("symlink_existing_eexist", symlink("a", at("link")), EEXIST);
    CHECK_ERR("readlink_on_file_einval", readlink(at("a"), target, sizeof target), EINVAL);
    symlink("nowhere", at("dangling"));
    CHECK_ERR("open_dangling_link_enoent", open(at("dangling"), O_RDONLY), ENOENT);
    unlink(at("dangling"));
    CHECK("unlink_link_keeps_target", unlink(at("link")) == 0 && access(at("a"), F_OK) == 0,
          "unlink/access: %s", strerror(errno));
}

int main(void) {
    snprintf(base, sizeof base, "/tmp/files-%d", (int)getpid());
    if (mkdir(base, DIR_MODE) != 0) {
        FAIL("setup", "mkdir %s: %s", base, strerror(errno));
        return k42_done();
    }
    basic_io();
    error_paths();
    directories();
    renames();
    symlinks();
    unlink(at("a"));
    CHECK("cleanup", rmdir(base) == 0, "rmdir %s: %s", base, strerror(errno));
    return k42_done();
}
