//! Checks against real files: every grammar form, each reader, foreign keys, gates,
//! the file cache, bad data, probes, `flightdeck check`, and the watcher.

use flightdeck::check_command::check_command;
use flightdeck::checks::{CheckResult, CheckStatus, Checker, Measured};
use flightdeck::gates::{Verdict, verdict};
use flightdeck::plan::{Approval, GateSpec, ProbeSpec};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "common/checker.rs"]
mod checker;

use checker::{ds, plan, specs, write};

fn gate(name: &str, datasets: Vec<usize>, probes: Vec<usize>, checks: &[&str]) -> GateSpec {
    GateSpec {
        name: name.into(),
        after: vec![],
        datasets,
        probes,
        checks: specs(checks),
        approval: Approval::Auto,
        allow_conditional: false,
    }
}

fn status(r: &CheckResult) -> CheckStatus {
    r.status
}

#[track_caller]
fn expect(r: &CheckResult, st: CheckStatus, value: Measured) {
    assert_eq!(
        (r.status, &r.value),
        (st, &value),
        "{}: {}",
        r.check,
        r.message
    );
}

fn num(x: f64) -> Measured {
    Measured::Number(x)
}
fn txt(s: &str) -> Measured {
    Measured::Text(s.into())
}

const ADS: &str = "\u{feff}date,campaign_id,campaign_name,market,spend,dealer_id\r
2025-01-01,C1,\"UK, Awareness\",UK,100.50,DLR001\r
2025-01-02,C1,\"UK \"\"Launch\"\"\",UK,200,DLR002\r
2025-06-30,C2,\"multi\nline\",DE,300.25,DLR001\r
2025-12-31,C2,,FR,,\r
2025-12-31,C2,Dup,FR,50,DLR003\r
";

#[test]
fn every_metric_and_comparison_on_csv() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "data/ads.csv", ADS);
    let checks = [
        "exists",                                         // 0
        "row_count = 5",                                  // 1
        "row_count ~ 8000 ± 20%",                         // 2 fail
        "sum(spend) ~ 650 ± 1",                           // 3
        "sum(spend) ~ 2000000 ± 5%",                      // 4 fail
        "mean(spend) between 162 and 163",                // 5
        "min(spend) >= 0",                                // 6
        "max(spend) < 300",                               // 7 fail
        "min(date) >= 2025-01-01",                        // 8
        "max(date) <= 2025-06-30",                        // 9 fail
        "null_count(campaign_name) = 0",                  // 10 fail (1)
        "null_count(spend) = 1",                          // 11
        "distinct_count(market) = 3",                     // 12
        "duplicate_count(campaign_id) = 0",               // 13 fail (3)
        "duplicate_count(campaign_id, date) = 1",         // 14
        "market in ('UK', 'DE', 'FR')",                   // 15
        "market in ('UK', 'DE')",                         // 16 fail
        "warn: row_count where market = 'UK' ~ 2 ± 10%",  // 17
        "row_count where spend > 100 = 3",                // 18
        "row_count where date >= 2025-06-01 = 3",         // 19
        "sum(spend) where market = 'UK' = 300.5",         // 20
        "file_count = 1",                                 // 21
        "bytes > 100",                                    // 22
        "row_count - null_count(spend) = 4",              // 23
        "min(campaign_id) = 'C1'",                        // 24
        "max(market) != 'UK'",                            // 25 fail: max is 'UK'
        "warn: row_count > 10",                           // 26 fail (warn)
        "row_count where market != 'UK' <= 3",            // 27
        "distinct_count(market) where market = 'FR' = 1", // 28
        "bytes < 10",                                     // 29 fail
        "mean(spend) > 1000",                             // 30 fail
        "min(date) > 2025-01-01",                         // 31 fail
        "distinct_count(market) = 2",                     // 32 fail
        "mean(spend) between 0 and 1",                    // 33 fail
        "sum(spend) ~ 651 +- 0.5",                        // 34
        "sum(spend) ~ 660 +- 5",                          // 35 fail
        "min(spend) <= 49.99",                            // 36 fail
    ];
    let p = plan(
        t.path(),
        vec![ds("ads", "data/ads.csv", &checks)],
        vec![],
        vec![],
    );
    let mut c = Checker::new(p);
    let r = c.dataset(0, true);
    use CheckStatus::*;
    expect(&r[0], Pass, num(1.0));
    expect(&r[1], Pass, num(5.0));
    expect(&r[2], Fail, num(5.0));
    assert_eq!(r[2].expected, "8,000 ± 20%");
    assert_eq!(r[2].message, "row_count = 5, expected 8,000 ± 20%");
    expect(&r[3], Pass, num(650.75));
    expect(&r[4], Fail, num(650.75));
    assert_eq!(r[4].message, "sum(spend) = 650.75, expected 2,000,000 ± 5%");
    expect(&r[5], Pass, num(650.75 / 4.0));
    expect(&r[6], Pass, num(50.0));
    expect(&r[7], Fail, num(300.25));
    expect(&r[8], Pass, txt("2025-01-01"));
    expect(&r[9], Fail, txt("2025-12-31"));
    assert_eq!(
        r[9].message,
        "max(date) = 2025-12-31, expected <= 2025-06-30"
    );
    expect(&r[10], Fail, num(1.0));
    expect(&r[11], Pass, num(1.0));
    expect(&r[12], Pass, num(3.0));
    expect(&r[13], Fail, num(3.0));
    expect(&r[14], Pass, num(1.0));
    expect(&r[15], Pass, num(0.0));
    expect(&r[16], Fail, num(2.0));
    assert_eq!(
        r[16].message,
        "market: 2 values not in ('UK', 'DE'), first: 'FR' (row 4), 'FR' (row 5)"
    );
    expect(&r[17], Pass, num(2.0));
    expect(&r[18], Pass, num(3.0));
    expect(&r[19], Pass, num(3.0));
    expect(&r[20], Pass, num(300.5));
    expect(&r[21], Pass, num(1.0));
    assert_eq!(r[22].status, Pass);
    expect(&r[23], Pass, num(4.0));
    expect(&r[24], Pass, txt("C1"));
    expect(&r[25], Fail, txt("UK"));
    expect(&r[26], Fail, num(5.0));
    expect(&r[27], Pass, num(3.0));
    expect(&r[28], Pass, num(1.0));
    expect(&r[29], Fail, num(ADS.len() as f64));
    expect(&r[30], Fail, num(650.75 / 4.0));
    assert_eq!(r[30].message, "mean(spend) = 162.69, expected > 1,000");
    expect(&r[31], Fail, txt("2025-01-01"));
    expect(&r[32], Fail, num(3.0));
    expect(&r[33], Fail, num(650.75 / 4.0));
    assert_eq!(r[33].expected, "between 0 and 1");
    expect(&r[34], Pass, num(650.75));
    expect(&r[35], Fail, num(650.75));
    assert_eq!(r[35].message, "sum(spend) = 650.75, expected 660 ± 5");
    expect(&r[36], Fail, num(50.0));
    // One read answered all of them.
    assert_eq!(c.file_reads(), 1);
}

