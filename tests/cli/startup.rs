//! What every run pays before it reads anything: the libraries the dynamic loader opens
//! (build/link.rs, Cargo.toml's `libz-sys`). Each one is mapped and relocated at every start,
//! and the unwinder's constructor asks the CPU for its features, which traps in a virtual
//! machine.

use crate::fixture::BIN;

/// On glibc the binary loads libc and libm only: the unwinder and zlib are linked in. The
/// loader lists what it would load when `LD_TRACE_LOADED_OBJECTS` is set (what `ldd` does),
/// without running the program.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_binary_loads_neither_the_unwinder_nor_zlib() {
    let output = std::process::Command::new(BIN)
        .env("LD_TRACE_LOADED_OBJECTS", "1")
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&output.stdout);
    assert!(listed.contains("libc.so"), "{listed}");
    for library in ["libgcc_s", "libz."] {
        assert!(!listed.contains(library), "{library} is loaded:\n{listed}");
    }
}
