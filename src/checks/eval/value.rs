//! The value of a term or a sum of terms: a probe's exit code or value, a dataset's
//! metric from its accumulators, and how measured values compare.

use super::snapshot::Snap;
use super::{Checker, Ctx, NoValue, Src};
use crate::checks::metrics::date_text;
use crate::checks::metrics::{date_key, date_value};
use crate::checks::{Expr, Literal, Measured, Metric, Op, Sign, Term, text};
use std::collections::HashMap;
use std::sync::Arc;

/// A measured value.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum V {
    Num(f64),
    Date(u32),
    Str(String),
}

impl V {
    pub(super) fn show(&self, meaning: text::Meaning) -> String {
        match self {
            V::Num(n) => text::number_as(*n, meaning),
            V::Date(d) => date_text(*d),
            V::Str(s) => format!("'{}'", text::clip(s)),
        }
    }
    pub(super) fn measured(&self) -> Measured {
        match self {
            V::Num(n) => Measured::Number(*n),
            V::Date(d) => Measured::Text(date_text(*d)),
            V::Str(s) => Measured::Text(text::clip(s)),
        }
    }
    /// As the other side of an expectation (text shortened as in messages).
    pub(super) fn literal(&self) -> Literal {
        match self {
            V::Num(n) => Literal::Number(*n),
            V::Date(d) => match date_value(*d) {
                Some(date) => Literal::Date(date),
                None => Literal::Str(date_text(*d)),
            },
            V::Str(s) => Literal::Str(text::clip(s)),
        }
    }
    pub(super) fn kind(&self) -> &'static str {
        match self {
            V::Num(_) => "a number",
            V::Date(_) => "a date",
            V::Str(_) => "text",
        }
    }
}

pub(super) fn lit_v(l: &Literal) -> V {
    match l {
        Literal::Number(n) => V::Num(*n),
        Literal::Date(d) => V::Date(date_key(*d)),
        Literal::Str(s) => V::Str(s.clone()),
    }
}

/// How min/max should read a column (from the literal it is compared with).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Hint {
    Any,
    Num,
    Date,
    Str,
}

pub(super) fn hint_of(l: &Literal) -> Hint {
    match l {
        Literal::Number(_) => Hint::Num,
        Literal::Date(_) => Hint::Date,
        Literal::Str(_) => Hint::Str,
    }
}

