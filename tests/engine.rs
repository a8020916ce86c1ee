//! End-to-end tests of the engine through the real binary, headless: real plans,
//! real PTYs, real processes, real run records.

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_flightdeck")
}

struct Run {
    dir: tempfile::TempDir,
    out: Output,
}

impl Run {
    fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    fn records(&self) -> PathBuf {
        self.dir.path().join(".flightdeck/runs/latest")
    }
    fn events(&self) -> Vec<Value> {
        events_of(&self.records())
    }
    fn report(&self) -> Value {
        let text = std::fs::read_to_string(self.records().join("report.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }
    fn log(&self, session: &str) -> Vec<u8> {
        std::fs::read(self.records().join(format!("logs/{session}.log"))).unwrap_or_default()
    }
    fn session(&self, name: &str) -> Value {
        self.report()["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no session {name} in report"))
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
}

fn events_of(dir: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad event line {l}: {e}")))
        .collect()
}

fn write_plan(dir: &Path, plan: &str) -> PathBuf {
    let p = dir.join("plan.toml");
    std::fs::write(&p, plan).unwrap();
    p
}

fn spawn(dir: &Path, args: &[&str]) -> Child {
    Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait(child: Child, limit: Duration) -> Output {
    common::wait_with_deadline(child, limit)
}

fn run_in(dir: tempfile::TempDir, plan: &str, extra: &[&str]) -> Run {
    write_plan(dir.path(), plan);
    let mut args = vec!["run", "plan.toml", "--no-tui"];
    args.extend_from_slice(extra);
    let out = wait(spawn(dir.path(), &args), Duration::from_secs(90));
    Run { dir, out }
}

fn run(plan: &str, extra: &[&str]) -> Run {
    run_in(tempfile::tempdir().unwrap(), plan, extra)
}

fn ts(e: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(e["ts"].as_str().unwrap()).unwrap()
}

fn find<'a>(events: &'a [Value], kind: &str, session: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["event"] == kind && (e["session"] == session || e["gate"] == session))
        .collect()
}

fn pid_alive(pid: i32) -> bool {
    // A zombie is dead for our purposes.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s.split(") ").nth(1).is_some_and(|r| r.starts_with('Z')),
        Err(_) => false,
    }
}

/// Poll until `cond` holds or the deadline passes.
fn poll(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    cond()
}

#[test]
fn dependency_order_and_parallelism() {
    let r = run(
        r#"
[plan]
name = "order"
[[session]]
name = "a"
command = "sleep 1"
[[session]]
name = "b"
command = "sleep 1"
[[session]]
name = "c"
command = "echo c done"
after = ["a", "b"]
"#,
        &[],
    );
    assert_eq!(r.code(), 0, "{}{}", r.stdout(), r.stderr());
    let ev = r.events();
    let start = |s| ts(find(&ev, "session_started", s)[0]);
    let exit = |s| ts(find(&ev, "session_exited", s)[0]);
    // a and b ran at the same time; c started only after both ended.
    assert!(start("b") < exit("a") && start("a") < exit("b"));
    assert!(start("c") >= exit("a") && start("c") >= exit("b"));
    assert_eq!(ev.first().unwrap()["event"], "run_started");
    assert_eq!(ev.last().unwrap()["event"], "run_finished");
    assert_eq!(ev.last().unwrap()["exit_code"], 0);
    assert!(r.stdout().contains("c | c done"), "{}", r.stdout());
    // Headless says once why c has not started (`session_waiting`).
    let said = r
        .stdout()
        .matches("flightdeck | c waits for a, b\n")
        .count();
    assert_eq!(said, 1, "{}", r.stdout());
}

#[test]
fn max_parallel_limits_concurrency() {
    let r = run(
        r#"
[plan]
name = "serial"
max_parallel = 1
[[session]]
name = "a"
command = "sleep 0.3"
[[session]]
name = "b"
command = "sleep 0.3"
[[session]]
name = "c"
command = "sleep 0.3"
"#,
        &[],
    );
    assert_eq!(r.code(), 0);
    let ev = r.events();
    let mut spans: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|s| {
            (
                ts(find(&ev, "session_started", s)[0]),
                ts(find(&ev, "session_exited", s)[0]),
            )
        })
        .collect();
    spans.sort();
    for w in spans.windows(2) {
        assert!(w[1].0 >= w[0].1, "sessions overlapped: {spans:?}");
    }
}

