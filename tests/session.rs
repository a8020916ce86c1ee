//! Sessions in real PTYs: exit statuses, environment, input, paste, resize, process
//! groups, escapees, notifications and a byte-exact flood.

use flightdeck::session::{
    DEFAULT_LOG_LIMIT, NullSink, OutputSink, SessionHandle, SessionIo, SpawnRequest,
    become_subreaper, kill_all_descendants, spawn,
};
use regex::Regex;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

const DEADLINE: Duration = Duration::from_secs(20);

struct Run {
    handle: SessionHandle,
    rx: UnboundedReceiver<SessionIo>,
    log: PathBuf,
    /// Everything received so far.
    events: Vec<SessionIo>,
    dir: tempfile::TempDir,
}

fn request(dir: &Path, argv: &[&str]) -> SpawnRequest {
    SpawnRequest {
        session: 0,
        attempt: 1,
        argv: argv.iter().map(|s| s.to_string()).collect(),
        cwd: dir.to_path_buf(),
        env: Vec::new(),
        rows: 24,
        cols: 80,
        log: dir.join("logs/s.log"),
        done_output: None,
        attention: None,
        prompts: Vec::new(),
        log_limit: DEFAULT_LOG_LIMIT,
    }
}

/// The log without the separator line that opens each attempt (docs/protocol.md):
/// what the session itself wrote.
fn without_separators(log: &[u8]) -> Vec<u8> {
    let text = log;
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    let start = "\r\n──── attempt ".as_bytes();
    while !rest.is_empty() {
        if rest.starts_with(start) {
            let end = rest[2..]
                .windows(2)
                .position(|w| w == b"\r\n")
                .expect("a separator ends its line");
            rest = &rest[2 + end + 2..];
            continue;
        }
        let next = rest[1..]
            .windows(start.len())
            .position(|w| w == start)
            .map_or(rest.len(), |p| p + 1);
        out.extend_from_slice(&rest[..next]);
        rest = &rest[next..];
    }
    out
}

fn start_with(
    argv: &[&str],
    sink: Arc<dyn OutputSink>,
    edit: impl FnOnce(&mut SpawnRequest, &Path),
) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let mut req = request(dir.path(), argv);
    edit(&mut req, dir.path());
    let log = req.log.clone();
    let (tx, rx) = unbounded_channel();
    let handle = spawn(req, tx, sink).expect("spawn");
    Run {
        handle,
        rx,
        log,
        events: Vec::new(),
        dir,
    }
}

fn sh(script: &str) -> Run {
    start_with(&["sh", "-c", script], Arc::new(NullSink), |_, _| {})
}

/// Poll `f` until it returns Some, or panic after `limit` naming `what`.
fn wait_until<T>(limit: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

impl Run {
    fn log_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    fn wait_log(&self, needle: &str) -> String {
        wait_until(DEADLINE, &format!("{needle:?} in the log"), || {
            let t = self.log_text();
            t.contains(needle).then_some(t)
        })
    }

    fn drain(&mut self) {
        while let Ok(e) = self.rx.try_recv() {
            self.events.push(e);
        }
    }

    /// Wait for an event matching `pred`; returns it.
    fn wait_event(&mut self, what: &str, pred: impl Fn(&SessionIo) -> bool) -> SessionIo {
        wait_until(DEADLINE, what, || {
            self.drain();
            self.events.iter().find(|e| pred(e)).cloned()
        })
    }

    fn wait_exit(&mut self) -> (Option<i32>, Option<String>) {
        match self.wait_event("exit", |e| matches!(e, SessionIo::Exited { .. })) {
            SessionIo::Exited {
                exit_code, signal, ..
            } => (exit_code, signal),
            _ => unreachable!(),
        }
    }

    /// The number after `label` in the log (e.g. `pid:1234`).
    fn wait_number(&self, label: &str) -> i32 {
        let text = self.wait_log(label);
        let rest = &text[text.find(label).unwrap() + label.len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().unwrap()
    }
}

/// Alive = exists and is not a zombie.
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat[stat.rfind(')').unwrap() + 2..].chars().next();
            !matches!(state, Some('Z') | Some('X'))
        }
        Err(_) => false,
    }
}

