//! The control room at scale (12 sessions, 150 checks): the keymap, the panels full
//! screen, go-to, search beyond the scrollback, copy mode and mouse selection, on
//! ratatui's TestBackend with snapshots at 80x24, 120x40 and 200x50; then every key
//! end to end in a real tmux running `tests/plans/room12.toml`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use flightdeck::checks::{CheckResult, CheckStatus, Measured, Severity};
use flightdeck::engine::{Activity, Command, Event, SessionState};
use flightdeck::gates::Verdict;
use flightdeck::session::OutputSink;
use flightdeck::tui::app::{App, Mode};
use flightdeck::tui::fixtures::{G, S, plan};
use flightdeck::tui::keymap::{self, Keys};
use flightdeck::tui::model::RunView;
use flightdeck::tui::screens::Screens;
use flightdeck::tui::ui;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use std::sync::Arc;
use std::time::{Duration, Instant};

const NAMES: [&str; 12] = [
    "extract-orders",
    "extract-customers",
    "extract-budget",
    "clean-orders",
    "clean-customers",
    "rollup-daily",
    "rollup-monthly",
    "flaky-fetch",
    "asks-question",
    "long-logger",
    "publish",
    "notify-team",
];

fn result(
    source: &str,
    check: &str,
    status: CheckStatus,
    sev: Severity,
    value: f64,
    expected: &str,
    provisional: bool,
) -> Event {
    Event::CheckResult(CheckResult {
        source: source.into(),
        check: check.into(),
        severity: sev,
        status,
        value: Measured::Number(value),
        expected: flightdeck::tui::fixtures::expected(expected),
        message: match status {
            CheckStatus::Fail => format!("{check}: measured {value}, expected {expected}"),
            CheckStatus::Error => {
                format!("data/{source}.csv:7: `abc` is not a number in column amount")
            }
            _ => String::new(),
        },
        provisional,
    })
}

struct Room {
    app: App,
    base: Instant,
    _records: tempfile::TempDir,
}

