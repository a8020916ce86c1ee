//! Knowing when an agent needs you, through the real binary: `flightdeck notify` and
//! its hooks over a real Unix socket, desktop notifications, prompts and bells printed
//! in real PTYs, the plan's notify command, and the stand-in agent CLIs in
//! `tests/agents/` (a `claude` that honours `--settings` as Claude Code does, a `codex`).

mod common;
#[path = "common/tmux.rs"]
mod tmux;

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

// ---- the stand-in agents in real runs ------------------------------------------

/// A project whose runs find the stand-in `claude` and `codex` first on `PATH`, with
/// a socket directory and a `HOME` of their own.
struct Project {
    dir: tempfile::TempDir,
    runtime: tempfile::TempDir,
    home: tempfile::TempDir,
}

impl Project {
    fn new(plan: &str, files: &[(&str, &str)]) -> Project {
        let p = Project {
            dir: tempfile::tempdir().unwrap(),
            runtime: tempfile::tempdir().unwrap(),
            home: tempfile::tempdir().unwrap(),
        };
        for (name, body) in files {
            std::fs::write(p.dir.path().join(name), body).unwrap();
        }
        std::fs::write(p.dir.path().join("plan.toml"), plan).unwrap();
        p
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        let path = format!(
            "{}:{}",
            agents_dir().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        c.args(args)
            .current_dir(self.dir.path())
            .env("PATH", path)
            .env("HOME", self.home.path())
            .env("XDG_RUNTIME_DIR", self.runtime.path())
            .env("FAKE_CLAUDE_ARGV", self.path("claude-argv.jsonl"))
            .env("FAKE_CLAUDE_TIMES", self.path("claude-times.txt"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        common::wait_with_deadline(self.cmd(args).spawn().unwrap(), Duration::from_secs(120))
    }

    /// Run and expect exit 0; stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "flightdeck {args:?}: {}\n{}",
            text(&out.stderr),
            self.events_text()
        );
        text(&out.stdout)
    }

    fn events_text(&self) -> String {
        std::fs::read_to_string(self.path(".flightdeck/runs/latest/events.jsonl"))
            .unwrap_or_default()
    }

    fn events(&self) -> Vec<Value> {
        self.events_text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn of(&self, kind: &str, session: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|e| e["event"] == kind && e["session"] == session)
            .collect()
    }

    /// `session_activity` of `session` from `source`: (activity, message).
    fn activities(&self, session: &str, source: &str) -> Vec<(String, Option<String>)> {
        self.of("session_activity", session)
            .iter()
            .filter(|e| e["source"] == source)
            .map(|e| {
                (
                    e["activity"].as_str().unwrap().to_string(),
                    e["message"].as_str().map(str::to_string),
                )
            })
            .collect()
    }

    /// Each argv the stand-in `claude` was started with.
    fn claude_argvs(&self) -> Vec<Vec<String>> {
        std::fs::read_to_string(self.path("claude-argv.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn poll(&self, what: &str, mut cond: impl FnMut(&Project) -> bool) {
        let end = Instant::now() + Duration::from_secs(30);
        while !cond(self) {
            assert!(
                Instant::now() < end,
                "timed out waiting for {what}\n{}",
                self.events_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn state_of(p: &Project, session: &str) -> Option<String> {
    p.of("session_state", session)
        .last()
        .and_then(|e| e["state"].as_str().map(str::to_string))
}

/// `sub` appears in `all` in this order (other items may come between).
fn in_order<T: PartialEq + std::fmt::Debug>(all: &[T], sub: &[T]) -> bool {
    let mut it = all.iter();
    sub.iter().all(|s| it.any(|a| a == s))
}

#[test]
fn a_claude_session_reports_through_its_hooks() {
    let p = Project::new(
        r#"
[plan]
name = "hooked"
notify = '''printf '%s|%s\n' "$FLIGHTDECK_EVENT" "$FLIGHTDECK_MESSAGE" >> alerts.txt'''

[[session]]
name = "coder"
agent = "claude"
command = "claude -p 'run the tests'"
input = "answers.txt"
input_delay = "2s"
"#,
        // Yes to the permission box, then leave at the prompt.
        &[("answers.txt", "1\nexit")],
    );
    let out = p.run(&["run", "plan.toml", "--no-tui"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let argv = p.claude_argvs();
    assert_eq!(argv.len(), 1, "{argv:?}");
    let settings = p.path(".flightdeck/runs/latest").canonicalize().unwrap();
    assert_eq!(argv[0][0], "--settings", "{argv:?}");
    assert!(
        Path::new(&argv[0][1]).starts_with(&settings),
        "the settings are the run's: {argv:?}"
    );
    assert_eq!(argv[0][2..], ["-p", "run the tests"]);

    let hooks = p.activities("coder", "notify");
    let working = ("working".to_string(), None);
    let asked = (
        "needs-input".to_string(),
        Some("Claude needs your permission to use Bash".to_string()),
    );
    let idle = ("idle".to_string(), None);
    let ended = (
        "idle".to_string(),
        Some("Claude Code session ended (prompt_input_exit)".to_string()),
    );
    assert!(
        in_order(&hooks, &[working, asked, idle, ended]),
        "UserPromptSubmit, Notification, Stop, SessionEnd: {hooks:?}"
    );
    let sessions = p.of("agent_session", "coder");
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(sessions[0]["agent"], "claude");
    let id = sessions[0]["id"].as_str().unwrap();
    assert_eq!(id.len(), 36, "a conversation id as Claude's: {id}");
    assert_eq!(state_of(&p, "coder").as_deref(), Some("succeeded"));
    // The plan's notify command hears the permission request.
    let alerts = std::fs::read_to_string(p.path("alerts.txt")).unwrap_or_default();
    assert!(
        alerts
            .contains("needs-input|coder needs input: Claude needs your permission to use Bash\n"),
        "{alerts}"
    );
    // The user's own Claude settings are never written.
    assert!(!p.home.path().join(".claude").exists());
}

#[test]
fn notify_done_ends_a_session_as_succeeded() {
    let p = Project::new(
        r#"
[plan]
name = "done"

[[session]]
name = "worker"
command = '''echo working; "$FLIGHTDECK_EXE" notify done; sleep 60'''

[[session]]
name = "next"
command = "echo next-ran"
after = ["worker"]
"#,
        &[],
    );
    let started = Instant::now();
    let out = p.run(&["run", "plan.toml", "--no-tui"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        started.elapsed() < Duration::from_secs(50),
        "the session was not ended"
    );
    assert_eq!(state_of(&p, "worker").as_deref(), Some("succeeded"));
    assert_eq!(state_of(&p, "next").as_deref(), Some("succeeded"));
}

#[test]
fn a_restarted_claude_session_continues_its_conversation() {
    // Attempt 1 fails after its conversation started: the automatic restart resumes it.
    let p = Project::new(
        r#"
[plan]
name = "resume"

[[session]]
name = "flaky"
agent = "claude"
command = "claude -p go && test -f second || ( touch second; exit 1 )"
env = { FAKE_CLAUDE_MODE = "turn" }
restart = "on-failure"
backoff = "100ms"

[[session]]
name = "chat"
agent = "claude"
command = ["claude", "-p", "talk"]
"#,
        &[],
    );
    let id = p.ok(&["run", "plan.toml", "--detach"]).trim().to_string();
    p.poll("flaky to succeed on its second attempt", |p| {
        state_of(p, "flaky").as_deref() == Some("succeeded")
    });
    let flaky: Vec<Vec<String>> = p
        .claude_argvs()
        .into_iter()
        .filter(|a| a.ends_with(&["-p".to_string(), "go".to_string()]))
        .collect();
    assert_eq!(flaky.len(), 2, "{flaky:?}");
    assert!(!flaky[0].contains(&"--resume".to_string()), "{flaky:?}");
    let first_id = p.of("agent_session", "flaky")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        flaky[1][2..4],
        ["--resume".to_string(), first_id],
        "{flaky:?}"
    );

    // `ctl restart` of a waiting conversation.
    p.poll("chat's conversation id", |p| {
        !p.of("agent_session", "chat").is_empty()
    });
    let chat_id = p.of("agent_session", "chat")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let chats = |p: &Project| -> Vec<Vec<String>> {
        p.claude_argvs()
            .into_iter()
            .filter(|a| a.ends_with(&["-p".to_string(), "talk".to_string()]))
            .collect()
    };
    p.ok(&["ctl", &id, "restart", "chat"]);
    p.poll("chat's second start", |p| chats(p).len() == 2);
    assert_eq!(
        chats(&p)[1][2..4],
        ["--resume".to_string(), chat_id.clone()]
    );
    p.ok(&["ctl", &id, "quit"]);
    p.poll("the run to finish", |p| {
        p.events_text().contains("\"run_finished\"")
    });

    // `--resume` of the run: what did not succeed starts again, in its conversation.
    let again = p
        .ok(&["run", "plan.toml", "--resume", &id, "--detach"])
        .trim()
        .to_string();
    p.poll("chat's third start", |p| chats(p).len() == 3);
    assert_eq!(chats(&p)[2][2..4], ["--resume".to_string(), chat_id]);
    assert_eq!(
        p.claude_argvs().len(),
        5,
        "flaky succeeded and is not run again"
    );
    p.ok(&["ctl", &again, "quit"]);
}

#[test]
fn a_codex_session_reports_its_finished_turn() {
    let p = Project::new(
        r#"
[plan]
name = "codex"

[[session]]
name = "tests"
agent = "codex"
command = ["codex", "--full-auto"]
input = "answers.txt"
"#,
        // Approve the command; the next line ends the stand-in.
        &[("answers.txt", "y\nbye")],
    );
    let out = p.run(&["run", "plan.toml", "--no-tui"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        p.activities("tests", "notify"),
        [("idle".to_string(), Some("Everything passes.".to_string()))]
    );
}

const ASKING_PLAN: &str = r#"
[plan]
name = "asking"

[[session]]
name = "coder"
agent = "claude"
command = "claude -p 'run the tests'"

[[session]]
name = "keeper"
command = "sleep 3600"
"#;

impl Project {
    /// The control room of this project's run in a tmux of its own.
    fn control_room(&self) -> tmux::Tmux {
        let cmd = self.cmd(&[]);
        let env: Vec<(String, PathBuf)> = cmd
            .get_envs()
            .filter_map(|(k, v)| Some((k.to_str()?.to_string(), PathBuf::from(v?))))
            .collect();
        let env: Vec<(&str, &Path)> = env.iter().map(|(k, v)| (k.as_str(), v.as_path())).collect();
        tmux::Tmux::start_sized(
            &format!("{} run plan.toml; echo EXIT=$?; sleep 60", bin()),
            self.dir.path(),
            &env,
            150,
            40,
        )
    }
}

/// The top border line of pane `n` (`┏━ n name · state · activity …`).
fn border(screen: &str, n: u32) -> String {
    let mark = format!(" {n} ");
    screen
        .lines()
        .flat_map(|l| l.split(['┓', '┐']))
        .find(|l| (l.contains('━') || l.contains('─')) && l.contains(&mark))
        .unwrap_or("")
        .to_string()
}

#[test]
fn the_control_room_shows_an_agent_waiting_for_permission() {
    if !tmux::available() {
        return;
    }
    let p = Project::new(ASKING_PLAN, &[]);
    let room = p.control_room();
    let s = room.wait_for("the permission request on the border", |s| {
        border(s, 1).contains("NEEDS INPUT")
    });
    assert!(!border(&s, 2).contains("NEEDS INPUT"), "{s}");
    // Answer it in the pane: Claude's Stop hook makes the session idle.
    room.keys(&["1", "Enter"]);
    room.wait_for("input mode", |s| s.contains("INPUT → coder"));
    room.keys(&["1", "Enter"]);
    let s = room.wait_for("the finished turn on the border", |s| {
        border(s, 1).contains("idle") && !border(s, 1).contains("NEEDS INPUT")
    });
    assert!(s.contains("All tests pass."), "{s}");
    room.keys(&["C-a", "q"]);
    room.wait_for("the quit dialog", |s| s.contains("Quit?"));
    room.keys(&["y"]);
    room.wait_for("the end", |s| s.contains("EXIT="));
}

fn epoch_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn median(mut v: Vec<i64>) -> i64 {
    v.sort();
    v[v.len() / 2]
}

/// Figures, not a test: from a hook firing (the stand-in's clock just before it runs
/// the hook command) to its `session_activity` in events.jsonl, and to the pane's
/// border changing in the control room (tmux capture). Run with
/// `cargo test --test agent hook_latency -- --ignored --nocapture`.
#[test]
#[ignore]
fn hook_latency() {
    if !tmux::available() {
        return;
    }
    let p = Project::new(ASKING_PLAN, &[]);
    let room = p.control_room();
    let fired = |event: &str| -> Vec<i64> {
        std::fs::read_to_string(p.path("claude-times.txt"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.strip_prefix(event)?.trim().parse().ok())
            .collect()
    };
    let (mut to_event, mut to_border) = (Vec::new(), Vec::new());
    room.wait_for("pane 1", |s| border(s, 1).contains("coder"));
    room.keys(&["1", "Enter"]);
    room.wait_for("input mode", |s| s.contains("INPUT → coder"));
    for sample in 0..8 {
        // The first turn asks on its own; later ones after a prompt typed here.
        if sample > 0 {
            room.keys(&["-l", "again"]);
            room.keys(&["Enter"]);
        }
        for (event, shows) in [("Notification", "NEEDS INPUT"), ("Stop", "idle")] {
            let n = sample + 1;
            let end = Instant::now() + Duration::from_secs(30);
            let seen = loop {
                let screen = room.capture();
                let at = epoch_ms();
                if fired(event).len() >= n && border(&screen, 1).contains(shows) {
                    break at;
                }
                assert!(Instant::now() < end, "no {event}: {screen}");
            };
            let hook_at = fired(event)[n - 1];
            to_border.push(seen - hook_at);
            let activity = if event == "Stop" {
                "idle"
            } else {
                "needs-input"
            };
            let recorded: Vec<i64> = p
                .of("session_activity", "coder")
                .iter()
                .filter(|e| e["source"] == "notify" && e["activity"] == activity)
                .filter_map(|e| {
                    chrono::DateTime::parse_from_rfc3339(e["ts"].as_str()?)
                        .ok()
                        .map(|t| t.timestamp_millis())
                })
                .collect();
            to_event.push(recorded[n - 1] - hook_at);
            if event == "Notification" {
                room.keys(&["1", "Enter"]);
            }
        }
    }
    println!(
        "hook -> session_activity: median {} ms, max {} ms, samples {to_event:?}",
        median(to_event.clone()),
        to_event.iter().max().unwrap()
    );
    println!(
        "hook -> border (tmux capture): median {} ms, max {} ms, samples {to_border:?}",
        median(to_border.clone()),
        to_border.iter().max().unwrap()
    );
    room.keys(&["C-a", "q"]);
    room.wait_for("the quit dialog", |s| s.contains("Quit?"));
    room.keys(&["y"]);
    room.wait_for("the end", |s| s.contains("EXIT="));
}
