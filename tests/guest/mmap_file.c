/*
 * mmap_file: mmap of files and of /dev/zero, with Linux's results and error numbers.
 * Private mappings (read-only, writable, executable, PROT_NONE then mprotect) hold the file's
 * bytes at offset 0 and at a page offset, zeros past the end of the file in the last page
 * and in a file's holes; a private write never reaches the file; writing a read-only mapping
 * raises SIGSEGV (SEGV_ACCERR); a fork child sees its parent's private copy and its own
 * writes stay its own. MAP_SHARED read-only mappings hold the file's bytes and can never be
 * made writable from a read-only descriptor. /dev/zero maps as anonymous memory, private or
 * shared with a fork child. The errors in Linux's order: EINVAL for an unaligned offset
 * (before the descriptor is looked at), EBADF, EINVAL for a zero length, EACCES for the
 * descriptor's mode, ENODEV for what cannot be mapped (a pipe, a directory, /dev/null),
 * EOVERFLOW past the largest file offset, EOPNOTSUPP for a flag MAP_SHARED_VALIDATE does not
 * know (MAP_FIXED_NOREPLACE among them, in Linux 6.1), EINVAL for MAP_SHARED_VALIDATE of
 * anonymous memory; unknown protection bits are ignored.
 *
 * A writable MAP_SHARED mapping of a file is where K42 departs (docs/linux-personality.md,
 * "Program memory"): Linux writes it back (checked here after msync and munmap); K42's
 * personality answers ENODEV, which this test reports as skipped.
 *
 * mremap growing a private mapping of a file maps the file's bytes that follow, in place and
 * moving, with the descriptor closed and in a fork child; a new page wholly past the end of
 * the file raises SIGBUS.
 *
 * Everything happens in files /tmp/mmap_file-<pid>-*, removed at the end.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "k42test.h"

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
/* A protection bit Linux does not know: mmap ignores it. */
#define UNKNOWN_PROT 0x10

#define PAGE 4096
/* The data file: two pages and a bit, so its last page is mostly past the end. */
#define DATA_LEN (2 * PAGE + 100)
/* The sparse file's one byte, after three pages of hole. */
#define HOLE_BYTE_AT (3 * PAGE)
/* The largest page-aligned offset of a regular file (MAX_LFS_FILESIZE rounded down). */
#define LAST_FILE_PAGE 0x7ffffffffffff000LL
/* x86_64 code for `mov eax, 42; ret`, and what it returns. */
static const unsigned char RETURN_42[] = {0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3};
#define RETURNED 42
/* Child exit statuses of the fork cases. */
#define CHILD_OK 0
#define CHILD_SAW_WRONG 1

static char data_path[64], sparse_path[64], code_path[64];

/* The data file's byte at `i`: it differs between pages, so a mapping at the wrong offset
 * shows. */
static unsigned char pattern(size_t i) {
    return (unsigned char)((i * 7 + 3) ^ ((i >> 8) * 13));
}