#[test]
fn tsv_jsonl_text_and_parquet_readers() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "a.tsv", "k\tv\n1\t2.5\n2\t\"3,5\"\n3\t\n");
    write(
        t.path(),
        "b.jsonl",
        "{\"k\": 1, \"v\": 2.5, \"s\": \"x\"}\n\n{\"k\": 2, \"v\": null}\n{\"k\": 3, \"v\": 4, \"s\": \"\"}\n",
    );
    write(t.path(), "c.md", "line 1\nline 2\nno newline");
    write_parquet(&t.path().join("d.parquet"));
    let p = plan(
        t.path(),
        vec![
            ds(
                "a",
                "a.tsv",
                &[
                    "row_count = 3",
                    "null_count(v) = 1",
                    "max(k) = 3",
                    "sum(v) > 0",
                ],
            ),
            ds(
                "b",
                "b.jsonl",
                &[
                    "row_count = 3",
                    "sum(v) = 6.5",
                    "null_count(s) = 2",
                    "mean(k) = 2",
                ],
            ),
            ds("c", "c.md", &["row_count = 3", "sum(x) = 1"]),
            ds(
                "d",
                "d.parquet",
                &[
                    "row_count = 4",
                    "sum(spend) = 10",
                    "min(day) >= 2025-01-01",
                    "max(day) = 2025-03-01",
                    "null_count(market) = 1",
                    "row_count where market = 'UK' = 2",
                    "distinct_count(market) = 2",
                    "channel in ('tv', 'ooh')",
                    "null_count(channel) = 1",
                    "row_count where channel = 'tv' = 2",
                    "sum(units) = 10",
                    "min(units) = -2",
                ],
            ),
        ],
        vec![],
        vec![],
    );
    let mut c = Checker::new(p);
    use CheckStatus::*;
    let a = c.dataset(0, true);
    expect(&a[0], Pass, num(3.0));
    expect(&a[1], Pass, num(1.0));
    expect(&a[2], Pass, num(3.0));
    // "3,5" is not a number: the sum errors, naming file, row and value.
    assert_eq!(a[3].status, Error);
    assert_eq!(a[3].message, "sum(v): a.tsv, row 2: '3,5' is not a number");
    let b = c.dataset(1, true);
    for (r, v) in b.iter().zip([3.0, 6.5, 2.0, 2.0]) {
        expect(r, Pass, num(v));
    }
    let cc = c.dataset(2, true);
    expect(&cc[0], Pass, num(3.0));
    assert_eq!(cc[1].status, Error);
    assert!(
        cc[1].message.contains("has no columns"),
        "{}",
        cc[1].message
    );
    let d = c.dataset(3, true);
    expect(&d[0], Pass, num(4.0));
    expect(&d[1], Pass, num(10.0));
    expect(&d[2], Pass, txt("2025-01-01"));
    expect(&d[3], Pass, txt("2025-03-01"));
    expect(&d[4], Pass, num(1.0));
    expect(&d[5], Pass, num(2.0));
    expect(&d[6], Pass, num(2.0));
    expect(&d[7], Pass, num(0.0));
    expect(&d[8], Pass, num(1.0));
    expect(&d[9], Pass, num(2.0));
    expect(&d[10], Pass, num(10.0));
    expect(&d[11], Pass, num(-2.0));
}

fn write_parquet(path: &Path) {
    use arrow_array::{ArrayRef, Date32Array, Float64Array, RecordBatch, StringArray};
    let day = |m: u32| {
        let d = chrono::NaiveDate::from_ymd_opt(2025, m, 1).unwrap();
        (d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32
    };
    let batch = RecordBatch::try_from_iter(vec![
        (
            "spend",
            Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0, 4.0])) as ArrayRef,
        ),
        (
            "market",
            Arc::new(StringArray::from(vec![
                Some("UK"),
                Some("DE"),
                None,
                Some("UK"),
            ])) as ArrayRef,
        ),
        (
            "day",
            Arc::new(Date32Array::from(vec![day(1), day(2), day(3), day(1)])) as ArrayRef,
        ),
        (
            "channel",
            Arc::new(
                vec![Some("tv"), None, Some("ooh"), Some("tv")]
                    .into_iter()
                    .collect::<arrow_array::DictionaryArray<arrow_array::types::Int32Type>>(),
            ) as ArrayRef,
        ),
        (
            "units",
            Arc::new(arrow_array::Int64Array::from(vec![
                Some(5),
                Some(7),
                None,
                Some(-2),
            ])) as ArrayRef,
        ),
    ])
    .unwrap();
    let f = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[test]
