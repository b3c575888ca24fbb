/*
 * statfs: statfs(2) and fstatfs(2), as root (the run's program is), on what each kind of file
 * system says of itself in Linux 6.1: a tmpfs its size and inodes, and what a file takes of
 * them; a ramfs, /proc and a pipe only their type, block size and name length; and the errors
 * (ENOENT, ENOTDIR, EFAULT, EBADF). The figures that depend on the machine (a tmpfs's size) are
 * checked only for being consistent.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "k42test.h"

/* linux/magic.h and linux/statfs.h, which not every C library's headers carry. */
#define TMPFS_MAGIC_ 0x01021994
#define RAMFS_MAGIC_ 0x858458f6
#define PROC_SUPER_MAGIC_ 0x9fa0
#define PIPEFS_MAGIC_ 0x50495045
#define ST_VALID_ 0x0020
#define ST_RELATIME_ 0x1000

#define PAGE 4096
#define NAME_MAX_ 255
#define TMP_DIR "/tmp/statfs-tmpfs"
#define RAM_DIR "/tmp/statfs-ramfs"
#define FILE_IN TMP_DIR "/sixteen-pages"
/* Pages the file in the tmpfs takes. */
#define FILE_PAGES 16
/* An address no process has mapped. */
#define BAD_POINTER ((void *)1)

/* The fields every file system fills the same way. */
static int common_fields(const struct statfs *s) {
    return s->f_bsize == PAGE && s->f_frsize == PAGE && s->f_namelen == NAME_MAX_ &&
           (s->f_flags & ST_VALID_) != 0;
}

static void tmpfs(void) {
    mkdir(TMP_DIR, 0755);
    int m = mount("k42test", TMP_DIR, "tmpfs", 0, NULL);
    struct statfs s;
    int r = statfs(TMP_DIR, &s);
    CHECK("tmpfs", m == 0 && r == 0 && s.f_type == TMPFS_MAGIC_ && common_fields(&s) &&
                       (s.f_flags & ST_RELATIME_) != 0,
          "mount %d statfs %d (%s): type %#lx bsize %ld frsize %ld namelen %ld flags %#lx", m, r,
          strerror(errno), (long)s.f_type, (long)s.f_bsize, (long)s.f_frsize, (long)s.f_namelen,
          (long)s.f_flags);
    CHECK("tmpfs_figures_consistent",
          s.f_blocks > 0 && s.f_bfree <= s.f_blocks && s.f_bavail == s.f_bfree && s.f_files > 0 &&
              s.f_ffree < s.f_files,
          "blocks %llu free %llu avail %llu files %llu ffree %llu",
          (unsigned long long)s.f_blocks, (unsigned long long)s.f_bfree,
          (unsigned long long)s.f_bavail, (unsigned long long)s.f_files,
          (unsigned long long)s.f_ffree);

    static char page[PAGE];
    memset(page, 'x', sizeof page);
    int fd = open(FILE_IN, O_CREAT | O_RDWR | O_TRUNC, 0644);
    int written = 0;
    for (int i = 0; i < FILE_PAGES; i++)
        written += write(fd, page, sizeof page) == (ssize_t)sizeof page;
    struct statfs after, by_fd;
    int r1 = statfs(FILE_IN, &after), r2 = fstatfs(fd, &by_fd);
    CHECK("tmpfs_counts_a_files_pages_and_inode",
          written == FILE_PAGES && r1 == 0 && s.f_bfree - after.f_bfree == FILE_PAGES &&
              s.f_ffree - after.f_ffree == 1,
          "%d pages written, statfs %d: free blocks %llu -> %llu, free inodes %llu -> %llu",
          written, r1, (unsigned long long)s.f_bfree, (unsigned long long)after.f_bfree,
          (unsigned long long)s.f_ffree, (unsigned long long)after.f_ffree);
    CHECK("fstatfs_as_statfs",
          r2 == 0 && by_fd.f_type == after.f_type && by_fd.f_blocks == after.f_blocks &&
              by_fd.f_bfree == after.f_bfree,
          "fstatfs %d (%s): type %#lx blocks %llu free %llu", r2, strerror(errno),
          (long)by_fd.f_type, (unsigned long long)by_fd.f_blocks,
          (unsigned long long)by_fd.f_bfree);
    close(fd);
    CHECK_ERR("statfs_under_a_file_enotdir", statfs(FILE_IN "/x", &s), ENOTDIR);
    unlink(FILE_IN);
    umount(TMP_DIR);
    rmdir(TMP_DIR);
}

static void ramfs(void) {
    mkdir(RAM_DIR, 0755);
    int m = mount("k42test", RAM_DIR, "ramfs", 0, NULL);
    struct statfs s;
    int r = statfs(RAM_DIR, &s);
    CHECK("ramfs_only_its_type",
          m == 0 && r == 0 && s.f_type == (typeof(s.f_type))RAMFS_MAGIC_ && common_fields(&s) &&
              s.f_blocks == 0 && s.f_bfree == 0 && s.f_files == 0 && s.f_ffree == 0,
          "mount %d statfs %d (%s): type %#lx blocks %llu files %llu", m, r, strerror(errno),
          (long)s.f_type, (unsigned long long)s.f_blocks, (unsigned long long)s.f_files);
    umount(RAM_DIR);
    rmdir(RAM_DIR);
}

static void proc_and_pipe(void) {
    struct statfs s, t;
    int r1 = statfs("/proc", &s), r2 = statfs("/proc/self/status", &t);
    CHECK("proc", r1 == 0 && r2 == 0 && s.f_type == PROC_SUPER_MAGIC_ &&
                      t.f_type == PROC_SUPER_MAGIC_ && common_fields(&s) && s.f_blocks == 0,
          "statfs %d %d (%s): type %#lx %#lx blocks %llu", r1, r2, strerror(errno),
          (long)s.f_type, (long)t.f_type, (unsigned long long)s.f_blocks);
    int fds[2];
    int p = pipe(fds), r = fstatfs(fds[0], &s);
    CHECK("pipe", p == 0 && r == 0 && s.f_type == PIPEFS_MAGIC_ && common_fields(&s),
          "pipe %d fstatfs %d (%s): type %#lx", p, r, strerror(errno), (long)s.f_type);
    close(fds[0]);
    close(fds[1]);
    r = statfs("/", &s);
    CHECK("root", r == 0 && common_fields(&s), "statfs %d (%s): bsize %ld", r, strerror(errno),
          (long)s.f_bsize);
}

static void errors(void) {
    struct statfs s;
    CHECK_ERR("missing_enoent", statfs("/no/such/dir", &s), ENOENT);
    CHECK_ERR("empty_path_enoent", statfs("", &s), ENOENT);
    CHECK_ERR("bad_path_efault", statfs(BAD_POINTER, &s), EFAULT);
    /* Straight to the kernel: musl's wrapper clears the buffer itself first. */
    CHECK_ERR("bad_buffer_efault", syscall(SYS_statfs, "/", BAD_POINTER), EFAULT);
    CHECK_ERR("fstatfs_bad_fd_ebadf", fstatfs(-1, &s), EBADF);
    int fd = open("/", O_RDONLY | O_DIRECTORY);
    close(fd);
    CHECK_ERR("fstatfs_closed_fd_ebadf", fstatfs(fd, &s), EBADF);
}

int main(void) {
    mkdir("/tmp", 0777);
    tmpfs();
    ramfs();
    proc_and_pipe();
    errors();
    return k42_done();
}