impl Room {
    /// Twelve sessions in three phases, a manual gate, 150 check results: passes,
    /// failures, provisional failures, pending and errors; one session needs input.
    fn new() -> Room {
        let specs: Vec<S> = NAMES
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let phase = ["extract", "transform", "publish"][(i / 4).min(2)];
                let after: &[&str] = if *n == "publish" { &["review"] } else { &[] };
                S(n, Some(phase), after)
            })
            .collect();
        let mut p = plan(
            "room twelve",
            &specs,
            &[G("review", &["extract-budget"], true, true)],
            None,
        );
        let records = tempfile::tempdir().unwrap();
        p.records = records.path().to_path_buf();
        let p = Arc::new(p);
        let base = Instant::now();
        let screens = Screens::new(&[(24, 80); 12], 2000);
        let mut app = App::new(
            RunView::new(p, "20261130-090000".into(), None, base),
            screens,
        );
        let at = |s| base + Duration::from_secs(s);
        let mut evs = vec![
            Event::RunStarted {
                run_id: "20261130-090000".into(),
                plan: "room twelve".into(),
            },
            // As the engine tells it: the control room does not work it out.
            Event::SessionWaiting {
                session: "publish".into(),
                waiting_for: vec!["review".into()],
            },
        ];
        for (i, n) in NAMES.iter().enumerate().take(10) {
            evs.push(Event::SessionStarted {
                session: n.to_string(),
                attempt: if *n == "flaky-fetch" { 2 } else { 1 },
                pid: 100 + i as u32,
            });
            evs.push(Event::SessionState {
                session: n.to_string(),
                state: SessionState::Running,
            });
        }
        for n in [
            "extract-orders",
            "extract-budget",
            "clean-orders",
            "rollup-monthly",
        ] {
            evs.push(Event::SessionExited {
                session: n.into(),
                attempt: 1,
                exit_code: Some(0),
                signal: None,
                duration_s: 4.0,
            });
            evs.push(Event::SessionState {
                session: n.into(),
                state: SessionState::Succeeded,
            });
        }
        evs.push(Event::SessionActivity {
            session: "asks-question".into(),
            activity: Activity::NeedsInput,
            source: flightdeck::agent::activity::Source::Pattern,
            message: None,
        });
        evs.push(Event::SessionActivity {
            session: "rollup-daily".into(),
            activity: Activity::Quiet,
            source: flightdeck::agent::activity::Source::Quiet,
            message: None,
        });
        // 150 results: ten datasets of 14, and the gate's own 10.
        for d in 0..10 {
            let source = format!("dataset_{:02}", d + 1);
            for c in 0..14 {
                let check = format!("min(year) >= {}", 2010 + c);
                let (status, sev, prov) = match (d, c) {
                    (0, 3) => (CheckStatus::Fail, Severity::Error, false),
                    (1, 5) => (CheckStatus::Fail, Severity::Error, true),
                    (2, 7) => (CheckStatus::Error, Severity::Error, false),
                    (3, 1) => (CheckStatus::Fail, Severity::Warn, false),
                    (9, _) => (CheckStatus::Pending, Severity::Error, false),
                    _ => (CheckStatus::Pass, Severity::Error, d == 1),
                };
                evs.push(result(
                    &source,
                    &check,
                    status,
                    sev,
                    2009.0 + c as f64,
                    &format!(">= {}", 2010 + c),
                    prov,
                ));
            }
        }
        for c in 0..10 {
            let (status, sev) = match c {
                0 => (CheckStatus::Fail, Severity::Error),
                1 => (CheckStatus::Fail, Severity::Warn),
                _ => (CheckStatus::Pass, Severity::Error),
            };
            let check = format!(
                "dataset_01.sum(amount) + dataset_02.sum(amount) ~ {} ± 5%",
                3_600_000 + c
            );
            evs.push(result(
                "review",
                &check,
                status,
                sev,
                3_100_000.5,
                "3,600,000 ± 5%",
                false,
            ));
        }
        evs.push(Event::GateResult {
            gate: "review".into(),
            verdict: Verdict::Fail,
        });
        for p in [
            "data/raw/orders.csv",
            "a/very/deep/directory/tree/with/many/levels/customers_clean.csv",
        ] {
            evs.push(Event::FileChanged { path: p.into() });
        }
        for e in &evs {
            app.on_event(e, at(20));
        }
        for (i, n) in NAMES.iter().enumerate().take(10) {
            app.screens.output(
                i,
                format!("{n} starting\r\nwrote data/{n}.csv\r\n").as_bytes(),
            );
        }
        app.screens.output(8, b"Overwrite data/answers.csv? [y/N] ");
        Room {
            app,
            base,
            _records: records,
        }
    }

    fn now(&self) -> Instant {
        self.base + Duration::from_secs(60)
    }

    fn render(&mut self, w: u16, h: u16) -> String {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        self.app.prepare(Rect::new(0, 0, w, h));
        let now = self.now();
        t.draw(|f| ui::draw(f, &self.app, now)).unwrap();
        t.backend().to_string()
    }

    fn key(&mut self, code: KeyCode) {
        let now = self.now();
        self.app
            .on_key(KeyEvent::new(code, KeyModifiers::NONE), now);
    }

    fn typed(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    fn said(&self) -> String {
        self.app
            .message
            .as_ref()
            .map(|m| m.0.clone())
            .unwrap_or_default()
    }

    fn commands(&mut self) -> Vec<String> {
        self.app
            .commands
            .drain(..)
            .filter(|c| !matches!(c, Command::Resize(..)))
            .map(|c| format!("{c:?}"))
            .collect()
    }
}

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 50)];

#[test]
fn grid_at_three_sizes_with_a_strip_for_the_rest() {
    let mut r = Room::new();
    for (w, h) in SIZES {
        let text = r.render(w, h);
        insta::assert_snapshot!(format!("grid_{w}x{h}"), text);
        // Those without a pane are in the strip, the one needing input first.
        let hidden = &r.app.layout.hidden;
        let shown: Vec<usize> = r.app.layout.panes.iter().map(|p| p.session).collect();
        assert_eq!(shown.len() + hidden.len(), 12);
        assert!(shown.contains(&8), "{w}x{h}: needs-input gets a pane");
        if w < 200 {
            assert!(!hidden.is_empty(), "{w}x{h}: 12 panes do not fit");
            assert!(
                text.contains("more: "),
                "{w}x{h}: the strip counts the rest"
            );
        }
    }
}

#[test]
fn provisional_failures_are_not_failures() {
    let r = Room::new();
    let c = r.app.view.check_counts();
    // Failures: dataset_01 fail, dataset_03 error, review's fail; warnings (a gate
    // says CONDITIONAL for them): dataset_04 warn and review's warn.
    assert_eq!(c.fail, 3, "{c:?}");
    assert_eq!(c.warn, 2, "{c:?}");
    assert_eq!(c.provisional, 1);
    assert_eq!(c.pending, 14);
    assert_eq!(c.pass + c.fail + c.warn + c.pending + c.provisional, 150);
}

