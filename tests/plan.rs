//! Plan loading, validation errors (file:line:col), and the static schedule.

use flightdeck::plan::{
    self, AgentKind, Approval, CommandSpec, DepKind, DepTarget, Format, Plan, PlanError,
    RestartPolicy,
};
use flightdeck::schedule::{self, Node};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn plans_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/plans")
}

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn fixture(name: &str, cli: &[(&str, &str)]) -> Plan {
    let file = plans_dir().join(name);
    plan::load(&file, &vars(cli)).unwrap_or_else(|e| panic!("{name} should load: {e}"))
}

/// Load inline text as `tests/plans/bad.toml` (so root is tests/plans).
fn load_text(text: &str) -> Result<Plan, PlanError> {
    plan::load_str(text, &plans_dir().join("bad.toml"), &BTreeMap::new())
}

/// The error for `text`, asserting its position and that it names what is wrong.
#[track_caller]
fn expect_err(text: &str, line_col: &str, needles: &[&str]) -> String {
    let e = match load_text(text) {
        Ok(_) => panic!("expected an error at {line_col}, but the plan loaded:\n{text}"),
        Err(e) => e.to_string(),
    };
    assert!(
        e.contains(&format!("bad.toml:{line_col}: ")),
        "expected position bad.toml:{line_col} in: {e}"
    );
    for n in needles {
        assert!(e.contains(n), "expected {n:?} in: {e}");
    }
    e
}

const HEAD: &str = "[plan]\nname = \"t\"\n"; // lines 1-2

fn with_head(body: &str) -> String {
    format!("{HEAD}{body}")
}

// ---- a valid plan ------------------------------------------------------------------------

