//! The control room screen (docs/control-room.md): a grid of live terminal panes, side panels for
//! sessions, checks, gates and files, and the keys that drive the engine.
//!
//! Threads: each session's reader thread parses its output into that session's
//! emulator ([`pane::Screens`] is the engine's `OutputSink`) and wakes the UI; one
//! thread reads the keyboard and mouse; one forwards engine events; one waits for
//! signals. The UI thread applies events, turns keys into commands and redraws only
//! when something changed, at most ~60 times a second.

pub mod app;
pub mod copy;
#[doc(hidden)]
pub mod fixtures;
pub mod goto;
pub mod keymap;
pub mod keys;
pub mod layout;
pub mod model;
pub mod pane;
pub mod panels;
pub mod search;
pub mod shorten;
pub mod side;
pub mod ui;

use crate::engine::{Command, Event, RunHandle, RunOptions};
use crate::plan::Plan;
use crate::session::OutputSink;
use anyhow::Context;
use app::App;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event as TermEvent, MouseEventKind,
};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use model::RunView;
use pane::{DEFAULT_SCROLLBACK, Screens};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use std::io::{Stdout, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// At most this often (≈60 fps).
const FRAME: Duration = Duration::from_millis(16);

/// What wakes the UI thread.
enum Msg {
    Term(TermEvent),
    /// The keyboard is gone (terminal closed).
    InputClosed,
    Engine(Event),
    /// The engine's event stream ended.
    EngineGone,
    /// Pane output arrived.
    Output,
    Signal,
}

/// Puts the terminal back however the control room ends.
struct TerminalGuard;

fn restore_terminal() {
    let mut out = std::io::stdout();
    let _ = crossterm::execute!(
        out,
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

impl TerminalGuard {
    fn enter() -> anyhow::Result<TerminalGuard> {
        enable_raw_mode().context("cannot put the terminal in raw mode")?;
        let guard = TerminalGuard;
        let mut out = std::io::stdout();
        crossterm::execute!(
            out,
            EnterAlternateScreen,
            EnableMouseCapture,
            EnableBracketedPaste,
            crossterm::cursor::Hide
        )
        .context("cannot set up the terminal")?;
        // A panic restores the terminal before its message is printed.
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            previous(info);
        }));
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Run a plan in the control room. Returns the run's exit status.
pub fn run(plan: Arc<Plan>, opts: RunOptions) -> anyhow::Result<i32> {
    let (w, h) = crossterm::terminal::size().context("cannot read the terminal size")?;
    let now = Instant::now();
    let sizes = {
        let view = RunView::new(plan.clone(), String::new(), opts.only.as_deref(), now);
        let probe = App::new(view, Screens::new(&vec![(24, 80); plan.sessions.len()], 0));
        layout::initial_sizes(&probe.layout_input(), Rect::new(0, 0, w, h))
    };
    let screens = Screens::new(&sizes, DEFAULT_SCROLLBACK);
    let mut opts = opts;
    opts.pane_sizes = sizes;
    let only = opts.only.clone();

    let guard = TerminalGuard::enter()?;
    let sink: Arc<dyn OutputSink> = screens.clone();
    let handle = crate::engine::start(plan.clone(), opts, sink)?;
    let view = RunView::new(plan, handle.run_id.clone(), only.as_deref(), now);
    let app = App::new(view, screens);
    let result = drive(app, handle);
    drop(guard);
    result
}

/// The event loop, from a started run to the moment the control room closes.
fn drive(mut app: App, handle: RunHandle) -> anyhow::Result<i32> {
    let RunHandle {
        commands, events, ..
    } = handle;
    let (tx, rx) = crossbeam_channel::unbounded::<Msg>();
    {
        let tx = tx.clone();
        app.screens.set_waker(Box::new(move || {
            let _ = tx.send(Msg::Output);
        }));
    }
    spawn_input(tx.clone());
    spawn_events(events, tx.clone());
    spawn_signals(tx.clone());

    let backend = CrosstermBackend::new(std::io::stdout());
    let mut terminal = Terminal::new(backend).context("cannot draw on the terminal")?;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        event_loop(&mut app, &mut terminal, &rx, &commands)
    }));
    match outcome {
        Ok(r) => r,
        Err(panic) => {
            // Stop every child and let the engine write the record before failing.
            let _ = commands.send(Command::Quit);
            let deadline = Instant::now() + Duration::from_secs(60);
            while let Ok(m) = rx.recv_deadline(deadline) {
                match m {
                    Msg::Engine(ev) => {
                        let end = matches!(ev, Event::RunFinished { .. });
                        app.view.apply(&ev, Instant::now());
                        if end {
                            break;
                        }
                    }
                    Msg::EngineGone => break,
                    _ => {}
                }
            }
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown".into());
            restore_terminal();
            eprintln!("flightdeck: the control room crashed ({what}); every session was stopped");
            let code = app.view.finished.as_ref().map_or(1, |f| f.1);
            Ok(if code == 0 { 1 } else { code })
        }
    }
}

