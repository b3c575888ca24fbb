/*
 * signals: Linux signal delivery (issue #5) as Linux does it — a handler runs with the right
 * number and siginfo (si_pid, si_uid, SI_USER for kill, SI_TKILL for tgkill), its ucontext
 * is readable, and the interrupted code continues with its registers (integer and SSE) intact,
 * in plain code and across system calls the timer's signals interrupt;
 * a blocked signal stays pending and is delivered when unblocked; SA_RESTART restarts a pipe
 * read, and without it the read fails with EINTR; nanosleep returns EINTR with the time left;
 * sigaltstack with SA_ONSTACK; SA_RESETHAND; a child killed by a default action (WIFSIGNALED);
 * SIGCHLD with its siginfo; sigsuspend; sigtimedwait (a timeout, and a pending signal taken);
 * alarm and setitimer; a SIGSEGV handler that siglongjmps out with si_addr right (MAPERR and
 * ACCERR), SIGFPE for a division by zero, SIGILL for ud2 (ILL_ILLOPN at the instruction),
 * SIGBUS for a touch of a file mapping's page wholly past the file's end (BUS_ADRERR at the
 * address; still after mprotect; gone with munmap; EFAULT for a syscall reading it; default
 * action kills); kill's errors; raise(SIGTERM) at its default action.
 * Passes on Linux first; signals between processes use fork.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "k42test.h"

/* How long a child waits before it signals, so the parent is blocked by then. */
#define DELAY_NS 50000000L

