/*
 * nop: the smallest static program of ours, exec'd by proc.c's fork_exec_exit so
 * that benchmark measures exec and exit rather than a program's own start-up.
 * Installed next to the benchmarks but not run as one (xtask/src/bench/programs.rs).
 */
int main(void) {
    return 0;
}
