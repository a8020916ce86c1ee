//! The measurement plan of a dataset: which columns, filters, tuples, key sets and
//! lists its checks need, planned once from every check that touches it.

use crate::checks::{Body, Check, Cmp, Filter, Literal, Metric, Operand, Term};

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
