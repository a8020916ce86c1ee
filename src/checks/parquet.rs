//! The Parquet reader.
//!
//! - Row counts come from the row groups; a footer that disagrees is noted, never trusted.
//! - Old writers' quirks are repaired in the metadata before reading: a dictionary page
//!   offset of 0 (old parquet-mr) means "no offset", as other readers take it.
//! - Only the needed columns are decoded, row groups in parallel on every core, and the
//!   common metrics (sums, min/max of dates, filters on text) are folded over whole
//!   columns without turning values into text.
//! - A column that cannot be decoded (nested, an unsupported type, a page the `parquet`
//!   crate cannot read) makes only the checks on it errors, naming it; the other
//!   checks of the dataset still run.

use super::metrics::{Acc, ColAcc, Ctx, RowErr, RowState, filter_matches, show};
use super::read::{FileData, ReadError, slots_for};
use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::file::metadata::{
    ColumnChunkMetaData, FileMetaData, ParquetMetaData, ParquetMetaDataBuilder,
    ParquetMetaDataReader,
};
use parquet::file::reader::{ChunkReader, Length};
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Rows per decoded batch.
const BATCH: usize = 64 * 1024;

pub(super) fn read(file: File, ctx: &Ctx<'_>) -> Result<FileData, ReadError> {
    // The parquet crate asserts on some malformed metadata (e.g. negative offsets): a bad
    // file must be an error, not a crashed checker.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_file(file, ctx))).unwrap_or_else(
        |p| {
            let why = p
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| p.downcast_ref::<&str>().copied())
                .unwrap_or("a panic");
            Err(ReadError::new(format!(
                "not a valid Parquet file (the parquet crate gave up: {why})"
            )))
        },
    )
}

fn read_file(file: File, ctx: &Ctx<'_>) -> Result<FileData, ReadError> {
    let need = ctx.need;
    let source = Pread::new(file).map_err(|e| ReadError::new(e.to_string()))?;
    let meta = ParquetMetaDataReader::new()
        .parse_and_finish(&source)
        .map_err(|e| ReadError::new(format!("not a valid Parquet file: {e}")))?;
    let meta =
        repair(meta).map_err(|e| ReadError::new(format!("not a valid Parquet file: {e}")))?;
    let schema = meta.file_metadata().schema_descr_ptr();
    let fields = schema.root_schema().get_fields();
    let roots: Vec<String> = fields.iter().map(|f| f.name().to_string()).collect();
    let (_, missing) = slots_for(&roots, need);

    let mut acc = Acc::new(need);
    let group_rows: Vec<u64> = meta
        .row_groups()
        .iter()
        .map(|g| g.num_rows().max(0) as u64)
        .collect();
    let rows: u64 = group_rows.iter().sum();
    let footer = meta.file_metadata().num_rows();
    let meta = if footer != rows as i64 {
        acc.notes.push(format!(
            "its footer says {footer} rows, its row groups hold {rows}; the row groups are counted"
        ));
        // The Arrow reader stops at the footer's count: give it the row groups'.
        let f = meta.file_metadata();
        let fixed = FileMetaData::new(
            f.version(),
            rows as i64,
            f.created_by().map(str::to_string),
            f.key_value_metadata().cloned(),
            f.schema_descr_ptr(),
            f.column_orders().cloned(),
        );
        let groups = meta.row_groups().to_vec();
        ParquetMetaDataBuilder::new(fixed)
            .set_row_groups(groups)
            .build()
    } else {
        meta
    };

    // Root index of each needed column that is there and flat.
    let mut wanted: Vec<(usize, usize)> = vec![];
    for (slot, name) in need.columns.iter().enumerate() {
        let Some(i) = roots.iter().position(|r| r == name) else {
            continue;
        };
        let f = &fields[i];
        if f.is_group() {
            let kind = match f.get_basic_info().logical_type_ref() {
                Some(parquet::basic::LogicalType::List) => "a list",
                Some(parquet::basic::LogicalType::Map) => "a map",
                _ => "a struct",
            };
            acc.unreadable[slot] = Some(format!(
                "column `{name}` is nested ({kind}); checks read flat columns only"
            ));
        } else {
            wanted.push((slot, i));
        }
    }
    if wanted.is_empty() {
        // Nothing to decode: the row count comes from the row groups alone.
        acc.add_rows(rows);
        return Ok(FileData {
            acc,
            missing,
            columns: roots,
        });
    }

    let meta = Arc::new(meta);
    let arrow =
        ArrowReaderMetadata::try_new(meta.clone(), ArrowReaderOptions::new()).or_else(|_| {
            // A foreign embedded Arrow schema should not stop the read.
            ArrowReaderMetadata::try_new(
                meta.clone(),
                ArrowReaderOptions::new().with_skip_arrow_metadata(true),
            )
        });
    let arrow = match arrow {
        Ok(a) => a,
        Err(e) => {
            for (slot, _) in &wanted {
                acc.unreadable[*slot] = Some(format!(
                    "column `{}` cannot be read: {e}",
                    need.columns[*slot]
                ));
            }
            acc.add_rows(rows);
            return Ok(FileData {
                acc,
                missing,
                columns: roots,
            });
        }
    };
    // Types no metric can use.
    wanted.retain(|&(slot, i)| {
        let t = arrow.schema().field(i).data_type();
        if supported(t) {
            return true;
        }
        acc.unreadable[slot] = Some(format!(
            "column `{}` has Parquet type {}, which checks cannot read (Arrow type {t})",
            need.columns[slot],
            describe(&fields[i])
        ));
        false
    });

    // Decode; a column that fails is set aside (named) and the rest read again.
    loop {
        if wanted.is_empty() {
            acc.add_rows(rows);
            break;
        }
        match read_groups(&source, &arrow, &wanted, &group_rows, ctx) {
            Ok(read) => {
                let unreadable = std::mem::take(&mut acc.unreadable);
                let notes = std::mem::take(&mut acc.notes);
                acc = read;
                acc.unreadable = unreadable;
                acc.notes = notes;
                break;
            }
            Err(e) => {
                let bad = culprits(&source, &arrow, &wanted, e.group);
                if bad.is_empty() {
                    return Err(ReadError::new(format!(
                        "cannot decode row group {}: {}",
                        e.group + 1,
                        e.msg
                    )));
                }
                for (slot, msg) in bad {
                    acc.unreadable[slot] = Some(format!(
                        "column `{}` cannot be decoded: {msg}",
                        need.columns[slot]
                    ));
                    wanted.retain(|(s, _)| *s != slot);
                }
            }
        }
    }
    Ok(FileData {
        acc,
        missing,
        columns: roots,
    })
}