#[test]
fn full_plan_loads_every_key() {
    let p = fixture("full.toml", &[("model", "haiku")]);
    let root = plans_dir().join("full").canonicalize().unwrap();
    assert_eq!(p.name, "full sim plan");
    assert_eq!(p.file, plans_dir().join("full.toml"));
    assert_eq!(p.root, root);
    assert!(p.root.is_absolute());
    assert_eq!(p.records, root.join("runs/sim"));
    assert_eq!(p.max_parallel, Some(3));
    assert_eq!(p.shell, vec!["bash", "-eu"]);
    assert_eq!(p.log_limit, 512 << 20);
    assert_eq!(
        p.notify.as_deref(),
        Some("notify-send sim \"$FLIGHTDECK_MESSAGE\""),
        "notify is {{var}}-substituted"
    );
    assert_eq!(p.ui.columns, Some(2));
    assert_eq!(p.vars["agent"], "sim");
    assert_eq!(p.vars["model"], "haiku", "the command line wins");
    assert_eq!(p.vars["days"], "90", "integers in [vars] are taken as text");

    assert_eq!(p.sessions.len(), 3);
    let ce = &p.sessions[0];
    assert_eq!(ce.name, "config-engineer");
    assert_eq!(ce.number, 1);
    assert_eq!(
        ce.command,
        CommandSpec::Shell("assets/agents/sim config".into())
    );
    assert_eq!(
        ce.command.argv(&p.shell),
        vec!["bash", "-eu", "-c", "assets/agents/sim config"]
    );
    assert_eq!(ce.cwd, root);
    assert_eq!(ce.phase.as_deref(), Some("Phase 1"));
    // From [defaults]:
    assert_eq!(ce.restart, RestartPolicy::OnFailure);
    assert_eq!(ce.max_restarts, 2);
    assert_eq!(ce.quiet_after, Duration::from_secs(120));
    assert_eq!(ce.env["MODEL"], "haiku", "default env, with the CLI var");
    assert_eq!(ce.env["SHARED"], "yes");
    // Built-in defaults:
    assert_eq!(ce.backoff, Duration::from_secs(1));
    assert_eq!(ce.stop_grace, Duration::from_secs(5));
    assert_eq!(ce.input_delay, Duration::from_secs(1));
    assert_eq!(ce.input, None);
    assert!(!ce.keep_running);
    assert_eq!(ce.worktree, None);
    assert!(ce.attention.is_none());
    assert_eq!(ce.timeout, Some(Duration::from_secs(90 * 60)));
    let dw = ce.done_when.as_ref().unwrap();
    assert!(dw.output.is_none());
    assert_eq!(
        dw.file.as_deref(),
        Some(root.join("data/.config-done").as_path())
    );
    assert_eq!(ce.outputs, vec!["config/*.yaml"]);
    assert_eq!(
        ce.on_success,
        vec!["git add -A", "git commit -m 'config {done}'"],
        "`{{` and `}}` are literal braces"
    );
    assert!(ce.after.is_empty());
    assert_eq!(ce.agent, AgentKind::Claude, "agent from [defaults]");

    let dm = &p.sessions[1];
    assert_eq!(dm.number, 2);
    assert_eq!(
        dm.command,
        CommandSpec::Argv(vec![
            "assets/agents/sim".into(),
            "rag-mmm".into(),
            "digital-media-gen".into()
        ])
    );
    assert_eq!(dm.cwd, root.join("work"));
    assert_eq!(
        dm.env["MODEL"], "opus",
        "the session's env wins over the default"
    );
    assert_eq!(dm.env["SHARED"], "yes", "env tables merge");
    assert_eq!(dm.env["DAYS"], "90");
    assert_eq!(dm.after.len(), 2);
    assert_eq!(dm.after[0].target, DepTarget::Session(0));
    assert_eq!(dm.after[0].kind, DepKind::Succeeded);
    assert_eq!(dm.after[1].target, DepTarget::Gate(0));
    assert_eq!(dm.after[1].raw, "gate-1");
    assert_eq!(dm.restart, RestartPolicy::Always);
    assert_eq!(dm.max_restarts, 5);
    assert_eq!(dm.backoff, Duration::from_secs(2));
    assert_eq!(dm.stop_grace, Duration::from_millis(500));
    assert_eq!(dm.input, Some(root.join("prompts/digital.md")));
    assert_eq!(dm.input_delay, Duration::from_secs(3));
    let dw = dm.done_when.as_ref().unwrap();
    assert!(
        dw.output
            .as_ref()
            .unwrap()
            .is_match("... ALL TASKS COMPLETE")
    );
    assert_eq!(dw.file, Some(root.join("data/raw/.done")));
    assert!(dm.keep_running);
    let att = dm.attention.as_ref().unwrap();
    assert!(att.is_match("Overwrite? [y/N]"));
    assert!(att.is_match("Do you want to proceed"));
    assert!(!att.is_match("working"));
    assert_eq!(dm.quiet_after, Duration::from_secs(45));
    assert_eq!(dm.timeout, None);
    assert_eq!(dm.agent, AgentKind::None, "`none` overrides the default");

    let rv = &p.sessions[2];
    assert_eq!(
        rv.restart,
        RestartPolicy::Never,
        "the session overrides [defaults]"
    );
    assert_eq!(rv.agent, AgentKind::Codex);
    assert_eq!(rv.worktree.as_deref(), Some("feature/review"));
    assert_eq!(rv.cwd, root.join(".flightdeck/worktrees/reviewer/sub"));
    assert_eq!(rv.after[0].kind, DepKind::Started);
    assert_eq!(rv.after[0].target, DepTarget::Session(1));
    assert_eq!(rv.after[1].kind, DepKind::Finished);
    assert_eq!(rv.after[1].target, DepTarget::Session(0));

    assert_eq!(p.datasets.len(), 4);
    let meta = &p.datasets[0];
    assert_eq!(meta.path, "data/raw/meta_ads.csv");
    assert_eq!(meta.format, Format::Csv);
    assert_eq!(meta.owner, Some(1));
    assert_eq!(meta.checks.len(), 3);
    assert_eq!(meta.checks[1].text, "row_count ~ 8000 ± 20%");
    assert_eq!(
        p.datasets[1].format,
        Format::Jsonl,
        "format as written wins"
    );
    assert_eq!(p.datasets[1].owner, None);
    assert_eq!(
        p.datasets[2].format,
        Format::Parquet,
        "format from the extension"
    );
    assert!(p.datasets[2].checks.is_empty());
    // Datasets are read in root, or at the top of their owner's worktree.
    assert_eq!(meta.base_dir(&p), root);
    let notes = &p.datasets[3];
    assert_eq!(notes.format, Format::Text);
    assert_eq!(
        notes.base_dir(&p),
        root.join(".flightdeck/worktrees/reviewer")
    );
    assert_eq!(
        p.worktree_dir(2),
        Some(root.join(".flightdeck/worktrees/reviewer"))
    );
    assert_eq!(p.worktree_dir(0), None);

    let probe = &p.probes[0];
    assert_eq!(probe.command, "./bench/risk.sh --days 90");
    assert_eq!(
        probe
            .pattern
            .as_ref()
            .unwrap()
            .captures("p50=1.25ms")
            .unwrap()[1]
            .to_string(),
        "1.25"
    );
    assert_eq!(probe.timeout, Duration::from_secs(120));
    assert_eq!(probe.checks.len(), 2);
    assert_eq!(
        p.probes[1].timeout,
        Duration::from_secs(600),
        "probe default 10m"
    );
    assert!(p.probes[1].pattern.is_none());

    let g = &p.gates[0];
    assert_eq!(g.name, "gate-1");
    assert_eq!(g.after[0].target, DepTarget::Session(0));
    assert_eq!(g.datasets, vec![2]);
    assert_eq!(g.probes, vec![0]);
    assert_eq!(g.checks.len(), 1);
    assert_eq!(g.approval, Approval::Manual);
    assert!(g.allow_conditional);
    let f = &p.gates[1];
    assert_eq!(f.approval, Approval::Auto);
    assert!(!f.allow_conditional);
    assert_eq!(f.datasets, vec![0, 1]);
    // The final gate also waits for the owner of meta_ads.
    let w = p.waits_for(DepTarget::Gate(1));
    assert!(w.contains(&(DepTarget::Session(2), DepKind::Succeeded)));
    assert!(w.contains(&(DepTarget::Session(1), DepKind::Finished)));
}

#[test]
fn minimal_plan_gets_the_built_in_defaults() {
    let p =
        load_text("[plan]\nname = \"m\"\n[[session]]\nname = \"a\"\ncommand = \"true\"\n").unwrap();
    let root = plans_dir().canonicalize().unwrap();
    assert_eq!(p.root, root);
    assert_eq!(p.records, root.join(".flightdeck/runs"));
    assert_eq!(p.shell, vec!["sh"]);
    assert_eq!(p.max_parallel, None);
    assert_eq!(p.ui.columns, None);
    assert_eq!(p.log_limit, 1 << 30, "1 GiB per session log");
    assert_eq!(p.notify, None);
    let s = &p.sessions[0];
    assert_eq!(s.agent, AgentKind::None);
    assert_eq!(s.restart, RestartPolicy::Never);
    assert_eq!(s.max_restarts, 3);
    assert_eq!(s.backoff, Duration::from_secs(1));
    assert_eq!(s.stop_grace, Duration::from_secs(5));
    assert_eq!(s.input_delay, Duration::from_secs(1));
    assert_eq!(s.quiet_after, Duration::from_secs(60));
    assert_eq!(s.timeout, None);
    assert!(s.env.is_empty());
}

