//! Whole runs driven through the pure core, without processes: every answer the
//! loop would give (a process started, exited, a check result) is given by hand, and
//! time is a number. Each scenario runs in microseconds.

use super::checker::{CheckDone, CheckJob};
use super::core::{next_wake, step};
use super::state::{Effect, Input, Phase, RunState, Signal};
use super::{Command, Event, Outcome, RunOptions, SessionState};
use crate::checks::{CheckResult, CheckStatus, Measured, Severity};
use crate::gates::Verdict;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A run of a plan, with the loop played by hand.
struct Sim {
    state: RunState,
    now: Instant,
    events: Vec<Event>,
    notes: Vec<(usize, String)>,
    signals: Vec<(usize, Signal)>,
    jobs: Vec<CheckJob>,
    on_success: Vec<(usize, u32)>,
    reaping: bool,
    /// Sessions whose processes cannot start.
    unstartable: Vec<usize>,
}

fn plan(toml: &str) -> Arc<crate::plan::Plan> {
    let text = format!("[plan]\nname = \"test\"\n{toml}");
    let plan = crate::plan::load_str(&text, Path::new("/nonexistent/plan.toml"), &BTreeMap::new())
        .unwrap_or_else(|e| panic!("{e}"));
    Arc::new(plan)
}

impl Sim {
    fn new(toml: &str, opts: RunOptions, succeeded: &[&str]) -> Sim {
        let succeeded: Vec<String> = succeeded.iter().map(|s| s.to_string()).collect();
        let (state, first) = RunState::new(plan(toml), &opts, &succeeded);
        let mut sim = Sim {
            state,
            now: Instant::now(),
            events: Vec::new(),
            notes: Vec::new(),
            signals: Vec::new(),
            jobs: Vec::new(),
            on_success: Vec::new(),
            reaping: false,
            unstartable: Vec::new(),
        };
        sim.run_effects(first);
        sim
    }

    fn start(toml: &str) -> Sim {
        Sim::with(toml, RunOptions::default())
    }

    fn with(toml: &str, opts: RunOptions) -> Sim {
        let mut sim = Sim::new(toml, opts, &[]);
        sim.apply(Input::Begin);
        sim
    }

    fn apply(&mut self, input: Input) {
        let fx = step(&mut self.state, input, self.now);
        self.run_effects(fx);
    }

    fn run_effects(&mut self, fx: Vec<Effect>) {
        for effect in fx {
            match effect {
                Effect::Emit(e) => self.events.push(e),
                Effect::Note { session, text } => self.notes.push((session, text)),
                Effect::Spawn { session, attempt } => {
                    let answer = if self.unstartable.contains(&session) {
                        Input::SpawnFailed {
                            session,
                            attempt,
                            message: "cannot start".into(),
                        }
                    } else {
                        Input::Spawned {
                            session,
                            attempt,
                            pid: 1000 + session as u32,
                        }
                    };
                    self.apply(answer);
                }
                Effect::Signal { session, signal } => self.signals.push((session, signal)),
                Effect::Check(job) => self.jobs.push(job),
                Effect::RunOnSuccess { session, attempt } => {
                    self.on_success.push((session, attempt))
                }
                Effect::KillDescendants => self.reaping = true,
                Effect::Alert(_) => {}
                Effect::PasteInput { .. }
                | Effect::Write { .. }
                | Effect::Resize { .. }
                | Effect::Release { .. }
                | Effect::Finish(_) => {}
            }
        }
    }

    fn index(&self, name: &str) -> usize {
        self.state.plan.session_index(name).expect("a session")
    }

    fn state_of(&self, name: &str) -> SessionState {
        self.state.sessions[self.index(name)].state()
    }

    fn attempt(&self, name: &str) -> u32 {
        self.state.sessions[self.index(name)].attempt
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.apply(Input::Tick(Vec::new()));
    }

    fn exit(&mut self, name: &str, code: i32) {
        let session = self.index(name);
        let attempt = self.state.sessions[session].attempt;
        self.apply(Input::Exited {
            session,
            attempt,
            exit_code: Some(code),
            signal: None,
        });
    }

    fn killed(&mut self, name: &str) {
        let session = self.index(name);
        let attempt = self.state.sessions[session].attempt;
        self.apply(Input::Exited {
            session,
            attempt,
            exit_code: None,
            signal: Some("SIGTERM".into()),
        });
    }

