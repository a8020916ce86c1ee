//! Clients of a run's server (docs/protocol.md): finding the run (RUN is an id, a
//! unique prefix, `latest`, or nothing when one run is live), and the commands that
//! talk to it: `ls`, `ctl`, `events`, `logs`; `attach` is in [`attach`].

pub mod attach;

use crate::ansi::LineAssembler;
use crate::server::conn::VERSION;
use crate::server::dir;
use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Seek, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

/// A failure that is the user's to fix (exit 2): an unknown run, a bad verb.
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// A live run: its id and its socket.
pub struct Run {
    pub id: String,
    pub socket: PathBuf,
}

/// The live runs of this user, oldest first. Stale sockets are removed, saying so.
pub fn live_runs() -> Vec<String> {
    let dir = dir::socket_dir();
    if dir::secure_dir(&dir, false).is_err() {
        return Vec::new();
    }
    dir::live_runs(&dir, |sock| {
        eprintln!("flightdeck: removed {}: its server is gone", sock.display())
    })
}

/// Find the run that `run` names among the live ones.
pub fn resolve(run: Option<&str>) -> Result<Run> {
    let dir = dir::socket_dir();
    if let Err(e) = dir::secure_dir(&dir, false)
        && std::fs::symlink_metadata(&dir).is_ok()
    {
        return Err(e);
    }
    let live = live_runs();
    let listed = || {
        if live.is_empty() {
            "no run is live".to_string()
        } else {
            format!("live runs: {}", live.join(", "))
        }
    };
    let id = match run {
        None => match live.as_slice() {
            [one] => one.clone(),
            [] => return Err(Usage("no run is live".into()).into()),
            _ => {
                return Err(
                    Usage(format!("several runs are live; name one ({})", listed())).into(),
                );
            }
        },
        Some("latest") => live
            .last()
            .cloned()
            .ok_or_else(|| Usage("no run is live".into()))?,
        Some(name) => {
            let matching: Vec<&String> = live
                .iter()
                .filter(|id| id.as_str() == name || id.starts_with(name))
                .collect();
            match matching.as_slice() {
                _ if live.iter().any(|id| id == name) => name.to_string(),
                [one] => (*one).clone(),
                [] => return Err(Usage(format!("no live run `{name}` ({})", listed())).into()),
                _ => {
                    return Err(Usage(format!(
                        "`{name}` names several runs ({}); give more of the id",
                        matching
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                    .into());
                }
            }
        }
    };
    Ok(Run {
        socket: dir::socket_path(&dir, &id),
        id,
    })
}

/// One connection to a run's server.
pub struct Connection {
    writer: UnixStream,
    reader: BufReader<UnixStream>,
}

impl Connection {
    pub fn open(run: &Run) -> Result<Connection> {
        let stream = UnixStream::connect(&run.socket)
            .with_context(|| format!("cannot reach run {} ({})", run.id, run.socket.display()))?;
        Ok(Connection {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    /// Send one message (a request gets the protocol version added).
    pub fn send(&mut self, mut message: Value) -> Result<()> {
        if message.get("req").is_some() {
            message["flightdeck"] = json!(VERSION);
        }
        let mut line = message.to_string();
        line.push('\n');
        self.writer
            .write_all(line.as_bytes())
            .context("the run's server closed the connection")
    }

    /// The next message, or None at the end.
    pub fn receive(&mut self) -> Result<Option<Value>> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        Ok(Some(serde_json::from_str(&line).with_context(|| {
            format!("the server sent something that is not JSON: {line:?}")
        })?))
    }

    /// Send a request and read its reply; an `{"error"}` reply is an error.
    pub fn request(&mut self, message: Value) -> Result<Value> {
        self.send(message)?;
        let reply = self
            .receive()?
            .ok_or_else(|| anyhow!("the run's server closed the connection"))?;
        if let Some(e) = reply.get("error").and_then(Value::as_str) {
            return Err(Usage(e.to_string()).into());
        }
        Ok(reply)
    }

    pub fn into_parts(self) -> (UnixStream, BufReader<UnixStream>) {
        (self.writer, self.reader)
    }
}

pub fn info(run: &Run) -> Result<Value> {
    Connection::open(run)?.request(json!({ "req": "info" }))
}

/// `flightdeck ls`: the live runs, as a table or JSON.
pub fn ls(json_format: bool) -> Result<String> {
    let mut rows = Vec::new();
    for id in live_runs() {
        let run = Run {
            socket: dir::socket_path(&dir::socket_dir(), &id),
            id,
        };
        if let Ok(mut info) = info(&run)
            && let Some(obj) = info.as_object_mut()
        {
            obj.remove("ok");
            rows.push(info);
        }
    }
    if json_format {
        return Ok(format!("{}\n", serde_json::to_string_pretty(&rows)?));
    }
    let text = |v: &Value, k: &str| match &v[k] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let columns = ["id", "plan", "state", "clients", "pid", "started", "root"];
    let mut table: Vec<Vec<String>> = vec![columns.iter().map(|c| c.to_uppercase()).collect()];
    table.extend(
        rows.iter()
            .map(|r| columns.iter().map(|c| text(r, c)).collect()),
    );
    let widths: Vec<usize> = (0..columns.len())
        .map(|i| {
            table
                .iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in &table {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    Ok(out)
}

/// The `ctl` verbs, and whether each takes a session or gate name.
pub const VERBS: [(&str, bool); 9] = [
    ("start", true),
    ("stop", true),
    ("restart", true),
    ("skip", true),
    ("done", true),
    ("approve", true),
    ("recheck", false),
    ("input", true),
    ("quit", false),
];

/// `flightdeck ctl [RUN] VERB [NAME] [TEXT]`.
pub fn ctl(args: &[String]) -> Result<()> {
    let is_verb = |s: &str| VERBS.iter().any(|(v, _)| *v == s);
    let (run, rest) = match args {
        [first, rest @ ..] if is_verb(first) => (None, rest),
        [first, verb, rest @ ..] if is_verb(verb) => (Some(first.as_str()), rest),
        _ => {
            let verbs: Vec<&str> = VERBS.iter().map(|(v, _)| *v).collect();
            bail!(Usage(format!(
                "usage: flightdeck ctl [RUN] VERB [NAME] [TEXT] (verbs: {})",
                verbs.join(", ")
            )));
        }
    };
    let verb = if run.is_some() { &args[1] } else { &args[0] };
    let takes_name = VERBS.iter().any(|(v, n)| *v == verb.as_str() && *n);
    let (name, text) = match (takes_name, verb.as_str(), rest) {
        (false, _, []) => (None, None),
        (true, "input", [name, text]) => (Some(name), Some(text)),
        (true, v, [name]) if v != "input" => (Some(name), None),
        _ => {
            let what = match verb.as_str() {
                "input" => "SESSION TEXT",
                "approve" => "GATE",
                _ if takes_name => "SESSION",
                _ => "nothing more",
            };
            bail!(Usage(format!("`ctl {verb}` takes {what}")));
        }
    };
    let run = resolve(run)?;
    Connection::open(&run)?.request(json!({
        "req": "ctl", "verb": verb, "name": name, "text": text,
    }))?;
    Ok(())
}

/// `flightdeck events [RUN] [--follow]`: the run's events as JSON lines.
pub fn events(run: Option<&str>, follow: bool) -> Result<()> {
    let run = resolve(run)?;
    let mut conn = Connection::open(&run)?;
    conn.send(json!({ "req": "events", "follow": follow }))?;
    let (_writer, mut reader) = conn.into_parts();
    let mut out = std::io::stdout().lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        if line.starts_with(b"{\"error\"") {
            bail!(String::from_utf8_lossy(&line).trim().to_string());
        }
        if out.write_all(&line).and_then(|_| out.flush()).is_err() {
            // `| head`: the reader is gone, and so are we.
            return Ok(());
        }
    }
}

/// `flightdeck logs [RUN] SESSION [--follow] [--raw]`.
pub fn logs(run: Option<&str>, session: &str, follow: bool, raw: bool) -> Result<()> {
    let run = resolve(run)?;
    let info = info(&run)?;
    let run_dir = PathBuf::from(info["run_dir"].as_str().unwrap_or_default());
    let path = run_dir.join("logs").join(format!("{session}.log"));
    let mut file = loop {
        match std::fs::File::open(&path) {
            Ok(f) => break f,
            Err(_) if follow && dir::is_held(&dir::socket_dir(), &run.id) => {
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(_) => {
                let known: Vec<String> = std::fs::read_dir(run_dir.join("logs"))
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter_map(|e| {
                        e.file_name()
                            .to_str()?
                            .strip_suffix(".log")
                            .map(str::to_string)
                    })
                    .collect();
                bail!(Usage(format!(
                    "no log for `{session}` in run {} (logs so far: {})",
                    run.id,
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )));
            }
        }
    };
    let mut asm = LineAssembler::new();
    let mut out = std::io::stdout().lock();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n > 0 {
            let ok = if raw {
                out.write_all(&buf[..n])
            } else {
                asm.feed(&buf[..n]);
                let mut text = String::new();
                for l in asm.lines() {
                    text.push_str(l.trim_end());
                    text.push('\n');
                }
                out.write_all(text.as_bytes())
            };
            if ok.and_then(|_| out.flush()).is_err() {
                return Ok(());
            }
            continue;
        }
        // At the end of what is written so far.
        let live = dir::is_held(&dir::socket_dir(), &run.id)
            && self::info(&run).is_ok_and(|i| i["state"] == "running");
        if !follow || !live {
            // Whatever arrived meanwhile, then the last unfinished line.
            if follow {
                let pos = file.stream_position()?;
                if std::fs::metadata(&path).is_ok_and(|m| m.len() > pos) {
                    continue;
                }
            }
            if !raw && let Some(last) = asm.take_partial() {
                let _ = writeln!(out, "{}", last.trim_end());
            }
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
