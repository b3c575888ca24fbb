/*
 * exec_image: review tests for "execve maps programs from the file server's image"
 * (7d43288) and file images (66fd102).
 *
 *   rx_segment_with_bss_runs: a hand-made static ELF whose R+X segment has p_memsz >
 *     p_filesz (file bytes ending inside a page), followed by an RW segment. Linux 6.1
 *     maps it (its bss-zeroing of a non-writable page "can fail ... we don't check") and
 *     the program exits 42.
 *   rewrite_is_seen: the same file rewritten (one byte, same size) runs the new bytes.
 *   failed_exec_pins_no_memory: a sparse 128 MiB file marked executable, exec'd (ENOEXEC):
 *     free memory must not drop by anything like the file's size, and stay dropped.
 *   data_cow_fork: a page of initialised .data written before / after fork is private.
 *   madvise_dontneed_data: MADV_DONTNEED on a private file-backed .data page reads the
 *     file's bytes again on Linux.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include "k42test.h"

#define ELF_PATH "/tmp/exec-image-rx"
#define SPARSE_PATH "/tmp/exec-image-sparse"
#define SPARSE_BYTES (128ul << 20)

struct ehdr {
    unsigned char ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

/* Writes the test ELF: exit(code). Returns 0 on success. */
static int write_elf(const char *path, unsigned char code) {
    static unsigned char file[0x1008];
    memset(file, 0, sizeof file);
    struct ehdr *e = (struct ehdr *)file;
    struct phdr *p = (struct phdr *)(file + sizeof *e);
    unsigned long text_off = sizeof *e + 2 * sizeof *p; /* 176 */
    unsigned char text[] = {
        0xb8, 0x3c, 0, 0, 0,    /* mov eax, 60 (exit) */
        0xbf, code, 0, 0, 0,    /* mov edi, code */
        0x0f, 0x05,             /* syscall */
    };
    memcpy(e->ident, "\177ELF", 4);
    e->ident[4] = 2; /* ELFCLASS64 */
    e->ident[5] = 1; /* little endian */
    e->ident[6] = 1; /* EV_CURRENT */
    e->type = 2;     /* ET_EXEC */
    e->machine = 62; /* x86_64 */
    e->version = 1;
    e->entry = 0x400000 + text_off;
    e->phoff = sizeof *e;
    e->ehsize = sizeof *e;
    e->phentsize = sizeof *p;
    e->phnum = 2;
    /* R+X, file bytes end mid-page, memsz 64 bytes more. */
    p[0] = (struct phdr){.type = 1, .flags = 5, .offset = 0, .vaddr = 0x400000,
                         .paddr = 0x400000, .filesz = text_off + sizeof text,
                         .memsz = text_off + sizeof text + 64, .align = 0x1000};
    /* R+W, on the next page. */
    p[1] = (struct phdr){.type = 1, .flags = 6, .offset = 0x1000, .vaddr = 0x401000,
                         .paddr = 0x401000, .filesz = 8, .memsz = 8, .align = 0x1000};
    memcpy(file + text_off, text, sizeof text);
    memcpy(file + 0x1000, "rwdata!", 8);
    unlink(path);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0755);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, file, sizeof file);
    close(fd);
    return n == (ssize_t)sizeof file ? 0 : -1;
}

/* Forks, execs `path` in the child; the child's wait status (or -1). `*exec_errno`: the
 * child's execve errno if execve returned (as exit status 100 + errno), else 0. */
static int run(const char *path, int *exec_errno) {
    *exec_errno = 0;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        char *argv[] = {(char *)path, NULL};
        char *envp[] = {NULL};
        execve(path, argv, envp);
        _exit(100 + errno);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    if (WIFEXITED(status) && WEXITSTATUS(status) >= 100)
        *exec_errno = WEXITSTATUS(status) - 100;
    return status;
}

