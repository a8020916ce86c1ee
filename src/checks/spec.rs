//! What the [`Checker`](super::Checker) is asked to check, in the check language's own
//! terms: datasets (where their files are), probes (the command to run) and gates (what
//! they judge), each with its parsed checks. The plan builds it (`Plan::check_plan`); the
//! checks never read the plan, so the layers point one way.

use super::{Check, Format};
use regex::Regex;
use std::path::PathBuf;
use std::time::Duration;

/// One check as written and as parsed.
#[derive(Debug, Clone)]
pub struct CheckSpec {
    pub text: String,
    pub check: Check,
}

/// A dataset: its files and its checks.
#[derive(Debug, Clone)]
pub struct DatasetChecks {
    pub name: String,
    /// File or glob as written (relative to `dir`, or absolute); messages name it so.
    pub path: String,
    /// The directory `path` is relative to: the plan's root or the owner's worktree.
    pub dir: PathBuf,
    pub format: Format,
    /// A session writes it: until that session ends, a missing file is pending and
    /// results are provisional.
    pub owned: bool,
    pub checks: Vec<CheckSpec>,
}

/// A probe: a command whose exit code and output value are checked.
#[derive(Debug, Clone)]
pub struct ProbeChecks {
    pub name: String,
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    /// Picks the value out of the output (its first group, or the whole match).
    pub pattern: Option<Regex>,
    pub timeout: Duration,
    pub checks: Vec<CheckSpec>,
}

/// A gate: the datasets and probes it judges and its own cross-source checks.
#[derive(Debug, Clone)]
pub struct GateChecks {
    pub name: String,
    /// Indices into [`CheckPlan::datasets`].
    pub datasets: Vec<usize>,
    /// Indices into [`CheckPlan::probes`].
    pub probes: Vec<usize>,
    pub checks: Vec<CheckSpec>,
}

/// Everything to check, in the plan's order (indices match the plan's).
#[derive(Debug, Clone, Default)]
pub struct CheckPlan {
    pub datasets: Vec<DatasetChecks>,
    pub probes: Vec<ProbeChecks>,
    pub gates: Vec<GateChecks>,
}

impl CheckPlan {
    pub fn dataset_index(&self, name: &str) -> Option<usize> {
        self.datasets.iter().position(|d| d.name == name)
    }

    pub fn probe_index(&self, name: &str) -> Option<usize> {
        self.probes.iter().position(|p| p.name == name)
    }
}
