//! What to measure in a dataset (a [`Need`], planned once from every check that
//! touches it) and the accumulators that measure it in one pass over its rows.
//!
//! Accumulators are mergeable: a file is read in chunks on several threads and the
//! chunk results are merged in file order; a glob dataset merges its files.

use super::{Filter, Literal, Op};

mod hash;
mod need;
mod values;

use hash::fmix;
pub use hash::{HashSet64, hash_bytes};
pub use need::{ColWant, FkNeed, GroupNeed, Need};
pub use values::{date_key, date_text, date_value, parse_date, parse_number, show};

/// A problem at a row (1-based data row, relative to the file once merged).
#[derive(Debug, Clone, PartialEq)]
pub struct RowErr {
    pub row: u64,
    pub msg: String,
}

/// Neumaier summation: sums of millions of cents stay exact enough, and partial sums
/// (a file's chunks read in parallel, Parquet batches) combine to what one pass gives.
#[derive(Debug, Clone, Copy, Default)]
pub struct Neumaier {
    sum: f64,
    /// What rounding lost so far.
    comp: f64,
}

impl Neumaier {
    #[inline]
    pub fn add(&mut self, x: f64) {
        let (t, lost) = fast_two_sum(self.sum, x);
        self.sum = t;
        self.comp += lost;
    }

    /// Add another partial sum; both compensations are kept, so a file read in chunks
    /// (plain, in parallel) sums to what it sums to in one pass (compressed).
    pub fn merge(&mut self, o: Neumaier) {
        let (t, lost) = fast_two_sum(self.sum, o.sum);
        self.sum = t;
        self.comp += lost + o.comp;
    }

    pub fn value(&self) -> f64 {
        self.sum + self.comp
    }
}

/// `a + b` rounded, and what the rounding lost.
#[inline]
fn fast_two_sum(a: f64, b: f64) -> (f64, f64) {
    let t = a + b;
    let lost = if a.abs() >= b.abs() {
        (a - t) + b
    } else {
        (b - t) + a
    };
    (t, lost)
}

#[derive(Debug, Clone)]
pub struct ColAcc {
    pub want: ColWant,
    pub nulls: u64,
    pub nonnull: u64,
    sum: Neumaier,
    /// First value that is not a number (sum/mean error; min/max fall back to dates).
    pub num_bad: Option<RowErr>,
    pub nmin: f64,
    pub nmax: f64,
    pub date_bad: Option<RowErr>,
    pub dmin: u32,
    pub dmax: u32,
    pub smin: Option<Vec<u8>>,
    pub smax: Option<Vec<u8>>,
    /// Invalid UTF-8 in this column: every check on it errors.
    pub utf8_bad: Option<RowErr>,
}

impl ColAcc {
    fn new(want: ColWant) -> Self {
        ColAcc {
            want,
            nulls: 0,
            nonnull: 0,
            sum: Neumaier::default(),
            num_bad: None,
            nmin: f64::INFINITY,
            nmax: f64::NEG_INFINITY,
            date_bad: None,
            dmin: u32::MAX,
            dmax: 0,
            smin: None,
            smax: None,
            utf8_bad: None,
        }
    }

    pub fn sum(&self) -> f64 {
        self.sum.value()
    }

    #[inline]
    pub fn add(&mut self, row: u64, v: Option<&[u8]>) {
        let Some(v) = v else {
            self.nulls += 1;
            return;
        };
        self.nonnull += 1;
        if self.utf8_bad.is_none() && !v.is_ascii() && std::str::from_utf8(v).is_err() {
            self.utf8_bad = Some(RowErr {
                row,
                msg: format!("invalid UTF-8 in value {}", show(v)),
            });
        }
        if !(self.want.sum || self.want.minmax) {
            return;
        }
        if self.num_bad.is_none() {
            match parse_number(v) {
                Some(x) => {
                    if self.want.sum {
                        self.sum.add(x);
                    }
                    if self.want.minmax {
                        self.nmin = self.nmin.min(x);
                        self.nmax = self.nmax.max(x);
                    }
                }
                None => {
                    self.num_bad = Some(RowErr {
                        row,
                        msg: format!("{} is not a number", show(v)),
                    })
                }
            }
        }
        if self.want.minmax {
            if self.date_bad.is_none() {
                match parse_date(v) {
                    Some(d) => {
                        self.dmin = self.dmin.min(d);
                        self.dmax = self.dmax.max(d);
                    }
                    None => {
                        self.date_bad = Some(RowErr {
                            row,
                            msg: format!("{} is not a date (YYYY-MM-DD)", show(v)),
                        })
                    }
                }
            }
            if self.smin.as_deref().is_none_or(|m| v < m) {
                self.smin = Some(v.to_vec());
            }
            if self.smax.as_deref().is_none_or(|m| v > m) {
                self.smax = Some(v.to_vec());
            }
        }
    }

