//! Reading and validating a plan file.
//!
//! The TOML is parsed into toml's spanned document tree (`DeTable`), which keeps the
//! byte range of every key and value; we walk it by hand rather than through serde so
//! that every error can say exactly where it is and what the valid choices are.

use super::{
    AgentKind, Approval, CheckSpec, CommandSpec, DatasetSpec, Dep, DepKind, DepTarget, DoneWhen,
    Format, GateSpec, Plan, PlanError, ProbeSpec, RestartPolicy, SessionSpec, UiConfig,
};
use crate::checks::{self, Body, Check, Cmp, Expr, Literal, Metric, Operand};
use regex::Regex;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

type Val<'i> = Spanned<DeValue<'i>>;

const TOP_KEYS: &[&str] = &[
    "plan", "vars", "ui", "defaults", "session", "dataset", "probe", "gate",
];
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
const SESSION_KEYS: &[&str] = &[
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
const DATASET_KEYS: &[&str] = &["name", "path", "format", "owner", "checks"];
const PROBE_KEYS: &[&str] = &["name", "command", "pattern", "timeout", "checks"];
const GATE_KEYS: &[&str] = &[
    "name",
    "after",
    "datasets",
    "probes",
    "checks",
    "approval",
    "allow_conditional",
];

/// Load, substitute `{vars}` (command-line `vars` win over `[vars]`), and validate.
pub fn load(file: &Path, vars: &BTreeMap<String, String>) -> Result<Plan, PlanError> {
    let bytes = std::fs::read(file).map_err(|e| PlanError {
        file: file.to_path_buf(),
        line: 0,
        col: 0,
        message: format!("cannot read plan: {e}"),
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        // Position the first bad byte by the valid text before it.
        let valid = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let before = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
        Cx::new(before, file).err(
            valid,
            format!(
                "the plan is not UTF-8 text: byte 0x{:02x} cannot be read here (save the file as UTF-8)",
                bytes[valid]
            ),
        )
    })?;
    load_str(&text, file, vars)
}

/// As [`load`], from text; `file` names it in errors and anchors relative paths.
pub fn load_str(
    text: &str,
    file: &Path,
    vars: &BTreeMap<String, String>,
) -> Result<Plan, PlanError> {
    let mut cx = Cx::new(text, file);
    let doc = DeTable::parse(text).map_err(|e| {
        let at = e.span().map(|s| s.start).unwrap_or(0);
        cx.err(at, format!("invalid TOML: {}", e.message()))
    })?;
    cx.build(doc.get_ref(), vars)
}

/// The names a check refers to: every term's source and the dataset of
/// `column in dataset.column`.
pub(crate) fn check_sources(check: &Check) -> Vec<&str> {
    fn expr<'a>(e: &'a Expr, out: &mut Vec<&'a str>) {
        for (_, t) in &e.terms {
            if let Some(s) = &t.source {
                out.push(s);
            }
        }
    }
    let mut out = Vec::new();
    match &check.body {
        Body::Exists | Body::InList { .. } => {}
        Body::InDataset { dataset, .. } => out.push(dataset.as_str()),
        Body::Compare { lhs, cmp } => {
            expr(lhs, &mut out);
            if let Cmp::Op(_, Operand::Expr(e)) = cmp {
                expr(e, &mut out);
            }
        }
    }
    out
}

/// The `{name}` references in a string, with the byte offset of each `{` (`{{` and
/// `}}` are literal braces; malformed braces are left for `subst` to report).
fn var_references(raw: &str) -> Vec<(&str, usize)> {
    let b = raw.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' | b'}' if b.get(i + 1) == Some(&b[i]) => i += 2,
            b'{' => {
                let len = b[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
                    .count();
                if len > 0 && b.get(i + 1 + len) == Some(&b'}') {
                    out.push((&raw[i + 1..i + 1 + len], i));
                }
                i += 1 + len;
            }
            _ => i += 1,
        }
    }
    out
}

/// A string value after `{var}` substitution, with what is needed to map an offset in
/// the substituted text back to the plan file.
#[derive(Debug)]
struct Sub {
    text: String,
    /// The value's span in the file (quotes included).
    span: Range<usize>,
    /// (offset in `text`, offset in the decoded original, is a variable)
    segs: Vec<(usize, usize, bool)>,
}

/// A table and where it starts (its `[header]` or its `{`).
#[derive(Clone, Copy)]
struct Tbl<'a, 'i> {
    map: &'a DeTable<'i>,
    start: usize,
}

impl<'a, 'i> Tbl<'a, 'i> {
    fn get(&self, key: &str) -> Option<&'a Val<'i>> {
        self.map
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(_, v)| v)
    }
    /// Entries in file order: (key, key offset, value).
    fn entries(&self) -> Vec<(&'a str, usize, &'a Val<'i>)> {
        let mut v: Vec<_> = self
            .map
            .iter()
            .map(|(k, v)| (k.get_ref().as_ref(), k.span().start, v))
            .collect();
        v.sort_by_key(|e| e.1);
        v
    }
}

#[derive(Default)]
struct Names {
    sessions: HashMap<String, usize>,
    gates: HashMap<String, usize>,
    datasets: HashMap<String, usize>,
    probes: HashMap<String, usize>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CheckHome {
    Dataset,
    Probe,
    Gate,
}

/// A dependency edge for cycle detection: node indices are sessions first, then gates.
struct Edge {
    from: usize,
    to: usize,
    at: usize,
}

struct Cx<'s> {
    src: &'s str,
    file: PathBuf,
    line_starts: Vec<usize>,
    vars: BTreeMap<String, String>,
}

