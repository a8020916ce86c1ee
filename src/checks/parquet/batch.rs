//! One decoded batch of a Parquet file folded into the accumulators: whole columns at
//! once where no metric needs rows, row by row through [`Acc::row`] otherwise.

use super::text::{date_text, write_value};
use crate::checks::Filter;
use crate::checks::metrics::{Acc, ColAcc, Ctx, Neumaier, RowErr, RowState, filter_matches, show};
use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{
    Array, ArrayRef, BinaryArray, LargeStringArray, RecordBatch, StringArray, StringViewArray,
};
use arrow_buffer::NullBuffer;
use arrow_schema::DataType;
use std::sync::Arc;

/// What a reader thread keeps from batch to batch: the row mask and text buffer, and
/// each dictionary's values as text (the batches of a column chunk share its dictionary,
/// so its values become text once).
#[derive(Default)]
pub(super) struct Scratch {
    keep: Vec<bool>,
    buf: Vec<u8>,
    /// Per slot: the dictionary last seen.
    dicts: Vec<Option<Dictionary>>,
    verdicts: Vec<Verdict>,
}

/// A dictionary's values, and each as text (`None`: null or empty).
type Dictionary = (ArrayRef, Vec<Option<Vec<u8>>>);

/// A filter's verdict on one dictionary value.
#[derive(Clone, Copy, PartialEq)]
enum Verdict {
    Drop,
    Keep,
    /// The filter cannot judge it (e.g. a non-number compared with a number).
    Bad,
}

/// Fold one batch into `acc`. Without per-row work (key sets, `in` lists, tuples) each
/// metric is folded over its whole column; otherwise rows go through [`Acc::row`].
pub(super) fn add_batch(
    acc: &mut Acc,
    ctx: &Ctx<'_>,
    st: &RowState,
    wanted: &[(usize, usize)],
    batch: &RecordBatch,
    scratch: &mut Scratch,
) -> Result<(), String> {
    let need = ctx.need;
    let n = batch.num_rows();
    let Scratch {
        keep,
        buf,
        dicts,
        verdicts,
    } = scratch;
    dicts.resize_with(need.columns.len(), || None);
    // The batch holds the projected columns in file order.
    let mut order: Vec<(usize, usize)> = wanted.to_vec();
    order.sort_by_key(|w| w.1);
    for (k, &(slot, _)) in order.iter().enumerate() {
        refresh_dictionary(&mut dicts[slot], batch.column(k));
    }
    let mut cols: Vec<Option<Column>> = (0..need.columns.len()).map(|_| None).collect();
    for (k, &(slot, _)) in order.iter().enumerate() {
        let texts = dicts[slot].as_ref().map(|d| d.1.as_slice());
        cols[slot] = Some(Column::of(batch.column(k), texts));
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
    for (gi, (g, gn)) in acc.groups.iter_mut().zip(&need.groups).enumerate() {
        // The rows of this group: all, or those its filter keeps.
        let kept = if gi == 0 {
            None
        } else {
            let (slot, f) = &need.filters[gi - 1];
            keep.clear();
            keep.resize(n, false);
            let bad = match &cols[*slot] {
                Some(c) => c.judge(f, keep, verdicts, buf)?,
                None => None,
            };
            if let Some((r, msg)) = bad
                && g.filter_bad.is_none()
            {
                g.filter_bad = Some(RowErr {
                    row: base + r as u64 + 1,
                    msg,
                });
            }
            Some(keep.as_slice())
        };
        let count = kept.map_or(n, |k| k.iter().filter(|x| **x).count()) as u64;
        g.rows += count;
        for (c, (slot, _)) in g.cols.iter_mut().zip(&gn.cols) {
            match &cols[*slot] {
                Some(col) => col.fold(c, kept, base, buf)?,
                None => c.nulls += count,
            }
        }
    }
    Ok(())
}

/// Keep `cache` on the dictionary of `a` (its values as text), made anew only when the
/// dictionary changes.
fn refresh_dictionary(cache: &mut Option<Dictionary>, a: &ArrayRef) {
    let Some(d) = a.as_any_dictionary_opt() else {
        *cache = None;
        return;
    };
    let values = d.values();
    if cache.as_ref().is_some_and(|(v, _)| Arc::ptr_eq(v, values)) {
        return;
    }
    let mut buf = Vec::new();
    let texts = (0..values.len())
        .map(|i| {
            buf.clear();
            // An empty value is null, as in every other format.
            match write_value(values.as_ref(), i, &mut buf) {
                Ok(true) if !buf.is_empty() => Some(buf.clone()),
                _ => None,
            }
        })
        .collect();
    *cache = Some((values.clone(), texts));
}

/// A column of a batch, as the folds see it: its typed values, borrowed.
struct Column<'a> {
    array: &'a ArrayRef,
    /// `None` when no row is null.
    nulls: Option<&'a NullBuffer>,
    values: Values<'a>,
}

