//! The control room's state besides the run itself (focus, mode, zoom, dialogs) and
//! what keys and mouse do. Commands for the engine are queued in `commands`; the
//! event loop sends them. Everything here is testable without a terminal.

use super::keys::{encode_key, encode_mouse, encode_paste, is_prefix};
use super::layout::{Layout, compute};
use super::model::RunView;
use super::pane::Screens;
use crate::engine::{Command, Event, SessionState};
use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::{Position, Rect};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Keys go to the focused session.
    Input,
}

pub struct App {
    pub view: RunView,
    pub screens: Arc<Screens>,
    pub focus: usize,
    pub mode: Mode,
    pub zoom: bool,
    pub help: bool,
    pub confirm_quit: bool,
    /// Quit was sent; waiting for `RunFinished`.
    pub quitting: bool,
    /// Leave the event loop.
    pub exit: bool,
    /// The terminal went away (SIGHUP, input closed): stop drawing.
    pub detached: bool,
    /// Ring the real terminal's bell at the next draw.
    pub bell: bool,
    /// A short note on the status line, e.g. what a key did.
    pub message: Option<(String, Instant)>,
    /// Commands for the engine, sent by the event loop.
    pub commands: Vec<Command>,
    /// The last layout drawn (for the mouse and arrow keys).
    pub layout: Layout,
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
            confirm_quit: false,
            quitting: false,
            exit: false,
            detached: false,
            bell: false,
            message: None,
            commands: Vec::new(),
            layout: Layout::default(),
            after_prefix: false,
        }
    }

    fn say(&mut self, text: impl Into<String>, now: Instant) {
        self.message = Some((text.into(), now));
    }

    /// Lay the screen out for `area` and bring every shown pane's emulator (and,
    /// through `Resize`, its PTY) to the size of its pane.
    pub fn prepare(&mut self, area: Rect) {
        self.layout = compute(self, area);
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
    fn focusable(&self) -> Vec<usize> {
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
    fn move_focus(&mut self, dx: i32, dy: i32) {
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
        if let Some((_, s)) = best {
            self.focus = s;
        }
    }

    fn name(&self, i: usize) -> &str {
        &self.view.plan.sessions[i].name
    }

    pub fn on_paste(&mut self, text: &str) {
        if self.mode == Mode::Input {
            let bracketed = self.screens.pane(self.focus).bracketed_paste();
            self.send_input(encode_paste(text, bracketed));
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
            if is_prefix(&key) {
                self.mode = Mode::Normal;
                self.after_prefix = true;
                self.say("input mode left (Ctrl-a again sends Ctrl-a)", now);
                return;
            }
            let app_cursor = self.screens.pane(self.focus).app_cursor();
            self.send_input(encode_key(&key, app_cursor));
            return;
        }
        if std::mem::take(&mut self.after_prefix) && is_prefix(&key) {
            self.mode = Mode::Input;
            self.send_input(vec![0x01]);
            return;
        }
        if self.confirm_quit {
            match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => {
                    self.confirm_quit = false;
                    self.quit_now();
                }
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                    self.confirm_quit = false
                }
                _ => {}
            }
            return;
        }
        if self.help {
            self.help = false;
            return;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let f = self.focus;
        match key.code {
            KeyCode::Char('c') if ctrl => self.request_quit(),
            KeyCode::Char('q') => self.request_quit(),
            KeyCode::Char('?') => self.help = true,
            KeyCode::Tab => self.cycle(true),
            KeyCode::BackTab => self.cycle(false),
            KeyCode::Left => self.move_focus(-1, 0),
            KeyCode::Right => self.move_focus(1, 0),
            KeyCode::Up => self.move_focus(0, -1),
            KeyCode::Down => self.move_focus(0, 1),
            KeyCode::Char(c @ '1'..='9') => {
                let n = c as usize - '0' as usize;
                match self.view.plan.sessions.iter().position(|s| s.number == n) {
                    Some(i) if !self.view.sessions[i].excluded => self.focus = i,
                    _ => self.say(format!("no session {n}"), now),
                }
            }
            KeyCode::Enter => {
                if self.view.finished.is_some() {
                    self.say("the run has finished", now);
                } else {
                    self.mode = Mode::Input;
                }
            }
            KeyCode::Char('z') => self.zoom = !self.zoom,
            KeyCode::Char('r') => {
                self.commands.push(Command::Restart(f));
                self.say(format!("restart {}", self.name(f)), now);
            }
            KeyCode::Char('x') => {
                self.commands.push(Command::Stop(f));
                self.say(format!("stop {}", self.name(f)), now);
            }
            KeyCode::Char('s') => {
                if self.view.sessions[f].state == SessionState::Pending {
                    self.commands.push(Command::Start(f));
                    self.say(format!("start {}", self.name(f)), now);
                } else {
                    self.say(format!("{} is not pending (r restarts)", self.name(f)), now);
                }
            }
            KeyCode::Char('S') => {
                if self.view.sessions[f].state == SessionState::Pending {
                    self.commands.push(Command::Skip(f));
                    self.say(format!("skip {}", self.name(f)), now);
                } else {
                    self.say(format!("{} is not pending", self.name(f)), now);
                }
            }
            KeyCode::Char('d') => {
                self.commands.push(Command::MarkDone(f));
                self.say(format!("mark {} done", self.name(f)), now);
            }
            KeyCode::Char('a') => match self.view.gates_awaiting().first() {
                Some(&g) => {
                    self.commands.push(Command::Approve(g));
                    let name = self.view.plan.gates[g].name.clone();
                    self.say(format!("approve gate {name}"), now);
                }
                None => self.say("no gate awaits approval", now),
            },
            KeyCode::Char('c') => {
                self.commands.push(Command::Recheck);
                self.say("evaluating checks", now);
            }
            KeyCode::PageUp => self.screens.pane(f).scroll_page(true),
            KeyCode::PageDown => self.screens.pane(f).scroll_page(false),
            KeyCode::Esc => self.screens.pane(f).scroll_to_bottom(),
            _ => {}
        }
    }

    pub fn on_mouse(&mut self, m: MouseEvent) {
        let pos = Position::new(m.column, m.row);
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
            MouseEventKind::Down(MouseButton::Left) => self.focus = s,
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

fn center(r: Rect) -> (i64, i64) {
    (
        r.x as i64 * 2 + r.width as i64,
        (r.y as i64 * 2 + r.height as i64) * 2,
    )
}
