use super::*;
use crate::tui::fixtures::{G, S, plan};

fn view(only: Option<&[String]>) -> (RunView, Instant) {
    let p = Arc::new(plan(
        "p",
        &[
            S("a", None, &[]),
            S("b", None, &["a:started"]),
            S("c", None, &["a:finished", "g"]),
            S("d", None, &["b"]),
        ],
        &[G("g", &["a"], true, true)],
        None,
    ));
    let t = Instant::now();
    (RunView::new(p, "r".into(), only, t), t)
}

fn st(v: &mut RunView, s: &str, state: SessionState, t: Instant) {
    v.apply(
        &Event::SessionState {
            session: s.into(),
            state,
        },
        t,
    );
}

fn waiting(v: &mut RunView, s: &str, on: &[&str], t: Instant) {
    v.apply(
        &Event::SessionWaiting {
            session: s.into(),
            waiting_for: on.iter().map(|x| x.to_string()).collect(),
        },
        t,
    );
}

#[test]
fn waits_are_told_not_worked_out() {
    let (mut v, t) = view(None);
    // Nothing told yet: nothing shown, whatever the plan says.
    assert!(v.waits_for(1).is_empty());
    waiting(&mut v, "b", &["a:started"], t);
    waiting(&mut v, "c", &["a:finished", "g"], t);
    assert_eq!(v.waits_for(1), ["a:started"]);
    assert_eq!(v.waiting_text(2).unwrap(), "waits for a:finished, g");
    waiting(&mut v, "c", &["g"], t);
    assert_eq!(v.waits_for(2), ["g"]);
    waiting(&mut v, "c", &[], t);
    assert!(v.waits_for(2).is_empty() && v.waiting_text(2).is_none());
    // Only a pending session waits, even if the last word was not heard.
    st(&mut v, "b", SessionState::Running, t);
    assert!(v.waits_for(1).is_empty());
    waiting(&mut v, "nobody", &["a"], t);
}

#[test]
fn gates_awaiting_follow_approvals() {
    let (mut v, t) = view(None);
    // CONDITIONAL opens a gate that allows it, once approved (manual).
    v.apply(
        &Event::GateResult {
            gate: "g".into(),
            verdict: Verdict::Conditional,
        },
        t,
    );
    assert_eq!(v.gates_awaiting(), vec![0]);
    v.apply(
        &Event::GateApproved {
            gate: "g".into(),
            by: "user".into(),
        },
        t,
    );
    assert!(v.gates_awaiting().is_empty());
    // A later FAIL needs a new approval after it passes again.
    v.apply(
        &Event::GateResult {
            gate: "g".into(),
            verdict: Verdict::Fail,
        },
        t,
    );
    v.apply(
        &Event::GateResult {
            gate: "g".into(),
            verdict: Verdict::Pass,
        },
        t,
    );
    assert_eq!(v.gates_awaiting(), vec![0]);
}

#[test]
fn sessions_outside_only_are_satisfied_and_not_counted() {
    let only = vec!["d".to_string()];
    let (v, _) = view(Some(&only));
    assert!(v.sessions[1].excluded);
    assert_eq!(v.counts(), vec![(SessionState::Pending, 1)]);
}

#[test]
fn checks_are_replaced_by_key_and_files_deduplicated() {
    let (mut v, t) = view(None);
    let r = |status| {
        Event::CheckResult(CheckResult {
            source: "ds".into(),
            check: "exists".into(),
            severity: crate::checks::Severity::Error,
            status,
            value: crate::checks::Measured::Null,
            expected: crate::checks::Expected::Unstated,
            message: String::new(),
            provisional: false,
        })
    };
    v.apply(&r(CheckStatus::Pending), t);
    v.apply(&r(CheckStatus::Pass), t);
    assert_eq!(v.checks.len(), 1);
    assert_eq!(
        v.check_counts(),
        CheckCounts {
            pass: 1,
            ..Default::default()
        }
    );
    for p in ["x", "y", "x"] {
        v.apply(&Event::FileChanged { path: p.into() }, t);
    }
    let files: Vec<&str> = v.files.iter().map(|f| f.1.as_str()).collect();
    assert_eq!(files, vec!["x", "y"]);
}

#[test]
fn elapsed_stops_at_exit_and_restarts_with_attempt() {
    let (mut v, t) = view(None);
    let s = |n| t + Duration::from_secs(n);
    v.apply(
        &Event::SessionStarted {
            session: "a".into(),
            attempt: 1,
            pid: 1,
        },
        s(0),
    );
    v.apply(
        &Event::SessionExited {
            session: "a".into(),
            attempt: 1,
            exit_code: Some(1),
            signal: None,
            duration_s: 5.0,
        },
        s(5),
    );
    assert_eq!(v.session_elapsed(0, s(100)), Some(Duration::from_secs(5)));
    v.apply(
        &Event::SessionRestarting {
            session: "a".into(),
            attempt: 2,
            delay_s: 2.0,
        },
        s(5),
    );
    assert_eq!(v.sessions[0].restart_at, Some(s(7)));
    v.apply(
        &Event::SessionStarted {
            session: "a".into(),
            attempt: 2,
            pid: 2,
        },
        s(7),
    );
    assert_eq!(v.session_elapsed(0, s(10)), Some(Duration::from_secs(3)));
    assert_eq!(v.sessions[0].attempt, 2);
    assert_eq!(fmt_duration(Duration::from_secs(3725)), "1h02m");
    assert_eq!(fmt_clock(Duration::from_secs(3725)), "01:02:05");
}
