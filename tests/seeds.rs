//! The four seed plans in `config/` run end to end, headless, with their simulated
//! agents: from a copy of the repository, started from another working directory.

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_type().unwrap().is_dir() {
            copy_dir(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// A copy of what the plans need, as a fresh clone has it.
fn repo_copy() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    for d in ["config", "sessions", "assets"] {
        copy_dir(&here.join(d), &t.path().join("repo").join(d));
    }
    std::fs::create_dir(t.path().join("elsewhere")).unwrap();
    t
}

fn flightdeck(t: &tempfile::TempDir, args: &[&str]) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_flightdeck"))
        .args(args)
        .current_dir(t.path().join("elsewhere"))
        .env("GIT_AUTHOR_NAME", "flightdeck test")
        .env("GIT_AUTHOR_EMAIL", "test@flightdeck.invalid")
        .env("GIT_COMMITTER_NAME", "flightdeck test")
        .env("GIT_COMMITTER_EMAIL", "test@flightdeck.invalid")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    common::wait_with_deadline(child, Duration::from_secs(240))
}

fn plan_path(t: &tempfile::TempDir, name: &str) -> String {
    t.path()
        .join("repo/config")
        .join(format!("{name}.toml"))
        .display()
        .to_string()
}

fn latest_report(t: &tempfile::TempDir, name: &str) -> Value {
    let p: PathBuf = t
        .path()
        .join("repo/workspace")
        .join(name)
        .join(".flightdeck/runs/latest/report.json");
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

/// Validate, run with `--yes`, and return the report.
fn run_seed(name: &str, expect: i32) -> (tempfile::TempDir, Value) {
    let t = repo_copy();
    let plan = plan_path(&t, name);
    let v = flightdeck(&t, &["validate", &plan]);
    assert!(
        v.status.success(),
        "validate {name}: {}",
        String::from_utf8_lossy(&v.stderr)
    );
    let out = flightdeck(&t, &["run", &plan, "--no-tui", "--yes"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(expect),
        "{name}:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = latest_report(&t, name);
    (t, report)
}

fn failing_checks(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] != "pass" && c["severity"] == "error")
        .map(|c| format!("{}: {}", c["source"], c["message"]))
        .collect()
}

#[test]
fn voltmarket_runs_and_runs_again_cleanly() {
    let (t, report) = run_seed("voltmarket", 0);
    assert!(
        failing_checks(&report).is_empty(),
        "{:?}",
        failing_checks(&report)
    );
    // A second run in a row starts from a clean workspace and passes the same way.
    let out = flightdeck(
        &t,
        &["run", &plan_path(&t, "voltmarket"), "--no-tui", "--yes"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn cbbd_etl_runs_in_sequence() {
    let (_t, report) = run_seed("cbbd-etl", 0);
    assert!(
        failing_checks(&report).is_empty(),
        "{:?}",
        failing_checks(&report)
    );
    let states: Vec<&str> = report["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert!(states.iter().all(|s| *s == "succeeded"), "{states:?}");
}

#[test]
fn rag_mmm_runs_with_every_gate_passing() {
    let (_t, report) = run_seed("rag-mmm", 0);
    assert!(
        failing_checks(&report).is_empty(),
        "{:?}",
        failing_checks(&report)
    );
    for g in report["gates"].as_array().unwrap() {
        assert!(
            matches!(g["verdict"].as_str(), Some("PASS") | Some("CONDITIONAL")),
            "{g}"
        );
    }
}

#[test]
fn trading_phase2_waits_for_approval_without_yes() {
    let (t, report) = run_seed("trading-phase2", 0);
    assert!(
        report["gates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["approved"] == true)
    );
    let out = flightdeck(&t, &["run", &plan_path(&t, "trading-phase2"), "--no-tui"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("awaiting approval"));
}
