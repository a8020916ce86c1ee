//! The plan's `notify` command: run (in root, with the plan's shell) when a session
//! starts needing input, a gate awaits approval, or the run finishes. It runs on a
//! thread of its own in its own process group, is killed after [`ALERT_TIMEOUT`],
//! and its failure is reported, never a failure of the run.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A notify command still running after this is killed.
pub const ALERT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the user is alerted (`FLIGHTDECK_EVENT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertEvent {
    NeedsInput,
    GateAwaitsApproval,
    RunFinished,
}

impl AlertEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertEvent::NeedsInput => "needs-input",
            AlertEvent::GateAwaitsApproval => "gate-awaits-approval",
            AlertEvent::RunFinished => "run-finished",
        }
    }
}

/// One alert: what happened, to which session or gate, in words.
#[derive(Debug, Clone)]
pub struct Alert {
    pub event: AlertEvent,
    /// The session (or gate) concerned; empty for the run.
    pub session: String,
    pub message: String,
}

/// Process groups of notify commands still running (not yet reaped: a pid here is
/// never reused while it is listed, since reaping happens under the same lock).
static RUNNING: std::sync::Mutex<Vec<i32>> = std::sync::Mutex::new(Vec::new());

fn running() -> std::sync::MutexGuard<'static, Vec<i32>> {
    RUNNING.lock().unwrap_or_else(|e| e.into_inner())
}

/// The process groups of the notify commands still running.
pub fn running_groups() -> Vec<i32> {
    running().clone()
}

/// Kill every notify command still running (the run is over: none outlives it).
pub fn kill_running() {
    for pid in running().iter() {
        // SAFETY: plain kill(2) of a process group we created and have not reaped.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
    }
}

/// Keep this much of the command's stderr for the failure message.
const STDERR_KEPT: u64 = 400;

/// Run `command` for `alert` and wait for it (at most [`ALERT_TIMEOUT`]). Call this on
/// a thread of its own. Returns why it failed, if it did.
pub fn run(command: &str, shell: &[String], root: &Path, alert: &Alert) -> Result<(), String> {
    let (program, args) = shell.split_first().ok_or("the plan's shell is empty")?;
    // Started and listed under one lock: whoever reads the list after seeing the
    // process in /proc finds it there.
    let mut listed = running();
    let mut child = Command::new(program)
        .args(args)
        .arg("-c")
        .arg(command)
        .current_dir(root)
        .env("FLIGHTDECK_EVENT", alert.event.as_str())
        .env("FLIGHTDECK_SESSION", &alert.session)
        .env("FLIGHTDECK_MESSAGE", &alert.message)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // Its own group: a timeout kills whatever it started too.
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start `{command}`: {e}"))?;
    let pid = child.id() as i32;
    listed.push(pid);
    drop(listed);
    let stderr = child.stderr.take();
    let (stderr_tx, stderr_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(s) = stderr {
            let mut limited = s.take(STDERR_KEPT);
            let _ = limited.read_to_string(&mut text);
            // Drain the rest so the command never blocks on a full pipe.
            let _ = stderr_tx.send(text);
            let _ = std::io::copy(&mut limited.into_inner(), &mut std::io::sink());
        }
    });
    let deadline = Instant::now() + ALERT_TIMEOUT;
    let status = loop {
        let mut listed = running();
        let polled = child.try_wait();
        if !matches!(polled, Ok(None)) || Instant::now() >= deadline {
            listed.retain(|&p| p != pid);
        }
        match polled {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                // SAFETY: plain kill(2) of the group we created, not yet reaped.
                unsafe { libc::kill(-pid, libc::SIGKILL) };
                break None;
            }
            Ok(None) => {
                drop(listed);
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(format!("waiting for `{command}`: {e}")),
        }
    };
    let Some(status) = status else {
        let _ = child.wait();
        return Err(format!(
            "`{command}` did not finish within {} s and was killed",
            ALERT_TIMEOUT.as_secs()
        ));
    };
    if status.success() {
        return Ok(());
    }
    // Something it left in the background may hold the pipe: do not wait for that.
    let stderr = stderr_rx
        .recv_timeout(Duration::from_millis(500))
        .unwrap_or_default();
    let stderr = stderr.trim();
    Err(if stderr.is_empty() {
        format!("`{command}` failed ({status})")
    } else {
        format!("`{command}` failed ({status}): {stderr}")
    })
}
