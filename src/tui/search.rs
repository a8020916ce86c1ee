//! `/`: search the focused pane's whole history, earlier attempts included. The text
//! comes from the session's log (every byte it wrote, all attempts, as plain text),
//! so history beyond the pane's in-memory scrollback is searchable too; without a
//! log (nothing written yet) it comes from the pane itself. The lines are held only
//! while the search is open.

use super::app::{App, Mode};
use super::keymap::Action;
use crate::ansi::LineAssembler;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use std::cell::Cell;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::Instant;

/// At most this much of a log is read for a search (its newest part).
const LOG_READ_LIMIT: u64 = 256 << 20;

pub struct SearchView {
    pub session: usize,
    pub query: String,
    /// The searched text, one entry per line, oldest first.
    pub lines: Vec<String>,
    /// (line, first char, end char) of every match, in line order.
    pub matches: Vec<(usize, usize, usize)>,
    /// The match shown (an index into `matches`).
    pub current: usize,
    /// First line shown (kept by drawing, which only sees `&self`).
    pub top: Cell<usize>,
    /// The next draw centres the current match.
    pub follow: Cell<bool>,
    /// Where the lines came from, for the border.
    pub source: &'static str,
}

/// Plain-text lines of a log file (escape sequences removed), newest part if huge.
pub fn log_lines(path: &Path) -> Option<Vec<String>> {
    let mut f = std::fs::File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    if len > LOG_READ_LIMIT {
        f.seek(SeekFrom::Start(len - LOG_READ_LIMIT)).ok()?;
    }
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes).ok()?;
    let mut a = LineAssembler::new();
    let mut out = Vec::new();
    for chunk in bytes.chunks(1 << 20) {
        a.feed(chunk);
        out.extend(a.lines().map(str::to_string));
    }
    if !a.partial().is_empty() {
        out.push(a.partial().to_string());
    }
    Some(out)
}

/// Lower-case search unless the query has an upper-case letter (smart case).
fn find_all(lines: &[String], query: &str) -> Vec<(usize, usize, usize)> {
    if query.is_empty() {
        return Vec::new();
    }
    let exact = query.chars().any(char::is_uppercase);
    let q: Vec<char> = if exact {
        query.chars().collect()
    } else {
        query.to_lowercase().chars().collect()
    };
    let mut out = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        let hay: Vec<char> = if exact {
            line.chars().collect()
        } else {
            line.chars().flat_map(char::to_lowercase).collect()
        };
        if hay.len() < q.len() {
            continue;
        }
        let mut i = 0;
        while i + q.len() <= hay.len() {
            if hay[i..i + q.len()] == q[..] {
                out.push((n, i, i + q.len()));
                i += q.len();
            } else {
                i += 1;
            }
        }
    }
    out
}

impl SearchView {
    pub fn new(session: usize, lines: Vec<String>, source: &'static str) -> SearchView {
        SearchView {
            session,
            query: String::new(),
            top: Cell::new(lines.len()),
            lines,
            matches: Vec::new(),
            current: 0,
            follow: Cell::new(true),
            source,
        }
    }

    /// Search again for the query; the current match is the newest one.
    pub fn update(&mut self) {
        self.matches = find_all(&self.lines, &self.query);
        self.current = self.matches.len().saturating_sub(1);
        self.follow.set(true);
    }

    /// Older (`n`) or newer (`N`) match, wrapping around.
    pub fn step(&mut self, older: bool) {
        let n = self.matches.len();
        if n == 0 {
            return;
        }
        self.current = if older {
            (self.current + n - 1) % n
        } else {
            (self.current + 1) % n
        };
        self.follow.set(true);
    }

    /// Scroll by `delta` lines (negative: up).
    pub fn scroll(&self, delta: isize) {
        self.follow.set(false);
        self.top.set(self.top.get().saturating_add_signed(delta));
    }

    /// Put the current match in the middle of `height` lines.
    fn scroll_to_match(&self, height: usize) {
        let top = match self.matches.get(self.current) {
            Some(&(line, _, _)) => line.saturating_sub(height / 2),
            None => self.lines.len().saturating_sub(height),
        };
        self.top.set(top);
    }

