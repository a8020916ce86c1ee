//! Copy mode (`v`) and mouse selection within a pane. What is copied goes to the
//! user's clipboard through their own terminal (OSC 52), queued on
//! `App::terminal_out`, and only on the user's action.

use super::app::{App, Mode};
use super::keymap::Action;
use base64::Engine;
use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use std::cell::Cell;
use std::time::Instant;

/// A place in text: (line, char).
pub type Spot = (usize, usize);

pub struct CopyView {
    pub session: usize,
    /// The pane's scrollback and screen as text, oldest first.
    pub lines: Vec<String>,
    pub cursor: Spot,
    /// Where the selection started (`Space`).
    pub anchor: Option<Spot>,
    /// First line shown (kept by drawing).
    pub top: Cell<usize>,
}

/// A mouse drag inside one pane, in screen cells relative to its text area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drag {
    pub session: usize,
    pub from: (u16, u16),
    pub to: (u16, u16),
}

/// The OSC 52 sequence that puts `text` on the terminal's clipboard.
pub fn osc52(text: &str) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    format!("\x1b]52;c;{b64}\x07").into_bytes()
}

/// The text between two spots (inclusive of both ends), in any order.
pub fn selected(lines: &[String], a: Spot, b: Spot) -> String {
    let (start, end) = if a <= b { (a, b) } else { (b, a) };
    let mut out = String::new();
    let count = (end.0 + 1).saturating_sub(start.0);
    for (n, line) in lines.iter().enumerate().skip(start.0).take(count) {
        let chars: Vec<char> = line.chars().collect();
        let from = if n == start.0 {
            start.1.min(chars.len())
        } else {
            0
        };
        let to = if n == end.0 {
            (end.1 + 1).min(chars.len())
        } else {
            chars.len()
        };
        if n > start.0 {
            out.push('\n');
        }
        out.extend(&chars[from..to.max(from)]);
    }
    out
}

impl CopyView {
    pub fn new(session: usize, lines: Vec<String>) -> CopyView {
        // The cursor starts on the last line with text.
        let last = lines
            .iter()
            .rposition(|l| !l.trim().is_empty())
            .unwrap_or(0);
        CopyView {
            session,
            top: Cell::new(last),
            lines,
            cursor: (last, 0),
            anchor: None,
        }
    }

    fn line_len(&self, n: usize) -> usize {
        self.lines.get(n).map_or(0, |l| l.chars().count())
    }

    pub fn move_by(&mut self, lines: isize, cols: isize) {
        let last = self.lines.len().saturating_sub(1);
        let line = self.cursor.0.saturating_add_signed(lines).min(last);
        let col = self
            .cursor
            .1
            .saturating_add_signed(cols)
            .min(self.line_len(line).saturating_sub(1));
        self.cursor = (line, col);
    }

    fn in_selection(&self, spot: Spot) -> bool {
        match self.anchor {
            Some(a) => {
                let (s, e) = if a <= self.cursor {
                    (a, self.cursor)
                } else {
                    (self.cursor, a)
                };
                s <= spot && spot <= e
            }
            None => false,
        }
    }

    /// Draw the text around the cursor into `area`, the selection and cursor marked.
    pub fn render(&self, area: Rect, buf: &mut Buffer) {
        let height = area.height as usize;
        let mut top = self.top.get();
        if self.cursor.0 < top {
            top = self.cursor.0;
        } else if self.cursor.0 >= top + height {
            top = self.cursor.0 + 1 - height;
        }
        top = top.min(self.lines.len().saturating_sub(height));
        self.top.set(top);
        let sel = Style::default().bg(Color::Blue).fg(Color::White);
        for row in 0..height.min(self.lines.len().saturating_sub(top)) {
            let n = top + row;
            let y = area.y + row as u16;
            let mut x = area.x;
            for (c, ch) in self.lines[n].chars().enumerate() {
                if x >= area.right() {
                    break;
                }
                let Some(cell) = buf.cell_mut((x, y)) else {
                    break;
                };
                cell.set_char(ch);
                if self.in_selection((n, c)) {
                    cell.set_style(sel);
                }
                x += unicode_width::UnicodeWidthChar::width(ch)
                    .unwrap_or(1)
                    .max(1) as u16;
            }
            if n == self.cursor.0 {
                let cx = area.x + self.cursor.1 as u16;
                if let Some(cell) = buf.cell_mut((cx.min(area.right().saturating_sub(1)), y)) {
                    cell.set_style(Style::default().add_modifier(Modifier::REVERSED));
                }
            }
        }
    }

    /// For the border.
    pub fn summary(&self) -> String {
        match self.anchor {
            Some(_) => " COPY · selecting · y ".into(),
            None => " COPY · Space · Y ".into(),
        }
    }
}

impl App {
    pub fn start_copy(&mut self, now: Instant) {
        if self.screens.is_empty() {
            return self.say("no session to copy from", now);
        }
        let lines = self.screens.pane(self.focus).text_lines();
        self.copy = Some(CopyView::new(self.focus, lines));
        self.mode = Mode::Copy;
    }