/// A file read with `pread`: threads share it without sharing a file offset.
#[derive(Clone)]
struct Pread {
    file: Arc<File>,
    len: u64,
}

impl Pread {
    fn new(file: File) -> std::io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(Pread {
            file: Arc::new(file),
            len,
        })
    }
}

impl Length for Pread {
    fn len(&self) -> u64 {
        self.len
    }
}

/// A `Read` at an offset of a [`Pread`] file.
struct PreadAt {
    file: Arc<File>,
    at: u64,
}

impl std::io::Read for PreadAt {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read_at(buf, self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

impl ChunkReader for Pread {
    type T = std::io::BufReader<PreadAt>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(std::io::BufReader::new(PreadAt {
            file: self.file.clone(),
            at: start,
        }))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        let mut buf = vec![0u8; length];
        self.file.read_exact_at(&mut buf, start).map_err(|e| {
            parquet::errors::ParquetError::General(format!(
                "cannot read {length} bytes at offset {start}: {e}"
            ))
        })?;
        Ok(buf.into())
    }
}

/// Repair what old writers got wrong in the metadata. A dictionary page offset that
/// does not lie before the first data page (old parquet-mr wrote 0) is dropped: the
/// column then starts at its first data page, where such writers put the dictionary.
fn repair(meta: ParquetMetaData) -> parquet::errors::Result<ParquetMetaData> {
    let bad = |c: &ColumnChunkMetaData| {
        c.dictionary_page_offset()
            .is_some_and(|d| d < 4 || d >= c.data_page_offset())
    };
    if !meta
        .row_groups()
        .iter()
        .any(|g| g.columns().iter().any(bad))
    {
        return Ok(meta);
    }
    let mut builder = meta.into_builder();
    let mut groups = vec![];
    for g in builder.take_row_groups() {
        let mut gb = g.into_builder();
        let columns = gb
            .take_columns()
            .into_iter()
            .map(|c| match bad(&c) {
                true => c.into_builder().set_dictionary_page_offset(None).build(),
                false => Ok(c),
            })
            .collect::<parquet::errors::Result<Vec<_>>>()?;
        groups.push(gb.set_column_metadata(columns).build()?);
    }
    Ok(builder.set_row_groups(groups).build())
}

/// A Parquet column's type as its schema says it (for messages).
fn describe(t: &parquet::schema::types::Type) -> String {
    let info = t.get_basic_info();
    let physical = if t.is_primitive() {
        format!("{}", t.get_physical_type())
    } else {
        "group".into()
    };
    match info.logical_type_ref() {
        Some(l) => format!("{physical} ({l:?})"),
        None if info.converted_type() != parquet::basic::ConvertedType::NONE => {
            format!("{physical} ({})", info.converted_type())
        }
        None => physical,
    }
}

struct GroupError {
    group: usize,
    msg: String,
}

/// Decode row groups on every core and merge their accumulators in file order.
fn read_groups(
    source: &Pread,
    arrow: &ArrowReaderMetadata,
    wanted: &[(usize, usize)],
    group_rows: &[u64],
    ctx: &Ctx<'_>,
) -> Result<Acc, GroupError> {
    let groups = group_rows.len();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(groups)
        .max(1);
    let next = AtomicUsize::new(0);
    let mut done: Vec<Option<Result<Acc, GroupError>>> = (0..groups).map(|_| None).collect();
    let results: Vec<Vec<(usize, Result<Acc, GroupError>)>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = vec![];
                    loop {
                        let g = next.fetch_add(1, Ordering::Relaxed);
                        if g >= groups {
                            break;
                        }
                        let r = read_group(source, arrow, wanted, g, ctx);
                        let failed = r.is_err();
                        out.push((g, r));
                        if failed {
                            // Stop everyone: the read is redone without the bad column.
                            next.store(groups, Ordering::Relaxed);
                            break;
                        }
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a Parquet reader thread panicked"))
            .collect()
    });
    for (g, r) in results.into_iter().flatten() {
        done[g] = Some(r);
    }
    // Row groups not read were stopped by another's error: that error is the answer.
    let mut accs = vec![];
    for r in done.into_iter().flatten() {
        accs.push(r?);
    }
    let mut total = Acc::new(ctx.need);
    for (g, mut acc) in accs.into_iter().enumerate() {
        acc.shift(group_rows[..g].iter().sum());
        total.merge(acc);
    }
    Ok(total)
}

