//! The thin loop around the core: it turns what happens (commands, session IO,
//! file changes, check answers, signals, timers) into [`Input`]s for
//! [`core::step`], and carries out the [`Effect`]s it returns: processes, signals,
//! files, the check worker, events for the frontend.

use super::actions::{self, ensure_worktree, run_on_success, written_since};
use super::checker::{self, CheckDone, CheckJob};
use super::core;
use super::state::{Effect, Input, Observation, Phase, RunState, Signal};
use super::{Command, Event, RunHandle, RunOptions, Stamped};
use crate::agent::alert::{Alert, AlertEvent};
use crate::plan::Plan;
use crate::record::{self, Recorder};
use crate::session::{self, Keyboard, OutputSink, SessionHandle, SessionIo, SpawnRequest};
use crate::watch::Watcher;
use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

/// Messages from the engine's own helpers (threads it starts).
enum Internal {
    OnSuccessDone {
        session: usize,
        attempt: u32,
        ok: bool,
    },
    FileChanged(crate::watch::WatchEvent),
    DescendantsKilled,
    /// The plan's `notify` command failed (for this event).
    NotifyFailed {
        for_event: String,
        message: String,
    },
}

/// How long the end of a run waits for the plan's `notify` command.
const RUN_FINISHED_ALERT_WAIT: Duration = Duration::from_secs(3);

/// Each session's running attempt's [`Keyboard`], if one runs.
#[derive(Default)]
pub struct Keyboards(std::sync::Mutex<Vec<Option<Keyboard>>>);

impl Keyboards {
    pub fn get(&self, session: usize) -> Option<Keyboard> {
        let all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        all.get(session).cloned().flatten()
    }

    fn set(&self, session: usize, keyboard: Option<Keyboard>) {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if all.len() <= session {
            all.resize(session + 1, None);
        }
        all[session] = keyboard;
    }
}

/// A running attempt's process.
struct Process {
    attempt: u32,
    handle: SessionHandle,
    /// When it started, on the wall clock (to tell a fresh `done_when` file from a
    /// stale one).
    started: SystemTime,
}

struct Driver {
    state: RunState,
    plan: Arc<Plan>,
    sink: Arc<dyn OutputSink>,
    recorder: Recorder,
    events: UnboundedSender<Stamped>,
    io_tx: UnboundedSender<SessionIo>,
    internal_tx: UnboundedSender<Internal>,
    jobs: crossbeam_channel::Sender<CheckJob>,
    processes: Vec<Option<Process>>,
    keyboards: Arc<Keyboards>,
    /// Terminal size (rows, cols) per session.
    sizes: Vec<(u16, u16)>,
    started: DateTime<Utc>,
    run_started: Instant,
    exe: String,
    /// The run's server socket, for sessions (`FLIGHTDECK_SOCKET`).
    socket: Option<std::path::PathBuf>,
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
    let succeeded: Vec<String> = match &opts.resume {
        Some(id) => {
            let dir = record::find_run(&plan.records, id)?;
            conversations = crate::agent::profile::past_conversations(&dir);
            record::succeeded_sessions(&dir)?
        }
        None => Vec::new(),
    };
    let recorder = Recorder::create(&plan.records)?;
    let run_id = recorder.run_id.clone();
    let run_dir = recorder.dir.clone();

    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (io_tx, io_rx) = mpsc::unbounded_channel();
    let (internal_tx, internal_rx) = mpsc::unbounded_channel();
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    let jobs = checker::spawn(plan.clone(), done_tx);

    session::become_subreaper();
    // Nothing to watch: no watcher (its debouncer would wake 20 times a second).
    let watched = !plan.datasets.is_empty() || plan.sessions.iter().any(|s| !s.outputs.is_empty());
    let watcher = watched
        .then(|| {
            let tx = internal_tx.clone();
            Watcher::start(&plan, move |ev| {
                let _ = tx.send(Internal::FileChanged(ev));
            })
            .ok()
        })
        .flatten();

