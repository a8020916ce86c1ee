//! The `checks` lists of datasets, probes and gates: each check parsed, every name it
//! uses resolved, and ranges that can never pass refused.

use super::CheckSpec;
use super::PlanError;
use super::graph::Names;
use super::reader::{Reader, Table};
use super::vars::Substituted;
use crate::checks::{self, Body, Check, Cmp, Literal, Metric, Operand};

/// Where a check is written: it decides which sources and measures it may use.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum CheckHome {
    Dataset,
    Probe,
    Gate,
}

impl Reader<'_> {
    pub(super) fn checks(
        &self,
        t: Table,
        what: &str,
        home: CheckHome,
        names: &Names,
    ) -> Result<Vec<(CheckSpec, Substituted)>, PlanError> {
        let Some(v) = t.get("checks") else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for s in self.strings(v, "checks", what)? {
            let check = checks::parse(&s.text).map_err(|e| {
                // Probe names may hold `-` and `.`, which a check cannot name as a source.
                let hint = names
                    .probes
                    .keys()
                    .find(|p| p.contains(['-', '.']) && s.text.contains(&format!("{p}.")))
                    .map(|p| {
                        format!(" (the probe name `{p}` cannot be used in a check: `-` and `.` read as operators; rename it with `_`)")
                    })
                    .unwrap_or_default();
                self.err(
                    self.sub_pos(&s, e.offset.min(s.text.len())),
                    format!("check `{}` in {what}: {}{hint}", s.text, e.message),
                )
            })?;
            self.check_refs(&check, &s, what, home, names)?;
            self.check_range(&check, &s, what)?;
            out.push((
                CheckSpec {
                    text: s.text.clone(),
                    check,
                },
                s,
            ));
        }
        Ok(out)
    }

    /// `between LOW and HIGH` with LOW above HIGH can never pass: say so now.
    pub(super) fn check_range(
        &self,
        check: &Check,
        s: &Substituted,
        what: &str,
    ) -> Result<(), PlanError> {
        let Body::Compare {
            cmp: Cmp::Between(low, high),
            ..
        } = &check.body
        else {
            return Ok(());
        };
        let empty = match (low, high) {
            (Literal::Number(a), Literal::Number(b)) => a > b,
            (Literal::Date(a), Literal::Date(b)) => a > b,
            _ => false,
        };
        if !empty {
            return Ok(());
        }
        let at = s.text.rfind("between").unwrap_or(0);
        Err(self.err(
            self.sub_pos(s, at),
            format!(
                "check `{}` in {what}: the range is empty (the low bound comes first: `between LOW and HIGH`)",
                s.text
            ),
        ))
    }

    /// Every name a check uses must exist, and fit where the check is.
    pub(super) fn check_refs(
        &self,
        check: &Check,
        s: &Substituted,
        what: &str,
        home: CheckHome,
        names: &Names,
    ) -> Result<(), PlanError> {
        // Best effort: point at the name in the check text.
        let at = |name: &str| {
            let off = s
                .text
                .find(&format!("{name}."))
                .or_else(|| s.text.find(name))
                .unwrap_or(0);
            self.sub_pos(s, off)
        };
        let here = |msg: String| {
            self.err(
                self.sub_pos(s, 0),
                format!("check `{}` in {what}: {msg}", s.text),
            )
        };
        match (&check.body, home) {
            (Body::Exists, CheckHome::Gate) | (Body::InList { .. }, CheckHome::Gate) => {
                return Err(here(
                    "this check needs a dataset: put it in the dataset's `checks` (or list the dataset in `datasets`)".into(),
                ));
            }
            (Body::InDataset { .. }, CheckHome::Gate) => {
                return Err(here(
                    "`column in dataset.column` belongs in the checking dataset's `checks`".into(),
                ));
            }
            (Body::Exists | Body::InList { .. } | Body::InDataset { .. }, CheckHome::Probe) => {
                return Err(here(
                    "a probe has no files or columns; probe checks use `exit_code` and `value`"
                        .into(),
                ));
            }
            (Body::InDataset { dataset, .. }, _) if !names.datasets.contains_key(dataset) => {
                return Err(self.err(
                    at(dataset),
                    format!("check `{}` in {what}: unknown dataset `{dataset}`", s.text),
                ));
            }
            _ => {}
        }
        if let Body::Compare { lhs, cmp } = &check.body {
            let mut terms: Vec<_> = lhs.terms.iter().map(|(_, t)| t).collect();
            if let Cmp::Op(_, Operand::Expr(e)) = cmp {
                terms.extend(e.terms.iter().map(|(_, t)| t));
            }
            for term in terms {
                let kind = match &term.source {
                    Some(src) if names.datasets.contains_key(src) => CheckHome::Dataset,
                    Some(src) if names.probes.contains_key(src) => CheckHome::Probe,
                    Some(src) => {
                        return Err(self.err(
                            at(src),
                            format!(
                                "check `{}` in {what}: unknown dataset or probe `{src}`",
                                s.text
                            ),
                        ));
                    }
                    None if home == CheckHome::Gate => {
                        return Err(here(
                            "in a gate's checks every term names its source, e.g. `leads.row_count`".into(),
                        ));
                    }
                    None => home,
                };
                let probe_metric = matches!(term.metric, Metric::ExitCode | Metric::Value);
                if probe_metric && kind == CheckHome::Dataset {
                    return Err(here(
                        "`exit_code` and `value` are measures of probes, not datasets".into(),
                    ));
                }
                if !probe_metric && kind == CheckHome::Probe {
                    return Err(here("a probe only has `exit_code` and `value`".into()));
                }
            }
        }
        Ok(())
    }
}
