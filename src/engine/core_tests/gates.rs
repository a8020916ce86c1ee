//! Gates (auto, manual, CONDITIONAL) and `--resume`/`--only`/`--skip`, through the pure core.

use super::*;

fn gated(approval: &str, allow: bool, opts: RunOptions) -> Sim {
    let toml = GATED
        .replace("APPROVAL", approval)
        .replace("ALLOW", &allow.to_string());
    let mut sim = Sim::with(&toml, opts);
    sim.exit("make", 0);
    sim
}

fn headless() -> RunOptions {
    RunOptions {
        headless: true,
        ..Default::default()
    }
}

#[test]
fn an_auto_gate_that_passes_lets_dependents_start() {
    let mut sim = gated("auto", false, headless());
    assert_eq!(sim.state_of("use"), SessionState::Pending);
    sim.answer_checks(vec![result("d", Severity::Error, CheckStatus::Pass)]);
    assert_eq!(sim.gate_verdicts(), [("g".to_string(), Verdict::Pass)]);
    assert_eq!(sim.state_of("use"), SessionState::Running);
    sim.exit("use", 0);
    assert_eq!(sim.wind_up(), Outcome::Passed);
}

#[test]
fn a_failed_gate_blocks_dependents_and_fails_the_run() {
    let mut sim = gated("auto", false, headless());
    sim.answer_checks(vec![result("d", Severity::Error, CheckStatus::Fail)]);
    assert_eq!(sim.gate_verdicts(), [("g".to_string(), Verdict::Fail)]);
    assert_eq!(sim.state_of("use"), SessionState::Blocked);
    assert_eq!(sim.wind_up(), Outcome::Failed);
}

#[test]
fn conditional_opens_only_where_allowed() {
    let warn_failed = || vec![result("d", Severity::Warn, CheckStatus::Fail)];
    let mut sim = gated("auto", false, headless());
    sim.answer_checks(warn_failed());
    assert_eq!(
        sim.gate_verdicts(),
        [("g".to_string(), Verdict::Conditional)]
    );
    assert_eq!(sim.state_of("use"), SessionState::Blocked);
    assert_eq!(sim.wind_up(), Outcome::Failed);

    let mut sim = gated("auto", true, headless());
    sim.answer_checks(warn_failed());
    assert_eq!(sim.state_of("use"), SessionState::Running);
    sim.exit("use", 0);
    assert_eq!(sim.wind_up(), Outcome::Passed);
}

#[test]
fn a_manual_gate_waits_for_approval_or_stops_a_headless_run() {
    let pass = || vec![result("d", Severity::Error, CheckStatus::Pass)];
    // Headless without --yes: the run ends, exit 3.
    let mut sim = gated("manual", false, headless());
    sim.answer_checks(pass());
    assert_eq!(sim.state.awaiting_approval(), [0]);
    assert_eq!(sim.state_of("use"), SessionState::Pending);
    assert_eq!(sim.wind_up(), Outcome::AwaitingApproval);

    // With --yes: approved at once.
    let yes = RunOptions {
        yes: true,
        headless: true,
        ..Default::default()
    };
    let mut sim = gated("manual", false, yes);
    sim.answer_checks(pass());
    assert_eq!(sim.approvals(), ["g by --yes"]);
    assert_eq!(sim.state_of("use"), SessionState::Running);

    // In the control room: it waits for the user.
    let mut sim = gated("manual", false, RunOptions::default());
    sim.answer_checks(pass());
    assert!(!sim.reaping, "the run waits for the user");
    sim.apply(Input::Command(Command::Approve(0)));
    assert_eq!(sim.approvals(), ["g by user"]);
    assert_eq!(sim.state_of("use"), SessionState::Running);
}

#[test]
fn a_manual_conditional_gate_that_does_not_allow_it_asks_nobody() {
    // The engine never waits on it, so nothing may say it awaits approval: not the
    // engine, not the exit status (1, not 3), not the headless line.
    let mut sim = gated("manual", false, headless());
    sim.answer_checks(vec![result("d", Severity::Warn, CheckStatus::Fail)]);
    assert!(sim.state.awaiting_approval().is_empty());
    sim.apply(Input::Command(Command::Approve(0)));
    assert!(sim.approvals().is_empty());
    assert_eq!(sim.state_of("use"), SessionState::Blocked);
    assert_eq!(sim.wind_up(), Outcome::Failed);
    let gate = &sim.state.plan.gates[0];
    assert_eq!(
        crate::gates::opening(gate, Verdict::Conditional, false),
        crate::gates::Opening::Shut
    );
}

#[test]
fn resume_only_and_skip() {
    let toml = r#"
[[session]]
name = "a"
command = "true"
[[session]]
name = "b"
command = "true"
after = ["a"]
[[session]]
name = "c"
command = "true"
after = ["b"]
"#;
    // --resume: what succeeded before is not run again.
    let mut sim = Sim::new(toml, RunOptions::default(), &["a"]);
    sim.apply(Input::Begin);
    assert_eq!(sim.state_of("a"), SessionState::Succeeded);
    assert_eq!(sim.attempt("a"), 0);
    assert_eq!(sim.state_of("b"), SessionState::Running);

    // --only b: its dependencies count as satisfied; the others do not run.
    let only = RunOptions {
        only: Some(vec!["b".into()]),
        ..Default::default()
    };
    let mut sim = Sim::with(toml, only);
    assert_eq!(sim.state_of("a"), SessionState::Skipped);
    assert_eq!(sim.state_of("b"), SessionState::Running);
    assert_eq!(sim.state_of("c"), SessionState::Skipped);
    sim.exit("b", 0);
    assert_eq!(sim.wind_up(), Outcome::Passed);

    // --skip a: a skipped session satisfies its dependents.
    let skip = RunOptions {
        skip: vec!["a".into()],
        ..Default::default()
    };
    let sim = Sim::with(toml, skip);
    assert_eq!(sim.state_of("a"), SessionState::Skipped);
    assert_eq!(sim.state_of("b"), SessionState::Running);
}
