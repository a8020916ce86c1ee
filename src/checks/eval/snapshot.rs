//! A dataset as it is now: its files listed, each read once for the whole need (or
//! taken from the cache while its size and mtime, and the key sets it was checked
//! against, are unchanged), merged across a glob's files.

use super::{Checker, has_glob};
use crate::checks::metrics::{Acc, KeySet, Need, RowErr};
use crate::checks::read::{self, FileData, ReadError};
use crate::checks::text;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A file's identity for the cache: size and modification time.
pub(super) type Stamp = (u64, Option<SystemTime>);

/// Files of a dataset as read: path, stamp, key-set generations.
pub(super) type Fingerprint = Vec<(PathBuf, Stamp, Vec<u64>)>;

fn stamp(m: &std::fs::Metadata) -> Stamp {
    (m.len(), m.modified().ok())
}

pub(super) struct CachedFile {
    stamp: Stamp,
    fk_gens: Vec<u64>,
    data: Arc<Result<FileData, ReadError>>,
}

pub(super) struct KeySetEntry {
    fingerprint: Vec<(PathBuf, Stamp)>,
    generation: u64,
    set: Arc<KeySet>,
}

/// One dataset, now.
pub(super) struct Snap {
    pub(super) display: String,
    pub(super) files: Vec<(PathBuf, Stamp)>,
    /// Listing or reading failed.
    pub(super) fatal: Option<String>,
    /// The fatal error is a file that changed while being read (being written).
    pub(super) settling: bool,
    pub(super) acc: Option<AccRef>,
    /// Per slot: the first file without that column, and its columns.
    pub(super) missing: Vec<Option<(String, Vec<String>)>>,
    /// Per foreign key: why its key set is not available.
    pub(super) fk_errors: Vec<Option<String>>,
}

/// The accumulators of a dataset: its one file's (shared with the cache, not
/// copied) or the merge of its files.
pub(super) enum AccRef {
    File(Arc<Result<FileData, ReadError>>),
    Merged(Arc<Acc>),
}

impl AccRef {
    pub(super) fn get(&self) -> &Acc {
        match self {
            AccRef::File(f) => match &**f {
                Ok(fd) => &fd.acc,
                Err(_) => unreachable!("only readable files are shared"),
            },
            AccRef::Merged(a) => a,
        }
    }
}

/// Rewrite the row errors and offender lists of one file so that they name it.
fn finalize(acc: &mut Acc, file: &str, name_file_in_examples: bool) {
    let fix = |e: &mut Option<RowErr>| {
        if let Some(e) = e {
            e.msg = format!("{file}, row {}: {}", e.row, e.msg);
        }
    };
    for g in &mut acc.groups {
        fix(&mut g.filter_bad);
        for c in &mut g.cols {
            fix(&mut c.num_bad);
            fix(&mut c.date_bad);
            fix(&mut c.utf8_bad);
        }
    }
    for m in acc
        .unreadable
        .iter_mut()
        .flatten()
        .chain(acc.notes.iter_mut())
    {
        *m = format!("{file}: {m}");
    }
    for o in acc.inlists.iter_mut().chain(acc.fks.iter_mut()) {
        for (row, v) in &mut o.first {
            *v = if name_file_in_examples {
                format!("{v} ({file} row {row})")
            } else {
                format!("{v} (row {row})")
            };
        }
    }
}

impl Checker {
    pub(super) fn list(&self, idx: usize) -> Result<Vec<(PathBuf, Stamp)>, String> {
        let d = &self.plan.datasets[idx];
        let full = d.dir.join(&d.path);
        if has_glob(&d.path) {
            let pat = full.to_string_lossy().into_owned();
            let paths = glob::glob(&pat).map_err(|e| format!("bad pattern `{}`: {e}", d.path))?;
            let mut out = vec![];
            for p in paths {
                let p = match p {
                    Ok(p) => p,
                    Err(e) => return Err(format!("cannot list `{}`: {e}", d.path)),
                };
                match std::fs::metadata(&p) {
                    Ok(m) if m.is_file() => out.push((p, stamp(&m))),
                    _ => {}
                }
            }
            out.sort();
            Ok(out)
        } else {
            match std::fs::metadata(&full) {
                Ok(m) if let Some(kind) = read::irregular(&m.file_type()) => {
                    Err(format!("{} {}", d.path, read::irregular_message(kind)))
                }
                Ok(m) => Ok(vec![(full, stamp(&m))]),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(vec![]),
                Err(e) => Err(format!("{}: {e}", d.path)),
            }
        }
    }

    fn display(&self, idx: usize, p: &Path) -> String {
        let base = &self.plan.datasets[idx].dir;
        p.strip_prefix(base)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned()
    }