impl<'s> Cx<'s> {
    fn new(src: &'s str, file: &Path) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        Cx {
            src,
            file: file.to_path_buf(),
            line_starts,
            vars: BTreeMap::new(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    fn pos(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.src.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let col = match self.src.get(start..offset) {
            Some(s) => s.chars().count(),
            None => offset - start,
        };
        (line + 1, col + 1)
    }

    fn err(&self, offset: usize, message: impl Into<String>) -> PlanError {
        let (line, col) = self.pos(offset);
        PlanError {
            file: self.file.clone(),
            line,
            col,
            message: message.into(),
        }
    }

    // ---- tables and keys ------------------------------------------------------------

    fn check_keys(&self, t: Tbl, valid: &[&str], what: &str) -> Result<(), PlanError> {
        for (k, at, _) in t.entries() {
            if !valid.contains(&k) {
                return Err(self.err(at, unknown_key_message(k, what, valid)));
            }
        }
        Ok(())
    }

    fn table<'a, 'i>(
        &self,
        v: &'a Val<'i>,
        key: &str,
        what: &str,
    ) -> Result<Tbl<'a, 'i>, PlanError> {
        match v.get_ref() {
            DeValue::Table(map) => Ok(Tbl {
                map,
                start: v.span().start,
            }),
            other => Err(self.type_err(v, key, what, "a table", other)),
        }
    }

    /// `[[name]]`: an array of tables (missing means none).
    fn table_array<'a, 'i>(
        &self,
        top: Tbl<'a, 'i>,
        key: &str,
    ) -> Result<Vec<Tbl<'a, 'i>>, PlanError> {
        let Some(v) = top.get(key) else {
            return Ok(Vec::new());
        };
        let DeValue::Array(items) = v.get_ref() else {
            return Err(self.err(
                v.span().start,
                format!("`{key}` must be an array of tables: write [[{key}]], not [{key}]"),
            ));
        };
        items
            .iter()
            .map(|item| match item.get_ref() {
                DeValue::Table(map) => Ok(Tbl {
                    map,
                    start: item.span().start,
                }),
                other => Err(self.err(
                    item.span().start,
                    format!(
                        "each `{key}` entry must be a table ([[{key}]]), not {}",
                        article(other.type_str())
                    ),
                )),
            })
            .collect()
    }

    // ---- values -----------------------------------------------------------------------

    fn type_err(&self, v: &Val, key: &str, what: &str, want: &str, got: &DeValue) -> PlanError {
        self.err(
            v.span().start,
            format!(
                "`{key}` in {what} must be {want}, not {}",
                article(got.type_str())
            ),
        )
    }

    fn string(&self, v: &Val, key: &str, what: &str) -> Result<Sub, PlanError> {
        match v.get_ref() {
            DeValue::String(s) => self.subst(s, v.span(), key, what),
            other => Err(self.type_err(v, key, what, "a string", other)),
        }
    }

    fn strings(&self, v: &Val, key: &str, what: &str) -> Result<Vec<Sub>, PlanError> {
        match v.get_ref() {
            DeValue::Array(items) => items
                .iter()
                .map(|item| match item.get_ref() {
                    DeValue::String(s) => self.subst(s, item.span(), key, what),
                    other => Err(self.err(
                        item.span().start,
                        format!(
                            "`{key}` in {what} must be an array of strings, but this entry is {}",
                            article(other.type_str())
                        ),
                    )),
                })
                .collect(),
            other => Err(self.type_err(v, key, what, "an array of strings", other)),
        }
    }

    fn int(&self, v: &Val, key: &str, what: &str) -> Result<i64, PlanError> {
        match v.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .map_err(|_| self.err(v.span().start, format!("`{key}` in {what} is too large"))),
            other => Err(self.type_err(v, key, what, "an integer", other)),
        }
    }

    fn int_in(&self, v: &Val, key: &str, what: &str, min: i64, max: i64) -> Result<i64, PlanError> {
        let n = self.int(v, key, what)?;
        let bound = if n < min {
            format!("at least {min}")
        } else if n > max {
            format!("at most {max}")
        } else {
            return Ok(n);
        };
        Err(self.err(
            v.span().start,
            format!("`{key}` in {what} must be {bound}, not {n}"),
        ))
    }

    fn boolean(&self, v: &Val, key: &str, what: &str) -> Result<bool, PlanError> {
        match v.get_ref() {
            DeValue::Boolean(b) => Ok(*b),
            other => Err(self.type_err(v, key, what, "true or false", other)),
        }
    }

    fn duration(&self, v: &Val, key: &str, what: &str) -> Result<Duration, PlanError> {
        let s = self.string(v, key, what)?;
        crate::duration::parse(&s.text)
            .map_err(|m| self.err(v.span().start, format!("`{key}` in {what}: {m}")))
    }

    /// A duration that must not be zero; `why` tells the user what to do instead.
    fn positive_duration(
        &self,
        v: &Val,
        key: &str,
        what: &str,
        why: &str,
    ) -> Result<Duration, PlanError> {
        let d = self.duration(v, key, what)?;
        if d.is_zero() {
            return Err(self.err(
                v.span().start,
                format!("`{key}` in {what} must be more than 0 ({why})"),
            ));
        }
        Ok(d)
    }

    fn regex(&self, s: &Sub, key: &str, what: &str) -> Result<Regex, PlanError> {
        Regex::new(&s.text).map_err(|e| {
            let full = e.to_string();
            // regex's message spans several lines with a caret; keep the verdict.
            let msg = full
                .lines()
                .find_map(|l| l.trim().strip_prefix("error: "))
                .map(str::to_string)
                .unwrap_or_else(|| full.lines().last().unwrap_or("").trim().to_string());
            self.err(
                s.span.start,
                format!("`{key}` in {what} is not a valid regex `{}`: {msg}", s.text),
            )
        })
    }

    fn one_of<T: Copy>(
        &self,
        v: &Val,
        key: &str,
        what: &str,
        choices: &[(&str, T)],
    ) -> Result<T, PlanError> {
        let s = self.string(v, key, what)?;
        choices
            .iter()
            .find(|(n, _)| *n == s.text)
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                let names: Vec<_> = choices.iter().map(|(n, _)| *n).collect();
                self.err(
                    v.span().start,
                    format!(
                        "`{key}` in {what} must be one of {}, not `{}`",
                        names.join(", "),
                        s.text
                    ),
                )
            })
    }

    // ---- variables ------------------------------------------------------------------------

    /// Replace `{name}` by its variable; `{{` and `}}` are literal braces.
    fn subst(
        &self,
        raw: &str,
        span: Range<usize>,
        key: &str,
        what: &str,
    ) -> Result<Sub, PlanError> {
        let b = raw.as_bytes();
        let mut out = String::with_capacity(raw.len());
        let mut segs = vec![(0, 0, false)];
        let mut i = 0;
        let mut lit = 0; // start of the pending literal run
        let fail = |dec: usize, msg: String| {
            let sub = Sub {
                text: raw.to_string(),
                span: span.clone(),
                segs: vec![(0, 0, false)],
            };
            self.err(self.sub_pos(&sub, dec), msg)
        };
        while i < b.len() {
            match b[i] {
                b'{' if b.get(i + 1) == Some(&b'{') => {
                    out.push_str(&raw[lit..=i]);
                    i += 2;
                    lit = i;
                    segs.push((out.len(), i, false));
                }
                b'}' if b.get(i + 1) == Some(&b'}') => {
                    out.push_str(&raw[lit..=i]);
                    i += 2;
                    lit = i;
                    segs.push((out.len(), i, false));
                }
                b'{' => {
                    let name_len = b[i + 1..]
                        .iter()
                        .take_while(|c| {
                            c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
                        })
                        .count();
                    let close = i + 1 + name_len;
                    if name_len == 0 || b.get(close) != Some(&b'}') {
                        return Err(fail(
                            i,
                            format!(
                                "`{key}` in {what}: `{{` must start a variable like `{{name}}`; write `{{{{` for a literal brace"
                            ),
                        ));
                    }
                    let name = &raw[i + 1..close];
                    let Some(value) = self.vars.get(name) else {
                        let known: Vec<_> = self.vars.keys().map(String::as_str).collect();
                        let known = if known.is_empty() {
                            "no variables are defined".to_string()
                        } else {
                            format!("defined: {}", known.join(", "))
                        };
                        return Err(fail(
                            i,
                            format!(
                                "unknown variable `{{{name}}}` in `{key}` of {what} ({known}; set it in [vars] or with --var {name}=VALUE, or write `{{{{` for a literal brace)"
                            ),
                        ));
                    };
                    out.push_str(&raw[lit..i]);
                    segs.push((out.len(), i, true));
                    out.push_str(value);
                    i = close + 1;
                    lit = i;
                    segs.push((out.len(), i, false));
                }
                b'}' => {
                    return Err(fail(
                        i,
                        format!(
                            "`{key}` in {what}: a single `}}` — write `}}}}` for a literal brace"
                        ),
                    ));
                }
                _ => i += 1,
            }
        }
        out.push_str(&raw[lit..]);
        Ok(Sub {
            text: out,
            span,
            segs,
        })
    }

    /// File offset of byte `off` of a substituted string.
    fn sub_pos(&self, sub: &Sub, off: usize) -> usize {
        let (o, d, var) = sub
            .segs
            .iter()
            .rev()
            .find(|(o, _, _)| *o <= off)
            .copied()
            .unwrap_or((0, 0, false));
        let dec = if var { d } else { d + (off - o) };
        self.src_offset(&sub.span, dec)
    }

    /// File offset of byte `dec` of the decoded value of the string at `span`: exact
    /// for literal strings and plain basic strings, best effort through escapes.
    fn src_offset(&self, span: &Range<usize>, dec: usize) -> usize {
        let raw = &self.src[span.clone()];
        let (delim, basic) = if raw.starts_with("'''") {
            (3, false)
        } else if raw.starts_with("\"\"\"") {
            (3, true)
        } else if raw.starts_with('\'') {
            (1, false)
        } else if raw.starts_with('"') {
            (1, true)
        } else {
            return span.start;
        };
        let mut i = span.start + delim;
        if delim == 3 {
            // A newline right after the opening delimiter is not part of the value.
            if self.src[i..].starts_with("\r\n") {
                i += 2;
            } else if self.src[i..].starts_with('\n') {
                i += 1;
            }
        }
        let end = span.end.saturating_sub(delim).max(i);
        if !basic {
            return (i + dec).min(end);
        }
        let s = self.src.as_bytes();
        let mut d = 0;
        while i < end && d < dec {
            if s[i] == b'\\' && i + 1 < end {
                let hex = |n: usize| {
                    self.src
                        .get(i + 2..i + 2 + n)
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .and_then(char::from_u32)
                        .map(char::len_utf8)
                        .unwrap_or(1)
                };
                match s[i + 1] {
                    b'u' => {
                        d += hex(4);
                        i += 6;
                    }
                    b'U' => {
                        d += hex(8);
                        i += 10;
                    }
                    b'x' => {
                        d += hex(2);
                        i += 4;
                    }
                    b' ' | b'\t' | b'\r' | b'\n' => {
                        // Line-ending backslash: the whitespace that follows vanishes.
                        i += 1;
                        while i < end && matches!(s[i], b' ' | b'\t' | b'\r' | b'\n') {
                            i += 1;
                        }
                    }
                    _ => {
                        d += 1;
                        i += 2;
                    }
                }
            } else {
                let n = self.src[i..]
                    .chars()
                    .next()
                    .map(char::len_utf8)
                    .unwrap_or(1);
                d += n;
                i += n;
            }
        }
        i.min(end)
    }

    // ---- the plan -------------------------------------------------------------------------

    fn build(
        &mut self,
        doc: &DeTable,
        cli_vars: &BTreeMap<String, String>,
    ) -> Result<Plan, PlanError> {
        let top = Tbl { map: doc, start: 0 };
        self.check_keys(top, TOP_KEYS, "the plan file")?;

        let vars = match top.get("vars") {
            Some(v) => Some(self.table(v, "vars", "the plan file")?),
            None => None,
        };
        self.resolve_vars(vars, cli_vars)?;

        // [plan]
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

        // [ui]
        let mut ui = UiConfig::default();
        if let Some(v) = top.get("ui") {
            let t = self.table(v, "ui", "the plan file")?;
            self.check_keys(t, UI_KEYS, "[ui]")?;
            if let Some(c) = t.get("columns") {
                ui.columns = Some(self.int_in(c, "columns", "[ui]", 1, u16::MAX as i64)? as u16);
            }
        }

        // [defaults]
        let defaults = match top.get("defaults") {
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
                Some(t)
            }
            None => None,
        };

        let sess_t = self.table_array(top, "session")?;
        let data_t = self.table_array(top, "dataset")?;
        let probe_t = self.table_array(top, "probe")?;
        let gate_t = self.table_array(top, "gate")?;

        // Names first: `after`, `owner` and checks may refer forward.
        let mut names = Names::default();
        let mut starts: Vec<usize> = Vec::new(); // definition offset per node (sessions, gates)
        let mut name_pos: HashMap<String, usize> = HashMap::new();
        let mut sess_names = Vec::new();
        for (i, t) in sess_t.iter().enumerate() {
            let what = format!("[[session]] #{}", i + 1);
            if t.get("name").is_none() {
                // A misspelt `name` is better reported as such than as missing.
                self.check_keys(*t, SESSION_KEYS, &what)?;
            }
            let n = self.name(*t, &what, "session", false)?;
            self.check_keys(*t, SESSION_KEYS, &format!("session `{}`", n.0))?;
            self.unique(&n, &mut name_pos, "session or gate")?;
            names.sessions.insert(n.0.clone(), i);
            starts.push(t.start);
            sess_names.push(n.0);
        }
        let mut gate_names = Vec::new();
        for (i, t) in gate_t.iter().enumerate() {
            let what = format!("[[gate]] #{}", i + 1);
            if t.get("name").is_none() {
                // A misspelt `name` is better reported as such than as missing.
                self.check_keys(*t, GATE_KEYS, &what)?;
            }
            let n = self.name(*t, &what, "gate", false)?;
            self.check_keys(*t, GATE_KEYS, &format!("gate `{}`", n.0))?;
            self.unique(&n, &mut name_pos, "session or gate")?;
            names.gates.insert(n.0.clone(), i);
            starts.push(t.start);
            gate_names.push(n.0);
        }
        // Datasets and probes are both check sources (`leads.row_count`,
        // `risk_latency.value`), so they share a namespace.
        let mut source_pos: HashMap<String, usize> = HashMap::new();
        let mut data_names = Vec::new();
        for (i, t) in data_t.iter().enumerate() {
            let what = format!("[[dataset]] #{}", i + 1);
            if t.get("name").is_none() {
                // A misspelt `name` is better reported as such than as missing.
                self.check_keys(*t, DATASET_KEYS, &what)?;
            }
            let n = self.name(*t, &what, "dataset", true)?;
            self.check_keys(*t, DATASET_KEYS, &format!("dataset `{}`", n.0))?;
            self.unique(&n, &mut source_pos, "dataset or probe")?;
            names.datasets.insert(n.0.clone(), i);
            data_names.push(n.0);
        }
        let mut probe_names = Vec::new();
        for (i, t) in probe_t.iter().enumerate() {
            let what = format!("[[probe]] #{}", i + 1);
            if t.get("name").is_none() {
                // A misspelt `name` is better reported as such than as missing.
                self.check_keys(*t, PROBE_KEYS, &what)?;
            }
            let n = self.name(*t, &what, "probe", false)?;
            self.check_keys(*t, PROBE_KEYS, &format!("probe `{}`", n.0))?;
            self.unique(&n, &mut source_pos, "dataset or probe")?;
            names.probes.insert(n.0.clone(), i);
            probe_names.push(n.0);
        }

        let mut edges = Vec::new();
        if let Some(d) = defaults {
            let mut scratch = Vec::new();
            self.session(0, d, None, "defaults", &names, &root, &mut scratch, true)?;
        }
        let mut sessions = Vec::new();
        let mut branches: HashMap<String, String> = HashMap::new();
        for (i, t) in sess_t.iter().enumerate() {
            let s = self.session(
                i,
                *t,
                defaults,
                &sess_names[i],
                &names,
                &root,
                &mut edges,
                false,
            )?;
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

        let mut datasets = Vec::new();
        let mut owners = Vec::new();
        for (i, t) in data_t.iter().enumerate() {
            let d = self.dataset(*t, &data_names[i], &names)?;
            owners.push(d.owner);
            datasets.push(d);
        }
        let mut probes = Vec::new();
        for (i, t) in probe_t.iter().enumerate() {
            probes.push(self.probe(*t, &probe_names[i], &names)?);
        }
        let mut gates = Vec::new();
        let ns = sessions.len();
        for (i, t) in gate_t.iter().enumerate() {
            gates.push(self.gate(i, ns, *t, &gate_names[i], &names, &owners, &mut edges)?);
        }

        // Cycles.
        let all_names: Vec<&str> = sess_names
            .iter()
            .chain(gate_names.iter())
            .map(String::as_str)
            .collect();
        if let Some(cycle) = find_cycle(all_names.len(), &edges, &starts) {
            let mut path: Vec<&str> = cycle.iter().map(|e| all_names[e.from]).collect();
            path.push(all_names[cycle[0].from]);
            return Err(self.err(
                cycle[0].at,
                format!(
                    "dependency cycle: {} (each waits for the next, so none of them can ever start)",
                    path.join(" -> ")
                ),
            ));
        }

        Ok(Plan {
            file: file_abs,
            name,
            root,
            records,
            max_parallel,
            shell,
            log_limit,
            notify,
            vars: self.vars.clone(),
            ui,
            sessions,
            datasets,
            probes,
            gates,
        })
    }

    /// Fill `self.vars`. The command line wins and is taken literally (its braces are
    /// the user's); a `[vars]` string may use other variables, and a loop is an error.
    fn resolve_vars(
        &mut self,
        table: Option<Tbl>,
        cli: &BTreeMap<String, String>,
    ) -> Result<(), PlanError> {
        let mut done: Vec<String> = cli.keys().cloned().collect();
        self.vars = cli.clone();
        // String values still to expand, in file order: (name, decoded text, span).
        let mut pending: Vec<(String, String, Range<usize>)> = Vec::new();
        for (k, _, val) in table.map(|t| t.entries()).unwrap_or_default() {
            if cli.contains_key(k) {
                continue;
            }
            let text = match val.get_ref() {
                DeValue::String(s) => {
                    pending.push((k.to_string(), s.to_string(), val.span()));
                    s.to_string()
                }
                DeValue::Integer(_) | DeValue::Float(_) | DeValue::Boolean(_) => {
                    done.push(k.to_string());
                    self.src[val.span()].to_string()
                }
                other => return Err(self.type_err(val, k, "[vars]", "a string", other)),
            };
            // Until expanded, a value stands for itself (so unknown-name errors list it).
            self.vars.insert(k.to_string(), text);
        }
        for i in 0..pending.len() {
            self.expand_var(i, &pending, &mut done, &mut Vec::new())?;
        }
        Ok(())
    }

    /// Expand `pending[i]` after the variables it uses; `chain` is the expansion under way.
    fn expand_var(
        &mut self,
        i: usize,
        pending: &[(String, String, Range<usize>)],
        done: &mut Vec<String>,
        chain: &mut Vec<usize>,
    ) -> Result<(), PlanError> {
        let (name, raw, span) = &pending[i];
        if done.contains(name) {
            return Ok(());
        }
        chain.push(i);
        for (used, offset) in var_references(raw) {
            let Some(j) = pending.iter().position(|(n, _, _)| n == used) else {
                continue; // unknown or literal: `subst` below says so or uses it
            };
            if let Some(from) = chain.iter().position(|&c| c == j) {
                let mut path: Vec<&str> = chain[from..]
                    .iter()
                    .map(|&c| pending[c].0.as_str())
                    .collect();
                path.push(used);
                let message = if path.len() == 2 {
                    format!("variable `{name}` in [vars] uses itself")
                } else {
                    format!(
                        "variable loop in [vars]: {} (each uses the next, so none has a value)",
                        path.join(" -> ")
                    )
                };
                return Err(self.err(self.src_offset(span, offset), message));
            }
            self.expand_var(j, pending, done, chain)?;
        }
        chain.pop();
        let value = self.subst(raw, span.clone(), name, "[vars]")?.text;
        self.vars.insert(name.clone(), value);
        done.push(name.clone());
        Ok(())
    }

    /// The required, well-formed `name` of a table: (name, offset of its value).
    fn name(
        &self,
        t: Tbl,
        what: &str,
        kind: &str,
        strict: bool,
    ) -> Result<(String, usize), PlanError> {
        let Some(v) = t.get("name") else {
            return Err(self.err(t.start, format!("{what} is missing required key `name`")));
        };
        let s = self.string(v, "name", what)?;
        let ok = !s.text.is_empty()
            && s.text.chars().all(|c| {
                c.is_ascii_alphanumeric() || c == '_' || (!strict && (c == '-' || c == '.'))
            });
        if !ok {
            let allowed = if strict {
                "letters, digits and `_`"
            } else {
                "letters, digits, `_`, `-` and `.`"
            };
            return Err(self.err(
                v.span().start,
                format!("bad {kind} name `{}`: use only {allowed}", s.text),
            ));
        }
        Ok((s.text, v.span().start))
    }

    fn unique(
        &self,
        n: &(String, usize),
        seen: &mut HashMap<String, usize>,
        space: &str,
    ) -> Result<(), PlanError> {
        if let Some(&first) = seen.get(&n.0) {
            let (line, _) = self.pos(first);
            return Err(self.err(
                n.1,
                format!(
                    "duplicate name `{}`: already used on line {line} (each {space} needs a unique name)",
                    n.0
                ),
            ));
        }
        seen.insert(n.0.clone(), n.1);
        Ok(())
    }

    /// `after` entries: `x`, `x:started`, `x:finished`.
    fn deps(
        &self,
        v: &Val,
        what: &str,
        names: &Names,
        from: usize,
        ns: usize,
        edges: &mut Vec<Edge>,
    ) -> Result<Vec<Dep>, PlanError> {
        let mut out = Vec::new();
        for s in self.strings(v, "after", what)? {
            let at = s.span.start;
            let (name, kind) = match s.text.rsplit_once(':') {
                Some((n, "started")) => (n, DepKind::Started),
                Some((n, "finished")) => (n, DepKind::Finished),
                Some((_, other)) => {
                    return Err(self.err(
                        at,
                        format!(
                            "`after` entry `{}` in {what}: unknown suffix `:{other}` (use `name`, `name:started` or `name:finished`)",
                            s.text
                        ),
                    ));
                }
                None => (s.text.as_str(), DepKind::Succeeded),
            };
            let target = if let Some(&i) = names.sessions.get(name) {
                DepTarget::Session(i)
            } else if let Some(&i) = names.gates.get(name) {
                if kind != DepKind::Succeeded {
                    return Err(self.err(
                        at,
                        format!(
                            "`after` entry `{}` in {what}: `:started` and `:finished` apply to sessions only; `{name}` is a gate (write `{name}`)",
                            s.text
                        ),
                    ));
                }
                DepTarget::Gate(i)
            } else {
                let mut all: Vec<&str> = names
                    .sessions
                    .keys()
                    .chain(names.gates.keys())
                    .map(String::as_str)
                    .collect();
                all.sort();
                let hint = match suggest(name, &all) {
                    Some(s) => format!(" (did you mean `{s}`?)"),
                    None => String::new(),
                };
                return Err(self.err(
                    at,
                    format!("`after` in {what}: unknown session or gate `{name}`{hint}"),
                ));
            };
            let to = match target {
                DepTarget::Session(i) => i,
                DepTarget::Gate(i) => ns + i,
            };
            edges.push(Edge { from, to, at });
            out.push(Dep {
                raw: s.text.clone(),
                target,
                kind,
            });
        }
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn session(
        &self,
        idx: usize,
        t: Tbl,
        defaults: Option<Tbl>,
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
        let get = |key: &str| -> Option<(&Val, &str)> {
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
            Some((v, what)) => self.deps(v, what, names, idx, names.sessions.len(), edges)?,
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
        let stop_grace = dur("stop_grace", Duration::from_secs(5))?;
        let input_delay = dur("input_delay", Duration::from_secs(1))?;
        let quiet_after = dur("quiet_after", Duration::from_secs(60))?;

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
            number: idx + 1,
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

    fn glob(&self, s: &Sub, key: &str, what: &str) -> Result<(), PlanError> {
        if s.text.trim().is_empty() {
            return Err(self.err(s.span.start, format!("`{key}` in {what}: empty path")));
        }
        glob::Pattern::new(&s.text).map(|_| ()).map_err(|e| {
            self.err(
                self.sub_pos(s, e.pos),
                format!("`{key}` in {what}: bad glob `{}`: {}", s.text, e.msg),
            )
        })
    }

    fn checks(
        &self,
        t: Tbl,
        what: &str,
        home: CheckHome,
        names: &Names,
    ) -> Result<Vec<(CheckSpec, Sub)>, PlanError> {
        let Some(v) = t.get("checks") else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for s in self.strings(v, "checks", what)? {
            let check = checks::parse(&s.text).map_err(|e| {
                // Probe names may hold `-` and `.`, which a check cannot name as a source.
                let hint = names
                    .probes
                    .keys()
                    .find(|p| p.contains(['-', '.']) && s.text.contains(&format!("{p}.")))
                    .map(|p| {
                        format!(" (the probe name `{p}` cannot be used in a check: `-` and `.` read as operators; rename it with `_`)")
                    })
                    .unwrap_or_default();
                self.err(
                    self.sub_pos(&s, e.offset.min(s.text.len())),
                    format!("check `{}` in {what}: {}{hint}", s.text, e.message),
                )
            })?;
            self.check_refs(&check, &s, what, home, names)?;
            self.check_range(&check, &s, what)?;
            out.push((
                CheckSpec {
                    text: s.text.clone(),
                    check,
                },
                s,
            ));
        }
        Ok(out)
    }

    /// `between LOW and HIGH` with LOW above HIGH can never pass: say so now.
    fn check_range(&self, check: &Check, s: &Sub, what: &str) -> Result<(), PlanError> {
        let Body::Compare {
            cmp: Cmp::Between(low, high),
            ..
        } = &check.body
        else {
            return Ok(());
        };
        let empty = match (low, high) {
            (Literal::Number(a), Literal::Number(b)) => a > b,
            (Literal::Date(a), Literal::Date(b)) => a > b,
            _ => false,
        };
        if !empty {
            return Ok(());
        }
        let at = s.text.rfind("between").unwrap_or(0);
        Err(self.err(
            self.sub_pos(s, at),
            format!(
                "check `{}` in {what}: the range is empty (the low bound comes first: `between LOW and HIGH`)",
                s.text
            ),
        ))
    }

    /// Every name a check uses must exist, and fit where the check is.
    fn check_refs(
        &self,
        check: &Check,
        s: &Sub,
        what: &str,
        home: CheckHome,
        names: &Names,
    ) -> Result<(), PlanError> {
        // Best effort: point at the name in the check text.
        let at = |name: &str| {
            let off = s
                .text
                .find(&format!("{name}."))
                .or_else(|| s.text.find(name))
                .unwrap_or(0);
            self.sub_pos(s, off)
        };
        let here = |msg: String| {
            self.err(
                self.sub_pos(s, 0),
                format!("check `{}` in {what}: {msg}", s.text),
            )
        };
        match (&check.body, home) {
            (Body::Exists, CheckHome::Gate) | (Body::InList { .. }, CheckHome::Gate) => {
                return Err(here(
                    "this check needs a dataset: put it in the dataset's `checks` (or list the dataset in `datasets`)".into(),
                ));
            }
            (Body::InDataset { .. }, CheckHome::Gate) => {
                return Err(here(
                    "`column in dataset.column` belongs in the checking dataset's `checks`".into(),
                ));
            }
            (Body::Exists | Body::InList { .. } | Body::InDataset { .. }, CheckHome::Probe) => {
                return Err(here(
                    "a probe has no files or columns; probe checks use `exit_code` and `value`"
                        .into(),
                ));
            }
            (Body::InDataset { dataset, .. }, _) if !names.datasets.contains_key(dataset) => {
                return Err(self.err(
                    at(dataset),
                    format!("check `{}` in {what}: unknown dataset `{dataset}`", s.text),
                ));
            }
            _ => {}
        }
        if let Body::Compare { lhs, cmp } = &check.body {
            let mut terms: Vec<_> = lhs.terms.iter().map(|(_, t)| t).collect();
            if let Cmp::Op(_, Operand::Expr(e)) = cmp {
                terms.extend(e.terms.iter().map(|(_, t)| t));
            }
            for term in terms {
                let kind = match &term.source {
                    Some(src) if names.datasets.contains_key(src) => CheckHome::Dataset,
                    Some(src) if names.probes.contains_key(src) => CheckHome::Probe,
                    Some(src) => {
                        return Err(self.err(
                            at(src),
                            format!(
                                "check `{}` in {what}: unknown dataset or probe `{src}`",
                                s.text
                            ),
                        ));
                    }
                    None if home == CheckHome::Gate => {
                        return Err(here(
                            "in a gate's checks every term names its source, e.g. `leads.row_count`".into(),
                        ));
                    }
                    None => home,
                };
                let probe_metric = matches!(term.metric, Metric::ExitCode | Metric::Value);
                if probe_metric && kind == CheckHome::Dataset {
                    return Err(here(
                        "`exit_code` and `value` are measures of probes, not datasets".into(),
                    ));
                }
                if !probe_metric && kind == CheckHome::Probe {
                    return Err(here("a probe only has `exit_code` and `value`".into()));
                }
            }
        }
        Ok(())
    }

    fn dataset(&self, t: Tbl, name: &str, names: &Names) -> Result<DatasetSpec, PlanError> {
        let what = format!("dataset `{name}`");
        let Some(pv) = t.get("path") else {
            return Err(self.err(t.start, format!("{what} is missing required key `path`")));
        };
        let path = self.string(pv, "path", &what)?;
        self.glob(&path, "path", &what)?;
        let format = match t.get("format") {
            Some(v) => self.one_of(
                v,
                "format",
                &what,
                &[
                    ("csv", Format::Csv),
                    ("tsv", Format::Tsv),
                    ("jsonl", Format::Jsonl),
                    ("parquet", Format::Parquet),
                    ("text", Format::Text),
                ],
            )?,
            None => Format::from_path(&path.text),
        };
        let owner = match t.get("owner") {
            Some(v) => {
                let s = self.string(v, "owner", &what)?;
                match names.sessions.get(&s.text) {
                    Some(&i) => Some(i),
                    None => {
                        let msg = if names.gates.contains_key(&s.text) {
                            format!(
                                "`owner` of {what}: `{}` is a gate; the owner must be a session",
                                s.text
                            )
                        } else {
                            let all: Vec<&str> =
                                names.sessions.keys().map(String::as_str).collect();
                            let hint = suggest(&s.text, &all)
                                .map(|x| format!(" (did you mean `{x}`?)"))
                                .unwrap_or_default();
                            format!("`owner` of {what}: unknown session `{}`{hint}", s.text)
                        };
                        return Err(self.err(v.span().start, msg));
                    }
                }
            }
            None => None,
        };
        let checks = self
            .checks(t, &what, CheckHome::Dataset, names)?
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        Ok(DatasetSpec {
            name: name.to_string(),
            path: path.text,
            format,
            owner,
            checks,
        })
    }

    fn probe(&self, t: Tbl, name: &str, names: &Names) -> Result<ProbeSpec, PlanError> {
        let what = format!("probe `{name}`");
        let Some(cv) = t.get("command") else {
            return Err(self.err(t.start, format!("{what} is missing required key `command`")));
        };
        let command = self.string(cv, "command", &what)?;
        if command.text.trim().is_empty() {
            return Err(self.err(cv.span().start, format!("`command` in {what} is empty")));
        }
        let pattern = match t.get("pattern") {
            Some(v) => {
                let s = self.string(v, "pattern", &what)?;
                Some(self.regex(&s, "pattern", &what)?)
            }
            None => None,
        };
        let timeout = match t.get("timeout") {
            Some(v) => {
                self.positive_duration(v, "timeout", &what, "leave it out for the default, 10m")?
            }
            None => Duration::from_secs(600),
        };
        let checks = self
            .checks(t, &what, CheckHome::Probe, names)?
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        Ok(ProbeSpec {
            name: name.to_string(),
            command: command.text,
            pattern,
            timeout,
            checks,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn gate(
        &self,
        idx: usize,
        ns: usize,
        t: Tbl,
        name: &str,
        names: &Names,
        owners: &[Option<usize>],
        edges: &mut Vec<Edge>,
    ) -> Result<GateSpec, PlanError> {
        let what = format!("gate `{name}`");
        let me = ns + idx;
        let after = match t.get("after") {
            Some(v) => self.deps(v, &what, names, me, ns, edges)?,
            None => Vec::new(),
        };
        // A gate waits for the owners of the datasets it reads.
        let mut datasets = Vec::new();
        if let Some(v) = t.get("datasets") {
            for s in self.strings(v, "datasets", &what)? {
                let Some(&i) = names.datasets.get(&s.text) else {
                    let all: Vec<&str> = names.datasets.keys().map(String::as_str).collect();
                    let hint = suggest(&s.text, &all)
                        .map(|x| format!(" (did you mean `{x}`?)"))
                        .unwrap_or_default();
                    return Err(self.err(
                        s.span.start,
                        format!("`datasets` in {what}: unknown dataset `{}`{hint}", s.text),
                    ));
                };
                if let Some(o) = owners[i] {
                    edges.push(Edge {
                        from: me,
                        to: o,
                        at: s.span.start,
                    });
                }
                datasets.push(i);
            }
        }
        let mut probes = Vec::new();
        if let Some(v) = t.get("probes") {
            for s in self.strings(v, "probes", &what)? {
                let Some(&i) = names.probes.get(&s.text) else {
                    let all: Vec<&str> = names.probes.keys().map(String::as_str).collect();
                    let hint = suggest(&s.text, &all)
                        .map(|x| format!(" (did you mean `{x}`?)"))
                        .unwrap_or_default();
                    return Err(self.err(
                        s.span.start,
                        format!("`probes` in {what}: unknown probe `{}`{hint}", s.text),
                    ));
                };
                probes.push(i);
            }
        }
        let mut checks = Vec::new();
        for (c, s) in self.checks(t, &what, CheckHome::Gate, names)? {
            for src in check_sources(&c.check) {
                if let Some(o) = names.datasets.get(src).and_then(|&d| owners[d]) {
                    edges.push(Edge {
                        from: me,
                        to: o,
                        at: s.span.start,
                    });
                }
            }
            checks.push(c);
        }
        let approval = match t.get("approval") {
            Some(v) => self.one_of(
                v,
                "approval",
                &what,
                &[("auto", Approval::Auto), ("manual", Approval::Manual)],
            )?,
            None => Approval::Auto,
        };
        let allow_conditional = match t.get("allow_conditional") {
            Some(v) => self.boolean(v, "allow_conditional", &what)?,
            None => false,
        };
        Ok(GateSpec {
            name: name.to_string(),
            after,
            datasets,
            probes,
            checks,
            approval,
            allow_conditional,
        })
    }
}

/// The first cycle found, as edges, starting at the node defined first in the file.
fn find_cycle<'e>(n: usize, edges: &'e [Edge], starts: &[usize]) -> Option<Vec<&'e Edge>> {
    let mut adj: Vec<Vec<&Edge>> = vec![Vec::new(); n];
    for e in edges {
        adj[e.from].push(e);
    }
    fn dfs<'e>(
        u: usize,
        adj: &[Vec<&'e Edge>],
        color: &mut [u8],
        stack: &mut Vec<&'e Edge>,
    ) -> Option<Vec<&'e Edge>> {
        color[u] = 1;
        for &e in &adj[u] {
            stack.push(e);
            if color[e.to] == 1 {
                let from = stack.iter().rposition(|x| x.from == e.to).unwrap_or(0);
                return Some(stack[from..].to_vec());
            }
            if color[e.to] == 0
                && let Some(c) = dfs(e.to, adj, color, stack)
            {
                return Some(c);
            }
            stack.pop();
        }
        color[u] = 2;
        None
    }
    let mut color = vec![0u8; n];
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| starts.get(i).copied().unwrap_or(usize::MAX));
    for &s in &order {
        if color[s] == 0 {
            let mut stack = Vec::new();
            if let Some(mut c) = dfs(s, &adj, &mut color, &mut stack) {
                let first = (0..c.len())
                    .min_by_key(|&i| starts.get(c[i].from).copied().unwrap_or(usize::MAX))
                    .unwrap_or(0);
                c.rotate_left(first);
                return Some(c);
            }
        }
    }
    None
}

fn unknown_key_message(key: &str, what: &str, valid: &[&str]) -> String {
    match suggest(key, valid) {
        Some(s) => format!("unknown key `{key}` in {what}: did you mean `{s}`?"),
        None => format!(
            "unknown key `{key}` in {what} (valid keys: {})",
            valid.join(", ")
        ),
    }
}

/// The closest candidate, if it is close enough to be a likely typo.
fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4) && *d < c.len().max(word.len()))
        .min()
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn article(ty: &str) -> String {
    match ty {
        "integer" | "array" => format!("an {ty}"),
        _ => format!("a {ty}"),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cx(src: &str) -> Cx<'_> {
        let mut c = Cx::new(src, Path::new("t.toml"));
        c.vars.insert("agent".into(), "sim".into());
        c
    }

    /// Span of the first string value in `src` (for offset tests).
    fn first_string_span(src: &str) -> Range<usize> {
        let doc = DeTable::parse(src).unwrap();
        let (_, v) = doc.get_ref().iter().next().unwrap();
        v.span()
    }

    #[test]
    fn line_and_column() {
        let c = cx("ab\ncdé\nx");
        assert_eq!(c.pos(0), (1, 1));
        assert_eq!(c.pos(3), (2, 1));
        assert_eq!(c.pos(7), (2, 4)); // after the two-byte é
        assert_eq!(c.pos(8), (3, 1));
    }

    #[test]
    fn offsets_map_through_quotes_escapes_and_vars() {
        // Plain basic string: exact.
        let src = r#"k = "row_count > x""#;
        let c = cx(src);
        let span = first_string_span(src);
        let s = c.subst("row_count > x", span.clone(), "k", "t").unwrap();
        assert_eq!(&src[c.sub_pos(&s, 12)..c.sub_pos(&s, 12) + 1], "x");

        // Literal string: exact.
        let src = "k = 'a\\d b'";
        let c = cx(src);
        let span = first_string_span(src);
        let s = c.subst("a\\d b", span, "k", "t").unwrap();
        assert_eq!(&src[c.sub_pos(&s, 4)..c.sub_pos(&s, 4) + 1], "b");

        // Escapes before the offset.
        let src = r#"k = "\"q\" \u00e9 z""#;
        let c = cx(src);
        let span = first_string_span(src);
        let s = c.subst("\"q\" é z", span, "k", "t").unwrap();
        let z = "\"q\" é ".len();
        assert_eq!(&src[c.sub_pos(&s, z)..c.sub_pos(&s, z) + 1], "z");

        // A variable before the offset: offsets after it map back past `{agent}`.
        let src = r#"k = "{agent} {{x}} y""#;
        let c = cx(src);
        let span = first_string_span(src);
        let s = c.subst("{agent} {{x}} y", span, "k", "t").unwrap();
        assert_eq!(s.text, "sim {x} y");
        let y = s.text.find('y').unwrap();
        assert_eq!(&src[c.sub_pos(&s, y)..c.sub_pos(&s, y) + 1], "y");
        let x = s.text.find('x').unwrap();
        assert_eq!(&src[c.sub_pos(&s, x)..c.sub_pos(&s, x) + 1], "x");
        // Inside the substituted value: the `{` of the variable.
        assert_eq!(&src[c.sub_pos(&s, 1)..c.sub_pos(&s, 1) + 1], "{");

        // Multi-line basic string: the first newline is not content.
        let src = "k = \"\"\"\nab c\"\"\"";
        let c = cx(src);
        let span = first_string_span(src);
        let s = c.subst("ab c", span, "k", "t").unwrap();
        assert_eq!(&src[c.sub_pos(&s, 3)..c.sub_pos(&s, 3) + 1], "c");
    }

    #[test]
    fn braces() {
        let src = r#"k = "x""#;
        let c = cx(src);
        let span = first_string_span(src);
        assert_eq!(c.subst("{{}}", span.clone(), "k", "t").unwrap().text, "{}");
        let e = c.subst("a {nope} b", span.clone(), "k", "t").unwrap_err();
        assert!(e.message.contains("unknown variable `{nope}`"), "{e}");
        assert!(e.message.contains("defined: agent"), "{e}");
        let e = c.subst("a { b", span.clone(), "k", "t").unwrap_err();
        assert!(e.message.contains("write `{{`"), "{e}");
        let e = c.subst("a } b", span, "k", "t").unwrap_err();
        assert!(e.message.contains("write `}}`"), "{e}");
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("resart", SESSION_KEYS), Some("restart"));
        assert_eq!(suggest("timeot", SESSION_KEYS), Some("timeout"));
        assert_eq!(suggest("zzzzzz", SESSION_KEYS), None);
        assert_eq!(suggest("a", &["b"]), None);
    }
}
