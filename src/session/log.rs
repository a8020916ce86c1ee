//! A session's log file: every byte the session wrote, all attempts, each opened by a
//! separator line (docs/protocol.md, "Session logs"), bounded by the plan's
//! `log_limit`: past it the log keeps its beginning and its newest bytes, with one
//! marker line between them.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Stands where older output was left out of a log that reached its limit.
pub const CUT_MARKER: &[u8] = b"\r\n[flightdeck] log_limit reached: older output left out here\r\n";

/// Copy this much at a time when a log is cut.
const COPY_BLOCK: usize = 1 << 20;

/// The separator line that opens an attempt in the log and in the pane.
pub fn separator(attempt: u32, started: chrono::DateTime<chrono::Local>) -> String {
    format!(
        "\r\n──── attempt {attempt} · started {} ────\r\n",
        started.format("%Y-%m-%d %H:%M:%S")
    )
}

/// One attempt's writer of a session log.
pub struct SessionLog {
    /// Appends (all writers of the log append, so nothing overwrites anything).
    file: File,
    /// Reads and moves bytes when the log is cut.
    editor: File,
    path: PathBuf,
    limit: u64,
    size: u64,
    /// A write failed and was reported; reported again only after one succeeded.
    failing: bool,
}

impl SessionLog {
    /// Open (create) the log for appending. `limit` is in bytes (at least 1 KiB).
    pub fn open(path: &Path, limit: u64) -> io::Result<SessionLog> {
        let named = |e: io::Error| io::Error::new(e.kind(), format!("log {}: {e}", path.display()));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(named)?;
        }
        let file = File::options()
            .append(true)
            .create(true)
            .open(path)
            .map_err(named)?;
        let editor = File::options()
            .read(true)
            .write(true)
            .open(path)
            .map_err(named)?;
        let size = file.metadata().map_err(named)?.len();
        Ok(SessionLog {
            file,
            editor,
            path: path.to_path_buf(),
            limit: limit.max(1024),
            size,
            failing: false,
        })
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Append `bytes` straight to the file (no buffering: the log is complete at any
    /// moment). Returns true when this write made the log drop older output.
    pub fn write(&mut self, bytes: &[u8]) -> bool {
        match self.file.write_all(bytes) {
            Ok(()) => {
                self.failing = false;
                self.size += bytes.len() as u64;
            }
            Err(e) => {
                if !self.failing {
                    self.failing = true;
                    eprintln!("flightdeck: writing {}: {e}", self.path.display());
                }
                return false;
            }
        }
        if self.size <= self.limit {
            return false;
        }
        match self.cut() {
            Ok(()) => true,
            Err(e) => {
                eprintln!("flightdeck: cutting {}: {e}", self.path.display());
                false
            }
        }
    }

    /// Keep the first half of the limit, the marker, and the newest quarter: the log
    /// then grows by a quarter of the limit before the next cut, so each byte is
    /// moved about once.
    fn cut(&mut self) -> io::Result<()> {
        // Others (the engine's notes) append too: the file knows the real size.
        let len = self.editor.metadata()?.len();
        let head = self.limit / 2;
        let marker_at_head = {
            let mut buf = vec![0u8; CUT_MARKER.len()];
            self.editor.read_exact_at(&mut buf, head).is_ok() && buf == CUT_MARKER
        };
        if !marker_at_head {
            self.editor.write_all_at(CUT_MARKER, head)?;
        }
        let dest_start = head + CUT_MARKER.len() as u64;
        let keep = (self.limit / 4).min(len.saturating_sub(dest_start));
        let mut src = len - keep;
        let mut dest = dest_start;
        // Forward copy: the destination is always below the source.
        let mut buf = vec![0u8; COPY_BLOCK.min(keep as usize).max(1)];
        while src < len {
            let n = buf.len().min((len - src) as usize);
            self.editor.read_exact_at(&mut buf[..n], src)?;
            self.editor.write_all_at(&buf[..n], dest)?;
            src += n as u64;
            dest += n as u64;
        }
        self.editor.set_len(dest)?;
        self.size = dest;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_beginning_and_newest_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.log");
        let mut log = SessionLog::open(&path, 4096).unwrap();
        let mut all = Vec::new();
        let mut cut = false;
        for i in 0..2000u32 {
            let line = format!("line {i:05}\n");
            all.extend_from_slice(line.as_bytes());
            cut |= log.write(line.as_bytes());
        }
        assert!(cut);
        let got = std::fs::read(&path).unwrap();
        assert!(got.len() <= 4096, "{} bytes", got.len());
        assert_eq!(&got[..2048], &all[..2048], "the beginning is kept");
        assert_eq!(&got[2048..2048 + CUT_MARKER.len()], CUT_MARKER);
        let tail = &got[2048 + CUT_MARKER.len()..];
        assert!(all.ends_with(tail), "the newest bytes are kept");
        assert!(tail.len() >= 1024 - 11);
    }

    #[test]
    fn under_the_limit_every_byte_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.log");
        let mut log = SessionLog::open(&path, 1 << 20).unwrap();
        assert!(!log.write(b"hello\r\n"));
        let mut again = SessionLog::open(&path, 1 << 20).unwrap();
        assert!(!again.write(b"again\r\n"));
        assert_eq!(std::fs::read(&path).unwrap(), b"hello\r\nagain\r\n");
    }
}
