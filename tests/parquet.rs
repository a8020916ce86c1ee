//! Parquet as other tools write it, through the real binary (`flightdeck check`):
//! every codec, row counts from the row groups, old writers' quirks, page versions and
//! encodings, INT96 and decimals, nulls anywhere, nested and undecodable columns, and
//! exact 64-bit sums. The files are written here with the `parquet` crate's own writer
//! (and patched byte by byte where a quirk of another writer is needed).

mod common;

use arrow_array::{
    ArrayRef, Float64Array, Int32Array, Int64Array, ListArray, RecordBatch, StringArray,
    StructArray,
};
use parquet::arrow::ArrowWriter;
use parquet::basic::{BrotliLevel, Compression, Encoding, GzipLevel, ZstdLevel};
use parquet::file::properties::{WriterProperties, WriterVersion};
use parquet::schema::types::ColumnPath;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// `flightdeck check --format json` on a plan with one dataset per (name, file, checks);
/// the check results in order.
fn check(dir: &Path, datasets: &[(&str, &str, &[&str])]) -> Vec<Value> {
    let mut plan = String::from("[plan]\nname = \"pq\"\nroot = \".\"\n");
    for (name, file, checks) in datasets {
        plan += &format!(
            "\n[[dataset]]\nname = \"{name}\"\npath = \"{file}\"\nchecks = {}\n",
            serde_json::to_string(checks).unwrap()
        );
    }
    std::fs::write(dir.join("plan.toml"), plan).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_flightdeck"))
        .args(["check", "plan.toml", "--format", "json"])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = common::wait_with_deadline(child, Duration::from_secs(60));
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "no JSON ({e}): {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    v["checks"].as_array().unwrap().clone()
}

/// Every result passed; the failure shows all of them.
fn all_pass(results: &[Value]) {
    for r in results {
        assert_eq!(r["status"], "pass", "{}: {}", r["check"], r["message"]);
    }
}

fn message(r: &Value) -> &str {
    r["message"].as_str().unwrap()
}

fn write(path: &Path, batches: &[RecordBatch], props: WriterProperties) {
    let f = std::fs::File::create(path).unwrap();
    let mut w = ArrowWriter::try_new(f, batches[0].schema(), Some(props)).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.close().unwrap();
}

/// `id` 1..=n (required), `amount` = id / 4 with every seventh row null, `name` one of
/// five words.
fn sample(n: i64) -> RecordBatch {
    let ids: Vec<i64> = (1..=n).collect();
    let amount: Vec<Option<f64>> = ids
        .iter()
        .map(|i| (i % 7 != 0).then_some(*i as f64 / 4.0))
        .collect();
    let words = ["alpha", "bravo", "charlie", "delta", "echo"];
    let names: Vec<&str> = ids.iter().map(|i| words[*i as usize % 5]).collect();
    RecordBatch::try_from_iter_with_nullable(vec![
        ("id", Arc::new(Int64Array::from(ids)) as ArrayRef, false),
        (
            "amount",
            Arc::new(Float64Array::from(amount)) as ArrayRef,
            true,
        ),
        (
            "name",
            Arc::new(StringArray::from(names)) as ArrayRef,
            false,
        ),
    ])
    .unwrap()
}

