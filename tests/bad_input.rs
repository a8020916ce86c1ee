//! Bad input never hangs, never blows up, never lies: files that are not regular
//! files, records too long to hold, unterminated quotes, repeated header names and
//! compressed data — through the checker and through the real binary.

use flightdeck::checks::{CheckResult, CheckStatus, Checker};
use flightdeck::plan::{DatasetSpec, Plan};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "common/checker.rs"]
mod checker;

use checker::{ds, write};

/// A plan of these datasets only.
fn plan(root: &Path, datasets: Vec<DatasetSpec>) -> Arc<Plan> {
    checker::plan(root, datasets, vec![], vec![])
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_flightdeck")
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

#[track_caller]
fn error_is(r: &CheckResult, message: &str) {
    assert_eq!(
        (r.status, r.message.as_str()),
        (CheckStatus::Error, message)
    );
}

/// A child's exit code, its stdout and its peak memory (KB), killed past `limit`.
fn run_measured(dir: &Path, args: &[&str], limit: Duration) -> (i32, String, i64) {
    let out_path = dir.join(".stdout");
    // Reaped by `wait4` below, which also gives its peak memory.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(bin())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let deadline = Instant::now() + limit;
    loop {
        let mut status = 0;
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            let code = if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                -1
            };
            let out = std::fs::read_to_string(&out_path).unwrap();
            return (code, out, usage.ru_maxrss);
        }
        if Instant::now() > deadline {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("flightdeck {args:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ------------------------------------------------------------ only regular files

#[test]
fn fifo_socket_device_and_directory_are_errors_at_once() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    mkfifo(&root.join("pipe.csv"));
    let _socket = std::os::unix::net::UnixListener::bind(root.join("sock.csv")).unwrap();
    std::fs::create_dir(root.join("dir.csv")).unwrap();
    let p = plan(
        root,
        vec![
            ds("pipe", "pipe.csv", &["row_count = 1"]),
            ds("sock", "sock.csv", &["exists"]),
            ds("device", "/dev/zero", &["row_count = 1"]),
            ds("dir", "dir.csv", &["row_count = 1"]),
            // In a glob, anything but a regular file is not one of the dataset's files.
            ds("globbed", "*.csv", &["file_count = 0"]),
        ],
    );
    let started = Instant::now();
    let mut c = Checker::new(p);
    error_is(
        &c.dataset(0, true)[0],
        "row_count: pipe.csv is a FIFO (named pipe), not a regular file",
    );
    error_is(
        &c.dataset(1, true)[0],
        "exists: sock.csv is a socket, not a regular file",
    );
    error_is(
        &c.dataset(2, true)[0],
        "row_count: /dev/zero is a device, not a regular file",
    );
    error_is(
        &c.dataset(3, true)[0],
        "row_count: dir.csv is a directory, not a file",
    );
    assert_eq!(c.dataset(4, true)[0].status, CheckStatus::Pass);
    assert!(started.elapsed() < Duration::from_secs(5));
}

const FIFO_PLAN: &str = r#"
[plan]
name = "fifo"

[[session]]
name = "writer"
command = "true"

[[dataset]]
name = "piped"
path = "pipe.csv"
owner = "writer"
checks = ["row_count > 0"]
"#;

#[test]
fn a_run_and_check_on_a_fifo_finish_with_the_error() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    std::fs::write(dir.join("plan.toml"), FIFO_PLAN).unwrap();
    mkfifo(&dir.join("pipe.csv"));
    let started = Instant::now();
    let (code, out, _) = run_measured(dir, &["check", "plan.toml"], Duration::from_secs(30));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("pipe.csv is a FIFO (named pipe), not a regular file"),
        "{out}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let (code, out, _) = run_measured(
        dir,
        &["run", "plan.toml", "--no-tui"],
        Duration::from_secs(60),
    );
    assert_eq!(code, 1, "{out}");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(".flightdeck/runs/latest/report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["checks"][0]["status"], "error", "{report}");
    assert_eq!(
        report["checks"][0]["message"],
        "row_count: pipe.csv is a FIFO (named pipe), not a regular file"
    );
}

#[path = "common/tmux.rs"]
mod tmux;

/// In the control room, a run whose dataset is a FIFO shows the error while its
/// session runs, and `q` `y` ends it within seconds (the checker never holds the
/// engine); a run that finishes on it shows exit 1 and `q` leaves with it.
#[test]
fn the_control_room_quits_at_once_on_a_fifo_dataset() {
    if !tmux::available() {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let runtime = dir.join("runtime");
    std::fs::create_dir(&runtime).unwrap();
    mkfifo(&dir.join("pipe.csv"));
    let launch = |plan: &str| {
        std::fs::write(dir.join("plan.toml"), plan).unwrap();
        let cmd = format!("{} run plan.toml; echo EXIT=$?; sleep 60", bin());
        tmux::Tmux::start_sized(&cmd, dir, &[("XDG_RUNTIME_DIR", &runtime)], 120, 40)
    };
    let errored = |s: &str| s.contains("1 error") || s.contains("FIFO");

    // The session keeps running and `c` checks the dataset (owned by no one) now:
    // the run is live when the user quits.
    let live = FIFO_PLAN
        .replace(r#"command = "true""#, r#"command = "sleep 4242""#)
        .replace("owner = \"writer\"\n", "");
    let tm = launch(&live);
    tm.wait_for("the session running", |s| s.contains("writer running"));
    tm.keys(&["c"]);
    tm.wait_for("the check's error", errored);
    tm.keys(&["q"]);
    tm.wait_for("the quit dialog", |s| s.contains("Quit?"));
    let asked = Instant::now();
    tm.keys(&["y"]);
    let s = tm.wait_for("the control room to end", |s| s.contains("EXIT="));
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "{:?}",
        asked.elapsed()
    );
    assert!(s.contains("EXIT=130"), "{s}");
    assert!(
        !tmux::alive_with("sleep 4242"),
        "the session outlived the run"
    );
    drop(tm);

    // The writer ends: the run completes with the error.
    let tm = launch(FIFO_PLAN);
    tm.wait_for("the finished run", |s| {
        s.contains("finished") && s.contains("exit 1")
    });
    tm.keys(&["q"]);
    let s = tm.wait_for("the control room to end", |s| s.contains("EXIT="));
    assert!(s.contains("EXIT=1"), "{s}");
}

// ------------------------------------------------------------ bounded memory

const SPARSE_PLAN: &str = r#"
[plan]
name = "sparse"

[[dataset]]
name = "nuls"
path = "nuls.csv"
checks = ["row_count > 0"]

[[dataset]]
name = "rows"
path = "rows.csv"
checks = ["row_count > 0", "max(a) > 0"]

[[dataset]]
name = "lines"
path = "lines.jsonl"
checks = ["row_count > 0"]

[[dataset]]
name = "wide"
path = "wide.csv"
checks = ["max(b) = 'x'", "sum(x) > 0"]
"#;

/// 2 GB sparse files (one line of NULs), with and without a header: errors in seconds,
/// under 300 MB of memory, and a short answer.
#[test]
fn two_gigabytes_of_nuls_give_an_error_in_seconds_in_bounded_memory() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    std::fs::write(dir.join("plan.toml"), SPARSE_PLAN).unwrap();
    let sparse = |name: &str, head: &[u8]| {
        let mut f = std::fs::File::create(dir.join(name)).unwrap();
        f.write_all(head).unwrap();
        f.set_len(2 << 30).unwrap();
    };
    sparse("nuls.csv", b"");
    sparse("rows.csv", b"a\n");
    sparse("lines.jsonl", b"");
    // A long value in a column: quoted in messages and results up to 80 characters.
    let long = "y".repeat(1 << 20);
    write(dir, "wide.csv", format!("b,{long}\n{long},1\n"));
    let started = Instant::now();
    let (code, out, max_rss_kb) = run_measured(
        dir,
        &["check", "plan.toml", "--format", "json"],
        Duration::from_secs(120),
    );
    let took = started.elapsed();
    assert_eq!(code, 1, "{out}");
    assert!(out.len() < 8 << 10, "{} bytes of output", out.len());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let message = |i: usize| v["checks"][i]["message"].as_str().unwrap().to_string();
    assert_eq!(
        message(0),
        "row_count: nuls.csv: the header is longer than 64 MB"
    );
    assert_eq!(
        message(1),
        "row_count: rows.csv, row 1: the record is longer than 64 MB"
    );
    assert_eq!(
        message(3),
        "row_count: lines.jsonl: line 1: longer than 64 MB"
    );
    let value = v["checks"][4]["value"].as_str().unwrap();
    assert_eq!(value.chars().count(), 81, "{value}");
    assert!(value.ends_with("y…"));
    assert!(message(5).ends_with("y…)"), "{}", message(5));
    assert!(message(5).len() < 2000, "{}", message(5));
    assert!(took < Duration::from_secs(60), "took {took:?}");
    assert!(max_rss_kb < 300 << 10, "peak memory {max_rss_kb} KB");
    eprintln!("2 GB sparse files: {took:?}, peak {} MB", max_rss_kb >> 10);
}

// ------------------------------------------------------------ truthful CSV

#[test]
fn unterminated_quotes_and_repeated_header_names_are_errors() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    write(root, "open.csv", "a,b\n1,2\n3,\"never\nclosed\n4,5\n");
    write(root, "open_header.csv", "a,\"b\n1,2\n");
    write(root, "twice.csv", "a,b,a\n1,2,3\n");
    write(root, "ragged.csv", "a,b\n1,2\n3\n");
    // Big enough for parallel chunks, the open quote in the last one.
    let mut big = String::from("id,note\n");
    let mut rows = 0;
    while big.len() < 9 << 20 {
        rows += 1;
        big.push_str(&format!("{rows},\"quoted, fine\"\n"));
    }
    big.push_str("0,\"open\n1,2\n");
    write(root, "big_open.csv", &big);
    let p = plan(
        root,
        vec![
            ds("open", "open.csv", &["row_count = 3"]),
            ds("open_header", "open_header.csv", &["row_count = 1"]),
            ds("twice", "twice.csv", &["sum(a) = 1", "row_count = 1"]),
            ds("ragged", "ragged.csv", &["row_count = 2"]),
            ds(
                "big_open",
                "big_open.csv",
                &["row_count > 0", "max(id) > 0"],
            ),
        ],
    );
    let mut c = Checker::new(p);
    error_is(
        &c.dataset(0, true)[0],
        "row_count: open.csv, row 2: a quoted field opened in this row is never closed",
    );
    error_is(
        &c.dataset(1, true)[0],
        "row_count: open_header.csv: a quoted field opened in the header is never closed",
    );
    let r = c.dataset(2, true);
    error_is(
        &r[0],
        "sum(a): twice.csv: column `a` appears twice in the header (columns 1 and 3)",
    );
    assert_eq!(r[1].status, CheckStatus::Error);
    error_is(
        &c.dataset(3, true)[0],
        "row_count: ragged.csv, row 2: has 1 fields, the header has 2",
    );
    let r = c.dataset(4, true);
    let expected = format!(
        "big_open.csv, row {}: a quoted field opened in this row is never closed",
        rows + 1
    );
    error_is(&r[0], &format!("row_count: {expected}"));
    error_is(&r[1], &format!("max(id): {expected}"));
}

