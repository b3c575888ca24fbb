/*
 * sendfile: copying between descriptors without the bytes passing through the program —
 * sendfile and copy_file_range — as Linux 6.1 answers them on tmpfs files, a pipe and the
 * memory devices:
 *   without an offset pointer the input's file offset moves, with one the pointer's value
 *   moves instead; a copy stops at the input's end; the output's own offset moves (or, for
 *   copy_file_range, the one its pointer names); sendfile's output may be a pipe or a device;
 *   transfers larger than one piece arrive whole;
 *   the errors in Linux's order: EBADF, ESPIPE, EINVAL, EISDIR, EOVERFLOW, EFAULT; sendfile's
 *   input must be a regular file (not a pipe, a directory, /dev/zero or a /proc file).
 * Raw syscalls where the C library would change what the kernel is asked.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "k42test.h"

#define DIR_ "/tmp/sendfile"
#define SRC DIR_ "/src"
#define DST DIR_ "/dst"
/* An address no process has mapped. */
#define BAD_POINTER ((void *)1)
/* Bytes of the large transfer: several of the personality's pieces, not a multiple of one. */
#define BIG (100 * 1024 + 7)
/* Seconds before a sendfile that waits for room it should not wait for is interrupted. */
#define WATCHDOG_S 4

static long sendfile_(int out, int in, long long *off, unsigned long count) {
    return syscall(SYS_sendfile, out, in, off, count);
}
static long copy_range(int in, long long *off_in, int out, long long *off_out, unsigned long len,
                       unsigned flags) {
    return syscall(SYS_copy_file_range, in, off_in, out, off_out, len, flags);
}

static off_t offset(int fd) {
    return lseek(fd, 0, SEEK_CUR);
}

static off_t size_of(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 ? st.st_size : -1;
}

/* A fresh file `path` holding `text`, open for reading and writing at offset 0. */
static int file_with(const char *path, const char *text) {
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        return -1;
    lseek(fd, 0, SEEK_SET);
    return fd;
}

/* Whether file `fd` holds exactly `text` (its offset is left be). */
static int holds(int fd, const char *text) {
    char buf[64] = {0};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    return n == (ssize_t)strlen(text) && memcmp(buf, text, n) == 0;
}

static void sendfile_files(void) {
    int in = file_with(SRC, "0123456789");
    int out = file_with(DST, "");
    lseek(in, 2, SEEK_SET);
    long r = sendfile_(out, in, NULL, 5);
    CHECK("sendfile_moves_both_offsets",
          r == 5 && offset(in) == 7 && offset(out) == 5 && holds(out, "23456"),
          "sendfile %ld (%s): in at %ld, out at %ld", r, strerror(errno), (long)offset(in),
          (long)offset(out));
    long long off = 1;
    r = sendfile_(out, in, &off, 3);
    CHECK("sendfile_offset_pointer_moves_instead",
          r == 3 && off == 4 && offset(in) == 7 && offset(out) == 8 && holds(out, "23456123"),
          "sendfile %ld (%s): off %lld, in at %ld, out at %ld", r, strerror(errno), off,
          (long)offset(in), (long)offset(out));
    r = sendfile_(out, in, NULL, 100);
    CHECK("sendfile_stops_at_the_end", r == 3 && offset(in) == 10 && holds(out, "23456123789"),
          "sendfile %ld (%s): in at %ld", r, strerror(errno), (long)offset(in));
    r = sendfile_(out, in, NULL, 100);
    CHECK("sendfile_at_the_end_is_zero", r == 0, "sendfile %ld (%s)", r, strerror(errno));
    off = 50;
    r = sendfile_(out, in, &off, 4);
    CHECK("sendfile_offset_past_the_end_is_zero", r == 0 && off == 50, "sendfile %ld, off %lld",
          r, off);
    r = sendfile_(out, in, NULL, 0);
    CHECK("sendfile_count_zero", r == 0, "sendfile %ld (%s)", r, strerror(errno));
    close(in);
    close(out);
}

