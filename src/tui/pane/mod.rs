//! One terminal emulator per session (alacritty_terminal), fed on the session's reader
//! thread through [`Screens`](super::screens::Screens) and drawn by the UI.
//!
//! Containment: the emulator keeps everything a session writes inside its grid. Titles,
//! clipboard requests and bells become listener events that are dropped here; only
//! the grid's printable cells ever reach the real terminal. Replies to terminal
//! queries (cursor position, device attributes, mode reports, colours, text area
//! size) are collected and returned to the engine to write back into the PTY.

mod backlog;
mod skim;

use super::osc::OscCap;
use super::palette;
use super::scrollback::{Row, Scrollback};
use alacritty_terminal::event::{Event as TermEvent, EventListener, WindowSize};
use alacritty_terminal::grid::Dimensions;
use alacritty_terminal::index::{Column, Line, Point};
use alacritty_terminal::term::cell::Flags;
use alacritty_terminal::term::{Config, Term, TermMode};
use alacritty_terminal::vte::ansi::{CursorShape, Processor};
use backlog::Backlog;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use skim::Tracker;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Lines of scrollback kept per pane (as tmux does). Older output stays searchable
/// in the session's log (`/`), so memory stays small for long sessions.
pub const DEFAULT_SCROLLBACK: usize = 2_000;

/// Rows the emulator holds above its screen before they move to the compact
/// [`Scrollback`] (alacritty keeps every row as 24-byte cells of the full width).
const EMULATOR_HISTORY: usize = 32;

/// Fed to the terminal when a new attempt starts: the old attempt's modes (alternate
/// screen, scroll region, colours, mouse, keypad, bracketed paste, hidden cursor) end,
/// its text stays above.
const NEW_ATTEMPT: &[u8] = b"\x1b[?1049l\x1b7\x1b[r\x1b8\x1b[0m\x1b[?25h\x1b[?1l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?2004l";

/// Size of a terminal grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    pub rows: u16,
    pub cols: u16,
}

impl Dimensions for Size {
    fn total_lines(&self) -> usize {
        self.rows as usize
    }
    fn screen_lines(&self) -> usize {
        self.rows as usize
    }
    fn columns(&self) -> usize {
        self.cols as usize
    }
}

/// Collects the emulator's events while it parses; drained after each chunk.
#[derive(Clone, Default)]
struct Listener {
    events: Arc<Mutex<Vec<TermEvent>>>,
}

impl EventListener for Listener {
    fn send_event(&self, event: TermEvent) {
        match event {
            // Only events that need an answer in the PTY are kept.
            TermEvent::PtyWrite(_)
            | TermEvent::ColorRequest(..)
            | TermEvent::TextAreaSizeRequest(_) => {
                if let Ok(mut v) = self.events.lock() {
                    v.push(event)
                }
            }
            // Titles, clipboard, bell, cursor blink...: contained (dropped).
            _ => {}
        }
    }
}

/// One session's terminal.
pub struct Pane {
    term: Term<Listener>,
    parser: Processor,
    listener: Listener,
    osc: OscCap,
    size: Size,
    /// Rows that scrolled off the screen, compact.
    scrollback: Scrollback,
    /// Rows scrolled back from live (0: live).
    offset: usize,
    /// Rows the emulator's storage holds (screen and history), so its history never
    /// outgrows them: alacritty grows it by 1,000 full-width rows at a time.
    storage_rows: usize,
    /// Attempt this terminal belongs to (0: nothing started yet).
    pub attempt: u32,
    /// Follows every byte as the parser would, for skimming a flood.
    tracker: Tracker,
    /// Output not parsed yet (a flood).
    backlog: Backlog,
}

fn config(scrollback: usize) -> Config {
    Config {
        scrolling_history: scrollback,
        osc52: alacritty_terminal::term::Osc52::Disabled,
        kitty_keyboard: false,
        ..Config::default()
    }
}

