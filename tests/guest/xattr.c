/*
 * xattr: the extended-attribute calls (get, set, list, remove; by path, by path without
 * following, by descriptor), as root, on a ramfs (which keeps none in Linux 6.1, as no file
 * system on K42 does): every attribute is EOPNOTSUPP and a listing is empty, after Linux
 * 6.1's checks in its order — the path (ENOENT) or the descriptor (EBADF, O_PATH too) first,
 * then the flags (EINVAL), the name (ERANGE), the value's size (E2BIG) and address (EFAULT),
 * and a user. attribute on anything but a file or directory (ENODATA to read, EPERM to write).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "k42test.h"

#define DIR_PATH "/tmp/xattr-test"
#define FILE_PATH DIR_PATH "/file"
#define FIFO_PATH DIR_PATH "/fifo"
#define LINK_PATH DIR_PATH "/link"
#define MISSING "/tmp/xattr-test/no/such"
/* One byte past the longest name (XATTR_NAME_MAX). */
#define LONG_NAME_BYTES 256
/* One byte past the largest value (XATTR_SIZE_MAX). */
#define TOO_BIG (65536 + 1)
/* setxattr flags no Linux knows. */
#define BAD_FLAGS 4
/* An address no process has mapped. */
#define BAD_POINTER ((void *)1)

static const char value[] = "v";

static void set_up(void) {
    mkdir("/tmp", 0777);
    mkdir(DIR_PATH, 0755);
    int m = mount("k42test", DIR_PATH, "ramfs", 0, NULL);
    int fd = open(FILE_PATH, O_CREAT | O_WRONLY, 0644);
    close(fd);
    int f = mkfifo(FIFO_PATH, 0644), l = symlink("file", LINK_PATH);
    CHECK("set_up", m == 0 && fd >= 0 && f == 0 && l == 0, "mount %d open %d mkfifo %d symlink %d (%s)",
          m, fd, f, l, strerror(errno));
}

static void nothing_kept(void) {
    char buf[64];
    CHECK_ERR("get_user_eopnotsupp", getxattr(FILE_PATH, "user.x", buf, sizeof buf), EOPNOTSUPP);
    CHECK_ERR("get_trusted_eopnotsupp", getxattr(FILE_PATH, "trusted.x", buf, sizeof buf), EOPNOTSUPP);
    CHECK_ERR("get_security_eopnotsupp", getxattr(FILE_PATH, "security.selinux", buf, sizeof buf),
              EOPNOTSUPP);
    CHECK_ERR("get_acl_eopnotsupp", getxattr(DIR_PATH, "system.posix_acl_access", buf, sizeof buf),
              EOPNOTSUPP);
    CHECK_ERR("set_eopnotsupp", setxattr(FILE_PATH, "user.x", value, 1, 0), EOPNOTSUPP);
    CHECK_ERR("remove_eopnotsupp", removexattr(FILE_PATH, "user.x"), EOPNOTSUPP);
    ssize_t n1 = listxattr(FILE_PATH, buf, sizeof buf), n2 = llistxattr(LINK_PATH, buf, sizeof buf);
    ssize_t n3 = listxattr(DIR_PATH, NULL, 0);
    CHECK("list_empty", n1 == 0 && n2 == 0 && n3 == 0, "%zd %zd %zd (%s)", n1, n2, n3,
          strerror(errno));
}

static void user_namespace_rule(void) {
    char buf[64];
    CHECK_ERR("get_user_on_fifo_enodata", getxattr(FIFO_PATH, "user.x", buf, sizeof buf), ENODATA);
    CHECK_ERR("lget_user_on_symlink_enodata", lgetxattr(LINK_PATH, "user.x", buf, sizeof buf), ENODATA);
    CHECK_ERR("get_through_symlink_eopnotsupp", getxattr(LINK_PATH, "user.x", buf, sizeof buf),
              EOPNOTSUPP);
    CHECK_ERR("set_user_on_fifo_eperm", setxattr(FIFO_PATH, "user.x", value, 1, 0), EPERM);
    CHECK_ERR("lremove_user_on_symlink_eperm", lremovexattr(LINK_PATH, "user.x"), EPERM);
    CHECK_ERR("get_trusted_on_fifo_eopnotsupp", getxattr(FIFO_PATH, "trusted.x", buf, sizeof buf),
              EOPNOTSUPP);
}

