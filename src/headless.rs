//! The headless frontend: session output and the control room's own lines on stdout.
//!
//! Every complete line a session writes is printed as `HH:MM:SS <session> | <line>`
//! (escape sequences removed, control characters dropped, session names padded to
//! the longest); the control room's lines as `HH:MM:SS flightdeck | <text>`. All
//! writes to stdout go through one lock, one buffer per chunk, so lines never
//! interleave mid-line and a flood costs one write per chunk.

use crate::ansi::{LineAssembler, Query};
use crate::checks::CheckStatus;
use crate::engine::{Activity, Event, Outcome, RunHandle, SessionState, Stamped};
use crate::gates::{self, Opening};
use crate::session::OutputSink;
use std::io::Write;
use std::sync::Mutex;

/// Serialises every write to stdout made here.
static STDOUT: Mutex<()> = Mutex::new(());

/// Session name colours, by session index (stable for a plan).
const PALETTE: [&str; 6] = ["36", "32", "33", "35", "34", "96"];
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// Whether headless output should be coloured: stdout is a terminal and `NO_COLOR`
/// is unset (or empty, per no-color.org).
pub fn use_color() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn timestamp() -> String {
    chrono::Local::now().format("%H:%M:%S").to_string()
}

fn write_out(out: &Output, buf: &[u8]) {
    if buf.is_empty() {
        return;
    }
    match out {
        Output::Stdout => {
            let _guard = STDOUT.lock().unwrap_or_else(|e| e.into_inner());
            let mut o = std::io::stdout().lock();
            // A closed stdout (e.g. `| head`) must not stop the run.
            let _ = o.write_all(buf).and_then(|_| o.flush());
        }
        Output::Writer(w) => {
            let mut w = w.lock().unwrap_or_else(|e| e.into_inner());
            let _ = w.write_all(buf).and_then(|_| w.flush());
        }
    }
}

/// Print one control-room line: `HH:MM:SS flightdeck | text` (one such line per line
/// of `text`), through the same lock as session output.
pub fn control_line(color: bool, text: &str) {
    let mut buf = Vec::new();
    format_control(&mut buf, color, &timestamp(), text);
    write_out(&Output::Stdout, &buf);
}

fn format_control(buf: &mut Vec<u8>, color: bool, ts: &str, text: &str) {
    for line in text.split('\n') {
        let line = line.trim_end_matches('\r');
        if color {
            let _ = writeln!(
                buf,
                "{DIM}{ts}{RESET} \x1b[1mflightdeck{RESET} {DIM}|{RESET} {line}"
            );
        } else {
            let _ = writeln!(buf, "{ts} flightdeck | {line}");
        }
    }
}

enum Output {
    Stdout,
    Writer(Mutex<Box<dyn Write + Send>>),
}

struct PerSession {
    asm: LineAssembler,
    buf: Vec<u8>,
}

/// The headless [`OutputSink`]: prints sessions' lines with a prefix; answers the
/// terminal queries agents block on when there is no screen.
pub struct HeadlessSink {
    /// Each name already padded to the longest.
    names: Vec<String>,
    color: bool,
    sessions: Vec<Mutex<PerSession>>,
    out: Output,
}

impl HeadlessSink {
    /// Print to stdout. `names` in plan order (the session index).
    pub fn new(names: Vec<String>, color: bool) -> Self {
        Self::build(names, color, Output::Stdout)
    }

    /// Print to `w` instead of stdout (tests, or a file).
    pub fn with_writer(names: Vec<String>, color: bool, w: Box<dyn Write + Send>) -> Self {
        Self::build(names, color, Output::Writer(Mutex::new(w)))
    }

    fn build(names: Vec<String>, color: bool, out: Output) -> Self {
        let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
        let sessions = names
            .iter()
            .map(|_| {
                Mutex::new(PerSession {
                    asm: LineAssembler::new(),
                    buf: Vec::new(),
                })
            })
            .collect();
        let names = names.iter().map(|n| format!("{n:<width$}")).collect();
        HeadlessSink {
            names,
            color,
            sessions,
            out,
        }
    }

    fn prefix(&self, session: usize, ts: &str) -> String {
        let name = &self.names[session];
        if self.color {
            let c = PALETTE[session % PALETTE.len()];
            format!("{DIM}{ts}{RESET} \x1b[{c}m{name}{RESET} {DIM}|{RESET} ")
        } else {
            format!("{ts} {name} | ")
        }
    }

    /// Print the session's unfinished last line, if any (when it exits).
    pub fn flush_partial(&self, session: usize) {
        let Some(per) = self.sessions.get(session) else {
            return;
        };
        let mut per = per.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(line) = per.asm.take_partial() {
            let mut buf = self.prefix(session, &timestamp()).into_bytes();
            buf.extend_from_slice(line.trim_end().as_bytes());
            buf.push(b'\n');
            write_out(&self.out, &buf);
        }
    }
}

