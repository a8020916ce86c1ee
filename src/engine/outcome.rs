//! How a run ended, and the exit status that says so: the one place where an
//! outcome becomes a number (`main` turns it into the process's exit code).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Every session succeeded or was skipped; every error-level check and gate passed.
    Passed,
    /// A session, a gate or an error-level check failed.
    Failed,
    /// Usage or plan error: nothing was started.
    Unusable,
    /// Headless, the run stopped at a manual gate (`--yes` not given).
    AwaitingApproval,
    /// Ctrl-C, SIGTERM, or quit while sessions ran.
    Interrupted,
}

impl Outcome {
    /// The exit status (docs/ and `flightdeck --help` list them).
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Passed => 0,
            Outcome::Failed => 1,
            Outcome::Unusable => 2,
            Outcome::AwaitingApproval => 3,
            Outcome::Interrupted => 130,
        }
    }

    /// The word in `run_finished` and the report's `status`.
    pub fn status(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Unusable => "unusable",
            Outcome::AwaitingApproval => "awaiting-approval",
            Outcome::Interrupted => "interrupted",
        }
    }

    /// Back from an exit status (a client that only has the number).
    pub fn from_exit_code(code: i32) -> Outcome {
        match code {
            0 => Outcome::Passed,
            2 => Outcome::Unusable,
            3 => Outcome::AwaitingApproval,
            130 => Outcome::Interrupted,
            _ => Outcome::Failed,
        }
    }
}

impl From<Outcome> for std::process::ExitCode {
    fn from(o: Outcome) -> Self {
        std::process::ExitCode::from(o.exit_code())
    }
}
