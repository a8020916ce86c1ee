//! `[[gate]]`: checks that hold dependents until they pass (and are approved).

use super::check_refs::CheckHome;
use super::graph::{Edge, Names, check_sources};
use super::reader::{Reader, Table, suggest};
use super::{Approval, GateSpec, PlanError};

pub(super) const GATE_KEYS: &[&str] = &[
    "name",
    "after",
    "datasets",
    "probes",
    "checks",
    "approval",
    "allow_conditional",
];

impl Reader<'_> {
    /// Gate number `index` (from 0); its waits, including for the owners of the
    /// datasets it reads, add to `edges`.
    pub(super) fn gate(
        &self,
        index: usize,
        t: Table,
        name: &str,
        names: &Names,
        owners: &[Option<usize>],
        edges: &mut Vec<Edge>,
    ) -> Result<GateSpec, PlanError> {
        let what = format!("gate `{name}`");
        let node = names.sessions.len() + index;
        let after = match t.get("after") {
            Some(v) => self.deps(v, &what, names, node, edges)?,
            None => Vec::new(),
        };
        // A gate waits for the owners of the datasets it reads.
        let mut datasets = Vec::new();
        if let Some(v) = t.get("datasets") {
            for s in self.strings(v, "datasets", &what)? {
                let Some(&i) = names.datasets.get(&s.text) else {
                    let all: Vec<&str> = names.datasets.keys().map(String::as_str).collect();
                    let hint = suggest(&s.text, &all)
                        .map(|x| format!(" (did you mean `{x}`?)"))
                        .unwrap_or_default();
                    return Err(self.err(
                        s.span.start,
                        format!("`datasets` in {what}: unknown dataset `{}`{hint}", s.text),
                    ));
                };
                if let Some(o) = owners[i] {
                    edges.push(Edge {
                        from: node,
                        to: o,
                        at: s.span.start,
                    });
                }
                datasets.push(i);
            }
        }
        let mut probes = Vec::new();
        if let Some(v) = t.get("probes") {
            for s in self.strings(v, "probes", &what)? {
                let Some(&i) = names.probes.get(&s.text) else {
                    let all: Vec<&str> = names.probes.keys().map(String::as_str).collect();
                    let hint = suggest(&s.text, &all)
                        .map(|x| format!(" (did you mean `{x}`?)"))
                        .unwrap_or_default();
                    return Err(self.err(
                        s.span.start,
                        format!("`probes` in {what}: unknown probe `{}`{hint}", s.text),
                    ));
                };
                probes.push(i);
            }
        }
        let mut checks = Vec::new();
        for (c, s) in self.checks(t, &what, CheckHome::Gate, names)? {
            for src in check_sources(&c.check) {
                if let Some(o) = names.datasets.get(src).and_then(|&d| owners[d]) {
                    edges.push(Edge {
                        from: node,
                        to: o,
                        at: s.span.start,
                    });
                }
            }
            checks.push(c);
        }
        let approval = match t.get("approval") {
            Some(v) => self.one_of(
                v,
                "approval",
                &what,
                &[("auto", Approval::Auto), ("manual", Approval::Manual)],
            )?,
            None => Approval::Auto,
        };
        let allow_conditional = match t.get("allow_conditional") {
            Some(v) => self.boolean(v, "allow_conditional", &what)?,
            None => false,
        };
        Ok(GateSpec {
            name: name.to_string(),
            after,
            datasets,
            probes,
            checks,
            approval,
            allow_conditional,
        })
    }
}