/* The mmap system call itself: musl checks the offset's alignment before the kernel would. */
static long raw_mmap(void *addr, size_t len, int prot, int flags, int fd, long off) {
    return syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static int make_file(const char *path, const unsigned char *bytes, size_t len, off_t at) {
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    int ok = pwrite(fd, bytes, len, at) == (ssize_t)len;
    close(fd);
    return ok ? 0 : -1;
}

/* Where the first byte of `p` differs from the data file at `offset` ( -1: none). */
static long first_mismatch(const unsigned char *p, size_t len, size_t offset) {
    for (size_t i = 0; i < len; i++)
        if (p[i] != pattern(offset + i))
            return (long)i;
    return -1;
}

static int all_zero(const unsigned char *p, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (p[i])
            return 0;
    return 1;
}

static sigjmp_buf jump;
static volatile sig_atomic_t fault_signo;
static volatile int fault_code;
static void *volatile fault_addr;

static void on_fault(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    fault_signo = sig;
    fault_code = si->si_code;
    fault_addr = si->si_addr;
    siglongjmp(jump, 1);
}

/* Whether touching `*p` (writing it if `write`, else reading it) faults with signal `signo`,
 * code `code`, at `p`; checked as `name`. */
static int touch_faults(volatile unsigned char *p, int write, int signo, int code,
                        const char *name) {
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigaction(signo, &sa, &old);
    fault_signo = 0;
    int faulted = 0;
    if (sigsetjmp(jump, 1) == 0) {
        unsigned char byte = 'W';
        if (write)
            *p = byte;
        else
            byte = *p;
        FAIL(name, "%s %p did not fault (byte %#x)", write ? "writing" : "reading", (void *)p,
             byte);
    } else {
        faulted = fault_signo == signo && fault_code == code && fault_addr == (void *)p;
        CHECK(name, faulted, "signal %d code %d at %p (touched %p)", (int)fault_signo, fault_code,
              fault_addr, (void *)p);
    }
    sigaction(signo, &old, NULL);
    return faulted;
}

/* Whether writing `*p` faults with SIGSEGV / SEGV_ACCERR at `p`: a read-only mapping. */
static int write_faults(volatile unsigned char *p, const char *name) {
    return touch_faults(p, 1, SIGSEGV, SEGV_ACCERR, name);
}

/* Whether reading `*p` faults with SIGBUS / BUS_ADRERR at `p`: a page wholly past the end of
 * its file. */
static int read_faults_bus(volatile unsigned char *p, const char *name) {
    return touch_faults(p, 0, SIGBUS, BUS_ADRERR, name);
}

/* Whether `p` holds the data file from `offset` to its end, then zeros to `len`. */
static int holds_file_from(const unsigned char *p, size_t len, size_t offset) {
    size_t in_file = DATA_LEN > offset ? DATA_LEN - offset : 0;
    if (in_file > len)
        in_file = len;
    return first_mismatch(p, in_file, offset) < 0 && all_zero(p + in_file, len - in_file);
}

static void private_reads(int fd) {
    unsigned char *p = mmap(NULL, 3 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        FAIL("private_read_offset_0", "mmap: %s", strerror(errno));
        return;
    }
    long bad = first_mismatch(p, DATA_LEN, 0);
    CHECK("private_read_offset_0", bad < 0, "byte %ld is %#x, expected %#x", bad,
          bad < 0 ? 0 : p[bad], bad < 0 ? 0 : pattern((size_t)bad));
    CHECK("zero_past_eof_in_last_page", all_zero(p + DATA_LEN, 3 * PAGE - DATA_LEN),
          "a byte past the end of the file is not zero");
    write_faults(p + 5, "read_only_write_faults");
    munmap(p, 3 * PAGE);

    p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, PAGE);
    if (p == MAP_FAILED) {
        FAIL("private_read_page_offset", "mmap: %s", strerror(errno));
        return;
    }
    bad = first_mismatch(p, PAGE, PAGE);
    CHECK("private_read_page_offset", bad < 0, "byte %ld is %#x, expected %#x", bad,
          bad < 0 ? 0 : p[bad], bad < 0 ? 0 : pattern(PAGE + (size_t)bad));
    munmap(p, PAGE);

    /* Filled whatever the protection: PROT_NONE, then made readable. */
    p = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE, fd, 0);
    int ok = p != MAP_FAILED && mprotect(p, PAGE, PROT_READ) == 0;
    CHECK("prot_none_then_readable", ok && first_mismatch(p, PAGE, 0) < 0, "ok=%d (%s)", ok,
          strerror(errno));
    if (p != MAP_FAILED)
        munmap(p, PAGE);

    /* MAP_FIXED over anonymous memory: the second page becomes the file's. */
    unsigned char *two = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                              -1, 0);
    if (two != MAP_FAILED) {
        memset(two, 'a', 2 * PAGE);
        p = mmap(two + PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, PAGE);
        CHECK("fixed_over_anonymous",
              p == two + PAGE && two[0] == 'a' && first_mismatch(p, PAGE, PAGE) < 0,
              "mmap gave %p for %p, first byte %#x", (void *)p, (void *)(two + PAGE),
              p == MAP_FAILED ? 0 : p[0]);
        munmap(two, 2 * PAGE);
    }
}

