//! Property tests, bounded to run in seconds: the check parser and the plan loader
//! never panic on any input, the parallel CSV reader agrees with the `csv` crate, and
//! the escape-sequence stripper never lets ESC through. The `fuzz/` targets run the
//! same properties for as long as one cares to wait.

use flightdeck::ansi::LineAssembler;
use flightdeck::checks::{CheckStatus, Checker, Measured, parse};
use flightdeck::plan::{CheckSpec, DatasetSpec, Format, load_str};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

#[path = "common/checker.rs"]
mod checker;

use checker::{Counts, csv_crate_counts, plan};

/// Pieces of the check language, so random input gets deep into the parser.
fn check_text() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("row_count"),
        Just("sum(a)"),
        Just("min("),
        Just("distinct_count(a, b)"),
        Just("where"),
        Just("between"),
        Just("and"),
        Just("in"),
        Just("("),
        Just(")"),
        Just(","),
        Just("."),
        Just("'x''y'"),
        Just("'"),
        Just("2025-02-30"),
        Just("1e308"),
        Just("-0.5"),
        Just("~"),
        Just("±"),
        Just("+-"),
        Just("%"),
        Just("<="),
        Just("!="),
        Just("="),
        Just("+"),
        Just("-"),
        Just("warn:"),
        Just("error:"),
        Just("exists"),
        Just("leads."),
        Just(" "),
    ];
    prop_oneof![
        prop::collection::vec(token, 0..14).prop_map(|t| t.concat()),
        any::<String>(),
    ]
}

/// Lines of a plan: tables, known keys, and values of every TOML type.
fn plan_text() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just("[plan]".to_string()),
        Just("[[session]]".to_string()),
        Just("[[dataset]]".to_string()),
        Just("[[gate]]".to_string()),
        Just("[[probe]]".to_string()),
        Just("[vars]".to_string()),
        Just("[ui]".to_string()),
        (
            prop::sample::select(vec![
                "name",
                "command",
                "after",
                "path",
                "checks",
                "datasets",
                "probes",
                "owner",
                "timeout",
                "restart",
                "backoff",
                "max_parallel",
                "approval",
                "allow_conditional",
                "cwd",
                "root",
                "format",
                "pattern",
                "done_when",
                "x",
            ]),
            prop::sample::select(vec![
                "\"a\"",
                "\"b\"",
                "\"{x}\"",
                "\"{a}{b}\"",
                "\"0s\"",
                "\"1h\"",
                "\"always\"",
                "[\"a\", \"b:started\"]",
                "[\"row_count > 0\", \"warn: sum(x) ~ 1 ± 5%\"]",
                "[]",
                "0",
                "-1",
                "true",
                "{ a = 1 }",
                "\"*.csv\"",
                "\"manual\"",
                "1979-05-27",
            ]),
        )
            .prop_map(|(k, v)| format!("{k} = {v}")),
        any::<String>(),
    ];
    prop::collection::vec(line, 0..16).prop_map(|l| l.join("\n"))
}

/// A CSV field: plain, empty, or quoted with delimiters, quotes and line ends inside.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("\"\"".to_string()),
        "[a-z0-9 ]{1,12}",
        "[a-z,\n\r\" ]{0,12}".prop_map(|s| format!("\"{}\"", s.replace('"', "\"\""))),
    ]
}

fn csv_file() -> impl Strategy<Value = (usize, String)> {
    (1usize..5).prop_flat_map(|ncols| {
        let record = prop::collection::vec(field(), ncols);
        let end = prop::sample::select(vec!["\n", "\r\n", "\n\n", "\r\n\r\n"]);
        (
            Just(ncols),
            prop::collection::vec((record, end), 0..60),
            prop::bool::ANY,
        )
            .prop_map(|(ncols, rows, last_newline)| {
                let header: Vec<String> = (0..ncols).map(|i| format!("c{i}")).collect();
                let mut s = header.join(",") + "\n";
                let n = rows.len();
                for (i, (fields, end)) in rows.into_iter().enumerate() {
                    s += &fields.join(",");
                    if i + 1 < n || last_newline {
                        s += end;
                    }
                }
                (ncols, s)
            })
    })
}