    /// The key set of `ds.column` (union over its files) and its generation.
    fn keyset(&mut self, ds: usize, column: &str) -> Result<(u64, Arc<KeySet>), String> {
        let plan = self.plan.clone();
        let name = &plan.datasets[ds].name;
        if self.in_progress.contains(&ds) {
            // `ds` is being read and needs this key set first: a column of its own
            // (`parent_id in people.id`) or a cycle of foreign keys. Read just the keys.
            return self.keyset_only(ds, column);
        }
        let snap = self.snapshot(ds);
        if let Some(f) = &snap.fatal {
            return Err(format!("`{name}` cannot be read: {f}"));
        }
        if snap.files.is_empty() {
            return Err(format!("`{name}` has no file yet ({})", snap.display));
        }
        let need = &self.needs[ds];
        let slot = need.find_slot(column).expect("key column planned");
        if let Some((file, cols)) = &snap.missing[slot] {
            return Err(format!(
                "column `{column}` not found in {file} (columns: {})",
                text::columns(cols)
            ));
        }
        if let Some(e) = snap
            .acc
            .as_ref()
            .and_then(|a| a.get().unreadable[slot].clone())
        {
            return Err(e);
        }
        let key = (ds, column.to_string());
        if let Some(e) = self.keysets.get(&key)
            && e.fingerprint == snap.files
        {
            return Ok((e.generation, e.set.clone()));
        }
        let ki = need
            .keysets
            .iter()
            .position(|s| *s == slot)
            .expect("keyset planned");
        let acc = snap.acc.as_ref().expect("read").get();
        let set = acc.keysets[ki].clone();
        let generation = self.next_generation;
        self.next_generation += 1;
        self.keysets.insert(
            key,
            KeySetEntry {
                fingerprint: snap.files.clone(),
                generation,
                set: set.clone(),
            },
        );
        Ok((generation, set))
    }

    /// The key set of `ds.column` from a read of that column alone (reused while the
    /// files are unchanged).
    fn keyset_only(&mut self, ds: usize, column: &str) -> Result<(u64, Arc<KeySet>), String> {
        let plan = self.plan.clone();
        let d = &plan.datasets[ds];
        let files = self.list(ds)?;
        if files.is_empty() {
            return Err(format!("`{}` has no file yet ({})", d.name, d.path));
        }
        let key = (ds, column.to_string());
        if let Some(e) = self.keysets.get(&key)
            && e.fingerprint == files
        {
            return Ok((e.generation, e.set.clone()));
        }
        let mut need = Need::default();
        need.add_keyset(column);
        let mut set = KeySet::default();
        for (path, _) in &files {
            self.reads += 1;
            let disp = self.display(ds, path);
            let fd = read::read(path, d.format, &need, &[]).map_err(|e| match e.row {
                Some(r) => format!("`{}` cannot be read: {disp}, row {r}: {}", d.name, e.msg),
                None => format!("`{}` cannot be read: {disp}: {}", d.name, e.msg),
            })?;
            if fd.missing[0] {
                return Err(format!(
                    "column `{column}` not found in {disp} (columns: {})",
                    text::columns(&fd.columns)
                ));
            }
            if let Some(e) = &fd.acc.unreadable[0] {
                return Err(format!("{disp}: {e}"));
            }
            set.extend(&fd.acc.keysets[0]);
        }
        let set = Arc::new(set);
        let generation = self.next_generation;
        self.next_generation += 1;
        self.keysets.insert(
            key,
            KeySetEntry {
                fingerprint: files,
                generation,
                set: set.clone(),
            },
        );
        Ok((generation, set))
    }

