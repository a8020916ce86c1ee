//! The check language (docs/checks.md), the dataset readers and the evaluation of checks.
//!
//! - `parse`: one check string → [`Check`] (`parse/tokens.rs` tokenizes, `parse/mod.rs`
//!   descends; errors carry the byte offset and say what was expected and found).
//! - `metrics`: what to measure in a dataset (`metrics/need.rs`, [`metrics::Need`]) and
//!   the mergeable one-pass accumulators (`metrics/mod.rs`); `hash.rs` and `values.rs`
//!   hold the key hashes and the strict number/date parsing they use.
//! - `read`: CSV/TSV (`read/csv.rs` chunks, `read/csv_fields.rs` parses records), JSONL,
//!   text, and decompression.
//! - `parquet`: Parquet (footer row counts, projected columns; `parquet/batch.rs` folds
//!   one decoded batch).
//! - `eval`: the [`Checker`] — reads each file once for all checks touching it
//!   (`eval/snapshot.rs`, kept until size/mtime change), computes term values
//!   (`eval/value.rs`), runs probes (`eval/probe.rs`) and answers dataset, probe and gate
//!   checks (`eval/mod.rs`).
//! - `spec`: what the checker is asked to check ([`CheckPlan`]); the plan builds it, so
//!   nothing here imports the plan.
//! - `text`: how values, literals, expressions and what a check expected ([`Expected`])
//!   are written — the one place; results carry [`Expected`] as data.
//! - `format`: a dataset file's format and compression, from its name.
//!
//! A new metric: a `Metric` variant here, its word in `parse/mod.rs`, its name in
//! `text.rs`, what it needs read in `metrics/need.rs` (and an accumulator field in
//! `metrics/mod.rs` if no existing one measures it), and its value in `eval/value.rs`.

mod eval;
mod format;
pub mod metrics;
mod parquet;
mod parse;
pub mod read;
pub mod spec;
pub mod text;

pub use eval::{Checker, ProbeOutcome, run_command};
pub use format::{Compression, Format};
pub use parse::{ParseError, parse};
pub use spec::{CheckPlan, CheckSpec, DatasetChecks, GateChecks, ProbeChecks};

use chrono::NaiveDate;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warn,
}

/// One parsed check.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub severity: Severity,
    pub body: Body,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// `exists`: at least one file matches.
    Exists,
    /// `expr cmp`
    Compare { lhs: Expr, cmp: Cmp },
    /// `column in dataset.column`: every non-null value exists there.
    InDataset {
        column: String,
        dataset: String,
        other_column: String,
    },
    /// `column in ('a', 'b')`: accepted values.
    InList {
        column: String,
        values: Vec<Literal>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    Plus,
    Minus,
}

/// `term { (+|-) term }`; the first term's sign is `Plus`.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub terms: Vec<(Sign, Term)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// `source.` prefix (required in gate checks, implicit elsewhere).
    pub source: Option<String>,
    pub metric: Metric,
    pub filter: Option<Filter>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Metric {
    RowCount,
    FileCount,
    Bytes,
    ExitCode,
    Value,
    Sum(String),
    Mean(String),
    Min(String),
    Max(String),
    NullCount(String),
    DistinctCount(Vec<String>),
    DuplicateCount(Vec<String>),
}

/// `where column op literal`
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub column: String,
    pub op: Op,
    pub value: Literal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Number(f64),
    Date(NaiveDate),
    Str(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Literal(Literal),
    Expr(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cmp {
    Op(Op, Operand),
    /// Inclusive.
    Between(Literal, Literal),
    /// `~ target ± tol [%]`
    Approx {
        target: f64,
        tol: f64,
        percent: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    Fail,
    Error,
    Pending,
}

/// A measured value: a JSON number, a string (date or text), or null.
#[derive(Debug, Clone, PartialEq)]
pub enum Measured {
    Number(f64),
    Text(String),
    Null,
}

impl Serialize for Measured {
    /// Whole numbers are written as integers (`8000`, not `8000.0`).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Measured::Number(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => {
                s.serialize_i64(*x as i64)
            }
            Measured::Number(x) if x.is_finite() => s.serialize_f64(*x),
            Measured::Number(_) | Measured::Null => s.serialize_none(),
            Measured::Text(t) => s.serialize_str(t),
        }
    }
}

