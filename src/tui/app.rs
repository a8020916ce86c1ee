//! One client's control room: focus, mode, zoom, views and dialogs, and what keys and
//! mouse do. Keys are looked up in [`keymap`](super::keymap) and performed here (the
//! grid) or in the module of their view (`panels`, `search`, `copy`). Commands for
//! the engine are queued in `commands`, bytes for the client's own terminal (bell,
//! clipboard) in `bell` and `terminal_out`; the driving loop takes them. Everything
//! here is testable without a terminal.

use super::copy::{CopyView, Drag};
use super::keymap::{Action, lookup};
use super::keys::{encode_key, encode_mouse, encode_paste, is_prefix};
use super::layout::{Claim, Layout, LayoutInput, compute};
use super::model::RunView;
use super::panels::PanelsView;
use super::screens::Screens;
use super::search::SearchView;
use crate::engine::{Command, Event, SessionState};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use super::keymap::Mode;

pub struct App {
    pub view: RunView,
    pub screens: Arc<Screens>,
    pub focus: usize,
    /// The view keys go to (overlays aside: `help`, `confirm_quit`).
    pub mode: Mode,
    pub zoom: bool,
    pub help: bool,
    /// Lines the help overlay is scrolled by.
    pub help_scroll: u16,
    pub confirm_quit: bool,
    /// Quit was sent; waiting for `RunFinished`.
    pub quitting: bool,
    /// Leave the event loop.
    pub exit: bool,
    /// The terminal went away (SIGHUP, input closed): stop drawing.
    pub detached: bool,
    /// The user asked to detach (`D`, or `d` in the quit dialog): the run goes on.
    pub detach: bool,
    /// Ring the real terminal's bell at the next draw.
    pub bell: bool,
    /// Bytes for the client's own terminal (the clipboard, OSC 52), written at the
    /// next draw; never written to stdout from here.
    pub terminal_out: Vec<u8>,
    /// A short note on the status line, e.g. what a key did or why it could not.
    pub message: Option<(String, Instant)>,
    /// Commands for the engine, sent by the event loop.
    pub commands: Vec<Command>,
    /// The last layout drawn (for the mouse and arrow keys).
    pub layout: Layout,
    pub panels: PanelsView,
    pub search: Option<SearchView>,
    /// The last search, for `n` / `N` after leaving it.
    pub last_query: String,
    /// The typed part of a name (`g`) and which match is picked.
    pub goto: (String, usize),
    pub copy: Option<CopyView>,
    /// A mouse selection in progress.
    pub drag: Option<Drag>,
    /// Just left input mode with Ctrl-a: a second Ctrl-a sends a literal one.
    after_prefix: bool,
}

/// How long a status-line message stays.
pub const MESSAGE_TTL: Duration = Duration::from_secs(4);

impl App {
    pub fn new(view: RunView, screens: Arc<Screens>) -> App {
        let focus = view.sessions.iter().position(|s| !s.excluded).unwrap_or(0);
        App {
            view,
            screens,
            focus,
            mode: Mode::Normal,
            zoom: false,
            help: false,
            help_scroll: 0,
            confirm_quit: false,
            quitting: false,
            exit: false,
            detached: false,
            detach: false,
            bell: false,
            terminal_out: Vec::new(),
            message: None,
            commands: Vec::new(),
            layout: Layout::default(),
            panels: PanelsView::default(),
            search: None,
            last_query: String::new(),
            goto: (String::new(), 0),
            copy: None,
            drag: None,
            after_prefix: false,
        }
    }

    pub fn say(&mut self, text: impl Into<String>, now: Instant) {
        self.message = Some((text.into(), now));
    }

    /// The mode keys are looked up in, overlays first.
    pub fn active_mode(&self) -> Mode {
        if self.confirm_quit {
            Mode::Quit
        } else if self.help {
            Mode::Help
        } else {
            self.mode
        }
    }

