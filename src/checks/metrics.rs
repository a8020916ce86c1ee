//! What to measure in a dataset (a [`Need`], planned once from every check that
//! touches it) and the accumulators that measure it in one pass over its rows.
//!
//! Accumulators are mergeable: a file is read in chunks on several threads and the
//! chunk results are merged in file order; a glob dataset merges its files.

use super::{Body, Check, Cmp, Filter, Literal, Metric, Op, Operand, Term};

// ---------------------------------------------------------------- hashing

/// Values are hashed to 64 bits once; sets store the hashes (no per-row allocation).
/// With 64-bit hashes a collision among a few million keys has a probability around
/// 1e-7, which we accept for key and duplicate checks.
pub fn hash_bytes(b: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h: u64 = (b.len() as u64).wrapping_mul(K) ^ 0x2545_F491_4F6C_DD1D;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let v = u64::from_le_bytes(c.try_into().unwrap());
        h = (h ^ v).wrapping_mul(K).rotate_left(29);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
    }
    fmix(h)
}

fn fmix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// A set of 64-bit hashes: open addressing with linear probing in one flat array
/// (one cache line per lookup, and lookups can be prefetched). 0 marks an empty slot;
/// the hash 0 itself is kept in a flag.
#[derive(Debug, Clone, Default)]
pub struct HashSet64 {
    slots: Vec<u64>,
    len: usize,
    has_zero: bool,
}

impl HashSet64 {
    pub fn len(&self) -> usize {
        self.len + self.has_zero as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    /// Add `h`; true when it was not there.
    #[inline]
    pub fn insert(&mut self, h: u64) -> bool {
        if h == 0 {
            let new = !self.has_zero;
            self.has_zero = true;
            return new;
        }
        // Keep the load at most 1/2: short probe sequences.
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.mask();
        let mut i = h as usize & mask;
        loop {
            let s = self.slots[i];
            if s == 0 {
                self.slots[i] = h;
                self.len += 1;
                return true;
            }
            if s == h {
                return false;
            }
            i = (i + 1) & mask;
        }
    }

    #[inline]
    pub fn contains(&self, h: &u64) -> bool {
        let h = *h;
        if h == 0 {
            return self.has_zero;
        }
        if self.slots.is_empty() {
            return false;
        }
        let mask = self.mask();
        let mut i = h as usize & mask;
        loop {
            let s = self.slots[i];
            if s == h {
                return true;
            }
            if s == 0 {
                return false;
            }
            i = (i + 1) & mask;
        }
    }

    /// Ask the CPU to fetch the slot of `h` (for a lookup a few rows later).
    #[inline]
    pub fn prefetch(&self, h: u64) {
        #[cfg(target_arch = "x86_64")]
        if !self.slots.is_empty() {
            let i = h as usize & self.mask();
            // SAFETY: a prefetch of an address inside the slot array; it never faults.
            unsafe {
                use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
                _mm_prefetch::<_MM_HINT_T0>(self.slots.as_ptr().add(i) as *const i8);
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = h;
    }

    fn grow(&mut self) {
        self.reserve((self.slots.len()).max(8));
    }

    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.slots
            .iter()
            .copied()
            .filter(|h| *h != 0)
            .chain(self.has_zero.then_some(0))
    }

    /// Add every member of `other`.
    pub fn extend(&mut self, other: &HashSet64) {
        self.reserve(self.len + other.len());
        for h in other.iter() {
            self.insert(h);
        }
    }

    /// Make room for `n` members without growing again.
    pub fn reserve(&mut self, n: usize) {
        let want = (n * 2).next_power_of_two();
        if want > self.slots.len() {
            let old = std::mem::replace(&mut self.slots, vec![0; want]);
            self.len = 0;
            for h in old {
                if h != 0 {
                    self.insert(h);
                }
            }
        }
    }
}

// ---------------------------------------------------------------- values

/// Strict number: optional sign, digits, optional fraction and exponent; surrounding
/// spaces allowed; no `inf`/`nan`.
pub fn parse_number(b: &[u8]) -> Option<f64> {
    if let Some(x) = parse_simple(b) {
        return Some(x);
    }
    let b = b.trim_ascii();
    if b.is_empty()
        || !b
            .iter()
            .all(|c| matches!(c, b'0'..=b'9' | b'.' | b'-' | b'+' | b'e' | b'E'))
    {
        return None;
    }
    if !b.iter().any(u8::is_ascii_digit) {
        return None;
    }
    // All ASCII; overflow to infinity is not a number either.
    std::str::from_utf8(b)
        .ok()?
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
}

/// `[-]digits[.digits]` with at most 15 digits: the digits as an exact integer
/// divided by an exact power of ten, which rounds exactly like `str::parse`.
#[inline]
fn parse_simple(b: &[u8]) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    let mut m: u64 = 0;
    let mut frac: Option<usize> = None;
    let mut n = 0;
    for (i, &c) in digits.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                m = m * 10 + (c - b'0') as u64;
                n += 1;
            }
            b'.' if frac.is_none() && i + 1 < digits.len() && i > 0 => {
                frac = Some(digits.len() - i - 1)
            }
            _ => return None,
        }
    }
    if n > 15 {
        return None;
    }
    let x = m as f64 / POW10[frac.unwrap_or(0)];
    Some(if neg { -x } else { x })
}