/// The result of one check, as recorded in events and reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    /// Dataset, probe or gate name.
    pub source: String,
    /// The check as written.
    pub check: String,
    pub severity: Severity,
    pub status: CheckStatus,
    pub value: Measured,
    /// What was expected, as data; written as text (`2,000,000 ± 5%`) in events and
    /// reports.
    pub expected: Expected,
    /// For people: `sum(spend) = 1,987,412.50, expected 2,000,000 ± 5%`, or the error.
    pub message: String,
    /// Evaluated while the owner session was still running.
    #[serde(skip)]
    pub provisional: bool,
}

/// What a check expected, as data. [`text::expected`] writes it for people (the one
/// place that does), and it is serialized as that text.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Expected {
    /// Nothing stated: the check was not evaluated (e.g. its job was abandoned).
    #[default]
    Unstated,
    /// `exists`: at least one file matches.
    SomeFile,
    /// `op value`, e.g. `>= 2025-01-01`. `meaning` is what the measured side means,
    /// which decides how numbers are written.
    Compare {
        op: Op,
        value: Literal,
        meaning: text::Meaning,
    },
    /// `op other`: another expression of the check and, once measured, its value
    /// (text values already shortened for messages).
    CompareTo {
        op: Op,
        other: Expr,
        value: Option<Literal>,
        meaning: text::Meaning,
    },
    /// `between low and high`, inclusive.
    Between {
        low: Literal,
        high: Literal,
        meaning: text::Meaning,
    },
    /// `target ± tolerance`, the tolerance a percentage of the target when `percent`.
    Near {
        target: f64,
        tolerance: f64,
        percent: bool,
        meaning: text::Meaning,
    },
    /// `column in ('a', 'b')`: every value is one of these.
    OneOf(Vec<Literal>),
    /// `column in dataset.column`: every value is also there.
    KeyIn { dataset: String, column: String },
}

impl Expected {
    /// What a comparison expects, before its other side (if an expression) is measured.
    pub fn of_cmp(cmp: &Cmp, meaning: text::Meaning) -> Expected {
        match cmp {
            Cmp::Op(op, Operand::Literal(value)) => Expected::Compare {
                op: *op,
                value: value.clone(),
                meaning,
            },
            Cmp::Op(op, Operand::Expr(other)) => Expected::CompareTo {
                op: *op,
                other: other.clone(),
                value: None,
                meaning,
            },
            Cmp::Between(low, high) => Expected::Between {
                low: low.clone(),
                high: high.clone(),
                meaning,
            },
            Cmp::Approx {
                target,
                tol,
                percent,
            } => Expected::Near {
                target: *target,
                tolerance: *tol,
                percent: *percent,
                meaning,
            },
        }
    }

    /// The number a measured number is held against (a bar's full length): the value
    /// compared with, the low end of a range, the target of `~`. `None` for dates, text,
    /// lists and keys.
    pub fn number(&self) -> Option<f64> {
        match self {
            Expected::Compare {
                value: Literal::Number(n),
                ..
            }
            | Expected::CompareTo {
                value: Some(Literal::Number(n)),
                ..
            }
            | Expected::Between {
                low: Literal::Number(n),
                ..
            }
            | Expected::Near { target: n, .. } => Some(*n),
            _ => None,
        }
    }

    pub fn is_unstated(&self) -> bool {
        *self == Expected::Unstated
    }
}

impl std::fmt::Display for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&text::expected(self))
    }
}

