//! A pane's scrollback, kept compact: each row that scrolls off the emulator's screen
//! is stored as its text plus the runs of colours and attributes it is drawn with,
//! trailing blanks left out, instead of alacritty's 24-byte cells for every column.
//! A row of a coloured log line costs a few hundred bytes instead of several KB,
//! so 2,000 rows stay well under a megabyte (docs/control-room.md, "Scrollback").
//! The emulator keeps only [`super::pane`]'s few rows of its own history, taken
//! from it after each piece of output.

use super::palette;
use alacritty_terminal::grid::Row as GridRow;
use alacritty_terminal::index::Column;
use alacritty_terminal::term::cell::{Cell, Flags};
use alacritty_terminal::term::color::Colors;
use alacritty_terminal::vte::ansi::{Color as AColor, NamedColor};
use ratatui::buffer::Buffer;
use std::collections::VecDeque;

/// Flags that describe a cell's place in the grid, not how it looks.
const LAYOUT: Flags = Flags::WRAPLINE
    .union(Flags::WIDE_CHAR_SPACER)
    .union(Flags::LEADING_WIDE_CHAR_SPACER);

/// How a run of text is drawn: colours and attributes (`WIDE_CHAR` included, so a
/// wide character keeps its two cells).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pen {
    pub fg: AColor,
    pub bg: AColor,
    pub flags: Flags,
}

impl Default for Pen {
    fn default() -> Pen {
        Pen::of(&Cell::default())
    }
}

impl Pen {
    fn of(cell: &Cell) -> Pen {
        Pen {
            fg: cell.fg,
            bg: cell.bg,
            flags: cell.flags.difference(LAYOUT),
        }
    }

    /// A blank drawn as nothing: the default colours, no attributes.
    fn plain(&self) -> bool {
        self.fg == AColor::Named(NamedColor::Foreground)
            && self.bg == AColor::Named(NamedColor::Background)
            && self.flags.is_empty()
    }
}

/// One stored row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    /// The characters of its cells (a wide character once, combining marks after
    /// their base).
    text: Box<str>,
    /// Where each pen starts (a byte offset into `text`), the first at 0.
    pens: Box<[(u32, Pen)]>,
    /// The line goes on in the next row (the emulator wrapped it).
    pub wrapped: bool,
}

/// Builds a row cell by cell.
#[derive(Default)]
struct Builder {
    text: String,
    pens: Vec<(u32, Pen)>,
    /// Cells used so far.
    width: usize,
}

impl Builder {
    fn push(&mut self, c: char, pen: Pen, zerowidth: &[char]) {
        if self.pens.last().is_none_or(|p| p.1 != pen) {
            self.pens.push((self.text.len() as u32, pen));
        }
        self.text.push(c);
        self.text
            .extend(zerowidth.iter().filter(|z| !z.is_control()));
        self.width += if pen.flags.contains(Flags::WIDE_CHAR) {
            2
        } else {
            1
        };
    }

    fn finish(self, wrapped: bool) -> Row {
        Row {
            text: self.text.into_boxed_str(),
            pens: self.pens.into_boxed_slice(),
            wrapped,
        }
    }
}

impl Row {
    /// A grid row as stored: layout spacers dropped, trailing blanks of an unwrapped
    /// row left out.
    pub fn from_grid(row: &GridRow<Cell>, cols: usize) -> Row {
        let wrapped = cols > 0 && row[Column(cols - 1)].flags.contains(Flags::WRAPLINE);
        let mut end = cols;
        if !wrapped {
            while end > 0 {
                let cell = &row[Column(end - 1)];
                let blank = cell.c == ' ' && Pen::of(cell).plain() && cell.zerowidth().is_none();
                if !blank {
                    break;
                }
                end -= 1;
            }
        }
        // Room for an ASCII row up front: a flood stores thousands of rows a second on
        // its reader, and each reallocation takes the allocator's lock.
        let mut b = Builder {
            text: String::with_capacity(end),
            ..Builder::default()
        };
        for c in 0..end {
            let cell = &row[Column(c)];
            if cell.flags.intersects(LAYOUT.difference(Flags::WRAPLINE)) {
                continue;
            }
            let c = if cell.c.is_control() { ' ' } else { cell.c };
            b.push(c, Pen::of(cell), cell.zerowidth().unwrap_or(&[]));
        }
        b.finish(wrapped)
    }

