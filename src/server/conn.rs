//! One connection to the server: JSON lines in, JSON lines out (docs/protocol.md,
//! "Messages"). Nothing a client sends can stop the run: bad input gets an error
//! reply, and the connection's writer never blocks anyone else ([`Outbox`]).

use super::Shared;
use super::hub::Outbox;
use crate::agent::NotifyState;
use crate::engine::Command;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The protocol this server speaks.
pub const VERSION: u64 = 1;

/// A request line longer than this is refused and the connection closed.
pub const MAX_LINE: usize = 1 << 20;

pub enum Line {
    Text(Vec<u8>),
    TooLong,
    End,
}

/// Read one `\n`-terminated line of at most `limit` bytes (without the newline).
pub fn read_line(reader: &mut impl BufRead, limit: usize) -> Line {
    let mut line = Vec::new();
    loop {
        let buf = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return Line::End,
        };
        if buf.is_empty() {
            return if line.is_empty() {
                Line::End
            } else {
                Line::Text(line)
            };
        }
        let (take, done) = match memchr::memchr(b'\n', buf) {
            Some(n) => (n, true),
            None => (buf.len(), false),
        };
        if line.len() + take > limit {
            return Line::TooLong;
        }
        line.extend_from_slice(&buf[..take]);
        reader.consume(if done { take + 1 } else { take });
        if done {
            return Line::Text(line);
        }
    }
}

/// Discard input up to the next newline (the rest of a line too long to keep), so
/// the error reply is not lost to a reset connection.
fn skip_line(reader: &mut impl BufRead) {
    loop {
        let (n, done) = match reader.fill_buf() {
            Ok([]) | Err(_) => return,
            Ok(buf) => match memchr::memchr(b'\n', buf) {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            },
        };
        reader.consume(n);
        if done {
            return;
        }
    }
}

fn text<'a>(request: &'a Value, key: &str) -> Option<&'a str> {
    request.get(key).and_then(Value::as_str)
}

fn error(msg: impl Into<String>) -> Value {
    json!({ "error": msg.into() })
}

/// Serve one connection until it ends.
pub fn handle(shared: Arc<Shared>, stream: UnixStream) {
    // Anyone but the user who started the run is refused before a byte is read.
    match super::dir::peer_uid(&stream) {
        Ok(uid) if uid == super::dir::uid() => {}
        _ => {
            let _ = stream.shutdown(std::net::Shutdown::Both);
            return;
        }
    }
    let Ok(outbox) = stream.try_clone().and_then(Outbox::start) else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let line = match read_line(&mut reader, MAX_LINE) {
            Line::Text(l) => l,
            Line::TooLong => {
                outbox.send_json(&error(format!(
                    "message longer than {MAX_LINE} bytes; closing the connection"
                )));
                skip_line(&mut reader);
                break;
            }
            Line::End => break,
        };
        let request = match serde_json::from_slice::<Value>(&line) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => {
                outbox.send_json(&error("a request is a JSON object"));
                continue;
            }
            Err(e) => {
                outbox.send_json(&error(format!("not JSON: {e}")));
                continue;
            }
        };
        match request.get("flightdeck").and_then(Value::as_u64) {
            Some(VERSION) => {}
            Some(v) => {
                outbox.send_json(&error(format!(
                    "protocol version {v} is not supported (this server speaks {VERSION})"
                )));
                continue;
            }
            None => {
                outbox.send_json(&error(format!(
                    "a request carries the protocol version, \"flightdeck\": {VERSION}"
                )));
                continue;
            }
        }
        match request.get("req").and_then(Value::as_str).unwrap_or("") {
            "info" => {
                outbox.send_json(&info(&shared));
            }
            "ctl" => {
                let reply = match ctl(
                    &shared,
                    text(&request, "verb").unwrap_or(""),
                    text(&request, "name"),
                    text(&request, "text"),
                ) {
                    Ok(()) => json!({ "ok": true }),
                    Err(e) => error(e),
                };
                outbox.send_json(&reply);
            }
            "events" => {
                let follow = request.get("follow").and_then(Value::as_bool) == Some(true);
                shared.streams.fetch_add(1, Ordering::AcqRel);
                events(&shared, &outbox, follow);
                outbox.finish_and_wait(Duration::from_secs(2));
                shared.streams.fetch_sub(1, Ordering::AcqRel);
                break;
            }
            "attach" => {
                let size = |k: &str| request.get(k).and_then(Value::as_u64).unwrap_or(0) as u16;
                let (cols, rows) = (size("cols").max(1), size("rows").max(1));
                let acks = request.get("acks").and_then(Value::as_bool) == Some(true);
                super::room::serve(&shared, &outbox, reader, cols, rows, acks);
                break;
            }
            "notify" | "agent_session" => {
                let reply = match report(&shared, &request) {
                    Ok(()) => json!({ "ok": true }),
                    Err(e) => error(e),
                };
                outbox.send_json(&reply);
            }
            other => {
                outbox.send_json(&error(format!("unknown request `{other}`")));
            }
        }
    }
    outbox.finish();
}

