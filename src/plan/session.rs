//! `[[session]]` and `[defaults]`: what to run, where, and how to restart, stop and
//! watch it.

use super::graph::{Edge, Names};
use super::reader::{Reader, Table, Value};
use super::{AgentKind, CommandSpec, DoneWhen, PlanError, RestartPolicy, SessionSpec};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;
use toml::de::DeValue;

pub(super) const SESSION_KEYS: &[&str] = &[
    "name",
    "command",
    "cwd",
    "env",
    "after",
    "phase",
    "restart",
    "max_restarts",
    "backoff",
    "timeout",
    "stop_grace",
    "input",
    "input_delay",
    "done_when",
    "keep_running",
    "outputs",
    "worktree",
    "attention",
    "quiet_after",
    "on_success",
    "agent",
];
const DONE_WHEN_KEYS: &[&str] = &["output", "file"];

impl Reader<'_> {
    /// Every `[[session]]`, its values falling back on `[defaults]`. `names` are the
    /// sessions' names in order; `after` entries add to `edges`.
    pub(super) fn sessions(
        &self,
        tables: &[Table],
        defaults: Option<Table>,
        names: &[String],
        all: &Names,
        root: &Path,
        edges: &mut Vec<Edge>,
    ) -> Result<Vec<SessionSpec>, PlanError> {
        if let Some(d) = defaults {
            // A bad default is reported even when every session overrides it.
            let mut scratch = Vec::new();
            self.session(0, d, None, "defaults", all, root, &mut scratch, true)?;
        }
        let mut sessions = Vec::new();
        let mut branches: HashMap<String, String> = HashMap::new();
        for (i, t) in tables.iter().enumerate() {
            let s = self.session(i, *t, defaults, &names[i], all, root, edges, false)?;
            if let Some(b) = &s.worktree {
                if let Some(other) = branches.get(b) {
                    let v = t
                        .get("worktree")
                        .or_else(|| defaults.and_then(|d| d.get("worktree")));
                    return Err(self.err(
                        v.map(|v| v.span().start).unwrap_or(t.start),
                        format!(
                            "session `{}`: branch `{b}` is already the worktree of session `{other}` (git checks a branch out in one worktree only)",
                            s.name
                        ),
                    ));
                }
                branches.insert(b.clone(), s.name.clone());
            }
            sessions.push(s);
        }
        Ok(sessions)
    }

    #[allow(clippy::too_many_arguments)]
    fn session(
        &self,
        index: usize,
        t: Table,
        defaults: Option<Table>,
        name: &str,
        names: &Names,
        root: &Path,
        edges: &mut Vec<Edge>,
        defaults_only: bool,
    ) -> Result<SessionSpec, PlanError> {
        // `defaults_only`: check the [defaults] table on its own, so that a bad default
        // is reported even when every session overrides it.
        let own = if defaults_only {
            "[defaults]".to_string()
        } else {
            format!("session `{name}`")
        };
        let from_defaults = format!("[defaults] (for session `{name}`)");
        // The session's own value, else the default; `what` says which.
        let get = |key: &str| -> Option<(&Value, &str)> {
            t.get(key).map(|v| (v, own.as_str())).or_else(|| {
                defaults
                    .and_then(|d| d.get(key))
                    .map(|v| (v, from_defaults.as_str()))
            })
        };

        let command = match get("command") {
            Some((v, what)) => {
                match v.get_ref() {
                    DeValue::String(_) => {
                        let s = self.string(v, "command", what)?;
                        if s.text.trim().is_empty() {
                            return Err(
                                self.err(v.span().start, format!("`command` in {what} is empty"))
                            );
                        }
                        CommandSpec::Shell(s.text)
                    }
                    DeValue::Array(_) => {
                        let argv: Vec<String> = self
                            .strings(v, "command", what)?
                            .into_iter()
                            .map(|s| s.text)
                            .collect();
                        if argv.first().is_none_or(|a| a.is_empty()) {
                            return Err(self.err(
                            v.span().start,
                            format!("`command` in {what} is empty (an array needs the program first)"),
                        ));
                        }
                        CommandSpec::Argv(argv)
                    }
                    other => {
                        return Err(self.type_err(
                            v,
                            "command",
                            what,
                            "a string or an array of strings",
                            other,
                        ));
                    }
                }
            }
            None if defaults_only => CommandSpec::Argv(Vec::new()),
            None => {
                return Err(self.err(t.start, format!("{own} is missing required key `command`")));
            }
        };

        let worktree = match get("worktree") {
            Some((v, what)) => {
                let s = self.string(v, "worktree", what)?;
                let b = &s.text;
                if b.is_empty()
                    || b.starts_with('-')
                    || b.contains("..")
                    || b.chars()
                        .any(|c| c.is_whitespace() || "~^:?*[\\".contains(c))
                {
                    return Err(self.err(
                        v.span().start,
                        format!("`worktree` in {what}: `{b}` is not a valid git branch name"),
                    ));
                }
                Some(s.text)
            }
            None => None,
        };

        let cwd = match (get("cwd"), &worktree) {
            (Some((v, what)), None) => {
                let s = self.string(v, "cwd", what)?;
                let p = root.join(&s.text);
                if !p.is_dir() {
                    let problem = if p.exists() {
                        format!("`{}` is not a directory", s.text)
                    } else {
                        format!("directory `{}` does not exist", s.text)
                    };
                    return Err(self.err(
                        v.span().start,
                        format!("`cwd` in {what}: {problem} ({})", p.display()),
                    ));
                }
                p.canonicalize().unwrap_or(p)
            }
            (None, None) => root.to_path_buf(),
            // The worktree does not exist until the run makes it.
            (c, Some(_)) => {
                let base = root.join(".flightdeck").join("worktrees").join(name);
                match c {
                    Some((v, what)) => base.join(self.string(v, "cwd", what)?.text),
                    None => base,
                }
            }
        };

        let mut env = BTreeMap::new();
        // Default env first, then the session's on top (merged, not replaced).
        let env_tables = [
            defaults
                .and_then(|d| d.get("env"))
                .map(|v| (v, from_defaults.as_str())),
            t.get("env").map(|v| (v, own.as_str())),
        ];
        for (v, what) in env_tables.into_iter().flatten() {
            let et = self.table(v, "env", what)?;
            for (k, _, val) in et.entries() {
                let s = match val.get_ref() {
                    DeValue::String(_) => self.string(val, k, &format!("`env` of {what}"))?.text,
                    DeValue::Integer(_) | DeValue::Float(_) | DeValue::Boolean(_) => {
                        self.src[val.span()].to_string()
                    }
                    other => {
                        return Err(self.type_err(
                            val,
                            k,
                            &format!("`env` of {what}"),
                            "a string",
                            other,
                        ));
                    }
                };
                env.insert(k.to_string(), s);
            }
        }

        let after = match get("after") {
            // Node ids: sessions first, then gates (all names are known by now).
            Some((v, what)) => self.deps(v, what, names, index, edges)?,
            None => Vec::new(),
        };

        let phase = match get("phase") {
            Some((v, what)) => Some(self.string(v, "phase", what)?.text),
            None => None,
        };
        let restart = match get("restart") {
            Some((v, what)) => self.one_of(
                v,
                "restart",
                what,
                &[
                    ("never", RestartPolicy::Never),
                    ("on-failure", RestartPolicy::OnFailure),
                    ("always", RestartPolicy::Always),
                ],
            )?,
            None => RestartPolicy::Never,
        };
        let max_restarts = match get("max_restarts") {
            Some((v, what)) => self.int_in(v, "max_restarts", what, 0, u32::MAX as i64)? as u32,
            None => 3,
        };
        let dur = |key: &str, default: Duration| -> Result<Duration, PlanError> {
            match get(key) {
                Some((v, what)) => self.duration(v, key, what),
                None => Ok(default),
            }
        };
        // A zero backoff would restart at once, forever doubling zero: refused.
        let backoff = match get("backoff") {
            Some((v, what)) => self.positive_duration(
                v,
                "backoff",
                what,
                "a restart without delay can spin; the delay doubles from here, up to 60s",
            )?,
            None => Duration::from_secs(1),
        };
        let timeout = match get("timeout") {
            Some((v, what)) => {
                Some(self.positive_duration(v, "timeout", what, "leave it out for no timeout")?)
            }
            None => None,
        };
        // "0s": SIGKILL right after SIGTERM, a choice some programs need.
        let stop_grace = dur("stop_grace", Duration::from_secs(5))?;
        let input_delay = dur("input_delay", Duration::from_secs(1))?;
        // Zero would call a session quiet the moment its output pauses: refused.
        let quiet_after = match get("quiet_after") {
            Some((v, what)) => {
                self.positive_duration(v, "quiet_after", what, "leave it out for the default, 60s")?
            }
            None => Duration::from_secs(60),
        };

        let input = match get("input") {
            Some((v, what)) => {
                let s = self.string(v, "input", what)?;
                let p = root.join(&s.text);
                if !p.is_file() {
                    let problem = if p.exists() {
                        format!("`{}` is not a file", s.text)
                    } else {
                        format!("file `{}` does not exist", s.text)
                    };
                    return Err(self.err(
                        v.span().start,
                        format!("`input` in {what}: {problem} ({})", p.display()),
                    ));
                }
                Some(p)
            }
            None => None,
        };

        let done_when = match get("done_when") {
            Some((v, what)) => {
                let dt = self.table(v, "done_when", what)?;
                let dwhat = format!("`done_when` of {what}");
                self.check_keys(dt, DONE_WHEN_KEYS, &dwhat)?;
                let output = match dt.get("output") {
                    Some(o) => {
                        let s = self.string(o, "output", &dwhat)?;
                        Some(self.regex(&s, "output", &dwhat)?)
                    }
                    None => None,
                };
                let file = match dt.get("file") {
                    Some(f) => Some(root.join(self.string(f, "file", &dwhat)?.text)),
                    None => None,
                };
                if output.is_none() && file.is_none() {
                    return Err(self.err(
                        dt.start,
                        format!("{dwhat} needs `output` (a regex) or `file` (a path), or both"),
                    ));
                }
                Some(DoneWhen { output, file })
            }
            None => None,
        };
        let keep_running = match get("keep_running") {
            Some((v, what)) => {
                let b = self.boolean(v, "keep_running", what)?;
                // Set on the session itself without done_when: it would mean nothing.
                if b && done_when.is_none() && t.get("keep_running").is_some() && !defaults_only {
                    return Err(self.err(
                        v.span().start,
                        format!("`keep_running` in {what} only applies with `done_when`"),
                    ));
                }
                b
            }
            None => false,
        };

        let outputs = match get("outputs") {
            Some((v, what)) => {
                let list = self.strings(v, "outputs", what)?;
                for s in &list {
                    self.glob(s, "outputs", what)?;
                }
                list.into_iter().map(|s| s.text).collect()
            }
            None => Vec::new(),
        };
        let attention = match get("attention") {
            Some((v, what)) => {
                let s = self.string(v, "attention", what)?;
                Some(self.regex(&s, "attention", what)?)
            }
            None => None,
        };
        let on_success = match get("on_success") {
            Some((v, what)) => {
                let list = self.strings(v, "on_success", what)?;
                for s in &list {
                    if s.text.trim().is_empty() {
                        return Err(self.err(
                            s.span.start,
                            format!("`on_success` in {what}: empty command"),
                        ));
                    }
                }
                list.into_iter().map(|s| s.text).collect()
            }
            None => Vec::new(),
        };

        let agent = match get("agent") {
            Some((v, what)) => self.one_of(
                v,
                "agent",
                what,
                &[
                    ("claude", AgentKind::Claude),
                    ("codex", AgentKind::Codex),
                    ("none", AgentKind::None),
                ],
            )?,
            None => AgentKind::None,
        };

        Ok(SessionSpec {
            name: name.to_string(),
            number: index + 1,
            command,
            cwd,
            env,
            after,
            phase,
            restart,
            max_restarts,
            backoff,
            timeout,
            stop_grace,
            input,
            input_delay,
            done_when,
            keep_running,
            outputs,
            worktree,
            attention,
            quiet_after,
            on_success,
            agent,
        })
    }
}