// ---- errors: TOML, keys, types, required -------------------------------------------------

#[test]
fn not_toml() {
    expect_err("[plan]\nname = x\n", "2:8", &["invalid TOML", "quoted"]);
    expect_err(
        "[plan]\nname = \"a\"\nname = \"b\"\n",
        "3:1",
        &["duplicate key"],
    );
}

#[test]
fn unknown_keys() {
    expect_err(
        &with_head("[[session]]\nname = \"a\"\ncommand = \"x\"\nresart = \"always\"\n"),
        "6:1",
        &["unknown key `resart` in session `a`: did you mean `restart`?"],
    );
    expect_err(
        &with_head("[[session]]\nnmae = \"a\"\ncommand = \"x\"\n"),
        "4:1",
        &["unknown key `nmae` in [[session]] #1: did you mean `name`?"],
    );
    let e = expect_err(
        "[plan]\nname = \"t\"\nparallel = 2\n",
        "3:1",
        &["unknown key `parallel` in [plan]", "valid keys: name, root"],
    );
    assert!(e.contains("max_parallel"), "{e}");
    expect_err(
        "[plan]\nname = \"t\"\n[sessions]\n",
        "3:2",
        &["unknown key `sessions`", "session"],
    );
    expect_err(
        &with_head("[[session]]\nname = \"a\"\ncommand = \"x\"\ndone_when = { outputs = \"x\" }\n"),
        "6:15",
        &[
            "unknown key `outputs`",
            "done_when",
            "did you mean `output`?",
        ],
    );
    expect_err(
        &with_head("[defaults]\nretry = 3\n"),
        "4:1",
        &["unknown key `retry` in [defaults]"],
    );
    expect_err(
        &with_head("[defaults]\nname = \"x\"\n"),
        "4:1",
        &["`name` cannot have a default"],
    );
    expect_err(
        &with_head("[[dataset]]\nname = \"d\"\npath = \"x.csv\"\ncheck = [\"exists\"]\n"),
        "6:1",
        &["unknown key `check`", "dataset", "did you mean `checks`?"],
    );
    expect_err(
        &with_head("[[probe]]\nname = \"p\"\ncommand = \"x\"\nregex = \"a\"\n"),
        "6:1",
        &["unknown key `regex`", "probe"],
    );
    expect_err(
        &with_head("[[gate]]\nname = \"g\"\napprove = \"manual\"\n"),
        "5:1",
        &["unknown key `approve`", "gate", "did you mean `approval`?"],
    );
    expect_err(
        &with_head("[ui]\ncols = 2\n"),
        "4:1",
        &["unknown key `cols` in [ui]"],
    );
    expect_err(
        &with_head("[session]\nname = \"a\"\n"),
        "3:1",
        &["[[session]]"],
    );
}

#[test]
fn wrong_types() {
    expect_err(
        &with_head("[[session]]\nname = \"a\"\ncommand = \"x\"\nmax_restarts = \"two\"\n"),
        "6:16",
        &["`max_restarts` in session `a` must be an integer, not a string"],
    );
    expect_err(
        &with_head("[[session]]\nname = \"a\"\ncommand = \"x\"\nafter = \"b\"\n"),
        "6:9",
        &["`after`", "array of strings"],
    );
    expect_err(
        &with_head("[[session]]\nname = \"a\"\ncommand = 5\n"),
        "5:11",
        &["`command`", "a string or an array of strings"],
    );
    expect_err(
        &with_head("[[session]]\nname = \"a\"\ncommand = [\"x\", 1]\n"),
        "5:17",
        &["`command`", "this entry is an integer"],
    );
    expect_err(
        &with_head("[[gate]]\nname = \"g\"\nallow_conditional = \"yes\"\n"),
        "5:21",
        &["`allow_conditional`", "true or false"],
    );
    expect_err(
        &with_head("[defaults]\nkeep_running = 1\n"),
        "4:16",
        &["`keep_running` in [defaults]", "true or false"],
    );
}

#[test]
fn missing_required_keys() {
    expect_err(
        "[plan]\nroot = \".\"\n",
        "1:1",
        &["[plan] is missing required key `name`"],
    );
    expect_err("[vars]\na = \"b\"\n", "1:1", &["missing [plan]"]);
    expect_err(
        &with_head("\n[[session]]\nname = \"a\"\n"),
        "4:1",
        &["session `a` is missing required key `command`"],
    );
    expect_err(
        &with_head("[[session]]\ncommand = \"x\"\n"),
        "3:1",
        &["[[session]] #1 is missing required key `name`"],
    );
    expect_err(
        &with_head("[[dataset]]\nname = \"d\"\n"),
        "3:1",
        &["dataset `d` is missing required key `path`"],
    );
    expect_err(
        &with_head("[[probe]]\nname = \"p\"\n"),
        "3:1",
        &["probe `p` is missing required key `command`"],
    );
    expect_err(
        &with_head("[[gate]]\nafter = []\n"),
        "3:1",
        &["[[gate]] #1 is missing required key `name`"],
    );
}

// ---- errors: names and references ------------------------------------------------------

const AB: &str =
    "[[session]]\nname = \"a\"\ncommand = \"x\"\n[[session]]\nname = \"b\"\ncommand = \"x\"\n"; // lines 3-8

#[test]
fn bad_names() {
    expect_err(
        &with_head("[[session]]\nname = \"my agent\"\ncommand = \"x\"\n"),
        "4:8",
        &["bad session name `my agent`"],
    );
    expect_err(
        &with_head("[[dataset]]\nname = \"meta-ads\"\npath = \"x\"\n"),
        "4:8",
        &["bad dataset name `meta-ads`", "letters, digits and `_`"],
    );
    expect_err(
        &with_head("[[probe]]\nname = \"\"\ncommand = \"x\"\n"),
        "4:8",
        &["bad probe name ``"],
    );
}

