//! What happens to one session: it starts, is stopped, exits, restarts after a
//! backoff, times out, counts as done, runs its `on_success` commands. Part of the
//! pure core (see `core.rs`): state changes and effects, no IO.

use super::policy;
use super::state::{Effect, Observation, Phase, RunState, Signal, StopReason};
use super::{Activity, Event, SessionState};
use crate::agent::alert::{Alert, AlertEvent};
use crate::gates::Verdict;
use crate::plan::DepTarget;
use std::time::Instant;

impl RunState {
    /// A new attempt: ask the loop for a process.
    pub(super) fn start_session(&mut self, i: usize, now: Instant, fx: &mut Vec<Effect>) {
        let s = &mut self.sessions[i];
        s.attempt += 1;
        s.stop = None;
        s.kill_at = None;
        s.done = false;
        s.tracker = Default::default();
        s.exit_code = None;
        s.alive = true;
        // Also the start of an attempt that cannot start (its duration is ~0).
        s.attempt_started = Some(now);
        let attempt = s.attempt;
        fx.push(Effect::Spawn {
            session: i,
            attempt,
        });
    }

    /// The loop started the attempt's process.
    pub(super) fn spawned(
        &mut self,
        i: usize,
        attempt: u32,
        pid: u32,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        if attempt != self.sessions[i].attempt {
            return;
        }
        let spec = &self.plan.sessions[i];
        let s = &mut self.sessions[i];
        s.attempt_started = Some(now);
        s.last_output = Some(now);
        s.timeout_at = spec.timeout.map(|t| now + t);
        s.input_at = spec.input.as_ref().map(|_| now + spec.input_delay);
        fx.push(Effect::Emit(Event::SessionStarted {
            session: self.name(i),
            attempt,
            pid,
        }));
        self.set_state(i, SessionState::Running, fx);
        self.refresh_activity(i, fx);
    }

    /// Ask the session's signals what it shows now; one event when that changed
    /// (and the plan's `notify` command when it starts needing input).
    pub(super) fn refresh_activity(&mut self, i: usize, fx: &mut Vec<Effect>) {
        let quiet_after = self.plan.sessions[i].quiet_after;
        let now = self.now;
        let session = self.name(i);
        let s = &mut self.sessions[i];
        if !s.alive || s.state() != SessionState::Running {
            return;
        }
        let last = s.last_output.unwrap_or(now);
        let Some(shown) = s.tracker.update(now, last, quiet_after) else {
            return;
        };
        let was = s.activity.replace(shown.activity);
        if shown.activity == Activity::NeedsInput && was != Some(Activity::NeedsInput) {
            let message = match &shown.message {
                Some(m) => format!("{session} needs input: {m}"),
                None => format!("{session} needs input"),
            };
            fx.push(Effect::Alert(Alert {
                event: AlertEvent::NeedsInput,
                session: session.clone(),
                message,
            }));
        }
        fx.push(Effect::Emit(Event::SessionActivity {
            session,
            activity: shown.activity,
            source: shown.source,
            message: shown.message,
        }));
    }

    /// SIGTERM to its group now, SIGKILL after `stop_grace`.
    pub(super) fn stop_session(&mut self, i: usize, reason: StopReason, fx: &mut Vec<Effect>) {
        let grace = self.plan.sessions[i].stop_grace;
        let s = &mut self.sessions[i];
        if !s.alive {
            return;
        }
        if s.stop.is_none() || reason == StopReason::Quit {
            s.stop = Some(reason);
        }
        s.kill_at = Some(self.now + grace);
        s.timeout_at = None;
        s.input_at = None;
        fx.push(Effect::Signal {
            session: i,
            signal: Signal::Terminate,
        });
    }

    /// The user's `r`: a new attempt, with a fresh allowance of automatic restarts.
    pub(super) fn restart(&mut self, i: usize, now: Instant, fx: &mut Vec<Effect>) {
        self.sessions[i].restarts_used = 0;
        if self.sessions[i].alive && !self.sessions[i].done {
            // Started again once it has exited.
            self.stop_session(i, StopReason::Restart, fx);
            return;
        }
        if self.sessions[i].alive {
            // Done but still running (keep_running): let the old process go.
            self.stop_session(i, StopReason::Quit, fx);
            self.sessions[i].alive = false;
            fx.push(Effect::Release { session: i });
        }
        self.sessions[i].restart_at = None;
        self.start_session(i, now, fx);
    }

    /// Timers that are due, and what the loop saw of running sessions.
    pub(super) fn tick(&mut self, seen: &[Observation], now: Instant, fx: &mut Vec<Effect>) {
        let plan = self.plan.clone();
        for i in 0..self.sessions.len() {
            let spec = &plan.sessions[i];
            let s = &mut self.sessions[i];
            if s.restart_at.is_some_and(|t| t <= now) {
                s.restart_at = None;
                if self.phase == Phase::Running {
                    self.start_session(i, now, fx);
                }
                continue;
            }
            if !s.alive {
                continue;
            }
            if s.kill_at.is_some_and(|t| t <= now) {
                s.kill_at = None;
                fx.push(Effect::Signal {
                    session: i,
                    signal: Signal::Kill,
                });
            }
            if s.timeout_at.is_some_and(|t| t <= now) {
                s.timeout_at = None;
                let t = spec.timeout.unwrap_or_default();
                fx.push(Effect::Note {
                    session: i,
                    text: format!("timeout after {}: stopping", crate::duration::human(t)),
                });
                self.stop_session(i, StopReason::Timeout, fx);
            }
            let s = &mut self.sessions[i];
            if s.input_at.is_some_and(|t| t <= now) {
                s.input_at = None;
                fx.push(Effect::PasteInput { session: i });
            }
            let observed = seen.iter().find(|o| o.session == i);
            if let Some(last) = observed.and_then(|o| o.last_output) {
                s.last_output = Some(last);
            }
            if !s.done && s.alive && observed.is_some_and(|o| o.done_file) {
                self.mark_done(i, "done_when file appeared", now, fx);
            }
            self.refresh_activity(i, fx);
        }
    }