    /// Draw the lines around the current match into `area`, matches highlighted.
    pub fn render(&self, area: Rect, buf: &mut Buffer) {
        let height = area.height as usize;
        if self.follow.get() {
            self.scroll_to_match(height);
        }
        let top = self.top.get().min(self.lines.len().saturating_sub(height));
        self.top.set(top);
        let hit = Style::default().fg(Color::Black).bg(Color::Yellow);
        let current = hit.bg(Color::LightRed).add_modifier(Modifier::BOLD);
        let first = self.matches.partition_point(|m| m.0 < top);
        for row in 0..height {
            let n = top + row;
            let Some(text) = self.lines.get(n) else { break };
            let chars: Vec<char> = text.chars().collect();
            let mut spans = Vec::new();
            let mut at = 0;
            for (k, m) in self.matches[first..].iter().enumerate() {
                if m.0 != n {
                    if m.0 > n {
                        break;
                    }
                    continue;
                }
                spans.push(Span::raw(chars[at..m.1].iter().collect::<String>()));
                let style = if first + k == self.current {
                    current
                } else {
                    hit
                };
                spans.push(Span::styled(
                    chars[m.1..m.2].iter().collect::<String>(),
                    style,
                ));
                at = m.2;
            }
            spans.push(Span::raw(chars[at..].iter().collect::<String>()));
            buf.set_line(area.x, area.y + row as u16, &Line::from(spans), area.width);
        }
    }

    /// `3/17 "query"` for the pane's border (short: panes can be narrow).
    pub fn summary(&self) -> String {
        if self.matches.is_empty() {
            format!(" no match \"{}\" ", self.query)
        } else {
            format!(
                " {}/{} \"{}\" ",
                self.current + 1,
                self.matches.len(),
                self.query
            )
        }
    }

    /// The status line while moving between matches.
    pub fn status(&self) -> String {
        format!(
            "match {}/{} of \"{}\" in {} · n older · N newer · / new search · Esc leaves",
            (self.current + 1).min(self.matches.len()),
            self.matches.len(),
            self.query,
            self.source
        )
    }
}

impl App {
    /// The searchable text of a session: its log, or the pane when there is none.
    fn history_text(&self, session: usize) -> (Vec<String>, &'static str) {
        if let Some(lines) = log_lines(&self.view.log_path(session)) {
            return (lines, "the log (every attempt)");
        }
        (self.screens.pane(session).text_lines(), "the pane")
    }

    pub fn start_search(&mut self, now: Instant) {
        if self.screens.is_empty() {
            return self.say("no session to search", now);
        }
        let (lines, source) = self.history_text(self.focus);
        self.search = Some(SearchView::new(self.focus, lines, source));
        self.mode = Mode::SearchInput;
    }

    /// `n` / `N` outside a search: search the focused pane for the last query again.
    pub fn resume_search(&mut self, older: bool, now: Instant) {
        if self.last_query.is_empty() {
            return self.say("no search yet: / searches the focused pane", now);
        }
        self.start_search(now);
        if let Some(s) = self.search.as_mut() {
            s.query = self.last_query.clone();
            s.update();
            if !older {
                s.step(false);
            }
        }
        self.mode = Mode::Search;
    }

    pub fn search_key(&mut self, action: Action, key: &KeyEvent, now: Instant) {
        let Some(s) = self.search.as_mut() else {
            self.mode = Mode::Normal;
            return;
        };
        match action {
            Action::Type => {
                if let KeyCode::Char(c) = key.code {
                    s.query.push(c);
                    s.update();
                }
            }
            Action::Erase => {
                s.query.pop();
                s.update();
            }
            Action::Accept => {
                if s.matches.is_empty() {
                    let q = s.query.clone();
                    return self.say(format!("no match for \"{q}\""), now);
                }
                self.last_query = s.query.clone();
                self.mode = Mode::Search;
            }
            Action::SearchNext | Action::SearchPrevious => s.step(action == Action::SearchNext),
            Action::Up => s.scroll(-1),
            Action::Down => s.scroll(1),
            Action::PageUp => s.scroll(-10),
            Action::PageDown => s.scroll(10),
            Action::Search => {
                s.query.clear();
                s.update();
                self.mode = Mode::SearchInput;
            }
            _ => {
                self.search = None;
                self.mode = Mode::Normal;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smart_case_and_every_match() {
        let lines: Vec<String> = ["Error: x", "no error", "ERROR error"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(find_all(&lines, "error").len(), 4);
        assert_eq!(find_all(&lines, "Error"), vec![(0, 0, 5)]);
        assert!(find_all(&lines, "").is_empty());
        let mut v = SearchView::new(0, lines, "test");
        v.query = "error".into();
        v.update();
        assert_eq!(v.matches[v.current], (2, 6, 11));
        v.step(true);
        assert_eq!(v.matches[v.current], (2, 0, 5));
        v.step(false);
        v.step(false);
        assert_eq!(v.matches[v.current], (0, 0, 5));
    }
}
