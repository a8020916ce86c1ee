//! How numbers, literals and expressions are written in results and messages.

use super::{Cmp, Expr, Filter, Literal, Metric, Op, Operand, Sign, Term};
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

/// The expected side as written: `>= 2025-01-01`, `2,000,000 ± 5%`, `between 1 and 2`.
pub fn cmp(c: &Cmp) -> String {
    match c {
        Cmp::Op(o, Operand::Literal(l)) => format!("{} {}", op(*o), literal(l)),
        Cmp::Op(o, Operand::Expr(e)) => format!("{} {}", op(*o), expr(e)),
        Cmp::Between(a, b) => format!("between {} and {}", literal(a), literal(b)),
        Cmp::Approx {
            target,
            tol,
            percent,
        } => format!(
            "{} ± {}{}",
            literal_number(*target),
            literal_number(*tol),
            if *percent { "%" } else { "" }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
