//! Knowing when an agent needs you (docs/attention.md).
//!
//! - [`hook`]: Claude Code hook and Codex notify payloads, read into reports.
//! - [`client`]: `flightdeck notify`, which sends those reports to the run's server.
//! - [`profile`]: per agent CLI, the hook settings, the arguments added to its
//!   command (`--settings`, `-c notify=...`, `--resume`) and its built-in prompts.
//! - [`activity`]: the one rule that turns signals (notify, OSC, prompt, bell,
//!   output) into a session's activity.
//! - [`alert`]: the plan's `notify` command, run without ever stalling the run.

pub mod activity;
pub mod alert;
pub mod client;
pub mod hook;
pub mod profile;

use serde::{Deserialize, Serialize};

/// What a session reports about itself (`flightdeck notify STATE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotifyState {
    NeedsInput,
    Working,
    Idle,
    /// Counts the session as succeeded, like `done_when`.
    Done,
}

impl NotifyState {
    pub const ALL: [NotifyState; 4] = [
        NotifyState::NeedsInput,
        NotifyState::Working,
        NotifyState::Idle,
        NotifyState::Done,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotifyState::NeedsInput => "needs-input",
            NotifyState::Working => "working",
            NotifyState::Idle => "idle",
            NotifyState::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<NotifyState> {
        NotifyState::ALL.into_iter().find(|n| n.as_str() == s)
    }
}
