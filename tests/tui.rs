//! The control room: rendering snapshots on ratatui's TestBackend, keys → engine
//! commands, and (ignored until the whole product is merged) end-to-end runs inside
//! a real tmux.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use flightdeck::checks::{CheckResult, CheckStatus, Measured, Severity};
use flightdeck::engine::{Activity, Command, Event, SessionState};
use flightdeck::gates::Verdict;
use flightdeck::session::OutputSink;
use flightdeck::tui::app::{App, Mode};
use flightdeck::tui::fixtures::{G, S, plan};
use flightdeck::tui::model::RunView;
use flightdeck::tui::screens::Screens;
use flightdeck::tui::ui;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn at(base: Instant, s: u64) -> Instant {
    base + Duration::from_secs(s)
}

fn started(name: &str, attempt: u32) -> Event {
    Event::SessionStarted {
        session: name.into(),
        attempt,
        pid: 1000 + attempt,
    }
}
fn state(name: &str, st: SessionState) -> Event {
    Event::SessionState {
        session: name.into(),
        state: st,
    }
}
/// What the engine tells of a pending session.
fn waiting(name: &str, on: &[&str]) -> Event {
    Event::SessionWaiting {
        session: name.into(),
        waiting_for: on.iter().map(|x| x.to_string()).collect(),
    }
}
fn activity(name: &str, a: Activity) -> Event {
    Event::SessionActivity {
        session: name.into(),
        activity: a,
        source: flightdeck::agent::activity::Source::Output,
        message: None,
    }
}
fn check(
    source: &str,
    text: &str,
    sev: Severity,
    status: CheckStatus,
    value: Measured,
    expected: &str,
    provisional: bool,
) -> Event {
    Event::CheckResult(CheckResult {
        source: source.into(),
        check: text.into(),
        severity: sev,
        status,
        value,
        expected: flightdeck::tui::fixtures::expected(expected),
        message: if status == CheckStatus::Error {
            format!("data/raw/{source}.csv:12: `abc` is not a number in column spend")
        } else {
            String::new()
        },
        provisional,
    })
}

/// A run in the middle of phase 2: one session done, one working, one waiting for
/// an answer, one waiting for the gate.
struct Scene {
    app: App,
    base: Instant,
}

impl Scene {
    fn new() -> Scene {
        Scene::with_columns(None)
    }

