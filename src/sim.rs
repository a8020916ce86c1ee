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

    /// Every session of the four seed plans that goes through `assets/bin/agent` has a
    /// simulated agent and a prompt for real agents.
    #[test]
    fn every_seed_session_has_a_simulated_agent_and_a_prompt() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut seen = 0;
        for plan in ["rag-mmm", "voltmarket", "cbbd-etl", "trading-phase2"] {
            let text = std::fs::read_to_string(repo.join(format!("config/{plan}.toml"))).unwrap();
            let doc: toml::Table = toml::from_str(&text).unwrap();
            for session in doc["session"].as_array().unwrap() {
                let name = session["name"].as_str().unwrap();
                let command = session["command"].as_str().unwrap();
                if !command.contains("bin/agent") {
                    continue;
                }
                assert!(
                    command.contains(&format!("{{agent}} {plan} {name}")),
                    "{plan}/{name}: {command}"
                );
                let sim = repo.join(format!("assets/{plan}/agents/{name}.sh"));
                let prompt = repo.join(format!("sessions/{plan}/{name}.md"));
                assert!(sim.is_file(), "missing {}", sim.display());
                assert!(prompt.is_file(), "missing {}", prompt.display());
                seen += 1;
            }
        }
        assert_eq!(seen, 6 + 5 + 5 + 10);
    }

    /// `--var agent=claude`: the dispatcher runs the named CLI with the session's prompt
    /// (and the model from MODEL), after removing a stale done file.
    #[test]
    fn dispatcher_runs_a_real_agent_cli_with_the_prompt() {
        use std::os::unix::fs::PermissionsExt;
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let fake = bin.join("claude");
        std::fs::write(
            &fake,
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n--\\n' \"$a\"; done > \"$FLIGHTDECK_ROOT/args\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join(".flightdeck/done")).unwrap();
        std::fs::write(root.join(".flightdeck/done/validator"), "stale").unwrap();
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
        let run = |mode: &str, session: &str| {
            std::process::Command::new("sh")
                .arg(repo.join("assets/bin/agent"))
                .args([mode, "rag-mmm", session])
                .env("PATH", &path)
                .env("FLIGHTDECK_ROOT", &root)
                .env("MODEL", "opus")
                .current_dir(&root)
                .output()
                .unwrap()
        };
        let out = run("claude", "validator");
        assert!(out.status.success(), "{out:?}");
        let args = std::fs::read_to_string(root.join("args")).unwrap();
        assert!(args.starts_with("--model\n--\nopus\n--\n"), "{args}");
        assert!(args.contains("weekly_channel_spend.csv"), "{args}");
        assert!(args.contains(".flightdeck/done/validator"), "{args}");
        assert!(!root.join(".flightdeck/done/validator").exists());

        let missing = run("no-such-agent-cli", "validator");
        assert_eq!(missing.status.code(), Some(127));
        assert!(String::from_utf8_lossy(&missing.stderr).contains("not on PATH"));
        assert_eq!(run("sim", "no-such-session").status.code(), Some(2));
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
