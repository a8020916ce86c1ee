//! The checker's CSV reader agrees with the `csv` crate: same rows, same empty fields,
//! same distinct values per column; a file the `csv` crate reads unevenly (ragged) or
//! that ends inside a quote is an error for the checker. Small inputs take the one-pass
//! path; the first byte asks for the input repeated past 4 MB (the parallel chunker).
#![no_main]

use flightdeck::checks::{CheckStatus, Checker, Measured, parse};
use flightdeck::plan::{CheckSpec, DatasetSpec, Format};
use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;

// The `csv` crate's reading and the plan, shared with tests/props.rs.
#[path = "../../tests/common/checker.rs"]
mod checker;

use checker::csv_crate_counts as csv_crate;

fuzz_target!(|input: &[u8]| {
    let Some((&mode, data)) = input.split_first() else {
        return;
    };
    // Inputs the csv crate reads differently by design are out of scope: a lone CR
    // ends a record there, invalid UTF-8 headers and duplicate or odd header names.
    if data.contains(&b'\r') || data.len() > 4096 {
        return;
    }
    let Some((ncols, expected)) = csv_crate(data) else {
        return;
    };
    let header = data.split(|&b| b == b'\n').find(|l| !l.is_empty()).unwrap_or(b"");
    if ncols > 8 || header.contains(&b'"') || !header.iter().all(|b| b.is_ascii_alphanumeric() || *b == b',') {
        return;
    }
    let names: Vec<&str> = std::str::from_utf8(header).unwrap().split(',').collect();
    if names.iter().collect::<HashSet<_>>().len() != names.len() || names.iter().any(|n| n.is_empty() || n.as_bytes()[0].is_ascii_digit()) {
        return;
    }
    let mut file = data.to_vec();
    if mode & 1 == 1 && data.ends_with(b"\n") {
        let body_start = data.iter().position(|&b| b == b'\n').unwrap() + 1;
        let body = &data[body_start..];
        if body.is_empty() {
            return;
        }
        while file.len() < 5 << 20 {
            file.extend_from_slice(body);
        }
    }
    let expected = if file.len() == data.len() {
        Some(expected)
    } else {
        csv_crate(&file).map(|(_, c)| c)
    };
    let dir = std::env::temp_dir().join(format!("flightdeck-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("r.csv"), &file).unwrap();
    let mut texts = vec!["row_count = 0".to_string()];
    for n in &names {
        texts.push(format!("null_count({n}) = 0"));
        texts.push(format!("distinct_count({n}) = 0"));
    }
    let checks = texts
        .iter()
        .map(|t| CheckSpec { text: t.clone(), check: parse(t).unwrap() })
        .collect();
    let dataset = DatasetSpec {
        name: "r".into(),
        path: "r.csv".into(),
        format: Format::Csv,
        owner: None,
        checks,
    };
    let plan = checker::plan(&dir, vec![dataset], vec![], vec![]);
    let results = Checker::new(plan).dataset(0, true);
    let got = if results.iter().any(|r| r.status == CheckStatus::Error) {
        None
    } else {
        let n = |i: usize| match results[i].value {
            Measured::Number(x) => x as u64,
            ref other => panic!("not a number: {other:?}"),
        };
        Some((
            n(0),
            (0..ncols).map(|i| n(1 + 2 * i)).collect(),
            (0..ncols).map(|i| n(2 + 2 * i) as usize).collect(),
        ))
    };
    match (&expected, &got) {
        (Some(e), Some(g)) => assert_eq!(e, g, "{:?}", String::from_utf8_lossy(data)),
        // Ragged or an open quote: the checker must not give numbers.
        (None, Some(g)) => panic!("the csv crate refused it, the checker said {g:?}"),
        // An unterminated quote at the end: an error for the checker, a field for the csv crate.
        (Some(_), None) => assert!(
            results.iter().any(|r| r.message.contains("never closed") || r.message.contains("longer than")),
            "{:?}: {results:?}",
            String::from_utf8_lossy(data)
        ),
        (None, None) => {}
    }
});