#[test]
fn exit_codes_and_signals() {
    assert_eq!(sh("exit 0").wait_exit(), (Some(0), None));
    assert_eq!(sh("echo bye; exit 3").wait_exit(), (Some(3), None));
    assert_eq!(sh("kill -9 $$").wait_exit(), (None, Some("SIGKILL".into())));
    assert_eq!(
        sh("kill -TERM $$").wait_exit(),
        (None, Some("SIGTERM".into()))
    );
    // A shell exiting with 137 is an exit code, not a signal.
    assert_eq!(sh("exit 137").wait_exit(), (Some(137), None));
}

#[test]
fn own_session_and_process_group() {
    let mut run = sh("read x");
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", run.handle.pid)).unwrap();
    let f: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let pid = run.handle.pid.to_string();
    assert_eq!((f[2], f[3]), (pid.as_str(), pid.as_str()), "pgid and sid");
    run.handle.write_input(b"\r").unwrap();
    assert_eq!(run.wait_exit(), (Some(0), None));
}

#[test]
fn environment_and_cwd() {
    let mut run = start_with(
        &[
            "sh",
            "-c",
            "echo \"S=$FLIGHTDECK_SESSION A=$FLIGHTDECK_ATTEMPT T=$TERM C=$COLORTERM X=${TMUX-unset} P=${TMUX_PANE-unset}\"; echo \"cwd=$(pwd -P)\"",
        ],
        Arc::new(NullSink),
        |req, dir| {
            std::fs::create_dir(dir.join("work")).unwrap();
            req.cwd = dir.join("work");
            req.env = vec![
                ("FLIGHTDECK_SESSION".into(), "gen".into()),
                ("FLIGHTDECK_ATTEMPT".into(), "1".into()),
            ];
        },
    );
    assert_eq!(run.wait_exit(), (Some(0), None));
    let text = run.log_text();
    assert!(
        text.contains("S=gen A=1 T=xterm-256color C=truecolor X=unset P=unset"),
        "{text}"
    );
    let cwd = run.dir.path().join("work").canonicalize().unwrap();
    assert!(text.contains(&format!("cwd={}", cwd.display())), "{text}");
}

#[test]
fn spawn_errors_and_relative_programs() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, _rx) = unbounded_channel();
    let missing = spawn(
        request(dir.path(), &["no-such-command-xyz"]),
        tx.clone(),
        Arc::new(NullSink),
    )
    .err()
    .expect("missing command is an error");
    assert_eq!(missing.kind(), std::io::ErrorKind::NotFound, "{missing}");
    assert!(
        missing.to_string().contains("no-such-command-xyz"),
        "{missing}"
    );

    let mut req = request(dir.path(), &["true"]);
    req.cwd = dir.path().join("nope");
    let e = spawn(req, tx.clone(), Arc::new(NullSink)).err().unwrap();
    assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    assert!(e.to_string().contains("nope"), "{e}");

    // `bin/tool` is relative to the cwd, as with execvp.
    let mut run = start_with(&["bin/tool", "arg"], Arc::new(NullSink), |_, dir| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir(dir.join("bin")).unwrap();
        let tool = dir.join("bin/tool");
        std::fs::write(&tool, "#!/bin/sh\necho tool:$1\n").unwrap();
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    });
    assert_eq!(run.wait_exit(), (Some(0), None));
    assert!(run.log_text().contains("tool:arg"));
}

#[test]
fn input_reaches_the_child() {
    let mut run = sh("echo ready; read line; echo got:$line");
    run.wait_log("ready");
    run.handle.write_input(b"hello there\r").unwrap();
    run.wait_log("got:hello there");
    assert_eq!(run.wait_exit(), (Some(0), None));
}

#[test]
fn paste_without_bracketed_mode_is_raw() {
    let mut run = sh("echo ready; read line; echo got:$line");
    run.wait_log("ready");
    assert!(!run.handle.bracketed_paste());
    run.handle.paste("pasted text\n").unwrap();
    run.wait_log("got:pasted text");
    assert_eq!(run.wait_exit(), (Some(0), None));
}

