//! `flightdeck notify`: run inside a session, it tells the run's server what the
//! session is doing, over the socket named by `FLIGHTDECK_SOCKET` (docs/protocol.md:
//! `notify` and `agent_session` requests, one JSON line each, one reply line).

use super::NotifyState;
use super::hook::{self, Report};
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// Which agent CLI's hook payload to read (`--hook`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookKind {
    Claude,
    Codex,
}

/// Hooks must not hold their agent up: give up on a silent server after this.
const REPLY_TIMEOUT: Duration = Duration::from_secs(3);

/// A payload on stdin larger than this is not a hook payload.
const PAYLOAD_MAX: u64 = 1 << 20;

/// How `notify` ended: its exit status and what to print on stderr.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub code: u8,
    pub message: Option<String>,
}

impl Outcome {
    fn ok() -> Outcome {
        Outcome {
            code: 0,
            message: None,
        }
    }
    fn fail(code: u8, message: impl Into<String>) -> Outcome {
        Outcome {
            code,
            message: Some(message.into()),
        }
    }
}

/// Run `flightdeck notify`. `args` are the positional arguments: `STATE [MESSAGE...]`,
/// or with `--hook codex` the payload (Codex passes it as the last argument).
/// `stdin` is read only for hooks that need it.
///
/// Exit statuses: 0 recorded; 1 the server refused or could not be reached, or the
/// hook payload was not understood; 2 usage (outside a session, unknown state).
/// With `--hook`, never 2: Claude Code treats a hook's exit 2 as "block this tool".
pub fn run(args: &[String], hook: Option<HookKind>, stdin: &mut dyn Read) -> Outcome {
    let usage = if hook.is_some() { 1 } else { 2 };
    let (socket, session) = match (
        std::env::var("FLIGHTDECK_SOCKET"),
        std::env::var("FLIGHTDECK_SESSION"),
    ) {
        (Ok(socket), Ok(session)) if !socket.is_empty() && !session.is_empty() => (socket, session),
        _ => {
            return Outcome::fail(
                usage,
                "not inside a flightdeck session (FLIGHTDECK_SOCKET and FLIGHTDECK_SESSION \
                 are not set): `flightdeck notify` is for commands that a flightdeck run started",
            );
        }
    };
    let reports = match hook {
        None => {
            let Some(state) = args.first() else {
                return Outcome::fail(
                    usage,
                    "usage: flightdeck notify needs-input|working|idle|done [MESSAGE]",
                );
            };
            let Some(state) = NotifyState::parse(state) else {
                return Outcome::fail(
                    usage,
                    format!(
                        "unknown state `{state}` (expected needs-input, working, idle or done)"
                    ),
                );
            };
            let message = args[1..].join(" ");
            vec![Report::State {
                state,
                message: (!message.trim().is_empty()).then_some(message),
            }]
        }
        Some(kind) => {
            let payload = match (kind, args.last()) {
                (HookKind::Codex, Some(arg)) => arg.clone(),
                _ => {
                    let mut text = String::new();
                    if let Err(e) = stdin.take(PAYLOAD_MAX).read_to_string(&mut text) {
                        return Outcome::fail(1, format!("cannot read the hook payload: {e}"));
                    }
                    text
                }
            };
            let read = match kind {
                HookKind::Claude => hook::claude(&payload),
                HookKind::Codex => hook::codex(&payload),
            };
            match read {
                Ok(r) => r,
                Err(e) => return Outcome::fail(1, format!("--hook {}: {e}", kind.name())),
            }
        }
    };
    for report in reports {
        let request = request(&session, &report);
        if let Err(e) = send(Path::new(&socket), &request) {
            return Outcome::fail(1, e);
        }
    }
    Outcome::ok()
}

impl HookKind {
    pub fn name(self) -> &'static str {
        match self {
            HookKind::Claude => "claude",
            HookKind::Codex => "codex",
        }
    }
}

/// The protocol request for one report.
pub fn request(session: &str, report: &Report) -> serde_json::Value {
    match report {
        Report::State { state, message } => json!({
            "flightdeck": 1,
            "req": "notify",
            "session": session,
            "state": state.as_str(),
            "message": message,
        }),
        Report::AgentSession { agent, id } => json!({
            "flightdeck": 1,
            "req": "agent_session",
            "session": session,
            "agent": agent,
            "id": id,
        }),
    }
}

/// Send one request line and read the reply line.
fn send(socket: &Path, request: &serde_json::Value) -> Result<(), String> {
    let unreachable = |e: std::io::Error| {
        format!(
            "cannot reach the run at {} ({e}); has it finished?",
            socket.display()
        )
    };
    let mut stream = UnixStream::connect(socket).map_err(unreachable)?;
    stream
        .set_read_timeout(Some(REPLY_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(REPLY_TIMEOUT)))
        .map_err(unreachable)?;
    let mut line = request.to_string();
    line.push('\n');
    stream.write_all(line.as_bytes()).map_err(unreachable)?;
    let mut reply = String::new();
    BufReader::new(&stream)
        .read_line(&mut reply)
        .map_err(|e| format!("no answer from the run at {}: {e}", socket.display()))?;
    let reply: serde_json::Value = serde_json::from_str(reply.trim())
        .map_err(|_| format!("the run answered something unexpected: {}", reply.trim()))?;
    if reply.get("ok").and_then(serde_json::Value::as_bool) == Some(true) {
        return Ok(());
    }
    match reply.get("error").and_then(serde_json::Value::as_str) {
        Some(e) => Err(format!("the run refused: {e}")),
        None => Err(format!("the run answered something unexpected: {reply}")),
    }
}
