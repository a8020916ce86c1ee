//! How numbers, literals and expressions are written in results and messages.

use super::{CheckResult, Cmp, Expected, Expr, Filter, Literal, Measured, Metric, Op, Sign, Term};
use std::fmt::Write;

/// The longest piece of data quoted in a message or a result, in characters: a
/// value or a column name can be megabytes, and messages go into events and reports.
pub const QUOTE_MAX: usize = 80;

/// `s`, shortened to [`QUOTE_MAX`] characters (ending in `…` when cut).
pub fn clip(s: &str) -> String {
    match s.char_indices().nth(QUOTE_MAX) {
        None => s.to_string(),
        Some((cut, _)) => format!("{}…", &s[..cut]),
    }
}

/// A column name in a message: `` `name` ``, shortened.
pub fn clip_name(s: &str) -> String {
    format!("`{}`", clip(s))
}

/// A file's columns in a message: the first few names, then how many more.
pub fn columns(cols: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut out = cols
        .iter()
        .take(SHOWN)
        .map(|c| clip(c))
        .collect::<Vec<_>>()
        .join(", ");
    if cols.len() > SHOWN {
        let _ = write!(out, ", … ({} more)", cols.len() - SHOWN);
    }
    out
}

/// Thousands separators on the integer part of an already formatted number.
fn group(s: &str) -> String {
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (int, frac) = match s.find('.') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    };
    let mut out = String::with_capacity(s.len() + 8);
    if neg {
        out.push('-');
    }
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out.push_str(frac);
    out
}

/// What a number is, which decides how it is written: a count or an amount gets
/// thousands separators, a value as found in the data (a year, an id) never does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    /// `row_count`, `sum`, `mean`, `bytes`, counts of values: `1,987,412.50`.
    Amount,
    /// `min`/`max` of a column, `exit_code`, a probe's `value`: `2010`.
    Value,
}

impl Meaning {
    pub fn of_metric(m: &Metric) -> Meaning {
        match m {
            Metric::Min(_) | Metric::Max(_) | Metric::ExitCode | Metric::Value => Meaning::Value,
            Metric::RowCount
            | Metric::FileCount
            | Metric::Bytes
            | Metric::Sum(_)
            | Metric::Mean(_)
            | Metric::NullCount(_)
            | Metric::DistinctCount(_)
            | Metric::DuplicateCount(_) => Meaning::Amount,
        }
    }

    /// One term means what its metric means; a sum or difference of terms is an amount.
    pub fn of_expr(e: &Expr) -> Meaning {
        match e.terms.as_slice() {
            [(_, t)] => Meaning::of_metric(&t.metric),
            _ => Meaning::Amount,
        }
    }

    /// The meaning of a check's measured value (from the check as written).
    pub fn of_check(text: &str) -> Meaning {
        match super::parse(text).map(|c| c.body) {
            Ok(super::Body::Compare { lhs, .. }) => Meaning::of_expr(&lhs),
            _ => Meaning::Amount,
        }
    }
}

/// A number written for what it means: amounts as [`number`], values as they are
/// (`2010`, `0.5`).
pub fn number_as(x: f64, meaning: Meaning) -> String {
    match meaning {
        Meaning::Amount => number(x),
        Meaning::Value if x.fract() == 0.0 && x.abs() < 1e15 => format!("{x:.0}"),
        Meaning::Value => format!("{x}"),
    }
}

/// A result's measured value as people read it, a number written for what the check
/// measures; `None` when nothing was measured.
pub fn measured(r: &CheckResult) -> Option<String> {
    match &r.value {
        Measured::Number(x) => Some(number_as(*x, Meaning::of_check(&r.check))),
        Measured::Text(t) => Some(t.clone()),
        Measured::Null => None,
    }
}

/// A literal compared with something of this meaning.
pub fn literal_as(l: &Literal, meaning: Meaning) -> String {
    match (l, meaning) {
        (Literal::Number(n), Meaning::Value) => number_as(*n, Meaning::Value),
        _ => literal(l),
    }
}

/// What a comparison expects, its numbers written for the meaning of what it compares.
pub fn cmp_as(c: &Cmp, meaning: Meaning) -> String {
    expected(&Expected::of_cmp(c, meaning))
}

/// What a check expected, as people read it: `>= 2025-01-01`, `2,000,000 ± 5%`,
/// `> 1,200 (b.row_count)`, `in ('a', 'b')`; numbers written for what they mean.
pub fn expected(e: &Expected) -> String {
    match e {
        Expected::Unstated => String::new(),
        Expected::SomeFile => "at least one file".into(),
        Expected::Compare {
            op: o,
            value,
            meaning,
        } => {
            format!("{} {}", op(*o), literal_as(value, *meaning))
        }
        Expected::CompareTo {
            op: o,
            other,
            value: None,
            ..
        } => format!("{} {}", op(*o), expr(other)),
        Expected::CompareTo {
            op: o,
            other,
            value: Some(value),
            meaning,
        } => format!(
            "{} {} ({})",
            op(*o),
            measured_as(value, *meaning),
            expr(other)
        ),
        Expected::Between { low, high, meaning } => format!(
            "between {} and {}",
            literal_as(low, *meaning),
            literal_as(high, *meaning)
        ),
        Expected::Near {
            target,
            tolerance,
            percent,
            meaning,
        } => {
            // As written, except that a value (a year) never gets separators.
            let number = |x: f64| match meaning {
                Meaning::Value => number_as(x, Meaning::Value),
                Meaning::Amount => literal_number(x),
            };
            format!(
                "{} ± {}{}",
                number(*target),
                number(*tolerance),
                if *percent { "%" } else { "" }
            )
        }
        Expected::OneOf(values) => {
            let list: Vec<String> = values.iter().map(literal).collect();
            format!("in ({})", list.join(", "))
        }
        Expected::KeyIn { dataset, column } => format!("every value in {dataset}.{column}"),
    }
}