    fn with_columns(columns: Option<u16>) -> Scene {
        let p = Arc::new(plan(
            "rag-mmm synthetic data",
            &[
                S("config-engineer", Some("Phase 1"), &[]),
                S("digital-media-gen", Some("Phase 2"), &["config-engineer"]),
                S(
                    "traditional-media-gen",
                    Some("Phase 2"),
                    &["config-engineer"],
                ),
                S("validator", Some("Phase 3"), &["phase-2"]),
            ],
            &[G(
                "phase-2",
                &["digital-media-gen", "traditional-media-gen"],
                true,
                false,
            )],
            columns,
        ));
        let base = Instant::now();
        let screens = Screens::new(&vec![(24, 80); p.sessions.len()], 1000);
        let view = RunView::new(p, "20261121-205500".into(), None, base);
        let mut app = App::new(view, screens);
        let evs: Vec<(u64, Event)> = vec![
            (
                0,
                Event::RunStarted {
                    run_id: "20261121-205500".into(),
                    plan: "rag-mmm synthetic data".into(),
                },
            ),
            (0, started("config-engineer", 1)),
            (0, waiting("validator", &["phase-2"])),
            (
                30,
                Event::SessionExited {
                    session: "config-engineer".into(),
                    attempt: 1,
                    exit_code: Some(0),
                    signal: None,
                    duration_s: 30.0,
                },
            ),
            (30, state("config-engineer", SessionState::Succeeded)),
            (31, started("digital-media-gen", 1)),
            (31, state("digital-media-gen", SessionState::Running)),
            (31, started("traditional-media-gen", 1)),
            (31, state("traditional-media-gen", SessionState::Running)),
            (
                90,
                Event::FileChanged {
                    path: "data/raw/meta_ads.csv".into(),
                },
            ),
            (
                100,
                Event::FileChanged {
                    path: "data/raw/tv_spots.csv".into(),
                },
            ),
            (
                100,
                check(
                    "meta_ads",
                    "exists",
                    Severity::Error,
                    CheckStatus::Pass,
                    Measured::Number(1.0),
                    "",
                    true,
                ),
            ),
            (
                100,
                check(
                    "meta_ads",
                    "row_count ~ 8000 ± 20%",
                    Severity::Error,
                    CheckStatus::Pass,
                    Measured::Number(7950.0),
                    "8,000 ± 20%",
                    true,
                ),
            ),
            (
                100,
                check(
                    "meta_ads",
                    "sum(spend) ~ 2000000 ± 5%",
                    Severity::Error,
                    CheckStatus::Fail,
                    Measured::Number(1_200_000.0),
                    "2,000,000 ± 5%",
                    false,
                ),
            ),
            (
                100,
                check(
                    "meta_ads",
                    "warn: row_count where market = 'UK' ~ 2800 ± 10%",
                    Severity::Warn,
                    CheckStatus::Fail,
                    Measured::Number(2400.0),
                    "2,800 ± 10%",
                    false,
                ),
            ),
            (
                100,
                check(
                    "tv_spots",
                    "mean(cost) > 0",
                    Severity::Error,
                    CheckStatus::Error,
                    Measured::Null,
                    "> 0",
                    false,
                ),
            ),
            (
                100,
                check(
                    "google_ads",
                    "exists",
                    Severity::Error,
                    CheckStatus::Pending,
                    Measured::Null,
                    "",
                    false,
                ),
            ),
            (110, activity("traditional-media-gen", Activity::NeedsInput)),
            (
                110,
                Event::GateResult {
                    gate: "phase-2".into(),
                    verdict: Verdict::Waiting,
                },
            ),
        ];
        for (t, e) in &evs {
            app.on_event(e, at(base, *t));
        }
        app.screens.output(
            0,
            b"\x1b[1;36mconfig-engineer\x1b[0m writing config/\r\nwrote config/channels.yaml\r\n\x1b[32mALL TASKS COMPLETE\x1b[0m\r\n",
        );
        app.screens.output(
            1,
            "\x1b[38;5;208m●\x1b[0m generating \x1b[1mmeta_ads.csv\x1b[0m\r\n  rows: 7950  \x1b[38;2;120;200;80m████████\x1b[0m 99%\r\n  markets: UK DE FR — 英国 ドイツ\r\n"
                .as_bytes(),
        );
        app.screens.output(
            2,
            b"tv_spots.csv exists (4,210 rows).\r\n\x1b[1;33mDo you want to overwrite it? [y/N]\x1b[0m ",
        );
        Scene { app, base }
    }

    fn now(&self) -> Instant {
        at(self.base, 125)
    }

    fn render(&mut self, w: u16, h: u16) -> Terminal<TestBackend> {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        self.app.prepare(Rect::new(0, 0, w, h));
        let now = self.now();
        t.draw(|f| ui::draw(f, &self.app, now)).unwrap();
        t
    }

    fn key(&mut self, code: KeyCode) {
        let now = self.now();
        self.app
            .on_key(KeyEvent::new(code, KeyModifiers::NONE), now);
    }

    fn ctrl(&mut self, c: char) {
        let now = self.now();
        self.app
            .on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL), now);
    }

    fn take(&mut self) -> Vec<String> {
        self.app
            .commands
            .drain(..)
            .filter(|c| !matches!(c, Command::Resize(..)))
            .map(|c| format!("{c:?}"))
            .collect()
    }
}

fn screen(t: &Terminal<TestBackend>) -> String {
    t.backend().to_string()
}

#[test]
fn layout_200x50() {
    let mut s = Scene::new();
    let t = s.render(200, 50);
    insta::assert_snapshot!(screen(&t));
}

#[test]
fn layout_120x40() {
    let mut s = Scene::new();
    let t = s.render(120, 40);
    insta::assert_snapshot!(screen(&t));
}

