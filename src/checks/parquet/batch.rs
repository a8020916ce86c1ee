//! One decoded batch of a Parquet file folded into the accumulators: whole columns at
//! once where no metric needs rows, row by row through [`Acc::row`] otherwise.

use crate::checks::metrics::{Acc, ColAcc, Ctx, Neumaier, RowErr, RowState, filter_matches, show};
use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use std::io::Write;

/// Every Arrow type a Parquet column can become that a metric can read.
pub(super) fn supported(t: &DataType) -> bool {
    match t {
        DataType::Dictionary(_, v) => supported(v),
        DataType::Null
        | DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float16
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal32(_, _)
        | DataType::Decimal64(_, _)
        | DataType::Decimal128(_, _)
        | DataType::Decimal256(_, _)
        | DataType::Date32
        | DataType::Date64
        | DataType::Timestamp(_, _)
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => true,
        _ => false,
    }
}

/// Fold one batch into `acc`. Without per-row work (key sets, `in` lists, tuples) each
/// metric is folded over its whole column; otherwise rows go through [`Acc::row`].
pub(super) fn add_batch(
    acc: &mut Acc,
    ctx: &Ctx<'_>,
    st: &RowState,
    wanted: &[(usize, usize)],
    batch: &RecordBatch,
) -> Result<(), String> {
    let need = ctx.need;
    let n = batch.num_rows();
    let mut cols: Vec<Option<Column>> = (0..need.columns.len()).map(|_| None).collect();
    // The batch holds the projected columns in file order.
    let mut order: Vec<&(usize, usize)> = wanted.iter().collect();
    order.sort_by_key(|w| w.1);
    for (k, &&(slot, _)) in order.iter().enumerate() {
        cols[slot] = Some(Column::of(batch.column(k)));
    }
    let per_row = !need.inlists.is_empty()
        || !need.fks.is_empty()
        || !need.keysets.is_empty()
        || need.groups.iter().any(|g| !g.tuples.is_empty());
    if per_row {
        let mut scratch: Vec<Vec<u8>> = vec![Vec::new(); cols.len()];
        let mut null = vec![true; cols.len()];
        for r in 0..n {
            for (slot, col) in cols.iter().enumerate() {
                let b = &mut scratch[slot];
                b.clear();
                null[slot] = match col {
                    Some(c) => !c.write(r, b)?,
                    None => true,
                };
            }
            acc.row(ctx, st, |slot| {
                let v = &scratch[slot];
                (!null[slot] && !v.is_empty()).then_some(v.as_slice())
            });
        }
        return Ok(());
    }
    let base = acc.rows;
    acc.rows += n as u64;
    let mut buf = Vec::new();
    for (gi, (g, gn)) in acc.groups.iter_mut().zip(&need.groups).enumerate() {
        // The rows of this group: all, or those its filter keeps.
        let keep: Option<Vec<bool>> = if gi == 0 {
            None
        } else {
            let (slot, f) = &need.filters[gi - 1];
            let mut keep = vec![false; n];
            let mut judge = |r: usize, verdict: &Result<bool, String>, k: &mut bool| match verdict {
                Ok(m) => *k = *m,
                Err(msg) => {
                    if g.filter_bad.is_none() {
                        g.filter_bad = Some(RowErr {
                            row: base + r as u64 + 1,
                            msg: msg.clone(),
                        });
                    }
                }
            };
            match &cols[*slot] {
                // Judged once per distinct value; a null is never kept.
                Some(Column::Dict(keys, values)) => {
                    let verdicts: Vec<Result<bool, String>> = values
                        .iter()
                        .map(|v| filter_matches(f, v.as_deref()))
                        .collect();
                    for (r, k) in keep.iter_mut().enumerate() {
                        if let Some(i) = keys[r] {
                            judge(r, &verdicts[i], k);
                        }
                    }
                }
                Some(c) => {
                    for (r, k) in keep.iter_mut().enumerate() {
                        judge(r, &filter_matches(f, c.text(r, &mut buf)?), k);
                    }
                }
                None => {}
            }
            Some(keep)
        };
        g.rows += keep
            .as_ref()
            .map_or(n, |k| k.iter().filter(|x| **x).count()) as u64;
        for (c, (slot, _)) in g.cols.iter_mut().zip(&gn.cols) {
            match &cols[*slot] {
                Some(col) => col.fold(c, keep.as_deref(), base, &mut buf)?,
                None => {
                    c.nulls += keep
                        .as_ref()
                        .map_or(n, |k| k.iter().filter(|x| **x).count())
                        as u64
                }
            }
        }
    }
    Ok(())
}

