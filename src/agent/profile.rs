//! Agent profiles (`agent = "claude" | "codex"`): what flightdeck adds to a session
//! that runs an agent CLI.
//!
//! - Claude Code: hook settings in a file of the run (hooks call this binary, by its
//!   absolute path, as `notify --hook claude`), named in `FLIGHTDECK_AGENT_SETTINGS`
//!   and passed as `--settings FILE` when the session's program is `claude`; Claude
//!   merges that file with the user's own settings, which are never touched. A known
//!   conversation id is continued with `--resume ID` (and named in
//!   `FLIGHTDECK_AGENT_RESUME` for wrappers).
//! - Codex: `-c notify=[...]` (Codex runs that program with its JSON payload as the
//!   last argument).
//!
//! Each brings its CLI's built-in prompts, matched on screen as a second signal.
//! Claude Code's permission dialog ("Do you want to proceed?", "❯ 1. Yes", "No, and
//! tell Claude what to do differently") and folder trust question ("Do you trust the
//! files in this folder?"); Codex's approval overlay ("Would you like to run the
//! following command?", "Would you like to make the following edits?", "Press enter to
//! confirm or esc to cancel", "No, and tell Codex what to do differently") and its
//! `[y/N]` questions. Sources: screens of both CLIs as quoted by agent runners that
//! match them (agent-deck, claude-squad) and Codex's `tui/src/bottom_pane/approval_overlay.rs`.

use crate::plan::AgentKind;
use regex::Regex;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const CLAUDE_PROMPTS: &[&str] = &[
    r"Do you want to proceed\?",
    r"Do you want to make this edit to",
    r"Would you like to proceed\?",
    r"❯ 1\. Yes",
    r"No, and tell Claude what to do differently",
    r"Do you trust the files in this folder\?",
];

const CODEX_PROMPTS: &[&str] = &[
    r"Would you like to run the following command\?",
    r"Would you like to make the following edits\?",
    r"Would you like to grant these permissions\?",
    r"(?i)Press enter to confirm or esc to cancel",
    r"No, and tell Codex what to do differently",
    r"\[y/N\]",
];

/// The built-in prompts of `agent`'s CLI.
pub fn prompts(agent: AgentKind) -> Vec<Regex> {
    static CLAUDE: OnceLock<Vec<Regex>> = OnceLock::new();
    static CODEX: OnceLock<Vec<Regex>> = OnceLock::new();
    let compile = |list: &[&str]| {
        list.iter()
            .map(|p| Regex::new(p).expect("built-in prompt"))
            .collect()
    };
    match agent {
        AgentKind::None => Vec::new(),
        AgentKind::Claude => CLAUDE.get_or_init(|| compile(CLAUDE_PROMPTS)).clone(),
        AgentKind::Codex => CODEX.get_or_init(|| compile(CODEX_PROMPTS)).clone(),
    }
}

/// The Claude Code hook events flightdeck listens to.
const CLAUDE_HOOKS: &[&str] = &[
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "Notification",
    "Stop",
    "SessionEnd",
];

/// Quote for `sh` (hook commands run through the shell).
fn quote(s: &str) -> String {
    shlex::try_quote(s)
        .map(|q| q.into_owned())
        .unwrap_or_else(|_| format!("'{}'", s.replace('\0', "")))
}

/// Claude Code settings whose hooks report to this run through `exe`.
pub fn claude_settings(exe: &Path) -> serde_json::Value {
    let command = format!("{} notify --hook claude", quote(&exe.display().to_string()));
    let mut hooks = serde_json::Map::new();
    for event in CLAUDE_HOOKS {
        let mut group = json!({ "hooks": [{ "type": "command", "command": command }] });
        // Tool events match on tool names: every tool.
        if *event == "PreToolUse" {
            group["matcher"] = json!("*");
        }
        hooks.insert(event.to_string(), json!([group]));
    }
    json!({ "hooks": hooks })
}

/// What one attempt of an agent session runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
}

/// Where `agent`'s settings for `session` go in the run directory.
pub fn settings_path(run_dir: &Path, session: &str) -> PathBuf {
    run_dir
        .join("agents")
        .join(format!("{session}.claude-settings.json"))
}

/// Prepare `argv` (as the plan's command gives it: `[shell.., "-c", string]` for a
/// string command, `shell_form`) for `agent`: write its settings file, add its
/// arguments when the program is that agent's CLI. `resume` is the agent's
/// conversation id to continue, if known.
pub fn prepare(
    agent: AgentKind,
    argv: Vec<String>,
    shell_form: bool,
    run_dir: &Path,
    session: &str,
    exe: &Path,
    resume: Option<&str>,
) -> std::io::Result<Prepared> {
    let mut env = Vec::new();
    let extra: Vec<String> = match agent {
        AgentKind::None => return Ok(Prepared { argv, env }),
        AgentKind::Claude => {
            let path = settings_path(run_dir, session);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let text = serde_json::to_string_pretty(&claude_settings(exe))?;
            std::fs::write(&path, text + "\n")?;
            let path = path.display().to_string();
            env.push(("FLIGHTDECK_AGENT_SETTINGS".to_string(), path.clone()));
            let mut extra = vec!["--settings".to_string(), path];
            if let Some(id) = resume {
                extra.extend(["--resume".to_string(), id.to_string()]);
                // For a wrapper script that starts claude itself.
                env.push(("FLIGHTDECK_AGENT_RESUME".to_string(), id.to_string()));
            }
            extra
        }
        AgentKind::Codex => {
            let program: Vec<String> = [&exe.display().to_string(), "notify", "--hook", "codex"]
                .iter()
                .map(|s| serde_json::to_string(s).unwrap_or_default())
                .collect();
            vec!["-c".to_string(), format!("notify=[{}]", program.join(","))]
        }
    };
    let cli = match agent {
        AgentKind::Claude => "claude",
        _ => "codex",
    };
    let argv = if shell_form {
        let mut argv = argv;
        if let Some(command) = argv.last_mut()
            && let Some(edited) = insert_after_program(command, cli, &extra)
        {
            *command = edited;
        }
        argv
    } else if argv.first().is_some_and(|p| is_program(p, cli)) {
        let mut out = vec![argv[0].clone()];
        out.extend(extra);
        out.extend(argv.into_iter().skip(1));
        out
    } else {
        argv
    };
    Ok(Prepared { argv, env })
}

