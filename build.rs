//! Names the commit in `flightdeck --version` (docs/commands.md): `git rev-parse` on
//! the checkout being built, or "commit unknown" when there is no git or no repository
//! (a source tarball). Only the version string depends on it.

use std::path::Path;
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
