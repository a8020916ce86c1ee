//! The static schedule of a plan: which sessions and gates can start together, and
//! the summary `flightdeck validate` prints. Pure functions over a validated [`Plan`].

use crate::duration::human;
use crate::plan::{Approval, CommandSpec, DepKind, DepTarget, Plan, RestartPolicy};
use std::fmt::Write as _;

/// A session or a gate.
pub type Node = DepTarget;

/// Sessions and gates in waves: wave 1 waits for nothing; every node of wave k waits
/// only for nodes of earlier waves (a `:started` dependency also counts as earlier,
/// which is simple and never wrong). Within a wave: sessions in plan order, then gates.
pub fn waves(plan: &Plan) -> Vec<Vec<Node>> {
    let ns = plan.sessions.len();
    let n = ns + plan.gates.len();
    let node = |i: usize| {
        if i < ns {
            Node::Session(i)
        } else {
            Node::Gate(i - ns)
        }
    };
    let id = |t: Node| match t {
        Node::Session(i) => i,
        Node::Gate(i) => ns + i,
    };
    // level[i] = 1 + max(level of what i waits for); a loaded plan has no cycles, but
    // be safe: a node met again while being computed counts as level 0.
    let mut level: Vec<Option<usize>> = vec![None; n];
    let mut visiting = vec![false; n];
    fn compute(
        i: usize,
        deps: &[Vec<usize>],
        level: &mut [Option<usize>],
        visiting: &mut [bool],
    ) -> usize {
        if let Some(l) = level[i] {
            return l;
        }
        if visiting[i] {
            return 0;
        }
        visiting[i] = true;
        let l = 1 + deps[i]
            .iter()
            .map(|&d| compute(d, deps, level, visiting))
            .max()
            .unwrap_or(0);
        visiting[i] = false;
        level[i] = Some(l);
        l
    }
    let deps: Vec<Vec<usize>> = (0..n)
        .map(|i| {
            plan.waits_for(node(i))
                .into_iter()
                .map(|(t, _)| id(t))
                .collect()
        })
        .collect();
    for i in 0..n {
        compute(i, &deps, &mut level, &mut visiting);
    }
    let depth = level.iter().flatten().copied().max().unwrap_or(0);
    let mut out = vec![Vec::new(); depth];
    for (i, l) in level.iter().enumerate() {
        if let Some(l) = l {
            out[l - 1].push(node(i));
        }
    }
    out
}