// ------------------------------------------------------------ compressed data

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn gzip_and_zstd_files_give_the_plain_files_results() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let mut csv = String::from("\u{feff}date,id,note,market,spend\r\n");
    for i in 0..150_000u64 {
        let market = ["UK", "DE", "FR"][(i % 3) as usize];
        let spend = if i % 17 == 0 {
            String::new()
        } else {
            format!("{}.{}", i % 997, i % 10)
        };
        csv.push_str(&format!(
            "2025-{:02}-{:02},C{},\"a, \"\"b\"\"\nc {i}\",{market},{spend}\n",
            1 + i % 12,
            1 + i % 28,
            i % 5000
        ));
    }
    let jsonl: String = (0..5000)
        .map(|i| format!("{{\"id\": {i}, \"market\": \"UK\"}}\n\n"))
        .collect();
    let text = "one\ntwo\nthree";
    for (ext, bytes) in [
        ("", csv.as_bytes().to_vec()),
        (".gz", gzip(csv.as_bytes())),
        (".zst", zstd::encode_all(csv.as_bytes(), 3).unwrap()),
    ] {
        write(root, &format!("data.csv{ext}"), bytes);
    }
    write(root, "data.jsonl", &jsonl);
    write(root, "data.jsonl.gz", gzip(jsonl.as_bytes()));
    write(root, "data.txt", text);
    write(
        root,
        "data.txt.zst",
        zstd::encode_all(text.as_bytes(), 1).unwrap(),
    );
    let csv_checks = [
        "row_count = 150000",
        "sum(spend) > 0",
        "mean(spend) > 0",
        "min(date) >= 2025-01-01",
        "max(date) <= 2025-12-31",
        "null_count(spend) = 0",
        "distinct_count(id) = 5000",
        "duplicate_count(id, market) = 0",
        "market in ('UK', 'DE')",
        "row_count where market = 'UK' ~ 50000 ± 1%",
    ];
    let json_checks = ["row_count = 5000", "sum(id) > 0", "market in ('UK')"];
    let p = plan(
        root,
        vec![
            ds("plain", "data.csv", &csv_checks),
            ds("gz", "data.csv.gz", &csv_checks),
            ds("zst", "data.csv.zst", &csv_checks),
            ds("json", "data.jsonl", &json_checks),
            ds("json_gz", "data.jsonl.gz", &json_checks),
            ds("text", "data.txt", &["row_count = 3"]),
            ds("text_zst", "data.txt.zst", &["row_count = 3"]),
        ],
    );
    let mut c = Checker::new(p);
    let comparable = |rs: Vec<CheckResult>, name: &str| -> Vec<_> {
        rs.into_iter()
            .map(|r| {
                (
                    r.status,
                    r.value,
                    r.expected,
                    r.message.replace(name, "FILE"),
                )
            })
            .collect()
    };
    let plain = comparable(c.dataset(0, true), "data.csv");
    assert_eq!(plain[0].0, CheckStatus::Pass, "{plain:?}");
    assert_eq!(plain[8].0, CheckStatus::Fail, "{plain:?}");
    assert_eq!(comparable(c.dataset(1, true), "data.csv.gz"), plain);
    assert_eq!(comparable(c.dataset(2, true), "data.csv.zst"), plain);
    let json = comparable(c.dataset(3, true), "data.jsonl");
    assert!(json.iter().all(|r| r.0 == CheckStatus::Pass), "{json:?}");
    assert_eq!(comparable(c.dataset(4, true), "data.jsonl.gz"), json);
    assert_eq!(c.dataset(5, true)[0].status, CheckStatus::Pass);
    assert_eq!(c.dataset(6, true)[0].status, CheckStatus::Pass);
}

