//! Runs the [`Checker`] on its own thread: reading a 1 GB file or running a probe
//! must never stall the engine loop.
//!
//! A job has a deadline (probes add their own timeouts to it). A job past it, such as a
//! read stuck on a stalled network file system, is answered with `error` results and
//! its thread is abandoned: a blocked read cannot be interrupted, and the next job gets
//! a fresh checker. On quit the engine stops waiting for answers; an abandoned thread
//! ends with the process.

use crate::checks::{CheckResult, CheckStatus, Checker, Measured};
use crate::plan::{CheckSpec, Plan};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// How long reading a job's datasets may take before the job is abandoned.
pub const READ_DEADLINE: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Copy)]
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
    spawn_with_deadline(plan, done, READ_DEADLINE)
}

/// A job with the probes it runs, decided by the dispatcher (which outlives checkers).
struct Work {
    job: CheckJob,
    probes: Vec<usize>,
}

/// One checker on its own thread.
struct Worker {
    work: crossbeam_channel::Sender<Work>,
    answers: crossbeam_channel::Receiver<CheckDone>,
}

impl Worker {
    fn start(plan: Arc<Plan>) -> Worker {
        let (work, work_rx) = crossbeam_channel::unbounded::<Work>();
        let (answer_tx, answers) = crossbeam_channel::unbounded();
        std::thread::Builder::new()
            .name("checks".into())
            .spawn(move || {
                let mut checker = Checker::new(plan);
                for work in work_rx {
                    if answer_tx.send(answer(&mut checker, work)).is_err() {
                        break;
                    }
                }
            })
            .expect("spawn checks thread");
        Worker { work, answers }
    }
}

fn answer(checker: &mut Checker, Work { job, probes }: Work) -> CheckDone {
    let plan = checker.plan().clone();
    let run_probes = |checker: &mut Checker| {
        probes
            .iter()
            .map(|&p| (p, checker.probe(p)))
            .collect::<Vec<_>>()
    };
    match job {
        CheckJob::Dataset { idx, owner_done } => CheckDone::Dataset {
            idx,
            results: checker.dataset(idx, owner_done),
        },
        CheckJob::Gate { idx } => {
            let datasets = plan.gates[idx]
                .datasets
                .iter()
                .map(|&d| (d, checker.dataset(d, true)))
                .collect();
            let probes = run_probes(checker);
            let own = checker.gate_checks(idx, true);
            CheckDone::Gate {
                idx,
                datasets,
                probes,
                own,
            }
        }
        CheckJob::Final { .. } => {
            let datasets = (0..plan.datasets.len())
                .map(|d| (d, checker.dataset(d, true)))
                .collect();
            let probes = run_probes(checker);
            CheckDone::Final { datasets, probes }
        }
    }
}

/// The answer to a job that was abandoned: every check it covers is an error.
fn abandoned(plan: &Plan, work: &Work, limit: Duration) -> CheckDone {
    let message = format!(
        "not answered within {limit:?}; abandoned (a file that cannot be read, such as one \
         on a stalled network file system?)"
    );
    let errors = |source: &str, checks: &[CheckSpec]| -> Vec<CheckResult> {
        checks
            .iter()
            .map(|c| CheckResult {
                source: source.to_string(),
                check: c.text.clone(),
                severity: c.check.severity,
                status: CheckStatus::Error,
                value: Measured::Null,
                expected: crate::checks::Expected::Unstated,
                message: message.clone(),
                provisional: false,
            })
            .collect()
    };
    let dataset = |d: usize| (d, errors(&plan.datasets[d].name, &plan.datasets[d].checks));
    let probes = work
        .probes
        .iter()
        .map(|&p| (p, errors(&plan.probes[p].name, &plan.probes[p].checks)))
        .collect();
    match work.job {
        CheckJob::Dataset { idx, .. } => CheckDone::Dataset {
            idx,
            results: dataset(idx).1,
        },
        CheckJob::Gate { idx } => CheckDone::Gate {
            idx,
            datasets: plan.gates[idx]
                .datasets
                .iter()
                .map(|&d| dataset(d))
                .collect(),
            probes,
            own: errors(&plan.gates[idx].name, &plan.gates[idx].checks),
        },
        CheckJob::Final { .. } => CheckDone::Final {
            datasets: (0..plan.datasets.len()).map(dataset).collect(),
            probes,
        },
    }
}

fn spawn_with_deadline(
    plan: Arc<Plan>,
    done: UnboundedSender<CheckDone>,
    deadline: Duration,
) -> crossbeam_channel::Sender<CheckJob> {
    let (tx, rx) = crossbeam_channel::unbounded::<CheckJob>();
    std::thread::Builder::new()
        .name("checks-dispatch".into())
        .spawn(move || {
            let mut worker = Worker::start(plan.clone());
            let mut probes_run = vec![false; plan.probes.len()];
            for job in rx {
                let probes: Vec<usize> = match job {
                    CheckJob::Dataset { .. } => vec![],
                    CheckJob::Gate { idx } => plan.gates[idx].probes.clone(),
                    CheckJob::Final { all_probes } => (0..plan.probes.len())
                        .filter(|&p| all_probes || !probes_run[p])
                        .collect(),
                };
                for &p in &probes {
                    probes_run[p] = true;
                }
                let limit = probes
                    .iter()
                    .fold(deadline, |l, &p| l + plan.probes[p].timeout);
                let work = Work { job, probes };
                let sent = worker.work.send(Work {
                    job,
                    probes: work.probes.clone(),
                });
                // Nothing back in time, or the checker thread died: a fresh one next.
                let answer = sent
                    .ok()
                    .and_then(|()| worker.answers.recv_timeout(limit).ok());
                let answer = answer.unwrap_or_else(|| {
                    worker = Worker::start(plan.clone());
                    abandoned(&plan, &work, limit)
                });
                if done.send(answer).is_err() {
                    break;
                }
            }
        })
        .expect("spawn checks dispatch thread");
    tx
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A job past its deadline is answered with errors at once, and the next job is
    /// still answered (by a fresh checker).
    #[test]
    fn a_job_past_its_deadline_is_abandoned_with_errors() {
        let dir = tempfile::tempdir().unwrap();
        let rows: String = (0..200_000).map(|i| format!("{i},x\n")).collect();
        std::fs::write(dir.path().join("big.csv"), format!("a,b\n{rows}")).unwrap();
        let text = "[plan]\nname = \"t\"\n\n[[dataset]]\nname = \"big\"\npath = \"big.csv\"\n\
                    checks = [\"sum(a) > 0\"]\n";
        let plan = crate::plan::load_str(
            text,
            &dir.path().join("plan.toml"),
            &std::collections::BTreeMap::new(),
        )
        .unwrap();
        let (done_tx, mut done) = tokio::sync::mpsc::unbounded_channel();
        let jobs = spawn_with_deadline(Arc::new(plan), done_tx, Duration::from_millis(1));
        for _ in 0..2 {
            let started = std::time::Instant::now();
            jobs.send(CheckJob::Dataset {
                idx: 0,
                owner_done: true,
            })
            .unwrap();
            let Some(CheckDone::Dataset { idx: 0, results }) = done.blocking_recv() else {
                panic!("a dataset answer");
            };
            assert!(started.elapsed() < Duration::from_secs(2));
            assert_eq!(results[0].status, CheckStatus::Error);
            assert!(
                results[0]
                    .message
                    .starts_with("not answered within 1ms; abandoned"),
                "{}",
                results[0].message
            );
        }
    }
}
