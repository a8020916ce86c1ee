//! Runs the [`Checker`] on its own thread: reading a 1 GB file or running a probe
//! must never stall the engine loop.

use crate::checks::{CheckResult, Checker};
use crate::plan::Plan;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;

#[derive(Debug)]
pub enum CheckJob {
    /// Re-read one dataset (its file changed, or its owner finished).
    Dataset { idx: usize, owner_done: bool },
    /// Everything a gate needs: its datasets, its probes, its own checks.
    Gate { idx: usize },
    /// The final evaluation: every dataset, and every probe not yet run (all when `all_probes`).
    Final { all_probes: bool },
}

#[derive(Debug)]
pub enum CheckDone {
    Dataset {
        idx: usize,
        results: Vec<CheckResult>,
    },
    Gate {
        idx: usize,
        datasets: Vec<(usize, Vec<CheckResult>)>,
        probes: Vec<(usize, Vec<CheckResult>)>,
        own: Vec<CheckResult>,
    },
    Final {
        datasets: Vec<(usize, Vec<CheckResult>)>,
        probes: Vec<(usize, Vec<CheckResult>)>,
    },
}

/// Start the worker; jobs go in through the returned sender, answers come out on `done`.
pub fn spawn(
    plan: Arc<Plan>,
    done: UnboundedSender<CheckDone>,
) -> crossbeam_channel::Sender<CheckJob> {
    let (tx, rx) = crossbeam_channel::unbounded::<CheckJob>();
    std::thread::Builder::new()
        .name("checks".into())
        .spawn(move || {
            let mut checker = Checker::new(plan.clone());
            let mut probes_run = vec![false; plan.probes.len()];
            for job in rx {
                let answer = match job {
                    CheckJob::Dataset { idx, owner_done } => CheckDone::Dataset {
                        idx,
                        results: checker.dataset(idx, owner_done),
                    },
                    CheckJob::Gate { idx } => {
                        let gate = &plan.gates[idx];
                        let datasets = gate
                            .datasets
                            .iter()
                            .map(|&d| (d, checker.dataset(d, true)))
                            .collect();
                        let probes = gate
                            .probes
                            .iter()
                            .map(|&p| {
                                probes_run[p] = true;
                                (p, checker.probe(p))
                            })
                            .collect();
                        let own = checker.gate_checks(idx, true);
                        CheckDone::Gate {
                            idx,
                            datasets,
                            probes,
                            own,
                        }
                    }
                    CheckJob::Final { all_probes } => {
                        let datasets = (0..plan.datasets.len())
                            .map(|d| (d, checker.dataset(d, true)))
                            .collect();
                        let probes = (0..plan.probes.len())
                            .filter(|&p| all_probes || !probes_run[p])
                            .collect::<Vec<_>>()
                            .into_iter()
                            .map(|p| {
                                probes_run[p] = true;
                                (p, checker.probe(p))
                            })
                            .collect();
                        CheckDone::Final { datasets, probes }
                    }
                };
                if done.send(answer).is_err() {
                    break;
                }
            }
        })
        .expect("spawn checks thread");
    tx
}
