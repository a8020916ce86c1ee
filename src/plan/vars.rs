//! `{name}` variables: `[vars]` resolved (they may use each other; the command line
//! wins and is literal), substituted into string values, and offsets in the result
//! mapped back to the plan file.

use super::PlanError;
use super::reader::{Reader, Table};
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use toml::de::DeValue;

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
pub(super) struct Substituted {
    pub(super) text: String,
    /// The value's span in the file (quotes included).
    pub(super) span: Range<usize>,
    /// (offset in `text`, offset in the decoded original, is a variable)
    pub(super) segs: Vec<(usize, usize, bool)>,
}

/// A `[vars]` string not yet expanded.
struct Pending {
    name: String,
    /// The decoded value, `{name}`s and all.
    raw: String,
    span: Range<usize>,
}

impl Reader<'_> {
    /// Fill `self.vars`. The command line wins and is taken literally (its braces are
    /// the user's); a `[vars]` string may use other variables, and a loop is an error.
    pub(super) fn resolve_vars(
        &mut self,
        table: Option<Table>,
        cli: &BTreeMap<String, String>,
    ) -> Result<(), PlanError> {
        self.vars = cli.clone();
        // String values still to expand, in file order.
        let mut pending: Vec<Pending> = Vec::new();
        for (k, _, val) in table.map(|t| t.entries()).unwrap_or_default() {
            if cli.contains_key(k) {
                continue;
            }
            let text = match val.get_ref() {
                DeValue::String(s) => {
                    pending.push(Pending {
                        name: k.to_string(),
                        raw: s.to_string(),
                        span: val.span(),
                    });
                    s.to_string()
                }
                DeValue::Integer(_) | DeValue::Float(_) | DeValue::Boolean(_) => {
                    self.src[val.span()].to_string()
                }
                other => return Err(self.type_err(val, k, "[vars]", "a string", other)),
            };
            // Until expanded, a value stands for itself (so unknown-name errors list it).
            self.vars.insert(k.to_string(), text);
        }
        self.expand_vars(&pending)
    }

    /// Expand every pending value after the pending values it uses: a depth-first walk
    /// with its own stack (a long chain of variables cannot overflow the thread's).
    fn expand_vars(&mut self, pending: &[Pending]) -> Result<(), PlanError> {
        let index: HashMap<&str, usize> = pending
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.as_str(), i))
            .collect();
        // Per value, the pending values it uses: (index, offset of the `{`).
        let uses: Vec<Vec<(usize, usize)>> = pending
            .iter()
            .map(|p| {
                var_references(&p.raw)
                    .into_iter()
                    .filter_map(|(name, offset)| index.get(name).map(|&j| (j, offset)))
                    .collect()
            })
            .collect();
        let mut done = vec![false; pending.len()];
        let mut on_chain = vec![false; pending.len()];
        for first in 0..pending.len() {
            if done[first] {
                continue;
            }
            // The expansion under way: (value, how many of its uses are handled).
            let mut chain: Vec<(usize, usize)> = vec![(first, 0)];
            on_chain[first] = true;
            while let Some(&(i, next)) = chain.last() {
                let Some(&(j, offset)) = uses[i].get(next) else {
                    let p = &pending[i];
                    let value = self.subst(&p.raw, p.span.clone(), &p.name, "[vars]")?.text;
                    self.vars.insert(p.name.clone(), value);
                    done[i] = true;
                    on_chain[i] = false;
                    chain.pop();
                    continue;
                };
                if let Some(last) = chain.last_mut() {
                    last.1 += 1;
                }
                if done[j] {
                    continue;
                }
                if on_chain[j] {
                    let from = chain.iter().position(|&(c, _)| c == j).unwrap_or(0);
                    let mut path: Vec<&str> = chain[from..]
                        .iter()
                        .map(|&(c, _)| pending[c].name.as_str())
                        .collect();
                    path.push(&pending[j].name);
                    let message = if path.len() == 2 {
                        format!("variable `{}` in [vars] uses itself", pending[i].name)
                    } else {
                        format!(
                            "variable loop in [vars]: {} (each uses the next, so none has a value)",
                            path.join(" -> ")
                        )
                    };
                    return Err(self.err(self.src_offset(&pending[i].span, offset), message));
                }
                on_chain[j] = true;
                chain.push((j, 0));
            }
        }
        Ok(())
    }

    /// Replace `{name}` by its variable; `{{` and `}}` are literal braces.
    pub(super) fn subst(
        &self,
        raw: &str,
        span: Range<usize>,
        key: &str,
        what: &str,
    ) -> Result<Substituted, PlanError> {
        let b = raw.as_bytes();
        let mut out = String::with_capacity(raw.len());
        let mut segs = vec![(0, 0, false)];
        let mut i = 0;
        let mut lit = 0; // start of the pending literal run
        let fail = |dec: usize, msg: String| {
            let sub = Substituted {
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
        Ok(Substituted {
            text: out,
            span,
            segs,
        })
    }

    /// File offset of byte `off` of a substituted string.
    pub(super) fn sub_pos(&self, sub: &Substituted, off: usize) -> usize {
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
    pub(super) fn src_offset(&self, span: &Range<usize>, dec: usize) -> usize {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use toml::de::DeTable;

    fn reader(src: &str) -> Reader<'_> {
        let mut c = Reader::new(src, Path::new("t.toml"));
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
    fn offsets_map_through_quotes_escapes_and_vars() {
        // Plain basic string: exact.
        let src = r#"k = "row_count > x""#;
        let c = reader(src);
        let span = first_string_span(src);
        let s = c.subst("row_count > x", span.clone(), "k", "t").unwrap();
        assert_eq!(&src[c.sub_pos(&s, 12)..c.sub_pos(&s, 12) + 1], "x");

        // Literal string: exact.
        let src = "k = 'a\\d b'";
        let c = reader(src);
        let span = first_string_span(src);
        let s = c.subst("a\\d b", span, "k", "t").unwrap();
        assert_eq!(&src[c.sub_pos(&s, 4)..c.sub_pos(&s, 4) + 1], "b");

        // Escapes before the offset.
        let src = r#"k = "\"q\" \u00e9 z""#;
        let c = reader(src);
        let span = first_string_span(src);
        let s = c.subst("\"q\" é z", span, "k", "t").unwrap();
        let z = "\"q\" é ".len();
        assert_eq!(&src[c.sub_pos(&s, z)..c.sub_pos(&s, z) + 1], "z");

        // A variable before the offset: offsets after it map back past `{agent}`.
        let src = r#"k = "{agent} {{x}} y""#;
        let c = reader(src);
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
        let c = reader(src);
        let span = first_string_span(src);
        let s = c.subst("ab c", span, "k", "t").unwrap();
        assert_eq!(&src[c.sub_pos(&s, 3)..c.sub_pos(&s, 3) + 1], "c");
    }

    #[test]
    fn braces() {
        let src = r#"k = "x""#;
        let c = reader(src);
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
}
