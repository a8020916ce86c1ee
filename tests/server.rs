//! The run's server end to end: the real binary, a real Unix socket, real processes
//! and, for the control room, a real tmux. Each test has its own socket directory
//! (`XDG_RUNTIME_DIR`), so runs never see each other.

mod common;
#[path = "common/tmux.rs"]
mod tmux;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_flightdeck")
}

/// A project directory and a socket directory of its own.
struct Fixture {
    project: tempfile::TempDir,
    runtime: tempfile::TempDir,
}

impl Fixture {
    fn new(plan: &str) -> Fixture {
        let f = Fixture {
            project: tempfile::tempdir().unwrap(),
            runtime: tempfile::tempdir().unwrap(),
        };
        std::fs::write(f.project.path().join("plan.toml"), plan).unwrap();
        f
    }

    fn dir(&self) -> &Path {
        self.project.path()
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.args(args)
            .current_dir(self.dir())
            .env("XDG_RUNTIME_DIR", self.runtime.path())
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        let child = self
            .cmd(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        common::wait_with_deadline(child, Duration::from_secs(30))
    }

    /// Run and expect success; stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "flightdeck {args:?}: {:?}\n{}{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.record()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The last run's server log and events, to explain a failure.
    fn record(&self) -> String {
        let latest = self.dir().join(".flightdeck/runs/latest");
        let read = |name: &str| std::fs::read_to_string(latest.join(name)).unwrap_or_default();
        format!(
            "server.log:\n{}\nevents.jsonl:\n{}",
            read("server.log"),
            read("events.jsonl")
        )
    }

    fn socket_dir(&self) -> PathBuf {
        self.runtime.path().join("flightdeck")
    }

    fn ls(&self) -> Vec<Value> {
        serde_json::from_str::<Value>(&self.ok(&["ls", "--format", "json"]))
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }

    fn logs(&self, session: &str) -> String {
        self.ok(&["logs", session])
    }

    fn events(&self) -> String {
        self.ok(&["events"])
    }

    /// Start the run in the background; its id.
    fn detach(&self) -> String {
        let id = self
            .ok(&["run", "plan.toml", "--detach"])
            .trim()
            .to_string();
        assert!(!id.is_empty());
        id
    }

    fn connect(&self, id: &str) -> UnixStream {
        let s = UnixStream::connect(self.socket_dir().join(format!("{id}.sock"))).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // Whatever a failed test left running ends with it.
        for run in self.ls_quiet() {
            let _ = self.run(&["ctl", &run, "quit"]);
        }
    }
}

impl Fixture {
    fn ls_quiet(&self) -> Vec<String> {
        let out = self.run(&["ls", "--format", "json"]);
        serde_json::from_slice::<Value>(&out.stdout)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|r| r["id"].as_str().map(str::to_string))
            .collect()
    }
}

fn poll(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn pid_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s.rsplit(") ").next().is_some_and(|r| r.starts_with('Z')),
        Err(_) => false,
    }
}

/// One request on a fresh connection; the reply.
fn request(stream: &mut UnixStream, line: &str) -> Value {
    stream.write_all(line.as_bytes()).unwrap();
    stream.write_all(b"\n").unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut reply = String::new();
    reader.read_line(&mut reply).unwrap();
    serde_json::from_str(&reply).unwrap_or_else(|e| panic!("{e}: {reply:?}"))
}

const CTL_PLAN: &str = r#"
[plan]
name = "served"

[[session]]
name = "echo"
command = "echo hello-from-echo; while read l; do echo got:$l; done"

[[session]]
name = "sleeper"
command = "sleep 3600"

# Keeps the run (and its server) going until `ctl quit`.
[[session]]
name = "keeper"
command = "sleep 3600"

[[session]]
name = "manual"
command = "echo manual-start"
after = ["sleeper"]

[[session]]
name = "never"
command = "echo never-ran"
after = ["sleeper"]

[[session]]
name = "quick"
command = "true"

[[session]]
name = "later"
command = "echo later-ran"
after = ["review"]

# Tells the run it needs an answer, through the socket.
[[session]]
name = "asker"
command = '"$FLIGHTDECK_EXE" notify needs-input "which colour?"; sleep 3600'

[[gate]]
name = "review"
after = ["quick"]
approval = "manual"
"#;