#[test]
fn duplicate_names() {
    expect_err(
        &with_head(&format!("{AB}[[session]]\nname = \"a\"\ncommand = \"y\"\n")),
        "10:8",
        &["duplicate name `a`", "line 4"],
    );
    // Sessions and gates share a namespace.
    expect_err(
        &with_head(&format!("{AB}[[gate]]\nname = \"b\"\n")),
        "10:8",
        &["duplicate name `b`", "line 7", "session or gate"],
    );
    expect_err(
        &with_head(
            "[[dataset]]\nname = \"d\"\npath = \"x\"\n[[dataset]]\nname = \"d\"\npath = \"y\"\n",
        ),
        "7:8",
        &["duplicate name `d`"],
    );
    expect_err(
        &with_head(
            "[[probe]]\nname = \"p\"\ncommand = \"x\"\n[[probe]]\nname = \"p\"\ncommand = \"y\"\n",
        ),
        "7:8",
        &["duplicate name `p`"],
    );
    // Datasets and probes are both check sources (`x.row_count`, `x.value`).
    expect_err(
        &with_head(
            "[[dataset]]\nname = \"x\"\npath = \"x\"\n[[probe]]\nname = \"x\"\ncommand = \"y\"\n",
        ),
        "7:8",
        &["duplicate name `x`", "dataset or probe"],
    );
}

#[test]
fn bad_references() {
    expect_err(
        &with_head(&format!("{AB}after = [\"a\", \"config\"]\n")),
        "9:15",
        &["`after` in session `b`: unknown session or gate `config`"],
    );
    expect_err(
        &with_head(&format!("{AB}after = [\"aa\"]\n")),
        "9:10",
        &["unknown session or gate `aa`", "did you mean `a`?"],
    );
    expect_err(
        &with_head(&format!("{AB}after = [\"a:done\"]\n")),
        "9:10",
        &["unknown suffix `:done`", "name:started"],
    );
    expect_err(
        &with_head(&format!(
            "{AB}after = [\"g:started\"]\n[[gate]]\nname = \"g\"\n"
        )),
        "9:10",
        &["`g` is a gate", "sessions only"],
    );
    expect_err(
        &with_head("[[dataset]]\nname = \"d\"\npath = \"x\"\nowner = \"nobody\"\n"),
        "6:9",
        &["`owner` of dataset `d`: unknown session `nobody`"],
    );
    expect_err(
        &with_head(
            "[[dataset]]\nname = \"d\"\npath = \"x\"\nowner = \"g\"\n[[gate]]\nname = \"g\"\n",
        ),
        "6:9",
        &["`g` is a gate; the owner must be a session"],
    );
    expect_err(
        &with_head(
            "[[dataset]]\nname = \"meta_ads\"\npath = \"x\"\n[[gate]]\nname = \"g\"\ndatasets = [\"meta_ad\"]\n",
        ),
        "8:13",
        &[
            "`datasets` in gate `g`: unknown dataset `meta_ad`",
            "did you mean `meta_ads`?",
        ],
    );
    expect_err(
        &with_head("[[gate]]\nname = \"g\"\nprobes = [\"latency\"]\n"),
        "5:11",
        &["`probes` in gate `g`: unknown probe `latency`"],
    );
}

#[test]
fn checks_naming_unknown_sources() {
    // Gate check `leads.row_count` with no dataset `leads`: the position of `leads`.
    expect_err(
        &with_head(
            "[[dataset]]\nname = \"drives\"\npath = \"d.csv\"\n[[gate]]\nname = \"g\"\nchecks = [\"drives.row_count < leads.row_count\"]\n",
        ),
        "8:31",
        &["unknown dataset or probe `leads`"],
    );
    // Foreign key into an unknown dataset.
    expect_err(
        &with_head(
            "[[dataset]]\nname = \"sales\"\npath = \"s.csv\"\nchecks = [\n  \"exists\",\n  \"dealer_id in dealers.dealer_id\",\n]\n",
        ),
        "8:17",
        &["check `dealer_id in dealers.dealer_id` in dataset `sales`: unknown dataset `dealers`"],
    );
    // A probe name with `-` cannot be a check source: say so.
    expect_err(
        &with_head(
            "[[probe]]\nname = \"risk-latency\"\ncommand = \"x\"\n[[gate]]\nname = \"g\"\nchecks = [\"risk-latency.value <= 1.5\"]\n",
        ),
        "8:12",
        &[
            "check `risk-latency.value <= 1.5` in gate `g`",
            "rename it with `_`",
        ],
    );
    // A gate check must name its sources.
    expect_err(
        &with_head("[[gate]]\nname = \"g\"\nchecks = [\"row_count > 5\"]\n"),
        "5:12",
        &["every term names its source"],
    );
}

#[test]
fn check_parse_errors_point_into_the_string() {
    // The checks parser reports a byte offset; we add it to the string's position.
    let e = load_text(&with_head(
        "[[dataset]]\nname = \"d\"\npath = \"d.csv\"\nchecks = [\"exists\", \"row_count >< 5\"]\n",
    ))
    .unwrap_err();
    assert_eq!(e.line, 6, "{e}");
    // `row_count >< 5` starts at column 22; the problem is at or after the operator.
    assert!(e.col >= 22 + 10 && e.col <= 22 + 14, "{e}");
    assert!(
        e.message.contains("check `row_count >< 5` in dataset `d`"),
        "{e}"
    );

    // Literal strings map exactly too.
    let e = load_text(&with_head(
        "[[dataset]]\nname = \"d\"\npath = \"d.csv\"\nchecks = ['sum(spend ~ 5']\n",
    ))
    .unwrap_err();
    assert_eq!(e.line, 6, "{e}");
    assert!(e.col > 12 && e.col <= 12 + 13, "{e}");
}

