//! The Parquet reader: row counts from the footer, only the needed columns decoded.

use super::metrics::{Acc, Ctx, RowState};
use super::read::{FileData, ReadError, slots_for};
use std::fs::File;

pub(super) fn read(file: File, ctx: &Ctx<'_>) -> Result<FileData, ReadError> {
    use arrow_array::Array;
    use parquet::arrow::ProjectionMask;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let need = ctx.need;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| ReadError::new(format!("not a valid Parquet file: {e}")))?;
    let num_rows = builder.metadata().file_metadata().num_rows().max(0) as u64;
    let roots: Vec<String> = builder
        .parquet_schema()
        .root_schema()
        .get_fields()
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    let (_, missing) = slots_for(&roots, need);
    let mut acc = Acc::new(need);
    if need.rows_only() {
        // From the footer: no data pages are read.
        acc.add_rows(num_rows);
        return Ok(FileData {
            acc,
            missing,
            columns: roots,
        });
    }
    let wanted: Vec<usize> = need
        .columns
        .iter()
        .filter_map(|c| roots.iter().position(|r| r == c))
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), wanted);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(8192)
        .build()
        .map_err(|e| ReadError::new(format!("cannot read Parquet data: {e}")))?;
    let st = RowState::new(need);
    let nslots = need.columns.len();
    // Text columns are borrowed from the arrays; other values are written into a
    // per-column buffer reused for every row.
    let mut scratch: Vec<Vec<u8>> = vec![Vec::new(); nslots];
    let mut null = vec![true; nslots];
    for batch in reader {
        let batch = batch.map_err(|e| {
            ReadError::new(format!("corrupt Parquet data after row {}: {e}", acc.rows))
        })?;
        let cols: Vec<Option<Col>> = need
            .columns
            .iter()
            .map(|c| {
                batch
                    .schema()
                    .index_of(c)
                    .ok()
                    .map(|i| Col::of(batch.column(i)))
            })
            .collect();
        for r in 0..batch.num_rows() {
            for (slot, col) in cols.iter().enumerate() {
                null[slot] = match col {
                    None => true,
                    Some(Col::Str(a)) => a.is_null(r),
                    Some(Col::Dict(a, keys, values)) => {
                        let b = &mut scratch[slot];
                        b.clear();
                        a.is_null(r) || !arrow_write(values, keys[r], b).map_err(ReadError::new)?
                    }
                    Some(Col::Other(a)) => {
                        let b = &mut scratch[slot];
                        b.clear();
                        !arrow_write(a, r, b).map_err(ReadError::new)?
                    }
                };
            }
            acc.row(ctx, &st, |slot| {
                if null[slot] {
                    return None;
                }
                let v: &[u8] = match &cols[slot] {
                    Some(Col::Str(a)) => a.value(r).as_bytes(),
                    _ => &scratch[slot],
                };
                (!v.is_empty()).then_some(v)
            });
        }
    }
    Ok(FileData {
        acc,
        missing,
        columns: roots,
    })
}

/// A column of a record batch.
enum Col<'a> {
    Str(&'a arrow_array::StringArray),
    /// Dictionary-encoded: the array, the key of every row, and the values.
    Dict(
        &'a arrow_array::ArrayRef,
        Vec<usize>,
        &'a arrow_array::ArrayRef,
    ),
    Other(&'a arrow_array::ArrayRef),
}

impl<'a> Col<'a> {
    fn of(a: &'a arrow_array::ArrayRef) -> Self {
        use arrow_array::cast::AsArray;
        if let Some(s) = a.as_any().downcast_ref::<arrow_array::StringArray>() {
            return Col::Str(s);
        }
        if let arrow_schema::DataType::Dictionary(_, _) = a.data_type() {
            let d = a.as_any_dictionary();
            return Col::Dict(a, d.normalized_keys(), d.values());
        }
        Col::Other(a)
    }
}

/// Write one Arrow value as text into `out` (numbers in their shortest form, dates as
/// YYYY-MM-DD); false when it is null.
fn arrow_write(a: &arrow_array::ArrayRef, i: usize, out: &mut Vec<u8>) -> Result<bool, String> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::*;
    use arrow_schema::{DataType, TimeUnit};
    use std::io::Write;
    if a.is_null(i) {
        return Ok(false);
    }
    macro_rules! num {
        ($t:ty) => {{
            let _ = write!(out, "{}", a.as_primitive::<$t>().value(i));
        }};
    }
    let date = |out: &mut Vec<u8>, d: Option<chrono::NaiveDate>| {
        if let Some(d) = d {
            let _ = write!(out, "{}", d.format("%Y-%m-%d"));
        }
    };
    match a.data_type() {
        DataType::Utf8 => out.extend_from_slice(a.as_string::<i32>().value(i).as_bytes()),
        DataType::LargeUtf8 => out.extend_from_slice(a.as_string::<i64>().value(i).as_bytes()),
        DataType::Utf8View => out.extend_from_slice(a.as_string_view().value(i).as_bytes()),
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
        DataType::Float32 => num!(Float32Type),
        DataType::Float64 => num!(Float64Type),
        DataType::Decimal128(_, _) => out.extend_from_slice(
            a.as_primitive::<Decimal128Type>()
                .value_as_string(i)
                .as_bytes(),
        ),
        DataType::Date32 => date(out, a.as_primitive::<Date32Type>().value_as_date(i)),
        DataType::Date64 => date(out, a.as_primitive::<Date64Type>().value_as_date(i)),
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
            // (Batches go through `Col::Dict`; this is for nested dictionaries.)
            let d = a.as_any_dictionary();
            let key = d.normalized_keys()[i];
            return arrow_write(d.values(), key, out);
        }
        other => return Err(format!("unsupported Parquet column type {other}")),
    }
    Ok(true)
}