static void sendfile_big(void) {
    char *data = malloc(BIG), *back = malloc(BIG);
    for (int i = 0; i < BIG; i++)
        data[i] = (char)(i * 7 + i / 251);
    int in = open(SRC, O_CREAT | O_RDWR | O_TRUNC, 0644);
    int out = open(DST, O_CREAT | O_RDWR | O_TRUNC, 0644);
    long w = write(in, data, BIG);
    long long off = 0;
    long r = sendfile_(out, in, &off, BIG + 100);
    long got = pread(out, back, BIG, 0);
    CHECK("sendfile_large_arrives_whole",
          w == BIG && r == BIG && off == BIG && got == BIG && memcmp(data, back, BIG) == 0,
          "write %ld, sendfile %ld (%s), off %lld, read back %ld", w, r, strerror(errno), off, got);
    memset(back, 0, BIG);
    long long from = 0, to = 0;
    r = copy_range(in, &from, out, &to, BIG, 0);
    long more = copy_range(in, &from, out, &to, BIG, 0);
    got = pread(out, back, BIG, 0);
    CHECK("copy_file_range_large_arrives_whole",
          r > 0 && r + (more > 0 ? more : 0) == BIG && from == BIG && to == BIG && got == BIG &&
              memcmp(data, back, BIG) == 0,
          "copy_file_range %ld then %ld (%s), from %lld to %lld", r, more, strerror(errno), from,
          to);
    free(data);
    free(back);
    close(in);
    close(out);
}

static void sendfile_to_others(void) {
    int in = file_with(SRC, "piped bytes");
    int p[2];
    pipe(p);
    /* A read that finds nothing fails rather than waits: a failing case must not hang. */
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    long r = sendfile_(p[1], in, NULL, 100);
    char buf[32] = {0};
    long got = read(p[0], buf, sizeof buf);
    CHECK("sendfile_into_a_pipe", r == 11 && got == 11 && memcmp(buf, "piped bytes", 11) == 0,
          "sendfile %ld (%s), read %ld \"%s\"", r, strerror(errno), got, buf);
    int null = open("/dev/null", O_WRONLY);
    long long off = 0;
    r = sendfile_(null, in, &off, 100);
    CHECK("sendfile_into_dev_null", r == 11 && off == 11, "sendfile %ld (%s), off %lld", r,
          strerror(errno), off);
    close(null);
    int full = open("/dev/full", O_WRONLY);
    off = 0;
    CHECK_ERR("sendfile_into_dev_full_einval", sendfile_(full, in, &off, 1), EINVAL);
    close(full);
    close(in);
    close(p[0]);
    close(p[1]);
}

static void on_watchdog(int sig) {
    (void)sig;
}

static long long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

/* Into a pipe with no reader reading, sendfile waits only for room for the first bytes: it
 * moves what fits (at most the pipe's 64 KiB) and returns, rather than wait for the rest. A
 * watchdog signal ends a wait for the rest, so that a failure is a failed case, not a hang. */
static void sendfile_fills_a_pipe(void) {
    char *data = calloc(1, BIG);
    int in = open(SRC, O_CREAT | O_RDWR | O_TRUNC, 0644);
    long w = write(in, data, BIG);
    int p[2];
    pipe(p);
    struct sigaction sa = {.sa_handler = on_watchdog};
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval watchdog = {.it_value = {WATCHDOG_S, 0}};
    setitimer(ITIMER_REAL, &watchdog, NULL);
    long long off = 0, t0 = now_ms();
    long r = sendfile_(p[1], in, &off, BIG);
    long long took = now_ms() - t0;
    struct itimerval off_again = {0};
    setitimer(ITIMER_REAL, &off_again, NULL);
    CHECK("sendfile_into_a_pipe_moves_what_fits",
          w == BIG && r > 0 && r <= 64 * 1024 && off == r && took < WATCHDOG_S * 1000 / 2,
          "write %ld, sendfile %ld (%s), off %lld, after %lld ms", w, r, strerror(errno), off,
          took);
    free(data);
    close(in);
    close(p[0]);
    close(p[1]);
}

