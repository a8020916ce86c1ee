//! The engine's rules, as pure functions: when an `after` entry is met, when a gate
//! may be evaluated, how long to wait before a restart, and how a run ended.

use super::state::RunState;
use super::{Outcome, SessionState};
use crate::checks::{CheckStatus, Severity};
use crate::gates::{self, Opening};
use crate::plan::{Dep, DepKind, DepTarget, RestartPolicy, SessionSpec};
use std::time::Duration;

/// Whether a dependency is met, may still be met, or never will be.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Readiness {
    Met,
    Wait,
    Never,
}

impl Readiness {
    /// All of them: `Never` if any is, else `Wait` if any is, else `Met`.
    pub fn all(items: impl IntoIterator<Item = Readiness>) -> Readiness {
        let mut out = Readiness::Met;
        for r in items {
            match r {
                Readiness::Never => return Readiness::Never,
                Readiness::Wait => out = Readiness::Wait,
                Readiness::Met => {}
            }
        }
        out
    }
}

impl From<Opening> for Readiness {
    fn from(o: Opening) -> Readiness {
        match o {
            Opening::Open => Readiness::Met,
            Opening::Undecided | Opening::AwaitingApproval => Readiness::Wait,
            Opening::Shut => Readiness::Never,
        }
    }
}

/// What the dependency rule needs to know of the session depended on.
#[derive(Debug, Clone, Copy)]
pub struct SessionFacts {
    pub state: SessionState,
    /// How many attempts started.
    pub attempts: u32,
    /// A process, `on_success` commands or a restart are still to come.
    pub busy: bool,
}

/// The one rule for an `after` entry naming a session: `"x"` waits until x
/// succeeded (or was skipped or marked done), `"x:started"` until it started,
/// `"x:finished"` until it ended in any way.
pub fn session_dependency(kind: DepKind, s: SessionFacts) -> Readiness {
    match kind {
        DepKind::Succeeded => {
            if s.state.satisfies() && !s.busy {
                Readiness::Met
            } else if s.state.is_finished() && !s.state.satisfies() {
                Readiness::Never
            } else {
                Readiness::Wait
            }
        }
        DepKind::Started => {
            if s.attempts > 0 || s.state.satisfies() {
                Readiness::Met
            } else if s.state.is_finished() {
                Readiness::Never
            } else {
                Readiness::Wait
            }
        }
        DepKind::Finished => {
            if s.state.is_finished() && !s.busy {
                Readiness::Met
            } else {
                Readiness::Wait
            }
        }
    }
}

impl RunState {
    pub fn facts(&self, i: usize) -> SessionFacts {
        let s = &self.sessions[i];
        SessionFacts {
            state: s.state(),
            attempts: s.attempt,
            busy: s.active() || s.finishing,
        }
    }

    pub fn gate_opening(&self, g: usize) -> Opening {
        let rt = &self.gates[g];
        gates::opening(&self.plan.gates[g], rt.verdict, rt.approved)
    }

    pub fn dependency(&self, dep: &Dep) -> Readiness {
        match dep.target {
            DepTarget::Session(j) => session_dependency(dep.kind, self.facts(j)),
            DepTarget::Gate(g) => self.gate_opening(g).into(),
        }
    }

    /// A session may start once all its `after` entries are met.
    pub fn session_readiness(&self, i: usize) -> Readiness {
        Readiness::all(
            self.plan.sessions[i]
                .after
                .iter()
                .map(|d| self.dependency(d)),
        )
    }

    /// A gate may be evaluated once its `after` entries are met and the owners of
    /// every dataset it reads have succeeded (a plain `"x"` entry on each owner).
    pub fn gate_readiness(&self, g: usize) -> Readiness {
        let after = self.plan.gates[g].after.iter().map(|d| self.dependency(d));
        let owners = self
            .plan
            .gate_reads(g)
            .into_iter()
            .filter_map(|d| self.plan.datasets[d].owner)
            .map(|o| session_dependency(DepKind::Succeeded, self.facts(o)));
        Readiness::all(after.chain(owners).collect::<Vec<_>>())
    }

    /// The unmet `after` entries of a session, as written.
    pub fn unmet(&self, i: usize) -> Vec<String> {
        self.plan.sessions[i]
            .after
            .iter()
            .filter(|d| self.dependency(d) != Readiness::Met)
            .map(|d| d.raw.clone())
            .collect()
    }

    /// Gates that passed and wait for a person, in plan order.
    pub fn awaiting_approval(&self) -> Vec<usize> {
        (0..self.gates.len())
            .filter(|&g| self.gate_opening(g) == Opening::AwaitingApproval)
            .collect()
    }

    /// How the run ended, from its state now.
    pub fn decide_outcome(&self) -> Outcome {
        if self.interrupted {
            return Outcome::Interrupted;
        }
        if self.awaiting_approval_stop {
            return Outcome::AwaitingApproval;
        }
        let sessions_ok = self.sessions.iter().all(|s| s.state().satisfies());
        let gates_ok = (0..self.gates.len()).all(|g| self.gate_opening(g).passed());
        let checks_ok = self
            .all_results()
            .all(|r| r.severity == Severity::Warn || r.status == CheckStatus::Pass);
        if sessions_ok && gates_ok && checks_ok {
            Outcome::Passed
        } else {
            Outcome::Failed
        }
    }
}

/// Whether an attempt that ended this way gets an automatic restart.
pub fn may_restart(spec: &SessionSpec, success: bool, restarts_used: u32) -> bool {
    let wanted = match spec.restart {
        RestartPolicy::Never => false,
        RestartPolicy::OnFailure => !success,
        RestartPolicy::Always => true,
    };
    wanted && restarts_used < spec.max_restarts
}

/// The wait before automatic restart number `restarts_used + 1`: `backoff`, doubling
/// each time, capped at a minute.
pub fn restart_delay(backoff: Duration, restarts_used: u32) -> Duration {
    const CAP: Duration = Duration::from_secs(60);
    backoff
        .saturating_mul(1u32 << restarts_used.min(16))
        .min(CAP)
        .max(backoff.min(CAP))
}
