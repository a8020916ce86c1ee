//! Reading the plan's TOML: positions (file:line:col), tables and typed values.
//!
//! The TOML is parsed into toml's spanned document tree (`DeTable`), which keeps the
//! byte range of every key and value; we walk it by hand rather than through serde so
//! that every error can say exactly where it is and what the valid choices are.

use super::PlanError;
use super::vars::Substituted;
use regex::Regex;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

pub(super) type Value<'i> = Spanned<DeValue<'i>>;

/// The plan's text and where it came from; every builder is a method on it.
pub(super) struct Reader<'s> {
    pub(super) src: &'s str,
    pub(super) file: PathBuf,
    line_starts: Vec<usize>,
    /// Variables by name, final once `resolve_vars` has run.
    pub(super) vars: BTreeMap<String, String>,
}

impl<'s> Reader<'s> {
    pub(super) fn new(src: &'s str, file: &Path) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        Reader {
            src,
            file: file.to_path_buf(),
            line_starts,
            vars: BTreeMap::new(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub(super) fn pos(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.src.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let col = match self.src.get(start..offset) {
            Some(s) => s.chars().count(),
            None => offset - start,
        };
        (line + 1, col + 1)
    }

    pub(super) fn err(&self, offset: usize, message: impl Into<String>) -> PlanError {
        let (line, col) = self.pos(offset);
        PlanError {
            file: self.file.clone(),
            line,
            col,
            message: message.into(),
        }
    }

    // ---- tables and keys ------------------------------------------------------------

    pub(super) fn check_keys(&self, t: Table, valid: &[&str], what: &str) -> Result<(), PlanError> {
        for (k, at, _) in t.entries() {
            if !valid.contains(&k) {
                return Err(self.err(at, unknown_key_message(k, what, valid)));
            }
        }
        Ok(())
    }

    pub(super) fn table<'a, 'i>(
        &self,
        v: &'a Value<'i>,
        key: &str,
        what: &str,
    ) -> Result<Table<'a, 'i>, PlanError> {
        match v.get_ref() {
            DeValue::Table(map) => Ok(Table {
                map,
                start: v.span().start,
            }),
            other => Err(self.type_err(v, key, what, "a table", other)),
        }
    }

    /// `[[name]]`: an array of tables (missing means none).
    pub(super) fn table_array<'a, 'i>(
        &self,
        top: Table<'a, 'i>,
        key: &str,
    ) -> Result<Vec<Table<'a, 'i>>, PlanError> {
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
                DeValue::Table(map) => Ok(Table {
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

    pub(super) fn type_err(
        &self,
        v: &Value,
        key: &str,
        what: &str,
        want: &str,
        got: &DeValue,
    ) -> PlanError {
        self.err(
            v.span().start,
            format!(
                "`{key}` in {what} must be {want}, not {}",
                article(got.type_str())
            ),
        )
    }

    pub(super) fn string(
        &self,
        v: &Value,
        key: &str,
        what: &str,
    ) -> Result<Substituted, PlanError> {
        match v.get_ref() {
            DeValue::String(s) => self.subst(s, v.span(), key, what),
            other => Err(self.type_err(v, key, what, "a string", other)),
        }
    }

    pub(super) fn strings(
        &self,
        v: &Value,
        key: &str,
        what: &str,
    ) -> Result<Vec<Substituted>, PlanError> {
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

    pub(super) fn int(&self, v: &Value, key: &str, what: &str) -> Result<i64, PlanError> {
        match v.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .map_err(|_| self.err(v.span().start, format!("`{key}` in {what} is too large"))),
            other => Err(self.type_err(v, key, what, "an integer", other)),
        }
    }

    pub(super) fn int_in(
        &self,
        v: &Value,
        key: &str,
        what: &str,
        min: i64,
        max: i64,
    ) -> Result<i64, PlanError> {
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

    pub(super) fn boolean(&self, v: &Value, key: &str, what: &str) -> Result<bool, PlanError> {
        match v.get_ref() {
            DeValue::Boolean(b) => Ok(*b),
            other => Err(self.type_err(v, key, what, "true or false", other)),
        }
    }

    pub(super) fn duration(&self, v: &Value, key: &str, what: &str) -> Result<Duration, PlanError> {
        let s = self.string(v, key, what)?;
        crate::duration::parse(&s.text)
            .map_err(|m| self.err(v.span().start, format!("`{key}` in {what}: {m}")))
    }

    /// A duration that must not be zero; `why` tells the user what to do instead.
    pub(super) fn positive_duration(
        &self,
        v: &Value,
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

    pub(super) fn regex(&self, s: &Substituted, key: &str, what: &str) -> Result<Regex, PlanError> {
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

    pub(super) fn one_of<T: Copy>(
        &self,
        v: &Value,
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

    pub(super) fn glob(&self, s: &Substituted, key: &str, what: &str) -> Result<(), PlanError> {
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
}

/// A table and where it starts (its `[header]` or its `{`).
#[derive(Clone, Copy)]
pub(super) struct Table<'a, 'i> {
    pub(super) map: &'a DeTable<'i>,
    pub(super) start: usize,
}

impl<'a, 'i> Table<'a, 'i> {
    pub(super) fn get(&self, key: &str) -> Option<&'a Value<'i>> {
        self.map
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(_, v)| v)
    }
    /// Entries in file order: (key, key offset, value).
    pub(super) fn entries(&self) -> Vec<(&'a str, usize, &'a Value<'i>)> {
        let mut v: Vec<_> = self
            .map
            .iter()
            .map(|(k, v)| (k.get_ref().as_ref(), k.span().start, v))
            .collect();
        v.sort_by_key(|e| e.1);
        v
    }
}

pub(super) fn unknown_key_message(key: &str, what: &str, valid: &[&str]) -> String {
    match suggest(key, valid) {
        Some(s) => format!("unknown key `{key}` in {what}: did you mean `{s}`?"),
        None => format!(
            "unknown key `{key}` in {what} (valid keys: {})",
            valid.join(", ")
        ),
    }
}

/// The closest candidate, if it is close enough to be a likely typo.
pub(super) fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
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

pub(super) fn article(ty: &str) -> String {
    match ty {
        "integer" | "array" => format!("an {ty}"),
        _ => format!("a {ty}"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::session::SESSION_KEYS;
    use super::*;

    fn reader(src: &str) -> Reader<'_> {
        let mut c = Reader::new(src, Path::new("t.toml"));
        c.vars.insert("agent".into(), "sim".into());
        c
    }

    #[test]
    fn line_and_column() {
        let c = reader("ab\ncdé\nx");
        assert_eq!(c.pos(0), (1, 1));
        assert_eq!(c.pos(3), (2, 1));
        assert_eq!(c.pos(7), (2, 4)); // after the two-byte é
        assert_eq!(c.pos(8), (3, 1));
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("resart", SESSION_KEYS), Some("restart"));
        assert_eq!(suggest("timeot", SESSION_KEYS), Some("timeout"));
        assert_eq!(suggest("zzzzzz", SESSION_KEYS), None);
        assert_eq!(suggest("a", &["b"]), None);
    }
}
