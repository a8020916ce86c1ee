//! `p`: the panels full screen — sessions, gates, checks and files in one list that
//! scrolls, filtered by typing, with `Enter` for the details of a row. This is how
//! everything stays reachable on a small screen.

use super::app::{App, Mode};
use super::keymap::Action;
use super::model::fmt_duration;
use super::shorten;
use super::ui::{state_color, state_mark};
use crate::checks::{CheckResult, CheckStatus, Severity};
use crate::gates::Verdict;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Widget, Wrap};
use std::cell::Cell;
use std::time::Instant;

/// One row of the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    Session(usize),
    Gate(usize),
    Check(usize),
    File(usize),
}

#[derive(Default)]
pub struct PanelsView {
    pub filter: String,
    /// Index into the filtered rows.
    pub selected: usize,
    /// First line shown (kept by drawing).
    pub top: Cell<usize>,
    /// The row whose details are open.
    pub detail: Option<Row>,
    pub detail_scroll: u16,
}

/// How a check looks: its mark and colour (provisional failures are not failures).
pub fn check_mark(
    status: CheckStatus,
    severity: Severity,
    provisional: bool,
) -> (&'static str, Color) {
    match (status, severity) {
        (CheckStatus::Pass, _) => ("✓", Color::Green),
        (CheckStatus::Pending, _) => ("…", Color::DarkGray),
        _ if provisional => ("?", Color::DarkGray),
        (_, Severity::Warn) => ("!", Color::Yellow),
        (CheckStatus::Error, _) => ("E", Color::Red),
        (CheckStatus::Fail, _) => ("✗", Color::Red),
    }
}

fn value_text(r: &CheckResult) -> String {
    crate::checks::text::measured(r).unwrap_or_else(|| "—".into())
}

fn verdict_style(v: Option<Verdict>) -> Style {
    Style::default().fg(match v {
        Some(Verdict::Pass) => Color::Green,
        Some(Verdict::Conditional) => Color::Yellow,
        Some(Verdict::Fail | Verdict::Blocked) => Color::Red,
        Some(Verdict::Waiting) | None => Color::DarkGray,
    })
}

impl App {
    /// Every row in order: sessions, gates, checks (failures first), files.
    fn all_rows(&self) -> Vec<Row> {
        let v = &self.view;
        let mut checks: Vec<usize> = (0..v.checks.len()).collect();
        checks.sort_by_key(|&k| {
            let r = &v.checks[k].result;
            match r.status {
                CheckStatus::Fail | CheckStatus::Error if !r.provisional => 0,
                CheckStatus::Pass => 2,
                _ => 1,
            }
        });
        (0..v.sessions.len())
            .map(Row::Session)
            .chain((0..v.gates.len()).map(Row::Gate))
            .chain(checks.into_iter().map(Row::Check))
            .chain((0..v.files.len()).map(Row::File))
            .collect()
    }

    /// A row as (mark, mark style, text).
    fn row_text(&self, row: Row, now: Instant) -> (String, Style, String) {
        let v = &self.view;
        match row {
            Row::Session(i) => {
                let s = &v.sessions[i];
                let spec = &v.plan.sessions[i];
                let mut t = format!("{:>2} {} {}", spec.number, spec.name, s.state.as_str());
                if v.needs_input(i) {
                    t.push_str(" · needs input");
                }
                if let Some(waits) = v.waiting_text(i) {
                    t.push_str(&format!(" · {waits}"));
                }
                let st = Style::default().fg(state_color(s.state));
                (state_mark(s.state).into(), st, t)
            }
            Row::Gate(g) => {
                let verdict = v.gates[g].verdict.map_or("waiting", |x| x.as_str());
                let awaiting = if v.awaiting_approval(g) {
                    ", awaiting approval (a)"
                } else {
                    ""
                };
                let t = format!(
                    "{} {verdict}{awaiting} — {}",
                    v.plan.gates[g].name,
                    v.gate_reason(g)
                );
                ("◆".into(), verdict_style(v.gates[g].verdict), t)
            }
            Row::Check(k) => {
                let r = &v.checks[k].result;
                let (mark, color) = check_mark(r.status, r.severity, r.provisional);
                let mut t = format!("{}: {}", r.source, r.check);
                if r.status == CheckStatus::Error {
                    t.push_str(&format!(" — {}", r.message));
                } else if !r.expected.is_unstated() {
                    t.push_str(&format!(" — {} (expected {})", value_text(r), r.expected));
                }
                if r.provisional && r.status != CheckStatus::Pass {
                    t.push_str(" · provisional");
                }
                (mark.into(), Style::default().fg(color), t)
            }
            Row::File(k) => {
                let (at, path) = &v.files[k];
                let age = fmt_duration(now.saturating_duration_since(*at));
                (
                    "▪".into(),
                    Style::default().fg(Color::DarkGray),
                    format!("{path} ({age} ago)"),
                )
            }
        }
    }