/// A measured value (the other side of a comparison): numbers by meaning, dates as
/// dates, text quoted as found.
fn measured_as(v: &Literal, meaning: Meaning) -> String {
    match v {
        Literal::Number(n) => number_as(*n, meaning),
        Literal::Date(d) => d.format("%Y-%m-%d").to_string(),
        Literal::Str(s) => format!("'{s}'"),
    }
}

/// A measured number: integers without decimals, others with two (or four
/// significant digits below 1), with thousands separators: `1,987,412.50`.
pub fn number(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return group(&format!("{x:.0}"));
    }
    if x.abs() >= 1.0 {
        group(&format!("{x:.2}"))
    } else {
        let s = format!("{x:.4}");
        let s = s.trim_end_matches('0');
        s.to_string()
    }
}

/// A number as the user wrote it (shortest form), with thousands separators.
pub fn literal_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        group(&format!("{x:.0}"))
    } else {
        group(&format!("{x}"))
    }
}

pub fn literal(l: &Literal) -> String {
    match l {
        Literal::Number(n) => literal_number(*n),
        Literal::Date(d) => d.format("%Y-%m-%d").to_string(),
        Literal::Str(s) => format!("'{}'", s.replace('\'', "''")),
    }
}

pub fn op(op: Op) -> &'static str {
    match op {
        Op::Eq => "=",
        Op::Ne => "!=",
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Gt => ">",
        Op::Ge => ">=",
    }
}

fn name(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !s.as_bytes()[0].is_ascii_digit();
    if plain {
        s.to_string()
    } else {
        format!("`{s}`")
    }
}

pub fn metric(m: &Metric) -> String {
    let f = |n: &str, c: &str| format!("{n}({})", name(c));
    let g = |n: &str, cs: &[String]| {
        let cs: Vec<String> = cs.iter().map(|c| name(c)).collect();
        format!("{n}({})", cs.join(", "))
    };
    match m {
        Metric::RowCount => "row_count".into(),
        Metric::FileCount => "file_count".into(),
        Metric::Bytes => "bytes".into(),
        Metric::ExitCode => "exit_code".into(),
        Metric::Value => "value".into(),
        Metric::Sum(c) => f("sum", c),
        Metric::Mean(c) => f("mean", c),
        Metric::Min(c) => f("min", c),
        Metric::Max(c) => f("max", c),
        Metric::NullCount(c) => f("null_count", c),
        Metric::DistinctCount(cs) => g("distinct_count", cs),
        Metric::DuplicateCount(cs) => g("duplicate_count", cs),
    }
}

pub fn filter(f: &Filter) -> String {
    format!(
        "where {} {} {}",
        name(&f.column),
        op(f.op),
        literal(&f.value)
    )
}

pub fn term(t: &Term) -> String {
    let mut s = String::new();
    if let Some(src) = &t.source {
        let _ = write!(s, "{}.", name(src));
    }
    s.push_str(&metric(&t.metric));
    if let Some(f) = &t.filter {
        s.push(' ');
        s.push_str(&filter(f));
    }
    s
}

pub fn expr(e: &Expr) -> String {
    let mut s = String::new();
    for (i, (sign, t)) in e.terms.iter().enumerate() {
        if i > 0 {
            s.push_str(if *sign == Sign::Plus { " + " } else { " - " });
        }
        s.push_str(&term(t));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_by_meaning() {
        let check = super::super::parse("max(year) between 2010 and 2030").unwrap();
        let super::super::Body::Compare { lhs, cmp: c } = check.body else {
            panic!("a comparison")
        };
        let meaning = Meaning::of_expr(&lhs);
        assert_eq!(meaning, Meaning::Value);
        assert_eq!(number_as(2010.0, meaning), "2010");
        assert_eq!(cmp_as(&c, meaning), "between 2010 and 2030");
        assert_eq!(Meaning::of_check("sum(spend) > 0"), Meaning::Amount);
        assert_eq!(Meaning::of_check("min(id) >= 100000"), Meaning::Value);
        assert_eq!(number_as(1987412.5, Meaning::Amount), "1,987,412.50");
        assert_eq!(number_as(0.25, Meaning::Value), "0.25");
    }

    #[test]
    fn numbers() {
        assert_eq!(number(1987412.5), "1,987,412.50");
        assert_eq!(number(2000000.0), "2,000,000");
        assert_eq!(number(-1234.0), "-1,234");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(0.01234), "0.0123");
        assert_eq!(number(12.0 / 7.0), "1.71");
        assert_eq!(literal_number(1.5), "1.5");
        assert_eq!(literal_number(2000000.0), "2,000,000");
        assert_eq!(literal_number(-3.0), "-3");
    }
}
