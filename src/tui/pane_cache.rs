//! The panes' screens as one client last drew them, so a frame copies what has not
//! changed (or, for an unfocused pane, what changed less than a background frame ago)
//! instead of rendering it from its emulator again.

use super::app::App;
use super::pane::Pane;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

/// An unfocused pane's new output is drawn at most this often (the focused pane's at
/// the frame rate): a flood in a pane one is not looking at costs little.
pub const BACKGROUND_FRAME: Duration = Duration::from_millis(200);

/// The panes' screens as one client last drew them. A pane whose screen has not
/// changed, or an unfocused one drawn less than [`BACKGROUND_FRAME`] ago, is copied
/// from here instead of rendered from its emulator again.
#[derive(Default)]
pub struct PaneCache {
    drawn: RefCell<HashMap<usize, Drawn>>,
    /// When a pane copied from here although it had changed must be drawn afresh.
    due: RefCell<Option<Instant>>,
    /// This frame answers a key: unfocused panes' news waits for the next one.
    hold: std::cell::Cell<bool>,
    /// The number of the last drawing made.
    drawings: std::cell::Cell<u64>,
}

/// A pane busy being fed when a frame is drawn is looked at again this soon.
const BUSY_RETRY: Duration = Duration::from_millis(20);

/// What a pane's border says of its terminal.
#[derive(Clone, Copy)]
pub(super) struct Facts {
    pub(super) offset: usize,
    pub(super) history: usize,
    pub(super) attempt: u32,
}

impl Facts {
    fn of(pane: &Pane) -> Facts {
        Facts {
            offset: pane.scroll_offset(),
            history: pane.history(),
            attempt: pane.attempt,
        }
    }
}

/// One pane's screen as drawn.
struct Drawn {
    /// What the cells depend on besides the screen: area, grid size, scroll offset,
    /// cursor.
    key: (Rect, super::pane::Size, usize, bool),
    facts: Facts,
    /// The pane's change count when drawn.
    changes: u64,
    at: Instant,
    /// This drawing's number: a client's screen that shows it needs no copy of it.
    number: u64,
    cells: Vec<ratatui::buffer::Cell>,
}

/// Which drawn panes have changed since they were drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changed {
    Nothing,
    /// Only unfocused panes: drawing them can wait for [`BACKGROUND_FRAME`].
    Background,
    Focused,
}

impl PaneCache {
    /// A new frame: nothing is due yet, and panes no longer shown are forgotten.
    pub(super) fn begin(&self, app: &App) {
        *self.due.borrow_mut() = None;
        self.drawn
            .borrow_mut()
            .retain(|i, _| app.layout.panes.iter().any(|p| p.session == *i));
    }

    /// Whether this frame leaves unfocused panes' news to the next frame (it
    /// answers a key, and should be small and quick).
    pub fn hold_background(&self, hold: bool) {
        self.hold.set(hold);
    }

    /// Forget every pane (the next frame renders them all).
    pub fn clear(&self) {
        self.drawn.borrow_mut().clear();
    }

    /// When a frame is due to show changes the last one left out.
    pub fn due(&self) -> Option<Instant> {
        *self.due.borrow()
    }

    /// Which of the panes drawn last have changed since.
    pub fn changed(&self, app: &App) -> Changed {
        let mut out = Changed::Nothing;
        for (&i, d) in self.drawn.borrow().iter() {
            if app.screens.changes(i) != d.changes {
                if i == app.focus {
                    return Changed::Focused;
                }
                out = Changed::Background;
            }
        }
        out
    }

    /// The border's facts of pane `i` as last drawn into `area`.
    fn facts(&self, i: usize, area: Rect) -> Option<Facts> {
        let drawn = self.drawn.borrow();
        drawn.get(&i).filter(|d| d.key.0 == area).map(|d| d.facts)
    }

    fn later(&self, at: Instant) {
        let mut due = self.due.borrow_mut();
        *due = Some(due.map_or(at, |t| t.min(at)));
    }

