/*
 * segv: touches a guard page (an anonymous mapping with no access, as thread stacks have
 * below them) after printing one line. Linux kills it with SIGSEGV, so the runner reports
 * status 139 (128 + 11); on K42 the kernel's TRAP upcall reaches the personality, which
 * ends the process the same way with a log line naming the fault, until signal delivery
 * exists (issue #5). The kernel tier boots it (xtask/src/test/kernel_tier.rs).
 */
#include <stdio.h>
#include <sys/mman.h>

int main(void) {
    volatile char *guard = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (guard == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    printf("touching the guard page\n");
    fflush(stdout);
    guard[0] = 1;
    printf("survived a write to a PROT_NONE page\n");
    return 2;
}
