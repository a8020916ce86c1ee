//! The guardian: a tiny process above the server. It is a child subreaper, so
//! whatever the server leaves behind when it dies, however it dies (kill -9, the OOM
//! killer), reparents to it; it then kills every one of them and exits with the
//! server's status. Sessions that escaped with `setsid`, `nohup` or by ignoring
//! SIGTERM do not outlive the run.
//!
//! The split is a `fork` early in `main`, while the process has a single thread:
//! the child goes on to be the server with everything already parsed; the parent
//! only waits.

use crate::session::kill_all_descendants;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

/// `si_code` of a signal the kernel sent, e.g. for a key typed on a terminal.
const SI_KERNEL: libc::c_int = 0x80;

/// The server's pid, for the signal handler.
static SERVER: AtomicI32 = AtomicI32::new(0);

/// Signals sent to the guardian by another process (`kill`) are passed on to the
/// server; those a terminal sends (Ctrl-C) reach the server by themselves.
extern "C" fn forward(sig: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: the kernel hands us a valid siginfo; kill(2) is async-signal-safe.
    unsafe {
        let from_terminal = !info.is_null() && (*info).si_code == SI_KERNEL;
        let pid = SERVER.load(Ordering::Relaxed);
        if pid > 0 && !from_terminal {
            libc::kill(pid, sig);
        }
    }
}

fn install_forwarding() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
        // SAFETY: a zeroed sigaction with our handler and SA_SIGINFO is valid.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = forward as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

/// Split into guardian and server. Returns in the server (the child); the guardian
/// never returns: it exits with the server's status once everything it left behind
/// is dead. Call only while the process has one thread.
pub fn split() -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with integer arguments only.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
    // SAFETY: the process has a single thread (the caller's promise), so the child
    // may go on running ordinary Rust code.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(std::io::Error::last_os_error());
    }
    if pid == 0 {
        return Ok(());
    }
    SERVER.store(pid, Ordering::Relaxed);
    install_forwarding();
    let status = wait_for(pid);
    SERVER.store(0, Ordering::Relaxed);
    kill_all_descendants(Duration::ZERO);
    reap_all();
    std::process::exit(status);
}

/// Wait for the server; its exit status as a shell reports it (128 + signal).
fn wait_for(pid: i32) -> i32 {
    loop {
        let mut status = 0;
        // SAFETY: plain waitpid on our child.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc == pid {
            if libc::WIFEXITED(status) {
                return libc::WEXITSTATUS(status);
            }
            if libc::WIFSIGNALED(status) {
                return 128 + libc::WTERMSIG(status);
            }
        } else if rc < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return 1;
        }
    }
}

/// Collect every child that has exited (all of them, after the kill).
fn reap_all() {
    loop {
        let mut status = 0;
        // SAFETY: plain waitpid on any child of ours.
        let rc = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if rc <= 0 {
            return;
        }
    }
}

/// For a run that goes on without the terminal: leave the terminal's session and
/// process group (so its hangup never reaches the run) and let go of its standard
/// streams, except `keep` (the pipe that reports readiness). Call in a fresh child.
pub fn detach_from_terminal(keep: i32) {
    // SAFETY: setsid, open and dup2 on descriptors we own.
    unsafe {
        libc::setsid();
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null >= 0 {
            for fd in 0..3 {
                if fd != keep {
                    libc::dup2(null, fd);
                }
            }
            if null > 2 {
                libc::close(null);
            }
        }
    }
}
