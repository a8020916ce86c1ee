//! What the control room knows of a run: the plan plus every engine event so far.

use crate::checks::{CheckResult, CheckStatus, Severity};
use crate::engine::{Activity, Event, Readiness, SessionFacts, SessionState, session_dependency};
use crate::gates::{self, Verdict};
use crate::plan::{DepKind, DepTarget, Plan};
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Recent file changes kept for the panel.
const FILES_KEPT: usize = 50;

#[derive(Debug, Clone)]
pub struct SessionView {
    pub state: SessionState,
    /// Current (or last) attempt; 0 before the first start.
    pub attempt: u32,
    pub pid: Option<u32>,
    /// When the current attempt started.
    pub started_at: Option<Instant>,
    /// When the current attempt's process exited (elapsed stops there).
    pub ended_at: Option<Instant>,
    pub exit_code: Option<i32>,
    pub signal: Option<String>,
    /// Only meaningful while running.
    pub activity: Option<Activity>,
    /// Restart backoff: when the next attempt is due.
    pub restart_at: Option<Instant>,
    /// Not part of this run (`--only`).
    pub excluded: bool,
    /// The title the session set (OSC 0/2), shown on its border.
    pub title: Option<String>,
    /// What the session said with its activity (a question, a notification).
    pub activity_message: Option<String>,
    /// Its unmet `after` entries, as the engine last told (`session_waiting`).
    pub waiting_for: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct GateView {
    pub verdict: Option<Verdict>,
    pub approved: bool,
}

#[derive(Debug, Clone)]
pub struct CheckView {
    pub result: CheckResult,
    pub at: Instant,
}

pub struct RunView {
    pub plan: Arc<Plan>,
    pub run_id: String,
    pub started: Instant,
    pub sessions: Vec<SessionView>,
    pub gates: Vec<GateView>,
    /// Check results in order of first appearance, keyed by (source, check).
    pub checks: Vec<CheckView>,
    check_index: HashMap<(String, String), usize>,
    /// Newest first: (when, path).
    pub files: VecDeque<(Instant, String)>,
    /// (status, exit code, when).
    pub finished: Option<(String, i32, Instant)>,
}

/// What applying an event means for the screen beyond redrawing.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Effects {
    /// A session just started needing input: ring the bell once.
    pub bell: bool,
    /// Which sessions get panes may have changed.
    pub relayout: bool,
}

impl RunView {
    pub fn new(plan: Arc<Plan>, run_id: String, only: Option<&[String]>, now: Instant) -> Self {
        let sessions = plan
            .sessions
            .iter()
            .map(|s| SessionView {
                state: SessionState::Pending,
                attempt: 0,
                pid: None,
                started_at: None,
                ended_at: None,
                exit_code: None,
                signal: None,
                activity: None,
                restart_at: None,
                excluded: only.is_some_and(|o| !o.iter().any(|n| n == &s.name)),
                title: None,
                activity_message: None,
                waiting_for: Vec::new(),
            })
            .collect();
        let gates = plan
            .gates
            .iter()
            .map(|_| GateView {
                verdict: None,
                approved: false,
            })
            .collect();
        RunView {
            plan,
            run_id,
            started: now,
            sessions,
            gates,
            checks: Vec::new(),
            check_index: HashMap::new(),
            files: VecDeque::new(),
            finished: None,
        }
    }

    fn session(&self, name: &str) -> Option<usize> {
        self.plan.session_index(name)
    }