    /// Read (or reuse) every file of dataset `idx`.
    pub(super) fn snapshot(&mut self, idx: usize) -> Arc<Snap> {
        let d = &self.plan.datasets[idx];
        let display = d.path.clone();
        let nslots = self.needs[idx].columns.len();
        let nfks = self.needs[idx].fks.len();
        let mut snap = Snap {
            display,
            files: vec![],
            fatal: None,
            settling: false,
            acc: None,
            missing: vec![None; nslots],
            fk_errors: vec![None; nfks],
        };
        let files = match self.list(idx) {
            Ok(f) => f,
            Err(e) => {
                snap.fatal = Some(e);
                return Arc::new(snap);
            }
        };
        // Forget files that are gone.
        self.cache
            .retain(|(i, p), _| *i != idx || files.iter().any(|(f, _)| f == p));
        if files.is_empty() {
            return Arc::new(snap);
        }
        // Key sets of foreign keys first.
        self.in_progress.insert(idx);
        let mut fk_sets: Vec<Arc<KeySet>> = vec![];
        let mut fk_gens = vec![];
        for i in 0..nfks {
            let fk = self.needs[idx].fks[i].clone();
            match self.keyset(fk.dataset, &fk.other_column) {
                Ok((g, s)) => {
                    fk_gens.push(g);
                    fk_sets.push(s);
                }
                Err(e) => {
                    fk_gens.push(0);
                    fk_sets.push(Arc::new(KeySet::default()));
                    snap.fk_errors[i] = Some(e);
                }
            }
        }
        self.in_progress.remove(&idx);
        let format = self.plan.datasets[idx].format;
        let glob = has_glob(&self.plan.datasets[idx].path);
        let mut datas = vec![];
        let mut stamps = vec![];
        let mut unsettled: Vec<PathBuf> = vec![];
        for (path, st) in &files {
            let key = (idx, path.clone());
            let cached = self
                .cache
                .get(&key)
                .filter(|c| c.stamp == *st && c.fk_gens == fk_gens)
                .map(|c| (c.data.clone(), c.stamp));
            let (data, st) = match cached {
                Some(x) => x,
                None => {
                    let disp = self.display(idx, path);
                    let (data, st, settled) = self.read_settled(idx, path, format, &fk_sets);
                    let data = Arc::new(data.map(|mut fd| {
                        finalize(&mut fd.acc, &disp, glob);
                        fd
                    }));
                    if settled {
                        self.cache.insert(
                            key,
                            CachedFile {
                                stamp: st,
                                fk_gens: fk_gens.clone(),
                                data: data.clone(),
                            },
                        );
                    } else {
                        self.cache.remove(&key);
                        unsettled.push(path.clone());
                    }
                    (data, st)
                }
            };
            stamps.push((path.clone(), st, fk_gens.clone()));
            datas.push((path.clone(), data));
        }
        snap.files = stamps.iter().map(|(p, s, _)| (p.clone(), *s)).collect();
        for (path, data) in &datas {
            match &**data {
                Err(e) => {
                    let disp = self.display(idx, path);
                    snap.settling = unsettled.contains(path);
                    snap.fatal = Some(match e.row {
                        Some(r) => format!("{disp}, row {r}: {}", e.msg),
                        None => format!("{disp}: {}", e.msg),
                    });
                    return Arc::new(snap);
                }
                Ok(fd) => {
                    for (slot, m) in fd.missing.iter().enumerate() {
                        if *m && snap.missing[slot].is_none() {
                            snap.missing[slot] =
                                Some((self.display(idx, path), fd.columns.clone()));
                        }
                    }
                }
            }
        }
        if datas.len() == 1 {
            snap.acc = Some(AccRef::File(datas[0].1.clone()));
        } else {
            match self.merged.get(&idx).filter(|(fp, _)| *fp == stamps) {
                Some((_, acc)) => snap.acc = Some(AccRef::Merged(acc.clone())),
                None => {
                    let mut it = datas.iter().map(|(_, d)| match &**d {
                        Ok(fd) => fd.acc.clone(),
                        Err(_) => unreachable!(),
                    });
                    let mut acc = it.next().expect("at least one file");
                    for a in it {
                        acc.merge(a);
                    }
                    let acc = Arc::new(acc);
                    self.merged.insert(idx, (stamps, acc.clone()));
                    snap.acc = Some(AccRef::Merged(acc));
                }
            }
        }
        Arc::new(snap)
    }

    /// Read a file; if it changed while being read, read it again (a few times).
    fn read_settled(
        &mut self,
        idx: usize,
        path: &Path,
        format: crate::checks::Format,
        fk_sets: &[Arc<KeySet>],
    ) -> (Result<FileData, ReadError>, Stamp, bool) {
        let sets: Vec<&KeySet> = fk_sets.iter().map(|s| &**s).collect();
        let mut last = None;
        // One retry: a file still changing is being written, and the watcher will
        // report it again when it changes; reading it over and over would only burn CPU.
        for attempt in 0..2u64 {
            let before = std::fs::metadata(path).map(|m| stamp(&m));
            self.reads += 1;
            let r = read::read(path, format, &self.needs[idx], &sets);
            let after = std::fs::metadata(path).map(|m| stamp(&m));
            match (before, after) {
                (Ok(b), Ok(a)) if a == b => return (r, a, true),
                (_, Ok(a)) => last = Some((r, a)),
                (_, Err(_)) => {
                    last = Some((
                        Err(ReadError {
                            row: None,
                            msg: "the file disappeared while being read".into(),
                        }),
                        (0, None),
                    ))
                }
            }
            if attempt == 0 {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let (r, st) = last.expect("attempted");
        let r = r.and(Err(ReadError {
            row: None,
            msg: "is being written (it changed while being read); it is read again once it settles"
                .into(),
        }));
        (r, st, false)
    }
}
