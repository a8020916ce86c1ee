//! Sessions in pseudo-terminals.
//!
//! [`spawn`] starts one attempt of a session in its own PTY (portable-pty) as the
//! leader of a new process group. A reader thread copies every byte to the session's
//! log and hands it to the frontend's [`OutputSink`]; it also watches the text for
//! the bell, the `done_when` output pattern and the `attention` pattern, and reports
//! those and the exit to the engine as [`SessionIo`] messages.

use regex::Regex;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

/// Where session output goes besides its log: the frontend.
pub trait OutputSink: Send + Sync {
    /// A fresh terminal for a new attempt of `session` (pane number order = plan index).
    fn started(&self, _session: usize, _attempt: u32) {}
    /// Bytes `session` wrote to its terminal (already written to its log). Called on
    /// the session's reader thread; blocking here slows the session (backpressure).
    /// Returns bytes to write back into the session's terminal: answers to terminal
    /// queries such as a cursor position report (`CSI 6n`). Usually empty.
    fn output(&self, session: usize, bytes: &[u8]) -> Vec<u8>;
}

/// An output sink that discards everything (used by `check` and tests).
pub struct NullSink;

impl OutputSink for NullSink {
    fn output(&self, _session: usize, _bytes: &[u8]) -> Vec<u8> {
        Vec::new()
    }
}

/// Everything needed to start one attempt.
pub struct SpawnRequest {
    pub session: usize,
    pub attempt: u32,
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    /// Added to the inherited environment (which loses `TMUX` and `TMUX_PANE`;
    /// `TERM=xterm-256color` and `COLORTERM=truecolor` are set).
    pub env: Vec<(String, String)>,
    pub rows: u16,
    pub cols: u16,
    /// Appended to (all attempts share one log).
    pub log: PathBuf,
    pub done_output: Option<Regex>,
    pub attention: Option<Regex>,
}

/// What a session's threads tell the engine.
#[derive(Debug, Clone)]
pub enum SessionIo {
    /// The terminal bell rang.
    Bell { session: usize, attempt: u32 },
    /// The `done_when.output` pattern appeared in the output.
    DoneMatched { session: usize, attempt: u32 },
    /// The `attention` pattern is on the last line of output (true) or no longer (false).
    Attention {
        session: usize,
        attempt: u32,
        on: bool,
    },
    /// The process exited and every byte of its output has been read.
    Exited {
        session: usize,
        attempt: u32,
        exit_code: Option<i32>,
        signal: Option<String>,
    },
}

/// Shared with the reader thread: when output last arrived (ms since the UNIX epoch).
pub type LastOutput = Arc<AtomicU64>;

/// A running attempt.
pub struct SessionHandle {
    pub pid: u32,
    pub last_output: LastOutput,
    // private: the PTY master, the writer, ...
}

// TEMPORARY stubs until the PTY work lands (the lead resolves this at merge).
pub fn spawn(
    req: SpawnRequest,
    io: tokio::sync::mpsc::UnboundedSender<SessionIo>,
    sink: Arc<dyn OutputSink>,
) -> std::io::Result<SessionHandle> {
    let _ = (req, io, sink);
    Err(std::io::Error::other("not implemented"))
}

impl SessionHandle {
    pub fn write_input(&self, bytes: &[u8]) -> std::io::Result<()> {
        let _ = bytes;
        Ok(())
    }
    pub fn paste(&self, text: &str) -> std::io::Result<()> {
        let _ = text;
        Ok(())
    }
    pub fn resize(&self, rows: u16, cols: u16) {
        let _ = (rows, cols);
    }
    pub fn signal_group(&self, sig: i32) {
        let _ = sig;
    }
}

pub fn become_subreaper() {}
pub fn kill_all_descendants(grace: std::time::Duration) {
    let _ = grace;
}