static void rx_segment(void) {
    int err;
    if (write_elf(ELF_PATH, 42) != 0) {
        FAIL("rx_segment_with_bss_runs", "cannot write %s: %s", ELF_PATH, strerror(errno));
        return;
    }
    int status = run(ELF_PATH, &err);
    CHECK("rx_segment_with_bss_runs", status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 42,
          "status %#x (exited %d code %d, signalled %d sig %d), exec errno %d", status,
          WIFEXITED(status), WEXITSTATUS(status), WIFSIGNALED(status), WTERMSIG(status), err);

    /* Same size, one byte changed: the exit code. */
    int fd = open(ELF_PATH, O_WRONLY);
    unsigned char code = 43;
    ssize_t n = fd >= 0 ? pwrite(fd, &code, 1, 176 + 6) : -1;
    if (fd >= 0)
        close(fd);
    status = run(ELF_PATH, &err);
    CHECK("rewrite_is_seen", n == 1 && status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 43,
          "pwrite %zd, status %#x, exec errno %d", n, status, err);
    unlink(ELF_PATH);
}

static unsigned long free_bytes(void) {
    struct sysinfo si;
    if (sysinfo(&si) != 0)
        return 0;
    return si.freeram * (si.mem_unit ? si.mem_unit : 1);
}

static void sparse_exec(void) {
    unlink(SPARSE_PATH);
    int fd = open(SPARSE_PATH, O_CREAT | O_WRONLY | O_TRUNC, 0755);
    if (fd < 0 || ftruncate(fd, SPARSE_BYTES) != 0) {
        FAIL("failed_exec_pins_no_memory", "cannot make %s: %s", SPARSE_PATH, strerror(errno));
        if (fd >= 0)
            close(fd);
        return;
    }
    close(fd);
    unsigned long before = free_bytes();
    int err;
    int status = run(SPARSE_PATH, &err);
    unsigned long after = free_bytes();
    long drop_mib = ((long)before - (long)after) / (1 << 20);
    CHECK("failed_exec_is_enoexec", err == ENOEXEC, "status %#x, exec errno %d (%s)", status, err,
          strerror(err));
    CHECK("failed_exec_pins_no_memory", drop_mib < 32,
          "free memory dropped by %ld MiB (before %lu MiB, after %lu MiB) after a failed exec of a "
          "sparse %lu MiB file",
          drop_mib, before >> 20, after >> 20, SPARSE_BYTES >> 20);
    unlink(SPARSE_PATH);
    unsigned long unlinked = free_bytes();
    printf("exec_image: free MiB before %lu, after failed exec %lu, after unlink %lu\n", before >> 20,
           after >> 20, unlinked >> 20);
}

/* Initialised, page aligned, whole pages: in the RW segment's file bytes. */
static volatile char data_pages[3][4096] __attribute__((aligned(4096))) = {{'A'}, {'A'}, {'Z'}};

static void data_cow(void) {
    data_pages[0][0] = 'B'; /* written before the fork: the leaf's own copy */
    int fds[2];
    if (pipe(fds) != 0) {
        FAIL("data_cow_fork", "pipe: %s", strerror(errno));
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        char go;
        close(fds[1]);
        if (read(fds[0], &go, 1) != 1)
            _exit(9);
        /* The parent wrote both pages after the fork: the child sees them as at the fork. */
        if (data_pages[0][0] != 'B')
            _exit(1);
        if (data_pages[1][0] != 'A')
            _exit(2);
        data_pages[1][0] = 'C';
        _exit(data_pages[1][0] == 'C' ? 0 : 3);
    }
    close(fds[0]);
    data_pages[0][0] = 'D';
    data_pages[1][0] = 'E';
    (void)!write(fds[1], "g", 1);
    close(fds[1]);
    int status;
    waitpid(pid, &status, 0);
    CHECK("data_cow_fork",
          WIFEXITED(status) && WEXITSTATUS(status) == 0 && data_pages[0][0] == 'D' &&
              data_pages[1][0] == 'E',
          "child status %#x, parent sees %c %c", status, data_pages[0][0], data_pages[1][0]);
}

static void dontneed(void) {
    volatile char *page = data_pages[2];
    page[0] = 'Y';
    if (madvise((void *)page, 4096, MADV_DONTNEED) != 0) {
        FAIL("madvise_dontneed_data", "madvise: %s", strerror(errno));
        return;
    }
    CHECK("madvise_dontneed_data", page[0] == 'Z',
          "after MADV_DONTNEED a private file-backed .data page reads %#x, not the file's 'Z'",
          page[0]);
}

int main(void) {
    rx_segment();
    data_cow();
    sparse_exec();
    dontneed();
    return k42_done();
}
