//! The plan: what to run, in what order, and what to check.
//!
//! `load` turns a TOML file into a validated [`Plan`] or a [`PlanError`] that names
//! the file, line and column. Everything downstream works on the validated model:
//! names are resolved to indices, `{vars}` are substituted, paths are absolute,
//! checks are parsed.

mod check_plan;
mod check_refs;
mod dataset;
mod gate;
mod graph;
mod load;
mod probe;
mod reader;
mod session;
mod settings;
mod vars;

pub use load::{load, load_str};

use regex::Regex;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// A plan error: where and what. Displayed as `file:line:col: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    pub file: PathBuf,
    /// 1-based; 0 when the error has no position (e.g. the file cannot be read).
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file.display(),
                self.line,
                self.col,
                self.message
            )
        }
    }
}

impl std::error::Error for PlanError {}

#[derive(Debug, Clone)]
pub struct Plan {
    /// The plan file (absolute).
    pub file: PathBuf,
    pub name: String,
    /// Absolute root; every relative path in the plan is relative to it.
    pub root: PathBuf,
    /// Absolute directory of run records.
    pub records: PathBuf,
    pub max_parallel: Option<usize>,
    /// `string` commands run as `<shell> -c "<command>"`; split on whitespace.
    pub shell: Vec<String>,
    /// Bytes a session's log may hold before its middle is dropped (`log_limit`).
    pub log_limit: u64,
    /// Command run (in root, with the plan's shell) when a session needs the user, a
    /// gate awaits approval, or the run finishes (`notify`).
    pub notify: Option<String>,
    /// Final variables (plan `[vars]` overridden by `--var`).
    pub vars: BTreeMap<String, String>,
    pub ui: UiConfig,
    pub sessions: Vec<SessionSpec>,
    pub datasets: Vec<DatasetSpec>,
    pub probes: Vec<ProbeSpec>,
    pub gates: Vec<GateSpec>,
}

#[derive(Debug, Clone, Default)]
pub struct UiConfig {
    pub columns: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandSpec {
    /// Run through the plan's shell: `<shell> -c "<command>"`.
    Shell(String),
    /// Run directly.
    Argv(Vec<String>),
}

impl CommandSpec {
    /// The argv to execute, given the plan's shell.
    pub fn argv(&self, shell: &[String]) -> Vec<String> {
        match self {
            CommandSpec::Shell(s) => {
                let mut v = shell.to_vec();
                v.push("-c".into());
                v.push(s.clone());
                v
            }
            CommandSpec::Argv(v) => v.clone(),
        }
    }

    pub fn display(&self) -> String {
        match self {
            CommandSpec::Shell(s) => s.clone(),
            CommandSpec::Argv(v) => v.join(" "),
        }
    }
}

/// `log_limit` when the plan sets none: 1 GiB per session log.
pub const DEFAULT_LOG_LIMIT: u64 = 1 << 30;

/// The agent CLI a session runs (`agent`): it chooses the built-in needs-input and busy
/// patterns and the hooks flightdeck installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AgentKind {
    /// Any other program: no built-in patterns or hooks.
    #[default]
    None,
    /// Claude Code.
    Claude,
    /// OpenAI Codex CLI.
    Codex,
}