fn foreign_keys_report_orphans() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        "dealers.csv",
        "dealer_id,name\nDLR001,a\nDLR002,b\n",
    );
    write(
        t.path(),
        "sales.csv",
        "sale,dealer_id\n1,DLR001\n2,DLR009\n3,\n4,DLR002\n5,DLR007\n6,DLR009\n",
    );
    let p = plan(
        t.path(),
        vec![
            ds("dealers", "dealers.csv", &["row_count = 2"]),
            ds(
                "sales",
                "sales.csv",
                &["dealer_id in dealers.dealer_id", "sale in dealers.name"],
            ),
        ],
        vec![],
        vec![],
    );
    let mut c = Checker::new(p);
    let r = c.dataset(1, true);
    expect(&r[0], CheckStatus::Fail, num(3.0));
    assert_eq!(
        r[0].message,
        "dealer_id: 3 orphans not in dealers.dealer_id, first: 'DLR009' (row 2), 'DLR007' (row 5), 'DLR009' (row 6)"
    );
    assert_eq!(r[0].expected, "every value in dealers.dealer_id");
    expect(&r[1], CheckStatus::Fail, num(6.0));
    // Fix the orphans: the key set is rebuilt and sales re-checked.
    write(
        t.path(),
        "dealers.csv",
        "dealer_id,name\nDLR001,1\nDLR002,2\nDLR007,3\nDLR009,4\n",
    );
    let r = c.dataset(1, true);
    expect(&r[0], CheckStatus::Pass, num(0.0));
    // Foreign key into a dataset whose file is missing: pending while its owner runs.
    std::fs::remove_file(t.path().join("dealers.csv")).unwrap();
    let r = c.dataset(1, false);
    assert_eq!(status(&r[0]), CheckStatus::Pending, "{}", r[0].message);
    let r = c.dataset(1, true);
    assert_eq!(status(&r[0]), CheckStatus::Error, "{}", r[0].message);
}

#[test]
fn self_and_cyclic_foreign_keys() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "people.csv", "id,boss\n1,\n2,1\n3,1\n4,9\n");
    write(t.path(), "a.csv", "id,b_id\n1,10\n2,11\n");
    write(t.path(), "b.csv", "id,a_id\n10,1\n11,3\n");
    let p = plan(
        t.path(),
        vec![
            ds(
                "people",
                "people.csv",
                &["boss in people.id", "row_count = 4"],
            ),
            ds("a", "a.csv", &["b_id in b.id"]),
            ds("b", "b.csv", &["a_id in a.id"]),
        ],
        vec![],
        vec![],
    );
    let mut c = Checker::new(p);
    let r = c.dataset(0, true);
    expect(&r[0], CheckStatus::Fail, num(1.0));
    assert_eq!(
        r[0].message,
        "boss: 1 orphan not in people.id, first: '9' (row 4)"
    );
    expect(&r[1], CheckStatus::Pass, num(4.0));
    let r = c.dataset(1, true);
    expect(&r[0], CheckStatus::Pass, num(0.0));
    let r = c.dataset(2, true);
    expect(&r[0], CheckStatus::Fail, num(1.0));
    // Unchanged files: nothing is read again.
    let reads = c.file_reads();
    c.dataset(0, true);
    c.dataset(1, true);
    c.dataset(2, true);
    assert_eq!(c.file_reads(), reads);
}

#[test]
fn gates_verdicts_pending_and_source_terms() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "leads.csv", "id,spend\n1,10\n2,20\n3,30\n");
    write(t.path(), "td.csv", "id,spend\n1,5\n2,5\n");
    let p = plan(
        t.path(),
        vec![
            ds("leads", "leads.csv", &["row_count = 3"]),
            ds("test_drives", "td.csv", &["row_count = 2"]),
            ds("later", "later.csv", &["row_count > 0"]),
        ],
        vec![],
        vec![
            gate(
                "pass",
                vec![0, 1],
                vec![],
                &["leads.row_count > test_drives.row_count"],
            ),
            gate(
                "conditional",
                vec![0],
                vec![],
                &["warn: leads.sum(spend) + test_drives.sum(spend) ~ 100 ± 5%"],
            ),
            gate(
                "fail",
                vec![],
                vec![],
                &["leads.sum(spend) - test_drives.sum(spend) = 0"],
            ),
            gate(
                "waiting",
                vec![2],
                vec![],
                &["later.row_count >= leads.row_count"],
            ),
            gate("bad", vec![], vec![], &["row_count > 0"]),
        ],
    );
    let mut c = Checker::new(p);
    let g0 = c.gate(0, true);
    assert_eq!(g0.len(), 3);
    assert_eq!(
        g0[2].message,
        "leads.row_count = 3, expected > 2 (test_drives.row_count)"
    );
    assert_eq!(verdict(&g0), Verdict::Pass);
    let g1 = c.gate(1, true);
    assert_eq!(g1[1].value, num(70.0));
    assert_eq!(verdict(&g1), Verdict::Conditional);
    let g2 = c.gate_checks(2, true);
    expect(&g2[0], CheckStatus::Fail, num(50.0));
    assert_eq!(verdict(&g2), Verdict::Fail);
    let g3 = c.gate(3, false);
    assert!(
        g3.iter().all(|r| r.status == CheckStatus::Pending),
        "{g3:?}"
    );
    assert_eq!(verdict(&g3), Verdict::Waiting);
    let g3 = c.gate(3, true);
    assert_eq!(g3[0].status, CheckStatus::Fail);
    assert_eq!(g3[0].message, "row_count: no file matches later.csv");
    assert_eq!(verdict(&g3), Verdict::Fail);
    let g4 = c.gate_checks(4, true);
    assert_eq!(g4[0].status, CheckStatus::Error);
    assert!(
        g4[0].message.contains("must name its source"),
        "{}",
        g4[0].message
    );
    // Everything above read each file once.
    assert_eq!(c.file_reads(), 2);
}