/// What a node waits for, leaving out a gate's implicit waits for dataset owners
/// that its explicit `after` entries already imply (they only add noise).
fn shown_waits(plan: &Plan, n: Node) -> Vec<(Node, DepKind)> {
    let all = plan.waits_for(n);
    let explicit: Vec<(Node, DepKind)> = match n {
        Node::Session(i) => &plan.sessions[i].after,
        Node::Gate(i) => &plan.gates[i].after,
    }
    .iter()
    .map(|d| (d.target, d.kind))
    .collect();
    // Nodes certainly ended once the explicit entries are met: an entry that waits
    // for an end, and (through waits for ends) whatever anything started waited for.
    let ended_deps = |x: Node| -> Vec<Node> {
        plan.waits_for(x)
            .into_iter()
            .filter(|(_, k)| *k != DepKind::Started)
            .map(|(t, _)| t)
            .collect()
    };
    let mut ended: Vec<Node> = Vec::new();
    let mut stack: Vec<Node> = Vec::new();
    for &(t, k) in &explicit {
        if k != DepKind::Started {
            stack.push(t);
        }
        stack.extend(ended_deps(t));
    }
    while let Some(x) = stack.pop() {
        if !ended.contains(&x) {
            ended.push(x);
            stack.extend(ended_deps(x));
        }
    }
    all.into_iter()
        .filter(|(t, _)| explicit.iter().any(|(e, _)| e == t) || !ended.contains(t))
        .collect()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn node_label(plan: &Plan, n: Node) -> String {
    match n {
        Node::Session(i) => plan.sessions[i].name.clone(),
        Node::Gate(i) => format!("gate {}", plan.gates[i].name),
    }
}

fn dep_label(plan: &Plan, t: Node, kind: DepKind) -> String {
    let name = plan.node_name(t);
    match kind {
        DepKind::Succeeded => name.to_string(),
        DepKind::Started => format!("{name}:started"),
        DepKind::Finished => format!("{name}:finished"),
    }
}

fn shorten(s: &str, max: usize) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// What `flightdeck validate` prints: the plan, its schedule wave by wave, and what
/// each session, dataset, probe and gate is.
pub fn describe(plan: &Plan) -> String {
    let mut o = String::new();
    let checks: usize = plan.datasets.iter().map(|d| d.checks.len()).sum::<usize>()
        + plan.probes.iter().map(|p| p.checks.len()).sum::<usize>()
        + plan.gates.iter().map(|g| g.checks.len()).sum::<usize>();
    let _ = writeln!(o, "plan      {}", plan.name);
    let _ = writeln!(o, "file      {}", plan.file.display());
    let _ = writeln!(o, "root      {}", plan.root.display());
    let _ = writeln!(o, "records   {}", plan.records.display());
    let _ = writeln!(
        o,
        "contents  {}, {}, {}, {}, {}",
        plural(plan.sessions.len(), "session", "sessions"),
        plural(plan.datasets.len(), "dataset", "datasets"),
        plural(plan.probes.len(), "probe", "probes"),
        plural(plan.gates.len(), "gate", "gates"),
        plural(checks, "check", "checks"),
    );
    let _ = writeln!(
        o,
        "parallel  {}",
        match plan.max_parallel {
            Some(n) => format!(
                "at most {} at once (max_parallel)",
                plural(n, "session", "sessions")
            ),
            None => "no limit".to_string(),
        }
    );
    let _ = writeln!(
        o,
        "logs      at most {} per session (log_limit)",
        crate::duration::human_size(plan.log_limit)
    );
    if let Some(n) = &plan.notify {
        let _ = writeln!(o, "notify    $ {}", shorten(n, 60));
    }

    let _ = writeln!(o, "\nschedule");
    let ws = waves(plan);
    if ws.is_empty() {
        let _ = writeln!(o, "  (nothing to run)");
    }
    for (k, wave) in ws.iter().enumerate() {
        let members: Vec<String> = wave.iter().map(|&n| node_label(plan, n)).collect();
        let mut after: Vec<String> = Vec::new();
        for &n in wave {
            for (t, kind) in shown_waits(plan, n) {
                let l = dep_label(plan, t, kind);
                if !after.contains(&l) {
                    after.push(l);
                }
            }
        }
        let _ = write!(o, "  wave {}: {}", k + 1, members.join(", "));
        if !after.is_empty() {
            let _ = write!(o, "  (after {})", after.join(", "));
        }
        o.push('\n');
    }

    if !plan.sessions.is_empty() {
        let _ = writeln!(o, "\nsessions");
        let width = plan
            .sessions
            .iter()
            .map(|s| s.name.len())
            .max()
            .unwrap_or(0);
        for s in &plan.sessions {
            let mut tags = Vec::new();
            if let Some(p) = &s.phase {
                tags.push(p.clone());
            }
            match s.restart {
                RestartPolicy::Never => {}
                RestartPolicy::OnFailure => {
                    tags.push(format!("restart on-failure x{}", s.max_restarts))
                }
                RestartPolicy::Always => tags.push(format!("restart always x{}", s.max_restarts)),
            }
            if let Some(t) = s.timeout {
                tags.push(format!("timeout {}", human(t)));
            }
            if let Some(b) = &s.worktree {
                tags.push(format!("worktree {b}"));
            }
            if s.done_when.is_some() {
                tags.push("done_when".into());
            }
            if s.agent != crate::plan::AgentKind::None {
                tags.push(format!("agent {}", s.agent.name()));
            }
            let cmd = match &s.command {
                CommandSpec::Shell(c) => c.clone(),
                CommandSpec::Argv(v) => v.join(" "),
            };
            let _ = write!(
                o,
                "  {:>2} {:<width$}  $ {}",
                s.number,
                s.name,
                shorten(&cmd, 60)
            );
            if !tags.is_empty() {
                let _ = write!(o, "  [{}]", tags.join(", "));
            }
            o.push('\n');
        }
    }

    if !plan.datasets.is_empty() {
        let _ = writeln!(o, "\ndatasets");
        let width = plan
            .datasets
            .iter()
            .map(|d| d.name.len())
            .max()
            .unwrap_or(0);
        for d in &plan.datasets {
            let owner = match d.owner {
                Some(i) => format!(", owner {}", plan.sessions[i].name),
                None => String::new(),
            };
            let _ = writeln!(
                o,
                "  {:<width$}  {} ({}{owner}), {}",
                d.name,
                d.path,
                format!("{:?}", d.format).to_lowercase(),
                plural(d.checks.len(), "check", "checks"),
            );
        }
    }

    if !plan.probes.is_empty() {
        let _ = writeln!(o, "\nprobes");
        let width = plan.probes.iter().map(|p| p.name.len()).max().unwrap_or(0);
        for p in &plan.probes {
            let _ = writeln!(
                o,
                "  {:<width$}  $ {}  (timeout {}, {})",
                p.name,
                shorten(&p.command, 50),
                human(p.timeout),
                plural(p.checks.len(), "check", "checks"),
            );
        }
    }

    if !plan.gates.is_empty() {
        let _ = writeln!(o, "\ngates");
        let width = plan.gates.iter().map(|g| g.name.len()).max().unwrap_or(0);
        for g in &plan.gates {
            let mut parts = Vec::new();
            if !g.datasets.is_empty() {
                let names: Vec<&str> = g
                    .datasets
                    .iter()
                    .map(|&d| plan.datasets[d].name.as_str())
                    .collect();
                parts.push(format!("datasets {}", names.join(", ")));
            }
            if !g.probes.is_empty() {
                let names: Vec<&str> = g
                    .probes
                    .iter()
                    .map(|&p| plan.probes[p].name.as_str())
                    .collect();
                parts.push(format!("probes {}", names.join(", ")));
            }
            parts.push(plural(g.checks.len(), "own check", "own checks"));
            if g.approval == Approval::Manual {
                parts.push("manual approval".into());
            }
            if g.allow_conditional {
                parts.push("CONDITIONAL lets dependents start".into());
            }
            let _ = writeln!(o, "  {:<width$}  {}", g.name, parts.join("; "));
        }
    }
    o
}