static void nap(long ns) {
    struct timespec t = {ns / 1000000000L, ns % 1000000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

/* What the last handler saw. */
static volatile sig_atomic_t got_signo, got_count;
static volatile int got_code;
static volatile pid_t got_pid;
static volatile uid_t got_uid;
static volatile void *got_addr;
static volatile int got_status;
static volatile greg_t got_rip, got_rsp;
static volatile int got_mask_has_usr2, got_mask_has_self;
static volatile int got_on_altstack;

static void on_info(int sig, siginfo_t *si, void *ucv) {
    ucontext_t *uc = ucv;
    got_signo = sig;
    got_count++;
    got_code = si->si_code;
    got_pid = si->si_pid;
    got_uid = si->si_uid;
    got_status = si->si_status;
    got_rip = uc->uc_mcontext.gregs[REG_RIP];
    got_rsp = uc->uc_mcontext.gregs[REG_RSP];
    got_mask_has_usr2 = sigismember(&uc->uc_sigmask, SIGUSR2);
    got_mask_has_self = sigismember(&uc->uc_sigmask, sig);
}

static void on_plain(int sig) {
    got_signo = sig;
    got_count++;
}

static void catch(int sig, void (*info)(int, siginfo_t *, void *), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = info;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static void catch_plain(int sig, int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_plain;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static void reset(void) {
    got_signo = 0;
    got_count = 0;
    got_code = 0;
    got_pid = 0;
}

static void kill_self(void) {
    catch(SIGUSR1, on_info, 0);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    reset();
    int r = kill(getpid(), SIGUSR1);
    /* Delivered before kill returned. */
    int count = got_count;
    CHECK("kill_self_handler", r == 0 && count == 1 && got_signo == SIGUSR1,
          "kill %d, count %d, signo %d", r, count, (int)got_signo);
    CHECK("kill_self_siginfo", got_code == SI_USER && got_pid == getpid() && got_uid == getuid(),
          "code %d pid %d uid %d", got_code, (int)got_pid, (int)got_uid);
    CHECK("ucontext_readable",
          got_rip != 0 && got_rsp != 0 && got_mask_has_usr2 && !got_mask_has_self,
          "rip %#lx rsp %#lx mask usr2 %d self %d", (long)got_rip, (long)got_rsp,
          got_mask_has_usr2, got_mask_has_self);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    /* The handler's mask went away with its return. */
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    CHECK("mask_restored_after_handler", !sigismember(&now, SIGUSR1), "SIGUSR1 still blocked");
    signal(SIGUSR1, SIG_DFL);
}

static void tgkill_code(void) {
    catch(SIGUSR2, on_info, 0);
    reset();
    long r = syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2);
    CHECK("tgkill_si_tkill", r == 0 && got_count == 1 && got_code == SI_TKILL && got_pid == getpid(),
          "r %ld count %d code %d pid %d", r, (int)got_count, got_code, (int)got_pid);
    CHECK_ERR("tgkill_other_thread_esrch", syscall(SYS_tgkill, getpid(), 999999, SIGUSR2), ESRCH);
    signal(SIGUSR2, SIG_DFL);
}

/* Registers survive an asynchronous handler: a loop keeps counters in registers (and a
 * double in an SSE register) while an interval timer interrupts it; the handler scribbles on
 * SSE registers. */
static volatile sig_atomic_t ticks;
static void on_tick(int sig) {
    (void)sig;
    volatile double scribble = 1.0;
    for (int i = 0; i < 20; i++)
        scribble = scribble * 3.25 + 1.0;
    ticks++;
}

/* SIGALRM to `on_tick` every `usec` microseconds, `ticks` counting from 0. */
static void start_ticking(long usec) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_tick;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    ticks = 0;
    struct itimerval it = {{0, usec}, {0, usec}};
    setitimer(ITIMER_REAL, &it, NULL);
}

/* No more ticks, and SIGALRM back to its default. */
static void stop_ticking(void) {
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    signal(SIGALRM, SIG_DFL);
}

static void registers_preserved(void) {
    start_ticking(10000);
    unsigned long a = 0, b = 7, c = 0;
    double d = 0.0;
    long bad = -1;
    for (unsigned long i = 1; ticks < 5 && i < 400000000UL; i++) {
        a += 1;
        b += 3;
        c ^= i;
        d += 0.5;
        if (b != 7 + 3 * a || d != 0.5 * (double)a) {
            bad = (long)i;
            break;
        }
    }
    stop_ticking();
    (void)c;
    CHECK("registers_preserved_across_handler", bad < 0 && ticks >= 5,
          "mismatch at %ld, ticks %d, a %lu b %lu d %f", bad, (int)ticks, a, b, d);
}

static void mask_then_unblock(void) {
    catch_plain(SIGUSR1, 0);
    reset();
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    kill(getpid(), SIGUSR1);
    int before = got_count;
    sigpending(&pending);
    int is_pending = sigismember(&pending, SIGUSR1);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    int after = got_count;
    CHECK("blocked_signal_pending_then_delivered", before == 0 && is_pending && after == 1,
          "before %d pending %d after %d", before, is_pending, after);
    signal(SIGUSR1, SIG_DFL);
}

/* A child signals its parent (blocked in a read), then writes a byte. */
static int pipe_read_with(int flags, ssize_t *r, int *err) {
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    catch_plain(SIGUSR1, flags);
    reset();
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        nap(DELAY_NS);
        kill(parent, SIGUSR1);
        nap(DELAY_NS);
        _exit(write(fds[1], "x", 1) == 1 ? 0 : 1);
    }
    close(fds[1]);
    char c;
    errno = 0;
    *r = read(fds[0], &c, 1);
    *err = errno;
    int status;
    waitpid(pid, &status, 0);
    close(fds[0]);
    signal(SIGUSR1, SIG_DFL);
    return got_count;
}

/* Registers survive system calls that timer signals interrupt: a loop of raw getppid calls
 * with a distinct word in every register a syscall preserves (and CF, and an SSE register),
 * checked after each, while a 1 ms interval timer fires. On K42 the personality returns to the
 * program through a stub the timer now and then lands in, and the kernel must then resume the
 * program, not the stub. */
#define SYSCALL_WORDS 13 /* rbx rbp r12-r15 rdx rsi rdi r8-r10, xmm5 */
#define SYSCALL_CF SYSCALL_WORDS
#define SYSCALL_TICKS 200
#define SYSCALL_MAX_CALLS 2000000UL

/* One getppid with words from `seed` in the registers: the first word that came back changed
 * (SYSCALL_CF for the carry flag), or -1. */
static int syscall_keeps_registers(unsigned long seed) {
    unsigned long in[SYSCALL_WORDS], out[SYSCALL_WORDS + 1];
    for (int i = 0; i < SYSCALL_WORDS; i++)
        in[i] = (seed * SYSCALL_WORDS + (unsigned long)i) * 0x9e3779b97f4a7c15UL;
    out[SYSCALL_CF] = 0;
    __asm__ volatile(
        "sub $128, %%rsp\n\t" /* past the red zone */
        "push %%rbx\n\tpush %%rbp\n\tpush %%r12\n\tpush %%r13\n\tpush %%r14\n\tpush %%r15\n\t"
        "push %[out]\n\t"
        "mov %[in], %%rax\n\t"
        "movq 96(%%rax), %%xmm5\n\t"
        "mov 0(%%rax), %%rbx\n\tmov 8(%%rax), %%rbp\n\tmov 16(%%rax), %%r12\n\t"
        "mov 24(%%rax), %%r13\n\tmov 32(%%rax), %%r14\n\tmov 40(%%rax), %%r15\n\t"
        "mov 48(%%rax), %%rdx\n\tmov 56(%%rax), %%rsi\n\tmov 64(%%rax), %%rdi\n\t"
        "mov 72(%%rax), %%r8\n\tmov 80(%%rax), %%r9\n\tmov 88(%%rax), %%r10\n\t"
        "mov %[nr], %%eax\n\t"
        "stc\n\t"
        "syscall\n\t"
        "mov (%%rsp), %%rax\n\t"
        "setc 104(%%rax)\n\t"
        "mov %%rbx, 0(%%rax)\n\tmov %%rbp, 8(%%rax)\n\tmov %%r12, 16(%%rax)\n\t"
        "mov %%r13, 24(%%rax)\n\tmov %%r14, 32(%%rax)\n\tmov %%r15, 40(%%rax)\n\t"
        "mov %%rdx, 48(%%rax)\n\tmov %%rsi, 56(%%rax)\n\tmov %%rdi, 64(%%rax)\n\t"
        "mov %%r8, 72(%%rax)\n\tmov %%r9, 80(%%rax)\n\tmov %%r10, 88(%%rax)\n\t"
        "movq %%xmm5, 96(%%rax)\n\t"
        "pop %%rax\n\t"
        "pop %%r15\n\tpop %%r14\n\tpop %%r13\n\tpop %%r12\n\tpop %%rbp\n\tpop %%rbx\n\t"
        "add $128, %%rsp\n\t"
        :
        : [in] "r"(in), [out] "r"(out), [nr] "i"(SYS_getppid)
        : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "xmm5", "memory", "cc");
    for (int i = 0; i < SYSCALL_WORDS; i++)
        if (out[i] != in[i])
            return i;
    return out[SYSCALL_CF] == 1 ? -1 : SYSCALL_CF;
}

static void registers_preserved_across_syscalls(void) {
    start_ticking(1000);
    int word = -1;
    unsigned long calls = 0;
    while (ticks < SYSCALL_TICKS && calls < SYSCALL_MAX_CALLS && word < 0)
        word = syscall_keeps_registers(++calls);
    stop_ticking();
    CHECK("registers_preserved_across_syscalls", word < 0 && ticks >= SYSCALL_TICKS,
          "word %d changed at call %lu, ticks %d", word, calls, (int)ticks);
}

static void restart_vs_eintr(void) {
    ssize_t r;
    int err;
    int count = pipe_read_with(SA_RESTART, &r, &err);
    CHECK("sa_restart_pipe_read_restarts", count == 1 && r == 1, "count %d read %zd errno %d",
          count, r, err);
    count = pipe_read_with(0, &r, &err);
    CHECK("pipe_read_eintr", count == 1 && r == -1 && err == EINTR, "count %d read %zd errno %d",
          count, r, err);
}

static void nanosleep_eintr(void) {
    catch_plain(SIGALRM, 0);
    reset();
    struct itimerval it = {{0, 0}, {0, 100000}};
    setitimer(ITIMER_REAL, &it, NULL);
    struct timespec req = {2, 0}, rem = {0, 0};
    errno = 0;
    int r = nanosleep(&req, &rem);
    int err = errno;
    CHECK("nanosleep_eintr_with_remaining",
          r == -1 && err == EINTR && got_count == 1 && rem.tv_sec >= 1 && rem.tv_sec < 2,
          "r %d errno %d count %d rem %ld.%09ld", r, err, (int)got_count, (long)rem.tv_sec,
          rem.tv_nsec);
    signal(SIGALRM, SIG_DFL);
}

static char altstack[1 << 16];
static void on_alt(int sig) {
    char here;
    got_signo = sig;
    got_on_altstack = &here >= altstack && &here < altstack + sizeof altstack;
    stack_t now;
    sigaltstack(NULL, &now);
    if (!(now.ss_flags & SS_ONSTACK))
        got_on_altstack = 0;
}

static void altstack_case(void) {
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    int r = sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alt;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR2, &sa, NULL);
    got_on_altstack = 0;
    raise(SIGUSR2);
    CHECK("sigaltstack_onstack", r == 0 && got_on_altstack, "sigaltstack %d, on it %d", r,
          (int)got_on_altstack);
    stack_t old;
    sigaltstack(NULL, &old);
    CHECK("sigaltstack_off_after", !(old.ss_flags & SS_ONSTACK) && old.ss_sp == altstack,
          "flags %#x sp %p", old.ss_flags, old.ss_sp);
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, NULL);
    signal(SIGUSR2, SIG_DFL);
}

