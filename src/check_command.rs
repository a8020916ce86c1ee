//! `flightdeck check`: every dataset, probe and gate check once, now.

use crate::checks::{CheckResult, CheckStatus, Checker, Severity, text};
use crate::gates::{Verdict, verdict};
use crate::plan::Plan;
use serde::Serialize;
use std::sync::Arc;

/// A gate as `report.json` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct GateReport {
    pub name: String,
    pub verdict: Verdict,
    pub approved: bool,
}

/// Every check of the plan evaluated once (owners count as done: nothing is
/// pending, a missing file fails): the results in plan order, and each gate's verdict.
pub fn evaluate_all(checker: &mut Checker) -> (Vec<CheckResult>, Vec<GateReport>) {
    let plan = checker.plan().clone();
    let mut checks = vec![];
    let mut by_dataset = vec![];
    for i in 0..plan.datasets.len() {
        let r = checker.dataset(i, true);
        checks.extend(r.iter().cloned());
        by_dataset.push(r);
    }
    let mut by_probe = vec![];
    for i in 0..plan.probes.len() {
        let r = checker.probe(i);
        checks.extend(r.iter().cloned());
        by_probe.push(r);
    }
    let mut gates = vec![];
    for (i, g) in plan.gates.iter().enumerate() {
        let own = checker.gate_checks(i, true);
        let mut all: Vec<CheckResult> = vec![];
        for &d in &g.datasets {
            all.extend(by_dataset[d].iter().cloned());
        }
        for &p in &g.probes {
            all.extend(by_probe[p].iter().cloned());
        }
        all.extend(own.iter().cloned());
        checks.extend(own);
        gates.push(GateReport {
            name: g.name.clone(),
            verdict: verdict(&all),
            approved: false,
        });
    }
    (checks, gates)
}

/// 0 when every error-level check and every gate passed (CONDITIONAL counts where
/// the gate allows it), else 1.
pub fn exit_code(plan: &Plan, checks: &[CheckResult], gates: &[GateReport]) -> i32 {
    let checks_ok = checks
        .iter()
        .all(|c| c.severity == Severity::Warn || c.status == CheckStatus::Pass);
    // Approval is not asked for here: whether the verdict passes is the one rule's.
    let gates_ok = gates
        .iter()
        .zip(&plan.gates)
        .all(|(r, g)| crate::gates::opening(g, r.verdict, true).passed());
    if checks_ok && gates_ok { 0 } else { 1 }
}

fn status_str(s: CheckStatus) -> &'static str {
    match s {
        CheckStatus::Pass => "pass",
        CheckStatus::Fail => "fail",
        CheckStatus::Error => "error",
        CheckStatus::Pending => "pending",
    }
}

fn value_str(r: &CheckResult) -> String {
    text::measured(r).unwrap_or_else(|| "-".into())
}

/// The JSON of `flightdeck check --format json`: fields in the order of `report.json`.
#[derive(Serialize)]
struct CheckJson<'a> {
    checks: &'a [CheckResult],
    gates: &'a [GateReport],
}

/// The text (table or JSON) and exit status of `flightdeck check`.
pub fn check_command(plan: Arc<Plan>, json: bool) -> (String, i32) {
    let mut checker = Checker::new(plan.clone());
    let (checks, gates) = evaluate_all(&mut checker);
    let code = exit_code(&plan, &checks, &gates);
    if json {
        let v = CheckJson {
            checks: &checks,
            gates: &gates,
        };
        let mut s = serde_json::to_string_pretty(&v).expect("serializable");
        s.push('\n');
        return (s, code);
    }
    (table(&checks, &gates), code)
}

/// Aligned columns: source, check, status, value, expected; then messages of what
/// did not pass, then gates.
pub fn table(checks: &[CheckResult], gates: &[GateReport]) -> String {
    let head = ["SOURCE", "CHECK", "STATUS", "VALUE", "EXPECTED"];
    // Very long checks (gate sums over many datasets) would push every other column
    // off the screen: cut them in the table; messages below and JSON have them whole.
    let cut = |s: &str, max: usize| -> String {
        if s.chars().count() <= max {
            s.to_string()
        } else {
            let mut t: String = s.chars().take(max - 1).collect();
            t.push('…');
            t
        }
    };
    let rows: Vec<[String; 5]> = checks
        .iter()
        .map(|c| {
            let status = if c.severity == Severity::Warn && c.status != CheckStatus::Pass {
                format!("{} (warn)", status_str(c.status))
            } else {
                status_str(c.status).to_string()
            };
            [
                c.source.clone(),
                cut(&c.check, 72),
                status,
                value_str(c),
                cut(&c.expected.to_string(), 48),
            ]
        })
        .collect();
    let mut w = head.map(|h| h.chars().count());
    for r in &rows {
        for (i, cell) in r.iter().enumerate() {
            w[i] = w[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: [&str; 5], out: &mut String| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            l.push_str(c);
            if i < 4 {
                let pad = w[i] - c.chars().count() + 2;
                l.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(head, &mut out);
    for r in &rows {
        line([&r[0], &r[1], &r[2], &r[3], &r[4]], &mut out);
    }
    let problems: Vec<&CheckResult> = checks
        .iter()
        .filter(|c| c.status != CheckStatus::Pass)
        .collect();
    if !problems.is_empty() {
        out.push('\n');
        for c in problems {
            out.push_str(&format!(
                "{} {}: {}\n",
                status_str(c.status),
                c.source,
                c.message
            ));
        }
    }
    if !gates.is_empty() {
        out.push('\n');
        let gw = gates
            .iter()
            .map(|g| g.name.chars().count())
            .max()
            .unwrap_or(0);
        for g in gates {
            out.push_str(&format!("gate {:<gw$}  {}\n", g.name, g.verdict.as_str()));
        }
    }
    let passed = checks
        .iter()
        .filter(|c| c.status == CheckStatus::Pass)
        .count();
    out.push_str(&format!("\n{passed}/{} checks passed\n", checks.len()));
    out
}
