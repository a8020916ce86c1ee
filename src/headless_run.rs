//! The headless frontend's event loop: control-room lines for engine events.
//! (Moves into `headless` once the output sink lands there.)

use crate::checks::CheckStatus;
use crate::engine::{Activity, Event, RunHandle, SessionState};
use crate::plan::Approval;
use std::io::Write;

/// A control-room line: `HH:MM:SS flightdeck | text`.
pub fn control_line(color: bool, text: &str) {
    let ts = chrono::Local::now().format("%H:%M:%S");
    let mut out = std::io::stdout().lock();
    if color {
        let _ = writeln!(out, "\x1b[2m{ts}\x1b[0m \x1b[1mflightdeck\x1b[0m | {text}");
    } else {
        let _ = writeln!(out, "{ts} flightdeck | {text}");
    }
    let _ = out.flush();
}

/// The text of the control-room line for an event, if it deserves one.
pub fn describe(handle: &RunHandle, event: &Event) -> Option<String> {
    Some(match event {
        Event::RunStarted { run_id, plan } => format!(
            "run {run_id} of `{plan}`: {} sessions; record in {}",
            handle.plan.sessions.len(),
            handle.run_dir.display()
        ),
        Event::SessionStarted {
            session,
            attempt,
            pid,
        } => format!("{session} started (attempt {attempt}, pid {pid})"),
        Event::SessionExited {
            session,
            exit_code,
            signal,
            duration_s,
            ..
        } => match (exit_code, signal) {
            (_, Some(sig)) => format!("{session} killed by {sig} after {duration_s:.1}s"),
            (Some(c), None) => format!("{session} exited with code {c} after {duration_s:.1}s"),
            (None, None) => format!("{session} could not start"),
        },
        Event::SessionRestarting {
            session,
            attempt,
            delay_s,
        } => format!("{session} restarting in {delay_s:.1}s (attempt {attempt})"),
        Event::SessionState { session, state } => match state {
            SessionState::Running | SessionState::Restarting | SessionState::Pending => {
                return None;
            }
            s => format!("{session} {}", s.as_str()),
        },
        Event::SessionActivity { session, activity } => match activity {
            Activity::NeedsInput => format!("{session} needs input"),
            Activity::Quiet => format!("{session} has gone quiet"),
            Activity::Working => return None,
        },
        Event::FileChanged { path } => format!("changed {path}"),
        Event::CheckResult(r) => {
            let status = match r.status {
                CheckStatus::Pass => "pass",
                CheckStatus::Fail => "FAIL",
                CheckStatus::Error => "ERROR",
                CheckStatus::Pending => "pending",
            };
            let warn = if r.severity == crate::checks::Severity::Warn {
                " (warn)"
            } else {
                ""
            };
            let prov = if r.provisional { " (provisional)" } else { "" };
            format!("check {status}{warn}{prov} {}: {}", r.source, r.message)
        }
        Event::GateResult { gate, verdict } => {
            let manual = handle
                .plan
                .gate_index(gate)
                .map(|g| handle.plan.gates[g].approval == Approval::Manual)
                .unwrap_or(false);
            let v = verdict.as_str();
            if manual && matches!(v, "PASS" | "CONDITIONAL") {
                format!("gate {gate}: {v} — awaiting approval")
            } else {
                format!("gate {gate}: {v}")
            }
        }
        Event::GateApproved { gate, by } => format!("gate {gate} approved by {by}"),
        Event::RunFinished {
            status,
            exit_code,
            duration_s,
        } => format!(
            "run {status} (exit {exit_code}) in {duration_s:.1}s; report: {}",
            handle.run_dir.join("report.md").display()
        ),
    })
}

/// Print control-room lines until the run finishes; returns its exit code.
pub fn run(mut handle: RunHandle, color: bool) -> i32 {
    let mut exit = 1;
    while let Some(event) = handle.events.blocking_recv() {
        if let Some(text) = describe(&handle, &event) {
            control_line(color, &text);
        }
        if let Event::RunFinished { exit_code, .. } = event {
            exit = exit_code;
        }
    }
    exit
}