fn approx_eq(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

pub(super) fn cmp_v(a: &V, b: &V) -> Result<std::cmp::Ordering, String> {
    use std::cmp::Ordering;
    match (a, b) {
        (V::Num(x), V::Num(y)) => Ok(if approx_eq(*x, *y) {
            Ordering::Equal
        } else if x < y {
            Ordering::Less
        } else {
            Ordering::Greater
        }),
        (V::Date(x), V::Date(y)) => Ok(x.cmp(y)),
        (V::Str(x), V::Str(y)) => Ok(x.cmp(y)),
        _ => Err(format!("cannot compare {} with {}", a.kind(), b.kind())),
    }
}

pub(super) fn op_holds(op: Op, o: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match op {
        Op::Eq => o == Equal,
        Op::Ne => o != Equal,
        Op::Lt => o == Less,
        Op::Le => o != Greater,
        Op::Gt => o == Greater,
        Op::Ge => o != Less,
    }
}

impl Checker {
    pub(super) fn expr_value(
        &mut self,
        ctx: Ctx,
        e: &Expr,
        hint: Hint,
        owner_done: bool,
        memo: &mut HashMap<usize, Arc<Snap>>,
    ) -> Result<V, NoValue> {
        if e.terms.len() == 1 {
            return self.term_value(ctx, &e.terms[0].1, hint, owner_done, memo);
        }
        let mut total = 0.0;
        let mut pending = None;
        for (sign, t) in &e.terms {
            match self.term_value(ctx, t, Hint::Num, owner_done, memo) {
                Ok(V::Num(x)) => {
                    total += if *sign == Sign::Plus { x } else { -x };
                }
                Ok(v) => {
                    return Err(NoValue::Error(format!(
                        "{} is {}: only numbers can be added",
                        text::term(t),
                        v.kind()
                    )));
                }
                // Errors and failures win over pending: they will not go away.
                Err(NoValue::Pending(m)) => pending = Some(m),
                Err(other) => return Err(other),
            }
        }
        match pending {
            Some(m) => Err(NoValue::Pending(m)),
            None => Ok(V::Num(total)),
        }
    }

    fn resolve_source(&self, ctx: Ctx, t: &Term) -> Result<Src, String> {
        match (&t.source, ctx) {
            (None, Ctx::Dataset(d)) => Ok(Src::Dataset(d)),
            (None, Ctx::Probe(p)) => Ok(Src::Probe(p)),
            (None, Ctx::Gate) => Err(format!(
                "`{}` must name its source in a gate check (e.g. `dataset.{}`)",
                text::term(t),
                text::metric(&t.metric)
            )),
            (Some(s), _) => {
                if let Some(d) = self.plan.dataset_index(s) {
                    Ok(Src::Dataset(d))
                } else if let Some(p) = self.plan.probe_index(s) {
                    Ok(Src::Probe(p))
                } else {
                    Err(format!("no dataset or probe named `{s}`"))
                }
            }
        }
    }

    fn term_value(
        &mut self,
        ctx: Ctx,
        t: &Term,
        hint: Hint,
        owner_done: bool,
        memo: &mut HashMap<usize, Arc<Snap>>,
    ) -> Result<V, NoValue> {
        let src = self.resolve_source(ctx, t).map_err(NoValue::Error)?;
        match src {
            Src::Probe(p) => {
                if t.filter.is_some() {
                    return Err(NoValue::Error("a probe has no rows to filter".into()));
                }
                let o = self.probe_outcome(p);
                match &t.metric {
                    Metric::ExitCode => match (o.exit_code, &o.error) {
                        (Some(c), _) => Ok(V::Num(c as f64)),
                        (None, Some(e)) => Err(NoValue::Error(e.clone())),
                        (None, None) => Err(NoValue::Error("no exit code".into())),
                    },
                    Metric::Value => match (o.value, &o.value_error, &o.error) {
                        (Some(v), _, _) => Ok(V::Num(v)),
                        (None, _, Some(e)) => Err(NoValue::Error(e.clone())),
                        (None, Some(e), None) => Err(NoValue::Error(e.clone())),
                        (None, None, None) => Err(NoValue::Error("no value".into())),
                    },
                    m => Err(NoValue::Error(format!(
                        "{} is a dataset metric; a probe has exit_code and value",
                        text::metric(m)
                    ))),
                }
            }
            Src::Dataset(d) => self.dataset_value(d, t, hint, owner_done, memo),
        }
    }

    fn dataset_value(
        &mut self,
        d: usize,
        t: &Term,
        hint: Hint,
        owner_done: bool,
        memo: &mut HashMap<usize, Arc<Snap>>,
    ) -> Result<V, NoValue> {
        let snap = self.snap(d, memo);
        match &t.metric {
            Metric::FileCount if t.filter.is_none() => {
                return match &snap.fatal {
                    Some(f) if snap.files.is_empty() => Err(NoValue::Error(f.clone())),
                    _ => Ok(V::Num(snap.files.len() as f64)),
                };
            }
            Metric::Bytes if t.filter.is_none() => {
                return match &snap.fatal {
                    Some(f) if snap.files.is_empty() => Err(NoValue::Error(f.clone())),
                    _ => Ok(V::Num(snap.files.iter().map(|(_, s)| s.0 as f64).sum())),
                };
            }
            Metric::FileCount | Metric::Bytes => {
                return Err(NoValue::Error(format!(
                    "{} cannot be filtered with `where`",
                    text::metric(&t.metric)
                )));
            }
            Metric::ExitCode | Metric::Value => {
                return Err(NoValue::Error(format!(
                    "{} is a probe metric; a dataset has row_count, sum(...), ...",
                    text::metric(&t.metric)
                )));
            }
            _ => {}
        }
        self.usable(d, &snap, owner_done)?;
        let need = &self.needs[d];
        let acc = snap.acc.as_ref().expect("usable").get();
        let missing = |col: &str| -> Result<usize, NoValue> {
            let slot = need.find_slot(col).expect("planned");
            match &snap.missing[slot] {
                Some((file, cols)) => Err(NoValue::Error(if cols.is_empty() {
                    format!(
                        "{file} has no columns (format {:?})",
                        self.plan.datasets[d].format
                    )
                } else {
                    format!(
                        "column `{col}` not found in {file} (columns: {})",
                        text::columns(cols)
                    )
                })),
                None => match &acc.unreadable[slot] {
                    Some(e) => Err(NoValue::Error(e.clone())),
                    None => Ok(slot),
                },
            }
        };
        if let Some(f) = &t.filter {
            missing(&f.column)?;
        }
        let g = need.find_group(t.filter.as_ref()).expect("planned");
        let group = &acc.groups[g];
        if let Some(e) = &group.filter_bad {
            return Err(NoValue::Error(format!(
                "in `{}`: {}",
                text::filter(t.filter.as_ref().unwrap()),
                e.msg
            )));
        }
        let col = |c: &str| -> Result<&crate::checks::metrics::ColAcc, NoValue> {
            let slot = missing(c)?;
            let i = need.groups[g]
                .cols
                .iter()
                .position(|(s, _)| *s == slot)
                .expect("planned");
            let ca = &group.cols[i];
            if let Some(e) = &ca.utf8_bad {
                return Err(NoValue::Error(e.msg.clone()));
            }
            Ok(ca)
        };
        let tuple = |cs: &Vec<String>| -> Result<&crate::checks::metrics::TupleAcc, NoValue> {
            let mut slots = vec![];
            for c in cs {
                col(c)?;
                slots.push(need.find_slot(c).expect("planned"));
            }
            let i = need.groups[g]
                .tuples
                .iter()
                .position(|s| *s == slots)
                .expect("planned");
            Ok(&group.tuples[i])
        };
        match &t.metric {
            Metric::RowCount => Ok(V::Num(group.rows as f64)),
            Metric::Sum(c) | Metric::Mean(c) => {
                let ca = col(c)?;
                if let Some(e) = &ca.num_bad {
                    return Err(NoValue::Error(e.msg.clone()));
                }
                if matches!(t.metric, Metric::Sum(_)) {
                    Ok(V::Num(ca.sum()))
                } else if ca.nonnull == 0 {
                    Err(NoValue::Error(format!(
                        "mean({c}): the column has no values"
                    )))
                } else {
                    Ok(V::Num(ca.sum() / ca.nonnull as f64))
                }
            }
            Metric::Min(c) | Metric::Max(c) => {
                let is_min = matches!(t.metric, Metric::Min(_));
                let ca = col(c)?;
                if ca.nonnull == 0 {
                    return Err(NoValue::Error(format!(
                        "{}: the column has no values",
                        text::metric(&t.metric)
                    )));
                }
                let as_num = || Ok(V::Num(if is_min { ca.nmin } else { ca.nmax }));
                let as_date = || Ok(V::Date(if is_min { ca.dmin } else { ca.dmax }));
                let as_str = || {
                    let b = if is_min { &ca.smin } else { &ca.smax };
                    Ok(V::Str(
                        String::from_utf8_lossy(b.as_deref().unwrap_or_default()).into_owned(),
                    ))
                };
                match hint {
                    Hint::Num => match &ca.num_bad {
                        Some(e) => Err(NoValue::Error(e.msg.clone())),
                        None => as_num(),
                    },
                    Hint::Date => match &ca.date_bad {
                        Some(e) => Err(NoValue::Error(e.msg.clone())),
                        None => as_date(),
                    },
                    Hint::Str => as_str(),
                    Hint::Any => {
                        if ca.num_bad.is_none() {
                            as_num()
                        } else if ca.date_bad.is_none() {
                            as_date()
                        } else {
                            as_str()
                        }
                    }
                }
            }
            Metric::NullCount(c) => Ok(V::Num(col(c)?.nulls as f64)),
            Metric::DistinctCount(cs) => Ok(V::Num(tuple(cs)?.set.len() as f64)),
            Metric::DuplicateCount(cs) => {
                let tu = tuple(cs)?;
                Ok(V::Num((tu.nonnull - tu.set.len() as u64) as f64))
            }
            Metric::FileCount | Metric::Bytes | Metric::ExitCode | Metric::Value => {
                unreachable!("handled above")
            }
        }
    }
}
