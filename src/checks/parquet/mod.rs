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

mod batch;
mod stats;
mod text;

use super::metrics::{Acc, Ctx, RowState};
use super::read::{FileData, ReadError, slots_for};
use arrow_schema::{DataType, Field, Schema};
use batch::{Scratch, add_batch};
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
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use text::supported;

/// Rows per decoded batch: small enough that the reader's buffers (64 KB of 8-byte
/// values) come from the allocator's free lists instead of fresh pages each batch.
const BATCH: usize = 8 * 1024;

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

    let arrow = with_dictionaries(&arrow, &meta, &wanted).unwrap_or(arrow);

    // Decode; a column that fails is set aside (named) and the rest read again.
    loop {
        if wanted.is_empty() {
            acc.add_rows(rows);
            break;
        }
        let types: Vec<DataType> = arrow
            .schema()
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let summarised = stats::summarised(&meta, &types, need, &wanted);
        let columns = Columns {
            wanted: &wanted,
            summarised: &summarised,
        };
        match read_groups(&source, &arrow, &columns, &group_rows, ctx) {
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

/// The reader's metadata with every wanted text column that is stored with a
/// dictionary decoded as an Arrow dictionary: each distinct value becomes text once
/// per batch (not once per row), and a filter on it is judged once per value.
/// `None` when no column qualifies or the reader refuses the schema.
fn with_dictionaries(
    arrow: &ArrowReaderMetadata,
    meta: &Arc<ParquetMetaData>,
    wanted: &[(usize, usize)],
) -> Option<ArrowReaderMetadata> {
    let descr = meta.file_metadata().schema_descr();
    let first = meta.row_groups().first()?;
    let stored_with_dictionary = |root: usize| {
        (0..descr.num_columns())
            .find(|&leaf| descr.get_column_root_idx(leaf) == root)
            .is_some_and(|leaf| first.column(leaf).dictionary_page_offset().is_some())
    };
    let schema = arrow.schema();
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| (**f).clone()).collect();
    let mut changed = false;
    for &(_, root) in wanted {
        let field = &fields[root];
        if matches!(field.data_type(), DataType::Utf8 | DataType::LargeUtf8)
            && stored_with_dictionary(root)
        {
            let as_dictionary = DataType::Dictionary(
                Box::new(DataType::Int32),
                Box::new(field.data_type().clone()),
            );
            fields[root] = field.clone().with_data_type(as_dictionary);
            changed = true;
        }
    }
    if !changed {
        return None;
    }
    let schema = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    ArrowReaderMetadata::try_new(meta.clone(), ArrowReaderOptions::new().with_schema(schema)).ok()
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

/// The columns to read: (slot, root) of each, and those statistics answer.
struct Columns<'a> {
    wanted: &'a [(usize, usize)],
    summarised: &'a [stats::Summarised],
}

/// Decode row groups on every core and merge their accumulators in file order.
fn read_groups(
    source: &Pread,
    arrow: &ArrowReaderMetadata,
    columns: &Columns<'_>,
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
                    let mut scratch = Scratch::default();
                    loop {
                        let g = next.fetch_add(1, Ordering::Relaxed);
                        if g >= groups {
                            break;
                        }
                        let r = read_group(
                            source,
                            arrow,
                            columns,
                            (g, group_rows[g]),
                            ctx,
                            &mut scratch,
                        );
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

/// One row group of `rows` rows into a fresh accumulator (rows numbered from 1 within
/// it): its columns decoded, or summed up from their statistics.
fn read_group(
    source: &Pread,
    arrow: &ArrowReaderMetadata,
    columns: &Columns<'_>,
    (group, rows): (usize, u64),
    ctx: &Ctx<'_>,
    scratch: &mut Scratch,
) -> Result<Acc, GroupError> {
    let err = |e: &dyn std::fmt::Display| GroupError {
        group,
        msg: e.to_string(),
    };
    let summary = |slot: usize| {
        columns
            .summarised
            .iter()
            .find(|s| s.slot == slot && s.decoded != Some(group))
    };
    let decode: Vec<(usize, usize)> = columns
        .wanted
        .iter()
        .copied()
        .filter(|&(slot, _)| summary(slot).is_none())
        .collect();
    let mut acc = Acc::new(ctx.need);
    if decode.is_empty() {
        acc.add_rows(rows);
    } else {
        let batches =
            reader(source, arrow, decode.iter().map(|w| w.1), group).map_err(|e| err(&e))?;
        let st = RowState::new(ctx.need);
        for batch in batches {
            let batch = batch.map_err(|e| err(&e))?;
            add_batch(&mut acc, ctx, &st, &decode, &batch, scratch).map_err(|e| err(&e))?;
        }
    }
    let planned = &ctx.need.groups[0].cols;
    for (c, (slot, _)) in acc.groups[0].cols.iter_mut().zip(planned) {
        if let Some(s) = summary(*slot) {
            stats::fold(c, &s.groups[group], rows);
        }
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