#[test]
fn restarts_with_backoff_and_attempts() {
    let r = run(
        r#"
[plan]
name = "restarts"
[[session]]
name = "flaky"
command = 'echo "attempt $FLIGHTDECK_ATTEMPT"; [ "$FLIGHTDECK_ATTEMPT" -ge 3 ]'
restart = "on-failure"
backoff = "200ms"
max_restarts = 3
"#,
        &[],
    );
    assert_eq!(r.code(), 0, "{}", r.stdout());
    let ev = r.events();
    let delays: Vec<f64> = find(&ev, "session_restarting", "flaky")
        .iter()
        .map(|e| e["delay_s"].as_f64().unwrap())
        .collect();
    assert_eq!(delays, vec![0.2, 0.4]);
    let attempts: Vec<u64> = find(&ev, "session_started", "flaky")
        .iter()
        .map(|e| e["attempt"].as_u64().unwrap())
        .collect();
    assert_eq!(attempts, vec![1, 2, 3]);
    // The backoff really was waited.
    let exits = find(&ev, "session_exited", "flaky");
    let starts = find(&ev, "session_started", "flaky");
    assert!((ts(starts[2]) - ts(exits[1])).num_milliseconds() >= 380);
    assert_eq!(r.session("flaky")["attempts"], 3);
    assert_eq!(r.session("flaky")["state"], "succeeded");
    let log = String::from_utf8_lossy(&r.log("flaky")).into_owned();
    assert!(
        log.contains("attempt 1") && log.contains("attempt 3"),
        "{log}"
    );
}

#[test]
fn restarts_run_out_and_dependents_are_blocked() {
    let r = run(
        r#"
[plan]
name = "fails"
[[session]]
name = "bad"
command = "exit 4"
restart = "on-failure"
backoff = "100ms"
max_restarts = 1
[[session]]
name = "next"
command = "echo never"
after = ["bad"]
[[session]]
name = "cleanup"
command = "echo cleanup ran"
after = ["bad:finished"]
"#,
        &[],
    );
    assert_eq!(r.code(), 1);
    assert_eq!(r.session("bad")["state"], "failed");
    assert_eq!(r.session("bad")["attempts"], 2);
    assert_eq!(r.session("bad")["exit_code"], 4);
    assert_eq!(r.session("next")["state"], "blocked");
    assert_eq!(r.session("cleanup")["state"], "succeeded");
}