    /// Answer every dataset job with nothing measured and every gate job with `own`.
    fn answer_checks(&mut self, own: Vec<CheckResult>) {
        for job in std::mem::take(&mut self.jobs) {
            let done = match job {
                CheckJob::Dataset { idx, .. } => CheckDone::Dataset {
                    idx,
                    results: Vec::new(),
                },
                CheckJob::Gate { idx } => CheckDone::Gate {
                    idx,
                    datasets: Vec::new(),
                    probes: Vec::new(),
                    own: own.clone(),
                },
                CheckJob::Final { .. } => CheckDone::Final {
                    datasets: Vec::new(),
                    probes: Vec::new(),
                },
            };
            self.apply(Input::Checked(done));
        }
    }

    /// The loop's part of the end: descendants killed, final checks answered.
    fn wind_up(&mut self) -> Outcome {
        assert!(self.reaping, "the run did not start its end");
        self.apply(Input::DescendantsKilled);
        self.answer_checks(Vec::new());
        assert_eq!(self.state.phase, Phase::Done);
        self.state.outcome.expect("an outcome")
    }

    fn gate_verdicts(&self) -> Vec<(String, Verdict)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::GateResult { gate, verdict } => Some((gate.clone(), *verdict)),
                _ => None,
            })
            .collect()
    }

    fn approvals(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::GateApproved { gate, by } => Some(format!("{gate} by {by}")),
                _ => None,
            })
            .collect()
    }
}

fn result(source: &str, severity: Severity, status: CheckStatus) -> CheckResult {
    CheckResult {
        source: source.into(),
        check: "row_count > 0".into(),
        severity,
        status,
        value: Measured::Null,
        expected: crate::checks::Expected::Compare {
            op: crate::checks::Op::Gt,
            value: crate::checks::Literal::Number(0.0),
            meaning: crate::checks::text::Meaning::Amount,
        },
        message: String::new(),
        provisional: false,
    }
}

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn dependents_wait_then_start_in_order() {
    let mut sim = Sim::start(
        r#"
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
after = ["a:started"]
"#,
    );
    assert_eq!(sim.state_of("a"), SessionState::Running);
    assert_eq!(sim.state_of("b"), SessionState::Pending);
    assert_eq!(sim.state_of("c"), SessionState::Running, "a:started is met");
    assert!(
        sim.events.iter().any(|e| matches!(e,
        Event::SessionWaiting { session, waiting_for } if session == "b" && waiting_for == &["a"]))
    );
    sim.exit("a", 0);
    assert_eq!(sim.state_of("a"), SessionState::Succeeded);
    assert_eq!(sim.state_of("b"), SessionState::Running);
    sim.exit("b", 0);
    sim.exit("c", 0);
    assert_eq!(sim.wind_up(), Outcome::Passed);
}

#[test]
fn max_parallel_holds_the_rest_back() {
    let mut sim = Sim::start(
        r#"
max_parallel = 1
[[session]]
name = "a"
command = "true"
[[session]]
name = "b"
command = "true"
"#,
    );
    assert_eq!(sim.state_of("a"), SessionState::Running);
    assert_eq!(sim.state_of("b"), SessionState::Pending);
    sim.exit("a", 0);
    assert_eq!(sim.state_of("b"), SessionState::Running);
}

#[test]
fn restart_with_backoff_then_failed_and_dependents_blocked() {
    let mut sim = Sim::start(
        r#"
[[session]]
name = "a"
command = "false"
restart = "on-failure"
max_restarts = 2
backoff = "1s"
[[session]]
name = "b"
command = "true"
after = ["a"]
[[session]]
name = "c"
command = "true"
after = ["b:started"]
[[session]]
name = "d"
command = "true"
after = ["a:finished"]
"#,
    );
    sim.exit("a", 1);
    assert_eq!(sim.state_of("a"), SessionState::Restarting);
    assert!(sim.events.iter().any(|e| matches!(e,
        Event::SessionRestarting { attempt: 2, delay_s, .. } if *delay_s == 1.0)));
    assert_eq!(next_wake(&sim.state, sim.now), sim.now + SECOND);
    sim.advance(SECOND - Duration::from_millis(1));
    assert_eq!(sim.attempt("a"), 1, "not before the backoff");
    sim.advance(Duration::from_millis(1));
    assert_eq!(sim.attempt("a"), 2);
    assert_eq!(sim.state_of("a"), SessionState::Running);
    sim.exit("a", 1);
    // The backoff doubles.
    sim.advance(SECOND);
    assert_eq!(sim.attempt("a"), 2);
    sim.advance(SECOND);
    assert_eq!(sim.attempt("a"), 3);
    sim.exit("a", 1);
    assert_eq!(sim.state_of("a"), SessionState::Failed, "no restarts left");
    assert_eq!(sim.state_of("b"), SessionState::Blocked);
    // A session blocked never started: `b:started` can never be met either.
    assert_eq!(sim.state_of("c"), SessionState::Blocked);
    assert_eq!(
        sim.state_of("d"),
        SessionState::Running,
        "a:finished is met"
    );
    sim.exit("d", 0);
    assert_eq!(sim.wind_up(), Outcome::Failed);
}

