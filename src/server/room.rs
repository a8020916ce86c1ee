//! The control room for one attached client (docs/protocol.md, "The screen stream").
//!
//! Like tmux, the server draws: each client has its own [`App`] (focus, zoom, mode)
//! fed the run's event history and then live events, and a [`Canvas`] holding what
//! that client's terminal shows, at that client's size, so only what changed is drawn
//! and sent. The pane emulators are shared; the sessions' terminals take
//! the size of the client that most recently resized or typed.

use super::Shared;
use super::conn::{Line, MAX_LINE, read_line};
use super::hub::Outbox;
use crate::engine::{Command, Event};
use crate::tui::app::{App, InputKey, Mode, input_mode_key};
use crate::tui::canvas::Canvas;
use crate::tui::keys::encode_paste;
use crate::tui::model::RunView;
use crate::tui::regions::Regions;
use crate::tui::{layout, pane_cache, ui};
use chrono::{DateTime, Utc};
use crossbeam_channel::{Receiver, select};
use crossterm::event::{Event as TermEvent, MouseEventKind};

use serde_json::{Value, json};
use std::io::BufReader;
use std::os::unix::net::UnixStream;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// At most this often (≈60 fps).
const FRAME: Duration = Duration::from_millis(16);

/// After a key is passed to the focused session, frames wait this long at most for
/// its answer (the echo), which is then drawn at once: no frame of the key alone or
/// of other panes is in flight ahead of it.
const ECHO_WAIT: Duration = Duration::from_millis(50);

/// A second on the clocks is drawn this late at most: news of other panes from around
/// the second then shares its frame (one frame a second where the clocks and sessions
/// printing once a second would make two). Any frame drawn meanwhile shows them.
const CLOCK_SLACK: Duration = Duration::from_millis(250);

/// A client that does not acknowledge frames, with this much still to read, gets no
/// new frame until it catches up (drawing what it cannot take only costs the run
/// CPU); the next frame has it all.
const BACKLOG: usize = 256 << 10;

/// A client that has taken nothing for this long while bytes wait is dropped.
const STALL_LIMIT: Duration = Duration::from_secs(10);

/// What the client sent.
enum Input {
    Term(TermEvent),
    /// A key or paste the connection thread passed straight to this session.
    Typed(usize),
    /// The client has written a frame to its terminal.
    Ack,
    /// The client's terminal hung up, or it asked to detach.
    Detach,
    /// The client was told to end (SIGTERM): stop the run, leave when it has finished.
    Quit,
    /// The connection ended.
    Gone,
}

/// How a client's control room ended.
enum Leave {
    Detached,
    /// The user left a finished run (or ended it): its exit status.
    Finished(i32),
    /// The connection is gone (or was dropped for falling behind).
    Gone,
}