static void resethand(void) {
    catch_plain(SIGUSR1, SA_RESETHAND);
    reset();
    raise(SIGUSR1);
    struct sigaction now;
    sigaction(SIGUSR1, NULL, &now);
    CHECK("sa_resethand", got_count == 1 && now.sa_handler == SIG_DFL, "count %d handler %p",
          (int)got_count, (void *)now.sa_handler);
}

static void kill_child_default(void) {
    pid_t pid = fork();
    if (pid == 0) {
        for (;;)
            pause();
    }
    nap(DELAY_NS);
    int r = kill(pid, SIGTERM);
    int status = 0;
    pid_t w = waitpid(pid, &status, 0);
    CHECK("kill_child_default_terminates",
          r == 0 && w == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
          "kill %d wait %d status %#x", r, (int)w, status);
}

/* A child that spins in user code (no syscalls) gets a signal from its parent. */
static volatile sig_atomic_t spin_flag;
static void on_spin(int sig) {
    (void)sig;
    spin_flag = 1;
}

static void kill_running_child(void) {
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGUSR1, on_spin);
        spin_flag = 0;
        unsigned long n = 0;
        while (!spin_flag)
            n++;
        _exit(n != 0 ? 42 : 1);
    }
    nap(2 * DELAY_NS);
    kill(pid, SIGUSR1);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK("signal_interrupts_running_code", WIFEXITED(status) && WEXITSTATUS(status) == 42,
          "status %#x", status);
}

