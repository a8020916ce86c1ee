//! Answers the row groups' statistics give without decoding: the null count, minimum
//! and maximum of a date column whose checks ask nothing else of it. Used only where
//! they are exactly what a full read would give (see docs/checks.md): every row group
//! states its null count and, unless it is all null, an exact minimum and maximum, all
//! within years 0..=9999. The first row group that holds a date is still decoded: its
//! first value is what a sum of the column would name as "not a number".

use crate::checks::metrics::{ColAcc, Need};
use arrow_schema::DataType;
use parquet::basic::{LogicalType, Type as PhysicalType};
use parquet::file::metadata::ParquetMetaData;
use parquet::file::statistics::Statistics;

/// A column answered from its statistics.
pub(super) struct Summarised {
    pub slot: usize,
    /// The one row group to decode anyway: the first that holds a value.
    pub decoded: Option<usize>,
    /// Per row group.
    pub groups: Vec<Summary>,
}

/// One row group's statistics of a date column.
pub(super) struct Summary {
    pub nulls: u64,
    /// Days since 1970-01-01; `None` when every row is null.
    pub range: Option<(i32, i32)>,
}

/// The wanted columns (slot, root) that statistics answer, given the Arrow type of
/// each root.
pub(super) fn summarised(
    meta: &ParquetMetaData,
    types: &[DataType],
    need: &Need,
    wanted: &[(usize, usize)],
) -> Vec<Summarised> {
    let per_row = !need.inlists.is_empty()
        || !need.fks.is_empty()
        || !need.keysets.is_empty()
        || need.groups.iter().any(|g| !g.tuples.is_empty());
    if per_row {
        return vec![];
    }
    wanted
        .iter()
        .filter(|&&(slot, root)| types[root] == DataType::Date32 && only_counted(need, slot))
        .filter_map(|&(slot, root)| summarise(meta, root, slot))
        .collect()
}

/// Whether the checks ask of column `slot` only its nulls, minimum and maximum over
/// every row (no sum, no filter on it or over it).
fn only_counted(need: &Need, slot: usize) -> bool {
    let filtered = need.filters.iter().any(|(s, _)| *s == slot)
        || need.groups[1..]
            .iter()
            .any(|g| g.cols.iter().any(|(s, _)| *s == slot));
    let summed = need.groups[0]
        .cols
        .iter()
        .any(|(s, want)| *s == slot && want.sum);
    !filtered && !summed
}

fn summarise(meta: &ParquetMetaData, root: usize, slot: usize) -> Option<Summarised> {
    const FIRST: i32 = -719_528; // 0000-01-01
    const LAST: i32 = 2_932_896; // 9999-12-31
    let descr = meta.file_metadata().schema_descr();
    let leaf = (0..descr.num_columns()).find(|&l| descr.get_column_root_idx(l) == root)?;
    let column = descr.column(leaf);
    if column.physical_type() != PhysicalType::INT32
        || column
            .logical_type_ref()
            .is_some_and(|t| *t != LogicalType::Date)
    {
        return None;
    }
    let mut groups = vec![];
    let mut decoded = None;
    for (g, group) in meta.row_groups().iter().enumerate() {
        let rows = group.num_rows().max(0) as u64;
        // INT32 statistics are exact and signed in the old fields as in the new.
        let Some(Statistics::Int32(s)) = group.column(leaf).statistics() else {
            return None;
        };
        let nulls = s.null_count_opt()?;
        if nulls > rows {
            return None;
        }
        let range = match (s.min_opt(), s.max_opt()) {
            (Some(&lo), Some(&hi)) if FIRST <= lo && lo <= hi && hi <= LAST => Some((lo, hi)),
            (None, None) if nulls == rows => None,
            _ => return None,
        };
        if range.is_some() && decoded.is_none() {
            decoded = Some(g);
        }
        groups.push(Summary { nulls, range });
    }
    Some(Summarised {
        slot,
        decoded,
        groups,
    })
}

/// Fold one row group's summary of `rows` rows into the column's accumulator, as
/// decoding its dates would (the decoded first row group sets what names a row).
pub(super) fn fold(c: &mut ColAcc, s: &Summary, rows: u64) {
    c.nulls += s.nulls;
    c.nonnull += rows - s.nulls;
    if let (true, Some((lo, hi))) = (c.want.minmax, s.range) {
        super::batch::fold_date_range(c, lo, hi);
    }
}
