//! The project explains itself: every plan in README.md and docs/ validates with the
//! real `flightdeck validate`; `init` writes a plan that validates and never overwrites
//! one; completions print a script per shell; `--help` has examples; and no tracked
//! file points users at papers they do not have.

mod common;

use std::os::fd::FromRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_flightdeck");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run flightdeck in `dir` with a deadline (a hung command fails the test).
fn flightdeck(dir: &Path, args: &[&str]) -> Output {
    let child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start flightdeck");
    common::wait_with_deadline(child, Duration::from_secs(60))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The Markdown files users read: README.md and everything under docs/.
fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![repo().join("README.md")];
    let mut dirs = vec![repo().join("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read docs/") {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Fenced ```toml blocks with their first line number (1-based, the fence's).
fn toml_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (index, line) in markdown.lines().enumerate() {
        let fence = line.trim_start();
        match &mut current {
            None if fence.starts_with("```toml") => current = Some((index + 1, String::new())),
            Some(_) if fence.starts_with("```") => blocks.push(current.take().unwrap()),
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
            None => {}
        }
    }
    assert!(current.is_none(), "a ```toml block is not closed");
    blocks
}

/// The string values of `key = "..."` lines in a snippet (enough for `input` and `cwd`,
/// which must exist for a plan to validate).
fn values_of(snippet: &str, key: &str) -> Vec<String> {
    snippet
        .lines()
        .filter_map(|line| {
            let rest = line.trim_start().strip_prefix(key)?.trim_start();
            let rest = rest.strip_prefix('=')?.trim_start();
            let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            let value = &rest[1..];
            Some(value[..value.find(quote)?].to_string())
        })
        .collect()
}

