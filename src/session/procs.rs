//! Processes: signal names, the subreaper, and killing every descendant.
//!
//! Session leaders are reaped by their own waiter thread (`waitpid(pid)`), never by a
//! wildcard wait, so that the exit status of a session is never stolen. Processes
//! that reparent to us (we are a child subreaper) are reaped here, by pid, and only
//! when they are not ours in another sense: a zombie child whose session id differs
//! from ours and that no waiter thread claims. Children the engine spawns itself
//! (e.g. `on_success` commands through `std::process`) stay in our session and are
//! left to whoever spawned them.

use signal_hook::iterator::Signals;
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, Once};
use std::time::{Duration, Instant};

/// How often orphans are looked for when SIGCHLD cannot be listened to.
const REAP_FALLBACK: Duration = Duration::from_secs(2);

/// Pids of session leaders whose status a waiter thread collects. Held while
/// spawning so that a child can never be reaped here before it is registered.
static WAITED: Mutex<Vec<i32>> = Mutex::new(Vec::new());

pub(super) fn waited() -> MutexGuard<'static, Vec<i32>> {
    WAITED.lock().unwrap_or_else(|e| e.into_inner())
}

pub(super) fn unregister(pid: i32) {
    waited().retain(|&p| p != pid);
}

/// The conventional name of a signal ("SIGKILL"), or "SIG<n>".
pub fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGCHLD => "SIGCHLD",
        libc::SIGCONT => "SIGCONT",
        libc::SIGSTOP => "SIGSTOP",
        libc::SIGTSTP => "SIGTSTP",
        libc::SIGTTIN => "SIGTTIN",
        libc::SIGTTOU => "SIGTTOU",
        libc::SIGURG => "SIGURG",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGVTALRM => "SIGVTALRM",
        libc::SIGPROF => "SIGPROF",
        libc::SIGWINCH => "SIGWINCH",
        libc::SIGIO => "SIGIO",
        libc::SIGSYS => "SIGSYS",
        #[cfg(target_os = "linux")]
        libc::SIGPWR => "SIGPWR",
        _ => return format!("SIG{sig}"),
    };
    name.to_string()
}

/// One line of `/proc/<pid>/stat`, the parts we need.
#[derive(Debug, Clone, Copy)]
struct Proc {
    pid: i32,
    ppid: i32,
    pgrp: i32,
    sid: i32,
    zombie: bool,
}

fn read_proc(pid: i32) -> Option<Proc> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may itself contain spaces and ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut f = rest.split_ascii_whitespace();
    let state = f.next()?;
    let ppid = f.next()?.parse().ok()?;
    let pgrp = f.next()?.parse().ok()?;
    let sid = f.next()?.parse().ok()?;
    Some(Proc {
        pid,
        ppid,
        pgrp,
        sid,
        zombie: state == "Z" || state == "X",
    })
}

fn all_procs() -> Vec<Proc> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(read_proc)
        .collect()
}

/// Every descendant of `root` (children, their children, ...), zombies included.
fn descendants(root: i32) -> Vec<Proc> {
    let procs = all_procs();
    let mut children: HashMap<i32, Vec<Proc>> = HashMap::new();
    for p in procs {
        children.entry(p.ppid).or_default().push(p);
    }
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        if let Some(kids) = children.get(&pid) {
            for k in kids {
                stack.push(k.pid);
                out.push(*k);
            }
        }
    }
    out
}

/// Reap zombie children that reparented to us (see the module documentation).
pub fn reap_orphans() {
    let waited = waited();
    let me = std::process::id() as i32;
    // SAFETY: getsid(0) only queries the calling process.
    let my_sid = unsafe { libc::getsid(0) };
    for p in all_procs() {
        if p.ppid == me && p.zombie && p.sid != my_sid && !waited.contains(&p.pid) {
            let mut status = 0;
            // SAFETY: plain syscall on a pid that is our zombie child.
            unsafe { libc::waitpid(p.pid, &mut status, libc::WNOHANG) };
        }
    }
}

/// Make this process a child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`), so that
/// processes a session leaves behind (also those that escaped its process group with
/// `setsid`) reparent to us instead of init, where [`kill_all_descendants`] can find
/// them. Also starts a background thread that reaps such orphans once they exit: it
/// sleeps until a child of ours exits (SIGCHLD; an orphan that is already a zombie
/// when it reparents to us sends one too), so an idle run never scans `/proc`.
pub fn become_subreaper() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        #[cfg(target_os = "linux")]
        // SAFETY: prctl with integer arguments only.
        unsafe {
            libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        }
        let _ = std::thread::Builder::new()
            .name("flightdeck-reaper".into())
            .spawn(|| match Signals::new([libc::SIGCHLD]) {
                // Signals coalesce, but each wake scans every zombie child.
                Ok(mut exits) => exits.forever().for_each(|_| reap_orphans()),
                Err(_) => loop {
                    std::thread::sleep(REAP_FALLBACK);
                    reap_orphans();
                },
            });
    });
}

/// Send SIGTERM to every remaining descendant of this process, SIGKILL to those still
/// alive after `grace`, and reap the orphans among them. New descendants that appear
/// meanwhile (a dying shell's children) are signalled too. Returns when none is left
/// alive (or after `grace` + 2 s if some cannot be killed).
pub fn kill_all_descendants(grace: Duration) {
    kill_descendants_sparing(grace, &Vec::new);
}

/// [`kill_all_descendants`], sparing the process groups that `spared` names (the
/// plan's notify commands, which end on their own deadline). `spared` is asked after
/// each look at `/proc`, so a group registered while it was being started is spared;
/// its leader is matched by pid too, since it may have been seen before it left our
/// process group.
pub fn kill_descendants_sparing(grace: Duration, spared: &dyn Fn() -> Vec<i32>) {
    let me = std::process::id() as i32;
    let live = || -> Vec<i32> {
        let procs = descendants(me);
        let spared = spared();
        procs
            .into_iter()
            .filter(|p| !p.zombie && !spared.contains(&p.pgrp) && !spared.contains(&p.pid))
            .map(|p| p.pid)
            .collect()
    };
    let term_deadline = Instant::now() + grace;
    let mut termed = HashSet::new();
    loop {
        let pids = live();
        if pids.is_empty() {
            reap_orphans();
            return;
        }
        for pid in pids {
            if termed.insert(pid) {
                // SAFETY: plain kill(2); SIGCONT so that a stopped process sees SIGTERM.
                unsafe {
                    libc::kill(pid, libc::SIGTERM);
                    libc::kill(pid, libc::SIGCONT);
                }
            }
        }
        if Instant::now() >= term_deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let kill_deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let pids = live();
        if pids.is_empty() || Instant::now() >= kill_deadline {
            break;
        }
        for pid in pids {
            // SAFETY: plain kill(2).
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    reap_orphans();
}