#[test]
fn layout_80x24_folds_panels_away() {
    let mut s = Scene::new();
    let t = s.render(80, 24);
    let text = screen(&t);
    assert!(!text.contains("Checks"), "panels fold below 100 columns");
    insta::assert_snapshot!(text);
}

#[test]
fn fixed_columns_from_plan() {
    let mut s = Scene::with_columns(Some(1));
    s.render(120, 40);
    let xs: Vec<u16> = s.app.layout.panes.iter().map(|p| p.outer.x).collect();
    assert!(xs.iter().all(|&x| x == 0), "{xs:?}");
}

#[test]
fn zoomed_pane() {
    let mut s = Scene::new();
    s.key(KeyCode::Char('2'));
    s.key(KeyCode::Char('z'));
    let t = s.render(120, 40);
    assert_eq!(s.app.layout.panes.len(), 1);
    // The zoomed pane's terminal grows to the whole area, and the engine is told.
    let cmds: Vec<Command> = s.app.commands.drain(..).collect();
    assert!(
        cmds.iter().any(|c| matches!(c, Command::Resize(1, 37, 82))),
        "{cmds:?}"
    );
    insta::assert_snapshot!(screen(&t));
}

#[test]
fn help_overlay_lists_every_key() {
    let mut s = Scene::new();
    s.key(KeyCode::Char('?'));
    let t = s.render(120, 40);
    let text = screen(&t);
    for k in [
        "Tab", "arrows", "1-9", "Enter", "Ctrl-a", "z ", "r ", "x ", "s ", "S ", "d ", "a ", "c ",
        "PgUp", "Esc", "mouse", "? ", "q ",
    ] {
        assert!(text.contains(k), "help lacks {k}");
    }
    insta::assert_snapshot!(text);
    s.key(KeyCode::Char('x'));
    assert!(!s.app.help, "any key closes help");
    assert!(s.take().is_empty(), "the closing key does nothing else");
}

#[test]
fn too_small() {
    let mut s = Scene::new();
    let t = s.render(39, 12);
    insta::assert_snapshot!(screen(&t));
    let t = s.render(60, 9);
    assert!(screen(&t).contains("too small"));
}

#[test]
fn gate_awaiting_approval_and_finished_run() {
    let mut s = Scene::new();
    let now = s.now();
    for e in [
        Event::SessionExited {
            session: "traditional-media-gen".into(),
            attempt: 1,
            exit_code: Some(0),
            signal: None,
            duration_s: 80.0,
        },
        state("traditional-media-gen", SessionState::Succeeded),
        state("digital-media-gen", SessionState::Succeeded),
        Event::GateResult {
            gate: "phase-2".into(),
            verdict: Verdict::Pass,
        },
    ] {
        s.app.on_event(&e, now);
    }
    assert_eq!(s.app.view.gates_awaiting(), vec![0]);
    assert_eq!(s.app.view.waits_for(3), ["phase-2"]);
    let t = s.render(160, 45);
    let text = screen(&t);
    assert!(text.contains("awaiting approval"), "{text}");
    insta::assert_snapshot!("gate_awaiting", text);
    s.key(KeyCode::Char('a'));
    assert_eq!(s.take(), vec!["Approve(0)"]);
    s.app.on_event(
        &Event::GateApproved {
            gate: "phase-2".into(),
            by: "user".into(),
        },
        now,
    );
    assert!(s.app.view.gates_awaiting().is_empty());
    s.app.on_event(&waiting("validator", &[]), now);
    assert!(s.app.view.waits_for(3).is_empty());
    s.key(KeyCode::Char('a'));
    assert!(s.take().is_empty());
    for e in [
        started("validator", 1),
        Event::SessionExited {
            session: "validator".into(),
            attempt: 1,
            exit_code: Some(1),
            signal: None,
            duration_s: 3.0,
        },
        state("validator", SessionState::Failed),
        Event::RunFinished {
            status: "failed".into(),
            exit_code: 1,
            duration_s: 128.0,
        },
    ] {
        s.app.on_event(&e, now);
    }
    let t = s.render(160, 45);
    let text = screen(&t);
    assert!(text.contains("finished: failed (exit 1)"), "{text}");
    assert!(text.contains("exit 1"));
    insta::assert_snapshot!("finished", text);
    // The finished control room stays until q, then closes without asking.
    assert!(!s.app.exit);
    s.key(KeyCode::Char('q'));
    assert!(s.app.exit);
    assert!(s.take().is_empty());
}

