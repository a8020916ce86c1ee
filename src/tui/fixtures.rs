//! Small hand-built plans for the control room's tests (the plan loader is not
//! needed to draw a screen).

use crate::plan::{
    Approval, CommandSpec, Dep, DepKind, DepTarget, GateSpec, Plan, RestartPolicy, SessionSpec,
    UiConfig,
};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// One session: name, phase, `after` entries (as written: `x`, `x:started`, a gate).
pub struct S<'a>(pub &'a str, pub Option<&'a str>, pub &'a [&'a str]);
/// One gate: name, `after`, manual approval, allow_conditional.
pub struct G<'a>(pub &'a str, pub &'a [&'a str], pub bool, pub bool);

pub fn plan(name: &str, sessions: &[S], gates: &[G], columns: Option<u16>) -> Plan {
    let names: Vec<&str> = sessions.iter().map(|s| s.0).collect();
    let gnames: Vec<&str> = gates.iter().map(|g| g.0).collect();
    let dep = |raw: &str| -> Dep {
        let (base, kind) = match raw.rsplit_once(':') {
            Some((b, "started")) => (b, DepKind::Started),
            Some((b, "finished")) => (b, DepKind::Finished),
            _ => (raw, DepKind::Succeeded),
        };
        let target = match names.iter().position(|n| *n == base) {
            Some(i) => DepTarget::Session(i),
            None => DepTarget::Gate(
                gnames
                    .iter()
                    .position(|n| *n == base)
                    .unwrap_or_else(|| panic!("fixture: unknown dependency {base}")),
            ),
        };
        Dep {
            raw: raw.to_string(),
            target,
            kind,
        }
    };
    let root = PathBuf::from("/tmp/fixture");
    Plan {
        file: root.join("plan.toml"),
        name: name.to_string(),
        root: root.clone(),
        records: root.join(".flightdeck/runs"),
        max_parallel: None,
        shell: vec!["sh".into()],
        log_limit: 1 << 30,
        notify: None,
        vars: BTreeMap::new(),
        ui: UiConfig { columns },
        sessions: sessions
            .iter()
            .enumerate()
            .map(|(i, s)| SessionSpec {
                name: s.0.to_string(),
                number: i + 1,
                command: CommandSpec::Shell("true".into()),
                cwd: root.clone(),
                env: BTreeMap::new(),
                after: s.2.iter().map(|d| dep(d)).collect(),
                phase: s.1.map(str::to_string),
                restart: RestartPolicy::Never,
                max_restarts: 3,
                backoff: Duration::from_secs(1),
                timeout: None,
                stop_grace: Duration::from_secs(5),
                input: None,
                input_delay: Duration::from_secs(1),
                done_when: None,
                keep_running: false,
                outputs: Vec::new(),
                worktree: None,
                attention: None,
                quiet_after: Duration::from_secs(60),
                agent: Default::default(),
                on_success: Vec::new(),
            })
            .collect(),
        datasets: Vec::new(),
        probes: Vec::new(),
        gates: gates
            .iter()
            .map(|g| GateSpec {
                name: g.0.to_string(),
                after: g.1.iter().map(|d| dep(d)).collect(),
                datasets: Vec::new(),
                probes: Vec::new(),
                checks: Vec::new(),
                approval: if g.2 {
                    Approval::Manual
                } else {
                    Approval::Auto
                },
                allow_conditional: g.3,
            })
            .collect(),
    }
}

/// A check result's expectation from the short forms the screen tests write: `""`
/// (none), `>= 2010` (a value, compared as written) or `8,000 ± 20%` (an amount).
pub fn expected(text: &str) -> crate::checks::Expected {
    use crate::checks::text::Meaning;
    use crate::checks::{Expected, Literal, Op};
    let number = |s: &str| -> f64 { s.replace(',', "").parse().expect("a number") };
    if text.is_empty() {
        return Expected::Unstated;
    }
    if let Some((target, tolerance)) = text.split_once(" ± ") {
        return Expected::Near {
            target: number(target),
            tolerance: number(tolerance.trim_end_matches('%')),
            percent: tolerance.ends_with('%'),
            meaning: Meaning::Amount,
        };
    }
    let (op, value) = text.split_once(' ').expect("`op value`");
    let op = match op {
        "=" => Op::Eq,
        "!=" => Op::Ne,
        "<" => Op::Lt,
        "<=" => Op::Le,
        ">" => Op::Gt,
        ">=" => Op::Ge,
        other => panic!("not a comparison: {other}"),
    };
    Expected::Compare {
        op,
        value: Literal::Number(number(value)),
        meaning: Meaning::Value,
    }
}
