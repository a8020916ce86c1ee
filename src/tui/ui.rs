//! Drawing: panes (live, or the search and copy views of one), the strip of sessions
//! without a pane, the status line, help and the quit dialog. Side panels are in
//! `side`, the panels full screen in `panels`.

use super::app::{App, Mode};
use super::keymap::{HELP_MODES, help_rows};
use super::layout::{Layout, MIN_HEIGHT, MIN_WIDTH, PaneRect};
use super::model::{fmt_clock, fmt_duration};
use super::pane::Pane;
use super::{copy, panels, shorten, side};
use crate::engine::{Activity, SessionState};
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Widget, Wrap};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

/// An unfocused pane's new output is drawn at most this often (the focused pane's at
/// the frame rate): a flood in a pane one is not looking at costs little.
pub const BACKGROUND_FRAME: Duration = Duration::from_millis(200);

/// The panes' screens as one client last drew them. A pane whose screen has not
/// changed, or an unfocused one drawn less than [`BACKGROUND_FRAME`] ago, is copied
/// from here instead of rendered from its emulator again.
#[derive(Default)]
pub struct PaneCache {
    drawn: RefCell<HashMap<usize, Drawn>>,
    /// When a pane copied from here although it had changed must be drawn afresh.
    due: RefCell<Option<Instant>>,
}

/// A pane busy being fed when a frame is drawn is looked at again this soon.
const BUSY_RETRY: Duration = Duration::from_millis(20);

/// What a pane's border says of its terminal.
#[derive(Clone, Copy)]
struct Facts {
    offset: usize,
    history: usize,
    attempt: u32,
}

impl Facts {
    fn of(pane: &Pane) -> Facts {
        Facts {
            offset: pane.scroll_offset(),
            history: pane.history(),
            attempt: pane.attempt,
        }
    }
}

/// One pane's screen as drawn.
struct Drawn {
    /// What the cells depend on besides the screen: area, grid size, scroll offset,
    /// cursor.
    key: (Rect, super::pane::Size, usize, bool),
    facts: Facts,
    /// The pane's change count when drawn.
    changes: u64,
    at: Instant,
    cells: Vec<ratatui::buffer::Cell>,
}

/// Which drawn panes have changed since they were drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changed {
    Nothing,
    /// Only unfocused panes: drawing them can wait for [`BACKGROUND_FRAME`].
    Background,
    Focused,
}

impl PaneCache {
    /// Forget every pane (the next frame renders them all).
    pub fn clear(&self) {
        self.drawn.borrow_mut().clear();
    }

    /// When a frame is due to show changes the last one left out.
    pub fn due(&self) -> Option<Instant> {
        *self.due.borrow()
    }

    /// Which of the panes drawn last have changed since.
    pub fn changed(&self, app: &App) -> Changed {
        let mut out = Changed::Nothing;
        for (&i, d) in self.drawn.borrow().iter() {
            if app.screens.changes(i) != d.changes {
                if i == app.focus {
                    return Changed::Focused;
                }
                out = Changed::Background;
            }
        }
        out
    }

    /// The border's facts of pane `i` as last drawn into `area`.
    fn facts(&self, i: usize, area: Rect) -> Option<Facts> {
        let drawn = self.drawn.borrow();
        drawn.get(&i).filter(|d| d.key.0 == area).map(|d| d.facts)
    }

    fn later(&self, at: Instant) {
        let mut due = self.due.borrow_mut();
        *due = Some(due.map_or(at, |t| t.min(at)));
    }