#[test]
fn quit_asks_while_sessions_run() {
    let mut s = Scene::new();
    s.key(KeyCode::Char('q'));
    assert!(s.app.confirm_quit);
    let t = s.render(120, 40);
    insta::assert_snapshot!(screen(&t));
    s.key(KeyCode::Char('n'));
    assert!(!s.app.confirm_quit);
    assert!(s.take().is_empty());
    s.key(KeyCode::Char('q'));
    s.key(KeyCode::Char('y'));
    assert_eq!(s.take(), vec!["Quit"]);
    assert!(s.app.quitting && !s.app.exit);
    let now = s.now();
    s.app.on_event(
        &Event::RunFinished {
            status: "interrupted".into(),
            exit_code: 130,
            duration_s: 1.0,
        },
        now,
    );
    assert!(s.app.exit);
}

#[test]
fn needs_input_is_unmistakable_and_rings_once() {
    let mut s = Scene::new();
    assert!(s.app.bell, "the scene's needs-input rang the bell");
    s.app.bell = false;
    let now = s.now();
    s.app.on_event(
        &activity("traditional-media-gen", Activity::NeedsInput),
        now,
    );
    assert!(!s.app.bell, "only once per episode");
    let t = s.render(200, 50);
    let p = s
        .app
        .layout
        .panes
        .iter()
        .find(|p| p.session == 2)
        .unwrap()
        .outer;
    let corner = &t.backend().buffer()[(p.x, p.y)];
    assert_eq!(corner.fg, Color::LightRed);
    assert!(corner.modifier.contains(Modifier::BOLD));
    let text = screen(&t);
    assert!(text.contains("NEEDS INPUT"));
    assert!(text.contains("needs input: 3"));
    s.app
        .on_event(&activity("traditional-media-gen", Activity::Working), now);
    s.app.on_event(
        &activity("traditional-media-gen", Activity::NeedsInput),
        now,
    );
    assert!(s.app.bell);
}

#[test]
fn quiet_is_marked() {
    let mut s = Scene::new();
    let now = s.now();
    s.app
        .on_event(&activity("digital-media-gen", Activity::Quiet), now);
    let t = s.render(200, 50);
    assert!(screen(&t).contains("quiet"));
}

#[test]
fn pane_cells_keep_colours() {
    let mut s = Scene::new();
    let t = s.render(200, 50);
    let p = s
        .app
        .layout
        .panes
        .iter()
        .find(|p| p.session == 1)
        .unwrap()
        .inner;
    let buf = t.backend().buffer();
    assert_eq!(buf[(p.x, p.y)].symbol(), "●");
    assert_eq!(buf[(p.x, p.y)].fg, Color::Indexed(208));
    let bar = &buf[(p.x + 14, p.y + 1)];
    assert_eq!(bar.symbol(), "█");
    assert_eq!(bar.fg, Color::Rgb(120, 200, 80));
}

#[test]
fn focus_keys() {
    let mut s = Scene::new();
    s.render(200, 50);
    assert_eq!(s.app.focus, 0);
    s.key(KeyCode::Tab);
    assert_eq!(s.app.focus, 1);
    s.key(KeyCode::BackTab);
    s.key(KeyCode::BackTab);
    assert_eq!(s.app.focus, 3);
    s.key(KeyCode::Char('1'));
    assert_eq!(s.app.focus, 0);
    // 2x2 grid: right of pane 1 is pane 2, below is pane 3.
    s.key(KeyCode::Right);
    assert_eq!(s.app.focus, 1);
    s.key(KeyCode::Down);
    assert_eq!(s.app.focus, 3);
    s.key(KeyCode::Left);
    assert_eq!(s.app.focus, 2);
    s.key(KeyCode::Char('9'));
    assert_eq!(s.app.focus, 2);
    // Click focuses.
    let p = s.app.layout.panes[0].outer;
    s.app.on_mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: p.x + 3,
        row: p.y + 3,
        modifiers: KeyModifiers::NONE,
    });
    assert_eq!(s.app.focus, 0);
}