/// The checks `sample(n)` passes.
fn sample_checks(n: i64) -> Vec<String> {
    let amount: f64 = (1..=n).filter(|i| i % 7 != 0).map(|i| i as f64 / 4.0).sum();
    let uk = (1..=n).filter(|i| i % 5 == 0).count();
    vec![
        format!("row_count = {n}"),
        format!("sum(id) = {}", n * (n + 1) / 2),
        format!("sum(amount) ~ {amount} ± 0.000001"),
        format!("null_count(amount) = {}", n / 7),
        format!("row_count where name = 'alpha' = {uk}"),
        "min(name) = 'alpha'".into(),
        "max(name) = 'echo'".into(),
        format!("max(id) = {n}"),
    ]
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn every_codec_the_format_defines() {
    let dir = tempfile::tempdir().unwrap();
    let codecs = [
        ("uncompressed", Compression::UNCOMPRESSED),
        ("snappy", Compression::SNAPPY),
        ("gzip", Compression::GZIP(GzipLevel::default())),
        ("brotli", Compression::BROTLI(BrotliLevel::default())),
        ("lz4", Compression::LZ4),
        ("lz4_raw", Compression::LZ4_RAW),
        ("zstd", Compression::ZSTD(ZstdLevel::default())),
    ];
    let checks = sample_checks(3000);
    let mut datasets = vec![];
    for (name, codec) in codecs {
        let file = format!("{name}.parquet");
        let props = WriterProperties::builder().set_compression(codec).build();
        write(&dir.path().join(&file), &[sample(3000)], props);
        // The file really uses the codec.
        let meta = parquet::file::metadata::ParquetMetaDataReader::new()
            .parse_and_finish(&std::fs::File::open(dir.path().join(&file)).unwrap())
            .unwrap();
        assert_eq!(meta.row_group(0).column(0).compression(), codec, "{name}");
        datasets.push((name.to_string(), file));
    }
    let specs: Vec<(&str, &str, &[&str])> = vec![];
    let checks = strs(&checks);
    let mut specs = specs;
    for (name, file) in &datasets {
        specs.push((name, file, &checks));
    }
    let r = check(dir.path(), &specs);
    assert_eq!(r.len(), 7 * checks.len());
    all_pass(&r);
}

/// Replace the one occurrence of `from` in the footer of `path` with `to`, keeping the
/// footer length right.
fn patch_footer(path: &Path, from: &[u8], to: &[u8]) {
    let mut b = std::fs::read(path).unwrap();
    let n = b.len();
    let len = u32::from_le_bytes(b[n - 8..n - 4].try_into().unwrap()) as usize;
    let start = n - 8 - len;
    let footer = &b[start..n - 8];
    let hits: Vec<usize> = (0..footer.len().saturating_sub(from.len() - 1))
        .filter(|&i| &footer[i..i + from.len()] == from)
        .collect();
    assert_eq!(hits.len(), 1, "pattern {from:02x?} in the footer");
    let at = start + hits[0];
    b.splice(at..at + from.len(), to.iter().copied());
    let len = (len + to.len() - from.len()) as u32;
    let n = b.len();
    b[n - 8..n - 4].copy_from_slice(&len.to_le_bytes());
    std::fs::write(path, b).unwrap();
}

/// Thrift compact varint of a zigzag-encoded i64.
fn varint(x: i64) -> Vec<u8> {
    let mut z = ((x << 1) ^ (x >> 63)) as u64;
    let mut out = vec![];
    loop {
        let b = (z & 0x7f) as u8;
        z >>= 7;
        if z == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

#[test]
fn row_counts_come_from_the_row_groups() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("footer.parquet");
    let props = WriterProperties::builder()
        .set_compression(Compression::UNCOMPRESSED)
        .build();
    write(&path, &[sample(6)], props);
    // FileMetaData: field 3 num_rows (i64, 6) then field 4 row_groups (a list). Say 0.
    let mut from = vec![0x16];
    from.extend(varint(6));
    from.push(0x19);
    patch_footer(&path, &from, &[0x16, 0x00, 0x19]);
    let meta = parquet::file::metadata::ParquetMetaDataReader::new()
        .parse_and_finish(&std::fs::File::open(&path).unwrap())
        .unwrap();
    assert_eq!(meta.file_metadata().num_rows(), 0, "the footer now says 0");
    let r = check(
        dir.path(),
        &[
            ("rows", "footer.parquet", &["row_count = 6"]),
            (
                "cols",
                "footer.parquet",
                &["row_count = 6", "sum(id) = 21", "max(id) = 6"],
            ),
        ],
    );
    all_pass(&r);
    for i in [0, 1] {
        assert!(
            message(&r[i]).contains(
                "footer.parquet: its footer says 0 rows, its row groups hold 6; the row groups are counted"
            ),
            "{}",
            message(&r[i])
        );
    }
    assert!(
        !message(&r[2]).contains("footer"),
        "only row counts carry the note"
    );
}

#[test]
fn dictionary_page_at_offset_zero_as_old_parquet_mr_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mr.parquet");
    let names = StringArray::from(vec![
        Some("b"),
        Some("a"),
        None,
        Some("c"),
        Some("a"),
        Some("b"),
    ]);
    let batch = RecordBatch::try_from_iter(vec![("name", Arc::new(names) as ArrayRef)]).unwrap();
    let props = WriterProperties::builder()
        .set_compression(Compression::UNCOMPRESSED)
        .set_dictionary_enabled(true)
        .build();
    write(&path, &[batch], props);
    let meta = parquet::file::metadata::ParquetMetaDataReader::new()
        .parse_and_finish(&std::fs::File::open(&path).unwrap())
        .unwrap();
    let col = meta.row_group(0).column(0);
    let (dict, data) = (
        col.dictionary_page_offset().unwrap(),
        col.data_page_offset(),
    );
    assert!(dict < data);
    // ColumnMetaData: field 9 data_page_offset, field 11 dictionary_page_offset. Old
    // parquet-mr: the data page offset points at the dictionary page, and the
    // dictionary page offset is 0.
    let mut from = vec![0x26];
    from.extend(varint(data));
    from.push(0x26);
    from.extend(varint(dict));
    let mut to = vec![0x26];
    to.extend(varint(dict));
    to.push(0x26);
    to.extend(varint(0));
    patch_footer(&path, &from, &to);
    // The quirk is real: a reader that trusts the offset fails.
    let plain = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(&path).unwrap(),
    )
    .and_then(|b| b.build())
    .map(|r| r.collect::<Result<Vec<_>, _>>());
    assert!(!matches!(plain, Ok(Ok(_))), "the plain reader reads it");
    let r = check(
        dir.path(),
        &[(
            "mr",
            "mr.parquet",
            &[
                "row_count = 6",
                "null_count(name) = 1",
                "min(name) = 'a'",
                "max(name) = 'c'",
                "distinct_count(name) = 3",
                "row_count where name = 'a' = 2",
            ],
        )],
    );
    all_pass(&r);
}

