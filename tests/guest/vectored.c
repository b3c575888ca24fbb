/*
 * vectored: the positioned and vectored reads and writes (preadv, pwritev, preadv2, pwritev2,
 * readv), closing ranges of descriptors (close_range), and sync/syncfs, as Linux 6.1 answers
 * them on a tmpfs file and a pipe:
 *   positioned calls leave the file offset be; offset -1 of preadv2/pwritev2 is the file's own;
 *   RWF_APPEND and an O_APPEND file append whatever the offset; a short read ends the call;
 *   a fault part way answers what was moved; the errors (EINVAL, ESPIPE, EBADF, EFAULT,
 *   EOPNOTSUPP) in Linux's order;
 *   close_range closes or marks close-on-exec a range, and refuses a bad one or flag.
 * Raw syscalls where the C library would change what the kernel is asked.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "k42test.h"

#define DIR_ "/tmp/vectored"
#define FILE_ DIR_ "/f"
/* An address no process has mapped. */
#define BAD_POINTER ((void *)1)
/* Linux's UIO_MAXIOV. */
#define IOV_MAX_ 1024
/* RWF_* of linux/fs.h, which not every C library's headers carry. */
#define RWF_HIPRI_ 0x1
#define RWF_APPEND_ 0x10
#define RWF_UNKNOWN_ 0x100
/* linux/close_range.h. */
#define CLOSE_RANGE_CLOEXEC_ (1U << 2)

static long preadv_(int fd, const struct iovec *iov, int n, long pos) {
    return syscall(SYS_preadv, fd, iov, n, pos, 0L);
}
static long pwritev_(int fd, const struct iovec *iov, int n, long pos) {
    return syscall(SYS_pwritev, fd, iov, n, pos, 0L);
}
static long preadv2_(int fd, const struct iovec *iov, int n, long pos, int flags) {
    return syscall(SYS_preadv2, fd, iov, n, pos, 0L, flags);
}
static long pwritev2_(int fd, const struct iovec *iov, int n, long pos, int flags) {
    return syscall(SYS_pwritev2, fd, iov, n, pos, 0L, flags);
}
static long close_range_(unsigned first, unsigned last, unsigned flags) {
    return syscall(SYS_close_range, first, last, flags);
}

static off_t offset(int fd) {
    return lseek(fd, 0, SEEK_CUR);
}

static off_t size_of(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 ? st.st_size : -1;
}

static void positioned(void) {
    int fd = open(FILE_, O_CREAT | O_RDWR | O_TRUNC, 0644);
    struct iovec out[2] = {{"abc", 3}, {"defg", 4}};
    long w = pwritev_(fd, out, 2, 100);
    char back[8] = {0};
    long r = pread(fd, back, 7, 100);
    CHECK("pwritev_writes_at_the_offset",
          w == 7 && r == 7 && memcmp(back, "abcdefg", 7) == 0 && offset(fd) == 0 && size_of(fd) == 107,
          "pwritev %ld, pread %ld \"%s\", offset %ld size %ld", w, r, back, (long)offset(fd),
          (long)size_of(fd));
    char a[2], b[10];
    struct iovec in[2] = {{a, sizeof a}, {b, sizeof b}};
    r = preadv_(fd, in, 2, 101);
    CHECK("preadv_short_read_ends_the_call",
          r == 6 && memcmp(a, "bc", 2) == 0 && memcmp(b, "defg", 4) == 0 && offset(fd) == 0,
          "preadv %ld, offset %ld", r, (long)offset(fd));
    pwrite(fd, "hello", 5, 0);
    char h[5] = {0};
    struct iovec hv = {h, sizeof h};
    r = preadv2_(fd, &hv, 1, -1, 0);
    CHECK("preadv2_minus_one_is_the_file_offset",
          r == 5 && memcmp(h, "hello", 5) == 0 && offset(fd) == 5, "preadv2 %ld, offset %ld", r,
          (long)offset(fd));
    struct iovec tail = {"TAIL", 4};
    w = pwritev2_(fd, &tail, 1, 0, RWF_APPEND_);
    char t[4] = {0};
    pread(fd, t, 4, 107);
    CHECK("pwritev2_rwf_append_appends",
          w == 4 && size_of(fd) == 111 && memcmp(t, "TAIL", 4) == 0 && offset(fd) == 5,
          "pwritev2 %ld, size %ld, offset %ld", w, (long)size_of(fd), (long)offset(fd));
    r = preadv2_(fd, &hv, 1, 0, RWF_HIPRI_);
    CHECK("preadv2_hipri_reads", r == 5, "preadv2 %ld (%s)", r, strerror(errno));
    struct iovec none = {NULL, 0};
    CHECK("empty_iovecs_move_nothing",
          preadv_(fd, &none, 1, 0) == 0 && pwritev_(fd, NULL, 0, 0) == 0 && size_of(fd) == 111,
          "size %ld", (long)size_of(fd));
    CHECK_ERR("preadv2_unknown_flag_eopnotsupp", preadv2_(fd, &hv, 1, 0, RWF_UNKNOWN_), EOPNOTSUPP);
    CHECK_ERR("pwritev2_unknown_flag_eopnotsupp", pwritev2_(fd, &tail, 1, 0, RWF_UNKNOWN_),
              EOPNOTSUPP);
    CHECK_ERR("preadv_negative_offset_einval", preadv_(fd, &hv, 1, -2), EINVAL);
    CHECK_ERR("preadv2_negative_offset_einval", preadv2_(fd, &hv, 1, -2, 0), EINVAL);
    CHECK_ERR("preadv_too_many_iovecs_einval", preadv_(fd, &hv, IOV_MAX_ + 1, 0), EINVAL);
    CHECK_ERR("preadv_bad_iovecs_efault", preadv_(fd, BAD_POINTER, 1, 0), EFAULT);
    CHECK_ERR("preadv_bad_fd_ebadf", preadv_(-1, &hv, 1, 0), EBADF);
    close(fd);

    /* A fault part way: the first buffer's bytes are the answer. */
    fd = open(FILE_, O_RDONLY);
    char first[3];
    struct iovec partial[2] = {{first, sizeof first}, {BAD_POINTER, 4}};
    r = syscall(SYS_readv, fd, partial, 2);
    CHECK("readv_fault_part_way_answers_what_it_read",
          r == 3 && memcmp(first, "hel", 3) == 0, "readv %ld (%s)", r, strerror(errno));
    CHECK_ERR("pwritev_read_only_ebadf", pwritev_(fd, out, 2, 0), EBADF);
    close(fd);
    fd = open(FILE_, O_WRONLY);
    CHECK_ERR("preadv_write_only_ebadf", preadv_(fd, &hv, 1, 0), EBADF);
    close(fd);

    /* pwrite on an O_APPEND file appends, whatever its offset (pwrite(2), BUGS). */
    fd = open(FILE_, O_WRONLY | O_APPEND);
    long p = pwrite(fd, "Z", 1, 0);
    CHECK("pwrite_on_o_append_appends", p == 1 && size_of(fd) == 112, "pwrite %ld, size %ld", p,
          (long)size_of(fd));
    close(fd);
}

