//! One client's screen as the server last sent it, and the bytes that bring it to the
//! next frame (docs/protocol.md, "The screen stream"). Like ratatui's `Terminal`, but a
//! frame is drawn into the buffer that holds the last one, and only the regions the
//! frame drew ([`super::regions`]) are compared with what the client shows.

use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use std::cell::RefCell;
use std::rc::Rc;

/// The bytes a frame wrote, shared with the backend that writes them.
#[derive(Clone, Default)]
struct Collected(Rc<RefCell<Vec<u8>>>);

impl std::io::Write for Collected {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub struct Canvas {
    backend: CrosstermBackend<Collected>,
    collected: Collected,
    /// What the client's terminal shows.
    shown: Buffer,
    /// The frame being drawn: equal to `shown` between frames.
    next: Buffer,
    /// The client's terminal is to be cleared and drawn whole (new, or resized).
    whole: bool,
    /// A region of `shown` and of `next`, to compare (kept to spare allocations).
    before: Buffer,
    after: Buffer,
}

impl Canvas {
    pub fn new(cols: u16, rows: u16) -> Canvas {
        let area = Rect::new(0, 0, cols.max(1), rows.max(1));
        let collected = Collected::default();
        Canvas {
            backend: CrosstermBackend::new(collected.clone()),
            collected,
            shown: Buffer::empty(area),
            next: Buffer::empty(area),
            whole: true,
            before: Buffer::default(),
            after: Buffer::default(),
        }
    }

    pub fn area(&self) -> Rect {
        self.shown.area
    }

    /// The client's terminal has a new size: the next frame clears it and draws whole.
    pub fn resize(&mut self, cols: u16, rows: u16) {
        let area = Rect::new(0, 0, cols.max(1), rows.max(1));
        if area != self.shown.area {
            self.shown = Buffer::empty(area);
            self.next = Buffer::empty(area);
            self.whole = true;
        }
    }

    /// Draw a frame: `draw` gets the buffer holding the last frame and whether to draw
    /// it whole (the buffer is blank then), and returns the regions it drew (None: it
    /// drew everything). Returns the bytes for the client's terminal.
    pub fn draw(&mut self, draw: impl FnOnce(&mut Buffer, bool) -> Option<Vec<Rect>>) -> Vec<u8> {
        let whole = std::mem::take(&mut self.whole);
        if whole {
            self.next.reset();
            let _ = self.backend.clear();
        }
        let dirty = if whole {
            let _ = draw(&mut self.next, true);
            None
        } else {
            draw(&mut self.next, false)
        };
        // Where the cells differ, row by row as one diff of the whole screen gives them.
        let mut updates: Vec<(u16, u16)> = Vec::new();
        match &dirty {
            None => updates.extend(self.shown.diff_iter(&self.next).map(|(x, y, _)| (x, y))),
            Some(rects) => {
                for &r in rects {
                    let r = r.intersection(self.shown.area);
                    part(&self.shown, r, &mut self.before);
                    part(&self.next, r, &mut self.after);
                    updates.extend(self.before.diff_iter(&self.after).map(|(x, y, _)| (x, y)));
                }
                updates.sort_unstable_by_key(|&(x, y)| (y, x));
                updates.dedup();
            }
        }
        if !updates.is_empty() {
            let next = &self.next;
            let _ = self
                .backend
                .draw(updates.iter().map(|&(x, y)| (x, y, &next[(x, y)])));
        }
        match &dirty {
            None => self.shown.clone_from(&self.next),
            Some(rects) => {
                for &r in rects {
                    let r = r.intersection(self.shown.area);
                    for y in r.top()..r.bottom() {
                        let start = self.shown.index_of(r.x, y);
                        let end = start + r.width as usize;
                        self.shown.content[start..end]
                            .clone_from_slice(&self.next.content[start..end]);
                    }
                }
            }
        }
        if whole {
            let _ = self.backend.hide_cursor();
        }
        let _ = Backend::flush(&mut self.backend);
        std::mem::take(&mut *self.collected.0.borrow_mut())
    }

    /// What the client's terminal shows.
    pub fn shown(&self) -> &Buffer {
        &self.shown
    }
}

/// The cells of `buf` in `rect` into `out`, a buffer of their own.
fn part(buf: &Buffer, rect: Rect, out: &mut Buffer) {
    out.resize(rect);
    for y in rect.top()..rect.bottom() {
        let from = buf.index_of(rect.x, y);
        let to = out.index_of(rect.x, y);
        out.content[to..to + rect.width as usize]
            .clone_from_slice(&buf.content[from..from + rect.width as usize]);
    }
}
