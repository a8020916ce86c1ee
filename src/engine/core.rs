//! The pure core: [`step`] turns one [`Input`] into changes of the [`RunState`] and
//! the [`Effect`]s the loop carries out. No IO happens here, so tests drive whole
//! runs through it in milliseconds (`core_tests.rs`).
//!
//! This file holds the run as a whole: scheduling, gates, checks, commands and the
//! end. What happens to one session (start, stop, exit, restart, done) is in
//! `lifecycle.rs`.

use super::checker::{CheckDone, CheckJob};
use super::policy::Readiness;
use super::state::{Effect, Input, Phase, RunState, Signal, Source, StopReason};
use super::{Command, Event, SessionState};
use crate::agent::activity::Look;
use crate::agent::alert::{Alert, AlertEvent};
use crate::checks::CheckResult;
use crate::gates::{self, Verdict};
use std::time::{Duration, Instant};

/// React to `input` at `now`; returns what the loop must do, in order.
pub fn step(state: &mut RunState, input: Input, now: Instant) -> Vec<Effect> {
    let mut fx = Vec::new();
    state.now = now;
    match input {
        Input::Begin => {}
        Input::Command(c) => state.command(c, now, &mut fx),
        Input::Tick(seen) => state.tick(&seen, now, &mut fx),
        Input::Spawned {
            session,
            attempt,
            pid,
        } => state.spawned(session, attempt, pid, now, &mut fx),
        Input::SpawnFailed {
            session,
            attempt,
            message,
        } => {
            if attempt == state.sessions[session].attempt {
                fx.push(Effect::Note {
                    session,
                    text: message,
                });
                state.sessions[session].alive = false;
                state.attempt_ended(session, None, None, now, &mut fx);
            }
        }
        Input::Exited {
            session,
            attempt,
            exit_code,
            signal,
        } => {
            if attempt == state.sessions[session].attempt {
                let s = &mut state.sessions[session];
                s.alive = false;
                s.kill_at = None;
                state.attempt_ended(session, exit_code, signal, now, &mut fx);
            }
        }
        Input::DoneMatched { session, attempt } => {
            if attempt == state.sessions[session].attempt {
                state.mark_done(session, "done_when output matched", now, &mut fx);
            }
        }
        Input::Bell { session, attempt } => {
            if attempt == state.sessions[session].attempt {
                state.sessions[session].tracker.bell(now);
                state.refresh_activity(session, &mut fx);
            }
        }
        Input::Attention {
            session,
            attempt,
            prompt,
        } => {
            if attempt == state.sessions[session].attempt {
                state.sessions[session].tracker.prompt(prompt, now);
                state.refresh_activity(session, &mut fx);
            }
        }
        Input::Notification {
            session,
            attempt,
            text,
        } => {
            if attempt == state.sessions[session].attempt {
                state.sessions[session].tracker.notification(text);
                state.refresh_activity(session, &mut fx);
            }
        }
        Input::Title { session, title } => {
            let session = state.name(session);
            fx.push(Effect::Emit(Event::SessionTitle { session, title }));
        }
        Input::LogTruncated {
            session,
            attempt,
            limit,
        } => {
            let session = state.name(session);
            fx.push(Effect::Emit(Event::LogTruncated {
                session,
                attempt,
                limit_bytes: limit,
            }));
        }
        Input::NotifyFailed { for_event, message } => {
            fx.push(Effect::Emit(Event::NotifyFailed { for_event, message }));
        }
        Input::OnSuccessDone {
            session,
            attempt,
            ok,
        } => state.on_success_done(session, attempt, ok, &mut fx),
        Input::FileChanged { path, datasets } => {
            fx.push(Effect::Emit(Event::FileChanged { path }));
            for d in datasets {
                state.request_dataset(d, &mut fx);
            }
        }
        Input::Checked(done) => state.checked(done, &mut fx),
        Input::Interrupt => state.interrupt(now, &mut fx),
        Input::DescendantsKilled => {
            state.phase = Phase::Finalizing;
            if state.interrupted {
                state.finish(&mut fx);
            } else {
                fx.push(Effect::Check(CheckJob::Final { all_probes: false }));
            }
        }
    }
    state.schedule(now, &mut fx);
    fx
}

/// How often a running session is looked at when what it shows hangs on its output
/// (it is quiet, or a bell holds) or on a `done_when` file.
const LOOK_EVERY: Duration = Duration::from_millis(250);

