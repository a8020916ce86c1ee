//! Parser for the check language (docs/checks.md): a tokenizer and a recursive descent over
//! its tokens. Errors carry the byte offset of the offending token.

use super::{Body, Check, Cmp, Expr, Filter, Literal, Metric, Op, Operand, Severity, Sign, Term};
use chrono::NaiveDate;
use std::fmt;

/// A check that does not parse: the byte offset of the problem and what is wrong.
/// `message` is complete on its own (it names the offset and what was found).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for ParseError {}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// `"name"` or `` `name` ``: a column (or source) name with any characters.
    Quoted(String),
    Num(f64),
    Date(NaiveDate),
    Str(String),
    LParen,
    RParen,
    Comma,
    Dot,
    Colon,
    Plus,
    Minus,
    PlusMinus,
    Percent,
    Tilde,
    Op(Op),
    End,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
}

fn err(offset: usize, what: impl fmt::Display) -> ParseError {
    ParseError {
        offset,
        message: format!("{what} at offset {offset}"),
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, ParseError> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if let Some((tok, len)) = punct(b, i) {
            i += len;
            out.push(Token { tok, start, end: i });
            continue;
        }
        let tok = match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'!' => return Err(err(i, "expected `!=`, found `!`")),
            b'\'' => {
                // 'string' with '' for a literal quote.
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    match text[j..].find('\'') {
                        None => return Err(err(i, "unterminated string (missing closing `'`)")),
                        Some(k) => {
                            s.push_str(&text[j..j + k]);
                            j += k + 1;
                            if b.get(j) == Some(&b'\'') {
                                s.push('\'');
                                j += 1;
                            } else {
                                break;
                            }
                        }
                    }
                }
                i = j;
                Tok::Str(s)
            }
            b'"' | b'`' => {
                let close = c as char;
                match text[i + 1..].find(close) {
                    None => {
                        return Err(err(
                            i,
                            format_args!("unterminated quoted name (missing closing `{close}`)"),
                        ));
                    }
                    Some(k) => {
                        let name = text[i + 1..i + 1 + k].to_string();
                        if name.is_empty() {
                            return Err(err(i, "empty quoted name"));
                        }
                        i += k + 2;
                        Tok::Quoted(name)
                    }
                }
            }
            b'0'..=b'9' => {
                let (tok, j) = number_or_date(text, i)?;
                i = j;
                tok
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let mut j = i;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                i = j;
                Tok::Ident(text[start..j].to_string())
            }
            _ => {
                if text[i..].starts_with('±') {
                    i += '±'.len_utf8();
                    Tok::PlusMinus
                } else {
                    let ch = text[i..].chars().next().unwrap_or('?');
                    return Err(err(i, format_args!("unexpected character `{ch}`")));
                }
            }
        };
        out.push(Token { tok, start, end: i });
    }
    out.push(Token {
        tok: Tok::End,
        start: text.len(),
        end: text.len(),
    });
    Ok(out)
}

/// Punctuation and operators at `i`: the token and how many bytes it takes.
fn punct(b: &[u8], i: usize) -> Option<(Tok, usize)> {
    Some(match (b[i], b.get(i + 1).copied()) {
        (b'(', _) => (Tok::LParen, 1),
        (b')', _) => (Tok::RParen, 1),
        (b',', _) => (Tok::Comma, 1),
        (b'.', _) => (Tok::Dot, 1),
        (b':', _) => (Tok::Colon, 1),
        (b'%', _) => (Tok::Percent, 1),
        (b'~', _) => (Tok::Tilde, 1),
        (b'+', Some(b'-')) => (Tok::PlusMinus, 2),
        (b'+', _) => (Tok::Plus, 1),
        (b'-', _) => (Tok::Minus, 1),
        (b'=', Some(b'=')) => (Tok::Op(Op::Eq), 2),
        (b'=', _) => (Tok::Op(Op::Eq), 1),
        (b'!', Some(b'=')) => (Tok::Op(Op::Ne), 2),
        (b'<', Some(b'=')) => (Tok::Op(Op::Le), 2),
        (b'<', Some(b'>')) => (Tok::Op(Op::Ne), 2),
        (b'<', _) => (Tok::Op(Op::Lt), 1),
        (b'>', Some(b'=')) => (Tok::Op(Op::Ge), 2),
        (b'>', _) => (Tok::Op(Op::Gt), 1),
        _ => return None,
    })
}