    /// Draw pane `i`'s screen into `area`: copied when it may be, else rendered.
    /// `pane`: None when a reader is feeding it (it was drawn into this area before).
    #[allow(clippy::too_many_arguments)]
    fn render(
        &self,
        app: &App,
        i: usize,
        area: Rect,
        buf: &mut Buffer,
        cursor: bool,
        now: Instant,
        pane: Option<MutexGuard<'_, Pane>>,
    ) {
        let changes = app.screens.changes(i);
        let mut drawn = self.drawn.borrow_mut();
        let clipped = area.intersection(buf.area);
        let copy = |d: &Drawn, buf: &mut Buffer| {
            let w = clipped.width as usize;
            if w == 0 || d.cells.len() < w * clipped.height as usize {
                return;
            }
            for (row, y) in (clipped.top()..clipped.bottom()).enumerate() {
                let start = buf.index_of(clipped.x, y);
                buf.content[start..start + w].clone_from_slice(&d.cells[row * w..(row + 1) * w]);
            }
        };
        let Some(pane) = pane else {
            if let Some(d) = drawn.get(&i) {
                copy(d, buf);
                if d.changes != changes {
                    drop(drawn);
                    self.later(now + BUSY_RETRY);
                }
            }
            return;
        };
        let key = (area, pane.size(), pane.scroll_offset(), cursor);
        if let Some(d) = drawn.get(&i).filter(|d| d.key == key) {
            let fresh = d.changes == changes;
            let wait = i != app.focus && now < d.at + BACKGROUND_FRAME;
            if fresh || wait {
                copy(d, buf);
                if !fresh {
                    let at = d.at + BACKGROUND_FRAME;
                    drop(drawn);
                    self.later(at);
                }
                return;
            }
        }
        pane.render(clipped, buf, cursor);
        let mut cells = Vec::with_capacity(clipped.area() as usize);
        for y in clipped.top()..clipped.bottom() {
            let start = buf.index_of(clipped.x, y);
            cells.extend_from_slice(&buf.content[start..start + clipped.width as usize]);
        }
        drawn.insert(
            i,
            Drawn {
                key,
                facts: Facts::of(&pane),
                changes,
                at: now,
                cells,
            },
        );
    }
}

/// Pane `i` for drawing, and its border's facts. Without a cache, or focused, it is
/// waited for; otherwise a pane that a reader is feeding right now is not (None: its
/// last drawing is used), so a flood elsewhere never holds up a frame.
fn lock_pane<'a>(
    app: &'a App,
    i: usize,
    area: Rect,
    cache: Option<&PaneCache>,
) -> (Option<MutexGuard<'a, Pane>>, Facts) {
    if let Some(cache) = cache
        && i != app.focus
    {
        match app.screens.try_pane(i) {
            Some(pane) => {
                let facts = Facts::of(&pane);
                return (Some(pane), facts);
            }
            None => {
                if let Some(facts) = cache.facts(i, area) {
                    return (None, facts);
                }
            }
        }
    }
    let pane = app.screens.pane(i);
    let facts = Facts::of(&pane);
    (Some(pane), facts)
}

pub fn state_color(s: SessionState) -> Color {
    match s {
        SessionState::Pending => Color::DarkGray,
        SessionState::Running => Color::Green,
        SessionState::Restarting => Color::Yellow,
        SessionState::Succeeded => Color::Cyan,
        SessionState::Failed => Color::Red,
        SessionState::Stopped => Color::Magenta,
        SessionState::Skipped => Color::DarkGray,
        SessionState::Blocked => Color::Red,
    }
}

pub fn state_mark(s: SessionState) -> &'static str {
    match s {
        SessionState::Pending => "·",
        SessionState::Running => "▶",
        SessionState::Restarting => "↻",
        SessionState::Succeeded => "✓",
        SessionState::Failed => "✗",
        SessionState::Stopped => "■",
        SessionState::Skipped => "»",
        SessionState::Blocked => "⊘",
    }
}

pub const NEEDS_INPUT: Color = Color::LightRed;
pub const FOCUS: Color = Color::LightCyan;

pub fn draw(f: &mut Frame, app: &App, now: Instant) {
    let area = f.area();
    let buf = f.buffer_mut();
    render(app, &app.layout, area, buf, now);
}

