//! The engine: runs a plan's sessions in the order its dependencies allow, restarts
//! what fails, evaluates checks and gates, and records everything.
//!
//! It knows nothing of screens. A frontend (headless printer or TUI) calls [`start`],
//! reads [`Event`]s from the returned [`RunHandle`], and sends [`Command`]s. Session
//! output does not travel as events: it goes, from each session's reader thread, to
//! the log file and to the frontend's [`OutputSink`](crate::session::OutputSink).
//!
//! Inside, three layers point one way:
//! - the pure core: `state` (the run's state, inputs, effects), `core` (the step
//!   function: scheduling, gates, checks, commands, the end) and `lifecycle` (one
//!   session's start, stop, exit, restart, done); tests drive it without processes;
//! - `policy`: the rules as pure functions (dependencies, restart backoff, outcome);
//! - the effects: `driver` (the loop that feeds the core and carries out its effects)
//!   and `actions` (worktrees, `on_success`, `done_when` files, the report).

mod actions;
mod checker;
mod core;
mod driver;
mod events;
mod lifecycle;
mod outcome;
mod policy;
mod state;

#[cfg(test)]
mod core_tests;

pub use actions::ensure_worktree;
pub use driver::{Keyboards, start};
pub use events::*;
pub use outcome::Outcome;
pub use policy::{Readiness, SessionFacts, session_dependency};

use crate::plan::Plan;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

/// How to run (from the command line).
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Approve manual gates automatically.
    pub yes: bool,
    /// Run just these sessions (names); dependencies outside the set count as satisfied.
    pub only: Option<Vec<String>>,
    /// Mark these sessions skipped.
    pub skip: Vec<String>,
    /// A previous run id, or `latest`.
    pub resume: Option<String>,
    /// Overrides the plan's `max_parallel`.
    pub max_parallel: Option<usize>,
    /// Headless: stop with exit 3 at a manual gate (instead of waiting for `Approve`).
    pub headless: bool,
    /// Terminal size (rows, cols) per session index; missing entries get 24x80.
    pub pane_sizes: Vec<(u16, u16)>,
    /// The run server's socket directory: sessions get `FLIGHTDECK_SOCKET`
    /// (`<dir>/<run_id>.sock`, docs/protocol.md).
    pub socket_dir: Option<PathBuf>,
}

/// A run in progress: read its events, send it commands.
pub struct RunHandle {
    pub run_id: String,
    pub run_dir: PathBuf,
    pub plan: Arc<Plan>,
    pub commands: UnboundedSender<Command>,
    /// Ends with `Event::RunFinished`, after which the record is complete. Each
    /// event carries the `ts` it has in `events.jsonl`.
    pub events: UnboundedReceiver<Stamped>,
    /// The running attempts' keyboards: a frontend may type without a trip through
    /// the engine (then it sends [`Command::Typed`]).
    pub keyboards: Arc<Keyboards>,
}