/// A number (`2000000`, `2_000_000`, `1.5`) or a date (`2025-01-01`) starting at `i`.
fn number_or_date(text: &str, i: usize) -> Result<(Tok, usize), ParseError> {
    let b = text.as_bytes();
    let digits = |from: usize| {
        let mut j = from;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        j
    };
    // YYYY-MM-DD
    if i + 10 <= b.len()
        && digits(i) == i + 4
        && b[i + 4] == b'-'
        && digits(i + 5) == i + 7
        && b[i + 7] == b'-'
        && digits(i + 8) == i + 10
        && !b
            .get(i + 10)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    {
        let s = &text[i..i + 10];
        return match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) => Ok((Tok::Date(d), i + 10)),
            Err(_) => Err(err(i, format_args!("invalid date `{s}`"))),
        };
    }
    let mut j = i;
    let mut clean = String::new();
    while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'_') {
        if b[j] == b'_' {
            if !b.get(j + 1).is_some_and(u8::is_ascii_digit) {
                return Err(err(j, "a `_` in a number must be followed by a digit"));
            }
        } else {
            clean.push(b[j] as char);
        }
        j += 1;
    }
    if j < b.len() && b[j] == b'.' && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
        clean.push('.');
        j += 1;
        while j < b.len() && b[j].is_ascii_digit() {
            clean.push(b[j] as char);
            j += 1;
        }
    }
    if j < b.len() && (b[j].is_ascii_alphabetic() || b[j] == b'_') {
        let mut k = j;
        while k < b.len() && (b[k].is_ascii_alphanumeric() || b[k] == b'_') {
            k += 1;
        }
        return Err(err(i, format_args!("invalid number `{}`", &text[i..k])));
    }
    let n: f64 = clean
        .parse()
        .map_err(|_| err(i, format_args!("invalid number `{}`", &text[i..j])))?;
    Ok((Tok::Num(n), j))
}

const COMPARISON: &str = "a comparison (=, !=, <, <=, >, >=, between, ~)";
const METRICS: &str = "a metric (row_count, file_count, bytes, exit_code, value, sum, mean, min, max, null_count, distinct_count, duplicate_count)";

