//! Drawing: panes, side panels, status line, help and quit dialogs.

use super::app::{App, Mode};
use super::layout::{Layout, MIN_HEIGHT, MIN_WIDTH, PaneRect};
use super::model::{fmt_clock, fmt_duration};
use crate::checks::{CheckStatus, Measured, Severity};
use crate::engine::{Activity, SessionState};
use crate::gates::Verdict;
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Widget, Wrap};
use std::time::Instant;

/// Every key, for the help overlay (and the README).
pub const KEYS: &[(&str, &str)] = &[
    ("Tab / Shift-Tab", "next / previous pane"),
    ("arrows", "move focus to the pane in that direction"),
    ("1-9", "focus the session with that number"),
    ("Enter", "input mode: keys go to the focused session"),
    ("Ctrl-a", "leave input mode (Ctrl-a Ctrl-a sends Ctrl-a)"),
    ("z", "zoom / unzoom the focused pane"),
    ("r", "restart the focused session"),
    ("x", "stop the focused session"),
    ("s", "start the focused pending session now"),
    ("S", "skip the focused pending session"),
    ("d", "mark the focused session done"),
    ("a", "approve the gate awaiting approval"),
    ("c", "evaluate all checks now"),
    ("PgUp / PgDn", "scroll back / forward in the focused pane"),
    ("Esc", "back to live output"),
    ("mouse", "click focuses a pane, the wheel scrolls back"),
    ("?", "this help (any key closes it)"),
    ("q", "quit (asks first while sessions run)"),
];

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

fn state_mark(s: SessionState) -> &'static str {
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

const NEEDS_INPUT: Color = Color::LightRed;
const FOCUS: Color = Color::LightCyan;

pub fn draw(f: &mut Frame, app: &App, now: Instant) {
    let area = f.area();
    let buf = f.buffer_mut();
    render(app, &app.layout, area, buf, now);
}