    /// The rows the filter lets through.
    pub fn panel_rows(&self, now: Instant) -> Vec<Row> {
        let f = self.panels.filter.to_lowercase();
        self.all_rows()
            .into_iter()
            .filter(|&r| f.is_empty() || self.row_text(r, now).2.to_lowercase().contains(&f))
            .collect()
    }

    pub fn open_panels(&mut self) {
        self.mode = Mode::Panels;
        self.panels.detail = None;
    }

    pub fn panels_key(&mut self, action: Action, key: &KeyEvent, now: Instant) {
        if self.mode == Mode::Details {
            match action {
                Action::Up => {
                    self.panels.detail_scroll = self.panels.detail_scroll.saturating_sub(1)
                }
                Action::Down => self.panels.detail_scroll += 1,
                _ => {
                    self.panels.detail = None;
                    self.mode = Mode::Panels;
                }
            }
            return;
        }
        let p = &mut self.panels;
        match action {
            Action::Type => {
                if let KeyCode::Char(c) = key.code {
                    p.filter.push(c);
                    p.selected = 0;
                }
            }
            Action::Erase => {
                p.filter.pop();
                p.selected = 0;
            }
            Action::Up => p.selected = p.selected.saturating_sub(1),
            Action::Down => p.selected += 1,
            Action::PageUp => p.selected = p.selected.saturating_sub(10),
            Action::PageDown => p.selected += 10,
            Action::Accept => {
                let rows = self.panel_rows(now);
                match rows.get(self.panels.selected.min(rows.len().saturating_sub(1))) {
                    Some(&r) => {
                        self.panels.detail = Some(r);
                        self.panels.detail_scroll = 0;
                        self.mode = Mode::Details;
                    }
                    None => self.say("no row matches the filter (Backspace erases)", now),
                }
            }
            _ if !p.filter.is_empty() => {
                p.filter.clear();
                p.selected = 0;
            }
            _ => self.mode = Mode::Normal,
        }
    }
}

/// Draw the panels (or one row's details) into `area`.
pub fn render(app: &App, area: Rect, buf: &mut Buffer, now: Instant) {
    if let Some(row) = app.panels.detail {
        return render_details(app, row, area, buf, now);
    }
    let rows = app.panel_rows(now);
    let selected = app.panels.selected.min(rows.len().saturating_sub(1));
    let filter = if app.panels.filter.is_empty() {
        "type to filter".to_string()
    } else {
        format!("filter: {}▏", app.panels.filter)
    };
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(Style::default().fg(Color::LightCyan))
        .title(Line::from(vec![
            Span::styled(" Panels ", Style::default().add_modifier(Modifier::BOLD)),
            Span::styled(
                format!("· {} rows · {filter} ", rows.len()),
                Style::default().fg(Color::DarkGray),
            ),
        ]))
        .title_bottom(Line::from(" ↑↓ select · Enter details · Esc back ").right_aligned());
    let inner = block.inner(area);
    block.render(area, buf);
    let height = inner.height as usize;
    let mut top = app.panels.top.get();
    if selected < top {
        top = selected;
    } else if height > 0 && selected >= top + height {
        top = selected + 1 - height;
    }
    app.panels.top.set(top);
    let width = inner.width as usize;
    for (n, &row) in rows.iter().enumerate().skip(top).take(height) {
        let (mark, mark_style, text) = app.row_text(row, now);
        let section = match row {
            Row::Session(_) => "session",
            Row::Gate(_) => "gate   ",
            Row::Check(_) => "check  ",
            Row::File(_) => "file   ",
        };
        let head = format!(" {section} ");
        let room = width.saturating_sub(head.len() + 3);
        let mut line = Line::from(vec![
            Span::styled(head, Style::default().fg(Color::Blue)),
            Span::styled(format!("{mark} "), mark_style.add_modifier(Modifier::BOLD)),
            Span::raw(shorten::words(&text, room)),
        ]);
        if n == selected {
            line = line.style(Style::default().add_modifier(Modifier::REVERSED));
        }
        buf.set_line(inner.x, inner.y + (n - top) as u16, &line, inner.width);
    }
    if rows.is_empty() {
        buf.set_string(
            inner.x + 1,
            inner.y,
            "no row matches the filter",
            Style::default().fg(Color::DarkGray),
        );
    }
}

fn field(name: &str, value: String) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{name:<12}"), Style::default().fg(Color::LightCyan)),
        Span::raw(value),
    ])
}