#[test]
fn paste_with_bracketed_mode_is_wrapped() {
    // Raw mode: the child sees exactly the bytes we write (15 of them).
    let mut run = sh(
        "stty raw -echo; printf '\\033[?2004hready\\n'; head -c 15 | od -An -tx1; printf '\\033[?2004l'; read x",
    );
    run.wait_log("ready");
    wait_until(DEADLINE, "bracketed paste on", || {
        run.handle.bracketed_paste().then_some(())
    });
    run.handle.paste("hi\n").unwrap();
    run.wait_log("1b 5b 32 30 30 7e 68 69 0d 1b 5b 32 30 31 7e");
    wait_until(DEADLINE, "bracketed paste off", || {
        (!run.handle.bracketed_paste()).then_some(())
    });
    run.handle.write_input(b"\n").unwrap(); // raw mode: no CR to NL
    assert_eq!(run.wait_exit(), (Some(0), None));
}

#[test]
fn resize_reaches_the_child() {
    let mut run = sh(
        "trap 'echo size:$(stty size); exit 0' WINCH; echo start:$(stty size); while :; do sleep 0.05; done",
    );
    run.wait_log("start:24 80");
    run.handle.resize(30, 100);
    run.wait_log("size:30 100");
    assert_eq!(run.wait_exit(), (Some(0), None));
}

#[test]
fn signal_group_reaches_grandchildren() {
    let mut run = sh("sleep 1000 & echo pid:$!; wait");
    let grandchild = run.wait_number("pid:");
    assert!(alive(grandchild));
    run.handle.signal_group(libc::SIGTERM);
    assert_eq!(run.wait_exit(), (None, Some("SIGTERM".into())));
    wait_until(DEADLINE, "grandchild gone", || {
        (!alive(grandchild)).then_some(())
    });
}

#[test]
fn bell_done_and_attention() {
    let mut run = start_with(
        &[
            "sh",
            "-c",
            "printf '\\033]0;title\\007working\\n'; printf 'ding\\007\\n'; printf 'Proceed? [y/N] '; read a; echo \"answer $a\"; echo ALL TASKS COMPLETE; read b",
        ],
        Arc::new(NullSink),
        |req, _| {
            req.done_output = Some(Regex::new("ALL TASKS COMPLETE").unwrap());
            req.attention = Some(Regex::new(r"\[y/N\]").unwrap());
        },
    );
    run.wait_event("attention on", |e| {
        matches!(e, SessionIo::Attention { prompt: Some(p), .. } if p.line == "Proceed? [y/N]" && !p.builtin)
    });
    run.handle.write_input(b"y\r").unwrap();
    run.wait_event("attention off", |e| {
        matches!(e, SessionIo::Attention { prompt: None, .. })
    });
    run.wait_event("done", |e| matches!(e, SessionIo::DoneMatched { .. }));
    run.handle.write_input(b"\r").unwrap();
    assert_eq!(run.wait_exit(), (Some(0), None));
    let bells = run
        .events
        .iter()
        .filter(|e| matches!(e, SessionIo::Bell { .. }))
        .count();
    assert_eq!(bells, 1, "the OSC's BEL is not a bell: {:?}", run.events);
    let kinds: Vec<String> = run
        .events
        .iter()
        .map(|e| match e {
            SessionIo::Attention { prompt, .. } => format!("Attention:{}", prompt.is_some()),
            e => format!("{e:?}")
                .split([' ', '{'])
                .next()
                .unwrap()
                .to_string(),
        })
        .collect();
    // Within one chunk the order of different kinds is not defined; across chunks it is.
    let pos = |k: &str| kinds.iter().position(|x| x == k).unwrap();
    assert_eq!(kinds.len(), 6, "{kinds:?}");
    assert!(pos("Bell") < pos("Attention:true"), "{kinds:?}");
    assert!(pos("Attention:true") < pos("Attention:false"), "{kinds:?}");
    assert!(pos("Attention:true") < pos("DoneMatched"), "{kinds:?}");
    assert_eq!(kinds[5], "Exited");
}

