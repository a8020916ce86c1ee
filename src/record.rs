//! The run record (docs/record.md): `<root>/<records>/<RUN_ID>/` with `events.jsonl`,
//! `logs/<session>.log`, `report.json`, `report.md`, `junit.xml`, and `latest`.

use crate::checks::{CheckResult, CheckStatus, Measured, Severity};
use crate::engine::Event;
use crate::gates::Verdict;
use anyhow::{Context, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A new run directory with its `logs/` and an open `events.jsonl`.
pub struct Recorder {
    pub run_id: String,
    pub dir: PathBuf,
    events: File,
}

impl Recorder {
    /// Create `<records>/<RUN_ID>/` and point `latest` at it. RUN_ID is the start
    /// time (so ids sort by it) and a random suffix: the run's socket is named by
    /// its id, and runs of other projects may start in the same second.
    pub fn create(records: &Path) -> Result<Recorder> {
        fs::create_dir_all(records)
            .with_context(|| format!("cannot create records directory {}", records.display()))?;
        let time = chrono::Local::now().format("%Y%m%d-%H%M%S").to_string();
        // create_dir fails if the id is taken: draw again.
        let mut tries = 0;
        let (run_id, dir) = loop {
            let id = format!("{time}-{:06x}", fastrand::u32(..1 << 24));
            let dir = records.join(&id);
            match fs::create_dir(&dir) {
                Ok(()) => break (id, dir),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && tries < 100 => {
                    tries += 1
                }
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("cannot create run directory {}", dir.display()));
                }
            }
        };
        fs::create_dir(dir.join("logs"))
            .with_context(|| format!("cannot create {}", dir.join("logs").display()))?;
        let events = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("events.jsonl"))
            .with_context(|| format!("cannot write {}", dir.join("events.jsonl").display()))?;
        let latest = records.join("latest");
        let _ = fs::remove_file(&latest);
        std::os::unix::fs::symlink(&run_id, &latest)
            .with_context(|| format!("cannot update {}", latest.display()))?;
        Ok(Recorder {
            run_id,
            dir,
            events,
        })
    }

    pub fn log_path(&self, session: &str) -> PathBuf {
        self.dir.join("logs").join(format!("{session}.log"))
    }

    /// Append one event as one line; written at once so the file stays valid up
    /// to its last line whatever happens next.
    pub fn event(&mut self, ts: DateTime<Utc>, event: &Event) {
        let mut text = event_line(ts, event);
        text.push('\n');
        let _ = self.events.write_all(text.as_bytes());
    }
}

/// One event as `events.jsonl` has it (without the newline): its fields and `ts`.
/// `flightdeck events` sends the same text.
pub fn event_line(ts: DateTime<Utc>, event: &Event) -> String {
    let mut line = serde_json::Map::new();
    line.insert(
        "ts".into(),
        ts.to_rfc3339_opts(SecondsFormat::Millis, true).into(),
    );
    if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(event) {
        line.extend(fields);
    }
    serde_json::Value::Object(line).to_string()
}

/// Resolve `latest`, a run id or a unique prefix of one to a run directory: one with
/// a `report.json`, or at least an `events.jsonl` (a run whose server was killed).
pub fn find_run(records: &Path, id: &str) -> Result<PathBuf> {
    let is_record =
        |dir: &Path| dir.join("report.json").is_file() || dir.join("events.jsonl").is_file();
    let dir = records.join(id);
    if is_record(&dir) {
        return Ok(dir);
    }
    // A unique prefix of a run id (ids end in a random suffix, nobody types it all).
    let mut matching: Vec<String> = fs::read_dir(records)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| !id.is_empty() && name != "latest" && name.starts_with(id))
        .filter(|name| is_record(&records.join(name)))
        .collect();
    matching.sort();
    match matching.as_slice() {
        [one] => Ok(records.join(one)),
        [] => anyhow::bail!(
            "no run record `{id}` (a report.json or events.jsonl) under {}",
            records.display()
        ),
        several => anyhow::bail!(
            "`{id}` names several run records under {} ({}); give more of the id",
            records.display(),
            several.join(", ")
        ),
    }
}

/// The sessions that succeeded in an earlier run, for `--resume`: from its
/// `report.json`, or, when it has none (its server was killed), from the last
/// `session_state` of each session in its `events.jsonl`.
pub fn succeeded_sessions(dir: &Path) -> Result<Vec<String>> {
    if dir.join("report.json").is_file() {
        return Ok(read_past(dir)?
            .sessions
            .into_iter()
            .filter(|s| s.state == "succeeded")
            .map(|s| s.name)
            .collect());
    }
    let path = dir.join("events.jsonl");
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(succeeded_in_events(&text))
}