/// The checker's counts for the same columns, or `None` when it reported an error.
fn checker_counts(root: &Path, name: &str, ncols: usize) -> Option<Counts> {
    let mut texts = vec!["row_count = 0".to_string()];
    for i in 0..ncols {
        texts.push(format!("null_count(c{i}) = 0"));
        texts.push(format!("distinct_count(c{i}) = 0"));
    }
    let checks = texts
        .iter()
        .map(|t| CheckSpec {
            text: t.clone(),
            check: parse(t).unwrap(),
        })
        .collect();
    let dataset = DatasetSpec {
        name: "r".into(),
        path: name.into(),
        format: Format::Csv,
        owner: None,
        checks,
    };
    let results = Checker::new(plan(root, vec![dataset], vec![], vec![])).dataset(0, true);
    if results.iter().any(|r| r.status == CheckStatus::Error) {
        return None;
    }
    let n = |i: usize| match results[i].value {
        Measured::Number(x) => x as u64,
        ref other => panic!("not a number: {other:?}"),
    };
    Some((
        n(0),
        (0..ncols).map(|i| n(1 + 2 * i)).collect(),
        (0..ncols).map(|i| n(2 + 2 * i) as usize).collect(),
    ))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn the_check_parser_never_panics(text in check_text()) {
        if let Ok(check) = parse(&text) {
            let _ = check.references();
            let _ = check.gate_form();
        }
    }

    #[test]
    fn the_plan_loader_never_panics(text in plan_text()) {
        let _ = load_str(&text, Path::new("/nonexistent/plan.toml"), &BTreeMap::new());
    }

    #[test]
    fn the_stripper_never_lets_escape_through(
        chunks in prop::collection::vec(
            prop::collection::vec(
                prop_oneof![
                    Just(0x1bu8), Just(b'['), Just(b']'), Just(b'P'), Just(b'\\'),
                    Just(0x07), Just(0x9b), Just(0x9d), Just(0xc2), Just(b'\n'), Just(b'\r'),
                    Just(b';'), Just(b'0'), Just(b'm'), any::<u8>(),
                ],
                0..64,
            ),
            0..8,
        )
    ) {
        let mut lines = LineAssembler::new();
        for chunk in &chunks {
            lines.feed(chunk);
        }
        let partial = lines.partial().to_string();
        for line in lines.lines().chain(std::iter::once(partial.as_str())) {
            prop_assert!(
                !line.contains('\u{1b}') && !line.contains('\u{9b}') && !line.contains('\u{9d}'),
                "{line:?}"
            );
        }
    }
}

proptest! {
    // Each case writes a file and reads it; the small files take the one-thread path,
    // the padded ones the parallel chunker.
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn the_csv_reader_agrees_with_the_csv_crate(
        (ncols, body) in csv_file(),
        padded in prop::bool::weighted(0.2),
    ) {
        let t = tempfile::tempdir().unwrap();
        let mut data = body.into_bytes();
        if padded {
            // Repeat the records past the parallel threshold (4 MB): chunk guesses
            // then land inside quoted fields.
            let header_end = data.iter().position(|&b| b == b'\n').unwrap() + 1;
            let mut records = data[header_end..].to_vec();
            if !records.is_empty() && !records.ends_with(b"\n") {
                records.push(b'\n');
            }
            if records.len() > 1 {
                let mut big = data[..header_end].to_vec();
                while big.len() < 5 << 20 {
                    big.extend_from_slice(&records);
                }
                data = big;
            }
        }
        std::fs::write(t.path().join("r.csv"), &data).unwrap();
        // The header names ncols columns; a ragged record makes it None.
        let expected = csv_crate_counts(&data).map(|(_, counts)| counts);
        let got = checker_counts(t.path(), "r.csv", ncols);
        match expected {
            Some(e) => prop_assert_eq!(got, Some(e)),
            // Ragged to the csv crate: the checker must say so too.
            None => prop_assert_eq!(got, None),
        }
    }
}