    /// Put `text` on the user's clipboard (through their terminal).
    pub fn to_clipboard(&mut self, text: &str, now: Instant) {
        self.terminal_out.extend_from_slice(&osc52(text));
        let n = text.chars().count();
        self.say(format!("copied {n} characters to the clipboard"), now);
    }

    pub fn copy_key(&mut self, action: Action, now: Instant) {
        let Some(c) = self.copy.as_mut() else {
            self.mode = Mode::Normal;
            return;
        };
        let page = 10;
        match action {
            Action::Up => c.move_by(-1, 0),
            Action::Down => c.move_by(1, 0),
            Action::Left => c.move_by(0, -1),
            Action::Right => c.move_by(0, 1),
            Action::PageUp => c.move_by(-page, 0),
            Action::PageDown => c.move_by(page, 0),
            Action::SelectStart => c.anchor = Some(c.cursor),
            Action::CopySelection => match c.anchor {
                Some(a) => {
                    let text = selected(&c.lines, a, c.cursor);
                    self.copy = None;
                    self.mode = Mode::Normal;
                    self.to_clipboard(&text, now);
                }
                None => self.say(
                    "nothing selected: Space starts a selection, Y copies the line",
                    now,
                ),
            },
            Action::CopyLine => {
                let text = c.lines.get(c.cursor.0).cloned().unwrap_or_default();
                self.copy = None;
                self.mode = Mode::Normal;
                self.to_clipboard(&text, now);
            }
            _ => {
                self.copy = None;
                self.mode = Mode::Normal;
            }
        }
    }

    /// Start a mouse selection where the left button went down in a pane's text.
    pub fn start_drag(&mut self, session: usize, pos: Position) {
        if let Some(p) = self.layout.panes.iter().find(|p| p.session == session)
            && p.inner.contains(pos)
        {
            let at = (pos.y - p.inner.y, pos.x - p.inner.x);
            self.drag = Some(Drag {
                session,
                from: at,
                to: at,
            });
        }
    }

    /// Follow a drag in progress; true when the event belonged to it.
    pub fn drag_mouse(&mut self, m: &MouseEvent) -> bool {
        let Some(mut d) = self.drag else { return false };
        let Some(p) = self.layout.panes.iter().find(|p| p.session == d.session) else {
            self.drag = None;
            return false;
        };
        let inner = p.inner;
        // Clamp to the pane: a selection never crosses into another.
        let clamp = |v: u16, lo: u16, len: u16| v.clamp(lo, lo + len.saturating_sub(1)) - lo;
        let at = (
            clamp(m.row, inner.y, inner.height),
            clamp(m.column, inner.x, inner.width),
        );
        match m.kind {
            MouseEventKind::Drag(MouseButton::Left) => {
                d.to = at;
                self.drag = Some(d);
                true
            }
            MouseEventKind::Up(MouseButton::Left) => {
                d.to = at;
                self.drag = None;
                if d.from != d.to {
                    let rows: Vec<String> = {
                        let pane = self.screens.pane(d.session);
                        (0..inner.height).map(|r| pane.row_text(r)).collect()
                    };
                    let a = (d.from.0 as usize, d.from.1 as usize);
                    let b = (d.to.0 as usize, d.to.1 as usize);
                    self.to_clipboard(&selected(&rows, a, b), Instant::now());
                }
                true
            }
            _ => {
                self.drag = None;
                false
            }
        }
    }
}

/// Mark a drag's cells in a drawn pane.
pub fn render_drag(d: &Drag, inner: Rect, buf: &mut Buffer) {
    let (a, b) = if d.from <= d.to {
        (d.from, d.to)
    } else {
        (d.to, d.from)
    };
    for row in a.0..=b.0 {
        let from = if row == a.0 { a.1 } else { 0 };
        let to = if row == b.0 {
            b.1
        } else {
            inner.width.saturating_sub(1)
        };
        for col in from..=to {
            if let Some(cell) = buf.cell_mut((inner.x + col, inner.y + row)) {
                cell.set_style(Style::default().bg(Color::Blue).fg(Color::White));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn selections_span_lines_in_either_direction() {
        let l = lines(&["hello world", "second", "third line"]);
        assert_eq!(selected(&l, (0, 6), (0, 10)), "world");
        assert_eq!(selected(&l, (1, 3), (0, 6)), "world\nseco");
        assert_eq!(selected(&l, (0, 0), (2, 4)), "hello world\nsecond\nthird");
    }

    #[test]
    fn cursor_starts_on_the_last_line_of_text() {
        let v = CopyView::new(0, lines(&["a", "b", "", ""]));
        assert_eq!(v.cursor, (1, 0));
    }

    #[test]
    fn osc52_is_base64() {
        assert_eq!(osc52("hello"), b"\x1b]52;c;aGVsbG8=\x07");
    }
}
