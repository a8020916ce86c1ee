//! The `flightdeck` command line (docs/commands.md).

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;
use flightdeck::client;
use flightdeck::engine::RunOptions;
use flightdeck::init;
use flightdeck::plan::{self, Plan};
use flightdeck::server::launch;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "flightdeck",
    version = env!("FLIGHTDECK_VERSION"),
    about = "A terminal control room for long multi-agent runs",
    long_about = "Runs every session of a plan in its own terminal pane, in the order its \
dependencies and phases allow; restarts what fails; watches the files they write; and holds \
validation gates (files, row counts, budget sums, keys, date ranges, probes) before the next \
phase starts. Headless with --no-tui for logs and CI.",
    after_help = "Start with `flightdeck init` (a commented ./flightdeck.toml) or `flightdeck demo`. \
The docs/ folder of the repository describes every command, plan key and check."
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a plan: the control room on a terminal, headless otherwise.
    #[command(after_help = "Examples:
  flightdeck run                                  # ./flightdeck.toml in the control room
  flightdeck run config/rag-mmm.toml --no-tui     # headless, for logs and CI
  flightdeck run plan.toml --only report --var agent=codex
  flightdeck run plan.toml --resume latest        # rerun what did not succeed")]
    Run {
        /// The plan file.
        #[arg(default_value = init::PLAN_FILE)]
        plan: PathBuf,
        /// Run headless even on a terminal.
        #[arg(long)]
        no_tui: bool,
        /// Approve manual gates automatically.
        #[arg(long)]
        yes: bool,
        /// Run just these sessions (comma-separated).
        #[arg(long, value_delimiter = ',')]
        only: Option<Vec<String>>,
        /// Mark these sessions skipped (comma-separated).
        #[arg(long, value_delimiter = ',')]
        skip: Vec<String>,
        /// Reuse a previous run's record (a run id or `latest`).
        #[arg(long, value_name = "RUN_ID|latest")]
        resume: Option<String>,
        /// Set a plan variable (repeatable).
        #[arg(long = "var", value_name = "KEY=VALUE")]
        vars: Vec<String>,
        /// At most N sessions at once (1 or more).
        #[arg(long, value_name = "N", value_parser = at_least_one)]
        max_parallel: Option<usize>,
        /// Start the run in the background, print its id and exit.
        #[arg(long, conflicts_with = "no_tui")]
        detach: bool,
    },
    /// Evaluate every dataset, probe and gate check once, now.
    #[command(after_help = "Examples:
  flightdeck check                                # ./flightdeck.toml, as a table
  flightdeck check config/rag-mmm.toml --format json | jq '.gates'")]
    Check {
        /// The plan file.
        #[arg(default_value = init::PLAN_FILE)]
        plan: PathBuf,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        #[arg(long = "var", value_name = "KEY=VALUE")]
        vars: Vec<String>,
    },
    /// Parse and lint a plan and print its schedule; starts nothing.
    #[command(after_help = "Examples:
  flightdeck validate                             # ./flightdeck.toml
  flightdeck validate config/voltmarket.toml --var agent=claude")]
    Validate {
        /// The plan file.
        #[arg(default_value = init::PLAN_FILE)]
        plan: PathBuf,
        #[arg(long = "var", value_name = "KEY=VALUE")]
        vars: Vec<String>,
    },
    /// Write the embedded demo plan and its simulated agents, then run it.
    #[command(after_help = "Examples:
  flightdeck demo                                 # the control room, about 30 s, offline
  flightdeck demo --no-tui --dir /tmp/fd-demo     # headless, written to /tmp/fd-demo")]
    Demo {
        #[arg(long)]
        no_tui: bool,
        /// Where to write the demo.
        #[arg(long, default_value = "flightdeck-demo")]
        dir: PathBuf,
    },
    /// Open the control room on a live run.
    #[command(after_help = "Examples:
  flightdeck attach                               # the only live run
  flightdeck attach latest
  flightdeck attach 20261130-0915                 # a unique prefix of a run id")]
    Attach {
        /// A run id, a unique prefix of one, or `latest` (default: the only live run).
        run: Option<String>,
    },
    /// The live runs of this user on this machine.
    #[command(after_help = "Examples:
  flightdeck ls
  flightdeck ls --format json | jq -r '.[].id'")]
    Ls {
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Control a live run: start|stop|restart|skip|done SESSION, approve GATE,
    /// recheck, input SESSION TEXT, quit.
    #[command(
        override_usage = "flightdeck ctl [RUN] VERB [NAME] [TEXT]",
        after_help = "Examples:
  flightdeck ctl approve data-ready
  flightdeck ctl restart orders
  flightdeck ctl latest input report \"Add a chart of revenue per month.\"
  flightdeck ctl quit"
    )]
    Ctl {
        #[arg(required = true, num_args = 1..=4, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// The run's events as JSON lines (the history, then live ones with --follow).
    #[command(after_help = "Examples:
  flightdeck events --follow | jq -c 'select(.event == \"gate_result\")'
  flightdeck events latest > events.jsonl")]
    Events {
        run: Option<String>,
        #[arg(long)]
        follow: bool,
    },
    /// A session's output as plain text.
    #[command(
        override_usage = "flightdeck logs [RUN] SESSION [--follow] [--raw]",
        after_help = "Examples:
  flightdeck logs orders --follow
  flightdeck logs latest orders --raw > orders.log"
    )]
    Logs {
        #[arg(required = true, num_args = 1..=2)]
        args: Vec<String>,
        #[arg(long)]
        follow: bool,
        /// As written, escape sequences included.
        #[arg(long)]
        raw: bool,
    },
    /// Write a commented starter plan, ./flightdeck.toml (never overwrites one).
    #[command(after_help = "Examples:
  flightdeck init && flightdeck validate && flightdeck run")]
    Init,
    /// Print a shell completion script.
    #[command(after_help = "Examples:
  flightdeck completions bash > ~/.local/share/bash-completion/completions/flightdeck
  flightdeck completions zsh > ~/.zfunc/_flightdeck     # with fpath+=~/.zfunc
  flightdeck completions fish > ~/.config/fish/completions/flightdeck.fish")]
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
    /// From inside a session: tell the run what it is doing (needs-input, working,
    /// idle, done), or pass on an agent CLI's hook (--hook claude|codex).
    #[command(after_help = "Examples:
  flightdeck notify needs-input \"Approve the schema change?\"
  flightdeck notify done
  flightdeck notify --hook claude        # as a Claude Code hook (flightdeck installs it)")]
    Notify {
        /// STATE [MESSAGE...]; with --hook codex, the payload Codex passes.
        args: Vec<String>,
        /// Read a hook payload: Claude Code's JSON on stdin, or Codex's notify JSON.
        #[arg(long, value_enum, value_name = "AGENT")]
        hook: Option<HookAgent>,
    },
    /// Helpers the simulated agents use.
    #[command(hide = true)]
    Sim {
        #[arg(trailing_var_arg = true)]
        args: Vec<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum HookAgent {
    Claude,
    Codex,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
}

/// `--max-parallel`: 0 would start nothing and wait forever.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1 (0 would never start a session)".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

fn parse_vars(vars: &[String]) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for v in vars {
        let (k, val) = v
            .split_once('=')
            .ok_or_else(|| format!("--var `{v}`: expected KEY=VALUE"))?;
        if k.is_empty() {
            return Err(format!("--var `{v}`: the key is empty"));
        }
        out.insert(k.to_string(), val.to_string());
    }
    Ok(out)
}