#[test]
fn exit_reported_while_a_grandchild_holds_the_terminal() {
    // (Ignoring SIGHUP, which the kernel sends the group when its leader exits.)
    let mut run = sh("trap '' HUP; sleep 1000 & echo pid:$!");
    let grandchild = run.wait_number("pid:");
    let t = Instant::now();
    assert_eq!(run.wait_exit(), (Some(0), None));
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(alive(grandchild));
    // The engine then stops the group.
    run.handle.signal_group(libc::SIGKILL);
    wait_until(DEADLINE, "grandchild gone", || {
        (!alive(grandchild)).then_some(())
    });
}

#[test]
fn headless_sink_answers_terminal_queries_in_a_real_pty() {
    #[derive(Clone, Default)]
    struct Shared(Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let out = Shared::default();
    let sink = Arc::new(flightdeck::headless::HeadlessSink::with_writer(
        vec!["agent".into(), "x".into()],
        false,
        Box::new(out.clone()),
    ));
    // The child asks for the cursor position and the device attributes, and prints
    // the answers it reads back (raw mode: exactly those bytes).
    let mut run = start_with(
        &[
            "sh",
            "-c",
            "stty raw -echo; printf '\\033[6n'; a=$(dd bs=1 count=6 2>/dev/null | od -An -tx1); printf '\\033[c'; b=$(dd bs=1 count=5 2>/dev/null | od -An -tx1); stty sane; echo \"cpr:$a\"; echo \"da:$b\"",
        ],
        sink.clone(),
        |_, _| {},
    );
    assert_eq!(run.wait_exit(), (Some(0), None));
    sink.flush_partial(0);
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("agent | cpr: 1b 5b 31 3b 31 52\n"), "{text}");
    assert!(text.contains("agent | da: 1b 5b 3f 36 63\n"), "{text}");
}

#[test]
fn sink_hears_started_before_any_output() {
    #[derive(Default)]
    struct Recorder(std::sync::Mutex<Vec<String>>);
    impl OutputSink for Recorder {
        fn started(&self, session: usize, attempt: u32) {
            self.0
                .lock()
                .unwrap()
                .push(format!("started {session} {attempt}"));
        }
        fn output(&self, _session: usize, _bytes: &[u8]) -> Vec<u8> {
            self.0.lock().unwrap().push("output".into());
            Vec::new()
        }
    }
    let rec = Arc::new(Recorder::default());
    let mut run = start_with(&["echo", "hi"], rec.clone(), |req, _| {
        req.session = 4;
        req.attempt = 2;
    });
    assert_eq!(run.wait_exit(), (Some(0), None));
    let seen = rec.0.lock().unwrap().clone();
    assert_eq!(seen[0], "started 4 2");
    assert!(
        seen[1..].iter().all(|s| s == "output") && seen.len() > 1,
        "{seen:?}"
    );
}

#[test]
fn handles_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<SessionHandle>();
    check::<flightdeck::headless::HeadlessSink>();
}

/// Counts the bytes handed to the sink.
struct CountingSink(AtomicU64);
impl OutputSink for CountingSink {
    fn output(&self, _session: usize, bytes: &[u8]) -> Vec<u8> {
        self.0.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Vec::new()
    }
}

