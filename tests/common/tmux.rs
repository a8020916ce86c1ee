//! A tmux server of its own (socket in a temp dir) to drive the control room end to
//! end: send keys, read the screen. Under CI (`CI=true`) a missing tmux fails the
//! test instead of skipping it.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: std::path::PathBuf,
    conf: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// Whether tmux can run here; under CI its absence fails the test.
pub fn available() -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "tmux is not installed, and CI needs it"
        );
        eprintln!("tmux not installed: skipped");
    }
    ok
}

impl Tmux {
    /// Run `cmd` (a shell command) in `cwd` with `env` added, in a 160x45 window.
    pub fn start(cmd: &str, cwd: &Path, env: &[(&str, &Path)]) -> Tmux {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("tmux.sock");
        // set-clipboard on: an OSC 52 reaching tmux would become a paste buffer.
        let conf = dir.path().join("tmux.conf");
        std::fs::write(&conf, "set -g set-clipboard on\n").unwrap();
        let t = Tmux {
            socket,
            conf,
            _dir: dir,
        };
        let mut c = t.tmux(&["new-session", "-d", "-x", "160", "-y", "45", "-c"]);
        c.arg(cwd).arg(cmd).env_remove("TMUX");
        for (k, v) in env {
            c.env(k, v);
        }
        assert!(c.status().unwrap().success(), "tmux new-session failed");
        t
    }

    fn tmux(&self, args: &[&str]) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S").arg(&self.socket).arg("-f").arg(&self.conf);
        c.args(args);
        c
    }

    pub fn capture(&self) -> String {
        let out = self.tmux(&["capture-pane", "-p"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut c = self.tmux(&["send-keys"]);
        c.args(keys);
        assert!(c.status().unwrap().success());
    }

    /// End the tmux server: its clients' terminals hang up (SIGHUP).
    pub fn kill(&self) {
        let _ = self.tmux(&["kill-server"]).status();
    }

    /// Poll the screen until `pred` holds, or fail with the last screen.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let s = self.capture();
            if pred(&s) {
                return s;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.kill();
    }
}