#[test]
fn years_are_not_grouped_in_thousands() {
    let mut r = Room::new();
    r.key(KeyCode::Char('p'));
    let text = r.render(200, 50);
    assert!(text.contains("— 2009 (expected >= 2010)"), "{text}");
    assert!(!text.contains("2,009"), "{text}");
    // Sums keep their separators.
    assert!(text.contains("3,100,000.50"), "{text}");
}

#[test]
fn panels_scroll_filter_and_show_details() {
    let mut r = Room::new();
    r.key(KeyCode::Char('p'));
    assert_eq!(r.app.mode, Mode::Panels);
    let all = r.app.panel_rows(r.now()).len();
    assert_eq!(all, 12 + 1 + 150 + 2);
    for (w, h) in SIZES {
        insta::assert_snapshot!(format!("panels_{w}x{h}"), r.render(w, h));
    }
    // Scroll to the end: the last file is reachable at 80x24.
    for _ in 0..20 {
        r.key(KeyCode::PageDown);
    }
    let text = r.render(80, 24);
    assert!(text.contains("customers_clean.csv"), "{text}");
    // Typing filters; Enter on the gate opens its details.
    r.typed("review FAIL");
    let rows = r.app.panel_rows(r.now());
    assert_eq!(rows.len(), 1, "{rows:?}");
    r.key(KeyCode::Enter);
    assert_eq!(r.app.mode, Mode::Details);
    for (w, h) in SIZES {
        let text = r.render(w, h);
        assert!(text.contains("Gate review"), "{text}");
        insta::assert_snapshot!(format!("gate_details_{w}x{h}"), text);
    }
    let text = r.render(120, 40);
    assert!(
        text.contains("2 checks fail") || text.contains("1 check fails"),
        "{text}"
    );
    assert!(
        text.contains("awaiting") || text.contains("manual"),
        "{text}"
    );
    r.key(KeyCode::Esc);
    assert_eq!(r.app.mode, Mode::Panels);
    r.key(KeyCode::Esc);
    assert!(
        r.app.panels.filter.is_empty(),
        "the first Esc clears the filter"
    );
    r.key(KeyCode::Esc);
    assert_eq!(r.app.mode, Mode::Normal);
}

#[test]
fn check_details_give_value_expected_and_reason() {
    let mut r = Room::new();
    r.key(KeyCode::Char('p'));
    r.typed("not a number");
    r.key(KeyCode::Enter);
    let text = r.render(120, 40);
    assert!(text.contains("could not be evaluated"), "{text}");
    assert!(text.contains("data/dataset_03.csv:7"), "{text}");
    assert!(text.contains("expected"), "{text}");
}

#[test]
fn go_to_by_name_part_and_next_needing_input() {
    let mut r = Room::new();
    r.render(120, 40);
    r.key(KeyCode::Char('g'));
    assert_eq!(r.app.mode, Mode::GoTo);
    r.typed("notif");
    let text = r.render(120, 40);
    assert!(
        text.contains("go to") && text.contains("12 notify-team"),
        "{text}"
    );
    r.key(KeyCode::Enter);
    assert_eq!(r.app.focus, 11);
    assert_eq!(r.app.mode, Mode::Normal);
    // Tab picks among several matches.
    r.key(KeyCode::Char('g'));
    r.typed("rollup");
    r.key(KeyCode::Tab);
    r.key(KeyCode::Enter);
    assert_eq!(r.app.focus, 6);
    r.key(KeyCode::Char('g'));
    r.typed("zzz");
    r.key(KeyCode::Enter);
    assert!(r.said().contains("no session matches"), "{}", r.said());
    r.key(KeyCode::Esc);
    // `!`: the session needing input.
    r.key(KeyCode::Char('!'));
    assert_eq!(r.app.focus, 8);
    let text = r.render(80, 24);
    assert!(text.contains("9 asks-question"), "{text}");
    r.key(KeyCode::Char('!'));
    assert_eq!(r.app.focus, 8, "the only one");
}