/// [`draw`], with the panes' screens copied from `cache` where they may be.
pub fn draw_cached(f: &mut Frame, app: &App, now: Instant, cache: &PaneCache) {
    let area = f.area();
    let buf = f.buffer_mut();
    *cache.due.borrow_mut() = None;
    // Panes no longer shown are forgotten.
    cache
        .drawn
        .borrow_mut()
        .retain(|i, _| app.layout.panes.iter().any(|p| p.session == *i));
    render_with(app, &app.layout, area, buf, now, Some(cache));
}

/// Draw everything into `buf` (which covers `area`).
pub fn render(app: &App, l: &Layout, area: Rect, buf: &mut Buffer, now: Instant) {
    render_with(app, l, area, buf, now, None);
}

fn render_with(
    app: &App,
    l: &Layout,
    area: Rect,
    buf: &mut Buffer,
    now: Instant,
    cache: Option<&PaneCache>,
) {
    if l.too_small {
        let msg = format!(
            "terminal too small: {}x{} (need {MIN_WIDTH}x{MIN_HEIGHT})",
            area.width, area.height
        );
        let y = area.y + area.height / 2;
        Paragraph::new(msg)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true })
            .render(
                Rect::new(area.x, y.saturating_sub(1), area.width, 3.min(area.height)),
                buf,
            );
        return;
    }
    if let Some(full) = l.full {
        panels::render(app, full, buf, now);
    }
    for p in &l.panes {
        draw_pane(app, p, buf, now, cache);
    }
    if let Some(r) = l.hidden_line {
        draw_hidden(app, &l.hidden, r, buf);
    }
    if let Some(r) = l.side {
        side::draw_side(app, r, buf, now);
    }
    draw_status(app, l.status, buf, now);
    if app.help {
        draw_help(app, area, buf);
    }
    if app.confirm_quit {
        draw_confirm(app, area, buf);
    }
}

fn pane_title(app: &App, i: usize, now: Instant, width: u16) -> Line<'static> {
    let v = &app.view;
    let s = &v.sessions[i];
    let spec = &v.plan.sessions[i];
    let needs = v.needs_input(i);
    // (priority, span): the lowest priorities go first when the border is short.
    let mut parts: Vec<(u8, Span<'static>)> = Vec::new();
    let sep = || Span::styled(" · ", Style::default().fg(Color::DarkGray));
    let name_style = if i == app.focus {
        Style::default().fg(FOCUS).add_modifier(Modifier::BOLD)
    } else {
        Style::default().add_modifier(Modifier::BOLD)
    };
    parts.push((
        9,
        Span::styled(format!("{} {}", spec.number, spec.name), name_style),
    ));
    parts.push((5, sep()));
    parts.push((
        5,
        Span::styled(s.state.as_str(), Style::default().fg(state_color(s.state))),
    ));
    if s.state == SessionState::Running
        && let Some(a) = s.activity
        && !needs
    {
        let (text, st) = match a {
            Activity::Working => ("working", Style::default().fg(Color::Green)),
            Activity::Quiet => (
                "quiet ⏾",
                Style::default()
                    .fg(Color::Yellow)
                    .add_modifier(Modifier::DIM),
            ),
            Activity::NeedsInput => ("needs-input", Style::default().fg(NEEDS_INPUT)),
            Activity::Idle => ("idle", Style::default().fg(Color::Cyan)),
        };
        parts.push((4, sep()));
        parts.push((4, Span::styled(text, st)));
    }
    if let Some(e) = v.session_elapsed(i, now) {
        parts.push((3, sep()));
        parts.push((3, Span::raw(fmt_duration(e))));
    }
    if s.attempt > 0 {
        parts.push((2, sep()));
        parts.push((2, Span::raw(format!("#{}", s.attempt))));
    }
    // The session's own title (OSC 0/2) goes first when the border is short.
    if let Some(title) = &s.title {
        let title: String = title.chars().filter(|c| !c.is_control()).take(60).collect();
        parts.push((1, sep()));
        parts.push((1, Span::styled(title, Style::default().fg(Color::Gray))));
    }
    let banner = |short: bool| {
        Span::styled(
            if short { "▲" } else { "▲ NEEDS INPUT" },
            Style::default()
                .fg(Color::Black)
                .bg(NEEDS_INPUT)
                .add_modifier(Modifier::BOLD),
        )
    };
    let room = width.saturating_sub(2) as usize;
    let total = |parts: &[(u8, Span)], extra: usize| -> usize {
        parts.iter().map(|(_, s)| s.width()).sum::<usize>() + 2 + extra
    };
    let mut short = false;
    let banner_w = |short: bool| {
        if !needs {
            0
        } else if short {
            2
        } else {
            14
        }
    };
    for level in [2u8, 3, 4, 5] {
        if total(&parts, banner_w(short)) <= room {
            break;
        }
        if needs && level == 4 {
            short = true;
        }
        parts.retain(|(p, _)| *p > level);
    }
    let mut spans = vec![Span::raw(" ")];
    if needs {
        spans.push(banner(short));
        spans.push(Span::raw(" "));
    }
    spans.extend(parts.into_iter().map(|(_, s)| s));
    spans.push(Span::raw(" "));
    Line::from(spans)
}