// ---- errors: cycles ------------------------------------------------------------------------

#[test]
fn cycles_show_their_path() {
    let text = with_head(
        "[[session]]\nname = \"a\"\ncommand = \"x\"\nafter = [\"c\"]\n\
         [[session]]\nname = \"b\"\ncommand = \"x\"\nafter = [\"a\"]\n\
         [[session]]\nname = \"c\"\ncommand = \"x\"\nafter = [\"b:started\"]\n",
    );
    expect_err(&text, "6:10", &["dependency cycle: a -> c -> b -> a"]);

    expect_err(
        &with_head("[[session]]\nname = \"a\"\ncommand = \"x\"\nafter = [\"a:finished\"]\n"),
        "6:10",
        &["dependency cycle: a -> a"],
    );

    // Through a gate, and through a gate's implicit wait for the owner of its dataset.
    let text = with_head(
        "[[session]]\nname = \"gen\"\ncommand = \"x\"\nafter = [\"phase-2\"]\n\
         [[dataset]]\nname = \"out\"\npath = \"o.csv\"\nowner = \"gen\"\n\
         [[gate]]\nname = \"phase-2\"\ndatasets = [\"out\"]\n",
    );
    expect_err(&text, "6:10", &["dependency cycle: gen -> phase-2 -> gen"]);
}

// ---- errors: values ----------------------------------------------------------------------

#[test]
fn bad_values() {
    let s = |extra: &str| {
        with_head(&format!(
            "[[session]]\nname = \"a\"\ncommand = \"x\"\n{extra}\n"
        ))
    };
    expect_err(
        &s("backoff = \"2x\""),
        "6:11",
        &["`backoff` in session `a`", "bad duration `2x`"],
    );
    expect_err(
        &s("timeout = \"90\""),
        "6:11",
        &["`timeout`", "unit is missing"],
    );
    expect_err(
        &s("attention = \"(\""),
        "6:13",
        &[
            "`attention` in session `a` is not a valid regex `(`",
            "unclosed group",
        ],
    );
    expect_err(
        &s("done_when = { output = \"[a\" }"),
        "6:24",
        &["`output` in `done_when` of session `a` is not a valid regex"],
    );
    expect_err(
        &s("done_when = {}"),
        "6:13",
        &["needs `output`", "or `file`"],
    );
    expect_err(
        &s("restart = \"sometimes\""),
        "6:11",
        &["`restart` in session `a` must be one of never, on-failure, always, not `sometimes`"],
    );
    expect_err(
        &s("max_restarts = -1"),
        "6:16",
        &["`max_restarts`", "at least 0"],
    );
    expect_err(
        &s("keep_running = true"),
        "6:16",
        &["`keep_running`", "only applies with `done_when`"],
    );
    expect_err(
        &s("worktree = \"bad branch\""),
        "6:12",
        &["not a valid git branch name"],
    );
    expect_err(&s("outputs = [\"data/[x\"]"), "6:18", &["bad glob"]);
    expect_err(&s("on_success = [\"\"]"), "6:15", &["empty command"]);
    expect_err(
        &s("timeout = \"0s\""),
        "6:11",
        &["`timeout` in session `a` must be more than 0"],
    );
    expect_err(
        &s("backoff = \"0ms\""),
        "6:11",
        &["`backoff` in session `a` must be more than 0", "can spin"],
    );
    expect_err(
        &with_head("[[probe]]\nname = \"p\"\ncommand = \"x\"\ntimeout = \"0m\"\n"),
        "6:11",
        &["`timeout` in probe `p` must be more than 0"],
    );
    expect_err(
        &with_head(
            "[[dataset]]\nname = \"d\"\npath = \"x.csv\"\nchecks = [\"min(day) between 2025-12-31 and 2025-01-01\", \"row_count between 10 and 1\"]\n",
        ),
        "6:21",
        &["check `min(day) between 2025-12-31 and 2025-01-01` in dataset `d`: the range is empty"],
    );
    expect_err(
        &s("agent = \"gpt\""),
        "6:9",
        &["`agent` in session `a` must be one of claude, codex, none, not `gpt`"],
    );

    expect_err(
        &with_head("[[session]]\nname = \"a\"\ncommand = \"  \"\n"),
        "5:11",
        &["`command` in session `a` is empty"],
    );
    expect_err(
        &with_head("[[session]]\nname = \"a\"\ncommand = []\n"),
        "5:11",
        &["`command` in session `a` is empty"],
    );
    expect_err(
        &with_head("[[probe]]\nname = \"p\"\ncommand = \"\"\n"),
        "5:11",
        &["`command` in probe `p` is empty"],
    );
    expect_err(
        &with_head("[[probe]]\nname = \"p\"\ncommand = \"x\"\npattern = 'p50=([0-9'\n"),
        "6:11",
        &["`pattern` in probe `p` is not a valid regex"],
    );
    expect_err(
        &with_head("[[probe]]\nname = \"p\"\ncommand = \"x\"\ntimeout = \"soon\"\n"),
        "6:11",
        &["`timeout` in probe `p`", "bad duration"],
    );
    expect_err(
        &with_head("[[gate]]\nname = \"g\"\napproval = \"maybe\"\n"),
        "5:12",
        &["`approval` in gate `g` must be one of auto, manual, not `maybe`"],
    );
    expect_err(
        &with_head("[[dataset]]\nname = \"d\"\npath = \"x.csv\"\nformat = \"xlsx\"\n"),
        "6:10",
        &["`format` in dataset `d` must be one of csv, tsv, jsonl, parquet, text, not `xlsx`"],
    );
    expect_err(
        "[plan]\nname = \"t\"\nmax_parallel = 0\n",
        "3:16",
        &["`max_parallel` in [plan] must be at least 1, not 0"],
    );
    expect_err(
        "[plan]\nname = \"t\"\nlog_limit = \"1TB\"\n",
        "3:13",
        &["`log_limit` in [plan]: bad size `1TB`: unknown unit `TB`"],
    );
    expect_err(
        "[plan]\nname = \"t\"\nlog_limit = \"0B\"\n",
        "3:13",
        &["`log_limit` in [plan] must be more than 0"],
    );
    expect_err(
        "[plan]\nname = \"t\"\nlog_limit = 1000\n",
        "3:13",
        &["`log_limit` in [plan] must be a string"],
    );
    expect_err(
        "[plan]\nname = \"t\"\nnotify = \" \"\n",
        "3:10",
        &["`notify` in [plan] is empty"],
    );
    expect_err(
        "[plan]\nname = \"t\"\nshell = \"\"\n",
        "3:9",
        &["`shell` in [plan] must not be empty"],
    );
    expect_err(
        &with_head("[ui]\ncolumns = 0\n"),
        "4:11",
        &["`columns` in [ui]"],
    );
    // A bad value from [defaults] is reported where it is written, even when no
    // session uses it.
    expect_err(
        &with_head(
            "[defaults]\nrestart = \"often\"\n[[session]]\nname = \"a\"\ncommand = \"x\"\nrestart = \"never\"\n",
        ),
        "4:11",
        &["`restart` in [defaults] must be one of"],
    );
}