/// A column of a batch, as the folds see it.
enum Column<'a> {
    /// Text: borrowed, no copy.
    Str(Vec<Option<&'a [u8]>>),
    /// Dictionary-encoded: each row's key into the values, written as text once.
    Dict(Vec<Option<usize>>, Vec<Option<Vec<u8>>>),
    Float(&'a dyn Array, Vec<Option<f64>>),
    Int(&'a dyn Array, Vec<Option<i64>>),
    /// Days since 1970-01-01.
    Date(&'a dyn Array, Vec<Option<i32>>),
    Other(&'a ArrayRef),
}

impl<'a> Column<'a> {
    fn of(a: &'a ArrayRef) -> Self {
        match a.data_type() {
            DataType::Utf8 => Column::Str(
                a.as_string::<i32>()
                    .iter()
                    .map(|v| v.map(str::as_bytes))
                    .collect(),
            ),
            DataType::LargeUtf8 => Column::Str(
                a.as_string::<i64>()
                    .iter()
                    .map(|v| v.map(str::as_bytes))
                    .collect(),
            ),
            DataType::Utf8View => Column::Str(
                a.as_string_view()
                    .iter()
                    .map(|v| v.map(str::as_bytes))
                    .collect(),
            ),
            DataType::Binary => Column::Str(a.as_binary::<i32>().iter().collect()),
            DataType::Dictionary(_, _) => {
                let d = a.as_any_dictionary();
                let values = d.values();
                let mut buf = Vec::new();
                let texts = (0..values.len())
                    .map(|i| {
                        buf.clear();
                        match write_value(values, i, &mut buf) {
                            Ok(true) => Some(buf.clone()),
                            _ => None,
                        }
                    })
                    .collect();
                let keys = d
                    .normalized_keys()
                    .into_iter()
                    .enumerate()
                    .map(|(r, k)| a.is_valid(r).then_some(k))
                    .collect();
                Column::Dict(keys, texts)
            }
            DataType::Float64 => Column::Float(a, a.as_primitive::<Float64Type>().iter().collect()),
            DataType::Float32 => Column::Float(
                a,
                a.as_primitive::<Float32Type>()
                    .iter()
                    .map(|v| v.map(f64::from))
                    .collect(),
            ),
            DataType::Int64 => Column::Int(a, a.as_primitive::<Int64Type>().iter().collect()),
            DataType::Int32 => Column::Int(
                a,
                a.as_primitive::<Int32Type>()
                    .iter()
                    .map(|v| v.map(i64::from))
                    .collect(),
            ),
            DataType::Int16 => Column::Int(
                a,
                a.as_primitive::<Int16Type>()
                    .iter()
                    .map(|v| v.map(i64::from))
                    .collect(),
            ),
            DataType::Int8 => Column::Int(
                a,
                a.as_primitive::<Int8Type>()
                    .iter()
                    .map(|v| v.map(i64::from))
                    .collect(),
            ),
            DataType::UInt32 => Column::Int(
                a,
                a.as_primitive::<UInt32Type>()
                    .iter()
                    .map(|v| v.map(i64::from))
                    .collect(),
            ),
            DataType::UInt16 => Column::Int(
                a,
                a.as_primitive::<UInt16Type>()
                    .iter()
                    .map(|v| v.map(i64::from))
                    .collect(),
            ),
            DataType::UInt8 => Column::Int(
                a,
                a.as_primitive::<UInt8Type>()
                    .iter()
                    .map(|v| v.map(i64::from))
                    .collect(),
            ),
            DataType::Date32 => Column::Date(a, a.as_primitive::<Date32Type>().iter().collect()),
            _ => Column::Other(a),
        }
    }

    /// Row `r` as text into `out` (borrowed where it is text already); `None` is null.
    fn text<'b>(&'b self, r: usize, out: &'b mut Vec<u8>) -> Result<Option<&'b [u8]>, String> {
        let v = match self {
            Column::Str(v) => v[r],
            Column::Dict(keys, values) => keys[r].and_then(|k| values[k].as_deref()),
            _ => {
                out.clear();
                match self.write(r, out)? {
                    true => Some(out.as_slice()),
                    false => None,
                }
            }
        };
        // An empty value is null, as in every other format.
        Ok(v.filter(|v| !v.is_empty()))
    }

    /// Row `r` as text appended to `out`; false when it is null.
    fn write(&self, r: usize, out: &mut Vec<u8>) -> Result<bool, String> {
        match self {
            Column::Str(v) => Ok(v[r].map(|v| out.extend_from_slice(v)).is_some()),
            Column::Dict(keys, values) => Ok(keys[r]
                .and_then(|k| values[k].as_deref())
                .map(|v| out.extend_from_slice(v))
                .is_some()),
            Column::Float(a, _) | Column::Int(a, _) | Column::Date(a, _) => write_value(*a, r, out),
            Column::Other(a) => write_value(a.as_ref(), r, out),
        }
    }

    /// Fold the rows `keep` selects (all when `None`) into `c`; `base` is the row
    /// number before the batch.
    fn fold(
        &self,
        c: &mut ColAcc,
        keep: Option<&[bool]>,
        base: u64,
        buf: &mut Vec<u8>,
    ) -> Result<(), String> {
        let kept = |r: usize| keep.is_none_or(|k| k[r]);
        let row = |r: usize| base + r as u64 + 1;
        match self {
            // Sums of typed numbers need no text (min/max do: their text order counts).
            Column::Float(_, v) if !c.want.minmax => {
                let mut sum = Neumaier::default();
                for (r, x) in v.iter().enumerate() {
                    if !kept(r) {
                        continue;
                    }
                    match x {
                        Some(x) if x.is_finite() => {
                            c.nonnull += 1;
                            sum.add(*x);
                        }
                        Some(_) => c.add(row(r), self.text(r, buf)?),
                        None => c.nulls += 1,
                    }
                }
                if c.want.sum && c.num_bad.is_none() {
                    c.add_sum(sum.value());
                }
            }
            Column::Int(_, v) if !c.want.minmax => {
                // Exact: an i128 cannot overflow on i64 values within one batch.
                let mut sum: i128 = 0;
                for (r, x) in v.iter().enumerate() {
                    if !kept(r) {
                        continue;
                    }
                    match x {
                        Some(x) => {
                            c.nonnull += 1;
                            sum += *x as i128;
                        }
                        None => c.nulls += 1,
                    }
                }
                if c.want.sum && c.num_bad.is_none() {
                    c.add_sum(sum as f64);
                }
            }
            Column::Date(_, v) if dates_in_range(v) => {
                let mut first = None;
                for (r, d) in v.iter().enumerate() {
                    if !kept(r) {
                        continue;
                    }
                    match d {
                        Some(d) => {
                            c.nonnull += 1;
                            first.get_or_insert((r, *d, *d));
                            if let Some((_, lo, hi)) = &mut first {
                                *lo = (*lo).min(*d);
                                *hi = (*hi).max(*d);
                            }
                        }
                        None => c.nulls += 1,
                    }
                }
                let Some((first, lo, hi)) = first else {
                    return Ok(());
                };
                if (c.want.sum || c.want.minmax) && c.num_bad.is_none() {
                    let v = self.text(first, buf)?.unwrap_or_default();
                    c.num_bad = Some(RowErr {
                        row: row(first),
                        msg: format!("{} is not a number", show(v)),
                    });
                }
                if c.want.minmax {
                    // Dates within years 0..=9999: their text sorts as they do.
                    for text in [date_text(lo), date_text(hi)] {
                        let key = crate::checks::metrics::parse_date(&text).unwrap_or_default();
                        c.dmin = c.dmin.min(key);
                        c.dmax = c.dmax.max(key);
                        if c.smin.as_deref().is_none_or(|m| text.as_slice() < m) {
                            c.smin = Some(text.clone());
                        }
                        if c.smax.as_deref().is_none_or(|m| text.as_slice() > m) {
                            c.smax = Some(text);
                        }
                    }
                }
            }
            _ => {
                for r in 0..self.len() {
                    if kept(r) {
                        c.add(row(r), self.text(r, buf)?);
                    }
                }
            }
        }
        Ok(())
    }

    fn len(&self) -> usize {
        match self {
            Column::Str(v) => v.len(),
            Column::Dict(k, _) => k.len(),
            Column::Float(a, _) | Column::Int(a, _) | Column::Date(a, _) => a.len(),
            Column::Other(a) => a.len(),
        }
    }
}

/// Whether every date lies in years 0..=9999 (days since 1970-01-01).
fn dates_in_range(v: &[Option<i32>]) -> bool {
    const FIRST: i32 = -719_528; // 0000-01-01
    const LAST: i32 = 2_932_896; // 9999-12-31
    v.iter().flatten().all(|d| (FIRST..=LAST).contains(d))
}

/// `YYYY-MM-DD` of a day count since 1970-01-01.
fn date_text(days: i32) -> Vec<u8> {
    let d = chrono::NaiveDate::from_num_days_from_ce_opt(days + 719_163);
    d.map(|d| d.format("%Y-%m-%d").to_string().into_bytes())
        .unwrap_or_default()
}

/// Write one Arrow value as text into `out` (numbers in their shortest form, dates as
/// YYYY-MM-DD, timestamps as YYYY-MM-DDTHH:MM:SS); false when it is null.
fn write_value(a: &dyn Array, i: usize, out: &mut Vec<u8>) -> Result<bool, String> {
    if a.is_null(i) {
        return Ok(false);
    }
    macro_rules! num {
        ($t:ty) => {{
            let _ = write!(out, "{}", a.as_primitive::<$t>().value(i));
        }};
    }
    macro_rules! dec {
        ($t:ty) => {
            out.extend_from_slice(a.as_primitive::<$t>().value_as_string(i).as_bytes())
        };
    }
    match a.data_type() {
        DataType::Null => return Ok(false),
        DataType::Utf8 => out.extend_from_slice(a.as_string::<i32>().value(i).as_bytes()),
        DataType::LargeUtf8 => out.extend_from_slice(a.as_string::<i64>().value(i).as_bytes()),
        DataType::Utf8View => out.extend_from_slice(a.as_string_view().value(i).as_bytes()),
        DataType::Binary => out.extend_from_slice(a.as_binary::<i32>().value(i)),
        DataType::LargeBinary => out.extend_from_slice(a.as_binary::<i64>().value(i)),
        DataType::BinaryView => out.extend_from_slice(a.as_binary_view().value(i)),
        DataType::FixedSizeBinary(_) => out.extend_from_slice(a.as_fixed_size_binary().value(i)),
        DataType::Boolean => {
            let _ = write!(out, "{}", a.as_boolean().value(i));
        }
        DataType::Int8 => num!(Int8Type),
        DataType::Int16 => num!(Int16Type),
        DataType::Int32 => num!(Int32Type),
        DataType::Int64 => num!(Int64Type),
        DataType::UInt8 => num!(UInt8Type),
        DataType::UInt16 => num!(UInt16Type),
        DataType::UInt32 => num!(UInt32Type),
        DataType::UInt64 => num!(UInt64Type),
        DataType::Float16 => num!(Float16Type),
        DataType::Float32 => num!(Float32Type),
        DataType::Float64 => num!(Float64Type),
        DataType::Decimal32(_, _) => dec!(Decimal32Type),
        DataType::Decimal64(_, _) => dec!(Decimal64Type),
        DataType::Decimal128(_, _) => dec!(Decimal128Type),
        DataType::Decimal256(_, _) => dec!(Decimal256Type),
        DataType::Date32 => {
            out.extend_from_slice(&date_text(a.as_primitive::<Date32Type>().value(i)))
        }
        DataType::Date64 => {
            let ms = a.as_primitive::<Date64Type>().value(i);
            out.extend_from_slice(&date_text(ms.div_euclid(86_400_000) as i32))
        }
        DataType::Timestamp(unit, _) => {
            let dt = match unit {
                TimeUnit::Second => a.as_primitive::<TimestampSecondType>().value_as_datetime(i),
                TimeUnit::Millisecond => a
                    .as_primitive::<TimestampMillisecondType>()
                    .value_as_datetime(i),
                TimeUnit::Microsecond => a
                    .as_primitive::<TimestampMicrosecondType>()
                    .value_as_datetime(i),
                TimeUnit::Nanosecond => a
                    .as_primitive::<TimestampNanosecondType>()
                    .value_as_datetime(i),
            };
            if let Some(d) = dt {
                let _ = write!(out, "{}", d.format("%Y-%m-%dT%H:%M:%S"));
            }
        }
        DataType::Dictionary(_, _) => {
            let d = a.as_any_dictionary();
            let key = d.normalized_keys()[i];
            return write_value(d.values().as_ref(), key, out);
        }
        other => return Err(format!("unsupported Parquet column type {other}")),
    }
    Ok(true)
}