enum Values<'a> {
    Text(Text<'a>),
    /// Dictionary-encoded: each row's key into the dictionary's values as text.
    Dict(Keys<'a>, &'a [Option<Vec<u8>>]),
    F64(&'a [f64]),
    F32(&'a [f32]),
    Int(Ints<'a>),
    /// Days since 1970-01-01.
    Date(&'a [i32]),
    /// Read as text row by row.
    Other,
}

enum Text<'a> {
    Utf8(&'a StringArray),
    Large(&'a LargeStringArray),
    View(&'a StringViewArray),
    Binary(&'a BinaryArray),
}

enum Keys<'a> {
    I32(&'a [i32]),
    Other(Vec<usize>),
}

enum Ints<'a> {
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
}

impl<'a> Column<'a> {
    fn of(a: &'a ArrayRef, dictionary: Option<&'a [Option<Vec<u8>>]>) -> Self {
        let values = match a.data_type() {
            DataType::Utf8 => Values::Text(Text::Utf8(a.as_string::<i32>())),
            DataType::LargeUtf8 => Values::Text(Text::Large(a.as_string::<i64>())),
            DataType::Utf8View => Values::Text(Text::View(a.as_string_view())),
            DataType::Binary => Values::Text(Text::Binary(a.as_binary::<i32>())),
            DataType::Dictionary(_, _) => match dictionary {
                Some(texts) => {
                    let keys = match a.as_dictionary_opt::<Int32Type>() {
                        Some(d) => Keys::I32(d.keys().values()),
                        None => Keys::Other(a.as_any_dictionary().normalized_keys()),
                    };
                    Values::Dict(keys, texts)
                }
                None => Values::Other,
            },
            DataType::Float64 => Values::F64(a.as_primitive::<Float64Type>().values()),
            DataType::Float32 => Values::F32(a.as_primitive::<Float32Type>().values()),
            DataType::Int64 => Values::Int(Ints::I64(a.as_primitive::<Int64Type>().values())),
            DataType::Int32 => Values::Int(Ints::I32(a.as_primitive::<Int32Type>().values())),
            DataType::Int16 => Values::Int(Ints::I16(a.as_primitive::<Int16Type>().values())),
            DataType::Int8 => Values::Int(Ints::I8(a.as_primitive::<Int8Type>().values())),
            DataType::UInt32 => Values::Int(Ints::U32(a.as_primitive::<UInt32Type>().values())),
            DataType::UInt16 => Values::Int(Ints::U16(a.as_primitive::<UInt16Type>().values())),
            DataType::UInt8 => Values::Int(Ints::U8(a.as_primitive::<UInt8Type>().values())),
            DataType::Date32 => Values::Date(a.as_primitive::<Date32Type>().values()),
            _ => Values::Other,
        };
        Column {
            array: a,
            nulls: a.nulls().filter(|n| n.null_count() > 0),
            values,
        }
    }

    #[inline]
    fn is_null(&self, r: usize) -> bool {
        self.nulls.is_some_and(|n| n.is_null(r))
    }

    /// Row `r` as text into `out` (borrowed where it is text already); `None` is null.
    fn text<'b>(&'b self, r: usize, out: &'b mut Vec<u8>) -> Result<Option<&'b [u8]>, String> {
        if self.is_null(r) {
            return Ok(None);
        }
        let v = match &self.values {
            Values::Text(t) => Some(t.value(r)),
            Values::Dict(keys, texts) => texts.get(keys.get(r)).and_then(|t| t.as_deref()),
            _ => {
                out.clear();
                match write_value(self.array.as_ref(), r, out)? {
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
        if self.is_null(r) {
            return Ok(false);
        }
        match &self.values {
            Values::Text(t) => out.extend_from_slice(t.value(r)),
            Values::Dict(keys, texts) => match texts.get(keys.get(r)).and_then(|t| t.as_deref()) {
                Some(v) => out.extend_from_slice(v),
                None => return Ok(false),
            },
            _ => return write_value(self.array.as_ref(), r, out),
        }
        Ok(true)
    }

    /// Mark in `keep` the rows filter `f` keeps; the first row it cannot judge, if any.
    /// A dictionary's values are judged once each, not once per row.
    fn judge(
        &self,
        f: &Filter,
        keep: &mut [bool],
        verdicts: &mut Vec<Verdict>,
        buf: &mut Vec<u8>,
    ) -> Result<Option<(usize, String)>, String> {
        let verdict = |v: Option<&[u8]>| match filter_matches(f, v) {
            Ok(true) => (Verdict::Keep, None),
            Ok(false) => (Verdict::Drop, None),
            Err(msg) => (Verdict::Bad, Some(msg)),
        };
        let mut first_bad = None;
        if let Values::Dict(keys, texts) = &self.values {
            verdicts.clear();
            verdicts.extend(texts.iter().map(|t| verdict(t.as_deref()).0));
            let of = |r: usize| {
                match verdicts.get(keys.get(r)) {
                    Some(v) if !self.is_null(r) => *v,
                    // A null is never kept.
                    _ => Verdict::Drop,
                }
            };
            for (r, k) in keep.iter_mut().enumerate() {
                *k = of(r) == Verdict::Keep;
            }
            if verdicts.contains(&Verdict::Bad)
                && let Some(r) = (0..keep.len()).find(|&r| of(r) == Verdict::Bad)
            {
                let (_, msg) = verdict(self.text(r, buf)?);
                first_bad = msg.map(|m| (r, m));
            }
            return Ok(first_bad);
        }
        for (r, k) in keep.iter_mut().enumerate() {
            let (v, msg) = verdict(self.text(r, buf)?);
            *k = v == Verdict::Keep;
            if first_bad.is_none() {
                first_bad = msg.map(|m| (r, m));
            }
        }
        Ok(first_bad)
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
        // Sums of typed numbers need no text (min/max do: their text order counts).
        match &self.values {
            Values::F64(v) if !c.want.minmax => self.fold_floats(c, v, keep, base, buf),
            Values::F32(v) if !c.want.minmax => self.fold_floats(c, v, keep, base, buf),
            Values::Int(ints) if !c.want.minmax => {
                match ints {
                    Ints::I8(v) => self.fold_ints(c, v, keep),
                    Ints::I16(v) => self.fold_ints(c, v, keep),
                    Ints::I32(v) => self.fold_ints(c, v, keep),
                    Ints::I64(v) => self.fold_ints(c, v, keep),
                    Ints::U8(v) => self.fold_ints(c, v, keep),
                    Ints::U16(v) => self.fold_ints(c, v, keep),
                    Ints::U32(v) => self.fold_ints(c, v, keep),
                }
                Ok(())
            }
            Values::Date(v) if self.dates_in_range(v) => self.fold_dates(c, v, keep, base, buf),
            _ => {
                for r in 0..self.array.len() {
                    if keep.is_none_or(|k| k[r]) {
                        c.add(base + r as u64 + 1, self.text(r, buf)?);
                    }
                }
                Ok(())
            }
        }
    }

    /// The rows `keep` selects that are not null, each with its index.
    fn present<'v, T: Copy>(
        &'v self,
        v: &'v [T],
        keep: Option<&'v [bool]>,
    ) -> impl Iterator<Item = (usize, T)> + 'v {
        v.iter()
            .enumerate()
            .filter(move |&(r, _)| keep.is_none_or(|k| k[r]) && !self.is_null(r))
            .map(|(r, x)| (r, *x))
    }

    /// Count the rows `keep` selects into `c`: null or not.
    fn count_into(&self, c: &mut ColAcc, keep: Option<&[bool]>) {
        let (rows, nulls) = self.count(keep);
        c.nulls += nulls;
        c.nonnull += rows - nulls;
    }

    /// How many rows `keep` selects, and how many of them are null.
    fn count(&self, keep: Option<&[bool]>) -> (u64, u64) {
        match (keep, self.nulls) {
            (None, None) => (self.array.len() as u64, 0),
            (None, Some(n)) => (self.array.len() as u64, n.null_count() as u64),
            (Some(k), _) => {
                let rows = k.iter().filter(|x| **x).count();
                let nulls = (0..k.len()).filter(|&r| k[r] && self.is_null(r)).count();
                (rows as u64, nulls as u64)
            }
        }
    }

    fn fold_floats<T: Copy + Into<f64>>(
        &self,
        c: &mut ColAcc,
        v: &[T],
        keep: Option<&[bool]>,
        base: u64,
        buf: &mut Vec<u8>,
    ) -> Result<(), String> {
        self.count_into(c, keep);
        if !c.want.sum {
            return Ok(());
        }
        if keep.is_none() && self.nulls.is_none() && v.iter().all(|x| (*x).into().is_finite()) {
            // Four running sums break the chain of dependent additions; their
            // compensations are kept, as when a CSV file's chunks are merged.
            let mut lanes = [Neumaier::default(); 4];
            let mut quads = v.chunks_exact(4);
            for q in &mut quads {
                for (lane, x) in lanes.iter_mut().zip(q) {
                    lane.add((*x).into());
                }
            }
            for x in quads.remainder() {
                lanes[0].add((*x).into());
            }
            let sum = c.sum_mut();
            for lane in lanes {
                sum.merge(lane);
            }
            return Ok(());
        }
        // Summed value by value, as the text formats are: the same rounding.
        let mut sum = *c.sum_mut();
        for (r, x) in self.present(v, keep) {
            let x: f64 = x.into();
            if x.is_finite() {
                sum.add(x);
            } else if c.num_bad.is_none() {
                // NaN or an infinity: as its text would be read.
                *c.sum_mut() = sum;
                c.nonnull -= 1;
                c.add(base + r as u64 + 1, self.text(r, buf)?);
                sum = *c.sum_mut();
            }
        }
        *c.sum_mut() = sum;
        Ok(())
    }

    fn fold_ints<T: Copy + Into<i64>>(&self, c: &mut ColAcc, v: &[T], keep: Option<&[bool]>) {
        self.count_into(c, keep);
        if !c.want.sum {
            return;
        }
        // Exact: an i128 cannot overflow on i64 values within one batch.
        let sum: i128 = self.present(v, keep).map(|(_, x)| x.into() as i128).sum();
        if c.num_bad.is_none() {
            c.sum_mut().add(sum as f64);
        }
    }

    fn fold_dates(
        &self,
        c: &mut ColAcc,
        v: &[i32],
        keep: Option<&[bool]>,
        base: u64,
        buf: &mut Vec<u8>,
    ) -> Result<(), String> {
        self.count_into(c, keep);
        if !(c.want.sum || c.want.minmax) {
            return Ok(());
        }
        let mut present = self.present(v, keep);
        let Some((first, d)) = present.next() else {
            return Ok(());
        };
        let (lo, hi) = present.fold((d, d), |(lo, hi), (_, d)| (lo.min(d), hi.max(d)));
        if c.num_bad.is_none() {
            let v = self.text(first, buf)?.unwrap_or_default();
            c.num_bad = Some(RowErr {
                row: base + first as u64 + 1,
                msg: format!("{} is not a number", show(v)),
            });
        }
        if c.want.minmax {
            fold_date_range(c, lo, hi);
        }
        Ok(())
    }

    /// Whether every date lies in years 0..=9999 (days since 1970-01-01).
    fn dates_in_range(&self, v: &[i32]) -> bool {
        const FIRST: i32 = -719_528; // 0000-01-01
        const LAST: i32 = 2_932_896; // 9999-12-31
        self.present(v, None)
            .all(|(_, d)| (FIRST..=LAST).contains(&d))
    }
}

impl Text<'_> {
    fn value(&self, r: usize) -> &[u8] {
        match self {
            Text::Utf8(a) => a.value(r).as_bytes(),
            Text::Large(a) => a.value(r).as_bytes(),
            Text::View(a) => a.value(r).as_bytes(),
            Text::Binary(a) => a.value(r),
        }
    }
}

impl Keys<'_> {
    /// Row `r`'s key (out of range when negative).
    #[inline]
    fn get(&self, r: usize) -> usize {
        match self {
            Keys::I32(k) => k[r] as usize,
            Keys::Other(k) => k[r],
        }
    }
}

/// Fold the least and greatest of some dates (days since 1970-01-01, within years
/// 0..=9999, where their text sorts as they do) into a column's minimum and maximum.
pub(super) fn fold_date_range(c: &mut ColAcc, lo: i32, hi: i32) {
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