#[test]
fn flood_arrives_byte_exact() {
    const SIZE: usize = 50_000_000;
    // Lines of pseudo-random text (xorshift), and every 64th line every byte value
    // in a pseudo-random order: binary, escapes, NULs, invalid UTF-8 included.
    // (Mostly text, like real output, keeps the unoptimised test build fast.)
    let mut data = Vec::with_capacity(SIZE + 8192);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut line = 0u64;
    while data.len() < SIZE {
        line += 1;
        if line.is_multiple_of(64) {
            for _ in 0..512 {
                data.extend_from_slice(&next().to_le_bytes());
            }
        } else {
            for _ in 0..100 {
                let r = next();
                data.extend((0..8).map(|i| b' ' + ((r >> (i * 8)) as u8 % 95)));
            }
            data.push(b'\n');
        }
    }
    data.truncate(SIZE);
    let sink = Arc::new(CountingSink(AtomicU64::new(0)));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("flood.bin");
    std::fs::write(&file, &data).unwrap();
    // `stty raw` (no output processing): the terminal passes every byte unchanged.
    let script = format!("stty raw -echo; cat '{}'", file.display());
    let mut run = start_with(&["sh", "-c", &script], sink.clone(), |_, _| {});
    let (code, signal) = wait_until(Duration::from_secs(300), "flood exit", || {
        run.drain();
        run.events.iter().find_map(|e| match e {
            SessionIo::Exited {
                exit_code, signal, ..
            } => Some((*exit_code, signal.clone())),
            _ => None,
        })
    });
    assert_eq!((code, signal), (Some(0), None));
    // Exited comes only after the reader drained everything: no waiting here.
    // The log opens with the attempt's separator line, then every byte as written.
    let log = std::fs::read(&run.log).unwrap();
    let sep_end = log[2..].windows(2).position(|w| w == b"\r\n").unwrap() + 4;
    assert!(log.starts_with("\r\n──── attempt 1 · started ".as_bytes()));
    let log = &log[sep_end..];
    assert_eq!(log.len(), SIZE);
    assert!(log == data, "log differs from the input");
    // The pane hears the separator too.
    assert_eq!(sink.0.load(Ordering::Relaxed), (sep_end + SIZE) as u64);
}

/// A coloured flood through a real PTY into a real pane: most of it is skimmed, yet
/// the bell, the title and the notification in its middle are all heard, the log has
/// every byte, and the pane ends as one fed every line in full.
#[test]
fn a_skimmed_flood_loses_nothing() {
    use flightdeck::tui::pane::Pane;
    use flightdeck::tui::screens::Screens;
    const LINES: usize = 30_000;
    let mut data = Vec::new();
    for i in 0..LINES {
        data.extend_from_slice(
            format!(
                "\x1b[2m{i:05}\x1b[0m \x1b[1;31mERROR\x1b[0m worker {} batch {i}\n",
                i % 7
            )
            .as_bytes(),
        );
        if i == LINES / 2 {
            data.extend_from_slice(b"\x07\x1b]2;flooding\x07\x1b]9;halfway there\x1b\\");
        }
    }
    // A short scrollback: the unoptimised build reads slower than a release one
    // catches up, so it is the backlog's length that makes it skim.
    const SCROLLBACK: usize = 100;
    let screens = Screens::new(&[(24, 80)], SCROLLBACK);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("flood.txt");
    std::fs::write(&file, &data).unwrap();
    let mut run = start_with(&["cat", file.to_str().unwrap()], screens.clone(), |_, _| {});
    // The terminal turns each LF into CR LF on the way.
    let crlf: Vec<u8> = data
        .iter()
        .flat_map(|&b| {
            if b == b'\n' {
                vec![b'\r', b'\n']
            } else {
                vec![b]
            }
        })
        .collect();
    // A starved reader may still be draining when the exit is reported (EXIT_QUIET):
    // wait for the last line in the log and on the pane.
    let last = format!(
        "{:05} ERROR worker {} batch {}",
        LINES - 1,
        (LINES - 1) % 7,
        LINES - 1
    );
    let log = wait_until(
        Duration::from_secs(300),
        "the whole flood in the log",
        || {
            let log = std::fs::read(&run.log).unwrap_or_default();
            (without_separators(&log).len() >= crlf.len()).then_some(log)
        },
    );
    wait_until(Duration::from_secs(60), "the last line on the pane", || {
        (screens.pane(0).row_text(22) == last).then_some(())
    });
    run.drain();
    assert!(
        run.events
            .iter()
            .any(|e| matches!(e, SessionIo::Bell { .. }))
    );
    assert!(
        run.events
            .iter()
            .any(|e| matches!(e, SessionIo::Title { title, .. } if title == "flooding"))
    );
    assert!(
        run.events
            .iter()
            .any(|e| matches!(e, SessionIo::Notification { text, .. } if text == "halfway there"))
    );
    let logged = without_separators(&log);
    let differs = logged.iter().zip(&crlf).position(|(a, b)| a != b);
    assert!(
        logged == crlf,
        "the log has {} bytes of {}, the first difference at {differs:?}",
        logged.len(),
        crlf.len()
    );
    let pane = screens.pane(0);
    assert!(
        pane.skimmed() > data.len() / 2,
        "skimmed {} of {} bytes",
        pane.skimmed(),
        data.len()
    );
    let mut plain = Pane::new(24, 80, SCROLLBACK);
    plain.new_attempt(1);
    for line in log.split_inclusive(|b| *b == b'\n') {
        plain.feed(line);
    }
    assert_eq!(pane.text_lines(), plain.text_lines());
    assert_eq!(pane.cursor(), plain.cursor());
    assert_eq!(
        pane.row_text(22),
        format!(
            "{:05} ERROR worker {} batch {}",
            LINES - 1,
            (LINES - 1) % 7,
            LINES - 1
        )
    );
}