#[test]
fn cache_no_reread_and_glob_gaining_a_file() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "raw/a.csv", "x\n1\n2\n");
    let p = plan(
        t.path(),
        vec![ds(
            "parts",
            "raw/*.csv",
            &["row_count = 2", "sum(x) = 3", "file_count = 1"],
        )],
        vec![],
        vec![],
    );
    let mut c = Checker::new(p);
    let r = c.dataset(0, true);
    assert!(r.iter().all(|r| r.status == CheckStatus::Pass), "{r:?}");
    assert_eq!(c.file_reads(), 1);
    c.dataset(0, true);
    c.dataset(0, false);
    assert_eq!(c.file_reads(), 1, "unchanged file read again");
    write(t.path(), "raw/b.csv", "x\n10\n");
    let r = c.dataset(0, true);
    expect(&r[0], CheckStatus::Fail, num(3.0));
    expect(&r[1], CheckStatus::Fail, num(13.0));
    expect(&r[2], CheckStatus::Fail, num(2.0));
    assert_eq!(c.file_reads(), 2, "only the new file is read");
    // Rewrite a.csv with a different size: read again.
    write(t.path(), "raw/a.csv", "x\n1\n2\n3\n");
    let r = c.dataset(0, true);
    expect(&r[0], CheckStatus::Fail, num(4.0));
    assert_eq!(c.file_reads(), 3);
    // A directory matching the glob is not a file: ignored.
    std::fs::create_dir(t.path().join("raw/dir.csv")).unwrap();
    let r = c.dataset(0, true);
    expect(&r[2], CheckStatus::Fail, num(2.0));
}

#[test]
fn missing_files_pending_then_fail() {
    let t = tempfile::tempdir().unwrap();
    let p = plan(
        t.path(),
        vec![ds(
            "m",
            "data/m.csv",
            &["exists", "row_count > 0", "file_count = 0"],
        )],
        vec![],
        vec![],
    );
    let mut c = Checker::new(p);
    let r = c.dataset(0, false);
    assert_eq!(r[0].status, CheckStatus::Pending);
    assert_eq!(r[1].status, CheckStatus::Pending);
    assert_eq!(r[1].message, "row_count: waiting for data/m.csv");
    assert_eq!(r[2].status, CheckStatus::Pass);
    let r = c.dataset(0, true);
    assert_eq!(r[0].status, CheckStatus::Fail);
    assert_eq!(r[0].message, "exists: no file matches data/m.csv");
    assert_eq!(r[1].status, CheckStatus::Fail);
}

/// Each bad input gives `error` with a message naming what is wrong.
#[test]
fn bad_data_gives_clear_errors() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    write(root, "missing_col.csv", "a,b\n1,2\n");
    write(root, "bad_num.csv", "a,spend\n1,2\n2,abc\n3,4\n");
    write(root, "ragged.csv", "a,b,c\n1,2,3\n4,5\n");
    let mut bad_utf8 = b"a,name\n1,ok\n2,".to_vec();
    bad_utf8.extend_from_slice(&[0xff, 0xfe, b'x', b'\n']);
    write(root, "bad_utf8.csv", bad_utf8);
    write(root, "empty.csv", "");
    write(root, "header_only.csv", "a,b\n");
    write(
        root,
        "corrupt.parquet",
        b"PAR1 this is not parquet at all PAR1",
    );
    write(root, "bad.jsonl", "{\"a\": 1}\n{\"a\": 2,\n");
    write(root, "array.jsonl", "[1,2]\n");
    std::fs::create_dir_all(root.join("adir.csv")).unwrap();
    write(root, "bad_date.csv", "d\n2025-01-01\nsoon\n");
    let p = plan(
        root,
        vec![
            ds(
                "missing_col",
                "missing_col.csv",
                &["sum(spend) > 0", "row_count = 1"],
            ),
            ds(
                "bad_num",
                "bad_num.csv",
                &[
                    "sum(spend) > 0",
                    "mean(spend) > 0",
                    "row_count = 3",
                    "null_count(spend) = 0",
                ],
            ),
            ds("ragged", "ragged.csv", &["row_count = 2"]),
            ds(
                "bad_utf8",
                "bad_utf8.csv",
                &["distinct_count(name) = 2", "row_count = 2"],
            ),
            ds("empty", "empty.csv", &["row_count = 0"]),
            ds(
                "header_only",
                "header_only.csv",
                &["row_count = 0", "sum(a) = 0", "mean(a) > 0"],
            ),
            ds("corrupt", "corrupt.parquet", &["row_count > 0"]),
            ds("bad_jsonl", "bad.jsonl", &["row_count = 2"]),
            ds("array_jsonl", "array.jsonl", &["row_count = 1"]),
            ds("adir", "adir.csv", &["exists", "row_count = 0"]),
            ds("bad_date", "bad_date.csv", &["max(d) <= 2025-12-31"]),
        ],
        vec![],
        vec![],
    );
    let mut c = Checker::new(p);
    let one = |c: &mut Checker, i: usize| c.dataset(i, true);
    use CheckStatus::*;
    let r = one(&mut c, 0);
    assert_eq!(r[0].status, Error);
    assert_eq!(
        r[0].message,
        "sum(spend): column `spend` not found in missing_col.csv (columns: a, b)"
    );
    expect(&r[1], Pass, num(1.0));
    let r = one(&mut c, 1);
    assert_eq!(
        r[0].message,
        "sum(spend): bad_num.csv, row 2: 'abc' is not a number"
    );
    assert_eq!(
        (r[0].status, r[1].status, r[2].status, r[3].status),
        (Error, Error, Pass, Pass)
    );
    let r = one(&mut c, 2);
    assert_eq!(r[0].status, Error);
    assert_eq!(
        r[0].message,
        "row_count: ragged.csv, row 2: has 2 fields, the header has 3"
    );
    let r = one(&mut c, 3);
    assert_eq!(r[0].status, Error);
    assert_eq!(
        r[0].message,
        "distinct_count(name): bad_utf8.csv, row 2: invalid UTF-8 in value '��x'"
    );
    expect(&r[1], Pass, num(2.0));
    let r = one(&mut c, 4);
    assert_eq!(r[0].status, Error);
    assert_eq!(
        r[0].message,
        "row_count: empty.csv: the file is empty (no header row)"
    );
    let r = one(&mut c, 5);
    expect(&r[0], Pass, num(0.0));
    expect(&r[1], Pass, num(0.0));
    assert_eq!(r[2].status, Error);
    assert_eq!(r[2].message, "mean(a): mean(a): the column has no values");
    let r = one(&mut c, 6);
    assert_eq!(r[0].status, Error);
    assert!(
        r[0].message
            .starts_with("row_count: corrupt.parquet: not a valid Parquet file"),
        "{}",
        r[0].message
    );
    let r = one(&mut c, 7);
    assert_eq!(r[0].status, Error);
    assert!(
        r[0].message
            .starts_with("row_count: bad.jsonl: line 2: invalid JSON"),
        "{}",
        r[0].message
    );
    let r = one(&mut c, 8);
    assert_eq!(
        r[0].message,
        "row_count: array.jsonl: line 1: not a JSON object"
    );
    let r = one(&mut c, 9);
    assert_eq!(r[0].status, Error);
    assert_eq!(r[0].message, "exists: adir.csv is a directory, not a file");
    assert_eq!(
        r[1].message,
        "row_count: adir.csv is a directory, not a file"
    );
    let r = one(&mut c, 10);
    assert_eq!(r[0].status, Error);
    assert_eq!(
        r[0].message,
        "max(d): bad_date.csv, row 2: 'soon' is not a date (YYYY-MM-DD)"
    );
}