/// `YYYY-MM-DD` (optionally followed by a time: `T...` or ` ...`) as `yyyymmdd`.
pub fn parse_date(b: &[u8]) -> Option<u32> {
    let b = b.trim_ascii();
    if b.len() < 10 || (b.len() > 10 && !matches!(b[10], b'T' | b' ')) {
        return None;
    }
    let d = |i: usize| -> Option<u32> {
        let c = b[i];
        c.is_ascii_digit().then(|| (c - b'0') as u32)
    };
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = d(0)? * 1000 + d(1)? * 100 + d(2)? * 10 + d(3)?;
    let m = d(5)? * 10 + d(6)?;
    let day = d(8)? * 10 + d(9)?;
    if !(1..=12).contains(&m) || day == 0 || day > days_in_month(y, m) {
        return None;
    }
    Some(y * 10000 + m * 100 + day)
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

pub fn date_key(d: chrono::NaiveDate) -> u32 {
    use chrono::Datelike;
    d.year() as u32 * 10000 + d.month() * 100 + d.day()
}

pub fn date_text(k: u32) -> String {
    format!("{:04}-{:02}-{:02}", k / 10000, k / 100 % 100, k % 100)
}

/// A cell shown in a message: lossy UTF-8, shortened.
pub fn show(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    if s.chars().count() > 40 {
        let t: String = s.chars().take(40).collect();
        format!("'{t}…'")
    } else {
        format!("'{s}'")
    }
}

// ---------------------------------------------------------------- the plan

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ColWant {
    pub sum: bool,
    pub minmax: bool,
}

#[derive(Debug, Clone, Default)]
pub struct GroupNeed {
    /// Slots measured in this group, with what to measure.
    pub cols: Vec<(usize, ColWant)>,
    /// Column tuples for distinct/duplicate counts.
    pub tuples: Vec<Vec<usize>>,
}

#[derive(Debug, Clone)]
pub struct FkNeed {
    pub slot: usize,
    pub dataset: usize,
    pub other_column: String,
}

/// Everything one dataset's files must be measured for.
#[derive(Debug, Clone)]
pub struct Need {
    /// Slot → column name.
    pub columns: Vec<String>,
    /// Group `i + 1` counts rows matching `filters[i]`; group 0 is every row.
    pub filters: Vec<(usize, Filter)>,
    pub groups: Vec<GroupNeed>,
    pub inlists: Vec<(usize, Vec<Literal>)>,
    pub fks: Vec<FkNeed>,
    /// Columns other datasets use as foreign keys: their value sets are kept.
    pub keysets: Vec<usize>,
}

impl Default for Need {
    fn default() -> Self {
        Need {
            columns: Vec::new(),
            filters: Vec::new(),
            groups: vec![GroupNeed::default()],
            inlists: Vec::new(),
            fks: Vec::new(),
            keysets: Vec::new(),
        }
    }
}

impl Need {
    pub fn slot(&mut self, col: &str) -> usize {
        match self.columns.iter().position(|c| c == col) {
            Some(i) => i,
            None => {
                self.columns.push(col.to_string());
                self.columns.len() - 1
            }
        }
    }
    pub fn find_slot(&self, col: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == col)
    }

    pub fn group(&mut self, filter: Option<&Filter>) -> usize {
        let Some(f) = filter else { return 0 };
        if let Some(i) = self.filters.iter().position(|(_, g)| g == f) {
            return i + 1;
        }
        let slot = self.slot(&f.column);
        self.filters.push((slot, f.clone()));
        self.groups.push(GroupNeed::default());
        self.filters.len()
    }
    pub fn find_group(&self, filter: Option<&Filter>) -> Option<usize> {
        match filter {
            None => Some(0),
            Some(f) => self.filters.iter().position(|(_, g)| g == f).map(|i| i + 1),
        }
    }

    fn want(&mut self, g: usize, col: &str, w: ColWant) {
        let slot = self.slot(col);
        let cols = &mut self.groups[g].cols;
        match cols.iter_mut().find(|(s, _)| *s == slot) {
            Some((_, have)) => {
                have.sum |= w.sum;
                have.minmax |= w.minmax;
            }
            None => cols.push((slot, w)),
        }
    }

    /// Add what one term over this dataset needs.
    pub fn add_term(&mut self, t: &Term) {
        let g = self.group(t.filter.as_ref());
        let none = ColWant::default();
        match &t.metric {
            Metric::Sum(c) | Metric::Mean(c) => self.want(
                g,
                c,
                ColWant {
                    sum: true,
                    minmax: false,
                },
            ),
            Metric::Min(c) | Metric::Max(c) => self.want(
                g,
                c,
                ColWant {
                    sum: false,
                    minmax: true,
                },
            ),
            Metric::NullCount(c) => self.want(g, c, none),
            Metric::DistinctCount(cs) | Metric::DuplicateCount(cs) => {
                let slots: Vec<usize> = cs.iter().map(|c| self.slot(c)).collect();
                for c in cs {
                    self.want(g, c, none);
                }
                if !self.groups[g].tuples.contains(&slots) {
                    self.groups[g].tuples.push(slots);
                }
            }
            Metric::RowCount
            | Metric::FileCount
            | Metric::Bytes
            | Metric::ExitCode
            | Metric::Value => {}
        }
    }

    /// Add what a check written in this dataset's `checks` needs (`resolve` maps a
    /// dataset name to its index, for foreign keys).
    pub fn add_check(&mut self, c: &Check, resolve: &dyn Fn(&str) -> Option<usize>) {
        match &c.body {
            Body::Exists => {}
            Body::Compare { lhs, cmp } => {
                for (_, t) in &lhs.terms {
                    if t.source.is_none() {
                        self.add_term(t);
                    }
                }
                if let Cmp::Op(_, Operand::Expr(e)) = cmp {
                    for (_, t) in &e.terms {
                        if t.source.is_none() {
                            self.add_term(t);
                        }
                    }
                }
            }
            Body::InList { column, values } => {
                let slot = self.slot(column);
                if !self.inlists.iter().any(|(s, v)| *s == slot && v == values) {
                    self.inlists.push((slot, values.clone()));
                }
            }
            Body::InDataset {
                column,
                dataset,
                other_column,
            } => {
                if let Some(d) = resolve(dataset) {
                    let slot = self.slot(column);
                    if !self.fks.iter().any(|f| {
                        f.slot == slot && f.dataset == d && f.other_column == *other_column
                    }) {
                        self.fks.push(FkNeed {
                            slot,
                            dataset: d,
                            other_column: other_column.clone(),
                        });
                    }
                }
            }
        }
    }

    pub fn add_keyset(&mut self, col: &str) {
        let slot = self.slot(col);
        if !self.keysets.contains(&slot) {
            self.keysets.push(slot);
        }
    }

    /// Only row counts (and file sizes) are needed: no column is read.
    pub fn rows_only(&self) -> bool {
        self.columns.is_empty()
    }
}

