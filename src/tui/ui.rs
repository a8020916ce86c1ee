//! Drawing: panes (live, or the search and copy views of one) and the strip of
//! sessions without a pane. The status line, help and the quit dialog are in
//! `status`, side panels in `side`, the panels full screen in `panels`; `pane_cache`
//! keeps what each client last drew.

use super::app::{App, Mode};
use super::layout::{Layout, MIN_HEIGHT, MIN_WIDTH, PaneRect};
use super::model::fmt_duration;
use super::pane_cache::{PaneCache, lock_pane};
use super::regions::{Key, Painter, Regions};
use super::status::{draw_confirm, draw_help, draw_status};
use super::{copy, panels, shorten, side};
use crate::engine::{Activity, SessionState};
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph, Widget, Wrap};
use std::time::Instant;

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

/// [`draw`] into `buf`, which holds the frame `regions` describe: only the regions
/// that changed are drawn, the panes' screens copied from `cache` where they may be.
/// `whole`: `buf` is blank, draw everything. Returns the regions drawn (None: all).
pub fn draw_changed(
    buf: &mut Buffer,
    app: &App,
    now: Instant,
    cache: &PaneCache,
    regions: &mut Regions,
    whole: bool,
) -> Option<Vec<Rect>> {
    let l = &app.layout;
    // Drawn over the regions, or instead of them.
    let covered = l.too_small || l.full.is_some() || app.help || app.confirm_quit;
    if regions.begin(l, whole, covered) && !whole {
        buf.reset();
    }
    cache.begin(app);
    let area = buf.area;
    render_with(
        app,
        l,
        area,
        &mut Painter::changed(buf, regions),
        now,
        Some(cache),
    );
    regions.finish()
}

/// Draw everything into `buf` (which covers `area`).
pub fn render(app: &App, l: &Layout, area: Rect, buf: &mut Buffer, now: Instant) {
    render_with(app, l, area, &mut Painter::whole(buf), now, None);
}

fn render_with(
    app: &App,
    l: &Layout,
    area: Rect,
    painter: &mut Painter,
    now: Instant,
    cache: Option<&PaneCache>,
) {
    if l.too_small {
        let buf = &mut *painter.buf;
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
        panels::render(app, full, painter.buf, now);
    }
    for p in &l.panes {
        draw_pane(app, p, painter, now, cache);
    }
    if let Some(r) = l.hidden_line {
        draw_hidden(app, &l.hidden, r, painter);
    }
    if let Some(r) = l.side {
        side::draw_side(app, r, painter, now);
    }
    draw_status(app, l.status, painter, now);
    if app.help {
        draw_help(app, area, painter.buf);
    }
    if app.confirm_quit {
        draw_confirm(app, area, painter.buf);
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

fn draw_pane(
    app: &App,
    p: &PaneRect,
    painter: &mut Painter,
    now: Instant,
    cache: Option<&PaneCache>,
) {
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
    let title = pane_title(app, i, now, p.outer.width);
    let bottom = Line::from(bottom).alignment(Alignment::Right);
    render_border(p.outer, btype, border, title, bottom, painter);
    if let Some(x) = search {
        painter.region(p.inner, None, |buf| x.render(p.inner, buf));
        return;
    }
    if let Some(x) = copying {
        painter.region(p.inner, None, |buf| x.render(p.inner, buf));
        return;
    }
    if s.attempt == 0 && facts.attempt == 0 {
        // Nothing ran yet: say why.
        let text = match v.waiting_text(i) {
            Some(waits) => format!("pending — {waits}"),
            None => s.state.as_str().to_string(),
        };
        let y = p.inner.y + p.inner.height / 2;
        let key = Key::Lines(vec![Line::raw(text.clone())]);
        painter.region(p.inner, Some(key), |buf| {
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
        });
        return;
    }
    let cursor = focused && s.state == SessionState::Running;
    let drag = app.drag.filter(|d| d.session == i);
    let (Some(cache), false) = (cache, drag.is_some()) else {
        painter.region(p.inner, None, |buf| {
            if let Some(pane) = pane {
                pane.render(p.inner, buf, cursor);
            }
            if let Some(d) = drag {
                copy::render_drag(&d, p.inner, buf);
            }
        });
        return;
    };
    // The drawing the client shows there already is not copied again.
    let shown = match painter.shown(p.inner) {
        Some(Key::Pane(session, number)) if *session == i => Some(*number),
        _ => None,
    };
    let now_shown = cache.render(app, i, p.inner, painter.buf, cursor, now, pane, shown);
    if now_shown.is_none() {
        painter.clear(p.inner);
    }
    let key = now_shown.map(|number| Key::Pane(i, number));
    painter.drew(p.inner, key, now_shown.is_some() && now_shown == shown);
}

/// A pane's border and its titles, drawn as four strips: a `Block` over the whole
/// area would first style every cell of it, which the pane's screen then covers (a
/// tenth of an idle frame's cost).
fn render_border(
    area: Rect,
    kind: BorderType,
    style: Style,
    title: Line<'static>,
    bottom: Line<'static>,
    painter: &mut Painter,
) {
    let block = |borders| {
        Block::default()
            .borders(borders)
            .border_type(kind)
            .border_style(style)
    };
    if area.height < 2 {
        painter.region(area, None, |buf| {
            block(Borders::ALL)
                .title(title)
                .title_bottom(bottom)
                .render(area, buf)
        });
        return;
    }
    let row = |y| Rect::new(area.x, y, area.width, 1);
    let column = |x| Rect::new(x, area.y + 1, 1, area.height - 2);
    let sides = Borders::LEFT | Borders::RIGHT;
    let key = |line: &Line<'static>| Some(Key::Border(kind, style, line.clone()));
    painter.region(row(area.y), key(&title), |buf| {
        block(Borders::TOP | sides)
            .title(title)
            .render(row(area.y), buf)
    });
    painter.region(row(area.bottom() - 1), key(&bottom), |buf| {
        block(Borders::BOTTOM | sides)
            .title_bottom(bottom)
            .render(row(area.bottom() - 1), buf)
    });
    let plain = Line::default();
    painter.region(column(area.x), key(&plain), |buf| {
        block(Borders::LEFT).render(column(area.x), buf)
    });
    let right = column(area.right().saturating_sub(1));
    painter.region(right, key(&plain), |buf| {
        block(Borders::RIGHT).render(right, buf)
    });
}

/// The strip of sessions without a pane: number, name, state and activity, those
/// needing input first; what does not fit is counted (`g` reaches every one).
fn draw_hidden(app: &App, hidden: &[usize], r: Rect, painter: &mut Painter) {
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
    let line = Line::from(spans);
    painter.region(r, Some(Key::Lines(vec![line.clone()])), |buf| {
        buf.set_line(r.x, r.y, &line, r.width);
    });
}
