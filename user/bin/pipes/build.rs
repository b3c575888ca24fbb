//! Links this native K42 program with the user linker script at the ABI's load base
//! (`k42-user-build`, shared by every program under user/bin).
fn main() {
    k42_user_build::link_native_program();
}
