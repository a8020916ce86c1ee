//! What the checker's tests and fuzz targets build alike: a plan of datasets (no
//! sessions), dataset specs from check texts, files in a root, and the `csv` crate's
//! own reading of a CSV file to compare the checker with. Included by path
//! (`tests/bad_input.rs`, `tests/checks.rs`, `tests/props.rs`, `fuzz/`), so it uses
//! nothing but `std`, `csv` and `flightdeck`. Each includer uses only some of it.
#![allow(dead_code)]

use flightdeck::checks::parse;
use flightdeck::plan::{CheckSpec, DatasetSpec, Format, GateSpec, Plan, ProbeSpec, UiConfig};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Check texts as specs (a text that does not parse fails the test, naming it).
pub fn specs(checks: &[&str]) -> Vec<CheckSpec> {
    checks
        .iter()
        .map(|t| CheckSpec {
            text: t.to_string(),
            check: parse(t).unwrap_or_else(|e| panic!("{t}: {e}")),
        })
        .collect()
}

/// A dataset of no owner, its format from its path.
pub fn ds(name: &str, path: &str, checks: &[&str]) -> DatasetSpec {
    DatasetSpec {
        name: name.into(),
        path: path.into(),
        format: Format::from_path(path),
        owner: None,
        checks: specs(checks),
    }
}

/// A plan rooted at `root` with these datasets, probes and gates, and no sessions.
pub fn plan(
    root: &Path,
    datasets: Vec<DatasetSpec>,
    probes: Vec<ProbeSpec>,
    gates: Vec<GateSpec>,
) -> Arc<Plan> {
    Arc::new(Plan {
        file: root.join("plan.toml"),
        name: "test".into(),
        root: root.to_path_buf(),
        records: root.join(".flightdeck/runs"),
        max_parallel: None,
        shell: vec!["sh".into()],
        log_limit: 1 << 30,
        notify: None,
        vars: BTreeMap::new(),
        ui: UiConfig::default(),
        sessions: vec![],
        datasets,
        probes,
        gates,
    })
}

/// Write a file under `root` (its directories too); its path.
pub fn write(root: &Path, rel: &str, data: impl AsRef<[u8]>) -> PathBuf {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, data).unwrap();
    p
}

/// Rows, and per column the empty fields and the distinct values.
pub type Counts = (u64, Vec<u64>, Vec<usize>);

/// What the `csv` crate reads (a header line, then records): the number of columns
/// and the counts; `None` when it fails or a record is ragged.
pub fn csv_crate_counts(data: &[u8]) -> Option<(usize, Counts)> {
    let mut rdr = csv::Reader::from_reader(data);
    let ncols = rdr.byte_headers().ok()?.len();
    let mut rows = 0;
    let mut nulls = vec![0; ncols];
    let mut distinct: Vec<HashSet<Vec<u8>>> = vec![HashSet::new(); ncols];
    for rec in rdr.byte_records() {
        let rec = rec.ok()?;
        if rec.len() != ncols {
            return None;
        }
        rows += 1;
        for (i, f) in rec.iter().enumerate() {
            if f.is_empty() {
                nulls[i] += 1;
            } else {
                distinct[i].insert(f.to_vec());
            }
        }
    }
    Some((
        ncols,
        (rows, nulls, distinct.iter().map(|d| d.len()).collect()),
    ))
}