#[test]
fn log_is_appended_across_attempts() {
    let dir = tempfile::tempdir().unwrap();
    for attempt in 1..=2 {
        let mut req = request(dir.path(), &["sh", "-c", "echo attempt:$A"]);
        req.attempt = attempt;
        req.env = vec![("A".into(), attempt.to_string())];
        let (tx, mut rx) = unbounded_channel();
        let _h = spawn(req, tx, Arc::new(NullSink)).unwrap();
        let a = wait_until(DEADLINE, "exit", || match rx.try_recv() {
            Ok(SessionIo::Exited { attempt: a, .. }) => Some(a),
            _ => None,
        });
        assert_eq!(a, attempt);
    }
    let log = std::fs::read(dir.path().join("logs/s.log")).unwrap();
    assert_eq!(without_separators(&log), b"attempt:1\r\nattempt:2\r\n");
    let text = String::from_utf8(log).unwrap();
    let seps =
        Regex::new(r"\r\n──── attempt (\d) · started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d ────\r\n")
            .unwrap();
    let attempts: Vec<&str> = seps
        .captures_iter(&text)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    assert_eq!(attempts, ["1", "2"], "{text:?}");
    assert!(text.find("attempt 2 ·").unwrap() > text.find("attempt:1").unwrap());
}

/// Runs `name` (an ignored test) alone in a fresh process of this test binary, with
/// `FD_ISOLATED=1` and `envs`: for what would disturb the other tests of this process.
fn run_isolated(name: &str, envs: &[(&str, &str)]) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("FD_ISOLATED", "1")
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success() && all.contains("1 passed"), "{all}");
}

#[test]
fn tmux_variables_are_removed() {
    run_isolated(
        "isolated_tmux_variables",
        &[("TMUX", "/tmp/tmux-0/default,1,0"), ("TMUX_PANE", "%1")],
    );
}

#[test]
#[ignore = "run by tmux_variables_are_removed in its own process"]
fn isolated_tmux_variables() {
    if std::env::var_os("FD_ISOLATED").is_none() {
        return;
    }
    assert!(std::env::var_os("TMUX").is_some());
    let mut run = sh("echo \"X=${TMUX-unset} P=${TMUX_PANE-unset}\"");
    assert_eq!(run.wait_exit(), (Some(0), None));
    assert!(
        run.log_text().contains("X=unset P=unset"),
        "{}",
        run.log_text()
    );
}

#[test]
fn kill_all_descendants_kills_escapees() {
    run_isolated("isolated_kill_all_descendants", &[]);
}

