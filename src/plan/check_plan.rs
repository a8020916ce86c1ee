//! The plan's datasets, probes and gates as the checker takes them
//! ([`CheckPlan`]): base directories resolved, probe commands turned into argv.

use super::{CommandSpec, Plan};
use crate::checks::{CheckPlan, DatasetChecks, GateChecks, ProbeChecks};
use std::sync::Arc;

impl Plan {
    /// What the checker checks for this plan (indices match the plan's).
    pub fn check_plan(&self) -> CheckPlan {
        CheckPlan {
            datasets: self
                .datasets
                .iter()
                .map(|d| DatasetChecks {
                    name: d.name.clone(),
                    path: d.path.clone(),
                    dir: d.base_dir(self),
                    format: d.format,
                    owned: d.owner.is_some(),
                    checks: d.checks.clone(),
                })
                .collect(),
            probes: self
                .probes
                .iter()
                .map(|p| ProbeChecks {
                    name: p.name.clone(),
                    argv: CommandSpec::Shell(p.command.clone()).argv(&self.shell),
                    cwd: self.root.clone(),
                    pattern: p.pattern.clone(),
                    timeout: p.timeout,
                    checks: p.checks.clone(),
                })
                .collect(),
            gates: self
                .gates
                .iter()
                .map(|g| GateChecks {
                    name: g.name.clone(),
                    datasets: g.datasets.clone(),
                    probes: g.probes.clone(),
                    checks: g.checks.clone(),
                })
                .collect(),
        }
    }
}

impl From<&Plan> for CheckPlan {
    fn from(plan: &Plan) -> CheckPlan {
        plan.check_plan()
    }
}

impl From<Arc<Plan>> for CheckPlan {
    fn from(plan: Arc<Plan>) -> CheckPlan {
        plan.check_plan()
    }
}
