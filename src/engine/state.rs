//! The run's state, what can happen to it (`Input`) and what it asks for (`Effect`).
//!
//! Plain data: no processes, files or channels. [`super::core::step`] changes a
//! [`RunState`] in answer to an [`Input`] and returns the [`Effect`]s for the loop in
//! [`super::driver`] to carry out. To teach the engine something new, add an input
//! (what happened) or an effect (what to do) here, its rule in `core`/`lifecycle`, and
//! its IO in `driver`.

use super::checker::{CheckDone, CheckJob};
use super::{Activity, Command, Event, Outcome, RunOptions, SessionState};
use crate::agent::alert::Alert;
use crate::checks::CheckResult;
use crate::gates::Verdict;
use crate::plan::Plan;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why a session is being stopped: decides what its exit means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The user pressed `x`: the session ends `stopped`.
    User,
    /// Its `timeout` passed: the attempt failed (and may restart).
    Timeout,
    /// It counts as done (`done_when`, marked done): its exit changes nothing.
    Done,
    /// The run ends: the session ends `stopped`.
    Quit,
    /// The user asked for a new attempt: start again once it has exited.
    Restart,
}

/// Where the run as a whole is.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Phase {
    Running,
    /// Stopping every session (quit, signal, or nothing left to do).
    Stopping,
    /// Waiting for the last descendants to be killed.
    Reaping,
    /// The final evaluation of checks was asked for.
    Finalizing,
    Done,
}

/// One session as the engine sees it.
#[derive(Debug, Default)]
pub struct SessionRun {
    /// `None` until the scheduler first looks at it (so that first look is an event).
    pub state: Option<SessionState>,
    /// Number of the current (or last) attempt; 0 = never started.
    pub attempt: u32,
    /// A process was asked for and has not been seen to exit.
    pub alive: bool,
    pub attempt_started: Option<Instant>,
    /// Summed duration of finished attempts.
    pub total: Duration,
    pub exit_code: Option<i32>,
    pub restarts_used: u32,
    pub restart_at: Option<Instant>,
    pub stop: Option<StopReason>,
    pub kill_at: Option<Instant>,
    pub timeout_at: Option<Instant>,
    pub input_at: Option<Instant>,
    /// Counted as succeeded (done_when / marked done) while perhaps still running.
    pub done: bool,
    /// `on_success` commands are running.
    pub finishing: bool,
    pub activity: Option<Activity>,
    /// Signals of the current attempt that decide its activity.
    pub tracker: crate::agent::activity::Tracker,
    /// The agent CLI's conversation id (hooks), continued on a restart.
    pub agent_session: Option<String>,
    pub last_output: Option<Instant>,
    /// The unmet `after` entries last told to frontends (`session_waiting`).
    pub waiting_for: Vec<String>,
}

impl SessionRun {
    pub fn state(&self) -> SessionState {
        self.state.unwrap_or(SessionState::Pending)
    }

    /// Holds a `max_parallel` slot.
    pub fn active(&self) -> bool {
        !self.done && (self.alive || self.finishing || self.state() == SessionState::Restarting)
    }
}

/// One gate as the engine sees it.
#[derive(Debug, Clone)]
pub struct GateRun {
    pub verdict: Verdict,
    pub approved: bool,
    /// Its checks are being evaluated.
    pub evaluating: bool,
}

/// Where a check result came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Dataset(usize),
    Probe(usize),
    Gate(usize),
}

/// Everything the engine knows about a run.
pub struct RunState {
    pub plan: Arc<Plan>,
    pub yes: bool,
    /// Stop with exit 3 at a manual gate instead of waiting for `Approve`.
    pub headless: bool,
    pub max_parallel: usize,
    pub sessions: Vec<SessionRun>,
    pub gates: Vec<GateRun>,
    pub dataset_results: Vec<Vec<CheckResult>>,
    pub probe_results: Vec<Vec<CheckResult>>,
    pub gate_results: Vec<Vec<CheckResult>>,
    /// A dataset job is in flight; and the dataset changed again meanwhile.
    pub dataset_busy: Vec<bool>,
    pub dataset_dirty: Vec<bool>,
    pub phase: Phase,
    pub interrupted: bool,
    pub awaiting_approval_stop: bool,
    /// Set once the run has finished.
    pub outcome: Option<Outcome>,
    /// The clock of the step being taken.
    pub now: Instant,
}

impl RunState {
    /// A fresh run: sessions excluded by `--only`/`--skip` are skipped, those in
    /// `succeeded` (from `--resume`) count as succeeded. Returns the events that says so.
    pub fn new(
        plan: Arc<Plan>,
        opts: &RunOptions,
        succeeded: &[String],
    ) -> (RunState, Vec<Effect>) {
        let n = plan.sessions.len();
        let mut state = RunState {
            yes: opts.yes,
            headless: opts.headless,
            max_parallel: opts
                .max_parallel
                .or(plan.max_parallel)
                .unwrap_or(usize::MAX)
                .max(1),
            sessions: (0..n).map(|_| SessionRun::default()).collect(),
            gates: plan
                .gates
                .iter()
                .map(|_| GateRun {
                    verdict: Verdict::Waiting,
                    approved: false,
                    evaluating: false,
                })
                .collect(),
            dataset_results: vec![Vec::new(); plan.datasets.len()],
            probe_results: vec![Vec::new(); plan.probes.len()],
            gate_results: vec![Vec::new(); plan.gates.len()],
            dataset_busy: vec![false; plan.datasets.len()],
            dataset_dirty: vec![false; plan.datasets.len()],
            phase: Phase::Running,
            interrupted: false,
            awaiting_approval_stop: false,
            outcome: None,
            now: Instant::now(),
            plan,
        };
        let mut fx = Vec::new();
        for i in 0..n {
            let name = state.plan.sessions[i].name.clone();
            let excluded = opts.skip.contains(&name)
                || opts.only.as_ref().is_some_and(|only| !only.contains(&name));
            if excluded {
                state.set_state(i, SessionState::Skipped, &mut fx);
            } else if succeeded.contains(&name) {
                state.set_state(i, SessionState::Succeeded, &mut fx);
            }
        }
        (state, fx)
    }