fn draw_pane(app: &App, p: &PaneRect, buf: &mut Buffer, now: Instant, cache: Option<&PaneCache>) {
    let i = p.session;
    let v = &app.view;
    let focused = i == app.focus;
    let needs = v.needs_input(i);
    let mut border = Style::default().fg(Color::DarkGray);
    let mut btype = BorderType::Plain;
    if focused {
        border = Style::default().fg(FOCUS);
        btype = BorderType::Thick;
    }
    if needs {
        border = Style::default()
            .fg(NEEDS_INPUT)
            .add_modifier(Modifier::BOLD);
        btype = if focused {
            BorderType::Thick
        } else {
            BorderType::Double
        };
    }
    if focused && app.mode == Mode::Input {
        border = border.fg(Color::LightYellow);
    }
    let (pane, facts) = lock_pane(app, i, p.inner, cache);
    let mut bottom: Vec<Span> = Vec::new();
    let s = &v.sessions[i];
    if s.ended_at.is_some() && s.attempt > 0 {
        let text = match (&s.signal, s.exit_code) {
            (Some(sig), _) => format!(" {sig} "),
            (None, Some(c)) => format!(" exit {c} "),
            _ => String::new(),
        };
        if !text.is_empty() {
            let color = if s.exit_code == Some(0) {
                Color::Cyan
            } else {
                Color::Red
            };
            bottom.push(Span::styled(text, Style::default().fg(color)));
        }
    }
    if let Some(at) = s.restart_at {
        let left = at.saturating_duration_since(now);
        bottom.push(Span::styled(
            format!(" restarting in {} ", fmt_duration(left)),
            Style::default().fg(Color::Yellow),
        ));
    }
    let off = facts.offset;
    if off > 0 {
        bottom.push(Span::styled(
            format!(" scrolled back {off}/{} · Esc: live ", facts.history),
            Style::default().fg(Color::Black).bg(Color::Yellow),
        ));
    }
    // The search or copy view of this pane, if one is open.
    let search = app.search.as_ref().filter(|x| x.session == i);
    let copying = app.copy.as_ref().filter(|x| x.session == i);
    let marked = Style::default()
        .fg(Color::Black)
        .bg(Color::LightYellow)
        .add_modifier(Modifier::BOLD);
    if let Some(x) = search {
        bottom.clear();
        bottom.push(Span::styled(x.summary(), marked));
    } else if let Some(x) = copying {
        bottom.clear();
        bottom.push(Span::styled(x.summary(), marked));
    }
    if focused && app.mode == Mode::Input {
        bottom.push(Span::styled(
            " INPUT · Ctrl-a leaves ",
            Style::default()
                .fg(Color::Black)
                .bg(Color::LightYellow)
                .add_modifier(Modifier::BOLD),
        ));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(btype)
        .border_style(border)
        .title(pane_title(app, i, now, p.outer.width))
        .title_bottom(Line::from(bottom).alignment(Alignment::Right));
    block.render(p.outer, buf);
    if let Some(x) = search {
        x.render(p.inner, buf);
        return;
    }
    if let Some(x) = copying {
        x.render(p.inner, buf);
        return;
    }
    if s.attempt == 0 && facts.attempt == 0 {
        // Nothing ran yet: say why.
        let text = match v.waiting_text(i) {
            Some(waits) => format!("pending — {waits}"),
            None => s.state.as_str().to_string(),
        };
        let y = p.inner.y + p.inner.height / 2;
        if p.inner.height > 0 {
            Paragraph::new(text)
                .style(Style::default().fg(Color::DarkGray))
                .alignment(Alignment::Center)
                .wrap(Wrap { trim: true })
                .render(
                    Rect::new(p.inner.x, y, p.inner.width, (p.inner.bottom() - y).min(3)),
                    buf,
                );
        }
        return;
    }
    let cursor = focused && s.state == SessionState::Running;
    match (cache, pane) {
        (Some(cache), pane) => cache.render(app, i, p.inner, buf, cursor, now, pane),
        (None, Some(pane)) => pane.render(p.inner, buf, cursor),
        (None, None) => {}
    }
    if let Some(d) = app.drag.filter(|d| d.session == i) {
        copy::render_drag(&d, p.inner, buf);
    }
}

/// The strip of sessions without a pane: number, name, state and activity, those
/// needing input first; what does not fit is counted (`g` reaches every one).
fn draw_hidden(app: &App, hidden: &[usize], r: Rect, buf: &mut Buffer) {
    let dim = Style::default().fg(Color::DarkGray);
    let mut spans = vec![Span::styled(format!(" {} more: ", hidden.len()), dim)];
    let mut used = spans[0].width();
    let room = r.width as usize;
    for (k, &i) in hidden.iter().enumerate() {
        let s = &app.view.sessions[i];
        let spec = &app.view.plan.sessions[i];
        let needs = app.view.needs_input(i);
        let waits = app.view.waiting_text(i);
        let what = if needs {
            "▲ needs input"
        } else if let Some(w) = &waits {
            w.as_str()
        } else {
            match s.activity {
                Some(a) if s.state == SessionState::Running => a.as_str(),
                _ => s.state.as_str(),
            }
        };
        let text = format!("{} {} {what}", spec.number, spec.name);
        let left = hidden.len() - k - 1;
        let tail = if left > 0 {
            format!(" … +{left} (g)")
        } else {
            String::new()
        };
        if used + 3 + shorten::width(&text) + shorten::width(&tail) > room && k > 0 {
            spans.push(Span::styled(
                format!(" … +{} (g goes to any)", hidden.len() - k),
                dim,
            ));
            break;
        }
        if k > 0 {
            spans.push(Span::styled(" · ", dim));
        }
        let st = if needs {
            Style::default()
                .fg(NEEDS_INPUT)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().fg(state_color(s.state))
        };
        used += 3 + shorten::width(&text);
        spans.push(Span::styled(text, st));
    }
    buf.set_line(r.x, r.y, &Line::from(spans), r.width);
}

/// What the keys of a view are, on the status line.
fn mode_hint(mode: Mode) -> Option<&'static str> {
    Some(match mode {
        Mode::Panels => "panels: type to filter · ↑↓ · Enter details · Esc back",
        Mode::Details => "details: ↑↓ scroll · Esc back",
        Mode::Copy => "copy: arrows move · Space selects · y copies · Y copies the line · Esc",
        _ => return None,
    })
}

