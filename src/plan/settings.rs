//! The plan-wide tables: `[plan]`, `[ui]` and `[defaults]`.

use super::reader::{Reader, Table, unknown_key_message};
use super::session::SESSION_KEYS;
use super::{PlanError, UiConfig};
use std::path::{Path, PathBuf};

const PLAN_KEYS: &[&str] = &[
    "name",
    "root",
    "records",
    "max_parallel",
    "shell",
    "log_limit",
    "notify",
];
const UI_KEYS: &[&str] = &["columns"];

/// What `[plan]` says, resolved (paths absolute, sizes in bytes).
pub(super) struct Settings {
    /// The plan file, absolute.
    pub(super) file: PathBuf,
    pub(super) name: String,
    pub(super) root: PathBuf,
    pub(super) records: PathBuf,
    pub(super) max_parallel: Option<usize>,
    pub(super) shell: Vec<String>,
    pub(super) log_limit: u64,
    pub(super) notify: Option<String>,
}

impl Reader<'_> {
    /// `[plan]`, which must be there with a `name`.
    pub(super) fn plan_table(&self, top: Table) -> Result<Settings, PlanError> {
        let Some(pv) = top.get("plan") else {
            return Err(self.err(
                0,
                "missing [plan] table (it needs at least `name = \"...\"`)",
            ));
        };
        let pt = self.table(pv, "plan", "the plan file")?;
        self.check_keys(pt, PLAN_KEYS, "[plan]")?;
        let name = match pt.get("name") {
            Some(v) => {
                let s = self.string(v, "name", "[plan]")?;
                if s.text.trim().is_empty() {
                    return Err(self.err(v.span().start, "`name` in [plan] must not be empty"));
                }
                s.text
            }
            None => return Err(self.err(pt.start, "[plan] is missing required key `name`")),
        };
        let file_abs = std::path::absolute(&self.file).unwrap_or_else(|_| self.file.clone());
        let plan_dir = file_abs
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));
        let root = match pt.get("root") {
            Some(v) => {
                let s = self.string(v, "root", "[plan]")?;
                let p = plan_dir.join(&s.text);
                match p.canonicalize() {
                    Ok(c) if c.is_dir() => c,
                    Ok(_) => {
                        return Err(self.err(
                            v.span().start,
                            format!(
                                "`root` in [plan]: `{}` is not a directory ({}; root is relative to the plan file's directory)",
                                s.text,
                                p.display()
                            ),
                        ));
                    }
                    // A root that does not exist yet is made by the run (with its
                    // records), so a fresh checkout of a plan's workspace just works.
                    Err(_) => absolute_from_existing(&p),
                }
            }
            None => plan_dir.canonicalize().unwrap_or(plan_dir.clone()),
        };
        let records = match pt.get("records") {
            Some(v) => {
                let s = self.string(v, "records", "[plan]")?;
                if s.text.trim().is_empty() {
                    return Err(self.err(v.span().start, "`records` in [plan] must not be empty"));
                }
                root.join(s.text)
            }
            None => root.join(".flightdeck/runs"),
        };
        let max_parallel = match pt.get("max_parallel") {
            Some(v) => Some(self.int_in(v, "max_parallel", "[plan]", 1, i64::MAX)? as usize),
            None => None,
        };
        let shell = match pt.get("shell") {
            Some(v) => {
                let s = self.string(v, "shell", "[plan]")?;
                let words: Vec<String> = s.text.split_whitespace().map(String::from).collect();
                if words.is_empty() {
                    return Err(self.err(v.span().start, "`shell` in [plan] must not be empty"));
                }
                words
            }
            None => vec!["sh".to_string()],
        };
        let log_limit = match pt.get("log_limit") {
            Some(v) => {
                let s = self.string(v, "log_limit", "[plan]")?;
                let bytes = crate::duration::parse_size(&s.text)
                    .map_err(|m| self.err(v.span().start, format!("`log_limit` in [plan]: {m}")))?;
                if bytes == 0 {
                    return Err(self.err(
                        v.span().start,
                        "`log_limit` in [plan] must be more than 0 (leave it out for the default, 1GB)",
                    ));
                }
                bytes
            }
            None => super::DEFAULT_LOG_LIMIT,
        };
        let notify = match pt.get("notify") {
            Some(v) => {
                let s = self.string(v, "notify", "[plan]")?;
                if s.text.trim().is_empty() {
                    return Err(self.err(v.span().start, "`notify` in [plan] is empty"));
                }
                Some(s.text)
            }
            None => None,
        };
        Ok(Settings {
            file: file_abs,
            name,
            root,
            records,
            max_parallel,
            shell,
            log_limit,
            notify,
        })
    }

    /// `[ui]`, optional.
    pub(super) fn ui_table(&self, top: Table) -> Result<UiConfig, PlanError> {
        let mut ui = UiConfig::default();
        if let Some(v) = top.get("ui") {
            let t = self.table(v, "ui", "the plan file")?;
            self.check_keys(t, UI_KEYS, "[ui]")?;
            if let Some(c) = t.get("columns") {
                ui.columns = Some(self.int_in(c, "columns", "[ui]", 1, u16::MAX as i64)? as u16);
            }
        }
        Ok(ui)
    }

    /// `[defaults]`: any session key but `name`, checked here and used by each session.
    pub(super) fn defaults_table<'a, 'i>(
        &self,
        top: Table<'a, 'i>,
    ) -> Result<Option<Table<'a, 'i>>, PlanError> {
        match top.get("defaults") {
            Some(v) => {
                let t = self.table(v, "defaults", "the plan file")?;
                for (k, at, _) in t.entries() {
                    if k == "name" {
                        return Err(self.err(
                            at,
                            "`name` cannot have a default: every session needs its own",
                        ));
                    }
                    if !SESSION_KEYS.contains(&k) {
                        return Err(
                            self.err(at, unknown_key_message(k, "[defaults]", SESSION_KEYS))
                        );
                    }
                }
                Ok(Some(t))
            }
            None => Ok(None),
        }
    }
}

/// `p` made absolute without it existing: its nearest existing ancestor is
/// canonicalized (resolving `..` and links) and the rest is appended.
fn absolute_from_existing(p: &Path) -> PathBuf {
    let mut rest = Vec::new();
    let mut cur = p;
    loop {
        if let Ok(c) = cur.canonicalize() {
            let mut out = c;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (cur.parent(), cur.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                cur = parent;
            }
            _ => return p.to_path_buf(),
        }
    }
}