#[test]
fn timeout_kills_the_whole_group() {
    let r = run(
        r#"
[plan]
name = "timeout"
[[session]]
name = "slow"
command = "sleep 1000 & echo $! > grandchild.pid; wait"
timeout = "700ms"
stop_grace = "1s"
"#,
        &[],
    );
    assert_eq!(r.code(), 1);
    assert_eq!(r.session("slow")["state"], "failed");
    assert!(r.session("slow")["duration_s"].as_f64().unwrap() < 5.0);
    let pid: i32 = std::fs::read_to_string(r.path("grandchild.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(!pid_alive(pid), "grandchild {pid} outlived the run");
}

#[test]
fn escaped_processes_do_not_outlive_the_run() {
    // A process that left the session's group (setsid) is still ours to stop.
    let r = run(
        r#"
[plan]
name = "escape"
[[session]]
name = "leaky"
command = "setsid sleep 1000 & echo $! > escaped.pid; sleep 0.2"
"#,
        &[],
    );
    assert_eq!(r.code(), 0, "{}", r.stdout());
    let pid: i32 = std::fs::read_to_string(r.path("escaped.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        poll(Duration::from_secs(5), || !pid_alive(pid)),
        "{pid} survived"
    );
}

#[test]
fn sigint_stops_everything_and_writes_the_record() {
    let dir = tempfile::tempdir().unwrap();
    write_plan(
        dir.path(),
        r#"
[plan]
name = "interrupt"
[[session]]
name = "long"
command = "sleep 1000 & echo $! > child.pid; wait"
[[session]]
name = "later"
command = "echo later"
after = ["long"]
"#,
    );
    let child = spawn(dir.path(), &["run", "plan.toml", "--no-tui"]);
    let pidfile = dir.path().join("child.pid");
    assert!(poll(Duration::from_secs(20), || std::fs::read_to_string(
        &pidfile
    )
    .is_ok_and(|s| s.ends_with('\n'))));
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = wait(child, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(130));
    let grandchild: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(!pid_alive(grandchild));
    let rec = dir.path().join(".flightdeck/runs/latest");
    let ev = events_of(&rec);
    let last = ev.last().unwrap();
    assert_eq!(last["event"], "run_finished");
    assert_eq!(last["exit_code"], 130);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(rec.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["status"], "interrupted");
    assert_eq!(report["sessions"][0]["state"], "stopped");
    assert_eq!(report["sessions"][1]["state"], "pending");
}

#[test]
fn resume_skips_what_succeeded() {
    let dir = tempfile::tempdir().unwrap();
    let plan = r#"
[plan]
name = "resume"
[[session]]
name = "first"
command = "echo x >> first.count"
[[session]]
name = "second"
command = "test -f fixed"
after = ["first"]
"#;
    let r = run_in(dir, plan, &[]);
    assert_eq!(r.code(), 1);
    std::fs::write(r.path("fixed"), "").unwrap();
    let r = run_in(r.dir, plan, &["--resume", "latest"]);
    assert_eq!(r.code(), 0, "{}{}", r.stdout(), r.stderr());
    assert_eq!(
        std::fs::read_to_string(r.path("first.count")).unwrap(),
        "x\n"
    );
    let ev = r.events();
    assert!(find(&ev, "session_started", "first").is_empty());
    assert_eq!(find(&ev, "session_started", "second").len(), 1);
    assert_eq!(r.session("first")["state"], "succeeded");
    // A run id that does not exist is a usage error: nothing starts.
    let r = run_in(r.dir, plan, &["--resume", "19990101-000000"]);
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("19990101-000000"), "{}", r.stderr());
}

#[test]
fn only_and_skip() {
    let plan = r#"
[plan]
name = "subset"
[[session]]
name = "a"
command = "touch a.ran"
[[session]]
name = "b"
command = "touch b.ran"
after = ["a"]
[[session]]
name = "c"
command = "touch c.ran"
"#;
    let r = run(plan, &["--only", "b"]);
    assert_eq!(r.code(), 0, "{}", r.stdout());
    assert!(r.path("b.ran").exists() && !r.path("a.ran").exists() && !r.path("c.ran").exists());
    assert_eq!(r.session("a")["state"], "skipped");
    let r = run(plan, &["--skip", "a,c"]);
    assert_eq!(r.code(), 0);
    assert!(r.path("b.ran").exists() && !r.path("a.ran").exists() && !r.path("c.ran").exists());
    let r = run(plan, &["--skip", "nope"]);
    assert_eq!(r.code(), 2);
    assert!(r.stderr().contains("nope"));
}

#[test]
fn done_when_output_and_file() {
    let r = run(
        r#"
[plan]
name = "done"
[[session]]
name = "server"
command = "echo starting; echo READY on port 8080; exec sleep 1000"
done_when = { output = 'READY on port \d+' }
[[session]]
name = "writer"
command = "touch out.done; exec sleep 1000"
done_when = { file = "out.done" }
[[session]]
name = "after"
command = "echo both done"
after = ["server", "writer"]
"#,
        &[],
    );
    assert_eq!(r.code(), 0, "{}", r.stdout());
    for s in ["server", "writer", "after"] {
        assert_eq!(r.session(s)["state"], "succeeded", "{s}");
    }
    assert!(r.report()["sessions"][0]["duration_s"].as_f64().unwrap() < 10.0);
}

#[test]
fn keep_running_session_stays_up_until_the_run_ends() {
    let r = run(
        r#"
[plan]
name = "service"
[[session]]
name = "db"
command = "echo up; exec sleep 1000"
done_when = { output = "up" }
keep_running = true
[[session]]
name = "client"
command = "sleep 0.3; echo queried"
after = ["db"]
"#,
        &[],
    );
    assert_eq!(r.code(), 0, "{}", r.stdout());
    let ev = r.events();
    // db was still running when client finished: it exited only at the end.
    assert!(
        ts(find(&ev, "session_exited", "db")[0]) >= ts(find(&ev, "session_exited", "client")[0])
    );
}

#[test]
fn on_success_runs_in_order_and_its_failure_fails_the_session() {
    let r = run(
        r#"
[plan]
name = "hooks"
[[session]]
name = "good"
command = "echo work"
on_success = ["echo one >> hooks.txt", "echo two >> hooks.txt"]
[[session]]
name = "bad"
command = "echo work"
on_success = ["echo three >> hooks.txt", "exit 3", "echo never >> hooks.txt"]
"#,
        &[],
    );
    assert_eq!(r.code(), 1);
    assert_eq!(r.session("good")["state"], "succeeded");
    assert_eq!(r.session("bad")["state"], "failed");
    let hooks = std::fs::read_to_string(r.path("hooks.txt")).unwrap();
    // The two sessions run in parallel: only the order within each is fixed.
    let pos = |w: &str| hooks.lines().position(|l| l == w);
    assert!(pos("one").unwrap() < pos("two").unwrap(), "{hooks}");
    assert!(pos("three").is_some() && pos("never").is_none(), "{hooks}");
}

#[test]
fn input_is_pasted_into_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("prompt.md"), "build the thing\n").unwrap();
    let r = run_in(
        dir,
        r#"
[plan]
name = "input"
[[session]]
name = "agent"
command = 'read line; echo "got:$line"'
input = "prompt.md"
input_delay = "100ms"
"#,
        &[],
    );
    assert_eq!(r.code(), 0, "{}", r.stdout());
    let log = String::from_utf8_lossy(&r.log("agent")).into_owned();
    assert!(log.contains("got:build the thing"), "{log}");
}

