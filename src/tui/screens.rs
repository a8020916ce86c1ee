//! The emulators of every session behind one lock each, fed on the sessions' reader
//! threads (the engine's [`OutputSink`]) and drawn by each client's control room.

use super::pane::Pane;
use crate::session::OutputSink;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// A pane some client drew within this long is shown: a flood in it catches up on a
/// clock (docs/control-room.md, "Floods").
const SHOWN_FOR: Duration = Duration::from_secs(1);

/// Wakes the clients for the readers, on a thread of its own at the clients'
/// priority. A flood's reader is niced: waking a client's drawing thread itself, it
/// could be preempted while it holds the lock of the channel that thread waits on,
/// and the thread would wait for it (docs/protocol.md, "The screen stream").
struct Waker {
    thread: std::thread::Thread,
    /// The screens are gone: the thread ends.
    closed: Arc<AtomicBool>,
}

/// The emulators of every session, shared by the reader threads (through the
/// [`OutputSink`] impl) and the UI. One mutex per pane: a flooding session never
/// holds up another one.
pub struct Screens {
    panes: Vec<Mutex<Pane>>,
    /// Per pane, how many times its screen changed (so a client redraws only the
    /// panes that did).
    changes: Vec<AtomicU64>,
    dirty: AtomicBool,
    wake: OnceLock<Waker>,
    /// Per pane, when a client last drew it, in milliseconds after `epoch` (0: never).
    drawn_at: Vec<AtomicU64>,
    epoch: Instant,
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
            wake: OnceLock::new(),
            drawn_at: sizes.iter().map(|_| AtomicU64::new(0)).collect(),
            epoch: Instant::now(),
        })
    }

    /// Called (on a thread of its own) when the screen goes from clean to dirty; set
    /// once.
    pub fn set_waker(&self, f: Box<dyn Fn() + Send>) {
        let closed = Arc::new(AtomicBool::new(false));
        let done = closed.clone();
        let spawned = std::thread::Builder::new()
            .name("screens-wake".into())
            .spawn(move || {
                loop {
                    std::thread::park();
                    if done.load(Ordering::Acquire) {
                        return;
                    }
                    f();
                }
            });
        if let Ok(handle) = spawned {
            let waker = Waker {
                thread: handle.thread().clone(),
                closed,
            };
            if let Err(extra) = self.wake.set(waker) {
                extra.close();
            }
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

    /// A client is drawing pane `i`.
    pub fn drawn(&self, i: usize) {
        if let Some(at) = self.drawn_at.get(i) {
            at.store(self.millis(), Ordering::Relaxed);
        }
    }

    /// Whether some client drew pane `i` lately.
    fn shown(&self, i: usize) -> bool {
        let at = self
            .drawn_at
            .get(i)
            .map_or(0, |a| a.load(Ordering::Relaxed));
        at != 0 && self.millis().saturating_sub(at) < SHOWN_FOR.as_millis() as u64
    }

    /// Milliseconds since the panes were made, from 1 (0 is "never").
    fn millis(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64 + 1
    }

    /// Mark the screen changed and wake the UI once.
    pub fn mark_dirty(&self) {
        // Unparking takes no lock.
        if !self.dirty.swap(true, Ordering::AcqRel)
            && let Some(w) = self.wake.get()
        {
            w.thread.unpark();
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

impl Waker {
    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

impl Drop for Screens {
    fn drop(&mut self) {
        if let Some(w) = self.wake.get() {
            w.close();
        }
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
        let shown = self.shown(session);
        let Some(replies) = self.pane(session).defer(bytes, shown) else {
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
        let woken = |n: usize| {
            let deadline = Instant::now() + Duration::from_secs(10);
            while woke.load(Ordering::SeqCst) < n {
                assert!(Instant::now() < deadline, "never woken {n} times");
                std::thread::sleep(Duration::from_millis(1));
            }
        };
        s.output(1, b"abc");
        s.output(1, b"def");
        woken(1);
        assert_eq!(s.pane(1).row_text(0), "abcdef");
        assert!(s.take_dirty());
        // Clean again: the next output wakes again.
        s.output(0, b"x");
        woken(2);
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