/// Sessions whose last `session_state` in these `events.jsonl` lines is
/// `succeeded`, in the order they first appear. A line that is not a JSON object
/// (a torn last line) is left out.
pub fn succeeded_in_events(text: &str) -> Vec<String> {
    let mut last: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if value["event"] != "session_state" {
            continue;
        }
        let (Some(session), Some(state)) = (value["session"].as_str(), value["state"].as_str())
        else {
            continue;
        };
        match last.iter_mut().find(|(name, _)| name == session) {
            Some(entry) => entry.1 = state.to_string(),
            None => last.push((session.to_string(), state.to_string())),
        }
    }
    last.into_iter()
        .filter(|(_, state)| state == "succeeded")
        .map(|(name, _)| name)
        .collect()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionReport {
    pub name: String,
    pub state: String,
    pub exit_code: Option<i32>,
    pub attempts: u32,
    pub duration_s: f64,
    pub log: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GateReport {
    pub name: String,
    pub verdict: String,
    pub approved: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub run_id: String,
    pub plan: String,
    pub status: String,
    pub exit_code: i32,
    pub started: String,
    pub finished: String,
    pub sessions: Vec<SessionReport>,
    pub checks: Vec<CheckResult>,
    pub gates: Vec<GateReport>,
}

/// What `--resume` needs from an earlier report.
#[derive(Debug, Deserialize)]
pub struct PastReport {
    pub sessions: Vec<SessionReport>,
}

pub fn read_past(dir: &Path) -> Result<PastReport> {
    let path = dir.join("report.json");
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a run report", path.display()))
}

pub fn write_reports(dir: &Path, report: &Report) -> Result<()> {
    let json = serde_json::to_string_pretty(report)?;
    fs::write(dir.join("report.json"), json + "\n")?;
    fs::write(dir.join("report.md"), markdown(report))?;
    fs::write(dir.join("junit.xml"), junit(report))?;
    Ok(())
}

pub fn measured_text(m: &Measured) -> String {
    match m {
        Measured::Number(n) => format_number(*n),
        Measured::Text(t) => t.clone(),
        Measured::Null => "-".into(),
    }
}

fn status_word(s: CheckStatus) -> &'static str {
    match s {
        CheckStatus::Pass => "pass",
        CheckStatus::Fail => "FAIL",
        CheckStatus::Error => "ERROR",
        CheckStatus::Pending => "pending",
    }
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn markdown(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# flightdeck run {} — {}\n", r.run_id, r.plan);
    let _ = writeln!(
        s,
        "**Status: {}** (exit {}) · started {} · finished {}\n",
        r.status, r.exit_code, r.started, r.finished
    );
    let _ = writeln!(s, "## Sessions\n");
    let _ = writeln!(s, "| session | state | exit | attempts | duration | log |");
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for x in &r.sessions {
        let exit = x
            .exit_code
            .map(|c| c.to_string())
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.1}s | {} |",
            x.name, x.state, exit, x.attempts, x.duration_s, x.log
        );
    }
    if !r.gates.is_empty() {
        let _ = writeln!(s, "\n## Gates\n");
        let _ = writeln!(s, "| gate | verdict | approved |");
        let _ = writeln!(s, "|---|---|---|");
        for g in &r.gates {
            let _ = writeln!(
                s,
                "| {} | {} | {} |",
                g.name,
                g.verdict,
                if g.approved { "yes" } else { "-" }
            );
        }
    }
    if !r.checks.is_empty() {
        let _ = writeln!(s, "\n## Checks\n");
        let _ = writeln!(
            s,
            "| source | check | status | value | expected | message |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|");
        for c in &r.checks {
            let sev = if c.severity == Severity::Warn {
                " (warn)"
            } else {
                ""
            };
            let _ = writeln!(
                s,
                "| {} | `{}` | {}{} | {} | {} | {} |",
                md_cell(&c.source),
                md_cell(&c.check),
                status_word(c.status),
                sev,
                md_cell(&measured_text(&c.value)),
                md_cell(&c.expected.to_string()),
                md_cell(&c.message)
            );
        }
    }
    s
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

