//! The status line (mode hints, the go-to and search prompts, the run's summary) and
//! what is drawn over the grid: the help overlay and the quit dialog.

use super::app::{App, Mode};
use super::keymap::{HELP_MODES, help_rows};
use super::model::fmt_clock;
use super::regions::{Key, Painter};
use super::ui::{FOCUS, NEEDS_INPUT, state_color};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Widget};
use std::time::Instant;

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

pub(super) fn draw_status(app: &App, r: Rect, painter: &mut Painter, now: Instant) {
    let line = status_line(app, now);
    painter.region_with(r, Some(Key::Lines(vec![line])), |buf, key| {
        if let Some(Key::Lines(lines)) = key {
            buf.set_line(r.x, r.y, &lines[0], r.width);
        }
    });
}

/// The prompt being typed, or the run's summary.
fn status_line(app: &App, now: Instant) -> Line<'static> {
    if let Some(line) = prompt_line(app) {
        return line;
    }
    let v = &app.view;
    let dim = Style::default().fg(Color::DarkGray);
    let bar = || Span::styled(" │ ", Style::default().fg(Color::DarkGray));
    let mut spans: Vec<Span<'static>> = Vec::new();
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
    Line::from(spans)
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
pub(super) fn draw_help(app: &App, area: Rect, buf: &mut Buffer) {
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

pub(super) fn draw_confirm(app: &App, area: Rect, buf: &mut Buffer) {
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
            answer_key(" y", Color::LightRed),
            Span::raw(" quit    "),
            answer_key("n", Color::LightGreen),
            Span::raw(" keep running    "),
            answer_key("d", Color::LightYellow),
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

/// A key the quit question accepts, bold in its colour.
fn answer_key(key: &'static str, color: Color) -> Span<'static> {
    Span::styled(key, Style::default().fg(color).add_modifier(Modifier::BOLD))
}
