//! Watching the files a plan cares about (docs/checks.md).
//!
//! The directories of every dataset path and every session `outputs` pattern are
//! watched (notify, debounced ~200 ms). A directory that does not exist yet (sessions
//! often create `data/raw/` themselves) is waited for by watching its nearest existing
//! ancestor; once it appears it is watched too and the matching files already in it
//! are reported. A changed path is mapped to the datasets whose pattern matches it;
//! a path that only matches `outputs` is reported with no datasets.

use crate::plan::Plan;
use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// A file changed (created, written, removed or renamed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchEvent {
    pub path: PathBuf,
    /// Indices of the datasets whose path matches it (empty for `outputs`-only files).
    pub datasets: Vec<usize>,
}

type Deb = Debouncer<notify::RecommendedWatcher, RecommendedCache>;

/// Keeps the watch alive; dropping it stops watching.
pub struct Watcher {
    _debouncer: Arc<Mutex<Deb>>,
}

const DEBOUNCE: Duration = Duration::from_millis(200);

struct Pat {
    pattern: glob::Pattern,
    dataset: Option<usize>,
}

/// A directory to watch, and whether below it too.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Target {
    dir: PathBuf,
    recursive: bool,
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

/// The directory to watch for a pattern: its longest literal prefix directory;
/// recursive when the glob part spans more than the last component.
fn target_of(full: &Path) -> Target {
    let comps: Vec<Component> = full.components().collect();
    match comps
        .iter()
        .position(|c| is_glob(&c.as_os_str().to_string_lossy()))
    {
        None => Target {
            dir: full.parent().map(Path::to_path_buf).unwrap_or_default(),
            recursive: false,
        },
        Some(i) => Target {
            dir: comps[..i].iter().collect(),
            recursive: i + 1 < comps.len(),
        },
    }
}

fn nearest_existing(dir: &Path) -> Option<PathBuf> {
    let mut d = dir;
    loop {
        if d.is_dir() {
            return Some(d.to_path_buf());
        }
        d = d.parent()?;
    }
}

const MATCH: glob::MatchOptions = glob::MatchOptions {
    case_sensitive: true,
    require_literal_separator: true,
    require_literal_leading_dot: false,
};

struct State {
    pats: Vec<Pat>,
    /// Targets not created yet.
    pending: Vec<Target>,
    /// Targets being watched, with the inode of their directory.
    active: Vec<(Target, u64)>,
    /// Ancestors watched on behalf of pending targets, with their inode.
    watched_ancestors: Vec<(PathBuf, u64)>,
}

impl State {
    fn datasets_of(&self, path: &Path) -> Option<Vec<usize>> {
        let mut any = false;
        let mut ds = vec![];
        for p in &self.pats {
            if p.pattern.matches_path_with(path, MATCH) {
                any = true;
                if let Some(d) = p.dataset
                    && !ds.contains(&d)
                {
                    ds.push(d);
                }
            }
        }
        any.then_some(ds)
    }

    /// Watch what can be watched now; returns matching files found in newly watched
    /// directories.
    fn settle(&mut self, deb: &mut Deb, moved: &[PathBuf]) -> Vec<PathBuf> {
        let mut found = vec![];
        // Directories at or above a watched one were created, removed or renamed: the
        // watch may be on a directory that is gone (inode numbers are reused, so a
        // removed and remade directory can look the same): watch it anew.
        let hit = |d: &Path| moved.iter().any(|m| d.starts_with(m));
        self.watched_ancestors.retain(|(a, _)| !hit(a));
        for (t, ino) in &mut self.active {
            if hit(&t.dir) {
                *ino = u64::MAX;
            }
        }
        // A watched directory that was removed (e.g. `rm -rf data/raw`) is waited for again.
        // A watched directory that was removed (e.g. `rm -rf data/raw`), perhaps made
        // again since, is watched anew.
        let (gone, active): (Vec<_>, Vec<_>) = std::mem::take(&mut self.active)
            .into_iter()
            .partition(|(t, ino)| dir_inode(&t.dir) != Some(*ino));
        self.active = active;
        self.watched_ancestors
            .retain(|(a, ino)| dir_inode(a) == Some(*ino));
        for (t, _) in gone {
            let _ = deb.unwatch(&t.dir);
            self.pending.push(t);
        }
        let pending = std::mem::take(&mut self.pending);
        'targets: for t in pending {
            // Watch the target, or its nearest existing ancestor; after watching an
            // ancestor look again, since a level below may have been made meanwhile
            // (before the watch could see it).
            loop {
                if let Some(ino) = dir_inode(&t.dir) {
                    let mode = if t.recursive {
                        RecursiveMode::Recursive
                    } else {
                        RecursiveMode::NonRecursive
                    };
                    if deb.watch(&t.dir, mode).is_ok() {
                        scan(&t.dir, t.recursive, &mut found);
                        self.active.push((t, ino));
                        continue 'targets;
                    }
                }
                let Some(a) = nearest_existing(&t.dir) else {
                    break;
                };
                let Some(ino) = dir_inode(&a) else { continue };
                if a == t.dir
                    || self
                        .watched_ancestors
                        .iter()
                        .any(|(p, i)| *p == a && *i == ino)
                {
                    break;
                }
                self.watched_ancestors.retain(|(p, _)| *p != a);
                if deb.watch(&a, RecursiveMode::NonRecursive).is_err() {
                    break;
                }
                self.watched_ancestors.push((a, ino));
            }
            self.pending.push(t);
        }
        found.retain(|p| self.datasets_of(p).is_some());
        found
    }
}