/// Serve an attached client until it detaches, leaves or goes away.
pub fn serve(
    shared: &Arc<Shared>,
    outbox: &Arc<Outbox>,
    reader: BufReader<UnixStream>,
    cols: u16,
    rows: u16,
    acks: bool,
) {
    if !outbox.send_json(&json!({ "ok": true, "id": shared.run_id })) {
        return;
    }
    let (wake_tx, wake_rx) = crossbeam_channel::bounded(1);
    let me = shared.add_client(wake_tx, cols, rows);
    let (input_tx, input_rx) = crossbeam_channel::unbounded();
    let typist = Arc::new(Typist {
        shared: shared.clone(),
        typing: Mutex::new(None),
    });
    {
        let outbox = outbox.clone();
        let typist = typist.clone();
        let _ = std::thread::Builder::new()
            .name("server-client-input".into())
            .spawn(move || read_input(reader, &outbox, &typist, &input_tx));
    }
    let (past, live) = shared.hub.subscribe();
    // Past events happened before this client came: replayed at their own time, so
    // the run's and sessions' clocks go on from when they started, not from attach.
    let now = Instant::now();
    let at = |ts: DateTime<Utc>| {
        let ago = (Utc::now() - ts).to_std().unwrap_or_default();
        now.checked_sub(ago).unwrap_or(now)
    };
    let view = RunView::new(
        shared.plan.clone(),
        shared.run_id.clone(),
        shared.only.as_deref(),
        past.first().map_or(now, |r| at(r.ts)),
    );
    let mut app = App::new(view, shared.screens.clone());
    for r in &past {
        app.on_event(&r.event, at(r.ts));
    }
    // The history is news to this client's screen, not to its bell.
    app.bell = false;
    let mut client = Client {
        shared,
        outbox,
        me,
        app: &mut app,
        canvas: Canvas::new(cols, rows),
        regions: Regions::default(),
        cache: pane_cache::PaneCache::default(),
        acks,
        typist: &typist,
        typing: None,
        in_flight: false,
        sized: None,
        echo_until: None,
    };
    let leave = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        client.run(&input_rx, &live, &wake_rx)
    }))
    .unwrap_or(Leave::Gone);
    let exit = match leave {
        Leave::Detached => Some(json!({ "code": Value::Null, "line": leave_line(shared, None) })),
        Leave::Finished(code) => {
            Some(json!({ "code": code, "line": leave_line(shared, Some(code)) }))
        }
        Leave::Gone => None,
    };
    if let Some(exit) = exit {
        outbox.send_json(&json!({ "exit": exit }));
    }
    // The last client of a finished run ends the server: say goodbye first.
    outbox.finish_and_wait(Duration::from_secs(2));
    shared.remove_client(me);
}

