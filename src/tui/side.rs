//! The side panels beside the grid: sessions by phase, gates with their reason,
//! checks (value against expected, with a bar), recently changed files. The panels
//! full screen (`p`) reuse these lines.

use super::app::App;
use super::model::{CheckCounts, fmt_duration};
use super::regions::{Key, Painter};
use super::shorten;
use super::ui::{FOCUS, NEEDS_INPUT, state_color, state_mark};
use crate::checks::{CheckStatus, Measured};
use crate::engine::{Activity, SessionState};
use crate::gates::Verdict;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph, Widget};
use std::time::Instant;
/// A side panel's title.
fn panel(title: &str, extra: Option<Span<'static>>) -> Line<'static> {
    let mut t = vec![Span::styled(
        format!(" {title} "),
        Style::default().add_modifier(Modifier::BOLD),
    )];
    if let Some(e) = extra {
        t.push(e);
        t.push(Span::raw(" "));
    }
    Line::from(t)
}

pub fn draw_side(app: &App, side: Rect, painter: &mut Painter, now: Instant) {
    let v = &app.view;
    let session_lines = session_lines(app, side.width.saturating_sub(2), now);
    let gate_lines = gate_lines(app, side.width.saturating_sub(2));
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
    // Each panel a region of its own: its title, then its lines.
    let mut section = |height: u16,
                       title: Line<'static>,
                       mut lines: Vec<Line<'static>>,
                       painter: &mut Painter| {
        if height < 2 {
            return;
        }
        let r = Rect::new(side.x, y, side.width, height);
        lines.insert(0, title);
        painter.region_with(r, Some(Key::Lines(lines)), |buf, key| {
            let Some(Key::Lines(lines)) = key else {
                return;
            };
            let block = Block::default()
                .borders(Borders::ALL)
                .border_type(BorderType::Rounded)
                .border_style(Style::default().fg(Color::DarkGray))
                .title(lines[0].clone());
            let inner = block.inner(r);
            block.render(r, buf);
            Paragraph::new(lines[1..].to_vec()).render(inner, buf);
        });
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
        painter,
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
        section(g_h, panel("Gates", extra), gate_lines, painter);
    }
    // The title's frame: corners, " Checks " and a space after the counts.
    let room = (side.width as usize).saturating_sub(2 + 8 + 1);
    let extra = Span::styled(
        check_summary(v.check_counts(), room),
        Style::default().fg(Color::DarkGray),
    );
    section(c_h, panel("Checks", Some(extra)), check_lines, painter);
    section(f_h, panel("Recent files", None), file_lines, painter);
}

/// `130 pass, 3 fail, 2 warn, 14 pending, 1 provisional` (counts of zero left out but
/// pass), or with the list's marks where that does not fit: `✓130 ✗3 !2 …14 ?1`.
fn check_summary(c: CheckCounts, room: usize) -> String {
    let counts = [
        (c.fail, "fail", "✗"),
        (c.warn, "warn", "!"),
        (c.pending, "pending", "…"),
        (c.provisional, "provisional", "?"),
    ];
    let shown = counts.iter().filter(|(n, ..)| *n > 0);
    let words = std::iter::once(format!("{} pass", c.pass))
        .chain(shown.clone().map(|(n, word, _)| format!("{n} {word}")))
        .collect::<Vec<_>>()
        .join(", ");
    if words.chars().count() <= room {
        return words;
    }
    std::iter::once(format!("✓{}", c.pass))
        .chain(shown.map(|(n, _, mark)| format!("{mark}{n}")))
        .collect::<Vec<_>>()
        .join(" ")
}

fn truncate(s: &str, max: usize) -> String {
    shorten::words(s, max)
}

pub fn session_lines(app: &App, width: u16, now: Instant) -> Vec<Line<'static>> {
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
        // A pending session says what it waits for instead (the mark says pending).
        let waits = v.waiting_text(i);
        spans.push(Span::styled(
            waits.unwrap_or_else(|| s.state.as_str().into()),
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

/// One line per gate (name, verdict), and its reason under it unless it passed.
pub fn gate_lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let v = &app.view;
    v.plan
        .gates
        .iter()
        .enumerate()
        .flat_map(|(g, spec)| {
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
            let mut out = vec![Line::from(vec![
                Span::styled(
                    format!(" {}{manual} ", spec.name),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
                Span::styled(text, style),
            ])];
            if gv.verdict != Some(Verdict::Pass) {
                out.push(Line::from(Span::styled(
                    format!(
                        "   {}",
                        truncate(&v.gate_reason(g), width.saturating_sub(3) as usize)
                    ),
                    Style::default().fg(Color::DarkGray),
                )));
            }
            out
        })
        .collect()
}

pub fn check_lines(app: &App, width: u16) -> Vec<Line<'static>> {
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
    order.sort_by_key(|&k| {
        let r = &v.checks[k].result;
        match r.status {
            CheckStatus::Fail | CheckStatus::Error if !r.provisional => 0,
            CheckStatus::Fail | CheckStatus::Error | CheckStatus::Pending => 1,
            CheckStatus::Pass => 2,
        }
    });
    for k in order {
        let r = &v.checks[k].result;
        let (mark, color) = super::panels::check_mark(r.status, r.severity, r.provisional);
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
        if r.expected.is_unstated() && r.status != CheckStatus::Error {
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
        let shown = crate::checks::text::measured(r).unwrap_or_else(|| "—".into());
        let mut spans = vec![Span::raw("   ")];
        let bar_w = 10usize;
        if let (Some(x), Some(t)) = (value, r.expected.number())
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
        let text = if r.expected.is_unstated() {
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

pub fn file_lines(app: &App, now: Instant, width: u16) -> Vec<Line<'static>> {
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
            // Cut from the left: the file name matters most.
            let p = shorten::path(path, room);
            Line::from(vec![
                Span::styled(format!(" {age:>5} "), Style::default().fg(Color::DarkGray)),
                Span::raw(p),
            ])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_summary_leaves_out_zeros_and_falls_back_to_marks() {
        let c = CheckCounts {
            pass: 130,
            fail: 3,
            warn: 2,
            pending: 14,
            provisional: 1,
        };
        let words = "130 pass, 3 fail, 2 warn, 14 pending, 1 provisional";
        assert_eq!(check_summary(c, 80), words);
        assert_eq!(check_summary(c, 30), "✓130 ✗3 !2 …14 ?1");
        let done = CheckCounts {
            pass: 16,
            warn: 1,
            ..Default::default()
        };
        assert_eq!(check_summary(done, 40), "16 pass, 1 warn");
        assert_eq!(check_summary(CheckCounts::default(), 40), "0 pass");
    }
}