    /// Apply one engine event received at `now`.
    pub fn apply(&mut self, ev: &Event, now: Instant) -> Effects {
        let mut fx = Effects::default();
        match ev {
            Event::RunStarted { run_id, .. } => {
                self.run_id = run_id.clone();
            }
            Event::SessionStarted {
                session,
                attempt,
                pid,
            } => {
                if let Some(i) = self.session(session) {
                    let s = &mut self.sessions[i];
                    s.attempt = *attempt;
                    s.pid = Some(*pid);
                    s.started_at = Some(now);
                    s.ended_at = None;
                    s.exit_code = None;
                    s.signal = None;
                    s.restart_at = None;
                    s.activity = Some(Activity::Working);
                    s.state = SessionState::Running;
                    fx.relayout = true;
                }
            }
            Event::SessionExited {
                session,
                attempt,
                exit_code,
                signal,
                ..
            } => {
                if let Some(i) = self.session(session) {
                    let s = &mut self.sessions[i];
                    if *attempt == s.attempt {
                        s.ended_at = Some(now);
                        s.exit_code = *exit_code;
                        s.signal = signal.clone();
                        s.pid = None;
                        s.activity = None;
                    }
                }
            }
            Event::SessionRestarting {
                session, delay_s, ..
            } => {
                if let Some(i) = self.session(session) {
                    let s = &mut self.sessions[i];
                    s.restart_at = Some(now + Duration::from_secs_f64(delay_s.max(0.0)));
                    s.state = SessionState::Restarting;
                    s.activity = None;
                }
            }
            Event::SessionState { session, state } => {
                if let Some(i) = self.session(session) {
                    let s = &mut self.sessions[i];
                    if s.state != *state {
                        fx.relayout = true;
                    }
                    s.state = *state;
                    if *state != SessionState::Running {
                        s.activity = None;
                    } else if s.activity.is_none() {
                        s.activity = Some(Activity::Working);
                    }
                    if *state != SessionState::Restarting {
                        s.restart_at = None;
                    }
                    if state.is_finished() && s.started_at.is_some() && s.ended_at.is_none() {
                        s.ended_at = Some(now);
                    }
                }
            }
            Event::SessionActivity {
                session,
                activity,
                message,
                ..
            } => {
                if let Some(i) = self.session(session) {
                    let s = &mut self.sessions[i];
                    s.activity_message = message.clone();
                    if *activity == Activity::NeedsInput && s.activity != Some(Activity::NeedsInput)
                    {
                        fx.bell = true;
                    }
                    s.activity = Some(*activity);
                }
            }
            Event::SessionWaiting {
                session,
                waiting_for,
            } => {
                if let Some(i) = self.session(session) {
                    self.sessions[i].waiting_for = waiting_for.clone();
                }
            }
            Event::SessionTitle { session, title } => {
                if let Some(i) = self.session(session) {
                    self.sessions[i].title = (!title.is_empty()).then(|| title.clone());
                }
            }
            Event::AgentSession { .. }
            | Event::LogTruncated { .. }
            | Event::NotifyFailed { .. }
            | Event::ClientAttached { .. }
            | Event::ClientDetached { .. } => {}
            Event::FileChanged { path } => {
                self.files.retain(|(_, p)| p != path);
                self.files.push_front((now, path.clone()));
                self.files.truncate(FILES_KEPT);
            }
            Event::CheckResult(r) => {
                let key = (r.source.clone(), r.check.clone());
                let view = CheckView {
                    result: r.clone(),
                    at: now,
                };
                match self.check_index.get(&key) {
                    Some(&i) => self.checks[i] = view,
                    None => {
                        self.check_index.insert(key, self.checks.len());
                        self.checks.push(view);
                    }
                }
            }
            Event::GateResult { gate, verdict } => {
                if let Some(g) = self.plan.gate_index(gate) {
                    let gv = &mut self.gates[g];
                    // A new evaluation needs a new approval unless it still passes.
                    if !matches!(verdict, Verdict::Pass | Verdict::Conditional) {
                        gv.approved = false;
                    }
                    gv.verdict = Some(*verdict);
                }
            }
            Event::GateApproved { gate, .. } => {
                if let Some(g) = self.plan.gate_index(gate) {
                    self.gates[g].approved = true;
                }
            }
            Event::RunFinished {
                status, exit_code, ..
            } => {
                self.finished = Some((status.clone(), *exit_code, now));
                fx.relayout = true;
            }
        }
        fx
    }