#[test]
fn timeout_stops_the_group_then_kills_it() {
    let mut sim = Sim::start(
        r#"
[[session]]
name = "slow"
command = "sleep 100"
timeout = "5s"
stop_grace = "2s"
"#,
    );
    sim.advance(5 * SECOND);
    assert_eq!(sim.notes, [(0, "timeout after 5.0s: stopping".to_string())]);
    assert_eq!(sim.signals, [(0, Signal::Terminate)]);
    sim.advance(2 * SECOND);
    assert_eq!(sim.signals, [(0, Signal::Terminate), (0, Signal::Kill)]);
    sim.killed("slow");
    assert_eq!(sim.state_of("slow"), SessionState::Failed);
    assert_eq!(sim.wind_up(), Outcome::Failed);
}

#[test]
fn a_session_that_cannot_start_fails_and_the_rest_goes_on() {
    let mut sim = Sim::new(
        r#"
[[session]]
name = "missing"
command = "nope"
[[session]]
name = "fine"
command = "true"
"#,
        RunOptions::default(),
        &[],
    );
    sim.unstartable.push(0);
    sim.apply(Input::Begin);
    assert_eq!(sim.state_of("missing"), SessionState::Failed);
    assert_eq!(sim.notes, [(0, "cannot start".to_string())]);
    assert_eq!(sim.state_of("fine"), SessionState::Running);
}

const GATED: &str = r#"
[[session]]
name = "make"
command = "true"
[[dataset]]
name = "d"
path = "d.csv"
checks = ["row_count > 0"]
[[gate]]
name = "g"
after = ["make"]
datasets = ["d"]
approval = "APPROVAL"
allow_conditional = ALLOW
[[session]]
name = "use"
command = "true"
after = ["g"]
"#;

#[test]
fn marked_done_counts_as_succeeded_and_its_stop_changes_nothing() {
    let mut sim = Sim::start(
        r#"
[[session]]
name = "agent"
command = "sleep 100"
[[session]]
name = "next"
command = "true"
after = ["agent"]
"#,
    );
    sim.apply(Input::Command(Command::MarkDone(0)));
    assert_eq!(sim.notes, [(0, "marked done by the user".to_string())]);
    assert_eq!(sim.signals, [(0, Signal::Terminate)]);
    assert_eq!(sim.state_of("agent"), SessionState::Succeeded);
    assert_eq!(sim.state_of("next"), SessionState::Running);
    sim.killed("agent");
    assert_eq!(sim.state_of("agent"), SessionState::Succeeded);
    sim.exit("next", 0);
    assert_eq!(sim.wind_up(), Outcome::Passed);
}

#[test]
fn on_success_decides_success() {
    let mut sim = Sim::start(
        r#"
[[session]]
name = "a"
command = "true"
on_success = ["git commit -m x"]
[[session]]
name = "b"
command = "true"
after = ["a"]
"#,
    );
    sim.exit("a", 0);
    assert_eq!(sim.on_success, [(0, 1)]);
    assert_eq!(
        sim.state_of("b"),
        SessionState::Pending,
        "waits for on_success"
    );
    sim.apply(Input::OnSuccessDone {
        session: 0,
        attempt: 1,
        ok: false,
    });
    assert_eq!(sim.state_of("a"), SessionState::Failed);
    assert_eq!(sim.state_of("b"), SessionState::Blocked);
}

#[test]
fn quit_stops_everything_and_the_run_is_interrupted() {
    let mut sim = Sim::start(
        r#"
[[session]]
name = "a"
command = "sleep 100"
[[session]]
name = "b"
command = "sleep 100"
"#,
    );
    sim.apply(Input::Command(Command::Quit));
    assert_eq!(
        sim.signals,
        [(0, Signal::Terminate), (1, Signal::Terminate)]
    );
    assert!(!sim.reaping, "waits for the sessions to exit");
    sim.killed("a");
    sim.killed("b");
    assert_eq!(sim.state_of("a"), SessionState::Stopped);
    assert!(sim.reaping);
    sim.apply(Input::DescendantsKilled);
    assert!(
        sim.jobs.is_empty(),
        "an interrupted run skips the final checks"
    );
    assert_eq!(sim.state.outcome, Some(Outcome::Interrupted));
}