#[test]
fn every_ctl_verb_events_follow_and_logs() {
    let f = Fixture::new(CTL_PLAN);
    let id = f.detach();
    let runs = f.ls();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run = &runs[0];
    assert_eq!(run["id"], id.as_str());
    assert_eq!(run["plan"], "served");
    assert_eq!(run["state"], "running");
    assert_eq!(run["clients"], 0);
    assert!(run["started"].as_str().is_some_and(|s| s.contains('T')));
    assert!(run["root"].as_str().is_some());
    assert!(pid_alive(run["pid"].as_i64().unwrap() as i32));
    assert!(f.ok(&["ls"]).contains(&id));

    // `events --follow` from now on, read on the side.
    let follow_out = Arc::new(Mutex::new(String::new()));
    let mut follower = f
        .cmd(&["events", "--follow"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let follow_reader = {
        let out = follow_out.clone();
        let mut stdout = follower.stdout.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                out.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    poll("the echo session's output", Duration::from_secs(20), || {
        f.logs("echo").contains("hello-from-echo")
    });
    poll(
        "the gate awaiting approval",
        Duration::from_secs(20),
        || f.events().contains("\"gate_result\""),
    );

    poll("the session's own report", Duration::from_secs(20), || {
        f.events().lines().any(|l| {
            l.contains("\"session_activity\"")
                && l.contains("\"asker\"")
                && l.contains("\"needs-input\"")
                && l.contains("which colour?")
        })
    });
    f.ok(&["ctl", "input", "echo", "hi there"]);
    poll("the typed line echoed", Duration::from_secs(20), || {
        f.logs("echo").contains("got:hi there")
    });
    f.ok(&["ctl", &id, "restart", "sleeper"]);
    poll(
        "a second attempt, seen live",
        Duration::from_secs(20),
        || {
            follow_out.lock().unwrap().lines().any(|l| {
                l.contains("\"session_started\"")
                    && l.contains("\"sleeper\"")
                    && l.contains("\"attempt\":2")
            })
        },
    );
    f.ok(&["ctl", "start", "manual"]);
    poll("the manual start", Duration::from_secs(20), || {
        f.logs("manual").contains("manual-start")
    });
    f.ok(&["ctl", "skip", "never"]);
    f.ok(&["ctl", "approve", "review"]);
    poll("the gated session", Duration::from_secs(20), || {
        f.events().contains("\"gate_approved\"") && f.logs("later").contains("later-ran")
    });
    f.ok(&["ctl", "recheck"]);
    f.ok(&["ctl", "done", "echo"]);
    f.ok(&["ctl", "stop", "sleeper"]);
    poll("the states", Duration::from_secs(20), || {
        let ev = f.events();
        let state = |s: &str, st: &str| {
            ev.lines().any(|l| {
                l.contains("\"session_state\"")
                    && l.contains(&format!("\"session\":\"{s}\""))
                    && l.contains(&format!("\"state\":\"{st}\""))
            })
        };
        state("never", "skipped") && state("echo", "succeeded") && state("sleeper", "stopped")
    });
    assert!(
        !f.events()
            .lines()
            .any(|l| l.contains("\"session_started\"") && l.contains("\"never\""))
    );

    // Mistakes: exit 2 and a message that helps.
    let out = f.run(&["ctl", "restart", "nosuch"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown session `nosuch`"));
    let out = f.run(&["ctl", "bogus"]);
    assert_eq!(out.status.code(), Some(2));
    let out = f.run(&["ctl", "nosuchrun", "stop", "echo"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.contains(&id), "the live runs are listed: {err}");
    let out = f.run(&["attach", "nosuchrun"]);
    assert_eq!(out.status.code(), Some(2));
    let out = f.run(&["logs", "nosuch"]);
    assert_eq!(out.status.code(), Some(2));

    f.ok(&["ctl", "quit"]);
    let status = common::wait_with_deadline(follower, Duration::from_secs(30)).status;
    assert!(status.success());
    follow_reader.join().unwrap();
    let followed = follow_out.lock().unwrap().clone();
    assert!(followed.trim_end().ends_with('}'));
    assert!(
        followed
            .lines()
            .last()
            .unwrap()
            .contains("\"run_finished\"")
    );
    // Every line as the record has it.
    let record = std::fs::read_to_string(
        f.dir()
            .join(".flightdeck/runs")
            .join(&id)
            .join("events.jsonl"),
    )
    .unwrap();
    assert_eq!(followed.lines().count(), record.lines().count());
    poll("the server to go", Duration::from_secs(20), || {
        f.ls().is_empty()
    });
    assert!(!f.socket_dir().join(format!("{id}.sock")).exists());
}

#[test]
fn headless_run_can_be_reached_and_keeps_its_exit_status() {
    let f = Fixture::new(
        "[plan]\nname = \"headless\"\n[[session]]\nname = \"s\"\ncommand = \"echo up; sleep 3600\"\n",
    );
    let child = f
        .cmd(&["run", "plan.toml", "--no-tui"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    poll("the run to be listed", Duration::from_secs(20), || {
        f.ls().len() == 1
    });
    let run = &f.ls()[0];
    // The server's pid, not the guardian's (the process we started).
    assert_ne!(run["pid"].as_u64().unwrap(), child.id() as u64);
    poll("the session", Duration::from_secs(20), || {
        f.logs("s").contains("up")
    });
    f.ok(&["ctl", "quit"]);
    let out = common::wait_with_deadline(child, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(130));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("s | up"), "{text}");
    assert!(f.ls().is_empty());
}

#[test]
fn garbage_long_lines_and_other_users_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let f =
        Fixture::new("[plan]\nname = \"p\"\n[[session]]\nname = \"s\"\ncommand = \"sleep 3600\"\n");
    let id = f.detach();
    let dir = f.socket_dir();
    assert_eq!(
        std::fs::symlink_metadata(&dir)
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );

    let mut s = f.connect(&id);
    let e = request(&mut s, "hello");
    assert!(e["error"].as_str().unwrap().contains("not JSON"), "{e}");
    let e = request(&mut s, r#"{"flightdeck":2,"req":"info"}"#);
    assert!(e["error"].as_str().unwrap().contains("version 2"), "{e}");
    let e = request(&mut s, r#"{"req":"info"}"#);
    assert!(e["error"].as_str().is_some(), "{e}");
    let e = request(&mut s, r#"{"flightdeck":1,"req":"nope"}"#);
    assert!(
        e["error"].as_str().unwrap().contains("unknown request"),
        "{e}"
    );
    let info = request(&mut s, r#"{"flightdeck":1,"req":"info"}"#);
    assert_eq!(info["id"], id.as_str());

    // 10 MB in one line: an error, then the connection closes; the run goes on.
    let s = f.connect(&id);
    let mut writer = s.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let mut big = vec![b'x'; 10 << 20];
        big.push(b'\n');
        let _ = writer.write_all(&big);
    });
    let mut reader = BufReader::new(s.try_clone().unwrap());
    let mut reply = String::new();
    reader.read_line(&mut reply).unwrap();
    assert!(reply.contains("longer than"), "{reply}");
    reply.clear();
    assert_eq!(reader.read_line(&mut reply).unwrap(), 0, "{reply}");
    sender.join().unwrap();
    let info = request(&mut f.connect(&id), r#"{"flightdeck":1,"req":"info"}"#);
    assert_eq!(info["state"], "running");
    let _ = s.shutdown(std::net::Shutdown::Both);

    // Another user: the directory keeps them out; and were it open, the server
    // would still refuse them before reading a byte.
    if unsafe { libc::geteuid() } == 0 {
        let sock = dir.join(format!("{id}.sock"));
        assert_eq!(as_nobody(&sock), Err(libc::EACCES));
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o711)).unwrap();
        std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o777)).unwrap();
        let refused = as_nobody(&sock);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(refused, Ok(0), "bytes came back to another user");
    }
    f.ok(&["ctl", "quit"]);
}

/// Connect to `sock` as `nobody`, ask for `info`: how many bytes came back, or the
/// errno of the failure.
fn as_nobody(sock: &Path) -> Result<usize, i32> {
    let path = std::ffi::CString::new(sock.as_os_str().as_encoded_bytes()).unwrap();
    let request = b"{\"flightdeck\":1,\"req\":\"info\"}\n";
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let (rd, wr) = (fds[0], fds[1]);
    // SAFETY: the child makes only plain system calls and leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        unsafe {
            let result: i64 = (|| {
                if libc::setgid(65534) != 0 || libc::setuid(65534) != 0 {
                    return -1000;
                }
                let fd = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0);
                let mut addr: libc::sockaddr_un = std::mem::zeroed();
                addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
                for (i, b) in path.as_bytes().iter().enumerate() {
                    addr.sun_path[i] = *b as libc::c_char;
                }
                let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
                if libc::connect(fd, (&addr as *const libc::sockaddr_un).cast(), len) != 0 {
                    return -(*libc::__errno_location()) as i64;
                }
                libc::write(fd, request.as_ptr().cast(), request.len());
                let mut buf = [0u8; 256];
                let mut total = 0i64;
                loop {
                    let n = libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
                    if n <= 0 {
                        break;
                    }
                    total += n as i64;
                }
                total
            })();
            libc::write(wr, (&result as *const i64).cast(), 8);
            libc::_exit(0);
        }
    }
    unsafe { libc::close(wr) };
    let mut result = [0u8; 8];
    let mut file = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(rd) };
    file.read_exact(&mut result).unwrap();
    let mut status = 0;
    unsafe { libc::waitpid(pid, &mut status, 0) };
    let n = i64::from_ne_bytes(result);
    assert_ne!(n, -1000, "cannot become nobody");
    if n < 0 {
        Err(-n as i32)
    } else {
        Ok(n as usize)
    }
}

#[test]
fn a_client_that_never_reads_is_dropped_and_the_run_goes_on() {
    let f = Fixture::new(
        "[plan]\nname = \"flood\"\n[[session]]\nname = \"flood\"\ncommand = \"base64 -w 300 /dev/urandom\"\n",
    );
    let id = f.detach();
    let mut stalled = f.connect(&id);
    stalled
        .write_all(b"{\"flightdeck\":1,\"req\":\"attach\",\"cols\":400,\"rows\":150}\n")
        .unwrap();
    // Never read. The server answers others promptly and drops the stalled client.
    let started = Instant::now();
    let mut seen_attached = false;
    loop {
        let asked = Instant::now();
        let info = request(&mut f.connect(&id), r#"{"flightdeck":1,"req":"info"}"#);
        assert!(
            asked.elapsed() < Duration::from_secs(5),
            "info took {:?}",
            asked.elapsed()
        );
        assert_eq!(info["state"], "running");
        if info["clients"] == 1 {
            seen_attached = true;
        }
        if seen_attached && info["clients"] == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the stalled client was never dropped"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(stalled);
    f.ok(&["ctl", "quit"]);
}

const ESCAPE_PLAN: &str = r#"
[plan]
name = "escapers"

[[session]]
name = "escapers"
command = '''setsid sh -c 'echo $$ > setsid.pid; exec sleep 3001' & nohup sh -c 'echo $$ > nohup.pid; exec sleep 3002' >/dev/null 2>&1 & sh -c 'trap "" TERM; echo $$ > trap.pid; while :; do sleep 1; done' '''
"#;

#[test]
fn kill_9_of_the_server_leaves_no_process_and_the_client_restores_its_terminal() {
    if !tmux::available() {
        return;
    }
    let f = Fixture::new(ESCAPE_PLAN);
    let cmd = format!("{} run plan.toml; echo EXIT=$?; sleep 60", bin());
    let t = tmux::Tmux::start(&cmd, f.dir(), &[("XDG_RUNTIME_DIR", f.runtime.path())]);
    t.wait_for("the pane", |s| s.contains("1 escapers"));
    let read_pid = |name: &str| -> Option<i32> {
        std::fs::read_to_string(f.dir().join(name))
            .ok()?
            .trim()
            .parse()
            .ok()
    };
    poll("the escapers", Duration::from_secs(20), || {
        ["setsid.pid", "nohup.pid", "trap.pid"]
            .iter()
            .all(|p| read_pid(p).is_some())
    });
    let pids: Vec<i32> = ["setsid.pid", "nohup.pid", "trap.pid"]
        .iter()
        .map(|p| read_pid(p).unwrap())
        .collect();
    let server = f.ls()[0]["pid"].as_i64().unwrap() as i32;
    let stat = std::fs::read_to_string(format!("/proc/{server}/stat")).unwrap();
    let guardian: i32 = stat
        .rsplit(") ")
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!(pids.iter().all(|&p| pid_alive(p)));
    unsafe { libc::kill(server, libc::SIGKILL) };
    poll("every escaper to die", Duration::from_secs(20), || {
        pids.iter().all(|&p| !pid_alive(p))
    });
    poll("the guardian to leave", Duration::from_secs(20), || {
        !pid_alive(guardian)
    });
    let s = t.wait_for("the client to leave", |s| s.contains("EXIT="));
    assert!(s.contains("EXIT=1"), "{s}");
    assert!(s.contains("--resume"), "{s}");
    assert!(
        !s.contains("1 escapers"),
        "the alternate screen was left:\n{s}"
    );
    // `ls` tidies the dead server's socket away and says so.
    let out = f.run(&["ls"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("its server is gone"), "{err}");
    assert!(std::fs::read_dir(f.socket_dir()).unwrap().next().is_none());
}

const TALK_PLAN: &str = r#"
[plan]
name = "talk"

[[session]]
name = "talker"
command = "echo early-output-123; while read l; do echo got:$l; done"

[[session]]
name = "sleeper"
command = "sleep 3600"
"#;

#[test]
fn hangup_detaches_attach_brings_back_the_screen_two_clients_and_d() {
    if !tmux::available() {
        return;
    }
    let f = Fixture::new(TALK_PLAN);
    let env = [("XDG_RUNTIME_DIR", f.runtime.path())];
    let first = tmux::Tmux::start(
        &format!("{} run plan.toml; echo EXIT=$?; sleep 60", bin()),
        f.dir(),
        &env,
    );
    first.wait_for("the first output", |s| s.contains("early-output-123"));
    // The run started before its first output was seen (under load, maybe
    // well after tmux did), so its clock reads at least the time since then.
    let started = std::time::Instant::now();
    poll("one client", Duration::from_secs(20), || {
        f.ls().first().is_some_and(|r| r["clients"] == 1)
    });
    // The terminal goes away: the run does not.
    first.kill();
    poll("no client", Duration::from_secs(20), || {
        f.ls().first().is_some_and(|r| r["clients"] == 0)
    });
    assert_eq!(f.ls()[0]["state"], "running");

    poll("the run to be 3 s old", Duration::from_secs(20), || {
        started.elapsed() >= Duration::from_secs(3)
    });
    let attach = format!("{} attach; echo EXIT=$?; sleep 60", bin());
    let second = tmux::Tmux::start(&attach, f.dir(), &env);
    let s = second.wait_for("earlier output, back", |s| {
        s.contains("early-output-123") && s.contains("2 sleeper")
    });
    // The run's clock goes on from when the run started, not from this attach.
    let clock = s
        .split("flightdeck")
        .filter_map(|rest| rest.trim_start().get(..8))
        .find_map(|t| {
            let p: Vec<u64> = t.split(':').filter_map(|n| n.parse().ok()).collect();
            (p.len() == 3).then(|| p[0] * 3600 + p[1] * 60 + p[2])
        })
        .unwrap_or_else(|| panic!("no run clock on the status line:\n{s}"));
    assert!(
        clock >= 3,
        "the run's clock restarted on attach ({clock} s):\n{s}"
    );
    let third = tmux::Tmux::start(
        &format!("{} attach latest; echo EXIT=$?; sleep 60", bin()),
        f.dir(),
        &env,
    );
    third.wait_for("earlier output, again", |s| s.contains("early-output-123"));
    poll("two clients", Duration::from_secs(20), || {
        f.ls().first().is_some_and(|r| r["clients"] == 2)
    });
    // Typed in one, seen in both.
    third.keys(&["1", "Enter"]);
    third.wait_for("input mode", |s| s.contains("INPUT → talker"));
    third.keys(&["-l", "hello"]);
    third.keys(&["Enter"]);
    third.wait_for("the echo", |s| s.contains("got:hello"));
    second.wait_for("the echo, elsewhere", |s| s.contains("got:hello"));
    assert!(
        !second.capture().contains("INPUT → talker"),
        "modes are per client"
    );
    third.keys(&["C-a"]);

    // `D` detaches one client; the other stays.
    second.keys(&["D"]);
    let s = second.wait_for("detached", |s| s.contains("EXIT="));
    assert!(s.contains("EXIT=0"), "{s}");
    assert!(s.contains("detached"), "{s}");
    poll("one client", Duration::from_secs(20), || {
        f.ls().first().is_some_and(|r| r["clients"] == 1)
    });
    // Leaving with q y ends the run.
    third.keys(&["q"]);
    third.wait_for("the quit dialog", |s| s.contains("Quit?"));
    third.keys(&["y"]);
    let s = third.wait_for("the end", |s| s.contains("EXIT="));
    assert!(s.contains("EXIT=130"), "{s}");
    assert!(
        !s.contains("2 sleeper"),
        "the alternate screen was left:\n{s}"
    );
    poll("the server to go", Duration::from_secs(20), || {
        f.ls().is_empty()
    });
}

/// The lines of the latest run's `events.jsonl`.
fn recorded(f: &Fixture) -> Vec<String> {
    let path = f.dir().join(".flightdeck/runs/latest/events.jsonl");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn attaching_and_detaching_are_recorded_and_events_match_the_file() {
    if !tmux::available() {
        return;
    }
    let f = Fixture::new(TALK_PLAN);
    let id = f.detach();
    let env = [("XDG_RUNTIME_DIR", f.runtime.path())];
    let client = tmux::Tmux::start_sized(
        &format!("{} attach {id}; echo EXIT=$?; sleep 60", bin()),
        f.dir(),
        &env,
        150,
        40,
    );
    client.wait_for("the control room", |s| s.contains("early-output-123"));
    client.keys(&["D"]);
    client.wait_for("detached", |s| s.contains("EXIT=0"));
    let of = |kind: &str| -> Vec<Value> {
        recorded(&f)
            .iter()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|e| e["event"] == kind)
            .collect()
    };
    poll(
        "client_detached in events.jsonl",
        Duration::from_secs(20),
        || !of("client_detached").is_empty(),
    );
    let attached = of("client_attached");
    assert_eq!(attached.len(), 1, "{attached:?}");
    assert_eq!(
        (&attached[0]["cols"], &attached[0]["rows"]),
        (&Value::from(150), &Value::from(40)),
        "{attached:?}"
    );
    assert_eq!(of("client_detached")[0]["client"], attached[0]["client"]);

    // `events` sends the file's own lines, `ts` included: whatever the file had
    // before, `events` has, and the file has whatever `events` said.
    let before = recorded(&f);
    let said: Vec<String> = f.events().lines().map(str::to_string).collect();
    let after = recorded(&f);
    assert!(before.len() > 3, "{before:?}");
    assert_eq!(said[..before.len()], before[..], "events vs the file");
    assert_eq!(after[..said.len()], said[..], "events vs the file");
    f.ok(&["ctl", &id, "quit"]);
}

#[test]
fn two_projects_started_in_the_same_second_are_both_listed_and_attachable() {
    let plan = |name: &str| {
        format!(
            "[plan]\nname = \"{name}\"\n\n[[session]]\nname = \"s\"\ncommand = \"sleep 3600\"\n"
        )
    };
    let first = Fixture::new(&plan("first"));
    let second = Fixture::new(&plan("second"));
    // The same socket directory for both, as for one user.
    let start = |f: &Fixture| {
        f.cmd(&["run", "plan.toml", "--detach"])
            .env("XDG_RUNTIME_DIR", first.runtime.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (start(&first), start(&second));
    let ids: Vec<String> = [a, b]
        .into_iter()
        .map(|c| {
            let out = common::wait_with_deadline(c, Duration::from_secs(30));
            assert!(out.status.success(), "{out:?}");
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        })
        .collect();
    assert_ne!(ids[0], ids[1]);
    let runs = first.ls();
    let mut plans: Vec<&str> = runs.iter().map(|r| r["plan"].as_str().unwrap()).collect();
    plans.sort();
    assert_eq!(plans, ["first", "second"], "{runs:?}");
    for (id, name) in ids.iter().zip(["first", "second"]) {
        let mut stream = first.connect(id);
        let reply = request(
            &mut stream,
            r#"{"flightdeck":1,"req":"attach","cols":80,"rows":24}"#,
        );
        assert_eq!(reply["ok"], true, "{reply}");
        assert_eq!(reply["id"], id.as_str());
        let info = request(&mut first.connect(id), r#"{"flightdeck":1,"req":"info"}"#);
        assert_eq!(info["plan"], name, "{info}");
    }
    for id in &ids {
        first.ok(&["ctl", id, "quit"]);
    }
}