#[test]
fn session_keys_send_commands() {
    let mut s = Scene::new();
    s.render(200, 50);
    s.key(KeyCode::Char('2'));
    s.key(KeyCode::Char('r'));
    s.key(KeyCode::Char('x'));
    s.key(KeyCode::Char('d'));
    s.key(KeyCode::Char('c'));
    s.key(KeyCode::Char('s')); // running: not sent
    s.key(KeyCode::Char('4'));
    s.key(KeyCode::Char('s'));
    s.key(KeyCode::Char('S'));
    s.key(KeyCode::Char('a')); // nothing awaits approval
    assert_eq!(
        s.take(),
        vec![
            "Restart(1)",
            "Stop(1)",
            "MarkDone(1)",
            "Recheck",
            "Start(3)",
            "Skip(3)"
        ]
    );
    assert!(s.app.message.as_ref().unwrap().0.contains("no gate"));
}

#[test]
fn input_mode_passes_keys_and_ctrl_a_leaves() {
    let mut s = Scene::new();
    s.render(200, 50);
    s.key(KeyCode::Char('3'));
    s.key(KeyCode::Enter);
    assert_eq!(s.app.mode, Mode::Input);
    s.key(KeyCode::Char('y'));
    s.key(KeyCode::Enter);
    s.ctrl('c');
    s.key(KeyCode::Char('q')); // goes to the session, does not quit
    s.key(KeyCode::Up);
    assert_eq!(
        s.take(),
        vec![
            "Input(2, [121])",
            "Input(2, [13])",
            "Input(2, [3])",
            "Input(2, [113])",
            "Input(2, [27, 91, 65])",
        ]
    );
    assert!(!s.app.confirm_quit);
    // Application cursor mode changes the arrows.
    s.app.screens.output(2, b"\x1b[?1h");
    s.key(KeyCode::Up);
    assert_eq!(s.take(), vec!["Input(2, [27, 79, 65])"]);
    let t = s.render(200, 50);
    assert!(screen(&t).contains("INPUT → traditional-media-gen"));
    // Paste, bracketed once the program asks.
    s.app.on_paste("a\nb");
    s.app.screens.output(2, b"\x1b[?2004h");
    s.app.on_paste("c");
    assert_eq!(
        s.take(),
        vec![
            "Input(2, [97, 13, 98])",
            "Input(2, [27, 91, 50, 48, 48, 126, 99, 27, 91, 50, 48, 49, 126])",
        ]
    );
    // Ctrl-a leaves; Ctrl-a Ctrl-a sends a literal Ctrl-a and stays in input mode.
    s.ctrl('a');
    assert_eq!(s.app.mode, Mode::Normal);
    s.ctrl('a');
    assert_eq!(s.app.mode, Mode::Input);
    assert_eq!(s.take(), vec!["Input(2, [1])"]);
    s.ctrl('a');
    s.key(KeyCode::Char('z'));
    assert_eq!(s.app.mode, Mode::Normal);
    assert!(
        s.app.zoom,
        "after leaving, keys are control-room keys again"
    );
    assert!(s.take().is_empty());
}

#[test]
fn scrollback_keys_and_wheel() {
    let mut s = Scene::new();
    for i in 0..300 {
        s.app.screens.output(1, format!("line {i}\r\n").as_bytes());
    }
    s.render(200, 50);
    s.key(KeyCode::Char('2'));
    s.key(KeyCode::PageUp);
    let off = s.app.screens.pane(1).scroll_offset();
    assert!(off > 0);
    let t = s.render(200, 50);
    assert!(screen(&t).contains("scrolled back"));
    s.key(KeyCode::Esc);
    assert_eq!(s.app.screens.pane(1).scroll_offset(), 0);
    let p = s
        .app
        .layout
        .panes
        .iter()
        .find(|p| p.session == 1)
        .unwrap()
        .outer;
    s.app.on_mouse(MouseEvent {
        kind: MouseEventKind::ScrollUp,
        column: p.x + 2,
        row: p.y + 2,
        modifiers: KeyModifiers::NONE,
    });
    assert_eq!(s.app.screens.pane(1).scroll_offset(), 3);
}

