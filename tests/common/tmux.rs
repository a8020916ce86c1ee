//! A tmux server of its own (socket in a temp dir) to drive the control room end to
//! end: send keys, read the screen. Under CI (`CI=true`) a missing tmux fails the
//! test instead of skipping it. Each test file uses only some of these helpers.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: std::path::PathBuf,
    conf: std::path::PathBuf,
    /// The runs' socket directory in the pane (`XDG_RUNTIME_DIR`): the caller's, or
    /// one of this tmux's own. Whatever runs are still live there end with it.
    runtime: std::path::PathBuf,
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

/// A process whose command line contains `marker` is alive (a session that outlived
/// its run).
pub fn alive_with(marker: &str) -> bool {
    Command::new("pgrep")
        .args(["-f", marker])
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false)
}

impl Tmux {
    /// Run `cmd` (a shell command) in `cwd` with `env` added, in a 160x45 window.
    pub fn start(cmd: &str, cwd: &Path, env: &[(&str, &Path)]) -> Tmux {
        Tmux::start_sized(cmd, cwd, env, 160, 45)
    }

    /// The same in a `w`x`h` window.
    pub fn start_sized(cmd: &str, cwd: &Path, env: &[(&str, &Path)], w: u16, h: u16) -> Tmux {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("tmux.sock");
        // set-clipboard on: an OSC 52 reaching tmux becomes a paste buffer.
        let conf = dir.path().join("tmux.conf");
        std::fs::write(&conf, "set -g set-clipboard on\n").unwrap();
        let runtime = match env.iter().find(|(k, _)| *k == "XDG_RUNTIME_DIR") {
            Some((_, v)) => v.to_path_buf(),
            None => dir.path().join("runtime"),
        };
        std::fs::create_dir_all(&runtime).unwrap();
        let t = Tmux {
            socket,
            conf,
            runtime,
            _dir: dir,
        };
        let (w, h) = (w.to_string(), h.to_string());
        let mut c = t.tmux(&["new-session", "-d", "-x", &w, "-y", &h, "-c"]);
        c.arg(cwd).arg(cmd).env_remove("TMUX");
        c.env("XDG_RUNTIME_DIR", &t.runtime);
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

    /// The newest paste buffer (what an OSC 52 copy put there).
    pub fn show_buffer(&self) -> String {
        let out = self.tmux(&["show-buffer"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Every paste buffer (empty when no OSC 52 reached tmux).
    pub fn list_buffers(&self) -> String {
        let out = self.tmux(&["list-buffers"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The pane's title (what a session's OSC 0/2 would set if it escaped).
    pub fn title(&self) -> String {
        let out = self
            .tmux(&["display-message", "-p", "#{pane_title}"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
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
        // Killing tmux only detaches a control room; a failed test's run would go on.
        self.kill();
        let flightdeck = env!("CARGO_BIN_EXE_flightdeck");
        let Ok(sockets) = std::fs::read_dir(self.runtime.join("flightdeck")) else {
            return;
        };
        for entry in sockets.flatten() {
            let name = entry.file_name();
            if let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".sock")) {
                let _ = Command::new(flightdeck)
                    .args(["ctl", id, "quit"])
                    .env("XDG_RUNTIME_DIR", &self.runtime)
                    .output();
            }
        }
    }
}