// ---------------------------------------------------------------- accumulators

/// A problem at a row (1-based data row, relative to the file once merged).
#[derive(Debug, Clone, PartialEq)]
pub struct RowErr {
    pub row: u64,
    pub msg: String,
}

#[derive(Debug, Clone)]
pub struct ColAcc {
    pub want: ColWant,
    pub nulls: u64,
    pub nonnull: u64,
    sum: f64,
    comp: f64,
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
            sum: 0.0,
            comp: 0.0,
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
        self.sum + self.comp
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
                        // Neumaier summation: exact enough for millions of cents.
                        let t = self.sum + x;
                        if self.sum.abs() >= x.abs() {
                            self.comp += (self.sum - t) + x;
                        } else {
                            self.comp += (x - t) + self.sum;
                        }
                        self.sum = t;
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

    /// Add a number to the sum (a reader that sums typed values itself).
    pub fn add_sum(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.comp += (self.sum - t) + x;
        } else {
            self.comp += (x - t) + self.sum;
        }
        self.sum = t;
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
        // Both compensations are kept, so a file read in chunks (plain, in parallel)
        // sums to what it sums to in one pass (compressed).
        let t = self.sum + o.sum;
        let lost = if self.sum.abs() >= o.sum.abs() {
            (self.sum - t) + o.sum
        } else {
            (o.sum - t) + self.sum
        };
        self.sum = t;
        self.comp += lost + o.comp;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_numbers_and_dates() {
        assert_eq!(parse_number(b"12.5"), Some(12.5));
        assert_eq!(parse_number(b" -3 "), Some(-3.0));
        assert_eq!(parse_number(b"1e3"), Some(1000.0));
        assert_eq!(parse_number(b"inf"), None);
        assert_eq!(parse_number(b"NaN"), None);
        assert_eq!(parse_number(b"1e999"), None);
        assert_eq!(parse_number(b"1,000"), None);
        assert_eq!(parse_number(b"-"), None);
        assert_eq!(parse_number(b"2025-01-01"), None);
        for t in [
            "0.1",
            "123.45",
            "-0.07",
            "4999.99",
            "1.",
            ".5",
            "9007199254740993",
            "0.000001",
        ] {
            assert_eq!(parse_number(t.as_bytes()), t.parse::<f64>().ok(), "{t}");
        }
        assert_eq!(parse_date(b"2025-02-28"), Some(20250228));
        assert_eq!(parse_date(b"2025-02-29"), None);
        assert_eq!(parse_date(b"2024-02-29"), Some(20240229));
        assert_eq!(parse_date(b"2025-09-01T10:00:00Z"), Some(20250901));
        assert_eq!(parse_date(b"2025-9-1"), None);
        assert_eq!(date_text(20250901), "2025-09-01");
    }

    #[test]
    fn hashes_differ() {
        let a = hash_bytes(b"DLR001");
        assert_ne!(a, hash_bytes(b"DLR002"));
        assert_ne!(hash_bytes(b""), hash_bytes(b"\0"));
        assert_ne!(hash_bytes(b"abcdefgh"), hash_bytes(b"abcdefgh\0"));
    }
}