/// Draw everything into `buf` (which covers `area`).
pub fn render(app: &App, l: &Layout, area: Rect, buf: &mut Buffer, now: Instant) {
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
    for p in &l.panes {
        draw_pane(app, p, buf, now);
    }
    if let Some(r) = l.hidden_line {
        draw_hidden(app, &l.hidden, r, buf);
    }
    if let Some(side) = l.side {
        draw_side(app, side, buf, now);
    }
    draw_status(app, l.status, buf, now);
    if app.help {
        draw_help(area, buf);
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

fn draw_pane(app: &App, p: &PaneRect, buf: &mut Buffer, now: Instant) {
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
    let pane = app.screens.pane(i);
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
    let off = pane.scroll_offset();
    if off > 0 {
        bottom.push(Span::styled(
            format!(" scrolled back {off}/{} · Esc: live ", pane.history()),
            Style::default().fg(Color::Black).bg(Color::Yellow),
        ));
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
    if s.attempt == 0 && pane.attempt == 0 {
        // Nothing ran yet: say why.
        let waits = v.waits_for(i);
        let text = match s.state {
            SessionState::Pending if !waits.is_empty() => format!(
                "pending — waits for {}",
                waits
                    .iter()
                    .map(|w| w.raw.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            SessionState::Pending => "pending".to_string(),
            st => st.as_str().to_string(),
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
    pane.render(p.inner, buf, focused && s.state == SessionState::Running);
}

fn draw_hidden(app: &App, hidden: &[usize], r: Rect, buf: &mut Buffer) {
    let mut spans = vec![Span::styled(
        format!(" {} more: ", hidden.len()),
        Style::default().fg(Color::DarkGray),
    )];
    for (k, &i) in hidden.iter().enumerate() {
        if k > 0 {
            spans.push(Span::styled(" · ", Style::default().fg(Color::DarkGray)));
        }
        let s = &app.view.sessions[i];
        let spec = &app.view.plan.sessions[i];
        let mut st = Style::default().fg(state_color(s.state));
        if app.view.needs_input(i) {
            st = Style::default()
                .fg(NEEDS_INPUT)
                .add_modifier(Modifier::BOLD);
        }
        spans.push(Span::styled(
            format!("{} {} ({})", spec.number, spec.name, s.state.as_str()),
            st,
        ));
    }
    buf.set_line(r.x, r.y, &Line::from(spans), r.width);
}

fn panel<'a>(title: &'a str, extra: Option<Span<'a>>) -> Block<'a> {
    let mut t = vec![Span::styled(
        format!(" {title} "),
        Style::default().add_modifier(Modifier::BOLD),
    )];
    if let Some(e) = extra {
        t.push(e);
        t.push(Span::raw(" "));
    }
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(Style::default().fg(Color::DarkGray))
        .title(Line::from(t))
}

fn draw_side(app: &App, side: Rect, buf: &mut Buffer, now: Instant) {
    let v = &app.view;
    let session_lines = session_lines(app, side.width.saturating_sub(2), now);
    let gate_lines = gate_lines(app);
    let file_lines = file_lines(app, now, side.width.saturating_sub(2));
    let check_lines = check_lines(app, side.width.saturating_sub(2));
    let h = side.height;
    // Sessions and gates get what they need (within reason); checks the rest.
    let s_h = (session_lines.len() as u16 + 2).min(h / 3).max(3);
    let g_h = if v.plan.gates.is_empty() {
        0
    } else {
        (gate_lines.len() as u16 + 2).min(h / 5).max(3)
    };
    let f_h = (file_lines.len().max(1) as u16 + 2).min(7);
    let c_h = h.saturating_sub(s_h + g_h + f_h);
    let mut y = side.y;
    let mut section = |height: u16, block: Block, lines: Vec<Line<'static>>, buf: &mut Buffer| {
        if height < 2 {
            return;
        }
        let r = Rect::new(side.x, y, side.width, height);
        let inner = block.inner(r);
        block.render(r, buf);
        Paragraph::new(lines).render(inner, buf);
        y += height;
    };
    let counts = v
        .counts()
        .iter()
        .map(|(st, n)| format!("{n} {}", st.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    section(
        s_h,
        panel(
            "Sessions",
            Some(Span::styled(counts, Style::default().fg(Color::DarkGray))),
        ),
        session_lines,
        buf,
    );
    if g_h > 0 {
        let awaiting = v.gates_awaiting().len();
        let extra = (awaiting > 0).then(|| {
            Span::styled(
                format!("{awaiting} awaiting approval (a) "),
                Style::default()
                    .fg(Color::Black)
                    .bg(Color::Yellow)
                    .add_modifier(Modifier::BOLD),
            )
        });
        section(g_h, panel("Gates", extra), gate_lines, buf);
    }
    let (pass, fail, pending) = v.check_counts();
    let extra = Span::styled(
        format!("{pass} pass, {fail} fail, {pending} pending"),
        Style::default().fg(Color::DarkGray),
    );
    section(c_h, panel("Checks", Some(extra)), check_lines, buf);
    section(f_h, panel("Recent files", None), file_lines, buf);
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else if max == 0 {
        String::new()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

fn session_lines(app: &App, width: u16, now: Instant) -> Vec<Line<'static>> {
    let v = &app.view;
    let mut out = Vec::new();
    let mut last_phase: Option<&str> = None;
    let has_phases = v.plan.sessions.iter().any(|s| s.phase.is_some());
    for (i, spec) in v.plan.sessions.iter().enumerate() {
        let s = &v.sessions[i];
        if has_phases && spec.phase.as_deref() != last_phase {
            last_phase = spec.phase.as_deref();
            out.push(Line::from(Span::styled(
                spec.phase.clone().unwrap_or_else(|| "(no phase)".into()),
                Style::default()
                    .fg(Color::Blue)
                    .add_modifier(Modifier::BOLD),
            )));
        }
        let focused = i == app.focus;
        let mut spans = vec![Span::styled(
            if focused { "›" } else { " " },
            Style::default().fg(FOCUS),
        )];
        if s.excluded {
            spans.push(Span::styled(
                format!("{:>2} {} (not in this run)", spec.number, spec.name),
                Style::default()
                    .fg(Color::DarkGray)
                    .add_modifier(Modifier::DIM),
            ));
            out.push(Line::from(spans));
            continue;
        }
        spans.push(Span::styled(
            format!("{:>2} ", spec.number),
            Style::default().fg(Color::DarkGray),
        ));
        spans.push(Span::styled(
            format!("{} ", state_mark(s.state)),
            Style::default().fg(state_color(s.state)),
        ));
        let name_style = if focused {
            Style::default().fg(FOCUS).add_modifier(Modifier::BOLD)
        } else {
            Style::default()
        };
        spans.push(Span::styled(spec.name.clone(), name_style));
        spans.push(Span::raw(" "));
        spans.push(Span::styled(
            s.state.as_str(),
            Style::default().fg(state_color(s.state)),
        ));
        match s.state {
            SessionState::Failed | SessionState::Stopped => {
                let why = match (&s.signal, s.exit_code) {
                    (Some(sig), _) => format!(" ({sig})"),
                    (None, Some(c)) => format!(" (exit {c})"),
                    _ => String::new(),
                };
                spans.push(Span::styled(why, Style::default().fg(Color::DarkGray)));
            }
            SessionState::Restarting => {
                if let Some(at) = s.restart_at {
                    spans.push(Span::styled(
                        format!(" in {}", fmt_duration(at.saturating_duration_since(now))),
                        Style::default().fg(Color::DarkGray),
                    ));
                }
            }
            _ => {}
        }
        if s.attempt > 1 {
            spans.push(Span::styled(
                format!(" #{}", s.attempt),
                Style::default().fg(Color::DarkGray),
            ));
        }
        if v.needs_input(i) {
            spans.push(Span::styled(
                " ▲ needs input",
                Style::default()
                    .fg(NEEDS_INPUT)
                    .add_modifier(Modifier::BOLD),
            ));
        } else if s.state == SessionState::Running && s.activity == Some(Activity::Quiet) {
            spans.push(Span::styled(
                " quiet",
                Style::default()
                    .fg(Color::Yellow)
                    .add_modifier(Modifier::DIM),
            ));
        }
        let waits = v.waits_for(i);
        if !waits.is_empty() {
            let text = waits
                .iter()
                .map(|w| w.raw.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            spans.push(Span::styled(
                format!(" ← {text}"),
                Style::default().fg(Color::DarkGray),
            ));
        }
        let used: usize = spans.iter().map(|s| s.width()).sum();
        if used > width as usize {
            // Keep the line to the panel width by trimming the last span.
            let last = spans.pop().unwrap_or_default();
            let room = (width as usize).saturating_sub(used - last.width());
            spans.push(Span::styled(truncate(&last.content, room), last.style));
        }
        out.push(Line::from(spans));
    }
    out
}

fn gate_lines(app: &App) -> Vec<Line<'static>> {
    let v = &app.view;
    v.plan
        .gates
        .iter()
        .enumerate()
        .map(|(g, spec)| {
            let gv = &v.gates[g];
            let (text, style) = if v.awaiting_approval(g) {
                (
                    format!(
                        "{} — awaiting approval (a)",
                        gv.verdict.map(|x| x.as_str()).unwrap_or("")
                    ),
                    Style::default()
                        .fg(Color::Black)
                        .bg(Color::Yellow)
                        .add_modifier(Modifier::BOLD),
                )
            } else {
                match gv.verdict {
                    None | Some(Verdict::Waiting) => {
                        ("waiting".to_string(), Style::default().fg(Color::DarkGray))
                    }
                    Some(Verdict::Pass) => (
                        if gv.approved {
                            "PASS (approved)".into()
                        } else {
                            "PASS".into()
                        },
                        Style::default().fg(Color::Green),
                    ),
                    Some(Verdict::Conditional) => (
                        if gv.approved {
                            "CONDITIONAL (approved)".into()
                        } else {
                            "CONDITIONAL".into()
                        },
                        Style::default().fg(Color::Yellow),
                    ),
                    Some(Verdict::Fail) => ("FAIL".into(), Style::default().fg(Color::Red)),
                    Some(Verdict::Blocked) => ("blocked".into(), Style::default().fg(Color::Red)),
                }
            };
            let manual = if spec.approval == crate::plan::Approval::Manual {
                " [manual]"
            } else {
                ""
            };
            Line::from(vec![
                Span::styled(
                    format!(" {}{manual} ", spec.name),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
                Span::styled(text, style),
            ])
        })
        .collect()
}

/// The first number in an `expected` text (`2,000,000 ± 5%` → 2000000).
fn expected_number(expected: &str) -> Option<f64> {
    let cleaned: String = expected.chars().filter(|c| *c != ',').collect();
    let start = cleaned.find(|c: char| c.is_ascii_digit() || c == '-')?;
    let rest = &cleaned[start..];
    let end = rest
        .char_indices()
        .skip(1)
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map(|(i, _)| i)
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn fmt_number(x: f64) -> String {
    if !x.is_finite() || x.abs() >= 1e15 {
        return format!("{x}");
    }
    let frac = x.fract() != 0.0;
    let text = if frac {
        format!("{:.2}", x.abs())
    } else {
        format!("{}", x.abs() as i64)
    };
    let (int, rest) = text.split_at(text.find('.').unwrap_or(text.len()));
    let mut out = String::new();
    for (k, c) in int.chars().enumerate() {
        if k > 0 && (int.len() - k) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out.push_str(rest);
    if x < 0.0 { format!("-{out}") } else { out }
}

fn check_lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let v = &app.view;
    let mut out = Vec::new();
    if v.checks.is_empty() {
        out.push(Line::from(Span::styled(
            " no results yet",
            Style::default().fg(Color::DarkGray),
        )));
        return out;
    }
    // Failures first, then pending, then passes: what needs attention on top.
    let mut order: Vec<usize> = (0..v.checks.len()).collect();
    order.sort_by_key(|&k| match v.checks[k].result.status {
        CheckStatus::Fail | CheckStatus::Error => 0,
        CheckStatus::Pending => 1,
        CheckStatus::Pass => 2,
    });
    for k in order {
        let r = &v.checks[k].result;
        let (mark, color) = match (r.status, r.severity) {
            (CheckStatus::Pass, _) => ("✓", Color::Green),
            (CheckStatus::Pending, _) => ("…", Color::DarkGray),
            (_, Severity::Warn) => ("!", Color::Yellow),
            (CheckStatus::Error, _) => ("E", Color::Red),
            (CheckStatus::Fail, _) => ("✗", Color::Red),
        };
        let mut st = Style::default().fg(color);
        if r.provisional {
            st = st.add_modifier(Modifier::DIM);
        }
        let head = truncate(
            &format!("{}: {}", r.source, r.check),
            (width as usize).saturating_sub(3),
        );
        out.push(Line::from(vec![
            Span::styled(format!(" {mark} "), st.add_modifier(Modifier::BOLD)),
            Span::styled(head, if r.provisional { st } else { Style::default() }),
        ]));
        // Second line: bar + measured vs expected (or the error message).
        let detail_w = (width as usize).saturating_sub(3);
        if r.expected.is_empty() && r.status != CheckStatus::Error {
            // `exists` and the like: the mark says it all.
            if r.status == CheckStatus::Fail && !r.message.is_empty() {
                out.push(Line::from(Span::styled(
                    format!("   {}", truncate(&r.message, detail_w)),
                    st,
                )));
            }
            continue;
        }
        if r.status == CheckStatus::Error {
            out.push(Line::from(Span::styled(
                format!("   {}", truncate(&r.message, detail_w)),
                st,
            )));
            continue;
        }
        let value = match &r.value {
            Measured::Number(x) => Some(*x),
            _ => None,
        };
        let shown = match &r.value {
            Measured::Number(x) => fmt_number(*x),
            Measured::Text(t) => t.clone(),
            Measured::Null => "—".into(),
        };
        let mut spans = vec![Span::raw("   ")];
        let bar_w = 10usize;
        if let (Some(x), Some(t)) = (value, expected_number(&r.expected))
            && t > 0.0
            && x >= 0.0
        {
            let frac = (x / t).clamp(0.0, 1.0);
            let full = (frac * bar_w as f64).round() as usize;
            spans.push(Span::styled("█".repeat(full), st));
            spans.push(Span::styled(
                "░".repeat(bar_w - full),
                Style::default().fg(Color::DarkGray),
            ));
            spans.push(Span::raw(" "));
        }
        let text = if r.expected.is_empty() {
            shown
        } else {
            format!("{shown} (expected {})", r.expected)
        };
        let used: usize = spans.iter().map(|s| s.width()).sum();
        spans.push(Span::styled(
            truncate(&text, (width as usize).saturating_sub(used)),
            if r.provisional { st } else { Style::default() },
        ));
        out.push(Line::from(spans));
    }
    out
}

fn file_lines(app: &App, now: Instant, width: u16) -> Vec<Line<'static>> {
    let v = &app.view;
    if v.files.is_empty() {
        return vec![Line::from(Span::styled(
            " none yet",
            Style::default().fg(Color::DarkGray),
        ))];
    }
    v.files
        .iter()
        .map(|(at, path)| {
            let age = fmt_duration(now.saturating_duration_since(*at));
            let room = (width as usize).saturating_sub(age.len() + 3);
            // Keep the end of long paths: the file name matters most.
            let p = if path.chars().count() > room && room > 1 {
                let tail: String = path
                    .chars()
                    .rev()
                    .take(room - 1)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                format!("…{tail}")
            } else {
                path.clone()
            };
            Line::from(vec![
                Span::styled(format!(" {age:>5} "), Style::default().fg(Color::DarkGray)),
                Span::raw(p),
            ])
        })
        .collect()
}

fn draw_status(app: &App, r: Rect, buf: &mut Buffer, now: Instant) {
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
    if let Some((status, code, _)) = &v.finished {
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
    } else if let Some((m, _)) = &app.message {
        spans.push(Span::styled(m.clone(), Style::default().fg(Color::Yellow)));
    } else if app.mode == Mode::Input {
        spans.push(Span::styled("keys go to the session", dim));
    } else {
        spans.push(Span::styled(
            "?:help Enter:input z:zoom r:restart x:stop a:approve q:quit",
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

fn draw_help(area: Rect, buf: &mut Buffer) {
    let key_w = KEYS.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, d)| {
            Line::from(vec![
                Span::styled(
                    format!(" {k:<key_w$}  "),
                    Style::default()
                        .fg(Color::LightCyan)
                        .add_modifier(Modifier::BOLD),
                ),
                Span::raw(*d),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        " Borders: N name · state · activity · elapsed · #attempt",
        Style::default().fg(Color::DarkGray),
    )));
    let w = 64;
    let h = lines.len() as u16 + 2;
    let r = centered(area, w, h);
    Clear.render(r, buf);
    Paragraph::new(lines)
        .block(
            Block::bordered()
                .border_type(BorderType::Double)
                .border_style(Style::default().fg(Color::LightCyan))
                .title(" flightdeck keys "),
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
            Span::raw(" keep running"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_for_people() {
        assert_eq!(fmt_number(250000.02), "250,000.02");
        assert_eq!(fmt_number(1200000.0), "1,200,000");
        assert_eq!(fmt_number(-1234.5), "-1,234.50");
        assert_eq!(fmt_number(12.0), "12");
    }

    #[test]
    fn expected_numbers() {
        assert_eq!(expected_number("2,000,000 ± 5%"), Some(2_000_000.0));
        assert_eq!(expected_number(">= 0.5"), Some(0.5));
        assert_eq!(expected_number("between 2,500 and 3,500"), Some(2500.0));
        assert_eq!(expected_number("at least one file"), None);
    }
}