fn fail(code: u8, msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("flightdeck: {msg}");
    ExitCode::from(code)
}

fn load(path: &Path, vars: &[String]) -> Result<Plan, ExitCode> {
    if path == Path::new(init::PLAN_FILE) && !path.exists() {
        return Err(fail(
            2,
            "no PLAN given and there is no ./flightdeck.toml here (`flightdeck init` writes a starter)",
        ));
    }
    let vars = parse_vars(vars).map_err(|e| fail(2, e))?;
    plan::load(path, &vars).map_err(|e| {
        eprintln!("{e}");
        ExitCode::from(2)
    })
}

fn main() -> ExitCode {
    // Readable panic reports (with the location and a backtrace hint). The control
    // room's own hook restores the terminal first, then hands over to this one.
    let _ = color_eyre::install();
    let cli = Cli::parse();
    match cli.command {
        Cmd::Validate { plan, vars } => match load(&plan, &vars) {
            Ok(p) => {
                print!("{}", flightdeck::schedule::describe(&p));
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        Cmd::Check { plan, format, vars } => match load(&plan, &vars) {
            // Every dataset and probe lives under root: none can be checked yet.
            Ok(p) if !p.root.is_dir() => fail(
                1,
                format!(
                    "root directory {} does not exist yet (a run creates it): nothing to check",
                    p.root.display()
                ),
            ),
            Ok(p) => {
                let (text, code) = flightdeck::check_command::check_command(
                    Arc::new(p),
                    matches!(format, Format::Json),
                );
                print!("{text}");
                ExitCode::from(code as u8)
            }
            Err(code) => code,
        },
        Cmd::Run {
            plan,
            no_tui,
            yes,
            only,
            skip,
            resume,
            vars,
            max_parallel,
            detach,
        } => match load(&plan, &vars) {
            Ok(p) => {
                let opts = RunOptions {
                    yes,
                    only,
                    skip,
                    resume,
                    max_parallel,
                    ..Default::default()
                };
                run(p, opts, no_tui, detach)
            }
            Err(code) => code,
        },
        Cmd::Demo { no_tui, dir } => {
            let path = match flightdeck::demo::write(&dir) {
                Ok(p) => p,
                Err(e) => {
                    return fail(
                        2,
                        format!("cannot write the demo into {}: {e:#}", dir.display()),
                    );
                }
            };
            eprintln!("flightdeck: demo written to {}", dir.display());
            match load(&path, &[]) {
                Ok(p) => run(p, RunOptions::default(), no_tui, false),
                Err(code) => code,
            }
        }
        Cmd::Attach { run } => {
            client_result(client::resolve(run.as_deref()).and_then(|r| client::attach::attach(&r)))
        }
        Cmd::Ls { format } => client_result(client::ls(matches!(format, Format::Json)).map(|t| {
            print!("{t}");
            0
        })),
        Cmd::Ctl { args } => client_result(client::ctl(&args).map(|()| 0)),
        Cmd::Events { run, follow } => {
            client_result(client::events(run.as_deref(), follow).map(|()| 0))
        }
        Cmd::Logs { args, follow, raw } => {
            let (run, session) = match args.as_slice() {
                [session] => (None, session),
                [run, session, ..] => (Some(run.as_str()), session),
                [] => return fail(2, "logs needs a session name"),
            };
            client_result(client::logs(run, session, follow, raw).map(|()| 0))
        }
        Cmd::Init => match init::write(Path::new(".")) {
            Ok(path) => {
                println!(
                    "flightdeck: wrote {} (a starter plan: read its comments, then \
`flightdeck validate` and `flightdeck run`)",
                    path.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => fail(2, e),
        },
        Cmd::Completions { shell } => {
            // Into a buffer first: clap_complete panics on a failed write, and a reader
            // that stops early (`| head`) is no reason to crash.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "flightdeck", &mut script);
            match std::io::Write::write_all(&mut std::io::stdout(), &script) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => fail(1, e),
                _ => ExitCode::SUCCESS,
            }
        }
        Cmd::Notify { args, hook } => {
            use flightdeck::agent::client::{self, HookKind};
            let hook = hook.map(|h| match h {
                HookAgent::Claude => HookKind::Claude,
                HookAgent::Codex => HookKind::Codex,
            });
            let outcome = client::run(&args, hook, &mut std::io::stdin());
            if let Some(message) = outcome.message {
                eprintln!("flightdeck notify: {message}");
            }
            ExitCode::from(outcome.code)
        }
        Cmd::Sim { args } => match args.as_slice() {
            [cmd, input, output] if cmd == "csv2parquet" => {
                match flightdeck::sim::csv_to_parquet(Path::new(input), Path::new(output)) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => fail(1, format!("{e:#}")),
                }
            }
            _ => fail(2, "usage: flightdeck sim csv2parquet IN.csv OUT.parquet"),
        },
    }
}

/// A client command's outcome as an exit status: a usage error (an unknown run, a
/// bad verb) is 2, anything else that went wrong 1.
fn client_result(result: anyhow::Result<i32>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) if e.downcast_ref::<client::Usage>().is_some() => fail(2, e),
        Err(e) => fail(1, format!("{e:#}")),
    }
}