impl AgentKind {
    /// The name as plans write it.
    pub fn name(self) -> &'static str {
        match self {
            AgentKind::None => "none",
            AgentKind::Claude => "claude",
            AgentKind::Codex => "codex",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartPolicy {
    Never,
    OnFailure,
    Always,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepKind {
    /// `"x"`: x succeeded, was skipped, or was marked done (for a gate: passed and approved).
    Succeeded,
    /// `"x:started"`
    Started,
    /// `"x:finished"`: ended in any way.
    Finished,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepTarget {
    Session(usize),
    Gate(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dep {
    /// As written, e.g. `"config-engineer:started"`.
    pub raw: String,
    pub target: DepTarget,
    pub kind: DepKind,
}

#[derive(Debug, Clone)]
pub struct DoneWhen {
    pub output: Option<Regex>,
    /// Absolute path.
    pub file: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct SessionSpec {
    pub name: String,
    /// 1-based position among `[[session]]` tables: the pane number.
    pub number: usize,
    pub command: CommandSpec,
    /// Absolute working directory (the worktree path when `worktree` is set).
    pub cwd: PathBuf,
    pub env: BTreeMap<String, String>,
    pub after: Vec<Dep>,
    pub phase: Option<String>,
    pub restart: RestartPolicy,
    pub max_restarts: u32,
    pub backoff: Duration,
    pub timeout: Option<Duration>,
    pub stop_grace: Duration,
    /// Absolute path of a file pasted into the terminal once started.
    pub input: Option<PathBuf>,
    pub input_delay: Duration,
    pub done_when: Option<DoneWhen>,
    pub keep_running: bool,
    /// Glob patterns, relative to root.
    pub outputs: Vec<String>,
    /// Branch name; the session runs in `<root>/.flightdeck/worktrees/<name>`.
    pub worktree: Option<String>,
    pub attention: Option<Regex>,
    pub quiet_after: Duration,
    pub on_success: Vec<String>,
    pub agent: AgentKind,
}

/// The check language and its readers sit below the plan; the plan names a format.
pub use crate::checks::Format;

/// One check as written and as parsed (the check language's type; the plan holds it).
pub use crate::checks::CheckSpec;

#[derive(Debug, Clone)]
pub struct DatasetSpec {
    pub name: String,
    /// File or glob, relative to root (or absolute).
    pub path: String,
    pub format: Format,
    /// Index of the owning session.
    pub owner: Option<usize>,
    pub checks: Vec<CheckSpec>,
}

impl DatasetSpec {
    /// The directory a dataset is read in: root, or the owner's worktree (its top,
    /// not the owner's `cwd` inside it: dataset paths are relative to root).
    pub fn base_dir(&self, plan: &Plan) -> PathBuf {
        self.owner
            .and_then(|o| plan.worktree_dir(o))
            .unwrap_or_else(|| plan.root.clone())
    }
}

#[derive(Debug, Clone)]
pub struct ProbeSpec {
    pub name: String,
    pub command: String,
    pub pattern: Option<Regex>,
    pub timeout: Duration,
    pub checks: Vec<CheckSpec>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    Auto,
    Manual,
}

#[derive(Debug, Clone)]
pub struct GateSpec {
    pub name: String,
    pub after: Vec<Dep>,
    /// Indices into `Plan::datasets`.
    pub datasets: Vec<usize>,
    /// Indices into `Plan::probes`.
    pub probes: Vec<usize>,
    pub checks: Vec<CheckSpec>,
    pub approval: Approval,
    pub allow_conditional: bool,
}

impl Plan {
    /// `<root>/.flightdeck/worktrees/<name>` for a session with a `worktree`.
    pub fn worktree_dir(&self, session: usize) -> Option<PathBuf> {
        let s = &self.sessions[session];
        s.worktree.as_ref().map(|_| {
            self.root
                .join(".flightdeck")
                .join("worktrees")
                .join(&s.name)
        })
    }

    /// The name of a session or gate.
    pub fn node_name(&self, node: DepTarget) -> &str {
        match node {
            DepTarget::Session(i) => &self.sessions[i].name,
            DepTarget::Gate(i) => &self.gates[i].name,
        }
    }

    /// Datasets a gate reads: those in its `datasets` and those its own checks name.
    pub fn gate_reads(&self, gate: usize) -> Vec<usize> {
        let g = &self.gates[gate];
        let mut out = g.datasets.clone();
        for c in &g.checks {
            for src in graph::check_sources(&c.check) {
                if let Some(d) = self.dataset_index(src)
                    && !out.contains(&d)
                {
                    out.push(d);
                }
            }
        }
        out
    }

    /// Everything a session or gate waits for: its `after` entries and, for a gate,
    /// the owners of the datasets it reads (their checks stay pending until the owner
    /// ends, so this counts as `Finished`).
    pub fn waits_for(&self, node: DepTarget) -> Vec<(DepTarget, DepKind)> {
        let mut out: Vec<(DepTarget, DepKind)> = Vec::new();
        let after = match node {
            DepTarget::Session(i) => &self.sessions[i].after,
            DepTarget::Gate(i) => &self.gates[i].after,
        };
        out.extend(after.iter().map(|d| (d.target, d.kind)));
        if let DepTarget::Gate(g) = node {
            for d in self.gate_reads(g) {
                if let Some(o) = self.datasets[d].owner {
                    let t = DepTarget::Session(o);
                    if !out.iter().any(|(x, _)| *x == t) {
                        out.push((t, DepKind::Finished));
                    }
                }
            }
        }
        out
    }

    pub fn session_index(&self, name: &str) -> Option<usize> {
        self.sessions.iter().position(|s| s.name == name)
    }
    pub fn gate_index(&self, name: &str) -> Option<usize> {
        self.gates.iter().position(|g| g.name == name)
    }
    pub fn dataset_index(&self, name: &str) -> Option<usize> {
        self.datasets.iter().position(|d| d.name == name)
    }
    pub fn probe_index(&self, name: &str) -> Option<usize> {
        self.probes.iter().position(|p| p.name == name)
    }
}
