//! Gate verdicts: PASS when every check passes, CONDITIONAL when only `warn:` checks
//! fail, FAIL when any other check fails or cannot be evaluated; and whether a gate
//! lets its dependents start.

use crate::checks::{CheckResult, CheckStatus, Severity};
use crate::plan::{Approval, GateSpec};
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

/// Whether a gate lets its dependents start. This is the one rule: the engine, the
/// exit status, the report and the frontends all ask it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Opening {
    /// Not decided yet: waiting for its sessions, or being evaluated.
    Undecided,
    /// Dependents may start.
    Open,
    /// It passed and waits for a person to approve it.
    AwaitingApproval,
    /// Dependents never start on this verdict: FAIL, blocked, or a CONDITIONAL the
    /// gate does not allow (approval does not change that).
    Shut,
}

impl Opening {
    /// The verdict counts as passed (whether or not approved yet).
    pub fn passed(self) -> bool {
        matches!(self, Opening::Open | Opening::AwaitingApproval)
    }
}

/// Does `gate`, with this verdict and approval, let its dependents start?
pub fn opening(gate: &GateSpec, verdict: Verdict, approved: bool) -> Opening {
    let passed = match verdict {
        Verdict::Pass => true,
        Verdict::Conditional => gate.allow_conditional,
        Verdict::Fail | Verdict::Blocked => false,
        Verdict::Waiting => return Opening::Undecided,
    };
    if !passed {
        Opening::Shut
    } else if gate.approval == Approval::Manual && !approved {
        Opening::AwaitingApproval
    } else {
        Opening::Open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(manual: bool, allow_conditional: bool) -> GateSpec {
        GateSpec {
            name: "g".into(),
            after: Vec::new(),
            datasets: Vec::new(),
            probes: Vec::new(),
            checks: Vec::new(),
            approval: if manual {
                Approval::Manual
            } else {
                Approval::Auto
            },
            allow_conditional,
        }
    }

    #[test]
    fn opening_follows_verdict_approval_and_allow_conditional() {
        use Opening::*;
        let cases = [
            // (manual, allow_conditional, verdict, approved, opening)
            (false, false, Verdict::Pass, false, Open),
            (false, false, Verdict::Conditional, false, Shut),
            (false, true, Verdict::Conditional, false, Open),
            (false, false, Verdict::Fail, false, Shut),
            (false, false, Verdict::Blocked, false, Shut),
            (false, false, Verdict::Waiting, false, Undecided),
            (true, false, Verdict::Pass, false, AwaitingApproval),
            (true, false, Verdict::Pass, true, Open),
            // A manual CONDITIONAL gate that does not allow CONDITIONAL never opens:
            // nobody is asked to approve it.
            (true, false, Verdict::Conditional, false, Shut),
            (true, false, Verdict::Conditional, true, Shut),
            (true, true, Verdict::Conditional, false, AwaitingApproval),
            (true, false, Verdict::Fail, true, Shut),
        ];
        for (manual, allow, verdict, approved, want) in cases {
            let got = opening(&gate(manual, allow), verdict, approved);
            assert_eq!(got, want, "{manual} {allow} {verdict:?} {approved}");
        }
    }
}
