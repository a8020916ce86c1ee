//! Sessions in pseudo-terminals.
//!
//! [`spawn`] starts one attempt of a session in its own PTY (portable-pty) as the
//! leader of a new process group. A reader thread copies every byte to the session's
//! log ([`log`]: separator lines, `log_limit`) and hands it to the frontend's
//! [`OutputSink`]; its scanner ([`scan`]) watches the output for the bell, desktop
//! notifications, the title, the `done_when` output pattern and prompts, and reports
//! those and the exit to the engine as [`SessionIo`] messages.

pub mod log;
mod procs;
mod reader;
mod scan;

pub use procs::{
    become_subreaper, kill_all_descendants, kill_descendants_sparing, reap_orphans, signal_name,
};

pub use scan::PromptSeen;

use log::SessionLog;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use reader::Reader;
use regex::Regex;
use scan::Scanner;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc::UnboundedSender;

/// Where session output goes besides its log: the frontend.
pub trait OutputSink: Send + Sync {
    /// A fresh terminal for a new attempt of `session` (pane number order = plan index).
    fn started(&self, _session: usize, _attempt: u32) {}
    /// Bytes `session` wrote to its terminal (already written to its log). Called on
    /// the session's reader thread; blocking here slows the session (backpressure).
    /// Returns bytes to write back into the session's terminal: answers to terminal
    /// queries such as a cursor position report (`CSI 6n`). Usually empty.
    fn output(&self, session: usize, bytes: &[u8]) -> Vec<u8>;
    /// Like `output`, while more output is already waiting to be read: the sink may
    /// put off the work these bytes need, keeping its state exact, until the burst
    /// ends with an `output` call (possibly with no bytes).
    fn output_burst(&self, session: usize, bytes: &[u8]) -> Vec<u8> {
        self.output(session, bytes)
    }
}

/// An output sink that discards everything (used by `check` and tests).
pub struct NullSink;

impl OutputSink for NullSink {
    fn output(&self, _session: usize, _bytes: &[u8]) -> Vec<u8> {
        Vec::new()
    }
}

/// Everything needed to start one attempt.
pub struct SpawnRequest {
    pub session: usize,
    pub attempt: u32,
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    /// Added to the inherited environment (which loses `TMUX` and `TMUX_PANE`;
    /// `TERM=xterm-256color` and `COLORTERM=truecolor` are set).
    pub env: Vec<(String, String)>,
    pub rows: u16,
    pub cols: u16,
    /// Appended to (all attempts share one log).
    pub log: PathBuf,
    pub done_output: Option<Regex>,
    pub attention: Option<Regex>,
    /// The agent profile's built-in prompts (matched like `attention`).
    pub prompts: Vec<Regex>,
    /// The log keeps its beginning and newest bytes past this size.
    pub log_limit: u64,
}

/// `log_limit` when the plan does not set one: 1 GiB.
pub const DEFAULT_LOG_LIMIT: u64 = 1 << 30;

/// What a session's threads tell the engine.
#[derive(Debug, Clone)]
pub enum SessionIo {
    /// The terminal bell rang.
    Bell { session: usize, attempt: u32 },
    /// The `done_when.output` pattern appeared in the output.
    DoneMatched { session: usize, attempt: u32 },
    /// A prompt (the `attention` pattern or a built-in one of the agent profile) is
    /// among the last few lines of output (Some), or no longer is (None): scrolled
    /// away, or answered (the user typed since).
    Attention {
        session: usize,
        attempt: u32,
        prompt: Option<PromptSeen>,
    },
    /// The session printed a desktop notification (OSC 9, 777 or 99).
    Notification {
        session: usize,
        attempt: u32,
        text: String,
    },
    /// The session set its title (OSC 0 or 2).
    Title {
        session: usize,
        attempt: u32,
        title: String,
    },
    /// The log reached `log_limit` and dropped older output (once per attempt).
    LogTruncated {
        session: usize,
        attempt: u32,
        limit: u64,
    },
    /// The process exited and every byte of its output has been read.
    Exited {
        session: usize,
        attempt: u32,
        exit_code: Option<i32>,
        signal: Option<String>,
    },
}