struct Parser<'a> {
    text: &'a str,
    toks: Vec<Token>,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
    }
    fn peek_at(&self, k: usize) -> &Tok {
        let i = (self.pos + k).min(self.toks.len() - 1);
        &self.toks[i].tok
    }
    fn offset(&self) -> usize {
        self.toks[self.pos].start
    }
    fn bump(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }
    fn found(&self) -> String {
        let t = &self.toks[self.pos];
        if t.tok == Tok::End {
            "the end of the check".to_string()
        } else {
            format!("`{}`", &self.text[t.start..t.end])
        }
    }
    fn expected<T>(&self, what: &str) -> Result<T, ParseError> {
        let offset = self.offset();
        Err(ParseError {
            offset,
            message: format!("expected {what} at offset {offset}, found {}", self.found()),
        })
    }
    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == kw)
    }
    fn expect(&mut self, tok: Tok, what: &str) -> Result<(), ParseError> {
        if *self.peek() == tok {
            self.bump();
            Ok(())
        } else {
            self.expected(what)
        }
    }

    /// A column (or source) name: identifier or quoted name.
    fn name(&mut self, what: &str) -> Result<String, ParseError> {
        match self.peek().clone() {
            Tok::Ident(s) | Tok::Quoted(s) => {
                self.bump();
                Ok(s)
            }
            _ => self.expected(what),
        }
    }

    fn check(&mut self) -> Result<Check, ParseError> {
        let mut severity = Severity::Error;
        if let (Tok::Ident(s), Tok::Colon) = (self.peek(), self.peek_at(1)) {
            match s.as_str() {
                "warn" => severity = Severity::Warn,
                "error" => severity = Severity::Error,
                _ => {
                    let offset = self.offset();
                    return Err(ParseError {
                        offset,
                        message: format!(
                            "expected `warn:` or `error:` at offset {offset}, found {}",
                            self.found()
                        ),
                    });
                }
            }
            self.bump();
            self.bump();
        }
        let body = self.body()?;
        if *self.peek() != Tok::End {
            let offset = self.offset();
            return Err(ParseError {
                offset,
                message: format!(
                    "unexpected {} at offset {offset} after a complete check",
                    self.found()
                ),
            });
        }
        Ok(Check { severity, body })
    }

    fn body(&mut self) -> Result<Body, ParseError> {
        if *self.peek() == Tok::End {
            return self.expected("a check");
        }
        if self.is_kw("exists") && *self.peek_at(1) == Tok::End {
            self.bump();
            return Ok(Body::Exists);
        }
        if matches!(self.peek(), Tok::Ident(_) | Tok::Quoted(_))
            && matches!(self.peek_at(1), Tok::Ident(s) if s == "in")
        {
            let column = self.name("a column")?;
            self.bump(); // in
            if *self.peek() == Tok::LParen {
                self.bump();
                let mut values = vec![self.literal()?];
                while *self.peek() == Tok::Comma {
                    self.bump();
                    values.push(self.literal()?);
                }
                self.expect(Tok::RParen, "`,` or `)`")?;
                return Ok(Body::InList { column, values });
            }
            let dataset = self.name("a dataset name or `(`")?;
            self.expect(Tok::Dot, "`.` between dataset and column")?;
            let other_column = self.name("a column")?;
            return Ok(Body::InDataset {
                column,
                dataset,
                other_column,
            });
        }
        let lhs = self.expr()?;
        let cmp = self.cmp()?;
        Ok(Body::Compare { lhs, cmp })
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        let mut terms = vec![(Sign::Plus, self.term()?)];
        loop {
            let sign = match self.peek() {
                Tok::Plus => Sign::Plus,
                Tok::Minus => Sign::Minus,
                _ => break,
            };
            self.bump();
            terms.push((sign, self.term()?));
        }
        Ok(Expr { terms })
    }

    fn term(&mut self) -> Result<Term, ParseError> {
        let mut source = None;
        if matches!(self.peek(), Tok::Ident(_) | Tok::Quoted(_)) && *self.peek_at(1) == Tok::Dot {
            source = Some(self.name("a source")?);
            self.bump(); // .
        }
        let metric = self.metric()?;
        let mut filter = None;
        if self.is_kw("where") {
            self.bump();
            let column = self.name("a column after `where`")?;
            let op = match self.peek() {
                Tok::Op(op) => *op,
                _ => return self.expected("an operator (=, !=, <, <=, >, >=)"),
            };
            self.bump();
            let value = self.literal()?;
            filter = Some(Filter { column, op, value });
        }
        Ok(Term {
            source,
            metric,
            filter,
        })
    }

    fn metric(&mut self) -> Result<Metric, ParseError> {
        let Tok::Ident(name) = self.peek().clone() else {
            return self.expected(METRICS);
        };
        let simple = match name.as_str() {
            "row_count" => Some(Metric::RowCount),
            "file_count" => Some(Metric::FileCount),
            "bytes" => Some(Metric::Bytes),
            "exit_code" => Some(Metric::ExitCode),
            "value" => Some(Metric::Value),
            _ => None,
        };
        if let Some(m) = simple {
            self.bump();
            return Ok(m);
        }
        let multi = matches!(name.as_str(), "distinct_count" | "duplicate_count");
        if !multi && !matches!(name.as_str(), "sum" | "mean" | "min" | "max" | "null_count") {
            return self.expected(METRICS);
        }
        self.bump();
        self.expect(Tok::LParen, &format!("`(` after `{name}`"))?;
        let mut cols = vec![self.name("a column")?];
        if multi {
            while *self.peek() == Tok::Comma {
                self.bump();
                cols.push(self.name("a column")?);
            }
            self.expect(Tok::RParen, "`,` or `)`")?;
        } else {
            self.expect(Tok::RParen, &format!("`)` (`{name}` takes one column)"))?;
        }
        let col = cols[0].clone();
        Ok(match name.as_str() {
            "sum" => Metric::Sum(col),
            "mean" => Metric::Mean(col),
            "min" => Metric::Min(col),
            "max" => Metric::Max(col),
            "null_count" => Metric::NullCount(col),
            "distinct_count" => Metric::DistinctCount(cols),
            _ => Metric::DuplicateCount(cols),
        })
    }

    fn number(&mut self) -> Result<f64, ParseError> {
        let neg = if *self.peek() == Tok::Minus && matches!(self.peek_at(1), Tok::Num(_)) {
            self.bump();
            true
        } else {
            false
        };
        match *self.peek() {
            Tok::Num(n) => {
                self.bump();
                Ok(if neg { -n } else { n })
            }
            _ => self.expected("a number"),
        }
    }

    fn literal(&mut self) -> Result<Literal, ParseError> {
        match self.peek().clone() {
            Tok::Num(_) | Tok::Minus => Ok(Literal::Number(self.number()?)),
            Tok::Date(d) => {
                self.bump();
                Ok(Literal::Date(d))
            }
            Tok::Str(s) => {
                self.bump();
                Ok(Literal::Str(s))
            }
            _ => self.expected("a literal (number, YYYY-MM-DD date or 'string')"),
        }
    }

    fn cmp(&mut self) -> Result<Cmp, ParseError> {
        match self.peek().clone() {
            Tok::Op(op) => {
                self.bump();
                let operand = match self.peek() {
                    Tok::Num(_) | Tok::Date(_) | Tok::Str(_) | Tok::Minus => {
                        Operand::Literal(self.literal()?)
                    }
                    Tok::Ident(_) | Tok::Quoted(_) => Operand::Expr(self.expr()?),
                    _ => {
                        return self.expected("a literal or a metric after the operator");
                    }
                };
                Ok(Cmp::Op(op, operand))
            }
            Tok::Ident(s) if s == "between" => {
                self.bump();
                let lo = self.literal()?;
                if !self.is_kw("and") {
                    return self.expected("`and`");
                }
                self.bump();
                let hi = self.literal()?;
                Ok(Cmp::Between(lo, hi))
            }
            Tok::Tilde => {
                self.bump();
                let target = self.number()?;
                if *self.peek() != Tok::PlusMinus {
                    return self.expected("`±` or `+-`");
                }
                self.bump();
                let tol = self.number()?;
                if tol < 0.0 {
                    let offset = self.toks[self.pos - 1].start;
                    return Err(err(offset, "a tolerance cannot be negative"));
                }
                let percent = if *self.peek() == Tok::Percent {
                    self.bump();
                    true
                } else {
                    false
                };
                Ok(Cmp::Approx {
                    target,
                    tol,
                    percent,
                })
            }
            _ => self.expected(COMPARISON),
        }
    }
}