/* The descriptors the error cases use: a 6-byte input and an empty output, open every way. */
struct errfds {
    int in, out, wronly, rdonly, appending, dir, p[2];
};

static struct errfds open_errfds(void) {
    struct errfds f = {
        .in = file_with(SRC, "abcdef"),
        .out = file_with(DST, ""),
        .wronly = open(SRC, O_WRONLY),
        .rdonly = open(DST, O_RDONLY),
        .appending = open(DST, O_WRONLY | O_APPEND),
        .dir = open(DIR_, O_RDONLY | O_DIRECTORY),
    };
    pipe(f.p);
    return f;
}

static void close_errfds(struct errfds *f) {
    int all[] = {f->in, f->out, f->wronly, f->rdonly, f->appending, f->dir, f->p[0], f->p[1]};
    for (unsigned i = 0; i < sizeof all / sizeof all[0]; i++)
        close(all[i]);
}

static void sendfile_errors(void) {
    struct errfds f = open_errfds();
    int in = f.in, out = f.out, wronly = f.wronly, rdonly = f.rdonly;
    int appending = f.appending, dir = f.dir, *p = f.p;
    long long off = 0, negative = -1;
    CHECK_ERR("sendfile_bad_in_ebadf", sendfile_(out, 99, NULL, 1), EBADF);
    CHECK_ERR("sendfile_bad_out_ebadf", sendfile_(99, in, NULL, 1), EBADF);
    CHECK_ERR("sendfile_in_write_only_ebadf", sendfile_(out, wronly, NULL, 1), EBADF);
    CHECK_ERR("sendfile_out_read_only_ebadf", sendfile_(rdonly, in, NULL, 1), EBADF);
    CHECK_ERR("sendfile_pipe_with_offset_espipe", sendfile_(out, p[0], &off, 1), ESPIPE);
    CHECK_ERR("sendfile_from_a_pipe_einval", sendfile_(out, p[0], NULL, 1), EINVAL);
    CHECK_ERR("sendfile_out_append_einval", sendfile_(appending, in, NULL, 1), EINVAL);
    CHECK_ERR("sendfile_negative_offset_einval", sendfile_(out, in, &negative, 1), EINVAL);
    CHECK_ERR("sendfile_bad_offset_pointer_efault", sendfile_(out, in, BAD_POINTER, 1), EFAULT);
    CHECK_ERR("sendfile_from_a_directory_einval", sendfile_(out, dir, NULL, 1), EINVAL);
    CHECK("sendfile_errors_move_nothing", offset(in) == 0 && size_of(out) == 0,
          "in at %ld, out size %ld", (long)offset(in), (long)size_of(out));
    int zero = open("/dev/zero", O_RDONLY);
    CHECK_ERR("sendfile_from_dev_zero_einval", sendfile_(out, zero, NULL, 3), EINVAL);
    int proc = open("/proc/self/stat", O_RDONLY);
    CHECK_ERR("sendfile_from_a_proc_file_einval", sendfile_(out, proc, NULL, 3), EINVAL);
    close(proc);
    close(zero);
    close_errfds(&f);
}