#[test]
fn missing_paths() {
    // A root that is a file is an error; one that does not exist yet is made by the run.
    expect_err(
        "[plan]\nname = \"t\"\nroot = \"full.toml\"\n",
        "3:8",
        &["`root` in [plan]: `full.toml` is not a directory"],
    );
    expect_err(
        &with_head("[[session]]\nname = \"a\"\ncommand = \"x\"\ncwd = \"no-such-dir\"\n"),
        "6:7",
        &["`cwd` in session `a`: directory `no-such-dir` does not exist"],
    );
    expect_err(
        &with_head("[[session]]\nname = \"a\"\ncommand = \"x\"\ncwd = \"full.toml\"\n"),
        "6:7",
        &["`cwd` in session `a`: `full.toml` is not a directory"],
    );
    expect_err(
        &with_head("[[session]]\nname = \"a\"\ncommand = \"x\"\ninput = \"full\"\n"),
        "6:9",
        &["`input` in session `a`: `full` is not a file"],
    );
    expect_err(
        &with_head("[[session]]\nname = \"a\"\ncommand = \"x\"\ninput = \"prompts/none.md\"\n"),
        "6:9",
        &["`input` in session `a`: file `prompts/none.md` does not exist"],
    );
    // A worktree session's cwd is inside a worktree made at run time: not checked.
    let p = load_text(&with_head(
        "[[session]]\nname = \"a\"\ncommand = \"x\"\nworktree = \"feat/a\"\ncwd = \"no-such-dir\"\n",
    ))
    .unwrap();
    assert!(
        p.sessions[0]
            .cwd
            .ends_with(".flightdeck/worktrees/a/no-such-dir")
    );
    // One branch, one worktree.
    expect_err(
        &with_head(
            "[defaults]\nworktree = \"feat/x\"\n[[session]]\nname = \"a\"\ncommand = \"x\"\n[[session]]\nname = \"b\"\ncommand = \"x\"\n",
        ),
        "4:12",
        &["branch `feat/x` is already the worktree of session `a`"],
    );
}

// ---- variables -----------------------------------------------------------------------------

#[test]
fn variables() {
    let text = "[plan]\nname = \"v {{x}} {a}\"\n[vars]\nb = \"{a}-{{literal}}\"\na = \"1\"\n\
                [[session]]\nname = \"s{a}\"\ncommand = \"echo {b} {{b}}\"\nenv = { K = \"{a}\" }\n";
    let p = load_text(text).unwrap();
    assert_eq!(p.name, "v {x} 1");
    assert_eq!(p.sessions[0].name, "s1", "names are substituted too");
    assert_eq!(
        p.sessions[0].command.display(),
        "echo 1-{literal} {b}",
        "[vars] values use other variables, in any order"
    );
    assert_eq!(p.vars["b"], "1-{literal}");
    assert_eq!(p.sessions[0].env["K"], "1");

    let cli = vars(&[("a", "2"), ("new", "n")]);
    let p = plan::load_str(text, &plans_dir().join("bad.toml"), &cli).unwrap();
    assert_eq!(p.name, "v {x} 2", "the command line wins");
    assert_eq!(p.vars["b"], "2-{literal}", "...also inside [vars] values");
    assert_eq!(p.vars["new"], "n");
    let cli = vars(&[("b", "{a}")]);
    let p = plan::load_str(text, &plans_dir().join("bad.toml"), &cli).unwrap();
    assert_eq!(p.vars["b"], "{a}", "--var values are literal");

    // Loops name their path, at the reference that closes them.
    expect_err(
        &with_head("[vars]\na = \"x{b}\"\nb = \"{c}\"\nc = \"{a}\"\n"),
        "6:6",
        &["variable loop in [vars]: a -> b -> c -> a"],
    );
    expect_err(
        &with_head("[vars]\na = \"{a}\"\n"),
        "4:6",
        &["variable `a` in [vars] uses itself"],
    );
    expect_err(
        &with_head("[vars]\na = \"{b}\"\nb = \"{nope}\"\n"),
        "5:6",
        &[
            "unknown variable `{nope}` in `b` of [vars]",
            "defined: a, b",
        ],
    );

    // Unknown variable: at its `{`, even after an escape.
    expect_err(
        &with_head("[[session]]\nname = \"a\"\ncommand = \"run \\\"{agnet}\\\"\"\n"),
        "5:18",
        &[
            "unknown variable `{agnet}`",
            "`command`",
            "--var agnet=VALUE",
        ],
    );
    expect_err(
        &with_head(
            "[vars]\nagent = \"sim\"\n[[session]]\nname = \"a\"\ncommand = [\"x\", \"{agnet}\"]\n",
        ),
        "7:18",
        &["unknown variable `{agnet}`", "defined: agent"],
    );
    expect_err(
        &with_head("[[dataset]]\nname = \"d\"\npath = \"x\"\nchecks = [\"row_count > {n}\"]\n"),
        "6:24",
        &["unknown variable `{n}`", "`checks` of dataset `d`"],
    );
    expect_err(
        &with_head("[[session]]\nname = \"a\"\ncommand = \"awk '{print $1}'\"\n"),
        "5:17",
        &["`{` must start a variable", "write `{{`"],
    );
    expect_err(
        &with_head("[[session]]\nname = \"a\"\ncommand = \"x }\"\n"),
        "5:14",
        &["write `}}`"],
    );
}