    /// What the layout needs to know (it never sees `App`).
    pub fn layout_input(&self) -> LayoutInput {
        let v = &self.view;
        let claims = (0..v.sessions.len())
            .map(|i| {
                let s = &v.sessions[i];
                if s.excluded {
                    Claim::Excluded
                } else if v.needs_input(i) {
                    Claim::NeedsInput
                } else if matches!(s.state, SessionState::Running | SessionState::Restarting) {
                    Claim::Running
                } else if s.attempt > 0 {
                    Claim::Ran
                } else {
                    Claim::NotStarted
                }
            })
            .collect();
        LayoutInput {
            focus: self.focus,
            zoom: self.zoom,
            columns: v.plan.ui.columns,
            claims,
            panels: matches!(self.mode, Mode::Panels | Mode::Details),
        }
    }

    /// Lay the screen out for `area` and bring every shown pane's emulator (and,
    /// through `Resize`, its PTY) to the size of its pane.
    pub fn prepare(&mut self, area: Rect) {
        self.layout = compute(&self.layout_input(), area);
        for p in &self.layout.panes {
            let (rows, cols) = (p.inner.height.max(1), p.inner.width.max(2));
            if p.session < self.screens.len() {
                let mut pane = self.screens.pane(p.session);
                if pane.size().rows != rows || pane.size().cols != cols {
                    pane.resize(rows, cols);
                    drop(pane);
                    self.commands.push(Command::Resize(p.session, rows, cols));
                }
            }
        }
    }

    pub fn on_event(&mut self, ev: &Event, now: Instant) {
        let fx = self.view.apply(ev, now);
        if fx.bell {
            self.bell = true;
        }
        if let Event::RunFinished { .. } = ev {
            // The verdict is the news now (a later key's answer still shows).
            self.message = None;
            self.confirm_quit = false;
            if self.quitting {
                self.exit = true;
            }
            if self.mode == Mode::Input {
                self.mode = Mode::Normal;
            }
        }
    }

    /// Ask the engine to stop everything; the loop ends at `RunFinished`.
    pub fn quit_now(&mut self) {
        if self.view.finished.is_some() {
            self.exit = true;
        } else if !self.quitting {
            self.quitting = true;
            self.commands.push(Command::Quit);
        }
    }

    fn request_quit(&mut self) {
        if self.view.finished.is_some() {
            self.exit = true;
        } else if self.view.running() > 0 {
            self.confirm_quit = true;
        } else {
            self.quit_now();
        }
    }

    /// Sessions in focus order (plan order, leaving out those not in this run).
    pub fn focusable(&self) -> Vec<usize> {
        (0..self.view.sessions.len())
            .filter(|&i| !self.view.sessions[i].excluded)
            .collect()
    }

    fn cycle(&mut self, forward: bool) {
        let f = self.focusable();
        if f.is_empty() {
            return;
        }
        let pos = f.iter().position(|&i| i == self.focus).unwrap_or(0);
        let next = if forward {
            (pos + 1) % f.len()
        } else {
            (pos + f.len() - 1) % f.len()
        };
        self.focus = f[next];
    }

    /// Move focus to the nearest shown pane in a direction.
    fn move_focus(&mut self, dx: i32, dy: i32, now: Instant) {
        let Some(cur) = self.layout.panes.iter().find(|p| p.session == self.focus) else {
            return;
        };
        let c = center(cur.outer);
        let mut best: Option<(i64, usize)> = None;
        for p in &self.layout.panes {
            if p.session == self.focus {
                continue;
            }
            let o = center(p.outer);
            let (ddx, ddy) = (o.0 - c.0, o.1 - c.1);
            let along = ddx * dx as i64 + ddy * dy as i64;
            if along <= 0 {
                continue;
            }
            let across = (ddx * dy as i64).abs() + (ddy * dx as i64).abs();
            let score = along + 2 * across;
            if best.is_none_or(|b| score < b.0) {
                best = Some((score, p.session));
            }
        }
        match best {
            Some((_, s)) => self.focus = s,
            None => self.say("no pane in that direction (g goes to any session)", now),
        }
    }

    pub fn name(&self, i: usize) -> &str {
        &self.view.plan.sessions[i].name
    }