#[test]
fn page_versions_and_encodings() {
    let dir = tempfile::tempdir().unwrap();
    let encodings = [
        ("plain", Encoding::PLAIN, Encoding::PLAIN),
        ("bss", Encoding::BYTE_STREAM_SPLIT, Encoding::PLAIN),
        (
            "delta",
            Encoding::DELTA_BINARY_PACKED,
            Encoding::DELTA_BYTE_ARRAY,
        ),
        (
            "delta_length",
            Encoding::DELTA_BINARY_PACKED,
            Encoding::DELTA_LENGTH_BYTE_ARRAY,
        ),
        ("dict", Encoding::RLE_DICTIONARY, Encoding::RLE_DICTIONARY),
    ];
    let n = 20_000;
    let checks = sample_checks(n);
    let checks = strs(&checks);
    let mut files = vec![];
    for version in [WriterVersion::PARQUET_1_0, WriterVersion::PARQUET_2_0] {
        for (name, numbers, text) in encodings {
            let mut p = WriterProperties::builder()
                .set_writer_version(version)
                .set_compression(Compression::SNAPPY)
                // Many pages and row groups: the row groups are read in parallel.
                .set_data_page_row_count_limit(1000)
                .set_write_batch_size(500)
                .set_max_row_group_row_count(Some(6000));
            if numbers == Encoding::RLE_DICTIONARY {
                p = p.set_dictionary_enabled(true);
            } else {
                p = p.set_dictionary_enabled(false);
                for c in ["id", "amount"] {
                    let e = match (c, numbers) {
                        // Delta encodings are for integers and text only.
                        ("amount", Encoding::DELTA_BINARY_PACKED) => Encoding::BYTE_STREAM_SPLIT,
                        _ => numbers,
                    };
                    p = p.set_column_encoding(ColumnPath::from(c), e);
                }
                p = p.set_column_encoding(ColumnPath::from("name"), text);
            }
            let v = if version == WriterVersion::PARQUET_1_0 {
                1
            } else {
                2
            };
            let file = format!("{name}-v{v}.parquet");
            write(&dir.path().join(&file), &[sample(n)], p.build());
            files.push((format!("{name}_v{v}"), file));
        }
    }
    // The files hold what they should: v2 data pages and the chosen encodings.
    let meta = parquet::file::metadata::ParquetMetaDataReader::new()
        .parse_and_finish(&std::fs::File::open(dir.path().join("delta-v2.parquet")).unwrap())
        .unwrap();
    assert!(meta.num_row_groups() >= 3);
    let enc: Vec<Encoding> = meta.row_group(0).column(2).encodings().collect();
    assert!(enc.contains(&Encoding::DELTA_BYTE_ARRAY), "{enc:?}");
    let specs: Vec<(&str, &str, &[&str])> = files
        .iter()
        .map(|(n, f)| (n.as_str(), f.as_str(), &checks[..]))
        .collect();
    let r = check(dir.path(), &specs);
    assert_eq!(r.len(), files.len() * checks.len());
    all_pass(&r);
}