fn dir_inode(d: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(d)
        .ok()
        .filter(|m| m.is_dir())
        .map(|m| m.ino())
}

fn scan(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(ft) if ft.is_dir() && recursive => scan(&p, true, out),
            Ok(ft) if ft.is_file() => out.push(p),
            _ => {}
        }
    }
}

impl Watcher {
    /// Start watching; `on_change` is called (from a watcher thread) once per changed
    /// path per debounce period.
    pub fn start(
        plan: &Plan,
        on_change: impl Fn(WatchEvent) + Send + 'static,
    ) -> anyhow::Result<Watcher> {
        let mut pats = vec![];
        let mut targets = BTreeSet::new();
        let mut add = |full: PathBuf, dataset: Option<usize>| -> anyhow::Result<()> {
            let text = full.to_string_lossy().into_owned();
            let pattern = glob::Pattern::new(&text)
                .map_err(|e| anyhow::anyhow!("bad pattern `{text}`: {e}"))?;
            targets.insert(target_of(&full));
            pats.push(Pat { pattern, dataset });
            Ok(())
        };
        for (i, d) in plan.datasets.iter().enumerate() {
            add(d.base_dir(plan).join(&d.path), Some(i))?;
        }
        for s in &plan.sessions {
            let base = if s.worktree.is_some() {
                &s.cwd
            } else {
                &plan.root
            };
            for o in &s.outputs {
                add(base.join(o), None)?;
            }
        }
        let (tx, rx) = std::sync::mpsc::channel::<DebounceEventResult>();
        let deb = new_debouncer(DEBOUNCE, None, tx)?;
        let deb = Arc::new(Mutex::new(deb));
        let mut state = State {
            pats,
            pending: targets.into_iter().collect(),
            active: vec![],
            watched_ancestors: vec![],
        };
        // Files that already exist are not reported at start: the engine checks
        // everything once anyway.
        state.settle(&mut deb.lock().expect("watcher lock"), &[]);
        let weak: Weak<Mutex<Deb>> = Arc::downgrade(&deb);
        std::thread::Builder::new()
            .name("flightdeck-watch".into())
            .spawn(move || {
                // Ends when the debouncer (and with it the sender) is dropped.
                while let Ok(res) = rx.recv() {
                    let Ok(events) = res else { continue };
                    let mut paths: Vec<PathBuf> = vec![];
                    let mut seen = std::collections::HashSet::new();
                    let mut moved = vec![];
                    for ev in &events {
                        if matches!(ev.event.kind, EventKind::Access(_)) {
                            continue;
                        }
                        if !matches!(
                            ev.event.kind,
                            EventKind::Modify(
                                notify::event::ModifyKind::Data(_)
                                    | notify::event::ModifyKind::Metadata(_)
                            )
                        ) {
                            moved.extend(ev.event.paths.iter().cloned());
                        }
                        for p in &ev.event.paths {
                            if seen.insert(p.clone()) {
                                paths.push(p.clone());
                            }
                        }
                    }
                    // Cheap (a stat per target): directories may have appeared or vanished.
                    {
                        let Some(deb) = weak.upgrade() else { break };
                        let found = state.settle(&mut deb.lock().expect("watcher lock"), &moved);
                        for f in found {
                            if seen.insert(f.clone()) {
                                paths.push(f);
                            }
                        }
                    }
                    for p in paths {
                        if p.is_dir() {
                            continue;
                        }
                        if let Some(datasets) = state.datasets_of(&p) {
                            on_change(WatchEvent { path: p, datasets });
                        }
                    }
                }
            })?;
        Ok(Watcher { _debouncer: deb })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            target_of(Path::new("/r/data/raw/a.csv")),
            Target {
                dir: "/r/data/raw".into(),
                recursive: false
            }
        );
        assert_eq!(
            target_of(Path::new("/r/data/raw/*.csv")),
            Target {
                dir: "/r/data/raw".into(),
                recursive: false
            }
        );
        assert_eq!(
            target_of(Path::new("/r/data/*/x/*.csv")),
            Target {
                dir: "/r/data".into(),
                recursive: true
            }
        );
    }
}