/// The `info` reply (also one row of `ls`).
pub fn info(shared: &Shared) -> Value {
    json!({
        "ok": true,
        "id": shared.run_id,
        "plan": shared.plan.name,
        "plan_file": shared.plan.file.display().to_string(),
        "root": shared.plan.root.display().to_string(),
        "run_dir": shared.run_dir.display().to_string(),
        "pid": std::process::id(),
        "started": shared.started,
        "state": if shared.finished().is_some() { "finished" } else { "running" },
        "clients": shared.client_count(),
    })
}

fn session(shared: &Shared, name: Option<&str>) -> Result<usize, String> {
    let name = name.ok_or("this verb needs a session name")?;
    shared.plan.session_index(name).ok_or_else(|| {
        let names: Vec<&str> = shared
            .plan
            .sessions
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        format!("unknown session `{name}` (sessions: {})", names.join(", "))
    })
}

/// Turn a `ctl` verb into an engine command (sessions and gates by name).
pub fn ctl(
    shared: &Shared,
    verb: &str,
    name: Option<&str>,
    text: Option<&str>,
) -> Result<(), String> {
    let command = match verb {
        "start" => Command::Start(session(shared, name)?),
        "stop" => Command::Stop(session(shared, name)?),
        "restart" => Command::Restart(session(shared, name)?),
        "skip" => Command::Skip(session(shared, name)?),
        "done" => Command::MarkDone(session(shared, name)?),
        "approve" => {
            let name = name.ok_or("approve needs a gate name")?;
            Command::Approve(shared.plan.gate_index(name).ok_or_else(|| {
                let names: Vec<&str> = shared.plan.gates.iter().map(|g| g.name.as_str()).collect();
                format!("unknown gate `{name}` (gates: {})", names.join(", "))
            })?)
        }
        "recheck" => Command::Recheck,
        "quit" => Command::Quit,
        "input" => {
            let i = session(shared, name)?;
            let text = text.ok_or("input needs the text to type")?;
            Command::Input(i, paste_bytes(shared, i, text))
        }
        "" => return Err("ctl needs a verb".into()),
        other => {
            return Err(format!(
                "unknown verb `{other}` (verbs: start, stop, restart, skip, done, approve, \
                 recheck, input, quit)"
            ));
        }
    };
    shared
        .commands
        .send(command)
        .map_err(|_| "the run has finished".to_string())
}

/// What a session says about itself (`flightdeck notify`, an agent's hook).
fn report(shared: &Shared, request: &Value) -> Result<(), String> {
    let session = session(shared, text(request, "session"))?;
    let command = if text(request, "req") == Some("notify") {
        let state = text(request, "state").unwrap_or("");
        let activity = NotifyState::parse(state).ok_or_else(|| {
            let states: Vec<&str> = NotifyState::ALL.iter().map(|s| s.as_str()).collect();
            format!("unknown state `{state}` (states: {})", states.join(", "))
        })?;
        Command::Notify {
            session,
            activity,
            message: text(request, "message").map(str::to_string),
        }
    } else {
        Command::AgentSession {
            session,
            agent: text(request, "agent")
                .ok_or("agent_session needs `agent`")?
                .into(),
            id: text(request, "id")
                .ok_or("agent_session needs `id`")?
                .into(),
        }
    };
    shared
        .commands
        .send(command)
        .map_err(|_| "the run has finished".to_string())
}

/// Text pasted into a session's terminal as the plan's `input` is: line ends as `\r`,
/// bracketed when the session asked for it, then Enter.
fn paste_bytes(shared: &Shared, session: usize, text: &str) -> Vec<u8> {
    let body = text.replace("\r\n", "\r").replace('\n', "\r");
    let bracketed =
        session < shared.screens.len() && shared.screens.pane(session).bracketed_paste();
    let mut out = if bracketed {
        format!("\x1b[200~{}\x1b[201~", body.replace("\x1b[201~", ""))
    } else {
        body
    };
    out.push('\r');
    out.into_bytes()
}

/// Every event so far, then (with `follow`) each new one until the run finishes.
fn events(shared: &Shared, outbox: &Outbox, follow: bool) {
    let (past, live) = shared.hub.subscribe();
    let mut finished = false;
    for r in past {
        finished |= r.finishes_run();
        if !outbox.send(format!("{}\n", r.line).into_bytes()) {
            return;
        }
    }
    if !follow || finished {
        return;
    }
    for r in live.iter() {
        if !outbox.send(format!("{}\n", r.line).into_bytes()) || r.finishes_run() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_limited() {
        let mut r = BufReader::with_capacity(4, &b"ab\ncdefgh\nij"[..]);
        assert!(matches!(read_line(&mut r, 5), Line::Text(l) if l == b"ab"));
        assert!(matches!(read_line(&mut r, 5), Line::TooLong));
        skip_line(&mut r);
        assert!(matches!(read_line(&mut r, 5), Line::Text(l) if l == b"ij"));
        assert!(matches!(read_line(&mut r, 5), Line::End));
    }
}