static void sigchld(void) {
    catch(SIGCHLD, on_info, 0);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &old);
    reset();
    pid_t pid = fork();
    if (pid == 0)
        _exit(7);
    sigset_t wait_mask = old;
    sigdelset(&wait_mask, SIGCHLD);
    while (got_count == 0)
        sigsuspend(&wait_mask);
    sigprocmask(SIG_SETMASK, &old, NULL);
    int status;
    pid_t w = waitpid(pid, &status, 0);
    CHECK("sigchld_on_child_exit",
          got_signo == SIGCHLD && got_pid == pid && got_code == CLD_EXITED && got_status == 7 &&
              w == pid,
          "signo %d pid %d (child %d) code %d status %d wait %d", (int)got_signo, (int)got_pid,
          (int)pid, got_code, got_status, (int)w);
    signal(SIGCHLD, SIG_DFL);
}

static void sigsuspend_case(void) {
    catch_plain(SIGUSR1, 0);
    sigset_t block, old, empty;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    reset();
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        nap(DELAY_NS);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    sigemptyset(&empty);
    errno = 0;
    int r = sigsuspend(&empty);
    int err = errno;
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    CHECK("sigsuspend_eintr_and_mask_back",
          r == -1 && err == EINTR && got_count == 1 && sigismember(&now, SIGUSR1),
          "r %d errno %d count %d blocked %d", r, err, (int)got_count, sigismember(&now, SIGUSR1));
    sigprocmask(SIG_SETMASK, &old, NULL);
    int status;
    waitpid(pid, &status, 0);
    signal(SIGUSR1, SIG_DFL);
}