#[test]
fn environment_of_a_session() {
    let r = run(
        r#"
[plan]
name = "env"
[vars]
who = "world"
[[session]]
name = "show"
command = 'echo "id=$FLIGHTDECK_RUN_ID s=$FLIGHTDECK_SESSION a=$FLIGHTDECK_ATTEMPT root=$FLIGHTDECK_ROOT m=$MODEL size=$(stty size)"'
env = { MODEL = "hello {who}" }
"#,
        &[],
    );
    assert_eq!(r.code(), 0);
    let log = String::from_utf8_lossy(&r.log("show")).into_owned();
    let run_id = r.report()["run_id"].as_str().unwrap().to_string();
    assert!(
        log.contains(&format!("id={run_id} s=show a=1 root=")),
        "{log}"
    );
    assert!(log.contains("m=hello world size=24 80"), "{log}");
}

#[test]
fn a_flood_arrives_byte_exact_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    // 16 MB of what agents print: colour codes, UTF-8, long and short lines; far more
    // than a pane keeps, so most of it is skimmed on its way (docs/control-room.md,
    // "Floods"), and small enough for a debug build under a loaded CI.
    let mut data = Vec::with_capacity(16_000_100);
    let mut x: u32 = 12345;
    let mut n = 0u64;
    while data.len() < 16_000_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        n += 1;
        let len = (x >> 20) as usize % 300;
        data.extend_from_slice(format!("\x1b[3{}mline {n}\x1b[0m héllo ✓ ", n % 8).as_bytes());
        data.extend(std::iter::repeat_n(b'a' + (n % 26) as u8, len));
        data.extend_from_slice(b"\r\n");
    }
    std::fs::write(dir.path().join("big.bin"), &data).unwrap();
    let r = run_in(
        dir,
        r#"
[plan]
name = "flood"
[[session]]
name = "flood"
command = "stty raw -echo && cat big.bin"
"#,
        &[],
    );
    assert_eq!(r.code(), 0);
    let log = r.log("flood");
    // The log opens with the attempt's separator line (docs/protocol.md); then every byte.
    assert!(log.starts_with("\r\n──── attempt 1 · started ".as_bytes()));
    let log = &log[log[2..].windows(2).position(|w| w == b"\r\n").unwrap() + 4..];
    assert_eq!(log.len(), data.len());
    assert!(log == data, "the log differs from what the session wrote");
}