    /// The running sum, for a reader that sums typed values itself.
    pub fn sum_mut(&mut self) -> &mut Neumaier {
        &mut self.sum
    }

    fn shift(&mut self, by: u64) {
        for e in [&mut self.num_bad, &mut self.date_bad, &mut self.utf8_bad]
            .into_iter()
            .flatten()
        {
            e.row += by;
        }
    }

    fn merge(&mut self, o: ColAcc) {
        self.nulls += o.nulls;
        self.nonnull += o.nonnull;
        self.sum.merge(o.sum);
        self.num_bad = self.num_bad.take().or(o.num_bad);
        self.date_bad = self.date_bad.take().or(o.date_bad);
        self.utf8_bad = self.utf8_bad.take().or(o.utf8_bad);
        self.nmin = self.nmin.min(o.nmin);
        self.nmax = self.nmax.max(o.nmax);
        self.dmin = self.dmin.min(o.dmin);
        self.dmax = self.dmax.max(o.dmax);
        if let Some(m) = o.smin
            && self.smin.as_ref().is_none_or(|s| m < *s)
        {
            self.smin = Some(m);
        }
        if let Some(m) = o.smax
            && self.smax.as_ref().is_none_or(|s| m > *s)
        {
            self.smax = Some(m);
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct TupleAcc {
    /// Tuples with at least one non-null member.
    pub nonnull: u64,
    pub set: HashSet64,
}

#[derive(Debug, Clone, Default)]
pub struct GroupAcc {
    pub rows: u64,
    /// Parallel to `GroupNeed::cols`.
    pub cols: Vec<ColAcc>,
    pub tuples: Vec<TupleAcc>,
    /// The filter could not be evaluated (e.g. a non-number compared with a number).
    pub filter_bad: Option<RowErr>,
}

/// Values that failed an `in` check: how many, and the first few.
#[derive(Debug, Clone, Default)]
pub struct Offenders {
    pub count: u64,
    pub first: Vec<(u64, String)>,
}

const FIRST_FEW: usize = 5;

impl Offenders {
    fn add(&mut self, row: u64, v: &[u8]) {
        self.count += 1;
        if self.first.len() < FIRST_FEW {
            self.first.push((row, show(v)));
        }
    }
    fn shift(&mut self, by: u64) {
        for (r, _) in &mut self.first {
            *r += by;
        }
    }
    fn merge(&mut self, o: Offenders) {
        self.count += o.count;
        for f in o.first {
            if self.first.len() < FIRST_FEW {
                self.first.push(f);
            }
        }
    }
}

/// A set of key values (hashes of their bytes).
pub type KeySet = HashSet64;

/// Per-row context: the plan and the key sets of foreign keys (parallel to `Need::fks`).
pub struct Ctx<'a> {
    pub need: &'a Need,
    pub fk_sets: &'a [&'a KeySet],
}

/// Prepared `in (...)` list.
struct ListMatch {
    strs: Vec<Vec<u8>>,
    nums: Vec<f64>,
    dates: Vec<u32>,
}

impl ListMatch {
    fn new(values: &[Literal]) -> Self {
        let mut m = ListMatch {
            strs: vec![],
            nums: vec![],
            dates: vec![],
        };
        for v in values {
            match v {
                Literal::Str(s) => m.strs.push(s.as_bytes().to_vec()),
                Literal::Number(n) => m.nums.push(*n),
                Literal::Date(d) => m.dates.push(date_key(*d)),
            }
        }
        m
    }
    fn matches(&self, v: &[u8]) -> bool {
        self.strs.iter().any(|s| s == v)
            || (!self.nums.is_empty() && parse_number(v).is_some_and(|x| self.nums.contains(&x)))
            || (!self.dates.is_empty() && parse_date(v).is_some_and(|d| self.dates.contains(&d)))
    }
}

/// All accumulators for one file (or chunk, or merged dataset).
#[derive(Debug, Clone, Default)]
pub struct Acc {
    pub rows: u64,
    pub groups: Vec<GroupAcc>,
    pub inlists: Vec<Offenders>,
    pub fks: Vec<Offenders>,
    /// Shared (not copied) once the read is done: the checker hands them out as they are.
    pub keysets: Vec<std::sync::Arc<KeySet>>,
    /// Foreign-key lookups in flight: (hash, row, first bytes of the value, their length).
    fk_pending: Vec<std::collections::VecDeque<FkPending>>,
    /// Key-set inserts in flight.
    ks_pending: Vec<std::collections::VecDeque<u64>>,
    /// Per slot: the column is there but cannot be decoded (nested, an unsupported
    /// type or encoding); every check on it errors with this.
    pub unreadable: Vec<Option<String>>,
    /// Worth telling with the row count (e.g. a Parquet footer that disagrees with its
    /// row groups).
    pub notes: Vec<String>,
}

type FkPending = (u64, u64, [u8; 48], u8);

/// How many rows a foreign-key lookup trails its prefetch.
const FK_LAG: usize = 12;

/// Per-thread helpers that should not be rebuilt per row.
pub struct RowState {
    lists: Vec<ListMatch>,
}

impl RowState {
    pub fn new(need: &Need) -> Self {
        RowState {
            lists: need
                .inlists
                .iter()
                .map(|(_, v)| ListMatch::new(v))
                .collect(),
        }
    }
}

pub fn filter_matches(f: &Filter, v: Option<&[u8]>) -> Result<bool, String> {
    let Some(v) = v else { return Ok(false) };
    use std::cmp::Ordering;
    let ord: Ordering = match &f.value {
        Literal::Str(s) => v.cmp(s.as_bytes()),
        Literal::Number(n) => match parse_number(v) {
            Some(x) => x.partial_cmp(n).unwrap_or(Ordering::Less),
            None => return Err(format!("{} is not a number", show(v))),
        },
        Literal::Date(d) => match parse_date(v) {
            Some(x) => x.cmp(&date_key(*d)),
            None => return Err(format!("{} is not a date (YYYY-MM-DD)", show(v))),
        },
    };
    Ok(match f.op {
        Op::Eq => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
    })
}

fn tuple_hash<'c>(slots: &[usize], cell: &impl Fn(usize) -> Option<&'c [u8]>) -> Option<u64> {
    if slots.len() == 1 {
        return cell(slots[0]).map(hash_bytes);
    }
    let mut any = false;
    let mut h: u64 = 0x1234_5678;
    for &s in slots {
        let x = match cell(s) {
            Some(v) => {
                any = true;
                hash_bytes(v)
            }
            None => 0x9e37_79b9,
        };
        h = fmix(h.rotate_left(17) ^ x);
    }
    any.then_some(h)
}

