//! The dependency graph: `after` entries resolved to sessions and gates, the names
//! checks refer to, and dependency cycles reported with their path.

use super::reader::{Reader, Value, suggest};
use super::{Dep, DepKind, DepTarget, PlanError};
use crate::checks::{Body, Check, Cmp, Expr, Operand};
use std::collections::HashMap;

/// Every name of the plan, by kind, to its index.
#[derive(Default)]
pub(super) struct Names {
    pub(super) sessions: HashMap<String, usize>,
    pub(super) gates: HashMap<String, usize>,
    pub(super) datasets: HashMap<String, usize>,
    pub(super) probes: HashMap<String, usize>,
}

impl Names {
    /// Index each kind's names, given in definition order.
    pub(super) fn new(
        sessions: &[String],
        gates: &[String],
        datasets: &[String],
        probes: &[String],
    ) -> Names {
        let index = |list: &[String]| -> HashMap<String, usize> {
            list.iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i))
                .collect()
        };
        Names {
            sessions: index(sessions),
            gates: index(gates),
            datasets: index(datasets),
            probes: index(probes),
        }
    }
}

/// A dependency edge for cycle detection: node indices are sessions first, then gates.
pub(super) struct Edge {
    pub(super) from: usize,
    pub(super) to: usize,
    pub(super) at: usize,
}

/// The names a check refers to: every term's source and the dataset of
/// `column in dataset.column`.
pub(crate) fn check_sources(check: &Check) -> Vec<&str> {
    fn expr<'a>(e: &'a Expr, out: &mut Vec<&'a str>) {
        for (_, t) in &e.terms {
            if let Some(s) = &t.source {
                out.push(s);
            }
        }
    }
    let mut out = Vec::new();
    match &check.body {
        Body::Exists | Body::InList { .. } => {}
        Body::InDataset { dataset, .. } => out.push(dataset.as_str()),
        Body::Compare { lhs, cmp } => {
            expr(lhs, &mut out);
            if let Cmp::Op(_, Operand::Expr(e)) = cmp {
                expr(e, &mut out);
            }
        }
    }
    out
}

impl Reader<'_> {
    /// `after` entries: `x`, `x:started`, `x:finished`. Each adds an edge from node
    /// `from` (node ids: sessions first, then gates).
    pub(super) fn deps(
        &self,
        v: &Value,
        what: &str,
        names: &Names,
        from: usize,
        edges: &mut Vec<Edge>,
    ) -> Result<Vec<Dep>, PlanError> {
        let mut out = Vec::new();
        for s in self.strings(v, "after", what)? {
            let at = s.span.start;
            let (name, kind) = match s.text.rsplit_once(':') {
                Some((n, "started")) => (n, DepKind::Started),
                Some((n, "finished")) => (n, DepKind::Finished),
                Some((_, other)) => {
                    return Err(self.err(
                        at,
                        format!(
                            "`after` entry `{}` in {what}: unknown suffix `:{other}` (use `name`, `name:started` or `name:finished`)",
                            s.text
                        ),
                    ));
                }
                None => (s.text.as_str(), DepKind::Succeeded),
            };
            let target = if let Some(&i) = names.sessions.get(name) {
                DepTarget::Session(i)
            } else if let Some(&i) = names.gates.get(name) {
                if kind != DepKind::Succeeded {
                    return Err(self.err(
                        at,
                        format!(
                            "`after` entry `{}` in {what}: `:started` and `:finished` apply to sessions only; `{name}` is a gate (write `{name}`)",
                            s.text
                        ),
                    ));
                }
                DepTarget::Gate(i)
            } else {
                let mut all: Vec<&str> = names
                    .sessions
                    .keys()
                    .chain(names.gates.keys())
                    .map(String::as_str)
                    .collect();
                all.sort();
                let hint = match suggest(name, &all) {
                    Some(s) => format!(" (did you mean `{s}`?)"),
                    None => String::new(),
                };
                return Err(self.err(
                    at,
                    format!("`after` in {what}: unknown session or gate `{name}`{hint}"),
                ));
            };
            let to = match target {
                DepTarget::Session(i) => i,
                DepTarget::Gate(i) => names.sessions.len() + i,
            };
            edges.push(Edge { from, to, at });
            out.push(Dep {
                raw: s.text.clone(),
                target,
                kind,
            });
        }
        Ok(out)
    }

    /// A dependency cycle among `names` (sessions, then gates) is an error showing
    /// its path, at the entry that starts it.
    pub(super) fn check_cycles(
        &self,
        names: &[&str],
        edges: &[Edge],
        starts: &[usize],
    ) -> Result<(), PlanError> {
        let Some(cycle) = find_cycle(names.len(), edges, starts) else {
            return Ok(());
        };
        let mut path: Vec<&str> = cycle.iter().map(|e| names[e.from]).collect();
        path.push(names[cycle[0].from]);
        Err(self.err(
            cycle[0].at,
            format!(
                "dependency cycle: {} (each waits for the next, so none of them can ever start)",
                path.join(" -> ")
            ),
        ))
    }
}

/// The first cycle found, as edges, starting at the node defined first in the file.
fn find_cycle<'e>(n: usize, edges: &'e [Edge], starts: &[usize]) -> Option<Vec<&'e Edge>> {
    let mut adjacent: Vec<Vec<&Edge>> = vec![Vec::new(); n];
    for e in edges {
        adjacent[e.from].push(e);
    }
    let mut visit = vec![Visit::Unseen; n];
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| starts.get(i).copied().unwrap_or(usize::MAX));
    for &start in &order {
        if visit[start] != Visit::Unseen {
            continue;
        }
        // A depth-first walk with its own stack (a long chain cannot overflow the
        // thread's): the nodes on the path, each with how many of its edges were
        // tried, and the edges that lead along it.
        let mut nodes: Vec<(usize, usize)> = vec![(start, 0)];
        let mut path: Vec<&Edge> = Vec::new();
        visit[start] = Visit::OnPath;
        while let Some(&(node, next)) = nodes.last() {
            let Some(&e) = adjacent[node].get(next) else {
                visit[node] = Visit::Finished;
                nodes.pop();
                path.pop();
                continue;
            };
            if let Some(last) = nodes.last_mut() {
                last.1 += 1;
            }
            match visit[e.to] {
                Visit::Finished => {}
                Visit::Unseen => {
                    visit[e.to] = Visit::OnPath;
                    path.push(e);
                    nodes.push((e.to, 0));
                }
                Visit::OnPath => {
                    path.push(e);
                    let from = path.iter().rposition(|x| x.from == e.to).unwrap_or(0);
                    let mut cycle = path[from..].to_vec();
                    let first = (0..cycle.len())
                        .min_by_key(|&i| starts.get(cycle[i].from).copied().unwrap_or(usize::MAX))
                        .unwrap_or(0);
                    cycle.rotate_left(first);
                    return Some(cycle);
                }
            }
        }
    }
    None
}

/// Where the cycle search stands with a node.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Visit {
    Unseen,
    /// On the path being walked: an edge back to it closes a cycle.
    OnPath,
    /// Every path from it was walked without a cycle.
    Finished,
}