/// When the loop must call [`step`] with a `Tick` next, at the latest: the next
/// timer, or the next moment a running session's activity may change: an idle run
/// sleeps until then instead of ticking.
pub fn next_wake(state: &RunState, now: Instant) -> Instant {
    let mut wake = now + Duration::from_secs(3600);
    for (s, spec) in state.sessions.iter().zip(&state.plan.sessions) {
        for t in [s.restart_at, s.kill_at, s.timeout_at, s.input_at]
            .into_iter()
            .flatten()
        {
            wake = wake.min(t);
        }
        if !s.alive {
            continue;
        }
        let done_file = spec.done_when.as_ref().is_some_and(|d| d.file.is_some());
        let last_output = s.last_output.unwrap_or(now);
        let look = match s.tracker.next_change(last_output, spec.quiet_after) {
            _ if done_file => now + LOOK_EVERY,
            Look::Often => now + LOOK_EVERY,
            Look::At(t) => t,
        };
        wake = wake.min(look);
    }
    wake.max(now + Duration::from_millis(1))
}

impl RunState {
    /// Start what may start, block what never can, evaluate gates that are ready;
    /// then see whether the run is over.
    fn schedule(&mut self, now: Instant, fx: &mut Vec<Effect>) {
        if self.phase != Phase::Running {
            self.check_finished(fx);
            return;
        }
        loop {
            let mut changed = false;
            for i in 0..self.sessions.len() {
                if !self.startable(i) {
                    continue;
                }
                let st = self.sessions[i].state();
                match self.session_readiness(i) {
                    Readiness::Never => self.set_state(i, SessionState::Blocked, fx),
                    Readiness::Wait => self.set_state(i, SessionState::Pending, fx),
                    Readiness::Met => {
                        let active = self.sessions.iter().filter(|s| s.active()).count();
                        if active < self.max_parallel {
                            self.start_session(i, now, fx);
                            changed = true;
                        } else if st == SessionState::Blocked {
                            self.set_state(i, SessionState::Pending, fx);
                        }
                    }
                }
                self.tell_waiting(i, fx);
            }
            for g in 0..self.gates.len() {
                let rt = &self.gates[g];
                if rt.evaluating || !matches!(rt.verdict, Verdict::Waiting | Verdict::Blocked) {
                    continue;
                }
                match self.gate_readiness(g) {
                    Readiness::Never => {
                        if self.gates[g].verdict != Verdict::Blocked {
                            self.gates[g].verdict = Verdict::Blocked;
                            let gate = self.plan.gates[g].name.clone();
                            fx.push(Effect::Emit(Event::GateResult {
                                gate,
                                verdict: Verdict::Blocked,
                            }));
                            changed = true;
                        }
                    }
                    Readiness::Wait => {
                        if self.gates[g].verdict == Verdict::Blocked {
                            self.gates[g].verdict = Verdict::Waiting;
                            changed = true;
                        }
                    }
                    Readiness::Met => {
                        self.gates[g].evaluating = true;
                        self.gates[g].verdict = Verdict::Waiting;
                        fx.push(Effect::Check(CheckJob::Gate { idx: g }));
                    }
                }
            }
            if !changed {
                break;
            }
        }
        self.check_finished(fx);
    }

    /// Pending or blocked, and no process being started (that one is still `pending`).
    fn startable(&self, i: usize) -> bool {
        let s = &self.sessions[i];
        matches!(s.state(), SessionState::Pending | SessionState::Blocked) && !s.alive
    }

    /// Tell frontends what a pending session still waits for, when that changes.
    fn tell_waiting(&mut self, i: usize, fx: &mut Vec<Effect>) {
        let waiting = if self.sessions[i].state() == SessionState::Pending {
            self.unmet(i)
        } else {
            Vec::new()
        };
        if waiting != self.sessions[i].waiting_for {
            self.sessions[i].waiting_for = waiting.clone();
            fx.push(Effect::Emit(Event::SessionWaiting {
                session: self.name(i),
                waiting_for: waiting,
            }));
        }
    }