fn event_loop(
    app: &mut App,
    terminal: &mut Terminal<CrosstermBackend<Stdout>>,
    rx: &Receiver<Msg>,
    commands: &tokio::sync::mpsc::UnboundedSender<Command>,
) -> anyhow::Result<i32> {
    let mut signalled = false;
    let mut last_draw: Option<Instant> = None;
    // The next redraw due to a clock (elapsed times, messages expiring).
    let mut tick_at: Option<Instant> = None;
    let mut need_draw = true;
    loop {
        let now = Instant::now();
        // When to wake without a message: the next frame if something is waiting to
        // be drawn, the next clock tick, or the end of a synchronized update.
        let mut wake = tick_at;
        if !app.detached && (need_draw || app.screens.is_dirty()) {
            let frame_at = last_draw.map_or(now, |t| t + FRAME);
            wake = Some(wake.map_or(frame_at, |w| w.min(frame_at)));
        }
        for i in 0..app.screens.len() {
            if let Some(d) = app.screens.pane(i).sync_deadline() {
                wake = Some(wake.map_or(d, |w| w.min(d)));
            }
        }
        let first = match wake {
            Some(t) => match rx.recv_deadline(t) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => anyhow::bail!("event channel closed"),
            },
            None => Some(rx.recv().context("event channel closed")?),
        };
        // Take everything queued before drawing.
        let mut batch: Vec<Msg> = first.into_iter().collect();
        batch.extend(rx.try_iter().take(1024));
        let now = Instant::now();
        for m in batch {
            match m {
                Msg::Term(ev) => {
                    // Mouse capture reports every move; those change nothing on screen.
                    let moved =
                        matches!(&ev, TermEvent::Mouse(m) if m.kind == MouseEventKind::Moved);
                    need_draw |= !moved;
                    match ev {
                        TermEvent::Key(k) => app.on_key(k, now),
                        TermEvent::Paste(p) => app.on_paste(&p),
                        TermEvent::Mouse(m) => app.on_mouse(m),
                        TermEvent::Resize(..) => {
                            let _ = terminal.autoresize();
                        }
                        _ => {}
                    }
                }
                Msg::InputClosed => {
                    app.detached = true;
                    app.quit_now();
                }
                Msg::Engine(ev) => {
                    let finished = matches!(ev, Event::RunFinished { .. });
                    app.on_event(&ev, now);
                    need_draw = true;
                    if finished && (signalled || app.detached) {
                        app.exit = true;
                    }
                }
                Msg::EngineGone => {
                    if app.view.finished.is_none() {
                        // The engine stopped without finishing: nothing more will come.
                        app.exit = true;
                    }
                }
                Msg::Output => {}
                Msg::Signal => {
                    signalled = true;
                    app.quit_now();
                }
            }
        }
        for c in app.commands.drain(..) {
            let _ = commands.send(c);
        }
        if app.exit {
            break;
        }
        let now = Instant::now();
        app.expire(now);
        for i in 0..app.screens.len() {
            need_draw |= app.screens.pane(i).expire_sync(now);
        }
        if tick_at.is_some_and(|t| now >= t) {
            tick_at = None;
            need_draw = true;
        }
        let due = last_draw.is_none_or(|t| now >= t + FRAME);
        if due && !app.detached && (need_draw || app.screens.is_dirty()) {
            app.screens.take_dirty();
            let size = terminal.size().unwrap_or_default();
            app.prepare(Rect::new(0, 0, size.width, size.height));
            for c in app.commands.drain(..) {
                let _ = commands.send(c);
            }
            if std::mem::take(&mut app.bell) {
                let _ = terminal.backend_mut().write_all(b"\x07");
            }
            let out = std::mem::take(&mut app.terminal_out);
            if !out.is_empty() {
                let _ = terminal.backend_mut().write_all(&out);
            }
            if terminal.draw(|f| ui::draw(f, app, now)).is_err() {
                // The terminal is gone (hangup): stop everything, draw nothing more.
                app.detached = true;
                app.quit_now();
                for c in app.commands.drain(..) {
                    let _ = commands.send(c);
                }
            }
            last_draw = Some(now);
            tick_at = app.next_tick(now);
            need_draw = false;
        }
    }
    let code = match &app.view.finished {
        Some((_, code, _)) => *code,
        None => 1,
    };
    Ok(if signalled && code == 0 { 130 } else { code })
}

fn spawn_input(tx: Sender<Msg>) {
    let _ = std::thread::Builder::new()
        .name("tui-input".into())
        .spawn(move || {
            loop {
                match crossterm::event::read() {
                    Ok(ev) => {
                        if tx.send(Msg::Term(ev)).is_err() {
                            break;
                        }
                    }
                    Err(_) => {
                        let _ = tx.send(Msg::InputClosed);
                        break;
                    }
                }
            }
        });
}

fn spawn_events(mut events: tokio::sync::mpsc::UnboundedReceiver<Event>, tx: Sender<Msg>) {
    let _ = std::thread::Builder::new()
        .name("tui-events".into())
        .spawn(move || {
            while let Some(ev) = events.blocking_recv() {
                if tx.send(Msg::Engine(ev)).is_err() {
                    return;
                }
            }
            let _ = tx.send(Msg::EngineGone);
        });
}

/// SIGTERM/SIGHUP/SIGINT: the engine stops the run on its own; the control room
/// must also close, even when the run had already finished.
fn spawn_signals(tx: Sender<Msg>) {
    let _ = std::thread::Builder::new()
        .name("tui-signals".into())
        .spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                use tokio::signal::unix::{SignalKind, signal};
                let (Ok(mut t), Ok(mut h), Ok(mut i)) = (
                    signal(SignalKind::terminate()),
                    signal(SignalKind::hangup()),
                    signal(SignalKind::interrupt()),
                ) else {
                    return;
                };
                loop {
                    tokio::select! {
                        _ = t.recv() => {}
                        _ = h.recv() => {}
                        _ = i.recv() => {}
                    }
                    if tx.send(Msg::Signal).is_err() {
                        return;
                    }
                }
            });
        });
}
