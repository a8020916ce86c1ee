//! The run's events, once, for every listener: a history (so a client that comes
//! later sees everything) and a bounded queue per live subscriber. A subscriber whose
//! queue is full is dropped: a client that stops reading never slows the run.
//!
//! [`Outbox`] is the other half of "never slows the run": bytes for one connection,
//! written by a thread of its own, dropped past a limit.

use crate::engine::{Event, Stamped};
use chrono::{DateTime, Utc};
use crossbeam_channel::{Receiver, Sender, TrySendError};
use std::collections::VecDeque;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Condvar, Mutex};

/// How many events a subscriber may have waiting.
const SUBSCRIBER_QUEUE: usize = 65_536;

/// How many bytes a connection may have waiting before it is dropped.
pub const OUTBOX_LIMIT: usize = 4 << 20;

/// One event as the engine said it and as `events.jsonl` has it.
pub struct Record {
    /// When the engine recorded it.
    pub ts: DateTime<Utc>,
    pub event: Event,
    /// The JSON line (with `ts`, without the newline).
    pub line: String,
}

impl Record {
    pub fn new(stamped: Stamped) -> Record {
        Record {
            line: crate::record::event_line(stamped.ts, &stamped.event),
            ts: stamped.ts,
            event: stamped.event,
        }
    }

    pub fn finishes_run(&self) -> bool {
        matches!(self.event, Event::RunFinished { .. })
    }
}

#[derive(Default)]
struct State {
    history: Vec<Arc<Record>>,
    subscribers: Vec<Sender<Arc<Record>>>,
}

#[derive(Default)]
pub struct Hub {
    state: Mutex<State>,
}

impl Hub {
    pub fn publish(&self, event: Stamped) -> Arc<Record> {
        let record = Arc::new(Record::new(event));
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.history.push(record.clone());
        st.subscribers.retain(|s| match s.try_send(record.clone()) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
        });
        record
    }

    /// Everything so far, and a queue of what comes next (nothing is missed or
    /// repeated between the two). The queue closes when the subscriber falls too far
    /// behind.
    pub fn subscribe(&self) -> (Vec<Arc<Record>>, Receiver<Arc<Record>>) {
        let (tx, rx) = crossbeam_channel::bounded(SUBSCRIBER_QUEUE);
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.subscribers.push(tx);
        (st.history.clone(), rx)
    }

    pub fn history(&self) -> Vec<Arc<Record>> {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.history.clone()
    }
}

struct OutboxState {
    queue: VecDeque<Vec<u8>>,
    bytes: usize,
    closed: bool,
    /// The writer thread has ended.
    done: bool,
    /// The writer thread holds a chunk it is writing (bytes sent now would pass it).
    writing: bool,
    /// When the connection last took bytes (or had nothing waiting).
    progress: std::time::Instant,
}

/// Bytes waiting for one connection, written by its own thread.
pub struct Outbox {
    state: Mutex<OutboxState>,
    ready: Condvar,
    stream: UnixStream,
}

impl Outbox {
    /// Start the writer thread for `stream`.
    pub fn start(stream: UnixStream) -> std::io::Result<Arc<Outbox>> {
        let writer = stream.try_clone()?;
        let outbox = Arc::new(Outbox {
            state: Mutex::new(OutboxState {
                queue: VecDeque::new(),
                bytes: 0,
                closed: false,
                done: false,
                writing: false,
                progress: std::time::Instant::now(),
            }),
            ready: Condvar::new(),
            stream,
        });
        let me = outbox.clone();
        std::thread::Builder::new()
            .name("server-outbox".into())
            .spawn(move || {
                me.write_all(writer);
                me.lock().done = true;
                me.ready.notify_all();
            })?;
        Ok(outbox)
    }