#[test]
fn a_missing_command_fails_that_session_and_the_rest_goes_on() {
    let r = run(
        r#"
[plan]
name = "missing"
[[session]]
name = "ghost"
command = ["/nonexistent/agent-cli", "--go"]
[[session]]
name = "fine"
command = "echo fine"
"#,
        &[],
    );
    assert_eq!(r.code(), 1);
    assert_eq!(r.session("ghost")["state"], "failed");
    assert_eq!(r.session("fine")["state"], "succeeded");
    let log = String::from_utf8_lossy(&r.log("ghost")).into_owned();
    assert!(
        log.contains("No such file or directory") || log.contains("not found"),
        "{log}"
    );
}

#[test]
fn records_that_cannot_be_written_stop_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("blocker"), "a file, not a directory").unwrap();
    let r = run_in(
        dir,
        r#"
[plan]
name = "norecords"
records = "blocker/runs"
[[session]]
name = "a"
command = "touch ran"
"#,
        &[],
    );
    assert_eq!(r.code(), 2);
    assert!(!r.path("ran").exists());
    assert!(r.stderr().contains("blocker"), "{}", r.stderr());
}

#[test]
fn manual_gate_headless_needs_yes() {
    let plan = r#"
[plan]
name = "approval"
[[session]]
name = "build"
command = "echo built"
[[gate]]
name = "review"
after = ["build"]
approval = "manual"
[[session]]
name = "ship"
command = "touch shipped"
after = ["review"]
"#;
    let r = run(plan, &[]);
    assert_eq!(r.code(), 3, "{}", r.stdout());
    assert!(!r.path("shipped").exists());
    assert!(r.stdout().contains("awaiting approval"), "{}", r.stdout());
    let r = run(plan, &["--yes"]);
    assert_eq!(r.code(), 0, "{}", r.stdout());
    assert!(r.path("shipped").exists());
    let ev = r.events();
    assert_eq!(find(&ev, "gate_approved", "review")[0]["by"], "--yes");
}

#[test]
fn record_files_are_complete() {
    let r = run(
        r#"
[plan]
name = "record"
[[session]]
name = "ok"
command = "printf '\\033[31mred\\033[0m text\\n'"
[[session]]
name = "nope"
command = "exit 2"
"#,
        &[],
    );
    assert_eq!(r.code(), 1);
    let rec = r.records();
    for f in [
        "events.jsonl",
        "report.json",
        "report.md",
        "junit.xml",
        "logs/ok.log",
    ] {
        assert!(rec.join(f).exists(), "{f} missing");
    }
    let report = r.report();
    assert_eq!(report["status"], "failed");
    assert_eq!(report["exit_code"], 1);
    let junit = std::fs::read_to_string(rec.join("junit.xml")).unwrap();
    assert!(junit.contains("<testcase classname=\"sessions\" name=\"nope\""));
    assert!(junit.contains("<failure"));
    // Headless output: prefixed, escape sequences removed.
    let out = r.stdout();
    let line = out.lines().find(|l| l.contains("red text")).unwrap();
    assert!(
        line.contains(" ok ") && line.ends_with("| red text"),
        "{line:?}"
    );
    assert!(!out.contains('\x1b'));
}