#[test]
fn every_plan_in_the_docs_validates() {
    let mut plans = 0;
    let mut failures = Vec::new();
    for file in markdown_files() {
        let markdown = std::fs::read_to_string(&file).unwrap();
        for (line, snippet) in toml_blocks(&markdown) {
            if !snippet.contains("[plan]") {
                continue;
            }
            plans += 1;
            // Each snippet in a directory of its own, with the prompt files and working
            // directories it names, as the reader's project would have them.
            let dir = tempfile::tempdir().unwrap();
            for input in values_of(&snippet, "input") {
                let path = dir.path().join(input);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, "the prompt\n").unwrap();
            }
            for cwd in values_of(&snippet, "cwd") {
                std::fs::create_dir_all(dir.path().join(cwd)).unwrap();
            }
            std::fs::write(dir.path().join("plan.toml"), &snippet).unwrap();
            let out = flightdeck(dir.path(), &["validate", "plan.toml"]);
            if !out.status.success() {
                let name = file.strip_prefix(repo()).unwrap().display().to_string();
                failures.push(format!(
                    "{name}:{line}: the plan does not validate (exit {:?}):\n{}",
                    out.status.code(),
                    text(&out.stderr)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // README.md and docs/ hold several plans; none found means the extraction broke.
    assert!(
        plans >= 5,
        "only {plans} plans found in README.md and docs/"
    );
}

#[test]
fn init_writes_a_plan_that_validates() {
    let dir = tempfile::tempdir().unwrap();
    let out = flightdeck(dir.path(), &["init"]);
    assert!(out.status.success(), "init: {}", text(&out.stderr));
    assert!(text(&out.stdout).contains("flightdeck.toml"));
    let plan = std::fs::read_to_string(dir.path().join("flightdeck.toml")).unwrap();
    assert!(plan.starts_with("# "), "the starter plan is commented");

    // validate without a PLAN reads ./flightdeck.toml.
    let out = flightdeck(dir.path(), &["validate"]);
    let schedule = text(&out.stdout);
    assert!(out.status.success(), "validate: {}", text(&out.stderr));
    assert!(
        schedule.contains("3 sessions, 2 datasets, 0 probes, 1 gate"),
        "{schedule}"
    );
    for name in ["customers", "orders", "report", "data-ready"] {
        assert!(schedule.contains(name), "{name} missing from:\n{schedule}");
    }
}

#[test]
fn init_never_overwrites_a_plan() {
    let dir = tempfile::tempdir().unwrap();
    let first = flightdeck(dir.path(), &["init"]);
    assert!(first.status.success(), "{}", text(&first.stderr));

    // A plan of the user's own is there: init refuses and leaves it as it is.
    let mine = "[plan]\nname = \"mine\"\n";
    std::fs::write(dir.path().join("flightdeck.toml"), mine).unwrap();
    let second = flightdeck(dir.path(), &["init"]);
    assert_eq!(second.status.code(), Some(2));
    assert!(
        text(&second.stderr).contains("already exists"),
        "{}",
        text(&second.stderr)
    );
    let after = std::fs::read_to_string(dir.path().join("flightdeck.toml")).unwrap();
    assert_eq!(after, mine);
}

#[test]
fn no_plan_and_no_flightdeck_toml_is_a_clear_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["validate"][..], &["check"], &["run", "--no-tui"]] {
        let command = args[0];
        let out = flightdeck(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{command}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("flightdeck.toml") && stderr.contains("flightdeck init"),
            "{command}: {stderr}"
        );
    }
}

#[test]
fn completions_print_a_script_for_each_shell() {
    let dir = tempfile::tempdir().unwrap();
    // What marks each shell's script, and a subcommand every script must offer.
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef flightdeck"),
        ("fish", "complete -c flightdeck"),
    ] {
        let out = flightdeck(dir.path(), &["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        assert!(
            script.contains(marker),
            "{shell}: no `{marker}` in the script"
        );
        for subcommand in ["run", "validate", "init", "completions"] {
            assert!(
                script.contains(subcommand),
                "{shell}: `{subcommand}` missing"
            );
        }
    }
    let out = flightdeck(dir.path(), &["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn completions_into_a_closed_pipe_end_quietly() {
    // `flightdeck completions bash | head -1`: the reader is gone before the write.
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    unsafe { libc::close(fds[0]) };
    let write_end = unsafe { std::os::fd::OwnedFd::from_raw_fd(fds[1]) };
    let child = Command::new(BIN)
        .args(["completions", "bash"])
        .stdin(Stdio::null())
        .stdout(Stdio::from(write_end))
        .stderr(Stdio::piped())
        .spawn()
        .expect("start flightdeck");
    let out = common::wait_with_deadline(child, Duration::from_secs(60));
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
}

/// The subcommands `flightdeck --help` lists (hidden ones and `help` left out).
fn subcommands(dir: &Path) -> Vec<String> {
    let out = flightdeck(dir, &["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    // Each as `--help` lists it: two spaces, the name, then its summary.
    let names: Vec<String> = help
        .split("Commands:")
        .nth(1)
        .expect("a Commands: section")
        .lines()
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next().map(String::from))
        .filter(|name| name != "help")
        .collect();
    assert!(names.len() >= 6, "{help}");
    names
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    let dir = tempfile::tempdir().unwrap();
    for subcommand in subcommands(dir.path()) {
        let out = flightdeck(dir.path(), &[&subcommand, "--help"]);
        assert!(out.status.success(), "{subcommand} --help");
        let help = text(&out.stdout);
        assert!(
            help.contains("Examples:") && help.contains(&format!("flightdeck {subcommand}")),
            "`flightdeck {subcommand} --help` has no example:\n{help}"
        );
    }
}

/// docs/commands.md names every subcommand and every flag the binary has.
#[test]
fn the_command_reference_has_every_command_and_flag() {
    let dir = tempfile::tempdir().unwrap();
    let reference = std::fs::read_to_string(repo().join("docs/commands.md")).unwrap();
    let mut missing = Vec::new();
    for subcommand in subcommands(dir.path()) {
        if !reference.contains(&format!("flightdeck {subcommand}")) {
            missing.push(format!("flightdeck {subcommand}"));
        }
        let out = flightdeck(dir.path(), &[&subcommand, "--help"]);
        let help = text(&out.stdout);
        let options = help.split("Options:").nth(1).unwrap_or("");
        for flag in options
            .lines()
            .skip(1)
            .take_while(|line| line.starts_with("  "))
            .flat_map(|line| line.split([' ', ',']))
            .filter(|word| word.starts_with("--") && *word != "--help")
        {
            if !reference.contains(flag) {
                missing.push(format!("flightdeck {subcommand} {flag}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/commands.md does not mention: {}",
        missing.join(", ")
    );
}

#[test]
fn version_names_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let out = flightdeck(dir.path(), &["--version"]);
    assert!(out.status.success());
    let version = text(&out.stdout);
    assert!(
        version.starts_with(&format!("flightdeck {}", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    // Built from a git checkout (as the tests are): a commit of this repository is
    // named (HEAD's at build time; a commit made since may have moved HEAD on).
    let inside = Command::new("git")
        .args(["rev-parse", "--git-dir"])
        .current_dir(repo())
        .output()
        .expect("git");
    if inside.status.success() {
        let commit = version
            .split("commit ")
            .nth(1)
            .and_then(|rest| rest.split([',', ')']).next())
            .unwrap_or_default();
        assert!(commit.len() == 12, "{version}");
        let known = Command::new("git")
            .args(["cat-file", "-e", &format!("{commit}^{{commit}}")])
            .current_dir(repo())
            .status()
            .expect("git");
        assert!(
            known.success(),
            "{version}: {commit} is no commit of this repository"
        );
    }
}

/// What users cannot follow: papers outside the repository, and the sections of them
/// that comments used to cite (comments point into docs/ instead).
#[test]
fn no_tracked_file_points_outside_the_repository() {
    let out = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(repo())
        .output()
        .expect("git ls-files");
    assert!(out.status.success(), "git ls-files: {}", text(&out.stderr));
    // Spelled in pieces, so that this file does not point there itself.
    let forbidden = [["..", "/shared"].concat(), ["SPEC", " §"].concat()];
    let mut hits = Vec::new();
    for name in text(&out.stdout).split('\0').filter(|n| !n.is_empty()) {
        let Ok(content) = std::fs::read_to_string(repo().join(name)) else {
            continue; // binary or deleted in the work tree
        };
        for (index, line) in content.lines().enumerate() {
            if forbidden.iter().any(|text| line.contains(text.as_str())) {
                hits.push(format!("{name}:{}: {}", index + 1, line.trim()));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "point users at docs/ instead:\n{}",
        hits.join("\n")
    );
}

/// The key tables of docs/control-room.md, from the control room's keymap: the same
/// table drives the keys and the `?` help, so the docs cannot drift from either.
fn key_tables() -> String {
    use flightdeck::tui::keymap::{HELP_MODES, Mode};
    let mut out = String::new();
    let modes = HELP_MODES
        .iter()
        .copied()
        .chain([Mode::Input, Mode::Details]);
    for mode in modes {
        let title = mode.title();
        let mut heading = title[..1].to_uppercase();
        heading.push_str(&title[1..]);
        out.push_str(&format!("\n### {heading}\n\n{}", key_table(mode)));
    }
    out.push('\n');
    out
}

/// One mode's keys as a Markdown table.
fn key_table(mode: flightdeck::tui::keymap::Mode) -> String {
    let mut out = String::from("| key | what it does |\n|---|---|\n");
    for (label, help) in flightdeck::tui::keymap::help_rows(mode) {
        // Keys in code style; words that stand for keys (arrows, typing) as words.
        let keys: Vec<String> = label
            .split(" / ")
            .map(|key| {
                let word = key.len() > 1 && key.chars().all(|c| c.is_ascii_lowercase() || c == ' ');
                if word {
                    key.to_string()
                } else {
                    format!("`{key}`")
                }
            })
            .collect();
        out.push_str(&format!("| {} | {help} |\n", keys.join(" / ")));
    }
    out
}

/// Check (or, with FLIGHTDECK_BLESS, write) the generated part of a page: between
/// the end of its `<!-- keys:` comment and `<!-- end of keys -->`.
fn generated_keys(page: &str, tables: &str) {
    let path = repo().join(page);
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("<!-- keys:").expect("a `<!-- keys:` marker");
    let start = start + text[start..].find("-->").unwrap() + "-->".len();
    let end = text
        .find("<!-- end of keys -->")
        .expect("an end-of-keys marker");
    if std::env::var_os("FLIGHTDECK_BLESS").is_some() {
        let text = format!("{}\n{}{}", &text[..start], tables, &text[end..]);
        std::fs::write(&path, text).unwrap();
        return;
    }
    assert!(
        text[start..end].trim() == tables.trim(),
        "{page} lists other keys than the control room has; \
         FLIGHTDECK_BLESS=1 cargo test --test docs writes them again:\n{tables}"
    );
}

#[test]
fn the_control_room_page_lists_every_key() {
    generated_keys("docs/control-room.md", &key_tables());
}

/// The README's table is the grid's own keys, from the same keymap.
#[test]
fn the_readme_lists_the_grid_keys() {
    let table = key_table(flightdeck::tui::keymap::Mode::Normal);
    generated_keys("README.md", &format!("\n{table}\n"));
}

/// A heading's anchor as GitHub makes it: lower case, spaces to `-`, punctuation
/// other than `-` and `_` dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Every relative link in README.md and docs/ leads to a file that exists, and to a
/// heading of it when it names one.
#[test]
fn every_link_between_the_docs_leads_somewhere() {
    let link = regex::Regex::new(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)").unwrap();
    let mut broken = Vec::new();
    for file in markdown_files() {
        let markdown = std::fs::read_to_string(&file).unwrap();
        let name = file.strip_prefix(repo()).unwrap().display().to_string();
        for found in link.captures_iter(&markdown) {
            let target = &found[1];
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let path = if target.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(target)
            };
            let Ok(text) = std::fs::read_to_string(&path) else {
                if !path.exists() {
                    broken.push(format!("{name}: {}", &found[0]));
                }
                continue;
            };
            if let Some(fragment) = found.get(2) {
                let headings: Vec<String> = text
                    .lines()
                    .filter(|line| line.starts_with('#'))
                    .map(|line| anchor(line.trim_start_matches('#')))
                    .collect();
                if !headings.iter().any(|h| h == fragment.as_str()) {
                    broken.push(format!("{name}: {} (no such heading)", &found[0]));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}