#[test]
fn programs_that_ask_for_the_mouse_get_it() {
    let mut s = Scene::new();
    s.render(200, 50);
    s.app.screens.output(1, b"\x1b[?1000h\x1b[?1006h");
    let p = s
        .app
        .layout
        .panes
        .iter()
        .find(|p| p.session == 1)
        .unwrap()
        .inner;
    let ev = |kind| MouseEvent {
        kind,
        column: p.x + 2,
        row: p.y + 1,
        modifiers: KeyModifiers::NONE,
    };
    // Normal mode: a click focuses; the wheel goes to the program.
    s.app.on_mouse(ev(MouseEventKind::Down(MouseButton::Left)));
    assert_eq!(s.app.focus, 1);
    s.app.on_mouse(ev(MouseEventKind::ScrollDown));
    assert_eq!(
        s.take(),
        vec![format!("Input(1, {:?})", b"\x1b[<65;3;2M".to_vec())]
    );
    // Input mode: clicks go to the program too.
    s.key(KeyCode::Enter);
    s.app.on_mouse(ev(MouseEventKind::Down(MouseButton::Left)));
    assert_eq!(
        s.take(),
        vec![format!("Input(1, {:?})", b"\x1b[<0;3;2M".to_vec())]
    );
}

#[test]
fn resizing_the_window_resizes_every_shown_terminal() {
    let mut s = Scene::new();
    s.render(200, 50);
    let first: Vec<Command> = s.app.commands.drain(..).collect();
    assert_eq!(
        first
            .iter()
            .filter(|c| matches!(c, Command::Resize(..)))
            .count(),
        4
    );
    for p in &s.app.layout.panes {
        let size = s.app.screens.pane(p.session).size();
        assert_eq!((size.rows, size.cols), (p.inner.height, p.inner.width));
    }
    s.render(200, 50);
    assert!(s.app.commands.is_empty(), "no resize when nothing changed");
    s.render(150, 40);
    assert_eq!(s.app.commands.len(), 4);
}

#[test]
fn more_sessions_than_fit_are_listed() {
    let names: Vec<String> = (1..=12).map(|i| format!("worker-{i:02}")).collect();
    let specs: Vec<S> = names.iter().map(|n| S(n, None, &[])).collect();
    let p = Arc::new(plan("many", &specs, &[], None));
    let base = Instant::now();
    let screens = Screens::new(&[(24, 80); 12], 100);
    let mut app = App::new(RunView::new(p, "r1".into(), None, base), screens);
    for n in ["worker-11", "worker-12"] {
        app.on_event(&started(n, 1), base);
    }
    app.on_event(&waiting("worker-03", &["worker-11"]), base);
    app.prepare(Rect::new(0, 0, 80, 24));
    let shown: Vec<usize> = app.layout.panes.iter().map(|p| p.session).collect();
    assert!(shown.contains(&0), "focused");
    assert!(
        shown.contains(&10) && shown.contains(&11),
        "running first: {shown:?}"
    );
    assert!(!app.layout.hidden.is_empty());
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| ui::draw(f, &app, base)).unwrap();
    let text = screen(&t);
    assert!(text.contains("more: "), "{text}");
    // A pending session in the strip says what it waits for, as it was told.
    assert!(text.contains("3 worker-03 waits for worker-11"), "{text}");
    insta::assert_snapshot!(text);
}

// ---- end to end, in a real tmux ---------------------------------------------

#[path = "common/tmux.rs"]
mod tmux;

fn bin() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_BIN_EXE_flightdeck"))
}

