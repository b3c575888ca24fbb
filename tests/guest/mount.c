/*
 * mount: mount(2) and umount2(2) of a tmpfs, as root (the run's program is), and what a
 * mount changes: its own st_dev, the covered directory hidden, `..` out of it, EXDEV across,
 * EBUSY for the mountpoint and for a busy unmount (an open file, a mapped one whose
 * descriptor is closed, a running program), MNT_DETACH, /proc/mounts, and the errors
 * (ENODEV, ENOENT, ENOTDIR, EINVAL, EPERM for a non-root caller).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "k42test.h"

#define DIR_PATH "/tmp/mount-test"
#define FILE_UNDER DIR_PATH "/under"

/* Whether /proc/mounts has a line starting "SOURCE TARGET TYPE ". */
static int listed(const char *source, const char *target, const char *type) {
    char want[256], line[512];
    snprintf(want, sizeof want, "%s %s %s ", source, target, type);
    FILE *f = fopen("/proc/mounts", "r");
    if (!f)
        return -1;
    int found = 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, want, strlen(want)) == 0)
            found = 1;
    fclose(f);
    return found;
}

static void mount_and_cover(void) {
    struct stat under, parent, top, in;
    mkdir("/tmp", 0777);
    mkdir(DIR_PATH, 0755);
    int fd = open(FILE_UNDER, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    close(fd);
    stat(DIR_PATH, &under);
    stat("/tmp", &parent);
    int r = mount("k42test", DIR_PATH, "tmpfs", 0, NULL);
    CHECK("mount_tmpfs", r == 0, "mount returned %d (%s)", r, strerror(errno));
    stat(DIR_PATH, &top);
    CHECK("own_device", top.st_dev != under.st_dev && top.st_ino != under.st_ino,
          "dev %lu ino %lu after, %lu %lu before", (unsigned long)top.st_dev,
          (unsigned long)top.st_ino, (unsigned long)under.st_dev, (unsigned long)under.st_ino);
    CHECK("tmpfs_root_mode", top.st_mode == (S_IFDIR | 01777), "mode %o", top.st_mode);
    CHECK_ERR("covered_file_hidden", access(FILE_UNDER, F_OK), ENOENT);
    fd = open(DIR_PATH "/f", O_CREAT | O_RDWR, 0644);
    fstat(fd, &in);
    CHECK("file_inside_on_the_mount", fd >= 0 && in.st_dev == top.st_dev, "fd %d dev %lu", fd,
          (unsigned long)in.st_dev);
    stat(DIR_PATH "/..", &in);
    CHECK("dotdot_leaves_it", in.st_dev == parent.st_dev && in.st_ino == parent.st_ino,
          "'..' is dev %lu ino %lu, /tmp is %lu %lu", (unsigned long)in.st_dev,
          (unsigned long)in.st_ino, (unsigned long)parent.st_dev, (unsigned long)parent.st_ino);
    CHECK("proc_mounts_lists_it", listed("k42test", DIR_PATH, "tmpfs") == 1,
          "no 'k42test " DIR_PATH " tmpfs' line in /proc/mounts");
    CHECK_ERR("rename_across_is_exdev", rename(DIR_PATH "/f", "/tmp/mount-test-f"), EXDEV);
    CHECK_ERR("link_across_is_exdev", link(DIR_PATH "/f", "/tmp/mount-test-f"), EXDEV);
    CHECK_ERR("rmdir_mountpoint_is_ebusy", rmdir(DIR_PATH), EBUSY);
    CHECK_ERR("busy_umount_is_ebusy", umount2(DIR_PATH, 0), EBUSY);
    close(fd);
    r = umount2(DIR_PATH, 0);
    CHECK("umount", r == 0, "umount2 returned %d (%s)", r, strerror(errno));
    stat(DIR_PATH, &top);
    CHECK("uncovered", top.st_dev == under.st_dev && top.st_ino == under.st_ino &&
                           access(FILE_UNDER, F_OK) == 0 && access(DIR_PATH "/f", F_OK) != 0,
          "after umount: dev %lu ino %lu", (unsigned long)top.st_dev, (unsigned long)top.st_ino);
    CHECK("proc_mounts_forgets_it", listed("k42test", DIR_PATH, "tmpfs") == 0,
          "still listed after umount");
}

/* A file mapping holds its file as an open descriptor does: the unmount is EBUSY until it
 * goes. */
static void mapped_file_keeps_it_busy(void) {
    mount("k42map", DIR_PATH, "tmpfs", 0, NULL);
    int fd = open(DIR_PATH "/mapped", O_CREAT | O_RDWR, 0644);
    int written = fd >= 0 && write(fd, "mapped", 6) == 6;
    void *p = written ? mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    if (fd >= 0)
        close(fd);
    CHECK("mapped_file_mapped", p != MAP_FAILED && !memcmp(p, "mapped", 6), "fd %d, mmap %p (%s)",
          fd, p, strerror(errno));
    CHECK_ERR("umount_with_mapped_file_is_ebusy", umount2(DIR_PATH, 0), EBUSY);
    if (p != MAP_FAILED)
        munmap(p, 4096);
    int r = umount2(DIR_PATH, 0);
    CHECK("umount_after_munmap", r == 0, "umount2 returned %d (%s)", r, strerror(errno));
}

/* The argument that makes this program wait to be killed: run from a copy on a mount, it
 * keeps that file system busy. */
#define WAIT_ARG "--wait-to-be-killed"

/* Copies this program's own file to `to`; 0 on success. */
static int copy_self(const char *to) {
    char self[256];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = 0;
    int in = open(self, O_RDONLY), out = open(to, O_CREAT | O_WRONLY | O_TRUNC, 0755);
    int ok = in >= 0 && out >= 0;
    char buf[4096];
    while (ok && (n = read(in, buf, sizeof buf)) > 0)
        ok = write(out, buf, (size_t)n) == n;
    ok = ok && n == 0;
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return ok ? 0 : -1;
}

/* A program running from a file system keeps it busy: the unmount is EBUSY until it ends. */
static void running_program_keeps_it_busy(void) {
    mount("k42run", DIR_PATH, "tmpfs", 0, NULL);
    if (copy_self(DIR_PATH "/prog") != 0) {
        FAIL("running_program_setup", "cannot copy the program: %s", strerror(errno));
        umount2(DIR_PATH, 0);
        return;
    }
    /* The pipe's write end closes on exec: EOF here says the child runs the copy. */
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        FAIL("running_program_setup", "pipe2: %s", strerror(errno));
        umount2(DIR_PATH, 0);
        return;
    }
    pid_t child = fork();
    if (child == 0) {
        close(p[0]);
        execl(DIR_PATH "/prog", "prog", WAIT_ARG, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char c;
    int started = child > 0 && read(p[0], &c, 1) == 0;
    close(p[0]);
    CHECK("running_program_started", started, "fork %d", (int)child);
    CHECK_ERR("umount_with_running_program_is_ebusy", umount2(DIR_PATH, 0), EBUSY);
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    int r = umount2(DIR_PATH, 0);
    CHECK("umount_after_program_ends", r == 0, "umount2 returned %d (%s)", r, strerror(errno));
}

static void lazy_unmount(void) {
    mount("k42lazy", DIR_PATH, "tmpfs", 0, NULL);
    int fd = open(DIR_PATH "/kept", O_CREAT | O_RDWR, 0644);
    int r = umount2(DIR_PATH, MNT_DETACH);
    CHECK("detach_busy", r == 0, "umount2(MNT_DETACH) returned %d (%s)", r, strerror(errno));
    char buf[8] = {0};
    int ok = pwrite(fd, "kept", 4, 0) == 4 && pread(fd, buf, 4, 0) == 4 && !strcmp(buf, "kept");
    CHECK("detached_file_still_usable", ok, "read back '%s'", buf);
    CHECK("detached_is_gone", access(DIR_PATH "/kept", F_OK) != 0 &&
                                  listed("k42lazy", DIR_PATH, "tmpfs") == 0,
          "still in the name space");
    close(fd);
}

static void errors(void) {
    CHECK_ERR("unknown_type_is_enodev", mount("x", DIR_PATH, "k42nosuchfs", 0, NULL), ENODEV);
    CHECK_ERR("missing_target_is_enoent", mount("x", "/tmp/no/such", "tmpfs", 0, NULL), ENOENT);
    CHECK_ERR("file_target_is_enotdir", mount("x", FILE_UNDER, "tmpfs", 0, NULL), ENOTDIR);
    CHECK_ERR("umount_not_a_mount_is_einval", umount2(DIR_PATH, 0), EINVAL);
    CHECK_ERR("umount_bad_flags_is_einval", umount2(DIR_PATH, 0x100), EINVAL);
    mount("k42perm", DIR_PATH, "tmpfs", 0, NULL);
    pid_t child = fork();
    if (child == 0) {
        if (setuid(1000) != 0)
            _exit(10);
        errno = 0;
        int m = mount("x", "/tmp", "tmpfs", 0, NULL) == -1 && errno == EPERM;
        errno = 0;
        int u = umount2(DIR_PATH, 0) == -1 && errno == EPERM;
        _exit(m && u ? 0 : 11 + m);
    }
    int status = -1;
    waitpid(child, &status, 0);
    CHECK("non_root_is_eperm", WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "child status %#x (10: setuid failed, 11: mount, 12: umount2 not EPERM)", status);
    umount2(DIR_PATH, 0);
    /* Through /proc to the program's own file: followed, a file (not a mount's root). */
    CHECK_ERR("mount_through_proc_exe_is_enotdir",
              mount("x", "/proc/self/exe", "tmpfs", 0, NULL), ENOTDIR);
    CHECK_ERR("umount_through_proc_exe_is_einval", umount2("/proc/self/exe", 0), EINVAL);
}

#define EDGE DIR_PATH "-edge"

/* `..` from a directory that a later mount covers the parent of lands on the mount: Linux's
 * follow_dotdot then step_into (handle_mounts) crosses, as for any name. */
static void dotdot_into_a_later_mount(void) {
    struct stat mnt, up;
    mkdir("/tmp", 0777);
    mkdir(EDGE, 0755);
    mkdir(EDGE "/x", 0755);
    int back = open("/", O_RDONLY | O_DIRECTORY);
    chdir(EDGE "/x");
    int r = mount("k42edge", EDGE, "tmpfs", 0, NULL);
    stat(EDGE, &mnt);
    stat("..", &up);
    CHECK("dotdot_crosses_into_a_later_mount",
          r == 0 && up.st_dev == mnt.st_dev && up.st_ino == mnt.st_ino,
          "mount %d; '..' is dev %lu ino %lu, the mount's root %lu %lu", r,
          (unsigned long)up.st_dev, (unsigned long)up.st_ino, (unsigned long)mnt.st_dev,
          (unsigned long)mnt.st_ino);
    fchdir(back);
    close(back);
    umount2(EDGE, 0);
    rmdir(EDGE "/x");
    rmdir(EDGE);
}

/* getdents' `..` of a mounted root is the root itself (dcache_readdir's parent_ino: a
 * file system's root dentry is its own parent). */
static void dotdot_entry_of_a_mounted_root(void) {
    struct stat root;
    mkdir(EDGE, 0755);
    mount("k42edge", EDGE, "tmpfs", 0, NULL);
    stat(EDGE, &root);
    unsigned long dotdot = 0;
    DIR *d = opendir(EDGE);
    for (struct dirent *e; d && (e = readdir(d));)
        if (strcmp(e->d_name, "..") == 0)
            dotdot = e->d_ino;
    if (d)
        closedir(d);
    CHECK("mounted_root_dotdot_entry_is_itself", dotdot == (unsigned long)root.st_ino,
          "'..' entry ino %lu, the root's %lu", dotdot, (unsigned long)root.st_ino);
    umount2(EDGE, 0);
    rmdir(EDGE);
}

/* umount2 by anyone but root is EPERM before the target is looked at (can_umount's
 * may_mount comes before its "not a mount root" EINVAL). */
static void umount_eperm_first(void) {
    pid_t pid = fork();
    if (pid == 0) {
        if (setuid(65534) != 0)
            _exit(100);
        _exit(umount2("/tmp", 0) == -1 ? errno : 0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 100) {
        SKIP("umount_by_non_root_is_eperm", "setuid refused: no other user to be refused");
        return;
    }
    CHECK("umount_by_non_root_is_eperm", WIFEXITED(status) && WEXITSTATUS(status) == EPERM,
          "status %#x (errno %d)", status, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* Nothing is mounted on a lazily unmounted file system (do_add_mount's check_mnt: EINVAL),
 * nor on a removed directory (lock_mount: ENOENT). */
static void mount_where_nothing_can_be(void) {
    int back = open("/", O_RDONLY | O_DIRECTORY);
    mkdir(EDGE, 0755);
    mount("k42edge", EDGE, "tmpfs", 0, NULL);
    int kept = open(EDGE, O_RDONLY | O_DIRECTORY);
    umount2(EDGE, MNT_DETACH);
    mkdirat(kept, "x", 0755);
    fchdir(kept);
    int r = mount("k42inner", "x", "tmpfs", 0, NULL);
    int e = errno;
    if (r == 0)
        umount2("x", 0);
    CHECK("mount_on_a_detached_mount_is_einval", r == -1 && e == EINVAL, "mount returned %d (%s)",
          r, r ? strerror(e) : "no error");
    fchdir(back);
    close(kept);
    rmdir(EDGE);

    mkdir(EDGE "-gone", 0755);
    chdir(EDGE "-gone");
    rmdir(EDGE "-gone");
    r = mount("k42gone", ".", "tmpfs", 0, NULL);
    e = errno;
    CHECK("mount_on_a_removed_directory_is_enoent", r == -1 && e == ENOENT,
          "mount returned %d (%s)", r, r ? strerror(e) : "no error");
    fchdir(back);
    close(back);
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], WAIT_ARG)) {
        for (;;)
            pause();
    }
    dotdot_into_a_later_mount();
    dotdot_entry_of_a_mounted_root();
    umount_eperm_first();
    mount_where_nothing_can_be();
    mount_and_cover();
    mapped_file_keeps_it_busy();
    running_program_keeps_it_busy();
    lazy_unmount();
    errors();
    unlink(FILE_UNDER);
    rmdir(DIR_PATH);
    return k42_done();
}
