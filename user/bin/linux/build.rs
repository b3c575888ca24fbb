//! Links the personality at `k42_abi::kernel::PERSONALITY_BASE` (`k42-user-build`): the range
//! that tells its `syscall`s (kernel calls) from the Linux program's (reflected to it).
fn main() {
    k42_user_build::link_personality();
}
