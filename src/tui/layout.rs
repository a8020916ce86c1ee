//! Where everything goes: the pane grid, the side panels, the status line.

use ratatui::layout::Rect;

/// Smallest screen the control room draws on.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 10;
/// Side panels only from this width.
pub const PANELS_MIN_WIDTH: u16 = 100;
/// Smallest pane (outer, with borders).
const PANE_MIN_W: u16 = 30;
const PANE_MIN_H: u16 = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaneRect {
    pub session: usize,
    pub outer: Rect,
    pub inner: Rect,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    pub too_small: bool,
    pub panes: Vec<PaneRect>,
    /// Sessions without a pane (listed on `hidden_line`), needing input first.
    pub hidden: Vec<usize>,
    pub hidden_line: Option<Rect>,
    pub side: Option<Rect>,
    /// The panels full screen (instead of the grid and side panels).
    pub full: Option<Rect>,
    pub status: Rect,
}

fn inner(r: Rect) -> Rect {
    Rect::new(
        r.x + 1,
        r.y + 1,
        r.width.saturating_sub(2),
        r.height.saturating_sub(2),
    )
}

/// Columns for `n` panes in `area`: fixed, or the most even-looking grid (a cell is
/// about twice as tall as wide).
fn columns_for(n: usize, area: Rect, fixed: Option<u16>) -> usize {
    if let Some(c) = fixed {
        return (c.max(1) as usize).min(n.max(1));
    }
    let mut best = (0u32, 1usize);
    for cols in 1..=n.max(1) {
        let rows = n.div_ceil(cols);
        let w = area.width as u32 / cols as u32;
        let h = area.height as u32 / rows as u32;
        let score = (w / 2).min(h);
        if score > best.0 {
            best = (score, cols);
        }
    }
    best.1
}

/// Tile `n` panes: rows of `cols`, the last row's panes sharing its full width.
fn tile(n: usize, area: Rect, fixed: Option<u16>) -> Vec<Rect> {
    if n == 0 {
        return Vec::new();
    }
    let cols = columns_for(n, area, fixed);
    let rows = n.div_ceil(cols);
    let mut out = Vec::with_capacity(n);
    for r in 0..rows {
        let y0 = area.y + (area.height as usize * r / rows) as u16;
        let y1 = area.y + (area.height as usize * (r + 1) / rows) as u16;
        let in_row = if r + 1 == rows { n - cols * r } else { cols };
        for c in 0..in_row {
            let x0 = area.x + (area.width as usize * c / in_row) as u16;
            let x1 = area.x + (area.width as usize * (c + 1) / in_row) as u16;
            out.push(Rect::new(x0, y0, x1 - x0, y1 - y0));
        }
    }
    out
}

fn fits(n: usize, area: Rect, fixed: Option<u16>) -> bool {
    tile(n, area, fixed)
        .iter()
        .all(|r| r.width >= PANE_MIN_W && r.height >= PANE_MIN_H)
}

/// Side panel width for a screen width.
fn side_width(w: u16) -> u16 {
    (w * 3 / 10).clamp(36, 60)
}

/// How much a session deserves a pane, most first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Claim {
    NeedsInput,
    Running,
    Ran,
    NotStarted,
    /// Not part of this run: never shown.
    Excluded,
}

/// What the layout needs to know of the control room (a view model, so layout
/// never depends on `App`).
#[derive(Debug, Clone, Default)]
pub struct LayoutInput {
    pub focus: usize,
    pub zoom: bool,
    /// The plan's `[ui] columns`.
    pub columns: Option<u16>,
    /// One per session, in plan order.
    pub claims: Vec<Claim>,
    /// The panels full screen replace the grid.
    pub panels: bool,
}

/// Which sessions get panes first: the focused one, those needing input, running
/// ones, those that ran, then the rest; never sessions outside the run.
fn priority(input: &LayoutInput) -> Vec<usize> {
    let mut order: Vec<usize> = (0..input.claims.len())
        .filter(|&i| input.claims[i] != Claim::Excluded)
        .collect();
    order.sort_by_key(|&i| (i != input.focus, input.claims[i], i));
    order
}

pub fn compute(input: &LayoutInput, area: Rect) -> Layout {
    let mut l = Layout::default();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        l.too_small = true;
        return l;
    }
    l.status = Rect::new(area.x, area.y + area.height - 1, area.width, 1);
    let body = Rect::new(area.x, area.y, area.width, area.height - 1);
    if input.panels {
        l.full = Some(body);
        return l;
    }
    let mut grid = body;
    if area.width >= PANELS_MIN_WIDTH {
        let sw = side_width(area.width);
        grid.width = body.width - sw;
        l.side = Some(Rect::new(body.x + grid.width, body.y, sw, body.height));
    }
    let fixed = input.columns;
    if input.zoom && !input.claims.is_empty() {
        l.panes.push(PaneRect {
            session: input.focus,
            outer: grid,
            inner: inner(grid),
        });
        return l;
    }
    let order = priority(input);
    let mut shown = order.len();
    if !fits(shown, grid, fixed) {
        // Keep a line to list the sessions that get no pane.
        grid.height -= 1;
        l.hidden_line = Some(Rect::new(grid.x, grid.y + grid.height, grid.width, 1));
        while shown > 1 && !fits(shown, grid, fixed) {
            shown -= 1;
        }
    }
    let mut chosen: Vec<usize> = order[..shown].to_vec();
    chosen.sort();
    // The strip lists those that need input first.
    l.hidden = order[shown..].to_vec();
    l.hidden
        .sort_by_key(|&i| (input.claims[i] != Claim::NeedsInput, i));
    for (session, outer) in chosen.into_iter().zip(tile(shown, grid, fixed)) {
        l.panes.push(PaneRect {
            session,
            outer,
            inner: inner(outer),
        });
    }
    l
}

/// The pane sizes (rows, cols) to start with, before anything runs: the layout the
/// first screen will have.
pub fn initial_sizes(input: &LayoutInput, area: Rect) -> Vec<(u16, u16)> {
    let l = compute(input, area);
    let typical = l
        .panes
        .first()
        .map(|p| (p.inner.height.max(1), p.inner.width.max(2)))
        .unwrap_or((24, 80));
    (0..input.claims.len())
        .map(|i| {
            l.panes
                .iter()
                .find(|p| p.session == i)
                .map(|p| (p.inner.height.max(1), p.inner.width.max(2)))
                .unwrap_or(typical)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_area_without_overlap() {
        let area = Rect::new(0, 0, 140, 49);
        for n in 1..10 {
            let t = tile(n, area, None);
            assert_eq!(t.len(), n);
            let total: u32 = t.iter().map(|r| r.area()).sum();
            assert_eq!(total, area.area(), "n={n}");
            for (i, a) in t.iter().enumerate() {
                for b in &t[i + 1..] {
                    assert!(!a.intersects(*b), "n={n} {a:?} {b:?}");
                }
            }
        }
    }

    #[test]
    fn automatic_columns_look_even() {
        let area = Rect::new(0, 0, 140, 49);
        assert_eq!(columns_for(1, area, None), 1);
        assert_eq!(columns_for(2, area, None), 2);
        assert_eq!(columns_for(4, area, None), 2);
        assert_eq!(columns_for(6, area, None), 3);
        assert_eq!(columns_for(6, area, Some(2)), 2);
        assert_eq!(columns_for(1, area, Some(3)), 1);
    }
}