static void private_writes(int fd) {
    unsigned char *p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        FAIL("private_write", "mmap: %s", strerror(errno));
        return;
    }
    p[10] = 'X';
    p[DATA_LEN + 1] = 'Y';
    CHECK("private_write", p[10] == 'X' && p[11] == pattern(11) && p[DATA_LEN + 1] == 'Y',
          "bytes %#x %#x %#x", p[10], p[11], p[DATA_LEN + 1]);
    unsigned char back[2] = {0, 0};
    ssize_t n = pread(fd, back, 1, 10);
    struct stat st;
    fstat(fd, &st);
    CHECK("private_write_not_in_file",
          n == 1 && back[0] == pattern(10) && st.st_size == DATA_LEN,
          "pread gave %zd byte %#x, size %lld", n, back[0], (long long)st.st_size);

    /* A fork child sees the parent's copy; its writes stay its own. */
    p[0] = 'P';
    pid_t pid = fork();
    if (pid == 0) {
        int saw = p[0] == 'P' && p[1] == pattern(1) && p[10] == 'X';
        p[0] = 'C';
        p[PAGE] = 'C';
        _exit(saw ? CHILD_OK : CHILD_SAW_WRONG);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK("fork_child_sees_private_copy", WIFEXITED(status) && WEXITSTATUS(status) == CHILD_OK,
          "child status %#x", status);
    CHECK("fork_child_writes_stay_its_own", p[0] == 'P' && p[PAGE] == pattern(PAGE),
          "parent sees %#x %#x", p[0], p[PAGE]);
    munmap(p, 3 * PAGE);

    /* Made writable later: still private, whatever the descriptor's mode. */
    p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    int ok = p != MAP_FAILED && mprotect(p, PAGE, PROT_READ | PROT_WRITE) == 0;
    if (ok)
        p[0] = 'M';
    n = pread(fd, back, 1, 0);
    CHECK("mprotect_private_writable", ok && p[0] == 'M' && n == 1 && back[0] == pattern(0),
          "ok=%d (%s)", ok, strerror(errno));
    if (p != MAP_FAILED)
        munmap(p, PAGE);
}

/* mremap of a private file mapping: the pages it grows by hold the file's bytes that follow,
 * whether it grows in place or moves, after its descriptor is closed, and in a fork child; a
 * new page wholly past the file's end raises SIGBUS. */
static void grows(void) {
    int fd = open(data_path, O_RDONLY);
    unsigned char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        FAIL("mremap_moving_shows_the_file", "mmap: %s", strerror(errno));
        return;
    }
    unsigned char *q = mremap(p, PAGE, 3 * PAGE, MREMAP_MAYMOVE);
    CHECK("mremap_moving_shows_the_file", q != MAP_FAILED && holds_file_from(q, 3 * PAGE, 0),
          "mremap gave %p (%s), byte %#x at one page", (void *)q,
          q == MAP_FAILED ? strerror(errno) : "", q == MAP_FAILED ? 0 : q[PAGE]);
    if (q != MAP_FAILED)
        munmap(q, 3 * PAGE);

    /* In place: one page at the file's second page, with room reserved after it. */
    fd = open(data_path, O_RDONLY);
    unsigned char *room = mmap(NULL, 3 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (room == MAP_FAILED) {
        FAIL("mremap_in_place_shows_the_file", "mmap: %s", strerror(errno));
        close(fd);
        return;
    }
    munmap(room + PAGE, 2 * PAGE);
    p = mmap(room, PAGE, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, PAGE);
    close(fd);
    q = p == MAP_FAILED ? MAP_FAILED : mremap(p, PAGE, 2 * PAGE, 0);
    CHECK("mremap_in_place_shows_the_file",
          q == room && holds_file_from(q, 2 * PAGE, PAGE), "mmap %p, mremap %p (%s) for %p",
          (void *)p, (void *)q, q == MAP_FAILED ? strerror(errno) : "", (void *)room);
    if (q != room) {
        munmap(room, 3 * PAGE);
        return;
    }
    /* Grown once more, to a third page: it lies wholly past the file's end. */
    q = mremap(room, 2 * PAGE, 3 * PAGE, 0);
    CHECK("mremap_grown_past_the_end", q == room && holds_file_from(q, 2 * PAGE, PAGE),
          "mremap %p (%s) for %p", (void *)q, q == MAP_FAILED ? strerror(errno) : "",
          (void *)room);
    if (q == room)
        read_faults_bus(room + 2 * PAGE, "mremap_new_page_past_the_end_sigbus");

    /* A fork child grows its copy of the mapping (moved: the room after it is taken). */
    pid_t child = fork();
    if (child == 0) {
        unsigned char *c = mremap(room, PAGE, 2 * PAGE, MREMAP_MAYMOVE);
        _exit(c != MAP_FAILED && c != room && holds_file_from(c, 2 * PAGE, PAGE) ? CHILD_OK
                                                                              : CHILD_SAW_WRONG);
    }
    int status = 0;
    int waited = child > 0 && waitpid(child, &status, 0) == child;
    CHECK("mremap_in_fork_child",
          waited && WIFEXITED(status) && WEXITSTATUS(status) == CHILD_OK,
          "fork %d, status %#x", (int)child, status);
    munmap(room, 3 * PAGE);
}