fn reader(
    source: &Pread,
    arrow: &ArrowReaderMetadata,
    roots: impl IntoIterator<Item = usize>,
    group: usize,
) -> parquet::errors::Result<parquet::arrow::arrow_reader::ParquetRecordBatchReader> {
    let mask = ProjectionMask::roots(arrow.parquet_schema(), roots);
    ParquetRecordBatchReaderBuilder::new_with_metadata(source.clone(), arrow.clone())
        .with_projection(mask)
        .with_row_groups(vec![group])
        .with_batch_size(BATCH)
        .build()
}

/// One row group into a fresh accumulator (rows numbered from 1 within it).
fn read_group(
    source: &Pread,
    arrow: &ArrowReaderMetadata,
    wanted: &[(usize, usize)],
    group: usize,
    ctx: &Ctx<'_>,
) -> Result<Acc, GroupError> {
    let err = |e: &dyn std::fmt::Display| GroupError {
        group,
        msg: e.to_string(),
    };
    let batches = reader(source, arrow, wanted.iter().map(|w| w.1), group).map_err(|e| err(&e))?;
    let mut acc = Acc::new(ctx.need);
    let st = RowState::new(ctx.need);
    for batch in batches {
        let batch = batch.map_err(|e| err(&e))?;
        add_batch(&mut acc, ctx, &st, wanted, &batch).map_err(|e| err(&e))?;
    }
    Ok(acc)
}

/// Which of the columns fail to decode alone in `group`, and why.
fn culprits(
    source: &Pread,
    arrow: &ArrowReaderMetadata,
    wanted: &[(usize, usize)],
    group: usize,
) -> Vec<(usize, String)> {
    let mut bad = vec![];
    for &(slot, root) in wanted {
        let r = reader(source, arrow, [root], group).and_then(|batches| {
            for b in batches {
                b?;
            }
            Ok(())
        });
        if let Err(e) = r {
            bad.push((slot, e.to_string()));
        }
    }
    bad
}

// ---------------------------------------------------------------- one batch

/// Every Arrow type a Parquet column can become that a metric can read.
fn supported(t: &DataType) -> bool {
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
fn add_batch(
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
            if let Some(c) = &cols[*slot] {
                for (r, k) in keep.iter_mut().enumerate() {
                    let v = c.text(r, &mut buf)?;
                    match filter_matches(f, v) {
                        Ok(m) => *k = m,
                        Err(msg) => {
                            if g.filter_bad.is_none() {
                                g.filter_bad = Some(RowErr {
                                    row: base + r as u64 + 1,
                                    msg,
                                });
                            }
                        }
                    }
                }
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
                            sum.add_sum(*x);
                        }
                        Some(_) => c.add(row(r), self.text(r, buf)?),
                        None => c.nulls += 1,
                    }
                }
                if c.want.sum && c.num_bad.is_none() {
                    c.add_sum(sum.sum + sum.comp);
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
                        let key = super::metrics::parse_date(&text).unwrap_or_default();
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

/// Neumaier summation: a batch's sum, exact enough for millions of cents.
#[derive(Default)]
struct Neumaier {
    sum: f64,
    comp: f64,
}

impl Neumaier {
    fn add_sum(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.comp += (self.sum - t) + x;
        } else {
            self.comp += (x - t) + self.sum;
        }
        self.sum = t;
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