/// The agent conversations a run recorded (`agent_session` events in its
/// `events.jsonl`): session name to the last id. Unreadable lines are skipped.
pub fn past_conversations(run_dir: &Path) -> std::collections::HashMap<String, String> {
    let mut out = std::collections::HashMap::new();
    let Ok(text) = std::fs::read_to_string(run_dir.join("events.jsonl")) else {
        return out;
    };
    for line in text.lines().filter(|l| l.contains("\"agent_session\"")) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if v["event"] == "agent_session"
            && let (Some(session), Some(id)) = (v["session"].as_str(), v["id"].as_str())
        {
            out.insert(session.to_string(), id.to_string());
        }
    }
    out
}

/// `claude` or a path ending in `/claude`.
fn is_program(word: &str, cli: &str) -> bool {
    word == cli || word.ends_with(&format!("/{cli}"))
}

/// In a shell command whose program is `cli` (after any `VAR=value` words and
/// `exec`), insert `extra` (quoted) after the program. None if it is not `cli`.
fn insert_after_program(command: &str, cli: &str, extra: &[String]) -> Option<String> {
    let mut offset = command.len() - command.trim_start().len();
    loop {
        let rest = &command[offset..];
        let word_len = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..word_len];
        if word.is_empty() {
            return None;
        }
        let is_assignment = word.split_once('=').is_some_and(|(k, _)| {
            !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        if is_assignment || word == "exec" {
            let after = &rest[word_len..];
            offset += word_len + (after.len() - after.trim_start().len());
            continue;
        }
        if !is_program(word, cli) {
            return None;
        }
        let at = offset + word_len;
        let quoted: Vec<String> = extra.iter().map(|e| quote(e)).collect();
        return Some(format!(
            "{} {}{}",
            &command[..at],
            quoted.join(" "),
            &command[at..]
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prep(agent: AgentKind, argv: &[&str], shell: bool, resume: Option<&str>) -> Prepared {
        let dir = tempfile::tempdir().unwrap();
        let p = prepare(
            agent,
            argv.iter().map(|s| s.to_string()).collect(),
            shell,
            Path::new("/run/x"),
            "s",
            Path::new("/opt/fd/flightdeck"),
            resume,
        );
        drop(dir);
        p.unwrap()
    }

    #[test]
    fn claude_gets_settings_and_resume_in_both_command_forms() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path();
        let exe = Path::new("/opt/fd/flightdeck");
        let p = prepare(
            AgentKind::Claude,
            vec!["claude".into(), "-p".into()],
            false,
            run,
            "s",
            exe,
            Some("id-1"),
        )
        .unwrap();
        let file = settings_path(run, "s").display().to_string();
        assert_eq!(
            p.argv,
            ["claude", "--settings", &file, "--resume", "id-1", "-p"]
        );
        assert_eq!(
            p.env,
            [
                ("FLIGHTDECK_AGENT_SETTINGS".to_string(), file.clone()),
                ("FLIGHTDECK_AGENT_RESUME".to_string(), "id-1".to_string())
            ]
        );
        let settings: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(
            settings["hooks"]["Notification"][0]["hooks"][0]["command"],
            "/opt/fd/flightdeck notify --hook claude"
        );
        let shell = vec![
            "sh".into(),
            "-c".into(),
            "FOO=1 exec claude --model x".into(),
        ];
        let p = prepare(AgentKind::Claude, shell, true, run, "s", exe, None).unwrap();
        assert_eq!(
            p.argv[2],
            format!("FOO=1 exec claude --settings {file} --model x")
        );
        // Another program: only the environment names the settings.
        let p = prepare(
            AgentKind::Claude,
            vec!["sh".into(), "-c".into(), "./agent.sh".into()],
            true,
            run,
            "s",
            exe,
            None,
        )
        .unwrap();
        assert_eq!(p.argv[2], "./agent.sh");
        assert_eq!(p.env.len(), 1);
    }

    #[test]
    fn codex_gets_its_notify_program() {
        let p = prep(
            AgentKind::Codex,
            &["/usr/bin/codex", "--full-auto"],
            false,
            None,
        );
        assert_eq!(
            p.argv,
            [
                "/usr/bin/codex",
                "-c",
                r#"notify=["/opt/fd/flightdeck","notify","--hook","codex"]"#,
                "--full-auto"
            ]
        );
        let p = prep(AgentKind::None, &["claude"], false, None);
        assert_eq!(p.argv, ["claude"]);
    }

    #[test]
    fn builtin_prompts() {
        let matches = |agent, text: &str| prompts(agent).iter().any(|re| re.is_match(text));
        assert!(matches(AgentKind::Claude, " Do you want to proceed?"));
        assert!(matches(AgentKind::Claude, "❯ 1. Yes"));
        assert!(!matches(AgentKind::Claude, "I will proceed with the edit"));
        assert!(matches(
            AgentKind::Codex,
            "  Press enter to confirm or esc to cancel"
        ));
        assert!(matches(AgentKind::Codex, "Overwrite? [y/N]"));
        assert!(!matches(AgentKind::None, "Do you want to proceed?"));
    }
}