static void sigtimedwait_case(void) {
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, &old);
    struct timespec t = {0, 50000000};
    siginfo_t si;
    errno = 0;
    int r = sigtimedwait(&set, &si, &t);
    CHECK("sigtimedwait_timeout_eagain", r == -1 && errno == EAGAIN, "r %d errno %d", r, errno);
    raise(SIGUSR2);
    memset(&si, 0, sizeof si);
    r = sigtimedwait(&set, &si, &t);
    CHECK("sigtimedwait_takes_pending", r == SIGUSR2 && si.si_signo == SIGUSR2 && si.si_pid == getpid(),
          "r %d signo %d pid %d", r, si.si_signo, (int)si.si_pid);
    sigset_t pending;
    sigpending(&pending);
    CHECK("sigtimedwait_consumed", !sigismember(&pending, SIGUSR2), "still pending");
    sigprocmask(SIG_SETMASK, &old, NULL);
}

static void alarm_case(void) {
    catch_plain(SIGALRM, 0);
    reset();
    unsigned first = alarm(5);
    unsigned left = alarm(0);
    CHECK("alarm_returns_remaining", first == 0 && left == 5, "first %u left %u", first, left);
    alarm(1);
    while (got_count == 0)
        pause();
    CHECK("alarm_sigalrm", got_signo == SIGALRM, "signo %d", (int)got_signo);
    struct itimerval it = {{0, 0}, {10, 0}}, now;
    setitimer(ITIMER_REAL, &it, NULL);
    getitimer(ITIMER_REAL, &now);
    CHECK("getitimer_remaining", now.it_value.tv_sec >= 9 && now.it_value.tv_sec <= 10,
          "%ld.%06ld", (long)now.it_value.tv_sec, (long)now.it_value.tv_usec);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    signal(SIGALRM, SIG_DFL);
}

static sigjmp_buf jump;
static void on_fault(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    got_signo = sig;
    got_code = si->si_code;
    got_addr = si->si_addr;
    siglongjmp(jump, 1);
}