#[test]
fn unreadable_file() {
    if unsafe { libc::geteuid() } == 0 {
        unreadable_file_as_nobody();
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    let p = write(t.path(), "secret.csv", "a\n1\n");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
    let plan = plan(
        t.path(),
        vec![ds("s", "secret.csv", &["row_count = 1"])],
        vec![],
        vec![],
    );
    let r = Checker::new(plan).dataset(0, true);
    assert_eq!(r[0].status, CheckStatus::Error);
    assert_eq!(r[0].message, "row_count: secret.csv: permission denied");
}

/// Root reads any file, so as root the real `flightdeck check` runs as `nobody`.
fn unreadable_file_as_nobody() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let t = tempfile::tempdir().unwrap();
    std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        t.path().join("plan.toml"),
        "[plan]\nname = \"p\"\n[[dataset]]\nname = \"s\"\npath = \"secret.csv\"\nchecks = [\"row_count = 1\"]\n",
    )
    .unwrap();
    let p = write(t.path(), "secret.csv", "a\n1\n");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_flightdeck"));
    cmd.args(["check", "plan.toml"]).current_dir(t.path());
    unsafe {
        cmd.pre_exec(|| {
            if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(65534) != 0
                || libc::setuid(65534) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) => {
            eprintln!("skipped: cannot run flightdeck as nobody here ({e})");
            return;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("row_count: secret.csv: permission denied"),
        "{text}"
    );
}

#[test]
fn huge_line_without_newline() {
    let t = tempfile::tempdir().unwrap();
    let mut data = b"a,b\n1,".to_vec();
    data.resize(data.len() + (100 << 20), b'x');
    write(t.path(), "big.csv", &data);
    write(t.path(), "big.txt", &data[6..]);
    drop(data);
    let p = plan(
        t.path(),
        vec![
            ds(
                "big",
                "big.csv",
                &["row_count = 1", "sum(a) = 1", "null_count(b) = 0"],
            ),
            ds("bigtext", "big.txt", &["row_count = 1"]),
        ],
        vec![],
        vec![],
    );
    let mut c = Checker::new(p);
    // A record past the 64 MB limit is an error naming the file and the row, not
    // 100 MB held in memory; a text file's lines are only counted, never held.
    let r = c.dataset(0, true);
    assert!(r.iter().all(|r| r.status == CheckStatus::Error), "{r:?}");
    assert_eq!(
        r[0].message,
        "row_count: big.csv, row 1: the record is longer than 64 MB"
    );
    let r = c.dataset(1, true);
    expect(&r[0], CheckStatus::Pass, num(1.0));
}

/// A file big enough for parallel chunks, with quoted newlines everywhere (so chunk
/// guesses land inside quoted fields): the result equals the known totals.
#[test]
fn parallel_chunks_with_quoted_newlines() {
    let t = tempfile::tempdir().unwrap();
    let mut s = String::from("id,note,amount,market\n");
    let n = 120_000u64;
    let mut expect_sum = 0u64;
    let mut uk = 0;
    for i in 0..n {
        let market = if i % 3 == 0 { "UK" } else { "DE" };
        if i % 3 == 0 {
            uk += 1;
        }
        // Long quoted notes with newlines and delimiters.
        s.push_str(&format!(
            "{i},\"line one, {i}\nline two \"\"quoted\"\"\n{}\",{},{market}\n",
            "z".repeat((i % 50) as usize),
            i % 1000
        ));
        expect_sum += i % 1000;
    }
    assert!(s.len() > 8 << 20);
    write(t.path(), "q.csv", &s);
    let p = plan(
        t.path(),
        vec![ds(
            "q",
            "q.csv",
            &[
                "row_count = 0",
                "sum(amount) = 0",
                "row_count where market = 'UK' = 0",
                "distinct_count(id) = 0",
                "max(id) = 0",
            ],
        )],
        vec![],
        vec![],
    );
    let r = Checker::new(p).dataset(0, true);
    assert_eq!(r[0].value, num(n as f64));
    assert_eq!(r[1].value, num(expect_sum as f64));
    assert_eq!(r[2].value, num(uk as f64));
    assert_eq!(r[3].value, num(n as f64));
    assert_eq!(r[4].value, num((n - 1) as f64));
}

#[test]
fn probes_exit_code_value_and_timeout() {
    let t = tempfile::tempdir().unwrap();
    let probe = |name: &str, cmd: &str, pattern: Option<&str>, timeout_ms: u64, checks: &[&str]| {
        ProbeSpec {
            name: name.into(),
            command: cmd.into(),
            pattern: pattern.map(|p| regex::Regex::new(p).unwrap()),
            timeout: Duration::from_millis(timeout_ms),
            checks: specs(checks),
        }
    };
    let p = plan(
        t.path(),
        vec![],
        vec![
            probe(
                "lat",
                "echo 'p50=1.25ms p99=9ms'",
                Some(r"p50=([0-9.]+)ms"),
                10_000,
                &["exit_code = 0", "value <= 1.5", "value < 1"],
            ),
            probe(
                "failing",
                "echo 3; exit 4",
                None,
                10_000,
                &["exit_code = 0", "value = 3"],
            ),
            probe("slow", "sleep 30", None, 300, &["exit_code = 0"]),
            probe(
                "nomatch",
                "echo hello",
                Some("p50=([0-9]+)"),
                10_000,
                &["value > 0"],
            ),
        ],
        vec![gate(
            "g",
            vec![],
            vec![0],
            &["lat.value + failing.value < 5"],
        )],
    );
    let mut c = Checker::new(p);
    let r = c.probe(0);
    expect(&r[0], CheckStatus::Pass, num(0.0));
    expect(&r[1], CheckStatus::Pass, num(1.25));
    expect(&r[2], CheckStatus::Fail, num(1.25));
    let r = c.probe(1);
    expect(&r[0], CheckStatus::Fail, num(4.0));
    expect(&r[1], CheckStatus::Pass, num(3.0));
    let start = Instant::now();
    let r = c.probe(2);
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(r[0].status, CheckStatus::Error);
    assert_eq!(r[0].message, "exit_code: timed out after 0.3s");
    let r = c.probe(3);
    assert_eq!(r[0].status, CheckStatus::Error);
    assert_eq!(
        r[0].message,
        "value: pattern `p50=([0-9]+)` not found in the output"
    );
    let g = c.gate(0, true);
    expect(&g[3], CheckStatus::Pass, num(4.25));
}

#[test]
fn check_command_table_json_and_exit_code() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "a.csv", "spend\n1000000\n987412.5\n");
    let mut plan_ = (*plan(
        t.path(),
        vec![
            ds(
                "meta_ads",
                "a.csv",
                &["row_count = 2", "warn: sum(spend) ~ 2000000 ± 0.1%"],
            ),
            ds("gone", "gone.csv", &["exists"]),
        ],
        vec![],
        vec![gate("phase-2", vec![0], vec![], &[])],
    ))
    .clone();
    plan_.gates[0].allow_conditional = true;
    let (out, code) = check_command(Arc::new(plan_.clone()), false);
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "SOURCE    CHECK                              STATUS       VALUE         EXPECTED"
    );
    assert_eq!(
        lines[1],
        "meta_ads  row_count = 2                      pass         2             = 2"
    );
    assert_eq!(
        lines[2],
        "meta_ads  warn: sum(spend) ~ 2000000 ± 0.1%  fail (warn)  1,987,412.50  2,000,000 ± 0.1%"
    );
    assert_eq!(
        lines[3],
        "gone      exists                             fail         0             at least one file"
    );
    assert!(
        out.contains("fail meta_ads: sum(spend) = 1,987,412.50, expected 2,000,000 ± 0.1%"),
        "{out}"
    );
    assert!(out.contains("gate phase-2  CONDITIONAL"), "{out}");
    let (json, code) = check_command(Arc::new(plan_.clone()), true);
    assert_eq!(code, 1);
    assert!(
        json.contains("\"source\": \"meta_ads\",\n      \"check\": \"row_count = 2\",\n      \"severity\": \"error\",\n      \"status\": \"pass\",\n      \"value\": 2,\n"),
        "{json}"
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["checks"][1]["value"], serde_json::json!(1987412.5));
    assert_eq!(v["checks"][1]["severity"], "warn");
    assert_eq!(v["checks"][1]["status"], "fail");
    assert_eq!(
        v["checks"][2]["message"],
        "exists: no file matches gone.csv"
    );
    assert_eq!(
        v["gates"][0],
        serde_json::json!({"name": "phase-2", "verdict": "CONDITIONAL", "approved": false})
    );
    // Without the missing dataset: the warning alone and a CONDITIONAL gate that allows it pass.
    plan_.datasets.pop();
    let (_, code) = check_command(Arc::new(plan_), false);
    assert_eq!(code, 0);
}