/// What the client prints after restoring its terminal.
fn leave_line(shared: &Shared, code: Option<i32>) -> String {
    let id = &shared.run_id;
    let record = shared.run_dir.display();
    match code {
        None => format!(
            "flightdeck: detached; run {id} goes on (record {record}); attach again with \
             `flightdeck attach {id}`"
        ),
        Some(code) => {
            let status = shared
                .hub
                .history()
                .iter()
                .rev()
                .find_map(|r| match &r.event {
                    Event::RunFinished { status, .. } => Some(status.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| "ended".into());
            format!(
                "flightdeck: run {id} {status} (exit {code}); report {}; resume with \
                 `flightdeck run {} --resume {id}`",
                shared.run_dir.join("report.md").display(),
                shared.plan.file.display()
            )
        }
    }
}

/// Passes a client's keys (and pastes) in input mode straight to the session, on the
/// connection's own thread: they skip the drawing thread and the engine. The drawing
/// thread says which session the client types into; the prefix key ends that here
/// at once, and goes on to the app, which leaves input mode.
struct Typist {
    shared: Arc<Shared>,
    typing: Mutex<Option<usize>>,
}

impl Typist {
    fn set(&self, session: Option<usize>) {
        *self.typing.lock().unwrap_or_else(|e| e.into_inner()) = session;
    }

    /// Type `ev` into the session, if the client types into one: which one.
    fn pass(&self, ev: &TermEvent) -> Option<usize> {
        let mut typing = self.typing.lock().unwrap_or_else(|e| e.into_inner());
        let session = (*typing)?;
        let keyboard = self.shared.keyboards.get(session)?;
        let bytes = {
            let mut pane = self.shared.screens.pane(session);
            let bytes = match ev {
                TermEvent::Key(key) => match input_mode_key(key, pane.app_cursor()) {
                    InputKey::Send(bytes) => bytes,
                    InputKey::Leave => {
                        *typing = None;
                        return None;
                    }
                    InputKey::Ignore => return None,
                },
                TermEvent::Paste(text) => encode_paste(text, pane.bracketed_paste()),
                _ => return None,
            };
            if bytes.is_empty() {
                return None;
            }
            pane.scroll_to_bottom();
            bytes
        };
        keyboard.write(&bytes).ok()?;
        let _ = self.shared.commands.send(Command::Typed(session));
        Some(session)
    }
}

/// Read the client's messages: terminal events, detach, or the end.
fn read_input(
    mut reader: BufReader<UnixStream>,
    outbox: &Outbox,
    typist: &Typist,
    tx: &crossbeam_channel::Sender<Input>,
) {
    while let Line::Text(line) = read_line(&mut reader, MAX_LINE) {
        let msg = match serde_json::from_slice::<Value>(&line) {
            Ok(v) => v,
            Err(e) => {
                outbox.send_json(&json!({ "error": format!("not JSON: {e}") }));
                continue;
            }
        };
        let input = if msg.get("ack").and_then(Value::as_bool) == Some(true) {
            Input::Ack
        } else if msg.get("detach").and_then(Value::as_bool) == Some(true) {
            Input::Detach
        } else if msg.get("quit").and_then(Value::as_bool) == Some(true) {
            Input::Quit
        } else if let Some(ev) = msg.get("term") {
            match serde_json::from_value::<TermEvent>(ev.clone()) {
                Ok(ev) => match typist.pass(&ev) {
                    Some(session) => Input::Typed(session),
                    None => Input::Term(ev),
                },
                Err(e) => {
                    outbox.send_json(&json!({ "error": format!("not a terminal event: {e}") }));
                    continue;
                }
            }
        } else {
            outbox.send_json(&json!({ "error": "expected {\"term\": EVENT}, {\"detach\": true} or {\"quit\": true}" }));
            continue;
        };
        if tx.send(input).is_err() {
            return;
        }
    }
    let _ = tx.send(Input::Gone);
}

struct Client<'a> {
    shared: &'a Arc<Shared>,
    outbox: &'a Arc<Outbox>,
    me: u64,
    app: &'a mut App,
    /// What the client's terminal shows.
    canvas: Canvas,
    /// What each region of it shows.
    regions: Regions,
    /// The panes as this client last saw them.
    cache: pane_cache::PaneCache,
    /// The client acknowledges each frame once written to its terminal: a new one is
    /// drawn only then, so frames never queue up behind a slow terminal (a key's
    /// answer waits for one frame at most) and a flood is drawn as fast as the
    /// terminal takes it.
    acks: bool,
    typist: &'a Typist,
    /// The session the typist was last told this client types into.
    typing: Option<usize>,
    /// A frame was sent and not yet acknowledged.
    in_flight: bool,
    /// The layout the sessions' terminals were last sized to by this client.
    sized: Option<layout::Layout>,
    /// A key went to the focused session: its echo is awaited until then.
    echo_until: Option<Instant>,
}

/// What the loop does after a message from the client.
enum Next {
    Go,
    Leave(Leave),
}

impl Client<'_> {
    fn run(
        &mut self,
        input: &Receiver<Input>,
        live: &Receiver<Arc<super::hub::Record>>,
        wake: &Receiver<()>,
    ) -> Leave {
        let mut last_draw: Option<Instant> = None;
        let mut tick_at: Option<Instant> = None;
        // Unfocused panes changed: draw them by then.
        let mut background_at: Option<Instant> = None;
        let mut need_draw = true;
        loop {
            let now = Instant::now();
            let mut wake_at = tick_at;
            let mut take = |t: Instant| wake_at = Some(wake_at.map_or(t, |w| w.min(t)));
            if let Some(t) = self.echo_until {
                take(t);
            } else if self.can_draw() {
                if need_draw {
                    take(last_draw.map_or(now, |t| t + FRAME));
                }
                if let Some(t) = background_at.or(self.cache.due()) {
                    take(t);
                }
            }
            // A pane being fed right now is not waited for (its reader ends any
            // synchronized update it is in).
            for i in 0..self.app.screens.len() {
                if let Some(d) = self.app.screens.try_pane(i).and_then(|p| p.sync_deadline()) {
                    take(d);
                }
            }
            let timeout = wake_at.map_or(Duration::from_secs(3600), |t| {
                t.saturating_duration_since(now)
            });
            let mut typed = false;
            // The echo of a key passed to a session arrived.
            let mut echo = false;
            select! {
                recv(input) -> m => {
                    let m = m.ok();
                    typed |= matches!(m, Some(Input::Term(_)));
                    if let Next::Leave(l) = self.on_input(m, &mut need_draw) {
                        return l;
                    }
                },
                recv(live) -> r => match r {
                    Ok(r) => {
                        self.app.on_event(&r.event, Instant::now());
                        need_draw = true;
                    }
                    // Fell too far behind the run's events: dropped.
                    Err(_) => return Leave::Gone,
                },
                recv(wake) -> _ => echo = self.on_output(&mut need_draw, &mut background_at),
                default(timeout) => {}
            }
            // Keys before output: whatever else the client sent is handled before drawing.
            while let Ok(m) = input.try_recv() {
                typed |= matches!(m, Input::Term(_));
                if let Next::Leave(l) = self.on_input(Some(m), &mut need_draw) {
                    return l;
                }
            }
            let passed_on = self.app.mode == Mode::Input
                && self
                    .app
                    .commands
                    .iter()
                    .any(|c| matches!(c, Command::Input(s, _) if *s == self.app.focus));
            if typed && passed_on {
                // The session answers: its echo is what to draw, at once.
                self.echo_until = Some(Instant::now() + ECHO_WAIT);
                typed = false;
            }
            self.send_commands();
            // Input mode began, ended or moved: the typist follows (its own
            // `Leave` holds until the app has seen that key).
            let typing = (self.app.mode == Mode::Input).then_some(self.app.focus);
            if typing != self.typing {
                self.typing = typing;
                self.typist.set(typing);
            }
            if self.app.exit {
                return match self.app.view.finished.as_ref() {
                    Some((_, code, _)) => Leave::Finished(*code),
                    None => Leave::Finished(1),
                };
            }
            let now = Instant::now();
            self.app.expire(now);
            for i in 0..self.app.screens.len() {
                if let Some(mut pane) = self.app.screens.try_pane(i)
                    && pane.expire_sync(now)
                {
                    need_draw = true;
                    self.cache.clear();
                }
            }
            if tick_at.is_some_and(|t| now >= t) {
                tick_at = None;
                need_draw = true;
            }
            if background_at.or(self.cache.due()).is_some_and(|t| now >= t) {
                need_draw = true;
            }
            if self.outbox.stalled_for() > STALL_LIMIT {
                self.outbox.drop_connection();
                return Leave::Gone;
            }
            if self.echo_until.is_some_and(|t| now >= t) {
                self.echo_until = None;
            }
            // What the user did is answered at once (a key passed to a session: by its
            // echo); the rest at the frame rate.
            let due = typed
                || echo
                || (self.echo_until.is_none() && last_draw.is_none_or(|t| now >= t + FRAME));
            if need_draw && !self.can_draw() {
                if !self.acks {
                    // Look again once it may have caught up (an ack wakes the others).
                    tick_at = Some(now + FRAME * 4);
                }
            } else if due && need_draw {
                if !self.draw(now, echo) {
                    return Leave::Gone;
                }
                last_draw = Some(now);
                tick_at = self.app.next_tick(now).map(|t| t + CLOCK_SLACK);
                background_at = None;
                need_draw = false;
            }
        }
    }

    /// The app's commands to the engine; what it types goes through the session's
    /// keyboard, as the typist's keys do, so the two never pass each other.
    fn send_commands(&mut self) {
        for c in self.app.commands.drain(..) {
            let command = match c {
                Command::Input(session, bytes) => match self.shared.keyboards.get(session) {
                    Some(keyboard) if keyboard.write(&bytes).is_ok() => Command::Typed(session),
                    _ => Command::Input(session, bytes),
                },
                other => other,
            };
            let _ = self.shared.commands.send(command);
        }
    }

    /// May a frame be sent now (the client has taken the last one)?
    fn can_draw(&self) -> bool {
        if self.acks {
            !self.in_flight
        } else {
            self.outbox.pending() <= BACKLOG
        }
    }

    /// A message from the client (None: the connection ended).
    fn on_input(&mut self, m: Option<Input>, need_draw: &mut bool) -> Next {
        match m {
            Some(Input::Term(ev)) => {
                if let Some(leave) = self.on_term(ev, need_draw) {
                    return Next::Leave(leave);
                }
            }
            Some(Input::Typed(session)) => {
                self.take_size();
                // Typing brings the pane back to live: drawn with the echo.
                *need_draw = true;
                if session == self.app.focus {
                    self.echo_until = Some(Instant::now() + ECHO_WAIT);
                }
            }
            Some(Input::Ack) => self.in_flight = false,
            Some(Input::Detach) => return Next::Leave(Leave::Detached),
            Some(Input::Quit) => self.app.quit_now(),
            Some(Input::Gone) | None => return Next::Leave(Leave::Gone),
        }
        Next::Go
    }

    /// Pane output arrived: the focused pane's is drawn at the frame rate, the other
    /// shown panes' a little later (coalesced), hidden panes' not at all. True when
    /// it is the echo of a key, to be drawn at once.
    fn on_output(&mut self, need_draw: &mut bool, background_at: &mut Option<Instant>) -> bool {
        self.app.screens.take_dirty();
        match self.cache.changed(self.app) {
            pane_cache::Changed::Focused => {
                *need_draw = true;
                return self.echo_until.take().is_some();
            }
            pane_cache::Changed::Background => {
                background_at.get_or_insert_with(|| Instant::now() + pane_cache::BACKGROUND_FRAME);
            }
            pane_cache::Changed::Nothing => {}
        }
        false
    }

    /// A key, mouse, paste or resize from the client. Returns how to leave, if so.
    fn on_term(&mut self, ev: TermEvent, need_draw: &mut bool) -> Option<Leave> {
        let now = Instant::now();
        let moved = matches!(&ev, TermEvent::Mouse(m) if m.kind == MouseEventKind::Moved);
        *need_draw |= !moved;
        match ev {
            TermEvent::Key(k) => {
                self.take_size();
                self.app.on_key(k, now);
                // `D`, or `d` in the quit dialog.
                if std::mem::take(&mut self.app.detach) {
                    return Some(Leave::Detached);
                }
            }
            TermEvent::Paste(p) => {
                self.take_size();
                self.app.on_paste(&p);
            }
            TermEvent::Mouse(m) => self.app.on_mouse(m),
            TermEvent::Resize(cols, rows) => {
                self.take_size();
                self.canvas.resize(cols, rows);
            }
            _ => {}
        }
        None
    }

    /// This client typed or resized: the sessions' terminals follow its layout.
    fn take_size(&self) {
        self.shared.sizer.store(self.me, Ordering::Relaxed);
    }

    /// Draw a frame and queue the bytes for the client; false when it is gone. An
    /// `echo` frame leaves other panes' news to the next frame, so it is small.
    fn draw(&mut self, now: Instant, echo: bool) -> bool {
        self.app.screens.take_dirty();
        let area = self.canvas.area();
        let layout = layout::compute(&self.app.layout_input(), area);
        if self.shared.sizer.load(Ordering::Relaxed) != self.me {
            self.sized = None;
            self.app.layout = layout;
        } else if self.sized.as_ref() != Some(&layout) {
            // The sessions' terminals follow this client's layout; sized again only
            // when it changes (sizing locks every pane, which readers hold while
            // they parse).
            self.app.prepare(area);
            self.send_commands();
            self.sized = Some(self.app.layout.clone());
        } else {
            self.app.layout = layout;
        }
        let mut bytes = Vec::new();
        if std::mem::take(&mut self.app.bell) {
            bytes.push(0x07);
        }
        // The clipboard (OSC 52) goes to this client's terminal, nowhere else.
        bytes.append(&mut self.app.terminal_out);
        let app = &*self.app;
        let cache = &self.cache;
        let regions = &mut self.regions;
        cache.hold_background(echo);
        bytes.extend(
            self.canvas
                .draw(|buf, whole| ui::draw_changed(buf, app, now, cache, regions, whole)),
        );
        if bytes.is_empty() {
            return true;
        }
        self.in_flight = self.acks;
        self.outbox
            .send_json(&json!({ "out": String::from_utf8_lossy(&bytes) }))
    }
}