    /// One attempt is over (its process exited, or it could not start).
    pub(super) fn attempt_ended(
        &mut self,
        i: usize,
        exit_code: Option<i32>,
        signal: Option<String>,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        let plan = self.plan.clone();
        let spec = &plan.sessions[i];
        let s = &mut self.sessions[i];
        let duration = s
            .attempt_started
            .take()
            .map(|t| now.saturating_duration_since(t))
            .unwrap_or_default();
        s.total += duration;
        s.exit_code = exit_code;
        s.timeout_at = None;
        s.input_at = None;
        let attempt = s.attempt;
        let stop = s.stop.take();
        let was_done = s.done;
        fx.push(Effect::Emit(Event::SessionExited {
            session: spec.name.clone(),
            attempt,
            exit_code,
            signal,
            duration_s: duration.as_secs_f64(),
        }));
        if was_done {
            // Already counted as succeeded (and its gates evaluated); this is the
            // stop we asked for, not a second finish.
            return;
        }
        self.related_gates_reset(i);
        match stop {
            Some(StopReason::Restart) => {
                self.start_session(i, now, fx);
                return;
            }
            Some(StopReason::User) | Some(StopReason::Quit) => {
                self.set_state(i, SessionState::Stopped, fx);
                return;
            }
            _ => {}
        }
        let success = exit_code == Some(0) && stop != Some(StopReason::Timeout);
        let used = self.sessions[i].restarts_used;
        if policy::may_restart(spec, success, used) && self.phase == Phase::Running {
            let delay = policy::restart_delay(spec.backoff, used);
            self.sessions[i].restarts_used += 1;
            self.sessions[i].restart_at = Some(now + delay);
            fx.push(Effect::Emit(Event::SessionRestarting {
                session: spec.name.clone(),
                attempt: attempt + 1,
                delay_s: delay.as_secs_f64(),
            }));
            self.set_state(i, SessionState::Restarting, fx);
        } else if success {
            self.succeed(i, fx);
        } else {
            self.set_state(i, SessionState::Failed, fx);
            self.owner_finished(i, fx);
        }
    }

    /// done_when met or marked done by the user: the session counts as succeeded.
    pub(super) fn mark_done(&mut self, i: usize, why: &str, now: Instant, fx: &mut Vec<Effect>) {
        let _ = now;
        let s = &self.sessions[i];
        if s.done || s.state().is_finished() {
            return;
        }
        fx.push(Effect::Note {
            session: i,
            text: why.to_string(),
        });
        self.sessions[i].done = true;
        if !self.plan.sessions[i].keep_running && self.sessions[i].alive {
            self.stop_session(i, StopReason::Done, fx);
        }
        self.succeed(i, fx);
    }

    /// Run `on_success` (if any), then the session is succeeded (or failed).
    fn succeed(&mut self, i: usize, fx: &mut Vec<Effect>) {
        if self.plan.sessions[i].on_success.is_empty() {
            self.set_state(i, SessionState::Succeeded, fx);
            self.owner_finished(i, fx);
            return;
        }
        self.sessions[i].finishing = true;
        fx.push(Effect::RunOnSuccess {
            session: i,
            attempt: self.sessions[i].attempt,
        });
    }

    pub(super) fn on_success_done(
        &mut self,
        i: usize,
        attempt: u32,
        ok: bool,
        fx: &mut Vec<Effect>,
    ) {
        if attempt != self.sessions[i].attempt {
            return;
        }
        self.sessions[i].finishing = false;
        let state = if ok {
            SessionState::Succeeded
        } else {
            self.sessions[i].done = false;
            SessionState::Failed
        };
        // The state event is sent even if the state was already set.
        self.sessions[i].state = Some(SessionState::Running);
        self.set_state(i, state, fx);
        self.owner_finished(i, fx);
    }

    /// A session reached a final state: re-read the datasets it owns.
    fn owner_finished(&mut self, i: usize, fx: &mut Vec<Effect>) {
        for d in 0..self.plan.datasets.len() {
            if self.plan.datasets[d].owner == Some(i) {
                self.request_dataset(d, fx);
            }
        }
    }

    /// Gates that depend on a session that finishes again are evaluated again.
    fn related_gates_reset(&mut self, i: usize) {
        for g in 0..self.gates.len() {
            let spec = &self.plan.gates[g];
            let related = spec.after.iter().any(|d| d.target == DepTarget::Session(i))
                || self
                    .plan
                    .gate_reads(g)
                    .into_iter()
                    .any(|d| self.plan.datasets[d].owner == Some(i));
            let rt = &mut self.gates[g];
            if related && !rt.evaluating && rt.verdict != Verdict::Waiting {
                rt.verdict = Verdict::Waiting;
            }
        }
    }
}
