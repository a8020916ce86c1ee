//! The emulators of every session behind one lock each, fed on the sessions' reader
//! threads (the engine's [`OutputSink`]) and drawn by each client's control room.

use super::pane::Pane;
use crate::session::OutputSink;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// The emulators of every session, shared by the reader threads (through the
/// [`OutputSink`] impl) and the UI. One mutex per pane: a flooding session never
/// holds up another one.
pub struct Screens {
    panes: Vec<Mutex<Pane>>,
    /// Per pane, how many times its screen changed (so a client redraws only the
    /// panes that did).
    changes: Vec<AtomicU64>,
    dirty: AtomicBool,
    wake: Mutex<Option<Box<dyn Fn() + Send>>>,
}

impl Screens {
    /// `sizes[i]` is the initial (rows, cols) of session i.
    pub fn new(sizes: &[(u16, u16)], scrollback: usize) -> Arc<Screens> {
        Arc::new(Screens {
            panes: sizes
                .iter()
                .map(|&(r, c)| Mutex::new(Pane::new(r, c, scrollback)))
                .collect(),
            changes: sizes.iter().map(|_| AtomicU64::new(0)).collect(),
            dirty: AtomicBool::new(true),
            wake: Mutex::new(None),
        })
    }

    /// Called (on a reader thread) when the screen goes from clean to dirty.
    pub fn set_waker(&self, f: Box<dyn Fn() + Send>) {
        if let Ok(mut w) = self.wake.lock() {
            *w = Some(f);
        }
    }

    pub fn len(&self) -> usize {
        self.panes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.panes.is_empty()
    }

    /// Lock one pane (a poisoned lock is recovered: a pane is plain data).
    pub fn pane(&self, i: usize) -> MutexGuard<'_, Pane> {
        self.panes[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many times pane `i`'s screen has changed so far.
    pub fn changes(&self, i: usize) -> u64 {
        self.changes.get(i).map_or(0, |c| c.load(Ordering::Acquire))
    }

    /// Lock one pane unless a reader is feeding it right now.
    pub fn try_pane(&self, i: usize) -> Option<MutexGuard<'_, Pane>> {
        match self.panes[i].try_lock() {
            Ok(pane) => Some(pane),
            Err(std::sync::TryLockError::Poisoned(e)) => Some(e.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// Mark the screen changed and wake the UI once.
    pub fn mark_dirty(&self) {
        if !self.dirty.swap(true, Ordering::AcqRel)
            && let Ok(w) = self.wake.lock()
            && let Some(f) = w.as_ref()
        {
            f()
        }
    }

    pub fn is_dirty(&self) -> bool {
        self.dirty.load(Ordering::Acquire)
    }

    /// Take the dirty flag (the UI is about to draw).
    pub fn take_dirty(&self) -> bool {
        self.dirty.swap(false, Ordering::AcqRel)
    }
}

impl OutputSink for Screens {
    fn started(&self, session: usize, attempt: u32) {
        if session < self.panes.len() {
            self.pane(session).new_attempt(attempt);
            self.changes[session].fetch_add(1, Ordering::AcqRel);
            self.mark_dirty();
        }
    }

    fn output(&self, session: usize, bytes: &[u8]) -> Vec<u8> {
        if session >= self.panes.len() {
            return Vec::new();
        }
        let replies = self.pane(session).feed(bytes);
        self.changes[session].fetch_add(1, Ordering::AcqRel);
        self.mark_dirty();
        replies
    }

    /// The pane's emulator may put these bytes off (docs/control-room.md, "Floods").
    fn output_burst(&self, session: usize, bytes: &[u8]) -> Vec<u8> {
        if session >= self.panes.len() {
            return Vec::new();
        }
        let Some(replies) = self.pane(session).defer(bytes) else {
            return Vec::new();
        };
        self.changes[session].fetch_add(1, Ordering::AcqRel);
        self.mark_dirty();
        replies
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sink_keeps_earlier_attempts_and_marks_dirty() {
        let s = Screens::new(&[(3, 10), (3, 10)], 100);
        assert!(s.take_dirty());
        let woke = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let w2 = woke.clone();
        s.set_waker(Box::new(move || {
            w2.fetch_add(1, Ordering::SeqCst);
        }));
        s.output(1, b"abc");
        s.output(1, b"def");
        assert_eq!(woke.load(Ordering::SeqCst), 1);
        assert_eq!(s.pane(1).row_text(0), "abcdef");
        assert!(s.take_dirty());
        s.output(1, b"\x1b[?1049h\x1b[?1hfull screen");
        s.started(1, 2);
        // The earlier attempt stays; its modes do not.
        assert_eq!(s.pane(1).row_text(0), "abcdef");
        assert!(!s.pane(1).alt_screen() && !s.pane(1).app_cursor());
        assert_eq!(s.pane(1).cursor(), Some((1, 0)));
        assert_eq!(s.pane(1).attempt, 2);
        assert!(s.output(5, b"x").is_empty());
    }
}