    /// Write the row into `cols` cells of an emulator's row, as [`Row::from_grid`]
    /// would read them again (a taller pane takes its newest stored rows back).
    pub fn to_grid(&self, row: &mut GridRow<Cell>, cols: usize) {
        for c in 0..cols {
            row[Column(c)] = Cell::default();
        }
        let mut col = 0;
        for (s, pen) in self.cells() {
            let wide = pen.flags.contains(Flags::WIDE_CHAR);
            if col >= cols || (wide && col + 1 >= cols) {
                break;
            }
            let mut chars = s.chars();
            let cell = &mut row[Column(col)];
            cell.c = chars.next().unwrap_or(' ');
            (cell.fg, cell.bg, cell.flags) = (pen.fg, pen.bg, pen.flags);
            chars.for_each(|mark| cell.push_zerowidth(mark));
            if wide {
                let spacer = &mut row[Column(col + 1)];
                (spacer.fg, spacer.bg) = (pen.fg, pen.bg);
                spacer.flags = pen.flags.difference(Flags::WIDE_CHAR) | Flags::WIDE_CHAR_SPACER;
            }
            col += if wide { 2 } else { 1 };
        }
        if self.wrapped && cols > 0 {
            row[Column(cols - 1)].flags.insert(Flags::WRAPLINE);
        }
    }

    /// The cells of the row: (first char, the chars of the cell, its pen).
    fn cells(&self) -> impl Iterator<Item = (&str, Pen)> {
        let mut pen = 0;
        let text = &*self.text;
        let mut starts = text
            .char_indices()
            .filter(|&(_, c)| !zero_width(c))
            .map(|(i, _)| i)
            .peekable();
        std::iter::from_fn(move || {
            let start = starts.next()?;
            let end = starts.peek().copied().unwrap_or(text.len());
            while pen + 1 < self.pens.len() && self.pens[pen + 1].0 as usize <= start {
                pen += 1;
            }
            Some((&text[start..end], self.pens[pen].1))
        })
    }

    /// Its text as shown (no trailing blanks).
    pub fn text(&self) -> String {
        self.text.trim_end().to_string()
    }

    /// The character and pen of the cell at `col`, if the row reaches it.
    pub fn cell(&self, col: usize) -> Option<(String, Pen)> {
        let mut at = 0;
        for (s, pen) in self.cells() {
            let w = if pen.flags.contains(Flags::WIDE_CHAR) {
                2
            } else {
                1
            };
            if col < at + w {
                return Some((s.to_string(), pen));
            }
            at += w;
        }
        None
    }

    /// Draw into `width` cells of `buf` from (x, y); the rest of them are blank.
    pub fn render(&self, colors: &Colors, x: u16, y: u16, width: u16, buf: &mut Buffer) {
        for col in 0..width {
            if let Some(cell) = buf.cell_mut((x + col, y)) {
                cell.reset();
            }
        }
        let mut col = 0u16;
        for (s, pen) in self.cells() {
            let wide = pen.flags.contains(Flags::WIDE_CHAR);
            if col >= width || (wide && col + 1 >= width) {
                break;
            }
            if let Some(cell) = buf.cell_mut((x + col, y)) {
                cell.set_symbol(s);
                cell.set_style(palette::style_of(colors, pen.fg, pen.bg, pen.flags));
            }
            col += if wide { 2 } else { 1 };
        }
    }
}

/// A mark that belongs to the character before it (combining, zero-width joiner).
fn zero_width(c: char) -> bool {
    unicode_width::UnicodeWidthChar::width(c) == Some(0)
}

/// The stored rows of one pane, oldest first, at most `limit` of them.
pub struct Scrollback {
    rows: VecDeque<Row>,
    limit: usize,
}