/// A tmux running `flightdeck run plan.toml` in `dir`; prints `EXIT=<code>` when it
/// ends and keeps the pane open so the test can read it.
fn launch(dir: &std::path::Path, plan: &str) -> tmux::Tmux {
    std::fs::write(dir.join("plan.toml"), plan).unwrap();
    // A socket directory of its own: runs of parallel tests never meet.
    let runtime = dir.join(".runtime");
    std::fs::create_dir(&runtime).unwrap();
    let cmd = format!("{} run plan.toml; echo EXIT=$?; sleep 60", bin().display());
    tmux::Tmux::start(&cmd, dir, &[("XDG_RUNTIME_DIR", &runtime)])
}

/// Start `flightdeck run` on `plan` in a real tmux; None (skipped) without tmux.
fn launch_e2e(plan: &str) -> Option<(tempfile::TempDir, tmux::Tmux)> {
    if !tmux::available() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let t = launch(dir.path(), plan);
    Some((dir, t))
}

fn events(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join(".flightdeck/runs/latest/events.jsonl")).unwrap_or_default()
}

fn wait_file(what: &str, pred: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !pred() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

use tmux::alive_with;

const TINY_PLAN: &str = r#"
[plan]
name = "tiny"

[[session]]
name = "echo"
command = '''printf '\033]0;EVIL TITLE\007\033]52;c;aGVsbG8=\007\033]2;EVIL2\033\\ready\n'; while read l; do echo got:$l; done'''

[[session]]
name = "after"
command = "echo second; sleep 3141"
after = ["echo:started"]
"#;

#[test]
fn e2e_tmux_input_zoom_containment_quit() {
    let Some((dir, t)) = launch_e2e(TINY_PLAN) else {
        return;
    };
    t.wait_for("both panes", |s| {
        s.contains("1 echo") && s.contains("2 after")
    });
    t.wait_for("the first session's output", |s| s.contains("ready"));
    // Titles and clipboard stay inside the pane.
    assert!(!t.title().contains("EVIL"), "title leaked: {}", t.title());
    assert!(
        t.list_buffers().trim().is_empty(),
        "clipboard leaked: {}",
        t.list_buffers()
    );
    // Input mode: type a line, see the echo.
    t.keys(&["1", "Enter"]);
    t.wait_for("input mode", |s| s.contains("INPUT → echo"));
    t.keys(&["-l", "hello"]);
    t.keys(&["Enter"]);
    t.wait_for("the echo", |s| s.contains("got:hello"));
    t.keys(&["C-a"]);
    t.wait_for("normal mode", |s| !s.contains("INPUT → echo"));
    // Focus with Tab, zoom and back.
    t.keys(&["Tab", "z"]);
    t.wait_for("zoom", |s| s.contains("ZOOM") && !s.contains("1 echo"));
    t.keys(&["z"]);
    t.wait_for("unzoom", |s| s.contains("1 echo") && !s.contains("ZOOM"));
    // Help overlay.
    t.keys(&["?"]);
    t.wait_for("help", |s| s.contains("flightdeck keys"));
    t.keys(&["Escape"]);
    t.wait_for("help closed", |s| !s.contains("flightdeck keys"));
    // Quit asks first, then stops everything and closes.
    t.keys(&["q"]);
    t.wait_for("the quit dialog", |s| s.contains("Quit?"));
    t.keys(&["n"]);
    t.wait_for("dialog closed", |s| !s.contains("Quit?"));
    t.keys(&["q"]);
    t.wait_for("the quit dialog", |s| s.contains("Quit?"));
    t.keys(&["y"]);
    let s = t.wait_for("exit", |s| s.contains("EXIT="));
    assert!(s.contains("EXIT=130"), "{s}");
    assert!(!s.contains("1 echo"), "the alternate screen was left:\n{s}");
    assert!(events(dir.path()).contains("run_finished"));
    assert!(!alive_with("sleep 3141"), "a session outlived the run");
    assert!(!t.title().contains("EVIL"), "title leaked: {}", t.title());
}

const GATE_PLAN: &str = r#"
[plan]
name = "gated"

[[session]]
name = "worker"
command = "echo working; sleep 2718"

[[session]]
name = "quick"
command = "echo done-quick"

[[session]]
name = "final"
command = "echo final-ran; sleep 2719"
after = ["review"]

[[gate]]
name = "review"
after = ["quick"]
approval = "manual"
"#;

#[test]
fn e2e_tmux_restart_stop_approve_sigterm() {
    let Some((dir, t)) = launch_e2e(GATE_PLAN) else {
        return;
    };
    t.wait_for("the gate awaiting approval", |s| {
        s.contains("awaiting approval") && s.contains("working")
    });
    t.keys(&["a"]);
    t.wait_for("the gated session", |s| s.contains("final-ran"));
    assert!(events(dir.path()).contains("gate_approved"));
    // Restart the worker: a second attempt.
    t.keys(&["1", "r"]);
    wait_file("attempt 2", || {
        events(dir.path()).lines().any(|l| {
            l.contains("session_started") && l.contains("\"worker\"") && l.contains("\"attempt\":2")
        })
    });
    t.wait_for("attempt 2 on the border", |s| s.contains("#2"));
    // Stop it.
    t.keys(&["x"]);
    t.wait_for("stopped", |s| s.contains("1 worker · stopped"));
    // SIGTERM to the control room: children stopped, record written, terminal restored.
    let out = std::process::Command::new("pgrep")
        .args(["-x", "flightdeck"])
        .output()
        .unwrap();
    let pids = String::from_utf8_lossy(&out.stdout).into_owned();
    let mine: Vec<&str> = pids
        .lines()
        .filter(|p| {
            std::fs::read_link(format!("/proc/{p}/cwd"))
                .ok()
                .and_then(|c| c.canonicalize().ok())
                == dir.path().canonicalize().ok()
        })
        .collect();
    assert_eq!(mine.len(), 1, "{pids}");
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", mine[0]])
            .status()
            .unwrap()
            .success()
    );
    let s = t.wait_for("exit", |s| s.contains("EXIT="));
    assert!(s.contains("EXIT=130"), "{s}");
    assert!(
        !s.contains("1 worker"),
        "the alternate screen was left:\n{s}"
    );
    assert!(events(dir.path()).contains("run_finished"));
    assert!(!alive_with("sleep 2719"), "a session outlived the run");
}

