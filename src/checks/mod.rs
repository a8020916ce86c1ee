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
//! - `report`: `flightdeck check` (table or JSON) and its exit status.
//! - `text`: how values, literals and expressions are written in messages.
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
pub mod report;
pub mod text;

pub use eval::{Checker, ProbeOutcome, run_command};
pub use format::{Compression, Format};
pub use parse::{ParseError, parse};
pub use report::{GateReport, check_command, evaluate_all};

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
    /// What was expected, e.g. `2,000,000 ± 5%`.
    pub expected: String,
    /// For people: `sum(spend) = 1,987,412.50, expected 2,000,000 ± 5%`, or the error.
    pub message: String,
    /// Evaluated while the owner session was still running.
    #[serde(skip)]
    pub provisional: bool,
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
}
