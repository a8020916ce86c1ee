//! Where runs' sockets live, and who may use them (docs/protocol.md, "Where the
//! socket lives").
//!
//! One directory per user, mode 0700; per run a socket `<id>.sock` and a lock file
//! `<id>.lock` that the run's server holds (`flock`) for its whole life. A socket
//! whose lock is free belongs to a server that died.

use anyhow::{Context, Result, bail};
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

/// The user's socket directory: `$XDG_RUNTIME_DIR/flightdeck`, else
/// `/tmp/flightdeck-<uid>`. Not created here.
pub fn socket_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        Some(base) => PathBuf::from(base).join("flightdeck"),
        None => PathBuf::from(format!("/tmp/flightdeck-{}", uid())),
    }
}

pub fn uid() -> u32 {
    // SAFETY: getuid cannot fail.
    unsafe { libc::getuid() }
}

/// Check that `dir` is a real directory (not a symlink), owned by us, open to no one
/// else. `create`: make it (0700) when missing.
pub fn secure_dir(dir: &Path, create: bool) -> Result<()> {
    if create && std::fs::symlink_metadata(dir).is_err() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create the socket directory {}", dir.display()))?;
    }
    let meta = std::fs::symlink_metadata(dir)
        .with_context(|| format!("cannot read the socket directory {}", dir.display()))?;
    if meta.file_type().is_symlink() {
        bail!("the socket directory {} is a symlink", dir.display());
    }
    if !meta.is_dir() {
        bail!("the socket directory {} is not a directory", dir.display());
    }
    if meta.uid() != uid() {
        bail!(
            "the socket directory {} belongs to uid {}, not to you",
            dir.display(),
            meta.uid()
        );
    }
    if meta.permissions().mode() & 0o077 != 0 {
        bail!(
            "the socket directory {} is open to others (mode {:o}); it must be 0700",
            dir.display(),
            meta.permissions().mode() & 0o777
        );
    }
    Ok(())
}

pub fn socket_path(dir: &Path, run_id: &str) -> PathBuf {
    dir.join(format!("{run_id}.sock"))
}

pub fn lock_path(dir: &Path, run_id: &str) -> PathBuf {
    dir.join(format!("{run_id}.lock"))
}

/// Take the run's lock for the life of the returned file; fails when another
/// server holds it.
pub fn claim(dir: &Path, run_id: &str) -> Result<File> {
    let path = lock_path(dir, run_id);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    // SAFETY: flock on a descriptor we own.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        bail!("another server already holds run {run_id}");
    }
    Ok(file)
}

/// Whether a live server holds the run's lock (its lock file exists and is locked).
pub fn is_held(dir: &Path, run_id: &str) -> bool {
    let Ok(file) = File::open(lock_path(dir, run_id)) else {
        return false;
    };
    // SAFETY: flock on a descriptor we own; released when `file` closes.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) != 0 }
}

/// The ids of runs with a socket in `dir`, sorted (oldest first). Sockets whose
/// server died are removed; each removal is reported through `stale`.
pub fn live_runs(dir: &Path, mut stale: impl FnMut(&Path)) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut ids = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".sock")) else {
            continue;
        };
        if is_held(dir, id) {
            ids.push(id.to_string());
        } else {
            let sock = socket_path(dir, id);
            let _ = std::fs::remove_file(&sock);
            let _ = std::fs::remove_file(lock_path(dir, id));
            stale(&sock);
        }
    }
    // By start (the socket's creation), then id: ids of runs started in the same
    // second differ only in their random suffix, and `latest` is the last.
    ids.sort_by_cached_key(|id| {
        let made = std::fs::metadata(socket_path(dir, id)).and_then(|m| m.modified());
        (made.ok(), id.clone())
    });
    ids
}

/// The user id of the process at the other end of a Unix socket (`SO_PEERCRED`).
pub fn peer_uid(stream: &UnixStream) -> std::io::Result<u32> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `cred`.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(cred.uid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_open_or_symlinked_directories() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("fd");
        secure_dir(&dir, true).unwrap();
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let e = secure_dir(&dir, true).unwrap_err().to_string();
        assert!(e.contains("open to others"), "{e}");
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        let e = secure_dir(&link, true).unwrap_err().to_string();
        assert!(e.contains("symlink"), "{e}");
    }

    #[test]
    fn one_claim_per_run_and_stale_sockets_go() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let held = claim(dir, "a").unwrap();
        assert!(claim(dir, "a").is_err());
        std::fs::write(socket_path(dir, "a"), "").unwrap();
        std::fs::write(socket_path(dir, "b"), "").unwrap();
        let mut removed = Vec::new();
        assert_eq!(
            live_runs(dir, |p| removed.push(p.to_path_buf())),
            ["a".to_string()]
        );
        assert_eq!(removed, [socket_path(dir, "b")]);
        drop(held);
        // A PTY spawned by a test running beside this one may fork while the lock
        // is open and share it until its exec closes it: freed within moments.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !live_runs(dir, |_| {}).is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "the lock was never freed"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}