impl Pane {
    pub fn new(rows: u16, cols: u16, scrollback: usize) -> Pane {
        let size = Size {
            rows: rows.max(1),
            cols: cols.max(2),
        };
        let listener = Listener::default();
        let mut pane = Pane {
            term: Term::new(config(EMULATOR_HISTORY), &size, listener.clone()),
            parser: Processor::new(),
            listener,
            osc: OscCap::default(),
            size,
            scrollback: Scrollback::new(scrollback),
            offset: 0,
            storage_rows: 0,
            attempt: 0,
            tracker: Tracker::default(),
            backlog: Backlog::default(),
        };
        pane.reserve_history();
        pane
    }

    /// Make the emulator's storage exactly its screen plus [`EMULATOR_HISTORY`] rows
    /// (alacritty allocates history 1,000 rows at a time and keeps them), leaving the
    /// screen and cursor as they were.
    fn reserve_history(&mut self) {
        let rows = self.size.rows as usize;
        let grid = self.term.grid_mut();
        let screen: Vec<_> = (0..rows as i32).map(|l| grid[Line(l)].clone()).collect();
        let (cursor, saved) = (grid.cursor.clone(), grid.saved_cursor.clone());
        grid.update_history(EMULATOR_HISTORY);
        grid.clear_history();
        grid.scroll_up(&(Line(0)..Line(rows as i32)), EMULATOR_HISTORY);
        grid.truncate();
        grid.clear_history();
        for (l, row) in screen.into_iter().enumerate() {
            grid[Line(l as i32)] = row;
        }
        grid.cursor = cursor;
        grid.saved_cursor = saved;
        self.storage_rows = rows + EMULATOR_HISTORY;
        // The spare rows were freed; hand their pages back rather than keep them.
        #[cfg(target_env = "gnu")]
        unsafe {
            libc::malloc_trim(0);
        }
    }

    /// Move the rows that scrolled off the screen into the compact scrollback.
    fn take_history(&mut self) {
        let cols = self.size.cols as usize;
        let grid = self.term.grid_mut();
        let history = grid.history_size();
        if history == 0 || self.term.mode().contains(TermMode::ALT_SCREEN) {
            return;
        }
        let grid = self.term.grid();
        for l in (1..=history as i32).rev() {
            self.scrollback.push(Row::from_grid(&grid[Line(-l)], cols));
        }
        self.term.grid_mut().clear_history();
        if self.offset > 0 {
            self.offset = (self.offset + history).min(self.scrollback.len());
        }
    }

    /// Rows one piece of output may scroll: the emulator must hold them all until
    /// they are taken.
    fn piece_budget(&self) -> usize {
        (self.storage_rows.saturating_sub(self.size.rows as usize) / 2).max(1)
    }

    /// A new attempt: the terminal's modes are reset, earlier attempts stay visible
    /// above (the session writes the separator line that names the attempt).
    pub fn new_attempt(&mut self, attempt: u32) {
        self.catch_up_quietly();
        self.backlog.clear_unsent();
        self.parser = Processor::new();
        self.tracker = Tracker::default();
        self.osc = OscCap::default();
        self.advance(NEW_ATTEMPT);
        if self.term.grid().cursor.point.column.0 > 0 {
            self.advance(b"\r\n");
        }
        self.replies();
        self.attempt = attempt;
    }

    pub fn size(&self) -> Size {
        self.size
    }

    /// Resize the grid (the PTY is resized by the engine on `Command::Resize`).
    pub fn resize(&mut self, rows: u16, cols: u16) {
        let size = Size {
            rows: rows.max(1),
            cols: cols.max(2),
        };
        if size == self.size {
            return;
        }
        self.catch_up_quietly();
        // The emulator's resize resets the scroll region.
        self.tracker.region_full = true;
        let (old, grew) = (self.size, size.rows > self.size.rows);
        self.size = size;
        self.term.resize(size);
        if grew {
            // The emulator filled the new rows from its (empty) history with blanks.
            self.term.grid_mut().clear_history();
        } else {
            self.take_history();
        }
        if size.cols != old.cols {
            self.scrollback.reflow(size.cols as usize);
            self.offset = self.offset.min(self.scrollback.len());
        }
        if grew {
            self.pull_back((size.rows - old.rows) as usize);
        }
        // A width change rebuilds the emulator's storage without spare rows.
        self.reserve_history();
    }