    pub fn on_paste(&mut self, text: &str) {
        match self.mode {
            Mode::Input => {
                let bracketed = self.screens.pane(self.focus).bracketed_paste();
                self.send_input(encode_paste(text, bracketed));
            }
            Mode::Panels | Mode::SearchInput | Mode::GoTo => {
                let now = Instant::now();
                for c in text.chars().filter(|c| !c.is_control()) {
                    self.type_char(c, now);
                }
            }
            _ => {}
        }
    }

    fn send_input(&mut self, bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        // Typing brings the pane back to live.
        self.screens.pane(self.focus).scroll_to_bottom();
        self.commands.push(Command::Input(self.focus, bytes));
    }

    pub fn on_key(&mut self, key: KeyEvent, now: Instant) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        if self.mode == Mode::Input {
            let app_cursor = self.screens.pane(self.focus).app_cursor();
            match input_mode_key(&key, app_cursor) {
                InputKey::Leave => {
                    self.mode = Mode::Normal;
                    self.after_prefix = true;
                    self.say("input mode left (Ctrl-a again sends Ctrl-a)", now);
                }
                InputKey::Send(bytes) => self.send_input(bytes),
                InputKey::Ignore => {}
            }
            return;
        }
        if std::mem::take(&mut self.after_prefix) && is_prefix(&key) {
            self.mode = Mode::Input;
            self.send_input(vec![0x01]);
            return;
        }
        let mode = self.active_mode();
        match lookup(mode, &key) {
            Some(action) => self.perform(action, &key, now),
            None if mode == Mode::Quit => {}
            None => self.say(
                format!("{} does nothing here (? lists the keys)", key_name(&key)),
                now,
            ),
        }
    }

    /// Do what a key stands for in the active mode.
    fn perform(&mut self, action: Action, key: &KeyEvent, now: Instant) {
        match self.active_mode() {
            Mode::Help => match action {
                Action::Up => self.help_scroll = self.help_scroll.saturating_sub(1),
                Action::Down => self.help_scroll += 1,
                _ => {
                    self.help = false;
                    self.help_scroll = 0;
                }
            },
            Mode::Quit => match action {
                Action::QuitConfirm => {
                    self.confirm_quit = false;
                    self.quit_now();
                }
                Action::QuitDetach => {
                    self.confirm_quit = false;
                    self.detach = true;
                }
                _ => self.confirm_quit = false,
            },
            Mode::Panels | Mode::Details => self.panels_key(action, key, now),
            Mode::SearchInput | Mode::Search => self.search_key(action, key, now),
            Mode::Copy => self.copy_key(action, now),
            Mode::GoTo => self.goto_key(action, key, now),
            Mode::Normal | Mode::Input => self.grid_key(action, key, now),
        }
    }

    /// Typed text in the view that takes it.
    pub fn type_char(&mut self, c: char, now: Instant) {
        let key = KeyEvent::from(KeyCode::Char(c));
        if let Some(a) = lookup(self.active_mode(), &key) {
            self.perform(a, &key, now);
        }
    }

    /// The one line that says what to do once the run has finished.
    pub fn finished_hint(&self) -> String {
        format!(
            "the run has finished: `flightdeck run {} --resume {}` runs what did not succeed",
            self.view.plan.file.display(),
            self.view.run_id
        )
    }

    /// Keys of the grid (normal mode).
    fn grid_key(&mut self, action: Action, key: &KeyEvent, now: Instant) {
        let f = self.focus;
        let finished = self.view.finished.is_some();
        let state = self.view.sessions.get(f).map(|s| s.state);
        let name = self
            .view
            .plan
            .sessions
            .get(f)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        use Action as A;
        match action {
            A::Quit => self.request_quit(),
            A::Detach => self.detach = true,
            A::Help => self.help = true,
            A::NextPane => self.cycle(true),
            A::PreviousPane => self.cycle(false),
            A::FocusLeft => self.move_focus(-1, 0, now),
            A::FocusRight => self.move_focus(1, 0, now),
            A::FocusUp => self.move_focus(0, -1, now),
            A::FocusDown => self.move_focus(0, 1, now),
            A::FocusNumber => {
                let KeyCode::Char(c) = key.code else { return };
                let n = c as usize - '0' as usize;
                match self.view.plan.sessions.iter().position(|s| s.number == n) {
                    Some(i) if !self.view.sessions[i].excluded => self.focus = i,
                    Some(i) => self.say(format!("{} is not part of this run", self.name(i)), now),
                    None => self.say(format!("no session {n}"), now),
                }
            }
            A::GoTo => {
                self.mode = Mode::GoTo;
                self.goto = (String::new(), 0);
            }
            A::NextNeedsInput => self.next_needing_input(now),
            A::EnterInput if finished => {
                self.say("the run has finished: no session takes input", now)
            }
            A::EnterInput if state != Some(SessionState::Running) => self.say(
                format!("{name} is not running: nothing to type to (s starts a pending one)"),
                now,
            ),
            A::EnterInput => self.mode = Mode::Input,
            A::LeaveInput => self.say("not in input mode (Enter enters it)", now),
            A::Zoom => self.zoom = !self.zoom,
            A::Restart | A::Stop | A::Start | A::Skip | A::MarkDone | A::Recheck if finished => {
                let hint = self.finished_hint();
                self.say(hint, now)
            }
            A::Restart if state == Some(SessionState::Pending) => {
                self.say(format!("{name} has not started yet (s starts it now)"), now)
            }
            A::Restart => {
                self.commands.push(Command::Restart(f));
                self.say(format!("restart {name}"), now);
            }
            A::Stop
                if !matches!(
                    state,
                    Some(SessionState::Running | SessionState::Restarting)
                ) =>
            {
                self.say(format!("{name} is not running (r restarts it)"), now)
            }
            A::Stop => {
                self.commands.push(Command::Stop(f));
                self.say(format!("stop {name}"), now);
            }
            A::Start | A::Skip if state != Some(SessionState::Pending) => {
                let hint = if action == A::Start {
                    " (r restarts)"
                } else {
                    ""
                };
                self.say(format!("{name} is not pending{hint}"), now)
            }
            A::Start => {
                self.commands.push(Command::Start(f));
                self.say(format!("start {name}"), now);
            }
            A::Skip => {
                self.commands.push(Command::Skip(f));
                self.say(format!("skip {name}"), now);
            }
            A::MarkDone
                if matches!(state, Some(SessionState::Succeeded | SessionState::Skipped)) =>
            {
                self.say(format!("{name} has already finished"), now)
            }
            A::MarkDone => {
                self.commands.push(Command::MarkDone(f));
                self.say(format!("mark {name} done"), now);
            }
            A::Approve => match self.view.gates_awaiting().first() {
                Some(&g) => {
                    self.commands.push(Command::Approve(g));
                    let gate = self.view.plan.gates[g].name.clone();
                    self.say(format!("approve gate {gate}"), now);
                }
                None => self.say("no gate awaits approval", now),
            },
            A::Recheck => {
                self.commands.push(Command::Recheck);
                self.say("evaluating checks", now);
            }
            A::ScrollBack | A::ScrollForward => {
                let mut pane = self.screens.pane(f);
                if pane.alt_screen() {
                    drop(pane);
                    self.say(
                        format!("{name} runs a full-screen program: it has no scrollback"),
                        now,
                    );
                } else {
                    pane.scroll_page(action == A::ScrollBack);
                }
            }
            A::Live => self.screens.pane(f).scroll_to_bottom(),
            A::Panels => self.open_panels(),
            A::Search => self.start_search(now),
            A::SearchNext | A::SearchPrevious => self.resume_search(action == A::SearchNext, now),
            A::Copy => self.start_copy(now),
            _ => {}
        }
    }

    pub fn on_mouse(&mut self, m: MouseEvent) {
        let pos = Position::new(m.column, m.row);
        if self.drag_mouse(&m) {
            return;
        }
        let hit = self
            .layout
            .panes
            .iter()
            .find(|p| p.outer.contains(pos))
            .map(|p| p.session);
        let Some(s) = hit else { return };
        // A program that asked for the mouse gets it: wheel always, clicks while
        // its pane is focused in input mode.
        let typing_here = self.mode == Mode::Input && s == self.focus;
        let wheel = matches!(
            m.kind,
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown
        );
        if (typing_here || wheel)
            && let Some(p) = self.layout.panes.iter().find(|p| p.session == s)
            && p.inner.contains(pos)
        {
            let mode = self.screens.pane(s).mode();
            let bytes = encode_mouse(
                m.kind,
                m.modifiers,
                m.column - p.inner.x,
                m.row - p.inner.y,
                mode,
            );
            if !bytes.is_empty() {
                self.commands.push(Command::Input(s, bytes));
                return;
            }
        }
        match m.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                self.focus = s;
                self.start_drag(s, pos);
            }
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
                let up = m.kind == MouseEventKind::ScrollUp;
                let mut pane = self.screens.pane(s);
                if pane.alt_screen() {
                    // Full-screen programs have no scrollback: send arrows, as
                    // terminals do (alternate scroll mode).
                    let arrow = match (up, pane.app_cursor()) {
                        (true, true) => b"\x1bOA",
                        (true, false) => b"\x1b[A",
                        (false, true) => b"\x1bOB",
                        (false, false) => b"\x1b[B",
                    };
                    drop(pane);
                    let mut bytes = Vec::new();
                    for _ in 0..3 {
                        bytes.extend_from_slice(arrow);
                    }
                    self.commands.push(Command::Input(s, bytes));
                } else {
                    pane.scroll(if up { 3 } else { -3 });
                }
            }
            _ => {}
        }
    }

    /// When the screen must be redrawn next even if nothing happens (clocks,
    /// messages expiring); `None`: only on events.
    pub fn next_tick(&self, now: Instant) -> Option<Instant> {
        let mut t: Option<Instant> = None;
        let mut take = |x: Instant| t = Some(t.map_or(x, |y: Instant| y.min(x)));
        if self.view.finished.is_none() {
            // Elapsed clocks: at the next whole second of run time.
            let e = self.view.elapsed(now);
            let sub = Duration::from_nanos(1_000_000_000 - e.subsec_nanos() as u64);
            take(now + sub);
        }
        if let Some((_, at)) = &self.message {
            take(*at + MESSAGE_TTL);
        }
        t
    }

    /// Drop an expired message.
    pub fn expire(&mut self, now: Instant) {
        if let Some((_, at)) = &self.message
            && now >= *at + MESSAGE_TTL
        {
            self.message = None;
        }
    }
}