    /// Elapsed time of the run.
    pub fn elapsed(&self, now: Instant) -> Duration {
        let end = self.finished.as_ref().map(|f| f.2).unwrap_or(now);
        end.saturating_duration_since(self.started)
    }

    /// Elapsed time of a session's current attempt.
    pub fn session_elapsed(&self, i: usize, now: Instant) -> Option<Duration> {
        let s = &self.sessions[i];
        let start = s.started_at?;
        Some(s.ended_at.unwrap_or(now).saturating_duration_since(start))
    }

    /// Sessions per state, in state order, leaving out zero counts.
    pub fn counts(&self) -> Vec<(SessionState, usize)> {
        use SessionState::*;
        [
            Running, Restarting, Pending, Succeeded, Failed, Stopped, Skipped, Blocked,
        ]
        .into_iter()
        .map(|st| {
            (
                st,
                self.sessions
                    .iter()
                    .filter(|s| !s.excluded && s.state == st)
                    .count(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect()
    }

    /// Sessions whose process is alive (or about to restart).
    pub fn running(&self) -> usize {
        self.sessions
            .iter()
            .filter(|s| matches!(s.state, SessionState::Running | SessionState::Restarting))
            .count()
    }

    pub fn needs_input(&self, i: usize) -> bool {
        self.sessions[i].state == SessionState::Running
            && self.sessions[i].activity == Some(Activity::NeedsInput)
    }

    /// Whether the gate lets dependents go: the engine's one rule (`gates::opening`).
    fn gate_opening(&self, g: usize) -> gates::Opening {
        let verdict = self.gates[g].verdict.unwrap_or(Verdict::Waiting);
        gates::opening(&self.plan.gates[g], verdict, self.gates[g].approved)
    }

    /// A gate passed (and, if manual, approved): dependents may go.
    pub fn gate_open(&self, g: usize) -> bool {
        self.gate_opening(g) == gates::Opening::Open
    }

    /// The gate passed but waits for a person.
    pub fn awaiting_approval(&self, g: usize) -> bool {
        self.gate_opening(g) == gates::Opening::AwaitingApproval
    }

    /// Gates awaiting approval, in plan order.
    pub fn gates_awaiting(&self) -> Vec<usize> {
        (0..self.gates.len())
            .filter(|&g| self.awaiting_approval(g))
            .collect()
    }

    /// What a pending session still waits for (its unmet `after` entries), as the
    /// engine told: the dependency rule lives there.
    pub fn waits_for(&self, i: usize) -> &[String] {
        let s = &self.sessions[i];
        if s.state != SessionState::Pending {
            return &[];
        }
        &s.waiting_for
    }

    /// "waits for a, b" for a pending session that waits for something.
    pub fn waiting_text(&self, i: usize) -> Option<String> {
        let waits = self.waits_for(i);
        (!waits.is_empty()).then(|| format!("waits for {}", waits.join(", ")))
    }

    /// One of a gate's `after` entries is met (gates are not told why they wait).
    fn dep_met(&self, target: DepTarget, kind: DepKind) -> bool {
        match target {
            DepTarget::Session(j) => {
                let o = &self.sessions[j];
                if o.excluded {
                    return true;
                }
                // The engine's one dependency rule.
                let facts = SessionFacts {
                    state: o.state,
                    attempts: o.attempt,
                    busy: matches!(o.state, SessionState::Running | SessionState::Restarting),
                };
                session_dependency(kind, facts) == Readiness::Met
            }
            DepTarget::Gate(g) => self.gate_open(g),
        }
    }

    /// Counts of check results by status. A failure while its owner still runs is
    /// provisional, not a failure; a `warn` check that does not pass is a warning
    /// (its gate says CONDITIONAL), not a failure.
    pub fn check_counts(&self) -> CheckCounts {
        let mut c = CheckCounts::default();
        for v in &self.checks {
            match v.result.status {
                CheckStatus::Pass => c.pass += 1,
                CheckStatus::Fail | CheckStatus::Error if v.result.provisional => {
                    c.provisional += 1
                }
                CheckStatus::Fail | CheckStatus::Error
                    if v.result.severity == crate::checks::Severity::Warn =>
                {
                    c.warn += 1
                }
                CheckStatus::Fail | CheckStatus::Error => c.fail += 1,
                CheckStatus::Pending => c.pending += 1,
            }
        }
        c
    }

    /// Where a session's log is (every attempt, every byte).
    pub fn log_path(&self, i: usize) -> PathBuf {
        self.plan
            .records
            .join(&self.run_id)
            .join("logs")
            .join(format!("{}.log", self.plan.sessions[i].name))
    }

    /// The results (indices into `checks`) a gate's verdict is made of: its
    /// datasets', its probes' and its own checks.
    pub fn gate_checks(&self, g: usize) -> Vec<usize> {
        let spec = &self.plan.gates[g];
        let sources: Vec<&str> = spec
            .datasets
            .iter()
            .map(|&d| self.plan.datasets[d].name.as_str())
            .chain(
                spec.probes
                    .iter()
                    .map(|&p| self.plan.probes[p].name.as_str()),
            )
            .chain([spec.name.as_str()])
            .collect();
        (0..self.checks.len())
            .filter(|&k| sources.contains(&self.checks[k].result.source.as_str()))
            .collect()
    }

    /// Why a gate is where it is, in a few words.
    pub fn gate_reason(&self, g: usize) -> String {
        let spec = &self.plan.gates[g];
        let checks = self.gate_checks(g);
        let not_passing = |sev: Option<Severity>| -> Vec<String> {
            checks
                .iter()
                .map(|&k| &self.checks[k].result)
                .filter(|r| matches!(r.status, CheckStatus::Fail | CheckStatus::Error))
                .filter(|r| sev.is_none_or(|s| r.severity == s))
                .map(|r| format!("{}: {}", r.source, r.check))
                .collect()
        };
        let list = |v: Vec<String>| -> String {
            let n = v.len();
            let noun = if n == 1 { "check fails" } else { "checks fail" };
            format!("{n} {noun}: {}", v.join("; "))
        };
        match self.gates[g].verdict {
            Some(Verdict::Pass) => "every check passes".into(),
            Some(Verdict::Conditional) => format!("warn only: {}", list(not_passing(None))),
            Some(Verdict::Fail) => list(not_passing(Some(Severity::Error))),
            Some(Verdict::Blocked) => {
                let failed: Vec<&str> = spec
                    .after
                    .iter()
                    .filter(|d| !self.dep_met(d.target, d.kind))
                    .map(|d| d.raw.as_str())
                    .collect();
                format!("a dependency cannot be met: {}", failed.join(", "))
            }
            Some(Verdict::Waiting) | None => {
                let unmet: Vec<&str> = spec
                    .after
                    .iter()
                    .filter(|d| !self.dep_met(d.target, d.kind))
                    .map(|d| d.raw.as_str())
                    .collect();
                let pending = checks
                    .iter()
                    .filter(|&&k| self.checks[k].result.status == CheckStatus::Pending)
                    .count();
                if !unmet.is_empty() {
                    format!("waits for {}", unmet.join(", "))
                } else if pending > 0 {
                    format!("waits for {pending} pending checks")
                } else {
                    "waits to be evaluated".into()
                }
            }
        }
    }
}

/// Check results by status; `provisional`: failing while the owner still runs;
/// `warn`: a `warn` check that does not pass.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CheckCounts {
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub pending: usize,
    pub provisional: usize,
}

/// `3s`, `4m05s`, `2h03m`.
pub fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    }
}

/// `00:12:34` for the status line.
pub fn fmt_clock(d: Duration) -> String {
    let s = d.as_secs();
    format!("{:02}:{:02}:{:02}", s / 3600, (s % 3600) / 60, s % 60)
}

#[cfg(test)]
mod tests;
