//! Parser for the check language (docs/checks.md): a tokenizer and a recursive descent over
//! its tokens. Errors carry the byte offset of the offending token.

mod tokens;

use super::{Body, Check, Cmp, Expr, Filter, Literal, Metric, Operand, Severity, Sign, Term};
use std::fmt;
use tokens::{Tok, Token, tokenize};

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

fn err(offset: usize, what: impl fmt::Display) -> ParseError {
    ParseError {
        offset,
        message: format!("{what} at offset {offset}"),
    }
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
mod tests;