/// Shared with the reader thread: when output last arrived (ms since the UNIX epoch).
pub type LastOutput = Arc<AtomicU64>;

/// A running attempt.
pub struct SessionHandle {
    /// The session leader; also its process group id and session id.
    pub pid: u32,
    pub last_output: LastOutput,
    /// Input for the writer thread (which may block on a child that does not read).
    input: mpsc::Sender<Vec<u8>>,
    /// A descriptor of the PTY master, for resizing.
    master: File,
    /// The child turned bracketed-paste mode on.
    bracketed_paste: Arc<AtomicBool>,
    /// Someone typed into the session since its output was last scanned.
    typed: Arc<AtomicBool>,
}

/// After the child exited, report the exit once its output has been quiet this long
/// even if the PTY has not reached EOF (a grandchild still holds the terminal).
const EXIT_QUIET: Duration = Duration::from_millis(300);
/// ... and in any case this long after the child exited.
const EXIT_MAX_WAIT: Duration = Duration::from_secs(5);

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Start the attempt: the command runs in a new PTY of `req.rows` x `req.cols`, as
/// the leader of its own session and process group, in `req.cwd`. Calls
/// `sink.started(session, attempt)` once the process runs, before any of its output
/// (callers need not). Errors (command
/// not found or not executable, cwd missing, log not writable) are returned and
/// nothing is left running; the engine writes them to the log.
pub fn spawn(
    req: SpawnRequest,
    io: UnboundedSender<SessionIo>,
    sink: Arc<dyn OutputSink>,
) -> io::Result<SessionHandle> {
    let SpawnRequest {
        session,
        attempt,
        argv,
        cwd,
        env,
        rows,
        cols,
        log,
        done_output,
        attention,
        prompts,
        log_limit,
    } = req;
    if argv.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty command"));
    }
    // portable-pty would silently fall back to $HOME.
    if !cwd.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("working directory {} does not exist", cwd.display()),
        ));
    }
    let mut log = SessionLog::open(&log, log_limit)?;

    let pair = native_pty_system()
        .openpty(PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .map_err(|e| io::Error::other(format!("cannot open a pseudo-terminal: {e:#}")))?;

    let mut args: Vec<std::ffi::OsString> = argv.iter().map(Into::into).collect();
    // Like execvp: a relative program path with a slash is relative to the cwd
    // (portable-pty would look it up in PATH).
    let prog = Path::new(&argv[0]);
    if prog.is_relative() && argv[0].contains('/') {
        args[0] = cwd.join(prog).into_os_string();
    }
    let mut cmd = CommandBuilder::from_argv(args);
    cmd.cwd(&cwd);
    cmd.env_remove("TMUX");
    cmd.env_remove("TMUX_PANE");
    cmd.env("TERM", "xterm-256color");
    cmd.env("COLORTERM", "truecolor");
    for (k, v) in &env {
        cmd.env(k, v);
    }

    let pid = {
        // Registered before the reaper can look at it (see procs).
        let mut waited = procs::waited();
        let child = pair.slave.spawn_command(cmd).map_err(|e| {
            let msg = format!("{e:#}");
            let kind = if msg.contains("not executable") || msg.contains("is a directory") {
                io::ErrorKind::PermissionDenied
            } else if msg.contains("exist") || msg.contains("No viable candidates") {
                io::ErrorKind::NotFound
            } else {
                io::ErrorKind::Other
            };
            io::Error::new(kind, format!("cannot start {}: {msg}", argv[0]))
        })?;
        // Never 0 or 1: kill(-pid) must not hit our own group or everything.
        let pid = match child.process_id() {
            Some(pid) if pid > 1 => pid as i32,
            _ => return Err(io::Error::other("the started process has no pid")),
        };
        waited.push(pid);
        // Dropping a std Child neither kills nor waits: the waiter thread waits.
        drop(child);
        pid
    };
    // The parent must not hold the slave, or the master never sees EOF.
    drop(pair.slave);

    let dup = |what: &str| -> io::Result<File> {
        let fd = pair
            .master
            .as_raw_fd()
            .ok_or_else(|| io::Error::other("PTY master has no descriptor"))?;
        // SAFETY: the master outlives this borrow; the clone is CLOEXEC and owned.
        let owned = unsafe { BorrowedFd::borrow_raw(fd) }
            .try_clone_to_owned()
            .map_err(|e| io::Error::new(e.kind(), format!("PTY {what}: {e}")))?;
        Ok(File::from(owned))
    };
    // If anything below fails, the child must not be left running.
    let abandon = |e: io::Error| {
        // SAFETY: plain kill(2) of the group we just created.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
        procs::unregister(pid);
        let mut st = 0;
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(pid, &mut st, 0) };
        e
    };
    let (reader, writer, master, pending) = (|| {
        Ok::<_, io::Error>((
            dup("reader")?,
            dup("writer")?,
            dup("control")?,
            dup("waiter")?,
        ))
    })()
    .map_err(abandon)?;
    drop(pair.master);

    let last_output: LastOutput = Arc::new(AtomicU64::new(now_ms()));
    let bracketed_paste = Arc::new(AtomicBool::new(false));
    let typed = Arc::new(AtomicBool::new(false));
    let busy = Arc::new(AtomicBool::new(false));
    let (input_tx, input_rx) = mpsc::channel::<Vec<u8>>();
    let (done_tx, done_rx) = mpsc::channel::<()>();

    std::thread::Builder::new()
        .name(format!("pty-writer-{session}"))
        .spawn(move || writer_thread(writer, input_rx))
        .map_err(abandon)?;

    // Before any output of this attempt reaches the sink.
    sink.started(session, attempt);
    let separator = log::separator(attempt, chrono::Local::now());
    let truncated = log.write(separator.as_bytes());
    let _ = sink.output(session, separator.as_bytes());
    if truncated {
        let _ = io.send(SessionIo::LogTruncated {
            session,
            attempt,
            limit: log_limit,
        });
    }
    let reader_ctx = Reader {
        session,
        attempt,
        file: reader,
        log,
        truncated,
        last_output: last_output.clone(),
        busy: busy.clone(),
        bracketed_paste: bracketed_paste.clone(),
        io: io.clone(),
        sink,
        answers: input_tx.clone(),
        scanner: Scanner::new(done_output, attention, prompts),
        typed: typed.clone(),
        _done: done_tx,
    };
    std::thread::Builder::new()
        .name(format!("pty-reader-{session}"))
        .spawn(move || reader_ctx.run())
        .map_err(abandon)?;

    let last = last_output.clone();
    let waiter = move || {
        let (exit_code, signal) = wait_child(pid);
        procs::unregister(pid);
        let exited = Instant::now();
        // Until the reader saw EOF (all output is in), or the grace is over.
        while let Err(mpsc::RecvTimeoutError::Timeout) =
            done_rx.recv_timeout(Duration::from_millis(50))
        {
            // A reader starved of CPU may not have read for a while: output still
            // waiting in the PTY is not quiet.
            let quiet = !busy.load(Ordering::Acquire)
                && now_ms().saturating_sub(last.load(Ordering::Acquire))
                    >= EXIT_QUIET.as_millis() as u64
                && unread(&pending) == 0;
            let since = exited.elapsed();
            if (quiet && since >= EXIT_QUIET) || since >= EXIT_MAX_WAIT {
                break;
            }
        }
        let _ = io.send(SessionIo::Exited {
            session,
            attempt,
            exit_code,
            signal,
        });
    };
    if let Err(e) = std::thread::Builder::new()
        .name(format!("pty-waiter-{session}"))
        .spawn(waiter)
    {
        // The reader ends at EOF once the group is gone.
        return Err(abandon(e));
    }

    Ok(SessionHandle {
        pid: pid as u32,
        last_output,
        input: input_tx,
        master,
        bracketed_paste,
        typed,
    })
}