#[track_caller]
fn wait_for(
    rx: &std::sync::mpsc::Receiver<flightdeck::watch::WatchEvent>,
    want: &flightdeck::watch::WatchEvent,
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = vec![];
    while Instant::now() < deadline {
        if let Ok(ev) = rx.recv_timeout(Duration::from_millis(100)) {
            if ev == *want {
                return;
            }
            seen.push(ev);
        }
    }
    panic!("no event {want:?}; saw {seen:?}");
}

#[test]
fn watcher_sees_rewrites_and_files_in_new_directories() {
    use flightdeck::watch::{WatchEvent, Watcher};
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let a = write(root, "data/a.csv", "x\n1\n");
    let p = plan(
        root,
        vec![
            ds("a", "data/a.csv", &["exists"]),
            ds("parts", "later/deep/*.csv", &["exists"]),
            ds("any", "later/deep/b.csv", &["exists"]),
        ],
        vec![],
        vec![],
    );
    let (tx, rx) = std::sync::mpsc::channel();
    let w = Watcher::start(&p, move |ev| {
        let _ = tx.send(ev);
    })
    .unwrap();
    write(root, "data/a.csv", "x\n1\n2\n");
    wait_for(
        &rx,
        &WatchEvent {
            path: a.clone(),
            datasets: vec![0],
        },
    );
    // Unrelated files in a watched directory are not reported.
    write(root, "data/other.txt", "hi");
    // A directory that did not exist at start, two levels deep.
    let b = write(root, "later/deep/b.csv", "x\n");
    wait_for(
        &rx,
        &WatchEvent {
            path: b.clone(),
            datasets: vec![1, 2],
        },
    );
    // Once watched, further writes are seen as well.
    let c = write(root, "later/deep/c.csv", "x\n");
    wait_for(
        &rx,
        &WatchEvent {
            path: c,
            datasets: vec![1],
        },
    );
    std::fs::remove_file(&b).unwrap();
    let gone = WatchEvent {
        path: b.clone(),
        datasets: vec![1, 2],
    };
    wait_for(&rx, &gone);
    // The directory is removed and made again at once: watched anew.
    std::fs::remove_dir_all(root.join("later")).unwrap();
    write(root, "later/deep/b.csv", "x\n1\n");
    wait_for(&rx, &gone);
    let e = write(root, "later/deep/e.csv", "x\n");
    wait_for(
        &rx,
        &WatchEvent {
            path: e,
            datasets: vec![1],
        },
    );
    drop(w);
}