impl Acc {
    pub fn new(need: &Need) -> Self {
        Acc {
            rows: 0,
            groups: need
                .groups
                .iter()
                .map(|g| GroupAcc {
                    rows: 0,
                    cols: g.cols.iter().map(|(_, w)| ColAcc::new(*w)).collect(),
                    tuples: g.tuples.iter().map(|_| TupleAcc::default()).collect(),
                    filter_bad: None,
                })
                .collect(),
            inlists: need.inlists.iter().map(|_| Offenders::default()).collect(),
            fks: need.fks.iter().map(|_| Offenders::default()).collect(),
            keysets: need.keysets.iter().map(|_| Default::default()).collect(),
            fk_pending: need.fks.iter().map(|_| Default::default()).collect(),
            ks_pending: need.keysets.iter().map(|_| Default::default()).collect(),
            unreadable: vec![None; need.columns.len()],
            notes: Vec::new(),
        }
    }

    /// Count `n` rows without looking at them (no columns needed).
    pub fn add_rows(&mut self, n: u64) {
        self.rows += n;
        self.groups[0].rows += n;
    }

    /// One data row; `cell(slot)` is the value of a needed column (`None` = null).
    #[inline]
    pub fn row<'c>(
        &mut self,
        ctx: &Ctx<'_>,
        st: &RowState,
        cell: impl Fn(usize) -> Option<&'c [u8]>,
    ) {
        self.rows += 1;
        let row = self.rows;
        let need = ctx.need;
        for (gi, (g, gn)) in self.groups.iter_mut().zip(&need.groups).enumerate() {
            if gi > 0 {
                let (slot, f) = &need.filters[gi - 1];
                match filter_matches(f, cell(*slot)) {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(msg) => {
                        if g.filter_bad.is_none() {
                            g.filter_bad = Some(RowErr { row, msg });
                        }
                        continue;
                    }
                }
            }
            g.rows += 1;
            for (c, (slot, _)) in g.cols.iter_mut().zip(&gn.cols) {
                c.add(row, cell(*slot));
            }
            for (t, slots) in g.tuples.iter_mut().zip(&gn.tuples) {
                if let Some(h) = tuple_hash(slots, &cell) {
                    t.nonnull += 1;
                    t.set.insert(h);
                }
            }
        }
        for ((o, (slot, _)), lm) in self.inlists.iter_mut().zip(&need.inlists).zip(&st.lists) {
            if let Some(v) = cell(*slot)
                && !lm.matches(v)
            {
                o.add(row, v);
            }
        }
        for (i, fk) in need.fks.iter().enumerate() {
            if let Some(v) = cell(fk.slot) {
                // Look the key up FK_LAG rows later, once its slot is in cache.
                let h = hash_bytes(v);
                let set = ctx.fk_sets[i];
                set.prefetch(h);
                let mut keep = [0u8; 48];
                let n = v.len().min(48);
                keep[..n].copy_from_slice(&v[..n]);
                let q = &mut self.fk_pending[i];
                q.push_back((h, row, keep, n as u8));
                if q.len() > FK_LAG
                    && let Some((h, r, k, n)) = q.pop_front()
                    && !set.contains(&h)
                {
                    self.fks[i].add(r, &k[..n as usize]);
                }
            }
        }
        for (i, slot) in need.keysets.iter().enumerate() {
            if let Some(v) = cell(*slot) {
                // Insert FK_LAG rows later, once the slot is in cache.
                let h = hash_bytes(v);
                let set = std::sync::Arc::make_mut(&mut self.keysets[i]);
                set.prefetch(h);
                let q = &mut self.ks_pending[i];
                q.push_back(h);
                if q.len() > FK_LAG
                    && let Some(h) = q.pop_front()
                {
                    set.insert(h);
                }
            }
        }
    }

    /// Expect about `rows` rows in all: key sets (usually one key per row) are sized
    /// once instead of growing step by step.
    pub fn expect_rows(&mut self, rows: u64) {
        // Capped: a key column with few distinct values would waste the space.
        let rows = rows.min(1 << 22) as usize;
        for k in &mut self.keysets {
            std::sync::Arc::make_mut(k).reserve(rows);
        }
    }

    /// Resolve the foreign-key lookups still in flight. Called at the end of a read.
    pub fn finish(&mut self, ctx: &Ctx<'_>) {
        for (k, q) in self.keysets.iter_mut().zip(&mut self.ks_pending) {
            let k = std::sync::Arc::make_mut(k);
            for h in q.drain(..) {
                k.insert(h);
            }
        }
        for (i, q) in self.fk_pending.iter_mut().enumerate() {
            while let Some((h, r, k, n)) = q.pop_front() {
                if !ctx.fk_sets[i].contains(&h) {
                    self.fks[i].add(r, &k[..n as usize]);
                }
            }
        }
    }

    /// Make row numbers of errors relative to a start `by` rows earlier.
    pub fn shift(&mut self, by: u64) {
        for g in &mut self.groups {
            for c in &mut g.cols {
                c.shift(by);
            }
            if let Some(e) = &mut g.filter_bad {
                e.row += by;
            }
        }
        for o in self.inlists.iter_mut().chain(self.fks.iter_mut()) {
            o.shift(by);
        }
    }

    /// Append the accumulators of the rows that follow (already shifted).
    pub fn merge(&mut self, o: Acc) {
        self.rows += o.rows;
        for (a, b) in self.unreadable.iter_mut().zip(o.unreadable) {
            *a = a.take().or(b);
        }
        self.notes.extend(o.notes);
        for (g, og) in self.groups.iter_mut().zip(o.groups) {
            g.rows += og.rows;
            g.filter_bad = g.filter_bad.take().or(og.filter_bad);
            for (c, oc) in g.cols.iter_mut().zip(og.cols) {
                c.merge(oc);
            }
            for (t, ot) in g.tuples.iter_mut().zip(og.tuples) {
                t.nonnull += ot.nonnull;
                if t.set.len() < ot.set.len() {
                    let small = std::mem::replace(&mut t.set, ot.set);
                    t.set.extend(&small);
                } else {
                    t.set.extend(&ot.set);
                }
            }
        }
        for (a, b) in self.inlists.iter_mut().zip(o.inlists) {
            a.merge(b);
        }
        for (a, b) in self.fks.iter_mut().zip(o.fks) {
            a.merge(b);
        }
        for (a, b) in self.keysets.iter_mut().zip(o.keysets) {
            if a.len() < b.len() {
                let small = std::mem::replace(a, b);
                std::sync::Arc::make_mut(a).extend(&small);
            } else {
                std::sync::Arc::make_mut(a).extend(&b);
            }
        }
    }
}