/// What a key does in input mode.
pub enum InputKey {
    /// Nothing (a key release).
    Ignore,
    /// The prefix: input mode ends.
    Leave,
    /// These bytes go to the focused session.
    Send(Vec<u8>),
}

/// In input mode, what a key does: the one rule, for [`App::on_key`] and for the
/// server's connection thread, which passes keys on without waiting for the
/// drawing thread (docs/protocol.md, "The screen stream").
pub fn input_mode_key(key: &KeyEvent, app_cursor: bool) -> InputKey {
    if key.kind == KeyEventKind::Release {
        InputKey::Ignore
    } else if is_prefix(key) {
        InputKey::Leave
    } else {
        InputKey::Send(encode_key(key, app_cursor))
    }
}

/// A key as help writes it, for "does nothing here".
fn key_name(key: &KeyEvent) -> String {
    let base = match key.code {
        KeyCode::Char(' ') => "Space".to_string(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::F(n) => format!("F{n}"),
        other => format!("{other:?}"),
    };
    if key
        .modifiers
        .contains(crossterm::event::KeyModifiers::CONTROL)
    {
        format!("Ctrl-{base}")
    } else {
        base
    }
}

fn center(r: Rect) -> (i64, i64) {
    (
        r.x as i64 * 2 + r.width as i64,
        (r.y as i64 * 2 + r.height as i64) * 2,
    )
}