/// Timing on generated data (not run by default):
/// `python3 tests/data/gen/gen_ads.py DIR && FD_BENCH_DIR=DIR cargo test --release --test checks bench -- --ignored --nocapture`
/// `FD_BENCH_ONLY=ads|fk|parquet` runs one part (`parquet` needs `DIR/ads.parquet`,
/// e.g. written by polars from ads.csv). Prints wall and CPU time of the process.
#[test]
#[ignore]
fn bench_ads_and_foreign_key() {
    let Ok(dir) = std::env::var("FD_BENCH_DIR") else {
        eprintln!("set FD_BENCH_DIR");
        return;
    };
    let root = Path::new(&dir);
    let p = plan(
        root,
        vec![
            ds(
                "ads",
                "ads.csv",
                &[
                    "row_count > 0",
                    "sum(spend) > 0",
                    "row_count where market = 'UK' > 0",
                    "min(date) >= 2025-01-01",
                    "max(date) <= 2025-12-31",
                ],
            ),
            ds("leads", "leads.csv", &[]),
            ds(
                "ads_parquet",
                "ads.parquet",
                &[
                    "row_count > 0",
                    "sum(spend) > 0",
                    "row_count where market = 'UK' > 0",
                    "min(date) >= 2025-01-01",
                    "max(date) <= 2025-12-31",
                ],
            ),
            ds(
                "test_drives",
                "test_drives.csv",
                &["lead_id in leads.lead_id"],
            ),
        ],
        vec![],
        vec![],
    );
    let cpu = || {
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
        Duration::from_micros(
            (u.ru_utime.tv_sec * 1_000_000
                + u.ru_utime.tv_usec
                + u.ru_stime.tv_sec * 1_000_000
                + u.ru_stime.tv_usec) as u64,
        )
    };
    let mut c = Checker::new(p);
    let only = std::env::var("FD_BENCH_ONLY").unwrap_or_default();
    let (t0, c0) = (Instant::now(), cpu());
    let r = if only.is_empty() || only == "ads" {
        c.dataset(0, true)
    } else {
        vec![]
    };
    let (ads, ads_cpu) = (t0.elapsed(), cpu() - c0);
    for r in &r {
        eprintln!("  {}", r.message);
    }
    if only == "parquet" {
        let (t0, c0) = (Instant::now(), cpu());
        let r = c.dataset(2, true);
        for r in &r {
            eprintln!("  {}", r.message);
        }
        eprintln!("parquet: {:?} (cpu {:?})", t0.elapsed(), cpu() - c0);
        return;
    }
    let (t0, c0) = (Instant::now(), cpu());
    let r = c.dataset(3, true);
    let (fk, fk_cpu) = (t0.elapsed(), cpu() - c0);
    eprintln!("  {}", r[0].message);
    eprintln!("ads: {ads:?} (cpu {ads_cpu:?})   foreign key: {fk:?} (cpu {fk_cpu:?})");
    if !only.is_empty() {
        return;
    }
    let c0 = cpu();
    // Baseline: the csv crate, one thread, same measures.
    let t0 = Instant::now();
    let mut rdr = csv::Reader::from_path(root.join("ads.csv")).unwrap();
    let h = rdr.byte_headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n.as_bytes()).unwrap();
    let (spend, market, date) = (col("spend"), col("market"), col("date"));
    let mut rec = csv::ByteRecord::new();
    let (mut rows, mut uk, mut sum) = (0u64, 0u64, 0f64);
    let (mut dmin, mut dmax) = (Vec::new(), Vec::new());
    while rdr.read_byte_record(&mut rec).unwrap() {
        rows += 1;
        if &rec[market] == b"UK" {
            uk += 1;
        }
        sum += std::str::from_utf8(&rec[spend])
            .unwrap()
            .parse::<f64>()
            .unwrap();
        let d = &rec[date];
        if dmin.is_empty() || d < &dmin[..] {
            dmin = d.to_vec();
        }
        if d > &dmax[..] {
            dmax = d.to_vec();
        }
    }
    eprintln!(
        "baseline csv ByteRecord, 1 thread: {:?} (cpu {:?}; rows {rows}, uk {uk}, sum {sum:.2})",
        t0.elapsed(),
        cpu() - c0
    );
}