#[test]
fn int96_timestamps_decimals_and_dates() {
    use parquet::data_type::{
        ByteArray, FixedLenByteArray, FixedLenByteArrayType, Int32Type, Int64Type, Int96, Int96Type,
    };
    use parquet::file::writer::SerializedFileWriter;
    let dir = tempfile::tempdir().unwrap();
    let schema = parquet::schema::parser::parse_message_type(
        "message m {
            required int96 ts;
            optional int32 d32 (DECIMAL(9,2));
            optional int64 d64 (DECIMAL(18,3));
            optional fixed_len_byte_array(16) d128 (DECIMAL(38,4));
            optional int32 day (DATE);
            required binary note (UTF8);
        }",
    )
    .unwrap();
    let f = std::fs::File::create(dir.path().join("typed.parquet")).unwrap();
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut w = SerializedFileWriter::new(f, Arc::new(schema), Arc::new(props)).unwrap();
    let mut rg = w.next_row_group().unwrap();
    // 2024-01-02T03:04:05 and 2024-01-03T00:00:00 as Impala and Spark write them:
    // nanoseconds of the day, then the Julian day.
    let ts = |day: u32, nanos: u64| {
        let mut t = Int96::new();
        t.set_data(nanos as u32, (nanos >> 32) as u32, day);
        t
    };
    let stamps = [
        ts(2_460_312, 11_045 * 1_000_000_000),
        ts(2_460_313, 0),
        ts(2_460_312, 0),
    ];
    let present = [1i16, 0, 1];
    let dec16 = |x: i128| FixedLenByteArray::from(ByteArray::from(x.to_be_bytes().to_vec()));
    let mut c = rg.next_column().unwrap().unwrap();
    c.typed::<Int96Type>()
        .write_batch(&stamps, None, None)
        .unwrap();
    c.close().unwrap();
    let mut c = rg.next_column().unwrap().unwrap();
    c.typed::<Int32Type>()
        .write_batch(&[1234, -99], Some(&present), None)
        .unwrap();
    c.close().unwrap();
    let mut c = rg.next_column().unwrap().unwrap();
    c.typed::<Int64Type>()
        .write_batch(&[1500, 2250], Some(&[1, 1, 0]), None)
        .unwrap();
    c.close().unwrap();
    let mut c = rg.next_column().unwrap().unwrap();
    c.typed::<FixedLenByteArrayType>()
        .write_batch(&[dec16(123_456_789), dec16(-1)], Some(&[0, 1, 1]), None)
        .unwrap();
    c.close().unwrap();
    let mut c = rg.next_column().unwrap().unwrap();
    c.typed::<Int32Type>()
        .write_batch(&[19_724, 19_725], Some(&present), None)
        .unwrap();
    c.close().unwrap();
    let mut c = rg.next_column().unwrap().unwrap();
    c.typed::<parquet::data_type::ByteArrayType>()
        .write_batch(&["x".into(), "y".into(), "z".into()], None, None)
        .unwrap();
    c.close().unwrap();
    rg.close().unwrap();
    w.close().unwrap();
    let r = check(
        dir.path(),
        &[(
            "typed",
            "typed.parquet",
            &[
                "row_count = 3",
                "min(ts) = 2024-01-02",
                "max(ts) = 2024-01-03",
                "max(ts) = '2024-01-03T00:00:00'",
                "min(ts) = '2024-01-02T00:00:00'",
                "sum(d32) ~ 11.35 ± 0.0000001",
                "null_count(d32) = 1",
                "sum(d64) ~ 3.75 ± 0.0000001",
                "max(d64) = 2.25",
                "sum(d128) ~ 12345.6788 ± 0.0000001",
                "min(d128) = -0.0001",
                "min(day) = 2024-01-02",
                "max(day) = 2024-01-03",
                "null_count(day) = 1",
                "row_count where day >= 2024-01-03 = 1",
                "row_count where d32 < 0 = 1",
            ],
        )],
    );
    all_pass(&r);
}

#[test]
fn nulls_in_every_position_required_and_optional() {
    let dir = tempfile::tempdir().unwrap();
    let n = 9000usize;
    // Nulls first, last, at page edges and in runs; a column that is all null.
    let v: Vec<Option<i64>> = (0..n)
        .map(|i| {
            (!(i == 0 || i == n - 1 || i % 1000 == 999 || (4000..4500).contains(&i)))
                .then_some(i as i64)
        })
        .collect();
    let nulls = v.iter().filter(|x| x.is_none()).count();
    let sum: i64 = v.iter().flatten().sum();
    let s: Vec<Option<String>> = v.iter().map(|x| x.map(|x| format!("v{}", x % 3))).collect();
    let batch = RecordBatch::try_from_iter_with_nullable(vec![
        (
            "req",
            Arc::new(Int64Array::from_iter_values(0..n as i64)) as ArrayRef,
            false,
        ),
        (
            "opt",
            Arc::new(Int64Array::from(v.clone())) as ArrayRef,
            true,
        ),
        ("text", Arc::new(StringArray::from(s)) as ArrayRef, true),
        (
            "none",
            Arc::new(Int32Array::from(vec![None; n])) as ArrayRef,
            true,
        ),
    ])
    .unwrap();
    let halves = [batch.slice(0, 4200), batch.slice(4200, n - 4200)];
    for (file, dict) in [("nulls.parquet", true), ("nulls-plain.parquet", false)] {
        let props = WriterProperties::builder()
            .set_dictionary_enabled(dict)
            .set_data_page_row_count_limit(1000)
            .set_write_batch_size(250)
            .set_max_row_group_row_count(Some(3000))
            .build();
        write(&dir.path().join(file), &halves, props);
    }
    // The first column asked for is the last in the file: slots and file order differ.
    let checks = [
        "max(text) = 'v2'".to_string(),
        format!("row_count = {n}"),
        "null_count(req) = 0".to_string(),
        format!("sum(req) = {}", n * (n - 1) / 2),
        format!("null_count(opt) = {nulls}"),
        format!("sum(opt) = {sum}"),
        format!("null_count(text) = {nulls}"),
        format!("row_count where opt >= 0 = {}", n - nulls),
        format!("null_count(none) = {n}"),
        "sum(none) = 0".to_string(),
        "min(opt) = 1".to_string(),
        format!("max(opt) = {}", n - 2),
        "distinct_count(text) = 3".to_string(),
    ];
    let checks = strs(&checks);
    let r = check(
        dir.path(),
        &[
            ("dict", "nulls.parquet", &checks),
            ("plain", "nulls-plain.parquet", &checks),
        ],
    );
    all_pass(&r);
}