/// The line where a name or a query is typed (`g`, `/`).
fn prompt_line(app: &App) -> Option<Line<'static>> {
    let key = Style::default()
        .fg(Color::Black)
        .bg(Color::LightCyan)
        .add_modifier(Modifier::BOLD);
    let dim = Style::default().fg(Color::DarkGray);
    match app.mode {
        Mode::GoTo => {
            let matches = app.goto_matches();
            let pick = if matches.is_empty() {
                0
            } else {
                app.goto.1 % matches.len()
            };
            let mut spans = vec![
                Span::styled(" go to ", key),
                Span::raw(format!(" {}▏ ", app.goto.0)),
            ];
            if matches.is_empty() {
                spans.push(Span::styled(
                    "no session matches",
                    Style::default().fg(Color::Red),
                ));
            }
            for (k, &i) in matches.iter().enumerate() {
                let spec = &app.view.plan.sessions[i];
                let st = if k == pick {
                    Style::default()
                        .fg(FOCUS)
                        .add_modifier(Modifier::BOLD | Modifier::REVERSED)
                } else {
                    Style::default()
                };
                spans.push(Span::styled(format!("{} {}", spec.number, spec.name), st));
                spans.push(Span::raw(" "));
            }
            spans.push(Span::styled("· Enter · Tab next · Esc", dim));
            Some(Line::from(spans))
        }
        Mode::Search => {
            let text = app.search.as_ref().map(|x| x.status()).unwrap_or_default();
            Some(Line::from(vec![
                Span::styled(" search ", key),
                Span::raw(" "),
                Span::raw(text),
            ]))
        }
        Mode::SearchInput => {
            let found = app.search.as_ref().map_or(0, |x| x.matches.len());
            Some(Line::from(vec![
                Span::styled(" search ", key),
                Span::raw(format!(
                    " /{}▏ ",
                    app.search.as_ref().map_or("", |x| x.query.as_str())
                )),
                Span::styled(format!("{found} matches · Enter keeps · Esc leaves"), dim),
            ]))
        }
        _ => None,
    }
}

