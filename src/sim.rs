//! Helpers for the simulated agents that ship with the example plans.
//!
//! The simulated agents are POSIX shell + awk; awk cannot write Parquet, so they write
//! CSV and call the binary's hidden `sim csv2parquet IN OUT` subcommand, which lands
//! here. Column types are inferred simply: a column whose every non-empty value is an
//! integer is `Int64`, else one whose every non-empty value is a number is `Float64`,
//! else `Utf8`. Empty fields become nulls.

use anyhow::{Context, Result, bail};
use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

/// Rows per record batch (and so, roughly, per row group page run).
const BATCH_ROWS: usize = 64 * 1024;

/// Convert a CSV file (with a header row) into a zstd-compressed Parquet file.
///
/// The Parquet file is written next to its destination and renamed into place, so a
/// watcher never sees a half-written file.
pub fn csv_to_parquet(csv: &Path, parquet: &Path) -> Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(csv)
        .with_context(|| format!("cannot open {}", csv.display()))?;
    let headers: Vec<String> = reader
        .headers()
        .with_context(|| format!("{}: cannot read the header row", csv.display()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    if headers.is_empty() || headers.iter().all(|h| h.is_empty()) {
        bail!("{}: no header row", csv.display());
    }

    // Read every field as text first: the type of a column is known only at the end.
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); headers.len()];
    for (i, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{}: bad record", csv.display()))?;
        if record.len() != headers.len() {
            bail!(
                "{}: row {} has {} fields, the header has {}",
                csv.display(),
                i + 2,
                record.len(),
                headers.len()
            );
        }
        for (col, field) in columns.iter_mut().zip(record.iter()) {
            col.push(if field.is_empty() {
                None
            } else {
                Some(field.to_string())
            });
        }
    }

    let types: Vec<DataType> = columns.iter().map(|c| infer(c)).collect();
    let schema = Arc::new(Schema::new(
        headers
            .iter()
            .zip(&types)
            .map(|(name, ty)| Field::new(name, ty.clone(), true))
            .collect::<Vec<_>>(),
    ));

    let tmp = parquet.with_extension("parquet.tmp");
    let file = File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build();
    let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props))?;
    let rows = columns.first().map_or(0, Vec::len);
    let mut start = 0;
    loop {
        let end = (start + BATCH_ROWS).min(rows);
        let arrays: Vec<ArrayRef> = columns
            .iter()
            .zip(&types)
            .map(|(col, ty)| to_array(&col[start..end], ty))
            .collect();
        writer.write(&RecordBatch::try_new(schema.clone(), arrays)?)?;
        start = end;
        if start >= rows {
            break;
        }
    }
    writer.close()?;
    std::fs::rename(&tmp, parquet)
        .with_context(|| format!("cannot rename {} into place", tmp.display()))?;
    Ok(())
}

fn infer(col: &[Option<String>]) -> DataType {
    let values = || col.iter().flatten();
    if values().next().is_none() {
        return DataType::Utf8;
    }
    if values().all(|v| v.parse::<i64>().is_ok()) {
        DataType::Int64
    } else if values().all(|v| v.parse::<f64>().is_ok_and(f64::is_finite)) {
        DataType::Float64
    } else {
        DataType::Utf8
    }
}

fn to_array(col: &[Option<String>], ty: &DataType) -> ArrayRef {
    // `infer` guarantees every value parses as the chosen type.
    match ty {
        DataType::Int64 => Arc::new(
            col.iter()
                .map(|v| v.as_deref().and_then(|s| s.parse::<i64>().ok()))
                .collect::<Int64Array>(),
        ),
        DataType::Float64 => Arc::new(
            col.iter()
                .map(|v| v.as_deref().and_then(|s| s.parse::<f64>().ok()))
                .collect::<Float64Array>(),
        ),
        _ => Arc::new(col.iter().map(|v| v.as_deref()).collect::<StringArray>()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    #[test]
    fn converts_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("t.csv");
        let pq = dir.path().join("t.parquet");
        let mut text = String::from("id,amount,issuer,week\n");
        for i in 0..1000 {
            let issuer = if i % 3 == 0 {
                "\"BBVA, Mexico\""
            } else {
                "Chase"
            };
            let week = if i == 7 {
                String::new()
            } else {
                (i % 6 + 1).to_string()
            };
            text.push_str(&format!("{i},{}.5,{issuer},{week}\n", i * 2));
        }
        std::fs::write(&csv, text).unwrap();
        csv_to_parquet(&csv, &pq).unwrap();

        let reader = SerializedFileReader::new(File::open(&pq).unwrap()).unwrap();
        assert_eq!(reader.metadata().file_metadata().num_rows(), 1000);

        let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(&pq).unwrap()).unwrap();
        let schema = builder.schema().clone();
        let types: Vec<_> = schema
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        assert_eq!(
            types,
            vec![
                DataType::Int64,
                DataType::Float64,
                DataType::Utf8,
                DataType::Int64
            ]
        );
        let batches: Vec<RecordBatch> = builder.build().unwrap().map(|b| b.unwrap()).collect();
        let first = &batches[0];
        let issuer = first
            .column(2)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(issuer.value(0), "BBVA, Mexico");
        let week = first
            .column(3)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        assert!(week.is_null(7));
        assert_eq!(week.value(8), 3);
        assert!(!dir.path().join("t.parquet.tmp").exists());
    }

    #[test]
    fn ragged_row_is_an_error_naming_the_row() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("bad.csv");
        std::fs::write(&csv, "a,b\n1,2\n3\n").unwrap();
        let err = csv_to_parquet(&csv, &dir.path().join("bad.parquet")).unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("bad.csv"), "{msg}");
    }

    #[test]
    fn missing_input_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = csv_to_parquet(&dir.path().join("nope.csv"), &dir.path().join("x.parquet"))
            .unwrap_err();
        assert!(format!("{err:#}").contains("nope.csv"));
    }
}