    /// Draw pane `i`'s screen into `area`: copied when it may be, else rendered.
    /// `pane`: None when a reader is feeding it (it was drawn into this area before):
    /// the last drawing is copied, and looked at again soon. `shown`: the number of the
    /// drawing `buf` holds there already (not copied again). Returns the number of the
    /// drawing now there, if any.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn render(
        &self,
        app: &App,
        i: usize,
        area: Rect,
        buf: &mut Buffer,
        cursor: bool,
        now: Instant,
        pane: Option<MutexGuard<'_, Pane>>,
        shown: Option<u64>,
    ) -> Option<u64> {
        let changes = app.screens.changes(i);
        let mut drawn = self.drawn.borrow_mut();
        let clipped = area.intersection(buf.area);
        let copy = |d: &Drawn, buf: &mut Buffer| {
            if shown == Some(d.number) {
                return;
            }
            let w = clipped.width as usize;
            if w == 0 || d.cells.len() < w * clipped.height as usize {
                return;
            }
            for (row, y) in (clipped.top()..clipped.bottom()).enumerate() {
                let start = buf.index_of(clipped.x, y);
                buf.content[start..start + w].clone_from_slice(&d.cells[row * w..(row + 1) * w]);
            }
        };
        let Some(pane) = pane else {
            let d = drawn.get(&i)?;
            copy(d, buf);
            let number = d.number;
            // The focused pane may also have been scrolled by a key.
            if d.changes != changes || i == app.focus {
                drop(drawn);
                self.later(now + BUSY_RETRY);
            }
            return Some(number);
        };
        let key = (area, pane.size(), pane.scroll_offset(), cursor);
        if let Some(d) = drawn.get(&i).filter(|d| d.key == key) {
            let fresh = d.changes == changes;
            let held = i != app.focus && self.hold.get();
            let wait = i != app.focus && now < d.at + BACKGROUND_FRAME;
            if fresh || wait || held {
                copy(d, buf);
                let number = d.number;
                if !fresh {
                    // Past already when held: the next frame draws it.
                    let at = d.at + BACKGROUND_FRAME;
                    drop(drawn);
                    self.later(at);
                }
                return Some(number);
            }
        }
        // The buffer may hold an earlier frame: a screen smaller than the area leaves
        // the rest blank.
        for y in clipped.top()..clipped.bottom() {
            let start = buf.index_of(clipped.x, y);
            buf.content[start..start + clipped.width as usize]
                .iter_mut()
                .for_each(ratatui::buffer::Cell::reset);
        }
        pane.render(clipped, buf, cursor);
        let mut cells = Vec::with_capacity(clipped.area() as usize);
        for y in clipped.top()..clipped.bottom() {
            let start = buf.index_of(clipped.x, y);
            cells.extend_from_slice(&buf.content[start..start + clipped.width as usize]);
        }
        let number = self.drawings.get() + 1;
        self.drawings.set(number);
        drawn.insert(
            i,
            Drawn {
                key,
                facts: Facts::of(&pane),
                changes,
                at: now,
                number,
                cells,
            },
        );
        Some(number)
    }
}

/// Pane `i` for drawing, and its border's facts. With a cache, a pane that a reader
/// is feeding right now is not waited for, focused or not (None: its last drawing is
/// used): a reader of a flood is niced and may hold the lock a long time when the
/// CPUs are busy, and a key's frame must not wait for it. Without a cache, or never
/// drawn into this area, it is waited for.
pub(super) fn lock_pane<'a>(
    app: &'a App,
    i: usize,
    area: Rect,
    cache: Option<&PaneCache>,
) -> (Option<MutexGuard<'a, Pane>>, Facts) {
    // A flood in a pane no client draws does not keep catching up.
    app.screens.drawn(i);
    if let Some(cache) = cache {
        match app.screens.try_pane(i) {
            Some(pane) => {
                let facts = Facts::of(&pane);
                return (Some(pane), facts);
            }
            None => {
                if let Some(facts) = cache.facts(i, area) {
                    return (None, facts);
                }
            }
        }
    }
    let pane = app.screens.pane(i);
    let facts = Facts::of(&pane);
    (Some(pane), facts)
}
