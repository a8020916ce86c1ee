//! A session's reader thread: every byte from its PTY goes to the log, the scanner
//! and the frontend's [`OutputSink`]; a flood is handed over as a burst, on a thread
//! of lower priority (docs/control-room.md, "Floods").

use super::log::SessionLog;
use super::scan::Scanner;
use super::{LastOutput, OutputSink, SessionIo, now_ms};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use tokio::sync::mpsc::UnboundedSender;

/// Read the PTY master this much at a time.
const READ_BUF: usize = 64 * 1024;
/// A read at least this long means output was waiting: the session writes faster than
/// it is parsed.
const BACKED_UP: usize = 2048;
/// This many such reads in a row: the session floods, and its reader yields the CPU
/// to keys and frames (docs/protocol.md, "The screen stream").
const FLOOD_READS: u32 = 32;
/// The nice value a flooding session's reader thread takes for the rest of its attempt.
const FLOOD_NICE: libc::c_int = 10;
/// Once a burst of output is this long, the session floods: its pane's emulator
/// catches up when the session has been quiet for [`FLOOD_QUIET_MS`], not at each
/// moment the reader finds the PTY empty (docs/control-room.md, "Floods").
const FLOOD_BURST: usize = 64 * 1024;
const FLOOD_QUIET_MS: libc::c_int = 10;
pub(super) struct Reader {
    pub(super) session: usize,
    pub(super) attempt: u32,
    pub(super) file: File,
    pub(super) log: SessionLog,
    /// The log dropped older output during this attempt (reported once).
    pub(super) truncated: bool,
    pub(super) last_output: LastOutput,
    pub(super) busy: Arc<AtomicBool>,
    pub(super) bracketed_paste: Arc<AtomicBool>,
    pub(super) io: UnboundedSender<SessionIo>,
    pub(super) sink: Arc<dyn OutputSink>,
    pub(super) answers: mpsc::Sender<Vec<u8>>,
    pub(super) scanner: Scanner,
    pub(super) typed: Arc<AtomicBool>,
    /// Dropped when the reader ends: tells the waiter all output is in.
    pub(super) _done: mpsc::Sender<()>,
}

impl Reader {
    pub(super) fn run(mut self) {
        let mut buf = vec![0u8; READ_BUF];
        // Backed-up reads in a row, until the session is seen flooding.
        let mut backed_up = Some(0u32);
        // The sink was last given bytes as part of a burst, of this many bytes so far.
        let mut in_burst = false;
        let mut burst = 0usize;
        loop {
            let n = match self.file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break, // EIO: every slave descriptor is closed
            };
            if let Some(count) = backed_up.as_mut() {
                *count = if n >= BACKED_UP { *count + 1 } else { 0 };
                if *count >= FLOOD_READS {
                    // Lower this thread's priority only (a flood never starves the
                    // other sessions' output, keys or frames); it cannot be raised back
                    // without privilege, and the next attempt has a new thread.
                    #[cfg(target_os = "linux")]
                    // SAFETY: setpriority on our own thread id.
                    unsafe {
                        libc::setpriority(
                            libc::PRIO_PROCESS,
                            libc::gettid() as libc::id_t,
                            FLOOD_NICE,
                        );
                    }
                    backed_up = None;
                }
            }
            self.busy.store(true, Ordering::Release);
            let chunk = &buf[..n];
            if self.log.write(chunk) && !std::mem::replace(&mut self.truncated, true) {
                let _ = self.io.send(SessionIo::LogTruncated {
                    session: self.session,
                    attempt: self.attempt,
                    limit: self.log.limit(),
                });
            }
            self.last_output.store(now_ms(), Ordering::Release);
            self.scan(chunk);
            // In a flood the reader may empty the PTY faster than the session fills it:
            // the burst goes on unless the session stays quiet a moment.
            burst += n;
            let wait = if burst >= FLOOD_BURST {
                FLOOD_QUIET_MS
            } else {
                0
            };
            in_burst = more_waiting(&self.file, wait);
            if !in_burst {
                burst = 0;
            }
            let answers = if in_burst {
                self.sink.output_burst(self.session, chunk)
            } else {
                self.sink.output(self.session, chunk)
            };
            if !answers.is_empty() {
                let _ = self.answers.send(answers);
            }
            self.busy.store(false, Ordering::Release);
        }
        if in_burst {
            let _ = self.sink.output(self.session, &[]);
        }
    }

    fn scan(&mut self, chunk: &[u8]) {
        let (session, attempt) = (self.session, self.attempt);
        // A prompt that was answered no longer counts; only what comes after does.
        if self.typed.swap(false, Ordering::AcqRel) {
            self.scanner.forget_recent();
        }
        let found = self.scanner.scan(chunk);
        if let Some(on) = found.bracketed_paste {
            self.bracketed_paste.store(on, Ordering::Release);
        }
        if found.bell {
            let _ = self.io.send(SessionIo::Bell { session, attempt });
        }
        if found.done {
            let _ = self.io.send(SessionIo::DoneMatched { session, attempt });
        }
        if let Some(prompt) = found.prompt {
            let _ = self.io.send(SessionIo::Attention {
                session,
                attempt,
                prompt,
            });
        }
        for text in found.notifications {
            let _ = self.io.send(SessionIo::Notification {
                session,
                attempt,
                text,
            });
        }
        if let Some(title) = found.title {
            let _ = self.io.send(SessionIo::Title {
                session,
                attempt,
                title,
            });
        }
    }
}

/// More output can be read within `wait_ms` (a burst goes on).
fn more_waiting(file: &File, wait_ms: libc::c_int) -> bool {
    let mut fd = libc::pollfd {
        fd: file.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: poll(2) on one descriptor we own.
    let ready = unsafe { libc::poll(&mut fd, 1, wait_ms) };
    ready == 1 && fd.revents & libc::POLLIN != 0 && fd.revents & libc::POLLHUP == 0
}