impl OutputSink for HeadlessSink {
    fn started(&self, session: usize, _attempt: u32) {
        self.flush_partial(session);
        if let Some(per) = self.sessions.get(session) {
            per.lock().unwrap_or_else(|e| e.into_inner()).asm.reset();
        }
    }

    fn output(&self, session: usize, bytes: &[u8]) -> Vec<u8> {
        let Some(per) = self.sessions.get(session) else {
            return Vec::new();
        };
        let mut guard = per.lock().unwrap_or_else(|e| e.into_inner());
        let PerSession { asm, buf } = &mut *guard;
        asm.feed(bytes);
        buf.clear();
        if asm.line_count() > 0 {
            let prefix = self.prefix(session, &timestamp());
            for line in asm.lines() {
                buf.extend_from_slice(prefix.as_bytes());
                buf.extend_from_slice(line.trim_end().as_bytes());
                buf.push(b'\n');
            }
            write_out(&self.out, buf);
        }
        let mut answers = Vec::new();
        for q in asm.queries() {
            answers.extend_from_slice(match q {
                Query::CursorPosition => b"\x1b[1;1R",
                Query::PrimaryDeviceAttributes => b"\x1b[?6c",
            });
        }
        answers
    }
}

/// The text of the control-room line for an event, if it deserves one.
pub fn describe(handle: &RunHandle, event: &Event) -> Option<String> {
    Some(match event {
        Event::RunStarted { run_id, plan } => format!(
            "run {run_id} of `{plan}`: {} sessions; record in {}",
            handle.plan.sessions.len(),
            handle.run_dir.display()
        ),
        Event::SessionStarted {
            session,
            attempt,
            pid,
        } => format!("{session} started (attempt {attempt}, pid {pid})"),
        Event::SessionExited {
            session,
            exit_code,
            signal,
            duration_s,
            ..
        } => match (exit_code, signal) {
            (_, Some(sig)) => format!("{session} killed by {sig} after {duration_s:.1}s"),
            (Some(c), None) => format!("{session} exited with code {c} after {duration_s:.1}s"),
            (None, None) => format!("{session} could not start"),
        },
        Event::SessionRestarting {
            session,
            attempt,
            delay_s,
        } => format!("{session} restarting in {delay_s:.1}s (attempt {attempt})"),
        Event::SessionState { session, state } => match state {
            SessionState::Running | SessionState::Restarting | SessionState::Pending => {
                return None;
            }
            s => format!("{session} {}", s.as_str()),
        },
        Event::SessionActivity {
            session,
            activity,
            message,
            ..
        } => match (activity, message) {
            (Activity::NeedsInput, Some(m)) => format!("{session} needs input: {m}"),
            (Activity::NeedsInput, None) => format!("{session} needs input"),
            (Activity::Idle, Some(m)) => format!("{session} finished its turn: {m}"),
            (Activity::Idle, None) => format!("{session} finished its turn"),
            (Activity::Quiet, _) => format!("{session} has gone quiet"),
            (Activity::Working, _) => return None,
        },
        // Said when it changes; starting is said by `session_started`.
        Event::SessionWaiting {
            session,
            waiting_for,
        } if !waiting_for.is_empty() => format!("{session} waits for {}", waiting_for.join(", ")),
        Event::SessionWaiting { .. } => return None,
        Event::SessionTitle { .. } => return None,
        Event::ClientAttached { .. } | Event::ClientDetached { .. } => return None,
        Event::AgentSession { session, agent, id } => {
            format!("{session}: {agent} conversation {id}")
        }
        Event::LogTruncated {
            session,
            limit_bytes,
            ..
        } => format!(
            "{session}: log reached its limit ({limit_bytes} bytes); older output is left out"
        ),
        Event::NotifyFailed { for_event, message } => {
            format!("notify command ({for_event}) failed: {message}")
        }
        Event::FileChanged { path } => format!("changed {path}"),
        Event::CheckResult(r) => {
            let status = match r.status {
                CheckStatus::Pass => "pass",
                CheckStatus::Fail => "FAIL",
                CheckStatus::Error => "ERROR",
                CheckStatus::Pending => "pending",
            };
            let warn = if r.severity == crate::checks::Severity::Warn {
                " (warn)"
            } else {
                ""
            };
            let prov = if r.provisional { " (provisional)" } else { "" };
            format!("check {status}{warn}{prov} {}: {}", r.source, r.message)
        }
        Event::GateResult { gate, verdict } => {
            // A new verdict needs a new approval: ask the one rule what it means.
            let awaiting = handle.plan.gate_index(gate).is_some_and(|g| {
                gates::opening(&handle.plan.gates[g], *verdict, false) == Opening::AwaitingApproval
            });
            let v = verdict.as_str();
            if awaiting {
                format!("gate {gate}: {v} — awaiting approval")
            } else {
                format!("gate {gate}: {v}")
            }
        }
        Event::GateApproved { gate, by } => format!("gate {gate} approved by {by}"),
        Event::RunFinished {
            status,
            exit_code,
            duration_s,
        } => format!(
            "run {status} (exit {exit_code}) in {duration_s:.1}s; report: {}",
            handle.run_dir.join("report.md").display()
        ),
    })
}