#[test]
fn the_demo_completes() {
    let dir = tempfile::tempdir().unwrap();
    let out = wait(
        spawn(dir.path(), &["demo", "--no-tui", "--dir", "demo"]),
        Duration::from_secs(120),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let rec = dir.path().join("demo/.flightdeck/runs/latest");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(rec.join("report.json")).unwrap()).unwrap();
    let verdicts: Vec<&str> = report["gates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["verdict"].as_str().unwrap())
        .collect();
    assert!(verdicts.contains(&"CONDITIONAL"), "{verdicts:?}");
    // One session fails its first attempt and succeeds on the automatic restart.
    assert!(
        report["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["attempts"] == 2 && s["state"] == "succeeded")
    );
    assert!(stdout.contains("restarting in"));
}

#[test]
fn activity_quiet_and_needs_input() {
    let r = run(
        r#"
[plan]
name = "activity"
[[session]]
name = "sleepy"
command = "echo hi; sleep 1.5; echo bye"
quiet_after = "400ms"
[[session]]
name = "asks"
command = "echo 'Do you want to proceed? [y/N]'; sleep 1"
attention = '\[y/N\]'
[[session]]
name = "rings"
command = "printf 'done\\a\\n'; sleep 1"
"#,
        &[],
    );
    assert_eq!(r.code(), 0);
    let ev = r.events();
    let acts = |s| -> Vec<String> {
        find(&ev, "session_activity", s)
            .iter()
            .map(|e| e["activity"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(
        acts("sleepy").contains(&"quiet".to_string()),
        "{:?}",
        acts("sleepy")
    );
    assert!(
        acts("asks").contains(&"needs-input".to_string()),
        "{:?}",
        acts("asks")
    );
    assert!(
        acts("rings").contains(&"needs-input".to_string()),
        "{:?}",
        acts("rings")
    );
    assert!(r.stdout().contains("asks needs input"));
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@t")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@t")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn worktree_sessions_run_on_their_own_branch() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    std::fs::write(dir.path().join("README"), "repo\n").unwrap();
    std::fs::write(dir.path().join(".gitignore"), ".flightdeck/\n").unwrap();
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "init"]);
    let plan = r#"
[plan]
name = "worktrees"
[[session]]
name = "media"
command = "git rev-parse --abbrev-ref HEAD > branch.txt; pwd > where.txt; cat README"
worktree = "feature/media"
[[dataset]]
name = "branch"
path = "branch.txt"
owner = "media"
checks = ["exists", "row_count = 1"]
"#;
    let r = run_in(dir, plan, &[]);
    assert_eq!(r.code(), 0, "{}{}", r.stdout(), r.stderr());
    let wt = r.path(".flightdeck/worktrees/media");
    assert_eq!(
        std::fs::read_to_string(wt.join("branch.txt")).unwrap(),
        "feature/media\n"
    );
    // The dataset was read inside the worktree.
    assert!(
        r.report()["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "pass")
    );
    // A second run reuses the worktree and its branch.
    let r = run_in(r.dir, plan, &[]);
    assert_eq!(r.code(), 0, "{}{}", r.stdout(), r.stderr());
}

const GATED: &str = r#"
[plan]
name = "gated"
[[session]]
name = "make"
command = "printf 'id,spend\n1,10\n2,20\n3,-5\n' > data.csv"
[[dataset]]
name = "data"
path = "data.csv"
owner = "make"
checks = ["row_count = 3", "CHECK"]
[[gate]]
name = "g"
after = ["make"]
datasets = ["data"]
ALLOW
[[session]]
name = "next"
command = "touch next.ran"
after = ["g"]
"#;

fn gated(check: &str, allow: bool) -> Run {
    let plan = GATED.replace("CHECK", check).replace(
        "ALLOW",
        if allow {
            "allow_conditional = true"
        } else {
            ""
        },
    );
    run(&plan, &[])
}

fn verdict(r: &Run) -> String {
    r.report()["gates"][0]["verdict"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn gate_pass_lets_dependents_start() {
    let r = gated("sum(spend) = 25", false);
    assert_eq!(r.code(), 0, "{}", r.stdout());
    assert_eq!(verdict(&r), "PASS");
    assert!(r.path("next.ran").exists());
}

#[test]
fn gate_fail_blocks_dependents_and_fails_the_run() {
    let r = gated("min(spend) >= 0", false);
    assert_eq!(r.code(), 1);
    assert_eq!(verdict(&r), "FAIL");
    assert!(!r.path("next.ran").exists());
    assert_eq!(r.session("next")["state"], "blocked");
    let failed = r.report()["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "min(spend) >= 0")
        .cloned()
        .unwrap();
    assert_eq!(failed["status"], "fail");
    assert_eq!(failed["value"], -5.0);
}

#[test]
fn gate_conditional_needs_allow_conditional() {
    let r = gated("warn: min(spend) >= 0", false);
    assert_eq!(verdict(&r), "CONDITIONAL");
    assert_eq!(r.code(), 1);
    assert!(!r.path("next.ran").exists());
    let r = gated("warn: min(spend) >= 0", true);
    assert_eq!(verdict(&r), "CONDITIONAL");
    assert_eq!(r.code(), 0, "{}", r.stdout());
    assert!(r.path("next.ran").exists());
}

#[test]
fn a_watched_file_rewritten_during_the_run_is_checked_again() {
    // The writer stays up: results while it runs are provisional, and each rewrite
    // of the file gives new check results without waiting for the session to end.
    let r = run(
        r#"
[plan]
name = "watch"
[[session]]
name = "writer"
command = """
mkdir -p out
printf 'n\n1\n' > out/rows.csv
until grep -q 'row_count = 1' .flightdeck/runs/latest/events.jsonl 2>/dev/null; do sleep 0.1; done
printf 'n\n1\n2\n3\n' > out/rows.csv
until grep -q 'row_count = 3' .flightdeck/runs/latest/events.jsonl 2>/dev/null; do sleep 0.1; done
"""
timeout = "30s"
[[dataset]]
name = "rows"
path = "out/rows.csv"
owner = "writer"
checks = ["row_count = 3"]
"#,
        &[],
    );
    assert_eq!(r.code(), 0, "{}", r.stdout());
    let ev = r.events();
    let values: Vec<f64> = ev
        .iter()
        .filter(|e| e["event"] == "check_result" && e["source"] == "rows")
        .filter_map(|e| e["value"].as_f64())
        .collect();
    assert!(values.contains(&1.0) && values.contains(&3.0), "{values:?}");
    assert!(
        ev.iter()
            .any(|e| e["event"] == "file_changed"
                && e["path"].as_str().unwrap().ends_with("rows.csv"))
    );
}

#[test]
fn done_when_then_stopped_keeps_its_gate_passed() {
    let dir = tempfile::tempdir().unwrap();
    // A done file from an earlier run must not end the new session at once.
    std::fs::write(dir.path().join("done"), "stale").unwrap();
    let old = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(dir.path().join("done"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    let t0 = Instant::now();
    let r = run_in(
        dir,
        r#"
[plan]
name = "done-gate"
[[session]]
name = "a"
command = "sleep 1; touch done; sleep 100"
done_when = { file = "done" }
[[dataset]]
name = "d"
path = "done"
owner = "a"
checks = ["exists"]
[[gate]]
name = "g"
after = ["a"]
datasets = ["d"]
[[session]]
name = "b"
after = ["g"]
command = "echo b"
"#,
        &[],
    );
    assert_eq!(r.code(), 0, "{}", r.stdout());
    assert_eq!(r.report()["gates"][0]["verdict"], "PASS");
    assert!(
        t0.elapsed() >= Duration::from_millis(900),
        "the stale file ended it"
    );
    assert_eq!(r.session("b")["state"], "succeeded");
}

#[test]
fn attention_sees_a_prompt_above_its_options_and_clears_once_answered() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("answer.txt"), "1\n").unwrap();
    let r = run_in(
        dir,
        r#"
[plan]
name = "dialog"
[[session]]
name = "agent"
command = "printf 'Do you want to proceed?\n  1. Yes\n  2. No\n'; read x; echo answered $x; sleep 1"
attention = 'Do you want'
input = "answer.txt"
input_delay = "1s"
"#,
        &[],
    );
    assert_eq!(r.code(), 0, "{}", r.stdout());
    let ev = r.events();
    let acts: Vec<&str> = find(&ev, "session_activity", "agent")
        .iter()
        .map(|e| e["activity"].as_str().unwrap())
        .collect();
    let asked = acts.iter().position(|a| *a == "needs-input");
    assert!(asked.is_some(), "{acts:?}");
    assert!(acts[asked.unwrap()..].contains(&"working"), "{acts:?}");
}

#[test]
fn resume_after_the_run_was_killed_uses_its_events() {
    let dir = tempfile::tempdir().unwrap();
    let plan = r#"
[plan]
name = "killed"
[[session]]
name = "first"
command = "echo x >> first.count"
[[session]]
name = "second"
command = "test -f fixed || (echo $$ > second.pid; exec sleep 1000)"
after = ["first"]
"#;
    write_plan(dir.path(), plan);
    let child = spawn(dir.path(), &["run", "plan.toml", "--no-tui"]);
    let pidfile = dir.path().join("second.pid");
    assert!(
        poll(Duration::from_secs(30), || std::fs::read_to_string(
            &pidfile
        )
        .is_ok_and(|s| s.ends_with('\n'))),
        "second never started"
    );
    // The server dies at once: no report, only the events written so far.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    // Wait for the process only: what it started may hold its output pipes a while.
    let mut child = child;
    assert!(poll(Duration::from_secs(10), || child
        .try_wait()
        .is_ok_and(|s| s.is_some())));
    let second: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The session leads its own process group; nothing else is left to stop it here.
    unsafe { libc::kill(-second, libc::SIGKILL) };
    let killed = dir.path().join(".flightdeck/runs/latest");
    assert!(!killed.join("report.json").exists());
    let killed_id = std::fs::read_link(&killed).unwrap();

    std::fs::write(dir.path().join("fixed"), "").unwrap();
    let r = run_in(dir, plan, &["--resume", "latest"]);
    assert_eq!(r.code(), 0, "{}{}", r.stdout(), r.stderr());
    assert_ne!(std::fs::read_link(r.records()).unwrap(), killed_id);
    assert_eq!(
        std::fs::read_to_string(r.path("first.count")).unwrap(),
        "x\n",
        "what succeeded is not run again"
    );
    let ev = r.events();
    assert!(find(&ev, "session_started", "first").is_empty());
    assert_eq!(find(&ev, "session_started", "second").len(), 1);
    assert_eq!(r.session("first")["state"], "succeeded");
    assert_eq!(r.session("second")["state"], "succeeded");
}

#[test]
fn a_manual_conditional_gate_that_does_not_allow_it_is_not_awaiting_approval() {
    // The engine never waits on such a gate, so headless must not say it does, and
    // the run fails (1) rather than stopping for approval (3).
    let plan = r#"
[plan]
name = "conditional"
[[session]]
name = "build"
command = "printf 'id\n1\n' > d.csv"
[[dataset]]
name = "d"
path = "d.csv"
owner = "build"
[[gate]]
name = "review"
after = ["build"]
datasets = ["d"]
checks = ["warn: d.row_count > 5"]
approval = "manual"
[[session]]
name = "ship"
command = "touch shipped"
after = ["review"]
"#;
    let r = run(plan, &[]);
    assert_eq!(r.code(), 1, "{}", r.stdout());
    assert!(
        r.stdout().contains("gate review: CONDITIONAL"),
        "{}",
        r.stdout()
    );
    assert!(!r.stdout().contains("awaiting approval"), "{}", r.stdout());
    assert!(!r.path("shipped").exists());
    assert_eq!(r.session("ship")["state"], "blocked");
}
