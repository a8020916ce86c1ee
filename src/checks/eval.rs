//! The [`Checker`]: answers the checks of datasets, probes and gates.
//!
//! Every dataset has one [`Need`] planned from all checks that touch it (its own, the
//! gates' source-qualified terms, other datasets' foreign keys into it). A file is
//! read once for that whole need; its result is kept until its size or mtime (or a
//! key set it was checked against) changes.

use super::metrics::{Acc, KeySet, Need, RowErr, date_key, date_text};
use super::read::{self, FileData, ReadError};
use super::text;
use super::{
    Body, Check, CheckResult, CheckStatus, Cmp, Expr, Literal, Measured, Metric, Op, Operand, Sign,
    Term,
};
use crate::plan::{CheckSpec, CommandSpec, Plan};
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// A file's identity for the cache: size and modification time.
type Stamp = (u64, Option<SystemTime>);

/// Files of a dataset as read: path, stamp, key-set generations.
type Fingerprint = Vec<(PathBuf, Stamp, Vec<u64>)>;

fn stamp(m: &std::fs::Metadata) -> Stamp {
    (m.len(), m.modified().ok())
}

struct CachedFile {
    stamp: Stamp,
    fk_gens: Vec<u64>,
    data: Arc<Result<FileData, ReadError>>,
}

struct KeySetEntry {
    fingerprint: Vec<(PathBuf, Stamp)>,
    generation: u64,
    set: Arc<KeySet>,
}

/// What a probe's command gave.
#[derive(Debug, Clone)]
pub struct ProbeOutcome {
    pub exit_code: Option<i32>,
    pub value: Option<f64>,
    /// Could not run, timed out, or killed by a signal.
    pub error: Option<String>,
    /// Why `value` is missing.
    pub value_error: Option<String>,
}

/// One dataset, now.
struct Snap {
    display: String,
    files: Vec<(PathBuf, Stamp)>,
    /// Listing or reading failed.
    fatal: Option<String>,
    /// The fatal error is a file that changed while being read (being written).
    settling: bool,
    acc: Option<AccRef>,
    /// Per slot: the first file without that column, and its columns.
    missing: Vec<Option<(String, Vec<String>)>>,
    /// Per foreign key: why its key set is not available.
    fk_errors: Vec<Option<String>>,
}

/// The accumulators of a dataset: its one file's (shared with the cache, not
/// copied) or the merge of its files.
enum AccRef {
    File(Arc<Result<FileData, ReadError>>),
    Merged(Arc<Acc>),
}

impl AccRef {
    fn get(&self) -> &Acc {
        match self {
            AccRef::File(f) => match &**f {
                Ok(fd) => &fd.acc,
                Err(_) => unreachable!("only readable files are shared"),
            },
            AccRef::Merged(a) => a,
        }
    }
}

/// A measured value.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Num(f64),
    Date(u32),
    Str(String),
}

impl V {
    fn show(&self, meaning: text::Meaning) -> String {
        match self {
            V::Num(n) => text::number_as(*n, meaning),
            V::Date(d) => date_text(*d),
            V::Str(s) => format!("'{}'", text::clip(s)),
        }
    }
    fn measured(&self) -> Measured {
        match self {
            V::Num(n) => Measured::Number(*n),
            V::Date(d) => Measured::Text(date_text(*d)),
            V::Str(s) => Measured::Text(text::clip(s)),
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            V::Num(_) => "a number",
            V::Date(_) => "a date",
            V::Str(_) => "text",
        }
    }
}

fn lit_v(l: &Literal) -> V {
    match l {
        Literal::Number(n) => V::Num(*n),
        Literal::Date(d) => V::Date(date_key(*d)),
        Literal::Str(s) => V::Str(s.clone()),
    }
}

/// How min/max should read a column (from the literal it is compared with).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Hint {
    Any,
    Num,
    Date,
    Str,
}

fn hint_of(l: &Literal) -> Hint {
    match l {
        Literal::Number(_) => Hint::Num,
        Literal::Date(_) => Hint::Date,
        Literal::Str(_) => Hint::Str,
    }
}

/// Why a term has no value.
enum NoValue {
    Pending(String),
    Fail(String),
    Error(String),
}

#[derive(Clone, Copy)]
enum Ctx {
    Dataset(usize),
    Probe(usize),
    Gate,
}

