//! The embedded demo: a plan and its simulated agents, compiled into the binary so that
//! `flightdeck demo` runs offline on a fresh machine with nothing but a POSIX shell,
//! coreutils and awk.
//!
//! The files live under `assets/demo/` (and the shared agent helpers in
//! `assets/lib/sim.sh`); [`write`] copies them into a directory.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// The plan's file name inside the demo directory.
pub const PLAN_FILE: &str = "flightdeck.toml";

/// Every file of the demo: (path relative to the demo directory, contents, executable).
const FILES: &[(&str, &str, bool)] = &[
    (
        PLAN_FILE,
        include_str!("../assets/demo/flightdeck.toml"),
        false,
    ),
    ("agents/lib.sh", include_str!("../assets/lib/sim.sh"), false),
    (
        "agents/fetch.sh",
        include_str!("../assets/demo/agents/fetch.sh"),
        true,
    ),
    (
        "agents/clean.sh",
        include_str!("../assets/demo/agents/clean.sh"),
        true,
    ),
    (
        "agents/rollup.sh",
        include_str!("../assets/demo/agents/rollup.sh"),
        true,
    ),
    (
        "agents/publish.sh",
        include_str!("../assets/demo/agents/publish.sh"),
        true,
    ),
];

/// Write the demo plan and its agents into `dir` (created if needed; existing demo
/// files are overwritten, data from an earlier run is left for the agents to rewrite).
/// Returns the path of the plan file.
pub fn write(dir: &Path) -> Result<PathBuf> {
    for (rel, text, exec) in FILES {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create directory {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        if *exec {
            make_executable(&path)?;
        }
    }
    Ok(dir.join(PLAN_FILE))
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut perms = std::fs::metadata(path)
        .with_context(|| format!("cannot stat {}", path.display()))?
        .permissions();
    perms.set_mode(perms.mode() | 0o755);
    std::fs::set_permissions(path, perms)
        .with_context(|| format!("cannot make {} executable", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn writes_every_file_and_the_plan_is_toml() {
        let dir = tempfile::tempdir().unwrap();
        let plan = write(&dir.path().join("demo")).unwrap();
        assert_eq!(plan, dir.path().join("demo").join(PLAN_FILE));
        let text = std::fs::read_to_string(&plan).unwrap();
        let value: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(value["session"].as_array().unwrap().len(), 6);
        for (rel, _, exec) in FILES {
            let meta = std::fs::metadata(dir.path().join("demo").join(rel)).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                assert_eq!(meta.permissions().mode() & 0o100 != 0, *exec, "{rel}");
            }
            let _ = meta;
        }
        // Writing again over an existing demo directory works.
        write(&dir.path().join("demo")).unwrap();
    }

    /// Run the simulated agents directly, in dependency order, without pauses, and
    /// check the data they write is what the plan's checks expect.
    #[test]
    fn agents_write_the_data_the_checks_expect() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path()).unwrap();
        let run = |script: &str, arg: Option<&str>, attempt: &str| {
            let mut cmd = Command::new("sh");
            cmd.arg(script)
                .args(arg)
                .current_dir(dir.path())
                .env("SIM_PACE", "0")
                .env("NO_COLOR", "1")
                .env("FLIGHTDECK_ATTEMPT", attempt);
            cmd.output().unwrap()
        };
        for kind in ["customers", "orders", "budget"] {
            let out = run("agents/fetch.sh", Some(kind), "1");
            assert!(out.status.success(), "{kind}: {out:?}");
        }
        // clean-orders fails its first attempt and succeeds on the second.
        let first = run("agents/clean.sh", None, "1");
        assert_eq!(first.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&first.stderr).contains("connection reset"));
        assert!(run("agents/clean.sh", None, "2").status.success());
        assert!(run("agents/rollup.sh", None, "1").status.success());
        assert!(run("agents/publish.sh", None, "1").status.success());

        let read = |rel: &str| std::fs::read_to_string(dir.path().join(rel)).unwrap();
        let customers = read("data/raw/customers.csv");
        assert_eq!(customers.lines().count() - 1, 500);
        let emails: Vec<&str> = customers
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(2).unwrap())
            .collect();
        let distinct: std::collections::HashSet<_> = emails.iter().collect();
        assert_eq!(emails.len() - distinct.len(), 3, "the warn check must fail");

        let orders = read("data/raw/orders.csv");
        assert_eq!(orders.lines().count() - 1, 3000);
        for line in orders.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let id: u32 = f[1][1..].parse().unwrap();
            assert!((1..=500).contains(&id), "{line}");
            assert!(f[2].starts_with("2025-"), "{line}");
            assert!(f[3].parse::<f64>().unwrap() > 0.0, "{line}");
        }

        let budget = read("data/raw/budget.csv");
        let total: f64 = budget
            .lines()
            .skip(1)
            .map(|l| l.rsplit(',').next().unwrap().parse::<f64>().unwrap())
            .sum();
        assert!((total - 250_000.0).abs() < 250_000.0 * 0.02, "{total}");

        let monthly = read("data/clean/monthly.csv");
        let orders_sum: u32 = monthly
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap().parse::<u32>().unwrap())
            .sum();
        assert_eq!(orders_sum, 3000);
        assert_eq!(
            read("data/clean/orders_clean.csv").lines().count() - 1,
            3000
        );
        assert!(read("data/out/report.md").lines().count() >= 10);
    }
}