fn draw_status(app: &App, r: Rect, buf: &mut Buffer, now: Instant) {
    if let Some(line) = prompt_line(app) {
        buf.set_line(r.x, r.y, &line, r.width);
        return;
    }
    let v = &app.view;
    let dim = Style::default().fg(Color::DarkGray);
    let bar = || Span::styled(" │ ", Style::default().fg(Color::DarkGray));
    let mut spans: Vec<Span> = Vec::new();
    // Most important first: a narrow screen cuts the end.
    if app.mode == Mode::Input {
        spans.push(Span::styled(
            format!(
                " INPUT → {} · Ctrl-a leaves ",
                v.plan.sessions[app.focus].name
            ),
            Style::default()
                .fg(Color::Black)
                .bg(Color::LightYellow)
                .add_modifier(Modifier::BOLD),
        ));
    } else {
        spans.push(Span::styled(
            " flightdeck ",
            Style::default()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
        ));
    }
    let needing: Vec<usize> = (0..v.sessions.len())
        .filter(|&i| v.needs_input(i))
        .collect();
    if !needing.is_empty() {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(
            format!(
                "▲ needs input: {}",
                needing
                    .iter()
                    .map(|&i| v.plan.sessions[i].number.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Style::default()
                .fg(Color::Black)
                .bg(NEEDS_INPUT)
                .add_modifier(Modifier::BOLD),
        ));
    }
    spans.push(Span::raw(format!(" {}", fmt_clock(v.elapsed(now)))));
    spans.push(bar());
    for (k, (st, n)) in v.counts().iter().enumerate() {
        if k > 0 {
            spans.push(Span::styled(", ", dim));
        }
        spans.push(Span::styled(
            format!("{n} {}", st.as_str()),
            Style::default().fg(state_color(*st)),
        ));
    }
    if app.zoom {
        spans.push(bar());
        spans.push(Span::styled("ZOOM", Style::default().fg(Color::Yellow)));
    }
    spans.push(bar());
    if let Some((m, _)) = &app.message {
        // What a key just did, or why it could not: it must be seen.
        spans.push(Span::styled(m.clone(), Style::default().fg(Color::Yellow)));
    } else if let Some((status, code, _)) = &v.finished {
        let color = if *code == 0 { Color::Green } else { Color::Red };
        spans.push(Span::styled(
            format!("finished: {status} (exit {code}) · q leaves"),
            Style::default().fg(color).add_modifier(Modifier::BOLD),
        ));
    } else if app.quitting {
        spans.push(Span::styled(
            "stopping sessions…",
            Style::default().fg(Color::Yellow),
        ));
    } else if let Some(hint) = mode_hint(app.mode) {
        spans.push(Span::styled(hint, dim));
    } else if app.mode == Mode::Input {
        spans.push(Span::styled("keys go to the session", dim));
    } else {
        spans.push(Span::styled(
            "?:help p:panels /:search g:go to Enter:input z:zoom r:restart x:stop a:approve q:quit",
            dim,
        ));
    }
    spans.push(bar());
    spans.push(Span::raw(v.plan.name.clone()));
    spans.push(Span::styled(format!(" · run {}", v.run_id), dim));
    buf.set_line(r.x, r.y, &Line::from(spans), r.width);
}

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// Every key, from the keymap, a section per view. Scrolls when it does not fit.
fn draw_help(app: &App, area: Rect, buf: &mut Buffer) {
    let key_style = Style::default()
        .fg(Color::LightCyan)
        .add_modifier(Modifier::BOLD);
    let mut lines: Vec<Line> = Vec::new();
    for (n, &mode) in HELP_MODES.iter().enumerate() {
        if n > 0 {
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                format!(" {}", mode.title()),
                Style::default()
                    .fg(Color::Blue)
                    .add_modifier(Modifier::BOLD),
            ));
        }
        for (label, help) in help_rows(mode) {
            lines.push(Line::from(vec![
                Span::styled(format!(" {label:<15} "), key_style),
                Span::raw(help),
            ]));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        " Borders: N name · state · activity · elapsed · #attempt",
        Style::default().fg(Color::DarkGray),
    )));
    let w = 76;
    let h = (lines.len() as u16 + 2).min(area.height);
    let r = centered(area, w, h);
    let room = h.saturating_sub(2);
    let scroll = app
        .help_scroll
        .min((lines.len() as u16).saturating_sub(room));
    let more = if (lines.len() as u16) > room {
        " ↑↓ more · any other key closes "
    } else {
        " any key closes "
    };
    Clear.render(r, buf);
    Paragraph::new(lines)
        .scroll((scroll, 0))
        .block(
            Block::bordered()
                .border_type(BorderType::Double)
                .border_style(Style::default().fg(Color::LightCyan))
                .title(" flightdeck keys ")
                .title_bottom(Line::from(more).right_aligned()),
        )
        .render(r, buf);
}

fn draw_confirm(app: &App, area: Rect, buf: &mut Buffer) {
    let n = app.view.running();
    let lines = vec![
        Line::raw(""),
        Line::from(format!(
            " {n} session{} still running.",
            if n == 1 { " is" } else { "s are" }
        )),
        Line::raw(" Quit stops every session and writes the record."),
        Line::raw(""),
        Line::from(vec![
            Span::styled(
                " y",
                Style::default()
                    .fg(Color::LightRed)
                    .add_modifier(Modifier::BOLD),
            ),
            Span::raw(" quit    "),
            Span::styled(
                "n",
                Style::default()
                    .fg(Color::LightGreen)
                    .add_modifier(Modifier::BOLD),
            ),
            Span::raw(" keep running    "),
            Span::styled(
                "d",
                Style::default()
                    .fg(Color::LightYellow)
                    .add_modifier(Modifier::BOLD),
            ),
            Span::raw(" detach"),
        ]),
    ];
    let r = centered(area, 54, 7);
    Clear.render(r, buf);
    Paragraph::new(lines)
        .block(
            Block::bordered()
                .border_type(BorderType::Double)
                .border_style(Style::default().fg(Color::LightRed))
                .title(" Quit? "),
        )
        .render(r, buf);
}