    /// A taller screen takes its newest stored rows back above what it shows (as
    /// tmux does), instead of leaving blank rows below it. The alternate screen has
    /// no scrollback of its own.
    fn pull_back(&mut self, added: usize) {
        let taken = added.min(self.scrollback.len());
        if taken == 0 || self.term.mode().contains(TermMode::ALT_SCREEN) {
            return;
        }
        let (rows, cols) = (self.size.rows as i32, self.size.cols as usize);
        let grid = self.term.grid_mut();
        grid.scroll_down(&(Line(0)..Line(rows)), taken);
        for line in (0..taken as i32).rev() {
            if let Some(row) = self.scrollback.pop() {
                row.to_grid(&mut grid[Line(line)], cols);
            }
        }
        let last = Line(rows - 1);
        grid.cursor.point.line = (grid.cursor.point.line + taken).min(last);
        grid.saved_cursor.point.line = (grid.saved_cursor.point.line + taken).min(last);
        self.offset = self.offset.saturating_sub(taken);
    }

    /// Parse bytes in full.
    fn advance(&mut self, bytes: &[u8]) {
        self.tracker.follow(bytes);
        self.emulate(bytes);
    }

    /// Parse bytes the tracker has already followed (or that stand for a skimmed
    /// stretch it has), moving what scrolls off into the scrollback as it goes.
    fn emulate(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            let n = piece(rest, self.size, self.piece_budget());
            self.parser.advance(&mut self.term, &rest[..n]);
            self.take_history();
            rest = &rest[n..];
        }
    }

    /// End a synchronized update (DEC mode 2026) whose time is up; true if one was.
    pub fn expire_sync(&mut self, now: Instant) -> bool {
        match self.parser.sync_timeout().sync_timeout() {
            Some(t) if t <= now => {
                self.parser.stop_sync(&mut self.term);
                self.take_history();
                true
            }
            _ => false,
        }
    }

    /// When a synchronized update in progress must be ended at the latest.
    pub fn sync_deadline(&self) -> Option<Instant> {
        self.parser.sync_timeout().sync_timeout()
    }

    fn replies(&mut self) -> Vec<u8> {
        let events = match self.listener.events.lock() {
            Ok(mut v) if !v.is_empty() => std::mem::take(&mut *v),
            _ => return Vec::new(),
        };
        let mut out = Vec::new();
        for e in events {
            match e {
                TermEvent::PtyWrite(s) => out.extend_from_slice(s.as_bytes()),
                TermEvent::ColorRequest(index, fmt) => {
                    let rgb =
                        self.term.colors()[index].unwrap_or_else(|| palette::default_rgb(index));
                    out.extend_from_slice(fmt(rgb).as_bytes());
                }
                TermEvent::TextAreaSizeRequest(fmt) => {
                    let ws = WindowSize {
                        num_lines: self.size.rows,
                        num_cols: self.size.cols,
                        cell_width: 8,
                        cell_height: 16,
                    };
                    out.extend_from_slice(fmt(ws).as_bytes());
                }
                _ => {}
            }
        }
        out
    }

    pub fn mode(&self) -> TermMode {
        *self.term.mode()
    }

    /// Application cursor keys (DECCKM) are on.
    pub fn app_cursor(&self) -> bool {
        self.term.mode().contains(TermMode::APP_CURSOR)
    }

    pub fn bracketed_paste(&self) -> bool {
        self.term.mode().contains(TermMode::BRACKETED_PASTE)
    }

    pub fn alt_screen(&self) -> bool {
        self.term.mode().contains(TermMode::ALT_SCREEN)
    }

    /// Scroll back (positive: up into history) by lines.
    pub fn scroll(&mut self, lines: i32) {
        self.catch_up_quietly();
        let to = (self.scroll_offset() as i64 + lines as i64).clamp(0, self.history() as i64);
        self.offset = to as usize;
    }

    pub fn scroll_page(&mut self, up: bool) {
        let half = (self.size.rows as i32 / 2).max(1);
        self.scroll(if up { half } else { -half });
    }

    /// Back to live. A live pane stays as it is: a flood's backlog goes on waiting
    /// (each key typed into the session brings it here).
    pub fn scroll_to_bottom(&mut self) {
        if self.offset > 0 {
            self.catch_up_quietly();
            self.offset = 0;
        }
    }

    /// Lines scrolled back from live (0 = live).
    pub fn scroll_offset(&self) -> usize {
        self.offset.min(self.history())
    }

    /// Lines of history kept (none on the alternate screen, which has no history).
    pub fn history(&self) -> usize {
        if self.alt_screen() {
            0
        } else {
            self.scrollback.len()
        }
    }

    /// What is shown on screen row `row`: a stored row, or a line of the emulator's
    /// screen.
    fn shown(&self, row: u16) -> Shown<'_> {
        let at = self.history() - self.scroll_offset() + row as usize;
        match self.scrollback.get(at).filter(|_| at < self.history()) {
            Some(stored) => Shown::Stored(stored),
            None => Shown::Screen(Line((at - self.history()) as i32)),
        }
    }

    /// A stored row (tests).
    pub fn stored_row(&self, i: usize) -> Option<&Row> {
        self.scrollback.get(i)
    }

    /// The visible text of one screen row (tests, attention matching).
    pub fn row_text(&self, row: u16) -> String {
        let line = match self.shown(row) {
            Shown::Stored(stored) => return stored.text(),
            Shown::Screen(line) => line,
        };
        let grid = self.term.grid();
        let mut s = String::new();
        for c in 0..self.size.cols as usize {
            let cell = &grid[Point::new(line, Column(c))];
            if cell.flags.contains(Flags::WIDE_CHAR_SPACER) {
                continue;
            }
            s.push(cell.c);
        }
        s.trim_end().to_string()
    }

    /// Scrollback and screen as text, oldest line first, trailing blank rows left out.
    pub fn text_lines(&self) -> Vec<String> {
        let grid = self.term.grid();
        let stored = self.scrollback.iter().take(self.history()).map(Row::text);
        let mut out: Vec<String> = stored
            .chain((0..self.size.rows as i32).map(|l| {
                let row = &grid[Line(l)];
                let mut s = String::new();
                for c in 0..self.size.cols as usize {
                    let cell = &row[Column(c)];
                    if !cell.flags.contains(Flags::WIDE_CHAR_SPACER) {
                        s.push(sanitize(cell.c));
                    }
                }
                s.trim_end().to_string()
            }))
            .collect();
        while out.last().is_some_and(|l| l.is_empty()) {
            out.pop();
        }
        out
    }

    /// The whole visible screen as text, one line per row.
    pub fn screen_text(&self) -> String {
        (0..self.size.rows)
            .map(|r| self.row_text(r))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The cursor's screen position (row, col), if visible and on screen.
    pub fn cursor(&self) -> Option<(u16, u16)> {
        let content = self.term.renderable_content();
        if content.cursor.shape == CursorShape::Hidden {
            return None;
        }
        let line = content.cursor.point.line.0 + self.scroll_offset() as i32;
        if line < 0 || line >= self.size.rows as i32 {
            return None;
        }
        Some((line as u16, content.cursor.point.column.0 as u16))
    }

    /// The style a cell of the visible screen is drawn with (tests).
    pub fn cell_style(&self, row: u16, col: u16) -> (String, Style) {
        let colors = self.term.colors();
        let line = match self.shown(row) {
            Shown::Stored(stored) => {
                let (c, pen) = stored.cell(col as usize).unwrap_or_default();
                return (c, palette::style_of(colors, pen.fg, pen.bg, pen.flags));
            }
            Shown::Screen(line) => line,
        };
        let cell = &self.term.grid()[Point::new(line, Column(col as usize))];
        (
            cell.c.to_string(),
            palette::style_of(self.term.colors(), cell.fg, cell.bg, cell.flags),
        )
    }

    /// Draw the visible screen into `area` of `buf` (clipped to both sizes); the
    /// cursor is drawn as a reversed cell when `show_cursor`.
    pub fn render(&self, area: Rect, buf: &mut Buffer, show_cursor: bool) {
        let rows = (self.size.rows).min(area.height);
        let cols = (self.size.cols).min(area.width);
        let grid = self.term.grid();
        for line in 0..rows {
            let y = area.y + line;
            let screen_line = match self.shown(line) {
                Shown::Stored(stored) => {
                    stored.render(self.term.colors(), area.x, y, cols, buf);
                    continue;
                }
                Shown::Screen(l) => l,
            };
            for col in 0..cols as usize {
                let cell = &grid[screen_line][Column(col)];
                let x = area.x + col as u16;
                let Some(out) = buf.cell_mut((x, y)) else {
                    continue;
                };
                if cell
                    .flags
                    .intersects(Flags::WIDE_CHAR_SPACER | Flags::LEADING_WIDE_CHAR_SPACER)
                {
                    if cell.flags.contains(Flags::LEADING_WIDE_CHAR_SPACER) {
                        out.reset();
                        out.set_style(palette::style_of(
                            self.term.colors(),
                            cell.fg,
                            cell.bg,
                            Flags::empty(),
                        ));
                    } else {
                        // Covered by the wide character to its left (ratatui skips it).
                        out.reset();
                    }
                    continue;
                }
                let style = palette::style_of(self.term.colors(), cell.fg, cell.bg, cell.flags);
                let wide = cell.flags.contains(Flags::WIDE_CHAR);
                if wide && col + 1 >= cols as usize {
                    // A wide character cut by the pane's edge.
                    out.reset();
                    out.set_style(style);
                    continue;
                }
                let c = sanitize(cell.c);
                match cell.zerowidth() {
                    Some(zw) => {
                        let mut s = String::with_capacity(8);
                        s.push(c);
                        s.extend(zw.iter().copied().filter(|z| !z.is_control()));
                        out.set_symbol(&s);
                    }
                    None => {
                        out.set_char(c);
                    }
                }
                out.set_style(style);
            }
        }
        if show_cursor
            && let Some((r, c)) = self.cursor()
            && r < rows
            && c < cols
            && let Some(cell) = buf.cell_mut((area.x + c, area.y + r))
        {
            let st = cell.style();
            cell.set_style(st.add_modifier(Modifier::REVERSED));
        }
    }
}