/// Bytes waiting in a PTY master that its reader has not read yet.
fn unread(pty: &File) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int into `n`.
    if unsafe { libc::ioctl(pty.as_raw_fd(), libc::FIONREAD, &mut n) } != 0 {
        return 0;
    }
    n.max(0) as usize
}

/// Wait for the child; (exit code, signal name).
fn wait_child(pid: i32) -> (Option<i32>, Option<String>) {
    loop {
        let mut status = 0;
        // SAFETY: waiting for our own child by pid.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            if libc::WIFSIGNALED(status) {
                return (None, Some(signal_name(libc::WTERMSIG(status))));
            }
            return (Some(libc::WEXITSTATUS(status)), None);
        }
        if r == -1 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        // ECHILD: someone else reaped it; the status is lost.
        return (None, None);
    }
}

fn writer_thread(mut pty: File, input: mpsc::Receiver<Vec<u8>>) {
    while let Ok(bytes) = input.recv() {
        if pty.write_all(&bytes).is_err() {
            return; // the terminal is gone; senders now get an error
        }
    }
}

/// Types into one attempt's terminal as [`SessionHandle::write_input`] does, from
/// another thread (the server passes a key straight to the session).
#[derive(Clone)]
pub struct Keyboard {
    input: mpsc::Sender<Vec<u8>>,
    typed: Arc<AtomicBool>,
}

