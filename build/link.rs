//! Build time, linking: the unwinder linked into the binary instead of loaded with it.
//!
//! On glibc, Rust's standard library links the unwinder as `-lgcc_s`, a shared library the
//! dynamic loader opens at every start. That library's constructor asks the CPU for its
//! features with ten `cpuid` instructions, and in a virtual machine each one traps to the
//! hypervisor (4.4 µs each on the bench machine): with the loading itself, 0.13 ms of a small
//! commit's 2.7 ms, where `git diff --cached --quiet` takes 2.0 ms. Linked from GCC's static
//! `libgcc_eh.a` instead, as a `crt-static` build does, the unwinder works the same (panics
//! still unwind to the handler in `main.rs`) and nothing is loaded.
//!
//! How: a directory on the link's search path holding a `libgcc_s.so` that is a linker script
//! naming `libgcc_eh.a` (Debian's own `libgcc_s.so` is also a linker script). Search paths
//! from a build script come before the compiler's, so `-lgcc_s` finds it first. When the C
//! compiler knows no `libgcc_eh.a` (a toolchain without GCC's static runtime), or the build
//! is a cross build, nothing is written and the unwinder is loaded as before.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Writes `OUT_DIR/link/libgcc_s.so` and puts its directory on the link's search path, on
/// Linux with glibc, building for the machine it runs on, when the C compiler has a
/// `libgcc_eh.a`.
pub fn static_unwinder(out: &Path) {
    println!("cargo:rerun-if-changed=build/link.rs");
    println!("cargo:rerun-if-env-changed=CC");
    let var = |key: &str| std::env::var(key).unwrap_or_default();
    // A cross build (the release's aarch64 wheels) keeps the shared unwinder: the archive
    // must be the target's, and which compiler has it is the cross toolchain's business.
    let native = var("TARGET") == var("HOST");
    if !native || var("CARGO_CFG_TARGET_OS") != "linux" || var("CARGO_CFG_TARGET_ENV") != "gnu" {
        return;
    }
    let Some(archive) = gcc_file("libgcc_eh.a") else {
        return;
    };
    let dir = out.join("link");
    std::fs::create_dir_all(&dir).expect("OUT_DIR is writable");
    let script = format!("INPUT({})\n", archive.display());
    std::fs::write(dir.join("libgcc_s.so"), script).expect("OUT_DIR is writable");
    println!("cargo:rustc-link-search=native={}", dir.display());
}

/// Where the C compiler that links the binary finds `name`, when it has one.
fn gcc_file(name: &str) -> Option<PathBuf> {
    let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let output = Command::new(compiler)
        .arg(format!("-print-file-name={name}"))
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8(output.stdout).ok()?.trim());
    // Without the file, the compiler prints the bare name back.
    (output.status.success() && path.is_absolute() && path.is_file()).then_some(path)
}