/// Print control-room lines until the run finishes; returns how it ended.
pub fn run(mut handle: RunHandle, sink: &HeadlessSink, color: bool) -> Outcome {
    // An engine that stops without saying how the run ended has failed it.
    let mut outcome = Outcome::Failed;
    while let Some(Stamped { event, .. }) = handle.events.blocking_recv() {
        // A prompt waiting for an answer has no newline yet: show it now.
        let unfinished = match &event {
            Event::SessionExited { session, .. } => Some(session),
            Event::SessionActivity {
                session,
                activity: Activity::NeedsInput,
                ..
            } => Some(session),
            _ => None,
        };
        if let Some(i) = unfinished.and_then(|s| handle.plan.session_index(s)) {
            sink.flush_partial(i);
        }
        if let Some(text) = describe(&handle, &event) {
            control_line(color, &text);
        }
        if let Event::RunFinished { exit_code, .. } = event {
            outcome = Outcome::from_exit_code(exit_code);
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    /// Lines with the `HH:MM:SS ` timestamp checked and removed.
    fn strip_ts(text: &str) -> Vec<String> {
        text.lines()
            .map(|l| {
                let (ts, rest) = l.split_at(9);
                assert!(
                    ts.as_bytes()[2] == b':' && ts.as_bytes()[5] == b':' && ts.ends_with(' '),
                    "{l:?}"
                );
                rest.to_string()
            })
            .collect()
    }

    #[test]
    fn lines_are_prefixed_aligned_and_clean() {
        let out = Shared::default();
        let sink = HeadlessSink::with_writer(
            vec!["a".into(), "long-name".into()],
            false,
            Box::new(out.clone()),
        );
        assert!(sink.output(0, b"\x1b[32mhello\x1b[0m\r\nwor").is_empty());
        sink.output(1, b"x\ty  \n");
        sink.output(0, b"ld\n50%\r100%");
        sink.flush_partial(0);
        sink.flush_partial(1);
        assert_eq!(
            strip_ts(&out.text()),
            [
                "a         | hello",
                "long-name | x\ty",
                "a         | world",
                "a         | 100%"
            ]
        );
    }

    #[test]
    fn color_prefix() {
        let out = Shared::default();
        let sink = HeadlessSink::with_writer(vec!["s".into()], true, Box::new(out.clone()));
        sink.output(0, b"hi\n");
        let text = out.text();
        assert!(text.starts_with(DIM), "{text:?}");
        assert!(
            text.ends_with("\x1b[36ms\x1b[0m \x1b[2m|\x1b[0m hi\n"),
            "{text:?}"
        );
    }

    #[test]
    fn answers_terminal_queries() {
        let sink = HeadlessSink::with_writer(vec!["s".into()], false, Box::new(Shared::default()));
        assert_eq!(sink.output(0, b"\x1b[6n"), b"\x1b[1;1R");
        assert_eq!(sink.output(0, b"\x1b[c"), b"\x1b[?6c");
        assert_eq!(sink.output(0, b"\x1b["), b"");
        assert_eq!(sink.output(0, b"0c\x1b[6n"), b"\x1b[?6c\x1b[1;1R");
        assert!(sink.output(7, b"unknown session\n").is_empty());
    }

    #[test]
    fn control_lines_format() {
        let mut buf = Vec::new();
        format_control(&mut buf, false, "12:00:00", "gate g: PASS\nsecond");
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "12:00:00 flightdeck | gate g: PASS\n12:00:00 flightdeck | second\n"
        );
    }

    #[test]
    fn new_attempt_flushes_and_resets() {
        let out = Shared::default();
        let sink = HeadlessSink::with_writer(vec!["s".into()], false, Box::new(out.clone()));
        sink.output(0, b"half\x1b]0;unterminated");
        sink.started(0, 2);
        sink.output(0, b"fresh\n");
        assert_eq!(strip_ts(&out.text()), ["s | half", "s | fresh"]);
    }
}