#[test]
fn every_key_answers() {
    let mut r = Room::new();
    r.render(120, 40);
    r.key(KeyCode::Char('j'));
    assert!(r.said().contains("does nothing here"), "{}", r.said());
    r.key(KeyCode::Char('a'));
    assert!(r.said().contains("no gate awaits approval"));
    r.key(KeyCode::Char('n'));
    assert!(r.said().contains("no search yet"));
    r.key(KeyCode::Char('1')); // extract-orders succeeded
    r.key(KeyCode::Char('x'));
    assert!(r.said().contains("not running"), "{}", r.said());
    r.key(KeyCode::Enter);
    assert!(r.said().contains("not running"), "{}", r.said());
    r.key(KeyCode::Char('g'));
    r.typed("publish");
    r.key(KeyCode::Enter);
    r.key(KeyCode::Char('r'));
    assert!(r.said().contains("has not started"), "{}", r.said());
    assert!(r.commands().is_empty());
    let now = r.now();
    r.app.on_event(
        &Event::RunFinished {
            status: "failed".into(),
            exit_code: 1,
            duration_s: 60.0,
        },
        now,
    );
    r.key(KeyCode::Char('r'));
    let said = r.said();
    assert!(said.contains("--resume 20261130-090000"), "{said}");
    let text = r.render(200, 50);
    assert!(
        text.contains("--resume"),
        "the message is on the status line: {text}"
    );
    assert!(r.commands().is_empty());
}

#[test]
fn detach_keys_set_the_flag() {
    let mut r = Room::new();
    r.key(KeyCode::Char('D'));
    assert!(r.app.detach && !r.app.quitting);
    let mut r = Room::new();
    r.key(KeyCode::Char('q'));
    assert!(r.app.confirm_quit);
    assert!(r.render(80, 24).contains("d detach"));
    r.key(KeyCode::Char('d'));
    assert!(r.app.detach && !r.app.confirm_quit);
    assert!(r.commands().is_empty(), "the run goes on");
}

#[test]
fn help_lists_every_key_of_the_keymap() {
    let mut r = Room::new();
    r.key(KeyCode::Char('?'));
    let mut seen = String::new();
    for _ in 0..12 {
        seen.push_str(&r.render(120, 40));
        r.key(KeyCode::Down);
        r.key(KeyCode::Down);
        r.key(KeyCode::Down);
        r.key(KeyCode::Down);
        r.key(KeyCode::Down);
    }
    for b in keymap::BINDINGS {
        if !b.label.is_empty()
            && b.mode != Mode::Help
            && b.mode != Mode::Input
            && b.mode != Mode::Details
        {
            assert!(seen.contains(b.help), "help lacks {:?} {}", b.mode, b.help);
        }
    }
    // Every bound key of the grid does what the table says (no key falls through).
    for b in keymap::BINDINGS.iter().filter(|b| b.mode == Mode::Normal) {
        if let Keys::Key(code, mods) = b.keys {
            let found = keymap::lookup(Mode::Normal, &KeyEvent::new(code, mods));
            assert!(found.is_some(), "{}", b.label);
        }
    }
}

/// A log of 100,000 lines on disk; the pane holds only its last screens.
fn with_long_log(r: &mut Room) {
    let path = r.app.view.log_path(9);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut log = String::new();
    for i in 1..=100_000 {
        if i == 10 {
            log.push_str("\x1b[1mNEEDLE-EARLY\x1b[0m line 10\r\n");
        } else {
            log.push_str(&format!("log line {i}\r\n"));
        }
        if i == 50_000 {
            log.push_str("\r\n──── attempt 2 · started 2026-11-30 09:01:00 ────\r\n");
        }
    }
    log.push_str("NEEDLE-LATE done\r\n");
    std::fs::write(&path, &log).unwrap();
    for i in 97_000..=100_000 {
        r.app
            .screens
            .output(9, format!("log line {i}\r\n").as_bytes());
    }
    r.app.screens.output(9, b"NEEDLE-LATE done\r\n");
    assert!(r.app.screens.pane(9).history() <= 2000);
}