#[test]
fn long_chains_of_variables_and_dependencies() {
    // Walked with their own stacks: no overflow on a test thread's small stack.
    let n = 10_000;
    let mut text = String::from("[plan]\nname = \"{v0}\"\n[vars]\n");
    for i in 0..n - 1 {
        text.push_str(&format!("v{i} = \"{{v{}}}\"\n", i + 1));
    }
    text.push_str(&format!("v{} = \"end\"\n", n - 1));
    for i in 0..n {
        text.push_str(&format!(
            "[[session]]\nname = \"s{i}\"\ncommand = \"true\"\n"
        ));
        text.push_str(&format!("after = [\"s{}\"]\n", (i + 1) % n));
    }
    let e = load_text(&text).unwrap_err().to_string();
    assert!(
        e.contains("dependency cycle: s0 -> s1 -> s2"),
        "{}",
        &e[..200]
    );
    assert!(e.contains("-> s9999 -> s0"), "{}", &e[e.len() - 200..]);
    let p = load_text(text.split("[[session]]").next().unwrap()).unwrap();
    assert_eq!(p.name, "end");
}

// ---- schedule --------------------------------------------------------------------------------

fn names(p: &Plan, ws: &[Vec<Node>]) -> Vec<Vec<String>> {
    ws.iter()
        .map(|w| {
            w.iter()
                .map(|&n| match n {
                    Node::Session(_) => p.node_name(n).to_string(),
                    Node::Gate(_) => format!("gate {}", p.node_name(n)),
                })
                .collect()
        })
        .collect()
}

#[test]
fn waves_of_a_diamond() {
    let p = fixture("diamond.toml", &[]);
    assert_eq!(
        names(&p, &schedule::waves(&p)),
        vec![
            vec!["a"],
            vec!["b", "c"],
            vec!["d", "gate check-c"],
            vec!["e"],
        ]
    );
}

#[test]
fn waves_of_rag_mmm() {
    let p = fixture("rag-mmm.toml", &[]);
    assert_eq!(
        names(&p, &schedule::waves(&p)),
        vec![
            vec!["config-engineer"],
            vec![
                "digital-media-gen",
                "traditional-media-gen",
                "external-context-gen"
            ],
            vec!["sales-pipeline-gen"],
            vec!["validator"],
            vec!["gate final"],
        ]
    );
    let d = schedule::describe(&p);
    for line in [
        "plan      rag-mmm synthetic data",
        "contents  6 sessions, 3 datasets, 0 probes, 1 gate, 4 checks",
        "parallel  at most 6 sessions at once",
        "  wave 1: config-engineer\n",
        "  wave 2: digital-media-gen, traditional-media-gen, external-context-gen  (after config-engineer)\n",
        "  wave 3: sales-pipeline-gen  (after digital-media-gen, traditional-media-gen)\n",
        "  wave 5: gate final  (after validator)\n",
        "   1 config-engineer        $ agents/sim config-engineer  [Phase 1, restart on-failure x3]",
        "meta_ads     data/raw/meta_ads.csv (csv, owner digital-media-gen), 2 checks",
        "final  1 own check; manual approval",
    ] {
        assert!(d.contains(line), "missing {line:?} in:\n{d}");
    }
    assert!(d.contains(&format!("root      {}", p.root.display())));
}

#[test]
fn describe_the_full_plan() {
    let p = fixture("full.toml", &[]);
    let d = schedule::describe(&p);
    for line in [
        "contents  3 sessions, 4 datasets, 2 probes, 2 gates, 7 checks",
        "  wave 1: config-engineer\n",
        "  wave 2: gate gate-1  (after config-engineer)\n",
        "  wave 3: digital-media-gen  (after config-engineer, gate-1)\n",
        "  wave 4: reviewer  (after digital-media-gen:started, config-engineer:finished)\n",
        "  wave 5: gate final  (after reviewer, digital-media-gen:finished)\n",
        "risk_latency  $ ./bench/risk.sh --days 90  (timeout 2m00s, 2 checks)",
        "gate-1  datasets dealers; probes risk_latency; 1 own check; manual approval; CONDITIONAL lets dependents start",
        "worktree feature/review",
        "agent claude]",
        "agent codex]",
        "logs      at most 512.0 MiB per session (log_limit)",
        "notify    $ notify-send sim \"$FLIGHTDECK_MESSAGE\"",
    ] {
        assert!(d.contains(line), "missing {line:?} in:\n{d}");
    }
}

