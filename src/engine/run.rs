//! The engine loop: one task that owns all run state and reacts to commands,
//! session I/O, check answers, file changes, signals and timers.

use super::checker::{self, CheckDone, CheckJob};
use super::{Activity, Command, Event, RunHandle, RunOptions, SessionState};
use crate::agent::alert::{Alert, AlertEvent};
use crate::checks::{CheckResult, CheckStatus, Severity};
use crate::gates::{self, Verdict};
use crate::plan::{Approval, Dep, DepKind, DepTarget, Plan, RestartPolicy};
use crate::record::{self, GateReport, Recorder, Report, SessionReport};
use crate::session::{self, OutputSink, SessionHandle, SessionIo, SpawnRequest};
use crate::watch::{WatchEvent, Watcher};
use anyhow::{Context, Result, bail};
use chrono::{DateTime, Local, Utc};
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

/// Messages from the engine's own helpers (threads it starts).
enum Internal {
    OnSuccessDone {
        session: usize,
        attempt: u32,
        ok: bool,
    },
    FileChanged(WatchEvent),
    DescendantsKilled,
    /// The plan's `notify` command failed (for this event).
    NotifyFailed {
        for_event: String,
        message: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StopReason {
    User,
    Timeout,
    Done,
    Quit,
    Restart,
}

#[derive(Default)]
struct Sess {
    state: Option<SessionState>,
    /// Number of the current (or last) attempt; 0 = never started.
    attempt: u32,
    handle: Option<SessionHandle>,
    attempt_started: Option<Instant>,
    /// The same, on the wall clock (to tell a fresh `done_when` file from a stale one).
    attempt_started_wall: Option<std::time::SystemTime>,
    /// Summed duration of finished attempts.
    total: Duration,
    exit_code: Option<i32>,
    restarts_used: u32,
    restart_at: Option<Instant>,
    stop: Option<StopReason>,
    kill_at: Option<Instant>,
    timeout_at: Option<Instant>,
    input_at: Option<Instant>,
    /// Counted as succeeded (done_when / marked done) while perhaps still running.
    done: bool,
    /// `on_success` commands are running.
    finishing: bool,
    activity: Option<Activity>,
    /// Signals of the current attempt that decide its activity.
    tracker: crate::agent::activity::Tracker,
    /// The agent CLI's conversation id (hooks), continued on a restart.
    agent_session: Option<String>,
}

impl Sess {
    fn state(&self) -> SessionState {
        self.state.unwrap_or(SessionState::Pending)
    }
    /// Holds a `max_parallel` slot.
    fn active(&self) -> bool {
        !self.done
            && (self.handle.is_some() || self.finishing || self.state() == SessionState::Restarting)
    }
}

struct GateRt {
    verdict: Verdict,
    approved: bool,
    evaluating: bool,
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum DepStatus {
    Met,
    Wait,
    Never,
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Phase {
    Running,
    /// Stopping every session (quit or signal).
    Stopping,
    /// Waiting for the last descendants to be killed.
    Reaping,
    /// Final check evaluation requested.
    Finalizing,
    Done,
}

struct Engine {
    plan: Arc<Plan>,
    opts: RunOptions,
    sink: Arc<dyn OutputSink>,
    rec: Recorder,
    events: UnboundedSender<Event>,
    io_tx: UnboundedSender<SessionIo>,
    internal_tx: UnboundedSender<Internal>,
    jobs: crossbeam_channel::Sender<CheckJob>,
    sessions: Vec<Sess>,
    gates: Vec<GateRt>,
    dataset_results: Vec<Vec<CheckResult>>,
    probe_results: Vec<Vec<CheckResult>>,
    gate_results: Vec<Vec<CheckResult>>,
    /// Dataset jobs in flight, and datasets changed again meanwhile.
    dataset_busy: Vec<bool>,
    dataset_dirty: Vec<bool>,
    sizes: Vec<(u16, u16)>,
    max_parallel: usize,
    started: Instant,
    started_wall: DateTime<Utc>,
    phase: Phase,
    interrupted: bool,
    awaiting_approval_stop: bool,
    exe: String,
    _watcher: Option<Watcher>,
}

/// Start a run: everything that can go wrong before a session starts goes wrong
/// here (exit 2); after this returns, the run is under way on its own thread.
pub fn start(plan: Arc<Plan>, opts: RunOptions, sink: Arc<dyn OutputSink>) -> Result<RunHandle> {
    let n = plan.sessions.len();
    for name in opts.only.iter().flatten().chain(opts.skip.iter()) {
        if plan.session_index(name).is_none() {
            bail!(
                "unknown session `{name}` (sessions: {})",
                plan.sessions
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    // Resolve --resume before our own record moves `latest`.
    let mut conversations = std::collections::HashMap::new();
    let resumed: HashSet<String> = match &opts.resume {
        Some(id) => {
            let dir = record::find_run(&plan.records, id)?;
            conversations = crate::agent::profile::past_conversations(&dir);
            record::read_past(&dir)?
                .sessions
                .into_iter()
                .filter(|s| s.state == "succeeded")
                .map(|s| s.name)
                .collect()
        }
        None => HashSet::new(),
    };
    let rec = Recorder::create(&plan.records)?;
    let run_id = rec.run_id.clone();
    let run_dir = rec.dir.clone();

    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (io_tx, io_rx) = mpsc::unbounded_channel();
    let (internal_tx, internal_rx) = mpsc::unbounded_channel();
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    let jobs = checker::spawn(plan.clone(), done_tx);

    session::become_subreaper();
    let watcher = {
        let tx = internal_tx.clone();
        Watcher::start(&plan, move |ev| {
            let _ = tx.send(Internal::FileChanged(ev));
        })
        .ok()
    };

    let mut sizes: Vec<(u16, u16)> = opts.pane_sizes.clone();
    sizes.resize(n, (24, 80));
    let max_parallel = opts
        .max_parallel
        .or(plan.max_parallel)
        .unwrap_or(usize::MAX)
        .max(1);
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();

    let mut engine = Engine {
        sessions: (0..n).map(|_| Sess::default()).collect(),
        gates: plan
            .gates
            .iter()
            .map(|_| GateRt {
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
        plan: plan.clone(),
        opts,
        sink,
        rec,
        events: events_tx,
        io_tx,
        internal_tx,
        jobs,
        sizes,
        max_parallel,
        started: Instant::now(),
        started_wall: Utc::now(),
        phase: Phase::Running,
        interrupted: false,
        awaiting_approval_stop: false,
        exe,
        _watcher: watcher,
    };
    engine.emit(Event::RunStarted {
        run_id: run_id.clone(),
        plan: plan.name.clone(),
    });
    for i in 0..n {
        let name = &plan.sessions[i].name;
        let skip = engine.opts.skip.contains(name)
            || engine
                .opts
                .only
                .as_ref()
                .is_some_and(|only| !only.contains(name));
        engine.sessions[i].agent_session = conversations.remove(name);
        if skip {
            engine.set_state(i, SessionState::Skipped);
        } else if resumed.contains(name) {
            engine.set_state(i, SessionState::Succeeded);
        }
    }

    std::thread::Builder::new()
        .name("engine".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            rt.block_on(engine.run(cmd_rx, io_rx, internal_rx, done_rx));
        })
        .context("cannot start the engine thread")?;

    Ok(RunHandle {
        run_id,
        run_dir,
        plan,
        commands: cmd_tx,
        events: events_rx,
    })
}

/// How long the end of a run waits for the plan's `notify` command.
const RUN_FINISHED_ALERT_WAIT: Duration = Duration::from_secs(3);

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Engine {
    async fn run(
        mut self,
        mut cmds: UnboundedReceiver<Command>,
        mut io: UnboundedReceiver<SessionIo>,
        mut internal: UnboundedReceiver<Internal>,
        mut done: UnboundedReceiver<CheckDone>,
    ) {
        use tokio::signal::unix::{SignalKind, signal};
        let mut sigint = signal(SignalKind::interrupt()).ok();
        let mut sigterm = signal(SignalKind::terminate()).ok();
        let mut sighup = signal(SignalKind::hangup()).ok();
        async fn recv_sig(s: &mut Option<tokio::signal::unix::Signal>) {
            match s {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }

        self.schedule();
        while self.phase != Phase::Done {
            let wake = self.next_wake();
            tokio::select! {
                Some(c) = cmds.recv() => self.command(c),
                Some(m) = io.recv() => self.session_io(m),
                Some(m) = internal.recv() => self.internal(m),
                Some(d) = done.recv() => self.check_done(d),
                _ = recv_sig(&mut sigint) => self.interrupt(),
                _ = recv_sig(&mut sigterm) => self.interrupt(),
                _ = recv_sig(&mut sighup) => self.interrupt(),
                _ = tokio::time::sleep_until(wake.into()) => {}
            }
            self.tick();
            self.schedule();
        }
    }

    // ---- events ------------------------------------------------------------

    fn emit(&mut self, event: Event) {
        self.rec.event(Utc::now(), &event);
        let _ = self.events.send(event);
    }

    fn name(&self, i: usize) -> String {
        self.plan.sessions[i].name.clone()
    }

    fn set_state(&mut self, i: usize, state: SessionState) {
        if self.sessions[i].state == Some(state) {
            return;
        }
        self.sessions[i].state = Some(state);
        if state != SessionState::Running {
            self.set_activity(i, None);
        }
        let session = self.name(i);
        self.emit(Event::SessionState { session, state });
    }

    fn set_activity(&mut self, i: usize, activity: Option<Activity>) {
        if self.sessions[i].activity == activity {
            return;
        }
        self.sessions[i].activity = activity;
        if activity.is_none() {
            self.sessions[i].tracker = Default::default();
        }
    }

    /// Ask the session's signals what it shows now; one event when that changed.
    fn refresh_activity(&mut self, i: usize) {
        let quiet_after = self.plan.sessions[i].quiet_after;
        let s = &mut self.sessions[i];
        if s.handle.is_none() || s.state() != SessionState::Running {
            return;
        }
        let now = Instant::now();
        let since = Duration::from_millis(now_ms().saturating_sub(s.last_output()));
        let last = now.checked_sub(since).unwrap_or(now);
        if let Some(shown) = s.tracker.update(now, last, quiet_after) {
            let was = s.activity.replace(shown.activity);
            let session = self.name(i);
            if shown.activity == Activity::NeedsInput && was != Some(Activity::NeedsInput) {
                let message = match &shown.message {
                    Some(m) => format!("{session} needs input: {m}"),
                    None => format!("{session} needs input"),
                };
                self.alert(AlertEvent::NeedsInput, session.clone(), message);
            }
            self.emit(Event::SessionActivity {
                session,
                activity: shown.activity,
                source: shown.source,
                message: shown.message,
            });
        }
    }

    /// Run the plan's `notify` command (if any) for `event`, on a thread of its own;
    /// its failure comes back as an event. Returns a receiver that hears when it ended.
    fn alert(
        &self,
        event: AlertEvent,
        session: String,
        message: String,
    ) -> Option<std::sync::mpsc::Receiver<()>> {
        let command = self.plan.notify.clone()?;
        let (shell, root) = (self.plan.shell.clone(), self.plan.root.clone());
        let tx = self.internal_tx.clone();
        let (ended_tx, ended_rx) = std::sync::mpsc::channel();
        let alert = Alert {
            event,
            session,
            message,
        };
        std::thread::spawn(move || {
            if let Err(message) = crate::agent::alert::run(&command, &shell, &root, &alert) {
                let _ = tx.send(Internal::NotifyFailed {
                    for_event: event.as_str().to_string(),
                    message,
                });
            }
            let _ = ended_tx.send(());
        });
        Some(ended_rx)
    }

    /// Append a line of the control room's own to a session's log and terminal.
    fn note(&self, i: usize, text: &str) {
        let line = format!("\r\n[flightdeck] {text}\r\n");
        let path = self.rec.log_path(&self.plan.sessions[i].name);
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = f.write_all(line.as_bytes());
        }
        let _ = self.sink.output(i, line.as_bytes());
    }

    // ---- timers ------------------------------------------------------------

    fn next_wake(&self) -> Instant {
        let now = Instant::now();
        let mut wake = now + Duration::from_secs(3600);
        for s in &self.sessions {
            for t in [s.restart_at, s.kill_at, s.timeout_at, s.input_at]
                .into_iter()
                .flatten()
            {
                wake = wake.min(t);
            }
            // Activity (quiet detection) and done_when files need a look now and then.
            if s.handle.is_some() {
                wake = wake.min(now + Duration::from_millis(250));
            }
        }
        wake.max(now + Duration::from_millis(1))
    }

    fn tick(&mut self) {
        let now = Instant::now();
        let plan = self.plan.clone();
        for i in 0..self.sessions.len() {
            let spec = &plan.sessions[i];
            let s = &mut self.sessions[i];
            if s.restart_at.is_some_and(|t| t <= now) {
                s.restart_at = None;
                if self.phase == Phase::Running {
                    self.start_session(i);
                }
                continue;
            }
            let Some(h) = &s.handle else { continue };
            if s.kill_at.is_some_and(|t| t <= now) {
                s.kill_at = None;
                h.signal_group(libc::SIGKILL);
            }
            if s.timeout_at.is_some_and(|t| t <= now) {
                s.timeout_at = None;
                let t = spec.timeout.unwrap_or_default();
                self.note(
                    i,
                    &format!("timeout after {}: stopping", crate::duration::human(t)),
                );
                self.stop_session(i, StopReason::Timeout);
            }
            let s = &mut self.sessions[i];
            if s.input_at.is_some_and(|t| t <= now) {
                s.input_at = None;
                if let Some(path) = &spec.input {
                    match std::fs::read_to_string(path) {
                        Ok(text) => {
                            if let Some(h) = &s.handle {
                                let _ = h.paste(text.trim_end_matches('\n'));
                                let _ = h.write_input(b"\r");
                            }
                        }
                        Err(e) => {
                            let msg = format!("cannot read input {}: {e}", path.display());
                            self.note(i, &msg);
                        }
                    }
                }
            }
            let s = &self.sessions[i];
            if !s.done
                && s.handle.is_some()
                && let Some(file) = spec.done_when.as_ref().and_then(|d| d.file.as_ref())
                && written_since(file, s.attempt_started_wall)
            {
                self.mark_done(i, "done_when file appeared");
            }
            self.refresh_activity(i);
        }
    }

    // ---- scheduling --------------------------------------------------------

    fn dep_status(&self, dep: &Dep) -> DepStatus {
        match dep.target {
            DepTarget::Session(j) => {
                let s = &self.sessions[j];
                let st = s.state();
                match dep.kind {
                    DepKind::Succeeded => {
                        if st.satisfies() {
                            DepStatus::Met
                        } else if matches!(
                            st,
                            SessionState::Failed | SessionState::Stopped | SessionState::Blocked
                        ) {
                            DepStatus::Never
                        } else {
                            DepStatus::Wait
                        }
                    }
                    DepKind::Started => {
                        if s.attempt > 0 || st.satisfies() {
                            DepStatus::Met
                        } else if st.is_finished() {
                            DepStatus::Never
                        } else {
                            DepStatus::Wait
                        }
                    }
                    DepKind::Finished => {
                        if st.is_finished() && !s.active() {
                            DepStatus::Met
                        } else {
                            DepStatus::Wait
                        }
                    }
                }
            }
            DepTarget::Gate(g) => self.gate_passed(g),
        }
    }

    fn gate_passed(&self, g: usize) -> DepStatus {
        let spec = &self.plan.gates[g];
        let rt = &self.gates[g];
        let ok = match rt.verdict {
            Verdict::Pass => true,
            Verdict::Conditional => spec.allow_conditional,
            Verdict::Fail | Verdict::Blocked => return DepStatus::Never,
            Verdict::Waiting => return DepStatus::Wait,
        };
        if !ok {
            DepStatus::Never
        } else if spec.approval == Approval::Manual && !rt.approved {
            DepStatus::Wait
        } else {
            DepStatus::Met
        }
    }

    fn combine(statuses: impl Iterator<Item = DepStatus>) -> DepStatus {
        let mut out = DepStatus::Met;
        for s in statuses {
            match s {
                DepStatus::Never => return DepStatus::Never,
                DepStatus::Wait => out = DepStatus::Wait,
                DepStatus::Met => {}
            }
        }
        out
    }

    /// A gate may be evaluated once its `after` entries are done and the owners
    /// of its datasets have finished.
    fn gate_ready(&self, g: usize) -> DepStatus {
        let spec = &self.plan.gates[g];
        let after = spec.after.iter().map(|d| match (d.target, d.kind) {
            (DepTarget::Session(j), DepKind::Succeeded) => {
                let s = &self.sessions[j];
                if s.state().satisfies() && !s.finishing {
                    DepStatus::Met
                } else if s.state().is_finished() {
                    DepStatus::Never
                } else {
                    DepStatus::Wait
                }
            }
            _ => self.dep_status(d),
        });
        // Every dataset the gate reads, also those named only in its own checks.
        let owners = self
            .plan
            .gate_reads(g)
            .into_iter()
            .filter_map(|d| self.plan.datasets[d].owner)
            .map(|o| {
                let s = &self.sessions[o];
                if s.state().satisfies() && !s.finishing {
                    DepStatus::Met
                } else if s.state().is_finished() {
                    DepStatus::Never
                } else {
                    DepStatus::Wait
                }
            });
        Self::combine(after.chain(owners))
    }

    fn schedule(&mut self) {
        if self.phase != Phase::Running {
            self.check_finished();
            return;
        }
        loop {
            let mut changed = false;
            for i in 0..self.sessions.len() {
                let st = self.sessions[i].state();
                if !matches!(st, SessionState::Pending | SessionState::Blocked) {
                    continue;
                }
                let status = Self::combine(
                    self.plan.sessions[i]
                        .after
                        .iter()
                        .map(|d| self.dep_status(d)),
                );
                match status {
                    DepStatus::Never => self.set_state(i, SessionState::Blocked),
                    DepStatus::Wait => self.set_state(i, SessionState::Pending),
                    DepStatus::Met => {
                        let active = self.sessions.iter().filter(|s| s.active()).count();
                        if active < self.max_parallel {
                            self.start_session(i);
                            changed = true;
                        } else if st == SessionState::Blocked {
                            self.set_state(i, SessionState::Pending);
                        }
                    }
                }
            }
            for g in 0..self.gates.len() {
                let rt = &self.gates[g];
                if rt.evaluating || !matches!(rt.verdict, Verdict::Waiting | Verdict::Blocked) {
                    continue;
                }
                match self.gate_ready(g) {
                    DepStatus::Never => {
                        if self.gates[g].verdict != Verdict::Blocked {
                            self.gates[g].verdict = Verdict::Blocked;
                            let gate = self.plan.gates[g].name.clone();
                            self.emit(Event::GateResult {
                                gate,
                                verdict: Verdict::Blocked,
                            });
                            changed = true;
                        }
                    }
                    DepStatus::Wait => {
                        if self.gates[g].verdict == Verdict::Blocked {
                            self.gates[g].verdict = Verdict::Waiting;
                            changed = true;
                        }
                    }
                    DepStatus::Met => {
                        self.gates[g].evaluating = true;
                        self.gates[g].verdict = Verdict::Waiting;
                        let _ = self.jobs.send(CheckJob::Gate { idx: g });
                    }
                }
            }
            if !changed {
                break;
            }
        }
        self.check_finished();
    }

    fn awaiting_approval(&self) -> Vec<usize> {
        (0..self.gates.len())
            .filter(|&g| {
                let spec = &self.plan.gates[g];
                let rt = &self.gates[g];
                spec.approval == Approval::Manual
                    && !rt.approved
                    && (rt.verdict == Verdict::Pass
                        || (rt.verdict == Verdict::Conditional && spec.allow_conditional))
            })
            .collect()
    }

    fn check_finished(&mut self) {
        match self.phase {
            Phase::Running => {
                let busy = self.sessions.iter().any(|s| s.active())
                    || self.gates.iter().any(|g| g.evaluating)
                    || self.dataset_busy.iter().any(|&b| b);
                if busy {
                    return;
                }
                if !self.awaiting_approval().is_empty() {
                    if self.opts.headless {
                        self.awaiting_approval_stop = true;
                    } else {
                        return; // the user may press `a`
                    }
                }
                self.begin_shutdown();
            }
            Phase::Stopping => {
                if self
                    .sessions
                    .iter()
                    .all(|s| s.handle.is_none() && !s.finishing)
                {
                    self.phase = Phase::Reaping;
                    let tx = self.internal_tx.clone();
                    std::thread::spawn(move || {
                        session::kill_all_descendants(Duration::from_secs(2));
                        let _ = tx.send(Internal::DescendantsKilled);
                    });
                }
            }
            Phase::Reaping | Phase::Finalizing | Phase::Done => {}
        }
    }

    /// Stop whatever still runs (keep_running sessions, or everything on quit).
    fn begin_shutdown(&mut self) {
        self.phase = Phase::Stopping;
        for i in 0..self.sessions.len() {
            let s = &mut self.sessions[i];
            s.restart_at = None;
            if s.state() == SessionState::Restarting {
                self.set_state(i, SessionState::Stopped);
            }
            if self.sessions[i].handle.is_some() && self.sessions[i].stop.is_none() {
                self.stop_session(i, StopReason::Quit);
            }
        }
        self.check_finished();
    }

    fn interrupt(&mut self) {
        if self.phase == Phase::Running {
            self.interrupted = true;
            self.begin_shutdown();
        } else if self.phase == Phase::Finalizing {
            // Quit while the final checks run: they are abandoned, the record written.
            self.interrupted = true;
            self.finish();
        } else if self.phase == Phase::Stopping {
            // A second Ctrl-C: no more grace.
            for s in &self.sessions {
                if let Some(h) = &s.handle {
                    h.signal_group(libc::SIGKILL);
                }
            }
        }
    }

    // ---- sessions ----------------------------------------------------------

    fn start_session(&mut self, i: usize) {
        let spec = self.plan.sessions[i].clone();
        let log = self.rec.log_path(&spec.name);
        {
            let s = &mut self.sessions[i];
            s.attempt += 1;
            s.stop = None;
            s.kill_at = None;
            s.done = false;
            s.tracker = Default::default();
            s.exit_code = None;
        }
        let attempt = self.sessions[i].attempt;
        if let Some(branch) = &spec.worktree
            && let Err(e) = ensure_worktree(&self.plan.root, &spec.name, branch)
        {
            self.note(i, &format!("cannot prepare worktree `{branch}`: {e:#}"));
            self.attempt_ended(i, None, None);
            return;
        }
        let mut env: Vec<(String, String)> = vec![
            ("FLIGHTDECK_RUN_ID".into(), self.rec.run_id.clone()),
            ("FLIGHTDECK_SESSION".into(), spec.name.clone()),
            (
                "FLIGHTDECK_ROOT".into(),
                self.plan.root.display().to_string(),
            ),
            ("FLIGHTDECK_ATTEMPT".into(), attempt.to_string()),
            ("FLIGHTDECK_EXE".into(), self.exe.clone()),
        ];
        if let Some(dir) = &self.opts.socket_dir {
            let socket = dir.join(format!("{}.sock", self.rec.run_id));
            env.push(("FLIGHTDECK_SOCKET".into(), socket.display().to_string()));
        }
        env.extend(spec.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        let argv = spec.command.argv(&self.plan.shell);
        let shell_form = matches!(spec.command, crate::plan::CommandSpec::Shell(_));
        let prepared = crate::agent::profile::prepare(
            spec.agent,
            argv,
            shell_form,
            &self.rec.dir,
            &spec.name,
            Path::new(&self.exe),
            self.sessions[i].agent_session.as_deref(),
        );
        let argv = match prepared {
            Ok(p) => {
                env.extend(p.env);
                p.argv
            }
            Err(e) => {
                self.note(i, &format!("cannot write the agent settings: {e}"));
                self.sessions[i].attempt_started = Some(Instant::now());
                self.attempt_ended(i, None, None);
                return;
            }
        };
        let (rows, cols) = self.sizes[i];
        let req = SpawnRequest {
            session: i,
            attempt,
            argv,
            cwd: spec.cwd.clone(),
            env,
            rows,
            cols,
            log,
            done_output: spec.done_when.as_ref().and_then(|d| d.output.clone()),
            attention: spec.attention.clone(),
            prompts: crate::agent::profile::prompts(spec.agent),
            log_limit: self.plan.log_limit,
        };
        // Before the spawn: the child may write its done_when file at once.
        let wall = std::time::SystemTime::now();
        match session::spawn(req, self.io_tx.clone(), self.sink.clone()) {
            Ok(h) => {
                let pid = h.pid;
                let now = Instant::now();
                let s = &mut self.sessions[i];
                s.handle = Some(h);
                s.attempt_started = Some(now);
                s.attempt_started_wall = Some(wall);
                s.timeout_at = spec.timeout.map(|t| now + t);
                s.input_at = spec.input.as_ref().map(|_| now + spec.input_delay);
                self.emit(Event::SessionStarted {
                    session: spec.name.clone(),
                    attempt,
                    pid,
                });
                self.set_state(i, SessionState::Running);
                self.refresh_activity(i);
            }
            Err(e) => {
                self.note(
                    i,
                    &format!("cannot start `{}`: {e}", spec.command.display()),
                );
                self.sessions[i].attempt_started = Some(Instant::now());
                self.attempt_ended(i, None, None);
            }
        }
    }

    fn stop_session(&mut self, i: usize, reason: StopReason) {
        let grace = self.plan.sessions[i].stop_grace;
        let s = &mut self.sessions[i];
        if let Some(h) = &s.handle {
            if s.stop.is_none() || reason == StopReason::Quit {
                s.stop = Some(reason);
            }
            h.signal_group(libc::SIGTERM);
            s.kill_at = Some(Instant::now() + grace);
            s.timeout_at = None;
            s.input_at = None;
        }
    }

    fn session_io(&mut self, m: SessionIo) {
        match m {
            SessionIo::Exited {
                session,
                attempt,
                exit_code,
                signal,
            } => {
                if attempt != self.sessions[session].attempt {
                    return;
                }
                self.sessions[session].handle = None;
                self.sessions[session].kill_at = None;
                self.attempt_ended(session, exit_code, signal);
            }
            SessionIo::DoneMatched { session, attempt } => {
                if attempt == self.sessions[session].attempt {
                    self.mark_done(session, "done_when output matched");
                }
            }
            SessionIo::Bell { session, attempt } => {
                if attempt == self.sessions[session].attempt {
                    self.sessions[session].tracker.bell(Instant::now());
                    self.refresh_activity(session);
                }
            }
            SessionIo::Attention {
                session,
                attempt,
                prompt,
            } => {
                if attempt == self.sessions[session].attempt {
                    let seen = prompt.map(|p| (p.line, p.builtin));
                    self.sessions[session].tracker.prompt(seen, Instant::now());
                    self.refresh_activity(session);
                }
            }
            SessionIo::Notification {
                session,
                attempt,
                text,
            } => {
                if attempt == self.sessions[session].attempt {
                    self.sessions[session].tracker.notification(text);
                    self.refresh_activity(session);
                }
            }
            SessionIo::Title { session, title, .. } => {
                let session = self.name(session);
                self.emit(Event::SessionTitle { session, title });
            }
            SessionIo::LogTruncated {
                session,
                attempt,
                limit,
            } => {
                let session = self.name(session);
                self.emit(Event::LogTruncated {
                    session,
                    attempt,
                    limit_bytes: limit,
                });
            }
        }
    }

    /// One attempt is over (process exited, or could not start).
    fn attempt_ended(&mut self, i: usize, exit_code: Option<i32>, signal: Option<String>) {
        let spec = self.plan.sessions[i].clone();
        let s = &mut self.sessions[i];
        let dur = s
            .attempt_started
            .take()
            .map(|t| t.elapsed())
            .unwrap_or_default();
        s.total += dur;
        s.exit_code = exit_code;
        s.timeout_at = None;
        s.input_at = None;
        let attempt = s.attempt;
        let stop = s.stop.take();
        let was_done = s.done;
        self.emit(Event::SessionExited {
            session: spec.name.clone(),
            attempt,
            exit_code,
            signal: signal.clone(),
            duration_s: dur.as_secs_f64(),
        });
        if was_done {
            // Already counted as succeeded (and its gates evaluated); this is the
            // stop we asked for, not a second finish.
            return;
        }
        self.related_gates_reset(i);
        match stop {
            Some(StopReason::Restart) => {
                self.start_session(i);
                return;
            }
            Some(StopReason::User) | Some(StopReason::Quit) => {
                self.set_state(i, SessionState::Stopped);
                return;
            }
            _ => {}
        }
        let success = exit_code == Some(0) && stop != Some(StopReason::Timeout);
        let may_restart = match spec.restart {
            RestartPolicy::Never => false,
            RestartPolicy::OnFailure => !success,
            RestartPolicy::Always => true,
        } && self.sessions[i].restarts_used < spec.max_restarts
            && self.phase == Phase::Running;
        if may_restart {
            let n = self.sessions[i].restarts_used;
            let delay = spec
                .backoff
                .saturating_mul(1u32 << n.min(16))
                .min(Duration::from_secs(60))
                .max(spec.backoff.min(Duration::from_secs(60)));
            self.sessions[i].restarts_used += 1;
            self.sessions[i].restart_at = Some(Instant::now() + delay);
            self.emit(Event::SessionRestarting {
                session: spec.name.clone(),
                attempt: attempt + 1,
                delay_s: delay.as_secs_f64(),
            });
            self.set_state(i, SessionState::Restarting);
        } else if success {
            self.succeed(i);
        } else {
            self.set_state(i, SessionState::Failed);
            self.owner_finished(i);
        }
    }

    /// done_when met or marked done by the user: the session counts as succeeded.
    fn mark_done(&mut self, i: usize, why: &str) {
        let s = &self.sessions[i];
        if s.done || s.state().is_finished() {
            return;
        }
        self.note(i, why);
        self.sessions[i].done = true;
        if !self.plan.sessions[i].keep_running && self.sessions[i].handle.is_some() {
            self.stop_session(i, StopReason::Done);
        }
        self.succeed(i);
    }

    /// Run `on_success` (if any), then the session is succeeded (or failed).
    fn succeed(&mut self, i: usize) {
        let cmds = self.plan.sessions[i].on_success.clone();
        if cmds.is_empty() {
            self.set_state(i, SessionState::Succeeded);
            self.owner_finished(i);
            return;
        }
        self.sessions[i].finishing = true;
        let attempt = self.sessions[i].attempt;
        let shell = self.plan.shell.clone();
        let root = self.plan.root.clone();
        let log = self.rec.log_path(&self.plan.sessions[i].name);
        let sink = self.sink.clone();
        let tx = self.internal_tx.clone();
        std::thread::spawn(move || {
            let ok = run_on_success(i, &cmds, &shell, &root, &log, sink.as_ref());
            let _ = tx.send(Internal::OnSuccessDone {
                session: i,
                attempt,
                ok,
            });
        });
    }

    /// A session reached a final state: re-read the datasets it owns.
    fn owner_finished(&mut self, i: usize) {
        for d in 0..self.plan.datasets.len() {
            if self.plan.datasets[d].owner == Some(i) {
                self.request_dataset(d);
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

    fn request_dataset(&mut self, d: usize) {
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
        let _ = self.jobs.send(CheckJob::Dataset { idx: d, owner_done });
    }

    // ---- commands ----------------------------------------------------------

    fn command(&mut self, c: Command) {
        let running = self.phase == Phase::Running;
        match c {
            Command::Start(i) if running => {
                if matches!(
                    self.sessions[i].state(),
                    SessionState::Pending | SessionState::Blocked
                ) {
                    self.start_session(i);
                }
            }
            Command::Stop(i) => {
                let s = &self.sessions[i];
                if s.handle.is_some() {
                    self.stop_session(i, StopReason::User);
                } else if s.state() == SessionState::Restarting {
                    self.sessions[i].restart_at = None;
                    self.set_state(i, SessionState::Stopped);
                }
            }
            Command::Restart(i) if running => {
                self.sessions[i].restarts_used = 0;
                if self.sessions[i].handle.is_some() && !self.sessions[i].done {
                    self.stop_session(i, StopReason::Restart);
                } else {
                    if self.sessions[i].handle.is_some() {
                        self.stop_session(i, StopReason::Quit);
                        self.sessions[i].handle = None;
                    }
                    self.sessions[i].restart_at = None;
                    self.start_session(i);
                }
            }
            Command::Skip(i) => {
                if matches!(
                    self.sessions[i].state(),
                    SessionState::Pending | SessionState::Blocked
                ) {
                    self.set_state(i, SessionState::Skipped);
                }
            }
            Command::MarkDone(i) => {
                if self.sessions[i].state() == SessionState::Restarting {
                    self.sessions[i].restart_at = None;
                }
                if !self.sessions[i].state().is_finished() {
                    self.mark_done(i, "marked done by the user");
                }
            }
            Command::Approve(g) => self.approve(g, "user"),
            Command::Recheck => {
                for d in 0..self.plan.datasets.len() {
                    self.request_dataset(d);
                }
                for g in 0..self.gates.len() {
                    let rt = &mut self.gates[g];
                    if !rt.evaluating && rt.verdict != Verdict::Blocked {
                        rt.verdict = Verdict::Waiting;
                    }
                }
            }
            Command::Input(i, bytes) => {
                if let Some(h) = &self.sessions[i].handle {
                    let _ = h.write_input(&bytes);
                    self.sessions[i].tracker.typed();
                    self.refresh_activity(i);
                }
            }
            Command::Resize(i, rows, cols) if i < self.sizes.len() => {
                self.sizes[i] = (rows, cols);
                if let Some(h) = &self.sessions[i].handle {
                    h.resize(rows, cols);
                }
            }
            Command::Notify {
                session,
                activity,
                message,
            } if session < self.sessions.len() => {
                if activity == crate::agent::NotifyState::Done {
                    if !self.sessions[session].state().is_finished() {
                        self.mark_done(session, "flightdeck notify done");
                    }
                } else {
                    self.sessions[session].tracker.notify(activity, message);
                    self.refresh_activity(session);
                }
            }
            Command::AgentSession { session, agent, id } if session < self.sessions.len() => {
                self.sessions[session].agent_session = Some(id.clone());
                let session = self.name(session);
                self.emit(Event::AgentSession { session, agent, id });
            }
            Command::Quit if self.phase == Phase::Running => {
                if self.sessions.iter().any(|s| s.active()) {
                    self.interrupted = true;
                }
                self.begin_shutdown();
            }
            Command::Quit if self.phase == Phase::Finalizing => self.interrupt(),
            _ => {}
        }
    }

    fn approve(&mut self, g: usize, by: &str) {
        if g >= self.gates.len() || !self.awaiting_approval().contains(&g) {
            return;
        }
        self.gates[g].approved = true;
        let gate = self.plan.gates[g].name.clone();
        self.emit(Event::GateApproved {
            gate,
            by: by.to_string(),
        });
    }

    // ---- internal ------------------------------------------------------------

    fn internal(&mut self, m: Internal) {
        match m {
            Internal::OnSuccessDone {
                session,
                attempt,
                ok,
            } => {
                if attempt != self.sessions[session].attempt {
                    return;
                }
                self.sessions[session].finishing = false;
                let st = if ok {
                    SessionState::Succeeded
                } else {
                    self.sessions[session].done = false;
                    SessionState::Failed
                };
                // Make sure the state event is sent even if it was already set.
                self.sessions[session].state = Some(SessionState::Running);
                self.set_state(session, st);
                self.owner_finished(session);
            }
            Internal::FileChanged(ev) => {
                let path = ev
                    .path
                    .strip_prefix(&self.plan.root)
                    .unwrap_or(&ev.path)
                    .display()
                    .to_string();
                self.emit(Event::FileChanged { path });
                for d in ev.datasets {
                    self.request_dataset(d);
                }
            }
            Internal::NotifyFailed { for_event, message } => {
                self.emit(Event::NotifyFailed { for_event, message });
            }
            Internal::DescendantsKilled => {
                self.phase = Phase::Finalizing;
                if self.interrupted {
                    self.finish();
                } else {
                    let _ = self.jobs.send(CheckJob::Final { all_probes: false });
                }
            }
        }
    }

    /// Store a source's results, emitting `check_result` for what changed.
    fn store(&mut self, kind: u8, idx: usize, results: Vec<CheckResult>) {
        let old = match kind {
            0 => &self.dataset_results[idx],
            1 => &self.probe_results[idx],
            _ => &self.gate_results[idx],
        };
        let changed: Vec<CheckResult> = results
            .iter()
            .filter(|r| !old.contains(r))
            .cloned()
            .collect();
        match kind {
            0 => self.dataset_results[idx] = results,
            1 => self.probe_results[idx] = results,
            _ => self.gate_results[idx] = results,
        }
        for r in changed {
            self.emit(Event::CheckResult(r));
        }
    }

    fn check_done(&mut self, d: CheckDone) {
        match d {
            CheckDone::Dataset { idx, results } => {
                self.dataset_busy[idx] = false;
                self.store(0, idx, results);
                if std::mem::take(&mut self.dataset_dirty[idx]) {
                    self.request_dataset(idx);
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
                    self.store(0, d, r);
                }
                for (p, r) in probes {
                    all.extend(r.iter().cloned());
                    self.store(1, p, r);
                }
                all.extend(own.iter().cloned());
                self.store(2, idx, own);
                let verdict = match gates::verdict(&all) {
                    // Owners are done, so a pending result means a missing file.
                    Verdict::Waiting => Verdict::Fail,
                    v => v,
                };
                let rt = &mut self.gates[idx];
                rt.evaluating = false;
                rt.verdict = verdict;
                let gate = self.plan.gates[idx].name.clone();
                self.emit(Event::GateResult {
                    gate: gate.clone(),
                    verdict,
                });
                if self.awaiting_approval().contains(&idx) {
                    if self.opts.yes {
                        self.approve(idx, "--yes");
                    } else {
                        let message =
                            format!("gate {gate}: {} — awaiting approval", verdict.as_str());
                        self.alert(AlertEvent::GateAwaitsApproval, gate, message);
                    }
                }
            }
            CheckDone::Final { datasets, probes } => {
                for (d, r) in datasets {
                    self.store(0, d, r);
                }
                for (p, r) in probes {
                    self.store(1, p, r);
                }
                self.finish();
            }
        }
    }

    // ---- the end -------------------------------------------------------------

    fn exit_code(&self) -> (i32, &'static str) {
        if self.interrupted {
            return (130, "interrupted");
        }
        if self.awaiting_approval_stop {
            return (3, "awaiting-approval");
        }
        let sessions_ok = self.sessions.iter().all(|s| s.state().satisfies());
        let gates_ok = (0..self.gates.len()).all(|g| {
            self.gate_passed(g) != DepStatus::Never
                && matches!(self.gates[g].verdict, Verdict::Pass | Verdict::Conditional)
        });
        let checks_ok = self
            .all_results()
            .all(|r| r.severity == Severity::Warn || r.status == CheckStatus::Pass);
        if sessions_ok && gates_ok && checks_ok {
            (0, "passed")
        } else {
            (1, "failed")
        }
    }

    fn all_results(&self) -> impl Iterator<Item = &CheckResult> {
        self.dataset_results
            .iter()
            .chain(&self.probe_results)
            .chain(&self.gate_results)
            .flatten()
    }

    fn finish(&mut self) {
        let (exit_code, status) = self.exit_code();
        let duration = self.started.elapsed().as_secs_f64();
        let sessions = (0..self.sessions.len())
            .map(|i| {
                let s = &self.sessions[i];
                let name = self.name(i);
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
        let gates = (0..self.gates.len())
            .map(|g| {
                GateReport::new(
                    &self.plan.gates[g].name,
                    self.gates[g].verdict,
                    self.gates[g].approved,
                )
            })
            .collect();
        let report = Report {
            run_id: self.rec.run_id.clone(),
            plan: self.plan.name.clone(),
            status: status.to_string(),
            exit_code,
            started: self.started_wall.with_timezone(&Local).to_rfc3339(),
            finished: Local::now().to_rfc3339(),
            sessions,
            checks: self.all_results().cloned().collect(),
            gates,
        };
        if let Err(e) = record::write_reports(&self.rec.dir, &report) {
            eprintln!("flightdeck: cannot write the report: {e:#}");
        }
        let message = format!("run {status} (exit {exit_code}): {}", self.plan.name);
        if let Some(ended) = self.alert(AlertEvent::RunFinished, String::new(), message) {
            // Give it a moment to go out before the process may end; never more.
            let _ = ended.recv_timeout(RUN_FINISHED_ALERT_WAIT);
        }
        crate::agent::alert::kill_running();
        self.emit(Event::RunFinished {
            status: status.to_string(),
            exit_code,
            duration_s: (duration * 1000.0).round() / 1000.0,
        });
        self.phase = Phase::Done;
    }
}

impl Sess {
    fn last_output(&self) -> u64 {
        self.handle
            .as_ref()
            .map(|h| h.last_output.load(Ordering::Relaxed))
            .unwrap_or(0)
    }
}

/// A `done_when` file counts only if it was written during this attempt: one left
/// behind by an earlier run must not end a new session at once.
fn written_since(file: &Path, since: Option<std::time::SystemTime>) -> bool {
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
fn run_on_success(
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