/// The details of one row, as lines.
pub fn detail_lines(app: &App, row: Row, now: Instant) -> (String, Vec<Line<'static>>) {
    let v = &app.view;
    let mut out = Vec::new();
    let title = match row {
        Row::Check(k) => {
            let r = &v.checks[k].result;
            let sev = match r.severity {
                Severity::Error => "error",
                Severity::Warn => "warn",
            };
            out.push(field("source", r.source.clone()));
            out.push(field("check", r.check.clone()));
            let status = match r.status {
                CheckStatus::Pass => "pass",
                CheckStatus::Fail => "fail",
                CheckStatus::Error => "error (could not be evaluated)",
                CheckStatus::Pending => "pending",
            };
            out.push(field("status", format!("{status} ({sev} level)")));
            if r.provisional {
                out.push(field(
                    "provisional",
                    "its owner is still running: not final".into(),
                ));
            }
            out.push(field("value", value_text(r)));
            if !r.expected.is_unstated() {
                out.push(field("expected", r.expected.to_string()));
            }
            if !r.message.is_empty() {
                out.push(field("reason", String::new()));
                out.extend(r.message.lines().map(|l| Line::raw(format!("  {l}"))));
            }
            format!(" Check {}: {} ", r.source, r.check)
        }
        Row::Gate(g) => {
            let spec = &v.plan.gates[g];
            let gv = &v.gates[g];
            out.push(field(
                "verdict",
                gv.verdict.map_or("waiting", |x| x.as_str()).into(),
            ));
            let approval = match spec.approval {
                crate::plan::Approval::Auto => "automatic".to_string(),
                crate::plan::Approval::Manual if v.awaiting_approval(g) => {
                    "manual — awaiting approval (a approves)".into()
                }
                crate::plan::Approval::Manual if gv.approved => "manual — approved".into(),
                crate::plan::Approval::Manual => "manual".into(),
            };
            out.push(field("approval", approval));
            out.push(field("reason", v.gate_reason(g)));
            let after: Vec<&str> = spec.after.iter().map(|d| d.raw.as_str()).collect();
            out.push(field("after", after.join(", ")));
            out.push(field(
                "dependents",
                if v.gate_open(g) {
                    "may start".into()
                } else {
                    "wait".into()
                },
            ));
            out.push(Line::raw(""));
            out.push(Line::styled(
                "checks",
                Style::default().add_modifier(Modifier::BOLD),
            ));
            let mut checks = v.gate_checks(g);
            // What made the verdict first.
            checks.sort_by_key(|&k| v.checks[k].result.status == CheckStatus::Pass);
            if checks.is_empty() {
                out.push(Line::raw("  no results yet"));
            }
            for k in checks {
                let r = &v.checks[k].result;
                let (mark, color) = check_mark(r.status, r.severity, r.provisional);
                let detail = if r.status == CheckStatus::Error || r.expected.is_unstated() {
                    r.message.clone()
                } else {
                    format!("{} (expected {})", value_text(r), r.expected)
                };
                out.push(Line::from(vec![
                    Span::styled(format!("  {mark} "), Style::default().fg(color)),
                    Span::raw(format!("{}: {} — {detail}", r.source, r.check)),
                ]));
            }
            format!(" Gate {} ", spec.name)
        }
        Row::Session(i) => {
            let s = &v.sessions[i];
            let spec = &v.plan.sessions[i];
            out.push(field("state", s.state.as_str().into()));
            if let Some(a) = s.activity {
                out.push(field("activity", a.as_str().into()));
            }
            out.push(field("attempt", s.attempt.to_string()));
            if let Some(e) = v.session_elapsed(i, now) {
                out.push(field("elapsed", fmt_duration(e)));
            }
            if let Some(c) = s.exit_code {
                out.push(field("exit", c.to_string()));
            }
            if let Some(sig) = &s.signal {
                out.push(field("signal", sig.clone()));
            }
            if let Some(p) = &spec.phase {
                out.push(field("phase", p.clone()));
            }
            let after: Vec<&str> = spec.after.iter().map(|d| d.raw.as_str()).collect();
            out.push(field("after", after.join(", ")));
            let waits = v.waits_for(i);
            if !waits.is_empty() {
                out.push(field("waits for", waits.join(", ")));
            }
            out.push(field("log", v.log_path(i).display().to_string()));
            format!(" Session {} {} ", spec.number, spec.name)
        }
        Row::File(k) => {
            let (at, path) = &v.files[k];
            out.push(field("path", path.clone()));
            out.push(field(
                "changed",
                format!("{} ago", fmt_duration(now.saturating_duration_since(*at))),
            ));
            " File ".to_string()
        }
    };
    (title, out)
}

fn render_details(app: &App, row: Row, area: Rect, buf: &mut Buffer, now: Instant) {
    let (title, lines) = detail_lines(app, row, now);
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((app.panels.detail_scroll, 0))
        .block(
            Block::bordered()
                .border_type(BorderType::Double)
                .border_style(Style::default().fg(Color::LightCyan))
                .title(title)
                .title_bottom(Line::from(" ↑↓ scroll · Esc back ").right_aligned()),
        )
        .render(area, buf);
}