#[test]
#[ignore = "run by kill_all_descendants_kills_escapees in its own process"]
fn isolated_kill_all_descendants() {
    if std::env::var_os("FD_ISOLATED").is_none() {
        return;
    }
    become_subreaper();
    // Two processes leave the session's group with setsid; one ignores SIGTERM. They
    // keep the terminal open, so the exit is reported after the quiet grace.
    let mut run = sh("setsid sleep 1000 & echo pid1:$!; \
         setsid sh -c 'trap \"\" TERM; echo pid2:$$; while :; do sleep 1; done' & \
         sleep 0.2; echo launched");
    let p1 = run.wait_number("pid1:");
    let p2 = run.wait_number("pid2:");
    run.wait_log("launched");
    assert_eq!(run.wait_exit(), (Some(0), None));
    run.handle.signal_group(libc::SIGTERM);
    assert!(alive(p1) && alive(p2), "escapees are outside the group");
    let t = Instant::now();
    kill_all_descendants(Duration::from_millis(300));
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    for pid in [p1, p2] {
        // Gone and reaped (they had reparented to us).
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "{pid} still exists"
        );
    }
}

/// Throughput: `FD_BENCH_FILE=/path cargo test --release --test session bench -- --ignored --nocapture`.
/// Prints the median of 3 for NullSink, HeadlessSink (to /dev/null) and
/// `script -qc 'cat FILE' /dev/null > /dev/null`.
#[test]
#[ignore = "benchmark; needs FD_BENCH_FILE"]
fn bench_throughput() {
    let Some(file) = std::env::var_os("FD_BENCH_FILE") else {
        return;
    };
    let file = PathBuf::from(file);
    let size = std::fs::metadata(&file).unwrap().len();
    let cat = format!("cat '{}'", file.display());
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let through_log = |sink: Arc<dyn OutputSink>, devnull_log: bool| -> f64 {
        let t = Instant::now();
        let mut run = start_with(&["sh", "-c", &cat], sink, |req, _| {
            if devnull_log {
                req.log = PathBuf::from("/dev/null");
            }
        });
        assert_eq!(
            wait_until(Duration::from_secs(600), "exit", || {
                run.drain();
                run.events.iter().find_map(|e| match e {
                    SessionIo::Exited { exit_code, .. } => Some(*exit_code),
                    _ => None,
                })
            }),
            Some(0)
        );
        let secs = t.elapsed().as_secs_f64();
        assert!(devnull_log || std::fs::metadata(&run.log).unwrap().len() >= size);
        secs
    };
    let through = |sink: Arc<dyn OutputSink>| through_log(sink, false);
    let script = || -> f64 {
        let t = Instant::now();
        let st = std::process::Command::new("script")
            .args(["-qc", &cat, "/dev/null"])
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
        t.elapsed().as_secs_f64()
    };
    // Interleaved, so that load from elsewhere hits all three alike.
    let (mut null, mut headless, mut scripted) = (Vec::new(), Vec::new(), Vec::new());
    let (mut null_cpu, mut headless_cpu) = (Vec::new(), Vec::new());
    let (mut nolog, mut nolog_cpu) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let c = self_cpu();
        nolog.push(through_log(Arc::new(NullSink), true));
        nolog_cpu.push(self_cpu() - c);
        let c = self_cpu();
        null.push(through(Arc::new(NullSink)));
        null_cpu.push(self_cpu() - c);
        let devnull = std::fs::File::create("/dev/null").unwrap();
        let sink = flightdeck::headless::HeadlessSink::with_writer(
            vec!["bench".into()],
            false,
            Box::new(devnull),
        );
        let c = self_cpu();
        headless.push(through(Arc::new(sink)));
        headless_cpu.push(self_cpu() - c);
        scripted.push(script());
    }
    let chunks = Arc::new(ChunkStats::default());
    through(chunks.clone());
    let mb = size as f64 / 1e6;
    for (name, v) in [
        ("NullSink", null),
        ("HeadlessSink", headless),
        ("NullSink, log to /dev/null", nolog),
        ("script", scripted),
    ] {
        let m = median(v.clone());
        println!(
            "{name:>26}: median {m:.2}s ({:.0} MB/s) runs {v:.2?}",
            mb / m
        );
    }
    println!(
        "our CPU (all threads of this process) median: NullSink {:.2}s, HeadlessSink {:.2}s, NullSink without log {:.2}s",
        median(null_cpu),
        median(headless_cpu),
        median(nolog_cpu)
    );
    let (n, b) = (
        chunks.calls.load(Ordering::Relaxed),
        chunks.bytes.load(Ordering::Relaxed),
    );
    println!("chunks: {n}, average {} bytes", b / n.max(1));
}