#[test]
fn a_second_interrupt_kills_at_once() {
    let mut sim = Sim::start("[[session]]\nname = \"a\"\ncommand = \"sleep 100\"\n");
    sim.apply(Input::Interrupt);
    sim.apply(Input::Interrupt);
    assert_eq!(sim.signals, [(0, Signal::Terminate), (0, Signal::Kill)]);
}

#[test]
fn activity_goes_quiet_and_a_bell_needs_input() {
    let mut sim = Sim::start(
        r#"
[[session]]
name = "a"
command = "sleep 100"
quiet_after = "10s"
"#,
    );
    let activity = |sim: &Sim| sim.state.sessions[0].activity;
    assert_eq!(activity(&sim), Some(super::Activity::Working));
    sim.advance(10 * SECOND);
    assert_eq!(activity(&sim), Some(super::Activity::Quiet));
    sim.apply(Input::Bell {
        session: 0,
        attempt: 1,
    });
    assert_eq!(activity(&sim), Some(super::Activity::NeedsInput));
    // Output well after the bell: the session went on.
    sim.now += 2 * SECOND;
    let seen = vec![super::state::Observation {
        session: 0,
        last_output: Some(sim.now),
        done_file: false,
    }];
    sim.apply(Input::Tick(seen));
    assert_eq!(activity(&sim), Some(super::Activity::Working));
}

#[test]
fn typing_answers_a_session_that_needs_input() {
    let mut sim = Sim::start("[[session]]\nname = \"a\"\ncommand = \"sleep 100\"\n");
    let activity = |sim: &Sim| sim.state.sessions[0].activity;
    sim.apply(Input::Bell {
        session: 0,
        attempt: 1,
    });
    assert_eq!(activity(&sim), Some(super::Activity::NeedsInput));
    // The keys went straight to its terminal; the engine hears that they did.
    sim.apply(Input::Command(Command::Typed(0)));
    assert_eq!(activity(&sim), Some(super::Activity::Working));
}

#[test]
fn an_idle_run_sleeps_until_a_session_may_turn_quiet() {
    let mut sim = Sim::start(
        r#"
[[session]]
name = "a"
command = "sleep 100"
quiet_after = "10s"
[[session]]
name = "b"
command = "sleep 100"
quiet_after = "20s"
"#,
    );
    let look = Duration::from_millis(250);
    // Working, no timer: nothing can change before `a` may turn quiet.
    assert_eq!(next_wake(&sim.state, sim.now), sim.now + 10 * SECOND);
    // `a` wrote meanwhile: what it shows now waits for its new quiet moment.
    sim.now += 10 * SECOND;
    let wrote = sim.now - SECOND;
    let seen = vec![super::state::Observation {
        session: 0,
        last_output: Some(wrote),
        done_file: false,
    }];
    sim.apply(Input::Tick(seen));
    assert_eq!(next_wake(&sim.state, sim.now), wrote + 10 * SECOND);
    // Quiet: only output brings it back, and output is looked at now and then.
    sim.advance(9 * SECOND);
    assert_eq!(sim.state.sessions[0].activity, Some(super::Activity::Quiet));
    assert_eq!(next_wake(&sim.state, sim.now), sim.now + look);
}

#[test]
fn a_done_when_file_is_looked_for_often() {
    let sim = Sim::start(
        r#"
[[session]]
name = "a"
command = "sleep 100"
done_when = { file = "done" }
"#,
    );
    let look = Duration::from_millis(250);
    assert_eq!(next_wake(&sim.state, sim.now), sim.now + look);
}

#[test]
fn a_done_when_file_ends_the_session() {
    let mut sim = Sim::start(
        r#"
[[session]]
name = "a"
command = "sleep 100"
done_when = { file = "done" }
"#,
    );
    let seen = vec![super::state::Observation {
        session: 0,
        last_output: None,
        done_file: true,
    }];
    sim.apply(Input::Tick(seen));
    assert_eq!(sim.state_of("a"), SessionState::Succeeded);
    assert_eq!(sim.notes, [(0, "done_when file appeared".to_string())]);
}

mod gates;
