//! What the engine says (events) and what it is told (commands).

use crate::agent::NotifyState;
use crate::agent::activity::Source;
use crate::checks::CheckResult;
use crate::gates::Verdict;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Lifecycle state of a session (docs/plan.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionState {
    Pending,
    Running,
    Restarting,
    Succeeded,
    Failed,
    Stopped,
    Skipped,
    Blocked,
}

impl SessionState {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Pending => "pending",
            SessionState::Running => "running",
            SessionState::Restarting => "restarting",
            SessionState::Succeeded => "succeeded",
            SessionState::Failed => "failed",
            SessionState::Stopped => "stopped",
            SessionState::Skipped => "skipped",
            SessionState::Blocked => "blocked",
        }
    }

    /// Ended, one way or another (no process, nothing scheduled).
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            SessionState::Succeeded
                | SessionState::Failed
                | SessionState::Stopped
                | SessionState::Skipped
                | SessionState::Blocked
        )
    }

    /// Satisfies a plain `after` dependency.
    pub fn satisfies(self) -> bool {
        matches!(self, SessionState::Succeeded | SessionState::Skipped)
    }
}

/// What a running session is doing (docs/attention.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activity {
    Working,
    Quiet,
    NeedsInput,
    /// An agent that finished its turn and waits for a new prompt.
    Idle,
}

impl Activity {
    pub fn as_str(self) -> &'static str {
        match self {
            Activity::Working => "working",
            Activity::Quiet => "quiet",
            Activity::NeedsInput => "needs-input",
            Activity::Idle => "idle",
        }
    }
}

/// One line of `events.jsonl` (without its `ts`, which the recorder adds).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        run_id: String,
        plan: String,
    },
    SessionStarted {
        session: String,
        attempt: u32,
        pid: u32,
    },
    SessionExited {
        session: String,
        attempt: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        exit_code: Option<i32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        signal: Option<String>,
        duration_s: f64,
    },
    SessionRestarting {
        session: String,
        attempt: u32,
        delay_s: f64,
    },
    SessionState {
        session: String,
        state: SessionState,
    },
    SessionActivity {
        session: String,
        activity: Activity,
        /// Which signal decided it (docs/attention.md).
        source: Source,
        /// What the session said (a question, a notification), if anything.
        message: Option<String>,
    },
    /// The session set its terminal title.
    SessionTitle {
        session: String,
        title: String,
    },
    /// The agent CLI's own conversation id (continued on a restart or `--resume`).
    AgentSession {
        session: String,
        agent: String,
        id: String,
    },
    /// The session's log reached `log_limit`: it keeps its beginning and newest bytes.
    LogTruncated {
        session: String,
        attempt: u32,
        limit_bytes: u64,
    },
    /// The plan's `notify` command failed or was killed (the run goes on).
    NotifyFailed {
        /// What it was run for (`FLIGHTDECK_EVENT`).
        for_event: String,
        message: String,
    },
    /// What a pending session still waits for: its unmet `after` entries as written
    /// (empty once it waits for nothing). Sent when that changes, so frontends are
    /// told rather than work it out.
    SessionWaiting {
        session: String,
        waiting_for: Vec<String>,
    },
    FileChanged {
        path: String,
    },
    CheckResult(CheckResult),
    GateResult {
        gate: String,
        verdict: Verdict,
    },
    GateApproved {
        gate: String,
        by: String,
    },
    /// A control room attached to the run (`client`: its number in this run; its
    /// terminal's size).
    ClientAttached {
        client: u64,
        cols: u16,
        rows: u16,
    },
    /// That control room detached (or its connection ended).
    ClientDetached {
        client: u64,
    },
    RunFinished {
        status: String,
        exit_code: i32,
        duration_s: f64,
    },
}

/// An event with the time it was recorded: the one `ts` that `events.jsonl` and every
/// listener of the run share.
#[derive(Debug, Clone)]
pub struct Stamped {
    pub ts: DateTime<Utc>,
    pub event: Event,
}

/// What a frontend can ask of the engine. Sessions and gates by plan index.
#[derive(Debug, Clone)]
pub enum Command {
    /// Start a pending session now, ignoring its dependencies.
    Start(usize),
    /// Stop a running session (SIGTERM to its group, SIGKILL after `stop_grace`).
    Stop(usize),
    /// Stop if running, then start again as a new attempt.
    Restart(usize),
    /// Mark a pending session skipped.
    Skip(usize),
    /// Count a session as succeeded (stopping it unless `keep_running`).
    MarkDone(usize),
    /// Approve a gate that awaits manual approval.
    Approve(usize),
    /// Evaluate every check and gate again now.
    Recheck,
    /// Bytes to write into a session's terminal.
    Input(usize, Vec<u8>),
    /// The user typed into a session's terminal through its [`Keyboard`](crate::session::Keyboard)
    /// (what it asked is answered).
    Typed(usize),
    /// The pane of a session has this inner size (rows, cols).
    Resize(usize, u16, u16),
    /// Stop everything, write the record, finish.
    Quit,
    /// `flightdeck notify` from inside a session (or its agent's hook).
    Notify {
        session: usize,
        activity: NotifyState,
        message: Option<String>,
    },
    /// The agent CLI in a session told its conversation id (a hook).
    AgentSession {
        session: usize,
        agent: String,
        id: String,
    },
    /// Something a frontend saw that belongs in the record (a client attaching or
    /// detaching): the engine writes it and passes it on like its own events.
    Record(Event),
}
