//! The run's server (docs/protocol.md): it owns the engine, the sessions' terminal
//! emulators and the record, and listens on a Unix socket. The control room, `ls`,
//! `ctl`, `events`, `logs` and `notify` are its clients.
//!
//! - [`dir`]: where sockets live and who may use them;
//! - [`hub`]: the event history and its fan-out, bounded per listener;
//! - [`conn`]: one connection: requests in, replies out;
//! - [`room`]: the control room drawn for one attached client;
//! - [`guardian`]: the process above the server that kills what it leaves behind.
//!
//! Threads: this one pumps engine events into the hub (and to the headless printer);
//! one accepts connections; each connection has a reader and a writer thread.

pub mod conn;
pub mod dir;
pub mod guardian;
pub mod hub;
pub mod launch;
pub mod room;

use crate::engine::{self, Command, Event, RunHandle, RunOptions};
use crate::headless::{self, HeadlessSink};
use crate::plan::Plan;
use crate::session::OutputSink;
use crate::tui::pane::DEFAULT_SCROLLBACK;
use crate::tui::screens::Screens;
use anyhow::{Context, Result};
use crossbeam_channel::Sender;
use hub::Hub;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long a server started for a terminal waits for that terminal's client.
const FIRST_CLIENT_WAIT: Duration = Duration::from_secs(30);

/// How long a finished server waits for `events --follow` streams to be written.
const STREAM_FLUSH_WAIT: Duration = Duration::from_secs(2);

/// Who watches the run from the server's own process.
pub enum Frontend {
    /// Print to stdout as `--no-tui` always has (the server runs in the foreground).
    Headless { color: bool },
    /// Nobody here: clients attach over the socket. `expect_client`: the terminal
    /// that started the run attaches at once (keep the server for it even when the
    /// run ends first).
    Background { expect_client: bool },
}

/// What an attached client's thread is woken for besides its own input.
#[derive(Default)]
pub struct Clients {
    /// Each attached client's wake-up for new pane output (a one-slot queue: wakes
    /// coalesce).
    wakers: Vec<(u64, Sender<()>)>,
    /// The terminal that started the run has not attached yet.
    expected: bool,
}

/// What every connection may see and use.
pub struct Shared {
    pub plan: Arc<Plan>,
    pub run_id: String,
    pub run_dir: PathBuf,
    pub started: String,
    pub only: Option<Vec<String>>,
    pub commands: tokio::sync::mpsc::UnboundedSender<Command>,
    /// The running sessions' keyboards: a key in input mode goes straight in.
    pub keyboards: Arc<engine::Keyboards>,
    pub hub: Hub,
    pub screens: Arc<Screens>,
    pub clients: Mutex<Clients>,
    clients_changed: Condvar,
    next_client: AtomicU64,
    /// The client whose size the sessions' terminals follow (it resized or typed last).
    pub sizer: AtomicU64,
    /// `events --follow` streams still writing: the server waits for them (a little)
    /// before it exits, so that each ends with `run_finished`.
    pub streams: AtomicU64,
}

impl Shared {
    pub fn client_count(&self) -> usize {
        self.clients.lock().map(|c| c.wakers.len()).unwrap_or(0)
    }

    pub fn finished(&self) -> Option<i32> {
        self.hub.history().iter().rev().find_map(|r| match r.event {
            Event::RunFinished { exit_code, .. } => Some(exit_code),
            _ => None,
        })
    }

    /// A client attached (its terminal `cols` x `rows`); it is woken through `wake`
    /// when pane output arrives. The record gets `client_attached`.
    pub fn add_client(&self, wake: Sender<()>, cols: u16, rows: u16) -> u64 {
        let id = self.next_client.fetch_add(1, Ordering::Relaxed) + 1;
        let _ = self.commands.send(Command::Record(Event::ClientAttached {
            client: id,
            cols,
            rows,
        }));
        let mut c = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        c.wakers.push((id, wake));
        c.expected = false;
        self.sizer.store(id, Ordering::Relaxed);
        self.clients_changed.notify_all();
        id
    }

    pub fn remove_client(&self, id: u64) {
        let _ = self
            .commands
            .send(Command::Record(Event::ClientDetached { client: id }));
        let mut c = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        c.wakers.retain(|(i, _)| *i != id);
        if let Some((last, _)) = c.wakers.last()
            && self.sizer.load(Ordering::Relaxed) == id
        {
            self.sizer.store(*last, Ordering::Relaxed);
        }
        self.clients_changed.notify_all();
    }

    fn wake_clients(&self) {
        if let Ok(c) = self.clients.lock() {
            for (_, w) in &c.wakers {
                let _ = w.try_send(());
            }
        }
    }