/// An expectation equals its written form (`"8,000 ± 20%"`).
impl PartialEq<&str> for Expected {
    fn eq(&self, other: &&str) -> bool {
        text::expected(self) == *other
    }
}

impl Serialize for Expected {
    /// As text: events and `report.json` keep their `expected` string.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&text::expected(self))
    }
}

impl Check {
    /// The names this check refers to, for plan validation: the source of every term
    /// (`leads.row_count`) and the dataset of `column in dataset.column`.
    pub fn references(&self) -> Vec<&str> {
        let mut out = vec![];
        match &self.body {
            Body::Exists | Body::InList { .. } => {}
            Body::InDataset { dataset, .. } => out.push(dataset.as_str()),
            Body::Compare { lhs, cmp } => {
                let rhs = match cmp {
                    Cmp::Op(_, Operand::Expr(e)) => Some(e),
                    _ => None,
                };
                for e in std::iter::once(lhs).chain(rhs) {
                    for (_, t) in &e.terms {
                        if let Some(s) = &t.source {
                            out.push(s.as_str());
                        }
                    }
                }
            }
        }
        out
    }

    /// Whether the check is valid in a gate's `checks`: a comparison whose every
    /// term names its source. `Err` says what is wrong.
    pub fn gate_form(&self) -> Result<(), String> {
        match &self.body {
            Body::Compare { lhs, cmp } => {
                let mut terms: Vec<&Term> = lhs.terms.iter().map(|(_, t)| t).collect();
                if let Cmp::Op(_, Operand::Expr(e)) = cmp {
                    terms.extend(e.terms.iter().map(|(_, t)| t));
                }
                match terms.iter().find(|t| t.source.is_none()) {
                    Some(t) => Err(format!(
                        "`{}` must name its source in a gate check (e.g. `dataset.{}`)",
                        text::term(t),
                        text::metric(&t.metric)
                    )),
                    None => Ok(()),
                }
            }
            _ => Err(
                "a gate check compares source-qualified metrics (e.g. `leads.row_count > 0`); \
                 `exists` and `in` belong in a dataset's checks"
                    .into(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_gate_form() {
        let c = parse("leads.row_count > test_drives.row_count").unwrap();
        assert_eq!(c.references(), vec!["leads", "test_drives"]);
        assert!(c.gate_form().is_ok());
        let c = parse("dealer_id in dealers.dealer_id").unwrap();
        assert_eq!(c.references(), vec!["dealers"]);
        assert!(c.gate_form().is_err());
        let c = parse("leads.row_count > row_count").unwrap();
        assert_eq!(
            c.gate_form().unwrap_err(),
            "`row_count` must name its source in a gate check (e.g. `dataset.row_count`)"
        );
    }

    /// The bar's number comes from the structured expectation, and the text is the one
    /// events and reports always had.
    #[test]
    fn expected_as_data_and_text() {
        let of = |check: &str| match parse(check).unwrap().body {
            Body::Compare { lhs, cmp } => Expected::of_cmp(&cmp, text::Meaning::of_expr(&lhs)),
            _ => unreachable!("a comparison"),
        };
        let near = of("sum(spend) ~ 2000000 ± 5%");
        assert_eq!(near.number(), Some(2_000_000.0));
        assert_eq!(near.to_string(), "2,000,000 ± 5%");
        assert_eq!(of("mean(x) >= 0.5").number(), Some(0.5));
        let range = of("row_count between 2500 and 3500");
        assert_eq!(range.number(), Some(2500.0));
        assert_eq!(range.to_string(), "between 2,500 and 3,500");
        assert_eq!(of("max(year) <= 2030").to_string(), "<= 2030");
        assert_eq!(of("min(day) >= 2025-01-01").number(), None);
        assert_eq!(Expected::SomeFile.number(), None);
        assert_eq!(Expected::SomeFile.to_string(), "at least one file");
        assert_eq!(
            serde_json::to_string(&of("a.row_count > b.row_count")).unwrap(),
            "\"> b.row_count\""
        );
    }
}