#[derive(Clone, Copy)]
enum Src {
    Dataset(usize),
    Probe(usize),
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

fn approx_eq(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn cmp_v(a: &V, b: &V) -> Result<std::cmp::Ordering, String> {
    use std::cmp::Ordering;
    match (a, b) {
        (V::Num(x), V::Num(y)) => Ok(if approx_eq(*x, *y) {
            Ordering::Equal
        } else if x < y {
            Ordering::Less
        } else {
            Ordering::Greater
        }),
        (V::Date(x), V::Date(y)) => Ok(x.cmp(y)),
        (V::Str(x), V::Str(y)) => Ok(x.cmp(y)),
        _ => Err(format!("cannot compare {} with {}", a.kind(), b.kind())),
    }
}

fn op_holds(op: Op, o: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match op {
        Op::Eq => o == Equal,
        Op::Ne => o != Equal,
        Op::Lt => o == Less,
        Op::Le => o != Greater,
        Op::Gt => o == Greater,
        Op::Ge => o != Less,
    }
}

/// Every term of a check.
fn terms(c: &Check) -> Vec<&Term> {
    let mut out = vec![];
    if let Body::Compare { lhs, cmp } = &c.body {
        out.extend(lhs.terms.iter().map(|(_, t)| t));
        if let Cmp::Op(_, Operand::Expr(e)) = cmp {
            out.extend(e.terms.iter().map(|(_, t)| t));
        }
    }
    out
}

/// Rewrite the row errors and offender lists of one file so that they name it.
fn finalize(acc: &mut Acc, file: &str, name_file_in_examples: bool) {
    let fix = |e: &mut Option<RowErr>| {
        if let Some(e) = e {
            e.msg = format!("{file}, row {}: {}", e.row, e.msg);
        }
    };
    for g in &mut acc.groups {
        fix(&mut g.filter_bad);
        for c in &mut g.cols {
            fix(&mut c.num_bad);
            fix(&mut c.date_bad);
            fix(&mut c.utf8_bad);
        }
    }
    for m in acc
        .unreadable
        .iter_mut()
        .flatten()
        .chain(acc.notes.iter_mut())
    {
        *m = format!("{file}: {m}");
    }
    for o in acc.inlists.iter_mut().chain(acc.fks.iter_mut()) {
        for (row, v) in &mut o.first {
            *v = if name_file_in_examples {
                format!("{v} ({file} row {row})")
            } else {
                format!("{v} (row {row})")
            };
        }
    }
}

pub struct Checker {
    plan: Arc<Plan>,
    needs: Vec<Need>,
    cache: HashMap<(usize, PathBuf), CachedFile>,
    merged: HashMap<usize, (Fingerprint, Arc<Acc>)>,
    keysets: HashMap<(usize, String), KeySetEntry>,
    next_generation: u64,
    probes: Vec<Option<ProbeOutcome>>,
    in_progress: HashSet<usize>,
    reads: u64,
}

impl Checker {
    pub fn new(plan: Arc<Plan>) -> Self {
        let mut needs: Vec<Need> = plan.datasets.iter().map(|_| Need::default()).collect();
        let resolve = |n: &str| plan.dataset_index(n);
        let add_terms = |ctx: Option<usize>, c: &Check, needs: &mut Vec<Need>| {
            for t in terms(c) {
                let ds = match &t.source {
                    None => ctx,
                    Some(s) => resolve(s),
                };
                if let Some(d) = ds {
                    needs[d].add_term(t);
                }
            }
        };
        for (i, d) in plan.datasets.iter().enumerate() {
            for c in &d.checks {
                add_terms(Some(i), &c.check, &mut needs);
                needs[i].add_check(&c.check, &resolve);
                if let Body::InDataset {
                    dataset,
                    other_column,
                    ..
                } = &c.check.body
                    && let Some(t) = resolve(dataset)
                {
                    needs[t].add_keyset(other_column);
                }
            }
        }
        for p in &plan.probes {
            for c in &p.checks {
                add_terms(None, &c.check, &mut needs);
            }
        }
        for g in &plan.gates {
            for c in &g.checks {
                add_terms(None, &c.check, &mut needs);
            }
        }
        let probes = vec![None; plan.probes.len()];
        Checker {
            plan,
            needs,
            cache: HashMap::new(),
            merged: HashMap::new(),
            keysets: HashMap::new(),
            next_generation: 1,
            probes,
            in_progress: HashSet::new(),
            reads: 0,
        }
    }

    pub fn plan(&self) -> &Arc<Plan> {
        &self.plan
    }

    /// How many times a data file was actually read.
    pub fn file_reads(&self) -> u64 {
        self.reads
    }

    /// The measurement plan of a dataset (for tests and diagnostics).
    pub fn need(&self, idx: usize) -> &Need {
        &self.needs[idx]
    }

    /// The files of dataset `idx` now (sorted), or why they cannot be listed.
    pub fn dataset_files(&self, idx: usize) -> Result<Vec<(PathBuf, u64)>, String> {
        Ok(self.list(idx)?.into_iter().map(|(p, s)| (p, s.0)).collect())
    }

    fn list(&self, idx: usize) -> Result<Vec<(PathBuf, Stamp)>, String> {
        let d = &self.plan.datasets[idx];
        let full = d.base_dir(&self.plan).join(&d.path);
        if has_glob(&d.path) {
            let pat = full.to_string_lossy().into_owned();
            let paths = glob::glob(&pat).map_err(|e| format!("bad pattern `{}`: {e}", d.path))?;
            let mut out = vec![];
            for p in paths {
                let p = match p {
                    Ok(p) => p,
                    Err(e) => return Err(format!("cannot list `{}`: {e}", d.path)),
                };
                match std::fs::metadata(&p) {
                    Ok(m) if m.is_file() => out.push((p, stamp(&m))),
                    _ => {}
                }
            }
            out.sort();
            Ok(out)
        } else {
            match std::fs::metadata(&full) {
                Ok(m) if let Some(kind) = read::irregular(&m.file_type()) => {
                    Err(format!("{} {}", d.path, read::irregular_message(kind)))
                }
                Ok(m) => Ok(vec![(full, stamp(&m))]),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(vec![]),
                Err(e) => Err(format!("{}: {e}", d.path)),
            }
        }
    }

    fn display(&self, idx: usize, p: &Path) -> String {
        let base = self.plan.datasets[idx].base_dir(&self.plan);
        p.strip_prefix(base)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned()
    }

    /// The key set of `ds.column` (union over its files) and its generation.
    fn keyset(&mut self, ds: usize, column: &str) -> Result<(u64, Arc<KeySet>), String> {
        let plan = self.plan.clone();
        let name = &plan.datasets[ds].name;
        if self.in_progress.contains(&ds) {
            // `ds` is being read and needs this key set first: a column of its own
            // (`parent_id in people.id`) or a cycle of foreign keys. Read just the keys.
            return self.keyset_only(ds, column);
        }
        let snap = self.snapshot(ds);
        if let Some(f) = &snap.fatal {
            return Err(format!("`{name}` cannot be read: {f}"));
        }
        if snap.files.is_empty() {
            return Err(format!("`{name}` has no file yet ({})", snap.display));
        }
        let need = &self.needs[ds];
        let slot = need.find_slot(column).expect("key column planned");
        if let Some((file, cols)) = &snap.missing[slot] {
            return Err(format!(
                "column `{column}` not found in {file} (columns: {})",
                text::columns(cols)
            ));
        }
        if let Some(e) = snap
            .acc
            .as_ref()
            .and_then(|a| a.get().unreadable[slot].clone())
        {
            return Err(e);
        }
        let key = (ds, column.to_string());
        if let Some(e) = self.keysets.get(&key)
            && e.fingerprint == snap.files
        {
            return Ok((e.generation, e.set.clone()));
        }
        let ki = need
            .keysets
            .iter()
            .position(|s| *s == slot)
            .expect("keyset planned");
        let acc = snap.acc.as_ref().expect("read").get();
        let set = acc.keysets[ki].clone();
        let generation = self.next_generation;
        self.next_generation += 1;
        self.keysets.insert(
            key,
            KeySetEntry {
                fingerprint: snap.files.clone(),
                generation,
                set: set.clone(),
            },
        );
        Ok((generation, set))
    }

    /// The key set of `ds.column` from a read of that column alone (reused while the
    /// files are unchanged).
    fn keyset_only(&mut self, ds: usize, column: &str) -> Result<(u64, Arc<KeySet>), String> {
        let plan = self.plan.clone();
        let d = &plan.datasets[ds];
        let files = self.list(ds)?;
        if files.is_empty() {
            return Err(format!("`{}` has no file yet ({})", d.name, d.path));
        }
        let key = (ds, column.to_string());
        if let Some(e) = self.keysets.get(&key)
            && e.fingerprint == files
        {
            return Ok((e.generation, e.set.clone()));
        }
        let mut need = Need::default();
        need.add_keyset(column);
        let mut set = KeySet::default();
        for (path, _) in &files {
            self.reads += 1;
            let disp = self.display(ds, path);
            let fd = read::read(path, d.format, &need, &[]).map_err(|e| match e.row {
                Some(r) => format!("`{}` cannot be read: {disp}, row {r}: {}", d.name, e.msg),
                None => format!("`{}` cannot be read: {disp}: {}", d.name, e.msg),
            })?;
            if fd.missing[0] {
                return Err(format!(
                    "column `{column}` not found in {disp} (columns: {})",
                    text::columns(&fd.columns)
                ));
            }
            if let Some(e) = &fd.acc.unreadable[0] {
                return Err(format!("{disp}: {e}"));
            }
            set.extend(&fd.acc.keysets[0]);
        }
        let set = Arc::new(set);
        let generation = self.next_generation;
        self.next_generation += 1;
        self.keysets.insert(
            key,
            KeySetEntry {
                fingerprint: files,
                generation,
                set: set.clone(),
            },
        );
        Ok((generation, set))
    }

    /// Read (or reuse) every file of dataset `idx`.
    fn snapshot(&mut self, idx: usize) -> Arc<Snap> {
        let d = &self.plan.datasets[idx];
        let display = d.path.clone();
        let nslots = self.needs[idx].columns.len();
        let nfks = self.needs[idx].fks.len();
        let mut snap = Snap {
            display,
            files: vec![],
            fatal: None,
            settling: false,
            acc: None,
            missing: vec![None; nslots],
            fk_errors: vec![None; nfks],
        };
        let files = match self.list(idx) {
            Ok(f) => f,
            Err(e) => {
                snap.fatal = Some(e);
                return Arc::new(snap);
            }
        };
        // Forget files that are gone.
        self.cache
            .retain(|(i, p), _| *i != idx || files.iter().any(|(f, _)| f == p));
        if files.is_empty() {
            return Arc::new(snap);
        }
        // Key sets of foreign keys first.
        self.in_progress.insert(idx);
        let mut fk_sets: Vec<Arc<KeySet>> = vec![];
        let mut fk_gens = vec![];
        for i in 0..nfks {
            let fk = self.needs[idx].fks[i].clone();
            match self.keyset(fk.dataset, &fk.other_column) {
                Ok((g, s)) => {
                    fk_gens.push(g);
                    fk_sets.push(s);
                }
                Err(e) => {
                    fk_gens.push(0);
                    fk_sets.push(Arc::new(KeySet::default()));
                    snap.fk_errors[i] = Some(e);
                }
            }
        }
        self.in_progress.remove(&idx);
        let format = self.plan.datasets[idx].format;
        let glob = has_glob(&self.plan.datasets[idx].path);
        let mut datas = vec![];
        let mut stamps = vec![];
        let mut unsettled: Vec<PathBuf> = vec![];
        for (path, st) in &files {
            let key = (idx, path.clone());
            let cached = self
                .cache
                .get(&key)
                .filter(|c| c.stamp == *st && c.fk_gens == fk_gens)
                .map(|c| (c.data.clone(), c.stamp));
            let (data, st) = match cached {
                Some(x) => x,
                None => {
                    let disp = self.display(idx, path);
                    let (data, st, settled) = self.read_settled(idx, path, format, &fk_sets);
                    let data = Arc::new(data.map(|mut fd| {
                        finalize(&mut fd.acc, &disp, glob);
                        fd
                    }));
                    if settled {
                        self.cache.insert(
                            key,
                            CachedFile {
                                stamp: st,
                                fk_gens: fk_gens.clone(),
                                data: data.clone(),
                            },
                        );
                    } else {
                        self.cache.remove(&key);
                        unsettled.push(path.clone());
                    }
                    (data, st)
                }
            };
            stamps.push((path.clone(), st, fk_gens.clone()));
            datas.push((path.clone(), data));
        }
        snap.files = stamps.iter().map(|(p, s, _)| (p.clone(), *s)).collect();
        for (path, data) in &datas {
            match &**data {
                Err(e) => {
                    let disp = self.display(idx, path);
                    snap.settling = unsettled.contains(path);
                    snap.fatal = Some(match e.row {
                        Some(r) => format!("{disp}, row {r}: {}", e.msg),
                        None => format!("{disp}: {}", e.msg),
                    });
                    return Arc::new(snap);
                }
                Ok(fd) => {
                    for (slot, m) in fd.missing.iter().enumerate() {
                        if *m && snap.missing[slot].is_none() {
                            snap.missing[slot] =
                                Some((self.display(idx, path), fd.columns.clone()));
                        }
                    }
                }
            }
        }
        if datas.len() == 1 {
            snap.acc = Some(AccRef::File(datas[0].1.clone()));
        } else {
            match self.merged.get(&idx).filter(|(fp, _)| *fp == stamps) {
                Some((_, acc)) => snap.acc = Some(AccRef::Merged(acc.clone())),
                None => {
                    let mut it = datas.iter().map(|(_, d)| match &**d {
                        Ok(fd) => fd.acc.clone(),
                        Err(_) => unreachable!(),
                    });
                    let mut acc = it.next().expect("at least one file");
                    for a in it {
                        acc.merge(a);
                    }
                    let acc = Arc::new(acc);
                    self.merged.insert(idx, (stamps, acc.clone()));
                    snap.acc = Some(AccRef::Merged(acc));
                }
            }
        }
        Arc::new(snap)
    }

    /// Read a file; if it changed while being read, read it again (a few times).
    fn read_settled(
        &mut self,
        idx: usize,
        path: &Path,
        format: super::Format,
        fk_sets: &[Arc<KeySet>],
    ) -> (Result<FileData, ReadError>, Stamp, bool) {
        let sets: Vec<&KeySet> = fk_sets.iter().map(|s| &**s).collect();
        let mut last = None;
        // One retry: a file still changing is being written, and the watcher will
        // report it again when it changes; reading it over and over would only burn CPU.
        for attempt in 0..2u64 {
            let before = std::fs::metadata(path).map(|m| stamp(&m));
            self.reads += 1;
            let r = read::read(path, format, &self.needs[idx], &sets);
            let after = std::fs::metadata(path).map(|m| stamp(&m));
            match (before, after) {
                (Ok(b), Ok(a)) if a == b => return (r, a, true),
                (_, Ok(a)) => last = Some((r, a)),
                (_, Err(_)) => {
                    last = Some((
                        Err(ReadError {
                            row: None,
                            msg: "the file disappeared while being read".into(),
                        }),
                        (0, None),
                    ))
                }
            }
            if attempt == 0 {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let (r, st) = last.expect("attempted");
        let r = r.and(Err(ReadError {
            row: None,
            msg: "is being written (it changed while being read); it is read again once it settles"
                .into(),
        }));
        (r, st, false)
    }

    // ------------------------------------------------------------ probes

    fn run_probe(&self, idx: usize) -> ProbeOutcome {
        let p = &self.plan.probes[idx];
        let argv = CommandSpec::Shell(p.command.clone()).argv(&self.plan.shell);
        run_command(&argv, &self.plan.root, p.timeout, p.pattern.as_ref())
    }

    /// The last outcome of probe `idx`, running it if it never ran.
    pub fn probe_outcome(&mut self, idx: usize) -> ProbeOutcome {
        if self.probes[idx].is_none() {
            self.probes[idx] = Some(self.run_probe(idx));
        }
        self.probes[idx].clone().expect("ran")
    }

    // ------------------------------------------------------------ public API

    /// All checks of dataset `idx`. `owner_done = false`: a missing file gives
    /// `pending` (not fail) and results are provisional.
    pub fn dataset(&mut self, idx: usize, owner_done: bool) -> Vec<CheckResult> {
        let plan = self.plan.clone();
        let d = &plan.datasets[idx];
        let mut memo = HashMap::new();
        d.checks
            .iter()
            .map(|c| {
                let mut r = self.eval(Ctx::Dataset(idx), &d.name, c, owner_done, &mut memo);
                r.provisional = !owner_done && d.owner.is_some();
                let counts_rows = terms(&c.check)
                    .iter()
                    .any(|t| t.source.is_none() && t.metric == Metric::RowCount);
                if let Some(acc) = memo.get(&idx).and_then(|s| s.acc.as_ref())
                    && counts_rows
                    && !acc.get().notes.is_empty()
                {
                    r.message = format!("{} (note: {})", r.message, acc.get().notes.join("; "));
                }
                r
            })
            .collect()
    }

    /// Run probe `idx` (its command in root, with its timeout) and answer its checks.
    pub fn probe(&mut self, idx: usize) -> Vec<CheckResult> {
        self.probes[idx] = Some(self.run_probe(idx));
        self.probe_checks(idx)
    }

    /// The checks of probe `idx` against its last outcome (running it if it never ran).
    pub fn probe_checks(&mut self, idx: usize) -> Vec<CheckResult> {
        let plan = self.plan.clone();
        let p = &plan.probes[idx];
        let mut memo = HashMap::new();
        p.checks
            .iter()
            .map(|c| self.eval(Ctx::Probe(idx), &p.name, c, true, &mut memo))
            .collect()
    }

    /// The gate's own `checks` (every term names a dataset or probe).
    pub fn gate_checks(&mut self, idx: usize, owners_done: bool) -> Vec<CheckResult> {
        let plan = self.plan.clone();
        let g = &plan.gates[idx];
        let mut memo = HashMap::new();
        g.checks
            .iter()
            .map(|c| {
                let mut r = self.eval(Ctx::Gate, &g.name, c, owners_done, &mut memo);
                r.provisional = !owners_done;
                r
            })
            .collect()
    }

    /// Everything a gate judges: the checks of its datasets and probes (probes run
    /// only if they never ran) and its own checks.
    pub fn gate(&mut self, idx: usize, owners_done: bool) -> Vec<CheckResult> {
        let plan = self.plan.clone();
        let g = &plan.gates[idx];
        let mut out = vec![];
        for &d in &g.datasets {
            out.extend(self.dataset(d, owners_done));
        }
        for &p in &g.probes {
            self.probe_outcome(p);
            out.extend(self.probe_checks(p));
        }
        out.extend(self.gate_checks(idx, owners_done));
        out
    }

    // ------------------------------------------------------------ evaluation

    fn eval(
        &mut self,
        ctx: Ctx,
        source: &str,
        spec: &CheckSpec,
        owner_done: bool,
        memo: &mut HashMap<usize, Arc<Snap>>,
    ) -> CheckResult {
        let c = &spec.check;
        let mut r = CheckResult {
            source: source.to_string(),
            check: spec.text.clone(),
            severity: c.severity,
            status: CheckStatus::Error,
            value: Measured::Null,
            expected: String::new(),
            message: String::new(),
            provisional: false,
        };
        match &c.body {
            Body::Exists => self.eval_exists(ctx, &mut r, owner_done),
            Body::Compare { lhs, cmp } => {
                self.eval_compare(ctx, lhs, cmp, owner_done, memo, &mut r)
            }
            Body::InList { column, values } => {
                let list: Vec<String> = values.iter().map(text::literal).collect();
                r.expected = format!("in ({})", list.join(", "));
                self.eval_in(ctx, column, None, owner_done, memo, &mut r, |need| {
                    need.inlists
                        .iter()
                        .position(|(s, v)| need.columns[*s] == *column && v == values)
                });
            }
            Body::InDataset {
                column,
                dataset,
                other_column,
            } => {
                r.expected = format!("every value in {dataset}.{other_column}");
                let target = self.plan.dataset_index(dataset);
                match target {
                    None => {
                        r.status = CheckStatus::Error;
                        r.message = format!("{column}: no dataset named `{dataset}`");
                    }
                    Some(t) => {
                        let what = format!("{dataset}.{other_column}");
                        self.eval_in(ctx, column, Some(what), owner_done, memo, &mut r, |need| {
                            need.fks.iter().position(|f| {
                                need.columns[f.slot] == *column
                                    && f.dataset == t
                                    && f.other_column == *other_column
                            })
                        });
                    }
                }
            }
        }
        r
    }

    fn snap(&mut self, idx: usize, memo: &mut HashMap<usize, Arc<Snap>>) -> Arc<Snap> {
        if let Some(s) = memo.get(&idx) {
            return s.clone();
        }
        let s = self.snapshot(idx);
        memo.insert(idx, s.clone());
        s
    }

    fn eval_exists(&mut self, ctx: Ctx, r: &mut CheckResult, owner_done: bool) {
        r.expected = "at least one file".into();
        let Ctx::Dataset(idx) = ctx else {
            r.message = "`exists` belongs in a dataset's checks".into();
            return;
        };
        let path = &self.plan.datasets[idx].path;
        match self.list(idx) {
            Err(e) => r.message = format!("exists: {e}"),
            Ok(files) if files.is_empty() => {
                r.value = Measured::Number(0.0);
                if owner_done {
                    r.status = CheckStatus::Fail;
                    r.message = format!("exists: no file matches {path}");
                } else {
                    r.status = CheckStatus::Pending;
                    r.message = format!("exists: waiting for {path}");
                }
            }
            Ok(files) => {
                let bytes: u64 = files.iter().map(|(_, s)| s.0).sum();
                r.status = CheckStatus::Pass;
                r.value = Measured::Number(files.len() as f64);
                r.message = format!(
                    "exists: {} file{} ({} bytes)",
                    files.len(),
                    if files.len() == 1 { "" } else { "s" },
                    text::number(bytes as f64)
                );
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_in(
        &mut self,
        ctx: Ctx,
        column: &str,
        fk: Option<String>,
        owner_done: bool,
        memo: &mut HashMap<usize, Arc<Snap>>,
        r: &mut CheckResult,
        find: impl Fn(&Need) -> Option<usize>,
    ) {
        let Ctx::Dataset(idx) = ctx else {
            r.message = format!("`{column} in ...` belongs in a dataset's checks");
            return;
        };
        let snap = self.snap(idx, memo);
        if let Err(nv) = self.usable(idx, &snap, owner_done) {
            set_novalue(r, column, nv);
            return;
        }
        let need = &self.needs[idx];
        let slot = need.find_slot(column).expect("planned");
        if let Some((file, cols)) = &snap.missing[slot] {
            r.message = format!(
                "{column}: column not found in {file} (columns: {})",
                text::columns(cols)
            );
            return;
        }
        if let Some(e) = &snap.acc.as_ref().expect("usable").get().unreadable[slot] {
            r.message = format!("{column}: {e}");
            return;
        }
        let Some(i) = find(need) else {
            r.message = format!("{column}: internal error: check not planned");
            return;
        };
        let acc = snap.acc.as_ref().expect("usable").get();
        let off = if fk.is_some() {
            if let Some(e) = &snap.fk_errors[i] {
                r.message = format!("{column}: {e}");
                if !owner_done && e.contains("has no file yet") {
                    r.status = CheckStatus::Pending;
                }
                return;
            }
            &acc.fks[i]
        } else {
            &acc.inlists[i]
        };
        r.value = Measured::Number(off.count as f64);
        let rows = acc.groups[0].rows;
        if off.count == 0 {
            r.status = CheckStatus::Pass;
            r.message = match &fk {
                Some(w) => format!(
                    "{column}: no orphans ({} rows, every value in {w})",
                    text::number(rows as f64)
                ),
                None => format!("{column}: every value {}", r.expected),
            };
        } else {
            r.status = CheckStatus::Fail;
            let first: Vec<&str> = off.first.iter().map(|(_, s)| s.as_str()).collect();
            r.message = match &fk {
                Some(w) => format!(
                    "{column}: {} orphan{} not in {w}, first: {}",
                    text::number(off.count as f64),
                    if off.count == 1 { "" } else { "s" },
                    first.join(", ")
                ),
                None => format!(
                    "{column}: {} value{} not {}, first: {}",
                    text::number(off.count as f64),
                    if off.count == 1 { "" } else { "s" },
                    r.expected,
                    first.join(", ")
                ),
            };
        }
    }

    /// A dataset with files that could all be read.
    fn usable(&self, idx: usize, snap: &Snap, owner_done: bool) -> Result<(), NoValue> {
        if let Some(f) = &snap.fatal {
            return Err(if snap.settling && !owner_done {
                NoValue::Pending(f.clone())
            } else {
                NoValue::Error(f.clone())
            });
        }
        if snap.files.is_empty() {
            let path = &self.plan.datasets[idx].path;
            return Err(if owner_done {
                NoValue::Fail(format!("no file matches {path}"))
            } else {
                NoValue::Pending(format!("waiting for {path}"))
            });
        }
        Ok(())
    }

    fn eval_compare(
        &mut self,
        ctx: Ctx,
        lhs: &Expr,
        cmp: &Cmp,
        owner_done: bool,
        memo: &mut HashMap<usize, Arc<Snap>>,
        r: &mut CheckResult,
    ) {
        let lhs_text = text::expr(lhs);
        let meaning = text::Meaning::of_expr(lhs);
        r.expected = text::cmp_as(cmp, meaning);
        let hint = match cmp {
            Cmp::Op(_, Operand::Literal(l)) | Cmp::Between(l, _) => hint_of(l),
            Cmp::Approx { .. } => Hint::Num,
            Cmp::Op(_, Operand::Expr(_)) => Hint::Any,
        };
        let v = match self.expr_value(ctx, lhs, hint, owner_done, memo) {
            Ok(v) => v,
            Err(nv) => return set_novalue(r, &lhs_text, nv),
        };
        r.value = v.measured();
        let outcome: Result<bool, String> = match cmp {
            Cmp::Op(op, Operand::Literal(l)) => cmp_v(&v, &lit_v(l)).map(|o| op_holds(*op, o)),
            Cmp::Op(op, Operand::Expr(e)) => {
                let h = match &v {
                    V::Num(_) => Hint::Num,
                    V::Date(_) => Hint::Date,
                    V::Str(_) => Hint::Str,
                };
                let rv = match self.expr_value(ctx, e, h, owner_done, memo) {
                    Ok(rv) => rv,
                    Err(nv) => {
                        let t = text::expr(e);
                        return set_novalue(r, &t, nv);
                    }
                };
                r.expected = format!("{} {} ({})", text::op(*op), rv.show(meaning), text::expr(e));
                cmp_v(&v, &rv).map(|o| op_holds(*op, o))
            }
            Cmp::Between(a, b) => cmp_v(&v, &lit_v(a)).and_then(|lo| {
                cmp_v(&v, &lit_v(b)).map(|hi| op_holds(Op::Ge, lo) && op_holds(Op::Le, hi))
            }),
            Cmp::Approx {
                target,
                tol,
                percent,
            } => match v {
                V::Num(x) => {
                    let t = if *percent {
                        target.abs() * tol / 100.0
                    } else {
                        *tol
                    };
                    Ok((x - target).abs() <= t + 1e-9 * t.max(1.0))
                }
                _ => Err(format!("{lhs_text} is {}, not a number", v.kind())),
            },
        };
        match outcome {
            Ok(pass) => {
                r.status = if pass {
                    CheckStatus::Pass
                } else {
                    CheckStatus::Fail
                };
                r.message = format!("{lhs_text} = {}, expected {}", v.show(meaning), r.expected);
            }
            Err(e) => {
                r.status = CheckStatus::Error;
                r.message = format!("{lhs_text}: {e}");
            }
        }
    }

    fn expr_value(
        &mut self,
        ctx: Ctx,
        e: &Expr,
        hint: Hint,
        owner_done: bool,
        memo: &mut HashMap<usize, Arc<Snap>>,
    ) -> Result<V, NoValue> {
        if e.terms.len() == 1 {
            return self.term_value(ctx, &e.terms[0].1, hint, owner_done, memo);
        }
        let mut total = 0.0;
        let mut pending = None;
        for (sign, t) in &e.terms {
            match self.term_value(ctx, t, Hint::Num, owner_done, memo) {
                Ok(V::Num(x)) => {
                    total += if *sign == Sign::Plus { x } else { -x };
                }
                Ok(v) => {
                    return Err(NoValue::Error(format!(
                        "{} is {}: only numbers can be added",
                        text::term(t),
                        v.kind()
                    )));
                }
                // Errors and failures win over pending: they will not go away.
                Err(NoValue::Pending(m)) => pending = Some(m),
                Err(other) => return Err(other),
            }
        }
        match pending {
            Some(m) => Err(NoValue::Pending(m)),
            None => Ok(V::Num(total)),
        }
    }

    fn resolve_source(&self, ctx: Ctx, t: &Term) -> Result<Src, String> {
        match (&t.source, ctx) {
            (None, Ctx::Dataset(d)) => Ok(Src::Dataset(d)),
            (None, Ctx::Probe(p)) => Ok(Src::Probe(p)),
            (None, Ctx::Gate) => Err(format!(
                "`{}` must name its source in a gate check (e.g. `dataset.{}`)",
                text::term(t),
                text::metric(&t.metric)
            )),
            (Some(s), _) => {
                if let Some(d) = self.plan.dataset_index(s) {
                    Ok(Src::Dataset(d))
                } else if let Some(p) = self.plan.probe_index(s) {
                    Ok(Src::Probe(p))
                } else {
                    Err(format!("no dataset or probe named `{s}`"))
                }
            }
        }
    }

    fn term_value(
        &mut self,
        ctx: Ctx,
        t: &Term,
        hint: Hint,
        owner_done: bool,
        memo: &mut HashMap<usize, Arc<Snap>>,
    ) -> Result<V, NoValue> {
        let src = self.resolve_source(ctx, t).map_err(NoValue::Error)?;
        match src {
            Src::Probe(p) => {
                if t.filter.is_some() {
                    return Err(NoValue::Error("a probe has no rows to filter".into()));
                }
                let o = self.probe_outcome(p);
                match &t.metric {
                    Metric::ExitCode => match (o.exit_code, &o.error) {
                        (Some(c), _) => Ok(V::Num(c as f64)),
                        (None, Some(e)) => Err(NoValue::Error(e.clone())),
                        (None, None) => Err(NoValue::Error("no exit code".into())),
                    },
                    Metric::Value => match (o.value, &o.value_error, &o.error) {
                        (Some(v), _, _) => Ok(V::Num(v)),
                        (None, _, Some(e)) => Err(NoValue::Error(e.clone())),
                        (None, Some(e), None) => Err(NoValue::Error(e.clone())),
                        (None, None, None) => Err(NoValue::Error("no value".into())),
                    },
                    m => Err(NoValue::Error(format!(
                        "{} is a dataset metric; a probe has exit_code and value",
                        text::metric(m)
                    ))),
                }
            }
            Src::Dataset(d) => self.dataset_value(d, t, hint, owner_done, memo),
        }
    }

    fn dataset_value(
        &mut self,
        d: usize,
        t: &Term,
        hint: Hint,
        owner_done: bool,
        memo: &mut HashMap<usize, Arc<Snap>>,
    ) -> Result<V, NoValue> {
        let snap = self.snap(d, memo);
        match &t.metric {
            Metric::FileCount if t.filter.is_none() => {
                return match &snap.fatal {
                    Some(f) if snap.files.is_empty() => Err(NoValue::Error(f.clone())),
                    _ => Ok(V::Num(snap.files.len() as f64)),
                };
            }
            Metric::Bytes if t.filter.is_none() => {
                return match &snap.fatal {
                    Some(f) if snap.files.is_empty() => Err(NoValue::Error(f.clone())),
                    _ => Ok(V::Num(snap.files.iter().map(|(_, s)| s.0 as f64).sum())),
                };
            }
            Metric::FileCount | Metric::Bytes => {
                return Err(NoValue::Error(format!(
                    "{} cannot be filtered with `where`",
                    text::metric(&t.metric)
                )));
            }
            Metric::ExitCode | Metric::Value => {
                return Err(NoValue::Error(format!(
                    "{} is a probe metric; a dataset has row_count, sum(...), ...",
                    text::metric(&t.metric)
                )));
            }
            _ => {}
        }
        self.usable(d, &snap, owner_done)?;
        let need = &self.needs[d];
        let acc = snap.acc.as_ref().expect("usable").get();
        let missing = |col: &str| -> Result<usize, NoValue> {
            let slot = need.find_slot(col).expect("planned");
            match &snap.missing[slot] {
                Some((file, cols)) => Err(NoValue::Error(if cols.is_empty() {
                    format!(
                        "{file} has no columns (format {:?})",
                        self.plan.datasets[d].format
                    )
                } else {
                    format!(
                        "column `{col}` not found in {file} (columns: {})",
                        text::columns(cols)
                    )
                })),
                None => match &acc.unreadable[slot] {
                    Some(e) => Err(NoValue::Error(e.clone())),
                    None => Ok(slot),
                },
            }
        };
        if let Some(f) = &t.filter {
            missing(&f.column)?;
        }
        let g = need.find_group(t.filter.as_ref()).expect("planned");
        let group = &acc.groups[g];
        if let Some(e) = &group.filter_bad {
            return Err(NoValue::Error(format!(
                "in `{}`: {}",
                text::filter(t.filter.as_ref().unwrap()),
                e.msg
            )));
        }
        let col = |c: &str| -> Result<&super::metrics::ColAcc, NoValue> {
            let slot = missing(c)?;
            let i = need.groups[g]
                .cols
                .iter()
                .position(|(s, _)| *s == slot)
                .expect("planned");
            let ca = &group.cols[i];
            if let Some(e) = &ca.utf8_bad {
                return Err(NoValue::Error(e.msg.clone()));
            }
            Ok(ca)
        };
        let tuple = |cs: &Vec<String>| -> Result<&super::metrics::TupleAcc, NoValue> {
            let mut slots = vec![];
            for c in cs {
                col(c)?;
                slots.push(need.find_slot(c).expect("planned"));
            }
            let i = need.groups[g]
                .tuples
                .iter()
                .position(|s| *s == slots)
                .expect("planned");
            Ok(&group.tuples[i])
        };
        match &t.metric {
            Metric::RowCount => Ok(V::Num(group.rows as f64)),
            Metric::Sum(c) | Metric::Mean(c) => {
                let ca = col(c)?;
                if let Some(e) = &ca.num_bad {
                    return Err(NoValue::Error(e.msg.clone()));
                }
                if matches!(t.metric, Metric::Sum(_)) {
                    Ok(V::Num(ca.sum()))
                } else if ca.nonnull == 0 {
                    Err(NoValue::Error(format!(
                        "mean({c}): the column has no values"
                    )))
                } else {
                    Ok(V::Num(ca.sum() / ca.nonnull as f64))
                }
            }
            Metric::Min(c) | Metric::Max(c) => {
                let is_min = matches!(t.metric, Metric::Min(_));
                let ca = col(c)?;
                if ca.nonnull == 0 {
                    return Err(NoValue::Error(format!(
                        "{}: the column has no values",
                        text::metric(&t.metric)
                    )));
                }
                let as_num = || Ok(V::Num(if is_min { ca.nmin } else { ca.nmax }));
                let as_date = || Ok(V::Date(if is_min { ca.dmin } else { ca.dmax }));
                let as_str = || {
                    let b = if is_min { &ca.smin } else { &ca.smax };
                    Ok(V::Str(
                        String::from_utf8_lossy(b.as_deref().unwrap_or_default()).into_owned(),
                    ))
                };
                match hint {
                    Hint::Num => match &ca.num_bad {
                        Some(e) => Err(NoValue::Error(e.msg.clone())),
                        None => as_num(),
                    },
                    Hint::Date => match &ca.date_bad {
                        Some(e) => Err(NoValue::Error(e.msg.clone())),
                        None => as_date(),
                    },
                    Hint::Str => as_str(),
                    Hint::Any => {
                        if ca.num_bad.is_none() {
                            as_num()
                        } else if ca.date_bad.is_none() {
                            as_date()
                        } else {
                            as_str()
                        }
                    }
                }
            }
            Metric::NullCount(c) => Ok(V::Num(col(c)?.nulls as f64)),
            Metric::DistinctCount(cs) => Ok(V::Num(tuple(cs)?.set.len() as f64)),
            Metric::DuplicateCount(cs) => {
                let tu = tuple(cs)?;
                Ok(V::Num((tu.nonnull - tu.set.len() as u64) as f64))
            }
            Metric::FileCount | Metric::Bytes | Metric::ExitCode | Metric::Value => {
                unreachable!("handled above")
            }
        }
    }
}

fn set_novalue(r: &mut CheckResult, what: &str, nv: NoValue) {
    let (status, msg) = match nv {
        NoValue::Pending(m) => (CheckStatus::Pending, m),
        NoValue::Fail(m) => (CheckStatus::Fail, m),
        NoValue::Error(m) => (CheckStatus::Error, m),
    };
    r.status = status;
    r.value = Measured::Null;
    r.message = format!("{what}: {msg}");
}

/// Run a probe command: stdout and stderr captured, the whole process group killed
/// at the timeout; the first group of `pattern` (or the whole output) is the value.
pub fn run_command(
    argv: &[String],
    cwd: &Path,
    timeout: Duration,
    pattern: Option<&regex::Regex>,
) -> ProbeOutcome {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    let mut out = ProbeOutcome {
        exit_code: None,
        value: None,
        error: None,
        value_error: None,
    };
    let Some((prog, args)) = argv.split_first() else {
        out.error = Some("empty command".into());
        return out;
    };
    let child = Command::new(prog)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            out.error = Some(format!("cannot start `{}`: {e}", argv.join(" ")));
            return out;
        }
    };
    let (tx, rx) = std::sync::mpsc::channel::<(u8, Vec<u8>)>();
    for (tag, pipe) in [
        (
            0u8,
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ),
        (
            1u8,
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ),
    ] {
        if let Some(mut p) = pipe {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                // Keep at most 1 MB of output.
                let _ = (&mut p).take(1 << 20).read_to_end(&mut buf);
                let _ = std::io::copy(&mut p, &mut std::io::sink());
                let _ = tx.send((tag, buf));
            });
        }
    }
    drop(tx);
    let pid = child.id() as i32;
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() >= deadline => {
                // SAFETY: kill(2) on the probe's own process group.
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                }
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                out.error = Some(format!("waiting for the probe: {e}"));
                return out;
            }
        }
    };
    // Also stop anything it left behind in its group.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let grace = Instant::now() + Duration::from_secs(1);
    while let Ok((tag, b)) = rx.recv_timeout(grace.saturating_duration_since(Instant::now())) {
        if tag == 0 { stdout = b } else { stderr = b }
    }
    match status {
        None => {
            out.error = Some(format!(
                "timed out after {}",
                crate::duration::human(timeout)
            ));
            return out;
        }
        Some(s) => {
            use std::os::unix::process::ExitStatusExt;
            match (s.code(), s.signal()) {
                (Some(c), _) => out.exit_code = Some(c),
                (None, Some(sig)) => out.error = Some(format!("killed by signal {sig}")),
                _ => out.error = Some("ended without an exit code".into()),
            }
        }
    }
    let stdout = String::from_utf8_lossy(&stdout);
    let stderr = String::from_utf8_lossy(&stderr);
    match pattern {
        Some(re) => {
            let found = re.captures(&stdout).or_else(|| re.captures(&stderr));
            match found {
                Some(c) => {
                    let m = c.get(1).or_else(|| c.get(0)).map_or("", |m| m.as_str());
                    match super::metrics::parse_number(m.as_bytes()) {
                        Some(v) => out.value = Some(v),
                        None => {
                            out.value_error = Some(format!("pattern matched `{m}`, not a number"))
                        }
                    }
                }
                None => {
                    out.value_error =
                        Some(format!("pattern `{}` not found in the output", re.as_str()))
                }
            }
        }
        None => match super::metrics::parse_number(stdout.trim().as_bytes()) {
            Some(v) => out.value = Some(v),
            None => {
                out.value_error =
                    Some("the output is not a number (set `pattern` to pick the value)".into())
            }
        },
    }
    out
}