#[test]
fn nested_columns_are_named_and_the_rest_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    let tags = ListArray::from_iter_primitive::<arrow_array::types::Int32Type, _, _>(vec![
        Some(vec![Some(1), Some(2)]),
        None,
        Some(vec![]),
    ]);
    let point = StructArray::from(vec![(
        Arc::new(arrow_schema::Field::new(
            "x",
            arrow_schema::DataType::Int64,
            true,
        )),
        Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef,
    )]);
    let batch = RecordBatch::try_from_iter(vec![
        ("id", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef),
        ("tags", Arc::new(tags) as ArrayRef),
        ("point", Arc::new(point) as ArrayRef),
    ])
    .unwrap();
    write(
        &dir.path().join("nested.parquet"),
        &[batch],
        WriterProperties::default(),
    );
    let r = check(
        dir.path(),
        &[(
            "nested",
            "nested.parquet",
            &[
                "row_count = 3",
                "sum(id) = 6",
                "null_count(tags) = 1",
                "sum(point) > 0",
                "row_count where tags = 'x' = 0",
            ],
        )],
    );
    all_pass(&r[..2]);
    for (i, what) in [
        (2, "`tags` is nested (a list)"),
        (3, "`point` is nested (a struct)"),
        (4, "`tags` is nested (a list)"),
    ] {
        assert_eq!(r[i]["status"], "error", "{}", message(&r[i]));
        assert!(message(&r[i]).contains(what), "{}", message(&r[i]));
        assert!(
            message(&r[i]).contains("nested.parquet"),
            "{}",
            message(&r[i])
        );
    }
}

#[test]
fn a_column_that_cannot_be_decoded_is_named_and_the_rest_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.parquet");
    let n = 2000;
    let words: Vec<String> = (0..n)
        .map(|i| format!("payload number {i} of many"))
        .collect();
    let batch = RecordBatch::try_from_iter(vec![
        (
            "id",
            Arc::new(Int64Array::from_iter_values(1..=n)) as ArrayRef,
        ),
        ("payload", Arc::new(StringArray::from(words)) as ArrayRef),
        (
            "at",
            Arc::new(arrow_array::Time64MicrosecondArray::from(vec![
                1_000_000;
                n as usize
            ])) as ArrayRef,
        ),
    ])
    .unwrap();
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_dictionary_enabled(false)
        .build();
    write(&path, &[batch], props);
    // Scramble the second half of the payload's one data page (its header stays whole).
    let meta = parquet::file::metadata::ParquetMetaDataReader::new()
        .parse_and_finish(&std::fs::File::open(&path).unwrap())
        .unwrap();
    let (start, len) = meta.row_group(0).column(1).byte_range();
    let mut b = std::fs::read(&path).unwrap();
    for x in &mut b[(start + len / 2) as usize..(start + len) as usize] {
        *x = 0xA5;
    }
    std::fs::write(&path, b).unwrap();
    let r = check(
        dir.path(),
        &[
            (
                "broken",
                "broken.parquet",
                &[
                    "row_count = 2000",
                    "sum(id) = 2001000",
                    "null_count(payload) = 0",
                    "max(at) > 0",
                ],
            ),
            ("rows", "broken.parquet", &["row_count = 2000"]),
        ],
    );
    all_pass(&[r[0].clone(), r[1].clone(), r[4].clone()]);
    assert_eq!(r[2]["status"], "error");
    assert!(
        message(&r[2]).contains("broken.parquet: column `payload` cannot be decoded: "),
        "{}",
        message(&r[2])
    );
    assert_eq!(r[3]["status"], "error");
    assert!(
        message(&r[3]).contains("column `at` has Parquet type INT64 (")
            && message(&r[3]).contains("which checks cannot read"),
        "{}",
        message(&r[3])
    );
}

#[test]
fn sums_of_64_bit_integers_are_exact_and_do_not_wrap() {
    let dir = tempfile::tempdir().unwrap();
    // pyarrow's sum wraps to -2 here; flightdeck's is 2^64 - 2 (as near as a double).
    let big = Int64Array::from(vec![i64::MAX, i64::MAX, 0, 0]);
    let small = Int64Array::from(vec![i64::MIN, -1, i64::MIN, 0]);
    // 2^53 + 1 + 1: a running sum of doubles loses both ones.
    let fine = Int64Array::from(vec![1 << 53, 1, 1, 0]);
    let batch = RecordBatch::try_from_iter(vec![
        ("big", Arc::new(big) as ArrayRef),
        ("small", Arc::new(small) as ArrayRef),
        ("fine", Arc::new(fine) as ArrayRef),
    ])
    .unwrap();
    for (file, rows) in [("one.parquet", 4), ("many.parquet", 1)] {
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(rows))
            .build();
        write(&dir.path().join(file), std::slice::from_ref(&batch), props);
    }
    let checks: &[&str] = &[
        "sum(big) > 18000000000000000000",
        "sum(small) < -18000000000000000000",
        "sum(fine) = 9007199254740994",
    ];
    let r = check(
        dir.path(),
        &[
            ("one", "one.parquet", checks),
            ("many", "many.parquet", checks),
        ],
    );
    all_pass(&r);
    for i in [0, 3] {
        assert_eq!(
            r[i]["value"].as_f64().unwrap(),
            18_446_744_073_709_551_614.0
        );
        assert_eq!(
            r[i + 1]["value"].as_f64().unwrap(),
            -18_446_744_073_709_551_617.0
        );
    }
}