    fn check_finished(&mut self, fx: &mut Vec<Effect>) {
        match self.phase {
            Phase::Running => {
                let busy = self.sessions.iter().any(|s| s.active())
                    || self.gates.iter().any(|g| g.evaluating)
                    || self.dataset_busy.iter().any(|&b| b);
                if busy {
                    return;
                }
                if !self.awaiting_approval().is_empty() {
                    if self.headless {
                        self.awaiting_approval_stop = true;
                    } else {
                        return; // the user may press `a`
                    }
                }
                self.begin_shutdown(fx);
            }
            Phase::Stopping => {
                if self.sessions.iter().all(|s| !s.alive && !s.finishing) {
                    self.phase = Phase::Reaping;
                    fx.push(Effect::KillDescendants);
                }
            }
            Phase::Reaping | Phase::Finalizing | Phase::Done => {}
        }
    }

    /// Stop whatever still runs (keep_running sessions, or everything on quit).
    fn begin_shutdown(&mut self, fx: &mut Vec<Effect>) {
        self.phase = Phase::Stopping;
        for i in 0..self.sessions.len() {
            self.sessions[i].restart_at = None;
            if self.sessions[i].state() == SessionState::Restarting {
                self.set_state(i, SessionState::Stopped, fx);
            }
        }
        // Stops are asked for after every state change, as the run saw them.
        for i in 0..self.sessions.len() {
            let s = &self.sessions[i];
            if s.alive && s.stop.is_none() {
                self.stop_session(i, StopReason::Quit, fx);
            }
        }
        self.check_finished(fx);
    }

    fn interrupt(&mut self, now: Instant, fx: &mut Vec<Effect>) {
        let _ = now;
        if self.phase == Phase::Running {
            self.interrupted = true;
            self.begin_shutdown(fx);
        } else if self.phase == Phase::Finalizing {
            // Quit while the final checks run: they are abandoned, the record written.
            self.interrupted = true;
            self.finish(fx);
        } else if self.phase == Phase::Stopping {
            // A second Ctrl-C: no more grace.
            for session in 0..self.sessions.len() {
                if self.sessions[session].alive {
                    fx.push(Effect::Signal {
                        session,
                        signal: Signal::Kill,
                    });
                }
            }
        }
    }

    // ---- commands ----------------------------------------------------------

    fn command(&mut self, c: Command, now: Instant, fx: &mut Vec<Effect>) {
        let running = self.phase == Phase::Running;
        let n = self.sessions.len();
        match c {
            Command::Start(i) if running && i < n && self.startable(i) => {
                self.start_session(i, now, fx);
            }
            Command::Stop(i) if i < n => {
                if self.sessions[i].alive {
                    self.stop_session(i, StopReason::User, fx);
                } else if self.sessions[i].state() == SessionState::Restarting {
                    self.sessions[i].restart_at = None;
                    self.set_state(i, SessionState::Stopped, fx);
                }
            }
            Command::Restart(i) if running && i < n => self.restart(i, now, fx),
            Command::Skip(i) if i < n => {
                if matches!(
                    self.sessions[i].state(),
                    SessionState::Pending | SessionState::Blocked
                ) {
                    self.set_state(i, SessionState::Skipped, fx);
                }
            }
            Command::MarkDone(i) if i < n => {
                if self.sessions[i].state() == SessionState::Restarting {
                    self.sessions[i].restart_at = None;
                }
                if !self.sessions[i].state().is_finished() {
                    self.mark_done(i, "marked done by the user", now, fx);
                }
            }
            Command::Approve(g) => self.approve(g, "user", fx),
            Command::Recheck => {
                for d in 0..self.plan.datasets.len() {
                    self.request_dataset(d, fx);
                }
                for rt in &mut self.gates {
                    if !rt.evaluating && rt.verdict != Verdict::Blocked {
                        rt.verdict = Verdict::Waiting;
                    }
                }
            }
            Command::Input(session, bytes) if session < n && self.sessions[session].alive => {
                fx.push(Effect::Write { session, bytes });
                self.sessions[session].tracker.typed();
                self.refresh_activity(session, fx);
            }
            Command::Typed(session) if session < n && self.sessions[session].alive => {
                self.sessions[session].tracker.typed();
                self.refresh_activity(session, fx);
            }
            Command::Resize(session, rows, cols) if session < n => {
                fx.push(Effect::Resize {
                    session,
                    rows,
                    cols,
                });
            }
            Command::Notify {
                session,
                activity,
                message,
            } if session < n => {
                if activity == crate::agent::NotifyState::Done {
                    if !self.sessions[session].state().is_finished() {
                        self.mark_done(session, "flightdeck notify done", now, fx);
                    }
                } else {
                    self.sessions[session].tracker.notify(activity, message);
                    self.refresh_activity(session, fx);
                }
            }
            Command::AgentSession { session, agent, id } if session < n => {
                self.sessions[session].agent_session = Some(id.clone());
                let session = self.name(session);
                fx.push(Effect::Emit(Event::AgentSession { session, agent, id }));
            }
            Command::Record(event) => fx.push(Effect::Emit(event)),
            Command::Quit if running => {
                if self.sessions.iter().any(|s| s.active()) {
                    self.interrupted = true;
                }
                self.begin_shutdown(fx);
            }
            Command::Quit if self.phase == Phase::Finalizing => self.interrupt(now, fx),
            _ => {}
        }
    }