#[test]
fn read_errors_name_the_file() {
    let e = plan::load(&plans_dir().join("nope.toml"), &BTreeMap::new()).unwrap_err();
    assert_eq!(e.line, 0);
    assert!(e.to_string().contains("nope.toml: cannot read plan"), "{e}");
}

#[test]
fn a_missing_root_is_made_by_the_run() {
    let p = load_text("[plan]\nname = \"t\"\nroot = \"../not-yet/there\"\n").unwrap();
    assert!(p.root.is_absolute());
    assert!(
        p.root.ends_with("tests/not-yet/there"),
        "{}",
        p.root.display()
    );
    assert!(p.records.starts_with(&p.root));
}

// ---- bad plans through the real binary ---------------------------------------------------

mod common;

/// Run the real `flightdeck` with a deadline: (exit code, stdout, stderr).
fn flightdeck(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_flightdeck"))
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = common::wait_with_deadline(child, Duration::from_secs(30));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `validate` a plan written into a fresh directory: (exit code, stdout, stderr).
fn validate(plan: &[u8], extra: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plan.toml"), plan).unwrap();
    let mut args = vec!["validate", "plan.toml"];
    args.extend(extra);
    flightdeck(dir.path(), &args)
}

/// A plan error: exit 2 and `plan.toml:LINE:COL: ` followed by `needle` on stderr.
#[track_caller]
fn rejected(plan: &str, line_col: &str, needle: &str) {
    let (code, _, err) = validate(plan.as_bytes(), &[]);
    assert_eq!(code, 2, "expected exit 2; stderr: {err}");
    assert!(
        err.contains(&format!("plan.toml:{line_col}: ")) && err.contains(needle),
        "expected plan.toml:{line_col} and {needle:?} in: {err}"
    );
}

const ONE_SESSION: &str = "[plan]\nname = \"t\"\n[[session]]\nname = \"a\"\ncommand = \"true\"\n";

#[test]
fn binary_rejects_zero_timeout_and_backoff() {
    rejected(
        &format!("{ONE_SESSION}timeout = \"0s\"\n"),
        "6:11",
        "`timeout` in session `a` must be more than 0",
    );
    rejected(
        &format!("{ONE_SESSION}restart = \"always\"\nbackoff = \"0s\"\n"),
        "7:11",
        "`backoff` in session `a` must be more than 0",
    );
    // Quiet at once means nothing; no grace means SIGKILL right after SIGTERM.
    rejected(
        &format!("{ONE_SESSION}quiet_after = \"0s\"\n"),
        "6:15",
        "`quiet_after` in session `a` must be more than 0",
    );
    let plan = format!("{ONE_SESSION}stop_grace = \"0s\"\n");
    let (code, _, err) = validate(plan.as_bytes(), &[]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn binary_expands_vars_in_vars_and_names_a_loop() {
    let plan = "[plan]\nname = \"t\"\n[vars]\ngreeting = \"hello {who}\"\nwho = \"world\"\n\
                [[session]]\nname = \"a\"\ncommand = \"echo {greeting}\"\n";
    let (code, out, err) = validate(plan.as_bytes(), &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("$ echo hello world"), "{out}");
    let (code, out, err) = validate(plan.as_bytes(), &["--var", "who={x}"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("$ echo hello {x}"),
        "--var values are literal: {out}"
    );
    rejected(
        "[plan]\nname = \"t\"\n[vars]\na = \"{b}\"\nb = \"<{a}>\"\n",
        "5:7",
        "variable loop in [vars]: a -> b -> a",
    );
}

#[test]
fn binary_refuses_max_parallel_zero_before_starting() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("plan.toml"),
        "[plan]\nname = \"t\"\n[[session]]\nname = \"a\"\ncommand = \"touch started\"\n",
    )
    .unwrap();
    let (code, _, err) = flightdeck(
        dir.path(),
        &["run", "plan.toml", "--no-tui", "--max-parallel", "0"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--max-parallel") && err.contains("at least 1"),
        "{err}"
    );
    assert!(!dir.path().join("started").exists(), "nothing was started");
    assert!(
        !dir.path().join(".flightdeck").exists(),
        "no run was recorded"
    );
}

#[test]
fn binary_positions_bytes_that_are_not_utf8() {
    let (code, _, err) = validate(b"[plan]\nname = \"caf\xe9\"\n", &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("plan.toml:2:12: the plan is not UTF-8 text: byte 0xe9"),
        "{err}"
    );
}

#[test]
fn binary_says_a_cwd_that_is_a_file_is_not_a_directory() {
    rejected(
        &format!("{ONE_SESSION}cwd = \"plan.toml\"\n"),
        "6:7",
        "`cwd` in session `a`: `plan.toml` is not a directory",
    );
}

#[test]
fn binary_rejects_an_empty_between_range() {
    rejected(
        "[plan]\nname = \"t\"\n[[dataset]]\nname = \"d\"\npath = \"d.csv\"\n\
         checks = [\"row_count between 10 and 1\"]\n",
        "6:22",
        "check `row_count between 10 and 1` in dataset `d`: the range is empty",
    );
}

#[test]
fn binary_check_says_the_root_does_not_exist_yet() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("plan.toml"),
        "[plan]\nname = \"t\"\nroot = \"work\"\n[[probe]]\nname = \"p\"\ncommand = \"true\"\n\
         checks = [\"exit_code = 0\"]\n",
    )
    .unwrap();
    let (code, _, err) = flightdeck(dir.path(), &["check", "plan.toml"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("work does not exist yet (a run creates it)"),
        "{err}"
    );
    assert!(!err.contains("cannot start"), "{err}");
}