/// A text column stored with a dictionary is read as one (each distinct value becomes
/// text once, a filter is judged once per value), also when the writer's dictionary
/// filled up and later pages fell back to plain encoding.
#[test]
fn dictionary_text_columns_and_their_plain_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let n: i64 = 30_000;
    // A few markets, then many distinct codes: the second column outgrows its dictionary.
    let markets: Vec<Option<String>> = (0..n)
        .map(|i| (i % 11 != 0).then(|| ["UK", "DE", "FR"][i as usize % 3].to_string()))
        .collect();
    let codes: Vec<String> = (0..n).map(|i| format!("code-{i:06}")).collect();
    let batch = RecordBatch::try_from_iter(vec![
        (
            "market",
            Arc::new(StringArray::from(markets.clone())) as ArrayRef,
        ),
        ("code", Arc::new(StringArray::from(codes)) as ArrayRef),
    ])
    .unwrap();
    let props = WriterProperties::builder()
        .set_dictionary_enabled(true)
        .set_dictionary_page_size_limit(4096)
        .set_data_page_row_count_limit(1000)
        .set_write_batch_size(500)
        .set_max_row_group_row_count(Some(7000))
        .build();
    write(&dir.path().join("m.parquet"), &[batch], props);
    let meta = parquet::file::metadata::ParquetMetaDataReader::new()
        .parse_and_finish(&std::fs::File::open(dir.path().join("m.parquet")).unwrap())
        .unwrap();
    let code_encodings: Vec<Encoding> = meta.row_group(0).column(1).encodings().collect();
    assert!(
        code_encodings.contains(&Encoding::PLAIN),
        "the code column falls back to plain pages: {code_encodings:?}"
    );
    let uk = markets
        .iter()
        .filter(|m| m.as_deref() == Some("UK"))
        .count();
    let not_uk = markets
        .iter()
        .filter(|m| m.as_deref().is_some_and(|m| m != "UK"))
        .count();
    let checks = [
        format!("row_count where market = 'UK' = {uk}"),
        format!("row_count where market != 'UK' = {not_uk}"),
        format!("null_count(market) = {}", (n + 10) / 11),
        "min(market) = 'DE'".to_string(),
        "max(market) = 'UK'".to_string(),
        "row_count where code >= 'code-029990' = 10".to_string(),
        "min(code) = 'code-000000'".to_string(),
        "max(code) = 'code-029999'".to_string(),
    ];
    // Alone, the filters fold whole columns; beside a distinct count every row is
    // visited: both ways agree.
    let per_row: Vec<&str> = strs(&checks)
        .into_iter()
        .chain(["distinct_count(market) = 3"])
        .collect();
    let r = check(
        dir.path(),
        &[
            ("folded", "m.parquet", &strs(&checks)),
            ("per_row", "m.parquet", &per_row),
        ],
    );
    assert_eq!(r.len(), checks.len() * 2 + 1);
    all_pass(&r);
}

