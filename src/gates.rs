//! Gate verdicts: PASS when every check passes, CONDITIONAL when only `warn:` checks
//! fail, FAIL when any other check fails or cannot be evaluated.

use crate::checks::{CheckResult, CheckStatus, Severity};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Verdict {
    #[serde(rename = "PASS")]
    Pass,
    #[serde(rename = "CONDITIONAL")]
    Conditional,
    #[serde(rename = "FAIL")]
    Fail,
    #[serde(rename = "blocked")]
    Blocked,
    #[serde(rename = "waiting")]
    Waiting,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Conditional => "CONDITIONAL",
            Verdict::Fail => "FAIL",
            Verdict::Blocked => "blocked",
            Verdict::Waiting => "waiting",
        }
    }
}

/// The verdict over a gate's results; `Waiting` while any of them is pending.
pub fn verdict(results: &[CheckResult]) -> Verdict {
    let mut v = Verdict::Pass;
    for r in results {
        match (r.status, r.severity) {
            (CheckStatus::Pending, _) => return Verdict::Waiting,
            (CheckStatus::Pass, _) => {}
            (_, Severity::Warn) => {
                if v == Verdict::Pass {
                    v = Verdict::Conditional
                }
            }
            (_, Severity::Error) => v = Verdict::Fail,
        }
    }
    v
}