    pub fn name(&self, i: usize) -> String {
        self.plan.sessions[i].name.clone()
    }

    pub fn set_state(&mut self, i: usize, state: SessionState, fx: &mut Vec<Effect>) {
        if self.sessions[i].state == Some(state) {
            return;
        }
        self.sessions[i].state = Some(state);
        if state != SessionState::Running {
            self.clear_activity(i);
        }
        let session = self.name(i);
        fx.push(Effect::Emit(Event::SessionState { session, state }));
    }

    /// Not running: no activity, and the signals of the attempt are forgotten.
    pub fn clear_activity(&mut self, i: usize) {
        let s = &mut self.sessions[i];
        if s.activity.take().is_some() {
            s.tracker = Default::default();
        }
    }

    /// Every check result held, datasets then probes then gates' own.
    pub fn all_results(&self) -> impl Iterator<Item = &CheckResult> {
        self.dataset_results
            .iter()
            .chain(&self.probe_results)
            .chain(&self.gate_results)
            .flatten()
    }
}

/// What the loop saw of a running session when the clock ticked.
#[derive(Debug, Clone)]
pub struct Observation {
    pub session: usize,
    /// When it last wrote output.
    pub last_output: Option<Instant>,
    /// Its `done_when` file was written during this attempt.
    pub done_file: bool,
}

/// Something that happened.
#[derive(Debug)]
pub enum Input {
    /// The loop starts: schedule what can start.
    Begin,
    /// A frontend's command.
    Command(Command),
    /// Time passed (a timer is due, or it is time to look at running sessions).
    Tick(Vec<Observation>),
    /// The process of an attempt runs.
    Spawned {
        session: usize,
        attempt: u32,
        pid: u32,
    },
    /// An attempt could not start; `message` says why (goes to its log).
    SpawnFailed {
        session: usize,
        attempt: u32,
        message: String,
    },
    /// An attempt's process exited and its output has been read.
    Exited {
        session: usize,
        attempt: u32,
        exit_code: Option<i32>,
        signal: Option<String>,
    },
    /// Its `done_when` output pattern appeared.
    DoneMatched {
        session: usize,
        attempt: u32,
    },
    Bell {
        session: usize,
        attempt: u32,
    },
    /// A prompt (its line, and whether it is an agent's built-in one) is on screen,
    /// or none is.
    Attention {
        session: usize,
        attempt: u32,
        prompt: Option<(String, bool)>,
    },
    /// A desktop notification the session printed.
    Notification {
        session: usize,
        attempt: u32,
        text: String,
    },
    Title {
        session: usize,
        title: String,
    },
    LogTruncated {
        session: usize,
        attempt: u32,
        limit: u64,
    },
    /// The plan's `notify` command failed.
    NotifyFailed {
        for_event: String,
        message: String,
    },
    /// `on_success` commands finished (all succeeded when `ok`).
    OnSuccessDone {
        session: usize,
        attempt: u32,
        ok: bool,
    },
    /// A watched file changed; these datasets read it.
    FileChanged {
        path: String,
        datasets: Vec<usize>,
    },
    /// The check worker answered.
    Checked(CheckDone),
    /// Ctrl-C, SIGTERM or SIGHUP.
    Interrupt,
    /// Every descendant process is gone.
    DescendantsKilled,
}

/// A signal for a session's process group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Terminate,
    Kill,
}

/// Something for the loop to do.
#[derive(Debug)]
pub enum Effect {
    /// Record the event and tell the frontend.
    Emit(Event),
    /// A line of the control room's own in a session's log and terminal.
    Note {
        session: usize,
        text: String,
    },
    /// Start this attempt (answer: `Spawned` or `SpawnFailed`).
    Spawn {
        session: usize,
        attempt: u32,
    },
    /// Paste the session's `input` file into its terminal, then Enter.
    PasteInput {
        session: usize,
    },
    /// Bytes typed into a session's terminal.
    Write {
        session: usize,
        bytes: Vec<u8>,
    },
    Resize {
        session: usize,
        rows: u16,
        cols: u16,
    },
    Signal {
        session: usize,
        signal: Signal,
    },
    /// Let go of an attempt's process (it has been told to stop; its exit is ignored).
    Release {
        session: usize,
    },
    /// Run the session's `on_success` commands (answer: `OnSuccessDone`).
    RunOnSuccess {
        session: usize,
        attempt: u32,
    },
    /// Ask the check worker (answer: `Checked`).
    Check(CheckJob),
    /// Run the plan's `notify` command (answer, if it fails: `NotifyFailed`).
    Alert(Alert),
    /// Kill whatever descendants remain (answer: `DescendantsKilled`).
    KillDescendants,
    /// Write the report; the run is over (`RunFinished` follows).
    Finish(Outcome),
}