    /// Block until no client is attached (nor expected, up to a limit).
    fn wait_for_no_clients(&self) {
        let deadline = Instant::now() + FIRST_CLIENT_WAIT;
        let mut c = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        while !c.wakers.is_empty() || (c.expected && Instant::now() < deadline) {
            c = self
                .clients_changed
                .wait_timeout(c, Duration::from_millis(500))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// Session output goes to the pane emulators (for clients that attach) and, headless,
/// to the printer too, whose answers to terminal queries are the ones given.
struct Tee {
    screens: Arc<Screens>,
    headless: Option<Arc<HeadlessSink>>,
}

impl OutputSink for Tee {
    fn started(&self, session: usize, attempt: u32) {
        self.screens.started(session, attempt);
        if let Some(h) = &self.headless {
            h.started(session, attempt);
        }
    }

    fn output(&self, session: usize, bytes: &[u8]) -> Vec<u8> {
        let answers = self.screens.output(session, bytes);
        match &self.headless {
            Some(h) => h.output(session, bytes),
            None => answers,
        }
    }

    fn output_burst(&self, session: usize, bytes: &[u8]) -> Vec<u8> {
        let answers = self.screens.output_burst(session, bytes);
        match &self.headless {
            Some(h) => h.output(session, bytes),
            None => answers,
        }
    }
}

/// Run a plan as its server until the run has finished and no client is attached.
/// `ready` is called once the socket accepts connections (with the run id, the
/// socket's path and the run's record directory). Returns the run's exit status. Errors are the plan's or the
/// machine's, before anything started (exit 2).
pub fn serve(
    plan: Arc<Plan>,
    mut opts: RunOptions,
    frontend: Frontend,
    ready: impl FnOnce(&str, &std::path::Path, &std::path::Path),
) -> Result<i32> {
    let socket_dir = dir::socket_dir();
    dir::secure_dir(&socket_dir, true)?;
    opts.socket_dir = Some(socket_dir.clone());
    let mut sizes = opts.pane_sizes.clone();
    sizes.resize(plan.sessions.len(), (24, 80));
    let screens = Screens::new(&sizes, DEFAULT_SCROLLBACK);
    let headless = match frontend {
        Frontend::Headless { color } => {
            opts.headless = true;
            let names = plan.sessions.iter().map(|s| s.name.clone()).collect();
            Some((Arc::new(HeadlessSink::new(names, color)), color))
        }
        Frontend::Background { .. } => None,
    };
    let sink = Arc::new(Tee {
        screens: screens.clone(),
        headless: headless.as_ref().map(|(h, _)| h.clone()),
    });
    let only = opts.only.clone();
    let handle = engine::start(plan.clone(), opts, sink)?;
    let RunHandle {
        run_id,
        run_dir,
        plan,
        commands,
        mut events,
        keyboards,
    } = handle;

    let shared = Arc::new(Shared {
        plan: plan.clone(),
        run_id: run_id.clone(),
        run_dir: run_dir.clone(),
        started: chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        only,
        commands: commands.clone(),
        keyboards: keyboards.clone(),
        hub: Hub::default(),
        screens: screens.clone(),
        clients: Mutex::new(Clients {
            wakers: Vec::new(),
            expected: matches!(
                frontend,
                Frontend::Background {
                    expect_client: true
                }
            ),
        }),
        clients_changed: Condvar::new(),
        next_client: AtomicU64::new(0),
        sizer: AtomicU64::new(0),
        streams: AtomicU64::new(0),
    });
    {
        let weak = Arc::downgrade(&shared);
        screens.set_waker(Box::new(move || {
            if let Some(s) = weak.upgrade() {
                s.wake_clients();
            }
        }));
    }

    let socket = dir::socket_path(&socket_dir, &run_id);
    let listening = match listen(&shared, &socket_dir) {
        Ok(lock) => Some(lock),
        Err(e) if headless.is_none() => {
            // Nobody could ever reach this run: end it at once.
            let _ = commands.send(Command::Quit);
            while events.blocking_recv().is_some() {}
            return Err(e.context("the run cannot be attached"));
        }
        Err(e) => {
            eprintln!("flightdeck: the run cannot be attached: {e:#}");
            None
        }
    };
    ready(&run_id, &socket, &run_dir);

    // The headless printer reads its own copy of the events.
    let printer = headless.map(|(sink, color)| {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let handle = RunHandle {
            run_id: run_id.clone(),
            run_dir: run_dir.clone(),
            plan: plan.clone(),
            commands: commands.clone(),
            events: rx,
            keyboards: keyboards.clone(),
        };
        let thread = std::thread::spawn(move || headless::run(handle, &sink, color));
        (tx, thread)
    });
    let mut exit = None;
    while let Some(event) = events.blocking_recv() {
        if let Event::RunFinished { exit_code, .. } = event.event {
            exit = Some(exit_code);
        }
        if let Some((tx, _)) = &printer {
            let _ = tx.send(event.clone());
        }
        shared.hub.publish(event);
        shared.wake_clients();
    }
    if let Some((tx, thread)) = printer {
        drop(tx);
        exit = thread
            .join()
            .ok()
            .map(|o| i32::from(o.exit_code()))
            .or(exit);
    }
    shared.wait_for_no_clients();
    let deadline = Instant::now() + STREAM_FLUSH_WAIT;
    while shared.streams.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    if listening.is_some() {
        let _ = std::fs::remove_file(&socket);
        let _ = std::fs::remove_file(dir::lock_path(&socket_dir, &run_id));
    }
    Ok(exit.unwrap_or(1))
}

/// Claim the run's socket and accept connections on a thread of their own. The
/// returned lock must live as long as the server.
fn listen(shared: &Arc<Shared>, socket_dir: &std::path::Path) -> Result<std::fs::File> {
    let lock = dir::claim(socket_dir, &shared.run_id)?;
    let path = dir::socket_path(socket_dir, &shared.run_id);
    // We hold the lock: whatever is at the path belongs to a server that died.
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)
        .with_context(|| format!("cannot listen on {}", path.display()))?;
    let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    let shared = shared.clone();
    std::thread::Builder::new()
        .name("server-accept".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let shared = shared.clone();
                let _ = std::thread::Builder::new()
                    .name("server-conn".into())
                    .spawn(move || conn::handle(shared, stream));
            }
        })?;
    Ok(lock)
}