static void faults(void) {
    catch(SIGSEGV, on_fault, 0);
    catch(SIGFPE, on_fault, 0);
    reset();
    volatile int *bad = (volatile int *)0x1000;
    if (sigsetjmp(jump, 1) == 0) {
        (void)*bad;
        FAIL("segv_handler_maperr", "no fault");
    } else {
        CHECK("segv_handler_maperr",
              got_signo == SIGSEGV && got_code == SEGV_MAPERR && got_addr == (void *)0x1000,
              "signo %d code %d addr %p", (int)got_signo, got_code, got_addr);
    }
    char *page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    reset();
    if (sigsetjmp(jump, 1) == 0) {
        page[8] = 1;
        FAIL("segv_handler_accerr", "no fault");
    } else {
        CHECK("segv_handler_accerr",
              got_signo == SIGSEGV && got_code == SEGV_ACCERR && got_addr == page + 8,
              "signo %d code %d addr %p (page %p)", (int)got_signo, got_code, got_addr,
              (void *)page);
    }
    /* The mask siglongjmp restored lets a second fault in. */
    reset();
    if (sigsetjmp(jump, 1) == 0) {
        (void)*bad;
    }
    CHECK("segv_handler_again", got_signo == SIGSEGV, "signo %d", (int)got_signo);
    reset();
    /* Both operands volatile: GCC turns 1/x into a compare, without a division. */
    volatile int zero = 0, seven = 7;
    if (sigsetjmp(jump, 1) == 0) {
        volatile int q = seven / zero;
        (void)q;
        FAIL("fpe_intdiv", "no fault");
    } else {
        CHECK("fpe_intdiv", got_signo == SIGFPE && got_code == FPE_INTDIV, "signo %d code %d",
              (int)got_signo, got_code);
    }
    signal(SIGSEGV, SIG_DFL);
    signal(SIGFPE, SIG_DFL);
    /* Unhandled: the child dies of it. */
    pid_t pid = fork();
    if (pid == 0) {
        (void)*bad;
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK("segv_default_kills", WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
          "status %#x", status);
}

/* The bytes of x86's ud2 (Intel SDM vol. 2: 0F 0B). */
static const unsigned char UD2[2] = {0x0f, 0x0b};

/* A 2-page mapping (MAP_SHARED or not) of the 100-byte file `fd`: its first page reads, the
 * second is wholly past the end: SIGBUS. */
static void bus_case(int fd, int shared, long page, size_t file_bytes) {
    const char *name = shared ? "bus_adrerr_shared" : "bus_adrerr_private";
    char *map = mmap(NULL, 2 * page, PROT_READ, shared ? MAP_SHARED : MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        FAIL(name, "mmap: %s", strerror(errno));
        return;
    }
    reset();
    volatile char *p = map;
    char in_last_page = p[file_bytes]; /* past the end, in the file's last page: 0 */
    if (sigsetjmp(jump, 1) == 0) {
        (void)p[page + 8];
        FAIL(name, "no fault");
    } else {
        CHECK(name,
              in_last_page == 0 && p[0] == 'x' && got_signo == SIGBUS && got_code == BUS_ADRERR &&
                  got_addr == map + page + 8,
              "last page byte %d, signo %d code %d addr %p (map %p)", in_last_page,
              (int)got_signo, got_code, got_addr, (void *)map);
    }
    munmap(map, 2 * page);
}

static void ill_and_bus(void) {
    catch(SIGILL, on_fault, 0);
    catch(SIGBUS, on_fault, 0);
    reset();
    if (sigsetjmp(jump, 1) == 0) {
        __asm__ volatile("ud2");
        FAIL("ill_illopn", "no fault");
    } else {
        CHECK("ill_illopn",
              got_signo == SIGILL && got_code == ILL_ILLOPN && got_addr &&
                  memcmp((const void *)got_addr, UD2, sizeof UD2) == 0,
              "signo %d code %d addr %p", (int)got_signo, got_code, got_addr);
    }
    const char *path = "/tmp/signals-sigbus";
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    char bytes[100];
    memset(bytes, 'x', sizeof bytes);
    write(fd, bytes, sizeof bytes);
    long page = sysconf(_SC_PAGESIZE);
    bus_case(fd, 0, page, sizeof bytes);
    bus_case(fd, 1, page, sizeof bytes);
    /* A private mapping made writable: still SIGBUS past the end. */
    char *map = mmap(NULL, 2 * page, PROT_READ, MAP_PRIVATE, fd, 0);
    mprotect(map, 2 * page, PROT_READ | PROT_WRITE);
    reset();
    if (sigsetjmp(jump, 1) == 0) {
        map[page] = 1;
        FAIL("bus_after_mprotect", "no fault");
    } else {
        CHECK("bus_after_mprotect", got_signo == SIGBUS && got_addr == map + page,
              "signo %d addr %p", (int)got_signo, got_addr);
    }
    CHECK_ERR("bus_page_in_a_syscall_is_efault", write(fd, map + page, 10), EFAULT);
    /* The mapping's protection is checked first (do_user_addr_fault's access_error): a write
     * to a read-only page past the end, or any touch of a PROT_NONE one, is SIGSEGV/ACCERR. */
    catch(SIGSEGV, on_fault, 0);
    mprotect(map, 2 * page, PROT_READ);
    reset();
    if (sigsetjmp(jump, 1) == 0) {
        map[page] = 1;
        FAIL("past_end_write_to_read_only_is_segv", "no fault");
    } else {
        CHECK("past_end_write_to_read_only_is_segv",
              got_signo == SIGSEGV && got_code == SEGV_ACCERR && got_addr == map + page,
              "signo %d code %d addr %p", (int)got_signo, got_code, got_addr);
    }
    mprotect(map, 2 * page, PROT_NONE);
    reset();
    if (sigsetjmp(jump, 1) == 0) {
        (void)*(volatile char *)(map + page);
        FAIL("past_end_prot_none_is_segv", "no fault");
    } else {
        CHECK("past_end_prot_none_is_segv",
              got_signo == SIGSEGV && got_code == SEGV_ACCERR && got_addr == map + page,
              "signo %d code %d addr %p", (int)got_signo, got_code, got_addr);
    }
    signal(SIGSEGV, SIG_DFL);
    /* Gone with the mapping: anonymous memory at the same place is ordinary memory. */
    munmap(map, 2 * page);
    char *anon = mmap(map, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                      -1, 0);
    reset();
    if (anon != MAP_FAILED && sigsetjmp(jump, 1) == 0) {
        anon[page] = 7;
        CHECK("bus_gone_with_munmap", anon[page] == 7 && got_signo == 0, "signo %d",
              (int)got_signo);
    } else {
        FAIL("bus_gone_with_munmap", "anon %p, signo %d", (void *)anon, (int)got_signo);
    }
    munmap(anon, 2 * page);
    signal(SIGILL, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
    /* Unhandled: the child dies of it. */
    char *doomed = mmap(NULL, 2 * page, PROT_READ, MAP_PRIVATE, fd, 0);
    pid_t pid = fork();
    if (pid == 0) {
        (void)*(volatile char *)(doomed + page);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK("bus_default_kills", WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS, "status %#x",
          status);
    munmap(doomed, 2 * page);
    close(fd);
    unlink(path);
}

static void kill_errors(void) {
    CHECK_ERR("kill_einval", kill(getpid(), 65), EINVAL);
    CHECK_ERR("kill_esrch", kill(999999, 0), ESRCH);
    CHECK("kill_zero_checks_only", kill(getpid(), 0) == 0, "errno %d", errno);
    /* Another user may not signal init (root's): a child gives up root to ask. */
    pid_t pid = fork();
    if (pid == 0) {
        if (getuid() == 0 && setuid(1000) != 0)
            _exit(10);
        errno = 0;
        _exit(kill(1, SIGTERM) == -1 && errno == EPERM ? 0 : 11);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    CHECK("kill_eperm", WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "child status %#x (10: setuid failed, 11: kill(1) not EPERM)", status);
}

static void raise_sigterm(void) {
    pid_t pid = fork();
    if (pid == 0) {
        raise(SIGTERM);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK("raise_sigterm_default", WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
          "status %#x", status);
}

/* kill(0, …) reaches the caller's group: done in a child in a group of its own (where
 * setpgid works), while this process ignores the signal in case it shares the group. */
static void group_kill(void) {
    signal(SIGUSR1, SIG_IGN);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        catch_plain(SIGUSR1, 0);
        reset();
        int r = kill(0, SIGUSR1);
        _exit(r == 0 && got_count == 1 ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK("kill_own_group", WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
    signal(SIGUSR1, SIG_DFL);
}

int main(void) {
    kill_self();
    tgkill_code();
    mask_then_unblock();
    registers_preserved();
    registers_preserved_across_syscalls();
    restart_vs_eintr();
    nanosleep_eintr();
    altstack_case();
    resethand();
    kill_child_default();
    kill_running_child();
    sigchld();
    sigsuspend_case();
    sigtimedwait_case();
    alarm_case();
    faults();
    ill_and_bus();
    kill_errors();
    raise_sigterm();
    group_kill();
    return k42_done();
}