#[test]
fn search_reaches_beyond_the_scrollback_and_across_attempts() {
    let mut r = Room::new();
    with_long_log(&mut r);
    r.key(KeyCode::Char('g'));
    r.typed("long");
    r.key(KeyCode::Enter);
    r.key(KeyCode::Char('/'));
    assert_eq!(r.app.mode, Mode::SearchInput);
    r.typed("needle");
    let s = r.app.search.as_ref().unwrap();
    assert_eq!(s.matches.len(), 2, "smart case finds both");
    assert_eq!(
        s.lines[s.matches[s.current].0], "NEEDLE-LATE done",
        "newest first"
    );
    r.key(KeyCode::Enter);
    assert_eq!(r.app.mode, Mode::Search);
    r.key(KeyCode::Char('n'));
    let s = r.app.search.as_ref().unwrap();
    assert_eq!(s.lines[s.matches[s.current].0], "NEEDLE-EARLY line 10");
    for (w, h) in SIZES {
        let text = r.render(w, h);
        assert!(text.contains("NEEDLE-EARLY line 10"), "{text}");
        assert!(text.contains("1/2 \"needle\""), "{text}");
        assert!(
            text.contains("match 1/2 of \"needle\" in the log"),
            "{text}"
        );
        insta::assert_snapshot!(format!("search_{w}x{h}"), text);
    }
    // The separator of the second attempt is in the searched text too.
    r.key(KeyCode::Char('/'));
    r.typed("attempt 2");
    r.key(KeyCode::Enter);
    assert_eq!(r.app.search.as_ref().unwrap().matches.len(), 1);
    r.key(KeyCode::Esc);
    assert_eq!(r.app.mode, Mode::Normal);
    assert!(r.app.search.is_none(), "the lines are dropped");
    // n after leaving searches again for the last query.
    r.key(KeyCode::Char('n'));
    assert_eq!(r.app.mode, Mode::Search);
}

#[test]
fn copy_mode_copies_through_osc52() {
    let mut r = Room::new();
    r.key(KeyCode::Char('2'));
    r.key(KeyCode::Char('v'));
    assert_eq!(r.app.mode, Mode::Copy);
    let c = r.app.copy.as_ref().unwrap();
    assert_eq!(
        c.lines[c.cursor.0], "wrote data/extract-customers.csv",
        "starts on the last line of text"
    );
    for (w, h) in SIZES {
        insta::assert_snapshot!(format!("copy_{w}x{h}"), r.render(w, h));
    }
    r.key(KeyCode::Char('Y'));
    assert_eq!(r.app.mode, Mode::Normal);
    let out = String::from_utf8(std::mem::take(&mut r.app.terminal_out)).unwrap();
    assert_eq!(
        out,
        "\x1b]52;c;d3JvdGUgZGF0YS9leHRyYWN0LWN1c3RvbWVycy5jc3Y=\x07"
    );
    // A selection over two lines.
    r.key(KeyCode::Char('v'));
    r.key(KeyCode::Up);
    r.key(KeyCode::Char(' '));
    r.key(KeyCode::Down);
    r.key(KeyCode::Right);
    r.key(KeyCode::Right);
    r.key(KeyCode::Char('y'));
    let out = String::from_utf8(std::mem::take(&mut r.app.terminal_out)).unwrap();
    let b64 = out
        .trim_start_matches("\x1b]52;c;")
        .trim_end_matches('\x07');
    assert_eq!(decode(b64), "extract-customers starting\nwro");
    assert!(r.said().contains("copied"));
}