#[test]
fn checker_moves_to_a_worker_thread() {
    fn send<T: Send + 'static>() {}
    send::<Checker>();
}

#[test]
fn watcher_reports_outputs_only_files_without_datasets() {
    use flightdeck::plan::{CommandSpec, RestartPolicy, SessionSpec};
    use flightdeck::watch::{WatchEvent, Watcher};
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let mut p = (*plan(
        root,
        vec![ds("a", "out/a.csv", &["exists"])],
        vec![],
        vec![],
    ))
    .clone();
    p.sessions.push(SessionSpec {
        name: "gen".into(),
        number: 1,
        command: CommandSpec::Shell("true".into()),
        cwd: root.to_path_buf(),
        env: BTreeMap::new(),
        after: vec![],
        phase: None,
        restart: RestartPolicy::Never,
        max_restarts: 0,
        backoff: Duration::from_secs(1),
        timeout: None,
        stop_grace: Duration::from_secs(1),
        input: None,
        input_delay: Duration::from_secs(1),
        done_when: None,
        keep_running: false,
        outputs: vec!["out/*.csv".into(), "docs/**/*.md".into()],
        worktree: None,
        attention: None,
        quiet_after: Duration::from_secs(60),
        agent: Default::default(),
        on_success: vec![],
    });
    let (tx, rx) = std::sync::mpsc::channel();
    let _w = Watcher::start(&p, move |ev| {
        let _ = tx.send(ev);
    })
    .unwrap();
    let a = write(root, "out/a.csv", "x\n");
    wait_for(
        &rx,
        &WatchEvent {
            path: a,
            datasets: vec![0],
        },
    );
    let b = write(root, "out/b.csv", "x\n");
    wait_for(
        &rx,
        &WatchEvent {
            path: b,
            datasets: vec![],
        },
    );
    let c = write(root, "docs/x/y/c.md", "# hi\n");
    wait_for(
        &rx,
        &WatchEvent {
            path: c,
            datasets: vec![],
        },
    );
}

/// A file that keeps changing while it is read is `pending` while its owner runs (it
/// is being written), is not cached, and is read again once it settles.
#[test]
fn file_changing_while_read_is_read_again_once_settled() {
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    let t = tempfile::tempdir().unwrap();
    let mut body = String::from("x\n");
    for i in 0..400_000 {
        body.push_str(&format!("{}\n", i % 10));
    }
    let path = write(t.path(), "growing.csv", &body);
    let p = plan(
        t.path(),
        vec![ds(
            "g",
            "growing.csv",
            &["row_count >= 400000", "sum(x) > 0"],
        )],
        vec![],
        vec![],
    );
    let mut c = Checker::new(p);
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let path = path.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                f.write_all(b"1\n").unwrap();
                n += 1;
                std::thread::sleep(Duration::from_micros(200));
            }
            n
        })
    };
    let r = c.dataset(0, false);
    assert_eq!(r[0].status, CheckStatus::Pending, "{}", r[0].message);
    assert!(
        r[0].message.contains("is being written"),
        "{}",
        r[0].message
    );
    let reads = c.file_reads();
    assert_eq!(reads, 2, "read, then one retry");
    stop.store(true, Ordering::Relaxed);
    let appended = writer.join().unwrap();
    let r = c.dataset(0, false);
    expect(&r[0], CheckStatus::Pass, num((400_000 + appended) as f64));
    assert_eq!(c.file_reads(), reads + 1);
    c.dataset(0, true);
    assert_eq!(c.file_reads(), reads + 1, "settled: cached");
}

#[test]
fn edge_files() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    write(root, "bom_only.csv", "\u{feff}");
    write(root, "no_newline.csv", "a,b");
    write(root, "blank_lines.csv", "\n\na,b\r\n\r\n1,2\n\n3,4");
    write(root, "crlf.tsv", "a\tb\r\n1\t\"x\ty\"\r\n");
    write(root, "empty.jsonl", "");
    write(root, "empty.txt", "");
    write(
        root,
        "sparse.jsonl",
        "{\"a\": 1}\n{\"b\": 2}\n{\"a\": null, \"b\": \"\"}\n",
    );
    let p = plan(
        root,
        vec![
            ds("bom_only", "bom_only.csv", &["row_count = 0"]),
            ds(
                "no_newline",
                "no_newline.csv",
                &["row_count = 0", "null_count(b) = 0"],
            ),
            ds(
                "blank_lines",
                "blank_lines.csv",
                &["row_count = 2", "sum(b) = 6"],
            ),
            ds("crlf", "crlf.tsv", &["row_count = 1", "max(b) = 'x\ty'"]),
            ds(
                "empty_jsonl",
                "empty.jsonl",
                &["row_count = 0", "null_count(a) = 0"],
            ),
            ds("empty_txt", "empty.txt", &["row_count = 0"]),
            ds(
                "sparse",
                "sparse.jsonl",
                &["null_count(a) = 2", "null_count(b) = 2", "sum(a) = 1"],
            ),
        ],
        vec![],
        vec![],
    );
    let mut c = Checker::new(p);
    let all: Vec<Vec<CheckResult>> = (0..7).map(|i| c.dataset(i, true)).collect();
    assert_eq!(
        all[0][0].status,
        CheckStatus::Error,
        "{}",
        all[0][0].message
    );
    for (i, rs) in all.iter().enumerate().skip(1) {
        for r in rs {
            assert_eq!(
                r.status,
                CheckStatus::Pass,
                "dataset {i}: {}: {}",
                r.check,
                r.message
            );
        }
    }
}
