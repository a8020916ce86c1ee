//! `flightdeck init`: a commented starter plan in the current directory. The guide
//! docs/agents.md walks through it; tests/docs.rs validates it as written.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The file `init` writes, and the plan `run`, `check` and `validate` read when they
/// are given none.
pub const PLAN_FILE: &str = "flightdeck.toml";

/// The starter plan: two agent sessions in parallel, a gate on the data they write,
/// and one session after the gate.
pub const STARTER: &str = r#"# A flightdeck plan: which sessions run, in what order, and what must be true of
# the files they write before the next step may start. Every key is described in
# docs/plan.md; the check language in docs/checks.md.
#
#   flightdeck validate        # read this file and print the schedule; starts nothing
#   flightdeck run             # open the control room and run it
#   flightdeck run --no-tui    # the same, headless (logs, CI)

[plan]
name = "starter"
# Paths below are relative to root, itself relative to this file.
root = "."
# At most this many sessions at once.
max_parallel = 3

# {name} in any string is replaced by a variable. The command line wins:
#   flightdeck run --var agent=codex
[vars]
agent = "claude"

# Keys every session gets unless it sets its own.
[defaults]
restart = "on-failure"   # never | on-failure | always
max_restarts = 2
timeout = "2h"

# Two agents start at once, each in its own terminal pane. A string command runs
# through the plan's shell; the agent takes its first prompt as an argument.
# An agent waits for its next prompt when it has finished, so the session counts
# as done when it writes the file named in done_when (the prompt asks it to).
[[session]]
name = "customers"
phase = "1 · data"
command = "{agent} 'Write data/customers.csv with columns customer_id,name,email: 200 customers with unique ids. When it is written, run: mkdir -p .flightdeck/done && touch .flightdeck/done/customers'"
done_when = { file = ".flightdeck/done/customers" }
outputs = ["data/customers.csv"]
# Ask for help on screen: this pattern marks the pane as needing you.
attention = 'Do you want|\[y/N\]'

[[session]]
name = "orders"
phase = "1 · data"
command = "{agent} 'Write data/orders.csv with columns order_id,customer_id,amount,order_date: about 1000 orders of 2025 for the customers in data/customers.csv. When it is written, run: mkdir -p .flightdeck/done && touch .flightdeck/done/orders'"
done_when = { file = ".flightdeck/done/orders" }
outputs = ["data/orders.csv"]

# A dataset is a file (or a glob of files) with checks. They run again each time the
# file changes; while its owner is still running, results are provisional.
[[dataset]]
name = "customers"
path = "data/customers.csv"
owner = "customers"
checks = [
  "exists",
  "row_count = 200",
  "duplicate_count(customer_id) = 0",
  "null_count(email) = 0",
]

[[dataset]]
name = "orders"
path = "data/orders.csv"
owner = "orders"
checks = [
  "row_count ~ 1000 ± 10%",
  "min(amount) >= 0",
  "min(order_date) >= 2025-01-01",
  "max(order_date) <= 2025-12-31",
  "customer_id in customers.customer_id",   # every order has a known customer
  "warn: duplicate_count(order_id) = 0",    # a failing warn: makes the gate CONDITIONAL
]

# A gate between phases: evaluated once both sessions are done. PASS when every
# check passes, CONDITIONAL when only warn: checks fail, FAIL otherwise.
[[gate]]
name = "data-ready"
after = ["customers", "orders"]
datasets = ["customers", "orders"]
checks = ["orders.row_count > customers.row_count"]
# manual: the run waits for you to press `a` in the control room
# (`flightdeck ctl approve data-ready` from a script, or run with --yes).
approval = "manual"
allow_conditional = true

# Starts only after the gate passed and was approved.
[[session]]
name = "report"
phase = "2 · report"
command = "{agent} 'Read data/customers.csv and data/orders.csv and write REPORT.md: revenue per month and the top ten customers. When it is written, run: mkdir -p .flightdeck/done && touch .flightdeck/done/report'"
done_when = { file = ".flightdeck/done/report" }
outputs = ["REPORT.md"]
after = ["data-ready"]
"#;

/// Why `init` wrote nothing.
#[derive(Debug)]
pub enum InitError {
    /// The file is there already; `init` never overwrites a plan.
    Exists(PathBuf),
    /// The file could not be created or written.
    Write(PathBuf, std::io::Error),
}

impl std::fmt::Display for InitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InitError::Exists(path) => write!(
                f,
                "{} already exists; init never overwrites a plan (edit it, or remove it first)",
                path.display()
            ),
            InitError::Write(path, e) => write!(f, "cannot write {}: {e}", path.display()),
        }
    }
}

/// Write the starter plan as `dir/flightdeck.toml`, unless that file exists.
pub fn write(dir: &Path) -> Result<PathBuf, InitError> {
    let path = dir.join(PLAN_FILE);
    // create_new: the check and the creation are one step, so nothing is overwritten
    // even when two `init`s race.
    let mut file = match OpenOptions::new().write(true).create_new(true).open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(InitError::Exists(path));
        }
        Err(e) => return Err(InitError::Write(path, e)),
    };
    file.write_all(STARTER.as_bytes())
        .map_err(|e| InitError::Write(path.clone(), e))?;
    Ok(path)
}
