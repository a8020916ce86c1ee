//! Names the commit in `flightdeck --version` (docs/commands.md): `git rev-parse` on
//! the checkout being built, or "commit unknown" when there is no git or no repository
//! (a source tarball). Only the version string depends on it.
//!
//! Also links the binary with packed relative relocations where the toolchain and
//! the C library allow it (docs/troubleshooting.md, "Memory").

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn main() {
    let version = env!("CARGO_PKG_VERSION");
    let line = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(commit) => match git(&["log", "-1", "--format=%cs", "HEAD"]) {
            Some(date) => format!("{version} (commit {commit}, {date})"),
            None => format!("{version} (commit {commit})"),
        },
        None => format!("{version} (commit unknown)"),
    };
    println!("cargo:rustc-env=FLIGHTDECK_VERSION={line}");

    if packed_relocations() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }

    // Build again when HEAD moves: a checkout, or a commit on the current branch.
    // Only files that exist are named (a missing one would rerun this every build).
    println!("cargo:rerun-if-changed=build.rs");
    let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        if let Some(path) = git(&["rev-parse", "--git-path", &name])
            && Path::new(&path).exists()
        {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}

/// Whether a program linked with `-z pack-relative-relocs` (DT_RELR) builds and runs
/// here, tried with this build's own rustc, linker and flags. Packed, the ~1 MB of
/// relocations a position-independent Rust binary carries shrink to ~10 KB, and every
/// flightdeck process (client, server, guardian, hooks) no longer reads them all and
/// keeps them resident. It needs glibc 2.36 or later; an older one, another C
/// library, a linker without the option, or a cross build links as usual.
fn packed_relocations() -> bool {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    if var("CARGO_CFG_TARGET_OS") != "linux"
        || var("CARGO_CFG_TARGET_ENV") != "gnu"
        || var("HOST") != var("TARGET")
    {
        return false;
    }
    let dir = PathBuf::from(var("OUT_DIR"));
    let (source, exe) = (dir.join("relr_probe.rs"), dir.join("relr_probe"));
    // A table of pointers: relative relocations for the linker to pack.
    let program = "static NAMES: [&str; 2] = [\"a\", \"b\"];\n\
                   fn main() { std::process::exit((std::hint::black_box(&NAMES)[1] != \"b\") as i32) }\n";
    if std::fs::write(&source, program).is_err() {
        return false;
    }
    let mut rustc = Command::new(var("RUSTC"));
    rustc
        .args([
            "--edition",
            "2021",
            "-C",
            "link-arg=-Wl,-z,pack-relative-relocs",
            "-o",
        ])
        .arg(&exe)
        .arg(&source);
    let linker = var("RUSTC_LINKER");
    if !linker.is_empty() {
        rustc.arg(format!("-Clinker={linker}"));
    }
    for flag in var("CARGO_ENCODED_RUSTFLAGS")
        .split('\x1f')
        .filter(|f| !f.is_empty())
    {
        rustc.arg(flag);
    }
    let built = rustc.output().is_ok_and(|o| o.status.success());
    built && Command::new(&exe).status().is_ok_and(|s| s.success())
}
