//! Starting a run's server: in the foreground (headless), or in the background for a
//! terminal (its own session, no terminal, stderr into the run record), reporting
//! its run id and socket on a pipe once clients can connect.
//!
//! Both forks happen while the process has a single thread (right after the plan was
//! read), so the server goes on with everything already parsed.

use super::{Frontend, guardian, serve};
use crate::engine::RunOptions;
use crate::plan::Plan;
use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::Arc;

/// Run the server here, under a guardian, printing as `--no-tui` does. Returns the
/// run's exit status (in the guardian, after the server has exited).
pub fn foreground(plan: Arc<Plan>, opts: RunOptions, color: bool) -> Result<i32> {
    guardian::split().context("cannot start the run's guardian")?;
    set_name(c"fd-server");
    serve(plan, opts, Frontend::Headless { color }, |_, _, _| {})
}

/// Start the server in the background. Returns its run id and socket once it
/// accepts connections. `expect_client`: the caller attaches next.
pub fn background(
    plan: Arc<Plan>,
    opts: RunOptions,
    expect_client: bool,
) -> Result<(String, PathBuf)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error()).context("cannot create a pipe");
    }
    // SAFETY: both descriptors are fresh and ours.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: single-threaded here (see the module documentation).
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(std::io::Error::last_os_error()).context("cannot start the run's server");
    }
    if pid == 0 {
        drop(read);
        run_server(plan, opts, expect_client, write);
    }
    drop(write);
    // The intermediate process is the guardian: it lives as long as the server. It
    // is reaped by whoever inherits it; we only read its report.
    let mut line = String::new();
    BufReader::new(std::fs::File::from(read))
        .read_line(&mut line)
        .context("cannot hear from the run's server")?;
    match line.trim_end().split_once(' ') {
        Some(("READY", rest)) => {
            let (id, socket) = rest.split_once(' ').unwrap_or((rest, ""));
            Ok((id.to_string(), PathBuf::from(socket)))
        }
        Some(("ERROR", msg)) => bail!("{}", msg.replace('\u{1f}', "\n")),
        _ => bail!("the run's server did not start (see its server.log in the run record)"),
    }
}

/// In the forked child: become guardian + server, report on `pipe`, never return.
fn run_server(plan: Arc<Plan>, opts: RunOptions, expect_client: bool, pipe: OwnedFd) -> ! {
    use std::os::fd::AsRawFd;
    guardian::detach_from_terminal(pipe.as_raw_fd());
    set_name(c"fd-guardian");
    if guardian::split().is_err() {
        std::process::exit(2);
    }
    set_name(c"fd-server");
    let mut pipe = Some(std::fs::File::from(pipe));
    let result = serve(
        plan,
        opts,
        Frontend::Background { expect_client },
        |id, socket, run_dir| {
            // From now on our complaints go into the run record.
            if let Ok(log) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(run_dir.join("server.log"))
            {
                // SAFETY: dup2 onto stderr, a descriptor we own.
                unsafe { libc::dup2(log.as_raw_fd(), 2) };
            }
            if let Some(mut p) = pipe.take() {
                let _ = writeln!(p, "READY {id} {}", socket.display());
            }
        },
    );
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            if let Some(mut p) = pipe.take() {
                // One line: newlines travel as unit separators.
                let _ = writeln!(p, "ERROR {}", format!("{e:#}").replace('\n', "\u{1f}"));
            } else {
                eprintln!("flightdeck: {e:#}");
            }
            2
        }
    };
    std::process::exit(code);
}

/// The name `ps` and `pgrep` show, so the guardian and server are told apart from
/// the client that started them.
fn set_name(name: &std::ffi::CStr) {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes.
    unsafe {
        libc::prctl(libc::PR_SET_NAME, name.as_ptr(), 0, 0, 0);
    }
}