#[test]
fn corrupt_and_truncated_compressed_files_are_errors_naming_the_file() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let csv: String = (0..20_000).map(|i| format!("{i},x\n")).collect();
    let csv = format!("a,b\n{csv}");
    write(root, "garbage.csv.gz", "this is not gzip at all");
    let gz = gzip(csv.as_bytes());
    write(root, "cut.csv.gz", &gz[..gz.len() / 2]);
    let zst = zstd::encode_all(csv.as_bytes(), 3).unwrap();
    write(root, "cut.csv.zst", &zst[..zst.len() / 2]);
    write(root, "data.parquet.gz", gzip(b"PAR1"));
    let p = plan(
        root,
        vec![
            ds("garbage", "garbage.csv.gz", &["row_count > 0"]),
            ds("cut_gz", "cut.csv.gz", &["row_count > 0"]),
            ds("cut_zst", "cut.csv.zst", &["sum(a) > 0"]),
            ds("parquet", "data.parquet.gz", &["row_count > 0"]),
        ],
    );
    let mut c = Checker::new(p);
    let r = c.dataset(0, true);
    assert_eq!(r[0].status, CheckStatus::Error);
    assert!(
        r[0].message
            .starts_with("row_count: garbage.csv.gz: corrupt gzip data: "),
        "{}",
        r[0].message
    );
    error_is(
        &c.dataset(1, true)[0],
        "row_count: cut.csv.gz: corrupt gzip data: truncated",
    );
    let r = c.dataset(2, true);
    assert_eq!(r[0].status, CheckStatus::Error);
    assert!(
        r[0].message
            .starts_with("sum(a): cut.csv.zst: corrupt zstd data"),
        "{}",
        r[0].message
    );
    error_is(
        &c.dataset(3, true)[0],
        "row_count: data.parquet.gz: a gzip compressed Parquet file cannot be read \
         (Parquet compresses its own pages)",
    );
}