    fn write_all(&self, mut writer: UnixStream) {
        loop {
            let chunk = {
                let mut st = self.lock();
                loop {
                    if let Some(c) = st.queue.pop_front() {
                        st.bytes -= c.len();
                        st.writing = true;
                        break c;
                    }
                    if st.closed {
                        let _ = self.stream.shutdown(std::net::Shutdown::Write);
                        return;
                    }
                    st = self.ready.wait(st).unwrap_or_else(|e| e.into_inner());
                }
            };
            if writer.write_all(&chunk).is_err() {
                self.drop_connection();
                return;
            }
            let mut st = self.lock();
            st.writing = false;
            st.progress = std::time::Instant::now();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OutboxState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queue `bytes`; false when the connection is gone or has been dropped for
    /// falling behind. With nothing ahead of them they are written at once, as far as
    /// the socket takes them without waiting (a key's echo skips a thread's wake-up).
    pub fn send(&self, mut bytes: Vec<u8>) -> bool {
        let mut st = self.lock();
        if st.closed {
            return false;
        }
        if st.queue.is_empty() && !st.writing {
            let sent = send_now(&self.stream, &bytes);
            if sent == bytes.len() {
                st.progress = std::time::Instant::now();
                return true;
            }
            bytes.drain(..sent);
        }
        if st.bytes + bytes.len() > OUTBOX_LIMIT {
            drop(st);
            self.drop_connection();
            return false;
        }
        if st.bytes == 0 {
            st.progress = std::time::Instant::now();
        }
        st.bytes += bytes.len();
        st.queue.push_back(bytes);
        self.ready.notify_one();
        true
    }

    /// Queue one JSON message and its newline.
    pub fn send_json(&self, value: &serde_json::Value) -> bool {
        let mut text = value.to_string();
        text.push('\n');
        self.send(text.into_bytes())
    }

    /// Write what is queued, then close the connection's sending side.
    pub fn finish(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }

    /// Write what is queued and close, waiting up to `limit` for it to be written.
    pub fn finish_and_wait(&self, limit: std::time::Duration) {
        self.finish();
        let deadline = std::time::Instant::now() + limit;
        let mut st = self.lock();
        while !st.done {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return;
            }
            st = self
                .ready
                .wait_timeout(st, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Close the connection now, in both directions (unblocks its reader too).
    pub fn drop_connection(&self) {
        let mut st = self.lock();
        st.closed = true;
        st.queue.clear();
        st.bytes = 0;
        drop(st);
        self.ready.notify_all();
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }

    /// Bytes waiting to be written.
    pub fn pending(&self) -> usize {
        self.lock().bytes
    }

    /// How long bytes have been waiting without the connection taking any.
    pub fn stalled_for(&self) -> std::time::Duration {
        let st = self.lock();
        if st.bytes == 0 {
            return std::time::Duration::ZERO;
        }
        st.progress.elapsed()
    }

    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }
}

/// Write what `stream` takes without waiting; how many bytes it took.
fn send_now(stream: &UnixStream, bytes: &[u8]) -> usize {
    use std::os::fd::AsRawFd;
    // SAFETY: a plain send(2) of a live buffer on a socket this process owns.
    let n = unsafe {
        libc::send(
            stream.as_raw_fd(),
            bytes.as_ptr().cast(),
            bytes.len(),
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
        )
    };
    usize::try_from(n).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: u32) -> Stamped {
        Stamped {
            ts: chrono::Utc::now(),
            event: Event::SessionStarted {
                session: "s".into(),
                attempt: n,
                pid: 1,
            },
        }
    }

    #[test]
    fn history_then_live_and_slow_subscribers_are_dropped() {
        let hub = Hub::default();
        hub.publish(event(1));
        let (past, live) = hub.subscribe();
        assert_eq!(past.len(), 1);
        assert!(past[0].line.contains("\"event\":\"session_started\""));
        let line: serde_json::Value = serde_json::from_str(&past[0].line).unwrap();
        assert!(line["ts"].is_string(), "no ts: {}", past[0].line);
        hub.publish(event(2));
        assert!(live.try_recv().unwrap().line.contains("\"attempt\":2"));
        for n in 0..SUBSCRIBER_QUEUE as u32 + 1 {
            hub.publish(event(n));
        }
        // Fell behind: dropped, its queue drains and then ends.
        assert_eq!(live.iter().count(), SUBSCRIBER_QUEUE);
        assert_eq!(hub.history().len(), SUBSCRIBER_QUEUE + 3);
    }

    #[test]
    fn a_full_outbox_drops_its_connection() {
        let (a, _b) = UnixStream::pair().unwrap();
        let outbox = Outbox::start(a).unwrap();
        let mut sent = 0;
        while outbox.send(vec![0; 64 * 1024]) {
            sent += 1;
            assert!(sent < 1000, "never dropped");
        }
        assert!(outbox.is_closed());
    }
}
