//! The [`Checker`]: answers the checks of datasets, probes and gates.
//!
//! Every dataset has one [`Need`] planned from all checks that touch it (its own, the
//! gates' source-qualified terms, other datasets' foreign keys into it). A file is
//! read once for that whole need; its result is kept until its size or mtime (or a
//! key set it was checked against) changes.

mod probe;
mod snapshot;
mod value;

use super::metrics::{Acc, Need};
use super::spec::{CheckPlan, CheckSpec};
use super::text;
use super::{
    Body, Check, CheckResult, CheckStatus, Cmp, Expected, Expr, Measured, Metric, Op, Operand, Term,
};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

pub use probe::{ProbeOutcome, run_command};
use snapshot::{CachedFile, Fingerprint, KeySetEntry, Snap};
use value::{Hint, V, cmp_v, hint_of, lit_v, op_holds};

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

pub struct Checker {
    plan: Arc<CheckPlan>,
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
    /// A checker for these datasets, probes and gates (`Checker::new(plan)` with the
    /// run's `Arc<Plan>` builds them).
    pub fn new(plan: impl Into<CheckPlan>) -> Self {
        let plan = Arc::new(plan.into());
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

    pub fn plan(&self) -> &Arc<CheckPlan> {
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
                r.provisional = !owner_done && d.owned;
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
            expected: Expected::Unstated,
            message: String::new(),
            provisional: false,
        };
        match &c.body {
            Body::Exists => self.eval_exists(ctx, &mut r, owner_done),
            Body::Compare { lhs, cmp } => {
                self.eval_compare(ctx, lhs, cmp, owner_done, memo, &mut r)
            }
            Body::InList { column, values } => {
                r.expected = Expected::OneOf(values.clone());
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
                r.expected = Expected::KeyIn {
                    dataset: dataset.clone(),
                    column: other_column.clone(),
                };
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
        r.expected = Expected::SomeFile;
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
        r.expected = Expected::of_cmp(cmp, meaning);
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
                r.expected = Expected::CompareTo {
                    op: *op,
                    other: e.clone(),
                    value: Some(rv.literal()),
                    meaning,
                };
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