/// Parse one check string.
pub fn parse(text: &str) -> Result<Check, ParseError> {
    let toks = tokenize(text)?;
    Parser { text, toks, pos: 0 }.check()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Check {
        parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }
    fn bad(s: &str) -> ParseError {
        parse(s).expect_err(s)
    }
    fn col(s: &str) -> String {
        s.to_string()
    }
    fn term(metric: Metric) -> Term {
        Term {
            source: None,
            metric,
            filter: None,
        }
    }
    fn cmp_of(c: &Check) -> (&Expr, &Cmp) {
        match &c.body {
            Body::Compare { lhs, cmp } => (lhs, cmp),
            b => panic!("not a comparison: {b:?}"),
        }
    }

    #[test]
    fn exists_and_severity() {
        assert_eq!(ok("exists").body, Body::Exists);
        assert_eq!(ok("exists").severity, Severity::Error);
        assert_eq!(ok("warn: exists").severity, Severity::Warn);
        assert_eq!(ok("error:exists").severity, Severity::Error);
    }

    #[test]
    fn simple_metrics() {
        for (s, m) in [
            ("row_count > 0", Metric::RowCount),
            ("file_count = 3", Metric::FileCount),
            ("bytes >= 10", Metric::Bytes),
            ("exit_code = 0", Metric::ExitCode),
            ("value <= 1.5", Metric::Value),
            ("sum(spend) > 1", Metric::Sum(col("spend"))),
            ("mean(ctr) < 1", Metric::Mean(col("ctr"))),
            ("min(date) >= 2025-01-01", Metric::Min(col("date"))),
            ("max(date) <= 2025-12-31", Metric::Max(col("date"))),
            (
                "null_count(campaign_name) = 0",
                Metric::NullCount(col("campaign_name")),
            ),
            (
                "distinct_count(market) = 3",
                Metric::DistinctCount(vec![col("market")]),
            ),
            (
                "duplicate_count(campaign_id, date) = 0",
                Metric::DuplicateCount(vec![col("campaign_id"), col("date")]),
            ),
        ] {
            let c = ok(s);
            let (lhs, _) = cmp_of(&c);
            assert_eq!(lhs.terms, vec![(Sign::Plus, term(m))], "{s}");
        }
    }

    #[test]
    fn comparisons() {
        let c = ok("row_count ~ 8000 ± 20%");
        assert_eq!(
            cmp_of(&c).1,
            &Cmp::Approx {
                target: 8000.0,
                tol: 20.0,
                percent: true
            }
        );
        let c = ok("sum(spend) ~ 2_000_000 +- 100000");
        assert_eq!(
            cmp_of(&c).1,
            &Cmp::Approx {
                target: 2_000_000.0,
                tol: 100_000.0,
                percent: false
            }
        );
        let c = ok("min(x) between -3 and 1.5");
        assert_eq!(
            cmp_of(&c).1,
            &Cmp::Between(Literal::Number(-3.0), Literal::Number(1.5))
        );
        for (s, op) in [
            ("value = 1", Op::Eq),
            ("value != 1", Op::Ne),
            ("value < 1", Op::Lt),
            ("value <= 1", Op::Le),
            ("value > 1", Op::Gt),
            ("value >= 1", Op::Ge),
        ] {
            assert_eq!(
                cmp_of(&ok(s)).1,
                &Cmp::Op(op, Operand::Literal(Literal::Number(1.0)))
            );
        }
        let c = ok("max(name) = 'it''s'");
        assert_eq!(
            cmp_of(&c).1,
            &Cmp::Op(Op::Eq, Operand::Literal(Literal::Str("it's".into())))
        );
    }

    #[test]
    fn where_sources_and_sums() {
        let c = ok("warn: row_count where market = 'UK' ~ 2800 ± 10%");
        assert_eq!(c.severity, Severity::Warn);
        let (lhs, _) = cmp_of(&c);
        assert_eq!(
            lhs.terms[0].1.filter,
            Some(Filter {
                column: col("market"),
                op: Op::Eq,
                value: Literal::Str("UK".into())
            })
        );
        let c = ok("meta_ads.sum(spend) + google_ads.sum(spend) - tv.sum(spend) ~ 3600000 ± 5%");
        let (lhs, _) = cmp_of(&c);
        assert_eq!(lhs.terms.len(), 3);
        assert_eq!(lhs.terms[1].0, Sign::Plus);
        assert_eq!(lhs.terms[2].0, Sign::Minus);
        assert_eq!(lhs.terms[2].1.source.as_deref(), Some("tv"));
        let c = ok("leads.row_count > test_drives.row_count");
        match cmp_of(&c).1 {
            Cmp::Op(Op::Gt, Operand::Expr(e)) => {
                assert_eq!(e.terms[0].1.source.as_deref(), Some("test_drives"))
            }
            x => panic!("{x:?}"),
        }
        let c = ok("row_count where date >= 2025-09-01 > 0");
        let (lhs, _) = cmp_of(&c);
        assert_eq!(
            lhs.terms[0].1.filter.as_ref().unwrap().value,
            Literal::Date(NaiveDate::from_ymd_opt(2025, 9, 1).unwrap())
        );
    }

    #[test]
    fn in_forms_and_quoted_names() {
        assert_eq!(
            ok("dealer_id in dealers.dealer_id").body,
            Body::InDataset {
                column: col("dealer_id"),
                dataset: col("dealers"),
                other_column: col("dealer_id")
            }
        );
        assert_eq!(
            ok("market in ('UK', 'DE', 'FR')").body,
            Body::InList {
                column: col("market"),
                values: vec![
                    Literal::Str("UK".into()),
                    Literal::Str("DE".into()),
                    Literal::Str("FR".into())
                ]
            }
        );
        let c = ok("sum(`Spend (£)`) > 0");
        assert_eq!(
            cmp_of(&c).0.terms[0].1.metric,
            Metric::Sum(col("Spend (£)"))
        );
        let c = ok("null_count(\"first name\") = 0");
        assert_eq!(
            cmp_of(&c).0.terms[0].1.metric,
            Metric::NullCount(col("first name"))
        );
    }

    #[test]
    fn errors_with_offsets() {
        let e = bad("sum(spend) spend");
        assert_eq!(e.offset, 11);
        assert_eq!(
            e.message,
            "expected a comparison (=, !=, <, <=, >, >=, between, ~) at offset 11, found `spend`"
        );
        let e = bad("row_count where market = 'UK' ~ 2800 10%");
        assert_eq!(e.offset, 37);
        assert!(e.message.contains("`±` or `+-`"), "{}", e.message);
        let e = bad("sum(spend > 3");
        assert_eq!(e.offset, 10);
        let e = bad("rows > 3");
        assert_eq!(e.offset, 0);
        assert!(e.message.starts_with("expected a metric"), "{}", e.message);
        let e = bad("min(date) >= 2025-13-01");
        assert_eq!(
            (e.offset, e.message.as_str()),
            (13, "invalid date `2025-13-01` at offset 13")
        );
        let e = bad("market in ('UK', 'DE'");
        assert_eq!(e.offset, 21);
        assert!(
            e.message.ends_with("found the end of the check"),
            "{}",
            e.message
        );
        let e = bad("market = 'UK");
        assert_eq!(e.offset, 9);
        let e = bad("row_count > 3 3");
        assert_eq!(e.offset, 14);
        let e = bad("fatal: exists");
        assert_eq!(e.offset, 0);
        let e = bad("");
        assert_eq!(e.offset, 0);
        let e = bad("value between 1 or 2");
        assert_eq!(e.offset, 16);
        let e = bad("value > 12abc");
        assert_eq!(e.offset, 8);
        let e = bad("value ~ 3 ± -1");
        assert!(e.message.contains("negative"), "{}", e.message);
        let e = bad("value # 3");
        assert_eq!(e.offset, 6);
        let e = bad("row_count ~ 8000 ± 20% ±");
        assert_eq!(e.offset, "row_count ~ 8000 ± 20% ".len());
    }
}