static void pipes(void) {
    int p[2];
    if (pipe(p) != 0) {
        FAIL("pwritev_pipe_espipe", "pipe: %s", strerror(errno));
        return;
    }
    struct iovec out = {"abc", 3};
    char in[3];
    struct iovec iv = {in, sizeof in};
    CHECK_ERR("pwritev_pipe_espipe", pwritev_(p[1], &out, 1, 0), ESPIPE);
    CHECK_ERR("preadv_pipe_espipe", preadv_(p[0], &iv, 1, 0), ESPIPE);
    long w = pwritev2_(p[1], &out, 1, -1, 0);
    long r = preadv2_(p[0], &iv, 1, -1, 0);
    CHECK("pipe_with_offset_minus_one", w == 3 && r == 3 && memcmp(in, "abc", 3) == 0,
          "pwritev2 %ld preadv2 %ld", w, r);
    close(p[0]);
    close(p[1]);
}

static int is_open(int fd) {
    return fcntl(fd, F_GETFD) != -1;
}

static void ranges(void) {
    int base = open("/", O_RDONLY);
    int a = dup2(base, 40), b = dup2(base, 41), c = dup2(base, 43);
    long r = close_range_(40, 42, 0);
    CHECK("close_range_closes_the_range",
          a == 40 && b == 41 && c == 43 && r == 0 && !is_open(40) && !is_open(41) && is_open(43) &&
              is_open(base),
          "close_range %ld (%s): 40 %d 41 %d 43 %d", r, strerror(errno), is_open(40), is_open(41),
          is_open(43));
    r = close_range_(43, ~0U, CLOSE_RANGE_CLOEXEC_);
    CHECK("close_range_cloexec_marks", r == 0 && fcntl(43, F_GETFD) == FD_CLOEXEC,
          "close_range %ld (%s): flags %d", r, strerror(errno), fcntl(43, F_GETFD));
    r = close_range_(43, ~0U, 0);
    CHECK("close_range_to_the_top", r == 0 && !is_open(43) && is_open(base),
          "close_range %ld (%s)", r, strerror(errno));
    CHECK_ERR("close_range_first_after_last_einval", close_range_(5, 3, 0), EINVAL);
    CHECK_ERR("close_range_unknown_flag_einval", close_range_(40, 42, 1), EINVAL);
    CHECK("close_range_of_nothing", close_range_(500, 600, 0) == 0, "%s", strerror(errno));
    close(base);
}

static void syncs(void) {
    int fd = open(FILE_, O_RDONLY);
    int path = open(FILE_, O_PATH);
    int p[2];
    int piped = pipe(p);
    CHECK("sync_and_syncfs",
          syscall(SYS_sync) == 0 && syscall(SYS_syncfs, fd) == 0 &&
              (piped != 0 || syscall(SYS_syncfs, p[0]) == 0),
          "%s", strerror(errno));
    CHECK_ERR("syncfs_bad_fd_ebadf", syscall(SYS_syncfs, -1), EBADF);
    CHECK_ERR("syncfs_o_path_ebadf", syscall(SYS_syncfs, path), EBADF);
    close(fd);
    close(path);
}

int main(void) {
    mkdir("/tmp", 0777);
    mkdir(DIR_, 0755);
    positioned();
    pipes();
    ranges();
    syncs();
    return k42_done();
}