    let mut sizes: Vec<(u16, u16)> = opts.pane_sizes.clone();
    sizes.resize(n, (24, 80));
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let (mut state, first) = RunState::new(plan.clone(), &opts, &succeeded);
    for (i, spec) in plan.sessions.iter().enumerate() {
        state.sessions[i].agent_session = conversations.remove(&spec.name);
    }
    let mut driver = Driver {
        state,
        plan: plan.clone(),
        sink,
        recorder,
        events: events_tx,
        io_tx,
        internal_tx,
        jobs,
        processes: (0..n).map(|_| None).collect(),
        keyboards: Arc::default(),
        sizes,
        started: Utc::now(),
        run_started: Instant::now(),
        exe,
        socket: opts
            .socket_dir
            .as_ref()
            .map(|dir| dir.join(format!("{run_id}.sock"))),
        _watcher: watcher,
    };
    driver.execute(Effect::Emit(Event::RunStarted {
        run_id: run_id.clone(),
        plan: plan.name.clone(),
    }));
    for effect in first {
        driver.execute(effect);
    }

    let keyboards = driver.keyboards.clone();
    std::thread::Builder::new()
        .name("engine".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            rt.block_on(driver.run(cmd_rx, io_rx, internal_rx, done_rx));
        })
        .context("cannot start the engine thread")?;

    Ok(RunHandle {
        run_id,
        run_dir,
        plan,
        commands: cmd_tx,
        events: events_rx,
        keyboards,
    })
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Driver {
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

        self.apply(Input::Begin);
        while self.state.phase != Phase::Done {
            let wake = core::next_wake(&self.state, Instant::now());
            let input = tokio::select! {
                Some(c) = cmds.recv() => Some(Input::Command(c)),
                Some(m) = io.recv() => Some(self.session_io(m)),
                Some(m) = internal.recv() => Some(self.internal(m)),
                Some(d) = done.recv() => Some(Input::Checked(d)),
                _ = recv_sig(&mut sigint) => Some(Input::Interrupt),
                _ = recv_sig(&mut sigterm) => Some(Input::Interrupt),
                _ = recv_sig(&mut sighup) => Some(Input::Interrupt),
                _ = tokio::time::sleep_until(wake.into()) => None,
            };
            if let Some(input) = input {
                self.apply(input);
            }
            if self.state.phase != Phase::Done {
                let seen = self.observe();
                self.apply(Input::Tick(seen));
            }
        }
    }

    /// One step of the core, and its effects (which may take further steps).
    fn apply(&mut self, input: Input) {
        for effect in core::step(&mut self.state, input, Instant::now()) {
            self.execute(effect);
        }
    }

    fn session_io(&mut self, m: SessionIo) -> Input {
        match m {
            SessionIo::Exited {
                session,
                attempt,
                exit_code,
                signal,
            } => {
                if self.processes[session]
                    .as_ref()
                    .is_some_and(|p| p.attempt == attempt)
                {
                    self.forget(session);
                }
                Input::Exited {
                    session,
                    attempt,
                    exit_code,
                    signal,
                }
            }
            SessionIo::DoneMatched { session, attempt } => Input::DoneMatched { session, attempt },
            SessionIo::Bell { session, attempt } => Input::Bell { session, attempt },
            SessionIo::Attention {
                session,
                attempt,
                prompt,
            } => Input::Attention {
                session,
                attempt,
                prompt: prompt.map(|p| (p.line, p.builtin)),
            },
            SessionIo::Notification {
                session,
                attempt,
                text,
            } => Input::Notification {
                session,
                attempt,
                text,
            },
            SessionIo::Title { session, title, .. } => Input::Title { session, title },
            SessionIo::LogTruncated {
                session,
                attempt,
                limit,
            } => Input::LogTruncated {
                session,
                attempt,
                limit,
            },
        }
    }

    fn internal(&mut self, m: Internal) -> Input {
        match m {
            Internal::OnSuccessDone {
                session,
                attempt,
                ok,
            } => Input::OnSuccessDone {
                session,
                attempt,
                ok,
            },
            Internal::FileChanged(ev) => Input::FileChanged {
                path: ev
                    .path
                    .strip_prefix(&self.plan.root)
                    .unwrap_or(&ev.path)
                    .display()
                    .to_string(),
                datasets: ev.datasets,
            },
            Internal::DescendantsKilled => Input::DescendantsKilled,
            Internal::NotifyFailed { for_event, message } => {
                Input::NotifyFailed { for_event, message }
            }
        }
    }

    /// What the core cannot see for itself: when each running session last wrote,
    /// and whether its `done_when` file appeared.
    fn observe(&self) -> Vec<Observation> {
        let now = Instant::now();
        let ms = now_ms();
        let mut seen = Vec::new();
        for (session, process) in self.processes.iter().enumerate() {
            let Some(p) = process else { continue };
            let last = p.handle.last_output.load(Ordering::Relaxed);
            let age = Duration::from_millis(ms.saturating_sub(last));
            let done_file = !self.state.sessions[session].done
                && self.plan.sessions[session]
                    .done_when
                    .as_ref()
                    .and_then(|d| d.file.as_ref())
                    .is_some_and(|file| written_since(file, Some(p.started)));
            seen.push(Observation {
                session,
                last_output: now.checked_sub(age),
                done_file,
            });
        }
        seen
    }

    /// The session's attempt has ended (or is let go).
    fn forget(&mut self, session: usize) {
        self.processes[session] = None;
        self.keyboards.set(session, None);
    }

    fn handle(&self, session: usize) -> Option<&SessionHandle> {
        self.processes[session].as_ref().map(|p| &p.handle)
    }

    fn execute(&mut self, effect: Effect) {
        match effect {
            Effect::Emit(event) => {
                let ts = Utc::now();
                self.recorder.event(ts, &event);
                let _ = self.events.send(Stamped { ts, event });
            }
            Effect::Note { session, text } => self.note(session, &text),
            Effect::Spawn { session, attempt } => {
                let answer = self.spawn(session, attempt);
                self.apply(answer);
            }
            Effect::PasteInput { session } => self.paste_input(session),
            Effect::Write { session, bytes } => {
                if let Some(h) = self.handle(session) {
                    let _ = h.write_input(&bytes);
                }
            }
            Effect::Resize {
                session,
                rows,
                cols,
            } => {
                self.sizes[session] = (rows, cols);
                if let Some(h) = self.handle(session) {
                    h.resize(rows, cols);
                }
            }
            Effect::Signal { session, signal } => {
                if let Some(h) = self.handle(session) {
                    h.signal_group(match signal {
                        Signal::Terminate => libc::SIGTERM,
                        Signal::Kill => libc::SIGKILL,
                    });
                }
            }
            Effect::Release { session } => self.forget(session),
            Effect::RunOnSuccess { session, attempt } => {
                let cmds = self.plan.sessions[session].on_success.clone();
                let shell = self.plan.shell.clone();
                let root = self.plan.root.clone();
                let log = self.recorder.log_path(&self.plan.sessions[session].name);
                let sink = self.sink.clone();
                let tx = self.internal_tx.clone();
                std::thread::spawn(move || {
                    let ok = run_on_success(session, &cmds, &shell, &root, &log, sink.as_ref());
                    let _ = tx.send(Internal::OnSuccessDone {
                        session,
                        attempt,
                        ok,
                    });
                });
            }
            Effect::Check(job) => {
                let _ = self.jobs.send(job);
            }
            Effect::Alert(alert) => {
                self.alert(alert);
            }
            Effect::KillDescendants => {
                let tx = self.internal_tx.clone();
                std::thread::spawn(move || {
                    // Notify commands end on their own deadline (the run-finished alert
                    // still goes out after this); everything else goes now.
                    session::kill_descendants_sparing(
                        Duration::from_secs(2),
                        &crate::agent::alert::running_groups,
                    );
                    let _ = tx.send(Internal::DescendantsKilled);
                });
            }
            Effect::Finish(outcome) => {
                let report = actions::report(&self.state, &self.recorder.run_id, self.started);
                if let Err(e) = record::write_reports(&self.recorder.dir, &report) {
                    eprintln!("flightdeck: cannot write the report: {e:#}");
                }
                let message = format!(
                    "run {} (exit {}): {}",
                    outcome.status(),
                    outcome.exit_code(),
                    self.plan.name
                );
                let alert = Alert {
                    event: AlertEvent::RunFinished,
                    session: String::new(),
                    message,
                };
                if let Some(ended) = self.alert(alert) {
                    // Give it a moment to go out before the process may end; never more.
                    let _ = ended.recv_timeout(RUN_FINISHED_ALERT_WAIT);
                }
                crate::agent::alert::kill_running();
                let duration = self.run_started.elapsed().as_secs_f64();
                self.execute(Effect::Emit(Event::RunFinished {
                    status: outcome.status().to_string(),
                    exit_code: i32::from(outcome.exit_code()),
                    duration_s: (duration * 1000.0).round() / 1000.0,
                }));
            }
        }
    }

    /// Run the plan's `notify` command (if any) for `alert`, on a thread of its own;
    /// its failure comes back as an input. Returns a receiver that hears when it ended.
    fn alert(&self, alert: Alert) -> Option<std::sync::mpsc::Receiver<()>> {
        let command = self.plan.notify.clone()?;
        let (shell, root) = (self.plan.shell.clone(), self.plan.root.clone());
        let tx = self.internal_tx.clone();
        let (ended_tx, ended_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            if let Err(message) = crate::agent::alert::run(&command, &shell, &root, &alert) {
                let _ = tx.send(Internal::NotifyFailed {
                    for_event: alert.event.as_str().to_string(),
                    message,
                });
            }
            let _ = ended_tx.send(());
        });
        Some(ended_rx)
    }

    /// Append a line of the control room's own to a session's log and terminal.
    fn note(&self, session: usize, text: &str) {
        let line = format!("\r\n[flightdeck] {text}\r\n");
        let path = self.recorder.log_path(&self.plan.sessions[session].name);
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = f.write_all(line.as_bytes());
        }
        let _ = self.sink.output(session, line.as_bytes());
    }

    /// Start an attempt's process; the answer for the core.
    fn spawn(&mut self, i: usize, attempt: u32) -> Input {
        let spec = &self.plan.sessions[i];
        let failed = |message: String| Input::SpawnFailed {
            session: i,
            attempt,
            message,
        };
        if let Some(branch) = &spec.worktree
            && let Err(e) = ensure_worktree(&self.plan.root, &spec.name, branch)
        {
            return failed(format!("cannot prepare worktree `{branch}`: {e:#}"));
        }
        let mut env: Vec<(String, String)> = vec![
            ("FLIGHTDECK_RUN_ID".into(), self.recorder.run_id.clone()),
            ("FLIGHTDECK_SESSION".into(), spec.name.clone()),
            (
                "FLIGHTDECK_ROOT".into(),
                self.plan.root.display().to_string(),
            ),
            ("FLIGHTDECK_ATTEMPT".into(), attempt.to_string()),
            ("FLIGHTDECK_EXE".into(), self.exe.clone()),
        ];
        if let Some(socket) = &self.socket {
            env.push(("FLIGHTDECK_SOCKET".into(), socket.display().to_string()));
        }
        env.extend(spec.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        let shell_form = matches!(spec.command, crate::plan::CommandSpec::Shell(_));
        let prepared = crate::agent::profile::prepare(
            spec.agent,
            spec.command.argv(&self.plan.shell),
            shell_form,
            &self.recorder.dir,
            &spec.name,
            std::path::Path::new(&self.exe),
            self.state.sessions[i].agent_session.as_deref(),
        );
        let argv = match prepared {
            Ok(p) => {
                env.extend(p.env);
                p.argv
            }
            Err(e) => return failed(format!("cannot write the agent settings: {e}")),
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
            log: self.recorder.log_path(&spec.name),
            done_output: spec.done_when.as_ref().and_then(|d| d.output.clone()),
            attention: spec.attention.clone(),
            prompts: crate::agent::profile::prompts(spec.agent),
            log_limit: self.plan.log_limit,
        };
        // Before the spawn: the child may write its done_when file at once.
        let started = SystemTime::now();
        match session::spawn(req, self.io_tx.clone(), self.sink.clone()) {
            Ok(handle) => {
                let pid = handle.pid;
                self.keyboards.set(i, Some(handle.keyboard()));
                self.processes[i] = Some(Process {
                    attempt,
                    handle,
                    started,
                });
                Input::Spawned {
                    session: i,
                    attempt,
                    pid,
                }
            }
            Err(e) => failed(format!("cannot start `{}`: {e}", spec.command.display())),
        }
    }

    fn paste_input(&self, i: usize) {
        let Some(path) = &self.plan.sessions[i].input else {
            return;
        };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                if let Some(h) = self.handle(i) {
                    let _ = h.paste(text.trim_end_matches('\n'));
                    let _ = h.write_input(b"\r");
                }
            }
            Err(e) => self.note(i, &format!("cannot read input {}: {e}", path.display())),
        }
    }
}
