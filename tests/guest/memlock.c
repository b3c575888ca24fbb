/*
 * memlock: mlock, mlock2, munlock, mlockall, munlockall and msync as Linux 6.1 answers them,
 * as root (the run's program is) and, in a child without RLIMIT_MEMLOCK, unprivileged: a
 * mapped range (an address inside a page included) is accepted, a hole is ENOMEM, and the
 * flag and alignment checks are EINVAL.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "k42test.h"

#define PAGE 4096
/* The user the unprivileged child becomes. */
#define NOBODY 65534
/* linux/mman.h's MLOCK_ONFAULT and MCL_ONFAULT, which not every C library's headers carry. */
#define MLOCK_ONFAULT_ 1
#define MCL_ONFAULT_ 4

static long mlock2_(void *addr, size_t len, int flags) {
    return syscall(SYS_mlock2, addr, len, flags);
}

/* Three pages mapped, the middle one unmapped again: a hole. */
static char *with_hole(void) {
    char *m = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    munmap(m + PAGE, PAGE);
    return m;
}

static void locks(void) {
    char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int l = mlock(m, 2 * PAGE), u = munlock(m, 2 * PAGE);
    CHECK("mlock_and_munlock_a_mapping", m != MAP_FAILED && l == 0 && u == 0,
          "mlock %d munlock %d (%s)", l, u, strerror(errno));
    l = mlock(m + 100, PAGE);
    CHECK("mlock_inside_a_page", l == 0, "mlock %d (%s)", l, strerror(errno));
    munlock(m, 2 * PAGE);
    CHECK("mlock_nothing", mlock(m, 0) == 0, "%s", strerror(errno));
    CHECK("mlock2_onfault", mlock2_(m, PAGE, MLOCK_ONFAULT_) == 0, "%s", strerror(errno));
    munlock(m, 2 * PAGE);
    CHECK_ERR("mlock2_unknown_flag_einval", mlock2_(m, PAGE, 2), EINVAL);
    char *h = with_hole();
    CHECK_ERR("mlock_over_a_hole_enomem", mlock(h, 3 * PAGE), ENOMEM);
    CHECK_ERR("munlock_over_a_hole_enomem", munlock(h, 3 * PAGE), ENOMEM);
    CHECK_ERR("mlock_unmapped_enomem", mlock(h + PAGE, PAGE), ENOMEM);
    int all = mlockall(MCL_CURRENT), none = munlockall();
    CHECK("mlockall_and_munlockall", all == 0 && none == 0, "mlockall %d munlockall %d (%s)", all,
          none, strerror(errno));
    CHECK_ERR("mlockall_no_flag_einval", mlockall(0), EINVAL);
    CHECK_ERR("mlockall_onfault_alone_einval", mlockall(MCL_ONFAULT_), EINVAL);
    CHECK_ERR("mlockall_unknown_flag_einval", mlockall(8), EINVAL);
    munmap(m, 2 * PAGE);
    munmap(h, PAGE);
    munmap(h + 2 * PAGE, PAGE);
}

static void syncs(void) {
    char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    m[0] = 1;
    CHECK("msync_anonymous",
          msync(m, 2 * PAGE, MS_SYNC) == 0 && msync(m, 1, MS_ASYNC) == 0 &&
              msync(m, PAGE, MS_INVALIDATE) == 0,
          "%s", strerror(errno));
    CHECK("msync_nothing", msync(m, 0, MS_SYNC) == 0, "%s", strerror(errno));
    CHECK_ERR("msync_async_and_sync_einval", msync(m, PAGE, MS_ASYNC | MS_SYNC), EINVAL);
    CHECK_ERR("msync_unaligned_einval", msync(m + 1, PAGE, MS_SYNC), EINVAL);
    CHECK_ERR("msync_unknown_flag_einval", msync(m, PAGE, 8), EINVAL);
    char *h = with_hole();
    CHECK_ERR("msync_over_a_hole_enomem", msync(h, 3 * PAGE, MS_SYNC), ENOMEM);
    CHECK_ERR("msync_async_over_a_hole_enomem", msync(h + PAGE, 2 * PAGE, MS_ASYNC), ENOMEM);
    int fd = open("/bin/busybox", O_RDONLY);
    char *file = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
    CHECK("msync_file_mapping", file != MAP_FAILED && msync(file, PAGE, MS_SYNC) == 0, "%s",
          strerror(errno));
    close(fd);
    munmap(m, 2 * PAGE);
}

/* Without RLIMIT_MEMLOCK and root: mlock and mlockall are EPERM, munlock is anyone's. Exit
 * status: the first step that went wrong, or 0. */
static int unprivileged(void) {
    struct rlimit zero = {0, 0};
    char *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || setrlimit(RLIMIT_MEMLOCK, &zero) != 0 || setuid(NOBODY) != 0)
        return 1;
    errno = 0;
    if (mlock(m, PAGE) != -1 || errno != EPERM)
        return 2;
    errno = 0;
    if (mlockall(MCL_CURRENT) != -1 || errno != EPERM)
        return 3;
    if (munlock(m, PAGE) != 0)
        return 4;
    return 0;
}

int main(void) {
    locks();
    syncs();
    pid_t child = fork();
    if (child == 0)
        _exit(unprivileged());
    int status = -1;
    waitpid(child, &status, 0);
    CHECK("unprivileged_without_rlimit_memlock_eperm", WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "child status %#x", status);
    return k42_done();
}