fn decode(b64: &str) -> String {
    use base64::Engine;
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn mouse_drag_selects_within_the_pane_and_copies() {
    let mut r = Room::new();
    r.render(200, 50);
    let p = *r.app.layout.panes.iter().find(|p| p.session == 1).unwrap();
    let ev = |kind, col, row| MouseEvent {
        kind,
        column: col,
        row,
        modifiers: KeyModifiers::NONE,
    };
    r.app.on_mouse(ev(
        MouseEventKind::Down(MouseButton::Left),
        p.inner.x,
        p.inner.y,
    ));
    assert_eq!(r.app.focus, 1);
    // Dragging far outside the pane stays inside it.
    r.app.on_mouse(ev(
        MouseEventKind::Drag(MouseButton::Left),
        p.inner.x + 6,
        p.inner.y,
    ));
    r.render(200, 50);
    r.app.on_mouse(ev(
        MouseEventKind::Up(MouseButton::Left),
        p.inner.x + 6,
        p.inner.y,
    ));
    let out = String::from_utf8(std::mem::take(&mut r.app.terminal_out)).unwrap();
    let b64 = out
        .trim_start_matches("\x1b]52;c;")
        .trim_end_matches('\x07');
    assert_eq!(decode(b64), "extract", "both ends included");
    r.app.on_mouse(ev(
        MouseEventKind::Down(MouseButton::Left),
        p.inner.x,
        p.inner.y + 1,
    ));
    r.app
        .on_mouse(ev(MouseEventKind::Drag(MouseButton::Left), 199, 49));
    r.app
        .on_mouse(ev(MouseEventKind::Up(MouseButton::Left), 199, 49));
    let out = String::from_utf8(std::mem::take(&mut r.app.terminal_out)).unwrap();
    let b64 = out
        .trim_start_matches("\x1b]52;c;")
        .trim_end_matches('\x07');
    let text = decode(b64);
    assert!(
        text.starts_with("wrote data/extract-customers.csv"),
        "{text:?}"
    );
    assert!(
        !text.contains("clean"),
        "never another pane's text: {text:?}"
    );
}

#[test]
fn a_new_attempt_keeps_the_earlier_one_above() {
    let r = Room::new();
    r.app.screens.output(7, b"connection reset by peer\r\n");
    r.app.screens.started(7, 3);
    r.app.screens.output(
        7,
        "──── attempt 3 · started 2026-11-30 09:02:00 ────\r\nfetched on retry\r\n".as_bytes(),
    );
    let text = r.app.screens.pane(7).text_lines().join("\n");
    assert!(
        text.contains("connection reset by peer\n──── attempt 3"),
        "{text}"
    );
    assert!(text.ends_with("fetched on retry"), "{text}");
}

/// A client's frames, drawn region by region into the last one (`ui::draw_changed`),
/// end as a whole frame drawn from scratch would, and the bytes sent for them bring a
/// real terminal emulator to the same text: through clocks ticking, output in focused
/// and other panes, wide characters, keys, help, the panels, zoom, a resize and events.
#[test]
fn frames_drawn_by_changed_regions_equal_whole_frames() {
    use flightdeck::tui::canvas::Canvas;
    use flightdeck::tui::pane_cache::PaneCache;
    use flightdeck::tui::regions::Regions;
    use ratatui::buffer::Buffer;
    use unicode_width::UnicodeWidthStr;

    let text_of = |buf: &Buffer| -> Vec<String> {
        (0..buf.area.height)
            .map(|y| {
                let (mut line, mut covered) = (String::new(), 0);
                for x in 0..buf.area.width {
                    let symbol = buf[(x, y)].symbol();
                    if covered > 0 {
                        covered -= 1;
                        continue;
                    }
                    line.push_str(symbol);
                    covered = symbol.width().saturating_sub(1);
                }
                line.trim_end().to_string()
            })
            .collect()
    };
    // A client: what its terminal shows, by the canvas and by emulating its bytes.
    struct Client {
        canvas: Canvas,
        regions: Regions,
        cache: PaneCache,
        screen: Arc<Screens>,
        now: Instant,
    }
    let mut r = Room::new();
    let mut c = Client {
        canvas: Canvas::new(200, 50),
        regions: Regions::default(),
        cache: PaneCache::default(),
        screen: Screens::new(&[(50, 200)], 0),
        now: r.now(),
    };
    let frame = |r: &mut Room, c: &mut Client, what: &str| {
        // Past the 200 ms an unfocused pane's news may wait.
        c.now += Duration::from_millis(1100);
        let area = c.canvas.area();
        r.app.prepare(area);
        let (now, cache, regions) = (c.now, &c.cache, &mut c.regions);
        let bytes = c
            .canvas
            .draw(|buf, whole| ui::draw_changed(buf, &r.app, now, cache, regions, whole));
        let mut whole = Buffer::empty(area);
        ui::render(&r.app, &r.app.layout, area, &mut whole, now);
        assert!(
            c.canvas.shown() == &whole,
            "{what}: the frame differs from a whole one"
        );
        c.screen.output(0, &bytes);
        let seen = c.screen.pane(0).screen_text();
        let seen: Vec<&str> = seen.lines().map(str::trim_end).collect();
        assert_eq!(
            seen,
            text_of(&whole),
            "{what}: the terminal shows another screen"
        );
        bytes.len()
    };
    let first = frame(&mut r, &mut c, "first");
    let tick = frame(&mut r, &mut c, "a second later");
    assert!(
        tick * 20 < first,
        "the clocks' frame is small: {tick} bytes of {first}"
    );
    r.app
        .screens
        .output(3, b"\x1b[1;31mred \xe7\xba\xa2\xe8\x89\xb2\x1b[0m wide\r\n");
    r.app.screens.output(r.app.focus, b"focused line\r\n");
    frame(&mut r, &mut c, "output in two panes");
    for (code, what) in [
        (KeyCode::Tab, "focus moved"),
        (KeyCode::Char('?'), "help"),
        (KeyCode::Char('?'), "help closed"),
        (KeyCode::Char('z'), "zoomed"),
        (KeyCode::Char('z'), "unzoomed"),
        (KeyCode::Char('p'), "panels"),
        (KeyCode::Esc, "panels closed"),
        (KeyCode::Enter, "input mode"),
    ] {
        r.key(code);
        frame(&mut r, &mut c, what);
    }
    let ctrl_a = KeyEvent::new(KeyCode::Char('a'), KeyModifiers::CONTROL);
    r.app.on_key(ctrl_a, c.now);
    frame(&mut r, &mut c, "input mode left");
    r.app.on_event(
        &Event::SessionExited {
            session: NAMES[0].into(),
            attempt: 1,
            exit_code: Some(3),
            signal: None,
            duration_s: 61.0,
        },
        c.now,
    );
    frame(&mut r, &mut c, "a session exited");
    c.canvas.resize(120, 40);
    c.screen = Screens::new(&[(40, 120)], 0);
    frame(&mut r, &mut c, "resized");
    r.app.screens.output(1, b"after the resize\r\n");
    frame(&mut r, &mut c, "output after the resize");
}

// ---- end to end, in a real tmux ---------------------------------------------

#[path = "common/tmux.rs"]
mod tmux;

use tmux::alive_with;

/// The end-to-end runs share the plan's `sleep` markers: one at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// `flightdeck run room12.toml` in a tmux of `w`x`h`.
fn launch(w: u16, h: u16) -> Option<(tempfile::TempDir, tmux::Tmux)> {
    if !tmux::available() {
        eprintln!("tmux not installed: skipped");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let plan = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/plans/room12.toml");
    std::fs::copy(plan, dir.path().join("plan.toml")).unwrap();
    let cmd = format!(
        "{} run plan.toml; echo EXIT=$?; sleep 60",
        env!("CARGO_BIN_EXE_flightdeck")
    );
    let t = tmux::Tmux::start_sized(&cmd, dir.path(), &[], w, h);
    Some((dir, t))
}

fn quit(t: &tmux::Tmux) {
    t.keys(&["q"]);
    t.wait_for("the quit dialog", |s| s.contains("Quit?"));
    t.keys(&["y"]);
    t.wait_for("exit", |s| s.contains("EXIT="));
    for m in [
        "sleep 4102",
        "sleep 4105",
        "sleep 4106",
        "sleep 4108",
        "sleep 4109",
        "sleep 4110",
    ] {
        assert!(!alive_with(m), "{m} outlived the run");
    }
}

#[test]
fn e2e_room_keys_at_80x24() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some((_dir, t)) = launch(80, 24) else {
        return;
    };
    t.wait_for("the grid", |s| {
        s.contains("flightdeck") && s.contains("more: ")
    });
    // `!` reaches the session asking a question, wherever it is.
    t.wait_for("a session needing input", |s| s.contains("needs input"));
    t.keys(&["!"]);
    t.wait_for("asks-question focused", |s| s.contains("9 asks-question"));
    t.keys(&["Enter"]);
    t.keys(&["-l", "y"]);
    t.keys(&["Enter"]);
    t.wait_for("the answer", |s| s.contains("answered:y"));
    t.keys(&["C-a"]);
    // `g` goes to a session the grid has no pane for.
    t.keys(&["g"]);
    t.keys(&["-l", "notify"]);
    t.wait_for("the go-to prompt", |s| {
        s.contains("go to") && s.contains("12 notify-team")
    });
    t.keys(&["Enter"]);
    t.wait_for("notify-team focused", |s| s.contains("12 notify-team"));
    // `p`: panels full screen, filter, details of the gate.
    t.keys(&["p"]);
    t.wait_for("the panels", |s| s.contains("Panels"));
    t.keys(&["-l", "review"]);
    t.wait_for("the filtered gate", |s| s.contains("filter: review"));
    // Sessions come first, saying what the engine told (`session_waiting`); then the gate.
    t.wait_for("publish waiting for the gate", |s| {
        s.contains("11 publish pending · waits for review")
    });
    t.keys(&["Down", "Enter"]);
    t.wait_for("the gate's details", |s| {
        s.contains("Gate review") && s.contains("verdict")
    });
    // One Esc at a time: two at once read as Alt-Esc.
    t.keys(&["Escape"]);
    t.wait_for("the list again", |s| s.contains("filter: review"));
    t.keys(&["Escape"]);
    t.wait_for("the filter cleared", |s| s.contains("type to filter"));
    t.keys(&["Escape"]);
    t.wait_for("the grid again", |s| !s.contains("Panels"));
    // Unbound keys say so.
    t.keys(&["j"]);
    t.wait_for("the answer to j", |s| s.contains("does nothing here"));
    // `?` help, scrollable.
    t.keys(&["?"]);
    t.wait_for("help", |s| s.contains("flightdeck keys"));
    t.keys(&["Escape"]);
    t.wait_for("help closed", |s| !s.contains("flightdeck keys"));
    quit(&t);
}

#[test]
fn e2e_room_search_copy_and_approve() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some((dir, t)) = launch(120, 40) else {
        return;
    };
    t.wait_for("the grid", |s| s.contains("flightdeck"));
    // Search the long logger's whole output: line 10 is far beyond the scrollback.
    let log = dir
        .path()
        .join(".flightdeck/runs/latest/logs/long-logger.log");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("NEEDLE-LATE")
    {
        assert!(Instant::now() < deadline, "the long logger did not finish");
        std::thread::sleep(Duration::from_millis(100));
    }
    t.keys(&["g"]);
    t.keys(&["-l", "long"]);
    t.keys(&["Enter"]);
    t.keys(&["/"]);
    t.keys(&["-l", "NEEDLE"]);
    t.wait_for("the newest match", |s| s.contains("2 matches"));
    t.keys(&["Enter", "n"]);
    t.wait_for("the early match", |s| {
        s.contains("NEEDLE-EARLY line 10") && s.contains("match 1/2")
    });
    t.keys(&["Escape"]);
    t.wait_for("search closed", |s| !s.contains("match 1/2"));
    // Copy mode: Y copies the cursor's line to the clipboard (a tmux buffer here).
    t.keys(&["v"]);
    t.wait_for("copy mode", |s| s.contains("COPY"));
    t.keys(&["Y"]);
    t.wait_for("copied", |s| s.contains("copied"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !t.show_buffer().contains("NEEDLE-LATE done") {
        assert!(
            Instant::now() < deadline,
            "no clipboard: {:?}",
            t.show_buffer()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The manual gate: approve it once the panels show it awaiting.
    t.wait_for("the gate awaiting approval", |s| {
        s.contains("awaiting approval")
    });
    t.keys(&["a"]);
    t.wait_for("publish started", |s| s.contains("publish running"));
    // The failed first attempt stays above the second in the flaky pane.
    t.keys(&["g"]);
    t.keys(&["-l", "flaky"]);
    t.keys(&["Enter", "z"]);
    t.wait_for("both attempts", |s| {
        s.contains("connection reset by peer") && s.contains("fetched on retry")
    });
    t.keys(&["z"]);
    quit(&t);
}

/// The key a README token such as `PgUp`, `Ctrl-a` or `S` stands for.
fn readme_key(token: &str) -> Option<KeyEvent> {
    let plain = |c| KeyEvent::new(c, KeyModifiers::NONE);
    Some(match token {
        "Tab" => plain(KeyCode::Tab),
        "Shift-Tab" => KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT),
        "Enter" => plain(KeyCode::Enter),
        "Esc" => plain(KeyCode::Esc),
        "PgUp" => plain(KeyCode::PageUp),
        "PgDn" => plain(KeyCode::PageDown),
        "Space" => plain(KeyCode::Char(' ')),
        t if t.starts_with("Ctrl-") => {
            KeyEvent::new(KeyCode::Char(t.chars().last()?), KeyModifiers::CONTROL)
        }
        t if t.chars().count() == 1 => plain(KeyCode::Char(t.chars().next()?)),
        _ => return None,
    })
}

/// Every key the README's control-room table names does what the keymap says (the
/// README is written for people; the keymap is the one table behind dispatch and help).
#[test]
fn readme_keys_are_in_the_keymap() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .unwrap_or_default();
    let Some(start) = readme.find("## The control room") else {
        return; // no control-room section (yet): nothing to compare
    };
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let mut checked = 0;
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let first = row.split('|').nth(1).unwrap_or_default();
        for token in first.split('`').skip(1).step_by(2) {
            let Some(key) = readme_key(token) else {
                continue;
            };
            let bound = keymap::lookup(Mode::Normal, &key).is_some()
                || keymap::lookup(Mode::Input, &key).is_some();
            assert!(
                bound,
                "README names `{token}`, which the keymap does not bind"
            );
            checked += 1;
        }
    }
    assert!(
        checked > 0 || !section.contains("| `"),
        "no key read from the README"
    );
}
