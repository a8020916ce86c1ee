//! Knowing when an agent needs you, through the real binary: `flightdeck notify` and
//! its hooks over a real Unix socket, desktop notifications, prompts and bells printed
//! in real PTYs, the plan's notify command, and the stand-in agent CLIs in
//! `tests/agents/` (a `claude` that honours `--settings` as Claude Code does, a `codex`).

mod common;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_flightdeck")
}

fn agents_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/agents")
}

/// `flightdeck notify ARGS` with these FLIGHTDECK_* variables (and no others) and
/// `stdin` on its standard input.
fn notify(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut cmd = Command::new(bin());
    cmd.arg("notify").args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("FLIGHTDECK_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    common::wait_with_deadline(child, Duration::from_secs(20))
}

/// A one-request-per-connection listener that answers each request with `reply`
/// and hands the requests back.
fn listener(dir: &Path, reply: Value) -> (PathBuf, std::sync::mpsc::Receiver<Value>) {
    let path = dir.join("run.sock");
    let l = UnixListener::bind(&path).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut line = String::new();
            BufReader::new(&conn).read_line(&mut line).unwrap();
            let _ = tx.send(serde_json::from_str::<Value>(&line).unwrap());
            let _ = conn.write_all(format!("{reply}\n").as_bytes());
        }
    });
    (path, rx)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn notify_outside_a_session_is_a_clear_usage_error() {
    let out = notify(&["needs-input", "hello"], &[], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("not inside a flightdeck session"),
        "{}",
        text(&out.stderr)
    );
    // A hook must never exit 2: Claude Code reads that as "block this tool".
    let out = notify(&["--hook", "claude"], &[], "{}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn notify_requests_follow_the_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let (sock, requests) = listener(dir.path(), json!({"ok": true}));
    let sock = sock.display().to_string();
    let env = [
        ("FLIGHTDECK_SOCKET", sock.as_str()),
        ("FLIGHTDECK_SESSION", "writer"),
    ];
    let next = || requests.recv_timeout(Duration::from_secs(10)).unwrap();

    let out = notify(&["needs-input", "Allow", "Bash?"], &env, "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        next(),
        json!({"flightdeck": 1, "req": "notify", "session": "writer",
               "state": "needs-input", "message": "Allow Bash?"})
    );
    let out = notify(&["done"], &env, "");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(next()["message"], Value::Null);

    let hook = |payload: &str| notify(&["--hook", "claude"], &env, payload);
    let out = hook(r#"{"session_id":"c-42","hook_event_name":"SessionStart","source":"startup"}"#);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        next(),
        json!({"flightdeck": 1, "req": "agent_session", "session": "writer",
               "agent": "claude", "id": "c-42"})
    );
    assert!(
        text(&out.stdout).is_empty(),
        "hook stdout would reach Claude's context"
    );
    hook(
        r#"{"session_id":"c-42","hook_event_name":"Notification","message":"Claude needs your permission to use Bash","notification_type":"permission_prompt"}"#,
    );
    let r = next();
    assert_eq!(
        (r["state"].as_str(), r["message"].as_str()),
        (
            Some("needs-input"),
            Some("Claude needs your permission to use Bash")
        )
    );
    hook(r#"{"session_id":"c-42","hook_event_name":"Stop","stop_hook_active":false}"#);
    assert_eq!(next()["state"], "idle");
    hook(r#"{"session_id":"c-42","hook_event_name":"PreToolUse","tool_name":"Bash"}"#);
    assert_eq!(next()["state"], "working");
    // Codex passes its payload as the last argument.
    let out = notify(
        &[
            "--hook",
            "codex",
            r#"{"type":"agent-turn-complete","last-assistant-message":"All green."}"#,
        ],
        &env,
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r = next();
    assert_eq!(
        (r["state"].as_str(), r["message"].as_str()),
        (Some("idle"), Some("All green."))
    );

    // What it does not understand: a message, a non-zero exit, nothing sent.
    let out = hook("this is not json");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--hook claude"),
        "{}",
        text(&out.stderr)
    );
    let out = notify(&["--hook", "codex", r#"{"type":"new-thing"}"#], &env, "");
    assert_eq!(out.status.code(), Some(1));
    let out = notify(&["sleeping"], &env, "");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown state `sleeping`"));
    assert!(requests.recv_timeout(Duration::from_millis(300)).is_err());
}

#[test]
fn a_refusal_or_a_missing_run_is_exit_1_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (sock, _requests) = listener(dir.path(), json!({"error": "unknown session `x`"}));
    let sock = sock.display().to_string();
    let env = [
        ("FLIGHTDECK_SOCKET", sock.as_str()),
        ("FLIGHTDECK_SESSION", "x"),
    ];
    let out = notify(&["idle"], &env, "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("unknown session `x`"),
        "{}",
        text(&out.stderr)
    );
    let gone = dir.path().join("gone.sock").display().to_string();
    let out = notify(
        &["idle"],
        &[("FLIGHTDECK_SOCKET", &gone), ("FLIGHTDECK_SESSION", "x")],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("cannot reach the run"),
        "{}",
        text(&out.stderr)
    );
}

// ---- runs ------------------------------------------------------------------

struct Run {
    dir: tempfile::TempDir,
    out: Output,
    took: Duration,
}

impl Run {
    fn events(&self) -> Vec<Value> {
        let path = self.dir.path().join(".flightdeck/runs/latest/events.jsonl");
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
    /// `session_activity` events of `session`: (activity, source, message).
    fn activities(&self, session: &str) -> Vec<(String, String, Option<String>)> {
        self.events()
            .iter()
            .filter(|e| e["event"] == "session_activity" && e["session"] == session)
            .map(|e| {
                (
                    e["activity"].as_str().unwrap().to_string(),
                    e["source"].as_str().unwrap().to_string(),
                    e["message"].as_str().map(str::to_string),
                )
            })
            .collect()
    }
    fn stderr(&self) -> String {
        text(&self.out.stderr)
    }
}

/// Run `plan` headless in a fresh directory (with `files` written first).
fn run(plan: &str, files: &[(&str, &str)]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    std::fs::write(dir.path().join("plan.toml"), plan).unwrap();
    let started = Instant::now();
    let child = Command::new(bin())
        .args(["run", "plan.toml", "--no-tui"])
        .current_dir(dir.path())
        .env("AGENTS", agents_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = common::wait_with_deadline(child, Duration::from_secs(120));
    Run {
        dir,
        out,
        took: started.elapsed(),
    }
}

#[test]
fn desktop_notifications_prompts_and_bells_say_what_they_are() {
    let r = run(
        r#"
[plan]
name = "signals"

[[session]]
name = "osc9"
command = '''printf 'working\n'; sleep 0.3; printf '\033]9;Build needs you\007'; sleep 1.5'''

[[session]]
name = "osc777"
command = '''sleep 0.3; printf '\033]777;notify;Codex;Approve the edit?\033\\'; sleep 1.5'''

[[session]]
name = "osc99"
command = '''sleep 0.3; printf '\033]99;i=1:d=0;Kitty\033\\\033]99;i=1:p=body;asks you\033\\'; sleep 1.5'''

[[session]]
name = "dialog"
agent = "claude"
command = '''sleep 0.3; printf '\342\224\202 Do you want to proceed?\r\n\342\235\257 1. Yes\r\n'; sleep 1.5'''

[[session]]
name = "bell"
command = '''sleep 0.3; printf 'ding\007'; sleep 1.5'''

[[session]]
name = "ordinary"
agent = "claude"
command = '''printf '\033]9;4;1;50\007'; echo 'I will proceed with the plan'; echo 'Do you want fries'; sleep 1.5'''
"#,
        &[],
    );
    assert_eq!(r.out.status.code(), Some(0), "{}", r.stderr());
    let needs = |s: &str| -> Vec<(String, Option<String>)> {
        r.activities(s)
            .into_iter()
            .filter(|(a, _, _)| a == "needs-input")
            .map(|(_, source, m)| (source, m))
            .collect()
    };
    assert_eq!(
        needs("osc9"),
        [("osc".into(), Some("Build needs you".into()))]
    );
    assert_eq!(
        needs("osc777"),
        [("osc".into(), Some("Codex: Approve the edit?".into()))]
    );
    assert_eq!(
        needs("osc99"),
        [("osc".into(), Some("Kitty: asks you".into()))]
    );
    assert_eq!(
        needs("dialog"),
        [("pattern".into(), Some("Do you want to proceed?".into()))]
    );
    assert_eq!(needs("bell"), [("bell".into(), None)]);
    assert_eq!(
        needs("ordinary"),
        [],
        "progress and 'proceed' are no questions"
    );
    assert_eq!(
        r.activities("osc9")[0],
        ("working".into(), "output".into(), None)
    );
}

#[test]
fn the_plans_notify_command_is_called_and_a_hanging_one_never_stalls_the_run() {
    let r = run(
        r#"
[plan]
name = "alerts"
notify = '''printf '%s|%s|%s\n' "$FLIGHTDECK_EVENT" "$FLIGHTDECK_SESSION" "$FLIGHTDECK_MESSAGE" >> alerts.txt; sleep 60'''

[[session]]
name = "asker"
command = '''printf '\033]9;Pick a colour\007'; sleep 1'''

[[gate]]
name = "review"
after = ["asker"]
approval = "manual"
"#,
        &[],
    );
    // Headless without --yes stops at the manual gate: exit 3.
    assert_eq!(r.out.status.code(), Some(3), "{}", r.stderr());
    assert!(
        r.took < Duration::from_secs(9),
        "the run waited for its notify command: {:?}",
        r.took
    );
    let alerts = std::fs::read_to_string(r.dir.path().join("alerts.txt")).unwrap_or_default();
    assert!(
        alerts.contains("needs-input|asker|asker needs input: Pick a colour\n"),
        "{alerts}"
    );
    assert!(
        alerts.contains("gate-awaits-approval|review|gate review: PASS — awaiting approval\n"),
        "{alerts}"
    );
    assert!(alerts.contains("run-finished||run "), "{alerts}");
    // Nothing it started outlives the run.
    let left: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|p| std::fs::read_link(p.path().join("cwd")).ok().as_deref() == Some(r.dir.path()))
        .map(|p| p.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        left.is_empty(),
        "processes left in the run's root: {left:?}"
    );
}

#[test]
fn a_failing_notify_command_is_an_event_not_a_failure() {
    let r = run(
        r#"
[plan]
name = "alerts"
notify = "echo 'no desktop here' >&2; exit 7"

[[session]]
name = "asker"
command = '''printf '\033]9;Pick a colour\007'; sleep 1'''
"#,
        &[],
    );
    assert_eq!(r.out.status.code(), Some(0), "{}", r.stderr());
    let failed: Vec<Value> = r
        .events()
        .into_iter()
        .filter(|e| e["event"] == "notify_failed")
        .collect();
    assert!(!failed.is_empty(), "{:?}", r.events());
    assert_eq!(failed[0]["for_event"], "needs-input");
    assert!(
        failed[0]["message"]
            .as_str()
            .unwrap()
            .contains("no desktop here"),
        "{failed:?}"
    );
}