/// CPU time (user + system) of this process so far, in seconds.
fn self_cpu() -> f64 {
    // SAFETY: getrusage fills the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(ru.ru_utime) + t(ru.ru_stime)
}

#[derive(Default)]
struct ChunkStats {
    calls: AtomicU64,
    bytes: AtomicU64,
}
impl OutputSink for ChunkStats {
    fn output(&self, _session: usize, bytes: &[u8]) -> Vec<u8> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Vec::new()
    }
}

#[test]
fn log_limit_keeps_the_beginning_and_the_newest_bytes() {
    const LIMIT: u64 = 256 * 1024;
    // 4 MB of numbered lines, far past the limit.
    let mut run = start_with(
        &[
            "sh",
            "-c",
            "i=0; while [ $i -lt 80000 ]; do echo \"line $i of the flood\"; i=$((i+1)); done; echo LAST LINE",
        ],
        Arc::new(NullSink),
        |req, _| req.log_limit = LIMIT,
    );
    assert_eq!(run.wait_exit(), (Some(0), None));
    let truncations = run
        .events
        .iter()
        .filter(|e| matches!(e, SessionIo::LogTruncated { limit: LIMIT, .. }))
        .count();
    assert_eq!(
        truncations,
        1,
        "one event per attempt: {:?}",
        run.events.len()
    );
    let log = std::fs::read(&run.log).unwrap();
    assert!(log.len() as u64 <= LIMIT, "{} bytes", log.len());
    let text = String::from_utf8_lossy(&log);
    assert!(
        text.contains("line 0 of the flood\r\nline 1 of the flood"),
        "beginning kept"
    );
    assert!(
        text.ends_with("line 79999 of the flood\r\nLAST LINE\r\n"),
        "newest kept"
    );
    assert_eq!(text.matches("[flightdeck] log_limit reached").count(), 1);
}

#[test]
fn desktop_notifications_titles_and_agent_prompts() {
    let script = concat!(
        "printf '\\033]2;my task\\033\\\\'; ",
        "printf '\\033]9;4;1;40\\007'; ",
        "echo 'I will proceed with the plan'; ",
        "printf '\\033]9;Build needs you\\007'; ",
        "printf '\\033]777;notify;Codex;Approve the edit?\\007'; ",
        "printf '\\033]99;i=1:d=0;Kitty\\033\\\\\\033]99;i=1:p=body;asks\\033\\\\'; ",
        "printf '\\342\\224\\202 Do you want to proceed?\\r\\n\\342\\235\\257 1. Yes\\r\\n'; read a"
    );
    let re = Regex::new(r"Do you want to proceed\?").unwrap();
    let mut run = start_with(&["sh", "-c", script], Arc::new(NullSink), |req, _| {
        req.prompts = vec![re];
    });
    run.wait_event("the prompt", |e| {
        matches!(e, SessionIo::Attention { prompt: Some(p), .. } if p.builtin && p.line == "Do you want to proceed?")
    });
    run.handle.write_input(b"\r").unwrap();
    assert_eq!(run.wait_exit(), (Some(0), None));
    let texts: Vec<&str> = run
        .events
        .iter()
        .filter_map(|e| match e {
            SessionIo::Notification { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        texts,
        ["Build needs you", "Codex: Approve the edit?", "Kitty: asks"]
    );
    assert!(
        run.events
            .iter()
            .any(|e| matches!(e, SessionIo::Title { title, .. } if title == "my task"))
    );
    let prompts = run
        .events
        .iter()
        .filter(|e| {
            matches!(
                e,
                SessionIo::Attention {
                    prompt: Some(_),
                    ..
                }
            )
        })
        .count();
    assert_eq!(prompts, 1, "\"proceed\" in ordinary output is no prompt");
}