static void argument_errors(void) {
    char buf[64], long_name[LONG_NAME_BYTES + 1];
    memset(long_name, 'a', LONG_NAME_BYTES);
    long_name[LONG_NAME_BYTES] = 0;
    memcpy(long_name, "user.", 5);
    CHECK_ERR("name_empty_erange", getxattr(FILE_PATH, "", buf, sizeof buf), ERANGE);
    CHECK_ERR("name_too_long_erange", getxattr(FILE_PATH, long_name, buf, sizeof buf), ERANGE);
    CHECK_ERR("name_bad_pointer_efault", syscall(SYS_getxattr, FILE_PATH, BAD_POINTER, buf, sizeof buf),
              EFAULT);
    CHECK_ERR("set_bad_flags_einval", setxattr(FILE_PATH, "user.x", value, 1, BAD_FLAGS), EINVAL);
    CHECK_ERR("set_too_big_e2big", setxattr(FILE_PATH, "user.x", value, TOO_BIG, 0), E2BIG);
    CHECK_ERR("set_bad_value_efault", syscall(SYS_setxattr, FILE_PATH, "user.x", BAD_POINTER, 1, 0),
              EFAULT);
    CHECK_ERR("get_missing_enoent", getxattr(MISSING, "user.x", buf, sizeof buf), ENOENT);
    CHECK_ERR("list_missing_enoent", listxattr(MISSING, buf, sizeof buf), ENOENT);
    /* Linux 6.1's order: a path call finds the file before it looks at its other arguments. */
    CHECK_ERR("get_path_before_name", getxattr(MISSING, "", buf, sizeof buf), ENOENT);
    CHECK_ERR("remove_path_before_name", removexattr(MISSING, ""), ENOENT);
    CHECK_ERR("set_path_before_flags", setxattr(MISSING, "user.x", value, 1, BAD_FLAGS), ENOENT);
}

static void by_descriptor(void) {
    char buf[64];
    int fd = open(FILE_PATH, O_RDONLY);
    CHECK_ERR("fget_eopnotsupp", fgetxattr(fd, "user.x", buf, sizeof buf), EOPNOTSUPP);
    CHECK_ERR("fset_eopnotsupp", fsetxattr(fd, "user.x", value, 1, 0), EOPNOTSUPP);
    CHECK_ERR("fremove_eopnotsupp", fremovexattr(fd, "user.x"), EOPNOTSUPP);
    ssize_t n = flistxattr(fd, buf, sizeof buf);
    CHECK("flist_empty", n == 0, "%zd (%s)", n, strerror(errno));
    close(fd);
    CHECK_ERR("fget_closed_ebadf", fgetxattr(fd, "user.x", buf, sizeof buf), EBADF);
    CHECK_ERR("flist_bad_fd_ebadf", flistxattr(-1, buf, sizeof buf), EBADF);
    CHECK_ERR("fset_bad_fd_before_flags", fsetxattr(-1, "user.x", value, 1, BAD_FLAGS), EBADF);
    int path_fd = open(FILE_PATH, O_PATH);
    CHECK_ERR("fget_o_path_ebadf", fgetxattr(path_fd, "user.x", buf, sizeof buf), EBADF);
    close(path_fd);
    int fds[2];
    if (pipe(fds) == 0) {
        CHECK_ERR("fget_user_on_pipe_enodata", fgetxattr(fds[0], "user.x", buf, sizeof buf), ENODATA);
        CHECK_ERR("fget_trusted_on_pipe_eopnotsupp", fgetxattr(fds[0], "trusted.x", buf, sizeof buf),
                  EOPNOTSUPP);
        close(fds[0]);
        close(fds[1]);
    }
}

int main(void) {
    set_up();
    nothing_kept();
    user_namespace_rule();
    argument_errors();
    by_descriptor();
    unlink(LINK_PATH);
    unlink(FIFO_PATH);
    unlink(FILE_PATH);
    umount(DIR_PATH);
    rmdir(DIR_PATH);
    return k42_done();
}
