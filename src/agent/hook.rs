//! Hook payloads of agent CLIs, read into what flightdeck should hear.
//!
//! Claude Code runs each configured hook command through the shell with one JSON
//! object on stdin: common fields `session_id`, `transcript_path`, `cwd`,
//! `hook_event_name`, plus per event e.g. `message` and `notification_type`
//! (Notification), `source` (SessionStart), `reason` (SessionEnd). Source: the Claude
//! Code hooks reference, https://code.claude.com/docs/en/hooks ("Hook input").
//!
//! Codex runs its `notify` program with the JSON payload as the last argument:
//! `{"type": "agent-turn-complete", "thread-id", "turn-id", "cwd", "input-messages",
//! "last-assistant-message"}`. Source: Codex's docs/config.md, "notify".

use super::NotifyState;
use serde_json::Value;

/// What one payload asks flightdeck to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// The session's activity, with a message for the user.
    State {
        state: NotifyState,
        message: Option<String>,
    },
    /// The agent's own conversation id (to resume it on a restart).
    AgentSession { agent: &'static str, id: String },
}

/// Messages longer than this (characters) are shortened.
const MESSAGE_MAX: usize = 300;

fn shorten(text: &str) -> String {
    let text = text.trim();
    let mut s: String = text.chars().take(MESSAGE_MAX).collect();
    if text.chars().count() > MESSAGE_MAX {
        s.push('…');
    }
    s
}

fn object(payload: &str) -> Result<serde_json::Map<String, Value>, String> {
    match serde_json::from_str::<Value>(payload) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("the payload is not a JSON object".into()),
        Err(e) => Err(format!("the payload is not JSON: {e}")),
    }
}

fn text_field(map: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    map.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(shorten)
}

/// A Claude Code hook payload. Events flightdeck does not install hooks for give
/// no report (an empty list); a payload that is not a hook event is an error.
pub fn claude(payload: &str) -> Result<Vec<Report>, String> {
    let map = object(payload)?;
    let event = map
        .get("hook_event_name")
        .and_then(Value::as_str)
        .ok_or("the payload has no `hook_event_name`: not a Claude Code hook event")?;
    let state = |state, message| Report::State { state, message };
    Ok(match event {
        // "Claude is waiting for your input" after a finished turn is idleness, not
        // a question; permission and other notifications are.
        "Notification" => {
            let message = text_field(&map, "message");
            match map.get("notification_type").and_then(Value::as_str) {
                Some("idle_prompt") => vec![state(NotifyState::Idle, message)],
                _ => vec![state(NotifyState::NeedsInput, message)],
            }
        }
        "Stop" => vec![state(NotifyState::Idle, None)],
        "UserPromptSubmit" | "PreToolUse" | "PostToolUse" => {
            vec![state(NotifyState::Working, None)]
        }
        "SessionStart" => match text_field(&map, "session_id") {
            Some(id) => vec![Report::AgentSession {
                agent: "claude",
                id,
            }],
            None => return Err("SessionStart without a `session_id`".into()),
        },
        // The conversation is over: nothing more to wait for.
        "SessionEnd" => vec![state(
            NotifyState::Idle,
            Some(match text_field(&map, "reason") {
                Some(r) => format!("Claude Code session ended ({r})"),
                None => "Claude Code session ended".into(),
            }),
        )],
        _ => Vec::new(),
    })
}

/// A Codex notify payload.
pub fn codex(payload: &str) -> Result<Vec<Report>, String> {
    let map = object(payload)?;
    match map.get("type").and_then(Value::as_str) {
        Some("agent-turn-complete") => Ok(vec![Report::State {
            state: NotifyState::Idle,
            message: text_field(&map, "last-assistant-message"),
        }]),
        Some(other) => Err(format!("unknown Codex notification type `{other}`")),
        None => Err("the payload has no `type`: not a Codex notification".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(state: NotifyState, message: Option<&str>) -> Report {
        Report::State {
            state,
            message: message.map(str::to_string),
        }
    }

    #[test]
    fn claude_events() {
        let n = r#"{"session_id":"abc","transcript_path":"/t.jsonl","cwd":"/w","hook_event_name":"Notification","message":"Claude needs your permission to use Bash","notification_type":"permission_prompt"}"#;
        assert_eq!(
            claude(n).unwrap(),
            [state(
                NotifyState::NeedsInput,
                Some("Claude needs your permission to use Bash")
            )]
        );
        let idle = r#"{"hook_event_name":"Notification","message":"Claude is waiting for your input","notification_type":"idle_prompt"}"#;
        assert_eq!(
            claude(idle).unwrap(),
            [state(
                NotifyState::Idle,
                Some("Claude is waiting for your input")
            )]
        );
        assert_eq!(
            claude(r#"{"hook_event_name":"Stop","stop_hook_active":false}"#).unwrap(),
            [state(NotifyState::Idle, None)]
        );
        for e in ["UserPromptSubmit", "PreToolUse"] {
            let p = format!(r#"{{"hook_event_name":"{e}","session_id":"abc"}}"#);
            assert_eq!(claude(&p).unwrap(), [state(NotifyState::Working, None)]);
        }
        assert_eq!(
            claude(
                r#"{"hook_event_name":"SessionStart","session_id":"abc-123","source":"startup"}"#
            )
            .unwrap(),
            [Report::AgentSession {
                agent: "claude",
                id: "abc-123".into()
            }]
        );
        assert!(
            claude(r#"{"hook_event_name":"PreCompact"}"#)
                .unwrap()
                .is_empty()
        );
        assert!(claude("not json").is_err());
        assert!(claude(r#"{"type":"agent-turn-complete"}"#).is_err());
        assert!(claude(r#"{"hook_event_name":"SessionStart"}"#).is_err());
    }

    #[test]
    fn codex_payloads() {
        let p = r#"{"type":"agent-turn-complete","thread-id":"t","turn-id":"1","cwd":"/w","input-messages":["fix it"],"last-assistant-message":"Fixed the bug."}"#;
        assert_eq!(
            codex(p).unwrap(),
            [state(NotifyState::Idle, Some("Fixed the bug."))]
        );
        assert!(codex(r#"{"type":"something-else"}"#).is_err());
        assert!(codex("[1,2]").is_err());
    }
}