impl Scrollback {
    pub fn new(limit: usize) -> Scrollback {
        Scrollback {
            rows: VecDeque::new(),
            limit,
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// The most rows kept.
    pub fn limit(&self) -> usize {
        self.limit
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&Row> {
        self.rows.get(i)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter()
    }

    /// Add a row; the oldest goes when the limit is reached.
    pub fn push(&mut self, row: Row) {
        if self.limit == 0 {
            return;
        }
        if self.rows.len() == self.limit {
            self.rows.pop_front();
        }
        self.rows.push_back(row);
    }

    /// Take the newest row back (a taller pane shows it again).
    pub fn pop(&mut self) -> Option<Row> {
        self.rows.pop_back()
    }

    /// Wrap the stored lines again at `cols` (the pane's width changed).
    pub fn reflow(&mut self, cols: usize) {
        let cols = cols.max(2);
        let old = std::mem::take(&mut self.rows);
        let mut b = Builder::default();
        for row in old {
            for (s, pen) in row.cells() {
                let w = if pen.flags.contains(Flags::WIDE_CHAR) {
                    2
                } else {
                    1
                };
                if b.width + w > cols {
                    self.push(std::mem::take(&mut b).finish(true));
                }
                let mut chars = s.chars();
                let first = chars.next().unwrap_or(' ');
                let rest: Vec<char> = chars.collect();
                b.push(first, pen, &rest);
            }
            if !row.wrapped {
                self.push(std::mem::take(&mut b).finish(false));
            }
        }
        if b.width > 0 {
            self.push(b.finish(true));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::pane::Pane;
    use ratatui::layout::Rect;
    use ratatui::style::{Color, Modifier};

    #[test]
    fn rows_keep_text_colours_and_wide_characters() {
        let mut p = Pane::new(2, 12, 100);
        p.feed("\x1b[31mred\x1b[0m \x1b[1;44mbold\x1b[0m 中x\r\nnext\r\nlast".as_bytes());
        // The first row scrolled off into the stored scrollback.
        assert_eq!(p.history(), 1);
        p.scroll(1);
        assert_eq!(p.row_text(0), "red bold 中x");
        let mut buf = Buffer::empty(Rect::new(0, 0, 12, 2));
        p.render(Rect::new(0, 0, 12, 2), &mut buf, false);
        assert_eq!(buf[(0, 0)].fg, Color::Red);
        assert_eq!(buf[(4, 0)].bg, Color::Blue);
        assert!(buf[(4, 0)].modifier.contains(Modifier::BOLD));
        assert_eq!(buf[(3, 0)].bg, Color::Reset);
        assert_eq!(buf[(9, 0)].symbol(), "中");
        assert_eq!(buf[(11, 0)].symbol(), "x");
        assert_eq!(p.row_text(1), "next");
    }

    #[test]
    fn a_stored_row_costs_its_text_not_its_width() {
        let mut p = Pane::new(2, 200, 100);
        p.feed(b"\x1b[32mshort\x1b[0m\r\n\r\n\r\n");
        let row = p.stored_row(0).unwrap();
        assert_eq!(row.text(), "short");
        assert_eq!(row.pens.len(), 1);
    }

    #[test]
    fn reflow_joins_wrapped_rows_and_wraps_them_again() {
        let mut s = Scrollback::new(100);
        let mut p = Pane::new(2, 4, 100);
        p.feed(b"abcdefghij\r\nxy\r\n\r\n\r\n");
        for i in 0..p.history() {
            s.push(p.stored_row(i).unwrap().clone());
        }
        let texts = |s: &Scrollback| s.iter().map(Row::text).collect::<Vec<_>>();
        assert_eq!(texts(&s), ["abcd", "efgh", "ij", "xy", ""]);
        s.reflow(6);
        assert_eq!(texts(&s), ["abcdef", "ghij", "xy", ""]);
        assert!(s.get(0).unwrap().wrapped && !s.get(1).unwrap().wrapped);
    }

    #[test]
    fn the_limit_drops_the_oldest() {
        let mut s = Scrollback::new(2);
        for _ in 0..3 {
            s.push(Row::default());
        }
        assert_eq!(s.len(), 2);
        let mut none = Scrollback::new(0);
        none.push(Row::default());
        assert!(none.is_empty());
    }
}

#[cfg(test)]
mod resize_tests {
    use crate::tui::pane::Pane;

    #[test]
    fn resizing_keeps_the_screen_and_the_scrollback() {
        let mut p = Pane::new(3, 10, 100);
        p.feed(b"l1\r\nl2\r\nl3\r\nl4\r\nl5");
        assert_eq!(p.history(), 2);
        p.resize(5, 10);
        let screen: Vec<String> = (0..5).map(|r| p.row_text(r)).collect();
        // Taller: the stored rows come back above, as in tmux.
        assert_eq!(screen, ["l1", "l2", "l3", "l4", "l5"]);
        assert_eq!(p.history(), 0);
        p.resize(2, 10);
        assert_eq!(p.row_text(1), "l5");
        p.resize(2, 4);
        p.feed(b"\r\nabcdefgh\r\nz");
        let all = p.text_lines();
        assert_eq!(all[..2], ["l1", "l2"], "{all:?}");
        assert_eq!(all[all.len() - 3..], ["abcd", "efgh", "z"], "{all:?}");
        // Nothing scrolls away unseen in one big chunk either.
        let mut p = Pane::new(5, 20, 10_000);
        let many: String = (0..5000)
            .map(|i| format!("\x1b[31mline {i}\x1b[0m\r\n"))
            .collect();
        p.feed(many.as_bytes());
        let lines = p.text_lines();
        assert_eq!(lines.len(), 5000, "{:?}", &lines[..3]);
        assert_eq!(lines[1234], "line 1234");
    }
}
