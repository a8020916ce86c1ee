//! Drawing only what changed (docs/protocol.md, "The screen stream"). A frame is made
//! of regions: a pane's screen, each strip of a pane's border, each side panel, the
//! status line, the strip of sessions without a pane. Each region has a key saying
//! what it shows; one that shows what it showed last frame is neither drawn again nor
//! compared with the client's screen, so a frame where only the clocks moved costs the
//! clocks' cells.

use super::layout::Layout;
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::BorderType;
use std::collections::HashMap;

/// What a region shows, as far as drawing it goes.
#[derive(Clone, PartialEq)]
pub enum Key {
    /// Text: the status line, the strip, a side panel (its title first), a pane's note.
    Lines(Vec<Line<'static>>),
    /// A strip of a pane's border and the title on it.
    Border(BorderType, Style, Line<'static>),
    /// Session `.0`'s screen as the pane cache's drawing `.1`.
    Pane(usize, u64),
}

/// The regions of one client's screen, as its last frame drew them.
#[derive(Default)]
pub struct Regions {
    /// What each region showed last frame.
    shown: HashMap<Rect, Key>,
    /// This frame's.
    drawing: HashMap<Rect, Key>,
    /// The regions this frame drew.
    dirty: Vec<Rect>,
    /// The layout of the last frame.
    layout: Option<Layout>,
    /// The last frame drew something over the regions (help, a dialog, the panels).
    covered: bool,
    /// This frame draws everything.
    whole: bool,
}

impl Regions {
    /// A new frame into the buffer that holds the last one; drawn whole when `whole`
    /// (a new or resized screen) or when anything but the regions is, was or moved.
    /// Returns whether it is drawn whole (the caller resets the buffer).
    pub fn begin(&mut self, layout: &Layout, whole: bool, covered: bool) -> bool {
        self.whole = whole || covered || self.covered || self.layout.as_ref() != Some(layout);
        if self.layout.as_ref() != Some(layout) {
            self.layout = Some(layout.clone());
        }
        self.covered = covered;
        self.drawing.clear();
        self.dirty.clear();
        self.whole
    }

    /// The frame is drawn: the regions it drew, or None when it drew everything.
    pub fn finish(&mut self) -> Option<Vec<Rect>> {
        std::mem::swap(&mut self.shown, &mut self.drawing);
        if self.covered {
            // What was drawn over them is not in their keys.
            self.shown.clear();
        }
        (!self.whole).then(|| std::mem::take(&mut self.dirty))
    }
}

/// Draws a frame's regions into a buffer: with [`Regions`], only those that changed;
/// without, every one (a buffer drawn from scratch).
pub struct Painter<'a> {
    pub buf: &'a mut Buffer,
    regions: Option<&'a mut Regions>,
}

impl<'a> Painter<'a> {
    /// Draws every region.
    pub fn whole(buf: &'a mut Buffer) -> Painter<'a> {
        Painter { buf, regions: None }
    }

    /// Draws the regions that changed since the frame `buf` holds.
    pub fn changed(buf: &'a mut Buffer, regions: &'a mut Regions) -> Painter<'a> {
        Painter {
            buf,
            regions: Some(regions),
        }
    }

    /// Draw `rect` with `draw` unless it shows `key` already (None: always drawn).
    pub fn region(&mut self, rect: Rect, key: Option<Key>, draw: impl FnOnce(&mut Buffer)) {
        self.region_with(rect, key, |buf, _| draw(buf));
    }

    /// [`Painter::region`], drawn from what its key holds.
    pub fn region_with(
        &mut self,
        rect: Rect,
        key: Option<Key>,
        draw: impl FnOnce(&mut Buffer, Option<&Key>),
    ) {
        if key.is_some() && self.shown(rect) == key.as_ref() {
            self.drew(rect, key, true);
            return;
        }
        self.clear(rect);
        draw(self.buf, key.as_ref());
        self.drew(rect, key, false);
    }

    /// The key `rect` showed last frame, when the buffer still holds it.
    pub fn shown(&self, rect: Rect) -> Option<&Key> {
        self.regions
            .as_deref()
            .filter(|r| !r.whole)
            .and_then(|r| r.shown.get(&rect))
    }

    /// The caller drew `rect` (`same`: exactly as last frame), which now shows `key`.
    pub fn drew(&mut self, rect: Rect, key: Option<Key>, same: bool) {
        let Some(regions) = self.regions.as_deref_mut() else {
            return;
        };
        if !same && !regions.whole {
            regions.dirty.push(rect);
        }
        if let Some(key) = key {
            regions.drawing.insert(rect, key);
        }
    }

    /// Blank `rect` (it holds the last frame's cells).
    pub fn clear(&mut self, rect: Rect) {
        if self.regions.as_deref().is_none_or(|r| r.whole) {
            return;
        }
        let rect = rect.intersection(self.buf.area);
        for y in rect.top()..rect.bottom() {
            let start = self.buf.index_of(rect.x, y);
            self.buf.content[start..start + rect.width as usize]
                .iter_mut()
                .for_each(Cell::reset);
        }
    }
}