/// Where a row of the pane comes from.
enum Shown<'a> {
    Stored(&'a Row),
    Screen(Line),
}

/// The length of the next piece of `bytes` to parse: one that can scroll at most
/// about `budget` rows (newlines, long lines wrapping, and escape sequences that
/// scroll: SU, DL, ED, REP, IND, NEL, RIS count a screenful), so the emulator holds
/// every row it scrolls off until they are taken. Colours (SGR) and other sequences
/// scroll nothing and cost nothing.
fn piece(bytes: &[u8], size: Size, budget: usize) -> usize {
    let (rows, cols) = (size.rows as usize, size.cols as usize);
    let (mut cost, mut run) = (0usize, 0usize);
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\n' | 0x0b | 0x0c => {
                cost += 1;
                run = 0;
            }
            0x1b => {
                if scrolls(&bytes[i + 1..]) {
                    cost += rows.min(budget);
                }
            }
            _ => {
                run += 1;
                if run >= cols {
                    cost += 1;
                    run = 0;
                }
            }
        }
        if cost >= budget {
            return i + 1;
        }
    }
    bytes.len()
}

/// The escape sequence after an ESC may scroll (or is cut off, so it might).
fn scrolls(after: &[u8]) -> bool {
    match after.first() {
        None => true,
        Some(b'D' | b'E' | b'c') => true,
        Some(b'[') => {
            let end = after[1..]
                .iter()
                .take(64)
                .position(|b| (0x40..=0x7e).contains(b));
            match end {
                Some(e) => matches!(after[1 + e], b'S' | b'M' | b'J' | b'b'),
                None => true,
            }
        }
        _ => false,
    }
}

/// Never let a control character reach the real terminal through a cell.
fn sanitize(c: char) -> char {
    if c.is_control() { ' ' } else { c }
}

#[cfg(test)]
mod tests;
