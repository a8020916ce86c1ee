//! A flooding session's output waits in its pane's backlog, and most of it is never
//! emulated (docs/control-room.md, "Floods").
//!
//! While more output is already waiting to be read, the reader hands its bytes to
//! [`Pane::defer`]. Of a long backlog only the last lines can still be seen — the
//! screen and the scrollback — so once it holds a few times that many, the part
//! before them is skimmed ([`super::skim`]): only the sequences whose effect outlives
//! the text are fed, and the text, cursor moves and erasing are skipped. The rest is
//! fed in full when the burst ends, or every [`CATCH_UP_EVERY`] while a client
//! shows the pane (one nobody looks at need not keep up). The screen, cursor, modes,
//! colours and scrollback come out exactly as if every byte had been emulated (a
//! property test in `tests.rs` checks it); when that cannot be shown for a stretch,
//! it is fed in full.

use super::Pane;
use super::skim::{Skimmed, settles};
use std::time::{Duration, Instant};

/// A flooding session's pane that a client shows catches up at least this often, so
/// what the client sees lags the flood by at most this much.
const CATCH_UP_EVERY: Duration = Duration::from_millis(100);

/// A backlog this long is caught up even if no client shows its pane: output with
/// few line feeds is never skimmed.
const CATCH_UP_BYTES: usize = 4 << 20;

/// A backlog that held more than this is given back to the allocator once caught up.
const KEEP_CAPACITY: usize = 256 * 1024;

#[derive(Default)]
pub(super) struct Backlog {
    /// Output not fed yet (after the OSC cap); the tracker has followed what came
    /// before it.
    bytes: Vec<u8>,
    /// Line feeds in `bytes`.
    lines: usize,
    /// When the oldest byte of `bytes` came.
    since: Option<Instant>,
    /// Reused for each skim.
    skimmed: Skimmed,
    /// Bytes skimmed so far (never emulated).
    pub(super) skimmed_total: usize,
    /// Replies to queries parsed while catching up for someone other than the
    /// session's reader; the reader sends them with its next output.
    unsent: Vec<u8>,
}

impl Backlog {
    pub(super) fn clear_unsent(&mut self) {
        self.unsent.clear();
    }
}

impl Pane {
    /// Output that came while more was waiting to be read: it may be parsed later.
    /// `shown`: a client shows the pane, so it catches up every [`CATCH_UP_EVERY`].
    /// Returns the replies to write back if the pane caught up (its screen changed),
    /// None if the bytes wait.
    pub fn defer(&mut self, bytes: &[u8], shown: bool) -> Option<Vec<u8>> {
        self.push(bytes);
        let backlog = &self.backlog;
        let due = backlog.bytes.len() >= CATCH_UP_BYTES
            || (shown && backlog.since.is_some_and(|s| s.elapsed() >= CATCH_UP_EVERY));
        due.then(|| self.catch_up())
    }

    /// Parse output now (with any backlog before it); returns the replies to write
    /// back into the PTY.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.push(bytes);
        let replies = self.catch_up();
        if self.backlog.bytes.capacity() > KEEP_CAPACITY {
            self.backlog.bytes = Vec::new();
            #[cfg(target_env = "gnu")]
            // SAFETY: plain malloc_trim; gives the freed pages back.
            unsafe {
                libc::malloc_trim(0);
            }
        }
        replies
    }

    /// Add output to the backlog, skimming it once it is long.
    fn push(&mut self, bytes: &[u8]) {
        let bytes = self.osc.filter(bytes);
        let backlog = &mut self.backlog;
        backlog.since.get_or_insert_with(Instant::now);
        backlog.lines += memchr::memchr_iter(b'\n', &bytes).count();
        backlog.bytes.extend_from_slice(&bytes);
        // Skimming re-reads the lines it keeps: not too often.
        if backlog.lines >= 3 * self.tail_lines() {
            self.skim_backlog();
        }
    }

    /// Bytes of output skimmed so far: never emulated (tests and diagnostics).
    pub fn skimmed(&self) -> usize {
        self.backlog.skimmed_total
    }

    /// Feed the whole backlog; returns the replies (with any not sent yet).
    pub fn catch_up(&mut self) -> Vec<u8> {
        if self.backlog.lines > self.tail_lines() {
            self.skim_backlog();
        }
        let bytes = std::mem::take(&mut self.backlog.bytes);
        if !bytes.is_empty() {
            self.advance(&bytes);
        }
        self.backlog.bytes = bytes;
        self.backlog.bytes.clear();
        self.backlog.lines = 0;
        self.backlog.since = None;
        let mut replies = std::mem::take(&mut self.backlog.unsent);
        replies.extend_from_slice(&self.replies());
        replies
    }

    /// Catch up for a reader of the pane (a key, a scroll, a resize): the replies
    /// wait for the session's reader.
    pub(super) fn catch_up_quietly(&mut self) {
        if !self.backlog.bytes.is_empty() {
            let replies = self.catch_up();
            self.backlog.unsent = replies;
        }
    }

    /// Lines at the end of a backlog that are always fed in full: after
    /// `skim::settles`, what they need to turn the screen and scrollback over.
    fn tail_lines(&self) -> usize {
        2 * self.size.rows as usize + self.scrollback.limit() + 1
    }

    /// Skim the backlog but its last [`Pane::tail_lines`] lines, or feed that part in
    /// full when it cannot be skimmed.
    fn skim_backlog(&mut self) {
        let mut bytes = std::mem::take(&mut self.backlog.bytes);
        // Finish the sequence in progress, so the skim starts between sequences.
        let mut start = 0;
        while start < bytes.len() && !self.tracker.at_ground() {
            self.tracker.follow(&bytes[start..start + 1]);
            start += 1;
        }
        if start > 0 {
            self.emulate(&bytes[..start]);
        }
        let tail = self.tail_lines();
        let Some(cut) = start_of_last_lines(&bytes[start..], tail).map(|c| start + c) else {
            self.backlog.bytes = bytes;
            return;
        };
        let (rows, limit) = (self.size.rows as usize, self.scrollback.limit());
        // What `settles` assumes of the screen, and the scroll position comes out the
        // same only when it is live or the scrollback is full.
        let skimmable = !self.alt_screen()
            && self.tracker.region_full
            && self.parser.sync_timeout().sync_timeout().is_none()
            && (self.offset == 0 || self.scrollback.len() == limit)
            && settles(&bytes[cut..], rows, limit).is_some();
        let mut tracker = self.tracker.clone();
        let mut skimmed = std::mem::take(&mut self.backlog.skimmed);
        skimmed.clear();
        let skimmed_ok = skimmable
            && tracker.skim(&bytes[start..cut], &mut skimmed).is_ok()
            && tracker.at_ground();
        if skimmed_ok {
            self.backlog.skimmed_total += cut - start;
            self.tracker = tracker;
            self.emulate(&skimmed.controls);
            self.emulate(&skimmed.pen);
        } else {
            self.advance(&bytes[start..cut]);
        }
        self.backlog.skimmed = skimmed;
        bytes.drain(..cut);
        self.backlog.lines = tail;
        self.backlog.bytes = bytes;
    }
}

/// Where the last `n` lines of `bytes` begin (just after a line feed), if it has
/// more than `n` line feeds.
fn start_of_last_lines(bytes: &[u8], n: usize) -> Option<usize> {
    let mut end = bytes.len();
    for _ in 0..=n {
        end = memchr::memrchr(b'\n', &bytes[..end])?;
    }
    Some(end + 1)
}