static void holes_and_code(void) {
    unsigned char z = 'Z';
    if (make_file(sparse_path, &z, 1, HOLE_BYTE_AT) != 0) {
        FAIL("file_holes_read_zero", "making %s: %s", sparse_path, strerror(errno));
    } else {
        int fd = open(sparse_path, O_RDONLY);
        unsigned char *p = mmap(NULL, 4 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
        CHECK("file_holes_read_zero",
              p != MAP_FAILED && all_zero(p, HOLE_BYTE_AT) && p[HOLE_BYTE_AT] == 'Z' &&
                  all_zero(p + HOLE_BYTE_AT + 1, PAGE - 1),
              "mmap %p (%s)", (void *)p, strerror(errno));
        if (p != MAP_FAILED)
            munmap(p, 4 * PAGE);
        close(fd);
    }

    /* Code at a page offset of a file, mapped executable and run. */
    if (make_file(code_path, RETURN_42, sizeof RETURN_42, PAGE) != 0) {
        FAIL("exec_mapping_runs", "making %s: %s", code_path, strerror(errno));
        return;
    }
    int fd = open(code_path, O_RDONLY);
    void *code = mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, PAGE);
    close(fd);
    if (code == MAP_FAILED) {
        FAIL("exec_mapping_runs", "mmap: %s", strerror(errno));
        return;
    }
    int (*fn)(void) = (int (*)(void))code;
    int got = fn();
    CHECK("exec_mapping_runs", got == RETURNED, "returned %d", got);
    write_faults((volatile unsigned char *)code, "exec_mapping_not_writable");
    munmap(code, PAGE);
}

static void shared(void) {
    int ro = open(data_path, O_RDONLY);
    unsigned char *p = mmap(NULL, 3 * PAGE, PROT_READ, MAP_SHARED, ro, 0);
    if (p == MAP_FAILED) {
        FAIL("shared_read", "mmap: %s", strerror(errno));
    } else {
        CHECK("shared_read",
              first_mismatch(p, DATA_LEN, 0) < 0 && all_zero(p + DATA_LEN, 3 * PAGE - DATA_LEN),
              "the mapping differs from the file");
        write_faults(p + 1, "shared_read_only_write_faults");
        CHECK_ERR("shared_mprotect_write_eacces", mprotect(p, PAGE, PROT_READ | PROT_WRITE),
                  EACCES);
        munmap(p, 3 * PAGE);
    }
    CHECK_ERR("shared_write_read_only_fd_eacces",
              raw_mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0), EACCES);
    close(ro);

    int rw = open(data_path, O_RDWR);
    p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, rw, PAGE);
    if (p == MAP_FAILED && errno == ENODEV) {
        SKIP("shared_write_reaches_file",
             "ENODEV: a writable MAP_SHARED file mapping is not served here (a documented "
             "departure of K42's personality)");
    } else if (p == MAP_FAILED) {
        FAIL("shared_write_reaches_file", "mmap: %s", strerror(errno));
    } else {
        p[3] = 'S';
        int synced = msync(p, PAGE, MS_SYNC) == 0;
        munmap(p, PAGE);
        unsigned char back = 0;
        ssize_t n = pread(rw, &back, 1, PAGE + 3);
        CHECK("shared_write_reaches_file", synced && n == 1 && back == 'S',
              "msync %d, pread %zd byte %#x", synced, n, back);
        /* Put the byte back for the cases that follow. */
        back = pattern(PAGE + 3);
        pwrite(rw, &back, 1, PAGE + 3);
    }
    close(rw);
}

static void dev_zero(void) {
    int fd = open("/dev/zero", O_RDWR);
    if (fd < 0) {
        FAIL("dev_zero_private", "open /dev/zero: %s", strerror(errno));
        return;
    }
    unsigned char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    int ok = p != MAP_FAILED && all_zero(p, 2 * PAGE);
    if (ok)
        p[PAGE] = 'z';
    CHECK("dev_zero_private", ok && p[PAGE] == 'z', "mmap %p (%s)", (void *)p, strerror(errno));
    if (p != MAP_FAILED)
        munmap(p, 2 * PAGE);

    /* Shared: one object the fork child writes and the parent sees. */
    p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        FAIL("dev_zero_shared_with_child", "mmap: %s", strerror(errno));
    } else {
        pid_t pid = fork();
        if (pid == 0) {
            p[7] = 's';
            _exit(CHILD_OK);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        CHECK("dev_zero_shared_with_child", WIFEXITED(status) && p[7] == 's' && p[6] == 0,
              "status %#x, byte %#x", status, p[7]);
        munmap(p, PAGE);
    }
    close(fd);

    int ro = open("/dev/zero", O_RDONLY);
    CHECK_ERR("dev_zero_shared_write_read_only_eacces",
              raw_mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0), EACCES);
    close(ro);
}

