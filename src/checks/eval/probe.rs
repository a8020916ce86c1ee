//! Probes: a command run in the plan's root with a timeout, its exit code and the
//! number its output gives.

use super::Checker;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

/// What a probe's command gave.
#[derive(Debug, Clone)]
pub struct ProbeOutcome {
    pub exit_code: Option<i32>,
    pub value: Option<f64>,
    /// Could not run, timed out, or killed by a signal.
    pub error: Option<String>,
    /// Why `value` is missing.
    pub value_error: Option<String>,
}

impl Checker {
    pub(super) fn run_probe(&self, idx: usize) -> ProbeOutcome {
        let p = &self.plan.probes[idx];
        run_command(&p.argv, &p.cwd, p.timeout, p.pattern.as_ref())
    }

    /// The last outcome of probe `idx`, running it if it never ran.
    pub fn probe_outcome(&mut self, idx: usize) -> ProbeOutcome {
        if self.probes[idx].is_none() {
            self.probes[idx] = Some(self.run_probe(idx));
        }
        self.probes[idx].clone().expect("ran")
    }
}

/// Run a probe command: stdout and stderr captured, the whole process group killed
/// at the timeout; the first group of `pattern` (or the whole output) is the value.
pub fn run_command(
    argv: &[String],
    cwd: &Path,
    timeout: Duration,
    pattern: Option<&regex::Regex>,
) -> ProbeOutcome {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    let mut out = ProbeOutcome {
        exit_code: None,
        value: None,
        error: None,
        value_error: None,
    };
    let Some((prog, args)) = argv.split_first() else {
        out.error = Some("empty command".into());
        return out;
    };
    let child = Command::new(prog)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            out.error = Some(format!("cannot start `{}`: {e}", argv.join(" ")));
            return out;
        }
    };
    let (tx, rx) = std::sync::mpsc::channel::<(u8, Vec<u8>)>();
    for (tag, pipe) in [
        (
            0u8,
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ),
        (
            1u8,
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ),
    ] {
        if let Some(mut p) = pipe {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                // Keep at most 1 MB of output.
                let _ = (&mut p).take(1 << 20).read_to_end(&mut buf);
                let _ = std::io::copy(&mut p, &mut std::io::sink());
                let _ = tx.send((tag, buf));
            });
        }
    }
    drop(tx);
    let pid = child.id() as i32;
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() >= deadline => {
                // SAFETY: kill(2) on the probe's own process group.
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                }
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                out.error = Some(format!("waiting for the probe: {e}"));
                return out;
            }
        }
    };
    // Also stop anything it left behind in its group.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let grace = Instant::now() + Duration::from_secs(1);
    while let Ok((tag, b)) = rx.recv_timeout(grace.saturating_duration_since(Instant::now())) {
        if tag == 0 { stdout = b } else { stderr = b }
    }
    match status {
        None => {
            out.error = Some(format!(
                "timed out after {}",
                crate::duration::human(timeout)
            ));
            return out;
        }
        Some(s) => {
            use std::os::unix::process::ExitStatusExt;
            match (s.code(), s.signal()) {
                (Some(c), _) => out.exit_code = Some(c),
                (None, Some(sig)) => out.error = Some(format!("killed by signal {sig}")),
                _ => out.error = Some("ended without an exit code".into()),
            }
        }
    }
    let stdout = String::from_utf8_lossy(&stdout);
    let stderr = String::from_utf8_lossy(&stderr);
    match pattern {
        Some(re) => {
            let found = re.captures(&stdout).or_else(|| re.captures(&stderr));
            match found {
                Some(c) => {
                    let m = c.get(1).or_else(|| c.get(0)).map_or("", |m| m.as_str());
                    match crate::checks::metrics::parse_number(m.as_bytes()) {
                        Some(v) => out.value = Some(v),
                        None => {
                            out.value_error = Some(format!("pattern matched `{m}`, not a number"))
                        }
                    }
                }
                None => {
                    out.value_error =
                        Some(format!("pattern `{}` not found in the output", re.as_str()))
                }
            }
        }
        None => match crate::checks::metrics::parse_number(stdout.trim().as_bytes()) {
            Some(v) => out.value = Some(v),
            None => {
                out.value_error =
                    Some("the output is not a number (set `pattern` to pick the value)".into())
            }
        },
    }
    out
}
