//! The IO behind some effects: `done_when` files, `on_success` commands, git
//! worktrees, and the report written at the end.

use super::state::RunState;
use crate::record::{GateReport, Report, SessionReport};
use crate::session::OutputSink;
use anyhow::{Context, Result, bail};
use chrono::{DateTime, Local, Utc};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The final report of a run, from its state.
pub fn report(state: &RunState, run_id: &str, started: DateTime<Utc>) -> Report {
    let outcome = state.decide_outcome();
    let sessions = state
        .sessions
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let name = state.name(i);
            SessionReport {
                log: format!("logs/{name}.log"),
                name,
                state: s.state().as_str().to_string(),
                exit_code: s.exit_code,
                attempts: s.attempt,
                duration_s: (s.total.as_secs_f64() * 1000.0).round() / 1000.0,
            }
        })
        .collect();
    let gates = state
        .gates
        .iter()
        .zip(&state.plan.gates)
        .map(|(rt, spec)| GateReport::new(&spec.name, rt.verdict, rt.approved))
        .collect();
    Report {
        run_id: run_id.to_string(),
        plan: state.plan.name.clone(),
        status: outcome.status().to_string(),
        exit_code: i32::from(outcome.exit_code()),
        started: started.with_timezone(&Local).to_rfc3339(),
        finished: Local::now().to_rfc3339(),
        sessions,
        checks: state.all_results().cloned().collect(),
        gates,
    }
}

/// A `done_when` file counts only if it was written during this attempt: one left
/// behind by an earlier run must not end a new session at once.
pub(super) fn written_since(file: &Path, since: Option<std::time::SystemTime>) -> bool {
    let Ok(modified) = std::fs::metadata(file).and_then(|m| m.modified()) else {
        return false;
    };
    let Some(since) = since else { return true };
    // File times come from the kernel's coarse clock, a tick (up to ~10 ms) behind
    // the clock `since` was read from.
    let since = since - Duration::from_millis(30);
    let sub_second = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() != 0)
            .unwrap_or(false)
    };
    if sub_second(modified) {
        modified >= since
    } else {
        // A filesystem that keeps whole seconds: compare from the start of that second.
        let secs = |t: std::time::SystemTime| {
            t.duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        };
        secs(modified) >= secs(since)
    }
}

/// `on_success` commands, in order, in root; their output goes to the session's
/// log and terminal. False when one fails.
pub(super) fn run_on_success(
    i: usize,
    cmds: &[String],
    shell: &[String],
    root: &Path,
    log: &Path,
    sink: &dyn OutputSink,
) -> bool {
    let mut logf = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .ok();
    let mut say = |bytes: &[u8]| {
        if let Some(f) = logf.as_mut() {
            let _ = f.write_all(bytes);
        }
        // Terminals want CR LF.
        let text = String::from_utf8_lossy(bytes).replace('\n', "\r\n");
        let _ = sink.output(i, text.as_bytes());
    };
    for cmd in cmds {
        say(format!("[flightdeck] on_success: {cmd}\n").as_bytes());
        let out = std::process::Command::new(&shell[0])
            .args(&shell[1..])
            .arg("-c")
            .arg(cmd)
            .current_dir(root)
            .stdin(std::process::Stdio::null())
            .output();
        match out {
            Ok(out) => {
                say(&out.stdout);
                say(&out.stderr);
                if !out.status.success() {
                    say(
                        format!("[flightdeck] on_success failed ({}): {cmd}\n", out.status)
                            .as_bytes(),
                    );
                    return false;
                }
            }
            Err(e) => {
                say(format!("[flightdeck] on_success cannot run `{cmd}`: {e}\n").as_bytes());
                return false;
            }
        }
    }
    true
}

/// The session's git worktree at `<root>/.flightdeck/worktrees/<session>` on
/// `branch`: reused when present, created (branch from HEAD if new) otherwise.
pub fn ensure_worktree(root: &Path, session: &str, branch: &str) -> Result<PathBuf> {
    let dir = root.join(".flightdeck").join("worktrees").join(session);
    if dir.join(".git").exists() {
        return Ok(dir);
    }
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
    };
    let exists = git(&[
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("refs/heads/{branch}"),
    ])
    .context("cannot run git")?
    .status
    .success();
    let d = dir.display().to_string();
    let out = if exists {
        git(&["worktree", "add", &d, branch])
    } else {
        git(&["worktree", "add", "-b", branch, &d, "HEAD"])
    }
    .context("cannot run git")?;
    if !out.status.success() {
        bail!(
            "git worktree add failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(dir)
}