    fn approve(&mut self, g: usize, by: &str, fx: &mut Vec<Effect>) {
        if g >= self.gates.len() || !self.awaiting_approval().contains(&g) {
            return;
        }
        self.gates[g].approved = true;
        let gate = self.plan.gates[g].name.clone();
        fx.push(Effect::Emit(Event::GateApproved {
            gate,
            by: by.to_string(),
        }));
    }

    // ---- checks --------------------------------------------------------------

    pub(super) fn request_dataset(&mut self, d: usize, fx: &mut Vec<Effect>) {
        if self.dataset_busy[d] {
            self.dataset_dirty[d] = true;
            return;
        }
        let owner_done = match self.plan.datasets[d].owner {
            Some(o) => {
                let s = &self.sessions[o];
                s.state().is_finished() && !s.finishing
            }
            None => true,
        };
        self.dataset_busy[d] = true;
        fx.push(Effect::Check(CheckJob::Dataset { idx: d, owner_done }));
    }

    /// Store a source's results, emitting `check_result` for what changed.
    fn store(&mut self, source: Source, results: Vec<CheckResult>, fx: &mut Vec<Effect>) {
        let held = match source {
            Source::Dataset(i) => &mut self.dataset_results[i],
            Source::Probe(i) => &mut self.probe_results[i],
            Source::Gate(i) => &mut self.gate_results[i],
        };
        for r in results.iter().filter(|r| !held.contains(r)) {
            fx.push(Effect::Emit(Event::CheckResult(r.clone())));
        }
        *held = results;
    }

    fn checked(&mut self, done: CheckDone, fx: &mut Vec<Effect>) {
        match done {
            CheckDone::Dataset { idx, results } => {
                self.dataset_busy[idx] = false;
                self.store(Source::Dataset(idx), results, fx);
                if std::mem::take(&mut self.dataset_dirty[idx]) {
                    self.request_dataset(idx, fx);
                }
            }
            CheckDone::Gate {
                idx,
                datasets,
                probes,
                own,
            } => {
                let mut all = Vec::new();
                for (d, r) in datasets {
                    all.extend(r.iter().cloned());
                    self.store(Source::Dataset(d), r, fx);
                }
                for (p, r) in probes {
                    all.extend(r.iter().cloned());
                    self.store(Source::Probe(p), r, fx);
                }
                all.extend(own.iter().cloned());
                self.store(Source::Gate(idx), own, fx);
                let verdict = match gates::verdict(&all) {
                    // Owners are done, so a pending result means a missing file.
                    Verdict::Waiting => Verdict::Fail,
                    v => v,
                };
                let rt = &mut self.gates[idx];
                rt.evaluating = false;
                rt.verdict = verdict;
                let gate = self.plan.gates[idx].name.clone();
                fx.push(Effect::Emit(Event::GateResult {
                    gate: gate.clone(),
                    verdict,
                }));
                if self.awaiting_approval().contains(&idx) {
                    if self.yes {
                        self.approve(idx, "--yes", fx);
                    } else {
                        let message =
                            format!("gate {gate}: {} — awaiting approval", verdict.as_str());
                        fx.push(Effect::Alert(Alert {
                            event: AlertEvent::GateAwaitsApproval,
                            session: gate,
                            message,
                        }));
                    }
                }
            }
            CheckDone::Final { datasets, probes } => {
                for (d, r) in datasets {
                    self.store(Source::Dataset(d), r, fx);
                }
                for (p, r) in probes {
                    self.store(Source::Probe(p), r, fx);
                }
                self.finish(fx);
            }
        }
    }

    fn finish(&mut self, fx: &mut Vec<Effect>) {
        let outcome = self.decide_outcome();
        self.outcome = Some(outcome);
        self.phase = Phase::Done;
        fx.push(Effect::Finish(outcome));
    }
}