/// The clocks go on second by second, none skipped, in a run where nothing else is
/// drawn (a second on them may wait a little for other news: docs/protocol.md, "The
/// screen stream").
#[test]
fn e2e_the_run_clock_shows_every_second() {
    let plan = r#"[plan]
name = "clocks"

[[session]]
name = "idle"
command = "sleep 3821"
"#;
    let Some((_dir, t)) = launch_e2e(plan) else {
        return;
    };
    t.wait_for("the run", |s| s.contains("1 idle"));
    // `flightdeck 00:00:07` on the status line.
    let clock = |s: &str| {
        s.split("flightdeck").find_map(|rest| {
            let p: Vec<u64> = rest
                .trim_start()
                .get(..8)?
                .split(':')
                .filter_map(|n| n.parse().ok())
                .collect();
            (p.len() == 3).then(|| p[0] * 3600 + p[1] * 60 + p[2])
        })
    };
    // (when looked at, the clock), every 50 ms.
    let mut seen: Vec<(Instant, u64)> = Vec::new();
    let until = Instant::now() + Duration::from_millis(4500);
    while Instant::now() < until {
        let at = Instant::now();
        if let Some(c) = clock(&t.capture()) {
            seen.push((at, c));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut values: Vec<u64> = seen.iter().map(|(_, c)| *c).collect();
    values.dedup();
    assert!(values.len() >= 4, "the clock stood still: {values:?}");
    // Looked at less than a second apart (a loaded machine may look less often), the
    // clock moved by one second at most: none was left out.
    for w in seen.windows(2) {
        if w[1].0 - w[0].0 < Duration::from_millis(600) {
            assert!(w[1].1 - w[0].1 <= 1, "a second was skipped: {values:?}");
        }
    }
    t.keys(&["q"]);
    t.wait_for("the quit question", |s| s.contains("y"));
    t.keys(&["y"]);
    t.wait_for("exit", |s| s.contains("EXIT="));
    assert!(!alive_with("sleep 3821"), "a session outlived the run");
}