pub fn junit(r: &Report) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let session_fail = r
        .sessions
        .iter()
        .filter(|x| !matches!(x.state.as_str(), "succeeded" | "skipped"))
        .count();
    let check_fail = r
        .checks
        .iter()
        .filter(|c| c.status != CheckStatus::Pass)
        .count();
    let _ = writeln!(
        s,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\">",
        xml_escape(&r.plan),
        r.sessions.len() + r.checks.len(),
        session_fail + check_fail
    );
    let _ = writeln!(
        s,
        "  <testsuite name=\"sessions\" tests=\"{}\" failures=\"{}\">",
        r.sessions.len(),
        session_fail
    );
    for x in &r.sessions {
        let _ = write!(
            s,
            "    <testcase classname=\"sessions\" name=\"{}\" time=\"{:.3}\"",
            xml_escape(&x.name),
            x.duration_s
        );
        match x.state.as_str() {
            "succeeded" => s.push_str("/>\n"),
            "skipped" => s.push_str("><skipped/></testcase>\n"),
            other => {
                let _ = writeln!(
                    s,
                    "><failure message=\"{}\">exit {:?}, {} attempt(s), log {}</failure></testcase>",
                    xml_escape(other),
                    x.exit_code,
                    x.attempts,
                    xml_escape(&x.log)
                );
            }
        }
    }
    s.push_str("  </testsuite>\n");
    let _ = writeln!(
        s,
        "  <testsuite name=\"checks\" tests=\"{}\" failures=\"{}\">",
        r.checks.len(),
        check_fail
    );
    for c in &r.checks {
        let _ = write!(
            s,
            "    <testcase classname=\"{}\" name=\"{}\"",
            xml_escape(&c.source),
            xml_escape(&c.check)
        );
        match (c.status, c.severity) {
            (CheckStatus::Pass, _) => s.push_str("/>\n"),
            (CheckStatus::Pending, _) => s.push_str("><skipped message=\"pending\"/></testcase>\n"),
            (st, sev) => {
                let tag = if st == CheckStatus::Error {
                    "error"
                } else {
                    "failure"
                };
                let _ = writeln!(
                    s,
                    "><{tag} message=\"{}{}\">{}</{tag}></testcase>",
                    if sev == Severity::Warn { "warn: " } else { "" },
                    xml_escape(&c.message),
                    xml_escape(&format!(
                        "value {}, expected {}",
                        measured_text(&c.value),
                        c.expected
                    ))
                );
            }
        }
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}

impl GateReport {
    pub fn new(name: &str, verdict: Verdict, approved: bool) -> Self {
        GateReport {
            name: name.to_string(),
            verdict: verdict.as_str().to_string(),
            approved,
        }
    }
}

/// `1987412.5` → `1,987,412.50`; integers without decimals.
pub fn format_number(n: f64) -> String {
    if !n.is_finite() {
        return n.to_string();
    }
    let neg = n < 0.0;
    let a = n.abs();
    let (int, frac) = if a.fract() == 0.0 && a < 1e15 {
        (format!("{a:.0}"), String::new())
    } else {
        let t = format!("{a:.2}");
        let (i, f) = t.split_once('.').unwrap_or((&t, ""));
        (i.to_string(), format!(".{f}"))
    };
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{}{out}{frac}", if neg { "-" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn succeeded_sessions_come_from_the_last_state_of_each() {
        let text = r#"{"ts":"t","event":"run_started","run_id":"r","plan":"p"}
{"ts":"t","event":"session_state","session":"a","state":"running"}
{"ts":"t","event":"session_state","session":"b","state":"running"}
{"ts":"t","event":"session_state","session":"a","state":"succeeded"}
{"ts":"t","event":"session_state","session":"c","state":"succeeded"}
{"ts":"t","event":"session_state","session":"c","state":"running"}
{"ts":"t","event":"session_state","session":"b","sta"#;
        assert_eq!(succeeded_in_events(text), ["a"]);
    }

    #[test]
    fn a_killed_run_is_found_by_its_events() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("20260101-000000");
        fs::create_dir(&run).unwrap();
        assert!(find_run(dir.path(), "20260101-000000").is_err());
        fs::write(
            run.join("events.jsonl"),
            "{\"event\":\"session_state\",\"session\":\"x\",\"state\":\"succeeded\"}\n",
        )
        .unwrap();
        let found = find_run(dir.path(), "20260101-000000").unwrap();
        assert_eq!(succeeded_sessions(&found).unwrap(), ["x"]);
    }

    #[test]
    fn a_run_is_found_by_a_unique_prefix_of_its_id() {
        let dir = tempfile::tempdir().unwrap();
        for id in ["20260101-000000-aaaaaa", "20260101-000000-bbbbbb"] {
            fs::create_dir(dir.path().join(id)).unwrap();
            fs::write(dir.path().join(id).join("events.jsonl"), "").unwrap();
        }
        let found = find_run(dir.path(), "20260101-000000-a").unwrap();
        assert!(found.ends_with("20260101-000000-aaaaaa"));
        let e = find_run(dir.path(), "20260101").unwrap_err().to_string();
        assert!(e.contains("several run records"), "{e}");
        assert!(find_run(dir.path(), "1999").is_err());
    }
}