impl Keyboard {
    pub fn write(&self, bytes: &[u8]) -> io::Result<()> {
        self.typed.store(true, Ordering::Release);
        self.input.send(bytes.to_vec()).map_err(|_| {
            io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the session's terminal is closed",
            )
        })
    }
}

impl SessionHandle {
    /// Write bytes to the session's terminal (as if typed). Never blocks: a writer
    /// thread delivers them. Fails once the terminal is gone.
    pub fn write_input(&self, bytes: &[u8]) -> io::Result<()> {
        self.keyboard().write(bytes)
    }

    /// What types into this attempt's terminal.
    pub fn keyboard(&self) -> Keyboard {
        Keyboard {
            input: self.input.clone(),
            typed: self.typed.clone(),
        }
    }

    /// Paste text as a terminal does: line ends become `\r`, and the text is wrapped in
    /// bracketed-paste markers if the child turned that mode on (`CSI ? 2004 h`).
    pub fn paste(&self, text: &str) -> io::Result<()> {
        let body = text.replace("\r\n", "\r").replace('\n', "\r");
        if self.bracketed_paste() {
            // The text must not end the paste early.
            let body = body.replace("\x1b[201~", "");
            self.write_input(format!("\x1b[200~{body}\x1b[201~").as_bytes())
        } else {
            self.write_input(body.as_bytes())
        }
    }

    /// Whether the child has bracketed-paste mode on.
    pub fn bracketed_paste(&self) -> bool {
        self.bracketed_paste.load(Ordering::Acquire)
    }

    /// Resize the terminal; the child's foreground process group gets SIGWINCH.
    pub fn resize(&self, rows: u16, cols: u16) {
        let ws = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads a winsize from the pointer.
        unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    }

    /// Send `sig` to the session's whole process group (`kill(-pgid, sig)`).
    pub fn signal_group(&self, sig: i32) {
        // SAFETY: plain kill(2); the pid (> 1, checked at spawn) is a process group we
        // created (pgid == pid).
        unsafe { libc::kill(-(self.pid as i32), sig) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unread_counts_what_the_reader_has_not_taken() {
        use std::io::Read;
        use std::os::fd::FromRawFd;
        let (mut master, mut slave) = (0, 0);
        let (name, termios, size) = (std::ptr::null_mut(), std::ptr::null(), std::ptr::null());
        // SAFETY: openpty fills two descriptors; the null arguments are optional.
        let rc = unsafe { libc::openpty(&mut master, &mut slave, name, termios, size) };
        assert_eq!(rc, 0);
        // SAFETY: both descriptors are fresh and ours.
        let (master, mut slave) = unsafe { (File::from_raw_fd(master), File::from_raw_fd(slave)) };
        assert_eq!(unread(&master), 0);
        slave.write_all(b"the last line\n").unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while unread(&master) < "the last line\n".len() {
            assert!(Instant::now() < deadline, "never seen: {}", unread(&master));
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut got = vec![0; unread(&master)];
        (&master).read_exact(&mut got).unwrap();
        assert_eq!(got, b"the last line\r\n");
        assert_eq!(unread(&master), 0);
    }

    #[test]
    fn signal_names() {
        assert_eq!(signal_name(libc::SIGKILL), "SIGKILL");
        assert_eq!(signal_name(libc::SIGTERM), "SIGTERM");
        assert_eq!(signal_name(200), "SIG200");
    }
}