/// The same table as Parquet (with and without statistics, dictionary and plain v2
/// pages, text as an Arrow dictionary with 8-bit keys) and as CSV gives the same value
/// and the same message for every check: sums, dates from decoded
/// pages or from the row groups' statistics, filters judged once per dictionary
/// value, and the rows that errors name.
#[test]
fn parquet_answers_as_the_csv_of_the_same_table() {
    use arrow_array::Date32Array;
    use parquet::file::properties::EnabledStatistics;
    let dir = tempfile::tempdir().unwrap();
    let n = 5000usize;
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |m: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % m
    };
    let day0 = 20089; // 2025-01-01
    // The first row group (1000 rows) holds no date; then dates with a few nulls.
    let date: Vec<Option<i32>> = (0..n)
        .map(|i| (i >= 1000 && next(13) != 0).then(|| day0 + next(365) as i32))
        .collect();
    let due: Vec<i32> = (0..n).map(|_| day0 - 400 + next(900) as i32).collect();
    let spend: Vec<Option<f64>> = (0..n)
        .map(|_| (next(17) != 0).then(|| (next(500_000) as f64 + 1000.0) / 100.0))
        .collect();
    let units: Vec<Option<i64>> = (0..n)
        .map(|_| (next(9) != 0).then(|| next(2000) as i64 - 700))
        .collect();
    let markets = ["UK", "DE", "FR", "", "US"];
    let market: Vec<Option<&str>> = (0..n)
        .map(|_| (next(11) != 0).then(|| markets[next(5) as usize]))
        .collect();
    let code: Vec<String> = (0..n).map(|_| format!("c{:05}", next(40_000))).collect();
    let batch = RecordBatch::try_from_iter(vec![
        (
            "date",
            Arc::new(Date32Array::from(date.clone())) as ArrayRef,
        ),
        ("due", Arc::new(Date32Array::from(due.clone())) as ArrayRef),
        (
            "spend",
            Arc::new(Float64Array::from(spend.clone())) as ArrayRef,
        ),
        (
            "units",
            Arc::new(Int64Array::from(units.clone())) as ArrayRef,
        ),
        (
            "market",
            Arc::new(StringArray::from(market.clone())) as ArrayRef,
        ),
        (
            "code",
            Arc::new(StringArray::from(code.clone())) as ArrayRef,
        ),
    ])
    .unwrap();
    let day = |d: i32| {
        (chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(d as i64))
            .format("%Y-%m-%d")
            .to_string()
    };
    let mut csv = String::from("date,due,spend,units,market,code\n");
    for i in 0..n {
        csv += &format!(
            "{},{},{},{},{},{}\n",
            date[i].map(day).unwrap_or_default(),
            day(due[i]),
            spend[i].map(|x| x.to_string()).unwrap_or_default(),
            units[i].map(|x| x.to_string()).unwrap_or_default(),
            market[i].unwrap_or_default(),
            code[i]
        );
    }
    std::fs::write(dir.path().join("t.csv"), csv).unwrap();
    let base = || {
        WriterProperties::builder()
            .set_max_row_group_row_count(Some(1000))
            .set_data_page_row_count_limit(300)
            .set_write_batch_size(100)
    };
    let variants = [
        ("stats.parquet", base().build()),
        (
            "no_stats.parquet",
            base()
                .set_statistics_enabled(EnabledStatistics::None)
                .build(),
        ),
        (
            "plain_v2.parquet",
            base()
                .set_dictionary_enabled(false)
                .set_writer_version(WriterVersion::PARQUET_2_0)
                .set_compression(Compression::ZSTD(ZstdLevel::default()))
                .build(),
        ),
    ];
    for (file, props) in variants.iter().cloned() {
        write(&dir.path().join(file), std::slice::from_ref(&batch), props);
    }
    // Text as an Arrow dictionary with 8-bit keys (its schema kept in the file).
    let market8: arrow_array::DictionaryArray<arrow_array::types::Int8Type> =
        market.iter().copied().collect();
    let schema = batch.schema();
    let columns: Vec<(&str, ArrayRef)> = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(f, c)| match f.name().as_str() {
            "market" => ("market", Arc::new(market8.clone()) as ArrayRef),
            name => (name, c.clone()),
        })
        .collect();
    let batch8 = RecordBatch::try_from_iter(columns).unwrap();
    write(&dir.path().join("keys8.parquet"), &[batch8], base().build());
    let r = assert_answers_as_csv(
        dir.path(),
        "t.csv",
        &[
            ("stats", "stats.parquet"),
            ("no_stats", "no_stats.parquet"),
            ("plain_v2", "plain_v2.parquet"),
            ("keys8", "keys8.parquet"),
        ],
    );
    // The errors name the first row that is not a number (the first group has no date).
    for r in [&r[13], &r[TABLE_CHECKS.len() + 3]] {
        assert_eq!(r["status"], "error");
        assert!(message(r).contains("row 1001"), "{}", message(r));
    }
    // The statistics really are in the one file and not in the other.
    let meta = |f: &str| {
        parquet::file::metadata::ParquetMetaDataReader::new()
            .parse_and_finish(&std::fs::File::open(dir.path().join(f)).unwrap())
            .unwrap()
    };
    assert!(
        meta("stats.parquet")
            .row_group(2)
            .column(0)
            .statistics()
            .is_some()
    );
    assert!(
        meta("no_stats.parquet")
            .row_group(2)
            .column(0)
            .statistics()
            .is_none()
    );
    let keys8 = std::fs::File::open(dir.path().join("keys8.parquet")).unwrap();
    let keys8 = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(keys8)
        .unwrap()
        .schema()
        .clone();
    assert_eq!(
        keys8.field_with_name("market").unwrap().data_type(),
        &arrow_schema::DataType::Dictionary(
            Box::new(arrow_schema::DataType::Int8),
            Box::new(arrow_schema::DataType::Utf8)
        )
    );
}