static void errors(int fd) {
    CHECK_ERR("unaligned_offset_einval", raw_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 100),
              EINVAL);
    CHECK_ERR("unaligned_offset_before_ebadf",
              raw_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, -1, 100), EINVAL);
    CHECK_ERR("bad_fd_ebadf", raw_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, -1, 0), EBADF);
    CHECK_ERR("closed_fd_ebadf", raw_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, 999, 0), EBADF);
    CHECK_ERR("ebadf_before_zero_length", raw_mmap(NULL, 0, PROT_READ, MAP_PRIVATE, -1, 0),
              EBADF);
    CHECK_ERR("zero_length_einval", raw_mmap(NULL, 0, PROT_READ, MAP_PRIVATE, fd, 0), EINVAL);
    CHECK_ERR("no_map_type_einval", raw_mmap(NULL, PAGE, PROT_READ, 0, fd, 0), EINVAL);

    int path_fd = open(data_path, O_PATH);
    CHECK_ERR("o_path_ebadf", raw_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, path_fd, 0), EBADF);
    close(path_fd);

    int wo = open(data_path, O_WRONLY);
    CHECK_ERR("write_only_fd_eacces", raw_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, wo, 0),
              EACCES);
    close(wo);

    int pipe_fds[2];
    if (pipe(pipe_fds) == 0) {
        CHECK_ERR("pipe_enodev", raw_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, pipe_fds[0], 0),
                  ENODEV);
        CHECK_ERR("pipe_write_end_eacces",
                  raw_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, pipe_fds[1], 0), EACCES);
        close(pipe_fds[0]);
        close(pipe_fds[1]);
    } else {
        FAIL("pipe_enodev", "pipe: %s", strerror(errno));
    }
    int dir = open("/tmp", O_RDONLY | O_DIRECTORY);
    CHECK_ERR("directory_enodev", raw_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, dir, 0), ENODEV);
    close(dir);
    int null = open("/dev/null", O_RDWR);
    CHECK_ERR("dev_null_enodev", raw_mmap(NULL, PAGE, PROT_READ, MAP_SHARED, null, 0), ENODEV);
    close(null);

    CHECK_ERR("offset_past_largest_file_eoverflow",
              raw_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, LAST_FILE_PAGE), EOVERFLOW);
    CHECK_ERR("negative_offset_eoverflow",
              raw_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, -PAGE), EOVERFLOW);
    CHECK_ERR("shared_validate_unknown_flag_eopnotsupp",
              raw_mmap(NULL, PAGE, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0), EOPNOTSUPP);
    CHECK_ERR("shared_validate_fixed_noreplace_eopnotsupp",
              raw_mmap(NULL, PAGE, PROT_READ, MAP_SHARED_VALIDATE | MAP_FIXED_NOREPLACE, fd, 0),
              EOPNOTSUPP);
    CHECK_ERR("anonymous_shared_validate_einval",
              raw_mmap(NULL, PAGE, PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1, 0), EINVAL);
    long ok = raw_mmap(NULL, PAGE, PROT_READ | UNKNOWN_PROT, MAP_PRIVATE, fd, 0);
    CHECK("unknown_prot_bit_ignored", ok != -1 && first_mismatch((void *)ok, PAGE, 0) < 0,
          "errno %d (%s)", errno, strerror(errno));
    if (ok != -1)
        munmap((void *)ok, PAGE);
    ok = raw_mmap(NULL, PAGE, PROT_READ, MAP_SHARED | MAP_SYNC, fd, 0);
    CHECK("shared_ignores_unknown_flag", ok != -1, "errno %d (%s)", errno, strerror(errno));
    if (ok != -1)
        munmap((void *)ok, PAGE);
}

int main(void) {
    pid_t me = getpid();
    snprintf(data_path, sizeof data_path, "/tmp/mmap_file-%d-data", (int)me);
    snprintf(sparse_path, sizeof sparse_path, "/tmp/mmap_file-%d-sparse", (int)me);
    snprintf(code_path, sizeof code_path, "/tmp/mmap_file-%d-code", (int)me);
    static unsigned char data[DATA_LEN];
    for (size_t i = 0; i < DATA_LEN; i++)
        data[i] = pattern(i);
    if (make_file(data_path, data, DATA_LEN, 0) != 0) {
        FAIL("setup", "making %s: %s", data_path, strerror(errno));
        return k42_done();
    }
    int fd = open(data_path, O_RDONLY);
    private_reads(fd);
    private_writes(fd);
    grows();
    holes_and_code();
    shared();
    dev_zero();
    errors(fd);
    close(fd);
    unlink(data_path);
    unlink(sparse_path);
    unlink(code_path);
    return k42_done();
}