static void copy_range_files(void) {
    int in = file_with(SRC, "0123456789");
    int out = file_with(DST, "");
    lseek(in, 3, SEEK_SET);
    long r = copy_range(in, NULL, out, NULL, 4, 0);
    CHECK("copy_file_range_moves_both_offsets",
          r == 4 && offset(in) == 7 && offset(out) == 4 && holds(out, "3456"),
          "copy_file_range %ld (%s): in at %ld, out at %ld", r, strerror(errno),
          (long)offset(in), (long)offset(out));
    long long from = 0, to = 2;
    r = copy_range(in, &from, out, &to, 3, 0);
    CHECK("copy_file_range_pointers_move_instead",
          r == 3 && from == 3 && to == 5 && offset(in) == 7 && offset(out) == 4 &&
              holds(out, "34012"),
          "copy_file_range %ld (%s): from %lld to %lld, in at %ld, out at %ld", r,
          strerror(errno), from, to, (long)offset(in), (long)offset(out));
    r = copy_range(in, NULL, out, NULL, 100, 0);
    CHECK("copy_file_range_stops_at_the_end",
          r == 3 && offset(in) == 10 && offset(out) == 7 && holds(out, "3401789"),
          "copy_file_range %ld (%s): in at %ld, out at %ld", r, strerror(errno),
          (long)offset(in), (long)offset(out));
    CHECK("copy_file_range_at_the_end_is_zero", copy_range(in, NULL, out, NULL, 5, 0) == 0,
          "%s", strerror(errno));
    CHECK("copy_file_range_len_zero", copy_range(in, NULL, out, NULL, 0, 0) == 0, "%s",
          strerror(errno));
    from = 0, to = 20;
    r = copy_range(in, &from, in, &to, 5, 0);
    CHECK("copy_file_range_within_one_file", r == 5 && size_of(in) == 25,
          "copy_file_range %ld (%s): size %ld", r, strerror(errno), (long)size_of(in));
    from = 0, to = 2;
    CHECK_ERR("copy_file_range_overlap_einval", copy_range(in, &from, in, &to, 5, 0), EINVAL);
    close(in);
    close(out);
}

static void copy_range_errors(void) {
    struct errfds f = open_errfds();
    int in = f.in, out = f.out, wronly = f.wronly, rdonly = f.rdonly;
    int appending = f.appending, dir = f.dir, *p = f.p;
    long long negative = -1;
    CHECK_ERR("copy_file_range_flags_einval", copy_range(in, NULL, out, NULL, 1, 1), EINVAL);
    CHECK_ERR("copy_file_range_bad_in_ebadf", copy_range(99, NULL, out, NULL, 1, 0), EBADF);
    CHECK_ERR("copy_file_range_bad_out_ebadf", copy_range(in, NULL, 99, NULL, 1, 0), EBADF);
    CHECK_ERR("copy_file_range_in_write_only_ebadf", copy_range(wronly, NULL, out, NULL, 1, 0),
              EBADF);
    CHECK_ERR("copy_file_range_out_read_only_ebadf", copy_range(in, NULL, rdonly, NULL, 1, 0),
              EBADF);
    CHECK_ERR("copy_file_range_out_append_ebadf", copy_range(in, NULL, appending, NULL, 1, 0),
              EBADF);
    CHECK_ERR("copy_file_range_directory_eisdir", copy_range(dir, NULL, out, NULL, 1, 0), EISDIR);
    CHECK_ERR("copy_file_range_pipe_einval", copy_range(p[0], NULL, out, NULL, 1, 0), EINVAL);
    CHECK_ERR("copy_file_range_into_pipe_einval", copy_range(in, NULL, p[1], NULL, 1, 0), EINVAL);
    CHECK_ERR("copy_file_range_offset_that_wraps_eoverflow",
              copy_range(in, &negative, out, NULL, 1, 0), EOVERFLOW);
    negative = -5;
    CHECK_ERR("copy_file_range_negative_offset_einval",
              copy_range(in, &negative, out, NULL, 1, 0), EINVAL);
    CHECK_ERR("copy_file_range_bad_pointer_efault", copy_range(in, BAD_POINTER, out, NULL, 1, 0),
              EFAULT);
    CHECK("copy_file_range_errors_move_nothing", offset(in) == 0 && size_of(out) == 0,
          "in at %ld, out size %ld", (long)offset(in), (long)size_of(out));
    close_errfds(&f);
}

int main(void) {
    mkdir("/tmp", 0777);
    mkdir(DIR_, 0755);
    sendfile_files();
    sendfile_big();
    sendfile_to_others();
    sendfile_fills_a_pipe();
    sendfile_errors();
    copy_range_files();
    copy_range_errors();
    return k42_done();
}