/// Checks of every kind on the table of `parquet_answers_as_the_csv_of_the_same_table`
/// and `files_other_tools_wrote` (columns date, due, spend, units, market, code).
const TABLE_CHECKS: [&str; 28] = [
    "row_count > 0",
    "sum(spend) > 0",
    "mean(spend) > 0",
    "sum(units) > 0",
    "min(units) < 0",
    "max(units) > 0",
    "null_count(date) > 0",
    "min(date) > 2000-01-01",
    "max(date) > 2000-01-01",
    "min(due) > 2000-01-01",
    "max(due) > 2000-01-01",
    "min(due) = 'x'",
    "min(date) > 5",
    "sum(date) > 0",
    "row_count where market = 'UK' > 0",
    "row_count where market != 'UK' > 0",
    "row_count where market > 5 > 0",
    "null_count(market) > 0",
    "min(market) = 'DE'",
    "sum(spend) where market = 'UK' > 0",
    "min(date) where market = 'DE' > 2000-01-01",
    "null_count(date) where market = 'FR' > 0",
    "row_count where spend > 2500 > 0",
    "row_count where date >= 2025-06-01 > 0",
    "row_count where units < 0 > 0",
    "max(code) > 'a'",
    "min(spend) > 0",
    "sum(market) > 0",
];

/// Alone, a date column's nulls, minimum and maximum come from the statistics where a
/// file has them (the first row group with a date is decoded for the row it names).
const DATE_CHECKS: [&str; 4] = [
    "null_count(date) > 0",
    "min(date) > 2000-01-01",
    "max(date) > 2000-01-01",
    "min(date) > 5",
];

/// Every Parquet file of `files` (name, path) answers [`TABLE_CHECKS`] and
/// [`DATE_CHECKS`] with the same status, value and message as `csv`; the answers on
/// the CSV file, in the order of the checks.
fn assert_answers_as_csv(dir: &Path, csv: &str, files: &[(&str, &str)]) -> Vec<Value> {
    let mut datasets = vec![("csv", csv, &TABLE_CHECKS[..])];
    for (name, file) in files {
        datasets.push((name, file, &TABLE_CHECKS[..]));
    }
    let dated: Vec<String> = files.iter().map(|(n, _)| format!("{n}_dates")).collect();
    datasets.push(("csv_dates", csv, &DATE_CHECKS[..]));
    for (name, (_, file)) in dated.iter().zip(files) {
        datasets.push((name, file, &DATE_CHECKS[..]));
    }
    let sets = files.len() + 1;
    let r = check(dir, &datasets);
    assert_eq!(r.len(), (TABLE_CHECKS.len() + DATE_CHECKS.len()) * sets);
    let (r, r_dates) = r.split_at(TABLE_CHECKS.len() * sets);
    let answer = |r: &Value, file: &str| {
        (
            r["check"].clone(),
            r["status"].clone(),
            r["value"].clone(),
            message(r).replace(file, "FILE"),
        )
    };
    for (results, checks) in [(r, &TABLE_CHECKS[..]), (r_dates, &DATE_CHECKS[..])] {
        for (d, (_, file)) in files.iter().enumerate() {
            for (i, c) in checks.iter().enumerate() {
                let want = answer(&results[i], csv);
                let got = answer(&results[(d + 1) * checks.len() + i], file);
                assert_eq!(got, want, "{file}: {c}");
            }
        }
    }
    let mut csv_answers = r[..TABLE_CHECKS.len()].to_vec();
    csv_answers.extend_from_slice(&r_dates[..DATE_CHECKS.len()]);
    csv_answers
}

/// Files pyarrow, polars and duckdb wrote of one table (`tests/data/parquet/make.py`:
/// their own statistics, dictionaries, page versions and row groups) answer every
/// check as the CSV of the table does.
#[test]
fn files_other_tools_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/parquet");
    let mut files = vec![];
    for name in [
        "table.csv.gz",
        "pyarrow.parquet",
        "polars.parquet",
        "duckdb.parquet",
    ] {
        std::fs::copy(data.join(name), dir.path().join(name)).unwrap();
        files.push((name.trim_end_matches(".parquet"), name));
    }
    for (file, tool) in [
        ("pyarrow.parquet", "parquet-cpp-arrow"),
        ("polars.parquet", "Polars"),
        ("duckdb.parquet", "DuckDB"),
    ] {
        let meta = parquet::file::metadata::ParquetMetaDataReader::new()
            .parse_and_finish(&std::fs::File::open(dir.path().join(file)).unwrap())
            .unwrap();
        let by = meta.file_metadata().created_by().unwrap_or_default();
        assert!(by.starts_with(tool), "{by}");
        assert!(meta.num_row_groups() >= 3);
    }
    let r = assert_answers_as_csv(dir.path(), "table.csv.gz", &files[1..]);
    let uk = &r[14];
    assert_eq!(uk["status"], "pass", "{}", message(uk));
    assert!(
        r[12]["message"].as_str().unwrap().contains("row 16"),
        "{}",
        message(&r[12])
    );
}