/// Attach to the run just started, as `flightdeck attach ID` would. The client lives
/// as long as the user watches, so it does so as a fresh image of this binary: without
/// the pages and heap that reading the plan left behind (about 1 MB,
/// docs/troubleshooting.md "Memory"). Where that cannot be, from here.
fn attach_afresh(run: client::Run) -> ExitCode {
    use std::os::unix::process::CommandExt;
    let argv0 = std::env::args_os()
        .next()
        .unwrap_or_else(|| "flightdeck".into());
    // By its path, so `ps` names it; a binary replaced since (a rebuild) by the link.
    let exe = std::env::current_exe()
        .ok()
        .filter(|p| p.exists())
        .unwrap_or_else(|| "/proc/self/exe".into());
    // Returns only when the exec failed.
    let _ = std::process::Command::new(exe)
        .arg0(argv0)
        .args(["attach", &run.id])
        .exec();
    client_result(client::attach::attach(&run))
}

fn run(plan: Plan, mut opts: RunOptions, no_tui: bool, detach: bool) -> ExitCode {
    let plan = Arc::new(plan);
    let tty = std::io::stdout().is_terminal();
    if detach {
        return match launch::background(plan, opts, false) {
            Ok((id, _)) => {
                println!("{id}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(2, format!("{e:#}")),
        };
    }
    if tty && !no_tui {
        opts.pane_sizes = client::attach::initial_sizes(&plan, opts.only.as_deref());
        return match launch::background(plan, opts, true) {
            Ok((id, socket)) => attach_afresh(client::Run { id, socket }),
            Err(e) => fail(2, format!("{e:#}")),
        };
    }
    if !no_tui {
        eprintln!("flightdeck: stdout is not a terminal; running headless");
    }
    let color = tty && std::env::var_os("NO_COLOR").is_none();
    match launch::foreground(plan, opts, color) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => fail(2, format!("{e:#}")),
    }
}
